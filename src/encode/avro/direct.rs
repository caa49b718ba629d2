//! The direct Avro binary writer: writes a datum of a Connect schema straight into the
//! output buffer (zig-zag varints, length-prefixed strings and bytes, union branches by
//! index, arrays as one block), following a [`Plan`] compiled once per Avro schema — no
//! intermediate `apache_avro::types::Value` tree, no per-field allocation.
//!
//! Invariant: for every datum, [`write`] either fails (and the caller falls back to the
//! apache-avro path, which then gives its own result and error text) or appends exactly the
//! bytes that [`super::avro_value`] followed by apache-avro's `encode_internal` would append.
//! Schemas with constructs outside the plan's set ([`plan`] returns `None`) always take the
//! apache-avro path. The byte equality is checked by `tests/avro_direct.rs`.

use std::collections::HashMap;

use apache_avro::schema::{InnerDecimalSchema, Name, NamespaceRef, Schema as AvroSchema};
use apache_avro::schema::{RecordSchema, UuidSchema};

use super::avro_name;
use crate::envelope::convert::{CONNECT_DATE, CONNECT_TIME, DECIMAL};
use crate::envelope::schema::{Datum, Field, Schema, Type};

/// How to write the values of one Avro schema node (references already resolved).
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// null, boolean, int, long, float, double and their logical types: the value's own
    /// encoding does not depend on the schema (apache-avro ignores it too).
    Plain,
    /// `bytes` (or a `uuid` over bytes): length and bytes.
    Bytes,
    /// `fixed`: the bytes as they are.
    Fixed,
    /// `string` (or a `uuid` over string): length and UTF-8 bytes.
    String,
    /// `enum`: the index of the string's symbol.
    Enum(Vec<String>),
    /// `decimal` over `bytes`: the two's-complement bytes, length-prefixed.
    Decimal,
    Array(Box<Plan>),
    /// The record's fields in Avro order, each with the index of its Connect field.
    Record(Vec<(usize, Plan)>),
    /// The branches, and the position of the `null` branch.
    Union {
        branches: Vec<Plan>,
        null: Option<usize>,
    },
}

/// The plan of an Avro schema for datums of `connect`, or `None` when the schema uses a
/// construct the direct writer leaves to apache-avro (maps, fixed decimals, durations,
/// big decimals, fixed uuids, unresolvable references, or a record whose fields are not
/// exactly the Connect struct's fields by Avro name). This is the function that decides
/// which codecs write directly.
pub fn plan(avro: &AvroSchema, connect: &Schema) -> Option<Plan> {
    let resolved = apache_avro::schema::ResolvedSchema::try_from(avro).ok()?;
    compile(avro, connect, resolved.get_names(), None)
}

fn compile(
    avro: &AvroSchema,
    connect: &Schema,
    names: &HashMap<Name, &AvroSchema>,
    ns: NamespaceRef,
) -> Option<Plan> {
    Some(match avro {
        AvroSchema::Ref { name } => {
            let target = names.get(name.fully_qualified_name(ns).as_ref())?;
            return compile(target, connect, names, ns);
        }
        AvroSchema::Null
        | AvroSchema::Boolean
        | AvroSchema::Int
        | AvroSchema::Long
        | AvroSchema::Float
        | AvroSchema::Double
        | AvroSchema::Date
        | AvroSchema::TimeMillis
        | AvroSchema::TimeMicros
        | AvroSchema::TimestampMillis
        | AvroSchema::TimestampMicros
        | AvroSchema::TimestampNanos
        | AvroSchema::LocalTimestampMillis
        | AvroSchema::LocalTimestampMicros
        | AvroSchema::LocalTimestampNanos => Plan::Plain,
        AvroSchema::Bytes | AvroSchema::Uuid(UuidSchema::Bytes) => Plan::Bytes,
        AvroSchema::String | AvroSchema::Uuid(UuidSchema::String) => Plan::String,
        AvroSchema::Fixed(_) => Plan::Fixed,
        AvroSchema::Enum(e) => Plan::Enum(e.symbols.clone()),
        AvroSchema::Decimal(d) => match d.inner {
            InnerDecimalSchema::Bytes => Plan::Decimal,
            InnerDecimalSchema::Fixed(_) => return None,
        },
        AvroSchema::Array(a) => match &connect.ty {
            Type::Array(items) => Plan::Array(Box::new(compile(&a.items, items, names, ns)?)),
            _ => return None,
        },
        AvroSchema::Union(u) => {
            let variants = u.variants();
            Plan::Union {
                branches: variants
                    .iter()
                    .map(|b| compile(b, connect, names, ns))
                    .collect::<Option<_>>()?,
                null: variants.iter().position(|b| *b == AvroSchema::Null),
            }
        }
        AvroSchema::Record(r) => match &connect.ty {
            Type::Struct(fields) => compile_record(r, fields, names, ns)?,
            _ => return None,
        },
        AvroSchema::Map(_)
        | AvroSchema::BigDecimal
        | AvroSchema::Uuid(UuidSchema::Fixed(_))
        | AvroSchema::Duration(_) => return None,
    })
}

/// A record whose fields are the Connect struct's fields, matched by Avro name (or alias)
/// one to one, as apache-avro looks a record value's fields up by name.
fn compile_record(
    r: &RecordSchema,
    fields: &[Field],
    names: &HashMap<Name, &AvroSchema>,
    ns: NamespaceRef,
) -> Option<Plan> {
    let mut by_name: HashMap<String, usize> = HashMap::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        if by_name.insert(avro_name(&f.name), i).is_some() {
            return None;
        }
    }
    if r.fields.len() != fields.len() {
        return None;
    }
    let record_ns = r.name.namespace().or(ns);
    let mut used = vec![false; fields.len()];
    let mut plan = Vec::with_capacity(fields.len());
    for af in &r.fields {
        let i = *by_name
            .get(&af.name)
            .or_else(|| af.aliases.iter().find_map(|a| by_name.get(a)))?;
        if std::mem::replace(&mut used[i], true) {
            return None;
        }
        plan.push((i, compile(&af.schema, &fields[i].schema, names, record_ns)?));
    }
    Some(Plan::Record(plan))
}

/// The direct writer failed; the caller takes the apache-avro path for this datum.
#[derive(Debug, PartialEq)]
pub struct Unsupported;

type Written = Result<(), Unsupported>;

/// Appends the Avro binary encoding of `d` (a datum of `s`) to `out`. On failure `out` may
/// hold a partial encoding: the caller truncates it.
pub fn write(s: &Schema, d: &Datum, plan: &Plan, out: &mut Vec<u8>) -> Written {
    if s.optional {
        // The union index and datum exactly as `avro_value` chooses them: with a default the
        // union is [T, "null"], without one ["null", T]; a null takes the default.
        let (index, datum) = match (d, &s.default) {
            (Datum::Null, Some(def)) if *def != Datum::Null => (0, Some(def)),
            (Datum::Null, Some(_)) => (1, None),
            (Datum::Null, None) => (0, None),
            (d, Some(_)) => (0, Some(d)),
            (d, None) => (1, Some(d)),
        };
        let Plan::Union { branches, .. } = plan else {
            return Err(Unsupported);
        };
        let branch = branches.get(index).ok_or(Unsupported)?;
        long(index as i64, out);
        return match datum {
            Some(d) => write_base(s, d, branch, out),
            None => write_null(branch, out),
        };
    }
    match (d, &s.default) {
        (Datum::Null, Some(def)) => write_base(s, def, plan, out),
        _ => write_base(s, d, plan, out),
    }
}

/// A null: the position of the `null` branch in a union, nothing otherwise.
fn write_null(plan: &Plan, out: &mut Vec<u8>) -> Written {
    match plan {
        Plan::Union { null: Some(p), .. } => long(*p as i64, out),
        Plan::Union { null: None, .. } => return Err(Unsupported),
        _ => {}
    }
    Ok(())
}

fn write_base(s: &Schema, d: &Datum, plan: &Plan, out: &mut Vec<u8>) -> Written {
    let logical = s.name.as_deref();
    match (&s.ty, d) {
        (Type::Int32, Datum::Int(i))
            if logical == Some(CONNECT_DATE) || logical == Some(CONNECT_TIME) =>
        {
            long(i64::from(*i as i32), out)
        }
        (Type::Int8 | Type::Int16 | Type::Int32, Datum::Int(i)) => {
            long(i64::from(i32::try_from(*i).map_err(|_| Unsupported)?), out)
        }
        // Timestamps (logical timestamp-millis) included.
        (Type::Int64, Datum::Int(i)) => long(*i, out),
        (Type::Float32, Datum::F32(f)) => out.extend_from_slice(&f.to_le_bytes()),
        (Type::Float64, Datum::F64(f)) => out.extend_from_slice(&f.to_le_bytes()),
        (Type::Boolean, Datum::Bool(b)) => out.push(u8::from(*b)),
        (Type::String, Datum::Str(v)) => match plan {
            Plan::String => bytes(v.as_bytes(), out),
            Plan::Enum(symbols) => {
                let i = symbols.iter().position(|x| x == v).ok_or(Unsupported)?;
                long(i64::from(i as i32), out)
            }
            _ => return Err(Unsupported),
        },
        // A decimal's bytes are its two's complement, already of their own length (what
        // apache-avro's sign extension to the same length gives back); an empty one is an
        // error there, so it is left to apache-avro.
        (Type::Bytes, Datum::Bytes(b)) if logical == Some(DECIMAL) => match plan {
            Plan::Decimal if !b.is_empty() => bytes(b, out),
            _ => return Err(Unsupported),
        },
        (Type::Bytes, Datum::Bytes(b)) => match plan {
            Plan::Bytes => bytes(b, out),
            Plan::Fixed => out.extend_from_slice(b),
            _ => return Err(Unsupported),
        },
        (Type::Array(items), Datum::Array(v)) => {
            let Plan::Array(item) = plan else {
                return Err(Unsupported);
            };
            if !v.is_empty() {
                long(v.len() as i64, out);
                for x in v {
                    write(items, x, item, out)?;
                }
            }
            out.push(0);
        }
        (Type::Struct(fields), Datum::Struct(values)) => {
            let Plan::Record(plan) = plan else {
                return Err(Unsupported);
            };
            for (i, p) in plan {
                let (f, v) = (&fields[*i], values.get(*i).ok_or(Unsupported)?);
                write(&f.schema, v, p, out)?;
            }
        }
        _ => return Err(Unsupported),
    }
    Ok(())
}

/// A length-prefixed byte string.
fn bytes(b: &[u8], out: &mut Vec<u8>) {
    long(b.len() as i64, out);
    out.extend_from_slice(b);
}

/// A zig-zag varint (Avro `int` and `long` share it).
fn long(n: i64, out: &mut Vec<u8>) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z > 0x7f {
        out.push((z as u8 & 0x7f) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::schema::{int32, Field};

    fn parsed(text: &str) -> AvroSchema {
        AvroSchema::parse_str(text).unwrap()
    }

    #[test]
    fn zig_zag_varints() {
        for (n, want) in [
            (0i64, vec![0u8]),
            (-1, vec![1]),
            (1, vec![2]),
            (-64, vec![0x7f]),
            (64, vec![0x80, 0x01]),
            (
                i64::MAX,
                vec![0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
            (
                i64::MIN,
                vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ] {
            let mut out = Vec::new();
            long(n, &mut out);
            assert_eq!(out, want, "{n}");
        }
    }

    // The decision: derived schemas (records, unions, arrays, decimals, references) take
    // the direct writer; maps, fixed decimals and records whose fields differ from the
    // Connect struct's stay with apache-avro.
    #[test]
    fn plan_decides_which_schemas_are_written_directly() {
        let s = Schema::strukt(
            "db.t.Value",
            vec![
                Field::new("a", int32()),
                Field::new("b", Schema::new(Type::String).optional()),
            ],
        );
        let direct = plan(&parsed(&super::super::avro_schema(&s).to_string()), &s);
        assert_eq!(
            direct,
            Some(Plan::Record(vec![
                (0, Plan::Plain),
                (
                    1,
                    Plan::Union {
                        branches: vec![Plan::Plain, Plan::String],
                        null: Some(0)
                    }
                )
            ]))
        );
        // Fields in another order: resolved by name, once.
        let swapped = parsed(
            r#"{"type":"record","name":"V","fields":[
            {"name":"b","type":["null","string"]},{"name":"a","type":"int"}]}"#,
        );
        assert!(matches!(plan(&swapped, &s), Some(Plan::Record(f)) if f[0].0 == 1));
        let missing =
            parsed(r#"{"type":"record","name":"V","fields":[{"name":"a","type":"int"}]}"#);
        assert_eq!(plan(&missing, &s), None);
        let map = parsed(
            r#"{"type":"record","name":"V","fields":[
            {"name":"a","type":"int"},{"name":"b","type":{"type":"map","values":"string"}}]}"#,
        );
        assert_eq!(plan(&map, &s), None);
        let fixed_decimal =
            parsed(r#"{"type":"fixed","name":"F","size":4,"logicalType":"decimal","precision":5}"#);
        assert_eq!(plan(&fixed_decimal, &Schema::new(Type::Bytes)), None);
        // A record where the Connect schema is not a struct.
        assert_eq!(plan(&missing, &int32()), None);
    }
}
