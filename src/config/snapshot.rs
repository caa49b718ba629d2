//! `[snapshot]`: incremental snapshots (taken on an `execute-snapshot` signal while the
//! stream runs).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `[snapshot]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnapshotConfig {
    /// Rows per chunk of an incremental snapshot (Debezium's
    /// `incremental.snapshot.chunk.size`): streaming waits at most one chunk's SELECT.
    pub chunk_size: usize,
    /// `"db.table" = "column"`: the column that orders the chunks of a table without a
    /// primary key (Debezium's per-signal `surrogate-key`, here per table; a signal's own
    /// `surrogate-key` takes precedence). It should be unique;
    /// rows sharing a value may be emitted twice or, at a chunk boundary, skipped.
    pub surrogate_keys: BTreeMap<String, String>,
    /// What happens at start to a captured table the checkpoint's catalog does not know
    /// (it started to match `source.include` while rowtide was stopped): `off` (only its
    /// changes from now on are streamed) or `incremental` (an incremental snapshot of it is
    /// queued; needs `[signals] table` unless `read_only`).
    pub new_tables: NewTables,
    /// Read-only incremental snapshots: rowtide writes nothing to the source. The
    /// watermarks are binlog positions the server reports (`Binlog_snapshot_file` /
    /// `Binlog_snapshot_position` of a consistent-snapshot transaction) instead of rows in
    /// the signal table.
    pub read_only: bool,
}

/// `snapshot.new_tables`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NewTables {
    #[default]
    Off,
    Incremental,
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        Self {
            chunk_size: 1024,
            surrogate_keys: BTreeMap::new(),
            new_tables: NewTables::Off,
            read_only: false,
        }
    }
}

impl SnapshotConfig {
    pub(super) fn validate(&self, signals: &super::SignalsConfig) -> Result<()> {
        if self.new_tables == NewTables::Incremental && signals.table.is_none() && !self.read_only {
            return Err(Error::Config(
                "snapshot.new_tables = \"incremental\" needs [signals] table: incremental \
                 snapshots write their watermarks into it (or set snapshot.read_only = true: \
                 then the watermarks are binlog positions and nothing is written)"
                    .into(),
            ));
        }
        let no_signals = signals.table.is_none() && signals.kafka_topic.is_none();
        if self.read_only && no_signals && self.new_tables == NewTables::Off {
            return Err(Error::Config(
                "snapshot.read_only = true, but no incremental snapshot can ever start: set \
                 [signals] kafka_topic (signals as Kafka records; `rowtide snapshot` sends \
                 them there) or [signals] table (rows an operator inserts), or \
                 snapshot.new_tables = \"incremental\"; or remove read_only"
                    .into(),
            ));
        }
        if self.chunk_size == 0 {
            return Err(Error::Config(
                "snapshot.chunk_size must be at least 1 (default 1024)".into(),
            ));
        }
        for (table, column) in &self.surrogate_keys {
            if !super::SignalsConfig::is_table_name(table) || column.trim().is_empty() {
                return Err(Error::Config(format!(
                    "snapshot.surrogate_keys: \"{table}\" = \"{column}\" must map a \"db.table\" \
                     name to a column name"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SignalsConfig;

    fn signals(table: bool, topic: bool) -> SignalsConfig {
        SignalsConfig {
            table: table.then(|| "db.sig".to_string()),
            kafka_topic: topic.then(|| "sig".to_string()),
        }
    }

    #[test]
    fn read_only_needs_a_way_to_start_a_snapshot() {
        let ro = SnapshotConfig {
            read_only: true,
            ..Default::default()
        };
        let e = ro.validate(&signals(false, false)).unwrap_err().to_string();
        assert!(
            e.contains("snapshot.read_only") && e.contains("kafka_topic"),
            "{e}"
        );
        ro.validate(&signals(false, true)).unwrap();
        ro.validate(&signals(true, false)).unwrap();
        let new_tables = SnapshotConfig {
            new_tables: NewTables::Incremental,
            ..ro
        };
        // Read-only: new tables need no signal table (nothing is written into it).
        new_tables.validate(&signals(false, false)).unwrap();
        let writing = SnapshotConfig {
            read_only: false,
            ..new_tables
        };
        let e = writing
            .validate(&signals(false, true))
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs [signals] table"), "{e}");
    }
}
