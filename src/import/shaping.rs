//! The connector properties that shape events — column filters, masks, hashes,
//! truncation, source-type propagation, message keys, skipped operations, failure handling
//! (`[events]`) — and Debezium's heartbeat records (`[heartbeat]`); the single message
//! transforms and their predicates are in `transforms`.
//!
//! Invariant: the keys written are those of `config::shaping` (the Debezium property name
//! with `.`/`-` → `_`).

use toml::Value;

use super::ctx::{
    bad_regex, boolean, integer, one_of, plain_list, regex_list, str_array, string, Conv, Ctx,
    Origin, Val,
};
use super::plan::{Class, Item};
use crate::config::shaping::HASH_ALGORITHMS;

const C: Origin = Origin::Connector;

pub fn map_shaping(ctx: &mut Ctx) {
    column_lists(ctx);
    column_rules(ctx);
    events_misc(ctx);
    heartbeat(ctx);
    super::transforms::transforms(ctx);
}

/// A regex list property → `section.key` (regexes rowtide refuses drop it as unsupported).
fn regex_key(ctx: &mut Ctx, prop: &str, key: &str) {
    ctx.map_scalar(C, prop, "events", key, |v| {
        let list = regex_list(v);
        match bad_regex(&list) {
            Some(why) => Conv::Unsupported(why),
            None => Conv::Set(str_array(&list)),
        }
    });
}

fn column_lists(ctx: &mut Ctx) {
    if ctx.has(C, "column.include.list") && ctx.has(C, "column.exclude.list") {
        ctx.errors.push(
            "column.include.list and column.exclude.list are both set; Debezium refuses that (keep one)".into(),
        );
    }
    regex_key(ctx, "column.include.list", "column_include");
    regex_key(ctx, "column.exclude.list", "column_exclude");
    regex_key(
        ctx,
        "column.propagate.source.type",
        "column_propagate_source_type",
    );
    regex_key(
        ctx,
        "datatype.propagate.source.type",
        "datatype_propagate_source_type",
    );
    ctx.map_scalar(
        C,
        "message.key.columns",
        "events",
        "message_key_columns",
        |v| {
            if v.trim().is_empty() {
                Conv::Invalid("must not be empty".into())
            } else {
                string(v)
            }
        },
    );
}

/// One `column.mask.with.N.chars` / `column.truncate.to.N.chars` /
/// `column.mask.hash[.v2].ALG.with.salt.SALT` property, parsed from its name.
enum Rule {
    Mask(usize),
    Truncate(usize),
    Hash {
        algorithm: String,
        salt: String,
        v2: bool,
    },
}

fn parse_rule(name: &str) -> Option<Rule> {
    let count = |s: &str| s.parse::<usize>().ok();
    if let Some(n) = name
        .strip_prefix("column.mask.with.")
        .and_then(|r| r.strip_suffix(".chars"))
    {
        return count(n).map(Rule::Mask);
    }
    if let Some(n) = name
        .strip_prefix("column.truncate.to.")
        .and_then(|r| r.strip_suffix(".chars"))
    {
        return count(n).map(Rule::Truncate);
    }
    let rest = name.strip_prefix("column.mask.hash.")?;
    let (v2, rest) = match rest.strip_prefix("v2.") {
        Some(r) if r.contains(".with.salt.") => (true, r),
        _ => (false, rest),
    };
    let (algorithm, salt) = rest.split_once(".with.salt.")?;
    if algorithm.is_empty() || algorithm.contains('.') || salt.is_empty() {
        return None;
    }
    Some(Rule::Hash {
        algorithm: algorithm.to_string(),
        salt: salt.to_string(),
        v2,
    })
}

fn column_rules(ctx: &mut Ctx) {
    let names: Vec<String> = ["column.mask.", "column.truncate."]
        .iter()
        .flat_map(|p| ctx.names_with_prefix(C, p))
        .collect();
    for name in names {
        if name == "column.mask.hash.hashing.strategy.version" {
            ctx.drop_prop(
                C,
                &name,
                Class::NotNeeded,
                "Debezium 3.5 does not read it: hashing strategy v2 is chosen by naming the \
                 property column.mask.hash.v2.<algorithm>.with.salt.<salt>",
            );
            continue;
        }
        let Some(rule) = parse_rule(&name) else {
            continue; // left to the final classification (unknown property)
        };
        let columns = match ctx.take(C, &name) {
            Some(Val::Ok(v)) => regex_list(&v),
            Some(Val::Unresolved(u)) => {
                let why = format!(
                    "its value {} cannot be resolved here ({})",
                    u.reference, u.why
                );
                ctx.drop_prop(C, &name, Class::Unsupported, why);
                continue;
            }
            None => continue,
        };
        if let Some(why) = bad_regex(&columns) {
            ctx.drop_prop(C, &name, Class::Unsupported, why);
            continue;
        }
        let cols = ("columns".to_string(), str_array(&columns), None);
        let int = |n: usize| Value::Integer(i64::try_from(n).unwrap_or(i64::MAX));
        let item = match rule {
            Rule::Mask(0) => {
                ctx.drop_prop(
                    C,
                    &name,
                    Class::Unsupported,
                    "a mask of 0 characters: rowtide masks with at least 1",
                );
                continue;
            }
            Rule::Mask(n) => (
                "events.column_mask",
                vec![("chars".into(), int(n), None), cols],
            ),
            Rule::Truncate(n) => (
                "events.column_truncate",
                vec![("chars".into(), int(n), None), cols],
            ),
            Rule::Hash {
                algorithm,
                salt,
                v2,
            } => {
                if !HASH_ALGORITHMS.contains(&algorithm.to_ascii_uppercase().as_str()) {
                    ctx.drop_prop(
                        C,
                        &name,
                        Class::Unsupported,
                        format!(
                            "rowtide has no digest {algorithm:?} (it has {})",
                            HASH_ALGORITHMS.join(", ")
                        ),
                    );
                    continue;
                }
                let version = if v2 { "v2" } else { "v1" };
                (
                    "events.column_mask_hash",
                    vec![
                        ("algorithm".into(), Value::String(algorithm), None),
                        ("salt".into(), Value::String(salt), None),
                        ("version".into(), Value::String(version.into()), None),
                        cols,
                    ],
                )
            }
        };
        ctx.plan.items.push(Item {
            array: item.0,
            from: name.clone(),
            fields: item.1,
        });
    }
}

fn events_misc(ctx: &mut Ctx) {
    ctx.map_scalar(
        C,
        "skipped.operations",
        "events",
        "skipped_operations",
        |v| {
            let ops: Vec<String> = plain_list(v)
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect();
            match ops
                .iter()
                .find(|o| !["c", "u", "d", "t", "none"].contains(&o.as_str()))
            {
                Some(o) => Conv::Invalid(format!("{o:?} is not an operation (c, u, d, t or none)")),
                None if ops.is_empty() => Conv::Invalid("expected c, u, d, t or none".into()),
                None => Conv::Set(str_array(&ops)),
            }
        },
    );
    let failure = |v: &str| {
        one_of(
            v,
            &[
                ("fail", "fail"),
                ("warn", "warn"),
                ("skip", "skip"),
                ("ignore", "skip"),
            ],
            &[],
        )
    };
    let main = "event.processing.failure.handling.mode";
    let legacy = "event.deserialization.failure.handling.mode";
    ctx.map_scalar(C, main, "events", "failure_handling_mode", failure);
    if ctx.has(C, legacy) {
        if ctx.has(C, main) {
            ctx.drop_prop(
                C,
                legacy,
                Class::NotNeeded,
                format!("{main} is set and replaces it"),
            );
        } else {
            ctx.map_scalar(C, legacy, "events", "failure_handling_mode", failure);
        }
    }
}

fn heartbeat(ctx: &mut Ctx) {
    ctx.map_scalar(
        C,
        "extended.headers.enabled",
        "events",
        "extended_headers_enabled",
        boolean,
    );
    ctx.map_scalar(
        C,
        "heartbeat.interval.ms",
        "heartbeat",
        "interval_ms",
        |v| integer(v, i64::MAX),
    );
    ctx.map_scalar(
        C,
        "topic.heartbeat.prefix",
        "heartbeat",
        "topics_prefix",
        |v| {
            if !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            {
                string(v)
            } else {
                Conv::Invalid("a topic name uses only letters, digits, '.', '_' and '-'".into())
            }
        },
    );
    if ctx.has(C, "heartbeat.topics.prefix") {
        ctx.drop_prop(
            C,
            "heartbeat.topics.prefix",
            Class::NotNeeded,
            "Debezium 3.5's MariaDB/MySQL connectors name the heartbeat topic \
             <topic.heartbeat.prefix>.<topic.prefix> and do not read this older property \
             (set topic.heartbeat.prefix, i.e. heartbeat.topics_prefix, to move the topic)",
        );
    }
    ctx.map_scalar(
        C,
        "heartbeat.action.query",
        "heartbeat",
        "action_query",
        string,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names() {
        assert!(matches!(
            parse_rule("column.mask.with.12.chars"),
            Some(Rule::Mask(12))
        ));
        assert!(matches!(
            parse_rule("column.truncate.to.20.chars"),
            Some(Rule::Truncate(20))
        ));
        match parse_rule("column.mask.hash.SHA-256.with.salt.CzQMA0cB5K") {
            Some(Rule::Hash {
                algorithm,
                salt,
                v2,
            }) => {
                assert_eq!(
                    (algorithm.as_str(), salt.as_str(), v2),
                    ("SHA-256", "CzQMA0cB5K", false)
                );
            }
            _ => panic!("hash rule"),
        }
        match parse_rule("column.mask.hash.v2.MD5.with.salt.a.b") {
            Some(Rule::Hash {
                algorithm,
                salt,
                v2,
            }) => {
                assert_eq!(
                    (algorithm.as_str(), salt.as_str(), v2),
                    ("MD5", "a.b", true)
                );
            }
            _ => panic!("v2 hash rule"),
        }
        assert!(parse_rule("column.mask.with.x.chars").is_none());
        assert!(parse_rule("column.mask.hash.hashing.strategy.version").is_none());
    }
}
