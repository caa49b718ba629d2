//! The main job: source → encoder → sink, joined by bounded channels, with the checkpoint
//! moving only past acknowledged records, and a supervisor that restarts from the
//! checkpoint after transient failures.
//!
//! Invariants:
//! - the channels are bounded and at most `pipeline.max_in_flight` records await Kafka, so
//!   a slow or absent Kafka slows the binlog reader instead of growing memory;
//! - deliveries are awaited in submission order ([`FuturesOrdered`]), so the offset saved is
//!   always that of a contiguous delivered prefix;
//! - on SIGINT/SIGTERM the source stops, everything already read is delivered, the exact
//!   offset (including how far into a transaction) is saved, and `run` returns `Ok`.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::catalog::Catalog;
use crate::change::{Op, SourceEvent};
use crate::checkpoint::{now_ms, Checkpoint, CheckpointStore, SledStore, SnapshotState};
use crate::config::{Config, SinkKind, SnapshotMode};
use crate::encode::Encoder;
use crate::envelope::transaction::{Boundary, TransactionMonitor, TxnMeta};
use crate::envelope::Now;
use crate::error::{Error, Result};
use crate::http::{Health, HealthState};
use crate::metrics;
use crate::mysql;
use crate::position::SourceOffset;
use crate::sink::{kafka::KafkaSink, stdout::StdoutSink, OutRecord, SendError, Sink};
use crate::source::binlog::{self, StreamObserver};
use crate::source::{snapshot, Filter, Flavor};

/// What the checkpoint learns once an item (and everything before it) is delivered.
#[derive(Debug, Clone)]
enum Mark {
    /// Streaming may resume inside a transaction: after this change. Shares the position's
    /// parts instead of copying them (one of these is made per change); it becomes a
    /// [`SourceOffset`] only when the checkpoint is written.
    Row(RowMark),
    /// Streaming may resume here.
    Offset(Box<SourceOffset>),
    /// A snapshot finished this table.
    SnapshotTable(String),
    /// The snapshot is complete; streaming continues from this offset.
    SnapshotDone(Box<SourceOffset>),
    /// A DDL statement changed the catalog: persist it with the checkpoint.
    Catalog(Box<Catalog>),
    /// A snapshot begins from this offset (some tables maybe already done).
    SnapshotStarted {
        offset: Box<SourceOffset>,
        done: Vec<String>,
        catalog: Box<Catalog>,
    },
}

/// Resume by replaying the transaction that begins at `file:pos` (with `gtid_before`
/// executed before it) and skipping its first `skip_rows` changes.
#[derive(Debug, Clone)]
struct RowMark {
    file: Arc<str>,
    pos: u64,
    gtid_before: Option<Arc<crate::position::GtidSet>>,
    skip_rows: u64,
}

impl RowMark {
    fn offset(&self) -> SourceOffset {
        SourceOffset {
            binlog: crate::position::BinlogPosition::new(self.file.to_string(), self.pos),
            gtid_set: self.gtid_before.as_deref().cloned(),
            skip_rows: self.skip_rows,
        }
    }
}

/// Records handed to the sink per turn of the sink loop before it looks at deliveries,
/// the checkpoint timer and shutdown again.
const SINK_BATCH: usize = 1024;

/// Source events per batch between the dispatcher, the encoder workers and the sink loop.
const ENCODE_BATCH: usize = 64;

/// One item between the encoder and the sink: a record to deliver and/or what the
/// checkpoint may record once it is delivered.
struct Item {
    record: Option<OutRecord>,
    mark: Option<Mark>,
}

/// One record (or mark-only item) handed to the sink and not yet part of the acknowledged
/// prefix.
struct InFlight {
    seq: u64,
    mark: Option<Mark>,
    sent_at: Option<Instant>,
    /// For the error message if its delivery fails.
    topic: Arc<str>,
    position: Arc<str>,
    done: bool,
}

/// Applies the marks of the acknowledged prefix of `window`, in order.
async fn advance(
    window: &mut VecDeque<InFlight>,
    state: &mut CheckpointState,
    store: &Arc<dyn CheckpointStore>,
) -> Result<()> {
    while window.front().is_some_and(|f| f.done) {
        let Some(f) = window.pop_front() else { break };
        if let Some(m) = f.mark {
            let snapshot_mark = !matches!(m, Mark::Offset(_) | Mark::Row(_));
            state.apply(m);
            if snapshot_mark {
                // Snapshot progress is rare and precious: save at once.
                state.save(store, "snapshot progress").await?;
            }
        }
    }
    Ok(())
}

/// How this run begins.
#[derive(Debug, Clone)]
enum Plan {
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

/// An update that changes the primary key becomes a delete of the old key and a create of
/// the new one (Debezium's behaviour, which keyed consumers such as compacted topics and
/// JDBC sinks rely on).
fn split_key_change(
    change: &crate::change::Change,
) -> Option<(crate::change::Change, crate::change::Change)> {
    if change.op != Op::Update || change.table.primary_key.is_empty() {
        return None;
    }
    let (before, after) = (change.before.as_ref()?, change.after.as_ref()?);
    let moved = change
        .table
        .primary_key
        .iter()
        .any(|&i| before.get(i) != after.get(i));
    if !moved {
        return None;
    }
    let mut delete = change.clone();
    delete.op = Op::Delete;
    delete.after = None;
    let mut create = change.clone();
    create.op = Op::Create;
    create.before = None;
    Some((delete, create))
}

/// Reports the stream's progress to metrics and `/healthz`.
struct Observer {
    health: Arc<Health>,
}

impl StreamObserver for Observer {
    fn connected(&self, file: &str, pos: u64) {
        self.health.set(
            HealthState::Streaming,
            format!("streaming from {file}:{pos}"),
        );
    }
    fn disconnected(&self, reason: &str) {
        metrics::reconnect();
        self.health.set(
            HealthState::Reconnecting,
            format!("source connection lost: {reason}"),
        );
    }
    fn event(&self, file: &str, end_pos: u64, ts_secs: u32) {
        metrics::binlog_position(file, end_pos);
        if ts_secs > 0 {
            let now = now_ms() as f64 / 1000.0;
            metrics::lag_seconds((now - ts_secs as f64).max(0.0));
        } else {
            // Heartbeats (timestamp 0) come only when the server has nothing newer.
            metrics::lag_seconds(0.0);
        }
    }
}

/// Runs until `shutdown` fires (Ok) or a definite error (Err). Transient failures restart
/// the pipeline from the stored checkpoint with backoff.
pub async fn run(cfg: Config, shutdown: CancellationToken) -> Result<()> {
    let handle = metrics::install();
    let health = Arc::new(Health::default());
    if !cfg.metrics.listen.is_empty() {
        let addr = crate::http::serve(
            &cfg.metrics.listen,
            handle,
            health.clone(),
            shutdown.clone(),
        )
        .await?;
        info!(%addr, "Serving /metrics and /healthz.");
    }
    let path = cfg.checkpoint.path.clone();
    let store: Arc<dyn CheckpointStore> = Arc::new(
        tokio::task::spawn_blocking(move || SledStore::open(&path))
            .await
            .map_err(|e| Error::Source(format!("checkpoint open task: {e}")))??,
    );
    let mut backoff = Duration::from_millis(cfg.source.reconnect_backoff_ms.max(100));
    loop {
        let started = Instant::now();
        match run_once(&cfg, store.clone(), health.clone(), shutdown.clone()).await {
            Ok(()) => {
                health.set(HealthState::Stopping, "stopped");
                info!("Stopped.");
                return Ok(());
            }
            Err(e) if e.is_transient() && !shutdown.is_cancelled() => {
                if started.elapsed() > Duration::from_secs(60) {
                    backoff = Duration::from_millis(cfg.source.reconnect_backoff_ms.max(100));
                }
                health.set(HealthState::Reconnecting, e.to_string());
                warn!(error = %e, delay_ms = backoff.as_millis() as u64, "Pipeline interrupted; restarting from the checkpoint.");
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_millis(
                    cfg.source.reconnect_backoff_max_ms.max(100),
                ));
            }
            Err(e) => {
                if shutdown.is_cancelled() && e.is_transient() {
                    return Ok(());
                }
                health.set(HealthState::Failed, e.to_string());
                error!(error = %e, "Stopped on a definite error.");
                return Err(e);
            }
        }
    }
}

/// Saves the checkpoint and the catalog in one atomic write.
async fn save_with_catalog(
    store: &Arc<dyn CheckpointStore>,
    cp: Checkpoint,
    catalog: &Catalog,
) -> Result<()> {
    let store = store.clone();
    let tables: Vec<crate::catalog::TableDesc> = catalog.tables().map(|t| (**t).clone()).collect();
    tokio::task::spawn_blocking(move || store.save_with_catalog(&cp, &tables))
        .await
        .map_err(|e| Error::Source(format!("checkpoint task: {e}")))??;
    metrics::checkpoint_written();
    Ok(())
}

async fn save(store: &Arc<dyn CheckpointStore>, cp: Checkpoint) -> Result<()> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.save(&cp))
        .await
        .map_err(|e| Error::Source(format!("checkpoint task: {e}")))??;
    metrics::checkpoint_written();
    Ok(())
}

/// Decides how to begin: from the checkpoint, or per the snapshot mode.
async fn plan(
    cfg: &Config,
    store: &Arc<dyn CheckpointStore>,
    flavor: Flavor,
    conn: &mut mysql_async::Conn,
    info: &mysql::ServerInfo,
) -> Result<Plan> {
    let s = store.clone();
    let existing = tokio::task::spawn_blocking(move || s.load())
        .await
        .map_err(|e| Error::Source(format!("checkpoint task: {e}")))??;
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
    match existing {
        Some(Checkpoint {
            snapshot: SnapshotState::Running { offset, done },
            ..
        }) => {
            info!(offset = %offset, finished_tables = done.len(), "Resuming an interrupted snapshot: finished tables are kept, the rest are read again.");
            Ok(Plan::Snapshot {
                done: done.into_iter().collect(),
                resume_from: Some(offset),
                then_stream,
            })
        }
        Some(cp)
            if mode == SnapshotMode::InitialOnly && cp.snapshot == SnapshotState::Completed =>
        {
            info!("snapshot_mode = initial_only and the snapshot is complete: nothing to do.");
            Ok(Plan::Done)
        }
        Some(_) if mode == SnapshotMode::Always => {
            info!("snapshot_mode = always: taking a new snapshot.");
            Ok(Plan::Snapshot {
                done: HashSet::new(),
                resume_from: None,
                then_stream,
            })
        }
        Some(cp) => {
            if mode == SnapshotMode::WhenNeeded && !cp.offset.binlog.file.is_empty() {
                let logs = mysql::binary_logs(conn).await?;
                if !logs.iter().any(|(f, _)| *f == cp.offset.binlog.file) {
                    warn!(offset = %cp.offset, "The checkpoint's binlog is gone; snapshot_mode = when_needed takes a new snapshot.");
                    return Ok(Plan::Snapshot {
                        done: HashSet::new(),
                        resume_from: None,
                        then_stream,
                    });
                }
            }
            info!(offset = %cp.offset, "Resuming from the checkpoint.");
            Ok(Plan::Stream(cp.offset))
        }
        None if mode == SnapshotMode::NoData => {
            let (pos, gtid) = mysql::current_position(conn, info).await?;
            let offset = SourceOffset {
                binlog: pos,
                gtid_set: gtid,
                skip_rows: 0,
            };
            info!(offset = %offset, "No checkpoint and snapshot_mode = no_data: streaming from the current binlog position.");
            // Saved at once, so a restart before the first event does not start later.
            save(
                store,
                Checkpoint {
                    offset: offset.clone(),
                    snapshot: SnapshotState::Skipped,
                    flavor: Some(flavor),
                    updated_at_ms: now_ms(),
                    reason: "initial position".into(),
                },
            )
            .await?;
            Ok(Plan::Stream(offset))
        }
        None => Ok(Plan::Snapshot {
            done: HashSet::new(),
            resume_from: None,
            then_stream,
        }),
    }
}

/// The checkpoint as the sink loop keeps it: updated by delivered marks, saved when changed.
struct CheckpointState {
    current: Checkpoint,
    dirty: bool,
    /// A catalog to store together with the next checkpoint write.
    catalog: Option<Catalog>,
    /// The latest delivered change inside a transaction, when it is newer than
    /// `current.offset` (turned into the offset lazily: there is one per change).
    row: Option<RowMark>,
}

impl CheckpointState {
    /// Folds a pending row mark into `current.offset`.
    fn settle(&mut self) {
        if let Some(r) = self.row.take() {
            self.current.offset = r.offset();
        }
    }

    fn apply(&mut self, mark: Mark) {
        if let Mark::Row(r) = mark {
            self.row = Some(r);
            self.dirty = true;
            return;
        }
        self.settle();
        match mark {
            Mark::Row(_) => {}
            Mark::Offset(o) => {
                self.current.offset = *o;
            }
            Mark::SnapshotTable(t) => {
                if let SnapshotState::Running { done, .. } = &mut self.current.snapshot {
                    done.push(t);
                }
            }
            Mark::SnapshotDone(o) => {
                self.current.offset = *o;
                self.current.snapshot = SnapshotState::Completed;
            }
            Mark::Catalog(c) => self.catalog = Some(*c),
            Mark::SnapshotStarted {
                offset,
                done,
                catalog,
            } => {
                self.current.offset = (*offset).clone();
                self.current.snapshot = SnapshotState::Running {
                    offset: *offset,
                    done,
                };
                self.catalog = Some(*catalog);
            }
        }
        self.dirty = true;
    }

    async fn save(&mut self, store: &Arc<dyn CheckpointStore>, reason: &str) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        self.settle();
        self.current.updated_at_ms = now_ms();
        self.current.reason = reason.to_string();
        match self.catalog.take() {
            Some(c) => save_with_catalog(store, self.current.clone(), &c).await?,
            None => save(store, self.current.clone()).await?,
        }
        tracing::debug!(offset = %self.current.offset, reason, "Checkpoint moved.");
        self.dirty = false;
        Ok(())
    }
}

/// The source side of one run: the snapshot (if planned), then the binlog stream.
/// Returns `Ok(true)` when it finished on purpose (`initial_only`), `Ok(false)` on shutdown.
#[allow(clippy::too_many_arguments)]
async fn source_side(
    cfg: Config,
    plan: Plan,
    info: mysql::ServerInfo,
    store: Arc<dyn CheckpointStore>,
    health: Arc<Health>,
    tx: mpsc::Sender<SourceEvent>,
    stop: CancellationToken,
) -> Result<bool> {
    let filter = Filter::new(&cfg.source.include, &cfg.source.exclude)?;
    let mut conn = mysql::connect(&cfg.source).await?;
    let tables = mysql::schema::load_tables(&mut conn, &filter).await?;
    let _ = conn.disconnect().await;
    // The catalog as of the checkpoint (kept across restarts), else today's structures.
    let s = store.clone();
    let (stored_catalog, stored_cp) =
        tokio::task::spawn_blocking(move || Ok::<_, Error>((s.load_catalog()?, s.load()?)))
            .await
            .map_err(|e| Error::Source(format!("checkpoint task: {e}")))??;
    let snapshotting = matches!(plan, Plan::Snapshot { .. });
    let mut catalog = Catalog::default();
    match stored_catalog {
        Some(saved) if !snapshotting => {
            for t in saved {
                catalog.put(t);
            }
        }
        _ => {
            for t in &tables {
                catalog.put(t.clone());
            }
            // First start from a hand-set offset: today's structures are the best known.
            if let (false, Some(cp)) = (snapshotting, stored_cp) {
                save_with_catalog(&store, cp, &catalog).await?;
            }
        }
    }
    let observer = Observer {
        health: health.clone(),
    };
    let start = match plan {
        Plan::Done => return Ok(true),
        Plan::Stream(offset) => offset,
        Plan::Snapshot {
            done,
            resume_from,
            then_stream,
        } => {
            let point =
                snapshot::open(&cfg.source, &info, &tables, cfg.source.snapshot_parallelism)
                    .await?;
            let stream_from = resume_from.unwrap_or_else(|| point.offset.clone());
            let mut done_list: Vec<String> = done.iter().cloned().collect();
            done_list.sort();
            // Recorded through the sink loop, which owns the checkpoint from here on; it is
            // saved as soon as it reaches the front of the queue (before any row).
            if tx
                .send(SourceEvent::SnapshotStarted {
                    offset: stream_from.clone(),
                    done: done_list,
                    catalog: catalog.clone(),
                })
                .await
                .is_err()
            {
                return Ok(false);
            }
            health.set(
                HealthState::Snapshotting,
                format!(
                    "snapshot of {} table(s) at {}",
                    tables.len(),
                    point.offset.binlog
                ),
            );
            info!(tables = tables.len(), already_done = done.len(), point = %point.offset, "Snapshot started.");
            let arcs: Vec<Arc<crate::catalog::TableDesc>> =
                tables.iter().cloned().map(Arc::new).collect();
            let rows = match snapshot::copy(
                point,
                arcs,
                &done,
                cfg.source.snapshot_fetch_size,
                &tx,
                &stop,
            )
            .await
            {
                Ok(n) => n,
                Err(Error::Shutdown) => return Ok(false),
                Err(e) => return Err(e),
            };
            info!(rows, "Snapshot finished.");
            if tx
                .send(SourceEvent::SnapshotCompleted {
                    offset: stream_from.clone(),
                })
                .await
                .is_err()
            {
                return Ok(false);
            }
            if !then_stream {
                return Ok(true);
            }
            stream_from
        }
    };
    binlog::stream(&cfg.source, filter, start, catalog, tx, stop, &observer).await?;
    Ok(false)
}

/// Encodes one source event into the items the sink loop handles, in order.
/// `meta` is what transaction metadata adds around it (empty when that is off).
/// The records `run` would send for one event, without checkpoint marks (for `replay`).
pub(crate) async fn records_for(encoder: &mut Encoder, ev: SourceEvent) -> Result<Vec<OutRecord>> {
    let meta = TxnMeta::default();
    prepare_event(encoder, &ev, &meta, true).await?;
    let items = encode_event(encoder, ev, meta, true, true)?;
    Ok(items.into_iter().filter_map(|i| i.record).collect())
}

/// True when [`encode_event`] can run without registering a schema first: always for the
/// JSON formats, and for Avro once the event's schemas have ids.
fn event_ready(encoder: &mut Encoder, ev: &SourceEvent, meta: &TxnMeta) -> bool {
    let boundaries = meta.before.is_empty() && meta.end.is_none();
    let own = match ev {
        SourceEvent::Change(c) => encoder.change_ready(c),
        SourceEvent::SchemaChange(_) => encoder.schema_change_ready(),
        _ => true,
    };
    own && (boundaries || encoder.transaction_ready())
}

/// Registers whatever schemas [`encode_event`] will need for this event (Avro only). The
/// only asynchronous step of encoding: the per-event path stays synchronous.
async fn prepare_event(
    encoder: &mut Encoder,
    ev: &SourceEvent,
    meta: &TxnMeta,
    schema_changes: bool,
) -> Result<()> {
    match ev {
        SourceEvent::Change(c) => encoder.prepare_change(c).await?,
        SourceEvent::SchemaChange(_) if schema_changes => encoder.prepare_schema_change().await?,
        _ => {}
    }
    if !meta.before.is_empty() || meta.end.is_some() {
        encoder.prepare_transaction().await?;
    }
    Ok(())
}

fn encode_event(
    encoder: &mut Encoder,
    ev: SourceEvent,
    meta: TxnMeta,
    tombstones: bool,
    schema_changes: bool,
) -> Result<Vec<Item>> {
    let items: Vec<Item> = match ev {
        SourceEvent::Change(change) => {
            metrics::table_event(&change.table, change.op.code());
            let p = &change.position;
            // Snapshot rows are not resumable one by one: their table's mark is.
            let after = (change.op != Op::Read).then(|| RowMark {
                file: p.txn_file.clone(),
                pos: p.txn_pos,
                gtid_before: p.gtid_before.clone(),
                skip_rows: p.txn_row + 1,
            });
            let position: Arc<str> = p.to_string().into();
            let mut out: Vec<OutRecord> = Vec::with_capacity(3 + meta.before.len());
            for b in &meta.before {
                out.push(boundary_record(encoder, b, position.clone())?);
            }
            let mut blocks = meta.blocks.into_iter();
            let now = Now::system();
            if let Some((delete, create)) = split_key_change(&change) {
                // As Debezium does: the old key is deleted (and tombstoned), then
                // the new key created.
                let d = encoder.encode_change_now(&delete, now, blocks.next().as_ref())?;
                let c = encoder.encode_change_now(&create, now, blocks.next().as_ref())?;
                out.push(OutRecord {
                    topic: d.topic.clone(),
                    key: d.key.clone(),
                    value: d.value,
                    position: position.clone(),
                });
                if tombstones {
                    out.push(OutRecord::tombstone(d.topic, d.key, position.clone()));
                }
                out.push(OutRecord {
                    topic: c.topic,
                    key: c.key,
                    value: c.value,
                    position,
                });
            } else {
                let rec = encoder.encode_change_now(&change, now, blocks.next().as_ref())?;
                let tomb = tombstones && change.op == Op::Delete && rec.key.is_some();
                let tomb_key = if tomb { rec.key.clone() } else { None };
                out.push(OutRecord {
                    topic: rec.topic.clone(),
                    key: rec.key,
                    value: rec.value,
                    position: position.clone(),
                });
                if tomb {
                    out.push(OutRecord::tombstone(rec.topic, tomb_key, position));
                }
            }
            // Only the last record of the change carries the offset.
            let n = out.len();
            let mut mark = after.map(Mark::Row);
            out.into_iter()
                .enumerate()
                .map(|(i, r)| Item {
                    record: Some(r),
                    mark: if i + 1 == n { mark.take() } else { None },
                })
                .collect()
        }
        SourceEvent::SchemaChange(sc) => {
            let record = if schema_changes {
                let rec = encoder.encode_schema_change_now(&sc)?;
                Some(OutRecord {
                    topic: rec.topic,
                    key: rec.key,
                    value: rec.value,
                    position: sc.position.to_string().into(),
                })
            } else {
                None
            };
            let mark = sc.catalog_after.clone().map(|c| Mark::Catalog(Box::new(c)));
            if record.is_some() || mark.is_some() {
                vec![Item { record, mark }]
            } else {
                vec![]
            }
        }
        // A delivered change needs no record; transaction metadata counted it already.
        SourceEvent::Skipped(_) => vec![],
        // The END of a transaction carries its commit's mark.
        SourceEvent::Commit { offset, .. } => {
            match &offset.gtid_set {
                Some(crate::position::GtidSet::Mariadb(list)) => {
                    for g in list.iter() {
                        metrics::gtid_sequence(&g.domain.to_string(), g.seq);
                    }
                }
                Some(crate::position::GtidSet::Mysql(set)) => {
                    for (uuid, tag, ivs) in set.iter() {
                        if let Some(&(_, last)) = ivs.last() {
                            let label = if tag.is_empty() {
                                uuid.to_string()
                            } else {
                                format!("{uuid}:{tag}")
                            };
                            metrics::gtid_sequence(&label, last);
                        }
                    }
                }
                None => {}
            }
            let record = match &meta.end {
                Some(end) => Some(boundary_record(encoder, end, offset.to_string().into())?),
                None => None,
            };
            vec![Item {
                record,
                mark: Some(Mark::Offset(Box::new(offset))),
            }]
        }
        SourceEvent::SnapshotTableDone { table, .. } => {
            vec![Item {
                record: None,
                mark: Some(Mark::SnapshotTable(table)),
            }]
        }
        SourceEvent::SnapshotStarted {
            offset,
            done,
            catalog,
        } => {
            vec![Item {
                record: None,
                mark: Some(Mark::SnapshotStarted {
                    offset: Box::new(offset),
                    done,
                    catalog: Box::new(catalog),
                }),
            }]
        }
        SourceEvent::SnapshotCompleted { offset } => {
            vec![Item {
                record: None,
                mark: Some(Mark::SnapshotDone(Box::new(offset))),
            }]
        }
    };
    Ok(items)
}

/// The record of a transaction `BEGIN`/`END` event.
fn boundary_record(encoder: &mut Encoder, b: &Boundary, position: Arc<str>) -> Result<OutRecord> {
    let rec = encoder.encode_transaction_now(b)?;
    Ok(OutRecord {
        topic: rec.topic,
        key: rec.key,
        value: rec.value,
        position,
    })
}

async fn run_once(
    cfg: &Config,
    store: Arc<dyn CheckpointStore>,
    health: Arc<Health>,
    shutdown: CancellationToken,
) -> Result<()> {
    health.set(HealthState::Starting, "connecting to the source");
    let mut conn = mysql::connect(&cfg.source).await?;
    let info = mysql::server_info(&mut conn, cfg.source.flavor).await?;
    crate::preflight::require_server_settings(&mut conn).await?;
    let flavor = info.flavor;
    let plan = plan(cfg, &store, flavor, &mut conn, &info).await?;
    let _ = conn.disconnect().await;
    if matches!(plan, Plan::Done) {
        return Ok(());
    }
    let s = store.clone();
    let initial = tokio::task::spawn_blocking(move || s.load())
        .await
        .map_err(|e| Error::Source(format!("checkpoint task: {e}")))??;

    let sink = Arc::new(match cfg.sink.kind {
        SinkKind::Kafka => Sink::Kafka(Box::new(KafkaSink::new(&cfg.sink)?)),
        SinkKind::Stdout => Sink::Stdout(StdoutSink::new()),
    });

    // The source stops first on shutdown; the rest drains.
    let source_stop = shutdown.child_token();
    let (src_tx, mut src_rx) = mpsc::channel::<SourceEvent>(cfg.pipeline.source_queue);
    // Events travel to the encoders, and items to the sink loop, in batches of up to
    // ENCODE_BATCH events: one channel operation and one wake-up per batch, not per event.
    // The queues' capacities stay what the configuration says, in events.
    let (rec_tx, mut rec_rx) =
        mpsc::channel::<Vec<Item>>((cfg.pipeline.sink_queue / ENCODE_BATCH).max(2));

    let mut source_task = tokio::spawn(source_side(
        cfg.clone(),
        plan,
        info,
        store.clone(),
        health.clone(),
        src_tx,
        source_stop.clone(),
    ));

    // Encoding is the busiest stage: `pipeline.encoders` workers encode events in parallel
    // and the collector puts their results back in source order before the sink sees them.
    let tombstones = cfg.sink.tombstones_on_delete;
    let schema_changes = cfg.sink.schema_changes;
    let enc_sink = sink.clone();
    let workers = cfg.pipeline.encoders.max(1);
    let (order_tx, mut order_rx) = mpsc::channel::<tokio::sync::oneshot::Receiver<Result<Vec<Item>>>>(
        (cfg.pipeline.source_queue / ENCODE_BATCH).max(2),
    );
    let mut worker_txs = Vec::with_capacity(workers);
    let mut worker_tasks = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (wtx, mut wrx) = mpsc::channel::<(
            Vec<(SourceEvent, TxnMeta)>,
            tokio::sync::oneshot::Sender<Result<Vec<Item>>>,
        )>(2);
        let mut encoder = Encoder::new(&cfg.format, &cfg.sink.topic_prefix, flavor)?;
        worker_tasks.push(tokio::spawn(async move {
            'batches: while let Some((batch, reply)) = wrx.recv().await {
                let mut items = Vec::with_capacity(batch.len() + batch.len() / 4);
                for (ev, meta) in batch {
                    if !event_ready(&mut encoder, &ev, &meta) {
                        if let Err(e) =
                            prepare_event(&mut encoder, &ev, &meta, schema_changes).await
                        {
                            let _ = reply.send(Err(e));
                            continue 'batches;
                        }
                    }
                    match encode_event(&mut encoder, ev, meta, tombstones, schema_changes) {
                        Ok(mut more) => items.append(&mut more),
                        Err(e) => {
                            let _ = reply.send(Err(e));
                            continue 'batches;
                        }
                    }
                }
                let _ = reply.send(Ok(items));
            }
        }));
        worker_txs.push(wtx);
    }
    // Transaction metadata numbers events in source order, so it runs here, before the
    // events fan out to the workers.
    let mut monitor = cfg
        .format
        .provide_transaction_metadata
        .then(TransactionMonitor::new);
    let dispatcher = tokio::spawn(async move {
        let mut next = 0usize;
        while let Some(first) = src_rx.recv().await {
            metrics::queue_depth("source", src_rx.len());
            // A batch is whatever is already queued, up to ENCODE_BATCH events: a slow
            // trickle of events is never held back waiting for a batch to fill.
            let mut batch = Vec::with_capacity(ENCODE_BATCH.min(src_rx.len() + 1));
            let mut ev = Some(first);
            while let Some(e) = ev.take() {
                let meta = monitor.as_mut().map(|m| m.annotate(&e)).unwrap_or_default();
                batch.push((e, meta));
                if batch.len() < ENCODE_BATCH {
                    ev = src_rx.try_recv().ok();
                }
            }
            let (reply_tx, reply_rx) = tokio::sync::oneshot::channel();
            if order_tx.send(reply_rx).await.is_err() {
                return;
            }
            // Events of a transaction may go to different workers: order is restored by
            // the collector, and each worker's own caches are only an optimisation.
            if worker_txs[next].send((batch, reply_tx)).await.is_err() {
                return;
            }
            next = (next + 1) % worker_txs.len();
        }
    });
    let mut encoder_task = tokio::spawn(async move {
        let _workers = worker_tasks;
        let _dispatcher = dispatcher;
        let mut topics: HashSet<Arc<str>> = HashSet::new();
        while let Some(reply) = order_rx.recv().await {
            let Ok(items) = reply.await else {
                return Ok(()); // a worker stopped: the pipeline is shutting down
            };
            let items = items?;
            for item in &items {
                if let Some(r) = &item.record {
                    if !topics.contains(&r.topic) {
                        topics.insert(r.topic.clone());
                        enc_sink.ensure_topic(&r.topic).await?;
                    }
                }
            }
            if !items.is_empty() && rec_tx.send(items).await.is_err() {
                return Ok(());
            }
        }
        Ok::<(), Error>(())
    });

    // The sink loop: enqueue, collect acknowledgements, checkpoint the delivered prefix.
    // Every record (and every mark-only item) gets the next sequence number and a slot in
    // `window`, in source order; acknowledgements arrive in any order and mark their slot;
    // the marks of the acknowledged prefix are applied in order.
    let mut window: VecDeque<InFlight> = VecDeque::new();
    let mut next_seq: u64 = 0;
    let mut acks: Vec<crate::sink::Ack> = Vec::new();
    let mut state = CheckpointState {
        current: initial.unwrap_or(Checkpoint {
            offset: SourceOffset {
                binlog: crate::position::BinlogPosition::new("", 4),
                gtid_set: None,
                skip_rows: 0,
            },
            snapshot: SnapshotState::NotStarted,
            flavor: Some(flavor),
            updated_at_ms: 0,
            reason: String::new(),
        }),
        dirty: false,
        catalog: None,
        row: None,
    };
    let mut tick = tokio::time::interval(Duration::from_millis(
        cfg.checkpoint.flush_interval_ms.max(10),
    ));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut source_done = false;
    let mut finished_on_purpose = false;
    let mut encoder_done = false;
    let mut rec_closed = false;
    let mut failure: Option<Error> = None;
    // Items received from the encoders and not yet handed to the sink (at most one batch).
    let mut pending: VecDeque<Item> = VecDeque::new();
    let max_in_flight = cfg.pipeline.max_in_flight;
    let mut drain_deadline: Option<tokio::time::Instant> = None;

    loop {
        if shutdown.is_cancelled() && drain_deadline.is_none() {
            drain_deadline = Some(
                tokio::time::Instant::now()
                    + Duration::from_secs(cfg.pipeline.shutdown_timeout_secs),
            );
            source_stop.cancel();
            health.set(
                HealthState::Stopping,
                "shutting down: delivering in-flight events",
            );
            info!(
                in_flight = window.len(),
                "Shutdown requested: stopping the source and delivering what is in flight."
            );
        }
        if rec_closed && window.is_empty() && pending.is_empty() {
            break;
        }
        let can_take = pending.is_empty() && !rec_closed && window.len() < max_in_flight;
        tokio::select! {
            biased;
            _ = sink.acks().arrived(), if !window.is_empty() => {
                sink.acks().take(&mut acks);
                let now = Instant::now();
                let base = window.front().map_or(0, |f| f.seq);
                for (seq, outcome) in acks.drain(..) {
                    let Some(slot) = seq.checked_sub(base).and_then(|i| window.get_mut(i as usize)) else {
                        continue; // not in the window: a report from before a restart
                    };
                    match outcome {
                        Ok(()) => {
                            slot.done = true;
                            if let Some(t) = slot.sent_at {
                                metrics::delivered(now.duration_since(t).as_secs_f64());
                            }
                        }
                        Err(f) => {
                            metrics::delivery_error();
                            failure = Some(f.into_error(&slot.topic, &slot.position));
                            break;
                        }
                    }
                }
                if failure.is_some() {
                    break;
                }
                advance(&mut window, &mut state, &store).await?;
                metrics::in_flight(window.len());
            }
            r = &mut source_task, if !source_done => {
                source_done = true;
                match r {
                    Ok(Ok(on_purpose)) => finished_on_purpose = on_purpose,
                    Ok(Err(e)) => { failure = Some(e); break; }
                    Err(e) => { failure = Some(Error::Source(format!("source task failed: {e}"))); break; }
                }
            }
            r = &mut encoder_task, if !encoder_done => {
                encoder_done = true;
                match r {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => { failure = Some(e); break; }
                    Err(e) => { failure = Some(Error::Source(format!("encoder task failed: {e}"))); break; }
                }
            }
            batch = rec_rx.recv(), if can_take => {
                match batch {
                    None => rec_closed = true,
                    Some(batch) => {
                        metrics::queue_depth("sink", rec_rx.len() * ENCODE_BATCH);
                        pending.extend(batch);
                    }
                }
            }
            _ = tick.tick() => {
                state.save(&store, "delivered").await?;
                if drain_deadline.is_some_and(|d| tokio::time::Instant::now() > d) {
                    warn!(in_flight = window.len(), "Shutdown timeout reached with records still in flight; they will be sent again on the next start.");
                    break;
                }
            }
            _ = shutdown.cancelled(), if drain_deadline.is_none() => {
                continue;
            }
        }
        // Hand the received items, and whatever else is already queued (up to a batch), to
        // the sink; wait for room when its queue is full.
        let mut budget = SINK_BATCH;
        let mut failed = false;
        let mut handed = false;
        // One clock read per batch: the records of a batch are sent within microseconds.
        let sent_at = Instant::now();
        while let Some(item) = pending.pop_front() {
            let seq = next_seq;
            match item.record {
                None => window.push_back(InFlight {
                    seq,
                    mark: item.mark,
                    sent_at: None,
                    topic: Arc::from(""),
                    position: Arc::from(""),
                    done: true,
                }),
                Some(rec) => {
                    let bytes = rec.value.as_ref().map_or(0, |v| v.len())
                        + rec.key.as_ref().map_or(0, |k| k.len());
                    let (topic, position) = (rec.topic.clone(), rec.position.clone());
                    match sink.send(rec, seq) {
                        Ok(()) => {
                            metrics::record_sent(bytes);
                            window.push_back(InFlight {
                                seq,
                                mark: item.mark,
                                sent_at: Some(sent_at),
                                topic,
                                position,
                                done: false,
                            });
                        }
                        Err(SendError::QueueFull(rec)) => {
                            pending.push_front(Item {
                                record: Some(rec),
                                mark: item.mark,
                            });
                            if window.is_empty() {
                                tokio::time::sleep(Duration::from_millis(10)).await;
                            }
                            break;
                        }
                        Err(SendError::Failed(e)) => {
                            failure = Some(e);
                            failed = true;
                            break;
                        }
                    }
                }
            }
            next_seq += 1;
            handed = true;
            budget -= 1;
            if budget == 0 || window.len() >= max_in_flight {
                break;
            }
            if pending.is_empty() {
                match rec_rx.try_recv() {
                    Ok(next) => pending.extend(next),
                    Err(mpsc::error::TryRecvError::Empty) => {}
                    Err(mpsc::error::TryRecvError::Disconnected) => rec_closed = true,
                }
            }
        }
        if failed {
            break;
        }
        if handed {
            sink.end_batch();
            // Mark-only items at the front need no acknowledgement.
            advance(&mut window, &mut state, &store).await?;
            metrics::in_flight(window.len());
        }
    }
    source_stop.cancel();
    if !source_done {
        source_task.abort();
    }
    if !encoder_done {
        encoder_task.abort();
    }
    // Save the delivered prefix, whatever happened.
    let reason = if failure.is_some() {
        "delivered before failure"
    } else {
        "shutdown"
    };
    state.save(&store, reason).await?;
    info!(offset = %state.current.offset, reason, "Checkpoint saved.");
    match failure {
        Some(e) => Err(e),
        None if shutdown.is_cancelled() || finished_on_purpose => Ok(()),
        None => Err(Error::SourceTransient(
            "the source stopped unexpectedly".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> CheckpointState {
        CheckpointState {
            current: Checkpoint {
                offset: SourceOffset {
                    binlog: crate::position::BinlogPosition::new("bin.000001", 4),
                    gtid_set: None,
                    skip_rows: 0,
                },
                snapshot: SnapshotState::NotStarted,
                flavor: Some(Flavor::Mariadb),
                updated_at_ms: 0,
                reason: String::new(),
            },
            dirty: false,
            catalog: None,
            row: None,
        }
    }

    fn slot(seq: u64, mark: Option<Mark>, done: bool) -> InFlight {
        InFlight {
            seq,
            mark,
            sent_at: None,
            topic: Arc::from("t"),
            position: Arc::from("p"),
            done,
        }
    }

    fn row(pos: u64, skip_rows: u64) -> Mark {
        Mark::Row(RowMark {
            file: Arc::from("bin.000001"),
            pos,
            gtid_before: None,
            skip_rows,
        })
    }

    /// Acknowledgements arriving out of order move the checkpoint only over the
    /// acknowledged prefix, in submission order, and what is stored names exactly that.
    #[tokio::test]
    async fn only_the_acknowledged_prefix_moves_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn CheckpointStore> = Arc::new(SledStore::open(dir.path()).unwrap());
        let mut st = state();
        let mut window: VecDeque<InFlight> = VecDeque::new();
        window.push_back(slot(0, Some(row(100, 1)), false));
        window.push_back(slot(1, None, false)); // a tombstone: no mark of its own
        window.push_back(slot(2, Some(row(100, 2)), false));
        let commit = SourceOffset {
            binlog: crate::position::BinlogPosition::new("bin.000001", 500),
            gtid_set: None,
            skip_rows: 0,
        };
        window.push_back(slot(3, Some(Mark::Offset(Box::new(commit.clone()))), false));

        // The last two are acknowledged first: nothing may move.
        window[2].done = true;
        window[3].done = true;
        advance(&mut window, &mut st, &store).await.unwrap();
        assert_eq!(window.len(), 4);
        st.save(&store, "test").await.unwrap();
        assert!(store.load().unwrap().is_none(), "nothing is delivered yet");

        // The first one: the checkpoint may resume after its change, inside the transaction.
        window[0].done = true;
        advance(&mut window, &mut st, &store).await.unwrap();
        assert_eq!(window.len(), 3);
        st.save(&store, "test").await.unwrap();
        let saved = store.load().unwrap().unwrap().offset;
        assert_eq!((saved.binlog.pos, saved.skip_rows), (100, 1));

        // The gap closes: everything up to the commit is delivered.
        window[0].done = true;
        advance(&mut window, &mut st, &store).await.unwrap();
        assert!(window.is_empty());
        st.save(&store, "test").await.unwrap();
        assert_eq!(store.load().unwrap().unwrap().offset, commit);
    }

    /// A row mark followed by a catalog mark: the catalog is stored with the row's offset
    /// (the pending row is folded in before any other mark applies).
    #[tokio::test]
    async fn a_pending_row_mark_settles_before_other_marks() {
        let mut st = state();
        st.apply(row(200, 3));
        st.apply(Mark::SnapshotTable("db.t".into()));
        assert!(st.row.is_none());
        assert_eq!(
            (st.current.offset.binlog.pos, st.current.offset.skip_rows),
            (200, 3)
        );
        st.apply(row(300, 1));
        st.settle();
        assert_eq!(
            (st.current.offset.binlog.pos, st.current.offset.skip_rows),
            (300, 1)
        );
    }
}
