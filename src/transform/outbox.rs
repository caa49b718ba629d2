//! `io.debezium.transforms.outbox.EventRouter` (`outbox_event_router`): the outbox pattern.
//! Each insert (or snapshot read) of the outbox table becomes one event: topic =
//! `route_topic_replacement` applied to the `route_by_field` column (default
//! `outbox.event.${routedByValue}` from `aggregatetype`), key = the `table_field_event_key`
//! column with its own schema (default `aggregateid`), value = the `table_field_event_payload`
//! column (default `payload`) — or a struct `{payload, <envelope fields>}` named
//! `<…outbox>.<routed value>.Value` when `table_fields_additional_placement` puts columns in
//! the envelope — and a header `id` with the `table_field_event_id` column. With
//! `table_expand_json_payload` a JSON text payload becomes a struct (see `outbox_json`).
//!
//! As in Debezium: tombstones and deletes are dropped; an update is dropped with a warning
//! or an error log, or fails the pipeline (`table_op_invalid_behavior` = warn/error/fatal);
//! records that are not change envelopes pass unchanged; a change record of another table
//! (no payload column) is an error — restrict the connector's tables to the outbox table,
//! or give the transform a predicate (`TopicNameMatches`).
//!
//! The Kafka record timestamp is the `table_field_event_timestamp` column (a DATETIME:
//! `io.debezium.time.Timestamp`/`MicroTimestamp`/`NanoTimestamp`, in milliseconds), else
//! the envelope's `ts_ms`, as Debezium's; the `partition` placement sets the Kafka
//! partition from an INT32 column.
//!
//! Invariant: every output schema is an `Arc` cached by its input (per outbox envelope
//! schema, per payload shape), so equal payload shapes share one value schema `Arc`.

use std::collections::HashMap;
use std::sync::Arc;

use super::java_regex::JavaRegex;
use super::names::{Adjuster, Mode, Target};
use super::outbox_json::{java_trim, Expansion, JsonExpander, Shapes};
use super::{field_of, Context, Options, Part, Record, SchemaCache, Transform};
use crate::envelope::schema::{Datum, Field, Schema, Type};
use crate::error::{Error, Result};

/// Where `table_fields_additional_placement` puts a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    Header,
    Envelope,
    /// The Kafka partition (an INT32 column).
    Partition,
}

#[derive(Debug, Clone)]
struct Additional {
    field: String,
    placement: Placement,
    alias: String,
}

/// `table_op_invalid_behavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvalidOp {
    Warn,
    Error,
    Fatal,
}

/// The configured router.
#[derive(Debug)]
pub struct EventRouter {
    id: String,
    key: String,
    payload: String,
    route_by: String,
    version_field: Option<String>,
    /// `table_field_event_timestamp`: the column the Kafka record timestamp comes from
    /// (else the envelope's `ts_ms`).
    timestamp_field: Option<String>,
    additional: Vec<Additional>,
    error_on_missing: bool,
    /// No column goes to the envelope: the value is the payload itself.
    only_headers: bool,
    route: JavaRegex,
    tombstone_on_empty: bool,
    invalid_op: InvalidOp,
    expander: Option<JsonExpander>,
    layouts: SchemaCache<Arc<Layout>>,
    payload_shapes: Shapes,
    /// Value schemas by (interned) payload schema — Debezium's `payloadSchemaCache`, which
    /// keeps the name built for the first routed value of a payload shape.
    values: SchemaCache<Arc<Schema>>,
    /// Value schemas by `table_field_event_schema_version` value (whatever the payload).
    versioned: HashMap<Option<i64>, Arc<Schema>>,
}

/// Where the outbox columns are in one envelope schema.
#[derive(Debug)]
struct Layout {
    /// The `after` row schema (its name and column schemas).
    row: Schema,
    id: Option<Arc<Schema>>,
    key: Option<Arc<Schema>>,
    payload: Option<Arc<Schema>>,
    /// Schemas of the additional columns, in configuration order.
    extras: Vec<Option<Arc<Schema>>>,
}

/// Builds the router from its options.
pub fn build(o: &mut Options, _: &Context) -> Result<Box<dyn Transform>> {
    let id = o.string_or("table_field_event_id", "id")?;
    let key = o.string_or("table_field_event_key", "aggregateid")?;
    let payload = o.string_or("table_field_event_payload", "payload")?;
    // Accepted (Debezium validates it) and unused, as in Debezium.
    let _event_type = o.string_or("table_field_event_type", "type")?;
    let timestamp_field = o.string("table_field_event_timestamp")?;
    let version_field = o.string("table_field_event_schema_version")?;
    let additional = additional_fields(o)?;
    let error_on_missing = o.bool_or("table_fields_additional_error_on_missing", true)?;
    let route_by = o.string_or("route_by_field", "aggregatetype")?;
    let regex = o.string_or("route_topic_regex", "(?<routedByValue>.*)")?;
    let replacement = o.string_or("route_topic_replacement", "outbox.event.${routedByValue}")?;
    let route =
        JavaRegex::new(&regex, &replacement).map_err(|e| o.error("route_topic_regex", e))?;
    let tombstone_on_empty = o.bool_or("route_tombstone_on_empty_payload", false)?;
    let invalid_op = match o
        .string_or("table_op_invalid_behavior", "warn")?
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "warn" => InvalidOp::Warn,
        "error" => InvalidOp::Error,
        "fatal" => InvalidOp::Fatal,
        other => {
            return Err(o.error(
                "table_op_invalid_behavior",
                format!("{other:?} is not one of warn, error, fatal"),
            ))
        }
    };
    let null_as_bytes = match o
        .string_or("table_json_payload_null_behavior", "ignore")?
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "ignore" => false,
        "optional_bytes" => true,
        other => {
            return Err(o.error(
                "table_json_payload_null_behavior",
                format!("{other:?} is not one of ignore, optional_bytes"),
            ))
        }
    };
    let field_names = Mode::option(o, "field_name_adjustment_mode")?;
    let expander = o
        .bool_or("table_expand_json_payload", false)?
        .then(|| JsonExpander::new(null_as_bytes, Adjuster::new(field_names, Target::FieldName)));
    let only_headers = !additional
        .iter()
        .any(|a| a.placement == Placement::Envelope);
    Ok(Box::new(EventRouter {
        id,
        key,
        payload,
        route_by,
        version_field,
        timestamp_field,
        additional,
        error_on_missing,
        only_headers,
        route,
        tombstone_on_empty,
        invalid_op,
        expander,
        layouts: SchemaCache::default(),
        payload_shapes: Shapes::default(),
        values: SchemaCache::default(),
        versioned: HashMap::new(),
    }))
}

/// `table_fields_additional_placement`: `column:placement[:alias]`, comma-separated.
fn additional_fields(o: &mut Options) -> Result<Vec<Additional>> {
    const KEY: &str = "table_fields_additional_placement";
    let Some(text) = o.string(KEY)? else {
        return Ok(vec![]);
    };
    let mut out = Vec::new();
    for item in text.split(',').filter(|i| !i.is_empty()) {
        let parts: Vec<&str> = item.split(':').collect();
        if parts.len() != 2 && parts.len() != 3 {
            return Err(o.error(
                KEY,
                format!("{item:?} is not column:placement or column:placement:alias"),
            ));
        }
        let placement = match parts[1].trim().to_ascii_lowercase().as_str() {
            "header" => Placement::Header,
            "envelope" => Placement::Envelope,
            "partition" => Placement::Partition,
            other => {
                return Err(o.error(
                    KEY,
                    format!("{other:?} is not header, envelope or partition"),
                ))
            }
        };
        let field = parts[0].trim().to_string();
        let alias = parts.get(2).map_or(field.clone(), |a| a.trim().to_string());
        out.push(Additional {
            field,
            placement,
            alias,
        });
    }
    Ok(out)
}

impl Transform for EventRouter {
    fn apply(&mut self, rec: Record) -> Result<Option<Record>> {
        let Some(value) = &rec.value else {
            return Ok(None);
        };
        if !value
            .schema
            .name
            .as_deref()
            .is_some_and(|n| n.ends_with(".Envelope"))
        {
            return Ok(Some(rec));
        }
        match field_of(&value.schema, &value.datum, "op").map(|(_, d)| d) {
            Some(Datum::Str(op)) if op == "d" => return Ok(None),
            Some(Datum::Str(op)) if op == "u" => {
                return self.unexpected_update(&rec).map(|()| None)
            }
            _ => {}
        }
        let layout = self.layout(&value.schema, &rec.topic)?;
        let row = match field_of(&value.schema, &value.datum, "after") {
            Some((_, Datum::Struct(row))) => row.clone(),
            _ => {
                return Err(failure(
                    &rec.topic,
                    "Only Struct objects supported for [Read Outbox Event], found: null",
                ))
            }
        };
        let ts_ms = match field_of(&value.schema, &value.datum, "ts_ms") {
            Some((_, Datum::Int(t))) => Some(*t),
            _ => None,
        };
        self.event(rec, &layout, &row, ts_ms).map(Some)
    }
}

impl EventRouter {
    fn timestamp<'a>(
        &self,
        layout: &Layout,
        get: impl Fn(&str) -> Option<&'a Datum>,
        ts_ms: Option<i64>,
        topic: &str,
    ) -> Result<Option<i64>> {
        event_timestamp(self.timestamp_field.as_deref(), layout, get, ts_ms, topic)
    }

    fn unexpected_update(&self, rec: &Record) -> Result<()> {
        match self.invalid_op {
            InvalidOp::Warn => {
                tracing::warn!(topic = %rec.topic, "Unexpected update message received and ignored")
            }
            InvalidOp::Error => {
                tracing::error!(topic = %rec.topic, "Unexpected update message received and ignored")
            }
            InvalidOp::Fatal => {
                return Err(failure(
                    &rec.topic,
                    "Unexpected update message received, fail.",
                ))
            }
        }
        Ok(())
    }

    /// The outbox columns of envelope schema `s` (cached per schema).
    fn layout(&mut self, s: &Arc<Schema>, topic: &str) -> Result<Arc<Layout>> {
        let (id, key, payload, extras) = (&self.id, &self.key, &self.payload, &self.additional);
        let shapes = &mut self.payload_shapes;
        self.layouts.get_or(s, |s| {
            let Some(after) = s.fields().iter().find(|f| f.name == "after") else {
                return Err(failure(topic, "the envelope has no after field"));
            };
            let row = after.schema.clone();
            let col = |name: &str| {
                row.fields()
                    .iter()
                    .find(|f| f.name == name)
                    .map(|f| Arc::new(f.schema.clone()))
            };
            Ok(Arc::new(Layout {
                id: col(id),
                key: col(key),
                payload: row
                    .fields()
                    .iter()
                    .find(|f| f.name == *payload)
                    .map(|f| shapes.intern(f.schema.clone())),
                extras: extras.iter().map(|a| col(&a.field)).collect(),
                row,
            }))
        })
    }

    /// The event of one outbox row (`row`: the `after` values, in `layout.row` order).
    fn event(
        &mut self,
        rec: Record,
        layout: &Layout,
        row: &[Datum],
        ts_ms: Option<i64>,
    ) -> Result<Record> {
        let topic = rec.topic.clone();
        let get = |name: &str| -> Option<&Datum> {
            let i = layout.row.fields().iter().position(|f| f.name == name)?;
            row.get(i)
        };
        let Some(mut payload_schema) = layout.payload.clone() else {
            return Err(failure(
                &topic,
                &format!("Unable to find payload field {} in event", self.payload),
            ));
        };
        let mut payload = get(&self.payload).cloned().unwrap_or(Datum::Null);
        let (Some(id_schema), Some(id)) = (layout.id.clone(), get(&self.id)) else {
            return Err(failure(
                &topic,
                &format!("Unable to find event-id field {} in event", self.id),
            ));
        };
        let mut headers = rec.headers;
        headers.push(super::RecordHeader {
            key: "id".into(),
            schema: id_schema,
            datum: id.clone(),
        });
        if let Some(x) = self.expander.as_mut() {
            match &payload {
                Datum::Str(text) => match x
                    .expand(&self.payload, text)
                    .map_err(|e| failure(&topic, &e))?
                {
                    Expansion::Expanded(s, d) => (payload_schema, payload) = (s, d),
                    Expansion::Kept(reason) => {
                        tracing::warn!(topic = %topic, reason, "JSON expansion failed")
                    }
                },
                _ => {
                    tracing::warn!(topic = %topic, "Expand JSON payload is turned on but payload is not a string")
                }
            }
        }
        let routed = match get(&self.route_by) {
            Some(Datum::Str(v)) => v.clone(),
            _ => {
                return Err(failure(
                    &topic,
                    &format!(
                        "the route field {} is missing, null or not a string",
                        self.route_by
                    ),
                ))
            }
        };
        let timestamp = self.timestamp(layout, get, ts_ms, &topic)?;
        let mut partition = None;
        let mut envelope = vec![payload.clone()];
        for (a, schema) in self.additional.iter().zip(&layout.extras) {
            let (Some(schema), Some(d)) = (schema, get(&a.field)) else {
                if self.error_on_missing || a.placement == Placement::Envelope {
                    return Err(failure(
                        &topic,
                        &format!("{} is not a valid field name", a.field),
                    ));
                }
                continue;
            };
            match a.placement {
                Placement::Envelope => envelope.push(d.clone()),
                Placement::Header => headers.push(super::RecordHeader {
                    key: a.alias.as_str().into(),
                    schema: schema.clone(),
                    datum: d.clone(),
                }),
                Placement::Partition => partition = partition_of(&a.field, schema, d, &topic)?,
            }
        }
        let is_delete = match &payload {
            Datum::Null => true,
            Datum::Str(s) => java_trim(s).is_empty(),
            _ => false,
        };
        let value = if is_delete && self.tombstone_on_empty {
            None
        } else if self.only_headers {
            Some(Part::new(payload_schema, payload))
        } else {
            let schema = self.value_schema(layout, &payload_schema, &routed, get, &topic)?;
            Some(Part::new(schema, Datum::Struct(envelope)))
        };
        let key = match (&layout.key, get(&self.key)) {
            (Some(s), Some(d)) => Part::new(s.clone(), d.clone()),
            _ => {
                return Err(failure(
                    &topic,
                    &format!("{} is not a valid field name", self.key),
                ))
            }
        };
        let topic = self.route.replace_if_matches(&routed).unwrap_or(routed);
        Ok(Record {
            topic: topic.into(),
            key: Some(key),
            value,
            headers,
            timestamp,
            partition,
        })
    }

    /// The value struct's schema: `payload`, then the envelope columns.
    fn value_schema<'a>(
        &mut self,
        layout: &Layout,
        payload: &Arc<Schema>,
        routed: &str,
        get: impl Fn(&str) -> Option<&'a Datum>,
        topic: &str,
    ) -> Result<Arc<Schema>> {
        let build = |version: Option<i32>| -> Result<Schema> {
            let mut fields = vec![Field::new("payload", payload.as_ref().clone())];
            for (a, s) in self.additional.iter().zip(&layout.extras) {
                if a.placement != Placement::Envelope {
                    continue;
                }
                let Some(s) = s else {
                    return Err(failure(
                        topic,
                        &format!("{} is not a valid field name", a.field),
                    ));
                };
                if fields.iter().any(|f| f.name == a.alias) {
                    return Err(failure(
                        topic,
                        &format!("cannot create field {:?} twice in the event value", a.alias),
                    ));
                }
                fields.push(Field::new(a.alias.clone(), s.as_ref().clone()));
            }
            let mut s = Schema::new(Type::Struct(fields))
                .named(value_name(layout.row.name.as_deref(), routed));
            s.version = version;
            Ok(s)
        };
        let Some(field) = &self.version_field else {
            return self.values.get_or(payload, |_| build(None).map(Arc::new));
        };
        let version = match (
            layout.row.fields().iter().find(|f| f.name == *field),
            get(field),
        ) {
            (Some(f), Some(Datum::Int(v))) if f.schema.ty == Type::Int32 => Some(*v),
            (Some(f), Some(Datum::Null)) if f.schema.ty == Type::Int32 => None,
            _ => {
                return Err(failure(
                    topic,
                    &format!("the schema version field {field} is missing or not an INT32"),
                ))
            }
        };
        if let Some(s) = self.versioned.get(&version) {
            return Ok(s.clone());
        }
        let s = Arc::new(build(version.and_then(|v| i32::try_from(v).ok()))?);
        self.versioned.insert(version, s.clone());
        Ok(s)
    }
}

/// Debezium's `getEventTimestampMs`: the `table_field_event_timestamp` column in epoch
/// milliseconds (`io.debezium.time.Timestamp`, `MicroTimestamp` or `NanoTimestamp`), the
/// envelope's `ts_ms` when the column is null or no column is configured.
fn event_timestamp<'a>(
    field: Option<&str>,
    layout: &Layout,
    get: impl Fn(&str) -> Option<&'a Datum>,
    ts_ms: Option<i64>,
    topic: &str,
) -> Result<Option<i64>> {
    let Some(field) = field else {
        return Ok(ts_ms);
    };
    let Some(col) = layout.row.fields().iter().find(|f| f.name == field) else {
        return Err(failure(
            topic,
            &format!("Unable to find timestamp field {field} in event"),
        ));
    };
    if col.schema.ty != Type::Int64 {
        return Err(failure(
            topic,
            &format!(
                "the timestamp field {field} is not of type INT64 (use a DATETIME column, \
                 which Debezium writes as io.debezium.time.Timestamp or MicroTimestamp)"
            ),
        ));
    }
    let t = match get(field) {
        Some(Datum::Int(t)) => *t,
        _ => return Ok(ts_ms),
    };
    match col.schema.name.as_deref() {
        Some("io.debezium.time.Timestamp") => Ok(Some(t)),
        Some("io.debezium.time.MicroTimestamp") => Ok(Some(t / 1_000)),
        Some("io.debezium.time.NanoTimestamp") => Ok(Some(t / 1_000_000)),
        Some(other) => Err(failure(
            topic,
            &format!("Unsupported field type {other} for event timestamp"),
        )),
        None => Err(failure(
            topic,
            "Unsupported field type INT64 (without logical schema name) for event timestamp",
        )),
    }
}

/// The `partition` placement: the column as Kafka Connect's `Struct.getInt32` reads it (an
/// INT32 column; null leaves the choice to the partitioner).
fn partition_of(field: &str, schema: &Schema, d: &Datum, topic: &str) -> Result<Option<i32>> {
    if schema.ty != Type::Int32 {
        return Err(failure(
            topic,
            &format!(
                "the partition field {field} is not of type INT32 (use an INT column; \
                 Debezium reads it with getInt32)"
            ),
        ));
    }
    match d {
        Datum::Int(p) => i32::try_from(*p).map(Some).map_err(|_| {
            failure(
                topic,
                &format!("the partition field {field} holds {p}, not an INT32"),
            )
        }),
        _ => Ok(None),
    }
}

/// `getSchemaName`: the row schema's name with the routed value inserted before its last
/// part (`p.db.outbox.Value` → `p.db.outbox.Order.Value`).
fn value_name(row: Option<&str>, routed: &str) -> String {
    match row {
        None => routed.to_string(),
        Some(n) => match n.rfind('.') {
            Some(dot) => format!("{}{routed}.{}", &n[..=dot], &n[dot + 1..]),
            None => format!("{routed}.{n}"),
        },
    }
}

fn failure(topic: &str, reason: &str) -> Error {
    Error::Transform {
        transform: "outbox EventRouter",
        topic: topic.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests;
