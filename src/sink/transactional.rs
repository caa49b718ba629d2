//! The one transactional producer of a Kafka-stored state: with `checkpoint.store =
//! "kafka"` it writes the state records; with `sink.delivery = "exactly_once"` it also
//! writes every data record (changes, tombstones, heartbeats, schema changes, transaction
//! metadata), so a batch's records and the state records naming their position commit in
//! one transaction. There is exactly one per process and per `transactional.id`: two
//! producers sharing an id fence each other.
//!
//! A transaction is begun lazily by the first record sent after a commit (data or state)
//! and ended only by [`TxnProducer::commit`] or [`TxnProducer::abort`].
//! Initializing the producer ([`TxnProducer::create`]) fences every earlier producer with
//! the same id and aborts the transaction it left open.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::producer::{Producer, ThreadedProducer};

use super::kafka::{client_config, producer_config, Fault, Identity, KafkaContext};
use crate::config::{Delivery, SinkConfig};
use crate::error::{Error, Result};

/// Bound of `init_transactions`, a commit and an abort.
pub const TXN_CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// The delivery-report sequence number of records the sink loop does not track (state
/// records): never inside the acknowledgement window.
pub const UNTRACKED: usize = usize::MAX;

pub struct TxnProducer {
    producer: ThreadedProducer<KafkaContext>,
    id: String,
    fault: Arc<Fault>,
    /// Whether a transaction is open (begun and neither committed nor aborted).
    open: Mutex<bool>,
}

impl TxnProducer {
    /// A producer with `transactional.id = id`, initialized. With `exactly_once` it is
    /// configured as the sink's producer (batching, compression, queue sizes, the user's
    /// `[sink.kafka]` keys); otherwise as a small state-only writer.
    pub fn create(sink: &SinkConfig, id: &str) -> Result<Self> {
        let data = sink.delivery == Delivery::ExactlyOnce;
        let mut conf = if data {
            producer_config(sink)
        } else {
            client_config(sink)
        };
        // librdkafka requires message.timeout.ms <= transaction.timeout.ms (0, "forever",
        // is not allowed with transactions): a record not delivered within the
        // transaction's lifetime fails the transaction, which is aborted and retried.
        let timeout = if data {
            sink.transaction_timeout_ms
        } else {
            60_000
        };
        conf.set("transactional.id", id)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("allow.auto.create.topics", "false")
            .set("transaction.timeout.ms", timeout.to_string())
            .set("message.timeout.ms", (timeout - timeout / 12).to_string());
        if !data {
            conf.set("linger.ms", "0").set("client.id", "rowtide-state");
        }
        let fault = Arc::new(Fault::default());
        let producer: ThreadedProducer<KafkaContext> = conf
            .create_with_context(KafkaContext::new(Identity::of(sink), fault.clone()))
            .map_err(|e| Error::Config(format!("sink.kafka: invalid producer setting: {e}")))?;
        // A connection and the cluster's metadata first: init_transactions looks up the
        // transaction coordinator at once, and with no broker connected yet librdkafka
        // retries that lookup only after its retry backoff (100 ms, growing). Errors are
        // left to init_transactions to report.
        let _ = producer
            .client()
            .fetch_metadata(None, Duration::from_secs(10));
        producer
            .init_transactions(TXN_CALL_TIMEOUT)
            .map_err(|e| txn_error(id, "initializing transactions", e))?;
        tracing::info!(transactional_id = %id, exactly_once = data, "Transactional producer ready (earlier instances with this id are fenced).");
        Ok(Self {
            producer,
            id: id.to_string(),
            fault,
            open: Mutex::new(false),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn producer(&self) -> &ThreadedProducer<KafkaContext> {
        &self.producer
    }

    pub fn fault(&self) -> &Arc<Fault> {
        &self.fault
    }

    /// Begins a transaction unless one is open.
    pub fn begin_if_needed(&self) -> KafkaResult<()> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if !*open {
            self.producer.begin_transaction()?;
            *open = true;
        }
        Ok(())
    }

    /// Whether a transaction is open.
    pub fn is_open(&self) -> bool {
        *self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Commits the open transaction (flushing every record first); on failure the
    /// transaction is aborted when it can be. Blocking.
    pub fn commit(&self) -> Result<()> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if !*open {
            return Ok(());
        }
        // Wait for the last records here, in short steps: rdkafka's own flush in
        // commit_transaction polls the event queue in 100 ms steps, and with a threaded
        // producer the delivery reports go to the polling thread, so every commit would
        // wait those 100 ms in full.
        let deadline = Instant::now() + TXN_CALL_TIMEOUT;
        while self.producer.in_flight_count() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        let outcome = self.producer.commit_transaction(TXN_CALL_TIMEOUT);
        *open = false;
        outcome.map_err(|e| {
            if !is_fatal(&e) {
                let _ = self.producer.abort_transaction(TXN_CALL_TIMEOUT);
            }
            txn_error(&self.id, "committing a transaction", e)
        })
    }

    /// Aborts the open transaction, if any: its records are never seen by `read_committed`
    /// consumers. Blocking.
    pub fn abort(&self) -> Result<()> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if !*open {
            return Ok(());
        }
        *open = false;
        self.producer
            .abort_transaction(TXN_CALL_TIMEOUT)
            .map_err(|e| txn_error(&self.id, "aborting a transaction", e))
    }
}

/// Whether `e` leaves the producer unusable (it must be created and initialized again).
pub fn is_fatal(e: &KafkaError) -> bool {
    matches!(e, KafkaError::Transaction(r) if r.is_fatal()) || is_fenced(e)
}

/// Whether `e` says another producer with the same `transactional.id` took over.
pub fn is_fenced(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::ProducerFenced
                | RDKafkaErrorCode::Fenced
                | RDKafkaErrorCode::InvalidProducerEpoch
        )
    )
}

/// The error for a failed transaction call: [`Error::Fenced`] when another instance took
/// over, an access error when transactions are not allowed, else a transient Kafka error
/// (the pipeline restarts from the committed state).
pub fn txn_error(id: &str, what: &str, e: KafkaError) -> Error {
    if is_fenced(&e) {
        return Error::Fenced {
            transactional_id: id.to_string(),
            detail: e.to_string(),
        };
    }
    match e.rdkafka_error_code() {
        Some(
            RDKafkaErrorCode::TransactionalIdAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed,
        ) => not_authorized(id, &e),
        _ => Error::Kafka {
            context: format!("transactional producer {id}: {what}"),
            source: e,
        },
    }
}

impl TxnProducer {
    /// The fencing librdkafka recorded as the producer's fatal error, if that is why it
    /// stopped (send and delivery errors after a fence only say "fatal").
    pub fn fenced(&self) -> Option<Error> {
        let (code, reason) = self.producer.client().fatal_error()?;
        matches!(
            code,
            RDKafkaErrorCode::ProducerFenced
                | RDKafkaErrorCode::Fenced
                | RDKafkaErrorCode::InvalidProducerEpoch
        )
        .then(|| Error::Fenced {
            transactional_id: self.id.clone(),
            detail: reason,
        })
    }
}

/// The operator's message when Kafka refuses transactions under transactional id `id`.
pub fn not_authorized(id: &str, e: &rdkafka::error::KafkaError) -> Error {
    Error::Access {
        component: "kafka",
        message: format!(
            "not authorized to use transactions ({e}): grant rowtide's principal WRITE \
             and DESCRIBE on the transactional id {id} (e.g. kafka-acls --add \
             --allow-principal User:<user> --operation Write --operation Describe \
             --transactional-id {id} --resource-pattern-type prefixed)"
        ),
    }
}
