//! Encoders: serialize keys and envelopes as plain JSON (`json`), JSON with the Connect
//! schema (`json_schema`, JsonConverter's `{"schema","payload"}`), or Avro in the Confluent
//! wire format with the schema registered at a Confluent-compatible registry (`avro`).
//!
//! Invariant: encoders read only the schema model of [`crate::envelope`]; per table
//! structure (fingerprint) the rendered schemas and Avro codecs are built once and reused,
//! and an Avro record is only produced after its schema has an id under its subject.

pub mod avro;
pub(crate) mod heartbeat;
pub(crate) mod json;
pub(crate) mod notification;
pub(crate) mod records;
pub mod registry;
mod shaped;
pub mod static_schemas;

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{Config, FormatConfig, FormatKind};
use crate::envelope::schema::{Datum, Schema};
use crate::envelope::transaction::{self, Boundary, TxnBlock};
use crate::envelope::{schema_change, EnvelopeBuilder, Now, TableSchemas};
use crate::error::{Error, Result};
use crate::model::{Change, Flavor, SchemaChange, TableDesc};
use crate::sink::OutRecord;
use crate::transform::{Chain, Context, Part, Record};

use self::avro::AvroCodec;
use self::registry::Registry;

/// Static Avro schemas of schema-change events (see `schemas/`).
pub const SCHEMA_CHANGE_KEY_MYSQL_AVSC: &str =
    include_str!("../../schemas/mysql-schema-change-key.avsc");
pub const SCHEMA_CHANGE_VALUE_MYSQL_AVSC: &str =
    include_str!("../../schemas/mysql-schema-change-value.avsc");
pub const SCHEMA_CHANGE_KEY_MARIADB_AVSC: &str =
    include_str!("../../schemas/mariadb-schema-change-key.avsc");
pub const SCHEMA_CHANGE_VALUE_MARIADB_AVSC: &str =
    include_str!("../../schemas/mariadb-schema-change-value.avsc");
/// Static Avro schemas of transaction metadata events (see `schemas/`).
pub const TRANSACTION_KEY_AVSC: &str = include_str!("../../schemas/transaction-metadata-key.avsc");
pub const TRANSACTION_VALUE_AVSC: &str =
    include_str!("../../schemas/transaction-metadata-value.avsc");

/// One record for the sink.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedRecord {
    pub topic: Arc<str>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

impl EncodedRecord {
    /// The record to deliver, with the position of the change it belongs to.
    pub fn at(self, position: Arc<str>) -> OutRecord {
        OutRecord {
            topic: self.topic,
            key: self.key,
            value: self.value,
            position,
            headers: vec![],
            timestamp: None,
            partition: None,
        }
    }
}

/// Rendered JSON schemas of one table structure (for `json_schema`).
#[derive(Debug)]
struct JsonSchemas {
    key: Option<Vec<u8>>,
    value: Vec<u8>,
}

/// Avro codecs of one table structure.
#[derive(Debug)]
struct AvroTable {
    key: Option<AvroCodec>,
    value: AvroCodec,
    /// (key id, value id) once both are registered: spares the registry cache lookup (which
    /// hashes the schema text) on every event.
    ids: std::sync::OnceLock<(Option<u32>, u32)>,
}

/// Encodes changes and schema changes into records.
#[derive(Debug)]
pub struct Encoder {
    kind: FormatKind,
    envelope: EnvelopeBuilder,
    json: HashMap<u64, Arc<JsonSchemas>>,
    avro: HashMap<u64, Arc<AvroTable>>,
    registry: Option<Registry>,
    schema_change: Option<(Schema, Schema)>,
    schema_change_avro: Option<Arc<AvroTable>>,
    /// Transaction metadata key and value schemas, built on first use.
    transaction: Option<Arc<TransactionSchemas>>,
    /// The configured transforms (empty: records keep the fast path).
    chain: Chain,
    /// Caches of the shaped path ([`shaped`]).
    shaped: shaped::ShapedCaches,
    /// The heartbeat topic and its schemas ([`heartbeat`]).
    heartbeat: heartbeat::HeartbeatState,
    /// The notification topic and its schemas ([`notification`]).
    notification: notification::NotificationState,
    /// Debezium's context headers for every change and schema-change record (empty when
    /// `events.extended_headers_enabled` is off, and for encoders made without a config).
    context: Arc<[crate::sink::Header]>,
}

/// The schemas of the transaction topic, in every form the encoders need.
#[derive(Debug)]
struct TransactionSchemas {
    key: Schema,
    value: Schema,
    /// Connect JSON schemas (for `json_schema`).
    key_json: Vec<u8>,
    value_json: Vec<u8>,
    /// Avro codecs from the static schema files (for `avro`).
    avro: Option<AvroTable>,
}

impl Encoder {
    /// `flavor` decides `source.connector` ("mysql"/"mariadb") and the Source schema name.
    pub fn new(cfg: &FormatConfig, topic_prefix: &str, flavor: Flavor) -> Result<Self> {
        let registry = match cfg.kind {
            FormatKind::Avro => Some(Registry::new(cfg)?),
            _ => None,
        };
        Ok(Encoder {
            kind: cfg.kind,
            envelope: EnvelopeBuilder::new(topic_prefix, flavor, cfg.into()),
            json: HashMap::new(),
            avro: HashMap::new(),
            registry,
            schema_change: None,
            schema_change_avro: None,
            transaction: None,
            chain: Chain::default(),
            shaped: Default::default(),
            heartbeat: Default::default(),
            notification: Default::default(),
            context: Arc::from([]),
        })
    }

    /// Debezium's context headers (see [`Encoder::for_config`]).
    pub fn context_headers(&self) -> &Arc<[crate::sink::Header]> {
        &self.context
    }

    /// The encoder of a whole configuration: format, topic prefix, the `[events]` column
    /// and key options, and transforms.
    pub fn for_config(cfg: &Config, flavor: Flavor) -> Result<Self> {
        let mut e = Self::new(&cfg.format, &cfg.sink.topic_prefix, flavor)?;
        e.envelope.shape(&cfg.events)?;
        e.chain = Chain::build(
            &cfg.transforms,
            &cfg.predicates,
            &Context {
                topic_prefix: cfg.sink.topic_prefix.clone(),
            },
        )?;
        e.set_heartbeat_topics_prefix(&cfg.heartbeat.topics_prefix);
        e.set_notification_topic(cfg.notifications.topic.as_deref());
        if cfg.events.extended_headers_enabled {
            e.context = shaped::context_headers(&cfg.sink.topic_prefix, flavor);
        }
        Ok(e)
    }

    /// True when change records go through the shaped path (transforms are configured).
    pub fn shapes(&self) -> bool {
        !self.chain.is_empty()
    }

    /// Runs `rec` through the configured transforms.
    pub fn transform(&mut self, rec: Record) -> Result<Option<Record>> {
        self.chain.apply(rec)
    }

    /// A change as a Kafka Connect record (key and envelope with their schemas), for the
    /// shaped path.
    pub fn change_record(
        &mut self,
        change: &Change,
        now: Now,
        txn: Option<&TxnBlock>,
    ) -> Result<Record> {
        let schemas = self.envelope.schemas_of(&change.table);
        let key = self.envelope.key_datum(change)?;
        let value = self.envelope.envelope_datum(change, now, txn)?;
        Ok(Record {
            topic: schemas.topic.clone(),
            key: match (key, &schemas.key) {
                (Some(k), Some(ks)) => Some(Part::new(ks.clone(), k)),
                _ => None,
            },
            value: Some(Part::new(schemas.envelope.clone(), value)),
            headers: vec![],
            timestamp: None,
            partition: None,
        })
    }

    /// A change that moves its key (primary key, or `events.message_key_columns`) as the
    /// delete of the old key and the create of the new one; `None` for every other change.
    pub fn split(&mut self, change: &Change) -> Option<(Change, Change)> {
        change.split_on(&self.envelope.schemas_of(&change.table).key_columns)
    }

    /// The key of a change as a header value (`__debezium.oldkey`/`newkey`): its schema and
    /// datum, `None` for a keyless table.
    pub fn key_part(&mut self, change: &Change) -> Result<Option<Part>> {
        let schemas = self.envelope.schemas_of(&change.table);
        Ok(match (self.envelope.key_datum(change)?, &schemas.key) {
            (Some(k), Some(ks)) => Some(Part::new(ks.clone(), k)),
            _ => None,
        })
    }

    /// The registry client (avro only), e.g. to seed ids or to look schemas up.
    pub fn registry_mut(&mut self) -> Option<&mut Registry> {
        self.registry.as_mut()
    }

    /// Topic of a table: `<prefix>.<db>.<table>`.
    pub fn topic(&self, t: &TableDesc) -> String {
        self.envelope.stem(t)
    }

    fn encode_err(c: &Change, reason: String) -> Error {
        Error::Encode {
            table: c.table.full_name(),
            position: c.position.to_string(),
            reason,
        }
    }

    fn avro_table(&mut self, s: &TableSchemas) -> Result<Arc<AvroTable>> {
        if let Some(a) = self.avro.get(&s.fingerprint) {
            return Ok(a.clone());
        }
        let a = Arc::new(AvroTable {
            key: s.key.as_deref().map(AvroCodec::new).transpose()?,
            value: AvroCodec::new(&s.envelope)?,
            ids: std::sync::OnceLock::new(),
        });
        self.avro.insert(s.fingerprint, a.clone());
        Ok(a)
    }

    /// The Avro schema texts (key, value) of a table structure.
    pub fn avro_schemas(&mut self, t: &TableDesc) -> Result<(Option<String>, String)> {
        let s = self.envelope.schemas(t);
        let a = self.avro_table(&s)?;
        Ok((
            a.key.as_ref().map(|k| k.schema_json.clone()),
            a.value.schema_json.clone(),
        ))
    }

    /// Encodes one row change for topic `<prefix>.<db>.<table>`.
    pub async fn encode_change(&mut self, change: &Change) -> Result<EncodedRecord> {
        self.encode_change_at(change, Now::system()).await
    }

    /// As [`Self::encode_change`], with an explicit processing time (for reproducible tests).
    pub async fn encode_change_at(&mut self, change: &Change, now: Now) -> Result<EncodedRecord> {
        self.encode_change_in(change, now, None).await
    }

    /// As [`Self::encode_change_at`], with the envelope's `transaction` block (transaction
    /// metadata; `None` leaves it null).
    pub async fn encode_change_in(
        &mut self,
        change: &Change,
        now: Now,
        txn: Option<&TxnBlock>,
    ) -> Result<EncodedRecord> {
        self.prepare_change(change).await?;
        self.encode_change_now(change, now, txn)
    }

    /// True when [`Self::encode_change_now`] can encode this change without first
    /// registering a schema (always for the JSON formats).
    pub fn change_ready(&mut self, change: &Change) -> bool {
        if self.kind != FormatKind::Avro {
            return true;
        }
        let schemas = self.envelope.schemas_of(&change.table);
        self.avro
            .get(&schemas.fingerprint)
            .is_some_and(|a| a.ids.get().is_some())
    }

    /// Registers the change's table schemas at the registry (avro; a no-op once done and
    /// for the JSON formats).
    pub async fn prepare_change(&mut self, change: &Change) -> Result<()> {
        if self.change_ready(change) {
            return Ok(());
        }
        let schemas = self.envelope.schemas_of(&change.table);
        let a = self.avro_table(&schemas)?;
        let Some(reg) = self.registry.as_mut() else {
            return Err(Error::Config(
                "format.registry_url is required for avro".into(),
            ));
        };
        let topic = &schemas.topic;
        let kid = match &a.key {
            Some(codec) => Some(reg.id_for_part(topic, true, &codec.schema_json).await?),
            None => None,
        };
        let vid = reg.id_for_part(topic, false, &a.value.schema_json).await?;
        let _ = a.ids.set((kid, vid));
        Ok(())
    }

    /// Encodes a change whose schemas are ready (see [`Self::prepare_change`]). Synchronous:
    /// the per-event path never builds the registry client's futures.
    pub fn encode_change_now(
        &mut self,
        change: &Change,
        now: Now,
        txn: Option<&TxnBlock>,
    ) -> Result<EncodedRecord> {
        let schemas = self.envelope.schemas_of(&change.table);
        let topic = schemas.topic.clone();
        let key = self.envelope.key_datum(change)?;
        let value = self.envelope.envelope_datum(change, now, txn)?;
        let (key, value) = match self.kind {
            FormatKind::Json => {
                let k = key.map(|k| to_json(schemas.key.as_deref(), &k));
                let mut v = Vec::with_capacity(schemas.value_capacity());
                json::write_json(&schemas.envelope, &value, &mut v);
                schemas.saw_value_size(v.len());
                (k, v)
            }
            FormatKind::JsonSchema => {
                let js = self.json_schemas(&schemas);
                let k = match (key, &schemas.key, &js.key) {
                    (Some(k), Some(ks), Some(kj)) => {
                        let mut out = Vec::with_capacity(256);
                        json::write_with_schema(kj, ks, &k, &mut out);
                        Some(out)
                    }
                    _ => None,
                };
                let mut v = Vec::with_capacity(schemas.value_capacity());
                json::write_with_schema(&js.value, &schemas.envelope, &value, &mut v);
                schemas.saw_value_size(v.len());
                (k, v)
            }
            FormatKind::Avro => {
                let a = self.avro_table(&schemas)?;
                let Some(&(key_id, value_id)) = a.ids.get() else {
                    return Err(Self::encode_err(
                        change,
                        format!("the schemas of {topic} are not registered yet"),
                    ));
                };
                let k = match (key, &a.key, key_id) {
                    (Some(k), Some(codec), Some(id)) => {
                        let mut out = Vec::with_capacity(64);
                        codec
                            .encode(id, &k, &mut out)
                            .map_err(|r| Self::encode_err(change, r))?;
                        Some(out)
                    }
                    _ => None,
                };
                let mut v = Vec::with_capacity(schemas.value_capacity());
                a.value
                    .encode(value_id, &value, &mut v)
                    .map_err(|r| Self::encode_err(change, r))?;
                schemas.saw_value_size(v.len());
                (k, v)
            }
        };
        Ok(EncodedRecord {
            topic,
            key,
            value: Some(value),
        })
    }

    fn json_schemas(&mut self, s: &TableSchemas) -> Arc<JsonSchemas> {
        if let Some(j) = self.json.get(&s.fingerprint) {
            return j.clone();
        }
        let j = Arc::new(JsonSchemas {
            key: s
                .key
                .as_ref()
                .map(|k| k.to_connect_json().to_string().into_bytes()),
            value: s.envelope.to_connect_json().to_string().into_bytes(),
        });
        self.json.insert(s.fingerprint, j.clone());
        j
    }

    fn schema_change_schemas(&mut self) -> (Schema, Schema) {
        let flavor = self.envelope.flavor();
        self.schema_change
            .get_or_insert_with(|| {
                (
                    schema_change::key_schema(flavor),
                    schema_change::value_schema(flavor),
                )
            })
            .clone()
    }

    fn schema_change_codecs(&mut self) -> Result<Arc<AvroTable>> {
        if let Some(c) = &self.schema_change_avro {
            return Ok(c.clone());
        }
        let (ks, vs) = self.schema_change_schemas();
        let (kj, vj) = match self.envelope.flavor() {
            Flavor::Mysql => (SCHEMA_CHANGE_KEY_MYSQL_AVSC, SCHEMA_CHANGE_VALUE_MYSQL_AVSC),
            Flavor::Mariadb => (
                SCHEMA_CHANGE_KEY_MARIADB_AVSC,
                SCHEMA_CHANGE_VALUE_MARIADB_AVSC,
            ),
        };
        let c = Arc::new(AvroTable {
            key: Some(AvroCodec::from_json(&ks, compact(kj))?),
            value: AvroCodec::from_json(&vs, compact(vj))?,
            ids: std::sync::OnceLock::new(),
        });
        self.schema_change_avro = Some(c.clone());
        Ok(c)
    }

    /// True when [`Self::encode_schema_change_now`] needs no registration first.
    pub fn schema_change_ready(&self) -> bool {
        self.kind != FormatKind::Avro
            || self
                .schema_change_avro
                .as_ref()
                .is_some_and(|c| c.ids.get().is_some())
    }

    /// Registers the schema-change topic's schemas (avro only; once).
    pub async fn prepare_schema_change(&mut self) -> Result<()> {
        if self.schema_change_ready() {
            return Ok(());
        }
        let codecs = self.schema_change_codecs()?;
        let prefix = self.envelope.prefix().to_string();
        let Some(reg) = self.registry.as_mut() else {
            return Err(Error::Config(
                "format.registry_url is required for avro".into(),
            ));
        };
        let kid = match &codecs.key {
            Some(kc) => Some(reg.id_for_part(&prefix, true, &kc.schema_json).await?),
            None => None,
        };
        let vid = reg
            .id_for_part(&prefix, false, &codecs.value.schema_json)
            .await?;
        let _ = codecs.ids.set((kid, vid));
        Ok(())
    }

    /// Encodes a schema change for topic `<prefix>` with key `{databaseName}`.
    pub async fn encode_schema_change(&mut self, sc: &SchemaChange) -> Result<EncodedRecord> {
        self.prepare_schema_change().await?;
        self.encode_schema_change_now(sc)
    }

    /// As [`Self::encode_schema_change`] once [`Self::prepare_schema_change`] is done.
    pub fn encode_schema_change_now(&mut self, sc: &SchemaChange) -> Result<EncodedRecord> {
        let flavor = self.envelope.flavor();
        let prefix = self.envelope.prefix().to_string();
        let (ks, vs) = self.schema_change_schemas();
        let key = schema_change::key_datum(sc);
        let value = schema_change::value_datum(sc, flavor, &prefix);
        let sc_err = |r: String| Error::Encode {
            table: sc.database.clone(),
            position: sc.position.to_string(),
            reason: r,
        };
        let (k, v) = match self.kind {
            FormatKind::Json => (to_json(Some(&ks), &key), to_json(Some(&vs), &value)),
            FormatKind::JsonSchema => {
                let mut k = Vec::new();
                json::write_with_schema(
                    ks.to_connect_json().to_string().as_bytes(),
                    &ks,
                    &key,
                    &mut k,
                );
                let mut v = Vec::new();
                json::write_with_schema(
                    vs.to_connect_json().to_string().as_bytes(),
                    &vs,
                    &value,
                    &mut v,
                );
                (k, v)
            }
            FormatKind::Avro => {
                let codecs = self.schema_change_codecs()?;
                let Some(&(kid, vid)) = codecs.ids.get() else {
                    return Err(sc_err(
                        "the schema-change topic's schemas are not registered yet".into(),
                    ));
                };
                let mut k = Vec::new();
                if let (Some(kc), Some(kid)) = (&codecs.key, kid) {
                    kc.encode(kid, &key, &mut k).map_err(sc_err)?;
                }
                let mut v = Vec::new();
                codecs.value.encode(vid, &value, &mut v).map_err(sc_err)?;
                (k, v)
            }
        };
        Ok(EncodedRecord {
            topic: prefix.into(),
            key: Some(k),
            value: Some(v),
        })
    }

    /// The transaction topic: `<prefix>.transaction`.
    pub fn transaction_topic(&self) -> String {
        format!("{}.{}", self.envelope.prefix(), transaction::TOPIC_SUFFIX)
    }

    fn transaction_schemas(&mut self) -> Result<Arc<TransactionSchemas>> {
        if let Some(t) = &self.transaction {
            return Ok(t.clone());
        }
        let key = crate::envelope::transaction_key_schema();
        let value = crate::envelope::transaction_value_schema();
        let avro = match self.kind {
            FormatKind::Avro => Some(AvroTable {
                key: Some(AvroCodec::from_json(&key, compact(TRANSACTION_KEY_AVSC))?),
                value: AvroCodec::from_json(&value, compact(TRANSACTION_VALUE_AVSC))?,
                ids: std::sync::OnceLock::new(),
            }),
            _ => None,
        };
        let t = Arc::new(TransactionSchemas {
            key_json: key.to_connect_json().to_string().into_bytes(),
            value_json: value.to_connect_json().to_string().into_bytes(),
            key,
            value,
            avro,
        });
        self.transaction = Some(t.clone());
        Ok(t)
    }

    /// True when [`Self::encode_transaction_now`] needs no registration first.
    pub fn transaction_ready(&self) -> bool {
        self.kind != FormatKind::Avro
            || self
                .transaction
                .as_ref()
                .and_then(|t| t.avro.as_ref())
                .is_some_and(|a| a.ids.get().is_some())
    }

    /// Registers the transaction topic's schemas (avro only; once).
    pub async fn prepare_transaction(&mut self) -> Result<()> {
        if self.transaction_ready() {
            return Ok(());
        }
        let t = self.transaction_schemas()?;
        let topic = self.transaction_topic();
        let (Some(a), Some(reg)) = (&t.avro, self.registry.as_mut()) else {
            return Err(Error::Config(
                "format.registry_url is required for avro".into(),
            ));
        };
        let kc = a.key.as_ref().map_or("", |c| c.schema_json.as_str());
        let kid = reg.id_for_part(&topic, true, kc).await?;
        let vid = reg.id_for_part(&topic, false, &a.value.schema_json).await?;
        let _ = a.ids.set((Some(kid), vid));
        Ok(())
    }

    /// Encodes a transaction `BEGIN`/`END` event for topic `<prefix>.transaction` with key
    /// `{id}` (Debezium's `TransactionMetadataKey`/`TransactionMetadataValue`).
    pub async fn encode_transaction(&mut self, b: &Boundary) -> Result<EncodedRecord> {
        self.prepare_transaction().await?;
        self.encode_transaction_now(b)
    }

    /// As [`Self::encode_transaction`] once [`Self::prepare_transaction`] is done.
    pub fn encode_transaction_now(&mut self, b: &Boundary) -> Result<EncodedRecord> {
        let t = self.transaction_schemas()?;
        let topic = self.transaction_topic();
        let key = b.key_datum();
        let value = b.value_datum();
        let err = |reason: String| Error::Encode {
            table: topic.clone(),
            position: b.id().to_string(),
            reason,
        };
        let (k, v) = match self.kind {
            FormatKind::Json => (to_json(Some(&t.key), &key), to_json(Some(&t.value), &value)),
            FormatKind::JsonSchema => {
                let mut k = Vec::with_capacity(128);
                json::write_with_schema(&t.key_json, &t.key, &key, &mut k);
                let mut v = Vec::with_capacity(512);
                json::write_with_schema(&t.value_json, &t.value, &value, &mut v);
                (k, v)
            }
            FormatKind::Avro => {
                let Some((a, Some(&(Some(kid), vid)))) = t.avro.as_ref().map(|a| (a, a.ids.get()))
                else {
                    return Err(err(
                        "the transaction topic's schemas are not registered yet".into(),
                    ));
                };
                let mut k = Vec::with_capacity(64);
                if let Some(kc) = &a.key {
                    kc.encode(kid, &key, &mut k).map_err(err)?;
                }
                let mut v = Vec::with_capacity(256);
                a.value.encode(vid, &value, &mut v).map_err(err)?;
                (k, v)
            }
        };
        Ok(EncodedRecord {
            topic: topic.into(),
            key: Some(k),
            value: Some(v),
        })
    }

    /// The key and value schemas for `rowtide schema`: Avro JSON for avro, the Connect JSON
    /// schema otherwise. `{"key": … or null, "value": …}`.
    pub fn describe_schemas(&self, table: &TableDesc) -> Result<serde_json::Value> {
        let mut b = self.envelope.like();
        let s = b.schemas(table);
        Ok(match self.kind {
            FormatKind::Avro => serde_json::json!({
                "key": s.key.as_deref().map(avro::avro_schema),
                "value": avro::avro_schema(&s.envelope),
            }),
            _ => serde_json::json!({
                "key": s.key.as_ref().map(|k| k.to_connect_json()),
                "value": s.envelope.to_connect_json(),
            }),
        })
    }
}

fn to_json(s: Option<&Schema>, d: &Datum) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    match s {
        Some(s) => json::write_json(s, d, &mut out),
        None => out.extend_from_slice(b"null"),
    }
    out
}

/// A static schema file's text in compact form (what gets registered).
fn compact(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| text.to_string())
}
