//! The source task: loads the catalog the run starts with, takes the planned snapshot (if
//! any) and then streams the binlog, sending every event into the source queue in log
//! order.
//!
//! Invariant: events are decoded with the structure in force when they were written — the
//! catalog stored with the checkpoint when streaming resumes, today's `information_schema`
//! only when a snapshot starts (or on the first start from a hand-set offset, when nothing
//! older is known). The checkpoint itself belongs to the sink loop: the source only sends
//! what it should record (`SnapshotStarted`, table done, `SnapshotCompleted`) as events.

use std::collections::HashSet;
use std::sync::Arc;

use crate::model::budget::EventTx;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::incremental::{Incremental, StreamHead};
use super::plan::Plan;
use super::snapshot_ddl::DdlSnapshot;
use crate::checkpoint::{Checkpoint, StoreHandle};
use crate::config::{Config, NewTables};
use crate::error::{Error, Result};
use crate::http::{Health, HealthState};
use crate::metrics;
use crate::model::{
    now_ms, Catalog, Filter, IncrementalProgress, NoticeType, SourceEvent, SourceOffset, TableDesc,
    TableTodo,
};
use crate::mysql;
use crate::source::binlog::{self, StreamObserver};
use crate::source::heartbeat::Heartbeats;
use crate::source::snapshot;

/// Events between the binlog stream and the signal relay: the stream runs ahead of a
/// chunk's SELECT by at most this many. Small, because these events are not yet charged
/// to `pipeline.max_in_flight_bytes` (the relay charges them as it sends them on).
const RELAY_QUEUE: usize = 32;

/// What the source task starts from.
pub struct SourceStart {
    pub plan: Plan,
    pub info: mysql::ServerInfo,
    /// The checkpoint as stored after planning.
    pub checkpoint: Option<Checkpoint>,
    /// The catalog stored with the checkpoint.
    pub catalog: Option<Vec<TableDesc>>,
}

/// Runs the source side of one run. Returns `Ok(true)` when it finished on purpose
/// (`initial_only`, or nothing to do), `Ok(false)` on shutdown.
pub async fn run(
    cfg: Config,
    start: SourceStart,
    store: StoreHandle,
    health: Arc<Health>,
    tx: EventTx,
    stop: CancellationToken,
) -> Result<bool> {
    let filter = Filter::new(&cfg.source.include, &cfg.source.exclude)?;
    let start_progress = start
        .checkpoint
        .as_ref()
        .and_then(|c| c.incremental.clone());
    if let Some((db, table)) = cfg.signals.table_parts() {
        if !filter.captures(db, table) {
            return Err(Error::Config(format!(
                "signals.table = \"{db}.{table}\" is not captured: signals are read from the \
                 binlog, so add it to source.include (and keep it out of source.exclude)"
            )));
        }
    }
    // Started before the snapshot: one that outlasts the interval is followed by a
    // heartbeat as soon as streaming starts, as with Debezium.
    let heartbeats = Heartbeats::new(&cfg.heartbeat, &cfg.source);
    let mut conn = mysql::connect(&cfg.source).await?;
    let mut tables = mysql::schema::load_tables(&mut conn, &filter).await?;
    let snapshotting = matches!(start.plan, Plan::Snapshot { .. });
    // Today's structures are used (below) when snapshotting or when nothing is stored:
    // then their DDL completes them; otherwise only the charsets are read.
    let fresh = snapshotting || start.catalog.is_none();
    let ddl = DdlSnapshot::new(mysql::schema::snapshot_ddl(&mut conn, &tables, fresh).await?);
    let _ = conn.disconnect().await;
    ddl.complete(&mut tables);
    let mut start_progress = start_progress;
    let mut catalog = match start.catalog {
        Some(saved) if !snapshotting => {
            let mut catalog = catalog_of(saved);
            if cfg.snapshot.new_tables == NewTables::Incremental {
                if let Some(cp) = start.checkpoint {
                    start_progress = queue_new_tables(&mut catalog, &tables, cp, &store).await?;
                }
            }
            catalog
        }
        _ => {
            let catalog = catalog_of(tables.clone());
            // First start from a hand-set offset: today's structures are the best known.
            if let (false, Some(cp)) = (snapshotting, start.checkpoint) {
                store.save_with_catalog(cp, &catalog).await?;
            }
            catalog
        }
    };
    ddl.charsets(&mut catalog);
    let from = match start.plan {
        Plan::Done => return Ok(true),
        Plan::Stream(offset) => offset,
        Plan::Snapshot {
            done,
            resume_from,
            then_stream,
        } => {
            let snap = Snapshot {
                cfg: &cfg,
                info: &start.info,
                tables,
                catalog: &catalog,
                ddl: &ddl,
                health: &health,
                tx: &tx,
                stop: &stop,
            };
            match snap.take(done, resume_from).await? {
                Some(from) if then_stream => from,
                Some(_) => return Ok(true),
                None => return Ok(false),
            }
        }
    };
    let observer = Observer::new(health, cfg.snapshot.read_only);
    let seed = binlog::Seed {
        catalog,
        failure_mode: cfg.events.failure_handling_mode,
    };
    let no_signals = cfg.signals.table.is_none() && cfg.signals.kafka_topic.is_none();
    if no_signals && cfg.snapshot.new_tables == NewTables::Off {
        let to = binlog::Destination {
            tx,
            shutdown: stop,
            heartbeats,
        };
        binlog::stream_to(&cfg.source, filter, from, seed, to, &observer).await?;
        return Ok(false);
    }
    // Signals and incremental snapshots act in log order between the stream and the queue.
    let (relay_tx, relay_rx) = tokio::sync::mpsc::channel(RELAY_QUEUE);
    let to = binlog::Destination {
        tx: relay_tx.into(),
        shutdown: stop.clone(),
        heartbeats,
    };
    let stored = start_progress;
    let mut relay =
        Incremental::new(&cfg, filter.clone(), stored, tx).streaming(stop, from.binlog.clone());
    if let Some(head) = observer.head.clone() {
        relay = relay.read_only(head);
    }
    let stream = binlog::stream_to(&cfg.source, filter, from, seed, to, &observer);
    let (streamed, relayed) = tokio::join!(stream, relay.run(relay_rx));
    // A relay that failed closed the stream's queue: its error is the cause.
    relayed?;
    streamed?;
    Ok(false)
}

/// `snapshot.new_tables = "incremental"`: captured tables the stored catalog does not know
/// are added to it (today's structure is the best known) and queued for an incremental
/// snapshot; both are saved at once, so a crash cannot forget them, and the next start does
/// not find them new again. Returns the progress the relay starts from.
async fn queue_new_tables(
    catalog: &mut Catalog,
    tables: &[TableDesc],
    mut cp: Checkpoint,
    store: &StoreHandle,
) -> Result<Option<IncrementalProgress>> {
    let new: Vec<&TableDesc> = tables
        .iter()
        .filter(|t| catalog.get(&t.db, &t.name).is_none())
        .collect();
    if new.is_empty() {
        return Ok(cp.incremental);
    }
    let mut progress = cp.incremental.take().unwrap_or_default();
    for t in new {
        let table = t.full_name();
        info!(%table, "New captured table: queued for an incremental snapshot (snapshot.new_tables).");
        catalog.put(t.clone());
        if !progress.tables.iter().any(|q| q.table == table) {
            progress.tables.push(TableTodo {
                table,
                filter: None,
                surrogate_key: None,
            });
        }
    }
    cp.incremental = Some(progress.clone());
    store.save_with_catalog(cp, catalog).await?;
    Ok(Some(progress))
}

fn catalog_of(tables: Vec<TableDesc>) -> Catalog {
    let mut catalog = Catalog::default();
    for t in tables {
        catalog.put(t);
    }
    catalog
}

/// The initial snapshot of one run.
struct Snapshot<'a> {
    cfg: &'a Config,
    info: &'a mysql::ServerInfo,
    tables: Vec<TableDesc>,
    catalog: &'a Catalog,
    ddl: &'a DdlSnapshot,
    health: &'a Health,
    tx: &'a EventTx,
    stop: &'a CancellationToken,
}

impl Snapshot<'_> {
    /// Copies every table not in `done` at one consistent point. Returns where streaming
    /// continues, or `None` on shutdown.
    async fn take(
        self,
        done: HashSet<String>,
        resume_from: Option<SourceOffset>,
    ) -> Result<Option<SourceOffset>> {
        let source = &self.cfg.source;
        let point =
            snapshot::open(source, self.info, &self.tables, source.snapshot_parallelism).await?;
        let stream_from = resume_from.unwrap_or_else(|| point.offset.clone());
        let mut done_list: Vec<String> = done.iter().cloned().collect();
        done_list.sort();
        // Recorded through the sink loop, which owns the checkpoint; it is saved as soon as
        // it reaches the front of the queue (before any row).
        let started = SourceEvent::SnapshotStarted {
            offset: stream_from.clone(),
            done: done_list,
            catalog: self.catalog.clone(),
        };
        if self.tx.send(started).await.is_err() {
            return Ok(None);
        }
        let notices = crate::notify::Notices::new(self.cfg);
        let notice = |kind| notices.as_ref().map(|n| n.initial(kind, vec![]));
        if let Some(n) = notice(NoticeType::Started) {
            if self.tx.send(n).await.is_err() {
                return Ok(None);
            }
        }
        let arcs: Vec<Arc<TableDesc>> = self.tables.into_iter().map(Arc::new).collect();
        for event in self.ddl.events(&point.offset, &arcs) {
            if self.tx.send(event).await.is_err() {
                return Ok(None);
            }
        }
        let n = arcs.len();
        let remaining = arcs
            .iter()
            .filter(|t| !done.contains(&t.full_name()))
            .count();
        metrics::snapshot_started(n, remaining);
        self.health.set(
            HealthState::Snapshotting,
            format!("snapshot of {n} table(s) at {}", point.offset.binlog),
        );
        info!(tables = n, already_done = done.len(), point = %point.offset, "Snapshot started.");
        let plan = snapshot::CopyPlan {
            source,
            done: &done,
            filters: &Default::default(),
            notices: notices.as_ref(),
        };
        let rows = match snapshot::copy(point, arcs, plan, self.tx, self.stop).await {
            Ok(n) => n,
            Err(e) => {
                metrics::snapshot_ended(false);
                if let (Some(n), false) =
                    (notice(NoticeType::Aborted), matches!(e, Error::Shutdown))
                {
                    // Best effort: the pipeline is failing.
                    let _ = self.tx.send(n).await;
                }
                return match e {
                    Error::Shutdown => Ok(None),
                    e => Err(e),
                };
            }
        };
        metrics::snapshot_ended(true);
        info!(rows, "Snapshot finished.");
        if let Some(n) = notice(NoticeType::Completed) {
            if self.tx.send(n).await.is_err() {
                return Ok(None);
            }
        }
        let completed = SourceEvent::SnapshotCompleted {
            offset: stream_from.clone(),
        };
        if self.tx.send(completed).await.is_err() {
            return Ok(None);
        }
        Ok(Some(stream_from))
    }
}

/// Reports the stream's progress to metrics and `/healthz`.
struct Observer {
    health: Arc<Health>,
    /// The reader's head, for read-only incremental snapshots.
    head: Option<Arc<StreamHead>>,
}

impl Observer {
    /// Read-only incremental snapshots compare the server's positions with the reader's
    /// head, which the observer keeps.
    fn new(health: Arc<Health>, read_only: bool) -> Self {
        let head = read_only.then(|| Arc::new(StreamHead::default()));
        Self { health, head }
    }
}

impl StreamObserver for Observer {
    fn connected(&self, file: &str, pos: u64) {
        metrics::connected(true);
        self.health.set(
            HealthState::Streaming,
            format!("streaming from {file}:{pos}"),
        );
    }
    fn disconnected(&self, reason: &str) {
        metrics::reconnect();
        metrics::connected(false);
        self.health.set(
            HealthState::Reconnecting,
            format!("source connection lost: {reason}"),
        );
    }
    fn event(&self, file: &str, end_pos: u64, ts_secs: u32) {
        metrics::binlog_position(file, end_pos);
        if let Some(head) = &self.head {
            head.set(file, end_pos);
        }
        if ts_secs > 0 {
            let now = now_ms().max(0) as u64;
            metrics::behind_source_ms(now.saturating_sub(ts_secs as u64 * 1000));
            metrics::event_read_at(now);
        } else {
            // Heartbeats (timestamp 0) come only when the server has nothing newer.
            metrics::behind_source_ms(0);
        }
    }
}
