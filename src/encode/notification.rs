//! Notification records (Debezium's `SinkNotificationChannel`): on `[notifications] topic`,
//! key `io.debezium.connector.common.NotificationKey {id}` and value
//! `io.debezium.connector.common.Notification {id, type, aggregate_type, additional_data
//! (optional map<string,string>), timestamp}` (Debezium's `SchemaFactory`), in every
//! format, without headers. Avro uses the static schemas of `schemas/notification-*.avsc`
//! (what Confluent's AvroConverter makes of Debezium's Connect schemas), registered under
//! the topic's subjects.
//!
//! Invariant: like every other record, an Avro notification is only produced once both
//! its schemas have ids (`notification_ready`, else `prepare_notification` first).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;
use serde_json::{json, Value as Json};

use super::{compact, EncodedRecord, Encoder};
use crate::config::FormatKind;
use crate::error::{Error, Result};
use crate::model::Notification;

pub const NOTIFICATION_KEY_AVSC: &str = include_str!("../../schemas/notification-key.avsc");
pub const NOTIFICATION_VALUE_AVSC: &str = include_str!("../../schemas/notification-value.avsc");

/// The notification topic and, with Avro, its parsed schemas and their ids.
#[derive(Debug, Default)]
pub(super) struct NotificationState {
    topic: Option<Arc<str>>,
    avro: Option<Arc<AvroSchemas>>,
}

#[derive(Debug)]
struct AvroSchemas {
    key: apache_avro::Schema,
    value: apache_avro::Schema,
    ids: OnceLock<(u32, u32)>,
}

/// The Connect JSON schema of the key (JsonConverter, schemas on).
fn key_schema() -> Json {
    json!({"type": "struct", "fields": [{"type": "string", "optional": false, "field": "id"}],
           "optional": false, "name": "io.debezium.connector.common.NotificationKey",
           "version": 1})
}

/// The Connect JSON schema of the value.
fn value_schema() -> Json {
    let s = |f: &str| json!({"type": "string", "optional": false, "field": f});
    json!({"type": "struct", "fields": [
               s("id"), s("type"), s("aggregate_type"),
               {"type": "map", "keys": {"type": "string", "optional": false},
                "values": {"type": "string", "optional": false}, "optional": true,
                "field": "additional_data"},
               {"type": "int64", "optional": false, "field": "timestamp"}],
           "optional": false, "name": "io.debezium.connector.common.Notification",
           "version": 1})
}

impl Encoder {
    /// Sets `[notifications] topic` (`None`: notifications are dropped by the encoder).
    pub fn set_notification_topic(&mut self, topic: Option<&str>) {
        self.notification.topic = topic.map(Arc::from);
    }

    fn notification_avro(&mut self) -> Result<Arc<AvroSchemas>> {
        if let Some(a) = &self.notification.avro {
            return Ok(a.clone());
        }
        let parse = |t: &str| {
            apache_avro::Schema::parse_str(t)
                .map_err(|e| Error::Config(format!("notification schema: {e}")))
        };
        let a = Arc::new(AvroSchemas {
            key: parse(NOTIFICATION_KEY_AVSC)?,
            value: parse(NOTIFICATION_VALUE_AVSC)?,
            ids: OnceLock::new(),
        });
        self.notification.avro = Some(a.clone());
        Ok(a)
    }

    /// True when [`Self::encode_notification_now`] needs no registration first.
    pub fn notification_ready(&self) -> bool {
        self.kind != FormatKind::Avro
            || self.notification.topic.is_none()
            || self
                .notification
                .avro
                .as_ref()
                .is_some_and(|a| a.ids.get().is_some())
    }

    /// Registers the notification topic's schemas (avro only; once).
    pub async fn prepare_notification(&mut self) -> Result<()> {
        if self.notification_ready() {
            return Ok(());
        }
        let a = self.notification_avro()?;
        let Some(topic) = self.notification.topic.clone() else {
            return Ok(());
        };
        let Some(reg) = self.registry.as_mut() else {
            return Err(Error::Config(
                "format.registry_url is required for avro".into(),
            ));
        };
        let kid = reg
            .id_for_part(&topic, true, &compact(NOTIFICATION_KEY_AVSC))
            .await?;
        let vid = reg
            .id_for_part(&topic, false, &compact(NOTIFICATION_VALUE_AVSC))
            .await?;
        let _ = a.ids.set((kid, vid));
        Ok(())
    }

    /// The record of `n`, or `None` when no notification topic is set.
    pub fn encode_notification_now(&mut self, n: &Notification) -> Result<Option<EncodedRecord>> {
        let Some(topic) = self.notification.topic.clone() else {
            return Ok(None);
        };
        let err = |reason: String| Error::Encode {
            table: topic.to_string(),
            position: format!("notification {} {}", n.aggregate_type, n.kind.as_str()),
            reason,
        };
        let data: serde_json::Map<String, Json> = n
            .additional_data
            .iter()
            .map(|(k, v)| (k.clone(), Json::from(v.clone())))
            .collect();
        let key = json!({"id": n.id});
        let value = json!({"id": n.id, "type": n.kind.as_str(), "aggregate_type": n.aggregate_type,
                           "additional_data": data, "timestamp": n.timestamp});
        let (k, v) = match self.kind {
            FormatKind::Json => (key.to_string(), value.to_string()),
            FormatKind::JsonSchema => (
                json!({"schema": key_schema(), "payload": key}).to_string(),
                json!({"schema": value_schema(), "payload": value}).to_string(),
            ),
            FormatKind::Avro => {
                let a = self.notification_avro()?;
                let Some(&(kid, vid)) = a.ids.get() else {
                    return Err(err(
                        "the notification topic's schemas are not registered yet".into(),
                    ));
                };
                let (k, v) = avro_pair(&a, n, kid, vid).map_err(err)?;
                return Ok(Some(EncodedRecord {
                    topic,
                    key: Some(k),
                    value: Some(v),
                }));
            }
        };
        Ok(Some(EncodedRecord {
            topic,
            key: Some(k.into_bytes()),
            value: Some(v.into_bytes()),
        }))
    }
}

/// Key and value in the Confluent wire format (magic byte, schema id, Avro binary).
fn avro_pair(
    a: &AvroSchemas,
    n: &Notification,
    kid: u32,
    vid: u32,
) -> std::result::Result<(Vec<u8>, Vec<u8>), String> {
    let key = Avro::Record(vec![("id".into(), Avro::String(n.id.clone()))]);
    let data: HashMap<String, Avro> = n
        .additional_data
        .iter()
        .map(|(k, v)| (k.clone(), Avro::String(v.clone())))
        .collect();
    let value = Avro::Record(vec![
        ("id".into(), Avro::String(n.id.clone())),
        ("type".into(), Avro::String(n.kind.as_str().into())),
        (
            "aggregate_type".into(),
            Avro::String(n.aggregate_type.into()),
        ),
        (
            "additional_data".into(),
            Avro::Union(1, Box::new(Avro::Map(data))),
        ),
        ("timestamp".into(), Avro::Long(n.timestamp)),
    ]);
    let wire = |id: u32, schema: &apache_avro::Schema, v: Avro| {
        let writer = GenericDatumWriter::builder(schema)
            .build()
            .map_err(|e| e.to_string())?;
        let mut out = vec![0];
        out.extend_from_slice(&id.to_be_bytes());
        writer
            .write_value_ref(&mut out, &v)
            .map_err(|e| format!("Avro encoding failed: {e}"))?;
        Ok::<_, String>(out)
    };
    Ok((wire(kid, &a.key, key)?, wire(vid, &a.value, value)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FormatConfig;
    use crate::model::{Flavor, NoticeType};

    fn encoder(kind: FormatKind) -> Encoder {
        let cfg = FormatConfig {
            kind,
            ..FormatConfig::default()
        };
        let mut e = Encoder::new(&cfg, "dbserver1", Flavor::Mariadb).unwrap();
        e.set_notification_topic(Some("notes"));
        e
    }

    fn note() -> Notification {
        Notification {
            id: "sig-1".into(),
            aggregate_type: "Incremental Snapshot",
            kind: NoticeType::TableScanCompleted,
            additional_data: vec![
                ("data_collections".into(), "inv.a".into()),
                ("total_rows_scanned".into(), "3".into()),
                ("status".into(), "SUCCEEDED".into()),
                ("connector_name".into(), "dbserver1".into()),
            ],
            timestamp: 1_695_817_046_353,
        }
    }

    fn parse(b: &Option<Vec<u8>>) -> Json {
        serde_json::from_slice(b.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn json_record_has_debeziums_fields() {
        let mut e = encoder(FormatKind::Json);
        let r = e.encode_notification_now(&note()).unwrap().unwrap();
        assert_eq!(&*r.topic, "notes");
        assert_eq!(parse(&r.key), json!({"id": "sig-1"}));
        assert_eq!(
            parse(&r.value),
            json!({"id": "sig-1", "type": "TABLE_SCAN_COMPLETED",
                   "aggregate_type": "Incremental Snapshot",
                   "additional_data": {"data_collections": "inv.a", "total_rows_scanned": "3",
                                       "status": "SUCCEEDED", "connector_name": "dbserver1"},
                   "timestamp": 1_695_817_046_353i64})
        );
    }

    #[test]
    fn json_schema_record_carries_the_connect_schemas() {
        let mut e = encoder(FormatKind::JsonSchema);
        let r = e.encode_notification_now(&note()).unwrap().unwrap();
        let v = parse(&r.value);
        assert_eq!(
            v["schema"]["name"],
            "io.debezium.connector.common.Notification"
        );
        assert_eq!(v["schema"]["fields"][3]["type"], "map");
        assert_eq!(v["payload"]["type"], "TABLE_SCAN_COMPLETED");
        assert_eq!(
            parse(&r.key)["schema"]["name"],
            "io.debezium.connector.common.NotificationKey"
        );
    }

    #[test]
    fn without_a_topic_nothing_is_made() {
        let mut e = encoder(FormatKind::Json);
        e.set_notification_topic(None);
        assert!(e.encode_notification_now(&note()).unwrap().is_none());
    }

    #[test]
    fn avro_reads_back_with_the_static_schema() {
        let cfg = FormatConfig {
            kind: FormatKind::Avro,
            registry_url: Some("http://127.0.0.1:9".into()),
            ..FormatConfig::default()
        };
        let mut e = Encoder::new(&cfg, "dbserver1", Flavor::Mariadb).unwrap();
        e.set_notification_topic(Some("notes"));
        assert!(!e.notification_ready());
        assert!(
            e.encode_notification_now(&note()).is_err(),
            "not registered"
        );
        let a = e.notification_avro().unwrap();
        a.ids.set((3, 4)).unwrap();
        let r = e.encode_notification_now(&note()).unwrap().unwrap();
        let v = r.value.unwrap();
        assert_eq!(&v[..5], &[0, 0, 0, 0, 4]);
        let back = apache_avro::reader::datum::GenericDatumReader::builder(&a.value)
            .build()
            .unwrap()
            .read_value(&mut &v[5..])
            .unwrap();
        let Avro::Record(fields) = back else {
            panic!("{back:?}")
        };
        assert_eq!(
            fields[1],
            ("type".into(), Avro::String("TABLE_SCAN_COMPLETED".into()))
        );
        let Avro::Union(1, map) = &fields[3].1 else {
            panic!("{fields:?}")
        };
        let Avro::Map(m) = &**map else { panic!() };
        assert_eq!(m["total_rows_scanned"], Avro::String("3".into()));
        assert_eq!(fields[4].1, Avro::Long(1_695_817_046_353));
    }
}
