//! Signals and incremental snapshots, in the source task, between the binlog stream and the
//! source queue: every streamed event passes through here in log order.
//!
//! The watermark algorithm (Netflix's DBLog, as Debezium implements it): for each chunk a
//! low watermark row (`<chunk id>-open`, type `snapshot-window-open`) is inserted into the
//! signal table, the chunk is selected in key order, and a high watermark row
//! (`<chunk id>-close`, `snapshot-window-close`) is inserted. When the stream reaches the
//! low watermark the window opens: every key of the table the stream changes inside the
//! window is dropped from the chunk (the stream's event is newer than, or equal to, what
//! the select read). When the stream reaches the high watermark the rest of the chunk is
//! emitted as `op = r` events (`source.snapshot = "incremental"`) and the next chunk is
//! read. The stream waits only while one chunk is selected. With `snapshot.read_only` the
//! watermarks are the server's binlog positions instead, and nothing is written
//! ([`readonly`]).
//!
//! Invariant: progress reaches the checkpoint as an event after the chunk's rows, so it
//! is recorded only once Kafka acknowledged them (a restart resumes after the last
//! acknowledged chunk); an `execute-snapshot` signal's progress goes before the signal's
//! own row, and its id is remembered, so a signal read again after a restart is not taken
//! twice.

use std::collections::HashSet;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use super::blocking;
use super::incremental_ops::Ops;
use crate::config::Config;
use crate::error::{classify_mysql, Error, Result};
use crate::metrics;
use crate::model::budget::EventTx;
use crate::model::{
    now_ms, Change, Filter, IncrementalProgress, KeyPart, Op, SnapshotMarker, SourceEvent,
    TableDesc, Value,
};
use crate::notify::ScanStatus;
use crate::signal::watch::{Received, SignalWatch};
use crate::signal::{Signal, SnapshotKind};
use crate::source::chunk::{ChunkError, ChunkTable};

mod readonly;
mod tables;
pub use readonly::StreamHead;

const OPEN: &str = "snapshot-window-open";
const CLOSE: &str = "snapshot-window-close";

/// One chunk between its watermarks.
struct Window {
    id: String,
    open: bool,
    /// The table changed structure inside the window: the chunk is read again.
    stale: bool,
    rows: Vec<(String, crate::model::Row)>,
    dropped: HashSet<String>,
    /// The key of the chunk's last row, and whether it was the table's last chunk.
    last_key: Option<Vec<KeyPart>>,
    last_chunk: bool,
    /// Read-only mode: the binlog position the chunk was read at (its high watermark).
    at: Option<crate::model::BinlogPosition>,
}

/// The relay: signals, watermarks and chunks.
pub struct Incremental {
    cfg: Config,
    filter: Filter,
    watch: Option<SignalWatch>,
    progress: IncrementalProgress,
    conn: Option<Conn>,
    table: Option<ChunkTable>,
    window: Option<Window>,
    out: EventTx,
    /// Read-only mode's watermarks (`snapshot.read_only`).
    ro: Option<readonly::ServerWatermarks>,
    /// Fires on shutdown (a blocking snapshot stops reading).
    stop: tokio_util::sync::CancellationToken,
    /// The end of the last transaction relayed (at first: where the stream starts).
    relayed: Option<crate::model::BinlogPosition>,
    /// A blocking snapshot open at its point, until the stream reaches it.
    open_blocking: Option<blocking::Open>,
    /// Notifications, metrics and progress lines.
    ops: Ops,
    /// Why the last table [`Self::start_table`] could not start was given up.
    refusal: ScanStatus,
}

impl Incremental {
    pub fn new(
        cfg: &Config,
        filter: Filter,
        stored: Option<IncrementalProgress>,
        out: EventTx,
    ) -> Self {
        Self {
            cfg: cfg.clone(),
            filter,
            watch: SignalWatch::new(&cfg.signals),
            progress: stored.unwrap_or_default(),
            conn: None,
            table: None,
            window: None,
            out,
            ro: None,
            stop: Default::default(),
            relayed: None,
            open_blocking: None,
            ops: Ops::new(cfg),
            refusal: ScanStatus::Skipped,
        }
    }

    /// The stream starts at `from`; `stop` fires on shutdown (a blocking snapshot stops
    /// reading).
    pub fn streaming(
        mut self,
        stop: tokio_util::sync::CancellationToken,
        from: crate::model::BinlogPosition,
    ) -> Self {
        self.stop = stop;
        self.relayed = Some(from);
        self
    }

    /// Relays `rx` to the source queue until the stream ends; resumes a stored snapshot
    /// first.
    pub async fn run(mut self, mut rx: mpsc::Receiver<SourceEvent>) -> Result<()> {
        let mut kafka = match &self.cfg.signals.kafka_topic {
            Some(topic) => Some(crate::signal::kafka::start(
                &self.cfg.sink,
                topic,
                self.progress.kafka_offset,
            )?),
            None => None,
        };
        if self.ro.is_some() {
            readonly::announce();
        }
        if self.progress.is_active() {
            let t = self
                .progress
                .current()
                .map(|t| t.table.clone())
                .unwrap_or_default();
            info!(table = %t, chunks_done = self.progress.chunks_done, rows = self.progress.rows,
                  tables_remaining = self.progress.tables.len(), paused = self.progress.paused,
                  "Incremental snapshot resumed from the checkpoint.");
            // First of all this run sends: the sink loop's checkpoint carries it from here
            // on (it may have been queued at start, see `snapshot.new_tables`).
            self.send_progress().await?;
            self.next_chunk().await?;
        }
        if let Some(req) = self.progress.blocking.clone() {
            info!(signal = %req.signal, tables = %req.tables.join(","), "Blocking snapshot interrupted before its rows were acknowledged: taken again from the start.");
            self.begin_blocking(req).await?;
        }
        let mut failed = Ok(());
        loop {
            let step = tokio::select! {
                ev = rx.recv() => match ev {
                    Some(ev) => self.on_event(ev).await,
                    None => break,
                },
                Some(k) = async { kafka.as_mut()?.recv().await } => {
                    self.progress.kafka_offset = Some(k.next_offset);
                    self.on_signal(k.received, None).await
                }
                _ = tokio::time::sleep(readonly::IDLE_CHECK), if self.awaits_stream() => {
                    self.after_event(Some(rx.is_empty())).await
                }
            };
            if let Err(e) = step {
                // The stream's queue closes with this relay; its error is the cause the
                // source task reports (a closed output is the pipeline stopping).
                if !matches!(e, Error::Shutdown) {
                    failed = Err(e);
                }
                break;
            }
        }
        if let Some(c) = self.conn.take() {
            let _ = c.disconnect().await;
        }
        failed
    }

    async fn send(&self, ev: SourceEvent) -> Result<()> {
        self.out.send(ev).await.map_err(|_| Error::Shutdown)
    }

    async fn send_progress(&mut self) -> Result<()> {
        for notice in self.ops.take(&self.progress) {
            self.send(notice).await?;
        }
        let p = self.progress.clone();
        metrics::incremental::state(p.tables.len(), p.paused);
        let p = p.worth_keeping().then(|| Box::new(p));
        self.send(SourceEvent::IncrementalProgress(p)).await
    }

    /// Relays one streamed event; a blocking snapshot open at a point the stream reaches
    /// emits its rows first (the event lies beyond it) or right after (it ends there).
    async fn on_event(&mut self, ev: SourceEvent) -> Result<()> {
        if (self.open_blocking.as_ref()).is_some_and(|o| blocking::beyond(&ev, o.until())) {
            self.finish_blocking().await?;
        }
        if let SourceEvent::Commit { offset, .. } = &ev {
            self.relayed = Some(offset.binlog.clone());
        }
        self.relay(ev).await?;
        let relayed = self.relayed.as_ref();
        if (self.open_blocking.as_ref()).is_some_and(|o| blocking::reached(relayed, o.until())) {
            self.finish_blocking().await?;
        }
        Ok(())
    }

    async fn relay(&mut self, ev: SourceEvent) -> Result<()> {
        if let Some(ro) = self.ro.as_mut() {
            ro.observe(&ev);
        }
        let got = self.watch.as_ref().and_then(|w| w.received(&ev));
        if let Some(got) = got {
            return self.on_signal(got, Some(ev)).await;
        }
        self.observe_window(&ev);
        let moved = matches!(
            ev,
            SourceEvent::Commit { .. } | SourceEvent::Heartbeat { .. }
        );
        self.send(ev).await?;
        if moved {
            self.after_event(None).await?;
        }
        Ok(())
    }

    /// A streamed change of the table being read, inside the window, supersedes its rows
    /// in the chunk.
    fn observe_window(&mut self, ev: &SourceEvent) {
        let (Some(w), Some(t)) = (self.window.as_mut(), self.table.as_ref()) else {
            return;
        };
        if !w.open {
            return;
        }
        match ev {
            SourceEvent::Change(c) if same_table(&c.table, &t.desc) => {
                if c.op == Op::Truncate {
                    w.rows.clear();
                    return;
                }
                for row in [&c.before, &c.after].into_iter().flatten() {
                    if let Some(k) = stream_key(&c.table, t, row) {
                        w.dropped.insert(k);
                    }
                }
            }
            SourceEvent::SchemaChange(sc)
                if sc.tables.iter().any(|d| same_table(d, &t.desc))
                    || sc.database.eq_ignore_ascii_case(&t.desc.db) && sc.tables.is_empty() =>
            {
                w.stale = true;
            }
            _ => {}
        }
    }

    /// Sends the signal's own row on (`None` for a Kafka signal, which has none).
    async fn forward(&self, ev: Option<SourceEvent>) -> Result<()> {
        match ev {
            Some(ev) => self.send(ev).await,
            None => Ok(()),
        }
    }

    /// Acts on a signal; `ev` is its row (`None` from the Kafka topic, whose position is
    /// recorded with the progress each signal sends).
    async fn on_signal(&mut self, got: Received, ev: Option<SourceEvent>) -> Result<()> {
        let close_of = |w: &Window, sfx: &str| got.id == format!("{}-{sfx}", w.id);
        match got.kind.as_str() {
            OPEN => {
                if let Some(w) = self.window.as_mut().filter(|w| close_of(w, "open")) {
                    w.open = true;
                    metrics::incremental::window(true);
                }
                return self.forward(ev).await;
            }
            CLOSE => {
                let position = match &ev {
                    Some(SourceEvent::Change(c)) => Some((**c).clone()),
                    _ => None,
                };
                self.forward(ev).await?;
                if let (Some(c), true) = (
                    position,
                    self.window.as_ref().is_some_and(|w| close_of(w, "close")),
                ) {
                    self.close_window(&c).await?;
                }
                return Ok(());
            }
            _ => {}
        }
        let id = got.id.clone();
        match got.signal {
            Err(reason) => warn!(signal = %id, "Signal skipped: {reason}."),
            Ok(Signal::Log { message }) => info!(signal = %id, "Signal log: {message}"),
            Ok(Signal::ExecuteSnapshot {
                kind: SnapshotKind::Blocking,
                tables,
                conditions,
                ..
            }) => return self.blocking(&id, tables, &conditions, ev).await,
            Ok(Signal::ExecuteSnapshot {
                tables,
                conditions,
                surrogate_key,
                ..
            }) => {
                if !self.progress.take_signal(&id) {
                    info!(signal = %id, "execute-snapshot signal already taken before a restart; not taken again.");
                    if ev.is_none() {
                        self.send_progress().await?;
                    }
                    return self.forward(ev).await;
                }
                let before = self.progress.tables.len();
                for t in tables {
                    self.add_table(&id, t, &conditions, surrogate_key.as_deref());
                }
                if self.progress.tables.len() > before {
                    self.progress.correlation_id = Some(id.clone());
                    self.ops.started(&self.progress);
                }
                self.send_progress().await?;
                self.forward(ev).await?;
                if self.window.is_none() {
                    self.next_chunk().await?;
                }
                return Ok(());
            }
            Ok(Signal::StopSnapshot { tables, .. }) => {
                self.stop(&id, &tables);
                self.send_progress().await?;
                self.forward(ev).await?;
                if self.window.is_none() {
                    self.next_chunk().await?;
                }
                return Ok(());
            }
            Ok(Signal::PauseSnapshot) => {
                info!(signal = %id, "Incremental snapshot paused.");
                if !self.progress.paused {
                    self.ops.paused(&self.progress);
                }
                self.progress.paused = true;
                self.send_progress().await?;
            }
            Ok(Signal::ResumeSnapshot) => {
                info!(signal = %id, "Incremental snapshot resumed.");
                if self.progress.paused {
                    self.ops.resumed(&self.progress);
                }
                self.progress.paused = false;
                self.send_progress().await?;
                self.forward(ev).await?;
                if self.window.is_none() {
                    self.next_chunk().await?;
                }
                return Ok(());
            }
        }
        if ev.is_none() {
            // A Kafka signal: its offset is recorded.
            self.send_progress().await?;
        }
        self.forward(ev).await
    }

    /// An `execute-snapshot` signal of type `blocking` ([`blocking`]): the request is
    /// recorded (and the signal counted as taken) before anything after the signal is
    /// relayed; the snapshot opens at once and emits its rows when the stream reaches its
    /// point.
    async fn blocking(
        &mut self,
        id: &str,
        tables: Vec<String>,
        conditions: &[crate::signal::Condition],
        ev: Option<SourceEvent>,
    ) -> Result<()> {
        if !self.progress.take_signal(id) {
            info!(signal = %id, "execute-snapshot signal already taken before a restart; not taken again.");
        } else if self.progress.blocking.is_some() {
            warn!(signal = %id, "Blocking snapshot skipped: another one is under way; send the signal again once it finished.");
        } else if let Some(req) =
            blocking::request(&self.cfg, &self.filter, id, &tables, conditions)
        {
            self.begin_blocking(req).await?;
        }
        self.send_progress().await?;
        self.forward(ev).await
    }

    async fn begin_blocking(&mut self, req: crate::model::BlockingRequest) -> Result<()> {
        self.progress.blocking = Some(req.clone());
        self.send_progress().await?;
        match blocking::open(&self.cfg, req).await? {
            Some(open) => {
                let done = blocking::reached(self.relayed.as_ref(), open.until());
                self.open_blocking = Some(open);
                if done {
                    self.finish_blocking().await?;
                }
            }
            None => {
                self.progress.blocking = None;
                self.send_progress().await?;
            }
        }
        Ok(())
    }

    /// The stream reached the open snapshot's point: its rows, then the request cleared.
    async fn finish_blocking(&mut self) -> Result<()> {
        let Some(open) = self.open_blocking.take() else {
            return Ok(());
        };
        blocking::copy(open, &self.cfg, &self.out, &self.stop).await?;
        self.progress.blocking = None;
        self.send_progress().await
    }

    /// The high watermark: the chunk's remaining rows are emitted, progress recorded, and
    /// the next chunk read.
    async fn close_window(&mut self, close: &Change) -> Result<()> {
        self.emit(close).await?;
        self.next_chunk().await
    }

    /// Emits the held chunk's remaining rows and records the progress.
    async fn emit(&mut self, close: &Change) -> Result<()> {
        let (Some(w), Some(t)) = (self.window.take(), self.table.clone()) else {
            return Ok(());
        };
        if w.stale {
            info!(table = %t.desc.full_name(), "Table changed structure during a chunk; reading the chunk again.");
            self.table = None;
            return Ok(());
        }
        metrics::incremental::window(false);
        let ts_ms = now_ms();
        let mut emitted = 0u64;
        for (key, row) in w.rows {
            if w.dropped.contains(&key) {
                continue;
            }
            let mut c = close.clone();
            c.table = t.desc.clone();
            c.op = Op::Read;
            c.before = None;
            c.after = Some(row);
            c.ts_ms = ts_ms;
            c.snapshot = SnapshotMarker::Incremental;
            c.thread = None;
            c.query = None;
            self.send(SourceEvent::Change(Box::new(c))).await?;
            emitted += 1;
        }
        self.progress.chunks_done += 1;
        self.progress.rows += emitted;
        if let Some(k) = w.last_key {
            self.progress.last_key = Some(k);
        }
        self.ops.chunk(&self.progress, &t.desc.full_name(), emitted);
        if w.last_chunk {
            info!(table = %t.desc.full_name(), rows = self.progress.rows, chunks = self.progress.chunks_done, "Incremental snapshot of table finished.");
            self.finish_table(ScanStatus::Succeeded);
        }
        self.send_progress().await
    }

    fn finish_table(&mut self, status: ScanStatus) {
        self.ops.table_done(&self.progress, status);
        self.progress.next_table();
        self.table = None;
        if !self.progress.is_active() {
            self.progress.correlation_id = None;
            info!("Incremental snapshot finished.");
        }
    }

    /// Reads the next chunk between its watermarks, skipping tables that cannot be read.
    async fn next_chunk(&mut self) -> Result<()> {
        while self.progress.is_active() && !self.progress.paused && self.window.is_none() {
            if self.table.is_none() && !self.start_table().await? {
                self.finish_table(self.refusal);
                self.send_progress().await?;
                continue;
            }
            let (Some(t), Some(max)) = (self.table.clone(), self.progress.max_key.clone()) else {
                self.finish_table(ScanStatus::Empty);
                self.send_progress().await?;
                continue;
            };
            let id = chunk_id();
            let limit = self.cfg.snapshot.chunk_size;
            let after = self.progress.last_key.clone();
            let mut at = None;
            let read = if self.ro.is_some() {
                match self
                    .read_at_snapshot(&t, after.as_deref(), &max, limit)
                    .await?
                {
                    Some(read) => read.map(|(rows, s)| {
                        at = Some(s);
                        rows
                    }),
                    None => return Ok(()),
                }
            } else {
                if let Err(e) = self.watermark(&id, OPEN).await {
                    return self.pause_on(e).await;
                }
                let conn = self.conn().await?;
                t.read(conn, after.as_deref(), &max, limit).await
            };
            let rows = match read {
                Ok(r) => r,
                Err(ChunkError::Other(e)) => return Err(e),
                Err(ChunkError::Refused(reason)) => {
                    error!(table = %t.desc.full_name(), %reason, "Incremental snapshot of table abandoned.");
                    self.finish_table(ScanStatus::SqlException);
                    self.send_progress().await?;
                    continue;
                }
            };
            if at.is_none() {
                if let Err(e) = self.watermark(&id, CLOSE).await {
                    return self.pause_on(e).await;
                }
            }
            let last_chunk = rows.len() < limit;
            let last_key = rows.last().map(|r| r.key.clone());
            let rows = rows
                .into_iter()
                .filter_map(|r| Some((row_key(&t, &r.row)?, r.row)))
                .collect();
            self.window = Some(Window {
                id,
                open: at.is_some(),
                stale: false,
                rows,
                dropped: HashSet::new(),
                last_key,
                last_chunk,
                at,
            });
            if self.held_reached(None) {
                if let Some(c) = self.held_template() {
                    self.emit(&c).await?;
                }
            }
        }
        Ok(())
    }

    /// A watermark could not be written: the snapshot pauses (streaming goes on) until
    /// the cause is fixed and a `resume-snapshot` signal arrives.
    async fn pause_on(&mut self, e: Error) -> Result<()> {
        if matches!(e, Error::Shutdown) {
            return Err(e);
        }
        error!(error = %e, "Incremental snapshot paused: fix the cause, then send resume-snapshot (`rowtide snapshot resume`).");
        if let Some(c) = self.conn.take() {
            let _ = c.disconnect().await;
        }
        if !self.progress.paused {
            self.ops.paused(&self.progress);
        }
        self.progress.paused = true;
        self.send_progress().await
    }

    async fn conn(&mut self) -> Result<&mut Conn> {
        if self.conn.is_none() {
            self.conn = Some(crate::source::snapshot::snapshot_conn(&self.cfg.source).await?);
        }
        self.conn.as_mut().ok_or(Error::Shutdown)
    }

    /// Inserts a watermark row into the signal table.
    async fn watermark(&mut self, id: &str, kind: &str) -> Result<()> {
        let Some((db, table)) = self
            .cfg
            .signals
            .table_parts()
            .map(|(d, t)| (d.to_string(), t.to_string()))
        else {
            return Err(Error::Config(
                "incremental snapshots need [signals] table (their watermarks are rows in it)"
                    .into(),
            ));
        };
        let sql = format!(
            "INSERT INTO {}.{} (id, type, data) VALUES (?, ?, ?)",
            crate::source::snapshot::quote(&db),
            crate::source::snapshot::quote(&table)
        );
        let suffix = if kind == OPEN { "open" } else { "close" };
        let row_id = format!("{id}-{suffix}");
        let conn = self.conn().await?;
        conn.exec_drop(sql, (row_id, kind, "")).await.map_err(|e| {
            let e = classify_mysql(e, "");
            Error::ServerSetup(format!(
                "incremental snapshot: could not insert its watermark into {db}.{table} (the user \
                 needs INSERT on the signal table): {e}"
            ))
        })
    }
}

fn same_table(a: &TableDesc, b: &TableDesc) -> bool {
    a.db == b.db && a.name == b.name
}

/// The chunk key of a row read by the snapshot, as a comparable text.
fn row_key(t: &ChunkTable, row: &[Value]) -> Option<String> {
    let parts: Option<Vec<&Value>> = t.key.iter().map(|&i| row.get(i)).collect();
    Some(format!("{:?}", parts?))
}

/// The chunk key of a streamed row image (columns found by name: the stream's structure
/// may order them differently).
fn stream_key(desc: &TableDesc, t: &ChunkTable, row: &[Value]) -> Option<String> {
    let parts: Option<Vec<&Value>> = t
        .key
        .iter()
        .map(|&i| {
            desc.column_index(&t.desc.columns[i].name)
                .and_then(|j| row.get(j))
        })
        .collect();
    Some(format!("{:?}", parts?))
}

/// A chunk id of 36 characters (Debezium uses a UUID), so `<id>-close` fits the signal
/// table's `VARCHAR(42)` id.
fn chunk_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let h = format!(
        "{:016x}{:08x}{:08x}",
        t as u64,
        std::process::id(),
        n as u32
    );
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunk_ids_fit_the_signal_table() {
        let a = super::chunk_id();
        let b = super::chunk_id();
        assert_eq!(a.len(), 36);
        assert!(format!("{a}-close").len() <= 42);
        assert_ne!(a, b);
    }
}
