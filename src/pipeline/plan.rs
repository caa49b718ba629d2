//! What a run does first, decided once from the stored checkpoint and the snapshot mode:
//! stream from the checkpoint, (re)take or resume a snapshot, or nothing at all.
//!
//! Invariant: a run never starts later than the stored checkpoint. The only position the
//! plan invents (`no_data` without a checkpoint: the server's current position) is saved
//! before anything is read, so a restart before the first event does not skip ahead.

use std::collections::HashSet;

use tracing::{info, warn};

use crate::checkpoint::{Checkpoint, SnapshotState, StoreHandle};
use crate::config::{Config, SnapshotMode};
use crate::error::Result;
use crate::model::{now_ms, Flavor, SourceOffset};
use crate::mysql;

/// How this run begins.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Stream the binlog from this offset.
    Stream(SourceOffset),
    /// Snapshot the captured tables (except `done`), then stream from the snapshot point
    /// (or from `resume_from`, the point of an interrupted earlier snapshot).
    Snapshot {
        done: HashSet<String>,
        resume_from: Option<SourceOffset>,
        then_stream: bool,
    },
    /// Nothing to do (`initial_only` after a completed snapshot).
    Done,
}

impl Plan {
    fn fresh_snapshot(then_stream: bool) -> Self {
        Plan::Snapshot {
            done: HashSet::new(),
            resume_from: None,
            then_stream,
        }
    }
}

/// The plan, and the checkpoint as stored once it is made.
pub struct Start {
    pub plan: Plan,
    pub checkpoint: Option<Checkpoint>,
}

/// Decides how to begin: from the checkpoint `existing`, or per the snapshot mode.
pub async fn plan(
    cfg: &Config,
    store: &StoreHandle,
    existing: Option<Checkpoint>,
    flavor: Flavor,
    conn: &mut mysql_async::Conn,
    info: &mysql::ServerInfo,
) -> Result<Start> {
    // A checkpoint that names no position at all is as good as none.
    let existing = existing.filter(|cp| {
        let empty = cp.offset.binlog.file.is_empty() && cp.offset.gtid_set.is_none();
        if empty {
            warn!(checkpoint = ?cp, "The checkpoint names no position; starting as if there were none.");
        }
        !empty
    });
    let mode = cfg.source.snapshot_mode;
    let then_stream = mode != SnapshotMode::InitialOnly;
    let Some(cp) = existing else {
        return without_checkpoint(store, mode, then_stream, flavor, conn, info).await;
    };
    let plan = match &cp.snapshot {
        SnapshotState::Running { offset, done } => {
            info!(offset = %offset, finished_tables = done.len(), "Resuming an interrupted snapshot: finished tables are kept, the rest are read again.");
            Plan::Snapshot {
                done: done.iter().cloned().collect(),
                resume_from: Some(offset.clone()),
                then_stream,
            }
        }
        SnapshotState::Completed if mode == SnapshotMode::InitialOnly => {
            info!("snapshot_mode = initial_only and the snapshot is complete: nothing to do.");
            Plan::Done
        }
        _ if mode == SnapshotMode::Always => {
            info!("snapshot_mode = always: taking a new snapshot.");
            Plan::fresh_snapshot(then_stream)
        }
        _ if mode == SnapshotMode::WhenNeeded && binlog_gone(conn, &cp).await? => {
            warn!(offset = %cp.offset, "The checkpoint's binlog is gone; snapshot_mode = when_needed takes a new snapshot.");
            Plan::fresh_snapshot(then_stream)
        }
        _ => {
            info!(offset = %cp.offset, "Resuming from the checkpoint.");
            Plan::Stream(cp.offset.clone())
        }
    };
    Ok(Start {
        plan,
        checkpoint: Some(cp),
    })
}

/// True when the checkpoint names a binlog file the server no longer has.
async fn binlog_gone(conn: &mut mysql_async::Conn, cp: &Checkpoint) -> Result<bool> {
    if cp.offset.binlog.file.is_empty() {
        return Ok(false);
    }
    let logs = mysql::binary_logs(conn).await?;
    Ok(!logs.iter().any(|(f, _)| *f == cp.offset.binlog.file))
}

/// The first run: a snapshot, or with `no_data` the server's current position (saved at
/// once).
async fn without_checkpoint(
    store: &StoreHandle,
    mode: SnapshotMode,
    then_stream: bool,
    flavor: Flavor,
    conn: &mut mysql_async::Conn,
    info: &mysql::ServerInfo,
) -> Result<Start> {
    if mode != SnapshotMode::NoData {
        return Ok(Start {
            plan: Plan::fresh_snapshot(then_stream),
            checkpoint: None,
        });
    }
    let (pos, gtid) = mysql::current_position(conn, info).await?;
    let offset = SourceOffset {
        binlog: pos,
        gtid_set: gtid,
        skip_rows: 0,
    };
    info!(offset = %offset, "No checkpoint and snapshot_mode = no_data: streaming from the current binlog position.");
    let cp = Checkpoint {
        offset: offset.clone(),
        snapshot: SnapshotState::Skipped,
        flavor: Some(flavor),
        updated_at_ms: now_ms(),
        reason: "initial position".into(),
        incremental: None,
    };
    // Saved at once, so a restart before the first event does not start later.
    store.save(cp.clone()).await?;
    Ok(Start {
        plan: Plan::Stream(offset),
        checkpoint: Some(cp),
    })
}
