//! Sinks deliver encoded records and report each delivery: Kafka for production, stdout
//! (JSON lines) for debugging and demos.

pub mod kafka;
pub mod stdout;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

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
}

impl OutRecord {
    /// A tombstone: the same key, no value.
    pub fn tombstone(topic: Arc<str>, key: Option<Vec<u8>>, position: Arc<str>) -> Self {
        Self {
            topic,
            key,
            value: None,
            position,
        }
    }
}

/// Resolves when the record is acknowledged (or failed).
pub type Delivery = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

/// Why a record could not be enqueued.
pub enum SendError {
    /// The local queue is full: wait for deliveries and try again.
    QueueFull(OutRecord),
    Failed(Error),
}

/// A configured sink.
pub enum Sink {
    Kafka(Box<kafka::KafkaSink>),
    Stdout(stdout::StdoutSink),
}

impl Sink {
    /// Makes sure `topic` exists (creating it when configured to).
    pub async fn ensure_topic(&self, topic: &str) -> Result<()> {
        match self {
            Sink::Kafka(k) => k.ensure_topic(topic).await,
            Sink::Stdout(_) => Ok(()),
        }
    }

    /// Enqueues a record without waiting for its acknowledgement.
    pub fn send(&self, rec: OutRecord) -> std::result::Result<Delivery, SendError> {
        match self {
            Sink::Kafka(k) => k.send(rec),
            Sink::Stdout(s) => s.send(rec),
        }
    }

    /// Waits (bounded) for everything enqueued to be delivered.
    pub async fn flush(&self, timeout: std::time::Duration) -> Result<()> {
        match self {
            Sink::Kafka(k) => k.flush(timeout).await,
            Sink::Stdout(s) => s.flush(),
        }
    }
}
