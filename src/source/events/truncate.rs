//! `TRUNCATE [TABLE] db.t` on a captured table: one change of operation `t` (no row
//! images), as Debezium's binlog source turns the statement into a truncate record instead
//! of a schema change.
//!
//! Invariant: a truncate counts as one change of its transaction (it has a position, and a
//! resumed transaction skips it like a row it delivered before), and it leaves the catalog
//! and the cached decoders as they are — the table's structure does not change. Whether it
//! is emitted (`events.skipped_operations`) is decided when records are built, so its
//! position always reaches the checkpoint.

use mysql_common::binlog::events::Event;

use super::EventHandler;
use crate::model::{Change, Op, SnapshotMarker, SourceEvent};

impl EventHandler {
    /// Emits a truncate change for each of `tables` (the captured tables the statement
    /// names) whose structure is known.
    pub(super) fn emit_truncates(
        &mut self,
        event: &Event,
        tables: &[(String, String)],
        out: &mut Vec<SourceEvent>,
    ) {
        for (db, name) in tables {
            let Some(table) = self.catalog.get(db, name).cloned() else {
                // Without a structure there is no envelope schema to send it with.
                tracing::warn!(position = %format!("{}:{}", self.file, self.here(event)), table = %format!("{db}.{name}"), "TRUNCATE of a table whose structure is not known; no truncate event is sent for it.");
                continue;
            };
            let position = self.position_for(event, 0);
            let Some(txn) = self.txn.as_mut() else {
                return;
            };
            txn.rows += 1;
            let change = Box::new(Change {
                table,
                op: Op::Truncate,
                before: None,
                after: None,
                position,
                ts_ms: event.header().timestamp() as i64 * 1000,
                snapshot: SnapshotMarker::False,
                // As Debezium's: a DDL statement has no BEGIN to take the thread from, and
                // no rows query.
                thread: None,
                query: None,
                server_id: event.header().server_id(),
            });
            if self.skip_armed && self.skip_rows > 0 {
                self.skip_rows -= 1;
                out.push(SourceEvent::Skipped(change));
                continue;
            }
            out.push(SourceEvent::Change(change));
        }
    }
}
