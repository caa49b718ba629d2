//! `drop_fields_header_name` / `drop_fields_from_key` / `drop_fields_keep_schema_compatible`:
//! fields named in a record header (a list of field names, as
//! `ExtractChangedRecordState` writes them) are removed from the flattened value — and from
//! the key with `drop_fields_from_key` — as Debezium 3.5 does by delegating to Kafka's
//! `ReplaceField` with `exclude`.
//!
//! Invariant: a dropped schema is derived once per (input schema `Arc`, dropped names), so
//! the same input and the same header yield the same output `Arc`. As `ReplaceField` reads
//! the kept fields with `Struct.get`, a kept null field with a default comes out as its
//! default — but only on records where something was actually dropped.

use std::collections::HashMap;
use std::sync::Arc;

use crate::envelope::schema::{Datum, Schema, Type};
use crate::error::Result;
use crate::transform::{Options, Part, Record};

/// An input schema (by pointer) and the names dropped from it.
type CacheKey = (usize, Vec<String>);

/// The drop options of one `ExtractNewRecordState`.
#[derive(Debug, Default)]
pub(super) struct DropFields {
    /// `drop_fields_header_name` (`None`: the feature is off).
    header: Option<String>,
    from_key: bool,
    keep_schema_compatible: bool,
    /// Output schemas by (input schema pointer, names dropped); the input is kept alive.
    cache: HashMap<CacheKey, (Arc<Schema>, Arc<Schema>)>,
}

impl DropFields {
    pub(super) fn build(opts: &mut Options) -> Result<Self> {
        Ok(DropFields {
            header: opts
                .string("drop_fields_header_name")?
                .filter(|s| !s.trim().is_empty()),
            from_key: opts.bool_or("drop_fields_from_key", false)?,
            keep_schema_compatible: opts.bool_or("drop_fields_keep_schema_compatible", true)?,
            cache: HashMap::new(),
        })
    }

    /// The field names of the record's first header named `drop_fields_header_name` (none
    /// when there is no such header, or its value is null or not a list).
    fn names(&self, rec: &Record) -> Vec<String> {
        let Some(name) = &self.header else {
            return Vec::new();
        };
        let Some(h) = rec.headers.iter().find(|h| &*h.key == name) else {
            return Vec::new();
        };
        match &h.datum {
            Datum::Array(items) => items
                .iter()
                .filter_map(|d| match d {
                    Datum::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            Datum::Str(s) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// Drops the listed fields from the key (with `drop_fields_from_key`) and from the
    /// value; `protect` trailing value fields are never dropped (a rewritten delete's added
    /// fields, which Debezium adds after dropping).
    pub(super) fn apply(&mut self, mut rec: Record, protect: usize) -> Record {
        let names = self.names(&rec);
        if names.is_empty() {
            return rec;
        }
        if self.from_key {
            if let Some(k) = rec.key.take() {
                rec.key = Some(self.part(k, &names, 0));
            }
        }
        if let Some(v) = rec.value.take() {
            rec.value = Some(self.part(v, &names, protect));
        }
        rec
    }

    /// `ReplaceField` on one part: a null datum or a non-struct passes unchanged.
    fn part(&mut self, p: Part, names: &[String], protect: usize) -> Part {
        let Type::Struct(fields) = &p.schema.ty else {
            return p;
        };
        let Datum::Struct(values) = p.datum else {
            return p;
        };
        let droppable = fields.len().saturating_sub(protect);
        let drop: Vec<String> = fields[..droppable]
            .iter()
            .filter(|f| names.contains(&f.name))
            .filter(|f| !self.keep_schema_compatible || f.schema.optional)
            .map(|f| f.name.clone())
            .collect();
        if drop.is_empty() {
            return Part::new(p.schema, Datum::Struct(values));
        }
        let key = (Arc::as_ptr(&p.schema) as usize, drop);
        let schema = match self.cache.get(&key) {
            Some((_, out)) => out.clone(),
            None => {
                let out = Arc::new(Schema {
                    ty: Type::Struct(
                        fields
                            .iter()
                            .filter(|f| !key.1.contains(&f.name))
                            .cloned()
                            .collect(),
                    ),
                    optional: false,
                    default: None,
                    ..(*p.schema).clone()
                });
                if self.cache.len() >= 4096 {
                    self.cache.clear();
                }
                self.cache
                    .insert(key.clone(), (p.schema.clone(), out.clone()));
                out
            }
        };
        let kept = fields
            .iter()
            .zip(values)
            .filter(|(f, _)| !key.1.contains(&f.name))
            .map(|(f, v)| match (v, &f.schema.default) {
                (Datum::Null, Some(d)) => d.clone(),
                (v, _) => v,
            })
            .collect();
        Part::new(schema, Datum::Struct(kept))
    }
}
