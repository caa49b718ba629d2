//! The schema-change topic side by side with Debezium's MariaDB connector (3.5.0.Final from
//! Maven Central, in a Kafka Connect standalone worker started by `scripts/connect`): both
//! capture one database of the shared MariaDB — a snapshot of tables with varied column
//! types, charsets, defaults and comments, then ALTERs of several kinds — and their
//! `<topic_prefix>` topics must agree record by record, key and value, in `json_schema`
//! (schemas and payloads) and `json` (payloads), ignoring only `source.version`,
//! `source.name` and processing timestamps.
//!
//! Debezium runs with `schema.history.internal.store.only.captured.tables.ddl=true`: like
//! rowtide, it then writes the DDL of captured tables only (by default it also writes every
//! other table's, for its schema history; see docs/events.md).

mod common;

use std::path::Path;
use std::time::Duration;

use common::connect::{connect_cmd, start_worker, write_worker, Worker};
use common::free_port;
use common::kafka::{read_all, Record};
use common::poll::poll_until_async;
use common::proc::{Rowtide, Setup};
use common::TestEnv;
use mysql_async::prelude::Queryable;
use serde_json::Value;

const DEBEZIUM_MARIADB: &str = "io.debezium:debezium-connector-mariadb:3.5.0.Final";
const WAIT: Duration = Duration::from_secs(120);

/// Tables of varied types and charsets, in a database whose default charset differs from
/// the server's and from some tables'.
const SETUP: &[&str] = &[
    "CREATE TABLE t1 (
      id INT NOT NULL AUTO_INCREMENT,
      flag BOOLEAN NOT NULL DEFAULT FALSE,
      tiny TINYINT(1) DEFAULT 1,
      small SMALLINT UNSIGNED,
      med MEDIUMINT(6) ZEROFILL,
      big BIGINT(20) DEFAULT 42,
      name VARCHAR(40) CHARACTER SET ascii DEFAULT 'x',
      nat NATIONAL CHAR(3),
      note TEXT COMMENT 'a note',
      price DECIMAL(10,2) DEFAULT 1.50,
      dflt DECIMAL,
      ratio DOUBLE,
      f FLOAT,
      created DATETIME(3) DEFAULT CURRENT_TIMESTAMP(3),
      changed TIMESTAMP NULL DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP,
      d DATE DEFAULT '2020-01-01',
      tm TIME(6),
      y YEAR,
      color ENUM('red','green','blue') DEFAULT 'red',
      tags SET('a','b','c'),
      bits BIT(3) DEFAULT b'101',
      one_bit BIT,
      raw VARBINARY(16),
      bin BINARY(4),
      blb BLOB,
      js JSON,
      gen INT AS (id * 2) VIRTUAL,
      PRIMARY KEY (id)
    ) DEFAULT CHARSET=utf8mb4 COMMENT='table one'",
    "CREATE TABLE t2 (a INT, b CHAR(3), c YEAR, PRIMARY KEY (a, b))",
    "CREATE TABLE t3 (k VARCHAR(20) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin PRIMARY KEY,
      v LONGTEXT CHARACTER SET latin1, w TINYTEXT) CHARSET=latin2",
    "INSERT INTO t1 (id, flag, name) VALUES (1, TRUE, 'n')",
    "INSERT INTO t2 VALUES (1, 'abc', 2020)",
];

/// Streamed DDL of several kinds, after both have finished their snapshots.
const ALTERS: &[&str] = &[
    "ALTER TABLE t1 ADD COLUMN vip BOOLEAN NOT NULL DEFAULT FALSE",
    "ALTER TABLE t1 ADD COLUMN code CHAR(2) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER name, MODIFY note MEDIUMTEXT",
    "ALTER TABLE t2 ADD COLUMN e ENUM('x','y') NOT NULL DEFAULT 'y', DROP COLUMN c",
    "ALTER TABLE t2 CHANGE COLUMN b bb VARCHAR(5) NOT NULL COMMENT 'renamed'",
    "ALTER TABLE t2 ALTER COLUMN e SET DEFAULT 'x'",
    "ALTER TABLE t3 MODIFY w TEXT CHARACTER SET utf8mb4 NOT NULL",
    "CREATE TABLE t4 (id BIGINT UNSIGNED PRIMARY KEY, v VARCHAR(10)) CHARACTER SET utf8mb3",
    "CREATE TABLE t5 LIKE t2",
    "RENAME TABLE t4 TO t6",
    "ALTER TABLE t5 DROP PRIMARY KEY, ADD PRIMARY KEY (a)",
    "DROP TABLE t6, t5",
    "CREATE TABLE t7 (a INT PRIMARY KEY) COMMENT 'x (y)' /*!50100 PARTITION BY HASH (a) PARTITIONS 2 */",
    "DROP TABLE IF EXISTS t7",
    "ALTER TABLE t2 COMMENT = 'two'",
    "ALTER TABLE t3 DEFAULT CHARSET = utf8mb4",
    "ALTER TABLE t3 ADD COLUMN z VARCHAR(3)",
];

async fn exec_all(env: &TestEnv, db: &str, statements: &[&str]) {
    let mut c = common::admin(env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    for s in statements {
        c.query_drop(*s)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    c.disconnect().await.ok();
}

/// Debezium's MariaDB connector on `db`, JSON with schemas, schema changes to `prefix`.
fn start_debezium(env: &TestEnv, dir: &Path, db: &str, prefix: &str) -> Worker {
    let plugin = connect_cmd(&["plugin", DEBEZIUM_MARIADB]);
    let name = common::unique("dbzsc").replace('_', "-");
    let port = free_port();
    let worker = write_worker(dir, &env.kafka_brokers, &plugin, port, "");
    let connector = dir.join("debezium.properties");
    std::fs::write(
        &connector,
        format!(
            "name={name}
connector.class=io.debezium.connector.mariadb.MariaDbConnector
tasks.max=1
database.hostname={host}
database.port={port}
database.user={user}
database.password={password}
database.server.id={server_id}
database.ssl.mode=disable
topic.prefix={prefix}
database.include.list={db}
snapshot.mode=initial
include.schema.changes=true
schema.history.internal.store.only.captured.tables.ddl=true
schema.history.internal.kafka.bootstrap.servers={brokers}
schema.history.internal.kafka.topic={prefix}-history
",
            host = env.mysql_host,
            port = env.mysql_port,
            user = env.mysql_user,
            password = env.mysql_password,
            server_id = common::server_id(),
            brokers = env.kafka_brokers,
        ),
    )
    .unwrap();
    start_worker(&name, port, &worker, &connector)
}

fn start_rowtide(
    env: &TestEnv,
    db: &str,
    prefix: &str,
    format: &'static str,
    dir: &Path,
) -> Rowtide {
    std::fs::create_dir_all(dir).unwrap();
    let mut setup = Setup::new(db, dir);
    setup.topic_prefix = prefix.to_string();
    setup.format = format;
    setup.partitions = 1;
    Rowtide::start(env, &setup, dir)
}

/// Drops what only differs by design: the engines' version and name, and the moments the
/// records were made (processing timestamps; the snapshot's also in `source`).
fn normalize(mut v: Value) -> Value {
    let payload = if v.get("payload").is_some() {
        &mut v["payload"]
    } else {
        &mut v
    };
    if let Some(p) = payload.as_object_mut() {
        p.remove("ts_ms");
        if let Some(s) = p.get_mut("source").and_then(|s| s.as_object_mut()) {
            s.remove("version");
            s.remove("name");
            if s.get("snapshot").and_then(|x| x.as_str()) != Some("false") {
                s.remove("ts_ms");
                s.remove("ts_us");
                s.remove("ts_ns");
            }
        }
    }
    v
}

/// Every difference between two JSON values, as `path: debezium … vs rowtide …`.
fn differences(path: &str, dbz: &Value, ours: &Value, out: &mut Vec<String>) {
    let absent = Value::String("<absent>".into());
    match (dbz, ours) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: Vec<&String> = a
                .keys()
                .chain(b.keys().filter(|k| !a.contains_key(*k)))
                .collect();
            for k in keys {
                let (x, y) = (a.get(k).unwrap_or(&absent), b.get(k).unwrap_or(&absent));
                differences(&format!("{path}.{k}"), x, y, out);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ if dbz == ours => {}
        _ => out.push(format!("{path}: debezium {dbz} vs rowtide {ours}")),
    }
}

/// Compares the topics record by record; `payload_only` for rowtide's `json` format.
fn compare(dbz: &[Record], ours: &[Record], payload_only: bool) -> Result<(), String> {
    let view = |v: Value, wrapped: bool| {
        let v = normalize(v);
        if payload_only && wrapped {
            v["payload"].clone()
        } else {
            v
        }
    };
    if dbz.len() != ours.len() {
        return Err(format!(
            "{} records from Debezium, {} from rowtide; DDL: debezium {:?} vs rowtide {:?}",
            dbz.len(),
            ours.len(),
            dbz.iter().map(ddl_of).collect::<Vec<_>>(),
            ours.iter().map(ddl_of).collect::<Vec<_>>()
        ));
    }
    let mut diffs = Vec::new();
    for (i, (d, o)) in dbz.iter().zip(ours).enumerate() {
        let pairs = [
            (
                "key",
                view(d.key_json(), true),
                view(o.key_json(), !payload_only),
            ),
            (
                "value",
                view(d.value_json(), true),
                view(o.value_json(), !payload_only),
            ),
        ];
        for (what, dv, ov) in pairs {
            let mut found = Vec::new();
            differences(what, &dv, &ov, &mut found);
            diffs.extend(
                found
                    .into_iter()
                    .map(|f| format!("record {i} ({}): {f}", ddl_of(d))),
            );
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} difference(s):\n{}",
            diffs.len(),
            diffs.join("\n")
        ))
    }
}

fn ddl_of(r: &Record) -> String {
    let v = r.value_json();
    let p = if v.get("payload").is_some() {
        &v["payload"]
    } else {
        &v
    };
    p["ddl"].as_str().unwrap_or("").chars().take(60).collect()
}

/// Waits until the three topics hold the same number of records, at least `min`; returns
/// them (Debezium's, rowtide's `json_schema`, rowtide's `json`).
async fn settle(env: &TestEnv, topics: [&str; 3], min: usize) -> [Vec<Record>; 3] {
    let brokers = env.kafka_brokers.clone();
    let topics: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
    poll_until_async(
        "the schema-change topics to agree in length",
        WAIT,
        Duration::from_millis(500),
        || {
            let (b, t) = (brokers.clone(), topics.clone());
            async move {
                let r = tokio::task::spawn_blocking(move || {
                    t.iter()
                        .map(|x| read_all(&b, std::slice::from_ref(x)))
                        .collect::<Vec<_>>()
                })
                .await
                .unwrap();
                let n: Vec<usize> = r.iter().map(Vec::len).collect();
                if n[0] >= min && n.iter().all(|x| *x == n[0]) {
                    let [a, b, c]: [Vec<Record>; 3] = r.try_into().unwrap();
                    Ok([a, b, c])
                } else {
                    Err(format!(
                        "record counts (debezium, json_schema, json): {n:?}, want at least {min}"
                    ))
                }
            }
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_change_topic_matches_debezium_for_snapshot_and_streamed_ddl() {
    let Some(env) = common::servers() else { return };
    let db = common::unique("scpar");
    let mut admin = common::admin(&env).await;
    admin
        .query_drop(format!("CREATE DATABASE `{db}` CHARACTER SET latin1"))
        .await
        .unwrap();
    admin.disconnect().await.ok();
    exec_all(&env, &db, SETUP).await;

    let dir = tempfile::tempdir().unwrap();
    let short = db.replace('_', "");
    let (dbz_prefix, js_prefix, j_prefix) = (
        format!("d{short}"),
        format!("s{short}"),
        format!("j{short}"),
    );
    let mut debezium = start_debezium(&env, dir.path(), &db, &dbz_prefix);
    let mut with_schema =
        start_rowtide(&env, &db, &js_prefix, "json_schema", &dir.path().join("js"));
    let mut plain = start_rowtide(&env, &db, &j_prefix, "json", &dir.path().join("j"));
    let topics = [dbz_prefix.as_str(), js_prefix.as_str(), j_prefix.as_str()];

    // The snapshot: SET, 3 DROP TABLE, DROP/CREATE DATABASE, USE, 3 CREATE TABLE.
    let [d, s, j] = settle(&env, topics, 9).await;
    if let Some(f) = debezium.failure().await {
        panic!("Debezium failed: {f}");
    }
    compare(&d, &s, false).unwrap_or_else(|e| panic!("snapshot, json_schema: {e}"));
    compare(&d, &j, true).unwrap_or_else(|e| panic!("snapshot, json: {e}"));

    exec_all(&env, &db, ALTERS).await;
    // One event per statement, and one per table of the two-table DROP.
    let [d, s, j] = settle(&env, topics, 9 + ALTERS.len() + 1).await;
    compare(&d, &s, false).unwrap_or_else(|e| panic!("streamed DDL, json_schema: {e}"));
    compare(&d, &j, true).unwrap_or_else(|e| panic!("streamed DDL, json: {e}"));

    with_schema.assert_alive("after the DDL");
    plain.assert_alive("after the DDL");
    assert!(with_schema.stop().success());
    assert!(plain.stop().success());
    debezium.stop();
}
