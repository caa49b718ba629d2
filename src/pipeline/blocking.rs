//! Blocking snapshots (`execute-snapshot` with `type = "blocking"`, `rowtide snapshot
//! --blocking`), in the signal relay: the stream stops being relayed at the signal, the
//! requested tables are read at one consistent point Q exactly as the initial snapshot reads
//! them ([`crate::source::snapshot`]: a consistent-snapshot transaction and the binlog
//! position that belongs to it — on MariaDB `binlog_snapshot_file/position`, the read
//! view's own coordinates), their rows go out as `op = r` events with the initial
//! snapshot's `source.snapshot` markers (`first`, `true`, `last`, …, as Debezium's blocking
//! snapshot, which runs its initial-snapshot code, emits them) at `source.file/pos` = Q,
//! and then relaying resumes.
//!
//! The seam. While the snapshot runs the binlog reader blocks on backpressure, somewhere
//! between the signal (P) and Q. Q is a transaction boundary (the server reports where the
//! next transaction will begin), so every transaction began either before Q — its changes
//! of the snapshotted tables are already in the snapshot's rows and are dropped — or at or
//! after Q — emitted. The decision is taken on the transaction's first position, so one
//! transaction is never split across the seam; changes of every other table between P and
//! Q are emitted as usual (after the snapshot's rows), as are DDL, commits and heartbeats.
//! The seam ends with the first event at or after Q.
//!
//! Crashes. Nothing of the snapshot is recorded until its rows are acknowledged: the seam
//! (Q and the tables) and the signal's id reach the checkpoint with the progress event that
//! follows the last row, and the checkpoint stays before the signal until then (nothing
//! after the signal was relayed). A crash or `kill -9` during the snapshot therefore reads
//! the signal again after the restart and takes the whole snapshot again (its rows repeat:
//! at-least-once, nothing lost); a crash after it resumes with the stored seam, so the
//! changes the snapshot contains are still not emitted again, and the signal, recognised by
//! its id, is not taken twice.
//!
//! Exactly-once delivery is refused: snapshot rows carry no checkpoint mark, so the whole
//! snapshot would be one Kafka transaction of unbounded size (and one restart point that
//! cannot be resumed from: the read view is gone after a crash). The signal is logged and
//! skipped; an incremental snapshot, whose chunks are bounded, is the way there.

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
use crate::model::{BinlogPosition, BlockingSeam, Filter, SourceEvent, TableDesc};
use crate::signal::Condition;
use crate::source::snapshot;

/// What the relay does with an event while seams are open.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Sifted {
    /// Contained in a snapshot: not emitted.
    pub drop: bool,
    /// A seam closed: the progress is to be recorded (before the event, if emitted).
    pub ended: bool,
}

/// Decides `ev` against the open `seams`, closing those the stream has passed.
pub(super) fn sift(seams: &mut Vec<BlockingSeam>, ev: &SourceEvent) -> Sifted {
    let before = seams.len();
    let mut drop = false;
    seams.retain(|s| match place(s, ev) {
        Place::Covered => {
            drop = true;
            true
        }
        Place::Before => true,
        Place::Past => {
            info!(point = %s.until, tables = %s.tables.join(","), "Stream passed the blocking snapshot's point: its tables' changes are emitted again.");
            false
        }
    });
    Sifted {
        drop,
        ended: seams.len() < before,
    }
}

/// Where a relayed event stands relative to a seam.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Place {
    /// A change of a snapshotted table in a transaction that began before the point: the
    /// snapshot holds it.
    Covered,
    /// Before the point, but not covered (another table, a commit, DDL, a heartbeat).
    Before,
    /// At or after the point: the seam is over.
    Past,
}

/// Where `ev` stands relative to `seam`.
pub(super) fn place(seam: &BlockingSeam, ev: &SourceEvent) -> Place {
    let at = |file: &str, pos: u64| {
        match BinlogPosition::new(file, pos).try_cmp(&seam.until) {
            Some(Ordering::Less) => Some(false),
            Some(_) => Some(true),
            // Another server's log: the seam cannot apply to it.
            None => None,
        }
    };
    match ev {
        SourceEvent::Change(c) => match at(&c.position.txn_file, c.position.txn_pos) {
            Some(false) if covers(seam, &c.table) => Place::Covered,
            Some(false) => Place::Before,
            _ => Place::Past,
        },
        // A commit names the position after its transaction: the last transaction before
        // the point ends exactly at it.
        SourceEvent::Commit { offset, .. } => match offset.binlog.try_cmp(&seam.until) {
            Some(Ordering::Greater) | None => Place::Past,
            _ => Place::Before,
        },
        _ => Place::Before,
    }
}

fn covers(seam: &BlockingSeam, t: &TableDesc) -> bool {
    let name = t.full_name();
    seam.tables.iter().any(|s| s.eq_ignore_ascii_case(&name))
}

/// What a blocking snapshot request turned into.
pub(super) enum Outcome {
    /// The rows were queued; the seam to apply from now on.
    Done(BlockingSeam),
    /// Nothing was (or could be) read: logged; the stream goes on unchanged.
    Skipped,
}

/// One blocking snapshot request.
pub(super) struct Request<'a> {
    pub id: &'a str,
    pub tables: Vec<String>,
    pub conditions: &'a [Condition],
}

/// Takes the blocking snapshot `req` asks for, queueing its rows on `out`. Returns an error
/// only when the pipeline must restart (a transient failure: the snapshot is taken again)
/// or stop; a snapshot that fails for good (a bad filter, a missing grant) is logged and
/// skipped, as Debezium does.
pub(super) async fn take(
    cfg: &Config,
    filter: &Filter,
    req: Request<'_>,
    out: &EventTx,
    stop: &CancellationToken,
) -> Result<Outcome> {
    let id = req.id;
    if cfg.sink.delivery == Delivery::ExactlyOnce {
        error!(signal = %id, "Blocking snapshot refused: with sink.delivery = \"exactly_once\" its rows would form one Kafka transaction of unbounded size that a crash could not resume; send an incremental snapshot instead (rowtide snapshot without --blocking).");
        return Ok(Outcome::Skipped);
    }
    let names = requested(cfg, filter, id, &req.tables);
    if names.is_empty() {
        warn!(signal = %id, "Blocking snapshot skipped: no captured table to read.");
        return Ok(Outcome::Skipped);
    }
    let filters: HashMap<String, String> = names
        .iter()
        .filter_map(|t| {
            let c = req
                .conditions
                .iter()
                .find(|c| c.table.eq_ignore_ascii_case(t))?;
            Some((t.clone(), c.filter.clone()))
        })
        .collect();
    let started = Instant::now();
    match copy(cfg, id, &names, &filters, out, stop).await {
        Ok(Some((seam, rows))) => {
            metrics::snapshot_ended(true);
            info!(signal = %id, tables = %seam.tables.join(","), rows,
                  seconds = format!("{:.1}", started.elapsed().as_secs_f64()),
                  point = %seam.until, "Blocking snapshot finished; streaming resumes.");
            Ok(Outcome::Done(seam))
        }
        Ok(None) => Ok(Outcome::Skipped),
        Err(e) => {
            metrics::snapshot_ended(false);
            if matches!(e, Error::Shutdown) || e.is_transient() || stop.is_cancelled() {
                warn!(signal = %id, error = %e, "Blocking snapshot interrupted; it is taken again from the start after the restart.");
                return Err(e);
            }
            error!(signal = %id, error = %e, "Blocking snapshot failed; the signal is skipped and streaming resumes (rows already sent stay sent). Fix the cause and send the signal again.");
            Ok(Outcome::Skipped)
        }
    }
}

/// The requested tables rowtide captures, deduplicated (`db.table`); others are logged.
fn requested(cfg: &Config, filter: &Filter, id: &str, tables: &[String]) -> Vec<String> {
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
            // Its rows are the signals: a seam over it would drop signals sent meanwhile.
            warn!(signal = %id, %table, "The signal table is not read by a blocking snapshot.");
            continue;
        }
        if seen.insert(table.to_ascii_lowercase()) {
            names.push(table.clone());
        }
    }
    names
}

/// Opens the consistent snapshot of `names` and queues their rows. `None` when none of the
/// tables exists.
async fn copy(
    cfg: &Config,
    id: &str,
    names: &[String],
    filters: &HashMap<String, String>,
    out: &EventTx,
    stop: &CancellationToken,
) -> Result<Option<(BlockingSeam, u64)>> {
    let patterns: Vec<String> = names
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
    for n in names {
        if !tables.iter().any(|t| t.full_name().eq_ignore_ascii_case(n)) {
            error!(signal = %id, table = %n, "Blocking snapshot of table refused: no such table.");
        }
    }
    if tables.is_empty() {
        return Ok(None);
    }
    let point =
        snapshot::open(&cfg.source, &info, &tables, cfg.source.snapshot_parallelism).await?;
    let seam = BlockingSeam {
        until: point.offset.binlog.clone(),
        tables: tables.iter().map(TableDesc::full_name).collect(),
    };
    metrics::snapshot_started(tables.len(), tables.len());
    info!(signal = %id, tables = %seam.tables.join(","), point = %seam.until,
          filtered = filters.len(), "Blocking snapshot started; streaming waits.");
    let plan = snapshot::CopyPlan {
        source: &cfg.source,
        done: &HashSet::new(),
        filters,
    };
    let arcs = tables.into_iter().map(Arc::new).collect();
    let rows = snapshot::copy(point, arcs, plan, out, stop).await?;
    Ok(Some((seam, rows)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Change, Op, Position, SourceOffset};

    fn seam() -> BlockingSeam {
        BlockingSeam {
            until: BinlogPosition::new("bin.000002", 1000),
            tables: vec!["db.a".into()],
        }
    }

    fn change(table: &str, file: &str, txn_pos: u64, pos: u64) -> SourceEvent {
        let (db, name) = table.split_once('.').unwrap();
        let t = TableDesc {
            db: db.into(),
            name: name.into(),
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

    /// A transaction that began before the point is covered in full, even when its rows
    /// events lie after it in the file (impossible for a real boundary, but the decision
    /// must not split a transaction); other tables and commits up to the point pass.
    #[test]
    fn the_transaction_start_decides() {
        let s = seam();
        assert_eq!(
            place(&s, &change("db.a", "bin.000002", 900, 950)),
            Place::Covered
        );
        assert_eq!(
            place(&s, &change("DB.A", "bin.000002", 900, 1100)),
            Place::Covered
        );
        assert_eq!(
            place(&s, &change("db.a", "bin.000001", 90_000, 90_100)),
            Place::Covered
        );
        assert_eq!(
            place(&s, &change("db.b", "bin.000002", 900, 950)),
            Place::Before
        );
        assert_eq!(place(&s, &commit("bin.000002", 1000)), Place::Before);
        assert_eq!(place(&s, &commit("bin.000002", 1001)), Place::Past);
        assert_eq!(
            place(&s, &change("db.a", "bin.000002", 1000, 1050)),
            Place::Past
        );
        assert_eq!(
            place(&s, &change("db.b", "bin.000003", 4, 300)),
            Place::Past
        );
        assert_eq!(
            place(
                &s,
                &SourceEvent::SnapshotTableDone {
                    table: "db.a".into()
                }
            ),
            Place::Before
        );
    }

    /// Two open seams: each drops its own tables' changes until the stream passes its
    /// point, and a passed seam is reported once.
    #[test]
    fn seams_close_one_by_one() {
        let mut seams = vec![
            seam(),
            BlockingSeam {
                until: BinlogPosition::new("bin.000002", 2000),
                tables: vec!["db.b".into()],
            },
        ];
        let sifted = |drop, ended| Sifted { drop, ended };
        assert_eq!(
            sift(&mut seams, &change("db.a", "bin.000002", 500, 550)),
            sifted(true, false)
        );
        assert_eq!(
            sift(&mut seams, &change("db.c", "bin.000002", 500, 550)),
            sifted(false, false)
        );
        assert_eq!(
            sift(&mut seams, &change("db.b", "bin.000002", 1500, 1550)),
            sifted(true, true)
        );
        assert_eq!(seams.len(), 1, "the first seam closed on the way");
        assert_eq!(
            sift(&mut seams, &change("db.a", "bin.000002", 1600, 1650)),
            sifted(false, false)
        );
        assert_eq!(
            sift(&mut seams, &commit("bin.000002", 2100)),
            sifted(false, true)
        );
        assert!(seams.is_empty());
    }

    /// A log that cannot be ordered against the point (another server's) ends the seam
    /// rather than dropping its changes.
    #[test]
    fn another_servers_log_is_never_dropped() {
        let s = seam();
        assert_eq!(place(&s, &change("db.a", "other", 5, 6)), Place::Past);
    }
}
