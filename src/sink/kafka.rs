//! The Kafka sink: an idempotent producer (`enable.idempotence`, `acks=all`) that enqueues
//! without awaiting each send, partitions by key bytes with the Java client's murmur2
//! partitioner (so every event of a primary key lands in one partition, as with Debezium),
//! and creates missing topics with the configured partitions, replication and cleanup
//! policy. Retriable errors are retried inside librdkafka; a failed delivery stops the
//! pipeline with an error naming the topic and the change's position.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};

use super::{Acks, Failure, OutRecord, SendError};
use crate::config::SinkConfig;
use crate::error::{Error, Result};

/// What librdkafka says about a client as a whole (not about one record) that no retry can
/// fix: the broker refused the credentials, the TLS handshake failed on the certificate,
/// or the idempotent producer was refused by an authorizer. The first such report is kept;
/// the pipeline stops on it with a definite [`Error::Access`].
#[derive(Default)]
pub struct Fault {
    first: std::sync::OnceLock<String>,
    notify: tokio::sync::Notify,
}

impl Fault {
    fn set(&self, message: String) {
        if self.first.set(message).is_ok() {
            self.notify.notify_waiters();
        }
    }

    /// The first definite failure reported so far.
    pub fn get(&self) -> Option<Error> {
        self.first.get().map(|m| Error::Access {
            component: "kafka",
            message: m.clone(),
        })
    }

    /// Resolves with the first definite failure.
    pub async fn wait(&self) -> Error {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(e) = self.get() {
                return e;
            }
            notified.await;
        }
    }
}

/// How the clients authenticate, for messages (never the secret).
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub brokers: String,
    pub protocol: String,
    pub mechanism: Option<String>,
    pub user: Option<String>,
    /// Amazon MSK IAM, when `sasl.mechanism` is `AWS_MSK_IAM`.
    #[cfg(feature = "aws-msk-iam")]
    pub msk: Option<super::msk_iam::MskIam>,
}

impl Identity {
    pub fn of(cfg: &SinkConfig) -> Self {
        let get = |k: &str| cfg.kafka.get(k).cloned();
        Identity {
            brokers: cfg.brokers.clone(),
            protocol: get("security.protocol")
                .unwrap_or_else(|| "plaintext".into())
                .to_ascii_uppercase(),
            mechanism: get("sasl.mechanism")
                .or_else(|| get("sasl.mechanisms"))
                .map(|m| m.to_ascii_uppercase()),
            user: get("sasl.username"),
            #[cfg(feature = "aws-msk-iam")]
            msk: super::msk_iam::MskIam::from_config(cfg).ok().flatten(),
        }
    }

    /// What to check when the brokers refuse the credentials, by mechanism.
    fn credentials_hint(&self) -> &'static str {
        match self.mechanism.as_deref() {
            Some("OAUTHBEARER") => {
                "check [sink.kafka] sasl.oauthbearer.* (token endpoint, client id and secret,                  scope) and that the broker trusts that issuer and audience"
            }
            Some("AWS_MSK_IAM") => {
                "check the AWS credentials rowtide finds (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY                  or the shared credentials profile), [sink] aws_region, and that the IAM policy                  allows kafka-cluster:Connect on the cluster"
            }
            _ => {
                "check [sink.kafka] sasl.username, sasl.password and sasl.mechanism (the                  broker's listener must enable that mechanism, and the user must exist on the                  cluster)"
            }
        }
    }

    /// `SASL_SSL, SCRAM-SHA-512 as user 'rowtide'`.
    pub fn describe(&self) -> String {
        let mut s = format!("security.protocol {}", self.protocol);
        if self.protocol.starts_with("SASL") {
            let mech = self.mechanism.as_deref().unwrap_or("GSSAPI");
            s.push_str(&format!(", sasl.mechanism {mech}"));
            if let Some(u) = &self.user {
                s.push_str(&format!(" as user '{u}'"));
            }
        }
        s
    }

    /// The operator's message for a client-wide error that no retry fixes, if it is one.
    pub fn definite_failure(&self, code: RDKafkaErrorCode, reason: &str) -> Option<String> {
        let lower = reason.to_ascii_lowercase();
        // A token or ticket that could not be fetched (an OIDC endpoint or a KDC that is
        // briefly away) is retried by librdkafka itself while the current one is valid.
        let refresh = lower.contains("oauthbearer token") || lower.contains("kinit");
        match code {
            // ... unless the token endpoint answered with an OAuth error about the client
            // itself (RFC 6749 section 5.2): no retry fixes a wrong client id or secret.
            RDKafkaErrorCode::Authentication if refresh && oauth_client_refused(&lower) => {
                Some(format!(
                    "authentication failed at {} ({}): the token endpoint refused rowtide's \
                     client: {reason}; check [sink.kafka] sasl.oauthbearer.client.id, \
                     sasl.oauthbearer.client.secret, sasl.oauthbearer.scope and \
                     sasl.oauthbearer.token.endpoint.url",
                    self.brokers,
                    self.describe()
                ))
            }
            RDKafkaErrorCode::Authentication if refresh => None,
            RDKafkaErrorCode::Authentication => Some(format!(
                "authentication failed at {} ({}): {reason}; {}",
                self.brokers,
                self.describe(),
                self.credentials_hint()
            )),
            RDKafkaErrorCode::SSL
                if lower.contains("certificate")
                    || lower.contains("verify")
                    || lower.contains("alert") =>
            {
                Some(format!(
                    "TLS handshake failed at {} ({}): {reason}; check [sink.kafka] \
                     ssl.ca.location (the CA that signed the brokers' certificates), the client \
                     certificate if the listener requires one, and security.protocol",
                    self.brokers,
                    self.describe()
                ))
            }
            RDKafkaErrorCode::Fatal if lower.contains("authoriz") => Some(format!(
                "not authorized at {} ({}): {reason}; grant rowtide's principal WRITE and \
                 DESCRIBE on its topics (IDEMPOTENT_WRITE on the cluster for brokers before \
                 Kafka 3.0), e.g. kafka-acls --add --allow-principal User:{} --operation Write \
                 --operation Describe --topic <prefix> --resource-pattern-type prefixed",
                self.brokers,
                self.describe(),
                self.user.as_deref().unwrap_or("<user>")
            )),
            _ => None,
        }
    }
}

/// Whether a token failure carries an OAuth 2 error response about the client's own
/// credentials or request (RFC 6749 section 5.2), as opposed to an endpoint that is away.
fn oauth_client_refused(lower_reason: &str) -> bool {
    [
        "invalid_client",
        "unauthorized_client",
        "invalid_grant",
        "invalid_scope",
        "unsupported_grant_type",
        "invalid_request",
    ]
    .iter()
    .any(|code| lower_reason.contains(code))
}

/// What a first contact with the brokers found (see [`probe`]).
pub enum Probe {
    /// A definite refusal (credentials, TLS): [`Error::Access`].
    Refused(Error),
    /// No broker answered in time.
    Unreachable,
    /// The brokers answered; the error of the metadata request for the schema-change topic
    /// `<topic_prefix>`, if any (`TopicAuthorizationFailed` when rowtide may not even
    /// describe its topics).
    Reached {
        brokers: usize,
        topic_error: Option<RDKafkaErrorCode>,
    },
}

/// Connects as the producer would and asks for the metadata of the `<topic_prefix>` topic
/// (when `sink.schema_changes` is on: the run never writes it otherwise), for at most
/// `timeout` (blocking: call it from a blocking thread). Never creates a topic.
pub fn probe(cfg: &SinkConfig, timeout: Duration) -> Probe {
    let fault = std::sync::Arc::new(Fault::default());
    let mut conf = client_config(cfg);
    conf.set("allow.auto.create.topics", "false");
    let p: rdkafka::producer::BaseProducer<KafkaContext> =
        match conf.create_with_context(KafkaContext::new(Identity::of(cfg), fault.clone())) {
            Ok(p) => p,
            Err(e) => {
                return Probe::Refused(Error::Config(format!("sink.kafka: invalid setting: {e}")))
            }
        };
    let deadline = std::time::Instant::now() + timeout;
    // A wrong password is reported through the error callback (served by `poll`), while
    // the metadata request just times out.
    while std::time::Instant::now() < deadline && fault.get().is_none() {
        p.poll(Duration::from_millis(100));
        if let Ok(all) = p.client().fetch_metadata(None, Duration::from_millis(500)) {
            // Only a topic the run will write: the schema-change topic, when it is on.
            let topic_error = cfg
                .schema_changes
                .then(|| {
                    p.client()
                        .fetch_metadata(Some(&cfg.topic_prefix), Duration::from_secs(5))
                        .ok()
                        .and_then(|m| m.topics().first().and_then(|t| t.error()))
                        .map(RDKafkaErrorCode::from)
                })
                .flatten();
            return Probe::Reached {
                brokers: all.brokers().len(),
                topic_error,
            };
        }
    }
    p.poll(Duration::from_millis(100));
    match fault.get() {
        Some(e) => Probe::Refused(e),
        None => Probe::Unreachable,
    }
}

/// The operator's message when the brokers refuse rowtide even a description of its
/// topics.
pub fn not_authorized(cfg: &SinkConfig, code: RDKafkaErrorCode) -> Option<String> {
    if !matches!(
        code,
        RDKafkaErrorCode::TopicAuthorizationFailed | RDKafkaErrorCode::ClusterAuthorizationFailed
    ) {
        return None;
    }
    let id = Identity::of(cfg);
    let prefix = &cfg.topic_prefix;
    Some(format!(
        "not authorized: topic {prefix}: {code} ({}); grant User:{} DESCRIBE and WRITE on \
         the topics prefixed {prefix} (and CREATE, or create them yourself)",
        id.describe(),
        id.user.as_deref().unwrap_or("<principal>")
    ))
}

/// The context of every Kafka client rowtide creates: files the producer's delivery reports
/// by the sequence number each record was sent with (on the producer's polling thread, no
/// future or channel per record), and turns client-wide errors no retry can fix into the
/// shared [`Fault`].
pub struct KafkaContext {
    acks: Acks,
    fault: std::sync::Arc<Fault>,
    identity: Identity,
}

impl KafkaContext {
    pub fn new(identity: Identity, fault: std::sync::Arc<Fault>) -> Self {
        Self {
            acks: Acks::default(),
            fault,
            identity,
        }
    }
}

impl KafkaContext {
    /// The delivery reports filed so far (a transactional client that learns of its
    /// records' fate from the commit drains them, so they do not pile up).
    pub fn acks(&self) -> &Acks {
        &self.acks
    }
}

impl ClientContext for KafkaContext {
    /// On for Amazon MSK IAM: librdkafka asks the client's context for each token.
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = cfg!(feature = "aws-msk-iam");

    #[cfg(feature = "aws-msk-iam")]
    fn generate_oauth_token(
        &self,
        _config: Option<&str>,
    ) -> std::result::Result<rdkafka::client::OAuthToken, Box<dyn std::error::Error>> {
        let Some(msk) = &self.identity.msk else {
            return Err("sasl.mechanism OAUTHBEARER needs a token source: set \
                        sasl.oauthbearer.method = \"oidc\" with sasl.oauthbearer.token.endpoint.url, \
                        client.id and client.secret, or sasl.mechanism = \"AWS_MSK_IAM\""
                .into());
        };
        let t = msk.token()?;
        Ok(rdkafka::client::OAuthToken {
            token: t.value,
            principal_name: t.principal,
            lifetime_ms: t.expires_ms,
        })
    }

    fn error(&self, error: KafkaError, reason: &str) {
        // A reader that asked for end-of-partition events (the Kafka state store) gets them
        // here too: not a failure.
        // (librdkafka reports it as a global error event too.)
        if matches!(error, KafkaError::PartitionEOF(_))
            || error.rdkafka_error_code() == Some(RDKafkaErrorCode::PartitionEOF)
        {
            return;
        }
        match error
            .rdkafka_error_code()
            .and_then(|code| self.identity.definite_failure(code, reason))
        {
            Some(message) => {
                if self.fault.first.get().is_none() {
                    tracing::error!(target: "librdkafka", "librdkafka: {error}: {reason}");
                }
                self.fault.set(message);
            }
            // Once a definite failure stopped the pipeline, what follows is its echo.
            None if self.fault.first.get().is_some() => {
                tracing::debug!(target: "librdkafka", "librdkafka: {error}: {reason}")
            }
            None => tracing::error!(target: "librdkafka", "librdkafka: {error}: {reason}"),
        }
    }
}

/// Consumers (the Kafka state store's reader) connect as the producer does.
impl rdkafka::consumer::ConsumerContext for KafkaContext {}

impl ProducerContext for KafkaContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, seq: usize) {
        let outcome = match result {
            Ok(_) => Ok(()),
            Err((e, _)) => Err(Failure::Kafka(e.clone())),
        };
        self.acks.push((seq as u64, outcome));
    }
}

/// The sink's producer: its own idempotent one, or (exactly-once) the state's
/// transactional producer, shared with the state store.
enum SinkProducer {
    Own(ThreadedProducer<KafkaContext>),
    Transactional(std::sync::Arc<super::transactional::TxnProducer>),
}

impl SinkProducer {
    fn get(&self) -> &ThreadedProducer<KafkaContext> {
        match self {
            SinkProducer::Own(p) => p,
            SinkProducer::Transactional(t) => t.producer(),
        }
    }
}

pub struct KafkaSink {
    /// Before `admin`: dropped (and its thread joined) before the client it serves.
    #[cfg(feature = "aws-msk-iam")]
    _admin_token: Option<super::msk_iam::TokenKeeper>,
    producer: SinkProducer,
    admin: AdminClient<KafkaContext>,
    fault: std::sync::Arc<Fault>,
    cfg: SinkConfig,
    known_topics: Mutex<HashSet<String>>,
}

/// The settings every Kafka client of rowtide starts from: the brokers and every
/// `[sink.kafka]` key (security, SASL, TLS, DNS, …), so that the admin client and
/// `rowtide check` connect exactly as the producer does.
pub fn client_config(cfg: &SinkConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.brokers);
    set_kafka_keys(&mut c, cfg);
    c
}

/// Every `[sink.kafka]` key, with `AWS_MSK_IAM` (which librdkafka does not know) turned into
/// the OAUTHBEARER mechanism it is carried by.
fn set_kafka_keys(c: &mut ClientConfig, cfg: &SinkConfig) {
    for (k, v) in &cfg.kafka {
        if matches!(k.as_str(), "sasl.mechanism" | "sasl.mechanisms")
            && v.eq_ignore_ascii_case("AWS_MSK_IAM")
        {
            c.set(k, "OAUTHBEARER");
        } else {
            c.set(k, v);
        }
    }
}

/// The librdkafka settings rowtide sets unless the user's `[sink.kafka]` overrides them.
pub fn producer_config(cfg: &SinkConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .set("compression.type", "lz4")
        // Never give up on a record because Kafka is down for a while: backpressure holds
        // the binlog reader instead.
        .set("message.timeout.ms", "0")
        .set("queue.buffering.max.messages", "50000")
        .set("queue.buffering.max.kbytes", "65536")
        .set("client.id", "rowtide");
    set_kafka_keys(&mut c, cfg);
    c
}

impl KafkaSink {
    pub fn new(cfg: &SinkConfig) -> Result<Self> {
        let fault = std::sync::Arc::new(Fault::default());
        let producer: ThreadedProducer<KafkaContext> = producer_config(cfg)
            .create_with_context(KafkaContext::new(Identity::of(cfg), fault.clone()))
            .map_err(|e| Error::Config(format!("sink.kafka: invalid producer setting: {e}")))?;
        Self::with_producer(cfg, SinkProducer::Own(producer), fault)
    }

    /// Exactly-once: every record goes through `txn`, inside its open transaction (begun by
    /// the first record after a commit); the sink loop commits.
    pub fn transactional(
        cfg: &SinkConfig,
        txn: std::sync::Arc<super::transactional::TxnProducer>,
    ) -> Result<Self> {
        let fault = txn.fault().clone();
        Self::with_producer(cfg, SinkProducer::Transactional(txn), fault)
    }

    fn with_producer(
        cfg: &SinkConfig,
        producer: SinkProducer,
        fault: std::sync::Arc<Fault>,
    ) -> Result<Self> {
        let identity = Identity::of(cfg);
        #[cfg(feature = "aws-msk-iam")]
        let msk = identity.msk.clone();
        let admin: AdminClient<KafkaContext> = client_config(cfg)
            .create_with_context(KafkaContext::new(identity, fault.clone()))
            .map_err(|e| Error::Config(format!("sink.kafka: invalid admin setting: {e}")))?;
        Ok(Self {
            #[cfg(feature = "aws-msk-iam")]
            _admin_token: msk.map(|m| super::msk_iam::TokenKeeper::start(admin.inner(), &m)),
            producer,
            admin,
            fault,
            cfg: cfg.clone(),
            known_topics: Mutex::new(HashSet::new()),
        })
    }

    /// Stops a run at its start when the brokers refuse rowtide (credentials, TLS, not even
    /// DESCRIBE on its topics), instead of idling until the first change; unreachable
    /// brokers are left to the usual retries.
    pub async fn verify_access(&self) -> Result<()> {
        let cfg = self.cfg.clone();
        let probe = tokio::task::spawn_blocking(move || probe(&cfg, Duration::from_secs(10)));
        let probe = tokio::select! {
            p = probe => p.map_err(|source| Error::Task { task: "kafka probe", source })?,
            e = self.fault.wait() => return Err(e),
        };
        match probe {
            Probe::Refused(e) => Err(e),
            Probe::Reached {
                topic_error: Some(code),
                ..
            } => match not_authorized(&self.cfg, code) {
                Some(message) => Err(Error::Access {
                    component: "kafka",
                    message,
                }),
                None => Ok(()),
            },
            Probe::Reached { .. } | Probe::Unreachable => Ok(()),
        }
    }

    /// Resolves with the first client-wide failure no retry can fix (see [`Fault`]).
    pub async fn fault(&self) -> Error {
        self.fault.wait().await
    }

    pub async fn ensure_topic(&self, topic: &str) -> Result<()> {
        if !self.cfg.create_topics {
            return Ok(());
        }
        if self
            .known_topics
            .lock()
            .map(|t| t.contains(topic))
            .unwrap_or(false)
        {
            return Ok(());
        }
        let new = NewTopic::new(
            topic,
            self.cfg.topic_partitions,
            TopicReplication::Fixed(self.cfg.topic_replication_factor),
        )
        .set("cleanup.policy", &self.cfg.topic_cleanup_policy);
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let results = tokio::select! {
            r = self.admin.create_topics([&new], &opts) => r.map_err(|source| Error::Kafka {
                context: format!("cannot create topic {topic}"),
                source,
            })?,
            e = self.fault.wait() => return Err(e),
        };
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((
                    t,
                    code @ (RDKafkaErrorCode::TopicAuthorizationFailed
                    | RDKafkaErrorCode::ClusterAuthorizationFailed),
                )) => {
                    let id = Identity::of(&self.cfg);
                    return Err(Error::Access {
                        component: "kafka",
                        message: format!(
                            "not authorized to create topic {t} ({code}; {}): grant CREATE on \
                             the topic or the cluster to User:{}, or create the topics yourself \
                             and set sink.create_topics = false",
                            id.describe(),
                            id.user.as_deref().unwrap_or("<principal>")
                        ),
                    });
                }
                Err((t, code)) => {
                    return Err(Error::Kafka {
                        context: format!("cannot create topic {t}"),
                        source: KafkaError::AdminOp(code),
                    })
                }
            }
        }
        if let Ok(mut t) = self.known_topics.lock() {
            t.insert(topic.to_string());
        }
        Ok(())
    }

    /// The transactional producer, with `exactly_once`.
    pub fn transactions(&self) -> Option<&std::sync::Arc<super::transactional::TxnProducer>> {
        match &self.producer {
            SinkProducer::Transactional(t) => Some(t),
            SinkProducer::Own(_) => None,
        }
    }

    /// Enqueues `rec`; its delivery report arrives in [`Self::acks`] under `seq`.
    pub fn send(&self, rec: OutRecord, seq: u64) -> std::result::Result<(), SendError> {
        if let SinkProducer::Transactional(t) = &self.producer {
            if let Err(e) = t.begin_if_needed() {
                return Err(SendError::Failed(super::transactional::txn_error(
                    t.id(),
                    "beginning a transaction",
                    e,
                )));
            }
        }
        let mut record: BaseRecord<'_, [u8], [u8], usize> =
            BaseRecord::with_opaque_to(&rec.topic, seq as usize);
        if let Some(k) = &rec.key {
            record = record.key(k.as_slice());
        }
        if let Some(v) = &rec.value {
            record = record.payload(v.as_slice());
        }
        // A transform's choice (the outbox router's), as Kafka Connect passes a source
        // record's timestamp and partition to its producer.
        if let Some(ts) = rec.timestamp {
            record = record.timestamp(ts);
        }
        if let Some(p) = rec.partition {
            record = record.partition(p);
        }
        if !rec.headers.is_empty() {
            let mut headers = OwnedHeaders::new_with_capacity(rec.headers.len());
            for h in &rec.headers {
                headers = headers.insert(Header {
                    key: &h.key,
                    value: h.value.as_deref(),
                });
            }
            record = record.headers(headers);
        }
        match self.producer.get().send(record) {
            Ok(()) => Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                Err(SendError::QueueFull(Box::new(rec)))
            }
            Err((e, _)) => Err(SendError::Failed(classify(e, &rec.topic, &rec.position))),
        }
    }

    pub fn acks(&self) -> &Acks {
        &self.producer.get().context().acks
    }
}

/// Permanent errors stop the engine with a definite message; the rest are transient.
pub(crate) fn classify(e: KafkaError, topic: &str, position: &str) -> Error {
    if super::transactional::is_fenced(&e) {
        return Error::Fenced {
            transactional_id: String::new(),
            detail: format!("delivery to {topic} at {position}: {e}"),
        };
    }
    let code = e.rdkafka_error_code();
    let permanent = matches!(
        code,
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::InvalidMessage
                | RDKafkaErrorCode::PolicyViolation
                | RDKafkaErrorCode::UnknownPartition
        )
    );
    if permanent {
        let hint = match code {
            Some(RDKafkaErrorCode::MessageSizeTooLarge) => {
                " (raise the topic's max.message.bytes and the producer's message.max.bytes in [sink.kafka])"
            }
            Some(
                RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed,
            ) => {
                " (not authorized: grant WRITE and DESCRIBE on the topic to rowtide's principal)"
            }
            Some(RDKafkaErrorCode::UnknownPartition) => {
                " (the record names a partition the topic does not have — the outbox router's \
                 partition placement: add partitions to the topic or fix the column's value)"
            }
            _ => "",
        };
        Error::Delivery {
            topic: topic.to_string(),
            position: position.to_string(),
            reason: format!("{e}{hint}"),
        }
    } else {
        Error::Kafka {
            context: format!("delivery to {topic} failed at {position}"),
            source: e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        let mut cfg = SinkConfig {
            brokers: "b1:9094".into(),
            ..SinkConfig::default()
        };
        for (k, v) in [
            ("security.protocol", "sasl_ssl"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", "alice"),
            ("sasl.password", "never-shown"),
        ] {
            cfg.kafka.insert(k.into(), v.into());
        }
        Identity::of(&cfg)
    }

    #[test]
    fn refusals_are_definite_and_name_mechanism_and_user_not_the_secret() {
        let id = identity();
        let auth = id
            .definite_failure(
                RDKafkaErrorCode::Authentication,
                "SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512",
            )
            .unwrap();
        assert!(auth.starts_with("authentication failed at b1:9094 (security.protocol SASL_SSL, sasl.mechanism SCRAM-SHA-512 as user 'alice')"), "{auth}");
        assert!(!auth.contains("never-shown"));
        let tls = id
            .definite_failure(
                RDKafkaErrorCode::SSL,
                "SSL handshake failed: error:0A000086:SSL routines::certificate verify failed",
            )
            .unwrap();
        assert!(tls.starts_with("TLS handshake failed"), "{tls}");
        let authz = id
            .definite_failure(
                RDKafkaErrorCode::Fatal,
                "Fatal error: Broker: Cluster authorization failed: Failed to acquire idempotence PID",
            )
            .unwrap();
        assert!(
            authz.starts_with("not authorized") && authz.contains("User:alice"),
            "{authz}"
        );
    }

    #[test]
    fn network_trouble_stays_transient() {
        let id = identity();
        for (code, reason) in [
            (RDKafkaErrorCode::AllBrokersDown, "1/1 brokers are down"),
            (
                RDKafkaErrorCode::BrokerTransportFailure,
                "Connection refused",
            ),
            (RDKafkaErrorCode::SSL, "SSL transport error: Disconnected"),
            (
                RDKafkaErrorCode::Fatal,
                "Fatal error: Broker: Out of order sequence",
            ),
        ] {
            assert_eq!(id.definite_failure(code, reason), None, "{code:?}");
        }
    }

    #[test]
    fn oidc_token_failures_are_definite_only_when_the_client_is_refused() {
        let id = identity();
        let refused = "Failed to acquire SASL OAUTHBEARER token: {\"error\": \"invalid_client\", \
                       \"error_description\": \"unknown client or wrong secret\"}";
        let m = id
            .definite_failure(RDKafkaErrorCode::Authentication, refused)
            .expect("a refused client is definite");
        assert!(
            m.contains("token endpoint refused") && m.contains("client.secret"),
            "{m}"
        );
        let away = "Failed to acquire SASL OAUTHBEARER token: Failed to retrieve OIDC token \
                    from \"https://idp/token\": Couldn't connect to server";
        assert_eq!(
            id.definite_failure(RDKafkaErrorCode::Authentication, away),
            None
        );
    }

    #[test]
    fn a_partition_the_topic_lacks_is_permanent() {
        let e = KafkaError::MessageProduction(RDKafkaErrorCode::UnknownPartition);
        match classify(e, "outbox.event.Order", "bin.000001:42") {
            Error::Delivery { topic, reason, .. } => {
                assert_eq!(topic, "outbox.event.Order");
                assert!(reason.contains("partition placement"), "{reason}");
            }
            other => panic!("expected a delivery error, got {other:?}"),
        }
    }
}
