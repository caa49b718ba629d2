//! Incremental snapshot metrics (Debezium's `SnapshotMetrics` for incremental snapshots:
//! remaining tables, chunks, rows, the current window, paused; and the current table, how
//! far it is read, and when the last chunk came).
//!
//! Invariant: the gauges describe the relay's progress as last handed to the checkpoint
//! (`state`, `table`): after a restart they start from the checkpoint's progress, while the
//! counters (`chunk`) count what this process emitted.

use std::sync::Mutex;

use metrics::{counter, gauge};

pub const TABLES_REMAINING: &str = "rowtide_incremental_snapshot_tables_remaining";
pub const CHUNKS: &str = "rowtide_incremental_snapshot_chunks_total";
pub const ROWS: &str = "rowtide_incremental_snapshot_rows_total";
pub const WINDOW_OPEN: &str = "rowtide_incremental_snapshot_window_open";
pub const PAUSED: &str = "rowtide_incremental_snapshot_paused";
/// 1 for the table being read (label `table`); the label of a finished one is set to 0.
pub const CURRENT_TABLE: &str = "rowtide_incremental_snapshot_current_table";
/// Chunks and rows of the current table so far (from the checkpoint after a restart).
pub const TABLE_CHUNKS: &str = "rowtide_incremental_snapshot_table_chunks";
pub const TABLE_ROWS: &str = "rowtide_incremental_snapshot_table_rows";
/// The last key read over the table's largest key, for integer keys (0 to 1).
pub const KEY_PROGRESS: &str = "rowtide_incremental_snapshot_key_progress_ratio";
/// When the last chunk was emitted (Unix seconds).
pub const LAST_CHUNK: &str = "rowtide_incremental_snapshot_last_chunk_timestamp_seconds";

/// The table whose `CURRENT_TABLE` label is 1.
static CURRENT: Mutex<Option<String>> = Mutex::new(None);

/// The state after a progress step: tables remaining (current included) and paused.
pub fn state(tables_remaining: usize, paused: bool) {
    gauge!(TABLES_REMAINING).set(tables_remaining as f64);
    gauge!(PAUSED).set(if paused { 1.0 } else { 0.0 });
}

/// The current table (`None`: none is being read), its chunks and rows so far, and how far
/// its key is (integer keys).
pub fn table(current: Option<&str>, chunks: u64, rows: u64, key_progress: Option<f64>) {
    if let Ok(mut was) = CURRENT.lock() {
        if was.as_deref() != current {
            if let Some(old) = was.take() {
                gauge!(CURRENT_TABLE, "table" => old).set(0.0);
            }
            if let Some(t) = current {
                gauge!(CURRENT_TABLE, "table" => t.to_string()).set(1.0);
            }
            *was = current.map(str::to_string);
        }
    }
    gauge!(TABLE_CHUNKS).set(chunks as f64);
    gauge!(TABLE_ROWS).set(rows as f64);
    gauge!(KEY_PROGRESS).set(key_progress.unwrap_or(0.0).clamp(0.0, 1.0));
}

/// A chunk of `table` was emitted with `rows` rows (those the stream did not supersede).
pub fn chunk(table: &str, rows: u64) {
    counter!(CHUNKS, "table" => table.to_string()).increment(1);
    counter!(ROWS, "table" => table.to_string()).increment(rows);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    gauge!(LAST_CHUNK).set(now);
}

/// The stream is inside a chunk's window (between its low and high watermark).
pub fn window(open: bool) {
    gauge!(WINDOW_OPEN).set(if open { 1.0 } else { 0.0 });
}
