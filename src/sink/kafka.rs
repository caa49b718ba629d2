//! The Kafka sink: an idempotent producer (`enable.idempotence`, `acks=all`) that enqueues
//! without awaiting each send, partitions by key bytes with the Java client's murmur2
//! partitioner (so every event of a primary key lands in one partition, as with Debezium),
//! and creates missing topics with the configured partitions, replication and cleanup
//! policy. Retriable errors are retried inside librdkafka; a failed delivery stops the
//! pipeline with an error naming the topic and the change's position.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};

use super::{Acks, Failure, OutRecord, SendError};
use crate::config::SinkConfig;
use crate::error::{Error, Result};

/// Receives librdkafka's delivery reports (on the producer's polling thread) and files them
/// by the sequence number each record was sent with: no future or channel per record.
#[derive(Default)]
pub struct AckContext {
    acks: Acks,
}

impl ClientContext for AckContext {}

impl ProducerContext for AckContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, seq: usize) {
        let outcome = match result {
            Ok(_) => Ok(()),
            Err((e, _)) => Err(Failure::Kafka(e.clone())),
        };
        self.acks.push((seq as u64, outcome));
    }
}

pub struct KafkaSink {
    producer: ThreadedProducer<AckContext>,
    admin: AdminClient<DefaultClientContext>,
    cfg: SinkConfig,
    known_topics: Mutex<HashSet<String>>,
}

/// The librdkafka settings rowtide sets unless the user's `[sink.kafka]` overrides them.
pub fn producer_config(cfg: &SinkConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .set("compression.type", "lz4")
        // Never give up on a record because Kafka is down for a while: backpressure holds
        // the binlog reader instead.
        .set("message.timeout.ms", "0")
        .set("queue.buffering.max.messages", "50000")
        .set("queue.buffering.max.kbytes", "65536")
        .set("client.id", "rowtide");
    for (k, v) in &cfg.kafka {
        c.set(k, v);
    }
    c
}

impl KafkaSink {
    pub fn new(cfg: &SinkConfig) -> Result<Self> {
        let conf = producer_config(cfg);
        let producer: ThreadedProducer<AckContext> = conf
            .create_with_context(AckContext::default())
            .map_err(|e| Error::Config(format!("sink.kafka: invalid producer setting: {e}")))?;
        let mut admin_conf = ClientConfig::new();
        admin_conf.set("bootstrap.servers", &cfg.brokers);
        for (k, v) in &cfg.kafka {
            // Producer-only keys are ignored by the admin client's config check otherwise.
            if k.starts_with("security.") || k.starts_with("ssl.") || k.starts_with("sasl.") {
                admin_conf.set(k, v);
            }
        }
        let admin = admin_conf
            .create()
            .map_err(|e| Error::Config(format!("sink.kafka: invalid admin setting: {e}")))?;
        Ok(Self {
            producer,
            admin,
            cfg: cfg.clone(),
            known_topics: Mutex::new(HashSet::new()),
        })
    }

    pub async fn ensure_topic(&self, topic: &str) -> Result<()> {
        if !self.cfg.create_topics {
            return Ok(());
        }
        if self
            .known_topics
            .lock()
            .map(|t| t.contains(topic))
            .unwrap_or(false)
        {
            return Ok(());
        }
        let new = NewTopic::new(
            topic,
            self.cfg.topic_partitions,
            TopicReplication::Fixed(self.cfg.topic_replication_factor),
        )
        .set("cleanup.policy", &self.cfg.topic_cleanup_policy);
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let results = self
            .admin
            .create_topics([&new], &opts)
            .await
            .map_err(|source| Error::Kafka {
                context: format!("cannot create topic {topic}"),
                source,
            })?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((t, code @ (RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed))) => {
                    return Err(Error::Delivery {
                        topic: t,
                        position: "-".into(),
                        reason: format!(
                            "not allowed to create the topic ({code}); create it yourself or grant CREATE"
                        ),
                    })
                }
                Err((t, code)) => {
                    return Err(Error::Kafka {
                        context: format!("cannot create topic {t}"),
                        source: KafkaError::AdminOp(code),
                    })
                }
            }
        }
        if let Ok(mut t) = self.known_topics.lock() {
            t.insert(topic.to_string());
        }
        Ok(())
    }

    /// Enqueues `rec`; its delivery report arrives in [`Self::acks`] under `seq`.
    pub fn send(&self, rec: OutRecord, seq: u64) -> std::result::Result<(), SendError> {
        let mut record: BaseRecord<'_, [u8], [u8], usize> =
            BaseRecord::with_opaque_to(&rec.topic, seq as usize);
        if let Some(k) = &rec.key {
            record = record.key(k.as_slice());
        }
        if let Some(v) = &rec.value {
            record = record.payload(v.as_slice());
        }
        match self.producer.send(record) {
            Ok(()) => Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                Err(SendError::QueueFull(rec))
            }
            Err((e, _)) => Err(SendError::Failed(classify(e, &rec.topic, &rec.position))),
        }
    }

    pub fn acks(&self) -> &Acks {
        &self.producer.context().acks
    }
}

/// Permanent errors stop the engine with a definite message; the rest are transient.
pub(crate) fn classify(e: KafkaError, topic: &str, position: &str) -> Error {
    let code = e.rdkafka_error_code();
    let permanent = matches!(
        code,
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::InvalidMessage
                | RDKafkaErrorCode::PolicyViolation
        )
    );
    if permanent {
        let hint = match code {
            Some(RDKafkaErrorCode::MessageSizeTooLarge) => {
                " (raise the topic's max.message.bytes and the producer's message.max.bytes in [sink.kafka])"
            }
            Some(RDKafkaErrorCode::TopicAuthorizationFailed) => {
                " (grant WRITE on the topic to rowtide's principal)"
            }
            _ => "",
        };
        Error::Delivery {
            topic: topic.to_string(),
            position: position.to_string(),
            reason: format!("{e}{hint}"),
        }
    } else {
        Error::Kafka {
            context: format!("delivery to {topic} failed at {position}"),
            source: e,
        }
    }
}
