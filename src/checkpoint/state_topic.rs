//! The state topic of `checkpoint.store = "kafka"` on the brokers: created when missing
//! (compacted, one partition, the sink's replication factor) and otherwise verified to be
//! exactly that, since a second partition would split the history and a `delete` policy
//! would drop table structures a restart needs. Also what `rowtide check` asks of it.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{BaseProducer, Producer};

use crate::config::SinkConfig;
use crate::error::{Error, Result};
use crate::sink::kafka::{client_config, Fault, Identity, KafkaContext};

/// Settings rowtide creates the state topic with. Compaction works on closed segments, so a
/// segment rolls hourly: the log read at start stays about an hour of checkpoints plus one
/// record per key.
pub const TOPIC_CONFIG: &[(&str, &str)] =
    &[("cleanup.policy", "compact"), ("segment.ms", "3600000")];

const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// What the brokers say about the state topic.
#[derive(Debug, PartialEq, Eq)]
pub enum TopicState {
    /// It exists, compacted, with one partition.
    Ready,
    /// It does not exist.
    Missing,
}

/// A definite problem with the state topic, for the operator.
pub fn topic_error(topic: &str, reason: String) -> Error {
    Error::Checkpoint {
        path: format!("kafka topic {topic}"),
        reason,
        source: None,
    }
}

/// Runs `fut` to completion on this thread. rdkafka's admin futures are completed by the
/// admin client's own thread, so no async runtime is needed (and this works both from
/// tokio's blocking pool and from plain threads).
pub fn block_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// An admin client connected as the sink connects.
pub fn admin(sink: &SinkConfig) -> Result<AdminClient<KafkaContext>> {
    let mut conf = client_config(sink);
    // A metadata request must not create the topic with the broker's defaults.
    conf.set("allow.auto.create.topics", "false");
    conf.create_with_context(KafkaContext::new(
        Identity::of(sink),
        Arc::new(Fault::default()),
    ))
    .map_err(|e| Error::Config(format!("sink.kafka: invalid admin setting: {e}")))
}

fn kafka_err(topic: &str, what: &str, source: rdkafka::error::KafkaError) -> Error {
    Error::Kafka {
        context: format!("state topic {topic}: {what}"),
        source,
    }
}

/// Whether `topic` exists, and if it does, that it is compacted with one partition.
pub fn inspect(admin: &AdminClient<KafkaContext>, topic: &str) -> Result<TopicState> {
    let md = admin
        .inner()
        .fetch_metadata(Some(topic), ADMIN_TIMEOUT)
        .map_err(|e| kafka_err(topic, "cannot read metadata", e))?;
    let Some(t) = md.topics().first() else {
        return Ok(TopicState::Missing);
    };
    match t.error().map(RDKafkaErrorCode::from) {
        None => {}
        Some(RDKafkaErrorCode::UnknownTopicOrPartition) => return Ok(TopicState::Missing),
        Some(
            code @ (RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed),
        ) => {
            return Err(Error::Access {
                component: "kafka",
                message: format!(
                    "not authorized: state topic {topic}: {code}; grant rowtide's principal \
                     DESCRIBE, READ and WRITE on the topic (and WRITE, DESCRIBE on the \
                     transactional id {})",
                    super::kafka_store::transactional_id(topic)
                ),
            })
        }
        Some(code) => {
            return Err(kafka_err(
                topic,
                "metadata",
                rdkafka::error::KafkaError::MetadataFetch(code),
            ))
        }
    }
    if t.partitions().len() != 1 {
        return Err(topic_error(
            topic,
            format!(
                "the state topic has {} partitions; it needs exactly 1 (the state is one \
                 ordered history). Point checkpoint.kafka_topic at a new topic (rowtide \
                 creates it) and move the state with `rowtide offsets copy`",
                t.partitions().len()
            ),
        ));
    }
    let opts = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
    let res = block_on(admin.describe_configs([&ResourceSpecifier::Topic(topic)], &opts))
        .map_err(|e| kafka_err(topic, "cannot describe its configuration", e))?;
    let policy = res
        .into_iter()
        .next()
        .and_then(|r| r.ok())
        .and_then(|r| r.get("cleanup.policy").and_then(|e| e.value.clone()));
    match policy.as_deref() {
        Some("compact") => Ok(TopicState::Ready),
        Some(other) => Err(topic_error(
            topic,
            format!(
                "the state topic's cleanup.policy is \"{other}\"; it must be exactly \
                 \"compact\" (deletion by retention would drop schema history a restart \
                 needs): kafka-configs --alter --entity-type topics --entity-name {topic} \
                 --add-config cleanup.policy=compact"
            ),
        )),
        None => Err(topic_error(
            topic,
            "cannot read the state topic's cleanup.policy (grant DESCRIBE_CONFIGS on the \
             topic)"
                .into(),
        )),
    }
}

/// The topic as rowtide creates it.
fn new_topic<'a>(topic: &'a str, sink: &SinkConfig) -> NewTopic<'a> {
    let mut t = NewTopic::new(
        topic,
        1,
        TopicReplication::Fixed(sink.topic_replication_factor),
    );
    for (k, v) in TOPIC_CONFIG {
        t = t.set(k, v);
    }
    t
}

/// Creates the state topic when it is missing (unless `sink.create_topics = false`) and
/// verifies it otherwise.
pub fn ensure(sink: &SinkConfig, topic: &str) -> Result<()> {
    let admin = admin(sink)?;
    #[cfg(feature = "aws-msk-iam")]
    let _token = Identity::of(sink)
        .msk
        .map(|m| crate::sink::msk_iam::TokenKeeper::start(admin.inner(), &m));
    if inspect(&admin, topic)? == TopicState::Ready {
        return Ok(());
    }
    if !sink.create_topics {
        return Err(topic_error(
            topic,
            format!(
                "the state topic does not exist and sink.create_topics = false: create it \
                 with kafka-topics --create --topic {topic} --partitions 1 \
                 --replication-factor {} --config cleanup.policy=compact",
                sink.topic_replication_factor
            ),
        ));
    }
    create(&admin, sink, topic, false)?;
    tracing::info!(topic, "Created the state topic (compacted, 1 partition).");
    // A topic just created may take a moment to show its configuration.
    inspect(&admin, topic).map(|_| ())
}

/// Creates the state topic (or, with `validate_only`, asks the brokers whether they would).
pub fn create(
    admin: &AdminClient<KafkaContext>,
    sink: &SinkConfig,
    topic: &str,
    validate_only: bool,
) -> Result<()> {
    let opts = AdminOptions::new()
        .operation_timeout(Some(ADMIN_TIMEOUT))
        .validate_only(validate_only);
    let res = block_on(admin.create_topics([&new_topic(topic, sink)], &opts))
        .map_err(|e| kafka_err(topic, "cannot create it", e))?;
    match res.into_iter().next() {
        Some(Ok(_)) | Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) | None => Ok(()),
        Some(Err((
            _,
            code @ (RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed),
        ))) => Err(Error::Access {
            component: "kafka",
            message: format!(
                "not authorized to create the state topic {topic} ({code}): grant CREATE on \
                 it, or create it yourself: kafka-topics --create --topic {topic} \
                 --partitions 1 --replication-factor {} --config cleanup.policy=compact",
                sink.topic_replication_factor
            ),
        }),
        Some(Err((_, code))) => Err(topic_error(
            topic,
            format!("the brokers refused to create it: {code}"),
        )),
    }
}

/// Whether the brokers let rowtide run transactions: initializes a transactional producer
/// under a check-only id (never the store's own id: that would fence a running rowtide).
pub fn check_transactions(sink: &SinkConfig, topic: &str) -> Result<String> {
    let id = format!(
        "{}.check",
        crate::config::delivery::transactional_id(sink, topic)
    );
    let mut conf = client_config(sink);
    conf.set("transactional.id", &id)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", "10000")
        .set("transaction.timeout.ms", "10000");
    let p: BaseProducer<KafkaContext> = conf
        .create_with_context(KafkaContext::new(
            Identity::of(sink),
            Arc::new(Fault::default()),
        ))
        .map_err(|e| Error::Config(format!("sink.kafka: invalid producer setting: {e}")))?;
    p.init_transactions(Duration::from_secs(15))
        .map_err(|e| transaction_error(topic, &id, e))?;
    Ok(id)
}

/// The operator's message for a failed transaction call.
pub fn transaction_error(topic: &str, id: &str, e: rdkafka::error::KafkaError) -> Error {
    let code = e.rdkafka_error_code();
    match code {
        Some(
            RDKafkaErrorCode::TransactionalIdAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed,
        ) => crate::sink::transactional::not_authorized(id, &e),
        Some(RDKafkaErrorCode::ProducerFenced | RDKafkaErrorCode::InvalidProducerEpoch) => {
            topic_error(
                topic,
                format!(
                    "another rowtide with the same state topic took over (this one was \
                     fenced: {e}); run one rowtide per state topic"
                ),
            )
        }
        _ => kafka_err(topic, "transaction failed", e),
    }
}
