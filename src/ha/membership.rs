//! Leadership from Kafka's own group coordination, not from a consensus of rowtide's own:
//! every instance of an `[ha]` group is a member of the consumer group
//! `rowtide-ha-<group>` subscribed to the state topic, which has exactly one partition. The
//! group coordinator assigns that partition to one member at a time; that member is the
//! active instance. The `cooperative-sticky` assignor keeps the partition with its owner
//! while others join or leave, so a standby that starts never takes the pipeline from a
//! healthy active instance.
//!
//! Invariants:
//! - the membership is kept alive by a thread of its own that polls the consumer every
//!   [`POLL`], whatever the pipeline does (a busy or stuck pipeline does not lose it, and a
//!   paused process — SIGSTOP — does lose it after `ha.session_timeout_ms`);
//! - every change of role is published with a new [`Seat::epoch`], so a loss followed by a
//!   new assignment is never mistaken for an unbroken leadership;
//! - the seat reads "active" only between the coordinator's assignment and the revocation
//!   or the loss of the assignment (a session timed out locally or at the coordinator).
//!
//! Being assigned the partition is the *right* to run; the *guarantee* that a deposed
//! instance writes nothing more is the transactional fence (see `ha` and `docs/operations.md`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::TopicPartitionList;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::sink::kafka::{client_config, Fault, Identity, KafkaContext};

/// How often the membership thread polls the group consumer.
const POLL: Duration = Duration::from_millis(100);

/// This instance's place in the group, as last reported by the coordinator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seat {
    /// Holds the state topic's partition: the active instance.
    pub active: bool,
    /// Counts every change of role.
    pub epoch: u64,
    /// Why the role last changed (`joined`, `assigned`, `revoked`, `lost`).
    pub why: &'static str,
}

/// The group consumer's context: rowtide's usual client context (errors, authentication)
/// plus the rebalance callbacks that publish the seat.
struct HaContext {
    inner: KafkaContext,
    topic: String,
    seat: watch::Sender<Seat>,
}

impl HaContext {
    fn holds(&self, tpl: &TopicPartitionList) -> bool {
        tpl.elements_for_topic(&self.topic)
            .iter()
            .any(|e| e.partition() == 0)
    }

    fn publish(&self, active: bool, why: &'static str) {
        self.seat.send_modify(|s| {
            if s.active != active {
                s.active = active;
                s.epoch += 1;
                s.why = why;
            }
        });
    }
}

impl ClientContext for HaContext {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = KafkaContext::ENABLE_REFRESH_OAUTH_TOKEN;

    #[cfg(feature = "aws-msk-iam")]
    fn generate_oauth_token(
        &self,
        config: Option<&str>,
    ) -> std::result::Result<rdkafka::client::OAuthToken, Box<dyn std::error::Error>> {
        self.inner.generate_oauth_token(config)
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.inner.error(error, reason)
    }
}

impl ConsumerContext for HaContext {
    /// A revocation is published before the partition is given up, so the pipeline is
    /// told to stop as early as possible.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            if self.holds(tpl) {
                let lost = consumer.assignment_lost();
                self.publish(false, if lost { "lost" } else { "revoked" });
            }
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) if self.holds(tpl) => self.publish(true, "assigned"),
            Rebalance::Assign(_) | Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => {
                warn!(error = %e, "Failover group rebalance failed; Kafka retries it.")
            }
        }
    }
}

/// The membership: the group consumer on its own thread, and the seat it publishes.
pub struct Membership {
    seat: watch::Receiver<Seat>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    fault: Arc<Fault>,
}

impl Membership {
    /// Joins the group `consumer_group` on `topic` (which must exist: the state topic,
    /// made sure of before) and starts the thread that keeps the membership alive.
    pub fn join(cfg: &Config, consumer_group: &str, topic: &str) -> Result<Self> {
        let (tx, rx) = watch::channel(Seat {
            active: false,
            epoch: 0,
            why: "joined",
        });
        let fault = Arc::new(Fault::default());
        let mut conf = client_config(&cfg.sink);
        conf.set("group.id", consumer_group)
            .set("client.id", "rowtide-ha")
            .set("partition.assignment.strategy", "cooperative-sticky")
            .set("session.timeout.ms", cfg.ha.session_timeout_ms.to_string())
            .set(
                "heartbeat.interval.ms",
                cfg.ha.heartbeat_interval_ms.to_string(),
            )
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "latest")
            .set("allow.auto.create.topics", "false")
            .set("enable.partition.eof", "false");
        let context = HaContext {
            inner: KafkaContext::new(Identity::of(&cfg.sink), fault.clone()),
            topic: topic.to_string(),
            seat: tx,
        };
        let consumer: BaseConsumer<HaContext> = conf
            .create_with_context(context)
            .map_err(|e| Error::Config(format!("sink.kafka: invalid consumer setting: {e}")))?;
        consumer
            .subscribe(&[topic])
            .map_err(|source| Error::Kafka {
                context: format!("failover group {consumer_group}: cannot subscribe to {topic}"),
                source,
            })?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let session = Duration::from_millis(cfg.ha.session_timeout_ms);
        let thread = std::thread::Builder::new()
            .name("ha-membership".into())
            .spawn(move || keep_alive(consumer, &flag, session))
            .map_err(|e| Error::io("starting the failover group thread", e))?;
        Ok(Self {
            seat: rx,
            stop,
            thread: Some(thread),
            fault,
        })
    }

    /// The seat as last published.
    pub fn seat(&self) -> Seat {
        *self.seat.borrow()
    }

    /// Resolves when the seat changes (at once if it changed since it was last seen).
    pub async fn changed(&mut self) -> Seat {
        if self.seat.changed().await.is_err() {
            // The thread ended (only on `leave`): nothing will change any more.
            std::future::pending::<()>().await;
        }
        *self.seat.borrow_and_update()
    }

    /// Resolves when the seat of `epoch` is no longer the current one.
    pub async fn moved_from(&mut self, epoch: u64) -> Seat {
        loop {
            let seat = *self.seat.borrow_and_update();
            if seat.epoch != epoch {
                return seat;
            }
            self.changed().await;
        }
    }

    /// A definite failure of the group consumer (credentials, TLS), if one happened.
    pub fn fault(&self) -> Option<Error> {
        self.fault.get()
    }

    /// Leaves the group (so a standby takes over at once, without waiting for the session
    /// to time out) and stops the thread.
    pub async fn leave(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

/// The membership thread: polls until asked to stop, then closes the consumer (which
/// leaves the group).
///
/// It also notices a stall of the whole process (SIGSTOP, a VM paused, a long stall): when
/// two polls are further apart than `session`, the coordinator has certainly given the
/// partition away, so the seat is published as lost at once — before librdkafka's own
/// heartbeat finds out — and the consumer joins again (it is given the partition back if
/// nobody took it).
fn keep_alive(consumer: BaseConsumer<HaContext>, stop: &AtomicBool, session: Duration) {
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        match consumer.poll(POLL) {
            // The state records themselves are read by the store; here they only pass by.
            Some(Ok(_)) | None => {}
            Some(Err(e)) => debug!(error = %e, "Failover group consumer."),
        }
        let gap = last.elapsed();
        last = Instant::now();
        if gap > session && consumer.context().seat.borrow().active {
            warn!(
                stalled_ms = gap.as_millis() as u64,
                "This process stalled longer than the failover group's session: another \
                 instance has taken over; rejoining the group as a standby."
            );
            consumer.context().publish(false, "lost");
            consumer.unsubscribe();
            let topic = consumer.context().topic.clone();
            if let Err(e) = consumer.subscribe(&[topic.as_str()]) {
                warn!(error = %e, "Cannot rejoin the failover group; retrying.");
            }
        }
    }
    info!("Leaving the failover group.");
    drop(consumer);
}
