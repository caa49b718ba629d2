//! `io.debezium.transforms.ExtractChangedRecordState` (alias `extract_changed_record_state`):
//! adds headers listing which row fields an update changed (`header_changed_name`) and
//! which it did not (`header_unchanged_name`), as Debezium 3.5 does — the producer of the
//! list `ExtractNewRecordState`'s `drop_fields_header_name` reads.
//!
//! Invariant: a header is added to every change envelope when its name is set (an empty
//! list unless both `before` and `after` are present); its schema is an optional array of
//! optional strings named after the header, built once. Records that are not change
//! envelopes, and tombstones, pass through untouched.

use std::sync::Arc;

use super::{Context, Options, Record, Transform};
use crate::envelope::schema::{string, Datum, Schema, Type};
use crate::error::Result;

/// The transform.
#[derive(Debug)]
pub struct ExtractChangedRecordState {
    changed: Option<(Arc<str>, Arc<Schema>)>,
    unchanged: Option<(Arc<str>, Arc<Schema>)>,
}

/// Debezium's `SchemaBuilder.array(OPTIONAL_STRING_SCHEMA).optional().name(name)`.
fn list_schema(name: &str) -> Arc<Schema> {
    Arc::new(
        Schema::new(Type::Array(Box::new(string().optional())))
            .optional()
            .named(name),
    )
}

fn header(opts: &mut Options, key: &str) -> Result<Option<(Arc<str>, Arc<Schema>)>> {
    Ok(opts
        .string(key)?
        .filter(|n| !n.trim().is_empty())
        .map(|n| (Arc::from(n.as_str()), list_schema(&n))))
}

/// Builds the transform from its options.
pub fn build(opts: &mut Options, _ctx: &Context) -> Result<Box<dyn Transform>> {
    Ok(Box::new(ExtractChangedRecordState {
        changed: header(opts, "header_changed_name")?,
        unchanged: header(opts, "header_unchanged_name")?,
    }))
}

/// The names of the fields of `after` whose raw values differ from `before`'s (a field
/// `before` lacks compares as null), and of those that do not.
fn split(env_schema: &Schema, env: &Datum) -> (Vec<Datum>, Vec<Datum>) {
    let (mut changed, mut unchanged) = (Vec::new(), Vec::new());
    let (Some((bs, bd)), Some((as_, ad))) = (
        super::field_of(env_schema, env, "before"),
        super::field_of(env_schema, env, "after"),
    ) else {
        return (changed, unchanged);
    };
    if matches!(bd, Datum::Null) || matches!(ad, Datum::Null) {
        return (changed, unchanged);
    }
    for f in as_.fields() {
        let a = super::field_of(as_, ad, &f.name).map(|(_, d)| d);
        let b = super::field_of(bs, bd, &f.name).map(|(_, d)| d);
        let same = a.unwrap_or(&Datum::Null) == b.unwrap_or(&Datum::Null);
        if same {
            unchanged.push(Datum::str(f.name.as_str()));
        } else {
            changed.push(Datum::str(f.name.as_str()));
        }
    }
    (changed, unchanged)
}

impl Transform for ExtractChangedRecordState {
    fn apply(&mut self, mut rec: Record) -> Result<Option<Record>> {
        let Some(value) = &rec.value else {
            return Ok(Some(rec));
        };
        if !super::is_envelope(&value.schema) {
            return Ok(Some(rec));
        }
        let (changed, unchanged) = split(&value.schema, &value.datum);
        for (h, list) in [(&self.changed, changed), (&self.unchanged, unchanged)] {
            if let Some((name, schema)) = h {
                rec.header(name, schema.clone(), Datum::Array(list));
            }
        }
        Ok(Some(rec))
    }
}

#[cfg(test)]
mod tests;
