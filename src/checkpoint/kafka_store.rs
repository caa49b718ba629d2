//! The Kafka state store (`checkpoint.store = "kafka"`): the checkpoint and the schema
//! history as records of one compacted, single-partition topic on the sink's cluster (see
//! [`super::state_records`] for the layout), so the state survives the loss of the machine.
//!
//! - Writes go through a transactional producer with a stable `transactional.id` derived
//!   from the topic ([`transactional_id`]): each save is one transaction, so a checkpoint and
//!   the catalog saved with it become visible together or not at all, and `save` returns
//!   only after the commit was acknowledged. Initializing the producer fences any earlier
//!   instance with the same id and aborts the transaction it left open. This producer is
//!   also the seam for exactly-once delivery: the records of a batch can join the state
//!   records ([`super::state_records::StateView::save_records`]) in one transaction.
//! - Reads fold the whole topic, `read_committed`, from the beginning to the high watermark
//!   (a writer fences first, so no transaction of its own predecessor is left open).
//! - A read-only store (`rowtide check`, `offsets show`) never initializes transactions, so
//!   it never fences a running rowtide; it reads up to the last stable offset.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::state_records::{StateRecord, StateView, GENERATION_HEADER};
use super::state_topic::{self, topic_error, transaction_error};
use super::{Checkpoint, CheckpointStore};
use crate::config::SinkConfig;
use crate::error::{Error, Result};
use crate::model::TableDesc;
use crate::sink::kafka::{client_config, Fault, Identity, KafkaContext};

/// How long a read of the state topic may go without progress before it fails.
const READ_STALL: Duration = Duration::from_secs(30);
/// Bound of a transaction's commit (and of the producer's initialization).
const TXN_TIMEOUT: Duration = Duration::from_secs(60);

/// The `transactional.id` of the store's producer: stable per state topic, so a restarted
/// (or a second) rowtide on the same state fences the previous one.
pub fn transactional_id(topic: &str) -> String {
    format!("rowtide-state-{topic}")
}

/// Whether the store may write (and so fences earlier writers when it starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    ReadOnly,
}

pub struct KafkaStore {
    topic: String,
    sink: SinkConfig,
    access: Access,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Created, with its transactions initialized, on the first use of a writer.
    producer: Option<ThreadedProducer<KafkaContext>>,
    /// The topic's state as last read or written; `None` after a failed write (re-read).
    view: Option<StateView>,
}

impl KafkaStore {
    /// A store on `topic` with the sink's connection settings. Nothing is contacted until
    /// the first call.
    pub fn new(sink: &SinkConfig, topic: &str, access: Access) -> Self {
        Self {
            topic: topic.to_string(),
            sink: sink.clone(),
            access,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state, read once (a writer first makes sure of the topic and fences).
    fn view<'a>(&self, inner: &'a mut Inner) -> Result<&'a mut StateView> {
        if self.access == Access::ReadWrite && inner.producer.is_none() {
            state_topic::ensure(&self.sink, &self.topic)?;
            inner.producer = Some(self.producer()?);
            inner.view = None;
        }
        if inner.view.is_none() {
            let view = read_topic(&self.sink, &self.topic, self.access)?;
            inner.view = Some(view);
        }
        // Set just above when it was `None`.
        Ok(inner.view.get_or_insert_with(StateView::default))
    }

    /// The transactional producer, initialized (which fences earlier instances).
    fn producer(&self) -> Result<ThreadedProducer<KafkaContext>> {
        let id = transactional_id(&self.topic);
        let mut conf = client_config(&self.sink);
        conf.set("transactional.id", &id)
            .set("allow.auto.create.topics", "false")
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "0")
            .set("client.id", "rowtide-state")
            .set("transaction.timeout.ms", "60000")
            .set("message.timeout.ms", "55000");
        let p: ThreadedProducer<KafkaContext> = conf
            .create_with_context(KafkaContext::new(
                Identity::of(&self.sink),
                Arc::new(Fault::default()),
            ))
            .map_err(|e| Error::Config(format!("sink.kafka: invalid producer setting: {e}")))?;
        p.init_transactions(TXN_TIMEOUT)
            .map_err(|e| transaction_error(&self.topic, &id, e))?;
        tracing::debug!(topic = %self.topic, transactional_id = %id, "State store producer ready.");
        Ok(p)
    }

    /// Writes `records` in one transaction and folds them into the view once committed.
    fn write(&self, make: impl FnOnce(&StateView) -> Result<Vec<StateRecord>>) -> Result<()> {
        if self.access == Access::ReadOnly {
            return Err(topic_error(
                &self.topic,
                "internal error: a write through a read-only state store".into(),
            ));
        }
        let mut inner = self.lock();
        let records = make(self.view(&mut inner)?)?;
        let producer = inner
            .producer
            .as_ref()
            .expect("view() creates the producer of a writer");
        match commit(producer, &self.topic, &records) {
            Ok(()) => {
                if let Some(v) = inner.view.as_mut() {
                    v.apply_written(&records);
                }
                Ok(())
            }
            Err(failed) => {
                let (e, fatal) = *failed;
                // The outcome may be unknown: read the topic again before the next write,
                // and start over with a new producer after a fatal error.
                inner.view = None;
                if fatal {
                    inner.producer = None;
                }
                Err(e)
            }
        }
    }

    fn invalid(&self, reason: String) -> Error {
        topic_error(&self.topic, reason)
    }
}

/// One transaction: begin, send every record, commit. On failure: the error and whether the
/// producer is unusable (fatal) — an abortable transaction is aborted here.
fn commit(
    producer: &ThreadedProducer<KafkaContext>,
    topic: &str,
    records: &[StateRecord],
) -> std::result::Result<(), Box<(Error, bool)>> {
    let id = transactional_id(topic);
    let fail = |e: KafkaError| {
        let fatal = matches!(&e, KafkaError::Transaction(r) if r.is_fatal());
        let abortable = matches!(&e, KafkaError::Transaction(r) if r.txn_requires_abort());
        if abortable || !fatal {
            let _ = producer.abort_transaction(TXN_TIMEOUT);
        }
        Box::new((transaction_error(topic, &id, e), fatal))
    };
    producer.begin_transaction().map_err(fail)?;
    for r in records {
        let generation = r.generation.map(|g| g.to_string());
        loop {
            let mut rec: BaseRecord<'_, str, [u8], usize> =
                BaseRecord::with_opaque_to(topic, 0).key(r.key.as_str());
            if let Some(v) = &r.value {
                rec = rec.payload(v.as_slice());
            }
            if let Some(g) = &generation {
                rec = rec.headers(OwnedHeaders::new().insert(Header {
                    key: GENERATION_HEADER,
                    value: Some(g.as_bytes()),
                }));
            }
            match producer.send(rec) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge), _)) => {
                    let _ = producer.abort_transaction(TXN_TIMEOUT);
                    return Err(Box::new((
                        topic_error(
                            topic,
                            format!(
                                "the state record {} is {} bytes, over the producer's \
                                 message.max.bytes: raise message.max.bytes in [sink.kafka] \
                                 and max.message.bytes on the state topic",
                                r.key,
                                r.value.as_ref().map_or(0, Vec::len)
                            ),
                        ),
                        false,
                    )));
                }
                Err((e, _)) => return Err(fail(e)),
            }
        }
    }
    producer.commit_transaction(TXN_TIMEOUT).map_err(fail)?;
    // Each record's fate is the commit's; drop the per-record reports.
    producer.context().acks().take(&mut Vec::new());
    Ok(())
}

/// Folds the whole topic into a view, `read_committed`. A writer reads up to the high
/// watermark (it fenced its predecessor first, so nothing of its own is left open); a
/// reader stops at the end the consumer reports (the last stable offset).
fn read_topic(sink: &SinkConfig, topic: &str, access: Access) -> Result<StateView> {
    let mut view = StateView::default();
    let mut conf = client_config(sink);
    conf.set("isolation.level", "read_committed")
        .set("allow.auto.create.topics", "false")
        // librdkafka assigns partitions only with a group id; no offset is ever committed.
        .set("group.id", transactional_id(topic))
        .set("enable.partition.eof", "true")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("client.id", "rowtide-state");
    let c: BaseConsumer<KafkaContext> = conf
        .create_with_context(KafkaContext::new(
            Identity::of(sink),
            Arc::new(Fault::default()),
        ))
        .map_err(|e| Error::Config(format!("sink.kafka: invalid consumer setting: {e}")))?;
    let kafka = |what: &str, source| Error::Kafka {
        context: format!("state topic {topic}: {what}"),
        source,
    };
    let md = c
        .fetch_metadata(Some(topic), READ_STALL)
        .map_err(|e| kafka("cannot read metadata", e))?;
    let exists = md
        .topics()
        .first()
        .is_some_and(|t| t.error().is_none() && !t.partitions().is_empty());
    if !exists {
        return Ok(view);
    }
    let (low, high) = c
        .fetch_watermarks(topic, 0, READ_STALL)
        .map_err(|e| kafka("cannot read its offsets", e))?;
    if high <= low {
        return Ok(view);
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .map_err(|e| kafka("cannot assign it", e))?;
    c.assign(&tpl).map_err(|e| kafka("cannot assign it", e))?;
    let mut progress = Instant::now();
    let mut records = 0u64;
    loop {
        match c.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let generation = m.headers().and_then(|hs| {
                    hs.iter()
                        .find(|h| h.key == GENERATION_HEADER)
                        .and_then(|h| h.value)
                        .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
                });
                if let Some(k) = m.key() {
                    view.apply(k, m.payload(), generation);
                }
                records += 1;
                progress = Instant::now();
            }
            Some(Err(KafkaError::PartitionEOF(_))) => {
                let at = c
                    .position()
                    .ok()
                    .and_then(|p| p.find_partition(topic, 0)?.offset().to_raw())
                    .unwrap_or(0);
                if access == Access::ReadOnly || at >= high {
                    break;
                }
            }
            Some(Err(e)) => return Err(kafka("read failed", e)),
            None => {}
        }
        if progress.elapsed() > READ_STALL {
            return Err(topic_error(
                topic,
                format!(
                    "reading the state stalled after {records} records (high watermark \
                     {high}): another producer holds a transaction open on the topic (a second \
                     rowtide writing to it?), or the brokers do not answer"
                ),
            ));
        }
    }
    tracing::info!(topic, records, "Read the state topic.");
    Ok(view)
}

impl CheckpointStore for KafkaStore {
    fn load(&self) -> Result<Option<Checkpoint>> {
        let mut inner = self.lock();
        let cp = self.view(&mut inner)?.checkpoint();
        cp.map_err(|r| self.invalid(r))
    }

    fn save(&self, cp: &Checkpoint) -> Result<()> {
        self.write(|v| {
            v.save_records(cp, None)
                .map_err(|e| self.invalid(format!("serialize: {e}")))
        })
    }

    fn clear(&self) -> Result<()> {
        self.write(|v| Ok(v.clear_records()))
    }

    fn load_catalog(&self) -> Result<Option<Vec<TableDesc>>> {
        let mut inner = self.lock();
        let cat = self.view(&mut inner)?.catalog();
        cat.map_err(|r| self.invalid(r))
    }

    fn save_with_catalog(&self, cp: &Checkpoint, tables: &[TableDesc]) -> Result<()> {
        self.write(|v| {
            v.save_records(cp, Some(tables))
                .map_err(|e| self.invalid(format!("serialize: {e}")))
        })
    }

    fn describe(&self) -> String {
        format!("Kafka topic {} at {}", self.topic, self.sink.brokers)
    }
}
