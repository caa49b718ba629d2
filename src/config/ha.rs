//! `[ha]`: hot-standby failover. Every rowtide started with the same `group` (and the same
//! source and state topic) competes for one Kafka consumer-group membership; the member
//! the group coordinator assigns the state topic's partition to is the active instance, the
//! others stand by (see `ha`). The defaults keep the takeover after a crash of the active
//! instance under 30 s: the coordinator notices the silence after `session_timeout_ms`
//! (10 s), the standby learns of the new assignment within a heartbeat, reads the state and
//! starts.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `[ha]`: the group of instances that share one pipeline.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HaConfig {
    /// The failover group; unset (the default) runs without standby. Instances with the
    /// same group, source and `checkpoint.kafka_topic` replace each other; the group's
    /// Kafka consumer group is `rowtide-ha-<group>`.
    pub group: Option<String>,
    /// How long the group coordinator waits for an instance's heartbeat before it gives the
    /// pipeline to a standby (Kafka `session.timeout.ms`; the brokers accept 6000–1800000 by
    /// default). Most of the takeover time.
    pub session_timeout_ms: u64,
    /// How often each instance heartbeats (Kafka `heartbeat.interval.ms`); a standby learns
    /// of a takeover within one interval. At most a third of `session_timeout_ms`.
    pub heartbeat_interval_ms: u64,
    /// How often a standby checks again that the source and Kafka answer and re-reads the
    /// state (it is ready to take over only while these checks pass).
    pub standby_check_interval_ms: u64,
    /// When this instance loses the leadership, how long its pipeline may take to stop
    /// before it is abandoned (its writes are fenced by then in any case).
    pub stop_timeout_ms: u64,
}

impl Default for HaConfig {
    fn default() -> Self {
        Self {
            group: None,
            session_timeout_ms: 10_000,
            heartbeat_interval_ms: 1_000,
            standby_check_interval_ms: 15_000,
            stop_timeout_ms: 5_000,
        }
    }
}

impl HaConfig {
    /// The Kafka consumer group whose membership elects the active instance.
    pub fn consumer_group(&self) -> Option<String> {
        self.group.as_ref().map(|g| format!("rowtide-ha-{g}"))
    }

    /// Checks the keys, that the state is in Kafka, and the transaction bounds the records
    /// are written with under `[ha]` (`exactly_once`, whatever `sink.delivery` says).
    pub(super) fn validate(
        &self,
        checkpoint: &super::CheckpointConfig,
        sink_cfg: &super::SinkConfig,
        snapshot_parallelism: usize,
    ) -> Result<()> {
        let Some(group) = &self.group else {
            return Ok(());
        };
        let (store, sink) = (checkpoint.store, sink_cfg.kind);
        let bad = |m: String| Err(Error::Config(m));
        if group.is_empty()
            || group.len() > 200
            || !group
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return bad(format!(
                "ha.group `{group}` must be 1 to 200 letters, digits, '.', '_' and '-'"
            ));
        }
        if store != super::StoreKind::Kafka || sink != super::SinkKind::Kafka {
            return bad(format!(
                "ha.group = \"{group}\" needs the state in Kafka, where every instance of the \
                 group reads it and the transactional fence protects it: set [checkpoint] \
                 store = \"kafka\" (and sink.kind = \"kafka\"), or remove [ha] group (to move \
                 an existing sled state: `rowtide offsets copy --to kafka`)"
            ));
        }
        let transactional = super::SinkConfig {
            delivery: super::Delivery::ExactlyOnce,
            ..sink_cfg.clone()
        };
        if snapshot_parallelism > 1 {
            return bad(format!(
                "ha.group = \"{group}\" writes every record in Kafka transactions, which need \
                 source.snapshot_parallelism = 1 (is {snapshot_parallelism}): set it to 1 or \
                 remove [ha] group"
            ));
        }
        super::delivery::check(&transactional, checkpoint, snapshot_parallelism)?;
        if !(6_000..=1_800_000).contains(&self.session_timeout_ms) {
            return bad(format!(
                "ha.session_timeout_ms = {} is outside the brokers' default bounds \
                 (group.min.session.timeout.ms 6000 to group.max.session.timeout.ms 1800000)",
                self.session_timeout_ms
            ));
        }
        if self.heartbeat_interval_ms == 0
            || self.heartbeat_interval_ms * 3 > self.session_timeout_ms
        {
            return bad(format!(
                "ha.heartbeat_interval_ms = {} must be above 0 and at most a third of \
                 ha.session_timeout_ms ({})",
                self.heartbeat_interval_ms, self.session_timeout_ms
            ));
        }
        if self.standby_check_interval_ms < 1_000 {
            return bad(format!(
                "ha.standby_check_interval_ms = {} is below 1000: a standby would hammer the \
                 source and Kafka with checks",
                self.standby_check_interval_ms
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CheckpointConfig, SinkConfig, SinkKind, StoreKind};

    impl HaConfig {
        fn check(&self, store: StoreKind, kind: SinkKind) -> Result<()> {
            let checkpoint = CheckpointConfig {
                store,
                ..CheckpointConfig::default()
            };
            let sink = SinkConfig {
                kind,
                ..SinkConfig::default()
            };
            self.validate(&checkpoint, &sink, 1)
        }
    }

    fn ha(group: &str) -> HaConfig {
        HaConfig {
            group: Some(group.into()),
            ..HaConfig::default()
        }
    }

    #[test]
    fn a_group_needs_the_kafka_store() {
        let e = ha("orders")
            .check(StoreKind::Sled, SinkKind::Kafka)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("ha.group") && e.contains("store = \"kafka\""),
            "{e}"
        );
        ha("orders")
            .check(StoreKind::Kafka, SinkKind::Kafka)
            .unwrap();
        HaConfig::default()
            .check(StoreKind::Sled, SinkKind::Stdout)
            .unwrap();
    }

    #[test]
    fn timeouts_and_names_are_checked() {
        let mut h = ha("orders");
        h.heartbeat_interval_ms = 5_000;
        let e = h
            .check(StoreKind::Kafka, SinkKind::Kafka)
            .unwrap_err()
            .to_string();
        assert!(e.contains("ha.heartbeat_interval_ms"), "{e}");
        let e = ha("a b")
            .check(StoreKind::Kafka, SinkKind::Kafka)
            .unwrap_err()
            .to_string();
        assert!(e.contains("ha.group `a b`"), "{e}");
        assert_eq!(
            ha("orders").consumer_group().as_deref(),
            Some("rowtide-ha-orders")
        );
    }
}
