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
    /// What happens at start to a captured table the checkpoint's catalog does not know
    /// (it started to match `source.include` while rowtide was stopped): `off` (only its
    /// changes from now on are streamed) or `incremental` (an incremental snapshot of it is
    /// queued; needs `[signals] table`).
    pub new_tables: NewTables,
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
        }
    }
}

impl SnapshotConfig {
    pub(super) fn validate(&self, signals: &super::SignalsConfig) -> Result<()> {
        if self.new_tables == NewTables::Incremental && signals.table.is_none() {
            return Err(Error::Config(
                "snapshot.new_tables = \"incremental\" needs [signals] table: incremental \
                 snapshots write their watermarks into it"
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
