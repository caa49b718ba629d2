//! Issue 15, side by side with Debezium: the events of an incremental snapshot. Debezium's
//! MariaDB connector (3.5.0.Final from Maven Central, in a Kafka Connect standalone worker
//! started by `scripts/connect`) and rowtide stream the same database from its current
//! position (`snapshot.mode=no_data` / `snapshot_mode = "no_data"`); then each is sent
//! Debezium's `execute-snapshot` signal (`type` incremental) through its own signal table
//! (`signal.data.collection` / `[signals] table`; one per engine, so no engine sees another's
//! watermarks) for three tables: one of many column types with a composite key, one with an
//! integer key read in several chunks, one keyed by a TIMESTAMP(3) and an integer. Chunks of
//! 3 rows in both (`incremental.snapshot.chunk.size` / `[snapshot] chunk_size`).
//!
//! Every `op = r` record must agree field by field — key and value, with the Connect schemas
//! (rowtide `json_schema` against Debezium's JsonConverter with schemas), as payloads
//! (rowtide `json` against Debezium's payloads), and with transaction metadata on in both —
//! and come in the same key order. Normalised, each for a stated reason (`normalize`): the
//! topic prefix, processing times (`ts_ms`/`ts_us`/`ts_ns` of the envelope and of `source`,
//! which for these events is the emission time in both engines: only their presence is
//! compared), `source.version`, and the binlog coordinates (`gtid`, `file`, `pos`), which in
//! both engines are those of the engine's own high-watermark row: that is checked against
//! the watermark rows on the engine's signal-table topic before they are set aside.
//!
//! Needs the servers of `scripts/env up`, Java and Maven; under CI anything missing fails.

mod common;

#[allow(dead_code)]
#[path = "shaping_parity/compare.rs"]
mod compare;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use mysql_async::prelude::Queryable;
use serde_json::Value;

use common::connect::{connect_cmd, start_workers, write_worker, Worker};
use common::kafka::{read_all, Record};
use common::poll::poll_until_async;
use common::proc::{Rowtide, Setup};
use common::TestEnv;

const DEBEZIUM_MARIADB: &str = "io.debezium:debezium-connector-mariadb:3.5.0.Final";
const CHUNK: usize = 3;
const WAIT: Duration = Duration::from_secs(120);
const SIGNAL_TABLE: &str =
    "(id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)";

/// The snapshotted tables and their rows (in a permissive session: the zero TIMESTAMP).
/// TIMESTAMP values with trailing zeros in the fraction, and one without a fraction, are
/// on purpose: Debezium's snapshot prints them differently from its stream. No YEAR 0:
/// Debezium 3.5's snapshot cannot read it (the MariaDB JDBC driver's `YearColumn` throws
/// IllegalArgumentException from `java.sql.Date.valueOf` and the incremental snapshot stops).
const SETUP: &[&str] = &[
    "CREATE TABLE mixed (
      id INT NOT NULL, k VARCHAR(16) NOT NULL,
      i8 TINYINT, u16 SMALLINT UNSIGNED, m24 MEDIUMINT, big BIGINT, ubig BIGINT UNSIGNED,
      amount DECIMAL(12,3), dbl DOUBLE, flt FLOAT,
      s VARCHAR(40), c CHAR(4), txt TEXT, e ENUM('a','b','c'), st SET('x','y','z'),
      dt DATETIME(6), dt0 DATETIME, ts0 TIMESTAMP NULL, ts3 TIMESTAMP(3) NULL,
      ts6 TIMESTAMP(6) NULL, d DATE, tm TIME(3), yr YEAR,
      j JSON, vb VARBINARY(16), bn BINARY(4), bl BLOB, b BIT(10), b1 BIT(1), flag BOOLEAN,
      dflt VARCHAR(8) NOT NULL DEFAULT 'dv', tsd TIMESTAMP(2) NOT NULL DEFAULT '2020-01-01 00:00:00.10',
      PRIMARY KEY (id, k)) DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE plain (id INT NOT NULL PRIMARY KEY, v VARCHAR(10))",
    "CREATE TABLE tskey (at TIMESTAMP(3) NOT NULL, n INT NOT NULL, note VARCHAR(8),
      PRIMARY KEY (at, n))",
    "CREATE TABLE ready (id INT AUTO_INCREMENT PRIMARY KEY)",
    "SET SESSION sql_mode = ''",
    "INSERT INTO mixed VALUES
      (1, 'a', -5, 65535, -8388608, -9000000000, 18446744073709551615, 12345.678, 1.5, 0.25,
       'hello', 'ab', 'long text', 'b', 'x,z', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56',
       '2024-01-01 00:00:01', '2024-01-01 00:00:01.500', '2024-01-01 00:00:01.120000',
       '2024-02-29', '-12:34:56.789', 2024, '{\"a\": [1, 2], \"b\": null}', X'00ff10', X'01',
       'blob\\0x', b'1010101010', b'1', TRUE, DEFAULT, DEFAULT),
      (1, 'b', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       'x', '2021-06-30 10:00:00'),
      (2, 'çé', 127, 0, 8388607, 0, 0, -0.001, -2.5e300, -1e10, 'ünï 例え', '😀', '', 'a', '',
       '1970-01-01 00:00:00.000001', '1000-01-01 00:00:00', '2038-01-19 03:14:07',
       '2038-01-19 03:14:07.999', '2038-01-19 03:14:07.100000', '1000-01-01', '838:59:59.000',
       1901, '[]', X'', X'', X'', b'0', b'0', FALSE, 'e', '2024-01-01 00:00:01'),
      (3, 'z', 0, 1, 0, 1, 1, 0, 0, 0, 'x', 'x', 'x', 'c', 'x,y,z', '2000-01-01 01:02:03.4',
       '2000-01-01 01:02:03', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '2000-01-01 01:02:03.000001',
       '0000-00-00', '00:00:00', 2000, 'null', X'ff', X'ffffffff', X'ff', b'1111111111', b'1', 7,
       '', '2000-01-01 01:02:03.45'),
      (4, '', 1, 2, 3, 4, 5, 6.500, 7.25, 8.5, 'y', 'y', 'y', 'a', 'y', '2000-01-01 00:00:00',
       '2000-01-01 00:00:00', '2000-01-01 00:00:00', '2000-01-01 00:00:00.000',
       '2000-01-01 00:00:00.000000', '2000-01-01', '-00:00:00.500', 2155, '{\"k\": \"é\"}', X'01',
       X'01020304', X'01', b'1', b'0', 1, 'y', '1970-01-01 00:00:01'),
      (4, 'Z', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'case', NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'z',
       '2030-05-05 05:05:05.5')",
    "INSERT INTO plain SELECT seq, CONCAT('v', seq) FROM seq_1_to_20",
    "INSERT INTO tskey VALUES ('2024-01-01 00:00:01.000', 1, 'a'), ('2024-01-01 00:00:01.000', 2, 'b'),
      ('2024-01-01 00:00:01.500', 1, 'c'), ('2024-01-01 00:00:01.999', 1, NULL),
      ('1999-12-31 23:59:59.100', 7, 'e')",
];

/// The snapshotted tables and how many rows each has.
const TABLES: [(&str, usize); 3] = [("mixed", 6), ("plain", 20), ("tskey", 5)];

/// One engine run: its topic prefix, its signal table, and (rowtide) its format.
#[derive(Clone)]
struct Engine {
    prefix: String,
    signals: String,
    format: &'static str,
    txn: bool,
}

/// The comparisons: a rowtide run against the Debezium connector with the same
/// transaction-metadata setting; `payload_only` compares Debezium's payloads (rowtide `json`).
struct Case {
    rowtide: Engine,
    debezium: Engine,
    payload_only: bool,
}

fn engine(kind: &str, short: &str, format: &'static str, txn: bool) -> Engine {
    Engine {
        prefix: format!("{kind}{short}"),
        signals: format!("sig_{kind}"),
        format,
        txn,
    }
}

async fn exec_all(env: &TestEnv, db: &str, statements: &[String]) {
    let mut c = common::admin(env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    for s in statements {
        c.query_drop(s.as_str())
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    c.disconnect().await.ok();
}

/// The Debezium connector file of `e` on `db`.
fn debezium_properties(env: &TestEnv, e: &Engine, db: &str) -> String {
    format!(
        "name={prefix}
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
snapshot.mode=no_data
include.schema.changes=false
schema.history.internal.store.only.captured.tables.ddl=true
schema.history.internal.kafka.bootstrap.servers={brokers}
schema.history.internal.kafka.topic={prefix}-history
signal.data.collection={db}.{signals}
incremental.snapshot.chunk.size={CHUNK}
provide.transaction.metadata={txn}
",
        prefix = e.prefix,
        host = env.mysql_host,
        port = env.mysql_port,
        // Debezium writes its watermarks into the signal table: the admin user can.
        user = env.admin_user,
        password = env.admin_password,
        server_id = common::server_id(),
        brokers = env.kafka_brokers,
        signals = e.signals,
        txn = e.txn,
    )
}

/// One worker running every Debezium connector of `engines`, once all are RUNNING.
fn start_debezium(env: &TestEnv, engines: &[Engine], db: &str, dir: &Path) -> Worker {
    let plugin = connect_cmd(&["plugin", DEBEZIUM_MARIADB]);
    let port = common::free_port();
    let worker = write_worker(dir, &env.kafka_brokers, &plugin, port, "");
    let files: Vec<PathBuf> = engines
        .iter()
        .map(|e| {
            let path = dir.join(format!("{}.properties", e.prefix));
            std::fs::write(&path, debezium_properties(env, e, db)).unwrap();
            path
        })
        .collect();
    start_workers(&format!("ipar{}", engines[0].prefix), port, &worker, &files)
}

/// rowtide for `e`, from the current binlog position, with its signal table.
fn start_rowtide(env: &TestEnv, e: &Engine, db: &str, dir: &Path) -> Rowtide {
    let dir = dir.join(&e.prefix);
    std::fs::create_dir_all(&dir).unwrap();
    let mut setup = Setup::new(db, &dir);
    setup.topic_prefix = e.prefix.clone();
    setup.format = e.format;
    setup.snapshot_mode = "no_data";
    // One partition, as the topics Connect creates: the key order is compared too.
    setup.partitions = 1;
    if e.txn {
        setup.format_extra = "provide_transaction_metadata = true\n".into();
    }
    setup.extra = format!(
        "\n[signals]\ntable = \"{db}.{}\"\n\n[snapshot]\nchunk_size = {CHUNK}\n",
        e.signals
    );
    Rowtide::start(env, &setup, &dir)
}

/// Every record of `e`'s topic for `table`.
async fn records(env: &TestEnv, e: &Engine, db: &str, table: &str) -> Vec<Record> {
    let (brokers, topic) = (
        env.kafka_brokers.clone(),
        format!("{}.{db}.{table}", e.prefix),
    );
    tokio::task::spawn_blocking(move || read_all(&brokers, &[topic]))
        .await
        .unwrap()
}

/// Inserts a row into `ready` every 2 s until every engine has streamed one: each engine
/// then reads the binlog past the point where the signals are written.
async fn wait_all_streaming(
    env: &TestEnv,
    db: &str,
    engines: &[Engine],
    debezium: &Worker,
    rowtides: &mut [Rowtide],
) {
    let mut c = common::admin(env).await;
    poll_until_async(
        "every engine streaming (a row of `ready` on each)",
        WAIT,
        Duration::from_secs(2),
        async || {
            if let Some(f) = debezium.failure().await {
                panic!("Debezium failed: {f}");
            }
            for r in rowtides.iter_mut() {
                r.assert_alive("before the snapshot");
            }
            c.query_drop(format!("INSERT INTO `{db}`.ready VALUES ()"))
                .await
                .unwrap();
            let mut waiting = Vec::new();
            for e in engines {
                if records(env, e, db, "ready").await.is_empty() {
                    waiting.push(e.prefix.clone());
                }
            }
            if waiting.is_empty() {
                Ok(())
            } else {
                Err(format!("not yet streaming: {waiting:?}"))
            }
        },
    )
    .await;
    c.disconnect().await.ok();
}

/// Waits until every engine wrote every table's rows.
async fn wait_snapshots(env: &TestEnv, db: &str, engines: &[Engine], debezium: &Worker) {
    poll_until_async(
        "every engine's incremental snapshot",
        WAIT,
        Duration::from_millis(500),
        async || {
            if let Some(f) = debezium.failure().await {
                panic!("Debezium failed: {f}");
            }
            let mut missing = Vec::new();
            for e in engines {
                for (table, rows) in TABLES {
                    let n = records(env, e, db, table).await.len();
                    if n < rows {
                        missing.push(format!("{}.{table}: {n} of {rows}", e.prefix));
                    }
                }
            }
            if missing.is_empty() {
                Ok(())
            } else {
                Err(missing.join(", "))
            }
        },
    )
    .await
}

/// The JSON of a key or value with the engine's prefix replaced.
fn parse(bytes: Option<&[u8]>, prefix: &str) -> Value {
    let Some(bytes) = bytes else {
        return Value::Null;
    };
    let text = String::from_utf8_lossy(bytes).replace(prefix, compare::PREFIX);
    serde_json::from_str(&text).unwrap_or(Value::String(format!("<not JSON> {text}")))
}

fn payload_mut(v: &mut Value) -> &mut Value {
    if v.get("schema").is_some() && v.get("payload").is_some() {
        &mut v["payload"]
    } else {
        v
    }
}

/// The binlog coordinates `(gtid, file, pos)` of a `source` block.
fn coordinates(source: &Value) -> (String, String, i64) {
    (
        source["gtid"].to_string(),
        source["file"].to_string(),
        source["pos"].as_i64().unwrap_or(-1),
    )
}

/// The coordinates of every high-watermark row (`snapshot-window-close`) on `e`'s
/// signal-table topic.
async fn high_watermarks(env: &TestEnv, e: &Engine, db: &str) -> HashSet<(String, String, i64)> {
    records(env, e, db, &e.signals)
        .await
        .iter()
        .map(|r| {
            let mut v = parse(r.value.as_deref(), &e.prefix);
            payload_mut(&mut v).clone()
        })
        .filter(|p| p["after"]["type"] == "snapshot-window-close")
        .map(|p| coordinates(&p["source"]))
        .collect()
}

/// Key and value of one record, normalised (see the module comment); what is wrong with it
/// as an incremental snapshot event goes to `problems`.
fn normalize(
    r: &Record,
    e: &Engine,
    closes: &HashSet<(String, String, i64)>,
    problems: &mut Vec<String>,
) -> (Value, Value) {
    let key = parse(r.key.as_deref(), &e.prefix);
    let mut value = parse(r.value.as_deref(), &e.prefix);
    let what = format!("{} offset {}", r.topic, r.offset);
    let p = payload_mut(&mut value);
    if p["op"] != "r" || p["source"]["snapshot"] != "incremental" || !p["before"].is_null() {
        problems.push(format!(
            "{what}: not an incremental snapshot read (op {}, source.snapshot {}, before {})",
            p["op"], p["source"]["snapshot"], p["before"]
        ));
    }
    // Processing times (the moment each engine emitted the event): compared by presence.
    let times = |o: &mut Value| {
        for k in ["ts_ms", "ts_us", "ts_ns"] {
            if let Some(v) = o.get_mut(k) {
                *v = Value::String("<processing time>".into());
            }
        }
    };
    times(p);
    if let Some(s) = p.get_mut("source") {
        times(s);
    }
    if let Some(s) = p.get_mut("source").and_then(Value::as_object_mut) {
        // Each engine's own version.
        s.insert("version".into(), Value::String("<engine version>".into()));
        // Each engine's own high watermark (a row it wrote into its own signal table).
        let at = coordinates(&Value::Object(s.clone()));
        if !closes.contains(&at) {
            problems.push(format!(
                "{what}: source {at:?} is not one of the engine's high watermarks"
            ));
        }
        for k in ["gtid", "file", "pos"] {
            s.insert(k.into(), Value::String("<own high watermark>".into()));
        }
    }
    (key, value)
}

/// The headers as text, the engine's prefix replaced and Debezium's run id (drawn at each
/// start of either engine) set aside.
fn headers(r: &Record, prefix: &str) -> Vec<(String, String)> {
    r.headers
        .iter()
        .map(|(k, v)| {
            let text = match v {
                _ if k == "__debezium.context.runId" => "<run id>".to_string(),
                Some(b) => String::from_utf8_lossy(b).replace(prefix, compare::PREFIX),
                None => "<null>".to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

/// One record, normalised: key, value and headers.
type View = (Value, Value, Vec<(String, String)>);

fn payload(v: &Value) -> Value {
    match v.get("payload") {
        Some(p) if v.get("schema").is_some() => p.clone(),
        _ => v.clone(),
    }
}

/// The differences of one case on one table.
async fn compare_table(env: &TestEnv, db: &str, case: &Case, table: &str) -> Vec<String> {
    let mut out = Vec::new();
    let side = async |e: &Engine| {
        let closes = high_watermarks(env, e, db).await;
        let recs = records(env, e, db, table).await;
        let mut problems = Vec::new();
        let rows: Vec<View> = recs
            .iter()
            .map(|r| {
                let (k, v) = normalize(r, e, &closes, &mut problems);
                (k, v, headers(r, &e.prefix))
            })
            .collect();
        (rows, problems)
    };
    let (dbz, p1) = side(&case.debezium).await;
    let (ours, p2) = side(&case.rowtide).await;
    out.extend(p1.into_iter().map(|p| format!("debezium: {p}")));
    out.extend(p2.into_iter().map(|p| format!("rowtide: {p}")));
    if dbz.len() != ours.len() {
        out.push(format!(
            "{} records from Debezium, {} from rowtide",
            dbz.len(),
            ours.len()
        ));
    }
    let key_order =
        |rows: &[View]| -> Vec<Value> { rows.iter().map(|(k, _, _)| payload(k)).collect() };
    if key_order(&dbz) != key_order(&ours) {
        out.push(format!(
            "key order: debezium {} vs rowtide {}",
            Value::Array(key_order(&dbz)),
            Value::Array(key_order(&ours))
        ));
    }
    let by_key: BTreeMap<String, &View> = ours
        .iter()
        .map(|r| (payload(&r.0).to_string(), r))
        .collect();
    for (dk, dv, dh) in &dbz {
        let id = payload(dk).to_string();
        let Some((ok, ov, oh)) = by_key.get(&id) else {
            out.push(format!("key {id}: no record from rowtide"));
            continue;
        };
        let (dk, dv) = if case.payload_only {
            (payload(dk), payload(dv))
        } else {
            (dk.clone(), dv.clone())
        };
        let mut found = Vec::new();
        compare::differences("key", &dk, ok, &mut found);
        compare::differences("value", &dv, ov, &mut found);
        if dh != oh {
            found.push(format!("headers: debezium {dh:?} vs rowtide {oh:?}"));
        }
        out.extend(found.into_iter().map(|f| format!("key {id}: {f}")));
    }
    out.into_iter()
        .map(|f| {
            format!(
                "[{} vs {}] {table}: {f}",
                case.rowtide.format, case.debezium.prefix
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_snapshot_events_match_debezium_field_by_field() {
    let Some(env) = common::servers() else { return };
    let db = common::unique("ipar");
    let short = db.replace('_', "");
    let dbz = [
        engine("d", &short, "json_schema", false),
        engine("dt", &short, "json_schema", true),
    ];
    let cases = [
        Case {
            rowtide: engine("rs", &short, "json_schema", false),
            debezium: dbz[0].clone(),
            payload_only: false,
        },
        Case {
            rowtide: engine("rj", &short, "json", false),
            debezium: dbz[0].clone(),
            payload_only: true,
        },
        Case {
            rowtide: engine("rt", &short, "json_schema", true),
            debezium: dbz[1].clone(),
            payload_only: false,
        },
    ];
    let all: Vec<Engine> = dbz
        .iter()
        .chain(cases.iter().map(|c| &c.rowtide))
        .cloned()
        .collect();

    let mut admin = common::admin(&env).await;
    admin
        .query_drop(format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4"))
        .await
        .unwrap();
    admin.disconnect().await.ok();
    let mut setup: Vec<String> = SETUP.iter().map(|s| s.to_string()).collect();
    for e in &all {
        setup.push(format!("CREATE TABLE {} {SIGNAL_TABLE}", e.signals));
    }
    for c in &cases {
        setup.push(format!(
            "GRANT INSERT ON `{db}`.{} TO '{}'@'127.0.0.1'",
            c.rowtide.signals, env.mysql_user
        ));
    }
    exec_all(&env, &db, &setup).await;

    let dir = tempfile::tempdir().unwrap();
    let mut rowtides: Vec<Rowtide> = cases
        .iter()
        .map(|c| start_rowtide(&env, &c.rowtide, &db, dir.path()))
        .collect();
    let mut debezium = {
        let (env, db, dir, dbz) = (
            env.clone(),
            db.clone(),
            dir.path().to_path_buf(),
            dbz.clone(),
        );
        tokio::task::spawn_blocking(move || start_debezium(&env, &dbz, &db, &dir))
            .await
            .unwrap()
    };
    wait_all_streaming(&env, &db, &all, &debezium, &mut rowtides).await;

    let data = format!(
        r#"{{"data-collections": [{}], "type": "incremental"}}"#,
        TABLES
            .iter()
            .map(|(t, _)| format!("\"{db}.{t}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let signals: Vec<String> = all
        .iter()
        .map(|e| {
            format!(
                "INSERT INTO {} VALUES ('parity-1', 'execute-snapshot', '{data}')",
                e.signals
            )
        })
        .collect();
    exec_all(&env, &db, &signals).await;
    wait_snapshots(&env, &db, &all, &debezium).await;
    // Let a late duplicate (there should be none) land before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut report = Vec::new();
    for case in &cases {
        for (table, _) in TABLES {
            report.extend(compare_table(&env, &db, case, table).await);
        }
    }
    if let Some(f) = debezium.failure().await {
        panic!("Debezium failed: {f}");
    }
    for r in rowtides.iter_mut() {
        let status = r.stop();
        assert!(
            status.success(),
            "rowtide exited with {status}; log:\n{}",
            r.log_tail(30)
        );
    }
    debezium.stop();
    assert!(
        report.is_empty(),
        "{} difference(s) between Debezium's and rowtide's incremental snapshot events:\n{}",
        report.len(),
        report.join("\n")
    );
    let _ = std::fs::remove_dir_all(&debezium.run_dir);
    let mut c = common::admin(&env).await;
    c.query_drop(format!("DROP DATABASE `{db}`")).await.unwrap();
    c.disconnect().await.ok();
}
