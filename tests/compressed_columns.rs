//! MariaDB column compression (`TEXT COMPRESSED`, `VARCHAR(n) COMPRESSED`, … 10.3+): the
//! table map logs such columns with MariaDB's own types 140/141 and the row images hold
//! the compressed stored form (a header byte, then the bytes as they are or zlib).
//!
//! Live against the shared MariaDB (FULL metadata) through the real binary and Kafka: rows
//! read by the snapshot and the same rows streamed (copied with `INSERT … SELECT`, so even
//! random bytes are the same) carry the same values and schemas, equal to what the server
//! returns; an update's before image too. On a private server logging MINIMAL metadata the
//! binlog is replayed and every value compared with the server's `SELECT`. Values cover the
//! server's two stored forms: short (under `column_compression_threshold`) and
//! incompressible values kept as they are, long ones zlib-compressed; NULL, empty, and
//! multibyte utf8mb4 text. Malformed values are unit tests in `src/decode/compressed.rs`.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::kafka::{wait_for_async, Record};
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;
use rowtide::model::Value;
use serde_json::{json, Value as Json};

const COLUMNS: &str = "id INT NOT NULL PRIMARY KEY, \
    t TEXT CHARACTER SET utf8mb4 COMPRESSED NULL, \
    b BLOB COMPRESSED NULL, \
    v VARCHAR(200) CHARACTER SET utf8mb4 COMPRESSED NULL, \
    vb VARBINARY(300) COMPRESSED NULL, \
    tt TINYTEXT CHARACTER SET utf8mb4 COMPRESSED NULL, \
    lb LONGBLOB COMPRESSED NULL";

/// Which columns hold bytes (the rest are utf8mb4 text).
const NAMES: [&str; 6] = ["t", "b", "v", "vb", "tt", "lb"];
const BINARY: [bool; 6] = [false, true, false, true, false, true];

/// Rows 1…: short (stored as is), long (zlib), NULL, empty, incompressible (stored as is
/// although long), multibyte text at the column's limits.
const VALUES: &[&str] = &[
    "'a', x'01', 'ü', x'ff', 'x', x'00'",
    "REPEAT('abc ü😀 ', 300), REPEAT(x'00ff10', 400), REPEAT('日本語😀', 50), \
     REPEAT(x'00ff', 150), REPEAT('ab', 120), REPEAT('lorem ipsum ', 20000)",
    "NULL, NULL, NULL, NULL, NULL, NULL",
    "'', '', '', '', '', ''",
    "'😀 short but multibyte 😀', RANDOM_BYTES(1000), REPEAT('é', 99), RANDOM_BYTES(300), \
     '', CONCAT(RANDOM_BYTES(1024), RANDOM_BYTES(1024))",
    "REPEAT('😀', 3000), x'', REPEAT('😀', 200), REPEAT(x'61', 300), REPEAT('€', 85), NULL",
];

fn b64(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// The server's rows of `table`, by id, as the JSON rowtide writes for them (text as
/// strings, bytes as base64).
async fn server_rows(c: &mut mysql_async::Conn, table: &str) -> BTreeMap<i64, Json> {
    let rows: Vec<mysql_async::Row> = c
        .query(format!("SELECT id, {} FROM {table}", NAMES.join(", ")))
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| {
            let id: i64 = r.get(0).unwrap();
            let mut m = serde_json::Map::new();
            for (k, name) in NAMES.iter().enumerate() {
                let v: Option<Vec<u8>> = r.get(k + 1).unwrap();
                let j = match v {
                    None => Json::Null,
                    Some(b) if BINARY[k] => json!(b64(&b)),
                    Some(b) => json!(String::from_utf8(b).unwrap()),
                };
                m.insert(name.to_string(), j);
            }
            (id, Json::Object(m))
        })
        .collect()
}

/// The field schemas of `after` in a `json_schema` value, by field name (without `id`).
fn after_schemas(v: &Json) -> BTreeMap<String, Json> {
    v["schema"]["fields"]
        .as_array()
        .expect("schema fields")
        .iter()
        .find(|f| f["field"] == "after")
        .expect("after field")["fields"]
        .as_array()
        .expect("after fields")
        .iter()
        .map(|f| (f["field"].as_str().unwrap().to_string(), f.clone()))
        .filter(|(n, _)| n != "id")
        .collect()
}

/// An image without its id.
fn without_id(image: &Json) -> Json {
    let mut v = image.clone();
    v.as_object_mut().expect("an image").remove("id");
    v
}

fn by_id(recs: &[Record], op: &str, id: i64) -> Json {
    recs.iter()
        .filter_map(|r| r.value.as_ref().map(|_| r.value_json()))
        .find(|v| {
            let image = if op == "d" { "before" } else { "after" };
            v["payload"]["op"] == op && v["payload"][image]["id"] == json!(id)
        })
        .unwrap_or_else(|| panic!("no op={op} record for id {id}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_and_stream_agree_with_the_server_on_compressed_columns() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "colcomp").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop("SET NAMES utf8mb4").await.unwrap();
    c.query_drop(format!("CREATE TABLE cc ({COLUMNS})"))
        .await
        .unwrap();
    for (i, v) in VALUES.iter().enumerate() {
        c.query_drop(format!("INSERT INTO cc VALUES ({}, {v})", i + 1))
            .await
            .unwrap();
    }

    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.format = "json_schema";
    setup.partitions = 1;
    let topics = vec![setup.topic("cc")];
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;

    // The same bytes streamed (row images of an INSERT … SELECT), then an update whose
    // before and after images are both compressed, then a delete.
    c.query_drop("INSERT INTO cc SELECT id + 100, t, b, v, vb, tt, lb FROM cc")
        .await
        .unwrap();
    c.query_drop(
        "UPDATE cc SET t = REPEAT('ñ', 5000), v = 'now short', lb = REPEAT('z', 70000) \
         WHERE id = 102",
    )
    .await
    .unwrap();
    c.query_drop("DELETE FROM cc WHERE id = 106").await.unwrap();
    let server = server_rows(&mut c, "cc").await;
    c.query_drop(format!("DROP DATABASE `{db}`")).await.ok();
    c.disconnect().await.ok();

    let n = VALUES.len();
    let want = 2 * n + 2;
    let recs = wait_for_async(
        &env.kafka_brokers,
        &topics,
        Duration::from_secs(120),
        "every snapshot and streamed row",
        move |r| r.iter().filter(|x| x.value.is_some()).count() >= want,
    )
    .await;
    assert!(rt.stop().success(), "{}", rt.log_tail(30));

    let schemas = after_schemas(&by_id(&recs, "r", 1));
    for (k, name) in NAMES.iter().enumerate() {
        let ty = if BINARY[k] { "bytes" } else { "string" };
        assert_eq!(schemas[*name]["type"], json!(ty), "schema of {name}");
    }
    for k in 1..=n as i64 {
        let snap = by_id(&recs, "r", k);
        let streamed = by_id(&recs, "c", 100 + k);
        let snap_after = without_id(&snap["payload"]["after"]);
        assert_eq!(
            snap_after,
            without_id(&streamed["payload"]["after"]),
            "row {k}: snapshot vs stream"
        );
        assert_eq!(
            after_schemas(&snap),
            after_schemas(&streamed),
            "row {k}: schemas"
        );
        assert_eq!(snap_after, server[&k], "row {k}: snapshot vs server");
        // 102 was updated and 106 deleted since.
        if k != 2 && k != 6 {
            assert_eq!(snap_after, server[&(100 + k)], "row {k}: stream vs server");
        }
    }
    let update = by_id(&recs, "u", 102);
    assert_eq!(
        without_id(&update["payload"]["before"]),
        without_id(&by_id(&recs, "r", 2)["payload"]["after"]),
        "update: before image"
    );
    assert_eq!(
        without_id(&update["payload"]["after"]),
        server[&102],
        "update: after image"
    );
    let delete = by_id(&recs, "d", 106);
    assert_eq!(
        without_id(&delete["payload"]["before"]),
        without_id(&by_id(&recs, "r", 6)["payload"]["after"]),
        "delete: before image"
    );
}

/// Decodes a `HEX()` string.
fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn minimal_metadata_decodes_compressed_columns_by_their_table_map_type() {
    if common::servers().is_none() {
        return; // no MariaDB installed here (CI fails in `servers` instead)
    }
    let m = common::mariadb::PrivateMariadb::start(&[
        "--binlog-format=ROW",
        "--binlog-row-metadata=MINIMAL",
        "--character-set-server=utf8mb4",
    ]);
    // The bare keyword as users write it (the DDL reader follows it, as it follows the
    // executable-comment form `SHOW CREATE TABLE` prints); the table map says 140/141 either
    // way and the decoding keys on that.
    let mut sql =
        format!("SET NAMES utf8mb4; CREATE DATABASE dm; USE dm; CREATE TABLE cc ({COLUMNS});");
    for (i, v) in VALUES.iter().enumerate() {
        sql.push_str(&format!("INSERT INTO cc VALUES ({}, {v});", i + 1));
    }
    // The same values again, compressed in the zlib-wrapped form (the default is a raw
    // deflate stream): INSERT … SELECT stores, and so compresses, them anew.
    sql.push_str(&format!(
        "SET SESSION column_compression_zlib_wrap = ON; \
         INSERT INTO cc SELECT id + 100, {} FROM cc; FLUSH BINARY LOGS;",
        NAMES.join(", ")
    ));
    m.sql(&sql).unwrap();
    // HEX for every column: the client's tab-separated output would escape some bytes.
    let select: Vec<String> = NAMES.iter().map(|n| format!("HEX({n})")).collect();
    let server: Vec<Vec<String>> = m.rows(&format!(
        "SELECT id, {} FROM dm.cc ORDER BY id",
        select.join(", ")
    ));
    let changes = m.replay_changes("dm\\..*");
    assert_eq!(changes.len(), 2 * VALUES.len());
    assert_eq!(server.len(), 2 * VALUES.len());
    for (c, want) in changes.iter().zip(&server) {
        let after = c.after.as_ref().expect("an insert");
        assert_eq!(after[0], Value::Int(want[0].parse().unwrap()));
        for (k, name) in NAMES.iter().enumerate() {
            let expected = match want[k + 1].as_str() {
                "NULL" => Value::Null,
                hex if BINARY[k] => Value::Bytes(unhex(hex)),
                hex => Value::String(String::from_utf8(unhex(hex)).unwrap()),
            };
            assert_eq!(after[k + 1], expected, "row {}, column {name}", want[0]);
        }
    }
}
