//! The encoder pool: `pipeline.encoders` workers encode batches of source events in
//! parallel, and a collector hands their items to the sink loop.
//!
//! Invariant: items leave the pool in source order. The dispatcher sends each batch to the
//! next worker in turn and queues a reply slot for it *in dispatch order*; the collector
//! awaits those slots in that order, so however the workers race, the sink loop sees the
//! items exactly as the source produced them. Transaction metadata numbers events in source
//! order too, so it is annotated in the dispatcher, before the fan-out. The collector makes
//! sure each record's topic exists before the sink sees the record.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::encode::records::{encode_ready, try_encode, Item, RecordRules};
use crate::encode::Encoder;
use crate::envelope::transaction::{TransactionMonitor, TxnMeta};
use crate::error::Result;
use crate::metrics;
use crate::model::budget::{Charge, Charged};
use crate::model::{Flavor, OpSet, SourceEvent};
use crate::sink::Sink;

/// Source events per batch between the dispatcher, the workers and the sink loop: one
/// channel operation and one wake-up per batch, not per event.
pub const ENCODE_BATCH: usize = 64;

type Batch = Vec<(SourceEvent, TxnMeta, Charge)>;
type Reply = oneshot::Sender<Result<Vec<Item>>>;

/// Starts the pool on the events of `src_rx`; its items go to `rec_tx`. The task returned
/// ends when the source queue closes (or the sink loop stops listening), or with the first
/// encoding error.
pub fn spawn(
    cfg: &Config,
    flavor: Flavor,
    sink: Arc<Sink>,
    src_rx: mpsc::Receiver<Charged>,
    rec_tx: mpsc::Sender<Vec<Item>>,
) -> Result<JoinHandle<Result<()>>> {
    let rules = RecordRules {
        tombstones: cfg.sink.tombstones_on_delete,
        schema_changes: cfg.sink.schema_changes,
        skipped: OpSet::from_codes(&cfg.events.skipped_operations),
    };
    let workers = cfg.pipeline.encoders.max(1);
    let mut worker_txs = Vec::with_capacity(workers);
    let mut worker_tasks = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (wtx, wrx) = mpsc::channel::<(Batch, Reply)>(2);
        let encoder = Encoder::for_config(cfg, flavor)?;
        worker_tasks.push(tokio::spawn(work(encoder, rules, wrx)));
        worker_txs.push(wtx);
    }
    let (order_tx, order_rx) = mpsc::channel((cfg.pipeline.source_queue / ENCODE_BATCH).max(2));
    let monitor = cfg
        .format
        .provide_transaction_metadata
        .then(TransactionMonitor::new);
    // The monitor counts a change as the encoders will split it: its own encoder knows
    // each table's key columns (primary key or `events.message_key_columns`).
    let monitor = match monitor {
        Some(m) => Some((m, rules.skipped, Encoder::for_config(cfg, flavor)?)),
        None => None,
    };
    let dispatcher = tokio::spawn(dispatch(src_rx, monitor, worker_txs, order_tx));
    Ok(tokio::spawn(async move {
        // The workers and the dispatcher live as long as the collector.
        let _pool = (worker_tasks, dispatcher);
        collect(order_rx, sink, rec_tx).await
    }))
}

/// One worker: encodes whole batches; the first error of a batch is its reply. Only an
/// event whose schemas must first be registered (Avro) awaits.
async fn work(mut encoder: Encoder, rules: RecordRules, mut rx: mpsc::Receiver<(Batch, Reply)>) {
    while let Some((batch, reply)) = rx.recv().await {
        let mut items = Vec::with_capacity(batch.len() + batch.len() / 4);
        let mut outcome = Ok(());
        for (ev, meta, charge) in batch {
            let before = items.len();
            outcome = match try_encode(&mut encoder, rules, ev, meta, &mut items) {
                Ok(None) => Ok(()),
                Ok(Some(pending)) => encode_ready(&mut encoder, rules, pending, &mut items).await,
                Err(e) => Err(e),
            };
            // The event's bytes stay charged until its last item is acknowledged; an event
            // that made no item gives them back here.
            if items.len() > before {
                if let Some(last) = items.last_mut() {
                    last.charge.absorb(charge);
                }
            }
            if outcome.is_err() {
                break;
            }
        }
        let _ = reply.send(outcome.map(|()| items));
    }
}

/// Batches what is queued, annotates transaction metadata, and deals the batches to the
/// workers in turn, queueing each batch's reply slot in dispatch order.
async fn dispatch(
    mut src_rx: mpsc::Receiver<Charged>,
    mut monitor: Option<(TransactionMonitor, OpSet, Encoder)>,
    workers: Vec<mpsc::Sender<(Batch, Reply)>>,
    order_tx: mpsc::Sender<oneshot::Receiver<Result<Vec<Item>>>>,
) {
    let mut next = 0usize;
    while let Some(first) = src_rx.recv().await {
        metrics::queue_depth("source", src_rx.len());
        // A batch is whatever is already queued, up to ENCODE_BATCH events: a slow trickle
        // of events is never held back waiting for a batch to fill.
        let mut batch = Vec::with_capacity(ENCODE_BATCH.min(src_rx.len() + 1));
        let mut ev = Some(first);
        while let Some(Charged { event: e, charge }) = ev.take() {
            // A change that is not emitted (`events.skipped_operations`) is no data event of
            // its transaction, as with Debezium.
            let meta = match monitor.as_mut() {
                Some((m, skipped, enc)) if !is_skipped(&e, *skipped) => {
                    m.annotate_counted(&e, &mut |c| if enc.split(c).is_some() { 2 } else { 1 })
                }
                _ => TxnMeta::default(),
            };
            batch.push((e, meta, charge));
            if batch.len() < ENCODE_BATCH {
                ev = src_rx.try_recv().ok();
            }
        }
        let (reply_tx, reply_rx) = oneshot::channel();
        if order_tx.send(reply_rx).await.is_err() {
            return;
        }
        // Events of a transaction may go to different workers: the collector restores
        // their order, and each worker's own caches are only an optimisation.
        if workers[next].send((batch, reply_tx)).await.is_err() {
            return;
        }
        next = (next + 1) % workers.len();
    }
}

/// Whether `ev` is a change of an operation in `skipped`.
fn is_skipped(ev: &SourceEvent, skipped: OpSet) -> bool {
    match ev {
        SourceEvent::Change(c) | SourceEvent::Skipped(c) => skipped.contains(c.op),
        _ => false,
    }
}

/// Awaits the replies in dispatch order, makes sure their topics exist, and passes the
/// items on.
async fn collect(
    mut order_rx: mpsc::Receiver<oneshot::Receiver<Result<Vec<Item>>>>,
    sink: Arc<Sink>,
    rec_tx: mpsc::Sender<Vec<Item>>,
) -> Result<()> {
    while let Some(reply) = order_rx.recv().await {
        let Ok(items) = reply.await else {
            return Ok(()); // a worker stopped: the pipeline is shutting down
        };
        let items = items?;
        let mut last: Option<&Arc<str>> = None;
        for r in items.iter().filter_map(|i| i.record.as_ref()) {
            // Records of a batch mostly share a topic: ask the sink once per run of them.
            if last.is_some_and(|t| Arc::ptr_eq(t, &r.topic)) {
                continue;
            }
            sink.ensure_topic(&r.topic).await?;
            last = Some(&r.topic);
        }
        if !items.is_empty() && rec_tx.send(items).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}
