//! DDL read under the session's `sql_mode`, end to end: a private MariaDB logging MINIMAL
//! row metadata runs DDL under ANSI_QUOTES, NO_BACKSLASH_ESCAPES, REAL_AS_FLOAT and ORACLE (and a
//! system-versioned table and a sequence, whose rows carry columns the DDL does not name),
//! writes a row after each, and the replay of its binlog must name every column of every
//! row. Without the `sql_mode` from the QUERY event the first three statements read
//! differently (a string instead of a name, an unterminated string, DOUBLE instead of
//! FLOAT, DATE instead of DATETIME) and the rows would be refused.

mod common;

use std::collections::BTreeMap;

use common::mariadb::PrivateMariadb;
use rowtide::model::{filter::Filter, SourceEvent, Value};
use rowtide::source::file::{replay_file_with, ReplayOptions};

/// A private MariaDB logging MINIMAL row metadata, with its own temporary directory (two
/// servers sharing /tmp can trip over each other's internal temporary tables).
/// The directory is removed when the returned guard drops (after the server, declared
/// before it).
fn minimal_server() -> (tempfile::TempDir, PrivateMariadb) {
    let tmp = tempfile::tempdir().unwrap();
    let m = PrivateMariadb::start(&[
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        "--binlog-row-metadata=MINIMAL",
        &format!("--tmpdir={}", tmp.path().display()),
    ]);
    (tmp, m)
}

/// A row's column names and values.
type Row = (Vec<String>, Vec<Value>);

#[test]
fn ddl_under_the_sessions_sql_mode_is_followed() {
    let Some(_env) = common::servers() else {
        return;
    };
    let (_tmp, m) = minimal_server();
    m.sql(
        "CREATE DATABASE m; USE m; \
         SET sql_mode = 'ANSI_QUOTES'; \
         CREATE TABLE \"q t\" (\"a b\" INT, \"c\" VARCHAR(5) DEFAULT 'x'); \
         INSERT INTO \"q t\" VALUES (1, 'y'); \
         SET sql_mode = 'NO_BACKSLASH_ESCAPES'; \
         CREATE TABLE nb (a VARCHAR(3) DEFAULT 'a\\', b INT COMMENT 'x\\'); \
         INSERT INTO nb VALUES ('z', 2); \
         SET sql_mode = 'REAL_AS_FLOAT'; \
         CREATE TABLE rf (r REAL, d DOUBLE); \
         INSERT INTO rf VALUES (1.5, 2.5); \
         SET sql_mode = 'ORACLE'; \
         CREATE TABLE ora (a VARCHAR2(5), b NUMBER(8,2), c NUMBER, d DATE, e BLOB, f RAW(2)); \
         INSERT INTO ora VALUES ('o', 1.5, 2.5, '2020-01-02 03:04:05', 'b', 'r'); \
         SET sql_mode = DEFAULT; \
         CREATE TABLE sv (id INT PRIMARY KEY, x INT) WITH SYSTEM VERSIONING; \
         INSERT INTO sv VALUES (1, 2); \
         SET system_versioning_alter_history = KEEP; ALTER TABLE sv ADD COLUMN y INT; \
         INSERT INTO sv VALUES (2, 3, 4); \
         CREATE SEQUENCE s; SELECT NEXTVAL(s); \
         FLUSH BINARY LOGS",
    )
    .unwrap();
    let file = m.dir.path().join("bin.000001");
    let mut rows: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let opts = ReplayOptions {
        capture_system_schemas: false,
        ..ReplayOptions::default()
    };
    replay_file_with(&file, Filter::all(), opts, &mut |ev| {
        if let SourceEvent::Change(c) = ev {
            let names = c.table.columns.iter().map(|c| c.name.clone()).collect();
            let after = c.after.clone().unwrap_or_default();
            rows.entry(c.table.name.clone())
                .or_default()
                .push((names, after));
        }
        Ok(())
    })
    .unwrap_or_else(|e| panic!("replay of {}: {e}", file.display()));
    let names = |t: &str, i: usize| rows[t][i].0.clone();
    assert_eq!(names("q t", 0), vec!["a b", "c"]);
    assert_eq!(rows["q t"][0].1[1], Value::String("y".into()));
    assert_eq!(names("nb", 0), vec!["a", "b"]);
    assert_eq!(names("rf", 0), vec!["r", "d"]);
    assert_eq!(names("ora", 0), vec!["a", "b", "c", "d", "e", "f"]);
    assert_eq!(names("sv", 0), vec!["id", "x", "row_start", "row_end"]);
    assert_eq!(names("sv", 1), vec!["id", "x", "y", "row_start", "row_end"]);
    assert_eq!(names("s", 0)[0], "next_not_cached_value");
    assert_eq!(names("s", 0).len(), 8);
}

/// A system-versioned table and a sequence created while rowtide streams from a server
/// logging MINIMAL metadata: their rows carry columns the DDL does not name (`row_start`,
/// `row_end`; the sequence's eight), and every one decodes with its name. A versioned table
/// that exists before is snapshotted (its current rows) and streamed the same way.
#[test]
fn system_versioned_table_and_sequence_while_streaming() {
    let Some(env) = common::servers() else { return };
    let (_tmp, m) = minimal_server();
    // One system-versioned table before the snapshot (information_schema lists neither
    // row_start nor row_end), one created while streaming.
    m.sql(
        "CREATE DATABASE sv; CREATE TABLE sv.old (id INT PRIMARY KEY) WITH SYSTEM VERSIONING; \
         INSERT INTO sv.old VALUES (7); CREATE SEQUENCE sv.olds",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let prefix = common::unique("svt").replace('_', "");
    let cfg = dir.path().join("rowtide.toml");
    std::fs::write(
        &cfg,
        format!(
            "[source]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"cdc\"\npassword = \"pw\"\n\
             server_id = {}\ninclude = [\"sv\\\\..*\"]\nheartbeat_interval_ms = 500\n\
             read_timeout_ms = 2000\n[sink]\nbrokers = \"{}\"\ntopic_prefix = \"{prefix}\"\n\
             [checkpoint]\npath = \"{}\"\nflush_interval_ms = 100\n[metrics]\nlisten = \"\"\n",
            m.port,
            common::server_id(),
            env.kafka_brokers,
            dir.path().join("state").display()
        ),
    )
    .unwrap();
    let mut rt = common::proc::Rowtide::with_config(&cfg, dir.path());
    common::poll::poll_until(
        "rowtide to stream",
        std::time::Duration::from_secs(60),
        std::time::Duration::from_millis(200),
        || {
            let log = rt.log_text();
            if log.contains("Connected to the binlog stream") {
                Ok(())
            } else {
                Err(log)
            }
        },
    );
    m.sql(
        "CREATE TABLE sv.t (id INT PRIMARY KEY, x INT) WITH SYSTEM VERSIONING; \
         INSERT INTO sv.t VALUES (1, 1); CREATE SEQUENCE sv.s; SELECT NEXTVAL(sv.s); \
         INSERT INTO sv.old VALUES (8); SELECT NEXTVAL(sv.olds)",
    )
    .unwrap();
    let topics = vec![
        format!("{prefix}.sv.t"),
        format!("{prefix}.sv.s"),
        format!("{prefix}.sv.old"),
        format!("{prefix}.sv.olds"),
    ];
    let recs = common::kafka::wait_for(
        &env.kafka_brokers,
        &topics,
        std::time::Duration::from_secs(60),
        "the table's row and the sequence's row",
        |r| {
            let on = |t: &str| {
                r.iter()
                    .filter(|r| r.topic.ends_with(t) && r.value.is_some())
                    .count()
            };
            on(".sv.t") >= 1 && on(".sv.s") >= 1 && on(".sv.old") >= 2 && on(".sv.olds") >= 2
        },
    );
    let st = rt.stop();
    assert!(st.success(), "graceful stop: {st:?}\n{}", rt.log_text());
    let after = |suffix: &str| {
        recs.iter()
            .find(|r| r.topic.ends_with(suffix) && r.value.is_some())
            .map(|r| r.value_json()["after"].clone())
            .unwrap_or_else(|| panic!("no row on {suffix}"))
    };
    let row = after(".sv.t");
    let mut keys: Vec<&str> = row
        .as_object()
        .expect("after is an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, vec!["id", "row_end", "row_start", "x"]);
    assert_eq!((row["id"].clone(), row["x"].clone()), (1.into(), 1.into()));
    assert_eq!(after(".sv.s")["next_not_cached_value"], 1001);
    // The snapshot read the versioned table too, and its streamed row decodes.
    let old: Vec<serde_json::Value> = recs
        .iter()
        .filter(|r| r.topic.ends_with(".sv.old") && r.value.is_some())
        .map(|r| r.value_json())
        .collect();
    let ids: Vec<(serde_json::Value, serde_json::Value)> = old
        .iter()
        .map(|v| (v["op"].clone(), v["after"]["id"].clone()))
        .collect();
    assert_eq!(ids, vec![("r".into(), 7.into()), ("c".into(), 8.into())]);
    for v in &old {
        assert!(v["after"]["row_start"].is_string(), "{v}");
    }
    // A sequence that exists before is snapshotted as the table it is, then streamed.
    let olds: Vec<(serde_json::Value, serde_json::Value)> = recs
        .iter()
        .filter(|r| r.topic.ends_with(".sv.olds") && r.value.is_some())
        .map(|r| {
            let v = r.value_json();
            (v["op"].clone(), v["after"]["next_not_cached_value"].clone())
        })
        .collect();
    assert_eq!(
        olds,
        vec![("r".into(), 1.into()), ("c".into(), 1001.into())]
    );
}
