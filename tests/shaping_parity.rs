//! Issue 16, side by side with Debezium: the event-shaping options — column exclude/include,
//! masking, hashing (v1 and v2), truncation, source-type propagation, `message.key.columns`
//! (also on a table without a primary key), truncate events, tombstones, primary-key-change
//! headers, heartbeats, and the transforms ExtractNewRecordState (with `drop.fields.*`),
//! ExtractChangedRecordState, RegexRouter, ByLogicalTableRouter and the outbox EventRouter
//! (with `table.field.event.timestamp`, whose Kafka timestamps are compared too), and a
//! negated TopicNameMatches predicate — turned on in Debezium's MariaDB connector
//! (3.5.0.Final from Maven Central, all connectors in one Kafka Connect standalone worker
//! started by `scripts/connect`) and in rowtide, both reading the same binlog of one
//! database: a snapshot, then a workload of inserts, updates (one changing the key), deletes,
//! an ALTER and a TRUNCATE. Every record of every topic must agree — topic, key, value,
//! headers — normalising only each engine's topic prefix, processing times, each engine's own
//! snapshot moment and position, `source.version` and Debezium's run-id header
//! (`shaping_parity/compare.rs`).
//!
//! One connector configuration per `connectors::Kind` (options that conflict are split);
//! rowtide runs once per kind and format: `json_schema` (compared with Debezium's
//! JsonConverter-with-schemas output), `json` (compared with its payloads) and `avro`
//! through the real registry (decoded by fastavro, compared with its payloads).
//! rowtide's configuration is what `rowtide import debezium` makes of the same connector
//! file (`CONFIG_FROM_IMPORT`; `shaping_parity/rowtide_config.rs` also has a hand-written one).
//! `ROWTIDE_SHAPING_PARITY_REPORT=<path>` writes every difference to a file.
//!
//! Needs the servers of `scripts/env up`, Java and Maven; under CI anything missing fails.

mod common;

#[path = "shaping_parity/avro.rs"]
mod avro;
#[path = "shaping_parity/compare.rs"]
mod compare;
#[path = "shaping_parity/connectors.rs"]
mod connectors;
#[path = "shaping_parity/rowtide_config.rs"]
mod rowtide_config;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mysql_async::prelude::Queryable;

use common::connect::{connect_cmd, start_workers, write_worker, Worker};
use common::kafka::{list_topics, read_all, Record};
use common::poll::poll_until_async;
use common::proc::Rowtide;
use common::TestEnv;
use compare::Side;
use connectors::{Kind, KINDS};

const DEBEZIUM_MARIADB: &str = "io.debezium:debezium-connector-mariadb:3.5.0.Final";
/// rowtide's formats: `json_schema` compares with Debezium's JsonConverter output whole,
/// `json` and `avro` (decoded) with its payloads.
const FORMATS: [&str; 3] = ["json_schema", "json", "avro"];
const WAIT: Duration = Duration::from_secs(120);

/// The tables and the rows the snapshots read. The outbox's `created` values (the Kafka
/// record timestamps of its events) are recent on purpose: a record stamped months ago,
/// alone in a topic's active segment, is deleted by the broker's next time-based retention
/// check (7 days by default), which raced the snapshot-to-stream window here.
const SETUP: &[&str] = &[
    "CREATE TABLE customers (id INT NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL,
      email VARCHAR(80), card CHAR(20), ssn VARCHAR(11), secret VARCHAR(30), bio TEXT,
      price DECIMAL(10,2), score FLOAT) DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE orders (id INT NOT NULL PRIMARY KEY, ref VARCHAR(16) NOT NULL, qty INT)",
    "CREATE TABLE nopk (code VARCHAR(8) NOT NULL, qty INT)",
    "CREATE TABLE nokey (a INT, b VARCHAR(8))",
    "CREATE TABLE shard_1 (id INT NOT NULL PRIMARY KEY, v VARCHAR(8))",
    "CREATE TABLE shard_2 (id INT NOT NULL PRIMARY KEY, v VARCHAR(8))",
    "CREATE TABLE outbox (id VARCHAR(36) NOT NULL PRIMARY KEY, aggregatetype VARCHAR(64) NOT NULL,
      aggregateid VARCHAR(64) NOT NULL, type VARCHAR(64) NOT NULL, payload LONGTEXT,
      created DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))",
    "CREATE TABLE hb (id INT PRIMARY KEY, ts DATETIME(6))",
    "CREATE TABLE fin (id INT PRIMARY KEY)",
    "INSERT INTO customers VALUES
      (1, 'alice', 'alice@example.com', '4111111111111111', '123-45-6789', 's3cret', 'likes long walks', 12.50, 1.5),
      (2, 'bob', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (3, 'çé', 'ünï@例え.jp', 'ünï', '', '', 'αβγδεζηθικ', -0.01, 0)",
    "INSERT INTO orders VALUES (1, 'R1', 5), (2, 'R2', 7)",
    "INSERT INTO nopk VALUES ('A', 1), ('B', 2)",
    "INSERT INTO nokey VALUES (1, 'x')",
    "INSERT INTO shard_1 VALUES (1, 'one')",
    "INSERT INTO shard_2 VALUES (1, 'uno')",
    r#"INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('e0', 'Order', 'o-0', 'OrderSeeded', '{"seed": true}')"#,
];

/// The python with fastavro that decodes rowtide's Avro (`ROWTIDE_TEST_PYTHON`); `None`
/// (the avro comparison is left out, with a message) outside CI, a failure under CI.
fn python() -> Option<String> {
    match std::env::var("ROWTIDE_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            let msg = "ROWTIDE_TEST_PYTHON is not set (a python with fastavro, see \
                       scripts/py-requirements.txt): avro not compared";
            assert!(!common::in_ci(), "{msg}");
            eprintln!("SKIPPED: {msg}");
            None
        }
    }
}

/// Snapshot records each Debezium connector writes for `SETUP` (heartbeats aside).
fn snapshot_records(kind: Kind) -> usize {
    match kind {
        Kind::Envelope => 11,
        Kind::Unwrap => 10,
        Kind::UnwrapMore => 6,
        Kind::UnwrapDefault => 6,
        Kind::Outbox => 1,
    }
}

/// The streamed workload, after every engine has finished its snapshot; it ends with the
/// rows the end markers wait for.
const STREAM: &[&str] = &[
    "INSERT INTO customers VALUES (4, 'dave', 'dave@example.com', '5500000000000004', '987-65-4321', 'pw', 'abcdefg😀xyz', 99999999.99, -2.25)",
    "UPDATE customers SET email = 'alice@new.example', bio = 'short' WHERE id = 1",
    "UPDATE customers SET id = 10 WHERE id = 2",
    "DELETE FROM customers WHERE id = 3",
    "ALTER TABLE customers ADD COLUMN phone VARCHAR(20) AFTER name",
    "INSERT INTO customers (id, name, phone, email, card, ssn, bio) VALUES (5, 'fay', '+41 44', 'f@x.ch', 'Zürich', 'x', NULL)",
    "UPDATE orders SET ref = 'R1b' WHERE id = 1",
    "UPDATE orders SET qty = 6 WHERE id = 2",
    "INSERT INTO nopk VALUES ('C', 3)",
    "UPDATE nopk SET qty = 20 WHERE code = 'B'",
    "DELETE FROM nopk WHERE code = 'A'",
    "INSERT INTO nokey VALUES (2, 'y')",
    "DELETE FROM nokey WHERE a = 1",
    "INSERT INTO shard_1 VALUES (2, 'two')",
    "INSERT INTO shard_2 VALUES (2, 'dos')",
    "UPDATE shard_2 SET v = 'DOS' WHERE id = 2",
    "DELETE FROM shard_1 WHERE id = 1",
    r#"INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('e1', 'Order', 'o-1', 'OrderCreated',
      '{"id": 1, "big": 5000000000, "lines": [{"sku": "a", "n": 2}, {"sku": "b", "n": 3}], "total": 12.5, "note": null, "ok": true, "tags": ["x", "y"], "meta": {"by": "me"}}')"#,
    r#"INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('e2', 'Customer', 'c-9', 'CustomerMoved', '{"city": "Zürich"}')"#,
    "DELETE FROM outbox WHERE id = 'e1'",
    "UPDATE outbox SET type = 'CustomerMovedAgain' WHERE id = 'e2'",
    "INSERT INTO outbox VALUES ('e3', 'Order', 'o-2', 'OrderShipped', NULL, NOW(3) - INTERVAL 1 HOUR)",
    "TRUNCATE TABLE orders",
    "INSERT INTO fin VALUES (1)",
    "INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('fin', 'Fin', 'fin', 'Fin', '{}')",
];

/// The topic holding the end marker of `kind` for topic prefix `prefix`.
fn marker_topic(kind: Kind, prefix: &str, db: &str) -> String {
    match kind {
        Kind::Outbox => format!("{prefix}.Fin.events"),
        _ => format!("{prefix}.{db}.fin"),
    }
}

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

/// The test's names: the database, and each engine's topic prefix per kind (and format).
struct Names {
    db: String,
    short: String,
}

impl Names {
    fn debezium(&self, kind: Kind) -> String {
        format!("d{}{}", kind.letter(), self.short)
    }
    fn rowtide(&self, kind: Kind, format: &str) -> String {
        let f = match format {
            "json" => 'j',
            "avro" => 'a',
            _ => 's',
        };
        format!("r{f}{}{}", kind.letter(), self.short)
    }
}

/// One worker running a Debezium connector per kind; returns it once all are RUNNING.
fn start_debezium(env: &TestEnv, names: &Names, dir: &Path) -> Worker {
    let plugin = connect_cmd(&["plugin", DEBEZIUM_MARIADB]);
    let port = common::free_port();
    let worker = write_worker(dir, &env.kafka_brokers, &plugin, port, "");
    let files: Vec<PathBuf> = KINDS
        .iter()
        .map(|k| {
            let path = dir.join(format!("debezium-{}.properties", k.letter()));
            let props = connectors::properties(
                env,
                *k,
                &names.db,
                &names.debezium(*k),
                common::server_id(),
            );
            std::fs::write(&path, props).unwrap();
            path
        })
        .collect();
    start_workers(&format!("shp{}", names.short), port, &worker, &files)
}

/// Whether rowtide's configuration comes from `rowtide import debezium` (the issue's
/// promise) or is the hand-written equivalent (`rowtide_config::handwritten`).
const CONFIG_FROM_IMPORT: bool = true;

/// rowtide for one kind and format, started in its own directory under `dir`; `Err` when
/// its configuration could not be imported.
fn start_rowtide(
    env: &TestEnv,
    names: &Names,
    kind: Kind,
    format: &str,
    dir: &Path,
) -> Result<Rowtide, String> {
    let prefix = names.rowtide(kind, format);
    let dir = dir.join(&prefix);
    std::fs::create_dir_all(&dir).unwrap();
    let (db, id) = (&names.db, common::server_id());
    let toml = if CONFIG_FROM_IMPORT {
        rowtide_config::imported(env, kind, db, &prefix, id, format, &dir)?
    } else {
        rowtide_config::handwritten(env, kind, db, &prefix, id, format, &dir)
    };
    let config = dir.join("rowtide.toml");
    std::fs::write(&config, toml).unwrap();
    Ok(Rowtide::with_config(&config, &dir))
}

/// Every record on the topics whose name starts with `prefix` (its heartbeat topic too).
async fn records_of(env: &TestEnv, prefix: &str) -> Vec<Record> {
    let (brokers, p) = (env.kafka_brokers.clone(), prefix.to_string());
    tokio::task::spawn_blocking(move || {
        let heartbeat = format!("__debezium-heartbeat.{p}");
        let topics: Vec<String> = list_topics(&brokers)
            .into_iter()
            .filter(|t| t.starts_with(&format!("{p}.")) || *t == heartbeat)
            .collect();
        read_all(&brokers, &topics)
    })
    .await
    .unwrap()
}

/// Waits until Debezium's connector of `kind` has written its snapshot.
async fn wait_debezium_snapshot(env: &TestEnv, worker: &Worker, kind: Kind, prefix: &str) {
    let want = snapshot_records(kind);
    let what = format!("Debezium's {kind:?} snapshot ({want} records on {prefix}.*)");
    poll_until_async(&what, WAIT, Duration::from_millis(500), async || {
        if let Some(f) = worker.failure().await {
            panic!("Debezium failed: {f}");
        }
        let n = records_of(env, prefix)
            .await
            .iter()
            .filter(|r| !r.topic.starts_with("__debezium-heartbeat"))
            .count();
        if n >= want {
            Ok(())
        } else {
            Err(format!("{n} records"))
        }
    })
    .await
}

/// Waits (bounded) for the end marker of one engine; `Err` with what it saw on timeout.
async fn wait_marker(env: &TestEnv, topic: &str, timeout: Duration) -> Result<(), String> {
    let t0 = std::time::Instant::now();
    loop {
        let (b, t) = (env.kafka_brokers.clone(), topic.to_string());
        let n = tokio::task::spawn_blocking(move || read_all(&b, &[t]).len())
            .await
            .unwrap();
        if n > 0 {
            return Ok(());
        }
        if t0.elapsed() > timeout {
            return Err(format!("no end marker on {topic} after {timeout:?}"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// One comparison: a kind in a format.
struct Run {
    kind: Kind,
    format: &'static str,
    rowtide: Rowtide,
    /// Streaming (then running until stopped), or not: it refused its configuration or died.
    started: bool,
}

/// Waits (60 s at most, for all of them together) until every rowtide streams; one that
/// exits or does not get there is reported and left out of the later waits.
async fn wait_started(runs: &mut [Run]) -> Vec<String> {
    const CONNECTED: &str = "Connected to the binlog stream";
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut pending = 0;
        for run in runs.iter_mut().filter(|r| !r.started) {
            if run.rowtide.log_text().contains(CONNECTED) {
                run.started = true;
            } else if run.rowtide.exit_status().is_none() {
                pending += 1;
            }
        }
        if pending == 0 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    runs.iter_mut()
        .filter(|r| !r.started)
        .map(|run| {
            format!(
                "[{:?} {}] rowtide did not start streaming ({}); log:\n{}",
                run.kind,
                run.format,
                match run.rowtide.exit_status() {
                    Some(s) => format!("exited with {s}"),
                    None => "still not connected after 60 s".into(),
                },
                run.rowtide.log_tail(15)
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shaping_options_match_debezium_record_for_record() {
    let Some(env) = common::servers() else { return };
    let db = common::unique("shp");
    let names = Names {
        short: db.replace('_', ""),
        db: db.clone(),
    };
    let mut admin = common::admin(&env).await;
    admin
        .query_drop(format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4"))
        .await
        .unwrap();
    admin.disconnect().await.ok();
    exec_all(&env, &db, SETUP).await;

    let dir = tempfile::tempdir().unwrap();
    let mut runs: Vec<Run> = Vec::new();
    let mut import_errors = Vec::new();
    let formats: Vec<&'static str> = FORMATS
        .into_iter()
        .filter(|f| *f != "avro" || python().is_some())
        .collect();
    for kind in KINDS {
        for format in formats.iter().copied() {
            match start_rowtide(&env, &names, kind, format, dir.path()) {
                Ok(rowtide) => runs.push(Run {
                    kind,
                    format,
                    rowtide,
                    started: false,
                }),
                Err(e) => import_errors.push(format!("[{kind:?} {format}] {e}")),
            }
        }
    }
    let mut debezium = {
        let (env, dir) = (env.clone(), dir.path().to_path_buf());
        let names = Names {
            db: names.db.clone(),
            short: names.short.clone(),
        };
        tokio::task::spawn_blocking(move || start_debezium(&env, &names, &dir))
            .await
            .unwrap()
    };
    for kind in KINDS {
        wait_debezium_snapshot(&env, &debezium, kind, &names.debezium(kind)).await;
    }
    let mut report = import_errors;
    report.extend(wait_started(&mut runs).await);

    exec_all(&env, &db, STREAM).await;

    for kind in KINDS {
        let topic = marker_topic(kind, &names.debezium(kind), &db);
        if let Err(e) = wait_marker(&env, &topic, WAIT).await {
            panic!("Debezium ({kind:?}): {e}; log {}", debezium.log().display());
        }
    }
    for run in runs.iter_mut().filter(|r| r.started) {
        let prefix = names.rowtide(run.kind, run.format);
        let topic = marker_topic(run.kind, &prefix, &db);
        if let Err(e) = wait_marker(&env, &topic, Duration::from_secs(30)).await {
            report.push(format!("[{:?} {}] {e}", run.kind, run.format));
        }
        if let Some(status) = run.rowtide.exit_status() {
            run.started = false;
            report.push(format!(
                "[{:?} {}] rowtide exited with {status} during the workload; log:\n{}",
                run.kind,
                run.format,
                run.rowtide.log_tail(15)
            ));
        }
    }
    // Let the last heartbeats and records of every engine land.
    tokio::time::sleep(Duration::from_secs(2)).await;
    if let Some(f) = debezium.failure().await {
        panic!("Debezium failed: {f}");
    }
    for run in &runs {
        report.extend(compare_run(&env, &names, run).await);
    }
    finish(report, &mut runs, &mut debezium, &env, &db).await;
}

/// The differences of one kind and format, each line naming them.
async fn compare_run(env: &TestEnv, names: &Names, run: &Run) -> Vec<String> {
    let dbz_prefix = names.debezium(run.kind);
    let our_prefix = names.rowtide(run.kind, run.format);
    let dbz = records_of(env, &dbz_prefix).await;
    let mut ours = records_of(env, &our_prefix).await;
    if run.format == "avro" {
        let python = python().expect("a python with fastavro");
        avro::decode_all(&python, &env.registry_url, &mut ours).await;
    }
    let mut found = compare::compare(
        &Side {
            prefix: &dbz_prefix,
            records: &dbz,
            payload_only: run.format != "json_schema",
        },
        &Side {
            prefix: &our_prefix,
            records: &ours,
            payload_only: false,
        },
    );
    if run.kind == Kind::Outbox {
        found.extend(outbox_timestamps(&dbz, &dbz_prefix, &ours, &our_prefix));
    }
    eprintln!(
        "[{:?} {}] {} records from Debezium, {} from rowtide, {} difference(s)",
        run.kind,
        run.format,
        dbz.len(),
        ours.len(),
        found.len()
    );
    found
        .into_iter()
        .map(|f| format!("[{:?} {}] {f}", run.kind, run.format))
        .collect()
}

/// The outbox events' Kafka record timestamps (`table.field.event.timestamp = created`), by
/// topic (prefix replaced) and event id: both engines must set the same ones.
fn outbox_timestamps(
    dbz: &[Record],
    dbz_prefix: &str,
    ours: &[Record],
    our_prefix: &str,
) -> Vec<String> {
    let stamps = |recs: &[Record],
                  prefix: &str|
     -> std::collections::BTreeMap<(String, String), Option<i64>> {
        recs.iter()
            .filter_map(|r| {
                let id = r.header("id")?;
                Some(((r.topic.replacen(prefix, "<prefix>", 1), id), r.timestamp))
            })
            .collect()
    };
    let (d, o) = (stamps(dbz, dbz_prefix), stamps(ours, our_prefix));
    let mut out = Vec::new();
    if d.is_empty() {
        out.push("outbox timestamps: no outbox event from Debezium".to_string());
    }
    for (k, ts) in &d {
        if o.get(k) != Some(ts) {
            out.push(format!(
                "outbox timestamp of {k:?}: debezium {ts:?} vs rowtide {:?}",
                o.get(k)
            ));
        }
    }
    out
}

/// Stops everything, drops the database, and fails with the differences if there are any.
async fn finish(
    mut report: Vec<String>,
    runs: &mut [Run],
    debezium: &mut Worker,
    env: &TestEnv,
    db: &str,
) {
    for run in runs.iter_mut().filter(|r| r.started) {
        let status = run.rowtide.stop();
        assert!(
            status.success(),
            "rowtide ({:?} {}) exited with {status}; log:\n{}",
            run.kind,
            run.format,
            run.rowtide.log_tail(30)
        );
    }
    debezium.stop();
    // The one documented difference (docs/events.md, "Differences from Debezium"): a
    // truncation that cuts a character outside the BMP in half keeps a lone UTF-16 high
    // surrogate in Debezium, which no UTF-8 text can hold; rowtide drops the whole
    // character. Only a difference of exactly that form is set aside.
    report.retain(|line| !is_split_surrogate(line));
    if let Ok(path) = std::env::var("ROWTIDE_SHAPING_PARITY_REPORT") {
        std::fs::write(&path, report.join("\n") + "\n").unwrap();
    }
    if report.is_empty() {
        let _ = std::fs::remove_dir_all(&debezium.run_dir);
        let mut c = common::admin(env).await;
        c.query_drop(format!("DROP DATABASE `{db}`")).await.unwrap();
        c.disconnect().await.ok();
        return;
    }
    let shown: Vec<&String> = report.iter().take(400).collect();
    panic!(
        "{} difference(s) between Debezium and rowtide{}:\n{}",
        report.len(),
        if report.len() > shown.len() {
            " (first 400)"
        } else {
            ""
        },
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// `…: debezium "X<U+D8xx>" vs rowtide "X"`: Debezium's value is rowtide's plus one lone
/// high surrogate (as the comparison renders it), nothing else.
fn is_split_surrogate(line: &str) -> bool {
    let Some((_, diff)) = line.rsplit_once(": debezium \"") else {
        return false;
    };
    let Some((dz, rt)) = diff.split_once("\" vs rowtide \"") else {
        return false;
    };
    let Some(rt) = rt.strip_suffix('"') else {
        return false;
    };
    dz.strip_prefix(rt).is_some_and(|rest| {
        rest.len() == 8
            && rest.starts_with("<U+D")
            && rest.ends_with('>')
            && matches!(rest.as_bytes()[4], b'8' | b'9' | b'A' | b'B')
    })
}

#[test]
fn only_a_split_surrogate_is_set_aside() {
    assert!(is_split_surrogate(
        r#"[Envelope json] T: record 3 (c key {"id":4}): value.after.bio: debezium "abcdefg<U+D83D>" vs rowtide "abcdefg""#
    ));
    assert!(!is_split_surrogate(
        r#"[Envelope json] T: record 3: value.after.bio: debezium "abcdefgh" vs rowtide "abcdefg""#
    ));
    assert!(!is_split_surrogate(
        r#"[Envelope json] T: record 3: value.after.bio: debezium "xbcdefg<U+D83D>" vs rowtide "abcdefg""#
    ));
}
