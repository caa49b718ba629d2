//! The tables of an incremental snapshot: queued by a signal, stopped by one, and
//! prepared (structure, chunk key, largest key) when their turn comes.

use std::sync::Arc;

use tracing::{error, info, warn};

use super::super::snapshot_ddl::DdlSnapshot;
use super::Incremental;
use crate::error::{Error, Result};
use crate::model::{Filter, TableTodo};
use crate::notify::ScanStatus;
use crate::source::chunk::{ChunkError, ChunkTable};

impl Incremental {
    pub(super) fn add_table(
        &mut self,
        id: &str,
        table: String,
        conditions: &[crate::signal::Condition],
        surrogate_key: Option<&str>,
    ) {
        let Some((db, name)) = table.split_once('.') else {
            return;
        };
        if !self.filter.captures(db, name) {
            warn!(signal = %id, %table, "Incremental snapshot of a table rowtide does not capture refused: add it to source.include first.");
            return;
        }
        if self
            .progress
            .tables
            .iter()
            .skip(1)
            .any(|t| t.table == table)
        {
            info!(signal = %id, %table, "Table already waiting for its incremental snapshot.");
            return;
        }
        let filter = conditions
            .iter()
            .find(|c| c.table.eq_ignore_ascii_case(&table))
            .map(|c| c.filter.clone());
        info!(signal = %id, %table, filter = filter.as_deref().unwrap_or(""), surrogate_key = surrogate_key.unwrap_or(""), "Incremental snapshot requested.");
        self.progress.tables.push(TableTodo {
            table,
            filter,
            surrogate_key: surrogate_key.map(str::to_string),
        });
    }

    pub(super) fn stop(&mut self, id: &str, tables: &[String]) {
        let before = self.progress.tables.len();
        let current = self.progress.current().map(|t| t.table.clone());
        if tables.is_empty() {
            self.progress.tables.clear();
        } else {
            self.progress
                .tables
                .retain(|t| !tables.iter().any(|s| s.eq_ignore_ascii_case(&t.table)));
        }
        if self.progress.current().map(|t| t.table.clone()) != current {
            // The table being read was stopped: its chunk is dropped.
            self.window = None;
            self.table = None;
            self.progress.last_key = None;
            self.progress.max_key = None;
            self.progress.chunks_done = 0;
            self.progress.rows = 0;
        }
        info!(signal = %id, stopped = before - self.progress.tables.len(), remaining = self.progress.tables.len(), "Incremental snapshot stopped.");
        if before > self.progress.tables.len() {
            let emptied = current.is_some() && !tables.is_empty() && !self.progress.is_active();
            self.ops.aborted(&self.progress, tables, emptied);
        }
        if !self.progress.is_active() {
            self.progress.correlation_id = None;
        }
    }

    /// Prepares the current table: its structure, key and largest key. False when it
    /// cannot be snapshotted (logged).
    pub(super) async fn start_table(&mut self) -> Result<bool> {
        let Some(todo) = self.progress.current().cloned() else {
            return Ok(self.refuse(ScanStatus::UnknownSchema));
        };
        let Some((db, name)) = todo.table.split_once('.') else {
            return Ok(self.refuse(ScanStatus::UnknownSchema));
        };
        let pattern = format!("{}\\.{}", regex::escape(db), regex::escape(name));
        let filter = Filter::new(&[pattern], &[]).map_err(|e| Error::Config(e.to_string()))?;
        let conn = self.conn().await?;
        let mut tables = crate::mysql::schema::load_tables(conn, &filter).await?;
        let ddl = DdlSnapshot::new(crate::mysql::schema::snapshot_ddl(conn, &tables, true).await?);
        ddl.complete(&mut tables);
        let Some(desc) = tables.pop() else {
            error!(table = %todo.table, "Incremental snapshot of table refused: no such table.");
            return Ok(self.refuse(ScanStatus::UnknownSchema));
        };
        let surrogate = (todo.surrogate_key.as_ref())
            .map(|c| (c, "the signal's surrogate-key"))
            .or_else(|| {
                let c = self.cfg.snapshot.surrogate_keys.get(&todo.table)?;
                Some((c, "snapshot.surrogate_keys"))
            });
        let key = match surrogate {
            Some((col, from)) => match desc.column_index(col) {
                Some(i) => vec![i],
                None => {
                    error!(table = %todo.table, column = %col, "Incremental snapshot of table refused: {from} names a column the table does not have.");
                    return Ok(self.refuse(ScanStatus::UnknownSchema));
                }
            },
            None if desc.primary_key.is_empty() => {
                error!(table = %todo.table, "Incremental snapshot of table refused: it has no primary key. Name a unique column for it in [snapshot] surrogate_keys (\"{}\" = \"<column>\").", todo.table);
                return Ok(self.refuse(ScanStatus::NoPrimaryKey));
            }
            None => desc.primary_key.clone(),
        };
        let t = ChunkTable {
            desc: Arc::new(desc),
            key,
            filter: todo.filter.clone(),
        };
        if self.progress.max_key.is_none() {
            let conn = self.conn().await?;
            match t.max_key(conn).await {
                Ok(Some(max)) => self.progress.max_key = Some(max),
                Ok(None) => {
                    info!(table = %todo.table, "Incremental snapshot of table: no rows to read.");
                    return Ok(self.refuse(ScanStatus::Empty));
                }
                Err(ChunkError::Other(e)) => return Err(e),
                Err(ChunkError::Refused(reason)) => {
                    error!(table = %todo.table, %reason, "Incremental snapshot of table refused.");
                    return Ok(self.refuse(ScanStatus::SqlException));
                }
            }
            info!(table = %todo.table, filter = todo.filter.as_deref().unwrap_or(""), tables_remaining = self.progress.tables.len(), "Incremental snapshot of table started.");
        }
        self.table = Some(t);
        Ok(true)
    }

    /// A table cannot be snapshotted, for `why`: false.
    pub(super) fn refuse(&mut self, why: ScanStatus) -> bool {
        self.refusal = why;
        false
    }
}
