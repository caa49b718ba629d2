//! Unit tests of `ExtractChangedRecordState`: the changed / unchanged header lists on
//! updates, empty lists on other operations, untouched non-envelopes and tombstones.

use std::collections::BTreeMap;

use super::*;
use crate::envelope::schema::{int32, Field};
use crate::transform::Part;

fn row_schema() -> Schema {
    Schema::strukt(
        "p.db.t.Value",
        vec![
            Field::new("id", int32()),
            Field::new("a", string().optional()),
            Field::new("b", string().optional()),
        ],
    )
    .optional()
}

fn envelope(before: Datum, after: Datum) -> Record {
    let s = Arc::new(Schema::strukt(
        "p.db.t.Envelope",
        vec![
            Field::new("before", row_schema()),
            Field::new("after", row_schema()),
            Field::new("op", string()),
        ],
    ));
    Record {
        topic: "p.db.t".into(),
        key: None,
        value: Some(Part::new(
            s,
            Datum::Struct(vec![before, after, Datum::str("u")]),
        )),
        headers: vec![],
        timestamp: None,
        partition: None,
    }
}

fn row(id: i64, a: Option<&str>, b: Option<&str>) -> Datum {
    Datum::Struct(vec![Datum::Int(id), Datum::opt_str(a), Datum::opt_str(b)])
}

fn transform(pairs: &[(&str, &str)]) -> Box<dyn Transform> {
    let map: BTreeMap<String, toml::Value> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), toml::Value::String(v.to_string())))
        .collect();
    let mut o = Options::new(0, "changes", &map);
    let t = build(
        &mut o,
        &Context {
            topic_prefix: "p".into(),
        },
    )
    .unwrap();
    o.finish().unwrap();
    t
}

fn list(rec: &Record, name: &str) -> Vec<String> {
    let h = rec.headers.iter().find(|h| &*h.key == name).unwrap();
    assert_eq!(
        *h.schema,
        Schema::new(Type::Array(Box::new(string().optional())))
            .optional()
            .named(name)
    );
    match &h.datum {
        Datum::Array(v) => v
            .iter()
            .map(|d| match d {
                Datum::Str(s) => s.clone(),
                other => panic!("{other:?}"),
            })
            .collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn lists_changed_and_unchanged_fields_of_an_update() {
    let mut t = transform(&[
        ("header_changed_name", "Changed"),
        ("header_unchanged_name", "Unchanged"),
    ]);
    let out = t
        .apply(envelope(row(1, Some("x"), None), row(1, Some("y"), None)))
        .unwrap()
        .unwrap();
    assert_eq!(list(&out, "Changed"), ["a"]);
    assert_eq!(list(&out, "Unchanged"), ["id", "b"]);
    // null → value counts as a change.
    let out = t
        .apply(envelope(row(1, None, None), row(1, None, Some("z"))))
        .unwrap()
        .unwrap();
    assert_eq!(list(&out, "Changed"), ["b"]);
}

#[test]
fn other_operations_get_empty_lists_and_others_pass() {
    let mut t = transform(&[("header_changed_name", "Changed")]);
    let out = t
        .apply(envelope(Datum::Null, row(1, Some("x"), None)))
        .unwrap()
        .unwrap();
    assert!(list(&out, "Changed").is_empty());
    assert_eq!(
        out.headers.len(),
        1,
        "no unchanged header when not configured"
    );
    let tomb = Record {
        value: None,
        ..envelope(Datum::Null, Datum::Null)
    };
    assert_eq!(t.apply(tomb.clone()).unwrap(), Some(tomb));
    let plain = Record {
        value: Some(Part::new(Arc::new(string()), Datum::str("x"))),
        ..envelope(Datum::Null, Datum::Null)
    };
    assert_eq!(t.apply(plain.clone()).unwrap(), Some(plain));
    // Neither name set: nothing added; blank counts as unset.
    let mut t = transform(&[("header_changed_name", " ")]);
    let out = t
        .apply(envelope(row(1, None, None), row(2, None, None)))
        .unwrap()
        .unwrap();
    assert!(out.headers.is_empty());
}
