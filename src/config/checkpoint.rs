//! `[checkpoint]`: where rowtide keeps its state (position, snapshot progress, schema
//! history): an embedded sled directory (the default) or a compacted Kafka topic on the
//! sink's cluster (see `checkpoint::kafka_store`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which store holds the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    /// A sled directory at `checkpoint.path` (lost with the disk).
    #[default]
    Sled,
    /// Records in one compacted topic (`checkpoint.kafka_topic`) on the sink's cluster.
    Kafka,
}

impl StoreKind {
    /// `sled` or `kafka`, as written in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Sled => "sled",
            StoreKind::Kafka => "kafka",
        }
    }
}

/// `[checkpoint]`: the state store.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckpointConfig {
    /// `sled` (a local directory, the default) or `kafka` (a compacted topic on the sink's
    /// brokers, with the sink's connection settings).
    pub store: StoreKind,
    /// Directory of the sled store (position, schema history, snapshot state).
    pub path: PathBuf,
    /// The state topic of `store = "kafka"`; default `<sink.topic_prefix>.rowtide-state`.
    pub kafka_topic: Option<String>,
    /// Write the checkpoint at most this often while streaming (it is always written at
    /// shutdown and after each snapshot table).
    pub flush_interval_ms: u64,
}

impl Default for CheckpointConfig {
    fn default() -> Self {
        Self {
            store: StoreKind::Sled,
            path: PathBuf::from("./rowtide-state"),
            kafka_topic: None,
            flush_interval_ms: 1_000,
        }
    }
}

impl CheckpointConfig {
    /// The state topic of `store = "kafka"` for a sink writing under `topic_prefix`.
    pub fn kafka_topic_for(&self, topic_prefix: &str) -> String {
        self.kafka_topic
            .clone()
            .unwrap_or_else(|| format!("{topic_prefix}.rowtide-state"))
    }

    pub(super) fn validate(&self, sink: &super::SinkConfig) -> Result<()> {
        if self.store == StoreKind::Kafka && sink.kind != super::SinkKind::Kafka {
            return Err(Error::Config(
                "checkpoint.store = \"kafka\" keeps the state on the sink's Kafka cluster and \
                 needs sink.kind = \"kafka\"; use checkpoint.store = \"sled\" with another sink"
                    .into(),
            ));
        }
        if let Some(t) = &self.kafka_topic {
            let legal = !t.is_empty()
                && t.len() <= 249
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                && t != "."
                && t != "..";
            if !legal {
                return Err(Error::Config(format!(
                    "checkpoint.kafka_topic `{t}` is not a Kafka topic name (1 to 249 letters, \
                     digits, '.', '_' and '-')"
                )));
            }
        }
        Ok(())
    }
}
