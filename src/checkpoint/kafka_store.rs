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
use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::state_records::{StateRecord, StateView, GENERATION_HEADER};
use super::state_topic::{self, topic_error};
use super::{Checkpoint, CheckpointStore};
use crate::config::{delivery, Delivery, SinkConfig};
use crate::error::{Error, Result};
use crate::model::TableDesc;
use crate::sink::kafka::{client_config, Fault, Identity, KafkaContext};
use crate::sink::transactional::{self, TxnProducer};

/// How long a read of the state topic may go without progress before it fails.
const READ_STALL: Duration = Duration::from_secs(30);

/// The group id the store's reader uses (librdkafka assigns partitions only with one; no
/// offset is ever committed), and the default `transactional.id` of its writer.
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
    /// Created, with its transactions initialized, on the first use of a writer. With
    /// `exactly_once` the sink sends its records through it too.
    producer: Option<Arc<TxnProducer>>,
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
    fn producer(&self) -> Result<Arc<TxnProducer>> {
        let id = delivery::transactional_id(&self.sink, &self.topic);
        let p = TxnProducer::create(&self.sink, &id)?;
        tracing::debug!(topic = %self.topic, transactional_id = %id, "State store producer ready.");
        Ok(Arc::new(p))
    }

    /// Whether the sink's records share the store's transactions (`exactly_once`).
    fn shared(&self) -> bool {
        self.sink.delivery == Delivery::ExactlyOnce
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
        let Some(producer) = inner.producer.clone() else {
            return Err(self.invalid("internal error: a writer without its producer".into()));
        };
        match commit(&producer, &self.topic, &records, !self.shared()) {
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

/// Sends `records` into the producer's open transaction (begun here if none is: with
/// `exactly_once` the sink's records of the batch are already in it) and commits. On
/// failure: the error and whether the producer is unusable (fatal); the transaction is
/// aborted when it can be. `drain` drops the delivery reports (a producer of its own:
/// nothing else reads them).
fn commit(
    producer: &TxnProducer,
    topic: &str,
    records: &[StateRecord],
    drain: bool,
) -> std::result::Result<(), Box<(Error, bool)>> {
    let id = producer.id().to_string();
    let fail = |e: KafkaError| {
        let fatal = transactional::is_fatal(&e);
        if !fatal {
            let _ = producer.abort();
        }
        Box::new((transactional::txn_error(&id, "state write", e), fatal))
    };
    producer.begin_if_needed().map_err(fail)?;
    for r in records {
        let generation = r.generation.map(|g| g.to_string());
        loop {
            let mut rec: BaseRecord<'_, str, [u8], usize> =
                BaseRecord::with_opaque_to(topic, transactional::UNTRACKED).key(r.key.as_str());
            if let Some(v) = &r.value {
                rec = rec.payload(v.as_slice());
            }
            if let Some(g) = &generation {
                rec = rec.headers(OwnedHeaders::new().insert(Header {
                    key: GENERATION_HEADER,
                    value: Some(g.as_bytes()),
                }));
            }
            match producer.producer().send(rec) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge), _)) => {
                    let _ = producer.abort();
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
    producer.commit().map_err(|e| {
        let fatal = e.is_fenced() || producer.fenced().is_some();
        Box::new((producer.fenced().unwrap_or(e), fatal))
    })?;
    if drain {
        // Each record's fate is the commit's; drop the per-record reports.
        producer.producer().context().acks().take(&mut Vec::new());
    }
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
        // The end of the topic is known from a fetch that returns nothing: do not let the
        // broker hold that fetch for the default 500 ms at every start.
        .set("fetch.wait.max.ms", "10")
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
            // The group only lets librdkafka assign; offsets are explicit and never
            // committed, so a principal without READ on the group still reads the topic
            // (librdkafka reports the refused coordinator lookup, and fetches on).
            Some(Err(e))
                if e.rdkafka_error_code()
                    == Some(rdkafka::types::RDKafkaErrorCode::GroupAuthorizationFailed) => {}
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

    fn transactions(&self) -> Result<Option<Arc<TxnProducer>>> {
        if !self.shared() || self.access == Access::ReadOnly {
            return Ok(None);
        }
        let mut inner = self.lock();
        self.view(&mut inner)?;
        Ok(inner.producer.clone())
    }

    fn restart_transactions(&self) {
        let mut inner = self.lock();
        if let Some(p) = inner.producer.take() {
            let _ = p.abort();
        }
        inner.view = None;
    }
}
