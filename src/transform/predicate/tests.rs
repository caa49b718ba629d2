//! Unit tests of the predicates and of the chain's `predicate` / `negate` handling.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::config::TransformConfig;
use crate::envelope::schema::{string, Datum};
use crate::transform::{Chain, Context, Part};

fn rec(topic: &str, value: bool, headers: &[&str]) -> Record {
    let mut r = Record {
        topic: topic.into(),
        key: None,
        value: value.then(|| Part::new(Arc::new(string()), Datum::str("v"))),
        headers: vec![],
        timestamp: None,
        partition: None,
    };
    for h in headers {
        r.header(h, Arc::new(string()), Datum::str("x"));
    }
    r
}

fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, toml::Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), toml::Value::String(v.to_string())))
        .collect()
}

fn pred(name: &str, kind: &str, options: &[(&str, &str)]) -> PredicateConfig {
    PredicateConfig {
        name: name.into(),
        kind: kind.into(),
        options: opts(options),
    }
}

fn router(name: &str, extra: &[(&str, &str)]) -> TransformConfig {
    let mut o = vec![("regex", "(.*)"), ("replacement", "routed.$1")];
    o.extend_from_slice(extra);
    TransformConfig {
        name: name.into(),
        kind: "regex_router".into(),
        options: opts(&o),
    }
}

fn ctx() -> Context {
    Context {
        topic_prefix: "p".into(),
    }
}

#[test]
fn builtins_test_like_kafka_connect() {
    let all = build_all(&[
        pred(
            "orders",
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
            &[("pattern", "p\\.db\\.orders.*")],
        ),
        pred("hasOp", "has_header_key", &[("header_name", "__op")]),
        pred(
            "tomb",
            "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
            &[],
        ),
    ])
    .unwrap();
    let orders = &all["orders"];
    assert!(orders.test(&rec("p.db.orders", true, &[])));
    assert!(orders.test(&rec("p.db.orders_2024", true, &[])));
    // The whole name must match (Matcher.matches()).
    assert!(!orders.test(&rec("x.p.db.orders", true, &[])));
    assert!(all["hasOp"].test(&rec("t", true, &["a", "__op"])));
    assert!(!all["hasOp"].test(&rec("t", true, &["__op2"])));
    assert!(all["tomb"].test(&rec("t", false, &[])));
    assert!(!all["tomb"].test(&rec("t", true, &[])));
}

#[test]
fn bad_predicates_name_the_key() {
    let cases: Vec<(Vec<PredicateConfig>, &str)> = vec![
        (
            vec![pred("a", "topic_name_matches", &[])],
            "predicates[0] (a): pattern",
        ),
        (
            vec![pred("a", "topic_name_matches", &[("pattern", "(")])],
            "predicates[0] (a): pattern",
        ),
        (
            vec![pred(
                "a",
                "has_header_key",
                &[("nme", "x"), ("header_name", "y")],
            )],
            "predicates[0] (a): nme",
        ),
        (vec![pred("a", "HasHeader", &[])], "predicates[0] (a): type"),
        (
            vec![
                pred("a", "record_is_tombstone", &[]),
                pred("a", "record_is_tombstone", &[]),
            ],
            "predicates[1] (a): name",
        ),
    ];
    for (cfg, want) in cases {
        let e = build_all(&cfg).unwrap_err().to_string();
        assert!(e.contains(want), "{e} should name {want}");
    }
}

#[test]
fn chain_applies_a_transform_only_where_its_predicate_says() {
    let preds = [pred(
        "isOrders",
        "topic_name_matches",
        &[("pattern", ".*orders")],
    )];
    let mut chain =
        Chain::build(&[router("r", &[("predicate", "isOrders")])], &preds, &ctx()).unwrap();
    let out = chain.apply(rec("p.db.orders", true, &[])).unwrap().unwrap();
    assert_eq!(&*out.topic, "routed.p.db.orders");
    let out = chain.apply(rec("p.db.users", true, &[])).unwrap().unwrap();
    assert_eq!(&*out.topic, "p.db.users");

    let mut negated = Chain::build(
        &[router(
            "r",
            &[("predicate", "isOrders"), ("negate", "true")],
        )],
        &preds,
        &ctx(),
    )
    .unwrap();
    let out = negated
        .apply(rec("p.db.orders", true, &[]))
        .unwrap()
        .unwrap();
    assert_eq!(&*out.topic, "p.db.orders");
    let out = negated
        .apply(rec("p.db.users", true, &[]))
        .unwrap()
        .unwrap();
    assert_eq!(&*out.topic, "routed.p.db.users");

    // The second transform's predicate sees the topic the first one wrote.
    let preds2 = [pred(
        "routed",
        "topic_name_matches",
        &[("pattern", "routed\\..*")],
    )];
    let mut two = Chain::build(
        &[router("a", &[]), router("b", &[("predicate", "routed")])],
        &preds2,
        &ctx(),
    )
    .unwrap();
    let out = two.apply(rec("t", true, &[])).unwrap().unwrap();
    assert_eq!(&*out.topic, "routed.routed.t");
}

#[test]
fn chain_rejects_unknown_predicates_and_stray_negate() {
    let e = Chain::build(&[router("r", &[("predicate", "nope")])], &[], &ctx())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("transforms[0] (r): predicate") && e.contains("\"nope\""),
        "{e}"
    );
    let e = Chain::build(&[router("r", &[("negate", "true")])], &[], &ctx())
        .unwrap_err()
        .to_string();
    assert!(e.contains("transforms[0] (r): negate"), "{e}");
    let preds = [pred("t", "record_is_tombstone", &[])];
    let e = Chain::build(
        &[router("r", &[("predicate", "t"), ("negate", "perhaps")])],
        &preds,
        &ctx(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("transforms[0] (r): negate"), "{e}");
}
