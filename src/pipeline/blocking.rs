//! Blocking snapshots (`execute-snapshot` with `type = "blocking"`, `rowtide snapshot
//! --blocking`), in the signal relay: the requested tables are read at one consistent point
//! Q exactly as the initial snapshot reads them ([`crate::source::snapshot`]: a
//! consistent-snapshot transaction and the binlog position that belongs to it — on MariaDB
//! `binlog_snapshot_file/position`, the read view's own coordinates), their rows go out as
//! `op = r` events with the initial snapshot's `source.snapshot` markers (`first`, `true`,
//! `last`, …: Debezium's blocking snapshot runs its initial-snapshot code) at
//! `source.file/pos` = Q, while the stream waits; then streaming resumes.
//!
//! The seam. The signal is read at P. The snapshot transaction is opened at once, so Q is
//! where the server stands then (Q ≥ P), a transaction boundary. The stream is relayed as
//! usual — every table, the snapshotted ones included — up to Q: until the commit that ends
//! at Q, or the first event of a transaction that begins at or after it. Only then are the
//! rows read from the open transaction (its read view stays at Q) and emitted, while the
//! binlog reader blocks on backpressure; then relaying resumes with the first event at or
//! after Q. So a consumer sees every change before Q, then the tables' state at Q, then
//! every change from Q on: no change is missing, none is emitted after the rows that
//! already contain it, and deletes between P and Q are not lost (a snapshot cannot show
//! that a row is gone, so dropping changes before Q instead would lose them). A transaction
//! is never split: Q lies between transactions, and the decision is taken on a
//! transaction's first position.
//!
//! Crashes. The request (signal id, tables, filters) reaches the checkpoint, with the
//! signal counted as taken, before anything after P is relayed; it is cleared by the
//! progress event that follows the snapshot's last row, so only once every row is
//! acknowledged. A crash or `kill -9` before the request is recorded reads the signal again
//! after the restart; after it, the restart takes the snapshot again from the start at a new
//! point (changes since the checkpoint and the rows repeat: at-least-once, nothing lost).
//!
//! Exactly-once delivery is refused: snapshot rows carry no checkpoint mark, so the whole
//! snapshot would be one Kafka transaction of unbounded size (and a crash could not resume
//! it: its read view is gone). The signal is logged and skipped; an incremental snapshot,
//! whose chunks are bounded, is the way there.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::snapshot_ddl::DdlSnapshot;
use crate::config::{Config, Delivery};
use crate::error::{Error, Result};
use crate::metrics;
use crate::model::budget::EventTx;
use crate::model::{BinlogPosition, BlockingRequest, Filter, NoticeType, SourceEvent, TableDesc};
use crate::notify::Notices;
use crate::signal::Condition;
use crate::source::snapshot::{self, SnapshotPoint};

/// A blocking snapshot whose transaction is open at its point, waiting for the stream to
/// reach that point.
pub(super) struct Open {
    pub request: BlockingRequest,
    point: SnapshotPoint,
    tables: Vec<Arc<TableDesc>>,
    started: Instant,
}

impl Open {
    /// The snapshot's point, Q.
    pub fn until(&self) -> &BinlogPosition {
        &self.point.offset.binlog
    }
}

/// Whether `ev` lies at or after `q`: a change or DDL of a transaction that began there or
/// later, a commit or heartbeat beyond it. Such an event is relayed only after the rows.
pub(super) fn beyond(ev: &SourceEvent, q: &BinlogPosition) -> bool {
    let at_or_after = |file: &str, pos: u64| {
        // Another server's log cannot be ordered against Q: it is not before it.
        !matches!(
            BinlogPosition::new(file, pos).try_cmp(q),
            Some(Ordering::Less)
        )
    };
    match ev {
        SourceEvent::Change(c) | SourceEvent::Skipped(c) => {
            at_or_after(&c.position.txn_file, c.position.txn_pos)
        }
        SourceEvent::SchemaChange(s) => at_or_after(&s.position.txn_file, s.position.txn_pos),
        // A commit names the position after its transaction: the last one before Q ends
        // exactly at Q.
        SourceEvent::Commit { offset, .. }
        | SourceEvent::Heartbeat {
            offset: Some(offset),
            ..
        } => !matches!(
            offset.binlog.try_cmp(q),
            Some(Ordering::Less | Ordering::Equal)
        ),
        _ => false,
    }
}

/// Whether the stream, having relayed everything up to `relayed` (a commit's end), has
/// reached `q`.
pub(super) fn reached(relayed: Option<&BinlogPosition>, q: &BinlogPosition) -> bool {
    relayed.is_some_and(|r| matches!(r.try_cmp(q), Some(Ordering::Greater | Ordering::Equal)))
}

/// The request of an `execute-snapshot` signal with `type = "blocking"`: the captured
/// tables it names (others are logged and left out) and their filters. `None` when it
/// cannot be taken (logged).
pub(super) fn request(
    cfg: &Config,
    filter: &Filter,
    id: &str,
    tables: &[String],
    conditions: &[Condition],
) -> Option<BlockingRequest> {
    if cfg.sink.delivery == Delivery::ExactlyOnce {
        error!(signal = %id, "Blocking snapshot refused: with sink.delivery = \"exactly_once\" its rows would form one Kafka transaction of unbounded size that a crash could not resume; send an incremental snapshot instead (rowtide snapshot without --blocking).");
        return None;
    }
    let signals = cfg.signals.table_parts().map(|(d, t)| format!("{d}.{t}"));
    let mut seen = HashSet::new();
    let mut names = Vec::new();
    for table in tables {
        let Some((db, name)) = table.split_once('.') else {
            warn!(signal = %id, %table, "Blocking snapshot of a table not named db.table skipped.");
            continue;
        };
        if !filter.captures(db, name) {
            warn!(signal = %id, %table, "Blocking snapshot of a table rowtide does not capture refused: add it to source.include first.");
            continue;
        }
        if signals
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(table))
        {
            warn!(signal = %id, %table, "The signal table is not read by a blocking snapshot.");
            continue;
        }
        if seen.insert(table.to_ascii_lowercase()) {
            names.push(table.clone());
        }
    }
    if names.is_empty() {
        warn!(signal = %id, "Blocking snapshot skipped: no captured table to read.");
        return None;
    }
    let filters = names
        .iter()
        .filter_map(|t| {
            let c = conditions
                .iter()
                .find(|c| c.table.eq_ignore_ascii_case(t))?;
            Some((t.clone(), c.filter.clone()))
        })
        .collect();
    Some(BlockingRequest {
        signal: id.to_string(),
        tables: names,
        filters,
    })
}

/// Opens the snapshot transaction of `request` at the server's current point. `Ok(None)`
/// when none of its tables exists, or it failed for good (logged: the request is dropped);
/// an error when the pipeline must restart (the request is then taken again).
pub(super) async fn open(cfg: &Config, request: BlockingRequest) -> Result<Option<Open>> {
    let id = request.signal.clone();
    match open_point(cfg, request).await {
        Ok(open) => Ok(open),
        Err(e) => settle(&id, e),
    }
}

async fn open_point(cfg: &Config, request: BlockingRequest) -> Result<Option<Open>> {
    let patterns: Vec<String> = request
        .tables
        .iter()
        .filter_map(|t| t.split_once('.'))
        .map(|(d, n)| format!("{}\\.{}", regex::escape(d), regex::escape(n)))
        .collect();
    let only = Filter::new(&patterns, &[]).map_err(|e| Error::Config(e.to_string()))?;
    let mut conn = crate::mysql::connect(&cfg.source).await?;
    let info = crate::mysql::server_info(&mut conn, cfg.source.flavor).await?;
    let mut tables = crate::mysql::schema::load_tables(&mut conn, &only).await?;
    let ddl = DdlSnapshot::new(crate::mysql::schema::snapshot_ddl(&mut conn, &tables, true).await?);
    let _ = conn.disconnect().await;
    ddl.complete(&mut tables);
    for n in &request.tables {
        if !tables.iter().any(|t| t.full_name().eq_ignore_ascii_case(n)) {
            error!(signal = %request.signal, table = %n, "Blocking snapshot of table refused: no such table.");
        }
    }
    if tables.is_empty() {
        return Ok(None);
    }
    let point =
        snapshot::open(&cfg.source, &info, &tables, cfg.source.snapshot_parallelism).await?;
    metrics::snapshot_started(tables.len(), tables.len());
    info!(signal = %request.signal, tables = %request.tables.join(","), point = %point.offset.binlog,
          filtered = request.filters.len(), "Blocking snapshot started; the stream is relayed up to its point.");
    Ok(Some(Open {
        request,
        point,
        tables: tables.into_iter().map(Arc::new).collect(),
        started: Instant::now(),
    }))
}

/// The stream reached the snapshot's point: its rows are read and queued on `out` (the
/// stream waits meanwhile). Errors as [`open`].
pub(super) async fn copy(
    open: Open,
    cfg: &Config,
    out: &EventTx,
    stop: &CancellationToken,
) -> Result<()> {
    let Open {
        request,
        point,
        tables,
        started,
    } = open;
    let q = point.offset.binlog.clone();
    info!(signal = %request.signal, point = %q, "Blocking snapshot: the stream reached its point and waits while the rows are read.");
    let filters: HashMap<String, String> = request.filters.clone().into_iter().collect();
    // Debezium's blocking snapshot runs its initial-snapshot code, notifications included:
    // `Initial Snapshot` STARTED, IN_PROGRESS/TABLE_SCAN_COMPLETED per table, then
    // COMPLETED or ABORTED.
    let notices = Notices::new(cfg);
    let notice = |kind| notices.as_ref().map(|n| n.initial(kind, vec![]));
    if let Some(n) = notice(NoticeType::Started) {
        out.send(n).await.map_err(|_| Error::Shutdown)?;
    }
    let plan = snapshot::CopyPlan {
        source: &cfg.source,
        done: &HashSet::new(),
        filters: &filters,
        notices: notices.as_ref(),
    };
    match snapshot::copy(point, tables, plan, out, stop).await {
        Ok(rows) => {
            metrics::snapshot_ended(true);
            if let Some(n) = notice(NoticeType::Completed) {
                out.send(n).await.map_err(|_| Error::Shutdown)?;
            }
            info!(signal = %request.signal, tables = %request.tables.join(","), rows,
                  seconds = format!("{:.1}", started.elapsed().as_secs_f64()),
                  point = %q, "Blocking snapshot finished; streaming resumes.");
            Ok(())
        }
        Err(e) => {
            metrics::snapshot_ended(false);
            if let (Some(n), false) = (notice(NoticeType::Aborted), matches!(e, Error::Shutdown)) {
                // Best effort: the snapshot failed.
                let _ = out.send(n).await;
            }
            settle(&request.signal, e).map(|_: Option<()>| ())
        }
    }
}

/// A failed blocking snapshot: an error to restart on (transient, shutdown), or logged and
/// dropped (a bad filter, a missing grant), as Debezium does.
fn settle<T>(id: &str, e: Error) -> Result<Option<T>> {
    if matches!(e, Error::Shutdown) || e.is_transient() {
        warn!(signal = %id, error = %e, "Blocking snapshot interrupted; it is taken again from the start after the restart.");
        return Err(e);
    }
    error!(signal = %id, error = %e, "Blocking snapshot failed; the signal is dropped and streaming resumes (rows already sent stay sent). Fix the cause and send the signal again.");
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Change, Op, Position, SourceOffset};

    fn q() -> BinlogPosition {
        BinlogPosition::new("bin.000002", 1000)
    }

    fn change(file: &str, txn_pos: u64, pos: u64) -> SourceEvent {
        let t = TableDesc {
            db: "db".into(),
            name: "a".into(),
            columns: vec![],
            primary_key: vec![],
            charset_name: None,
            comment: None,
        };
        SourceEvent::Change(Box::new(Change {
            table: Arc::new(t),
            op: Op::Update,
            before: None,
            after: None,
            position: Position {
                file: file.into(),
                pos,
                txn_file: file.into(),
                txn_pos,
                ..Default::default()
            },
            ts_ms: 0,
            snapshot: Default::default(),
            thread: None,
            query: None,
            server_id: 1,
        }))
    }

    fn commit(file: &str, pos: u64) -> SourceEvent {
        SourceEvent::Commit {
            offset: SourceOffset {
                binlog: BinlogPosition::new(file, pos),
                gtid_set: None,
                skip_rows: 0,
            },
            ts_ms: 0,
        }
    }

    /// The transaction's first position decides: a transaction that began before Q is
    /// relayed before the rows in full (even a rows event after Q, which a real boundary
    /// cannot have); its commit may end exactly at Q.
    #[test]
    fn the_transaction_start_decides() {
        let q = q();
        assert!(!beyond(&change("bin.000002", 900, 950), &q));
        assert!(!beyond(&change("bin.000002", 900, 1100), &q));
        assert!(!beyond(&change("bin.000001", 90_000, 90_100), &q));
        assert!(!beyond(&commit("bin.000002", 1000), &q));
        assert!(beyond(&commit("bin.000002", 1001), &q));
        assert!(beyond(&change("bin.000002", 1000, 1050), &q));
        assert!(beyond(&change("bin.000003", 4, 300), &q));
        assert!(!beyond(
            &SourceEvent::SnapshotTableDone {
                table: "db.a".into()
            },
            &q
        ));
        // Another server's log is not held back forever.
        assert!(beyond(&change("other", 5, 6), &q));
    }

    /// Only captured tables other than the signal table are read, once each, with their
    /// filters; exactly-once delivery refuses the request.
    #[test]
    fn requests_keep_captured_tables_and_refuse_exactly_once() {
        let mut cfg = Config::default();
        cfg.signals.table = Some("db.sig".into());
        let filter = Filter::new(&["db\\..*".to_string()], &[]).unwrap();
        let tables: Vec<String> = ["db.a", "DB.A", "other.x", "db.sig", "nodot", "db.b"]
            .map(String::from)
            .into();
        let conditions = [Condition {
            table: "DB.B".into(),
            filter: "id > 3".into(),
        }];
        let req = request(&cfg, &filter, "s1", &tables, &conditions).unwrap();
        assert_eq!(req.signal, "s1");
        assert_eq!(req.tables, vec!["db.a".to_string(), "db.b".to_string()]);
        assert_eq!(
            req.filters.into_iter().collect::<Vec<_>>(),
            vec![("db.b".to_string(), "id > 3".to_string())]
        );
        assert!(request(&cfg, &filter, "s2", &["other.x".to_string()], &[]).is_none());
        cfg.sink.delivery = Delivery::ExactlyOnce;
        assert!(request(&cfg, &filter, "s3", &tables, &conditions).is_none());
    }

    #[test]
    fn the_point_is_reached_by_the_commit_that_ends_there() {
        let q = q();
        assert!(!reached(None, &q));
        assert!(!reached(Some(&BinlogPosition::new("bin.000002", 999)), &q));
        assert!(reached(Some(&BinlogPosition::new("bin.000002", 1000)), &q));
        assert!(reached(Some(&BinlogPosition::new("bin.000003", 4)), &q));
    }
}
