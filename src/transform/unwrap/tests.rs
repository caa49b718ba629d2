//! Unit tests of `ExtractNewRecordState`: hand-built MariaDB-shaped envelopes through the
//! transform, checking flattened values and schemas (and their caching), added fields and
//! headers, every delete mode, routing and option checks against Debezium 3.5's behaviour.

use std::collections::BTreeMap;

use super::*;
use crate::envelope::schema::{int32, int64, string};
use crate::envelope::transaction_schema;

fn row_schema() -> Schema {
    Schema::strukt(
        "p.db.t.Value",
        vec![
            Field::new("id", int32()),
            Field::new(
                "name",
                string().optional().default_value(Datum::str("anon")),
            ),
            Field::new("dest", string().optional()),
        ],
    )
    .optional()
}

fn envelope_schema() -> Arc<Schema> {
    let source = Schema::strukt(
        "io.debezium.connector.mariadb.Source",
        vec![
            Field::new("db", string()),
            Field::new("table", string().optional()),
            Field::new("ts_ms", int64()),
            Field::new(
                "snapshot",
                string()
                    .optional()
                    .named("io.debezium.data.Enum")
                    .version(1)
                    .param("allowed", "true,false")
                    .default_value(Datum::str("false")),
            ),
        ],
    );
    Arc::new(Schema::strukt(
        "p.db.t.Envelope",
        vec![
            Field::new("before", row_schema()),
            Field::new("after", row_schema()),
            Field::new("source", source),
            Field::new("transaction", transaction_schema()),
            Field::new("op", string()),
            Field::new("ts_ms", int64().optional()),
        ],
    ))
}

fn key_part(id: i64) -> Part {
    let ks = Arc::new(Schema::strukt(
        "p.db.t.Key",
        vec![Field::new("id", int32())],
    ));
    Part::new(ks, Datum::Struct(vec![Datum::Int(id)]))
}

fn row(id: i64, name: Option<&str>, dest: Option<&str>) -> Datum {
    Datum::Struct(vec![
        Datum::Int(id),
        Datum::opt_str(name),
        Datum::opt_str(dest),
    ])
}

fn change(env: &Arc<Schema>, op: &str, before: Datum, after: Datum) -> Record {
    let source = Datum::Struct(vec![
        Datum::str("db"),
        Datum::str("t"),
        Datum::Int(1_700_000_000_000),
        Datum::Null,
    ]);
    let value = Datum::Struct(vec![
        before,
        after,
        source,
        Datum::Null,
        Datum::str(op),
        Datum::Int(1_700_000_000_123),
    ]);
    Record {
        topic: "p.db.t".into(),
        key: Some(key_part(1)),
        value: Some(Part::new(env.clone(), value)),
        headers: vec![],
        timestamp: None,
        partition: None,
    }
}

fn tombstone() -> Record {
    Record {
        topic: "p.db.t".into(),
        key: Some(key_part(1)),
        value: None,
        headers: vec![],
        timestamp: None,
        partition: None,
    }
}

fn unwrap_with(options: &[(&str, &str)]) -> Result<Box<dyn Transform>> {
    let map: BTreeMap<String, toml::Value> = options
        .iter()
        .map(|(k, v)| (k.to_string(), toml::Value::String(v.to_string())))
        .collect();
    let mut opts = Options::new(0, "unwrap", &map);
    let ctx = Context {
        topic_prefix: "p".into(),
    };
    let t = build(&mut opts, &ctx)?;
    opts.finish()?;
    Ok(t)
}

fn run(t: &mut Box<dyn Transform>, rec: Record) -> Option<Record> {
    t.apply(rec).expect("transform")
}

fn names(s: &Schema) -> Vec<&str> {
    s.fields().iter().map(|f| f.name.as_str()).collect()
}

#[test]
fn defaults_flatten_and_turn_deletes_into_null_values() {
    let env = envelope_schema();
    let mut t = unwrap_with(&[]).unwrap();
    let c = run(
        &mut t,
        change(&env, "c", Datum::Null, row(1, Some("a"), None)),
    )
    .unwrap();
    let v = c.value.as_ref().unwrap();
    assert_eq!(v.schema.name.as_deref(), Some("p.db.t.Value"));
    assert!(
        !v.schema.optional,
        "the flattened value is required, as copySchemaBasics makes it"
    );
    assert_eq!(names(&v.schema), ["id", "name", "dest"]);
    assert_eq!(v.datum, row(1, Some("a"), None));
    assert_eq!(c.key, Some(key_part(1)));
    assert!(c.headers.is_empty());
    // Same input schema, same output Arc.
    let u = run(
        &mut t,
        change(&env, "u", row(1, Some("a"), None), row(1, Some("b"), None)),
    )
    .unwrap();
    assert!(Arc::ptr_eq(&v.schema, &u.value.as_ref().unwrap().schema));
    // A delete keeps the row's (optional) schema with a null value; the tombstone goes.
    let d = run(
        &mut t,
        change(&env, "d", row(1, Some("b"), None), Datum::Null),
    )
    .unwrap();
    let dv = d.value.unwrap();
    assert_eq!(dv.datum, Datum::Null);
    assert!(dv.schema.optional);
    assert_eq!(*dv.schema, row_schema());
    assert!(run(&mut t, tombstone()).is_none());
    // A truncate is dropped; a record that is not an envelope passes untouched.
    assert!(run(&mut t, change(&env, "t", Datum::Null, Datum::Null)).is_none());
    let other = Record {
        value: Some(Part::new(Arc::new(string()), Datum::str("x"))),
        ..tombstone()
    };
    assert_eq!(run(&mut t, other.clone()), Some(other));
}

#[test]
fn rewrite_adds_deleted_fields_and_headers() {
    let env = envelope_schema();
    let mut t = unwrap_with(&[
        ("delete_tombstone_handling_mode", "rewrite"),
        (
            "add_fields",
            "op,table,source.ts_ms,ts_ms:when,snapshot,nothere,transaction.id",
        ),
        ("add_fields_prefix", "m_"),
        ("add_headers", "db,op"),
    ])
    .unwrap();
    let c = run(&mut t, change(&env, "c", Datum::Null, row(1, None, None))).unwrap();
    let v = c.value.as_ref().unwrap();
    assert_eq!(
        names(&v.schema),
        [
            "id",
            "name",
            "dest",
            "__deleted",
            "m_op",
            "m_table",
            "m_source_ts_ms",
            "m_when",
            "m_snapshot",
            "m_transaction_id"
        ]
    );
    let f = |n: &str| {
        v.schema
            .fields()
            .iter()
            .find(|f| f.name == n)
            .unwrap()
            .schema
            .clone()
    };
    assert_eq!(f("__deleted"), string().optional());
    assert_eq!(f("m_op"), string().optional());
    assert_eq!(f("m_source_ts_ms"), int64().optional());
    // copySchemaBasics: name, version, parameters, no default.
    assert_eq!(
        f("m_snapshot"),
        string()
            .optional()
            .named("io.debezium.data.Enum")
            .version(1)
            .param("allowed", "true,false")
    );
    assert_eq!(
        v.datum,
        Datum::Struct(vec![
            Datum::Int(1),
            // replace_null_with_default (rewrite modes): the column default.
            Datum::str("anon"),
            Datum::Null,
            Datum::str("false"),
            Datum::str("c"),
            Datum::str("t"),
            Datum::Int(1_700_000_000_000),
            Datum::Int(1_700_000_000_123),
            // Read without the default, as Debezium does.
            Datum::Null,
            Datum::Null,
        ])
    );
    let h: Vec<(&str, &Datum)> = c.headers.iter().map(|h| (&*h.key, &h.datum)).collect();
    assert_eq!(h, [("__db", &Datum::str("db")), ("__op", &Datum::str("c"))]);
    assert_eq!(*c.headers[0].schema, string().optional());
    let d = run(
        &mut t,
        change(&env, "d", row(1, Some("x"), None), Datum::Null),
    )
    .unwrap();
    let dv = d.value.unwrap();
    assert!(Arc::ptr_eq(&dv.schema, &v.schema));
    let Datum::Struct(vals) = &dv.datum else {
        panic!()
    };
    assert_eq!(vals[1], Datum::str("x"));
    assert_eq!(vals[3], Datum::str("true"));
    assert_eq!(vals[4], Datum::str("d"));
    assert!(run(&mut t, tombstone()).is_none());
}

#[test]
fn rewrite_with_tombstone_keeps_it_with_the_delete_headers() {
    let env = envelope_schema();
    let mut t = unwrap_with(&[
        ("delete_tombstone_handling_mode", "rewrite-with-tombstone"),
        ("add_headers", "op,source.table"),
        ("add_headers_prefix", "h_"),
    ])
    .unwrap();
    let d = run(
        &mut t,
        change(&env, "d", row(1, Some("x"), None), Datum::Null),
    )
    .unwrap();
    assert_eq!(d.headers.len(), 2);
    let tomb = run(&mut t, tombstone()).unwrap();
    assert!(tomb.value.is_none());
    let h: Vec<(&str, &Datum)> = tomb.headers.iter().map(|h| (&*h.key, &h.datum)).collect();
    assert_eq!(
        h,
        [
            ("h_op", &Datum::str("d")),
            ("h_source_table", &Datum::str("t")),
            ("h_op", &Datum::str("d"))
        ]
    );
    // A tombstone with no delete before it carries only the op header.
    let alone = run(&mut t, tombstone()).unwrap();
    assert_eq!(alone.headers.len(), 1);
}

#[test]
fn drop_and_delete_to_tombstone() {
    let env = envelope_schema();
    let delete = || change(&env, "d", row(1, Some("x"), None), Datum::Null);
    let mut t = unwrap_with(&[("delete_tombstone_handling_mode", "drop")]).unwrap();
    assert!(run(&mut t, delete()).is_none());
    assert!(run(&mut t, tombstone()).is_none());
    let mut t = unwrap_with(&[("delete_tombstone_handling_mode", "Delete-To-Tombstone")]).unwrap();
    let d = run(&mut t, delete()).unwrap();
    assert!(d.value.is_none());
    assert_eq!(d.key, Some(key_part(1)));
    assert!(run(&mut t, tombstone()).is_none());
}

#[test]
fn routes_by_a_row_field() {
    let env = envelope_schema();
    let mut t = unwrap_with(&[("route_by_field", "dest")]).unwrap();
    let c = run(
        &mut t,
        change(&env, "c", Datum::Null, row(1, None, Some("elsewhere"))),
    )
    .unwrap();
    assert_eq!(&*c.topic, "elsewhere");
    let d = run(
        &mut t,
        change(&env, "d", row(1, None, Some("gone")), Datum::Null),
    )
    .unwrap();
    assert_eq!(&*d.topic, "gone");
    let n = run(&mut t, change(&env, "c", Datum::Null, row(1, None, None))).unwrap();
    assert_eq!(&*n.topic, "p.db.t");
    let mut t = unwrap_with(&[("route_by_field", "id")]).unwrap();
    let e = t.apply(change(&env, "c", Datum::Null, row(1, None, None)));
    assert!(e.unwrap_err().to_string().contains("not of type STRING"));
    let mut t = unwrap_with(&[("route_by_field", "nope")]).unwrap();
    assert!(t
        .apply(change(&env, "c", Datum::Null, row(1, None, None)))
        .is_err());
}

#[test]
fn options_are_checked() {
    for bad in [
        vec![("delete_tombstone_handling_mode", "none")],
        vec![("drop_tombstones", "false")],
        vec![("delete_handling_mode", "rewrite")],
        vec![("drop_fields_from_key", "yes")],
        vec![("add_fields", "op:a:b")],
        vec![("replace_null_with_default", "maybe")],
        vec![("predicate", "x")],
    ] {
        assert!(unwrap_with(&bad).is_err(), "{bad:?}");
    }
    let env = envelope_schema();
    // A struct cannot be added (Debezium fails on it too), nor a field of a missing struct.
    for fields in ["source", "nostruct.x"] {
        let mut t = unwrap_with(&[("add_fields", fields)]).unwrap();
        assert!(t
            .apply(change(&env, "c", Datum::Null, row(1, None, None)))
            .is_err());
    }
}

#[test]
fn field_references_parse_like_debezium() {
    let p = |e: &str| FieldRef::parse("__", e).unwrap();
    let r = |parent: Option<&str>, field: &str, new_name: &str| FieldRef {
        parent: parent.map(String::from),
        field: field.into(),
        new_name: new_name.into(),
    };
    assert_eq!(p("op"), r(None, "op", "__op"));
    assert_eq!(p("ts_ns"), r(None, "ts_ns", "__ts_ns"));
    assert_eq!(p("db"), r(Some("source"), "db", "__db"));
    assert_eq!(
        p("total_order"),
        r(Some("transaction"), "total_order", "__total_order")
    );
    assert_eq!(
        p("source.ts_ms"),
        r(Some("source"), "ts_ms", "__source_ts_ms")
    );
    assert_eq!(p("source.ts_ms:WHEN"), r(Some("source"), "ts_ms", "__WHEN"));
    assert_eq!(p("a.b.c"), r(Some("a"), "b", "__a_b"));
    assert!(FieldRef::parse("__", "a:b:c").is_err());
}

fn with_list_header(mut rec: Record, names: &[&str]) -> Record {
    let schema = Arc::new(
        Schema::new(Type::Array(Box::new(string().optional())))
            .optional()
            .named("Unchanged"),
    );
    let list = names.iter().map(|n| Datum::str(*n)).collect();
    rec.header("Unchanged", schema, Datum::Array(list));
    rec
}

#[test]
fn drop_fields_keep_schema_compatible_drops_only_optional_fields() {
    let env = envelope_schema();
    let mut t = unwrap_with(&[("drop_fields_header_name", "Unchanged")]).unwrap();
    let u = || change(&env, "u", row(1, None, Some("d")), row(1, None, Some("d")));
    let out = run(&mut t, with_list_header(u(), &["id", "dest"])).unwrap();
    let v = out.value.as_ref().unwrap();
    // `id` is required: kept, so the schema stays compatible.
    assert_eq!(names(&v.schema), ["id", "name"]);
    assert!(!v.schema.optional);
    assert_eq!(v.schema.name.as_deref(), Some("p.db.t.Value"));
    // ReplaceField reads kept fields with Struct.get: a null comes out as its default.
    assert_eq!(
        v.datum,
        Datum::Struct(vec![Datum::Int(1), Datum::str("anon")])
    );
    assert_eq!(
        out.key,
        Some(key_part(1)),
        "the key is left alone by default"
    );
    // Same input, same names: the same Arc.
    let again = run(&mut t, with_list_header(u(), &["id", "dest"])).unwrap();
    assert!(Arc::ptr_eq(&v.schema, &again.value.unwrap().schema));
    // No header, or an empty list: nothing dropped, nulls stay null.
    let plain = run(&mut t, u()).unwrap();
    assert_eq!(plain.value.unwrap().datum, row(1, None, Some("d")));
    let empty = run(&mut t, with_list_header(u(), &[])).unwrap();
    assert_eq!(empty.value.unwrap().datum, row(1, None, Some("d")));
    // A tombstone-mode delete's null value has nothing to drop.
    let d = run(
        &mut t,
        with_list_header(
            change(&env, "d", row(1, None, None), Datum::Null),
            &["dest"],
        ),
    )
    .unwrap();
    assert_eq!(d.value.unwrap().datum, Datum::Null);
}

#[test]
fn drop_fields_from_key_and_incompatible_schema() {
    let env = envelope_schema();
    let mut t = unwrap_with(&[
        ("drop_fields_header_name", "Unchanged"),
        ("drop_fields_from_key", "true"),
        ("drop_fields_keep_schema_compatible", "false"),
    ])
    .unwrap();
    let u = change(&env, "u", row(1, None, None), row(1, Some("n"), None));
    let out = run(&mut t, with_list_header(u, &["id", "nothere"])).unwrap();
    let v = out.value.unwrap();
    assert_eq!(names(&v.schema), ["name", "dest"]);
    let k = out.key.unwrap();
    assert!(names(&k.schema).is_empty());
    assert_eq!(k.schema.name.as_deref(), Some("p.db.t.Key"));
    assert_eq!(k.datum, Datum::Struct(vec![]));
}

#[test]
fn drop_fields_on_a_rewritten_delete_spares_the_added_fields() {
    let env = envelope_schema();
    let mut t = unwrap_with(&[
        ("delete_tombstone_handling_mode", "rewrite"),
        ("add_fields", "op"),
        ("drop_fields_header_name", "Unchanged"),
    ])
    .unwrap();
    let d = change(&env, "d", row(1, Some("x"), None), Datum::Null);
    let out = run(&mut t, with_list_header(d, &["dest", "__op", "__deleted"])).unwrap();
    // Debezium drops before it adds fields on deletes: __op stays; __deleted (optional,
    // already there) goes.
    assert_eq!(names(&out.value.unwrap().schema), ["id", "name", "__op"]);
    // On an update the fields are added first, so an optional added field can be dropped.
    let u = change(&env, "u", row(1, None, None), row(1, None, None));
    let out = run(&mut t, with_list_header(u, &["dest", "__op"])).unwrap();
    assert_eq!(
        names(&out.value.unwrap().schema),
        ["id", "name", "__deleted"]
    );
}
