//! `[signals]`: where operator signals (Debezium's signalling) are read from.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `[signals]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignalsConfig {
    /// The signal table, `db.table` (Debezium's `signal.data.collection`), with the columns
    /// `id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048)`. Rows
    /// inserted into it are read from the binlog, so `source.include` must capture it.
    pub table: Option<String>,
    /// The Kafka signal topic (Debezium's `signal.kafka.topic`): records keyed by
    /// `sink.topic_prefix` with `{"type": …, "data": {…}}` values, read from partition 0 on
    /// the sink's brokers. Incremental snapshots still write their watermarks into `table`.
    pub kafka_topic: Option<String>,
}

impl SignalsConfig {
    pub(super) fn validate(&self) -> Result<()> {
        match self.table.as_deref() {
            Some(t) if !Self::is_table_name(t) => Err(Error::Config(format!(
                "signals.table = \"{t}\" is not a \"db.table\" name (e.g. \"inventory.rowtide_signals\")"
            ))),
            _ => Ok(()),
        }
    }

    /// Whether `name` has the `db.table` form (one dot, both parts non-empty).
    pub fn is_table_name(name: &str) -> bool {
        match name.split_once('.') {
            Some((db, table)) => !db.is_empty() && !table.is_empty() && !table.contains('.'),
            None => false,
        }
    }

    /// The signal table as `(db, table)`.
    pub fn table_parts(&self) -> Option<(&str, &str)> {
        self.table.as_deref().and_then(|t| t.split_once('.'))
    }
}
