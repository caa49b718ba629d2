//! `io.debezium.transforms.ByLogicalTableRouter` (`by_logical_table_router`): records of
//! several physical tables (shards) routed to one logical topic. The topic is rewritten with
//! `topic_regex`/`topic_replacement` (whole-name match, Java replacement rules); the key
//! gets `key_field_name` (default `__dbz__physicalTableIdentifier`) holding the original
//! topic (or its `key_field_regex`/`key_field_replacement` rewrite) unless
//! `key_enforce_uniqueness = false`; the key, `before`/`after` and envelope schemas are
//! renamed `<new topic>.Key` / `.Value` / `.Envelope` (after `schema_name_adjustment_mode`,
//! default `none`). The `source` block and every value are untouched; a tombstone keeps its
//! value (none) and gets the rewritten key; a topic the regex does not match passes as is.
//!
//! Invariant: output schemas are cached per input schema `Arc` (one key and one envelope
//! schema per input structure), so shards of one structure map to stable output `Arc`s.

use std::collections::HashMap;
use std::sync::Arc;

use super::java_regex::JavaRegex;
use super::names::{Adjuster, Mode, Target};
use super::{Context, Options, Part, Record, SchemaCache, Transform};
use crate::envelope::schema::{Datum, Field, Schema, Type};
use crate::error::{Error, Result};

/// A routed record's new topic and physical table identifier.
type Route = Option<(Arc<str>, Arc<str>)>;

/// The configured router.
#[derive(Debug)]
pub struct LogicalTableRouter {
    topic: JavaRegex,
    enforce_uniqueness: bool,
    key_field_name: String,
    key_field: Option<JavaRegex>,
    names: Adjuster,
    cache_size: usize,
    /// Original topic → (new topic or `None` when not routed, physical table identifier).
    routes: HashMap<Arc<str>, Route>,
    keys: SchemaCache<Arc<Schema>>,
    envelopes: SchemaCache<Option<Arc<Schema>>>,
}

/// Builds the router from its options.
pub fn build(o: &mut Options, _: &Context) -> Result<Box<dyn Transform>> {
    let required = |o: &mut Options, key: &str| -> Result<String> {
        o.string(key)?.ok_or_else(|| {
            o.error(
                key,
                "is required for io.debezium.transforms.ByLogicalTableRouter",
            )
        })
    };
    let topic_regex = required(o, "topic_regex")?;
    let topic_replacement = required(o, "topic_replacement")?;
    let topic =
        JavaRegex::new(&topic_regex, &topic_replacement).map_err(|e| o.error("topic_regex", e))?;
    let enforce_uniqueness = o.bool_or("key_enforce_uniqueness", true)?;
    let key_field_name = o.string_or("key_field_name", "__dbz__physicalTableIdentifier")?;
    let key_regex = o
        .string("key_field_regex")?
        .filter(|r| !r.trim().is_empty());
    let key_replacement = o.string("key_field_replacement")?;
    let key_field = match key_regex {
        None => None,
        Some(r) => {
            let rep = key_replacement
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| {
                    o.error(
                        "key_field_replacement",
                        "must be non-empty if key_field_regex is set",
                    )
                })?;
            // Debezium trims the regex only to test it for emptiness.
            Some(JavaRegex::new(&r, &rep).map_err(|e| o.error("key_field_regex", e))?)
        }
    };
    let mode = Mode::option(o, "schema_name_adjustment_mode")?;
    let cache_size = o.usize_or("logical_table_cache_size", 16)?;
    if cache_size == 0 {
        return Err(o.error("logical_table_cache_size", "must be at least 1"));
    }
    Ok(Box::new(LogicalTableRouter {
        topic,
        enforce_uniqueness,
        key_field_name,
        key_field,
        names: Adjuster::new(mode, Target::SchemaName),
        cache_size,
        routes: HashMap::new(),
        keys: SchemaCache::default(),
        envelopes: SchemaCache::default(),
    }))
}

impl Transform for LogicalTableRouter {
    fn apply(&mut self, mut rec: Record) -> Result<Option<Record>> {
        let Some((new_topic, identifier)) = self.route(&rec.topic) else {
            return Ok(Some(rec));
        };
        if let Some(key) = rec.key.take() {
            rec.key = Some(self.key(key, &new_topic, &identifier)?);
        }
        // Tombstones and records that are not change envelopes keep their value.
        if let Some(value) = rec.value.take() {
            rec.value = Some(match self.envelope_schema(&value.schema, &new_topic)? {
                Some(schema) => Part::new(schema, value.datum),
                None => value,
            });
        }
        rec.topic = new_topic;
        Ok(Some(rec))
    }
}

impl LogicalTableRouter {
    /// The new topic and the physical table identifier of `topic`; `None` when the record
    /// is not routed (no match, or an empty new name: Debezium warns and passes it on).
    fn route(&mut self, topic: &Arc<str>) -> Route {
        if let Some(r) = self.routes.get(topic) {
            return r.clone();
        }
        let routed = match self.topic.replace_if_matches(topic) {
            Some(t) if t.is_empty() => {
                tracing::warn!(topic = %topic, "Routing regex returned an empty topic name, propagating original record");
                None
            }
            Some(t) => {
                let id = self
                    .key_field
                    .as_ref()
                    .and_then(|k| k.replace_if_matches(topic))
                    .map_or_else(|| topic.clone(), Arc::from);
                Some((Arc::from(t), id))
            }
            None => None,
        };
        // Debezium keeps logical_table_cache_size entries (LRU); a plain bounded map is
        // enough here: a miss only recomputes the same answer.
        if self.routes.len() >= self.cache_size.max(64) {
            self.routes.clear();
        }
        self.routes.insert(topic.clone(), routed.clone());
        routed
    }

    /// The key with the renamed schema and, when enforcing uniqueness, the identifier field.
    fn key(&mut self, key: Part, new_topic: &str, identifier: &str) -> Result<Part> {
        let (names, unique, field) = (self.names, self.enforce_uniqueness, &self.key_field_name);
        let schema = self.keys.get_or(&key.schema, |old| {
            let Type::Struct(fields) = &old.ty else {
                return Err(failure(new_topic, "the key is not a struct"));
            };
            let mut fields = fields.clone();
            if unique {
                if fields.iter().any(|f| f.name == *field) {
                    return Err(failure(
                        new_topic,
                        &format!("cannot add key field {field:?}: the key already has a field of that name"),
                    ));
                }
                fields.push(Field::new(field.clone(), Schema::new(Type::String)));
            }
            Ok(Arc::new(renamed(old, fields, names.adjust(&format!("{new_topic}.Key")))))
        })?;
        let datum = match key.datum {
            Datum::Struct(mut values) => {
                if unique {
                    values.push(Datum::Str(identifier.to_string()));
                }
                Datum::Struct(values)
            }
            _ => return Err(failure(new_topic, "the key is not a struct")),
        };
        Ok(Part::new(schema, datum))
    }

    /// The envelope schema with `before`/`after` renamed `<topic>.Value` and itself
    /// `<topic>.Envelope`; `None` for a value that is not a change envelope.
    fn envelope_schema(
        &mut self,
        old: &Arc<Schema>,
        new_topic: &str,
    ) -> Result<Option<Arc<Schema>>> {
        let names = self.names;
        self.envelopes.get_or(old, |old| {
            if !old
                .name
                .as_deref()
                .is_some_and(|n| n.ends_with(".Envelope"))
            {
                return Ok(None);
            }
            let Some(before) = old.fields().iter().find(|f| f.name == "before") else {
                return Err(failure(new_topic, "the envelope has no before field"));
            };
            let row = renamed(
                &before.schema,
                before.schema.fields().to_vec(),
                names.adjust(&format!("{new_topic}.Value")),
            );
            let fields = old
                .fields()
                .iter()
                .map(|f| match f.name.as_str() {
                    "before" | "after" => Field::new(f.name.clone(), row.clone()),
                    _ => f.clone(),
                })
                .collect();
            let envelope = renamed(old, fields, names.adjust(&format!("{new_topic}.Envelope")));
            Ok(Some(Arc::new(envelope)))
        })
    }
}

/// `copySchemaExcludingName` + the new name: version, doc, parameters and optionality
/// copied (no default), `fields` as given.
fn renamed(old: &Schema, fields: Vec<Field>, name: String) -> Schema {
    let mut s = Schema::new(Type::Struct(fields)).with_optional(old.optional);
    s.version = old.version;
    s.doc = old.doc.clone();
    s.parameters = old.parameters.clone();
    s.name = Some(name);
    s
}

fn failure(topic: &str, reason: &str) -> Error {
    Error::Transform {
        transform: "ByLogicalTableRouter",
        topic: topic.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn router(toml_text: &str) -> Result<Box<dyn Transform>> {
        let map: BTreeMap<String, toml::Value> = toml::from_str(toml_text).expect("test TOML");
        let mut o = Options::new(0, "route", &map);
        let t = build(
            &mut o,
            &Context {
                topic_prefix: "p".into(),
            },
        )?;
        o.finish()?;
        Ok(t)
    }

    fn change(table: &str, id: i64) -> Record {
        let key = Schema::strukt(
            format!("p.db.{table}.Key"),
            vec![Field::new("id", Schema::new(Type::Int32))],
        );
        let row = Schema::strukt(
            format!("p.db.{table}.Value"),
            vec![
                Field::new("id", Schema::new(Type::Int32)),
                Field::new("n", Schema::new(Type::String).optional()),
            ],
        )
        .optional();
        let source = Schema::strukt(
            "io.debezium.connector.mysql.Source",
            vec![Field::new("table", Schema::new(Type::String))],
        );
        let env = Schema::strukt(
            format!("p.db.{table}.Envelope"),
            vec![
                Field::new("before", row.clone()),
                Field::new("after", row),
                Field::new("source", source),
                Field::new("op", Schema::new(Type::String)),
            ],
        )
        .version(2);
        let row = Datum::Struct(vec![Datum::Int(id), Datum::str("x")]);
        Record {
            topic: format!("p.db.{table}").into(),
            key: Some(Part::new(
                Arc::new(key),
                Datum::Struct(vec![Datum::Int(id)]),
            )),
            value: Some(Part::new(
                Arc::new(env),
                Datum::Struct(vec![
                    Datum::Null,
                    row,
                    Datum::Struct(vec![Datum::str(table)]),
                    Datum::str("c"),
                ]),
            )),
            headers: vec![],
            timestamp: None,
            partition: None,
        }
    }

    #[test]
    fn merges_shards_with_unique_keys_and_renamed_schemas() {
        let mut t = router(
            r#"topic_regex = '(.*)\.shard_[0-9]+'
                              topic_replacement = "$1.shards""#,
        )
        .unwrap();
        let a = change("shard_1", 1);
        let input = a.clone();
        let out = t.apply(a).unwrap().unwrap();
        assert_eq!(&*out.topic, "p.db.shards");
        let key = out.key.as_ref().unwrap();
        assert_eq!(
            key.schema.to_connect_json().to_string(),
            r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":false,"field":"__dbz__physicalTableIdentifier"}],"optional":false,"name":"p.db.shards.Key"}"#
        );
        assert_eq!(
            key.datum,
            Datum::Struct(vec![Datum::Int(1), Datum::str("p.db.shard_1")])
        );
        let v = out.value.as_ref().unwrap();
        assert_eq!(v.schema.name.as_deref(), Some("p.db.shards.Envelope"));
        assert_eq!(v.schema.version, Some(2));
        for f in &v.schema.fields()[..2] {
            assert_eq!(f.schema.name.as_deref(), Some("p.db.shards.Value"));
            assert!(f.schema.optional);
        }
        // source untouched, values untouched
        assert_eq!(
            v.schema.fields()[2].schema.name.as_deref(),
            Some("io.debezium.connector.mysql.Source")
        );
        assert_eq!(v.datum, input.value.as_ref().unwrap().datum);
        // Same input schema, same output Arc.
        let again = t.apply(input.clone()).unwrap().unwrap();
        assert!(Arc::ptr_eq(
            &again.value.as_ref().unwrap().schema,
            &v.schema
        ));
        assert!(Arc::ptr_eq(
            &again.key.as_ref().unwrap().schema,
            &key.schema
        ));
        // A tombstone keeps no value and gets the new key; other topics pass.
        let mut tomb = change("shard_2", 3);
        tomb.value = None;
        let out = t.apply(tomb).unwrap().unwrap();
        assert_eq!(
            out.key.unwrap().datum,
            Datum::Struct(vec![Datum::Int(3), Datum::str("p.db.shard_2")])
        );
        assert!(out.value.is_none());
        let other = change("customers", 4);
        assert_eq!(t.apply(other.clone()).unwrap().unwrap(), other);
    }

    #[test]
    fn key_field_options_and_name_adjustment() {
        let mut t = router(
            r#"topic_regex = '(.*)\.shard_([0-9]+)'
               topic_replacement = "$1.all-shards"
               key_field_name = "shard"
               key_field_regex = '.*\.shard_([0-9]+)'
               key_field_replacement = "s$1"
               schema_name_adjustment_mode = "avro""#,
        )
        .unwrap();
        let out = t.apply(change("shard_7", 1)).unwrap().unwrap();
        assert_eq!(&*out.topic, "p.db.all-shards");
        let key = out.key.unwrap();
        assert_eq!(key.schema.name.as_deref(), Some("p.db.all_shards.Key"));
        assert_eq!(key.schema.fields()[1].name, "shard");
        assert_eq!(
            key.datum,
            Datum::Struct(vec![Datum::Int(1), Datum::str("s7")])
        );
        assert_eq!(
            out.value.unwrap().schema.name.as_deref(),
            Some("p.db.all_shards.Envelope")
        );

        let mut t = router(
            r#"topic_regex = '(.*)\.shard_[0-9]+'
               topic_replacement = "$1.shards"
               key_enforce_uniqueness = "false""#,
        )
        .unwrap();
        let key = t.apply(change("shard_1", 1)).unwrap().unwrap().key.unwrap();
        assert_eq!(key.schema.fields().len(), 1);
        assert_eq!(key.schema.name.as_deref(), Some("p.db.shards.Key"));
    }

    #[test]
    fn configuration_errors_name_the_option() {
        let e = router(r#"topic_regex = "x""#).unwrap_err().to_string();
        assert!(e.contains("topic_replacement"), "{e}");
        let e = router(
            r#"topic_regex = "x"
                          topic_replacement = "y"
                          key_field_regex = "z""#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("key_field_replacement"), "{e}");
        let e = router(
            r#"topic_regex = "x"
                          topic_replacement = "$2""#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("no group 2"), "{e}");
        assert!(router(
            r#"topic_regex = "x"
                          topic_replacement = "y"
                          bogus = "1""#
        )
        .is_err());
    }
}
