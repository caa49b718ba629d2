//! Configuration: one TOML file, every key documented here, defaults in one place
//! (`Default` impls), environment overrides `ROWTIDE_<SECTION>__<KEY>`, secrets from files
//! or the environment. Unknown keys, wrong types and conflicting settings are rejected at
//! load with a message that names the key (and the closest valid key for a typo).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub source: SourceConfig,
    pub sink: SinkConfig,
    pub format: FormatConfig,
    pub checkpoint: CheckpointConfig,
    pub metrics: MetricsConfig,
    pub pipeline: PipelineConfig,
    pub events: EventsConfig,
    pub heartbeat: HeartbeatConfig,
    pub ha: HaConfig,
    pub signals: SignalsConfig,
    pub snapshot: SnapshotConfig,
    pub notifications: NotificationsConfig,
    pub log: LogConfig,
    pub transforms: Vec<TransformConfig>,
    pub predicates: Vec<PredicateConfig>,
}

/// `[source]`: the MySQL/MariaDB server to read.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceConfig {
    /// Host name or IP address of the source server.
    pub host: String,
    /// TCP port of the source server.
    pub port: u16,
    /// User with REPLICATION SLAVE, REPLICATION CLIENT and SELECT privileges.
    pub user: String,
    /// Password (prefer `password_file` or `ROWTIDE_SOURCE__PASSWORD`). Never logged.
    pub password: Option<String>,
    /// A file whose content (trailing newline removed) is the password.
    pub password_file: Option<PathBuf>,
    /// This replica's server id; must differ from every other replica of the source.
    pub server_id: u32,
    /// `auto` (detect from the server), `mysql` or `mariadb`.
    pub flavor: FlavorSetting,
    /// `db.table` regexes (anchored) of the tables to capture; empty captures everything.
    pub include: Vec<String>,
    /// `db.table` regexes (anchored) of tables not to capture.
    pub exclude: Vec<String>,
    /// `initial`, `initial_only`, `no_data`, `when_needed` or `always`.
    pub snapshot_mode: SnapshotMode,
    /// `disabled`, `preferred`, `required`, `verify_ca` or `verify_identity`.
    pub tls: TlsMode,
    /// CA certificate (PEM) for `verify_ca` / `verify_identity`.
    pub tls_ca: Option<PathBuf>,
    /// Idle heartbeat the server sends on the binlog connection, in milliseconds.
    pub heartbeat_interval_ms: u64,
    /// A binlog connection silent for this long is considered dead and reopened.
    pub read_timeout_ms: u64,
    /// Timeout for opening a connection, in milliseconds.
    pub connect_timeout_ms: u64,
    /// First delay between reconnect attempts, doubled up to `reconnect_backoff_max_ms`.
    pub reconnect_backoff_ms: u64,
    pub reconnect_backoff_max_ms: u64,
    /// Give up after this many consecutive failed reconnects (0 = never give up).
    pub max_reconnect_attempts: u32,
    /// Rows fetched per chunk during snapshots.
    pub snapshot_fetch_size: usize,
    /// Tables (or key ranges of one) snapshotted in parallel, each on its own connection.
    pub snapshot_parallelism: usize,
    /// Tables estimated above this many rows are read in key ranges (0: never).
    pub snapshot_range_rows: u64,
    /// Include the statement text in `source.query` when the server logs it.
    pub include_query: bool,
    /// DDL statements to pass over on purpose when rowtide cannot follow them (MINIMAL row
    /// metadata): `FILE:POS`, `gtid:GTID` or `regex:RE` (see `catalog::ddl_skip`).
    pub ddl_skip: Vec<String>,
    /// Re-read a table's structure from the server when a DDL on it cannot be followed,
    /// if no later statement touched the table (see `source::reread`).
    pub ddl_reread: bool,
}

impl fmt::Debug for SourceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("password_file", &self.password_file)
            .field("server_id", &self.server_id)
            .field("flavor", &self.flavor)
            .field("include", &self.include)
            .field("exclude", &self.exclude)
            .field("snapshot_mode", &self.snapshot_mode)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Default for SourceConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 3306,
            user: "cdc".into(),
            password: None,
            password_file: None,
            server_id: 5501,
            flavor: FlavorSetting::Auto,
            include: vec![],
            exclude: vec![],
            snapshot_mode: SnapshotMode::Initial,
            tls: TlsMode::Preferred,
            tls_ca: None,
            heartbeat_interval_ms: 5_000,
            read_timeout_ms: 30_000,
            connect_timeout_ms: 10_000,
            reconnect_backoff_ms: 500,
            reconnect_backoff_max_ms: 30_000,
            max_reconnect_attempts: 0,
            snapshot_fetch_size: 10_000,
            snapshot_parallelism: 1,
            snapshot_range_rows: 500_000,
            include_query: false,
            ddl_skip: vec![],
            ddl_reread: false,
        }
    }
}

impl SourceConfig {
    /// The password from `password` or `password_file` (empty if neither is set).
    pub fn resolve_password(&self) -> Result<String> {
        if let Some(p) = &self.password_file {
            let s = std::fs::read_to_string(p).map_err(|e| {
                Error::Config(format!(
                    "source.password_file: cannot read {}: {e}",
                    p.display()
                ))
            })?;
            let s = s.trim_end_matches(['\n', '\r']).to_string();
            crate::redact::register(&s);
            return Ok(s);
        }
        Ok(self.password.clone().unwrap_or_default())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlavorSetting {
    Auto,
    Mysql,
    Mariadb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotMode {
    Initial,
    InitialOnly,
    NoData,
    WhenNeeded,
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    Disabled,
    Preferred,
    Required,
    VerifyCa,
    VerifyIdentity,
}

/// `[sink]`: where events go.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SinkConfig {
    /// `kafka` or `stdout` (JSON lines, for debugging).
    pub kind: SinkKind,
    /// Kafka bootstrap servers.
    pub brokers: String,
    /// Topic prefix (Debezium's `topic.prefix`): topics are `<prefix>.<db>.<table>`,
    /// schema changes go to `<prefix>`. Also the `source.name` of every event.
    pub topic_prefix: String,
    /// Write a tombstone (same key, null value) after each delete.
    pub tombstones_on_delete: bool,
    /// Publish schema-change events on the `<topic_prefix>` topic.
    pub schema_changes: bool,
    /// Partitions of topics rowtide creates.
    pub topic_partitions: i32,
    /// Replication factor of topics rowtide creates.
    pub topic_replication_factor: i32,
    /// `cleanup.policy` of topics rowtide creates (`delete` or `compact`).
    pub topic_cleanup_policy: String,
    /// Create missing topics before producing to them.
    pub create_topics: bool,
    /// Passed to librdkafka as is (TLS, SASL, compression, linger, …); `sasl.mechanism =
    /// "AWS_MSK_IAM"` selects Amazon MSK IAM (see `sink::msk_iam`).
    pub kafka: BTreeMap<String, String>,
    /// AWS region of an MSK cluster (`AWS_MSK_IAM`); default `AWS_REGION`.
    pub aws_region: Option<String>,
    /// Profile of the AWS shared credentials file (`AWS_MSK_IAM`); default `AWS_PROFILE`.
    pub aws_profile: Option<String>,
    /// `at_least_once` (default) or `exactly_once` (see `config::delivery`).
    pub delivery: Delivery,
    /// The transactional producer's id; default `rowtide-state-<checkpoint.kafka_topic>`.
    pub transactional_id: Option<String>,
    /// `exactly_once`: commit a transaction at least this often (ms)...
    pub transaction_max_ms: u64,
    /// ... or once it holds this many records ...
    pub transaction_max_records: usize,
    /// ... or this many bytes of keys and values.
    pub transaction_max_bytes: usize,
    /// The producer's `transaction.timeout.ms`: the broker aborts a transaction open longer.
    pub transaction_timeout_ms: u64,
}

impl Default for SinkConfig {
    fn default() -> Self {
        Self {
            kind: SinkKind::Kafka,
            brokers: "127.0.0.1:9092".into(),
            topic_prefix: "rowtide".into(),
            tombstones_on_delete: true,
            schema_changes: true,
            topic_partitions: 1,
            topic_replication_factor: 1,
            topic_cleanup_policy: "delete".into(),
            create_topics: true,
            kafka: BTreeMap::new(),
            aws_region: None,
            aws_profile: None,
            delivery: Delivery::AtLeastOnce,
            transactional_id: None,
            transaction_max_ms: 1_000,
            transaction_max_records: 250_000,
            transaction_max_bytes: 128 << 20,
            transaction_timeout_ms: 900_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkKind {
    Kafka,
    Stdout,
}

/// `[format]`: how keys and values are encoded and how types are mapped.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FormatConfig {
    /// `json`, `json_schema` (Kafka Connect JsonConverter with schemas) or `avro`.
    pub kind: FormatKind,
    /// Confluent-compatible schema registry URL (required for `avro`).
    pub registry_url: Option<String>,
    /// Basic-auth user for the registry.
    pub registry_username: Option<String>,
    /// Basic-auth password for the registry (or `registry_password_file`). Never logged.
    pub registry_password: Option<String>,
    pub registry_password_file: Option<PathBuf>,
    /// Extra CA certificates (PEM bundle) to trust for an https registry, besides the
    /// system's trust store.
    pub registry_ca: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS with the registry (with `registry_key`).
    pub registry_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM). Never logged.
    pub registry_key: Option<PathBuf>,
    /// Registry subjects: `topic` (`<topic>-key`/`-value`), `record` (the record's full
    /// name) or `topic_record` (`<topic>-<record full name>`), as Confluent's strategies.
    pub subject_name_strategy: SubjectNameStrategy,
    /// Register schemas that are not yet registered (Confluent's `auto.register.schemas`).
    pub auto_register: bool,
    /// Use the subject's latest registered schema id (Confluent's `use.latest.version`).
    pub use_latest_version: bool,
    /// `precise` (bytes + scale), `double` or `string`.
    pub decimal_handling_mode: DecimalMode,
    /// `adaptive_time_microseconds` or `connect`.
    pub time_precision_mode: TimePrecisionMode,
    /// `long` or `precise`.
    pub bigint_unsigned_handling_mode: BigintUnsignedMode,
    /// `bytes`, `base64`, `base64-url-safe` or `hex`.
    pub binary_handling_mode: BinaryMode,
    /// Emit the `transaction` block (Debezium's `provide.transaction.metadata`).
    pub provide_transaction_metadata: bool,
}

impl fmt::Debug for FormatConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormatConfig")
            .field("kind", &self.kind)
            .field("registry_url", &self.registry_url)
            .field("registry_username", &self.registry_username)
            .field(
                "registry_password",
                &self.registry_password.as_ref().map(|_| "<redacted>"),
            )
            .field("decimal_handling_mode", &self.decimal_handling_mode)
            .field("time_precision_mode", &self.time_precision_mode)
            .field(
                "bigint_unsigned_handling_mode",
                &self.bigint_unsigned_handling_mode,
            )
            .field("binary_handling_mode", &self.binary_handling_mode)
            .finish_non_exhaustive()
    }
}

impl Default for FormatConfig {
    fn default() -> Self {
        Self {
            kind: FormatKind::Json,
            registry_url: None,
            registry_username: None,
            registry_password: None,
            registry_password_file: None,
            registry_ca: None,
            registry_cert: None,
            registry_key: None,
            subject_name_strategy: SubjectNameStrategy::Topic,
            auto_register: true,
            use_latest_version: false,
            decimal_handling_mode: DecimalMode::Precise,
            time_precision_mode: TimePrecisionMode::AdaptiveTimeMicroseconds,
            bigint_unsigned_handling_mode: BigintUnsignedMode::Long,
            binary_handling_mode: BinaryMode::Bytes,
            provide_transaction_metadata: false,
        }
    }
}

impl FormatConfig {
    /// The registry's TLS and registration options that only make sense together.
    fn validate_registry_options(&self) -> Result<()> {
        if self.registry_cert.is_some() != self.registry_key.is_some() {
            return Err(Error::Config(
                "format.registry_cert and format.registry_key go together (the client \
                 certificate and its private key, PEM) for mutual TLS with the registry"
                    .into(),
            ));
        }
        if self.use_latest_version && self.auto_register {
            return Err(Error::Config(
                "format.use_latest_version = true needs format.auto_register = false (as with \
                 Confluent's serializers, auto-registration never uses the latest version)"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// How registry subjects are named (Confluent's `*.subject.name.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectNameStrategy {
    /// `TopicNameStrategy`: `<topic>-key` / `<topic>-value`.
    Topic,
    /// `RecordNameStrategy`: the record's full name.
    Record,
    /// `TopicRecordNameStrategy`: `<topic>-<record full name>`.
    TopicRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FormatKind {
    Json,
    JsonSchema,
    Avro,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecimalMode {
    Precise,
    Double,
    String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimePrecisionMode {
    AdaptiveTimeMicroseconds,
    Connect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BigintUnsignedMode {
    Long,
    Precise,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum BinaryMode {
    #[serde(rename = "bytes")]
    Bytes,
    #[serde(rename = "base64")]
    Base64,
    #[serde(rename = "base64-url-safe")]
    Base64UrlSafe,
    #[serde(rename = "hex")]
    Hex,
}

/// `[metrics]`: the HTTP endpoint.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Address for `GET /metrics`, `/livez`, `/readyz` and `/healthz`; empty disables the
    /// endpoint.
    pub listen: String,
    /// `/livez` fails when no stage has shown progress for this long (a restart's backoff
    /// delay does not count).
    pub liveness_timeout_secs: u64,
    /// `/readyz` fails when a record has waited this long for Kafka's acknowledgement.
    pub readiness_ack_timeout_secs: u64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9187".into(),
            liveness_timeout_secs: 120,
            readiness_ack_timeout_secs: 10,
        }
    }
}

/// `[pipeline]`: sizes of the queues between stages (they bound memory).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Events queued between the source and the encoder.
    pub source_queue: usize,
    /// Records queued between the encoder and the sink.
    pub sink_queue: usize,
    /// Records handed to Kafka but not yet acknowledged, at most.
    pub max_in_flight: usize,
    /// Bytes held by events between the binlog reader and Kafka's acknowledgement, at most.
    pub max_in_flight_bytes: u64,
    /// Parallel encoder workers (results are put back in source order).
    pub encoders: usize,
    /// Seconds to wait for in-flight deliveries at shutdown.
    pub shutdown_timeout_secs: u64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            source_queue: 2048,
            sink_queue: 2048,
            max_in_flight: 10_000,
            max_in_flight_bytes: 64 << 20,
            encoders: 2,
            shutdown_timeout_secs: 30,
        }
    }
}

impl Config {
    /// Loads a file, applies `ROWTIDE_<SECTION>__<KEY>` overrides from `env`, and validates.
    pub fn load(path: Option<&Path>, env: &[(String, String)]) -> Result<Self> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|e| {
                Error::Config(format!("cannot read config file {}: {e}", p.display()))
            })?,
            None => String::new(),
        };
        Self::from_toml(&text, env)
    }

    /// Parses TOML text with environment overrides.
    /// Every secret it contains is registered with [`crate::redact`] first, so that no
    /// message about it (a parse error quotes the line) can show one.
    pub fn from_toml(text: &str, env: &[(String, String)]) -> Result<Self> {
        crate::redact::register_from_text(text);
        for (name, value) in env {
            if crate::redact::is_secret_key(name) {
                crate::redact::register(value);
            }
            // `ROWTIDE_SINK__KAFKA='{ "sasl.password" = "…" }'` and the like.
            crate::redact::register_from_text(value);
        }
        let mut doc: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| Error::Config(e.to_string().trim().to_string()))?;
        apply_env(&mut doc, env)?;
        providers::resolve_document(&mut doc, Box::new(|v| std::env::var(v).ok()))
            .map_err(Error::Config)?;
        // Deserialized from text (the file with the overrides applied) rather than from the
        // table: the text's error spans locate the table a wrong key sits in.
        let merged = toml::to_string(&doc)
            .map_err(|e| Error::Config(format!("cannot apply the configuration: {e}")))?;
        let cfg: Config = toml::from_str(&merged)
            .map_err(|e: toml::de::Error| Error::Config(keys::explain(&merged, &e)))?;
        cfg.register_secrets();
        cfg.validate()?;
        Ok(cfg)
    }

    /// Registers the secrets of the parsed configuration with [`crate::redact`] (password
    /// files are registered when they are read).
    pub fn register_secrets(&self) {
        use crate::redact;
        for p in [&self.source.password, &self.format.registry_password]
            .into_iter()
            .flatten()
        {
            redact::register(p);
        }
        for f in [
            &self.source.password_file,
            &self.format.registry_password_file,
        ]
        .into_iter()
        .flatten()
        {
            // Unreadable here: reported (without the content) where it is needed.
            if let Ok(text) = std::fs::read_to_string(f) {
                redact::register(text.trim_end_matches(['\n', '\r']));
            }
        }
        if let Some(url) = &self.format.registry_url {
            redact::register_url(url);
        }
        for (k, v) in &self.sink.kafka {
            if redact::is_secret_key(k) {
                redact::register(v);
            }
        }
    }

    /// Rejects conflicting or missing settings, naming the key.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if self.source.password.is_some() && self.source.password_file.is_some() {
            return bad("source.password and source.password_file are both set; keep one".into());
        }
        if self.format.registry_password.is_some() && self.format.registry_password_file.is_some() {
            return bad(
                "format.registry_password and format.registry_password_file are both set; keep one"
                    .into(),
            );
        }
        if self
            .format
            .registry_url
            .as_deref()
            .and_then(crate::redact::misplaced_userinfo)
            .is_some()
        {
            return bad(
                "format.registry_url has an '@' after its host: percent-encode '/', '?', '#' \
                 and '@' in the user and password of the URL (e.g. '/' as %2F)"
                    .into(),
            );
        }
        if self.format.registry_username.is_some()
            && self
                .format
                .registry_url
                .as_deref()
                .and_then(crate::redact::url_userinfo)
                .is_some()
        {
            return bad(
                "format.registry_url carries credentials (user:password@) and \
                 format.registry_username is set too; keep one of them"
                    .into(),
            );
        }
        self.format.validate_registry_options()?;
        if self.format.kind == FormatKind::Avro && self.format.registry_url.is_none() {
            return bad(
                "format.kind = \"avro\" needs format.registry_url (a Confluent-compatible schema registry)".into(),
            );
        }
        self.events.validate()?;
        self.signals.validate()?;
        self.snapshot.validate(&self.signals)?;
        self.notifications.validate()?;
        self.checkpoint.validate(&self.sink)?;
        delivery::validate(self)?;
        self.ha.validate(
            &self.checkpoint,
            &self.sink,
            self.source.snapshot_parallelism,
        )?;
        validate_kafka_mechanism(&self.sink)?;
        if self.source.server_id == 0 {
            return bad("source.server_id must not be 0 (0 is not a valid replica id)".into());
        }
        if matches!(self.source.tls, TlsMode::VerifyCa | TlsMode::VerifyIdentity)
            && self.source.tls_ca.is_none()
        {
            return bad(format!(
                "source.tls = \"{}\" needs source.tls_ca (the CA certificate to verify against)",
                match self.source.tls {
                    TlsMode::VerifyCa => "verify_ca",
                    _ => "verify_identity",
                }
            ));
        }
        if self.source.read_timeout_ms <= self.source.heartbeat_interval_ms {
            return bad(format!(
                "source.read_timeout_ms ({}) must be larger than source.heartbeat_interval_ms ({})",
                self.source.read_timeout_ms, self.source.heartbeat_interval_ms
            ));
        }
        if self.sink.topic_prefix.is_empty()
            || !self
                .sink
                .topic_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return bad(format!(
                "sink.topic_prefix `{}` must be non-empty and use only letters, digits, '.', '_' and '-'",
                self.sink.topic_prefix
            ));
        }
        if !["delete", "compact", "compact,delete", "delete,compact"]
            .contains(&self.sink.topic_cleanup_policy.as_str())
        {
            return bad(format!(
                "sink.topic_cleanup_policy `{}` must be \"delete\" or \"compact\"",
                self.sink.topic_cleanup_policy
            ));
        }
        if self.pipeline.encoders == 0 || self.pipeline.encoders > 64 {
            return bad(format!(
                "pipeline.encoders is {}; use 1 to 64 encoder workers",
                self.pipeline.encoders
            ));
        }
        if self.pipeline.source_queue == 0
            || self.pipeline.sink_queue == 0
            || self.pipeline.max_in_flight == 0
            || self.pipeline.max_in_flight_bytes < 1 << 20
        {
            return bad("pipeline.source_queue, pipeline.sink_queue and pipeline.max_in_flight must be at least 1, pipeline.max_in_flight_bytes at least 1048576 (1 MiB)".into());
        }
        if self.source.snapshot_fetch_size == 0 || self.source.snapshot_parallelism == 0 {
            return bad(
                "source.snapshot_fetch_size and source.snapshot_parallelism must be at least 1"
                    .into(),
            );
        }
        crate::model::Filter::new(&self.source.include, &self.source.exclude)?;
        crate::catalog::ddl_skip::DdlSkipList::parse(&self.source.ddl_skip)
            .map_err(|e| Error::Config(format!("source.ddl_skip: {e}")))?;
        Ok(())
    }

    /// The process environment's `ROWTIDE_*` variables.
    pub fn env_overrides() -> Vec<(String, String)> {
        std::env::vars()
            .filter(|(k, _)| k.starts_with("ROWTIDE_") && k.contains("__"))
            .collect()
    }
}

/// Applies `ROWTIDE_<SECTION>__<KEY>=value` overrides. Values parse as TOML when they can
/// (numbers, booleans, arrays), else as strings.
fn apply_env(doc: &mut toml::Table, env: &[(String, String)]) -> Result<()> {
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("ROWTIDE_") else {
            continue;
        };
        let Some((section, key)) = rest.split_once("__") else {
            continue;
        };
        let section = section.to_ascii_lowercase();
        let key = key.to_ascii_lowercase();
        if !valid_keys("").contains(&section) {
            // Variables such as ROWTIDE_TEST_… belong to other tools.
            continue;
        }
        let keys = valid_keys(&section);
        if !keys.contains(&key) {
            let hint = suggest(&section, &key)
                .map(|k| {
                    format!(
                        "; did you mean ROWTIDE_{}__{}?",
                        section.to_uppercase(),
                        k.to_uppercase()
                    )
                })
                .unwrap_or_default();
            return Err(Error::Config(format!(
                "environment variable {name} names unknown key `{section}.{key}`{hint}\n\
                 the valid keys of [{section}] are: {}",
                keys.join(", ")
            )));
        }
        let parsed: toml::Value = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.clone()));
        // Strings that happen to look like numbers stay strings for string keys.
        const STRING_KEYS: &[&str] = &[
            "password",
            "user",
            "host",
            "brokers",
            "topic_prefix",
            "registry_password",
            "registry_username",
        ];
        let parsed = match parsed {
            toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_)
                if STRING_KEYS.contains(&key.as_str()) =>
            {
                toml::Value::String(value.clone())
            }
            other => other,
        };
        let table = doc
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(Default::default()));
        match table {
            toml::Value::Table(t) => {
                t.insert(key, parsed);
            }
            _ => {
                return Err(Error::Config(format!("`{section}` must be a table")));
            }
        }
    }
    Ok(())
}

mod checkpoint;
pub mod delivery;
mod ha;
mod keys;
mod log;
mod msk_iam;
mod notifications;
pub(crate) mod properties;
pub(crate) mod providers;
pub mod shaping;
mod signals;
mod snapshot;

pub use checkpoint::{CheckpointConfig, StoreKind};
pub use delivery::Delivery;
pub use ha::HaConfig;
pub use keys::suggest;
use keys::valid_keys;
pub use log::{LogConfig, LogFormat, LogLevel};
use msk_iam::validate_kafka_mechanism;
pub use notifications::NotificationsConfig;
pub use shaping::{EventsConfig, HeartbeatConfig, PredicateConfig, TransformConfig};
pub use signals::SignalsConfig;
pub use snapshot::{NewTables, SnapshotConfig};

#[cfg(test)]
mod tests;
