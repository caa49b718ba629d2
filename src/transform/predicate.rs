//! Kafka Connect transform predicates (`[[predicates]]`, a transform's `predicate` and
//! `negate`): a transform with a predicate applies only to the records the predicate
//! accepts (rejects, with `negate = true`); the others pass through it unchanged — as Kafka
//! Connect's `TransformationStage` does. The built-ins are Kafka's:
//! `TopicNameMatches` (`pattern`, a regex the whole topic name must match),
//! `HasHeaderKey` (`header_name`, Kafka Connect's `name`: the record has at least one
//! header with that key) and
//! `RecordIsTombstone` (the record has no value).
//!
//! Invariant: predicates see the record as it reaches their transform (topic and headers as
//! rewritten by the transforms before it). Every predicate is built and checked at load,
//! so a bad pattern or an unknown option is a configuration error naming
//! `predicates[i].key`.

use std::collections::HashMap;
use std::sync::Arc;

use regex::Regex;

use super::{Options, Record};
use crate::config::PredicateConfig;
use crate::error::{Error, Result};

/// One configured predicate.
#[derive(Debug)]
pub enum Predicate {
    TopicNameMatches(Regex),
    HasHeaderKey(String),
    RecordIsTombstone,
}

impl Predicate {
    pub fn test(&self, rec: &Record) -> bool {
        match self {
            Predicate::TopicNameMatches(re) => re.is_match(&rec.topic),
            Predicate::HasHeaderKey(name) => rec.headers.iter().any(|h| &*h.key == name),
            Predicate::RecordIsTombstone => rec.value.is_none(),
        }
    }

    fn build(kind: &str, opts: &mut Options) -> Option<Result<Predicate>> {
        Some(match kind {
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches"
            | "topic_name_matches" => topic_name_matches(opts),
            "org.apache.kafka.connect.transforms.predicates.HasHeaderKey" | "has_header_key" => {
                // Kafka Connect's `name`, which is the entry's own name here.
                match opts.string("header_name") {
                    Ok(Some(n)) if !n.is_empty() => Ok(Predicate::HasHeaderKey(n)),
                    Ok(_) => Err(opts.error(
                        "header_name",
                        "required: the header key to look for (Kafka Connect's `name`)",
                    )),
                    Err(e) => Err(e),
                }
            }
            "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone"
            | "record_is_tombstone" => Ok(Predicate::RecordIsTombstone),
            _ => return None,
        })
    }
}

fn topic_name_matches(opts: &mut Options) -> Result<Predicate> {
    let Some(p) = opts.string("pattern")?.filter(|p| !p.is_empty()) else {
        return Err(opts.error(
            "pattern",
            "required: a regex the whole topic name must match",
        ));
    };
    Regex::new(&format!(r"\A(?:{p})\z"))
        .map(Predicate::TopicNameMatches)
        .map_err(|e| opts.error("pattern", format!("{p:?} is not a valid regex: {e}")))
}

/// Builds every `[[predicates]]` entry, by name; duplicate names and unknown types or
/// options are configuration errors.
pub fn build_all(cfgs: &[PredicateConfig]) -> Result<HashMap<String, Arc<Predicate>>> {
    let mut out = HashMap::new();
    for (i, c) in cfgs.iter().enumerate() {
        let mut opts = Options::for_predicate(i, &c.name, &c.options);
        let Some(p) = Predicate::build(c.kind.trim(), &mut opts) else {
            return Err(Error::Config(format!(
                "predicates[{i}] ({}): type: unknown type {:?}; rowtide has Kafka Connect's \
                 org.apache.kafka.connect.transforms.predicates.TopicNameMatches \
                 (topic_name_matches), HasHeaderKey (has_header_key) and RecordIsTombstone \
                 (record_is_tombstone)",
                c.name, c.kind
            )));
        };
        let p = p?;
        opts.finish()?;
        if c.name.trim().is_empty() {
            return Err(Error::Config(format!(
                "predicates[{i}]: name: required (the name transforms refer to in predicate = …)"
            )));
        }
        if out.insert(c.name.clone(), Arc::new(p)).is_some() {
            return Err(Error::Config(format!(
                "predicates[{i}] ({}): name: another [[predicates]] entry has this name",
                c.name
            )));
        }
    }
    Ok(out)
}

/// A transform's condition: its predicate, and whether it is negated.
#[derive(Debug, Clone)]
pub struct Condition {
    pub predicate: Arc<Predicate>,
    pub negate: bool,
}

impl Condition {
    /// True when the transform applies to `rec`.
    pub fn applies(&self, rec: &Record) -> bool {
        self.predicate.test(rec) != self.negate
    }
}

#[cfg(test)]
mod tests;
