//! The shaped path: serializes [`Record`]s — what the transforms and the header rules
//! produce — in the configured format, and renders headers as Kafka Connect's
//! `SimpleHeaderConverter` does. Used only when a transform is configured or a record
//! carries headers; plain change records keep the per-table fast path of `mod.rs`.
//!
//! Invariant: rendered JSON schemas, Avro codecs and registry ids are cached per schema
//! `Arc` (transforms hand out one `Arc` per output structure), so a record is serialized
//! without re-rendering or re-hashing its schema; an Avro record is only written once both
//! of its schemas have ids under `<topic>-key` / `<topic>-value`.

use std::collections::HashMap;
use std::sync::Arc;

use super::avro::AvroCodec;
use super::{json, Encoder};
use crate::config::FormatKind;
use crate::envelope::schema::{Datum, Schema, Type};
use crate::error::{Error, Result};
use crate::model::Flavor;
use crate::sink::{Header, OutRecord};
use crate::transform::{Part, Record, SchemaCache};

/// Per-schema caches of the shaped path.
#[derive(Debug, Default)]
pub(super) struct ShapedCaches {
    json: SchemaCache<Arc<Vec<u8>>>,
    avro: SchemaCache<Arc<AvroCodec>>,
    /// Registry ids by (subject, schema pointer); the `Arc` keeps the pointer's schema alive.
    ids: HashMap<(Arc<str>, usize), (Arc<Schema>, u32)>,
}

/// `<topic>-key` or `<topic>-value` (TopicNameStrategy).
fn subject(topic: &str, is_key: bool) -> Arc<str> {
    format!("{topic}-{}", if is_key { "key" } else { "value" }).into()
}

impl Encoder {
    /// True when [`Self::serialize`] can write `rec` without registering a schema first.
    pub fn shaped_ready(&mut self, rec: &Record) -> bool {
        if self.kind != FormatKind::Avro {
            return true;
        }
        [(&rec.key, true), (&rec.value, false)]
            .into_iter()
            .all(|(part, is_key)| match part {
                None => true,
                Some(p) if p.datum == Datum::Null => true,
                Some(p) => self
                    .shaped
                    .ids
                    .contains_key(&(subject(&rec.topic, is_key), Arc::as_ptr(&p.schema) as usize)),
            })
    }

    /// Registers the schemas of `rec` (avro; a no-op when they have ids).
    pub async fn prepare_shaped(&mut self, rec: &Record) -> Result<()> {
        if self.kind != FormatKind::Avro {
            return Ok(());
        }
        for (part, is_key) in [(&rec.key, true), (&rec.value, false)] {
            let Some(p) = part.as_ref().filter(|p| p.datum != Datum::Null) else {
                continue;
            };
            let subj = subject(&rec.topic, is_key);
            let k = (subj.clone(), Arc::as_ptr(&p.schema) as usize);
            if self.shaped.ids.contains_key(&k) {
                continue;
            }
            let codec = self.shaped_codec(&p.schema)?;
            let Some(reg) = self.registry.as_mut() else {
                return Err(Error::Config(
                    "format.registry_url is required for avro".into(),
                ));
            };
            let id = reg
                .id_for_part(&rec.topic, is_key, &codec.schema_json)
                .await?;
            self.shaped.ids.insert(k, (p.schema.clone(), id));
        }
        Ok(())
    }

    fn shaped_codec(&mut self, s: &Arc<Schema>) -> Result<Arc<AvroCodec>> {
        self.shaped
            .avro
            .get_or(s, |s| AvroCodec::new(s).map(Arc::new))
    }

    /// Writes one shaped record (its schemas must be ready, see [`Self::shaped_ready`]).
    pub fn serialize(&mut self, rec: Record, position: Arc<str>) -> Result<OutRecord> {
        let err = |reason: String| Error::Encode {
            table: rec.topic.to_string(),
            position: position.to_string(),
            reason,
        };
        // A null datum with a schema is written as the converters write it: JsonConverter
        // as `null` (or its schema envelope with a null payload), Avro as no bytes at all.
        let avro = self.kind == FormatKind::Avro;
        let key = match &rec.key {
            Some(p) if avro && p.datum == Datum::Null => None,
            Some(p) => Some(self.serialize_part(&rec.topic, true, p).map_err(err)?),
            None => None,
        };
        let value = match &rec.value {
            Some(p) if avro && p.datum == Datum::Null => None,
            Some(p) => Some(self.serialize_part(&rec.topic, false, p).map_err(err)?),
            None => None,
        };
        let headers = rec
            .headers
            .iter()
            .map(|h| Header {
                key: h.key.clone(),
                value: header_text(&h.schema, &h.datum).map(|t| Arc::from(t.into_bytes())),
            })
            .collect();
        Ok(OutRecord {
            topic: rec.topic,
            key,
            value,
            position,
            headers,
            timestamp: rec.timestamp,
            partition: rec.partition,
        })
    }

    fn serialize_part(
        &mut self,
        topic: &str,
        is_key: bool,
        p: &Part,
    ) -> std::result::Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(256);
        match self.kind {
            FormatKind::Json => json::write_json(&p.schema, &p.datum, &mut out),
            FormatKind::JsonSchema => {
                let rendered = self
                    .shaped
                    .json
                    .get_or(&p.schema, |s| {
                        Ok(Arc::new(s.to_connect_json().to_string().into_bytes()))
                    })
                    .map_err(|e| e.to_string())?;
                json::write_with_schema(&rendered, &p.schema, &p.datum, &mut out);
            }
            FormatKind::Avro => {
                let codec = self.shaped_codec(&p.schema).map_err(|e| e.to_string())?;
                let k = (subject(topic, is_key), Arc::as_ptr(&p.schema) as usize);
                let Some((_, id)) = self.shaped.ids.get(&k) else {
                    return Err(format!("the schema of {} is not registered yet", k.0));
                };
                codec.encode(*id, &p.datum, &mut out)?;
            }
        }
        Ok(out)
    }
}

/// Debezium's context headers (`extended.headers.enabled`), in Debezium's order.
pub(super) fn context_headers(topic_prefix: &str, flavor: Flavor) -> Arc<[Header]> {
    let connector = match flavor {
        Flavor::Mariadb => "mariadb",
        _ => "mysql",
    };
    [
        ("__debezium.context.connectorLogicalName", topic_prefix),
        ("__debezium.context.taskId", "0"),
        ("__debezium.context.connectorName", connector),
        ("__debezium.context.runId", run_id()),
    ]
    .into_iter()
    .map(|(k, v)| Header {
        key: k.into(),
        value: Some(Arc::from(v.as_bytes())),
    })
    .collect()
}

/// This process's run id: a UUID v7 (48-bit Unix milliseconds, version 7, variant 2, 74
/// random bits), made once — every record of the run carries the same one.
pub fn run_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        // RandomState is seeded from the operating system's randomness per process.
        let random = |salt: u64| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(salt ^ u64::from(std::process::id()));
            h.finish()
        };
        let (a, b) = (random(ms), random(!ms));
        let hi = (ms << 16) | 0x7000 | (a & 0x0fff);
        let lo = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        let x = (u128::from(hi) << 64) | u128::from(lo);
        let h = format!("{x:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    })
}

/// A header value as Kafka Connect's `SimpleHeaderConverter` writes it
/// (`Values.convertToString`): strings as they are, numbers and booleans as Java prints
/// them, bytes as base64, structs as `{"field":value,…}` with strings quoted; `None` for
/// null.
pub fn header_text(s: &Schema, d: &Datum) -> Option<String> {
    if matches!(d, Datum::Null) {
        return None;
    }
    let mut out = String::new();
    append(&mut out, s, d, false);
    Some(out)
}

fn append(out: &mut String, s: &Schema, d: &Datum, embedded: bool) {
    use std::fmt::Write as _;
    match d {
        Datum::Null => out.push_str("null"),
        Datum::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Datum::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Datum::F32(f) => out.push_str(&java_double(f64::from(*f))),
        Datum::F64(f) => out.push_str(&java_double(*f)),
        Datum::Str(t) if embedded => {
            out.push('"');
            out.push_str(&t.replace('\\', "\\\\").replace('"', "\\\""));
            out.push('"');
        }
        Datum::Str(t) => out.push_str(t),
        Datum::Bytes(b) if s.name.as_deref() == Some("org.apache.kafka.connect.data.Decimal") => {
            // A BigDecimal is a Number: its plain text.
            let scale = s
                .parameter("scale")
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0);
            match decimal_text(b, scale) {
                Some(t) => out.push_str(&t),
                None => append(out, &Schema::new(Type::Bytes), d, embedded),
            }
        }
        Datum::Bytes(b) => {
            use base64::Engine as _;
            let text = base64::engine::general_purpose::STANDARD.encode(b);
            if embedded {
                let _ = write!(out, "\"{text}\"");
            } else {
                out.push_str(&text);
            }
        }
        Datum::Array(items) => {
            out.push('[');
            let item_schema = match &s.ty {
                Type::Array(i) => Some(&**i),
                _ => None,
            };
            for (n, it) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                append(out, item_schema.unwrap_or(s), it, true);
            }
            out.push(']');
        }
        Datum::Struct(values) => {
            out.push('{');
            for (n, (f, v)) in s.fields().iter().zip(values).enumerate() {
                if n > 0 {
                    out.push(',');
                }
                let _ = write!(out, "\"{}\":", f.name.replace('"', "\\\""));
                append(out, &f.schema, v, true);
            }
            out.push('}');
        }
    }
}

/// Java's `Double.toString` for the values a header can hold.
fn java_double(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        crate::envelope::schema::java_float_text(&format!("{f:e}"))
    }
}

/// A Connect decimal (big-endian two's complement unscaled value) as `BigDecimal`'s plain
/// text; `None` beyond 128 bits.
fn decimal_text(b: &[u8], scale: u32) -> Option<String> {
    if b.is_empty() || b.len() > 16 {
        return None;
    }
    let mut v: i128 = if b[0] & 0x80 != 0 { -1 } else { 0 };
    for byte in b {
        v = (v << 8) | i128::from(*byte);
    }
    let digits = v.unsigned_abs().to_string();
    let sign = if v < 0 { "-" } else { "" };
    let scale = scale as usize;
    if scale == 0 {
        return Some(format!("{sign}{digits}"));
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    Some(format!("{sign}{int}.{frac}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::schema::{int32, string, Field};

    #[test]
    fn run_id_is_a_uuid_v7_of_now() {
        let id = run_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "7", "{id}");
        assert!("89ab".contains(&id[19..20]), "{id}");
        let ms = u64::from_str_radix(&id[0..8], 16).unwrap() << 16
            | u64::from_str_radix(&id[9..13], 16).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(ms <= now && now - ms < 3_600_000, "{id}");
        assert_eq!(run_id(), id, "one per process");
    }

    #[test]
    fn header_text_renders_as_simple_header_converter() {
        let key = Schema::strukt(
            "k",
            vec![Field::new("id", int32()), Field::new("r", string())],
        );
        let d = Datum::Struct(vec![Datum::Int(10), Datum::str("a\"b")]);
        assert_eq!(header_text(&key, &d).unwrap(), r#"{"id":10,"r":"a\"b"}"#);
        assert_eq!(header_text(&string(), &Datum::str("x y")).unwrap(), "x y");
        assert_eq!(header_text(&string(), &Datum::Null), None);
        assert_eq!(header_text(&int32(), &Datum::F64(1.5)).unwrap(), "1.5");
        assert_eq!(decimal_text(&[0xff, 0x85], 2).unwrap(), "-1.23");
        assert_eq!(decimal_text(&[0x04, 0xd2], 0).unwrap(), "1234");
        assert_eq!(decimal_text(&[0x05], 3).unwrap(), "0.005");
    }
}
