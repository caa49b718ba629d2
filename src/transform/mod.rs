//! Single message transforms: the Kafka Connect transforms Debezium users chain after the
//! connector (`ExtractNewRecordState`, `RegexRouter`, `ByLogicalTableRouter`, the outbox
//! `EventRouter`), built in and applied in configuration order to every change record and
//! its tombstone before serialization.
//!
//! A [`Record`] is what a Kafka Connect `SourceRecord` is: a topic, a key and a value each
//! with its schema, and headers. Transforms read and rewrite it through the schema model of
//! [`crate::envelope::schema`]; encoders serialize the result.
//!
//! Invariant: a transform's output schemas are `Arc`s it caches per input schema (by
//! pointer), so the same input structure always yields the *same* output `Arc` — encoders
//! key their rendered schemas and registry ids by that pointer, and a transform that built a
//! fresh schema per record would defeat every cache downstream.

mod changed;
mod java_regex;
mod logical_router;
pub mod names;
mod options;
mod outbox;
mod outbox_json;
mod predicate;
mod regex_router;
mod unwrap;

pub use unwrap::legacy_delete_mode;

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{PredicateConfig, TransformConfig};
use crate::envelope::schema::{Datum, Schema, Type};
use crate::error::{Error, Result};

pub use options::Options;

/// A key or a value with its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub schema: Arc<Schema>,
    pub datum: Datum,
}

impl Part {
    pub fn new(schema: Arc<Schema>, datum: Datum) -> Self {
        Part { schema, datum }
    }

    /// A struct field's schema and datum by name (`None` when the part is not a struct, has
    /// no such field, or is null).
    pub fn field(&self, name: &str) -> Option<(&Schema, &Datum)> {
        field_of(&self.schema, &self.datum, name)
    }
}

/// A struct field's schema and datum by name.
pub fn field_of<'a>(s: &'a Schema, d: &'a Datum, name: &str) -> Option<(&'a Schema, &'a Datum)> {
    let (Type::Struct(fields), Datum::Struct(values)) = (&s.ty, d) else {
        return None;
    };
    let i = fields.iter().position(|f| f.name == name)?;
    Some((&fields[i].schema, values.get(i)?))
}

/// Debezium's `Envelope.isEnvelopeSchema`: a struct named `….Envelope`.
pub(crate) fn is_envelope(s: &Schema) -> bool {
    s.name.as_deref().is_some_and(|n| n.ends_with(".Envelope"))
}

/// A record header with its schema (serialized by the encoder as Kafka Connect's
/// `SimpleHeaderConverter` does).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordHeader {
    pub key: Arc<str>,
    pub schema: Arc<Schema>,
    pub datum: Datum,
}

/// What the connector hands to the transforms: one Kafka Connect source record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub topic: Arc<str>,
    pub key: Option<Part>,
    /// `None` is a tombstone.
    pub value: Option<Part>,
    pub headers: Vec<RecordHeader>,
    /// The Kafka record timestamp in epoch milliseconds (`None`: the producer's clock), as
    /// a Kafka Connect record's `timestamp()`; set by the outbox router.
    pub timestamp: Option<i64>,
    /// The Kafka partition (`None`: the partitioner picks it from the key), as a Kafka
    /// Connect record's `kafkaPartition()`; set by the outbox router's `partition`
    /// placement.
    pub partition: Option<i32>,
}

impl Record {
    /// Appends a header.
    pub fn header(&mut self, key: &str, schema: Arc<Schema>, datum: Datum) {
        self.headers.push(RecordHeader {
            key: key.into(),
            schema,
            datum,
        });
    }
}

/// One transform: 0 or 1 records out for each record in, as Kafka Connect's.
pub trait Transform: Send + std::fmt::Debug {
    fn apply(&mut self, rec: Record) -> Result<Option<Record>>;
}

/// The configured transforms, in order.
#[derive(Debug, Default)]
pub struct Chain {
    /// Each transform with its condition (`predicate`/`negate`), if any.
    steps: Vec<(Box<dyn Transform>, Option<predicate::Condition>)>,
}

/// What a transform may need besides its options.
#[derive(Debug, Clone)]
pub struct Context {
    /// `sink.topic_prefix`.
    pub topic_prefix: String,
}

/// Builds one transform from its configuration (`index` for messages).
type Builder = fn(&mut Options, &Context) -> Result<Box<dyn Transform>>;

/// The transforms rowtide has, by Kafka Connect class name and by alias.
fn builder(kind: &str) -> Option<Builder> {
    match kind {
        "io.debezium.transforms.ExtractNewRecordState" | "unwrap" | "extract_new_record_state" => {
            Some(unwrap::build)
        }
        "io.debezium.transforms.ExtractChangedRecordState" | "extract_changed_record_state" => {
            Some(changed::build)
        }
        "org.apache.kafka.connect.transforms.RegexRouter" | "regex_router" => {
            Some(regex_router::build)
        }
        "io.debezium.transforms.ByLogicalTableRouter" | "by_logical_table_router" => {
            Some(logical_router::build)
        }
        "io.debezium.transforms.outbox.EventRouter" | "outbox_event_router" => Some(outbox::build),
        _ => None,
    }
}

impl Chain {
    /// Builds the chain with its predicates; an unknown type, option or predicate name is
    /// an [`Error::Config`] naming `transforms[i]` (or `predicates[i]`) and the key.
    pub fn build(
        cfgs: &[TransformConfig],
        predicates: &[PredicateConfig],
        ctx: &Context,
    ) -> Result<Self> {
        let predicates = predicate::build_all(predicates)?;
        let mut steps = Vec::with_capacity(cfgs.len());
        for (i, c) in cfgs.iter().enumerate() {
            let Some(build) = builder(&c.kind) else {
                return Err(Error::Config(format!(
                    "transforms[{i}] ({}): unknown type {:?}; rowtide has \
                     io.debezium.transforms.ExtractNewRecordState (unwrap), \
                     io.debezium.transforms.ExtractChangedRecordState \
                     (extract_changed_record_state), \
                     org.apache.kafka.connect.transforms.RegexRouter (regex_router), \
                     io.debezium.transforms.ByLogicalTableRouter (by_logical_table_router) and \
                     io.debezium.transforms.outbox.EventRouter (outbox_event_router)",
                    c.name, c.kind
                )));
            };
            let mut opts = Options::new(i, &c.name, &c.options);
            let condition = condition(&mut opts, &predicates)?;
            let t = build(&mut opts, ctx)?;
            opts.finish()?;
            steps.push((t, condition));
        }
        Ok(Chain { steps })
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Runs the record through every transform; `None` when one of them drops it.
    pub fn apply(&mut self, rec: Record) -> Result<Option<Record>> {
        let mut rec = rec;
        for (t, condition) in &mut self.steps {
            if condition.as_ref().is_some_and(|c| !c.applies(&rec)) {
                continue;
            }
            match t.apply(rec)? {
                Some(r) => rec = r,
                None => return Ok(None),
            }
        }
        Ok(Some(rec))
    }
}

/// A transform's `predicate` (a `[[predicates]]` name) and `negate`, as Kafka Connect reads
/// them; `negate` without `predicate` is refused (Kafka Connect would ignore it silently).
fn condition(
    opts: &mut Options,
    predicates: &HashMap<String, Arc<predicate::Predicate>>,
) -> Result<Option<predicate::Condition>> {
    let name = opts.string("predicate")?;
    let negate_set = opts.string("negate")?.is_some();
    let negate = opts.bool_or("negate", false)?;
    let Some(name) = name else {
        if negate_set {
            return Err(opts.error(
                "negate",
                "set without predicate: name a [[predicates]] entry in predicate, or remove negate",
            ));
        }
        return Ok(None);
    };
    match predicates.get(&name) {
        Some(p) => Ok(Some(predicate::Condition {
            predicate: p.clone(),
            negate,
        })),
        None => Err(opts.error(
            "predicate",
            format!(
                "no [[predicates]] entry is named {name:?} (defined: {})",
                if predicates.is_empty() {
                    "none".to_string()
                } else {
                    let mut n: Vec<&str> = predicates.keys().map(String::as_str).collect();
                    n.sort_unstable();
                    n.join(", ")
                }
            ),
        )),
    }
}

/// A cache of derived schemas keyed by the input schema's pointer. The input `Arc` is kept
/// alive with its entry, so its address cannot be reused by another schema while cached.
#[derive(Debug)]
pub struct SchemaCache<V> {
    map: HashMap<usize, (Arc<Schema>, V)>,
}

impl<V> Default for SchemaCache<V> {
    fn default() -> Self {
        SchemaCache {
            map: HashMap::new(),
        }
    }
}

impl<V: Clone> SchemaCache<V> {
    /// The cached value for `input`, or `make(input)` stored.
    pub fn get_or(
        &mut self,
        input: &Arc<Schema>,
        make: impl FnOnce(&Schema) -> Result<V>,
    ) -> Result<V> {
        let k = Arc::as_ptr(input) as usize;
        if let Some((_, v)) = self.map.get(&k) {
            return Ok(v.clone());
        }
        let v = make(input)?;
        // Structures change rarely; a runaway cache (schemas built per record upstream) is
        // cut back rather than grown without bound.
        if self.map.len() >= 4096 {
            self.map.clear();
        }
        self.map.insert(k, (input.clone(), v.clone()));
        Ok(v)
    }
}
