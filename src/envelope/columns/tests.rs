//! Column plans against tables defined by real DDL (the catalog's parser gives the declared
//! type names, lengths and scales Debezium's parser gives): filters, each mapper, the order
//! in which mappers win, key columns, and the envelope built with a plan.

use std::sync::Arc;

use super::*;
use crate::config::shaping::{key_column_patterns, ColumnMask, ColumnMaskHash, ColumnTruncate};
use crate::envelope::{EnvelopeBuilder, Now};
use crate::model::{Catalog, Change, Flavor, Op, Position, SnapshotMarker};

fn table(sql: &str) -> Arc<TableDesc> {
    let mut cat = Catalog::default();
    crate::catalog::ddl_parse::apply_statement(&mut cat, sql, "shop")
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .remove(0)
}

fn people() -> Arc<TableDesc> {
    table(
        "CREATE TABLE people (id INT NOT NULL, name VARCHAR(40), email VARCHAR(100) NOT NULL, \
         token VARCHAR(12), bio TEXT, price DECIMAL(10,2), age INT, raw VARBINARY(8), \
         PRIMARY KEY (id)) DEFAULT CHARSET=utf8mb4",
    )
}

fn plan(cfg: &EventsConfig, t: &TableDesc) -> ColumnPlan {
    Shaping::new(cfg)
        .unwrap()
        .expect("options set")
        .plan(t, &Modes::default())
}

fn names(p: &ColumnPlan) -> Vec<&str> {
    p.fields.iter().map(|f| f.name.as_str()).collect()
}

fn params<'a>(p: &'a ColumnPlan, field: &str) -> Vec<(&'a str, &'a str)> {
    p.fields
        .iter()
        .find(|f| f.name == field)
        .unwrap_or_else(|| panic!("no field {field}"))
        .schema
        .parameters
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

fn row(
    id: i64,
    name: Option<&str>,
    email: &str,
    token: Option<&str>,
    bio: Option<&str>,
) -> Vec<Value> {
    let s = |v: Option<&str>| v.map_or(Value::Null, |v| Value::String(v.into()));
    vec![
        Value::Int(id),
        s(name),
        Value::String(email.into()),
        s(token),
        s(bio),
        Value::Decimal("12.50".into()),
        Value::Int(42),
        Value::Bytes(b"0123456789".to_vec()),
    ]
}

fn values(p: &ColumnPlan, t: &TableDesc, r: &[Value]) -> Vec<Datum> {
    match p.row(&t.columns, r, &Modes::default()).unwrap() {
        Datum::Struct(v) => v,
        other => panic!("{other:?}"),
    }
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn exclude_and_include_match_whole_names_case_insensitively() {
    let t = people();
    let cfg = EventsConfig {
        column_exclude: strs(&[r"SHOP\.People\.AGE", r"shop\.people\.na"]),
        ..Default::default()
    };
    let p = plan(&cfg, &t);
    // `na` does not match `name`: the whole name must match.
    assert_eq!(
        names(&p),
        ["id", "name", "email", "token", "bio", "price", "raw"]
    );
    assert_eq!(p.key, [0], "the key stays the primary key");
    let cfg = EventsConfig {
        column_include: strs(&[r"shop\.people\.(email|bio)"]),
        ..Default::default()
    };
    let p = plan(&cfg, &t);
    assert_eq!(names(&p), ["email", "bio"]);
    let v = values(&p, &t, &row(1, None, "e@x", None, Some("b")));
    assert_eq!(v, [Datum::str("e@x"), Datum::str("b")]);
}

#[test]
fn mask_replaces_character_values_and_nulls_and_marks_the_schema() {
    let t = people();
    let cfg = EventsConfig {
        column_mask: vec![ColumnMask {
            chars: 3,
            columns: strs(&[r"shop\.people\.(name|age)"]),
        }],
        ..Default::default()
    };
    let p = plan(&cfg, &t);
    assert_eq!(params(&p, "name"), [("masked", "true")]);
    // Every matching column gets the parameter; a non-character one keeps its values.
    assert_eq!(params(&p, "age"), [("masked", "true")]);
    let v = values(&p, &t, &row(1, Some("Jürgen"), "e", None, None));
    assert_eq!(v[1], Datum::str("***"));
    assert_eq!(v[6], Datum::Int(42));
    let v = values(&p, &t, &row(1, None, "e", None, None));
    assert_eq!(
        v[1],
        Datum::str("***"),
        "NULL is masked too (MaskingValueConverter)"
    );
}

#[test]
fn hash_v1_and_v2_cut_to_the_column_length_and_keep_nulls() {
    let t = people();
    let cfg = EventsConfig {
        column_mask_hash: vec![
            ColumnMaskHash {
                algorithm: "MD5".into(),
                salt: "pepper".into(),
                version: HashVersion::V2,
                columns: strs(&[r"shop\.people\.token"]),
            },
            ColumnMaskHash {
                algorithm: "SHA-256".into(),
                salt: "CzQMA0cB5K".into(),
                version: HashVersion::V1,
                columns: strs(&[r"shop\.people\.(email|bio)"]),
            },
        ],
        ..Default::default()
    };
    let p = plan(&cfg, &t);
    assert_eq!(params(&p, "email"), [("masked", "true")]);
    let v = values(
        &p,
        &t,
        &row(
            1,
            None,
            "j@example.com",
            Some("tok-1"),
            Some("j@example.com"),
        ),
    );
    // python: hashlib.sha256(b"CzQMA0cB5K" + b"\xac\xed\x00\x05\x74\x00\x0d" + b"j@example.com")
    let full = "0af33ba8146005db145562ba642cb11294fa31169fda86712568f21a10d3cb4e";
    assert_eq!(
        v[2],
        Datum::str(full),
        "VARCHAR(100) keeps all 64 characters"
    );
    assert_eq!(
        v[4],
        Datum::str(full),
        "TEXT has no declared length: not cut"
    );
    // python: hashlib.md5(b"pepper" + b"tok-1").hexdigest()[:12]
    assert_eq!(v[3], Datum::str("0bc4dcddf782"), "cut to VARCHAR(12)");
    let v = values(&p, &t, &row(1, None, "x", None, None));
    assert_eq!((&v[3], &v[4]), (&Datum::Null, &Datum::Null));
}

#[test]
fn truncate_counts_utf16_units_and_cuts_binary_strings_in_bytes() {
    let t = people();
    let cfg = EventsConfig {
        column_truncate: vec![ColumnTruncate {
            chars: 4,
            columns: strs(&[r"shop\.people\.(name|bio|raw|token)"]),
        }],
        ..Default::default()
    };
    let p = plan(&cfg, &t);
    assert_eq!(params(&p, "bio"), [("truncateLength", "4")]);
    assert_eq!(params(&p, "raw"), [("truncateLength", "4")]);
    let v = values(
        &p,
        &t,
        &row(1, Some("Jürgen"), "e", Some("abc"), Some("a😀bc")),
    );
    assert_eq!(v[1], Datum::str("Jürg"));
    assert_eq!(v[3], Datum::str("abc"));
    // 😀 is two UTF-16 units: "a😀b" is Java's 4 characters.
    assert_eq!(v[4], Datum::str("a😀b"));
    assert_eq!(v[7], Datum::Bytes(b"0123".to_vec()));
    let v = values(&p, &t, &row(1, Some("abc😀"), "e", None, None));
    // Java would keep a lone high surrogate; a Rust string cannot: it is dropped.
    assert_eq!(v[1], Datum::str("abc"));
    // A column declared no longer than the cut is left alone, without the parameter.
    let short = EventsConfig {
        column_truncate: vec![ColumnTruncate {
            chars: 12,
            columns: strs(&[r"shop\.people\.token"]),
        }],
        ..Default::default()
    };
    assert!(params(&plan(&short, &t), "token").is_empty());
}

#[test]
fn propagation_adds_source_parameters_after_the_types_own() {
    let t = people();
    let cfg = EventsConfig {
        column_propagate_source_type: strs(&[r"shop\.people\.(price|name|age)"]),
        datatype_propagate_source_type: strs(&[r".+\.text"]),
        ..Default::default()
    };
    let p = plan(&cfg, &t);
    assert_eq!(
        params(&p, "price"),
        [
            ("scale", "2"),
            ("connect.decimal.precision", "10"),
            (SOURCE_TYPE, "DECIMAL"),
            (SOURCE_LENGTH, "10"),
            (SOURCE_SCALE, "2"),
            (SOURCE_NAME, "price"),
        ]
    );
    assert_eq!(
        params(&p, "name"),
        [
            (SOURCE_TYPE, "VARCHAR"),
            (SOURCE_LENGTH, "40"),
            (SOURCE_NAME, "name")
        ]
    );
    assert_eq!(
        params(&p, "bio"),
        [(SOURCE_TYPE, "TEXT"), (SOURCE_NAME, "bio")]
    );
    assert!(params(&p, "email").is_empty());
    // The data type pattern is matched against `db.table.TYPE`, not the bare type name.
    let bare = EventsConfig {
        datatype_propagate_source_type: strs(&["TEXT"]),
        ..Default::default()
    };
    assert!(params(&plan(&bare, &t), "bio").is_empty());
}

#[test]
fn the_first_matching_mapper_wins_in_debeziums_order() {
    let t = people();
    let cfg = EventsConfig {
        column_propagate_source_type: strs(&[r"shop\.people\..*"]),
        column_truncate: vec![ColumnTruncate {
            chars: 2,
            columns: strs(&[r"shop\.people\.name"]),
        }],
        column_mask_hash: vec![ColumnMaskHash {
            algorithm: "SHA-1".into(),
            salt: "s".into(),
            version: HashVersion::V1,
            columns: strs(&[r"shop\.people\.email"]),
        }],
        ..Default::default()
    };
    let p = plan(&cfg, &t);
    // Truncation comes before propagation, propagation before hashing.
    assert_eq!(params(&p, "name"), [("truncateLength", "2")]);
    assert_eq!(params(&p, "email")[0], (SOURCE_TYPE, "VARCHAR"));
    let v = values(&p, &t, &row(1, Some("abc"), "e@x", None, None));
    assert_eq!((&v[1], &v[2]), (&Datum::str("ab"), &Datum::str("e@x")));
}

#[test]
fn message_key_columns_choose_the_key_in_the_order_written() {
    let t = people();
    let nokey = table("CREATE TABLE nokey (a INT NOT NULL, b VARCHAR(20) NOT NULL, c TEXT)");
    let cfg = EventsConfig {
        message_key_columns: Some(r"shop.nokey:b,a;shop\.PEOPLE:email ".into()),
        ..Default::default()
    };
    assert_eq!(plan(&cfg, &nokey).key, [1, 0]);
    assert_eq!(plan(&cfg, &t).key, [2]);
    let other = table("CREATE TABLE other (x INT PRIMARY KEY, b INT)");
    assert_eq!(
        plan(&cfg, &other).key,
        [0],
        "a table not named keeps its primary key"
    );
    // Debezium keeps the table part as written: a blank after `;` is part of the regex.
    let blank = EventsConfig {
        message_key_columns: Some("shop.other:b; shop.nokey:c".into()),
        ..Default::default()
    };
    assert!(plan(&blank, &nokey).key.is_empty());
    assert_eq!(
        key_column_patterns("db.t:a, b;db.u:c;").unwrap(),
        ["db.t.a", "db.t.b", "db.u.c"]
    );
    for bad in ["db.t", "db.t:", ":a", "db.t:a:b", "db.t:a,,b"] {
        assert!(key_column_patterns(bad).is_err(), "{bad}");
    }
}

fn change(
    t: &Arc<TableDesc>,
    op: Op,
    before: Option<Vec<Value>>,
    after: Option<Vec<Value>>,
) -> Change {
    Change {
        table: t.clone(),
        op,
        before,
        after,
        position: Position::default(),
        ts_ms: 0,
        snapshot: SnapshotMarker::False,
        thread: None,
        query: None,
        server_id: 1,
    }
}

#[test]
fn the_envelope_follows_the_plan() {
    let t = people();
    let cfg = EventsConfig {
        column_exclude: strs(&[r"shop\.people\.(age|raw|price)"]),
        column_mask: vec![ColumnMask {
            chars: 2,
            columns: strs(&[r"shop\.people\.email"]),
        }],
        message_key_columns: Some("shop.people:email".into()),
        ..Default::default()
    };
    let mut b = EnvelopeBuilder::new("p", Flavor::Mariadb, Modes::default());
    b.shape(&cfg).unwrap();
    let s = b.schemas_of(&t);
    let key = s.key.as_ref().expect("a key");
    assert_eq!(key.name.as_deref(), Some("p.shop.people.Key"));
    assert_eq!(key.fields()[0].name, "email");
    assert!(
        key.fields()[0].schema.parameters.is_empty(),
        "keys are not mapped"
    );
    let value = &s.envelope.fields()[1].schema;
    let fields: Vec<&str> = value.fields().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(fields, ["id", "name", "email", "token", "bio"]);
    let old = row(1, None, "a@x", None, None);
    let new = row(1, None, "b@x", None, None);
    let c = change(&t, Op::Update, Some(old), Some(new));
    assert_eq!(
        b.key_datum(&c).unwrap(),
        Some(Datum::Struct(vec![Datum::str("b@x")])),
        "the key is the plain email"
    );
    let Datum::Struct(env) = b.envelope_datum(&c, Now { nanos: 0 }, None).unwrap() else {
        panic!()
    };
    let Datum::Struct(after) = &env[1] else {
        panic!()
    };
    assert_eq!(after.len(), 5);
    assert_eq!(after[2], Datum::str("**"));
    // Changing the email moves the key: a delete and a create.
    assert!(c.split_on(&s.key_columns).is_some());
    assert!(c.split().is_none(), "the primary key did not change");
    // Without options nothing changes.
    let plain = EnvelopeBuilder::new("p", Flavor::Mariadb, Modes::default())
        .schemas(&t)
        .envelope
        .clone();
    let mut none = EnvelopeBuilder::new("p", Flavor::Mariadb, Modes::default());
    none.shape(&EventsConfig::default()).unwrap();
    assert_eq!(*none.schemas(&t).envelope, *plain);
}
