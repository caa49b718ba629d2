//! The one schema model: Kafka Connect-style schemas (struct/fields, primitive types,
//! optional, default, semantic name, version, doc, parameters) and the values that follow
//! them ([`Datum`]). Every encoder reads this model; none knows MySQL.
//!
//! Invariant: a [`Datum`] built by `convert` always matches the [`Schema`] it was built
//! for (a struct datum has one entry per field, in field order), so encoders can walk the
//! two together without re-validating.

use base64::Engine as _;
use serde_json::{json, Map, Value as Json};

/// Connect schema types.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Array(Box<Schema>),
    Struct(Vec<Field>),
}

impl Type {
    /// The type name JsonConverter writes.
    pub fn connect_name(&self) -> &'static str {
        match self {
            Type::Int8 => "int8",
            Type::Int16 => "int16",
            Type::Int32 => "int32",
            Type::Int64 => "int64",
            Type::Float32 => "float",
            Type::Float64 => "double",
            Type::Boolean => "boolean",
            Type::String => "string",
            Type::Bytes => "bytes",
            Type::Array(_) => "array",
            Type::Struct(_) => "struct",
        }
    }
}

/// One field of a struct schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub schema: Schema,
    /// `"<name>":` as JSON (escaped once, written for every value of the field).
    json_key: Box<[u8]>,
}

/// A Connect schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub ty: Type,
    pub optional: bool,
    /// Semantic (logical) name, e.g. `io.debezium.time.MicroTimestamp`, or a struct's name.
    pub name: Option<String>,
    pub version: Option<i32>,
    pub doc: Option<String>,
    /// Schema parameters in insertion order (`scale`, `connect.decimal.precision`, …).
    pub parameters: Vec<(String, String)>,
    /// Default value: a non-null datum of this schema. Each encoder renders it its own way
    /// (JsonConverter: bytes as base64; AvroData: bytes as ISO-8859-1 text).
    pub default: Option<Datum>,
}

impl Schema {
    pub fn new(ty: Type) -> Self {
        Schema {
            ty,
            optional: false,
            name: None,
            version: None,
            doc: None,
            parameters: Vec::new(),
            default: None,
        }
    }

    pub fn strukt(name: impl Into<String>, fields: Vec<Field>) -> Self {
        Schema::new(Type::Struct(fields)).named(name)
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    pub fn with_optional(mut self, optional: bool) -> Self {
        self.optional = optional;
        self
    }

    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn version(mut self, v: i32) -> Self {
        self.version = Some(v);
        self
    }

    pub fn doc(mut self, d: impl Into<String>) -> Self {
        self.doc = Some(d.into());
        self
    }

    pub fn param(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.parameters.push((k.into(), v.into()));
        self
    }

    pub fn default_value(mut self, v: Datum) -> Self {
        self.default = Some(v);
        self
    }

    /// The default as `with_default(None)` clears it.
    pub fn with_default(mut self, v: Option<Datum>) -> Self {
        self.default = v;
        self
    }

    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn fields(&self) -> &[Field] {
        match &self.ty {
            Type::Struct(f) => f,
            _ => &[],
        }
    }

    /// The schema as Kafka Connect's JsonConverter writes it (`schemas.enable=true`): `type`,
    /// then `items`/`keys`/`values`/`fields`, `optional`, `name`, `version`, `doc`,
    /// `parameters`, `default`; struct fields carry their name under `field`.
    pub fn to_connect_json(&self) -> Json {
        let mut m = Map::new();
        m.insert("type".into(), Json::from(self.ty.connect_name()));
        match &self.ty {
            Type::Struct(fields) => {
                let list = fields
                    .iter()
                    .map(|f| {
                        let mut j = f.schema.to_connect_json();
                        if let Json::Object(o) = &mut j {
                            o.insert("field".into(), Json::from(f.name.clone()));
                        }
                        j
                    })
                    .collect();
                m.insert("fields".into(), Json::Array(list));
            }
            Type::Array(items) => {
                m.insert("items".into(), items.to_connect_json());
            }
            _ => {}
        }
        m.insert("optional".into(), Json::Bool(self.optional));
        if let Some(n) = &self.name {
            m.insert("name".into(), Json::from(n.clone()));
        }
        if let Some(v) = self.version {
            m.insert("version".into(), json!(v));
        }
        if let Some(d) = &self.doc {
            m.insert("doc".into(), Json::from(d.clone()));
        }
        if !self.parameters.is_empty() {
            let p: Map<String, Json> = self
                .parameters
                .iter()
                .map(|(k, v)| (k.clone(), Json::from(v.clone())))
                .collect();
            m.insert("parameters".into(), Json::Object(p));
        }
        if let Some(d) = &self.default {
            m.insert("default".into(), d.to_connect_json(self));
        }
        Json::Object(m)
    }
}

impl Field {
    pub fn new(name: impl Into<String>, schema: Schema) -> Self {
        let name = name.into();
        let mut json_key = serde_json::to_vec(&name).unwrap_or_else(|_| b"\"\"".to_vec());
        json_key.push(b':');
        Field {
            name,
            schema,
            json_key: json_key.into_boxed_slice(),
        }
    }

    /// The field's name as a JSON object key, colon included.
    pub fn json_key(&self) -> &[u8] {
        &self.json_key
    }
}

/// A value following a [`Schema`]. Integers of every width are `Int`; the schema says which.
#[derive(Debug, Clone, PartialEq)]
pub enum Datum {
    Null,
    Bool(bool),
    Int(i64),
    F32(f32),
    F64(f64),
    Str(String),
    Bytes(Vec<u8>),
    Array(Vec<Datum>),
    /// One datum per field of the struct schema, in field order.
    Struct(Vec<Datum>),
}

impl Datum {
    pub fn str(s: impl Into<String>) -> Datum {
        Datum::Str(s.into())
    }

    pub fn opt_str(s: Option<&str>) -> Datum {
        s.map_or(Datum::Null, |s| Datum::Str(s.to_string()))
    }

    /// The datum (of `s`) as Kafka Connect's JsonConverter writes it: bytes as base64, a
    /// float as its shortest decimal form (Jackson's), non-finite floats as strings.
    pub fn to_connect_json(&self, s: &Schema) -> Json {
        match self {
            Datum::Null => Json::Null,
            Datum::Bool(b) => Json::Bool(*b),
            Datum::Int(i) => json!(i),
            Datum::F32(f) => float_json(f.is_finite().then(|| format!("{f:e}")), *f as f64),
            Datum::F64(f) => float_json(f.is_finite().then(|| format!("{f:e}")), *f),
            Datum::Str(v) => Json::from(v.clone()),
            Datum::Bytes(b) => Json::from(base64::engine::general_purpose::STANDARD.encode(b)),
            Datum::Array(items) => {
                let item = match &s.ty {
                    Type::Array(i) => i.as_ref().clone(),
                    _ => Schema::new(Type::String),
                };
                Json::Array(items.iter().map(|d| d.to_connect_json(&item)).collect())
            }
            Datum::Struct(values) => Json::Object(
                s.fields()
                    .iter()
                    .zip(values)
                    .map(|(f, v)| (f.name.clone(), v.to_connect_json(&f.schema)))
                    .collect(),
            ),
        }
    }
}

/// A float as JSON: [`java_float_text`] of its shortest scientific form `finite` (kept as
/// written: serde_json's `arbitrary_precision`), or Jackson's quoted form for NaN and the
/// infinities.
fn float_json(finite: Option<String>, f: f64) -> Json {
    match finite {
        Some(sci) => serde_json::from_str::<serde_json::Number>(&java_float_text(&sci))
            .map_or(Json::Null, Json::Number),
        None if f.is_nan() => Json::from("NaN"),
        None if f > 0.0 => Json::from("Infinity"),
        None => Json::from("-Infinity"),
    }
}

/// A finite float as Java's `Double.toString`/`Float.toString` write it (and so Jackson, and
/// Kafka Connect's JsonConverter): the shortest digits that read back as the value — given
/// as Rust's shortest scientific form `sci` (`format!("{x:e}")`: `1.5e0`, `1e10`) — as a
/// plain decimal with at least one fraction digit when 10^-3 <= |x| < 10^7 (`0.001`, `1.0`,
/// `9999999.0`), else as `d.dddE<exp>` (`1.0E7`, `1.0E-4`, `-2.5E300`).
pub fn java_float_text(sci: &str) -> String {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if digits.bytes().all(|b| b == b'0') {
        return format!("{sign}0.0");
    }
    if (-3..7).contains(&exp) {
        let text = if exp >= 0 {
            let split = exp as usize + 1;
            let int = format!("{digits:0<split$}");
            let (int, frac) = int.split_at(split);
            let frac = if frac.is_empty() { "0" } else { frac };
            format!("{int}.{frac}")
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        };
        return format!("{sign}{text}");
    }
    let (first, rest) = digits.split_at(1);
    let rest = if rest.is_empty() { "0" } else { rest };
    format!("{sign}{first}.{rest}E{exp}")
}

// Common primitive schemas.
pub fn int32() -> Schema {
    Schema::new(Type::Int32)
}
pub fn int64() -> Schema {
    Schema::new(Type::Int64)
}
pub fn string() -> Schema {
    Schema::new(Type::String)
}
pub fn boolean() -> Schema {
    Schema::new(Type::Boolean)
}
pub fn array(items: Schema) -> Schema {
    Schema::new(Type::Array(Box::new(items)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_java_writes_them() {
        let cases: [(f64, &str); 14] = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-1.5, "-1.5"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1234567.0, "1234567.0"),
            (9999999.0, "9999999.0"),
            (1e7, "1.0E7"),
            (1e10, "1.0E10"),
            (-2.5e300, "-2.5E300"),
            (123.456, "123.456"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1.7976931348623157e308, "1.7976931348623157E308"),
        ];
        for (f, want) in cases {
            assert_eq!(java_float_text(&format!("{f:e}")), want, "{f}");
        }
        // Float.toString: the shortest digits of the f32.
        assert_eq!(java_float_text(&format!("{:e}", 0.1f32)), "0.1");
        assert_eq!(
            java_float_text(&format!("{:e}", 3.4028235e38f32)),
            "3.4028235E38"
        );
        let j = Datum::F64(1e10).to_connect_json(&Schema::new(Type::Float64));
        assert_eq!(j.as_f64(), Some(1e10));
    }

    #[test]
    fn connect_json_shape() {
        let s = Schema::strukt(
            "p.db.t.Key",
            vec![Field::new(
                "d",
                Schema::new(Type::Bytes)
                    .named("org.apache.kafka.connect.data.Decimal")
                    .version(1)
                    .param("scale", "2")
                    .optional(),
            )],
        );
        let j = s.to_connect_json();
        assert_eq!(
            j.to_string(),
            r#"{"type":"struct","fields":[{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"d"}],"optional":false,"name":"p.db.t.Key"}"#
        );
    }
}
