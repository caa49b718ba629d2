//! Debezium's heartbeats (`[heartbeat]`: `heartbeat.interval.ms`, `heartbeat.topics.prefix`,
//! `heartbeat.action.query`) through the real binary, MariaDB → `rowtide run` → Kafka:
//! - heartbeat records reach `<topics_prefix>.<topic_prefix>` while nothing changes, with
//!   Debezium's key and value (`ServerNameKey {serverName}`, `Heartbeat {ts_ms}`) in
//!   `json_schema` and in `avro` (schemas registered under `<topic>-key|value`);
//! - the checkpoint follows the source's position through heartbeats: after writes to a
//!   database that is not captured and a binlog rotation it names the server's current
//!   file and position, while without heartbeats it stays in the old file;
//! - the action query runs at each heartbeat (its row changes are captured like any other),
//!   a failing one is logged and retried, and a syntax error stops the engine as Debezium's
//!   binlog connectors do.
//!
//! Expected shapes: debezium-connector-common `HeartbeatImpl` / `SchemaFactory` (3.5), and
//! what Debezium 3.5.0.Final wrote on the same server (compared by hand when this test was
//! written).

mod common;

use std::time::{Duration, Instant};

use common::kafka::{wait_for_async, Record};
use common::mariadb::PrivateMariadb;
use common::proc::{Rowtide, Setup};
use common::TestEnv;
use rowtide::config::{FormatConfig, FormatKind};
use rowtide::encode::registry::Registry;
use serde_json::{json, Value as Json};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn heartbeat_topic(setup: &Setup) -> String {
    format!("__debezium-heartbeat.{}", setup.topic_prefix)
}

/// Waits for `n` heartbeat records and returns them.
async fn heartbeats(env: &TestEnv, setup: &Setup, n: usize) -> Vec<Record> {
    wait_for_async(
        &env.kafka_brokers,
        &[heartbeat_topic(setup)],
        Duration::from_secs(60),
        "heartbeat records",
        move |recs| recs.len() >= n,
    )
    .await
}

/// json_schema: Debezium's exact key and value, one per interval while the captured table
/// is quiet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_in_json_schema_while_nothing_changes() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "heartbeat_js").await;
    let mut c = common::admin(&env).await;
    mysql_async::prelude::Queryable::query_drop(
        &mut c,
        format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY)"),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.format = "json_schema";
    setup.extra = "\n[heartbeat]\ninterval_ms = 300\n".into();
    let started = now_ms();
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;
    let recs = heartbeats(&env, &setup, 4).await;
    rt.assert_alive("after the heartbeats");
    let mut last = 0;
    for r in &recs {
        assert_eq!(
            r.key_json(),
            json!({"schema": {"type": "struct", "fields": [
                       {"type": "string", "optional": false, "field": "serverName"}],
                     "optional": false, "name": "io.debezium.connector.common.ServerNameKey",
                     "version": 1},
                   "payload": {"serverName": setup.topic_prefix}})
        );
        let v = r.value_json();
        assert_eq!(
            v["schema"],
            json!({"type": "struct", "fields": [
                       {"type": "int64", "optional": false, "field": "ts_ms"}],
                   "optional": false, "name": "io.debezium.connector.common.Heartbeat",
                   "version": 1})
        );
        let ts = v["payload"]["ts_ms"].as_i64().expect("ts_ms");
        assert!(
            ts >= started && ts <= now_ms(),
            "ts_ms {ts} is the time it was sent"
        );
        assert!(ts >= last, "in order");
        last = ts;
    }
    // One key: one partition, in the order they were sent; spaced by the interval.
    let first = recs[0].value_json()["payload"]["ts_ms"].as_i64().unwrap();
    assert!(
        last - first >= 3 * 250,
        "4 heartbeats 300 ms apart span {} ms",
        last - first
    );
    assert!(recs.iter().all(|r| r.partition == recs[0].partition));
    assert_eq!(rt.stop().code(), Some(0));
}

/// Reads an Avro `long`/`int` (zig-zag varint) at the start of `b`; returns it and its length.
fn zigzag(b: &[u8]) -> (i64, usize) {
    let (mut n, mut shift, mut i) = (0u64, 0, 0);
    loop {
        let byte = b[i];
        n |= u64::from(byte & 0x7f) << shift;
        i += 1;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (((n >> 1) as i64) ^ -((n & 1) as i64), i)
}

/// The schema id of a Confluent-framed record, and its body.
fn framed(b: &[u8]) -> (u32, &[u8]) {
    assert_eq!(b[0], 0, "magic byte");
    (u32::from_be_bytes([b[1], b[2], b[3], b[4]]), &b[5..])
}

/// avro: the key and value decode with the schemas registered for the heartbeat topic,
/// which are `schemas/heartbeat-*.avsc`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_in_avro_with_registered_schemas() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "heartbeat_av").await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.format = "avro";
    setup.extra = "\n[heartbeat]\ninterval_ms = 300\ntopics_prefix = \"hb-avro\"\n".into();
    let topic = format!("hb-avro.{}", setup.topic_prefix);
    let started = now_ms();
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    let recs = wait_for_async(
        &env.kafka_brokers,
        std::slice::from_ref(&topic),
        Duration::from_secs(60),
        "avro heartbeat records",
        |recs| recs.len() >= 2,
    )
    .await;
    let reg = Registry::new(&FormatConfig {
        kind: FormatKind::Avro,
        registry_url: Some(env.registry_url.clone()),
        ..FormatConfig::default()
    })
    .unwrap();
    let compact = |text: &str| serde_json::from_str::<Json>(text).unwrap();
    for r in &recs {
        let (kid, key) = framed(r.key.as_deref().expect("key"));
        let (vid, value) = framed(r.value.as_deref().expect("value"));
        assert_eq!(
            compact(&reg.schema_by_id(kid).await.unwrap()),
            compact(include_str!("../schemas/heartbeat-key.avsc"))
        );
        assert_eq!(
            compact(&reg.schema_by_id(vid).await.unwrap()),
            compact(include_str!("../schemas/heartbeat-value.avsc"))
        );
        // ServerNameKey {serverName: string}: length, then the bytes.
        let (len, at) = zigzag(key);
        assert_eq!(at + len as usize, key.len());
        assert_eq!(std::str::from_utf8(&key[at..]).unwrap(), setup.topic_prefix);
        // Heartbeat {ts_ms: long}.
        let (ts, used) = zigzag(value);
        assert_eq!(used, value.len());
        assert!(ts >= started && ts <= now_ms(), "ts_ms {ts}");
    }
    assert_eq!(rt.stop().code(), Some(0));
}

/// A private server (nothing else writes to it) and the `cdc` user's environment.
fn private_env(env: &TestEnv, m: &PrivateMariadb) -> TestEnv {
    TestEnv {
        mysql_host: "127.0.0.1".into(),
        mysql_port: m.port,
        mysql_user: "cdc".into(),
        mysql_password: "pw".into(),
        ..env.clone()
    }
}

fn row_server() -> PrivateMariadb {
    PrivateMariadb::start(&[
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        "--binlog-row-metadata=FULL",
        "--log-slave-updates=ON",
    ])
}

/// The server's current binlog file and position.
fn master_status(m: &PrivateMariadb) -> (String, u64, String) {
    let rows = m.rows("SHOW MASTER STATUS; SELECT @@gtid_binlog_pos");
    (
        rows[0][0].clone(),
        rows[0][1].parse().unwrap(),
        rows[1][0].clone(),
    )
}

/// The stored checkpoint (`offsets show --json`) of a stopped rowtide.
fn stored_offset(rt: &Rowtide) -> Json {
    let out = rt.command(&["offsets", "show", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Json>(&out.stdout).unwrap()["offset"].clone()
}

/// Writes to a database that is not captured, then a rotation: with heartbeats the stored
/// checkpoint reaches the server's current file, position and GTID set; without them it
/// stays in the old file (no captured event, no commit in the new file to move it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkpoint_follows_the_source_through_heartbeats() {
    let Some(env) = common::servers() else { return };
    let m = row_server();
    let penv = private_env(&env, &m);
    m.sql(
        "CREATE DATABASE cap; CREATE TABLE cap.t (id INT PRIMARY KEY); \
         CREATE DATABASE other; CREATE TABLE other.o (id INT PRIMARY KEY)",
    )
    .unwrap();
    let (with_dir, without_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut with = Setup::new("cap", with_dir.path());
    with.topic_prefix = common::unique("hbcp").replace('_', "");
    with.extra = "\n[heartbeat]\ninterval_ms = 200\n".into();
    let mut without = Setup::new("cap", without_dir.path());
    without.topic_prefix = common::unique("hbcq").replace('_', "");
    let mut a = Rowtide::start(&penv, &with, with_dir.path());
    let mut b = Rowtide::start(&penv, &without, without_dir.path());
    a.wait_streaming(1).await;
    b.wait_streaming(1).await;
    for i in 0..5 {
        m.sql(&format!("INSERT INTO other.o VALUES ({i})")).unwrap();
    }
    let (old_file, _, _) = master_status(&m);
    m.sql("FLUSH BINARY LOGS").unwrap();
    // MariaDB writes the new file's BINLOG_CHECKPOINT event a moment after the rotation.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (file, pos, gtid) = master_status(&m);
    assert_ne!(file, old_file);
    // Heartbeats every 200 ms, checkpoint writes every 100 ms: a few seconds is plenty.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        master_status(&m),
        (file.clone(), pos, gtid.clone()),
        "nothing else wrote"
    );
    assert_eq!(a.stop().code(), Some(0));
    assert_eq!(b.stop().code(), Some(0));
    let (oa, ob) = (stored_offset(&a), stored_offset(&b));
    assert_eq!(oa["binlog"], format!("{file}:{pos}"), "{oa}");
    assert!(
        oa.to_string().contains(&gtid),
        "the GTID set {gtid} is recorded: {oa}"
    );
    assert!(
        ob["binlog"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{old_file}:")),
        "without heartbeats the checkpoint stays in {old_file}: {ob}"
    );
    // No record for the other database reached Kafka, only heartbeats.
    let recs = common::kafka::read_all(&env.kafka_brokers, &[with.topic("t")]);
    assert!(recs.is_empty(), "{recs:?}");
    // The position is a valid resume point: a restart streams on from it.
    a.spawn();
    a.wait_streaming(2).await;
    m.sql("INSERT INTO cap.t VALUES (42)").unwrap();
    let recs = wait_for_async(
        &env.kafka_brokers,
        &[with.topic("t")],
        Duration::from_secs(60),
        "the change after the restart",
        |recs| !recs.is_empty(),
    )
    .await;
    assert_eq!(recs.len(), 1, "only the new change");
    assert_eq!(recs[0].value_json()["after"]["id"], 42);
    assert_eq!(a.stop().code(), Some(0));
}

/// The action query runs at each heartbeat on its own connection: its row changes are
/// captured; a failing one (missing table) is logged and retried; a syntax error (SQLSTATE
/// 42000) stops the engine, as Debezium's `BinlogHeartbeatErrorHandler` does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_action_query_runs_at_each_heartbeat() {
    let Some(env) = common::servers() else { return };
    let m = row_server();
    let penv = private_env(&env, &m);
    m.sql(
        "CREATE DATABASE hb; CREATE TABLE hb.heartbeat (id INT PRIMARY KEY, beats INT); \
         GRANT INSERT, UPDATE ON hb.* TO cdc@'127.0.0.1'",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new("hb", dir.path());
    setup.topic_prefix = common::unique("hbaq").replace('_', "");
    setup.format = "json";
    setup.extra = "\n[heartbeat]\ninterval_ms = 300\naction_query = \"INSERT INTO hb.heartbeat \
                   VALUES (1, 1) ON DUPLICATE KEY UPDATE beats = beats + 1\"\n"
        .into();
    let mut rt = Rowtide::start(&penv, &setup, dir.path());
    let recs = wait_for_async(
        &env.kafka_brokers,
        &[setup.topic("heartbeat")],
        Duration::from_secs(60),
        "the action query's changes",
        |recs| recs.len() >= 3,
    )
    .await;
    let ops: Vec<Json> = recs.iter().map(|r| r.value_json()["op"].clone()).collect();
    assert_eq!(ops[..3], [json!("c"), json!("u"), json!("u")], "{ops:?}");
    assert_eq!(recs[2].value_json()["after"], json!({"id": 1, "beats": 3}));
    rt.assert_alive("while the action query runs");
    assert_eq!(rt.stop().code(), Some(0));
    let beats: i64 = m.rows("SELECT beats FROM hb.heartbeat")[0][0]
        .parse()
        .unwrap();
    assert!(beats >= 3);

    // A query that fails at run time (missing table) is logged and retried, not fatal.
    let failing =
        "\n[heartbeat]\ninterval_ms = 200\naction_query = \"UPDATE hb.missing SET x = 1\"\n";
    let dir = tempfile::tempdir().unwrap();
    setup.state_dir = dir.path().join("state");
    setup.extra = failing.into();
    let mut rt = Rowtide::start(&penv, &setup, dir.path());
    rt.wait_log(
        "Could not execute the heartbeat action query",
        3,
        Duration::from_secs(30),
    )
    .await;
    rt.assert_alive("after failed action queries");
    assert_eq!(rt.stop().code(), Some(0));

    // A syntax error stops it, naming the option.
    let dir = tempfile::tempdir().unwrap();
    setup.state_dir = dir.path().join("state");
    setup.extra = "\n[heartbeat]\ninterval_ms = 200\naction_query = \"UPDATE SET\"\n".into();
    let mut rt = Rowtide::start(&penv, &setup, dir.path());
    let started = Instant::now();
    let status = rt.wait_exit(Duration::from_secs(60));
    assert_eq!(status.code(), Some(1), "{}", rt.log_tail(20));
    let log = rt.log_text();
    assert!(
        log.contains("heartbeat.action_query") && log.contains("42000"),
        "{}",
        rt.log_tail(20)
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}
