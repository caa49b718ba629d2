//! MariaDB's compressed binlog events (`log_bin_compress=ON`), live: the same workload runs
//! on a private server that compresses every event it can (`log_bin_compress_min_len=10`,
//! the smallest allowed) and on one that compresses nothing, with FULL and with MINIMAL row
//! metadata. The workload writes text, blob, JSON and integer columns, updates and deletes
//! rows, and changes the table's structure with a statement long enough to be compressed
//! (under MINIMAL only that statement tells rowtide the new column order).
//!
//! Checked: the compressing server's binlog really holds Query_compressed and
//! Write/Update/Delete_rows_compressed_v1 events (and the other server's none); `rowtide
//! replay` of the compressed binlog gives exactly the change events of the plain one
//! (key, op, before and after images, GTID) and the values computed here; each change
//! stands at its compressed event's position; and a `rowtide run` streaming from the
//! compressing server delivers the same events to Kafka, stopped right after the compressed
//! structure change and restarted without repeating it (a compressed statement commits at
//! the end of its event, not at its start).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::mariadb::PrivateMariadb;
use common::proc::{binary, Rowtide};
use serde_json::{json, Value};

const COMPRESSED_TYPES: [&str; 4] = [
    "Query_compressed",
    "Write_rows_compressed_v1",
    "Update_rows_compressed_v1",
    "Delete_rows_compressed_v1",
];

/// The table, then rows, an update and a delete, and a structure change (a column added in
/// the middle, one dropped) …
const WORKLOAD_BEFORE: &str = r#"
CREATE TABLE cz.docs (
  id INT NOT NULL PRIMARY KEY,
  n BIGINT,
  title VARCHAR(200),
  body TEXT,
  data BLOB,
  meta JSON
) ENGINE=InnoDB COMMENT='rows of this table are logged compressed';
INSERT INTO cz.docs VALUES
  (1, 10, 'first', REPEAT('lorem ipsum ', 40), REPEAT(x'00ff', 100), '{"tags": ["a", "b"], "n": 1}'),
  (2, -20, 'second', REPEAT('dolor sit amet ', 30), x'deadbeef', '{"nested": {"k": "v"}}'),
  (3, NULL, 'third', NULL, NULL, NULL);
UPDATE cz.docs SET body = CONCAT(body, 'the end'), n = n + 1 WHERE id <= 2;
DELETE FROM cz.docs WHERE id = 3;
ALTER TABLE cz.docs ADD COLUMN status VARCHAR(20) NOT NULL DEFAULT 'new' AFTER title,
  DROP COLUMN n;
"#;

/// … and more rows under the new structure.
const WORKLOAD_AFTER: &str = r#"
INSERT INTO cz.docs (id, title, status, body, data, meta)
  VALUES (4, 'fourth', 'draft', REPEAT('consectetur ', 50), REPEAT(x'01', 64), '[1, 2, 3]');
UPDATE cz.docs SET status = 'published' WHERE id = 1;
DELETE FROM cz.docs WHERE id = 2;
"#;

/// What a consumer needs to see the same change: topic suffix, key, operation and images,
/// and the transaction's GTID (tombstones: key only).
fn essence(topic: &str, key: &Value, value: &Value) -> Value {
    let table = topic.rsplit('.').next().unwrap_or_default();
    if value.is_null() {
        return json!({"table": table, "key": key, "tombstone": true});
    }
    json!({
        "table": table,
        "key": key,
        "op": value["op"],
        "before": value["before"],
        "after": value["after"],
        "gtid": value["source"]["gtid"],
    })
}

/// A server with the test's settings, with or without compression, and the database.
fn server(metadata: &str, compress: bool) -> PrivateMariadb {
    let metadata = format!("--binlog-row-metadata={metadata}");
    let mut args = vec![
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        metadata.as_str(),
    ];
    if compress {
        args.extend(["--log-bin-compress=ON", "--log-bin-compress-min-len=10"]);
    }
    let m = PrivateMariadb::start(&args);
    m.sql("CREATE DATABASE cz").unwrap();
    m
}

/// The binlog's events as (type, statement) (SHOW BINLOG EVENTS) and the start of every
/// compressed rows event.
fn binlog_events(m: &PrivateMariadb) -> (Vec<(String, String)>, Vec<u64>) {
    let out = m.sql("SHOW BINLOG EVENTS IN 'bin.000001'").unwrap();
    let mut types = Vec::new();
    let mut rows_at = Vec::new();
    for line in out.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(pos), Some(ty)) = (cols.get(1), cols.get(2)) else {
            continue;
        };
        if ty.contains("_rows_compressed") {
            rows_at.push(pos.parse().unwrap());
        }
        types.push((ty.to_string(), cols.get(5).unwrap_or(&"").to_string()));
    }
    (types, rows_at)
}

/// `rowtide replay` of the server's binlog: (essence, source.pos) of every record of cz.*.
fn replay(file: &Path) -> Vec<(Value, u64)> {
    let out = Command::new(binary())
        .args(["replay", "--include", "cz\\..*"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "replay of {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .filter(|l| l["topic"].as_str().is_some_and(|t| t.ends_with(".cz.docs")))
        .map(|l| {
            let topic = l["topic"].as_str().unwrap_or_default();
            let pos = l["value"]["source"]["pos"].as_u64().unwrap_or(0);
            (essence(topic, &l["key"], &l["value"]), pos)
        })
        .collect()
}

/// A schema-change record of the workload's ALTER TABLE.
fn is_alter(r: &common::kafka::Record) -> bool {
    r.value_json()["ddl"]
        .as_str()
        .is_some_and(|ddl| ddl.contains("ALTER TABLE cz.docs"))
}

fn binlog(m: &PrivateMariadb) -> PathBuf {
    m.dir.path().join("bin.000001")
}

/// The changes the workload makes, as computed here (tombstones after deletes).
fn assert_expected_values(events: &[Value]) {
    let ops: Vec<&str> = events
        .iter()
        .map(|e| e["op"].as_str().unwrap_or("tombstone"))
        .collect();
    assert_eq!(
        ops,
        [
            "c",
            "c",
            "c",
            "u",
            "u",
            "d",
            "tombstone",
            "c",
            "u",
            "d",
            "tombstone"
        ],
        "{events:#?}"
    );
    let lorem = "lorem ipsum ".repeat(40);
    let first_after = &events[3]["after"];
    assert_eq!(first_after["n"], 11);
    assert_eq!(first_after["body"], format!("{lorem}the end"));
    assert_eq!(first_after["title"], "first");
    assert_eq!(first_after["data"], base64_of(&[0x00, 0xff].repeat(100)));
    assert_eq!(first_after["meta"], r#"{"tags": ["a", "b"], "n": 1}"#);
    assert_eq!(events[3]["before"]["body"], lorem);
    let second = &events[1]["after"];
    assert_eq!(second["n"], -20);
    assert_eq!(second["data"], base64_of(&[0xde, 0xad, 0xbe, 0xef]));
    assert_eq!(
        events[5]["before"],
        json!({"id": 3, "n": null, "title": "third", "body": null, "data": null, "meta": null})
    );
    // Under the new structure: `status` after `title`, `n` gone.
    assert_eq!(
        events[7]["after"],
        json!({"id": 4, "title": "fourth", "status": "draft",
               "body": "consectetur ".repeat(50), "data": base64_of(&[1; 64]), "meta": "[1, 2, 3]"})
    );
    assert_eq!(events[8]["before"]["status"], "new");
    assert_eq!(events[8]["after"]["status"], "published");
    assert_eq!(events[9]["before"]["id"], 2);
    assert!(events[9]["before"].get("n").is_none(), "{}", events[9]);
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn config(dir: &Path, port: u16, brokers: &str, prefix: &str) -> PathBuf {
    let p = dir.join("rowtide.toml");
    std::fs::write(
        &p,
        format!(
            "[source]\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"cdc\"\npassword = \"pw\"\n\
             server_id = {}\ninclude = [\"cz\\\\..*\"]\nheartbeat_interval_ms = 500\n\
             read_timeout_ms = 3000\n[sink]\nbrokers = \"{brokers}\"\ntopic_prefix = \"{prefix}\"\n\
             [checkpoint]\npath = \"{}\"\nflush_interval_ms = 100\n[metrics]\nlisten = \"\"\n",
            common::server_id(),
            dir.join("state").display()
        ),
    )
    .unwrap();
    p
}

async fn compressed_events_match_plain_ones(metadata: &str) {
    let Some(env) = common::servers() else { return };
    let compressed = server(metadata, true);
    let plain = server(metadata, false);
    let dir = tempfile::tempdir().unwrap();
    let prefix = common::unique("cz").replace('_', "");
    let mut rt = Rowtide::with_config(
        &config(dir.path(), compressed.port, &env.kafka_brokers, &prefix),
        dir.path(),
    );
    rt.wait_streaming(1).await;
    // The stream is stopped right after the compressed structure change and resumes after
    // it, with rows under the new structure: nothing may be repeated or lost.
    for m in [&compressed, &plain] {
        m.sql(WORKLOAD_BEFORE).unwrap();
    }
    let topic = format!("{prefix}.cz.docs");
    let schema_topic = vec![prefix.clone()];
    common::kafka::wait_for_async(
        &env.kafka_brokers,
        &schema_topic,
        Duration::from_secs(60),
        "the structure change in Kafka",
        |r| r.iter().any(is_alter),
    )
    .await;
    let st = rt.stop();
    assert!(st.success(), "graceful stop: {st:?}\n{}", rt.log_text());
    for m in [&compressed, &plain] {
        m.sql(WORKLOAD_AFTER).unwrap();
    }
    rt.spawn();

    let (types, rows_at) = binlog_events(&compressed);
    for ty in COMPRESSED_TYPES {
        assert!(
            types.iter().any(|(t, _)| t == ty),
            "no {ty} event in {types:?}"
        );
    }
    assert!(
        types
            .iter()
            .any(|(t, sql)| t == "Query_compressed" && sql.contains("ALTER TABLE cz.docs")),
        "the structure change is logged compressed: {types:?}"
    );
    let (plain_types, _) = binlog_events(&plain);
    assert!(
        !plain_types.iter().any(|(t, _)| t.contains("compressed")),
        "{plain_types:?}"
    );

    let want: Vec<Value> = replay(&binlog(&plain))
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    assert_expected_values(&want);
    let got = replay(&binlog(&compressed));
    let got_events: Vec<Value> = got.iter().map(|(e, _)| e.clone()).collect();
    assert_eq!(got_events, want, "replay of the compressed binlog");
    for (e, pos) in &got {
        if !e["op"].is_null() {
            assert!(
                rows_at.contains(pos),
                "{e} at {pos}, not a compressed rows event {rows_at:?}"
            );
        }
    }

    let n = want.len();
    let recs = common::kafka::wait_for_async(
        &env.kafka_brokers,
        std::slice::from_ref(&topic),
        Duration::from_secs(60),
        "the streamed changes in Kafka",
        move |r| r.len() >= n,
    )
    .await;
    let st = rt.stop();
    assert!(st.success(), "graceful stop: {st:?}\n{}", rt.log_text());
    let alters = common::kafka::read_all(&env.kafka_brokers, &schema_topic)
        .iter()
        .filter(|r| is_alter(r))
        .count();
    assert_eq!(alters, 1, "the structure change went out once");
    // Kafka keeps order per key (partition), so both sides are compared key by key.
    let by_key = |mut v: Vec<Value>| {
        v.sort_by_key(|e| e["key"].to_string());
        v
    };
    let streamed: Vec<Value> = recs
        .iter()
        .map(|r| essence(&r.topic, &r.key_json(), &r.value_json()))
        .collect();
    assert_eq!(
        by_key(streamed),
        by_key(want),
        "streamed from the compressing server"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn full_metadata() {
    compressed_events_match_plain_ones("FULL").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn minimal_metadata() {
    compressed_events_match_plain_ones("MINIMAL").await;
}
