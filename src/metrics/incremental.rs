//! Incremental snapshot metrics (Debezium's `SnapshotMetrics` for incremental snapshots:
//! remaining tables, chunks, rows, the current window, paused).

use metrics::{counter, gauge};

pub const TABLES_REMAINING: &str = "rowtide_incremental_snapshot_tables_remaining";
pub const CHUNKS: &str = "rowtide_incremental_snapshot_chunks_total";
pub const ROWS: &str = "rowtide_incremental_snapshot_rows_total";
pub const WINDOW_OPEN: &str = "rowtide_incremental_snapshot_window_open";
pub const PAUSED: &str = "rowtide_incremental_snapshot_paused";

/// The state after a progress step: tables remaining (current included) and paused.
pub fn state(tables_remaining: usize, paused: bool) {
    gauge!(TABLES_REMAINING).set(tables_remaining as f64);
    gauge!(PAUSED).set(if paused { 1.0 } else { 0.0 });
}

/// A chunk of `table` was emitted with `rows` rows (those the stream did not supersede).
pub fn chunk(table: &str, rows: u64) {
    counter!(CHUNKS, "table" => table.to_string()).increment(1);
    counter!(ROWS, "table" => table.to_string()).increment(rows);
}

/// The stream is inside a chunk's window (between its low and high watermark).
pub fn window(open: bool) {
    gauge!(WINDOW_OPEN).set(if open { 1.0 } else { 0.0 });
}
