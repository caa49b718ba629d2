//! Read-only incremental snapshots (`[snapshot] read_only = true`): the watermarks are
//! binlog positions the server reports, not rows rowtide inserts into the signal table, so
//! nothing is written to the source.
//!
//! Each chunk is read in a consistent-snapshot transaction ([`crate::source::watermark`])
//! whose `Binlog_snapshot_position` S is exactly the end of the last transaction its read
//! view contains. The relay holds the chunk and emits it once it has passed S: a relayed
//! `Commit` (or heartbeat) at or after S, or — on a quiet server, where the log may end in
//! events that are no transaction (a rotation's header) — the binlog reader standing at or
//! after S with nothing left in the relay queue and no transaction open.
//!
//! Why it is exact, per key k of the chunk (whose row is k's state at S):
//! - the chunk is read only between transactions, and only when S is not before the end of
//!   the last transaction relayed (a server writes a transaction to the binlog, and may
//!   send it to replicas, a moment before it becomes visible; then S lags behind and the
//!   read is repeated): every change relayed before the read is at or before S, so older
//!   than (or as new as) the chunk;
//! - the window opens with the read: a change of k relayed while the chunk is held drops k
//!   from it. Such a change is either at or before S (then the stream's own last change of
//!   k up to S carries k's state at S, which the chunk would only repeat) or after S (newer
//!   than the chunk, which must not overwrite it) — dropping is right either way;
//! - a change of k after the emission is newer than S: it follows the chunk, as it must.
//!
//! Transactions never straddle S (it is a transaction boundary), and a group commit writes
//! its transactions in the order `commit_ordered` makes them visible, so "the transactions
//! ending at or before S" is a prefix of the log, whichever group they committed in.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::{info, warn};

use super::Incremental;
use crate::error::{Error, Result};
use crate::metrics;
use crate::model::{
    now_ms, BinlogPosition, Change, KeyPart, Op, Position, SnapshotMarker, SourceEvent,
};
use crate::source::chunk::{ChunkError, ChunkRow, ChunkTable};
use crate::source::watermark;

/// How long a quiet relay waits before it asks where the binlog reader stands.
pub(super) const IDLE_CHECK: Duration = Duration::from_millis(20);
/// How long a chunk is read again while its snapshot position lags behind the stream.
const LAG_LIMIT: Duration = Duration::from_secs(10);

/// The binlog reader's head: the end of the last event it read (shared with the stream's
/// observer, which sets it for every event).
#[derive(Debug, Default)]
pub struct StreamHead(Mutex<Option<BinlogPosition>>);

impl StreamHead {
    pub fn set(&self, file: &str, end: u64) {
        let Ok(mut head) = self.0.lock() else {
            return;
        };
        match head.as_mut() {
            Some(p) if p.file == file => p.pos = end,
            _ => *head = Some(BinlogPosition::new(file, end)),
        }
    }

    fn get(&self) -> Option<BinlogPosition> {
        self.0.lock().ok().and_then(|h| h.clone())
    }
}

/// True when `at` is at or after `s` (`None`: positions of different logs, never).
pub fn passes(at: &BinlogPosition, s: &BinlogPosition) -> bool {
    at.try_cmp(s).is_some_and(|o| o.is_ge())
}

/// Whether a chunk read at S may be held (see the module's reasoning).
#[derive(Debug, PartialEq, Eq)]
pub enum ReadCheck {
    Fresh,
    /// S is before the end of a transaction already relayed: read again.
    Behind,
    /// S and the relayed position are in differently named logs.
    Incomparable,
}

/// Where the relay stands in the log, for read-only watermarks.
#[derive(Debug)]
pub struct ServerWatermarks {
    head: Arc<StreamHead>,
    /// The end of the last transaction the relay passed on in this run.
    committed: Option<BinlogPosition>,
    /// A position everything before which the relay has passed on (commits, heartbeats).
    passed: Option<BinlogPosition>,
    /// Changes of a transaction were relayed and its commit not yet.
    in_txn: bool,
    /// A chunk is to be read at the next transaction boundary.
    read_wanted: bool,
    server_id: u32,
}

impl ServerWatermarks {
    pub fn new(head: Arc<StreamHead>) -> Self {
        Self {
            head,
            committed: None,
            passed: None,
            in_txn: false,
            read_wanted: false,
            server_id: 0,
        }
    }

    /// Follows an event the relay passes on.
    pub fn observe(&mut self, ev: &SourceEvent) {
        match ev {
            SourceEvent::Change(c) | SourceEvent::Skipped(c) => {
                self.in_txn = true;
                self.server_id = c.server_id;
            }
            SourceEvent::Commit { offset, .. } if !offset.binlog.file.is_empty() => {
                self.in_txn = false;
                self.committed = Some(offset.binlog.clone());
                self.passed = Some(offset.binlog.clone());
            }
            SourceEvent::Commit { .. } => self.in_txn = false,
            // Heartbeats name the reader's position between transactions; only forward.
            SourceEvent::Heartbeat {
                offset: Some(o), ..
            } if !o.binlog.file.is_empty()
                && !self.passed.as_ref().is_some_and(|p| passes(p, &o.binlog)) =>
            {
                self.passed = Some(o.binlog.clone());
            }
            _ => {}
        }
    }

    /// Whether a chunk read at `at` may be held.
    pub fn check_read(&self, at: &BinlogPosition) -> ReadCheck {
        match &self.committed {
            None => ReadCheck::Fresh,
            Some(c) => match at.try_cmp(c) {
                None => ReadCheck::Incomparable,
                Some(o) if o.is_lt() => ReadCheck::Behind,
                Some(_) => ReadCheck::Fresh,
            },
        }
    }

    /// The relay passed on everything up to `s`.
    pub fn reached(&self, s: &BinlogPosition) -> bool {
        self.passed.as_ref().is_some_and(|p| passes(p, s))
    }

    /// A quiet stream stands at or after `s`: the reader's head is there, the relay queue
    /// is empty and no transaction is open (the head moves before the reader sends what
    /// an event produced; between transactions that is at most a commit of no relayed
    /// change, or changes of a transaction after `s`).
    pub fn idle_reached(&self, s: &BinlogPosition, queue_empty: bool) -> bool {
        !self.in_txn && queue_empty && self.head.get().is_some_and(|h| passes(&h, s))
    }

    /// The change the chunk's `r` events are made from: the snapshot's position.
    fn template(&self, t: &ChunkTable, s: &BinlogPosition) -> Change {
        let file: Arc<str> = Arc::from(s.file.as_str());
        Change {
            table: t.desc.clone(),
            op: Op::Read,
            before: None,
            after: None,
            position: Position {
                file: file.clone(),
                pos: s.pos,
                txn_file: file,
                txn_pos: s.pos,
                ..Default::default()
            },
            ts_ms: now_ms(),
            snapshot: SnapshotMarker::Incremental,
            thread: None,
            query: None,
            server_id: self.server_id,
        }
    }
}

/// A chunk read in read-only mode.
pub(super) type Read = std::result::Result<(Vec<ChunkRow>, BinlogPosition), ChunkError>;

impl Incremental {
    /// Read-only mode: the watermarks are the server's positions (see the module).
    pub fn read_only(mut self, head: Arc<StreamHead>) -> Self {
        self.ro = Some(ServerWatermarks::new(head));
        self
    }

    /// Reads a chunk with its snapshot position; `None` when it is read later (at the next
    /// transaction boundary) or the snapshot paused.
    pub(super) async fn read_at_snapshot(
        &mut self,
        t: &ChunkTable,
        after: Option<&[KeyPart]>,
        max: &[KeyPart],
        limit: usize,
    ) -> Result<Option<Read>> {
        let Some(ro) = self.ro.as_mut() else {
            return Ok(None);
        };
        if ro.in_txn {
            ro.read_wanted = true;
            return Ok(None);
        }
        ro.read_wanted = false;
        let started = Instant::now();
        loop {
            let conn = self.conn().await?;
            let chunk = match watermark::read_chunk(conn, t, after, max, limit).await {
                Ok(c) => c,
                Err(ChunkError::Other(e @ Error::ServerSetup(_))) => {
                    self.pause_on(e).await?;
                    return Ok(None);
                }
                Err(e) => return Ok(Some(Err(e))),
            };
            let check = self
                .ro
                .as_ref()
                .map_or(ReadCheck::Fresh, |ro| ro.check_read(&chunk.at));
            let problem = match check {
                ReadCheck::Fresh => {
                    metrics::incremental::window(true);
                    return Ok(Some(Ok((chunk.rows, chunk.at))));
                }
                ReadCheck::Behind if started.elapsed() < LAG_LIMIT => {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    continue;
                }
                ReadCheck::Behind => "stays behind the transactions already streamed",
                ReadCheck::Incomparable => "is in a log of another name than the stream's",
            };
            let committed = self.ro.as_ref().and_then(|r| r.committed.clone());
            let e = Error::ServerSetup(format!(
                "read-only incremental snapshot: the chunk's snapshot position {} {problem} \
                 ({})",
                chunk.at,
                committed.map(|c| c.to_string()).unwrap_or_default()
            ));
            self.pause_on(e).await?;
            return Ok(None);
        }
    }

    /// The held chunk's snapshot position, if the relay holds one.
    fn held_at(&self) -> Option<BinlogPosition> {
        self.ro.as_ref()?;
        self.window.as_ref()?.at.clone()
    }

    /// Whether the relay waits for the stream to reach a held chunk's position.
    pub(super) fn awaits_stream(&self) -> bool {
        self.held_at().is_some()
    }

    /// The held chunk may go out now (`queue_empty`: `Some` on a quiet relay).
    pub(super) fn held_reached(&self, queue_empty: Option<bool>) -> bool {
        let (Some(ro), Some(s)) = (self.ro.as_ref(), self.held_at()) else {
            return false;
        };
        ro.reached(&s) || queue_empty.is_some_and(|empty| ro.idle_reached(&s, empty))
    }

    /// The `r` events' template for the held chunk.
    pub(super) fn held_template(&self) -> Option<Change> {
        let (ro, t, s) = (self.ro.as_ref()?, self.table.as_ref()?, self.held_at()?);
        Some(ro.template(t, &s))
    }

    /// After an event the relay passed on: emits the held chunk once the stream reached
    /// its position (`queue_empty` on a quiet relay), or reads the chunk that waited for
    /// a transaction boundary.
    pub(super) async fn after_event(&mut self, queue_empty: Option<bool>) -> Result<()> {
        let Some(ro) = self.ro.as_ref() else {
            return Ok(());
        };
        if self.window.is_none() {
            if ro.read_wanted && !ro.in_txn {
                return self.next_chunk().await;
            }
            return Ok(());
        }
        if !self.held_reached(queue_empty) {
            return Ok(());
        }
        match self.held_template() {
            Some(c) => self.close_window(&c).await,
            None => {
                warn!("Read-only incremental snapshot: a held chunk lost its table; reading it again.");
                self.window = None;
                self.next_chunk().await
            }
        }
    }
}

/// Logs the mode once per run.
pub(super) fn announce() {
    info!("Incremental snapshots are read-only: the watermarks are the server's binlog positions (nothing is written to the source).");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceOffset;

    fn at(file: &str, pos: u64) -> BinlogPosition {
        BinlogPosition::new(file, pos)
    }

    fn commit(file: &str, pos: u64) -> SourceEvent {
        SourceEvent::Commit {
            offset: SourceOffset {
                binlog: at(file, pos),
                gtid_set: None,
                skip_rows: 0,
            },
            ts_ms: 0,
        }
    }

    #[test]
    fn positions_compare_across_rotations() {
        let s = at("mariadb-bin.000002", 389);
        assert!(passes(&at("mariadb-bin.000002", 389), &s), "equal");
        assert!(passes(&at("mariadb-bin.000002", 390), &s));
        assert!(!passes(&at("mariadb-bin.000002", 388), &s));
        // An earlier file, however far into it.
        assert!(!passes(&at("mariadb-bin.000001", 1 << 40), &s));
        // A later file, however early in it; numbered beyond the padding.
        assert!(passes(&at("mariadb-bin.000003", 4), &s));
        assert!(passes(
            &at("mariadb-bin.1000000", 4),
            &at("mariadb-bin.999999", 9)
        ));
        // Another log: never.
        assert!(!passes(&at("other-bin.000009", 4), &s));
    }

    #[test]
    fn the_relay_reaches_the_snapshot_by_commits_or_heartbeats() {
        let head = Arc::new(StreamHead::default());
        let mut ro = ServerWatermarks::new(head.clone());
        let s = at("b.000002", 1000);
        assert_eq!(ro.check_read(&s), ReadCheck::Fresh, "nothing relayed yet");
        ro.observe(&commit("b.000002", 900));
        assert!(!ro.reached(&s));
        assert_eq!(ro.check_read(&at("b.000002", 899)), ReadCheck::Behind);
        assert_eq!(ro.check_read(&at("b.000002", 900)), ReadCheck::Fresh);
        assert_eq!(ro.check_read(&at("c.000001", 4)), ReadCheck::Incomparable);
        ro.observe(&commit("b.000002", 1000));
        assert!(ro.reached(&s), "the commit that ends at S");
        let heartbeat = SourceEvent::Heartbeat {
            offset: Some(SourceOffset {
                binlog: at("b.000003", 389),
                gtid_set: None,
                skip_rows: 0,
            }),
            ts_ms: 0,
        };
        ro.observe(&heartbeat);
        assert!(ro.reached(&at("b.000003", 389)));
        // Heartbeats move only forward.
        ro.observe(&SourceEvent::Heartbeat {
            offset: Some(SourceOffset {
                binlog: at("b.000003", 100),
                gtid_set: None,
                skip_rows: 0,
            }),
            ts_ms: 0,
        });
        assert!(ro.reached(&at("b.000003", 389)));
    }

    #[test]
    fn a_quiet_stream_reaches_the_snapshot_only_between_transactions() {
        let head = Arc::new(StreamHead::default());
        let ro = ServerWatermarks::new(head.clone());
        // After a rotation the snapshot names the new file's header end, where no commit
        // is ever relayed.
        let s = at("b.000003", 389);
        assert!(!ro.idle_reached(&s, true), "the reader has read nothing");
        head.set("b.000003", 344);
        assert!(!ro.idle_reached(&s, true));
        head.set("b.000003", 389);
        assert!(ro.idle_reached(&s, true));
        assert!(!ro.idle_reached(&s, false), "events still queued");
        let mut ro = ro;
        ro.in_txn = true;
        assert!(!ro.idle_reached(&s, true), "a transaction is open");
    }
}
