//! The consistent initial snapshot: every captured table read as `op = r` events from one
//! point in the log, after which streaming starts exactly at that point.
//!
//! Why it is consistent: `START TRANSACTION WITH CONSISTENT SNAPSHOT` pins an InnoDB read
//! view; on MariaDB the server reports the binlog coordinates of that very view in
//! `binlog_snapshot_file` / `binlog_snapshot_position`, so no global lock is needed. On
//! MySQL the coordinates are read while `FLUSH TABLES WITH READ LOCK` holds commits still
//! (`LOCK INSTANCE FOR BACKUP` would not: it lets row changes commit), and the lock is
//! released before any row is copied; without RELOAD the fallback locks the captured tables
//! with `LOCK TABLES … READ` for the same short moment (writes to other tables may then
//! commit meanwhile, which is harmless: they are not captured).
//!
//! Rows are streamed from the server in primary-key order (a server-side cursor over the
//! binary protocol), never a whole table in memory, and handed on in chunks of
//! `snapshot_fetch_size` for progress reporting. Tables already recorded as finished by an
//! interrupted snapshot are skipped.

use std::sync::Arc;
use std::time::Instant;

use crate::model::budget::EventTx;
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::SourceConfig;
use crate::error::{classify_mysql, Error, Result};
use crate::model::{
    BinlogPosition, Change, Flavor, GtidSet, NoticeType, Op, Position, Row, SnapshotMarker,
    SourceEvent, SourceOffset, TableDesc,
};
use crate::mysql::{self, ServerInfo};

mod convert;
mod pieces;
mod ranges;

pub use pieces::{copy, CopyPlan};

pub(crate) use convert::convert_row;

/// The consistent point and the open snapshot transaction.
pub struct SnapshotPoint {
    pub offset: SourceOffset,
    /// One connection per copy worker, all in a transaction at the same point.
    conns: Vec<Conn>,
}

fn q(e: mysql_async::Error) -> Error {
    classify_mysql(e, "")
}

/// Opens the snapshot transaction and finds its binlog coordinates.
/// Opens a connection set up for reading the snapshot (UTC, raw charset bytes, long
/// timeouts).
pub(crate) async fn snapshot_conn(cfg: &SourceConfig) -> Result<Conn> {
    let mut conn = mysql::connect(cfg).await?;
    for s in [
        "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "SET SESSION time_zone = '+00:00'",
        "SET SESSION character_set_results = NULL",
        "SET SESSION net_write_timeout = 3600",
        "SET SESSION max_execution_time = 0",
    ] {
        // max_execution_time does not exist on MariaDB; ignore only that one.
        if let Err(e) = conn.query_drop(s).await {
            if !s.contains("max_execution_time") {
                return Err(q(e));
            }
        }
    }
    Ok(conn)
}

/// MariaDB's binlog coordinates of this connection's consistent snapshot.
async fn mariadb_snapshot_position(conn: &mut Conn) -> Result<BinlogPosition> {
    let rows: Vec<(String, String)> = conn
        .query("SHOW STATUS LIKE 'binlog_snapshot_%'")
        .await
        .map_err(q)?;
    let get = |k: &str| {
        rows.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    let file = get("binlog_snapshot_file")
        .filter(|f| !f.is_empty())
        .ok_or_else(|| {
            Error::ServerSetup(
                "binlog_snapshot_file is empty: binary logging must be on (log_bin)".into(),
            )
        })?;
    let pos: u64 = get("binlog_snapshot_position")
        .and_then(|p| p.parse().ok())
        .unwrap_or(4);
    Ok(BinlogPosition::new(file, pos))
}

/// Opens the snapshot transaction(s) and finds their binlog coordinates.
///
/// With `parallelism` > 1, commits are held for a moment with `FLUSH TABLES WITH READ
/// LOCK` while every worker connection opens its consistent snapshot, so they all see the
/// same point; without the RELOAD privilege this falls back to one connection (MariaDB
/// needs no lock at all for a single snapshot connection).
pub async fn open(
    cfg: &SourceConfig,
    info: &ServerInfo,
    tables: &[TableDesc],
    parallelism: usize,
) -> Result<SnapshotPoint> {
    let workers = parallelism.clamp(1, expected_pieces(cfg, tables, parallelism).await?);
    if workers > 1 {
        let mut control = snapshot_conn(cfg).await?;
        let pending = async {
            let mut conns = Vec::with_capacity(workers);
            for _ in 0..workers {
                conns.push(snapshot_conn(cfg).await?);
            }
            Ok::<_, Error>(conns)
        }
        .await;
        if control
            .query_drop("FLUSH TABLES WITH READ LOCK")
            .await
            .is_ok()
        {
            let started = Instant::now();
            let opened = async {
                // Connected and set up before the lock; under it, each only opens its
                // transaction.
                let mut conns = pending?;
                for c in conns.iter_mut() {
                    c.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
                        .await
                        .map_err(q)?;
                }
                let offset = match info.flavor {
                    Flavor::Mariadb => SourceOffset {
                        binlog: mariadb_snapshot_position(&mut conns[0]).await?,
                        gtid_set: None,
                        skip_rows: 0,
                    },
                    Flavor::Mysql => {
                        let (pos, gtid) = mysql::current_position(&mut control, info).await?;
                        SourceOffset {
                            binlog: pos,
                            gtid_set: gtid.filter(|g: &GtidSet| !g.is_empty()),
                            skip_rows: 0,
                        }
                    }
                };
                Ok::<_, Error>((conns, offset))
            }
            .await;
            control.query_drop("UNLOCK TABLES").await.map_err(q)?;
            let _ = control.disconnect().await;
            let (conns, offset) = opened?;
            info!(
                workers,
                held_ms = started.elapsed().as_millis() as u64,
                offset = %offset,
                "Parallel snapshot transactions open at one point; lock released."
            );
            return Ok(SnapshotPoint { offset, conns });
        }
        warn!(
            "source.snapshot_parallelism = {parallelism} needs RELOAD (FLUSH TABLES WITH READ LOCK) \
             to give every connection the same point; snapshotting with one connection"
        );
        let _ = control.disconnect().await;
    }
    let mut conn = snapshot_conn(cfg).await?;
    let offset = match info.flavor {
        Flavor::Mariadb => {
            conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
                .await
                .map_err(q)?;
            SourceOffset {
                binlog: mariadb_snapshot_position(&mut conn).await?,
                gtid_set: None,
                skip_rows: 0,
            }
        }
        Flavor::Mysql => {
            let (locked, unlock) = lock_mysql(&mut conn, tables).await?;
            let started = Instant::now();
            let result = async {
                conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
                    .await
                    .map_err(q)?;
                mysql::current_position(&mut conn, info).await
            }
            .await;
            conn.query_drop(unlock).await.map_err(q)?;
            let (pos, gtid) = result?;
            info!(
                lock = locked,
                held_ms = started.elapsed().as_millis() as u64,
                "Snapshot point taken; lock released."
            );
            SourceOffset {
                binlog: pos,
                gtid_set: gtid.filter(|g: &GtidSet| !g.is_empty()),
                skip_rows: 0,
            }
        }
    };
    info!(offset = %offset, "Snapshot transaction open.");
    Ok(SnapshotPoint {
        offset,
        conns: vec![conn],
    })
}

/// How many pieces the snapshot will read at most, as far as it matters for `parallelism`
/// workers: one per table, plus the key ranges of tables estimated above
/// `snapshot_range_rows` (see [`ranges`]).
async fn expected_pieces(
    cfg: &SourceConfig,
    tables: &[TableDesc],
    parallelism: usize,
) -> Result<usize> {
    let n = tables.len().max(1);
    if parallelism <= n || cfg.snapshot_range_rows == 0 {
        return Ok(n);
    }
    let mut conn = pieces::side_conn(cfg).await?;
    let mut pieces = 0usize;
    for t in tables {
        if ranges::leading_int_key(t).is_none() {
            pieces += 1;
            continue;
        }
        let estimate = table_estimate(&mut conn, t).await?.unwrap_or(0);
        pieces += estimate.div_ceil(cfg.snapshot_range_rows).max(1) as usize;
        if pieces >= parallelism {
            break;
        }
    }
    let _ = conn.disconnect().await;
    Ok(pieces.max(1))
}

/// Takes the shortest lock MySQL allows for reading a consistent binlog position.
async fn lock_mysql(conn: &mut Conn, tables: &[TableDesc]) -> Result<(&'static str, String)> {
    if conn.query_drop("FLUSH TABLES WITH READ LOCK").await.is_ok() {
        return Ok(("FLUSH TABLES WITH READ LOCK", "UNLOCK TABLES".into()));
    }
    // Without RELOAD: lock only the captured tables, for the same moment.
    if tables.is_empty() {
        return Err(Error::ServerSetup(
            "cannot take a snapshot lock: grant RELOAD (or LOCK TABLES) to the CDC user".into(),
        ));
    }
    let list: Vec<String> = tables
        .iter()
        .map(|t| format!("`{}`.`{}` READ", t.db, t.name))
        .collect();
    conn.query_drop(format!("LOCK TABLES {}", list.join(", ")))
        .await
        .map_err(|e| Error::ServerSetup(format!("cannot lock the captured tables for the snapshot ({}); grant RELOAD or LOCK TABLES", q(e))))?;
    warn!("Snapshot uses LOCK TABLES on the captured tables (no RELOAD privilege); grant RELOAD for a global read lock instead.");
    Ok(("LOCK TABLES", "UNLOCK TABLES".into()))
}

pub(crate) fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// What every table copy shares.
struct CopyContext<'a> {
    offset: SourceOffset,
    file: Arc<str>,
    ts_ms: i64,
    fetch_size: usize,
    tx: &'a EventTx,
    shutdown: &'a CancellationToken,
    /// `[notifications]`: the initial snapshot's notifications, and the tables it reads
    /// (their `data_collections`).
    notices: Option<&'a crate::notify::Notices>,
    collections: String,
}

impl CopyContext<'_> {
    /// One snapshot row as an `op = r` change at the snapshot's point.
    fn read_change(&self, table: &Arc<TableDesc>, row: Row, marker: SnapshotMarker) -> Change {
        Change {
            table: table.clone(),
            op: Op::Read,
            before: None,
            after: Some(row),
            position: Position {
                file: self.file.clone(),
                pos: self.offset.binlog.pos,
                row: 0,
                gtid: None,
                txn_file: self.file.clone(),
                txn_pos: self.offset.binlog.pos,
                txn_row: 0,
                gtid_before: None,
            },
            ts_ms: self.ts_ms,
            snapshot: marker,
            thread: None,
            query: None,
            server_id: 0,
        }
    }

    /// A row of table `name` that could not be converted, naming the column and the point.
    fn row_error(&self, name: &str, (column, reason): (String, String)) -> Error {
        Error::Decode {
            table: name.to_string(),
            column,
            position: format!("snapshot of {name} at {}", self.offset.binlog),
            reason,
        }
    }

    /// Sends an event on, or `Shutdown` when the receiver is gone.
    async fn send(&self, event: SourceEvent) -> Result<()> {
        if self.tx.send(event).await.is_err() {
            return Err(Error::Shutdown);
        }
        Ok(())
    }

    /// An `Initial Snapshot` notification about `table` (`IN_PROGRESS` only when
    /// `notifications.in_progress`), with the snapshot's tables.
    async fn notify(&self, kind: NoticeType, mut data: Vec<(&str, String)>) -> Result<()> {
        let Some(n) = self.notices else {
            return Ok(());
        };
        if kind == NoticeType::InProgress && !n.in_progress() {
            return Ok(());
        }
        data.push(("data_collections", self.collections.clone()));
        self.send(n.initial(kind, data)).await
    }
}

/// The server's estimate of a table's row count (`information_schema.TABLES.TABLE_ROWS`).
async fn table_estimate(conn: &mut Conn, table: &TableDesc) -> Result<Option<u64>> {
    Ok(conn
        .exec_first(
            "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (table.db.as_str(), table.name.as_str()),
        )
        .await
        .map_err(q)?
        .flatten())
}

/// The SELECT that reads every column of a table (the rows matching `condition`, when
/// given), in primary-key order when it has one.
fn select_sql(table: &TableDesc, condition: Option<&str>) -> String {
    let cols: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
    let order = if table.primary_key.is_empty() {
        String::new()
    } else {
        let keys: Vec<String> = table
            .primary_key
            .iter()
            .map(|&i| quote(&table.columns[i].name))
            .collect();
        format!(" ORDER BY {}", keys.join(", "))
    };
    let filter = condition.map(|c| format!(" WHERE {c}")).unwrap_or_default();
    format!(
        "SELECT {} FROM {}.{}{}{}",
        cols.join(", "),
        quote(&table.db),
        quote(&table.name),
        filter,
        order
    )
}

/// Where a row stands in the whole snapshot (first/last of all, of its table, or inside).
/// A row that is both takes the rank Debezium gives it (`RelationalSnapshotChangeEventSource`):
/// last of the snapshot, then first of the snapshot, then last of its table, then first of
/// its table — so a table's only row is `last_in_data_collection`.
fn snapshot_marker(
    first_row: bool,
    is_end: bool,
    first_table: bool,
    last_table: bool,
) -> SnapshotMarker {
    if is_end && last_table {
        SnapshotMarker::Last
    } else if first_row && first_table {
        SnapshotMarker::First
    } else if is_end {
        SnapshotMarker::LastInDataCollection
    } else if first_row {
        SnapshotMarker::FirstInDataCollection
    } else {
        SnapshotMarker::True
    }
}

/// Progress of one table's copy: a bar on a terminal (stderr), a log line every 10 s
/// otherwise (rows done / estimated); the metrics are updated by the caller.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    table: String,
    estimate: u64,
    last_log: std::sync::Mutex<Instant>,
}

impl Progress {
    fn new(table: &str, estimate: u64) -> Self {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(estimate.max(1));
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} {bar:40} {pos}/~{len} rows {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_message(format!("snapshot {table}"));
            b
        });
        Self {
            bar,
            table: table.to_string(),
            estimate,
            last_log: std::sync::Mutex::new(Instant::now()),
        }
    }

    fn update(&self, rows: u64) {
        if let Some(b) = &self.bar {
            if rows > b.length().unwrap_or(0) {
                b.set_length(rows);
            }
            b.set_position(rows);
        }
        if let Ok(mut last) = self.last_log.lock() {
            if last.elapsed() >= std::time::Duration::from_secs(10) {
                *last = Instant::now();
                info!(table = %self.table, rows_done = rows, rows_estimated = self.estimate, "Snapshot in progress.");
            }
        }
    }

    fn finish(&self, rows: u64) {
        if let Some(b) = &self.bar {
            b.set_length(rows.max(1));
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod marker_tests {
    use super::*;

    #[test]
    fn ranks_as_debezium() {
        use SnapshotMarker::*;
        // (first_row, is_end, first_table, last_table)
        assert_eq!(snapshot_marker(true, true, true, true), Last);
        assert_eq!(snapshot_marker(true, false, true, true), First);
        assert_eq!(snapshot_marker(true, true, true, false), First);
        assert_eq!(
            snapshot_marker(true, true, false, false),
            LastInDataCollection
        );
        assert_eq!(
            snapshot_marker(true, false, false, false),
            FirstInDataCollection
        );
        assert_eq!(snapshot_marker(false, true, false, true), Last);
        assert_eq!(snapshot_marker(false, false, false, false), True);
    }
}
