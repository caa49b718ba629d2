//! Sinks deliver encoded records and report each delivery: Kafka for production, stdout
//! (JSON lines) for debugging and demos.

pub mod group_probe;
pub mod kafka;
#[cfg(feature = "aws-msk-iam")]
pub mod msk_iam;
pub mod stdout;
pub mod transactional;

use std::sync::Arc;

use crate::config::{SinkConfig, SinkKind};
use crate::error::{Error, Result};

/// One record to deliver.
#[derive(Debug, Clone)]
pub struct OutRecord {
    pub topic: Arc<str>,
    pub key: Option<Vec<u8>>,
    /// `None` is a tombstone.
    pub value: Option<Vec<u8>>,
    /// The change's position, for error messages (shared by the records of one change).
    pub position: Arc<str>,
    /// Kafka record headers, in order (`__debezium.oldkey`, transforms' `__op`, …).
    pub headers: Vec<Header>,
    /// The record timestamp in epoch milliseconds (`None`: the producer's clock).
    pub timestamp: Option<i64>,
    /// The partition (`None`: the partitioner picks it from the key).
    pub partition: Option<i32>,
}

/// One Kafka record header: its key and its bytes as Kafka Connect's
/// `SimpleHeaderConverter` writes them (`None` for a null header value).
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub key: Arc<str>,
    /// Shared: the same header (e.g. Debezium's context headers) goes on many records.
    pub value: Option<Arc<[u8]>>,
}

impl OutRecord {
    /// A tombstone: the same key, no value.
    pub fn tombstone(topic: Arc<str>, key: Option<Vec<u8>>, position: Arc<str>) -> Self {
        Self {
            topic,
            key,
            value: None,
            position,
            headers: vec![],
            timestamp: None,
            partition: None,
        }
    }
}

/// Why a delivery failed; turned into an [`Error`] naming the record's topic and position
/// by the pipeline, which keeps those.
#[derive(Debug)]
pub enum Failure {
    Kafka(rdkafka::error::KafkaError),
    Io(String),
}

impl Failure {
    pub fn into_error(self, topic: &str, position: &str) -> Error {
        match self {
            Failure::Kafka(e) => kafka::classify(e, topic, position),
            Failure::Io(reason) => Error::Delivery {
                topic: topic.to_string(),
                position: position.to_string(),
                reason,
            },
        }
    }
}

/// The outcome of one record, by the sequence number it was sent with.
pub type Ack = (u64, std::result::Result<(), Failure>);

/// Acknowledgements as the sink learns of them (from librdkafka's delivery reports or a
/// flushed stdout buffer): the sink loop takes them in bulk and is woken when there are new
/// ones (a permit is kept when it is not waiting, so none is missed).
#[derive(Default)]
pub struct Acks {
    done: std::sync::Mutex<Vec<Ack>>,
    notify: tokio::sync::Notify,
}

impl Acks {
    pub fn push(&self, ack: Ack) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        let wake = done.is_empty();
        done.push(ack);
        drop(done);
        if wake {
            self.notify.notify_one();
        }
    }

    pub fn extend(&self, acks: impl IntoIterator<Item = Ack>) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        let before = done.len();
        done.extend(acks);
        let wake = before == 0 && !done.is_empty();
        drop(done);
        if wake {
            self.notify.notify_one();
        }
    }

    /// Moves every acknowledgement received so far into `out`.
    pub fn take(&self, out: &mut Vec<Ack>) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        if out.is_empty() {
            std::mem::swap(&mut *done, out);
        } else {
            out.append(&mut done);
        }
    }

    /// Resolves when acknowledgements may be waiting.
    pub fn arrived(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}

/// Why a record could not be enqueued.
pub enum SendError {
    /// The local queue is full: wait for deliveries and try again (the record, boxed: it
    /// is the rare path).
    QueueFull(Box<OutRecord>),
    Failed(Error),
}

/// A configured sink.
pub enum Sink {
    Kafka(Box<kafka::KafkaSink>),
    Stdout(stdout::StdoutSink),
}

impl Sink {
    /// The sink `sink.kind` names.
    pub fn new(cfg: &SinkConfig) -> Result<Self> {
        Ok(match cfg.kind {
            SinkKind::Kafka => Sink::Kafka(Box::new(kafka::KafkaSink::new(cfg)?)),
            SinkKind::Stdout => Sink::Stdout(stdout::StdoutSink::new()),
        })
    }

    /// Exactly-once: the Kafka sink writing through the state's transactional producer.
    pub fn transactional(cfg: &SinkConfig, txn: Arc<transactional::TxnProducer>) -> Result<Self> {
        Ok(Sink::Kafka(Box::new(kafka::KafkaSink::transactional(
            cfg, txn,
        )?)))
    }

    /// The transactional producer the records go through (`exactly_once`).
    pub fn transactions(&self) -> Option<&Arc<transactional::TxnProducer>> {
        match self {
            Sink::Kafka(k) => k.transactions(),
            Sink::Stdout(_) => None,
        }
    }

    /// Makes sure `topic` exists (creating it when configured to).
    pub async fn ensure_topic(&self, topic: &str) -> Result<()> {
        match self {
            Sink::Kafka(k) => k.ensure_topic(topic).await,
            Sink::Stdout(_) => Ok(()),
        }
    }

    /// Enqueues a record without waiting for its acknowledgement, which arrives later in
    /// [`Self::acks`] under `seq`.
    pub fn send(&self, rec: OutRecord, seq: u64) -> std::result::Result<(), SendError> {
        match self {
            Sink::Kafka(k) => k.send(rec, seq),
            Sink::Stdout(s) => s.send(rec, seq),
        }
    }

    /// Called after each batch of sends: the stdout sink writes out and acknowledges what
    /// it buffered (Kafka batches by itself).
    pub fn end_batch(&self) {
        if let Sink::Stdout(s) = self {
            s.write_out();
        }
    }

    /// Checks at start that the sink accepts rowtide (Kafka: credentials, TLS, DESCRIBE on
    /// its topics); see [`kafka::KafkaSink::verify_access`].
    pub async fn verify_access(&self) -> Result<()> {
        match self {
            Sink::Kafka(k) => k.verify_access().await,
            Sink::Stdout(_) => Ok(()),
        }
    }

    /// Resolves with the first failure of the sink as a whole that no retry can fix
    /// (Kafka refused the credentials, say); never, for stdout.
    pub async fn fault(&self) -> Error {
        match self {
            Sink::Kafka(k) => k.fault().await,
            Sink::Stdout(_) => std::future::pending().await,
        }
    }

    /// Where acknowledgements arrive.
    pub fn acks(&self) -> &Acks {
        match self {
            Sink::Kafka(k) => k.acks(),
            Sink::Stdout(s) => s.acks(),
        }
    }
}
