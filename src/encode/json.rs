//! JSON encodings: the payload exactly as Kafka Connect's JsonConverter writes a Connect
//! value (`schemas.enable=false`: bytes and precise decimals as base64, structs as objects
//! in field order), and the `{"schema":…,"payload":…}` form (`schemas.enable=true`).
//!
//! Invariant: output is always valid UTF-8 JSON; non-finite floats are written as the
//! strings `"NaN"`, `"Infinity"`, `"-Infinity"` (Jackson's quoted form) instead of invalid
//! tokens.

use base64::Engine as _;

use crate::envelope::schema::{java_float_text, Datum, Schema, Type};

/// Writes `d` (a datum of `s`) as JSON into `out`.
pub fn write_json(s: &Schema, d: &Datum, out: &mut Vec<u8>) {
    match d {
        // JsonConverter (replace.null.with.default=true, Kafka's default) writes a field's
        // default in place of a null.
        Datum::Null => match &s.default {
            Some(def) if *def != Datum::Null => write_json(s, def, out),
            _ => out.extend_from_slice(b"null"),
        },
        Datum::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Datum::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Datum::F32(f) => write_float(*f as f64, f.is_finite().then(|| format!("{f:e}")), out),
        Datum::F64(f) => write_float(*f, f.is_finite().then(|| format!("{f:e}")), out),
        Datum::Str(st) => write_str(st, out),
        Datum::Bytes(b) => write_base64(b, out),
        Datum::Array(items) => {
            let fallback;
            let item_schema = match &s.ty {
                Type::Array(i) => i.as_ref(),
                _ => {
                    fallback = Schema::new(Type::String);
                    &fallback
                }
            };
            out.push(b'[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(item_schema, it, out);
            }
            out.push(b']');
        }
        Datum::Struct(values) => {
            out.push(b'{');
            for (i, (f, v)) in s.fields().iter().zip(values).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(f.json_key());
                write_json(&f.schema, v, out);
            }
            out.push(b'}');
        }
    }
}

fn write_float(f: f64, finite: Option<String>, out: &mut Vec<u8>) {
    match finite {
        // Jackson writes Java's Double.toString / Float.toString.
        Some(sci) => out.extend_from_slice(java_float_text(&sci).as_bytes()),
        None if f.is_nan() => out.extend_from_slice(b"\"NaN\""),
        None if f > 0.0 => out.extend_from_slice(b"\"Infinity\""),
        None => out.extend_from_slice(b"\"-Infinity\""),
    }
}

/// `b` as a JSON string of its standard base64 (padded), as JsonConverter writes bytes.
pub fn write_base64(b: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    out.extend_from_slice(
        base64::engine::general_purpose::STANDARD
            .encode(b)
            .as_bytes(),
    );
    out.push(b'"');
}

/// `s` as an escaped JSON string.
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    // serde_json's escaping of a &str cannot fail when writing into a Vec.
    if serde_json::to_writer(&mut *out, s).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// `{"schema":<schema>,"payload":<payload>}` with a pre-rendered schema.
pub fn write_with_schema(schema_json: &[u8], s: &Schema, d: &Datum, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"schema\":");
    out.extend_from_slice(schema_json);
    out.extend_from_slice(b",\"payload\":");
    write_json(s, d, out);
    out.push(b'}');
}
