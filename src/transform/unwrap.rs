//! `io.debezium.transforms.ExtractNewRecordState` (aliases `unwrap`,
//! `extract_new_record_state`): flattens a change event to its row — the `after` struct for
//! creates, updates and reads, deletes handled by `delete_tombstone_handling_mode` — with
//! envelope fields copied into the row (`add_fields`) or into headers (`add_headers`), and
//! optional routing by a row column (`route_by_field`), as Debezium 3.5 does.
//!
//! Invariant: everything a record's output depends on besides its data — the flattened
//! schemas, the header schemas, where each added field sits in the envelope — is derived
//! once per envelope schema `Arc` ([`SchemaCache`]), so equal structures always come out
//! as the same `Arc`; records that are not change envelopes pass through untouched.

use std::sync::Arc;

use super::{is_envelope, Context, Options, Part, Record, RecordHeader, SchemaCache, Transform};
use crate::envelope::schema::{Datum, Field, Schema, Type};
use crate::error::{Error, Result};

mod drop;
mod legacy;

pub use legacy::legacy_delete_mode;

/// `delete.tombstone.handling.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Deletes and tombstones are dropped.
    Drop,
    /// A delete becomes a record whose value is null (with the row's schema); the
    /// connector's tombstone is dropped. The default.
    Tombstone,
    /// A delete becomes its `before` row with `__deleted: "true"` (creates and updates
    /// carry `"false"`); tombstones are dropped.
    Rewrite,
    /// `Rewrite`, and the connector's tombstones are kept.
    RewriteWithTombstone,
    /// A delete becomes a tombstone (no value, no value schema); the connector's tombstone
    /// is dropped.
    DeleteToTombstone,
}

impl Mode {
    const NAMES: [(&'static str, Mode); 5] = [
        ("drop", Mode::Drop),
        ("tombstone", Mode::Tombstone),
        ("rewrite", Mode::Rewrite),
        ("rewrite-with-tombstone", Mode::RewriteWithTombstone),
        ("delete-to-tombstone", Mode::DeleteToTombstone),
    ];

    fn parse(s: &str) -> Option<Mode> {
        Mode::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s.trim()))
            .map(|(_, m)| *m)
    }

    fn rewrites(self) -> bool {
        matches!(self, Mode::Rewrite | Mode::RewriteWithTombstone)
    }
}

/// The field Debezium adds in the rewrite modes.
const DELETED: &str = "__deleted";

/// One entry of `add_fields` / `add_headers`: `[struct.]field[:new_name]`.
#[derive(Debug, Clone, PartialEq)]
struct FieldRef {
    /// The envelope struct holding the field (`source`, `transaction`), `None` for the
    /// envelope's own `op` / `ts_ms` / `ts_us` / `ts_ns`.
    parent: Option<String>,
    field: String,
    /// The name of the added field or header (prefix included).
    new_name: String,
}

/// Java's `String.split`: trailing empty strings removed.
fn java_split(s: &str, sep: char) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts == [""] && !s.is_empty() {
        parts.clear();
    }
    parts
}

impl FieldRef {
    /// Parses one entry as Debezium's `FieldReference` does: `a.b` is field `b` of struct
    /// `a` (named `<prefix>a_b`); a bare name is looked up in the struct Debezium assigns it
    /// (`op`, `ts_ms`, `ts_us`, `ts_ns`: the envelope; `id`, `total_order`,
    /// `data_collection_order`: `transaction`; anything else: `source`).
    fn parse(prefix: &str, entry: &str) -> std::result::Result<FieldRef, String> {
        let parts = java_split(entry, ':');
        let Some(path) = parts.first() else {
            return Err(format!("unexpected field name {entry:?}"));
        };
        let splits = java_split(path, '.');
        let (parent, field) = match splits.as_slice() {
            [] => (Some("source".to_string()), String::new()),
            [f] => (default_parent(f), f.to_string()),
            [p, f, ..] => (Some(p.to_string()), f.to_string()),
        };
        let new_name = match parts.as_slice() {
            [_] => match (&parent, splits.len()) {
                (Some(p), n) if n > 1 => format!("{prefix}{p}_{field}"),
                _ => format!("{prefix}{field}"),
            },
            [_, alias] => format!("{prefix}{alias}"),
            _ => return Err(format!("unexpected field name {entry:?}")),
        };
        Ok(FieldRef {
            parent,
            field,
            new_name,
        })
    }
}

fn default_parent(field: &str) -> Option<String> {
    match field {
        "id" | "total_order" | "data_collection_order" => Some("transaction".into()),
        "op" | "ts_ms" | "ts_us" | "ts_ns" => None,
        // MongoDB's; kept so the same entry finds the same (absent) struct.
        "updateDescription" => Some("updateDescription".into()),
        _ => Some("source".into()),
    }
}

/// Where a referenced field's value sits in the envelope datum.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Loc {
    /// Field `.1` of the struct in envelope field `.0`.
    Nested(usize, usize),
    /// Envelope field `.0`.
    Top(usize),
}

impl Loc {
    fn datum(self, envelope: &Datum) -> Datum {
        let Datum::Struct(top) = envelope else {
            return Datum::Null;
        };
        match self {
            Loc::Top(i) => top.get(i).cloned().unwrap_or(Datum::Null),
            Loc::Nested(p, i) => match top.get(p) {
                Some(Datum::Struct(inner)) => inner.get(i).cloned().unwrap_or(Datum::Null),
                _ => Datum::Null,
            },
        }
    }
}

/// A field reference resolved against one envelope schema.
#[derive(Debug)]
struct Resolved {
    name: Arc<str>,
    /// Debezium's `copySchemaBasics(field).optional()`: no default.
    schema: Arc<Schema>,
    loc: Loc,
    /// `source.snapshot`: rowtide's source block writes the `false` Debezium leaves null
    /// while streaming (its converters then show the schema default, `false`); Debezium's
    /// transform reads the raw null, so `false` is read back as null here.
    unset_is_false: bool,
}

impl Resolved {
    fn datum(&self, envelope: &Datum) -> Datum {
        match self.loc.datum(envelope) {
            Datum::Str(s) if self.unset_is_false && s == "false" => Datum::Null,
            d => d,
        }
    }
}

/// What one envelope schema flattens to.
#[derive(Debug)]
struct Shapes {
    before: usize,
    after: usize,
    /// `after` as it is (optional): the schema of a tombstone-mode delete's null value.
    row: Arc<Schema>,
    /// The value of a create/update/read: a required copy of `after` with its fields,
    /// `__deleted` in the rewrite modes, then the added fields.
    flat_after: Arc<Schema>,
    /// The same for a rewritten delete's `before` (the same `Arc` when `before` and `after`
    /// have one schema, as they always do for the connector's envelopes).
    flat_before: Arc<Schema>,
    fields: Vec<Resolved>,
    headers: Vec<Resolved>,
}

/// The transform.
#[derive(Debug)]
pub struct ExtractNewRecordState {
    mode: Mode,
    route_by_field: Option<String>,
    fields: Vec<FieldRef>,
    headers: Vec<FieldRef>,
    replace_null_with_default: bool,
    /// `drop_fields_*`.
    drop_fields: drop::DropFields,
    shapes: SchemaCache<Arc<Shapes>>,
    /// The key of the delete just flattened and the headers added to it, for the
    /// connector's tombstone that follows it.
    last_delete: Option<(Option<Part>, Vec<RecordHeader>)>,
}

/// Builds the transform from its options.
pub fn build(opts: &mut Options, _ctx: &Context) -> Result<Box<dyn Transform>> {
    let drop_tombstones = opts.string("drop_tombstones")?;
    let delete_handling_mode = opts.string("delete_handling_mode")?;
    if drop_tombstones.is_some() || delete_handling_mode.is_some() {
        let key = if drop_tombstones.is_some() {
            "drop_tombstones"
        } else {
            "delete_handling_mode"
        };
        return Err(opts.error(
            key,
            legacy::removed_message(drop_tombstones.as_deref(), delete_handling_mode.as_deref()),
        ));
    }
    let drop_fields = drop::DropFields::build(opts)?;
    let mode_text = opts.string_or("delete_tombstone_handling_mode", "tombstone")?;
    let mode = Mode::parse(&mode_text).ok_or_else(|| {
        opts.error(
            "delete_tombstone_handling_mode",
            format!(
                "{mode_text:?} is not one of drop, tombstone, rewrite, \
                 rewrite-with-tombstone, delete-to-tombstone"
            ),
        )
    })?;
    let route_by_field = opts.string("route_by_field")?.filter(|s| !s.is_empty());
    let fields = field_refs(opts, "add_fields", "add_fields_prefix")?;
    let headers = field_refs(opts, "add_headers", "add_headers_prefix")?;
    let replace_null_with_default = opts.bool_or("replace_null_with_default", true)?;
    Ok(Box::new(ExtractNewRecordState {
        mode,
        route_by_field,
        fields,
        headers,
        replace_null_with_default,
        drop_fields,
        shapes: SchemaCache::default(),
        last_delete: None,
    }))
}

fn field_refs(opts: &mut Options, key: &str, prefix_key: &str) -> Result<Vec<FieldRef>> {
    let prefix = opts.string_or(prefix_key, "__")?;
    opts.list(key)?
        .iter()
        .map(|e| FieldRef::parse(&prefix, e).map_err(|m| opts.error(key, m)))
        .collect()
}

/// A transform failure on a record.
fn fail(topic: &str, what: impl std::fmt::Display) -> Error {
    Error::Transform {
        transform: "ExtractNewRecordState",
        topic: topic.to_string(),
        reason: what.to_string(),
    }
}

impl Transform for ExtractNewRecordState {
    fn apply(&mut self, rec: Record) -> Result<Option<Record>> {
        let Some(value) = &rec.value else {
            return Ok(self.tombstone(rec));
        };
        self.last_delete = None;
        if !is_envelope(&value.schema) {
            return Ok(Some(rec));
        }
        let shapes = self.shapes_for(&rec.topic, &value.schema.clone())?;
        self.envelope(rec, &shapes)
    }
}

impl ExtractNewRecordState {
    /// A connector tombstone: an `op` header says `d`; kept only in
    /// `rewrite-with-tombstone`.
    fn tombstone(&mut self, mut rec: Record) -> Option<Record> {
        if let Some((key, added)) = self.last_delete.take() {
            if key == rec.key {
                rec.headers.extend(added);
            }
        }
        for h in self.headers.iter().filter(|h| h.field == "op") {
            rec.header(&h.new_name, string_schema(), Datum::str("d"));
        }
        (self.mode == Mode::RewriteWithTombstone).then_some(rec)
    }

    fn shapes_for(&mut self, topic: &str, envelope: &Arc<Schema>) -> Result<Arc<Shapes>> {
        let (mode, fields, headers) = (self.mode, &self.fields, &self.headers);
        self.shapes.get_or(envelope, |s| {
            shapes(s, mode, fields, headers)
                .map(Arc::new)
                .map_err(|m| fail(topic, m))
        })
    }

    /// A change envelope flattened.
    fn envelope(&mut self, mut rec: Record, shapes: &Shapes) -> Result<Option<Record>> {
        let Some(Part { datum: env, .. }) = rec.value.take() else {
            return Ok(None);
        };
        let Datum::Struct(top) = &env else {
            return Ok(None);
        };
        let added = shapes
            .headers
            .iter()
            .map(|h| RecordHeader {
                key: h.name.clone(),
                schema: h.schema.clone(),
                datum: h.datum(&env),
            })
            .collect::<Vec<_>>();
        rec.headers.extend(added.iter().cloned());
        let (before, after) = (&top[shapes.before], &top[shapes.after]);
        match (before, after) {
            // A truncate (or anything else with neither row) is dropped.
            (Datum::Null, Datum::Null) => Ok(None),
            (_, Datum::Null) => {
                // Debezium's tombstone shares its delete's header object: the headers added
                // here reappear on it.
                self.last_delete = Some((rec.key.clone(), added));
                let out = self.delete(rec, shapes, &env, before)?;
                // Debezium drops before it adds the fields: those are never dropped here.
                Ok(out.map(|r| self.drop_fields.apply(r, shapes.fields.len())))
            }
            (_, row) => {
                let value = self.flat(&shapes.flat_after, shapes, &env, row, "false");
                if let Some(t) = self.route(&rec.topic, &shapes.flat_after, &value)? {
                    rec.topic = t;
                }
                rec.value = Some(Part::new(shapes.flat_after.clone(), value));
                Ok(Some(self.drop_fields.apply(rec, 0)))
            }
        }
    }

    fn delete(
        &self,
        mut rec: Record,
        shapes: &Shapes,
        env: &Datum,
        before: &Datum,
    ) -> Result<Option<Record>> {
        // A delete routes by its `before` row whatever becomes of its value.
        let topic = match self.mode {
            Mode::Drop => return Ok(None),
            _ => self.route(&rec.topic, &shapes.row, before)?,
        };
        rec.value = match self.mode {
            Mode::Drop => return Ok(None),
            Mode::Tombstone => Some(Part::new(shapes.row.clone(), Datum::Null)),
            Mode::DeleteToTombstone => None,
            Mode::Rewrite | Mode::RewriteWithTombstone => {
                let value = self.flat(&shapes.flat_before, shapes, env, before, "true");
                Some(Part::new(shapes.flat_before.clone(), value))
            }
        };
        if let Some(t) = topic {
            rec.topic = t;
        }
        Ok(Some(rec))
    }

    /// A row flattened: its values (nulls replaced by column defaults in the rewrite
    /// modes, as Kafka's `InsertField` does with `replace.null.with.default`), then
    /// `__deleted`, then the added fields.
    fn flat(
        &self,
        schema: &Schema,
        shapes: &Shapes,
        env: &Datum,
        row: &Datum,
        deleted: &str,
    ) -> Datum {
        let mut values = match row {
            Datum::Struct(v) => v.clone(),
            _ => Vec::new(),
        };
        if self.mode.rewrites() {
            if self.replace_null_with_default {
                for (v, f) in values.iter_mut().zip(schema.fields()) {
                    if let (Datum::Null, Some(d)) = (&*v, &f.schema.default) {
                        *v = d.clone();
                    }
                }
            }
            values.push(Datum::str(deleted));
        }
        values.extend(shapes.fields.iter().map(|f| f.datum(env)));
        Datum::Struct(values)
    }

    /// `route_by_field`: the topic named by that string field of `row` (of schema
    /// `schema`); `None` (the topic stays) when the option is off or the value is null or
    /// blank.
    fn route(&self, topic: &str, schema: &Schema, row: &Datum) -> Result<Option<Arc<str>>> {
        let Some(name) = &self.route_by_field else {
            return Ok(None);
        };
        let Some((field, value)) = super::field_of(schema, row, name) else {
            return Err(fail(
                topic,
                format!("route_by_field: {name:?} is not a valid field name"),
            ));
        };
        if field.ty != Type::String {
            return Err(fail(
                topic,
                format!("route_by_field: field {name:?} is not of type STRING"),
            ));
        }
        let value = match (value, &field.default) {
            (Datum::Null, Some(d)) => d,
            (v, _) => v,
        };
        Ok(match value {
            Datum::Str(t) if !t.trim().is_empty() => Some(t.as_str().into()),
            _ => None,
        })
    }
}

fn string_schema() -> Arc<Schema> {
    Arc::new(Schema::new(Type::String))
}

/// Index of envelope field `name`.
fn index_of(s: &Schema, name: &str) -> std::result::Result<usize, String> {
    s.fields()
        .iter()
        .position(|f| f.name == name)
        .ok_or_else(|| format!("the envelope has no field {name:?}"))
}

/// Derives what `envelope` flattens to.
fn shapes(
    envelope: &Schema,
    mode: Mode,
    fields: &[FieldRef],
    headers: &[FieldRef],
) -> std::result::Result<Shapes, String> {
    let (before, after) = (index_of(envelope, "before")?, index_of(envelope, "after")?);
    let top = envelope.fields();
    let resolve = |refs: &[FieldRef]| -> std::result::Result<Vec<Resolved>, String> {
        refs.iter()
            .filter_map(|r| resolve(envelope, r).transpose())
            .collect()
    };
    let fields = resolve(fields)?;
    let headers = resolve(headers)?;
    let flat = |row: &Schema| {
        let mut out: Vec<Field> = row.fields().to_vec();
        if mode.rewrites() {
            out.push(Field::new(DELETED, Schema::new(Type::String).optional()));
        }
        out.extend(
            fields
                .iter()
                .map(|f| Field::new(f.name.to_string(), (*f.schema).clone())),
        );
        Arc::new(basics(row, Type::Struct(out)))
    };
    let flat_after = flat(&top[after].schema);
    let flat_before = if top[before].schema == top[after].schema {
        flat_after.clone()
    } else {
        flat(&top[before].schema)
    };
    Ok(Shapes {
        before,
        after,
        row: Arc::new(top[after].schema.clone()),
        flat_after,
        flat_before,
        fields,
        headers,
    })
}

/// Kafka's `SchemaUtil.copySchemaBasics`: name, version, doc and parameters — neither
/// optionality nor the default.
fn basics(s: &Schema, ty: Type) -> Schema {
    Schema {
        ty,
        optional: false,
        name: s.name.clone(),
        version: s.version,
        doc: s.doc.clone(),
        parameters: s.parameters.clone(),
        default: None,
    }
}

/// Resolves a field reference as Debezium's `FieldReference.getSchema`: the field of its
/// struct, else an envelope field of that name (one an earlier transform added), else
/// nothing (the reference is skipped).
fn resolve(envelope: &Schema, r: &FieldRef) -> std::result::Result<Option<Resolved>, String> {
    let top = envelope.fields();
    let find = |s: &Schema| s.fields().iter().position(|f| f.name == r.field);
    let (loc, schema) = match &r.parent {
        None => match find(envelope) {
            Some(i) => (Loc::Top(i), &top[i].schema),
            None => return Ok(None),
        },
        Some(p) => {
            let pi = index_of(envelope, p).map_err(|_| {
                format!("cannot add {:?}: the envelope has no struct {p:?}", r.field)
            })?;
            match (find(&top[pi].schema), find(envelope)) {
                (Some(i), _) => (Loc::Nested(pi, i), &top[pi].schema.fields()[i].schema),
                (None, Some(i)) => (Loc::Top(i), &top[i].schema),
                (None, None) => return Ok(None),
            }
        }
    };
    if matches!(schema.ty, Type::Struct(_)) {
        return Err(format!(
            "cannot add {:?}: it is a struct (Debezium copies only the basics of its schema \
             and fails on the value)",
            r.field
        ));
    }
    Ok(Some(Resolved {
        name: r.new_name.as_str().into(),
        schema: Arc::new(basics(schema, schema.ty.clone()).optional()),
        loc,
        unset_is_false: r.field == "snapshot"
            && matches!(loc, Loc::Nested(p, _) if top[p].name == "source"),
    }))
}

#[cfg(test)]
mod tests;
