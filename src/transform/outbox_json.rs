//! The outbox router's `table.expand.json.payload`: a JSON text payload parsed, its schema
//! inferred and its value converted the way Debezium's `JsonSchemaData` does it (Jackson
//! number kinds: an integer literal is `int32` when it fits, else `int64`, a fraction or
//! exponent is `double`; a JSON `null` field is dropped, or `bytes` with
//! `table.json.payload.null.behavior = optional_bytes`; an empty array is dropped; arrays
//! must be homogeneous; the elements of an array of objects share one struct schema named
//! after the array's field, merged when they differ).
//!
//! Invariant: inferred schemas are interned by structure ([`Shapes`]), so every payload of
//! the same shape yields the *same* `Arc` — the encoders render and register a shape once,
//! not once per record.
//!
//! Where Debezium's outcome depends on the JVM rather than the data (the field order of a
//! struct merged from array elements of *different* shapes follows a Java `HashSet` of
//! schemas, i.e. identity hash codes), rowtide takes the elements in document order.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::names::Adjuster;
use crate::envelope::schema::{Datum, Field, Schema, Type};

/// Interns schemas by structure: equal schemas share one `Arc`.
#[derive(Debug, Default)]
pub struct Shapes {
    map: HashMap<u64, Vec<Arc<Schema>>>,
    len: usize,
}

impl Shapes {
    /// The one `Arc` for schemas equal to `s`.
    pub fn intern(&mut self, s: Schema) -> Arc<Schema> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        hash_schema(&s, &mut h);
        let k = h.finish();
        if let Some(found) = self.map.get(&k).and_then(|v| v.iter().find(|a| ***a == s)) {
            return found.clone();
        }
        // Shapes come from data: bounded like Debezium's LRU caches (10 000 entries).
        if self.len >= 10_000 {
            self.map.clear();
            self.len = 0;
        }
        let a = Arc::new(s);
        self.map.entry(k).or_default().push(a.clone());
        self.len += 1;
        a
    }
}

fn hash_schema(s: &Schema, h: &mut impl Hasher) {
    s.ty.connect_name().hash(h);
    s.optional.hash(h);
    s.name.hash(h);
    s.version.hash(h);
    s.doc.hash(h);
    s.parameters.hash(h);
    match &s.ty {
        Type::Struct(fields) => {
            for f in fields {
                f.name.hash(h);
                hash_schema(&f.schema, h);
            }
        }
        Type::Array(item) => hash_schema(item, h),
        _ => {}
    }
}

/// What [`JsonExpander::expand`] made of a payload.
#[derive(Debug)]
pub enum Expansion {
    /// The payload as a struct of the inferred schema.
    Expanded(Arc<Schema>, Datum),
    /// Debezium logs a warning and keeps the text payload (not JSON, not an object or
    /// array, or a schema it cannot infer); the reason.
    Kept(String),
}

/// Jackson's kinds of JSON number.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Num {
    Int(i32),
    Long(i64),
    Double(f64),
    BigInteger,
}

fn num(n: &serde_json::Number) -> Num {
    let text = n.as_str();
    if text.contains(['.', 'e', 'E']) {
        return Num::Double(text.parse().unwrap_or(f64::NAN));
    }
    match text.parse::<i64>() {
        Ok(v) => i32::try_from(v).map_or(Num::Long(v), Num::Int),
        Err(_) => Num::BigInteger,
    }
}

fn num_schema(n: Num) -> Schema {
    match n {
        Num::Int(_) => Schema::new(Type::Int32).optional(),
        Num::Long(_) => Schema::new(Type::Int64).optional(),
        Num::Double(_) | Num::BigInteger => Schema::new(Type::Float64).optional(),
    }
}

/// Expands JSON payloads (one per outbox router).
#[derive(Debug)]
pub struct JsonExpander {
    null_as_bytes: bool,
    names: Adjuster,
    shapes: Shapes,
}

impl JsonExpander {
    pub fn new(null_as_bytes: bool, names: Adjuster) -> Self {
        JsonExpander {
            null_as_bytes,
            names,
            shapes: Shapes::default(),
        }
    }

    /// Expands `text`, the payload column `key`. `Err` where Debezium's record fails in the
    /// converter: the schema was inferred but the value does not fit it (an integer beyond
    /// 64 bits, array elements of one name with different types, a top-level array).
    pub fn expand(&mut self, key: &str, text: &str) -> Result<Expansion, String> {
        if !(text.starts_with('{') || text.starts_with('[')) {
            let first = text.chars().next().map_or(String::new(), String::from);
            return Ok(Expansion::Kept(format!(
                "unable to parse payload starting with '{first}'"
            )));
        }
        // Jackson's readTree reads the first value and ignores what follows it.
        let doc = match serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .next()
        {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Ok(Expansion::Kept(e.to_string())),
            None => return Ok(Expansion::Kept("empty payload".into())),
        };
        let schema = match self.schema_of(Some(key), &doc) {
            Ok(s) => s,
            Err(reason) => return Ok(Expansion::Kept(reason)),
        };
        let Some(schema) = schema.filter(|s| matches!(s.ty, Type::Struct(_))) else {
            return Err(
                "the JSON payload is an array, which Debezium's expansion cannot \
                        turn into a struct (the record would fail in the converter)"
                    .into(),
            );
        };
        let Value::Object(obj) = &doc else {
            return Err("the JSON payload is not an object".into());
        };
        let datum = struct_of(obj, &schema)?;
        Ok(Expansion::Expanded(self.shapes.intern(schema), datum))
    }

    /// `JsonSchemaData.toConnectSchema`: `None` for a value that adds no field.
    fn schema_of(&self, key: Option<&str>, v: &Value) -> Result<Option<Schema>, String> {
        Ok(match v {
            Value::String(_) => Some(Schema::new(Type::String).optional()),
            Value::Bool(_) => Some(Schema::new(Type::Boolean).optional()),
            Value::Number(n) => Some(num_schema(num(n))),
            Value::Array(a) if a.is_empty() => None,
            Value::Array(a) => {
                let item = self.element_schema(key, a)?;
                Some(Schema::new(Type::Array(Box::new(item))).optional())
            }
            Value::Object(o) => Some(self.object_schema(key, o)?),
            Value::Null if self.null_as_bytes => Some(Schema::new(Type::Bytes).optional()),
            Value::Null => None,
        })
    }

    fn object_schema(&self, key: Option<&str>, o: &Map<String, Value>) -> Result<Schema, String> {
        let mut fields: Vec<Field> = Vec::with_capacity(o.len());
        let prefix = key.filter(|k| !java_trim(k).is_empty());
        for (k, v) in o {
            let name = self.names.adjust(k);
            let field_key = match prefix {
                Some(p) => format!("{p}.{name}"),
                None => name.clone(),
            };
            if let Some(s) = self.schema_of(Some(&field_key), v)? {
                if !fields.iter().any(|f| f.name == name) {
                    fields.push(Field::new(name, s));
                }
            }
        }
        let mut s = Schema::new(Type::Struct(fields)).optional();
        s.name = key.map(str::to_string);
        Ok(s)
    }

    /// `toConnectSchemaWithCycles`: the schema of a non-empty array's elements.
    fn element_schema(&self, key: Option<&str>, a: &[Value]) -> Result<Schema, String> {
        let sample = first_element(a)?;
        if sample.is_object() {
            let mut distinct: Vec<Schema> = Vec::new();
            for e in a.iter().filter(|e| e.is_object()) {
                if let Some(s) = self.schema_of(key, e)? {
                    if !distinct.contains(&s) {
                        distinct.push(s);
                    }
                }
            }
            let mut merged: Option<Schema> = None;
            for s in distinct {
                merged = Some(match merged {
                    None => s,
                    Some(left) => merge(left, s),
                });
            }
            return merged.ok_or_else(|| "array of objects without a schema".to_string());
        }
        self.schema_of(None, sample)?.ok_or_else(|| {
            format!(
                "Array '{}' has unrecognized member schema.",
                Value::Array(a.to_vec())
            )
        })
    }
}

/// `getFirstArrayElement`: the first non-null element (JSON null when all are null); every
/// element must be of its kind, numbers of its number schema.
fn first_element(a: &[Value]) -> Result<&Value, String> {
    let mut found: Option<&Value> = None;
    for e in a.iter().filter(|e| !e.is_null()) {
        let Some(first) = found else {
            found = Some(e);
            continue;
        };
        if std::mem::discriminant(first) != std::mem::discriminant(e) {
            return Err(format!("Field is not a homogenous array ({first} x {e})."));
        }
        if let (Value::Number(x), Value::Number(y)) = (first, e) {
            if num_schema(num(x)) != num_schema(num(y)) {
                return Err(format!(
                    "Field is not a homogenous array ({x} x {y}), different number types"
                ));
            }
        }
    }
    Ok(found.unwrap_or(&Value::Null))
}

/// `mergeSchema`: `left`'s fields, then `right`'s new ones; a `bytes` field (a JSON null)
/// gives way to a typed one. The result keeps `left`'s basics (name, version, doc,
/// parameters) but — as `SchemaUtil.copySchemaBasics` — is not optional.
fn merge(left: Schema, right: Schema) -> Schema {
    let mut fields: Vec<Field> = left.fields().to_vec();
    for f in right.fields() {
        match fields.iter().position(|o| o.name == f.name) {
            None => fields.push(f.clone()),
            Some(i) => {
                let old = &fields[i].schema;
                if *old != f.schema && old.ty == Type::Bytes && f.schema.ty != Type::Bytes {
                    fields[i] = f.clone();
                }
            }
        }
    }
    let mut s = Schema::new(Type::Struct(fields));
    s.name = left.name;
    s.version = left.version;
    s.doc = left.doc;
    s.parameters = left.parameters;
    s
}

/// `jsonNodeToStructInternal`: the fields of `s` present in `o` (absent ones null),
/// each checked as Kafka Connect's `Struct.put` checks it.
fn struct_of(o: &Map<String, Value>, s: &Schema) -> Result<Datum, String> {
    let mut values = Vec::with_capacity(s.fields().len());
    for f in s.fields() {
        values.push(match o.get(&f.name) {
            Some(v) => datum_of(v, &f.schema).map_err(|e| format!("field {}: {e}", f.name))?,
            None => Datum::Null,
        });
    }
    Ok(Datum::Struct(values))
}

/// `getStructFieldValue` + `ConnectSchema.validateValue`.
fn datum_of(v: &Value, s: &Schema) -> Result<Datum, String> {
    let mismatch = || {
        format!(
            "a JSON {v} does not fit schema type {}",
            s.ty.connect_name()
        )
    };
    match (v, &s.ty) {
        (Value::Null, _) if s.optional => Ok(Datum::Null),
        (Value::Null, _) => Err("null value for a required field".into()),
        (Value::String(t), Type::String) => Ok(Datum::Str(t.clone())),
        (Value::Bool(b), Type::Boolean) => Ok(Datum::Bool(*b)),
        (Value::Number(n), _) => match (num(n), &s.ty) {
            (Num::Int(i), Type::Int32) => Ok(Datum::Int(i64::from(i))),
            (Num::Long(l), Type::Int64) => Ok(Datum::Int(l)),
            (Num::Double(d), Type::Float64) => Ok(Datum::F64(d)),
            _ => Err(mismatch()),
        },
        (Value::Array(items), Type::Array(item)) => items
            .iter()
            .map(|e| datum_of(e, item))
            .collect::<Result<Vec<_>, _>>()
            .map(Datum::Array),
        (Value::Object(o), Type::Struct(_)) => struct_of(o, s),
        _ => Err(mismatch()),
    }
}

/// Java's `String.trim`: strips the characters up to U+0020 at both ends.
pub fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::names::{Mode, Target};

    fn expander() -> JsonExpander {
        JsonExpander::new(false, Adjuster::new(Mode::None, Target::FieldName))
    }

    fn expanded(x: &mut JsonExpander, text: &str) -> (Arc<Schema>, Datum) {
        match x.expand("payload", text) {
            Ok(Expansion::Expanded(s, d)) => (s, d),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn infers_the_schema_debezium_infers() {
        let mut x = expander();
        // Captured from Debezium 3.5 (notes/debezium16.md §9).
        let (s, d) = expanded(
            &mut x,
            r#"{"id": 1, "lines": [{"sku": "a", "n": 2}], "total": 12.5, "note": null, "ok": true}"#,
        );
        assert_eq!(
            s.to_connect_json().to_string(),
            r#"{"type":"struct","fields":[{"type":"int32","optional":true,"field":"id"},{"type":"array","items":{"type":"struct","fields":[{"type":"string","optional":true,"field":"sku"},{"type":"int32","optional":true,"field":"n"}],"optional":true,"name":"payload.lines"},"optional":true,"field":"lines"},{"type":"double","optional":true,"field":"total"},{"type":"boolean","optional":true,"field":"ok"}],"optional":true,"name":"payload"}"#
        );
        assert_eq!(
            d.to_connect_json(&s).to_string(),
            r#"{"id":1,"lines":[{"sku":"a","n":2}],"total":12.5,"ok":true}"#
        );
        // The same shape is the same Arc.
        let (s2, _) = expanded(
            &mut x,
            r#"{"id": 7, "lines": [{"sku": "b", "n": 1}], "total": 1.0, "ok": false}"#,
        );
        assert!(Arc::ptr_eq(&s, &s2));
        let (s3, _) = expanded(&mut x, r#"{"id": 3000000000}"#);
        assert_eq!(s3.fields()[0].schema.ty, Type::Int64);
    }

    #[test]
    fn arrays_merge_and_fail_as_in_debezium() {
        let mut x = expander();
        let (s, d) = expanded(
            &mut x,
            r#"{"a":[{"code":"1","d":"x"},{"code":"2"},{"e":3}], "b":[], "c":[null, 2]}"#,
        );
        let item = match &s.fields()[0].schema.ty {
            Type::Array(i) => i,
            other => panic!("{other:?}"),
        };
        // Merged element schema: union of fields, first element's basics, not optional.
        assert_eq!(item.name.as_deref(), Some("payload.a"));
        assert!(!item.optional);
        let names: Vec<&str> = item.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["code", "d", "e"]);
        assert_eq!(s.fields().len(), 2, "empty array dropped");
        assert_eq!(
            d.to_connect_json(&s).to_string(),
            r#"{"a":[{"code":"1","d":"x","e":null},{"code":"2","d":null,"e":null},{"code":null,"d":null,"e":3}],"c":[null,2]}"#
        );
        // Inference failures keep the text.
        for kept in [
            r#"{"t":[1, 2.0]}"#,
            r#"{"t":[1, "a"]}"#,
            r#"{"t":[null]}"#,
            "not json",
            "{oops",
            " {}",
        ] {
            assert!(
                matches!(x.expand("payload", kept), Ok(Expansion::Kept(_))),
                "{kept}"
            );
        }
        // Inferred but not convertible: the record fails, as in Debezium's converter.
        for fails in [
            r#"{"big": 99999999999999999999}"#,
            r#"{"t":[{"a":1},{"a":"x"}]}"#,
            "[1]",
        ] {
            assert!(x.expand("payload", fails).is_err(), "{fails}");
        }
    }

    #[test]
    fn null_fields_as_bytes_and_adjusted_names() {
        let mut x = JsonExpander::new(true, Adjuster::new(Mode::Avro, Target::FieldName));
        let (s, d) = expanded(
            &mut x,
            r#"{"heartbeat": 1, "e-mail": null, "n": {"x.y": 2}}"#,
        );
        assert_eq!(s.fields()[1].name, "e_mail");
        assert_eq!(s.fields()[1].schema.ty, Type::Bytes);
        assert_eq!(s.fields()[2].schema.name.as_deref(), Some("payload.n"));
        // The renamed key is not found under its new name: null, as in Debezium.
        assert_eq!(
            d.to_connect_json(&s).to_string(),
            r#"{"heartbeat":1,"e_mail":null,"n":{"x_y":null}}"#
        );
    }
}
