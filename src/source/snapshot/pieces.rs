//! The copy itself: every table still to read is cut into pieces (the whole table, or its
//! key ranges, see [`super::ranges`]), which the worker connections take one at a time.
//!
//! Invariants:
//! - a piece's rows are queued before its worker counts the piece as done, so the
//!   `SnapshotTableDone` that the worker finishing a table's last piece sends comes after
//!   every row of the table (and a range's own done entry after every row of the range);
//! - the markers follow the order rows are queued in, not the order of the pieces: the first
//!   row queued for a table takes the table's first marker (claimed under a lock), and every
//!   piece holds back its last row, handing it on to the table's slot when it finishes — the
//!   worker that finishes the table's last piece queues the row in the slot last, with the
//!   table's last marker. With a single worker the pieces finish in order and nothing is
//!   held back: a range's done entry follows its last row directly.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::ranges::{self, KeyRange};
use super::{
    convert_row, q, quote, select_sql, snapshot_marker, table_estimate, CopyContext, Progress,
    SnapshotPoint,
};
use crate::config::SourceConfig;
use crate::error::{Error, Result};
use crate::metrics;
use crate::model::budget::EventTx;
use crate::model::{Row, SourceEvent, TableDesc};

/// What one snapshot run copies, besides the open snapshot itself.
pub struct CopyPlan<'a> {
    /// The source: `snapshot_fetch_size`, `snapshot_range_rows`, and a connection for the
    /// key spans of large tables.
    pub source: &'a SourceConfig,
    /// Finished items of an interrupted earlier attempt: tables (`db.table`) and ranges.
    pub done: &'a HashSet<String>,
    /// A SQL condition per table (`db.table`) that limits the rows read (a blocking
    /// snapshot's `additional-conditions`); empty for the initial snapshot.
    pub filters: &'a HashMap<String, String>,
}

/// One piece of work for a copy worker: a table, or one key range of it.
struct Piece {
    table: Arc<TableDesc>,
    range: Option<(String, KeyRange)>,
    shared: Arc<TableCopy>,
}

/// What the pieces of one table share.
struct TableCopy {
    /// The table's place among the tables read (for the snapshot-wide markers).
    first_table: bool,
    last_table: bool,
    progress: Progress,
    rows: AtomicU64,
    started: Instant,
    /// One worker reads every piece, in order (no row is held back).
    ordered: bool,
    /// The rows' filter (a SQL condition), if any.
    filter: Option<String>,
    /// Set once the table's first row is queued (with the first marker).
    first_sent: AtomicBool,
    first_lock: tokio::sync::Mutex<()>,
    ends: tokio::sync::Mutex<Ends>,
}

/// The pieces of a table still to finish, and the last row held back so far.
struct Ends {
    remaining: usize,
    /// A piece's last row, and the done entry of its range (queued after the row).
    held: Option<(Row, Option<String>)>,
}

/// Copies every table not in `plan.done` from the open snapshot, sending `Change`s with
/// `op = r`, a `SnapshotTableDone` after each key range (when the table is split) and after
/// each table. Returns the number of rows read.
pub async fn copy(
    point: SnapshotPoint,
    tables: Vec<Arc<TableDesc>>,
    plan: CopyPlan<'_>,
    tx: &EventTx,
    shutdown: &CancellationToken,
) -> Result<u64> {
    let SnapshotPoint { offset, conns } = point;
    let todo: Vec<Arc<TableDesc>> = tables
        .into_iter()
        .filter(|t| !plan.done.contains(&t.full_name()))
        .collect();
    let (pieces, finished) = split_tables(todo, &plan, conns.len() == 1).await?;
    let ctx = CopyContext {
        ts_ms: crate::model::now_ms(),
        file: Arc::from(offset.binlog.file.as_str()),
        offset,
        fetch_size: plan.source.snapshot_fetch_size,
        tx,
        shutdown,
    };
    // Every range of these was read by an earlier attempt: only the table's entry is
    // missing.
    for name in finished {
        ctx.send(SourceEvent::SnapshotTableDone { table: name })
            .await?;
        metrics::snapshot_table_done();
    }
    // Pieces are handed out one at a time to the worker connections, in table order.
    let queue = std::sync::Mutex::new(pieces);
    let workers = conns.into_iter().map(|mut conn| {
        let (ctx, queue) = (&ctx, &queue);
        async move {
            let mut total = 0u64;
            loop {
                let next = queue.lock().map(|mut q| q.pop_front()).unwrap_or(None);
                let Some(piece) = next else { break };
                total += copy_piece(&mut conn, piece, ctx).await?;
            }
            let _ = conn.query_drop("COMMIT").await;
            let _ = conn.disconnect().await;
            Ok::<u64, Error>(total)
        }
    });
    let totals = futures_util::future::try_join_all(workers).await?;
    Ok(totals.into_iter().sum())
}

/// A connection outside the snapshot transaction, for row estimates and key spans (which
/// need not be consistent with the snapshot: the outer ranges are open), so the snapshot
/// connections hold no metadata lock on a table before they read it. MySQL 8 caches
/// `TABLE_ROWS` for `information_schema_stats_expiry` seconds; the cache is bypassed.
pub(super) async fn side_conn(cfg: &SourceConfig) -> Result<Conn> {
    let mut conn = crate::mysql::connect(cfg).await?;
    // Not a MariaDB variable: ignored there.
    let _ = conn
        .query_drop("SET SESSION information_schema_stats_expiry = 0")
        .await;
    Ok(conn)
}

/// The pieces of every table to copy, in table order; the tables whose every range an
/// earlier attempt read (they need only their done entry).
async fn split_tables(
    todo: Vec<Arc<TableDesc>>,
    plan: &CopyPlan<'_>,
    ordered: bool,
) -> Result<(VecDeque<Piece>, Vec<String>)> {
    let mut conn = side_conn(plan.source).await?;
    let range_rows = plan.source.snapshot_range_rows;
    let mut splits = Vec::with_capacity(todo.len());
    let mut finished = Vec::new();
    for table in todo {
        let name = table.full_name();
        let estimate = table_estimate(&mut conn, &table).await?.unwrap_or(0);
        metrics::snapshot_estimate(&name, estimate);
        let split = ranges::split(&mut conn, &table, estimate, range_rows, plan.done).await?;
        match split.pieces.len() {
            0 => finished.push(name),
            n => {
                if n > 1 || split.pieces.iter().any(Option::is_some) {
                    info!(table = %name, ranges = n, estimated_rows = estimate, "Table split into key ranges for the snapshot.");
                }
                splits.push((table, estimate, split));
            }
        }
    }
    let _ = conn.disconnect().await;
    let n_tables = splits.len();
    let mut pieces = VecDeque::new();
    for (ti, (table, estimate, split)) in splits.into_iter().enumerate() {
        let shared = Arc::new(TableCopy {
            first_table: ti == 0,
            last_table: ti + 1 == n_tables,
            progress: Progress::new(&table.full_name(), estimate),
            rows: 0.into(),
            started: Instant::now(),
            ordered,
            filter: plan.filters.get(&table.full_name()).cloned(),
            first_sent: false.into(),
            first_lock: Default::default(),
            ends: tokio::sync::Mutex::new(Ends {
                remaining: split.pieces.len(),
                held: None,
            }),
        });
        let column = split.column.unwrap_or_default();
        for range in split.pieces {
            pieces.push_back(Piece {
                table: table.clone(),
                range: range.map(|r| (column.clone(), r)),
                shared: shared.clone(),
            });
        }
    }
    Ok((pieces, finished))
}

/// Streams one piece in primary-key order as `op = r` changes; then the range's done entry,
/// and the table's once its last piece is done.
async fn copy_piece(conn: &mut Conn, piece: Piece, ctx: &CopyContext<'_>) -> Result<u64> {
    let Piece {
        table,
        range,
        shared,
    } = piece;
    let name = table.full_name();
    let estimate = shared.progress.estimate;
    match &range {
        None => info!(table = %name, estimated_rows = estimate, "Snapshot of table started."),
        Some((_, r)) => {
            info!(table = %name, range = %r, estimated_rows = estimate, "Snapshot of range started.")
        }
    }
    let condition = range.as_ref().and_then(|(c, r)| r.condition(&quote(c)));
    let condition = match (condition, &shared.filter) {
        (Some(r), Some(f)) => Some(format!("({r}) AND ({f})")),
        (r, f) => r.or_else(|| f.as_ref().map(|f| format!("({f})"))),
    };
    let sql = select_sql(&table, condition.as_deref());
    let mut result = conn.exec_iter(sql, ()).await.map_err(q)?;
    let mut pending: Option<Row> = None;
    let (mut rows, mut since_report) = (0u64, 0u64);
    loop {
        if ctx.shutdown.is_cancelled() {
            return Err(Error::Shutdown);
        }
        let Some(row) = result.next().await.map_err(q)? else {
            break;
        };
        let row = convert_row(&table, row.unwrap_raw()).map_err(|e| ctx.row_error(&name, e))?;
        rows += 1;
        if let Some(prev) = pending.replace(row) {
            send_row(ctx, &table, &shared, prev, false).await?;
            since_report += 1;
            if since_report as usize >= ctx.fetch_size {
                metrics::snapshot_rows(&name, since_report);
                let total = shared.rows.fetch_add(since_report, Ordering::Relaxed) + since_report;
                shared.progress.update(total);
                since_report = 0;
            }
        }
    }
    drop(result);
    let unreported = since_report + pending.is_some() as u64;
    metrics::snapshot_rows(&name, unreported);
    shared.rows.fetch_add(unreported, Ordering::AcqRel);
    let entry = range.as_ref().map(|(column, r)| {
        info!(table = %name, range = %r, rows, "Snapshot of range finished.");
        r.done_entry(&name, column)
    });
    finish_piece(ctx, &table, &shared, pending, entry).await?;
    Ok(rows)
}

/// Counts a piece as done. Its held last row goes into the table's slot, and the row the
/// slot held before is queued, followed by the done entry of that row's range (a range is
/// recorded only once all its rows are queued). The table's last piece queues the slot's
/// row with the table's last marker and reports the table as done.
async fn finish_piece(
    ctx: &CopyContext<'_>,
    table: &Arc<TableDesc>,
    shared: &TableCopy,
    held: Option<Row>,
    range_entry: Option<String>,
) -> Result<()> {
    let mut ends = shared.ends.lock().await;
    ends.remaining -= 1;
    let last = ends.remaining == 0;
    if shared.ordered {
        // One worker reads the pieces in order: the last piece is the last one finished,
        // and nothing is held back (so a range's rows and its entry stay together, which
        // exactly-once delivery needs for a commit after the entry).
        if let Some(row) = held {
            send_row(ctx, table, shared, row, last).await?;
        }
        if let (Some(entry), false) = (range_entry, last) {
            ctx.send(SourceEvent::SnapshotTableDone { table: entry })
                .await?;
        }
        return match last {
            true => table_done(ctx, table, shared).await,
            false => Ok(()),
        };
    }
    let before = match held {
        Some(row) => ends
            .held
            .replace((row, range_entry))
            .map(|(row, entry)| (Some(row), entry)),
        // Nothing held back: the range is complete as it is.
        None => range_entry.map(|e| (None, Some(e))),
    };
    if let Some((row, entry)) = before {
        if let Some(row) = row {
            send_row(ctx, table, shared, row, false).await?;
        }
        if let Some(entry) = entry {
            ctx.send(SourceEvent::SnapshotTableDone { table: entry })
                .await?;
        }
    }
    if !last {
        return Ok(());
    }
    // The table's entry replaces its ranges' entries, so the last range needs none.
    if let Some((row, _)) = ends.held.take() {
        send_row(ctx, table, shared, row, true).await?;
    }
    table_done(ctx, table, shared).await
}

/// Logs a finished table and queues its done entry.
async fn table_done(
    ctx: &CopyContext<'_>,
    table: &Arc<TableDesc>,
    shared: &TableCopy,
) -> Result<()> {
    let name = table.full_name();
    let rows = shared.rows.load(Ordering::Acquire);
    shared.progress.finish(rows);
    let secs = shared.started.elapsed().as_secs_f64();
    info!(table = %name, rows, seconds = format!("{secs:.1}"), rows_per_sec = (rows as f64 / secs.max(1e-9)) as u64, "Snapshot of table finished.");
    ctx.send(SourceEvent::SnapshotTableDone { table: name })
        .await?;
    metrics::snapshot_table_done();
    Ok(())
}

/// Queues one row of `table`: the first row queued for the table takes its first marker,
/// `table_end` its last.
async fn send_row(
    ctx: &CopyContext<'_>,
    table: &Arc<TableDesc>,
    shared: &TableCopy,
    row: Row,
    table_end: bool,
) -> Result<()> {
    let marker = |first| snapshot_marker(first, table_end, shared.first_table, shared.last_table);
    if !shared.first_sent.load(Ordering::Acquire) {
        let _first = shared.first_lock.lock().await;
        if !shared.first_sent.load(Ordering::Acquire) {
            let change = ctx.read_change(table, row, marker(true));
            ctx.send(SourceEvent::Change(Box::new(change))).await?;
            shared.first_sent.store(true, Ordering::Release);
            return Ok(());
        }
    }
    let change = ctx.read_change(table, row, marker(false));
    ctx.send(SourceEvent::Change(Box::new(change))).await
}
