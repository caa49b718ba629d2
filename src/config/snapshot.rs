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
    /// primary key (Debezium's `snapshot.surrogate.key`, per table). It should be unique;
    /// rows sharing a value may be emitted twice or, at a chunk boundary, skipped.
    pub surrogate_keys: BTreeMap<String, String>,
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        Self {
            chunk_size: 1024,
            surrogate_keys: BTreeMap::new(),
        }
    }
}

impl SnapshotConfig {
    pub(super) fn validate(&self) -> Result<()> {
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
