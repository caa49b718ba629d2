//! `[sink] delivery`: at-least-once (the default: records are acknowledged one by one and
//! the checkpoint follows them) or exactly-once (the records of a batch and the state
//! records naming their position are committed in one Kafka transaction; see
//! `docs/delivery.md`), and the keys that bound an exactly-once transaction.

use serde::{Deserialize, Serialize};

use super::{CheckpointConfig, SinkConfig, SinkKind, StoreKind};
use crate::error::{Error, Result};

/// How records reach Kafka.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// An idempotent producer; after a crash the records since the last checkpoint are
    /// sent again (consumers may see repeats).
    #[default]
    AtLeastOnce,
    /// One transactional producer writes data and state records in one transaction;
    /// `read_committed` consumers see each change once.
    ExactlyOnce,
}

impl Delivery {
    /// `at_least_once` or `exactly_once`, as written in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Delivery::AtLeastOnce => "at_least_once",
            Delivery::ExactlyOnce => "exactly_once",
        }
    }
}

/// The `transactional.id` of the one producer that writes both the state topic and (with
/// `exactly_once`) the data: `sink.transactional_id`, else `rowtide-state-<state topic>`.
/// Stable, so a restarted or duplicate instance with the same configuration fences the
/// previous one.
pub fn transactional_id(sink: &SinkConfig, state_topic: &str) -> String {
    sink.transactional_id
        .clone()
        .unwrap_or_else(|| format!("rowtide-state-{state_topic}"))
}

/// Exactly-once needs the Kafka sink and the Kafka state store (the state records must
/// join the data's transaction), one snapshot reader, and sane transaction bounds.
pub(super) fn validate(cfg: &super::Config) -> Result<()> {
    check(&cfg.sink, &cfg.checkpoint, cfg.source.snapshot_parallelism)
}

pub(super) fn check(
    sink: &SinkConfig,
    checkpoint: &CheckpointConfig,
    snapshot_parallelism: usize,
) -> Result<()> {
    if let Some(id) = &sink.transactional_id {
        if id.trim().is_empty() {
            return Err(Error::Config(
                "sink.transactional_id is empty: remove it (the default is \
                 rowtide-state-<checkpoint.kafka_topic>) or name a stable id"
                    .into(),
            ));
        }
    }
    if sink.delivery != Delivery::ExactlyOnce {
        return Ok(());
    }
    if sink.kind != SinkKind::Kafka || checkpoint.store != StoreKind::Kafka {
        return Err(Error::Config(format!(
            "sink.delivery = \"exactly_once\" writes the records and the checkpoint in one \
             Kafka transaction: it needs sink.kind = \"kafka\" (is \"{}\") and \
             checkpoint.store = \"kafka\" (is \"{}\"); set both, or use sink.delivery = \
             \"at_least_once\"",
            match sink.kind {
                SinkKind::Kafka => "kafka",
                SinkKind::Stdout => "stdout",
            },
            checkpoint.store.name()
        )));
    }
    if snapshot_parallelism > 1 {
        // Parallel readers interleave the rows of several tables, and a snapshot row carries
        // no position of its own: no transaction boundary would name exactly what it holds.
        return Err(Error::Config(format!(
            "sink.delivery = \"exactly_once\" needs source.snapshot_parallelism = 1 (is {}): \
             parallel snapshot readers interleave the rows of several tables, so a \
             transaction could not name exactly the rows it holds; set \
             source.snapshot_parallelism = 1, or use sink.delivery = \"at_least_once\"",
            snapshot_parallelism
        )));
    }
    if sink.transaction_max_ms == 0
        || sink.transaction_max_records == 0
        || sink.transaction_max_bytes == 0
    {
        return Err(Error::Config(
            "sink.transaction_max_ms, sink.transaction_max_records and \
             sink.transaction_max_bytes must be positive"
                .into(),
        ));
    }
    if sink.transaction_timeout_ms <= sink.transaction_max_ms {
        return Err(Error::Config(format!(
            "sink.transaction_timeout_ms ({}) must be larger than sink.transaction_max_ms ({}): \
             the broker aborts a transaction open longer than its timeout",
            sink.transaction_timeout_ms, sink.transaction_max_ms
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_once_needs_the_kafka_store_and_sink() {
        let sink = SinkConfig {
            delivery: Delivery::ExactlyOnce,
            ..SinkConfig::default()
        };
        let mut cp = CheckpointConfig::default();
        let e = check(&sink, &cp, 1).unwrap_err().to_string();
        assert!(
            e.contains("sink.delivery") && e.contains("checkpoint.store = \"kafka\""),
            "{e}"
        );
        cp.store = StoreKind::Kafka;
        check(&sink, &cp, 1).unwrap();
        assert!(check(&sink, &cp, 4)
            .unwrap_err()
            .to_string()
            .contains("snapshot_parallelism"));
        let stdout = SinkConfig {
            kind: SinkKind::Stdout,
            ..sink.clone()
        };
        assert!(check(&stdout, &cp, 1).is_err());
        check(&SinkConfig::default(), &CheckpointConfig::default(), 4).unwrap();
    }

    #[test]
    fn the_transactional_id_defaults_to_the_state_topics() {
        let mut sink = SinkConfig::default();
        assert_eq!(transactional_id(&sink, "p.state"), "rowtide-state-p.state");
        sink.transactional_id = Some("mine".into());
        assert_eq!(transactional_id(&sink, "p.state"), "mine");
    }
}
