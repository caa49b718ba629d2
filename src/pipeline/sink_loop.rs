//! The sink loop: hands records to the sink, files acknowledgements, and moves the
//! checkpoint over the acknowledged prefix. It owns the checkpoint for the whole run.
//!
//! Invariants:
//! - backpressure: it takes items from the encoders only while fewer than
//!   `pipeline.max_in_flight` records await acknowledgement and the sink's queue has room,
//!   so a slow or absent Kafka slows the binlog reader instead of growing memory;
//! - acknowledgements may arrive in any order, but only the marks of the contiguous
//!   acknowledged prefix move the checkpoint ([`AckWindow`]);
//! - `select!` is biased: acknowledgements first, then the other tasks' outcomes, then new
//!   items, so deliveries are never starved by a busy source;
//! - on shutdown the source stops first, everything already read is delivered (up to
//!   `pipeline.shutdown_timeout_secs`), and the exact offset — including how far into a
//!   transaction — is saved whatever happened.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinHandle};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::encoders::ENCODE_BATCH;
use super::txn_bounds::TxnBounds;
use crate::checkpoint::{AckWindow, CheckpointState, StoreHandle};
use crate::config::Config;
use crate::encode::records::Item;
use crate::error::{Error, Result};
use crate::http::{Health, HealthState};
use crate::metrics;
use crate::model::budget::ByteBudget;
use crate::sink::{Ack, SendError, Sink};

/// Records handed to the sink per turn of the loop before it looks at deliveries, the
/// checkpoint timer and shutdown again.
const SINK_BATCH: usize = 1024;

/// The other tasks of the run, whose outcome the loop watches.
pub struct Tasks {
    /// `Ok(true)` when the source finished on purpose.
    pub source: JoinHandle<Result<bool>>,
    pub encoders: JoinHandle<Result<()>>,
}

/// The sink loop's state for one run.
pub struct SinkLoop {
    pub sink: Arc<Sink>,
    pub store: StoreHandle,
    pub state: CheckpointState,
    pub health: Arc<Health>,
    pub shutdown: CancellationToken,
    /// Stops the source (first, on shutdown).
    pub source_stop: CancellationToken,
    pub max_in_flight: usize,
    pub flush_interval: Duration,
    pub shutdown_timeout: Duration,
    /// `exactly_once`: the bounds of a transaction (the commit of a transaction is the
    /// acknowledgement: the checkpoint is saved only with it); `None`: at-least-once.
    pub transactions: Option<TxnBounds>,
}

impl SinkLoop {
    pub fn new(
        cfg: &Config,
        sink: Arc<Sink>,
        store: StoreHandle,
        state: CheckpointState,
        health: Arc<Health>,
        shutdown: CancellationToken,
        source_stop: CancellationToken,
    ) -> Self {
        Self {
            sink,
            store,
            state,
            health,
            shutdown,
            source_stop,
            max_in_flight: cfg.pipeline.max_in_flight,
            // Exactly-once: the timer also ends transactions that reached their age.
            flush_interval: Duration::from_millis(match cfg.sink.delivery {
                crate::config::Delivery::ExactlyOnce => cfg
                    .checkpoint
                    .flush_interval_ms
                    .min(cfg.sink.transaction_max_ms)
                    .max(10),
                crate::config::Delivery::AtLeastOnce => cfg.checkpoint.flush_interval_ms.max(10),
            }),
            shutdown_timeout: Duration::from_secs(cfg.pipeline.shutdown_timeout_secs),
            transactions: (cfg.sink.delivery == crate::config::Delivery::ExactlyOnce)
                .then(|| TxnBounds::new(&cfg.sink)),
        }
    }

    /// Runs until the items end (shutdown or the source finished) or a failure; always
    /// saves the delivered prefix before returning.
    pub async fn run(
        self,
        tasks: Tasks,
        rec_rx: mpsc::Receiver<Vec<Item>>,
        budget: ByteBudget,
    ) -> Result<()> {
        let mut window = AckWindow::default();
        if self.transactions.is_some() {
            // Snapshot progress is saved with the next commit, never on its own (a save
            // commits the open transaction).
            window.defer_saves();
        }
        let mut run = Running {
            lp: self,
            budget,
            window,
            acks: Vec::new(),
            pending: VecDeque::new(),
            rec_rx,
            rec_closed: false,
            drain_deadline: None,
        };
        let mut tasks = tasks;
        let outcome = run.turns(&mut tasks).await;
        run.finish(tasks, outcome).await
    }
}

/// How the turns ended.
struct Outcome {
    failure: Option<Error>,
    source_done: bool,
    encoders_done: bool,
    finished_on_purpose: bool,
}

struct Running {
    lp: SinkLoop,
    /// The run's byte budget (`pipeline.max_in_flight_bytes`), for its gauge.
    budget: ByteBudget,
    window: AckWindow,
    acks: Vec<Ack>,
    /// Items received from the encoders and not yet handed to the sink (about one batch).
    pending: VecDeque<Item>,
    rec_rx: mpsc::Receiver<Vec<Item>>,
    rec_closed: bool,
    drain_deadline: Option<tokio::time::Instant>,
}

impl Running {
    async fn turns(&mut self, tasks: &mut Tasks) -> Outcome {
        let mut out = Outcome {
            failure: None,
            source_done: false,
            encoders_done: false,
            finished_on_purpose: false,
        };
        let mut tick = tokio::time::interval(self.lp.flush_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            self.begin_drain_if_asked();
            if self.rec_closed && self.window.is_empty() && self.pending.is_empty() {
                out.failure = ended_tasks(tasks, &mut out).await;
                return out;
            }
            let can_take = self.pending.is_empty()
                && !self.rec_closed
                && self.window.len() < self.lp.max_in_flight;
            // Items are waiting and nothing in flight will wake the loop (no acknowledgement
            // to come): hand them over at once instead of at the next tick. After an
            // exactly-once commit the loop holds what it took meanwhile with an empty
            // window; waiting for the tick idled the sink for most of a flush interval per
            // transaction.
            let stalled = !self.pending.is_empty() && self.window.is_empty();
            let turn: Result<bool> = tokio::select! {
                biased;
                _ = self.lp.sink.acks().arrived(), if !self.window.is_empty() => self.on_acks().await,
                r = &mut tasks.source, if !out.source_done => {
                    out.source_done = true;
                    joined(r, "source").map(|on_purpose| {
                        out.finished_on_purpose = on_purpose;
                        true
                    })
                }
                r = &mut tasks.encoders, if !out.encoders_done => {
                    out.encoders_done = true;
                    joined(r, "encoder").map(|()| true)
                }
                batch = self.rec_rx.recv(), if can_take => {
                    match batch {
                        None => self.rec_closed = true,
                        Some(batch) => {
                            metrics::queue_depth("sink", self.rec_rx.len() * ENCODE_BATCH);
                            self.pending.extend(batch);
                        }
                    }
                    Ok(true)
                }
                e = self.lp.sink.fault() => Err(e),
                _ = tick.tick() => self.on_tick().await,
                _ = self.lp.shutdown.cancelled(), if self.drain_deadline.is_none() => Ok(true),
                _ = std::future::ready(()), if stalled => Ok(true),
            };
            let go_on = match turn {
                Ok(go_on) => go_on,
                Err(e) => {
                    out.failure = Some(e);
                    return out;
                }
            };
            if !go_on {
                return out;
            }
            if let Err(e) = self.hand_over().await {
                out.failure = Some(e);
                return out;
            }
        }
    }

    /// On shutdown: stop the source and give the rest `shutdown_timeout` to drain.
    fn begin_drain_if_asked(&mut self) {
        if !self.lp.shutdown.is_cancelled() || self.drain_deadline.is_some() {
            return;
        }
        self.drain_deadline = Some(tokio::time::Instant::now() + self.lp.shutdown_timeout);
        self.lp.source_stop.cancel();
        self.lp.health.set(
            HealthState::Stopping,
            "shutting down: delivering in-flight events",
        );
        info!(
            in_flight = self.window.len(),
            "Shutdown requested: stopping the source and delivering what is in flight."
        );
    }

    async fn on_acks(&mut self) -> Result<bool> {
        self.lp.sink.acks().take(&mut self.acks);
        self.window.acknowledge(&mut self.acks)?;
        self.window
            .advance(&mut self.lp.state, &self.lp.store)
            .await?;
        metrics::bytes_held(self.budget.charged());
        self.lp.health.kafka_waiting(self.window.waiting_since());
        Ok(true)
    }

    /// Saves what was delivered (exactly-once: commits when due); `Ok(false)` when the
    /// shutdown timeout has passed.
    async fn on_tick(&mut self) -> Result<bool> {
        match &self.lp.transactions {
            Some(b) if b.due() => self.commit().await?,
            Some(_) => {}
            None => self.lp.state.save(&self.lp.store, "delivered").await?,
        }
        // The loop's turn is the run's sign of life; the window says whether Kafka keeps
        // records waiting.
        self.lp.health.kafka_waiting(self.window.waiting_since());
        if self
            .drain_deadline
            .is_some_and(|d| tokio::time::Instant::now() > d)
        {
            warn!(in_flight = self.window.len(), "Shutdown timeout reached with records still in flight; they will be sent again on the next start.");
            return Ok(false);
        }
        Ok(true)
    }

    /// Hands the pending items, and whatever else is already queued (up to a batch), to
    /// the sink; stops early when its queue is full or the window is.
    async fn hand_over(&mut self) -> Result<()> {
        let mut budget = SINK_BATCH;
        let mut handed = false;
        // One clock read per batch: the records of a batch are sent within microseconds.
        let sent_at = Instant::now();
        while let Some(item) = self.pending.pop_front() {
            match item.record {
                None => {
                    if let Some(b) = &mut self.lp.transactions {
                        b.handed(None, item.mark.is_some());
                    }
                    self.window.push_mark(item.mark);
                    self.window.hold(item.charge);
                }
                Some(rec) => {
                    let bytes = rec.value.as_ref().map_or(0, |v| v.len())
                        + rec.key.as_ref().map_or(0, |k| k.len());
                    let (topic, position) = (rec.topic.clone(), rec.position.clone());
                    match self.lp.sink.send(rec, self.window.next_seq()) {
                        Ok(()) => {
                            metrics::record_sent(bytes);
                            // Counted only once the sink took it: whether the transaction may
                            // end here depends on the last record really in it.
                            if let Some(b) = &mut self.lp.transactions {
                                b.handed(Some(bytes), item.mark.is_some());
                            }
                            self.window.push_sent(item.mark, sent_at, topic, position);
                            self.window.hold(item.charge);
                        }
                        Err(SendError::QueueFull(rec)) => {
                            self.pending.push_front(Item {
                                record: Some(*rec),
                                mark: item.mark,
                                charge: item.charge,
                            });
                            if self.window.is_empty() {
                                tokio::time::sleep(Duration::from_millis(10)).await;
                            }
                            break;
                        }
                        Err(SendError::Failed(e)) => return Err(e),
                    }
                }
            }
            handed = true;
            budget -= 1;
            if budget == 0 || self.window.len() >= self.lp.max_in_flight {
                break;
            }
            if self
                .lp
                .transactions
                .as_ref()
                .is_some_and(|b| b.full() && b.at_boundary())
            {
                break;
            }
            if self.pending.is_empty() {
                match self.rec_rx.try_recv() {
                    Ok(next) => self.pending.extend(next),
                    Err(mpsc::error::TryRecvError::Empty) => {}
                    Err(mpsc::error::TryRecvError::Disconnected) => self.rec_closed = true,
                }
            }
        }
        if handed {
            self.lp.sink.end_batch();
            // Mark-only items at the front need no acknowledgement.
            self.window
                .advance(&mut self.lp.state, &self.lp.store)
                .await?;
            metrics::bytes_held(self.budget.charged());
        }
        if self.lp.transactions.as_ref().is_some_and(|b| b.due()) {
            self.commit().await?;
        }
        Ok(())
    }

    /// Exactly-once: waits until every record handed over is written to its partition (so
    /// the state names the position after the last one), then saves the state, which
    /// sends the state records into the open transaction and commits it. The commit is
    /// the acknowledgement.
    ///
    /// Nothing is handed to the sink meanwhile, but the encoders' batches keep being taken
    /// into `pending` (up to `pipeline.max_in_flight` records held by the loop in all,
    /// each still charged to the byte budget), so the stages before the sink work on
    /// through the commit instead of stalling behind a full queue.
    async fn commit(&mut self) -> Result<()> {
        let began = Instant::now();
        while !self.window.is_empty() {
            self.begin_drain_if_asked();
            if self
                .drain_deadline
                .is_some_and(|d| tokio::time::Instant::now() > d)
            {
                return Err(Error::Shutdown);
            }
            let take = self.can_stash();
            tokio::select! {
                biased;
                _ = self.lp.sink.acks().arrived() => {}
                e = self.lp.sink.fault() => return Err(e),
                batch = self.rec_rx.recv(), if take => {
                    stash(&mut self.pending, &mut self.rec_closed, batch);
                    continue;
                }
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
            self.on_acks().await?;
        }
        let drained = began.elapsed();
        self.lp.state.force_save();
        let held = self.lp.max_in_flight;
        {
            let save = self.lp.state.save(&self.lp.store, "committed");
            tokio::pin!(save);
            loop {
                let take = !self.rec_closed && self.pending.len() < held;
                tokio::select! {
                    biased;
                    r = &mut save => {
                        r?;
                        break;
                    }
                    batch = self.rec_rx.recv(), if take => {
                        stash(&mut self.pending, &mut self.rec_closed, batch);
                    }
                }
            }
        }
        tracing::debug!(
            drain_ms = drained.as_millis() as u64,
            commit_ms = (began.elapsed() - drained).as_millis() as u64,
            taken_meanwhile = self.pending.len(),
            offset = %self.lp.state.offset(),
            "Transaction committed."
        );
        if let Some(b) = &mut self.lp.transactions {
            b.reset();
        }
        Ok(())
    }

    /// Whether the loop may take another batch while a commit waits: it holds fewer than
    /// `pipeline.max_in_flight` records (in flight plus pending) and the encoders still send.
    fn can_stash(&self) -> bool {
        !self.rec_closed && self.window.len() + self.pending.len() < self.lp.max_in_flight
    }

    /// Exactly-once, at the end of a run: commits what was handed over when the run ends
    /// cleanly at a boundary, else aborts it (the next run resumes from the committed
    /// state).
    async fn end_transaction(&mut self, clean: bool) -> Result<()> {
        let Some(b) = &self.lp.transactions else {
            return Ok(());
        };
        let (open, at_boundary) = (b.is_open(), b.at_boundary());
        if clean && open && at_boundary {
            match self.commit().await {
                Ok(()) => return Ok(()),
                Err(e) => {
                    warn!(error = %e, "The last transaction could not be committed; aborting it.")
                }
            }
        } else if open {
            info!("Aborting the open transaction: the next run resumes from the last committed state.");
        }
        let Some(txn) = self.lp.sink.transactions().cloned() else {
            return Ok(());
        };
        if let Some(b) = &mut self.lp.transactions {
            b.reset();
        }
        tokio::task::spawn_blocking(move || txn.abort())
            .await
            .map_err(|source| Error::Task {
                task: "transaction abort",
                source,
            })?
    }

    /// Stops what still runs and saves the delivered prefix, whatever happened.
    async fn finish(mut self, tasks: Tasks, out: Outcome) -> Result<()> {
        self.lp.source_stop.cancel();
        if !out.source_done {
            tasks.source.abort();
        }
        if !out.encoders_done {
            tasks.encoders.abort();
        }
        let reason = if out.failure.is_some() {
            "delivered before failure"
        } else {
            "shutdown"
        };
        let saved = match self.lp.transactions.is_some() {
            true => self.end_transaction(out.failure.is_none()).await,
            false => self.lp.state.save(&self.lp.store, reason).await,
        };
        if self.lp.transactions.is_none() {
            info!(offset = %self.lp.state.offset(), reason, "Checkpoint saved.");
        }
        match (out.failure, saved) {
            // A store that cannot save is the graver problem: it stops the engine.
            (Some(e), Err(save)) => {
                warn!(error = %e, "The pipeline failed, and then the checkpoint could not be saved.");
                Err(save)
            }
            (Some(e), Ok(())) => Err(e),
            (None, Err(save)) => Err(save),
            (None, Ok(())) if self.lp.shutdown.is_cancelled() || out.finished_on_purpose => Ok(()),
            (None, Ok(())) => Err(Error::SourceTransient(
                "the source stopped unexpectedly".into(),
            )),
        }
    }
}

/// The encoders closed their queue: their outcome, and the source's if it ended too, is the
/// run's (an encoding error must stop the run as itself, not as "the source stopped"). The
/// encoders end right after closing the queue; the source is given a moment (it ends when
/// the encoders stop reading).
async fn ended_tasks(tasks: &mut Tasks, out: &mut Outcome) -> Option<Error> {
    if !out.encoders_done {
        out.encoders_done = true;
        if let Err(e) = joined((&mut tasks.encoders).await, "encoder") {
            return Some(e);
        }
    }
    if !out.source_done {
        if let Ok(r) = tokio::time::timeout(Duration::from_secs(5), &mut tasks.source).await {
            out.source_done = true;
            match joined(r, "source") {
                Ok(on_purpose) => out.finished_on_purpose = on_purpose,
                Err(e) => return Some(e),
            }
        }
    }
    None
}

/// The outcome of a task of the run; a task that panicked or was cancelled is an error.
fn joined<T>(r: std::result::Result<Result<T>, JoinError>, task: &'static str) -> Result<T> {
    r.map_err(|source| Error::Task { task, source })?
}

/// Appends a batch taken while a commit waits (or notes that the encoders finished).
fn stash(pending: &mut VecDeque<Item>, closed: &mut bool, batch: Option<Vec<Item>>) {
    match batch {
        Some(batch) => pending.extend(batch),
        None => *closed = true,
    }
}
