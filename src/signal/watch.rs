//! Reads signals from the signal table as the stream passes its inserts, in log order (the
//! relay in `pipeline::incremental` acts on them).
//!
//! Only inserts count (as with Debezium: updates and deletes of signal rows are ignored),
//! and only streamed ones: a row read by a snapshot, or a change the stream skips because
//! it was delivered before a restart, is an old signal that already acted.

use serde_json::Value as Json;

use super::Signal;
use crate::config::SignalsConfig;
use crate::model::{Change, Op, SourceEvent, Value};

/// Watches the stream for inserts into the signal table.
#[derive(Debug, Clone)]
pub struct SignalWatch {
    db: String,
    table: String,
}

/// One signal row, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub id: String,
    /// The `type` column as written.
    pub kind: String,
    /// The signal, or why it was skipped.
    pub signal: Result<Signal, String>,
}

impl SignalWatch {
    /// `None` when no signal table is configured.
    pub fn new(cfg: &SignalsConfig) -> Option<Self> {
        let (db, table) = cfg.table_parts()?;
        Some(Self {
            db: db.to_string(),
            table: table.to_string(),
        })
    }

    /// The signal `ev` carries, if it is an insert into the signal table.
    pub fn received(&self, ev: &SourceEvent) -> Option<Received> {
        let SourceEvent::Change(c) = ev else {
            return None;
        };
        if c.op != Op::Create || c.table.name != self.table || c.table.db != self.db {
            return None;
        }
        Some(read_row(c))
    }
}

/// The `id`, `type` and `data` columns of a signal row, by name (else by position, as
/// Debezium reads them).
fn read_row(c: &Change) -> Received {
    let Some(row) = c.after.as_ref() else {
        return Received {
            id: String::new(),
            kind: String::new(),
            signal: Err("the insert carries no row image".into()),
        };
    };
    let col = |i: usize| -> Option<String> {
        let name = super::TABLE_COLUMNS[i];
        let at = c
            .table
            .columns
            .iter()
            .position(|col| col.name.eq_ignore_ascii_case(name))
            .unwrap_or(i);
        match row.get(at)? {
            Value::String(s) | Value::Json(s) => Some(s.clone()),
            Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Value::Int(i) => Some(i.to_string()),
            Value::UInt(u) => Some(u.to_string()),
            _ => None,
        }
    };
    let id = col(0).unwrap_or_default();
    let kind = col(1).unwrap_or_default();
    let signal = match kind.as_str() {
        "" => Err("its \"type\" column is empty".to_string()),
        kind => Signal::parse(kind, col(2).map(Json::String).as_ref()),
    };
    Received { id, kind, signal }
}
