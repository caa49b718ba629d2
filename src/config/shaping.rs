//! Event shaping: `[events]` (which columns, how masked, which key, which operations),
//! `[heartbeat]` (Debezium's heartbeat records) and `[[transforms]]` (the single message
//! transforms applied in order to every record). Each key mirrors a Debezium connector
//! property: the property name with `.`/`-` turned into `_` (`column.exclude.list` →
//! `column_exclude`), so `rowtide import debezium` maps them one to one.
//!
//! Invariant: everything here is validated at load (regexes compile, operations and
//! algorithms are known); transform options are validated when the chain is built, which
//! `run`, `check` and `replay` do before they touch a server.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `[events]`: which columns go into events and how, the key, the operations emitted, and
/// what happens to an event that cannot be processed.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Regexes matched against `db.table.column` (whole name, case-insensitive): only
    /// matching columns are emitted (`column.include.list`). Excludes `column_exclude`.
    pub column_include: Vec<String>,
    /// Regexes on `db.table.column`: matching columns are left out (`column.exclude.list`).
    pub column_exclude: Vec<String>,
    /// Character columns replaced by `chars` asterisks (`column.mask.with.N.chars`).
    pub column_mask: Vec<ColumnMask>,
    /// Character columns replaced by a salted hash (`column.mask.hash.<ALG>.with.salt.<salt>`
    /// and `column.mask.hash.hashing.strategy.version`).
    pub column_mask_hash: Vec<ColumnMaskHash>,
    /// Character columns cut to `chars` characters (`column.truncate.to.N.chars`).
    pub column_truncate: Vec<ColumnTruncate>,
    /// Regexes on `db.table.column` whose schemas carry the `__debezium.source.column.*`
    /// parameters (`column.propagate.source.type`).
    pub column_propagate_source_type: Vec<String>,
    /// Regexes on `db.table.TYPE` (the column's type name, e.g. `.+\.DECIMAL`) whose schemas
    /// carry the same parameters (`datatype.propagate.source.type`).
    pub datatype_propagate_source_type: Vec<String>,
    /// Debezium's `message.key.columns`: `db.table:col1,col2;db2.table2:col` (table parts are
    /// regexes), the key for the matching tables instead of the primary key.
    pub message_key_columns: Option<String>,
    /// Operations not emitted (`skipped.operations`): any of `c`, `u`, `d`, `t`, or `none`.
    /// Default `["t"]`, as Debezium.
    pub skipped_operations: Vec<String>,
    /// What an event that cannot be processed does (`event.processing.failure.handling.mode`):
    /// `fail` stops with the position; `warn` logs the position and reason and skips it;
    /// `skip` skips it (logged at debug). Both count in `rowtide_events_failed_total`.
    pub failure_handling_mode: FailureMode,
    /// Debezium's context headers on every change, tombstone and schema-change record
    /// (`extended.headers.enabled`, default true as in Debezium 3.2+):
    /// `__debezium.context.connectorLogicalName` (the topic prefix), `…taskId` (`0`),
    /// `…connectorName` (`mariadb` or `mysql`), `…runId` (a UUID v7 per process start).
    pub extended_headers_enabled: bool,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            column_include: vec![],
            column_exclude: vec![],
            column_mask: vec![],
            column_mask_hash: vec![],
            column_truncate: vec![],
            column_propagate_source_type: vec![],
            datatype_propagate_source_type: vec![],
            message_key_columns: None,
            skipped_operations: vec!["t".into()],
            failure_handling_mode: FailureMode::Fail,
            extended_headers_enabled: true,
        }
    }
}

/// `[[events.column_mask]]`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ColumnMask {
    /// How many `*` replace the value (0: the empty string).
    pub chars: usize,
    /// Regexes on `db.table.column`.
    pub columns: Vec<String>,
}

/// `[[events.column_mask_hash]]`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ColumnMaskHash {
    /// A Java `MessageDigest` name: `MD2`, `MD5`, `SHA-1`, `SHA-224`, `SHA-256`, `SHA-384`,
    /// `SHA-512`, `SHA-512/224`, `SHA-512/256`, `SHA3-224`, `SHA3-256`, `SHA3-384`, `SHA3-512`.
    pub algorithm: String,
    /// The salt, as in the Debezium property name.
    pub salt: String,
    /// Debezium's hashing strategy: `v1` (the default) or `v2`.
    #[serde(default)]
    pub version: HashVersion,
    /// Regexes on `db.table.column`.
    pub columns: Vec<String>,
}

/// `[[events.column_truncate]]`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ColumnTruncate {
    /// The most characters kept.
    pub chars: usize,
    /// Regexes on `db.table.column`.
    pub columns: Vec<String>,
}

/// `column.mask.hash.hashing.strategy.version`.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum HashVersion {
    #[default]
    V1,
    V2,
}

/// `event.processing.failure.handling.mode`.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FailureMode {
    #[default]
    Fail,
    Warn,
    #[serde(alias = "ignore")]
    Skip,
}

/// `[heartbeat]`: Debezium's heartbeat records (not the replication heartbeat of
/// `source.heartbeat_interval_ms`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeartbeatConfig {
    /// Milliseconds between heartbeat records; 0 turns them off (`heartbeat.interval.ms`).
    pub interval_ms: u64,
    /// Topic `<topics_prefix>.<sink.topic_prefix>` (`topic.heartbeat.prefix`).
    pub topics_prefix: String,
    /// A statement run on the source at each heartbeat (`heartbeat.action.query`), e.g. an
    /// update of a heartbeat table so that quiet databases still produce binlog events.
    pub action_query: Option<String>,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        Self {
            interval_ms: 0,
            topics_prefix: "__debezium-heartbeat".into(),
            action_query: None,
        }
    }
}

impl HeartbeatConfig {
    /// The heartbeat topic for a topic prefix.
    pub fn topic(&self, topic_prefix: &str) -> String {
        format!("{}.{topic_prefix}", self.topics_prefix)
    }
}

/// `[[transforms]]`: one single message transform. `type` is the Kafka Connect class name
/// (`io.debezium.transforms.ExtractNewRecordState`, …) or its short alias (`unwrap`,
/// `regex_router`, `by_logical_table_router`, `outbox_event_router`); every other key is
/// one of the transform's options, the Kafka Connect property with `.`/`-` turned into `_`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct TransformConfig {
    /// The name the transform had in `transforms=…` (used in messages).
    pub name: String,
    /// The transform class or alias.
    #[serde(rename = "type")]
    pub kind: String,
    /// The transform's options.
    #[serde(flatten)]
    pub options: BTreeMap<String, toml::Value>,
}

/// `[[predicates]]`: one Kafka Connect transform predicate (`predicates=…`), referenced by
/// a transform's `predicate = "<name>"` (with `negate`). `type` is the class name
/// (`org.apache.kafka.connect.transforms.predicates.TopicNameMatches`, `HasHeaderKey`,
/// `RecordIsTombstone`) or its alias (`topic_name_matches`, `has_header_key`,
/// `record_is_tombstone`); every other key is one of its options (`pattern`; HasHeaderKey's
/// `name` is written `header_name`, `name` being the entry's own).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct PredicateConfig {
    /// The name transforms refer to.
    pub name: String,
    /// The predicate class or alias.
    #[serde(rename = "type")]
    pub kind: String,
    /// The predicate's options.
    #[serde(flatten)]
    pub options: BTreeMap<String, toml::Value>,
}

/// The operation codes `skipped_operations` accepts.
pub const OPERATION_CODES: &[&str] = &["c", "u", "d", "t"];

impl EventsConfig {
    /// True when events of this operation code (`c`, `u`, `d`, `t`) are not emitted.
    pub fn skips(&self, op: &str) -> bool {
        self.skipped_operations.iter().any(|s| s == op)
    }

    /// True when any column option is set (the envelope then builds a column plan).
    pub fn shapes_columns(&self) -> bool {
        !(self.column_include.is_empty()
            && self.column_exclude.is_empty()
            && self.column_mask.is_empty()
            && self.column_mask_hash.is_empty()
            && self.column_truncate.is_empty()
            && self.column_propagate_source_type.is_empty()
            && self.datatype_propagate_source_type.is_empty())
    }

    /// Rejects settings that cannot work, naming the key.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if !self.column_include.is_empty() && !self.column_exclude.is_empty() {
            return bad(
                "events.column_include and events.column_exclude are both set; keep one \
                 (as Debezium's column.include.list / column.exclude.list)"
                    .into(),
            );
        }
        let mut patterns: Vec<(String, &String)> = vec![];
        for (key, list) in [
            ("events.column_include", &self.column_include),
            ("events.column_exclude", &self.column_exclude),
            (
                "events.column_propagate_source_type",
                &self.column_propagate_source_type,
            ),
            (
                "events.datatype_propagate_source_type",
                &self.datatype_propagate_source_type,
            ),
        ] {
            patterns.extend(list.iter().map(|p| (key.to_string(), p)));
        }
        for (i, m) in self.column_mask.iter().enumerate() {
            patterns.extend(
                m.columns
                    .iter()
                    .map(|p| (format!("events.column_mask[{i}]"), p)),
            );
        }
        for (i, t) in self.column_truncate.iter().enumerate() {
            patterns.extend(
                t.columns
                    .iter()
                    .map(|p| (format!("events.column_truncate[{i}]"), p)),
            );
        }
        for (i, h) in self.column_mask_hash.iter().enumerate() {
            if !HASH_ALGORITHMS.contains(&h.algorithm.to_ascii_uppercase().as_str()) {
                return bad(format!(
                    "events.column_mask_hash[{i}].algorithm = {:?} is not a known digest; \
                     use one of {}",
                    h.algorithm,
                    HASH_ALGORITHMS.join(", ")
                ));
            }
            patterns.extend(
                h.columns
                    .iter()
                    .map(|p| (format!("events.column_mask_hash[{i}]"), p)),
            );
        }
        let key_columns = match &self.message_key_columns {
            Some(text) => key_column_patterns(text)?,
            None => vec![],
        };
        let key = "events.message_key_columns".to_string();
        patterns.extend(key_columns.iter().map(|p| (key.clone(), p)));
        for (key, p) in patterns {
            if let Err(e) = regex::Regex::new(p) {
                return bad(format!("{key}: {p:?} is not a valid regex: {e}"));
            }
        }
        for op in &self.skipped_operations {
            if op != "none" && !OPERATION_CODES.contains(&op.as_str()) {
                return bad(format!(
                    "events.skipped_operations: {op:?} is not an operation; use c, u, d, t \
                     or none"
                ));
            }
        }
        Ok(())
    }
}

/// `message_key_columns` expanded as Debezium's `Key.CustomKeyMapper.getInstance` does:
/// entries split on `;` (trailing empty ones dropped, as Java's `split`), each checked
/// against `^\s*([^:]+):([^:,]+(,[^:,]+)*)\s*$` and split at its first `:` into a table
/// regex (kept as written, blanks included) and a `,`-separated column list (each trimmed),
/// giving one `<table regex>.<column>` pattern per column, in the order written.
pub fn key_column_patterns(text: &str) -> Result<Vec<String>> {
    let entry = regex::Regex::new(r"^\s*([^:]+):([^:,]+(,[^:,]+)*)\s*$")
        .map_err(|e| Error::Config(e.to_string()))?;
    let mut entries: Vec<&str> = text.split(';').collect();
    while entries.len() > 1 && entries.last().is_some_and(|e| e.is_empty()) {
        entries.pop();
    }
    let mut out = vec![];
    for e in entries {
        let parsed = entry.is_match(e).then(|| e.split_once(':')).flatten();
        let Some((table, columns)) = parsed else {
            return Err(Error::Config(format!(
                "events.message_key_columns: {e:?} is not `<db>.<table>:<column>[,<column>…]` \
                 (entries separated by `;`)"
            )));
        };
        out.extend(columns.split(',').map(|c| format!("{table}.{}", c.trim())));
    }
    Ok(out)
}

/// The digests `column_mask_hash` accepts (Java `MessageDigest` names).
pub const HASH_ALGORITHMS: &[&str] = &[
    "MD2",
    "MD5",
    "SHA-1",
    "SHA-224",
    "SHA-256",
    "SHA-384",
    "SHA-512",
    "SHA-512/224",
    "SHA-512/256",
    "SHA3-224",
    "SHA3-256",
    "SHA3-384",
    "SHA3-512",
];
