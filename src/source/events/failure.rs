//! `events.failure_handling_mode` (Debezium's `event.processing.failure.handling.mode`) for
//! rows events that cannot be decoded: `fail` stops with the error, `warn` logs the
//! position, table and reason and passes over the event, `skip` passes over it logging at
//! debug level. Passed-over events count in `rowtide_events_failed_total`.
//!
//! Only the decoding of a captured table's rows event qualifies (a value that does not
//! decode, a row image without columns, a column count that contradicts the table map):
//! such an event is whole and framed, so what follows it reads as before. Connection
//! errors, damaged event framing or checksums, table maps without a known structure and
//! DDL that cannot be followed (which has `source.ddl_skip`) stay errors in every mode.
//!
//! Invariant: an event passed over leaves no trace in the stream — none of its rows goes
//! out and the transaction's change count is as if it were not there, so a resumed
//! transaction skips the same changes again — and its position reaches the checkpoint
//! with the commit after it, once everything before it is delivered.

use mysql_common::binlog::events::Event;

use super::EventHandler;
use crate::config::shaping::FailureMode;
use crate::error::{Error, Result};
use crate::model::SourceEvent;

/// What a rows event had done to the handler's state before it failed: undone when the
/// event is passed over.
#[derive(Debug, Clone, Copy)]
pub(super) struct RowsStart {
    out_len: usize,
    txn_rows: Option<u64>,
    skip_rows: u64,
}

impl EventHandler {
    /// The state a rows event starts from (see [`Self::rows_failed`]).
    pub(super) fn rows_start(&self, out: &[SourceEvent]) -> RowsStart {
        RowsStart {
            out_len: out.len(),
            txn_rows: self.txn.as_ref().map(|t| t.rows),
            skip_rows: self.skip_rows,
        }
    }

    /// A rows event of `table` failed to decode with `e`: the error in `fail` mode; in
    /// `warn` and `skip` its changes are withdrawn, it is logged and counted, and the
    /// stream goes on.
    pub(super) fn rows_failed(
        &mut self,
        event: &Event,
        table: &str,
        e: Error,
        start: RowsStart,
        out: &mut Vec<SourceEvent>,
    ) -> Result<()> {
        let mode = self.failure_mode;
        if mode == FailureMode::Fail {
            return Err(e);
        }
        out.truncate(start.out_len);
        if let (Some(t), Some(rows)) = (self.txn.as_mut(), start.txn_rows) {
            t.rows = rows;
        }
        self.skip_rows = start.skip_rows;
        let position = format!("{}:{}", self.file, self.here(event));
        let reason = e.to_string();
        if mode == FailureMode::Warn {
            tracing::warn!(%position, %table, %reason, "Rows event passed over: it cannot be decoded (events.failure_handling_mode = \"warn\"); none of its rows is sent.");
        } else {
            tracing::debug!(%position, %table, %reason, "Rows event passed over: it cannot be decoded (events.failure_handling_mode = \"skip\").");
        }
        let label = if mode == FailureMode::Warn {
            "warn"
        } else {
            "skip"
        };
        crate::metrics::event_failed(table, label);
        Ok(())
    }
}
