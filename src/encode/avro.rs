//! Avro: derives the Avro schema of a Connect schema the way Confluent's AvroConverter
//! (`AvroData.fromConnectSchema`, with connect metadata) does — `connect.name`,
//! `connect.version`, `connect.doc`, `connect.parameters`, `connect.default`, `connect.type`
//! for int8/int16, decimals as `bytes` with `logicalType: decimal`, optional schemas as
//! `["null", T]` unions with a null default (`[T, "null"]` when the field has a default of
//! its own, which both `default` and `connect.default` carry), records named from the
//! Connect name — and
//! encodes datums into the Confluent wire format (magic 0, schema id, body): directly from
//! the datum ([`direct`], the plan compiled once per schema) wherever the schema allows, and
//! through an apache-avro `Value` otherwise (and for any datum the direct writer declines).
//!
//! Invariant: one parsed schema, one datum writer and one direct-writing plan per distinct
//! Avro schema, reused for every record; the Avro value built for a datum always follows
//! that schema, and both paths give the same bytes (`tests/avro_direct.rs`).

use std::collections::HashSet;

use apache_avro::types::Value as AvroValue;
use apache_avro::writer::datum::GenericDatumWriter;
use serde_json::{json, Map, Value as Json};

use crate::envelope::convert::{CONNECT_DATE, CONNECT_TIME, CONNECT_TIMESTAMP, DECIMAL};
use crate::envelope::schema::{Datum, Field, Schema, Type};
use crate::error::{Error, Result};

mod direct;

/// Avro names allow `[A-Za-z_][A-Za-z0-9_]*`: other characters become `_` (as Debezium's
/// `avro` schema-name adjustment does).
pub fn avro_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.as_bytes()[0].is_ascii_digit() {
        out.insert(0, '_');
    }
    out
}

fn split_name(full: &str) -> (Option<String>, String) {
    match full.rsplit_once('.') {
        Some((ns, n)) => (
            Some(ns.split('.').map(avro_name).collect::<Vec<_>>().join(".")),
            avro_name(n),
        ),
        None => (None, avro_name(full)),
    }
}

/// The Avro schema (as JSON) of a Connect schema.
pub fn avro_schema(s: &Schema) -> Json {
    let mut named = HashSet::new();
    avro_inner(s, &mut named)
}

fn avro_inner(s: &Schema, named: &mut HashSet<String>) -> Json {
    let base = avro_base(s, named);
    if s.optional {
        match &s.default {
            Some(_) => json!([base, "null"]),
            None => json!(["null", base]),
        }
    } else {
        base
    }
}

fn avro_base(s: &Schema, named: &mut HashSet<String>) -> Json {
    let mut m = Map::new();
    match &s.ty {
        Type::Struct(fields) => {
            if let Some(reference) = avro_record(s, fields, named, &mut m) {
                return reference;
            }
        }
        Type::Array(items) => {
            m.insert("type".into(), json!("array"));
            m.insert("items".into(), avro_inner(items, named));
        }
        Type::Int8 | Type::Int16 => {
            m.insert("type".into(), json!("int"));
            let t = if s.ty == Type::Int8 { "int8" } else { "int16" };
            m.insert("connect.type".into(), json!(t));
        }
        Type::Int32 => {
            m.insert("type".into(), json!("int"));
        }
        Type::Int64 => {
            m.insert("type".into(), json!("long"));
        }
        Type::Float32 => {
            m.insert("type".into(), json!("float"));
        }
        Type::Float64 => {
            m.insert("type".into(), json!("double"));
        }
        Type::Boolean => {
            m.insert("type".into(), json!("boolean"));
        }
        Type::String => {
            m.insert("type".into(), json!("string"));
        }
        Type::Bytes => avro_bytes(s, &mut m),
    }
    connect_metadata(s, &mut m);
    // A primitive without properties is written as its bare type name.
    if m.len() == 1 {
        if let Some(t) = m.remove("type") {
            return t;
        }
    }
    Json::Object(m)
}

/// Fills `m` with the record of a struct schema, or returns the reference to its full name
/// when a record of that name was already written (Avro defines a name once).
fn avro_record(
    s: &Schema,
    fields: &[Field],
    named: &mut HashSet<String>,
    m: &mut Map<String, Json>,
) -> Option<Json> {
    let (ns, name) = split_name(s.name.as_deref().unwrap_or("ConnectDefault"));
    let full = match &ns {
        Some(ns) => format!("{ns}.{name}"),
        None => name.clone(),
    };
    if !named.insert(full.clone()) {
        return Some(Json::String(full));
    }
    m.insert("type".into(), json!("record"));
    m.insert("name".into(), json!(name));
    if let Some(ns) = ns {
        m.insert("namespace".into(), json!(ns));
    }
    if let Some(d) = &s.doc {
        m.insert("doc".into(), json!(d));
    }
    let fs: Vec<Json> = fields.iter().map(|f| avro_field(f, named)).collect();
    m.insert("fields".into(), Json::Array(fs));
    None
}

/// One record field: its name, type and default (null for an optional field without one).
fn avro_field(f: &Field, named: &mut HashSet<String>) -> Json {
    let mut fm = Map::new();
    fm.insert("name".into(), json!(avro_name(&f.name)));
    fm.insert("type".into(), avro_inner(&f.schema, named));
    if let Some(d) = &f.schema.default {
        fm.insert("default".into(), avro_default(&f.schema, d));
    } else if f.schema.optional {
        fm.insert("default".into(), Json::Null);
    }
    Json::Object(fm)
}

/// `bytes`, with `scale` and `precision` for a Connect `Decimal`.
fn avro_bytes(s: &Schema, m: &mut Map<String, Json>) {
    m.insert("type".into(), json!("bytes"));
    if s.name.as_deref() == Some(DECIMAL) {
        let scale: i64 = s
            .parameter("scale")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let precision: i64 = s
            .parameter("connect.decimal.precision")
            .and_then(|v| v.parse().ok())
            .unwrap_or(64);
        m.insert("scale".into(), json!(scale));
        m.insert("precision".into(), json!(precision));
    }
}

/// Connect metadata, as AvroData adds it: doc, version, parameters, default, name and the
/// Avro logical type of Connect's logical types.
fn connect_metadata(s: &Schema, m: &mut Map<String, Json>) {
    if let Some(d) = &s.doc {
        m.insert("connect.doc".into(), json!(d));
    }
    if let Some(v) = s.version {
        m.insert("connect.version".into(), json!(v));
    }
    if !s.parameters.is_empty() {
        let p: Map<String, Json> = s
            .parameters
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        m.insert("connect.parameters".into(), Json::Object(p));
    }
    if let Some(d) = &s.default {
        m.insert("connect.default".into(), avro_default(s, d));
    }
    if let Some(n) = &s.name {
        m.insert("connect.name".into(), json!(n));
        let logical = match n.as_str() {
            DECIMAL => Some("decimal"),
            CONNECT_DATE => Some("date"),
            CONNECT_TIME => Some("time-millis"),
            CONNECT_TIMESTAMP => Some("timestamp-millis"),
            _ => None,
        };
        if let Some(l) = logical {
            m.insert("logicalType".into(), json!(l));
        }
    }
}

/// A default as `AvroData.defaultValueFromConnect` writes it, for both a field's `default`
/// and `connect.default`: numbers, booleans and strings as JSON, bytes (decimals included)
/// as a string with one ISO-8859-1 character per byte (Avro's JSON encoding of bytes).
pub fn avro_default(s: &Schema, d: &Datum) -> Json {
    match (d, &s.ty) {
        (Datum::Bytes(b), _) => Json::String(b.iter().map(|&x| x as char).collect()),
        (Datum::Array(items), Type::Array(item)) => {
            Json::Array(items.iter().map(|x| avro_default(item, x)).collect())
        }
        (Datum::Struct(values), Type::Struct(fields)) => Json::Object(
            fields
                .iter()
                .zip(values)
                .map(|(f, v)| (avro_name(&f.name), avro_default(&f.schema, v)))
                .collect(),
        ),
        (d, _) => d.to_connect_json(s),
    }
}

/// The apache-avro value of a datum of `s`. A null in a field with a default is written as
/// the default: AvroConverter reads fields with Connect's `Struct.get`, which substitutes the
/// default (unless `ignore.default.for.nullables`, off by default, is set).
pub fn avro_value(s: &Schema, d: &Datum) -> std::result::Result<AvroValue, String> {
    if s.optional {
        return Ok(match (d, &s.default) {
            // With a default the union is [T, "null"] (AvroData.maybeMakeOptional).
            (Datum::Null, Some(def)) if *def != Datum::Null => {
                AvroValue::Union(0, Box::new(avro_base_value(s, def)?))
            }
            (Datum::Null, Some(_)) => AvroValue::Union(1, Box::new(AvroValue::Null)),
            (Datum::Null, None) => AvroValue::Union(0, Box::new(AvroValue::Null)),
            (d, Some(_)) => AvroValue::Union(0, Box::new(avro_base_value(s, d)?)),
            (d, None) => AvroValue::Union(1, Box::new(avro_base_value(s, d)?)),
        });
    }
    match (d, &s.default) {
        (Datum::Null, Some(def)) => avro_base_value(s, def),
        _ => avro_base_value(s, d),
    }
}

fn avro_base_value(s: &Schema, d: &Datum) -> std::result::Result<AvroValue, String> {
    let logical = s.name.as_deref();
    Ok(match (&s.ty, d) {
        (Type::Int32, Datum::Int(i)) if logical == Some(CONNECT_DATE) => AvroValue::Date(*i as i32),
        (Type::Int32, Datum::Int(i)) if logical == Some(CONNECT_TIME) => {
            AvroValue::TimeMillis(*i as i32)
        }
        (Type::Int64, Datum::Int(i)) if logical == Some(CONNECT_TIMESTAMP) => {
            AvroValue::TimestampMillis(*i)
        }
        (Type::Int8 | Type::Int16 | Type::Int32, Datum::Int(i)) => {
            AvroValue::Int(i32::try_from(*i).map_err(|_| format!("{i} does not fit an Avro int"))?)
        }
        (Type::Int64, Datum::Int(i)) => AvroValue::Long(*i),
        (Type::Float32, Datum::F32(f)) => AvroValue::Float(*f),
        (Type::Float64, Datum::F64(f)) => AvroValue::Double(*f),
        (Type::Boolean, Datum::Bool(b)) => AvroValue::Boolean(*b),
        (Type::String, Datum::Str(v)) => AvroValue::String(v.clone()),
        (Type::Bytes, Datum::Bytes(b)) if logical == Some(DECIMAL) => {
            AvroValue::Decimal(apache_avro::Decimal::from(b.clone()))
        }
        (Type::Bytes, Datum::Bytes(b)) => AvroValue::Bytes(b.clone()),
        (Type::Array(items), Datum::Array(v)) => AvroValue::Array(
            v.iter()
                .map(|x| avro_value(items, x))
                .collect::<std::result::Result<_, _>>()?,
        ),
        (Type::Struct(fields), Datum::Struct(values)) => AvroValue::Record(
            fields
                .iter()
                .zip(values)
                .map(|(f, v)| Ok((avro_name(&f.name), avro_value(&f.schema, v)?)))
                .collect::<std::result::Result<_, String>>()?,
        ),
        (ty, d) => {
            return Err(format!(
                "datum {d:?} does not match the {} schema",
                ty.connect_name()
            ))
        }
    })
}

/// One Avro schema: its JSON text (what the registry gets), a reusable apache-avro writer
/// and, when the schema allows it, the plan of the direct writer.
pub struct AvroCodec {
    pub schema_json: String,
    connect: Schema,
    writer: GenericDatumWriter<'static>,
    direct: Option<direct::Plan>,
}

impl std::fmt::Debug for AvroCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AvroCodec")
            .field("schema_json", &self.schema_json)
            .field("direct", &self.direct.is_some())
            .finish_non_exhaustive()
    }
}

impl AvroCodec {
    /// Builds the codec of a Connect schema.
    pub fn new(connect: &Schema) -> Result<Self> {
        Self::from_json(connect, avro_schema(connect).to_string())
    }

    /// A codec for a given Avro schema text (e.g. an embedded static schema) that encodes
    /// datums of `connect`.
    pub fn from_json(connect: &Schema, schema_json: String) -> Result<Self> {
        let parsed =
            apache_avro::Schema::parse_str(&schema_json).map_err(|e| Error::InvalidSchema {
                name: connect.name.clone().unwrap_or_else(|| "(unnamed)".into()),
                reason: e.to_string(),
            })?;
        // The writer borrows its schema; codecs live as long as the encoder and there is
        // one per distinct table structure, so the schema is leaked once, deliberately.
        let leaked: &'static apache_avro::Schema = Box::leak(Box::new(parsed));
        let writer = GenericDatumWriter::builder(leaked)
            .validate(false)
            .build()
            .map_err(|e| Error::InvalidSchema {
                name: connect.name.clone().unwrap_or_else(|| "(unnamed)".into()),
                reason: format!("cannot resolve it: {e}"),
            })?;
        Ok(AvroCodec {
            schema_json,
            connect: connect.clone(),
            writer,
            direct: direct::plan(leaked, connect),
        })
    }

    /// True when this codec writes datums directly (see [`direct::plan`]).
    pub fn writes_directly(&self) -> bool {
        self.direct.is_some()
    }

    /// Appends the Confluent frame (magic 0, big-endian id) and the Avro body to `out`:
    /// written directly when the schema has a plan, through apache-avro otherwise (and for a
    /// datum the direct writer declines, so errors read the same on both paths).
    pub fn encode(&self, id: u32, d: &Datum, out: &mut Vec<u8>) -> std::result::Result<(), String> {
        if let Some(plan) = &self.direct {
            let start = out.len();
            out.push(0);
            out.extend_from_slice(&id.to_be_bytes());
            if direct::write(&self.connect, d, plan, out).is_ok() {
                return Ok(());
            }
            out.truncate(start);
        }
        self.encode_generic(id, d, out)
    }

    /// As [`Self::encode`], always through an apache-avro `Value` (the reference the direct
    /// writer is tested against).
    pub fn encode_generic(
        &self,
        id: u32,
        d: &Datum,
        out: &mut Vec<u8>,
    ) -> std::result::Result<(), String> {
        out.push(0);
        out.extend_from_slice(&id.to_be_bytes());
        let v = avro_value(&self.connect, d)?;
        self.writer
            .write_value_ref(out, &v)
            .map_err(|e| format!("Avro encoding failed: {e}"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::convert::decimal_schema;

    // AvroData.fromConnectSchema: a field with a default of its own gets the union
    // [T, "null"] (maybeMakeOptional), the default in the field and in `connect.default` on
    // the type (defaultValueFromConnect: bytes as ISO-8859-1 text).
    #[test]
    fn defaults_in_avro_schemas() {
        let s = Schema::strukt(
            "p.db.t.Value",
            vec![
                Field::new(
                    "size",
                    Schema::new(Type::Int32).default_value(Datum::Int(1)),
                ),
                Field::new(
                    "name",
                    Schema::new(Type::String)
                        .optional()
                        .default_value(Datum::str("abc")),
                ),
                Field::new(
                    "price",
                    decimal_schema(5, 2)
                        .optional()
                        .default_value(Datum::Bytes(vec![0x04, 0xf4])),
                ),
                Field::new("note", Schema::new(Type::String).optional()),
            ],
        );
        let j = avro_schema(&s);
        let f = &j["fields"];
        assert_eq!(
            f[0],
            json!({"name": "size", "type": {"type": "int", "connect.default": 1}, "default": 1})
        );
        assert_eq!(
            f[1],
            json!({"name": "name", "type": [{"type": "string", "connect.default": "abc"}, "null"],
                   "default": "abc"})
        );
        assert_eq!(f[2]["default"], json!("\u{4}\u{f4}"));
        assert_eq!(f[2]["type"][0]["connect.default"], json!("\u{4}\u{f4}"));
        assert_eq!(f[2]["type"][1], json!("null"));
        assert_eq!(
            f[3],
            json!({"name": "note", "type": ["null", "string"], "default": null})
        );
        // The schema parses, and a null in a field with a default is written as the default
        // (Connect's Struct.get, which AvroConverter uses).
        let codec = AvroCodec::new(&s).unwrap();
        let mut with_nulls = Vec::new();
        codec
            .encode(
                1,
                &Datum::Struct(vec![Datum::Int(1), Datum::Null, Datum::Null, Datum::Null]),
                &mut with_nulls,
            )
            .unwrap();
        let mut with_defaults = Vec::new();
        codec
            .encode(
                1,
                &Datum::Struct(vec![
                    Datum::Int(1),
                    Datum::str("abc"),
                    Datum::Bytes(vec![0x04, 0xf4]),
                    Datum::Null,
                ]),
                &mut with_defaults,
            )
            .unwrap();
        assert_eq!(with_nulls, with_defaults);
    }

    #[test]
    fn an_invalid_schema_is_a_definite_error_naming_it() {
        let connect = crate::envelope::schema::int32();
        // Two fields of one name: Avro refuses the record.
        let bad = r#"{"type":"record","name":"db.t.Value","fields":[
            {"name":"a_b","type":"int"},{"name":"a_b","type":"int"}]}"#;
        let e = AvroCodec::from_json(&connect, bad.to_string()).unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::Definite, "{e}");
        let m = e.to_string();
        assert!(m.starts_with("invalid Avro schema generated for "), "{m}");
        assert!(m.contains("events.column_exclude"), "{m}");
    }
}
