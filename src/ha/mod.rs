//! Hot-standby failover (`[ha] group`): every instance started with the same group, source
//! and state topic competes; exactly one runs the pipeline, the others stand by, ready.
//!
//! - [`membership`]: who is active, decided by Kafka's group coordinator (the member
//!   assigned the state topic's single partition), kept alive on a thread of its own;
//! - [`standby`]: what a standby checks while it waits (source, Kafka, state).
//!
//! This file is the loop between the two roles. On becoming active it opens the state store
//! afresh — which re-reads the state topic and, by initializing the store's transactional
//! producer, fences every earlier writer — and runs the pipeline
//! ([`crate::pipeline::supervise`]) from the last committed state. On losing the role
//! (revoked, the session lost, or a write refused because another instance fenced this
//! one) it cancels the pipeline, waits at most `ha.stop_timeout_ms` for it, and stands by
//! again; it exits only on shutdown or on a definite error while still the active member.
//!
//! The guarantee that a deposed instance (a paused process resumed after its replacement
//! took over) writes nothing is not the membership but Kafka's transactional fence: the new
//! active instance's producers initialize their transactions under the same stable
//! `transactional.id`s, which bumps the epoch, so every later write or commit of the old
//! one is refused by the brokers (see `docs/operations.md`, "Failover").

pub mod membership;
pub mod standby;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use self::membership::{Membership, Seat};
use crate::checkpoint::{state_topic, StoreHandle};
use crate::config::{Config, Delivery};
use crate::error::{Error, Result};
use crate::http::{Health, HealthState, Role};
use crate::metrics;

/// What the loop does after an active spell.
enum Next {
    StandBy,
    Exit(Result<()>),
}

/// Runs as a member of the `[ha]` group until `shutdown` (Ok) or a definite error.
pub async fn run(cfg: Config, shutdown: CancellationToken) -> Result<()> {
    let Some(consumer_group) = cfg.ha.consumer_group() else {
        return crate::pipeline::run(cfg, shutdown).await;
    };
    let cfg = effective(cfg);
    let health = crate::pipeline::serve_ops(&cfg, &shutdown).await?;
    become_standby(&health, "joining the failover group");
    let topic = cfg.checkpoint.kafka_topic_for(&cfg.sink.topic_prefix);
    // The group is formed on the state topic: it must exist before anyone subscribes.
    let (sink, t) = (cfg.sink.clone(), topic.clone());
    tokio::task::spawn_blocking(move || state_topic::ensure(&sink, &t))
        .await
        .map_err(|source| Error::Task {
            task: "state topic check",
            source,
        })??;
    let mut membership = Membership::join(&cfg, &consumer_group, &topic)?;
    info!(group = %consumer_group, %topic, session_timeout_ms = cfg.ha.session_timeout_ms, "Joined the failover group; standing by until the group makes this instance the active one.");
    let outcome = loop {
        let seat = match standby::stand_by(&cfg, &health, &mut membership, &shutdown).await {
            Ok(Some(seat)) => seat,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        match active(&cfg, &health, &mut membership, seat, &shutdown).await {
            Next::StandBy => continue,
            Next::Exit(r) => break r,
        }
    };
    // Leaving the group only now (the pipeline has stopped) hands the pipeline to a
    // standby at once.
    membership.leave().await;
    outcome
}

/// The configuration an `[ha]` instance runs with:
/// - the records are always written in Kafka transactions under the state's stable
///   `transactional.id` (`sink.delivery = "exactly_once"`), since that is the fence that
///   keeps a deposed instance from writing: `at_least_once` is upgraded (and says so);
/// - a restart after a transient failure waits at least [`MIN_RESTART`], long enough for
///   the membership to notice that the process was paused past its session (see
///   [`membership`]), so a resumed instance never restarts — and fences its successor —
///   before it knows it was replaced.
fn effective(mut cfg: Config) -> Config {
    if cfg.sink.delivery != Delivery::ExactlyOnce {
        info!(
            "[ha]: records are written in Kafka transactions (sink.delivery = \"exactly_once\") \
             so that an instance that was replaced can write nothing more."
        );
        cfg.sink.delivery = Delivery::ExactlyOnce;
    }
    let min = MIN_RESTART.as_millis() as u64;
    cfg.source.reconnect_backoff_ms = cfg.source.reconnect_backoff_ms.max(min);
    cfg.source.reconnect_backoff_max_ms = cfg.source.reconnect_backoff_max_ms.max(min);
    cfg
}

/// The shortest restart delay of an `[ha]` pipeline (a jittered delay is at least half).
const MIN_RESTART: Duration = Duration::from_millis(2_000);

/// The probes and the gauge say "standby".
fn become_standby(health: &Health, why: &str) {
    health.set_role(Role::Standby);
    health.set(HealthState::Starting, format!("standby: {why}"));
    metrics::ha_active(false);
}

/// One spell as the active instance: runs the pipeline until the role is lost, the
/// pipeline is fenced, shutdown, or a definite error.
async fn active(
    cfg: &Config,
    health: &Arc<Health>,
    membership: &mut Membership,
    seat: Seat,
    shutdown: &CancellationToken,
) -> Next {
    info!(
        why = seat.why,
        "This instance is now the active one of its failover group: re-reading the state and \
         starting the pipeline."
    );
    health.set_role(Role::Active);
    metrics::ha_active(true);
    metrics::ha_transition("active", seat.why);
    let became_active = Instant::now();
    let term = shutdown.child_token();
    let mut task = spawn_pipeline(cfg, health, &term);
    let ended = tokio::select! {
        r = &mut task => Some(joined(r)),
        _ = membership.moved_from(seat.epoch) => None,
    };
    let Some(ended) = ended else {
        let now = membership.seat();
        warn!(why = now.why, active_for_s = became_active.elapsed().as_secs(), "Lost the leadership of the failover group: another instance takes over and its transactions have fenced this one; stopping the pipeline and standing by.");
        metrics::ha_transition("standby", now.why);
        stop(cfg, term, task).await;
        become_standby(health, &format!("leadership {}", now.why));
        return Next::StandBy;
    };
    match ended {
        Ok(()) => Next::Exit(Ok(())),
        Err(e) if e.is_fenced() => {
            warn!(error = %e, "This instance was fenced: another instance of the group took over. It writes nothing more; standing by.");
            metrics::ha_transition("standby", "fenced");
            become_standby(health, "fenced by another instance");
            // Let the membership catch up with what the fence already says.
            confirm_loss(cfg, membership, seat).await;
            Next::StandBy
        }
        Err(e) if shutdown.is_cancelled() => Next::Exit(Err(e)),
        Err(e) => {
            // A pipeline that fails right after this instance was replaced (its binlog
            // stream taken over by the new active instance, say) is not a reason to exit.
            if confirm_loss(cfg, membership, seat).await {
                warn!(error = %e, "The pipeline failed after this instance lost the leadership; standing by.");
                metrics::ha_transition("standby", membership.seat().why);
                become_standby(health, "leadership lost");
                return Next::StandBy;
            }
            error!(error = %e, "The active instance stopped on a definite error; leaving the failover group.");
            Next::Exit(Err(e))
        }
    }
}

/// Opens the store (re-reading the state, fencing earlier writers) and runs the pipeline
/// on a task of its own, until `term`.
fn spawn_pipeline(
    cfg: &Config,
    health: &Arc<Health>,
    term: &CancellationToken,
) -> JoinHandle<Result<()>> {
    let (cfg, health, term) = (cfg.clone(), health.clone(), term.clone());
    tokio::spawn(async move {
        let store = StoreHandle::open(&cfg).await?;
        crate::pipeline::supervise(&cfg, &store, &health, &term).await
    })
}

/// Cancels the pipeline and waits at most `ha.stop_timeout_ms` for it; after that it is
/// abandoned (its tasks stop on the cancelled token; its writes are fenced in any case).
async fn stop(cfg: &Config, term: CancellationToken, mut task: JoinHandle<Result<()>>) {
    term.cancel();
    let limit = Duration::from_millis(cfg.ha.stop_timeout_ms);
    match tokio::time::timeout(limit, &mut task).await {
        Ok(r) => match joined(r) {
            Ok(()) => info!("The pipeline stopped."),
            Err(e) => info!(error = %e, "The pipeline stopped."),
        },
        Err(_) => {
            task.abort();
            warn!(
                timeout_ms = cfg.ha.stop_timeout_ms,
                "The pipeline did not stop in time; abandoned it."
            );
        }
    }
}

/// Waits up to one session timeout for the membership to report that `seat` is gone;
/// true if it did.
async fn confirm_loss(cfg: &Config, membership: &mut Membership, seat: Seat) -> bool {
    let limit = Duration::from_millis(cfg.ha.session_timeout_ms);
    tokio::time::timeout(limit, membership.moved_from(seat.epoch))
        .await
        .is_ok()
}

fn joined(r: std::result::Result<Result<()>, tokio::task::JoinError>) -> Result<()> {
    r.map_err(|source| Error::Task {
        task: "pipeline",
        source,
    })?
}
