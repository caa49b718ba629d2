//! Incremental snapshots (Debezium's, the DBLog watermark algorithm) through the real
//! binary, MariaDB → `rowtide run` → Kafka:
//! - a 200,000-row table with a composite, non-integer key is snapshotted in chunks while a
//!   writer inserts, updates, deletes and changes primary keys at full speed; `kill -9` in
//!   the middle, then a restart that resumes from the last acknowledged chunk (not from the
//!   start); afterwards the last event per key in Kafka equals the table exactly, every key
//!   the writer never touched has an `r` event, and no deleted row comes back;
//! - `rowtide snapshot --filter` emits only the matching rows, as `op = r` events shaped as
//!   Debezium's incremental snapshot events (`source.snapshot = "incremental"`, no
//!   transaction block); a table without a primary key is refused with a clear message,
//!   and read by its `[snapshot] surrogate_keys` column when one is named, or by the
//!   signal's `surrogate-key` (`rowtide snapshot --surrogate-key`); without INSERT
//!   on the signal table the snapshot pauses (streaming goes on) until `resume`.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::kafka::{read_all, wait_for_async, Record};
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;

const SIGNAL_TABLE: &str =
    "(id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)";
const ROWS: u64 = 200_000;

/// The envelope of a record (with or without the JSON converter's schema wrapper).
fn envelope(r: &Record) -> serde_json::Value {
    let v = r.value_json();
    match v.get("payload") {
        Some(p) if v.get("schema").is_some() => p.clone(),
        _ => v,
    }
}

/// `GET path` on the metrics listener.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// A small deterministic generator (fixed seed: every run does the same operations).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

async fn setup_db(env: &common::TestEnv, prefix: &str) -> (String, mysql_async::Conn) {
    let db = common::fresh_db(env, prefix).await;
    let mut c = common::admin(env).await;
    // The sequence engine's seq_1_to_N tables need a current database.
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop(format!("CREATE TABLE `{db}`.rt_signals {SIGNAL_TABLE}"))
        .await
        .unwrap();
    c.query_drop(format!(
        "GRANT INSERT ON `{db}`.rt_signals TO '{}'@'127.0.0.1'",
        env.mysql_user
    ))
    .await
    .unwrap();
    (db, c)
}

/// The writer: random inserts, updates, deletes and key changes until `stop`; returns the
/// keys it touched (as `id/k`).
async fn writer(env: common::TestEnv, db: String, stop: Arc<AtomicBool>) -> HashSet<String> {
    let mut c = common::admin(&env).await;
    let mut rng = Lcg(42);
    let mut touched = HashSet::new();
    let mut next_new = ROWS + 1_000_000;
    while !stop.load(Ordering::Relaxed) {
        let id = rng.next() % ROWS;
        let k = format!("k{}", id % 7);
        let sql = match rng.next() % 4 {
            0 => {
                next_new += 1;
                touched.insert(format!("{next_new}/n"));
                format!("INSERT INTO `{db}`.big VALUES ({next_new}, 'n', 1)")
            }
            1 => format!("UPDATE `{db}`.big SET v = v + 1 WHERE id = {id} AND k = '{k}'"),
            2 => format!("DELETE FROM `{db}`.big WHERE id = {id} AND k = '{k}'"),
            _ => {
                next_new += 1;
                touched.insert(format!("{next_new}/{k}"));
                format!("UPDATE `{db}`.big SET id = {next_new} WHERE id = {id} AND k = '{k}'")
            }
        };
        touched.insert(format!("{id}/{k}"));
        c.query_drop(sql).await.unwrap();
    }
    touched
}

/// `(id, k)` of a row image as `id/k`.
fn key_of(row: &serde_json::Value) -> String {
    format!("{}/{}", row["id"], row["k"].as_str().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_snapshot_under_writes_is_exact_and_resumes_after_kill9() {
    let Some(env) = common::servers() else { return };
    let (db, mut c) = setup_db(&env, "incr_big").await;
    c.query_drop(format!(
        "CREATE TABLE `{db}`.big (id BIGINT NOT NULL, k VARCHAR(16) NOT NULL, v INT, \
         PRIMARY KEY (id, k))"
    ))
    .await
    .unwrap();
    c.query_drop(format!(
        "INSERT INTO `{db}`.big SELECT seq, CONCAT('k', seq % 7), seq FROM seq_0_to_{}",
        ROWS - 1
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.snapshot_mode = "no_data";
    setup.extra =
        format!("\n[signals]\ntable = \"{db}.rt_signals\"\n\n[snapshot]\nchunk_size = 1000\n");
    let metrics_port = common::free_port();
    setup.metrics_listen = format!("127.0.0.1:{metrics_port}");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;

    let stop = Arc::new(AtomicBool::new(false));
    let writes = tokio::spawn(writer(env.clone(), db.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let out = rt.command(&["snapshot", &format!("{db}.big")]);
    assert!(out.status.success(), "{out:?}");
    // 50 chunks emitted and acknowledged at least: crash.
    rt.wait_log(
        "Incremental snapshot in progress.",
        1,
        Duration::from_secs(120),
    )
    .await;
    rt.kill9();
    rt.spawn();
    rt.wait_log(
        "Incremental snapshot resumed from the checkpoint.",
        1,
        Duration::from_secs(60),
    )
    .await;
    let log = rt.log_text();
    let resumed = log
        .lines()
        .find(|l| l.contains("Incremental snapshot resumed from the checkpoint."))
        .unwrap();
    let chunks: u64 = resumed
        .split("chunks_done=")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{resumed}"));
    assert!(
        chunks > 0,
        "resumed from a chunk, not from the start: {resumed}"
    );
    rt.wait_log(
        "Incremental snapshot finished.",
        1,
        Duration::from_secs(180),
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let touched = writes.await.unwrap();
    // The last change reaches Kafka.
    c.query_drop(format!("INSERT INTO `{db}`.big VALUES (-1, 'end', 0)"))
        .await
        .unwrap();
    let topic = setup.topic("big");
    wait_for_async(
        &env.kafka_brokers,
        std::slice::from_ref(&topic),
        Duration::from_secs(60),
        "the end marker",
        |recs| recs.iter().any(|r| envelope(r)["after"]["k"] == "end"),
    )
    .await;
    let metrics = http_get(metrics_port, "/metrics");
    let chunks_metric: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("rowtide_incremental_snapshot_chunks_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(chunks_metric > 0.0, "{metrics}");
    assert!(
        metrics.contains("rowtide_incremental_snapshot_tables_remaining 0"),
        "{metrics}"
    );
    rt.assert_alive("at the end");
    assert!(rt.stop().success());

    let mut recs = read_all(&env.kafka_brokers, &[topic]);
    recs.sort_by_key(|r| (r.partition, r.offset));
    let mut last: BTreeMap<String, Option<i64>> = BTreeMap::new();
    let mut read: HashSet<String> = HashSet::new();
    let mut incremental_reads = 0u64;
    for r in &recs {
        if r.value.is_none() {
            continue; // a tombstone follows its delete
        }
        let e = envelope(r);
        match e["op"].as_str().unwrap() {
            "d" => {
                last.insert(key_of(&e["before"]), None);
            }
            op => {
                let key = key_of(&e["after"]);
                if op == "r" {
                    assert_eq!(e["source"]["snapshot"], "incremental", "{e}");
                    read.insert(key.clone());
                    incremental_reads += 1;
                }
                last.insert(key, e["after"]["v"].as_i64());
            }
        }
    }
    let rows: Vec<(i64, String, Option<i64>)> = c
        .query(format!("SELECT id, k, v FROM `{db}`.big"))
        .await
        .unwrap();
    let want: BTreeMap<String, Option<i64>> = rows
        .into_iter()
        .map(|(id, k, v)| (format!("{id}/{k}"), v))
        .collect();
    let have: BTreeMap<String, Option<i64>> = last
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .map(|(k, v)| (k, Some(v)))
        .collect();
    let missing: Vec<_> = want
        .keys()
        .filter(|k| !have.contains_key(*k))
        .take(5)
        .collect();
    let extra: Vec<_> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .take(5)
        .collect();
    let differ: Vec<_> = want
        .iter()
        .filter(|(k, v)| have.get(*k).is_some_and(|h| h != *v))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && differ.is_empty(),
        "Kafka differs from the table: missing {missing:?}, resurrected/extra {extra:?}, \
         different {differ:?} ({} rows, {} keys in Kafka)",
        want.len(),
        have.len()
    );
    let untouched: Vec<&String> = want
        .keys()
        .filter(|k| !touched.contains(*k) && !k.ends_with("/end"))
        .collect();
    let not_read: Vec<_> = untouched
        .iter()
        .filter(|k| !read.contains(**k))
        .take(5)
        .collect();
    assert!(not_read.is_empty(), "never read: {not_read:?}");
    assert!(untouched.len() > 100_000, "{} untouched", untouched.len());
    // Resumed, not started over: far fewer reads than twice the table.
    assert!(
        incremental_reads < ROWS + ROWS / 2,
        "{incremental_reads} reads"
    );
    eprintln!(
        "{} rows, {} touched keys, {incremental_reads} incremental reads, resumed after {chunks} chunks",
        want.len(),
        touched.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtered_snapshot_emits_matching_rows_shaped_as_debezium() {
    let Some(env) = common::servers() else { return };
    let (db, mut c) = setup_db(&env, "incr_filter").await;
    c.query_drop(format!(
        "CREATE TABLE `{db}`.t (id INT PRIMARY KEY, name VARCHAR(20))"
    ))
    .await
    .unwrap();
    c.query_drop(format!(
        "INSERT INTO `{db}`.t SELECT seq, CONCAT('n', seq) FROM seq_1_to_100"
    ))
    .await
    .unwrap();
    c.query_drop(format!("CREATE TABLE `{db}`.nopk (a INT, b INT)"))
        .await
        .unwrap();
    c.query_drop(format!(
        "INSERT INTO `{db}`.nopk SELECT seq, seq * 3 FROM seq_1_to_20"
    ))
    .await
    .unwrap();
    c.query_drop(format!("CREATE TABLE `{db}`.surr (a INT, b INT)"))
        .await
        .unwrap();
    c.query_drop(format!(
        "INSERT INTO `{db}`.surr SELECT seq, seq * 2 FROM seq_1_to_30"
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.snapshot_mode = "no_data";
    setup.extra = format!(
        "\n[signals]\ntable = \"{db}.rt_signals\"\n\n[snapshot]\nchunk_size = 7\n\
         surrogate_keys = {{ \"{db}.surr\" = \"a\" }}\n"
    );
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;

    // Without INSERT on the signal table the watermarks cannot be written: the snapshot
    // pauses, the stream goes on, and `resume` continues it once the grant is there.
    let grant = format!("ON `{db}`.rt_signals TO '{}'@'127.0.0.1'", env.mysql_user);
    c.query_drop(format!(
        "REVOKE INSERT {}",
        grant.replacen(" TO ", " FROM ", 1)
    ))
    .await
    .unwrap();
    let data = format!(
        r#"{{"data-collections": ["{db}.t"], "type": "incremental",
            "additional-conditions": [{{"data-collection": "{db}.t", "filter": "id % 3 = 0"}}]}}"#
    );
    c.exec_drop(
        format!("INSERT INTO `{db}`.rt_signals VALUES ('ad-hoc-1', 'execute-snapshot', ?)"),
        (data,),
    )
    .await
    .unwrap();
    rt.wait_log("Incremental snapshot paused: ", 1, Duration::from_secs(60))
        .await;
    assert!(rt.log_text().contains("needs INSERT on the signal table"));
    rt.assert_alive("with the snapshot paused");
    c.query_drop(format!("GRANT INSERT {grant}")).await.unwrap();
    let out = rt.command(&["snapshot", "resume"]);
    assert!(out.status.success(), "{out:?}");
    rt.wait_log(
        "Incremental snapshot of table finished.",
        1,
        Duration::from_secs(60),
    )
    .await;
    let out = rt.command(&["snapshot", &format!("{db}.nopk"), &format!("{db}.surr")]);
    assert!(out.status.success(), "{out:?}");
    rt.wait_log(
        "Incremental snapshot of table finished.",
        2,
        Duration::from_secs(60),
    )
    .await;
    let log = rt.log_text();
    assert!(
        log.contains("it has no primary key") && log.contains("surrogate_keys"),
        "{log}"
    );

    let recs = wait_for_async(
        &env.kafka_brokers,
        &[setup.topic("t")],
        Duration::from_secs(30),
        "the filtered rows",
        |recs| recs.len() >= 33,
    )
    .await;
    let mut ids: Vec<i64> = recs
        .iter()
        .map(|r| envelope(r)["after"]["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, (1..=33).map(|i| i * 3).collect::<Vec<i64>>());

    // Debezium's incremental snapshot event (MySQL connector documentation, "Incremental
    // snapshots"): op "r", before null, source.snapshot "incremental", no transaction
    // block, and the source block of the connector with the stream's binlog coordinates.
    let e = envelope(&recs[0]);
    let fields: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    for f in ["before", "after", "source", "op", "ts_ms", "transaction"] {
        assert!(fields.contains(&f), "{f} missing in {e}");
    }
    assert_eq!(e["op"], "r");
    assert!(e["before"].is_null() && e["transaction"].is_null(), "{e}");
    let s = &e["source"];
    assert_eq!(s["snapshot"], "incremental", "{e}");
    assert_eq!(s["db"], db.as_str());
    assert_eq!(s["table"], "t");
    assert!(s["file"].as_str().is_some_and(|f| !f.is_empty()), "{e}");
    assert!(s["pos"].as_i64().is_some_and(|p| p > 4), "{e}");
    assert_eq!(s["connector"], "mariadb");
    assert_eq!(
        recs[0].key_json()["payload"]
            .as_object()
            .map_or_else(|| recs[0].key_json()["id"].clone(), |k| k["id"].clone()),
        e["after"]["id"]
    );

    let surr = wait_for_async(
        &env.kafka_brokers,
        &[setup.topic("surr")],
        Duration::from_secs(30),
        "the surrogate-key table",
        |recs| recs.len() >= 30,
    )
    .await;
    assert_eq!(surr.len(), 30);

    // The signal's surrogate-key (Debezium's), here from `rowtide snapshot --surrogate-key`
    // through the signal table: the table without a primary key is read in chunks of `a`.
    let out = rt.command(&["snapshot", &format!("{db}.nopk"), "--surrogate-key", "a"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(r#""surrogate-key":"a""#),
        "{out:?}"
    );
    rt.wait_log(
        "Incremental snapshot of table finished.",
        3,
        Duration::from_secs(60),
    )
    .await;
    let nopk = wait_for_async(
        &env.kafka_brokers,
        &[setup.topic("nopk")],
        Duration::from_secs(30),
        "the table read by the signal's surrogate key",
        |recs| recs.len() >= 20,
    )
    .await;
    let mut seen: Vec<(i64, i64)> = nopk
        .iter()
        .map(envelope)
        .inspect(|e| assert_eq!(e["op"], "r", "{e}"))
        .map(|e| {
            (
                e["after"]["a"].as_i64().unwrap(),
                e["after"]["b"].as_i64().unwrap(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen, (1..=20).map(|i| (i, i * 3)).collect::<Vec<_>>());
    rt.assert_alive("at the end");
    assert!(rt.stop().success());
}

/// Produces `value` keyed by `key` to partition 0 of `topic` (created with one partition).
async fn send_kafka_signal(brokers: &str, topic: &str, key: &str, value: &str) {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let p: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("producer");
    p.send(
        FutureRecord::to(topic).key(key).payload(value).partition(0),
        Duration::from_secs(10),
    )
    .await
    .expect("signal record delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_from_the_kafka_topic_act_once_across_restarts() {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let Some(env) = common::servers() else { return };
    let (db, mut c) = setup_db(&env, "incr_kafka").await;
    c.query_drop(format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v INT)"))
        .await
        .unwrap();
    c.query_drop(format!(
        "INSERT INTO `{db}`.t SELECT seq, seq FROM seq_1_to_20"
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.snapshot_mode = "no_data";
    let topic = format!("{}-signals", setup.topic_prefix);
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &env.kafka_brokers)
        .create()
        .unwrap();
    for r in admin
        .create_topics(
            [&NewTopic::new(&topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap()
    {
        r.unwrap();
    }
    setup.extra = format!(
        "\n[signals]\ntable = \"{db}.rt_signals\"\nkafka_topic = \"{topic}\"\n\n[snapshot]\nchunk_size = 6\n"
    );
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;
    let key = setup.topic_prefix.clone();
    // Another connector's signal (another key) is ignored; a malformed one is skipped.
    send_kafka_signal(
        &env.kafka_brokers,
        &topic,
        "someone-else",
        r#"{"type":"log","data":{"message":"not mine"}}"#,
    )
    .await;
    send_kafka_signal(&env.kafka_brokers, &topic, &key, "{broken").await;
    let exec = format!(
        r#"{{"type":"execute-snapshot","data":{{"data-collections":["{db}.t"],"type":"INCREMENTAL"}}}}"#
    );
    send_kafka_signal(&env.kafka_brokers, &topic, &key, &exec).await;
    rt.wait_log("Incremental snapshot finished.", 1, Duration::from_secs(60))
        .await;
    let log = rt.log_text();
    assert!(
        log.contains("Signal skipped: the value is not JSON"),
        "{log}"
    );
    assert!(!log.contains("not mine"), "{log}");
    let recs = wait_for_async(
        &env.kafka_brokers,
        &[setup.topic("t")],
        Duration::from_secs(30),
        "the snapshot rows",
        |recs| recs.len() >= 20,
    )
    .await;
    assert_eq!(recs.len(), 20);
    assert!(recs
        .iter()
        .all(|r| envelope(r)["source"]["snapshot"] == "incremental"));
    assert!(rt.stop().success());

    // After a restart the channel resumes after the signals it acted on.
    rt.spawn();
    rt.wait_streaming(2).await;
    send_kafka_signal(
        &env.kafka_brokers,
        &topic,
        &key,
        r#"{"type":"log","data":{"message":"after the restart"}}"#,
    )
    .await;
    rt.wait_log("Signal log: after the restart", 1, Duration::from_secs(60))
        .await;
    // `rowtide snapshot --via kafka` sends Debezium's execute-snapshot through the topic.
    let table = format!("{db}.t");
    let out = rt.command(&["snapshot", "--via", "kafka", &table, "--filter", "id <= 5"]);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "rowtide snapshot --via kafka: {out:?}"
    );
    assert!(
        said.contains("Sent execute-snapshot signal kafka-"),
        "{said}"
    );
    rt.wait_log("Incremental snapshot finished.", 2, Duration::from_secs(60))
        .await;
    // The log holds both starts: each signal acted once.
    let log = rt.log_text();
    assert_eq!(
        log.matches("Incremental snapshot requested.").count(),
        2,
        "{log}"
    );
    assert_eq!(log.matches("Signal skipped").count(), 1, "{log}");
    assert!(rt.stop().success());
    let recs = read_all(&env.kafka_brokers, &[setup.topic("t")]);
    assert_eq!(
        recs.len(),
        25,
        "no repeat of the first snapshot, 5 filtered rows of the second"
    );
    let mut counts = std::collections::HashMap::new();
    for r in &recs {
        *counts
            .entry(r.key_json()["id"].as_i64().unwrap())
            .or_insert(0) += 1;
    }
    assert!(
        counts
            .iter()
            .all(|(&id, &n)| n == if id <= 5 { 2 } else { 1 }),
        "ids 1..=5 read twice (the filtered snapshot), the rest once: {counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_that_starts_to_match_include_is_snapshotted_incrementally_once() {
    let Some(env) = common::servers() else { return };
    let (db, mut c) = setup_db(&env, "incr_new").await;
    c.query_drop(format!("CREATE TABLE `{db}`.old (id INT PRIMARY KEY)"))
        .await
        .unwrap();
    c.query_drop(format!(
        "CREATE TABLE `{db}`.later (id INT PRIMARY KEY, v INT)"
    ))
    .await
    .unwrap();
    c.query_drop(format!(
        "INSERT INTO `{db}`.later SELECT seq, seq FROM seq_1_to_10"
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.snapshot_mode = "no_data";
    setup.extra = format!(
        "\n[signals]\ntable = \"{db}.rt_signals\"\n\n[snapshot]\nnew_tables = \"incremental\"\nchunk_size = 4\n"
    );
    let full = setup.toml(&env);
    let narrow = full.replace(
        &format!("include = [\"{db}\\\\..*\"]"),
        &format!("include = [\"{db}\\\\.(old|rt_signals)\"]"),
    );
    assert_ne!(full, narrow);
    let config = dir.path().join("rowtide.toml");
    std::fs::write(&config, &narrow).unwrap();
    let mut rt = Rowtide::with_config(&config, dir.path());
    rt.wait_streaming(1).await;
    assert!(rt.stop().success());

    // `later` now matches: found at start and snapshotted while streaming.
    std::fs::write(&config, &full).unwrap();
    rt.spawn();
    rt.wait_log("Incremental snapshot finished.", 1, Duration::from_secs(60))
        .await;
    let log = rt.log_text();
    assert!(
        log.contains("New captured table: queued for an incremental snapshot")
            && log.contains(&format!("{db}.later")),
        "{log}"
    );
    let recs = wait_for_async(
        &env.kafka_brokers,
        &[setup.topic("later")],
        Duration::from_secs(30),
        "the new table's rows",
        |recs| recs.len() >= 10,
    )
    .await;
    assert!(recs
        .iter()
        .all(|r| envelope(r)["op"] == "r" && envelope(r)["source"]["snapshot"] == "incremental"));
    assert!(rt.stop().success());

    // Known from now on: not snapshotted again.
    rt.spawn();
    rt.wait_streaming(3).await;
    c.query_drop(format!("INSERT INTO `{db}`.later VALUES (11, 11)"))
        .await
        .unwrap();
    wait_for_async(
        &env.kafka_brokers,
        &[setup.topic("later")],
        Duration::from_secs(30),
        "the change after the third start",
        |recs| recs.iter().any(|r| envelope(r)["after"]["id"] == 11),
    )
    .await;
    assert!(rt.stop().success());
    let log = rt.log_text();
    assert_eq!(log.matches("New captured table").count(), 1, "{log}");
    assert_eq!(
        read_all(&env.kafka_brokers, &[setup.topic("later")]).len(),
        11
    );
}
