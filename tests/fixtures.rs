//! Decoding the recorded binlog files in `../shared/fixtures/binlog/` (see its README) with
//! `rowtide::source::file::replay_file`, asserting the exact decoded values of every row.
//!
//! Expected values come from `mariadb-binlog -vv --base64-output=decode-rows` where it can
//! read the file, and from the event bytes plus MySQL's documentation where it cannot
//! (binary JSON, compressed transactions, tagged GTIDs). The fixture directory is found by
//! `common::fixtures_dir()`; under CI a missing directory fails.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use rowtide::error::Error;
use rowtide::model::{filter::Filter, Catalog, Change, Op, SourceEvent, Value};
use rowtide::source::file::{replay_file, replay_file_with, ReplayOptions};

struct Replayed {
    changes: Vec<Change>,
    ddl: Vec<String>,
    commits: usize,
    result: Result<Catalog, Error>,
}

fn path(name: &str) -> Option<PathBuf> {
    common::fixtures_dir().map(|d| d.join(name))
}

fn run(name: &str, opts: ReplayOptions) -> Option<Replayed> {
    let p = path(name)?;
    let mut changes = Vec::new();
    let mut ddl = Vec::new();
    let mut commits = 0;
    let result = replay_file_with(&p, Filter::all(), opts, &mut |ev| {
        match ev {
            SourceEvent::Change(c) => changes.push(*c),
            SourceEvent::SchemaChange(s) => ddl.push(s.ddl),
            SourceEvent::Commit { .. } => commits += 1,
            _ => {}
        }
        Ok(())
    })
    .map(|h| h.into_catalog());
    Some(Replayed {
        changes,
        ddl,
        commits,
        result,
    })
}

/// Positional names and system schemas allowed (the fixtures put tables in `mysql`).
fn lenient() -> ReplayOptions {
    ReplayOptions {
        allow_positional_names: true,
        capture_system_schemas: true,
        catalog: None,
        ddl_skip: Default::default(),
        failure_mode: Default::default(),
    }
}

fn ok(name: &str) -> Option<Replayed> {
    let r = run(name, lenient())?;
    if let Err(e) = &r.result {
        panic!("{name}: {e}");
    }
    Some(r)
}

fn s(x: &str) -> Value {
    Value::String(x.into())
}

fn names(c: &Change) -> Vec<&str> {
    c.table.columns.iter().map(|c| c.name.as_str()).collect()
}

fn after(c: &Change) -> &[Value] {
    c.after.as_deref().expect("after image")
}

fn before(c: &Change) -> &[Value] {
    c.before.as_deref().expect("before image")
}

#[test]
fn enum_string_set_full_metadata() {
    let Some(r) = ok("mysql_common--mysql-enum-string-set.000001") else {
        return;
    };
    assert_eq!(r.changes.len(), 3);
    let long2 = "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456780123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456780123456789012345678901234567890123456789";
    let f1 = "0123456789".repeat(10);
    let c = &r.changes[0];
    assert_eq!(
        (c.table.full_name().as_str(), c.op),
        ("mysql.t", Op::Create)
    );
    assert_eq!(names(c), vec!["f1", "f2", "f3", "f4", "f5"]);
    assert_eq!(
        after(c),
        &[s(&f1), s(long2), s("var1"), s("one,three"), s("0123456789")]
    );
    let u = &r.changes[1];
    assert_eq!(u.op, Op::Update);
    assert_eq!(before(u), after(c));
    assert_eq!(
        after(u),
        &[
            s("field1"),
            s("field_2"),
            s("variant2"),
            s("two,four"),
            s(long2)
        ]
    );
    let d = &r.changes[2];
    assert_eq!(d.op, Op::Delete);
    assert_eq!(before(d), after(u));
    assert!(d.after.is_none());
}

#[test]
fn bit_columns() {
    let Some(r) = ok("mysql_common--mysql_type_bit.000001") else {
        return;
    };
    assert_eq!(r.changes.len(), 1);
    let c = &r.changes[0];
    assert_eq!(names(c), vec!["a", "b", "c"]);
    assert_eq!(
        after(c),
        &[Value::Bit(0b100), s("foo"), Value::Bit(0b0010_0000)]
    );
}

#[test]
fn invisible_columns() {
    let Some(r) = ok("mysql_common--binlog-invisible-columns.000001") else {
        return;
    };
    assert_eq!(r.changes.len(), 3);
    let c = &r.changes[0];
    assert_eq!(names(c), vec!["f1", "f2", "f3", "f4", "f5", "f6"]);
    let row1 = [
        Value::UInt(1),
        Value::UInt(2),
        Value::Int(-3),
        s("4"),
        Value::Bytes(vec![5]),
        Value::UInt(6_000_000_000),
    ];
    assert_eq!(after(c), &row1);
    let row2 = [
        Value::Null,
        Value::Null,
        Value::Int(-33),
        s("44"),
        Value::Bytes(b"U".to_vec()),
        Value::Null,
    ];
    assert_eq!(after(&r.changes[1]), &row2);
    let u = &r.changes[2];
    assert_eq!(before(u), &row2);
    assert_eq!(
        after(u),
        &[
            Value::UInt(111),
            Value::UInt(222),
            Value::Int(-333),
            s("444"),
            Value::Bytes(b"U".to_vec()),
            Value::Null
        ]
    );
}

#[test]
fn negative_time_minimal_metadata() {
    let Some(r) = ok("mysql_common--time_issue.000001") else {
        return;
    };
    assert_eq!(r.changes.len(), 1);
    let c = &r.changes[0];
    assert_eq!(c.table.full_name(), "noria.t");
    assert_eq!(names(c), vec!["@1"]);
    assert_eq!(
        after(c),
        &[Value::Time(-(507 * 3600 + 48 * 60 + 27) * 1_000_000)]
    );
}

#[test]
fn unsigned_int_minimal_metadata_and_minimal_image() {
    let Some(r) = ok("mysql_common--minimal_row_metadata.000001") else {
        return;
    };
    assert_eq!(r.changes.len(), 1);
    let c = &r.changes[0];
    assert_eq!(names(c), vec!["@1", "@2", "@3", "@4", "@5"]);
    // binlog_row_image=MINIMAL: only @1, @3 and @5 are in the image; @5 is an INT UNSIGNED
    // above 2^31 (mariadb-binlog shows -1064764973 (3230202323)); the signedness comes from
    // the MINIMAL optional metadata.
    assert_eq!(
        after(c),
        &[
            Value::Int(1),
            Value::Null,
            s("a"),
            Value::Null,
            Value::UInt(3_230_202_323)
        ]
    );
}

#[test]
fn minimal_metadata_without_schema_is_an_error_by_default() {
    let Some(r) = run("mysql_common--time_issue.000001", ReplayOptions::default()) else {
        return;
    };
    let err = r.result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("no schema is known for noria.t"), "{err}");
    assert!(r.changes.is_empty());
}

#[test]
fn mariadb_10_5_gtid_and_annotate() {
    let Some(r) = ok("mysql_common--mariadb-bin.000001") else {
        return;
    };
    assert_eq!(r.changes.len(), 2);
    for (c, (id, seq, ts)) in r
        .changes
        .iter()
        .zip([(62, 1, 1650493084), (63, 2, 1650493195)])
    {
        assert_eq!(c.table.full_name(), "toddy_test.outbox");
        assert_eq!(
            names(c),
            vec!["id", "topic", "event_type", "event", "created"]
        );
        assert_eq!(
            after(c),
            &[
                Value::Int(id),
                s("foo"),
                s("JSON"),
                Value::Bytes(br#"{"foo":1}"#.to_vec()),
                Value::Timestamp {
                    secs: ts,
                    micros: 0
                },
            ]
        );
        assert_eq!(
            c.position.gtid.as_deref(),
            Some(format!("0-1-{seq}").as_str())
        );
        assert_eq!(
            c.query.as_deref(),
            Some(
                r#"insert into outbox (topic, event_type, event) values ('foo', 'JSON', '{"foo":1}')"#
            )
        );
        assert_eq!(c.table.primary_key, vec![0]);
    }
}

#[test]
fn json_documents_and_partial_update() {
    let Some(r) = run("mysql_common--json.binlog.000001", lenient()) else {
        return;
    };
    let docs = [
        (
            1,
            r#"{"age":24,"data":"xxxxxxxxxx","name":"Joe"}"#,
            "Joe",
            24,
        ),
        (
            2,
            r#"{"age":32,"data":"yyyyyyyyyy","name":"Sue"}"#,
            "Sue",
            32,
        ),
        (
            3,
            r#"{"age":40,"data":"zzzzzzzzzz","name":"Pete"}"#,
            "Pete",
            40,
        ),
        (
            4,
            r#"{"age":24,"data":"xxxxxxxxxx","name":"Joe"}"#,
            "Joe",
            24,
        ),
        (
            5,
            r#"{"age":32,"data":"yyyyyyyyyy","name":"Sue"}"#,
            "Sue",
            32,
        ),
        (
            6,
            r#"{"age":40,"data":"zzzzzzzzzz","name":"Pete"}"#,
            "Pete",
            40,
        ),
    ];
    let row = |(id, doc, name, age): (i64, &str, &str, i64)| {
        vec![
            Value::Int(id),
            Value::Json(doc.into()),
            s(name),
            Value::Int(age),
        ]
    };
    assert_eq!(r.changes.len(), 12);
    for (i, d) in docs.iter().enumerate() {
        assert_eq!(r.changes[i].op, Op::Create);
        assert_eq!(after(&r.changes[i]), row(*d).as_slice());
        // The full UPDATE … SET age = age + 1 (JSON_SET on the document).
        let u = &r.changes[6 + i];
        assert_eq!(u.op, Op::Update);
        assert_eq!(before(u), row(*d).as_slice());
        let next =
            d.1.replace(&format!("\"age\":{}", d.3), &format!("\"age\":{}", d.3 + 1));
        assert_eq!(after(u), row((d.0, &next, d.2, d.3 + 1)).as_slice());
    }
    // The PARTIAL_UPDATE_ROWS event was logged with binlog_row_image=MINIMAL: its before
    // image holds only `id`, so the diff has no document to apply to. That is a definite
    // error naming the column, never a guessed value.
    let err = r.result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        err.contains("partial JSON update without a JSON before image"),
        "{err}"
    );

    // The diff itself ($.age := 26 for id 1, bytes from the event at offset 3750), applied
    // to the document the previous UPDATE left, gives the document MySQL stored.
    let diff = [
        0x00, 0x05, b'$', b'.', b'a', b'g', b'e', 0x03, 0x05, 0x1a, 0x00,
    ];
    let doc =
        rowtide::decode::json::apply_diffs(r#"{"age":25,"data":"xxxxxxxxxx","name":"Joe"}"#, &diff)
            .expect("diff applies");
    assert_eq!(doc, r#"{"age":26,"data":"xxxxxxxxxx","name":"Joe"}"#);
}

#[test]
fn json_opaque_values() {
    let Some(r) = ok("mysql_common--json-opaque.binlog") else {
        return;
    };
    let got: Vec<&Value> = r.changes.iter().map(|c| &after(c)[0]).collect();
    let want = [
        r#"{"a":"base64:type15:VQ=="}"#,
        r#"{"b":"2012-03-18"}"#,
        r#"{"c":"2012-03-18 11:30:45.000000"}"#,
        r#"{"c":"87:31:46.654321"}"#,
        r#"{"d":123.456}"#,
        r#"{"e":9.00}"#,
        r#"{"e":[0,1,true,false]}"#,
        r#"{"e":null}"#,
    ];
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(**g, Value::Json(w.into()));
    }
    assert!(r.changes.iter().all(|c| names(c) == vec!["a"]));
}

#[test]
fn vector_columns() {
    let Some(r) = ok("mysql_common--vector.binlog") else {
        return;
    };
    assert_eq!(r.changes.len(), 10);
    let v = |x: &[f32]| Value::Vector(x.to_vec());
    let foo1 = [Value::UInt(1), v(&[1.1, 2.2, 3.3])];
    let foo2 = [Value::UInt(2), v(&[1.0, -1.0, 0.0])];
    let bar1 = [
        Value::UInt(1),
        v(&[1.1, 2.2]),
        Value::Null,
        v(&[1.1, 2.2, 3.3, 4.4]),
    ];
    let bar2 = [
        Value::UInt(2),
        v(&[1.01, -1.01]),
        s("bar"),
        v(&[42.0, 43.0, 44.0, 45.0]),
    ];
    for k in [0, 4] {
        assert_eq!(names(&r.changes[k]), vec!["id", "vector_column"]);
        assert_eq!(after(&r.changes[k]), &foo1);
        assert_eq!(after(&r.changes[k + 1]), &foo2);
        assert_eq!(
            names(&r.changes[k + 2]),
            vec!["id", "vector_column", "foo", "vector_column2"]
        );
        assert_eq!(after(&r.changes[k + 2]), &bar1);
        assert_eq!(after(&r.changes[k + 3]), &bar2);
    }
    assert_eq!(r.changes[8].op, Op::Delete);
    assert_eq!(before(&r.changes[8]), &bar2);
    assert_eq!(
        after(&r.changes[9]),
        &[
            Value::UInt(3),
            v(&[2.01, -2.01]),
            Value::Null,
            v(&[42.1, 43.2, 44.3, 45.4])
        ]
    );
}

#[test]
fn canal_add_drop_column_follows_ddl() {
    let Some(r2) = ok("canal-tsdb--mysql-bin.000002") else {
        return;
    };
    let c = r2.changes.last().expect("a row");
    assert_eq!(c.table.full_name(), "wanshao.wanshao_test");
    assert_eq!(names(c), vec!["id", "name", "age"]);
    assert_eq!(after(c), &[Value::Int(34), s("kami"), Value::Int(18)]);
    // 000003 continues 000002: its catalog is the one 000002 left (the CREATE TABLE is
    // there, not in 000003), and it follows the ALTERs in 000003.
    let catalog = r2.result.ok();
    let Some(r3) = run(
        "canal-tsdb--mysql-bin.000003",
        ReplayOptions {
            catalog,
            ..ReplayOptions::default()
        },
    ) else {
        return;
    };
    if let Err(e) = &r3.result {
        panic!("000003: {e}");
    }
    let rows: Vec<(Vec<&str>, &[Value])> = r3
        .changes
        .iter()
        .filter(|c| c.table.name == "wanshao_test")
        .map(|c| (names(c), after(c)))
        .collect();
    assert_eq!(rows[0].0, vec!["id", "name", "age", "col2"]);
    assert_eq!(
        rows[0].1,
        &[Value::Int(35), s("helol"), Value::Int(123), Value::Int(123)]
    );
    assert_eq!(rows[1].0, vec!["id", "name", "age", "col2", "col1"]);
    assert_eq!(
        rows[1].1,
        &[
            Value::Int(36),
            s("hel33ol"),
            Value::Int(123),
            Value::Int(124),
            Value::Null
        ]
    );
    assert_eq!(rows[2].0, vec!["id", "name", "age", "col2", "col1", "col3"]);
    assert_eq!(
        rows[2].1,
        &[
            Value::Int(37),
            s("more2"),
            Value::Int(123),
            Value::Int(123),
            Value::Int(555),
            Value::Int(666)
        ]
    );
    assert_eq!(rows[5].0, vec!["id", "name", "age", "col2", "col1"]);
    assert_eq!(rows[5].1[0], Value::Int(40));
    assert_eq!(rows[5].1[2], Value::Int(111));
}

#[test]
fn sakila_row_counts() {
    let Some(r) = ok("binlog-connector-java--mysql-bin.sakila.gz") else {
        return;
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for c in &r.changes {
        assert_eq!(c.op, Op::Create, "{}", c.table.full_name());
        *counts.entry(c.table.name.clone()).or_default() += 1;
    }
    // Every table's row count, derived independently of rowtide: the file holds only
    // write-rows events (one INSERT per row in the decoded text), counted with
    //   zcat binlog-connector-java--mysql-bin.sakila.gz > sakila.bin
    //   mariadb-binlog --base64-output=decode-rows -v sakila.bin \
    //     | grep -E '^### (INSERT INTO|UPDATE|DELETE FROM)' | awk '{print $2, $NF}' \
    //     | sort | uniq -c
    // (47,273 rows, all INSERTs). `staff` is the table whose `password VARCHAR(40) BINARY`
    // column the DDL reader must follow for the replay to reach the end.
    let want = [
        ("actor", 200),
        ("address", 603),
        ("category", 16),
        ("city", 600),
        ("country", 109),
        ("customer", 599),
        ("film", 1000),
        ("film_actor", 5462),
        ("film_category", 1000),
        ("film_text", 1000),
        ("inventory", 4581),
        ("language", 6),
        ("payment", 16049),
        ("rental", 16044),
        ("staff", 2),
        ("store", 2),
    ];
    let want: BTreeMap<String, usize> = want.iter().map(|(t, n)| (t.to_string(), *n)).collect();
    assert_eq!(counts, want);
    // Names come from the CREATE TABLE statements in the file (MySQL 5.5 logs no metadata).
    let actor = r
        .changes
        .iter()
        .find(|c| c.table.name == "actor")
        .expect("actor");
    assert_eq!(
        names(actor),
        vec!["actor_id", "first_name", "last_name", "last_update"]
    );
    assert_eq!(after(actor)[0], Value::UInt(1));
    assert_eq!(after(actor)[1], s("PENELOPE"));
    assert_eq!(after(actor)[2], s("GUINESS"));
    let staff = r
        .changes
        .iter()
        .find(|c| c.table.name == "staff")
        .expect("staff");
    let password = staff
        .table
        .column_index("password")
        .expect("password column");
    // `VARCHAR(40) BINARY` is text in the charset's _bin collation, not bytes.
    assert!(!staff.table.columns[password].is_binary());
    assert_eq!(names(staff).len(), 11, "{:?}", names(staff));
}

#[test]
fn truncated_file_names_the_offset() {
    let Some(r) = run("mysql_common--binlog_truncated_event.000001", lenient()) else {
        return;
    };
    match r.result {
        Err(Error::File {
            offset,
            reason,
            file,
        }) => {
            assert_eq!(offset, 4);
            assert!(file.ends_with("binlog_truncated_event.000001"));
            assert!(reason.contains("ends inside"), "{reason}");
        }
        other => panic!("expected a file error, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn bad_magic_is_a_clear_error() {
    let Some(r) = run("canal-tsdb--mysql-bin.000001", lenient()) else {
        return;
    };
    match r.result {
        Err(Error::File { offset, reason, .. }) => {
            assert_eq!(offset, 0);
            assert!(reason.contains("not a binlog file"), "{reason}");
        }
        other => panic!("expected a file error, got {:?}", other.map(|_| ())),
    }
    assert_eq!((r.changes.len(), r.commits, r.ddl.len()), (0, 0, 0));
}

#[test]
fn plain_replay_file_still_works() {
    let Some(p) = path("mysql_common--mariadb-bin.000001") else {
        return;
    };
    let mut n = 0;
    replay_file(&p, Filter::all(), &mut |ev| {
        if matches!(ev, SourceEvent::Change(_)) {
            n += 1;
        }
        Ok(())
    })
    .expect("replay");
    assert_eq!(n, 2);
}

#[test]
fn tagged_gtid_reaches_the_position() {
    let Some(r) = ok("mysql_common--binlog_transaction_with_GTID_TAG.000001") else {
        return;
    };
    assert_eq!(r.changes.len(), 1);
    let c = &r.changes[0];
    assert_eq!(c.table.full_name(), "test.orders");
    assert_eq!(
        c.position.gtid.as_deref(),
        Some("55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3")
    );
    assert_eq!(
        after(c),
        &[
            Value::Int(3),
            Value::Int(100),
            Value::Decimal("250.00".into())
        ]
    );
}

#[test]
fn compressed_transactions() {
    let Some(r) = ok("mysql_common--transaction_compression.000001") else {
        return;
    };
    assert_eq!(r.changes.len(), 1);
    assert_eq!(r.changes[0].table.full_name(), "test.tb1");
    assert_eq!(after(&r.changes[0]), &[Value::Int(1)]);

    let Some(r) = ok("binlog-connector-java--mysql-bin.compressed") else {
        return;
    };
    assert_eq!(r.changes.len(), 1);
    let u = &r.changes[0];
    assert_eq!(
        (u.table.full_name().as_str(), u.op),
        ("demo.movies", Op::Update)
    );
    assert_eq!(
        before(u)[..5],
        [
            Value::Int(1),
            s("Once Upon a Time in the West"),
            Value::Int(1968),
            s("Italy"),
            s("Western")
        ]
    );
    assert_eq!(after(u)[4], s("Western|Action"));
    assert_eq!(before(u)[5..], after(u)[5..]);

    let Some(r) = ok("binlog-connector-rust--mysql-bin.000057") else {
        return;
    };
    assert_eq!(r.ddl, vec!["create table b(id int)".to_string()]);
    assert_eq!(r.changes.len(), 3);
    let b = &r.changes[0];
    assert_eq!((names(b), after(b)), (vec!["id"], &[Value::Int(1)][..]));
    assert_eq!(
        b.position.gtid.as_deref(),
        Some("76f3e7be-6720-11ed-9cad-0242ac110002:12")
    );
    let u = &r.changes[1];
    assert_eq!(
        (u.table.full_name().as_str(), u.op, u.table.columns.len()),
        ("a.test_table_3", Op::Update, 20)
    );
    assert_eq!(
        before(u)[..4],
        [
            Value::Int(55555),
            s("product_item_value_2"),
            Value::Date {
                year: 2022,
                month: 11,
                day: 20
            },
            Value::Int(111)
        ]
    );
    assert_eq!(before(u)[9], Value::Json(r#"{"c":1}"#.into()));
    assert_eq!(
        (&before(u)[7], &after(u)[7]),
        (&Value::UInt(8), &Value::UInt(4))
    );
    assert_eq!(after(u)[10], s("product_3_value"));
    assert_eq!(after(&r.changes[2])[0], Value::Int(6666));
}

#[test]
fn utf8mb4_text_mysql_5_7() {
    let Some(r) = ok("binlog-connector-rust--mysql-bin.000080") else {
        return;
    };
    let emoji: Vec<&Change> = r
        .changes
        .iter()
        .filter(|c| c.table.name == "emoji")
        .collect();
    // The file's one `emoji` row holds an empty string (mariadb-binlog agrees); the column
    // is utf8mb4 per the CREATE TABLE in the file, whose names the catalog took.
    assert_eq!(emoji.len(), 1);
    assert_eq!(names(emoji[0]), vec!["id", "value"]);
    assert_eq!(after(emoji[0]), &[Value::Int(2), s("")]);
    assert_eq!(r.changes.len(), 7);
}

#[test]
fn checksum_crc32_application_traffic() {
    let Some(r) = ok("binlog-connector-java--mysql-bin.checksum-crc32") else {
        return;
    };
    assert_eq!(r.changes.len(), 63);
    let c = &r.changes[0];
    assert_eq!(c.table.full_name(), "simu_file_dev.folder");
    assert_eq!(
        after(c),
        &[
            Value::Int(12300113),
            s("test2"),
            s("/"),
            Value::Int(116103),
            Value::Timestamp {
                secs: 1525422719,
                micros: 0
            },
            Value::Int(906703),
            Value::Int(0),
            Value::Int(0),
            Value::Int(0),
            Value::Timestamp {
                secs: 1525422719,
                micros: 0
            },
            Value::Int(0),
            Value::Int(12200009),
        ]
    );
    // A v2 UPDATE whose after image renames the file to UTF-8 text.
    let u = r
        .changes
        .iter()
        .find(|c| c.op == Op::Update && c.table.name == "file")
        .expect("update");
    assert_eq!(
        before(u)[1],
        s("Balance(magazine)-04-2.3.001-bigpicture_04_2.jpg")
    );
    assert_eq!(after(u)[1], s("陶瓷.jpg"));
    assert_eq!(after(u)[8], Value::Double(449847.0));
}
