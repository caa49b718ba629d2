//! Heartbeat records (Debezium's `HeartbeatImpl`): on topic
//! `<heartbeat.topics_prefix>.<topic_prefix>`, key `io.debezium.connector.common.ServerNameKey
//! {serverName}` (the topic prefix) and value `io.debezium.connector.common.Heartbeat
//! {ts_ms}`, in every format, without headers. Avro uses the static schemas of
//! `schemas/heartbeat-*.avsc`, registered under `<topic>-key` / `<topic>-value`.
//!
//! Invariant: like every other record, an Avro heartbeat is only produced once both its
//! schemas have ids (`heartbeat_ready`, else `prepare_heartbeat` first).

use std::sync::Arc;

use super::avro::AvroCodec;
use super::{compact, json, to_json, AvroTable, EncodedRecord, Encoder};
use crate::config::FormatKind;
use crate::envelope::schema::{Datum, Schema};
use crate::envelope::{heartbeat_key_schema, heartbeat_value_schema};
use crate::error::{Error, Result};

/// Static Avro schemas of heartbeat records (see `schemas/`).
pub const HEARTBEAT_KEY_AVSC: &str = include_str!("../../schemas/heartbeat-key.avsc");
pub const HEARTBEAT_VALUE_AVSC: &str = include_str!("../../schemas/heartbeat-value.avsc");

/// Debezium's default `heartbeat.topics.prefix`.
const DEFAULT_TOPICS_PREFIX: &str = "__debezium-heartbeat";

/// The heartbeat topic's prefix and its schemas, built on first use.
#[derive(Debug, Default)]
pub(super) struct HeartbeatState {
    /// `heartbeat.topics_prefix`; empty means Debezium's default.
    topics_prefix: String,
    schemas: Option<Arc<HeartbeatSchemas>>,
}

/// The schemas of the heartbeat topic in every form the encoders need.
#[derive(Debug)]
struct HeartbeatSchemas {
    key: Schema,
    value: Schema,
    key_json: Vec<u8>,
    value_json: Vec<u8>,
    avro: Option<AvroTable>,
}

impl Encoder {
    /// Sets `heartbeat.topics_prefix` (the topic is `<it>.<topic_prefix>`).
    pub fn set_heartbeat_topics_prefix(&mut self, prefix: &str) {
        self.heartbeat.topics_prefix = prefix.to_string();
    }

    /// The heartbeat topic: `<heartbeat.topics_prefix>.<topic_prefix>`.
    pub fn heartbeat_topic(&self) -> String {
        let p = match self.heartbeat.topics_prefix.as_str() {
            "" => DEFAULT_TOPICS_PREFIX,
            p => p,
        };
        format!("{p}.{}", self.envelope.prefix())
    }

    fn heartbeat_schemas(&mut self) -> Result<Arc<HeartbeatSchemas>> {
        if let Some(s) = &self.heartbeat.schemas {
            return Ok(s.clone());
        }
        let key = heartbeat_key_schema();
        let value = heartbeat_value_schema();
        let avro = match self.kind {
            FormatKind::Avro => Some(AvroTable {
                key: Some(AvroCodec::from_json(&key, compact(HEARTBEAT_KEY_AVSC))?),
                value: AvroCodec::from_json(&value, compact(HEARTBEAT_VALUE_AVSC))?,
                ids: std::sync::OnceLock::new(),
            }),
            _ => None,
        };
        let s = Arc::new(HeartbeatSchemas {
            key_json: key.to_connect_json().to_string().into_bytes(),
            value_json: value.to_connect_json().to_string().into_bytes(),
            key,
            value,
            avro,
        });
        self.heartbeat.schemas = Some(s.clone());
        Ok(s)
    }

    /// True when [`Self::encode_heartbeat_now`] needs no registration first.
    pub fn heartbeat_ready(&self) -> bool {
        self.kind != FormatKind::Avro
            || self
                .heartbeat
                .schemas
                .as_ref()
                .and_then(|s| s.avro.as_ref())
                .is_some_and(|a| a.ids.get().is_some())
    }

    /// Registers the heartbeat topic's schemas (avro only; once).
    pub async fn prepare_heartbeat(&mut self) -> Result<()> {
        if self.heartbeat_ready() {
            return Ok(());
        }
        let s = self.heartbeat_schemas()?;
        let topic = self.heartbeat_topic();
        let (Some(a), Some(reg)) = (&s.avro, self.registry.as_mut()) else {
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

    /// Encodes a heartbeat taken at `ts_ms` (registering its schemas first with avro).
    pub async fn encode_heartbeat(&mut self, ts_ms: i64) -> Result<EncodedRecord> {
        self.prepare_heartbeat().await?;
        self.encode_heartbeat_now(ts_ms)
    }

    /// As [`Self::encode_heartbeat`] once [`Self::prepare_heartbeat`] is done.
    pub fn encode_heartbeat_now(&mut self, ts_ms: i64) -> Result<EncodedRecord> {
        let s = self.heartbeat_schemas()?;
        let topic = self.heartbeat_topic();
        let key = Datum::Struct(vec![Datum::str(self.envelope.prefix())]);
        let value = Datum::Struct(vec![Datum::Int(ts_ms)]);
        let err = |reason: String| Error::Encode {
            table: topic.clone(),
            position: format!("heartbeat at {ts_ms}"),
            reason,
        };
        let (k, v) = match self.kind {
            FormatKind::Json => (to_json(Some(&s.key), &key), to_json(Some(&s.value), &value)),
            FormatKind::JsonSchema => {
                let mut k = Vec::with_capacity(256);
                json::write_with_schema(&s.key_json, &s.key, &key, &mut k);
                let mut v = Vec::with_capacity(256);
                json::write_with_schema(&s.value_json, &s.value, &value, &mut v);
                (k, v)
            }
            FormatKind::Avro => {
                let Some((a, Some(&(Some(kid), vid)))) = s.avro.as_ref().map(|a| (a, a.ids.get()))
                else {
                    return Err(err(
                        "the heartbeat topic's schemas are not registered yet".into()
                    ));
                };
                let mut k = Vec::with_capacity(32);
                if let Some(kc) = &a.key {
                    kc.encode(kid, &key, &mut k).map_err(err)?;
                }
                let mut v = Vec::with_capacity(16);
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Mark;
    use crate::config::FormatConfig;
    use crate::encode::records::{encode_event, RecordRules};
    use crate::envelope::transaction::TxnMeta;
    use crate::model::{Flavor, SourceEvent};
    use serde_json::{json, Value};

    fn encoder(kind: FormatKind) -> Encoder {
        let cfg = FormatConfig {
            kind,
            ..FormatConfig::default()
        };
        Encoder::new(&cfg, "dbserver1", Flavor::Mariadb).unwrap()
    }

    fn parse(b: &Option<Vec<u8>>) -> Value {
        serde_json::from_slice(b.as_deref().unwrap()).unwrap()
    }

    /// What Debezium 3.5 wrote with the JsonConverter (schemas on), field for field.
    #[test]
    fn json_schema_record_is_debeziums() {
        let mut e = encoder(FormatKind::JsonSchema);
        let r = e.encode_heartbeat_now(1_796_223_312_470).unwrap();
        assert_eq!(&*r.topic, "__debezium-heartbeat.dbserver1");
        assert_eq!(
            parse(&r.key),
            json!({"schema": {"type": "struct", "fields": [
                       {"type": "string", "optional": false, "field": "serverName"}],
                     "optional": false, "name": "io.debezium.connector.common.ServerNameKey",
                     "version": 1},
                   "payload": {"serverName": "dbserver1"}})
        );
        assert_eq!(
            parse(&r.value),
            json!({"schema": {"type": "struct", "fields": [
                       {"type": "int64", "optional": false, "field": "ts_ms"}],
                     "optional": false, "name": "io.debezium.connector.common.Heartbeat",
                     "version": 1},
                   "payload": {"ts_ms": 1_796_223_312_470i64}})
        );
    }

    #[test]
    fn json_record_on_the_configured_topic() {
        let mut e = encoder(FormatKind::Json);
        e.set_heartbeat_topics_prefix("beats");
        let r = e.encode_heartbeat_now(5).unwrap();
        assert_eq!(&*r.topic, "beats.dbserver1");
        assert_eq!(parse(&r.key), json!({"serverName": "dbserver1"}));
        assert_eq!(parse(&r.value), json!({"ts_ms": 5}));
    }

    #[test]
    fn avro_needs_its_schemas_registered_first() {
        let cfg = FormatConfig {
            kind: FormatKind::Avro,
            registry_url: Some("http://127.0.0.1:9".into()),
            ..FormatConfig::default()
        };
        let mut e = Encoder::new(&cfg, "dbserver1", Flavor::Mariadb).unwrap();
        assert!(!e.heartbeat_ready());
        assert!(e.encode_heartbeat_now(5).is_err());
        assert!(encoder(FormatKind::Json).heartbeat_ready());
    }

    /// The heartbeat's record carries the position it was taken at as its mark; one taken
    /// inside a transaction carries none.
    #[test]
    fn the_record_carries_the_position_as_its_mark() {
        let mut e = encoder(FormatKind::Json);
        let rules = RecordRules {
            tombstones: true,
            schema_changes: true,
            skipped: crate::model::OpSet::default(),
        };
        let offset = crate::checkpoint::test_checkpoint().offset;
        let ev = SourceEvent::Heartbeat {
            offset: Some(offset.clone()),
            ts_ms: 7,
        };
        let items = encode_event(&mut e, rules, ev, TxnMeta::default()).unwrap();
        assert_eq!(items.len(), 1);
        let rec = items[0].record.as_ref().unwrap();
        assert_eq!(&*rec.topic, "__debezium-heartbeat.dbserver1");
        assert!(
            rec.headers.is_empty(),
            "Debezium's heartbeats carry no headers"
        );
        assert!(matches!(&items[0].mark, Some(Mark::Offset(o)) if **o == offset));
        let ev = SourceEvent::Heartbeat {
            offset: None,
            ts_ms: 8,
        };
        let items = encode_event(&mut e, rules, ev, TxnMeta::default()).unwrap();
        assert!(items[0].record.is_some() && items[0].mark.is_none());
    }
}
