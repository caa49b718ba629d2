//! The main job, wired: source → encoders → sink loop, joined by bounded channels, with a
//! supervisor that restarts the run from the checkpoint after transient failures.
//!
//! # Stages (one file each; each states its invariant)
//! - [`plan`]: what a run does first (stream, snapshot, resume a snapshot, nothing);
//! - [`source_task`]: the snapshot, then the binlog stream, into the source queue in log
//!   order;
//! - [`incremental`]: signals and incremental snapshots (the watermark algorithm), between
//!   the stream and the source queue;
//! - [`blocking`]: blocking snapshots on signals: the tables at one consistent point,
//!   emitted when the relayed stream reaches that point, while the stream waits;
//! - [`encoders`]: a pool of encoder workers whose items leave in source order;
//! - [`sink_loop`]: hands records to the sink, files acknowledgements, moves the checkpoint
//!   over the acknowledged prefix, and applies backpressure.
//!
//! This file only connects them ([`run_once`]) and restarts them ([`run`]): it holds no
//! rule of its own.

mod blocking;
mod encoders;
mod incremental;
mod plan;
mod sink_loop;
mod snapshot_ddl;
mod source_task;
mod txn_bounds;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::backoff::Backoff;
use crate::checkpoint::{CheckpointState, StoreHandle};
use crate::config::Config;
use crate::encode::records::Item;
use crate::error::{Error, Result};
use crate::http::{Health, HealthState};
use crate::metrics;
use crate::model::budget::{ByteBudget, Charged, EventTx};
use crate::mysql;
use crate::sink::Sink;

use self::encoders::ENCODE_BATCH;
use self::plan::Plan;
use self::sink_loop::{SinkLoop, Tasks};
use self::source_task::SourceStart;

/// A run that lasted this long without failing was healthy: the next failure starts the
/// backoff from its first delay again.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// Runs until `shutdown` fires (Ok) or a definite error (Err). Transient failures restart
/// the pipeline from the stored checkpoint with backoff, giving up after
/// `source.max_reconnect_attempts` consecutive failures when that is set.
pub async fn run(cfg: Config, shutdown: CancellationToken) -> Result<()> {
    let health = serve_ops(&cfg, &shutdown).await?;
    let store = StoreHandle::open(&cfg).await?;
    supervise(&cfg, &store, &health, &shutdown).await
}

/// Installs the metrics and serves `/metrics` and the probes (when `metrics.listen` is
/// set) until `shutdown`; returns the health the probes read.
pub async fn serve_ops(cfg: &Config, shutdown: &CancellationToken) -> Result<Arc<Health>> {
    let handle = metrics::install();
    let health = Arc::new(Health::new(
        Duration::from_secs(cfg.metrics.liveness_timeout_secs.max(1)),
        Duration::from_secs(cfg.metrics.readiness_ack_timeout_secs.max(1)),
    ));
    metrics::started(&cfg.pipeline);
    if !cfg.metrics.listen.is_empty() {
        let addr = crate::http::serve(
            &cfg.metrics.listen,
            handle,
            health.clone(),
            shutdown.clone(),
        )
        .await?;
        info!(%addr, "Serving /metrics, /livez, /readyz and /healthz.");
    }
    Ok(health)
}

/// Runs the pipeline on `store` until `shutdown` fires (Ok) or a definite error (Err),
/// restarting it from the stored checkpoint after transient failures (see [`run`]).
pub async fn supervise(
    cfg: &Config,
    store: &StoreHandle,
    health: &Arc<Health>,
    shutdown: &CancellationToken,
) -> Result<()> {
    // Restarts of the whole pipeline step from at least 100 ms (a jittered delay is at least
    // half a step), whatever the source's setting.
    let mut backoff = Backoff::new(
        Duration::from_millis(cfg.source.reconnect_backoff_ms.max(100)),
        Duration::from_millis(cfg.source.reconnect_backoff_max_ms.max(100)),
        cfg.source.max_reconnect_attempts,
    );
    loop {
        let started = Instant::now();
        let e = match run_once(cfg, store, health, shutdown).await {
            Ok(()) => {
                health.set(HealthState::Stopping, "stopped");
                info!("Stopped.");
                return Ok(());
            }
            Err(e) if shutdown.is_cancelled() && e.is_transient() => return Ok(()),
            // Replaced by another instance: the caller decides (`[ha]` stands by).
            Err(e) if e.is_fenced() => {
                health.set(HealthState::Failed, e.to_string());
                return Err(e);
            }
            Err(e) => e,
        };
        if started.elapsed() > HEALTHY_RUN {
            backoff.reset();
        }
        let delay = match e.is_transient() {
            true => backoff.fail(),
            false => None,
        };
        let Some(delay) = delay else {
            let e = match e.is_transient() {
                true => Error::gave_up(backoff.limit(), e),
                false => e,
            };
            health.set(HealthState::Failed, e.to_string());
            error!(error = %e, "Stopped on a definite error.");
            return Err(e);
        };
        health.backoff(e.to_string(), delay);
        metrics::connected(false);
        warn!(error = %e, delay_ms = delay.as_millis() as u64, attempt = backoff.failures(), "Pipeline interrupted; restarting from the checkpoint.");
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// One run: plan, then start the source, the encoder pool and the sink loop, and wait for
/// the sink loop (which watches the other two).
async fn run_once(
    cfg: &Config,
    store: &StoreHandle,
    health: &Arc<Health>,
    shutdown: &CancellationToken,
) -> Result<()> {
    health.set(HealthState::Starting, "connecting to the source");
    metrics::connected(false);
    let stored = store.load().await?;
    let mut conn = mysql::connect(&cfg.source).await?;
    let info = mysql::server_info(&mut conn, cfg.source.flavor).await?;
    crate::preflight::require_server_settings(&mut conn).await?;
    let flavor = info.flavor;
    let start = plan::plan(cfg, store, stored.checkpoint, flavor, &mut conn, &info).await?;
    let _ = conn.disconnect().await;
    if matches!(start.plan, Plan::Done) {
        return Ok(());
    }
    // Exactly-once: the sink writes through the state's transactional producer.
    let txn = store.transactions().await?;
    let sink = Arc::new(match &txn {
        Some(t) => Sink::transactional(&cfg.sink, t.clone())?,
        None => Sink::new(&cfg.sink)?,
    });
    sink.verify_access().await?;
    // The source stops first on shutdown; the rest drains.
    let source_stop = shutdown.child_token();
    let (src_tx, src_rx) = mpsc::channel::<Charged>(cfg.pipeline.source_queue);
    let budget = ByteBudget::new(cfg.pipeline.max_in_flight_bytes);
    let src_tx = EventTx::Charged(src_tx, budget.clone());
    // Items travel in batches of up to ENCODE_BATCH events; the queue's capacity stays what
    // the configuration says, in events.
    let (rec_tx, rec_rx) =
        mpsc::channel::<Vec<Item>>((cfg.pipeline.sink_queue / ENCODE_BATCH).max(2));
    let state = CheckpointState::new(start.checkpoint.clone(), flavor);
    let source_start = SourceStart {
        plan: start.plan,
        info,
        checkpoint: start.checkpoint,
        catalog: stored.catalog,
    };
    let encoders = encoders::spawn(cfg, flavor, sink.clone(), src_rx, rec_tx)?;
    let tasks = Tasks {
        source: tokio::spawn(source_task::run(
            cfg.clone(),
            source_start,
            store.clone(),
            health.clone(),
            src_tx,
            source_stop.clone(),
        )),
        encoders,
    };
    let sink_loop = SinkLoop::new(
        cfg,
        sink,
        store.clone(),
        state,
        health.clone(),
        shutdown.clone(),
        source_stop,
    );
    let outcome = sink_loop.run(tasks, rec_rx, budget).await;
    match (outcome, txn) {
        (Err(e), Some(txn)) => Err(after_failed_transactions(store, &txn, e).await),
        (outcome, _) => outcome,
    }
}

/// Exactly-once, after a failed run: the open transaction was aborted; the next run starts
/// a new producer (fencing this one) and reads the committed state. A producer fenced by
/// another instance is [`Error::Fenced`], whatever error showed it first.
async fn after_failed_transactions(
    store: &StoreHandle,
    txn: &crate::sink::transactional::TxnProducer,
    e: Error,
) -> Error {
    let e = match (e.is_fenced(), txn.fenced()) {
        (false, Some(fenced)) => fenced,
        (true, _) => match e {
            Error::Fenced { detail, .. } => Error::Fenced {
                transactional_id: txn.id().to_string(),
                detail,
            },
            other => other,
        },
        (false, None) => e,
    };
    if e.is_fenced() {
        error!(transactional_id = %txn.id(), "Fenced: another rowtide instance with the same transactional.id took over; this instance writes nothing more.");
    } else {
        warn!(error = %e, "Exactly-once run failed: its open transaction is aborted; restarting from the last committed state.");
    }
    store.restart_transactions().await;
    e
}
