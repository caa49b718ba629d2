//! The single message transforms (`transforms=…` → `[[transforms]]`, in order) and their
//! predicates (`predicates=…` → `[[predicates]]`; a transform's `predicate` / `negate` carry
//! over as its `predicate` / `negate` keys).
//!
//! Invariant: only what loads is written. Transforms and predicates rowtide does not have
//! are dropped as unsupported; a transform whose predicate is not carried over is carried
//! over without its condition, and says so. `ExtractNewRecordState`'s Debezium 2.x
//! `drop.tombstones` / `delete.handling.mode` (removed in 3.2) become the
//! `delete_tombstone_handling_mode` that does the same, or are reported when none does.

use std::collections::BTreeSet;

use toml::Value;

use super::ctx::{bad_regex, plain_list, Ctx, Origin, Val};
use super::plan::{Class, Item};

const C: Origin = Origin::Connector;

/// The transform types rowtide has (class names and the aliases `[[transforms]]` accepts).
const TRANSFORMS: &[&str] = &[
    "io.debezium.transforms.ExtractNewRecordState",
    "io.debezium.transforms.ExtractChangedRecordState",
    "org.apache.kafka.connect.transforms.RegexRouter",
    "io.debezium.transforms.ByLogicalTableRouter",
    "io.debezium.transforms.outbox.EventRouter",
    "unwrap",
    "extract_new_record_state",
    "extract_changed_record_state",
    "regex_router",
    "by_logical_table_router",
    "outbox_event_router",
];

const UNWRAP: &[&str] = &[
    "io.debezium.transforms.ExtractNewRecordState",
    "unwrap",
    "extract_new_record_state",
];

/// The predicate types rowtide has.
const PREDICATES: &[&str] = &[
    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
    "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
    "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
    "topic_name_matches",
    "has_header_key",
    "record_is_tombstone",
];

/// A comma-separated list property, consumed (an unresolvable one is dropped).
fn name_list(ctx: &mut Ctx, prop: &str) -> Vec<String> {
    match ctx.take(C, prop) {
        Some(Val::Ok(v)) => plain_list(&v),
        Some(Val::Unresolved(u)) => {
            let why = format!(
                "its value {} cannot be resolved here ({})",
                u.reference, u.why
            );
            ctx.drop_prop(C, prop, Class::Unsupported, why);
            vec![]
        }
        None => vec![],
    }
}

pub fn transforms(ctx: &mut Ctx) {
    let carried = predicates(ctx);
    let names = name_list(ctx, "transforms");
    for name in &names {
        transform(ctx, name, &carried);
    }
    // Options of aliases not in `transforms=` / `predicates=`: Kafka Connect never reads them.
    for (prefix, list) in [("transforms.", "transforms"), ("predicates.", "predicates")] {
        for prop in ctx.names_with_prefix(C, prefix) {
            if !ctx.unused(C).contains(&prop) {
                continue;
            }
            ctx.drop_prop(
                C,
                &prop,
                Class::NotNeeded,
                format!("its alias is not listed in {list}=, so Kafka Connect does not use it"),
            );
        }
    }
}

/// The value of `prefix + option` if present and resolved (consumed either way).
fn option_value(ctx: &mut Ctx, prop: &str) -> Option<String> {
    match ctx.take(C, prop) {
        Some(Val::Ok(v)) => Some(v),
        Some(Val::Unresolved(u)) => {
            let why = format!("its value {} cannot be resolved here ({}), and [[transforms]] options have no environment override", u.reference, u.why);
            ctx.drop_prop(C, prop, Class::Unsupported, why);
            None
        }
        None => None,
    }
}

fn transform(ctx: &mut Ctx, name: &str, carried: &BTreeSet<String>) {
    let prefix = format!("transforms.{name}.");
    let type_prop = format!("{prefix}type");
    let props = ctx.names_with_prefix(C, &prefix);
    let kind = match ctx.peek_resolved(C, &type_prop) {
        Some(k) => k.trim().to_string(),
        None => {
            ctx.errors.push(format!("transform {name} is listed in transforms= but {type_prop} is missing or unresolvable"));
            return;
        }
    };
    if !TRANSFORMS.contains(&kind.as_str()) {
        for p in &props {
            let why = if *p == type_prop {
                format!("rowtide has no transform {kind} (it has ExtractNewRecordState, ExtractChangedRecordState, RegexRouter, ByLogicalTableRouter and the outbox EventRouter)")
            } else {
                format!("an option of transform {name} ({kind}), which is not carried over")
            };
            ctx.drop_prop(C, p, Class::Unsupported, why);
        }
        return;
    }
    ctx.consume(C, &type_prop);
    let mut fields = vec![
        ("name".to_string(), Value::String(name.to_string()), None),
        ("type".to_string(), Value::String(kind.clone()), None),
    ];
    if UNWRAP.contains(&kind.as_str()) {
        legacy_delete_options(ctx, &prefix, &mut fields);
    }
    condition(ctx, name, &prefix, carried, &mut fields);
    for p in props.iter().filter(|p| **p != type_prop) {
        if !ctx.unused(C).contains(p) {
            continue;
        }
        let key = p[prefix.len()..].replace(['.', '-'], "_");
        if key == "name" || key == "type" {
            ctx.drop_prop(
                C,
                p,
                Class::Unsupported,
                "an option named like the name/type keys of [[transforms]]",
            );
            continue;
        }
        if let Some(v) = option_value(ctx, p) {
            fields.push((key, Value::String(v), Some(p.clone())));
        }
    }
    ctx.plan.items.push(Item {
        array: "transforms",
        from: format!("transforms = {} ({name}), {type_prop}", names_of(ctx)),
        fields,
    });
}

type Fields = Vec<(String, Value, Option<String>)>;

/// `predicate` / `negate` of one transform, carried over when its predicate is.
fn condition(
    ctx: &mut Ctx,
    name: &str,
    prefix: &str,
    carried: &BTreeSet<String>,
    fields: &mut Fields,
) {
    let (pred_prop, negate_prop) = (format!("{prefix}predicate"), format!("{prefix}negate"));
    let has_negate = ctx.has(C, &negate_prop);
    let Some(pred) = ctx
        .peek_resolved(C, &pred_prop)
        .map(|p| p.trim().to_string())
    else {
        if ctx.has(C, &pred_prop) {
            ctx.drop_prop(C, &pred_prop, Class::Unsupported, format!("its value cannot be resolved here: transform {name} is carried over without its condition"));
        }
        if has_negate {
            ctx.drop_prop(
                C,
                &negate_prop,
                Class::NotNeeded,
                "Kafka Connect ignores negate without predicate",
            );
        }
        return;
    };
    if !carried.contains(&pred) {
        let why = format!("predicate {pred} is not carried over (see predicates), so transform {name} is carried over without its condition and applies to every record");
        ctx.drop_prop(C, &pred_prop, Class::Unsupported, why.clone());
        if has_negate {
            ctx.drop_prop(C, &negate_prop, Class::Unsupported, why);
        }
        return;
    }
    ctx.consume(C, &pred_prop);
    fields.push(("predicate".into(), Value::String(pred), Some(pred_prop)));
    if let Some(v) = option_value(ctx, &negate_prop) {
        fields.push(("negate".into(), Value::String(v), Some(negate_prop)));
    }
}

/// `drop.tombstones` / `delete.handling.mode` of an `ExtractNewRecordState`.
fn legacy_delete_options(ctx: &mut Ctx, prefix: &str, fields: &mut Fields) {
    let dt = format!("{prefix}drop.tombstones");
    let dhm = format!("{prefix}delete.handling.mode");
    let present: Vec<String> = [&dt, &dhm]
        .into_iter()
        .filter(|p| ctx.has(C, p))
        .cloned()
        .collect();
    if present.is_empty() {
        return;
    }
    let modern = [
        "delete.tombstone.handling.mode",
        "delete.tombstone-handling.mode",
    ]
    .iter()
    .any(|o| ctx.has(C, &format!("{prefix}{o}")));
    if modern {
        for p in &present {
            ctx.drop_prop(C, p, Class::NotNeeded, "removed in Debezium 3.2; Debezium 3.1 and earlier ignored it too when delete.tombstone.handling.mode is set");
        }
        return;
    }
    let (dt_v, dhm_v) = (ctx.peek_resolved(C, &dt), ctx.peek_resolved(C, &dhm));
    match crate::transform::legacy_delete_mode(dt_v.as_deref(), dhm_v.as_deref()) {
        Ok(mode) => {
            for p in &present {
                ctx.consume(C, p);
            }
            fields.push((
                "delete_tombstone_handling_mode".into(),
                Value::String(mode.into()),
                Some(format!(
                    "{} (removed in Debezium 3.2; this is the equivalent)",
                    present.join(" + ")
                )),
            ));
        }
        Err(why) => {
            for p in &present {
                ctx.drop_prop(
                    C,
                    p,
                    Class::Unsupported,
                    format!("removed in Debezium 3.2: {why}"),
                );
            }
        }
    }
}

fn names_of(ctx: &Ctx) -> String {
    ctx.peek_resolved(C, "transforms").unwrap_or_default()
}

/// `predicates=…` → `[[predicates]]`; the names carried over.
fn predicates(ctx: &mut Ctx) -> BTreeSet<String> {
    let mut carried = BTreeSet::new();
    for name in name_list(ctx, "predicates") {
        let prefix = format!("predicates.{name}.");
        let type_prop = format!("{prefix}type");
        let props = ctx.names_with_prefix(C, &prefix);
        let Some(kind) = ctx
            .peek_resolved(C, &type_prop)
            .map(|k| k.trim().to_string())
        else {
            ctx.errors.push(format!("predicate {name} is listed in predicates= but {type_prop} is missing or unresolvable"));
            continue;
        };
        let mut fields = vec![
            ("name".to_string(), Value::String(name.clone()), None),
            ("type".to_string(), Value::String(kind.clone()), None),
        ];
        let mut bad = (!PREDICATES.contains(&kind.as_str())).then(|| {
            format!("rowtide has no predicate {kind} (it has TopicNameMatches, HasHeaderKey and RecordIsTombstone)")
        });
        let has_header_key = kind.ends_with("HasHeaderKey") || kind == "has_header_key";
        for p in props.iter().filter(|p| **p != type_prop) {
            if bad.is_some() {
                break;
            }
            let mut key = p[prefix.len()..].replace(['.', '-'], "_");
            if has_header_key && key == "name" {
                // HasHeaderKey's `name` is `header_name`: `name` is the entry's own.
                key = "header_name".into();
            }
            match ctx.peek_resolved(C, p) {
                Some(v) if key == "pattern" && bad_regex(std::slice::from_ref(&v)).is_some() => {
                    bad = bad_regex(&[v]);
                }
                Some(v) if key != "name" && key != "type" => {
                    fields.push((key, Value::String(v), Some(p.clone())))
                }
                _ => {
                    bad = Some(format!(
                    "{p} cannot be carried over (unresolvable, or named like the name/type keys)"
                ))
                }
            }
        }
        if let Some(why) = bad {
            for p in &props {
                ctx.drop_prop(C, p, Class::Unsupported, format!("predicate {name}: {why}"));
            }
            continue;
        }
        for p in &props {
            ctx.consume(C, p);
        }
        ctx.plan.items.push(Item {
            array: "predicates",
            from: format!("predicates ({name}), {type_prop}"),
            fields,
        });
        carried.insert(name);
    }
    carried
}
