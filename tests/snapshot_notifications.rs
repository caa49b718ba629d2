//! Snapshot notifications (`[notifications] topic`, Debezium's sink notification channel)
//! and the incremental snapshot metrics, through the real binary, MariaDB → `rowtide run`
//! (exactly-once delivery, so every notification is read by a `read_committed` consumer:
//! they are written inside the transactions) → Kafka:
//! - the initial snapshot: `Initial Snapshot` STARTED, IN_PROGRESS and TABLE_SCAN_COMPLETED
//!   (with its row count) per table, COMPLETED;
//! - `rowtide snapshot pause`, an incremental snapshot requested while paused, `resume`:
//!   PAUSED, STARTED (id = the execute-snapshot signal's id), RESUMED, one IN_PROGRESS per
//!   chunk with the keys, TABLE_SCAN_COMPLETED with the row count, COMPLETED — in order,
//!   with Debezium's field names;
//! - `pause` (nothing runs: nothing sent), a snapshot, `stop`, `resume`: only STARTED and
//!   ABORTED, as Debezium sends them;
//! - `/metrics` while paused with a table queued, and after the snapshot.

mod common;

use std::time::Duration;

use common::kafka::{read_committed, Record};
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;

const SIGNAL_TABLE: &str =
    "(id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)";

/// A notification record's value (with or without the JSON converter's schema wrapper).
fn value(r: &Record) -> serde_json::Value {
    let v = r.value_json();
    match v.get("payload") {
        Some(p) if v.get("schema").is_some() => p.clone(),
        _ => v,
    }
}

/// `GET /metrics`.
fn scrape(port: u16) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The value of the sample `name` (with its labels, as written) in `metrics`.
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// Waits until the notification topic holds `n` committed records; returns them in order.
async fn notifications(brokers: &str, topic: &str, n: usize) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (b, t) = (brokers.to_string(), vec![topic.to_string()]);
        let mut recs = tokio::task::spawn_blocking(move || read_committed(&b, &t))
            .await
            .unwrap();
        recs.sort_by_key(|r| (r.partition, r.offset));
        for r in &recs {
            assert_eq!(
                value(r)["id"],
                r.key_json()
                    .get("payload")
                    .map_or_else(|| r.key_json()["id"].clone(), |p| p["id"].clone()),
                "keyed by the notification id"
            );
        }
        let values: Vec<serde_json::Value> = recs.iter().map(value).collect();
        if values.len() >= n || std::time::Instant::now() > deadline {
            assert_eq!(values.len(), n, "notifications: {values:#?}");
            return values;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `(aggregate_type, type)` of each notification.
fn kinds(v: &[serde_json::Value]) -> Vec<(String, String)> {
    v.iter()
        .map(|n| {
            let s = |k: &str| n[k].as_str().unwrap_or_default().to_string();
            (s("aggregate_type"), s("type"))
        })
        .collect()
}

fn expect(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, t)| (a.to_string(), t.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_notifications_and_metrics() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "notify").await;
    let mut c = common::admin(&env).await;
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
    c.query_drop(format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v INT)"))
        .await
        .unwrap();
    c.query_drop(format!(
        "INSERT INTO `{db}`.t SELECT seq, seq FROM seq_1_to_25"
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    // One partition: every notification in one order.
    setup.partitions = 1;
    let port = common::free_port();
    setup.metrics_listen = format!("127.0.0.1:{port}");
    let topic = format!("{}.notifications", setup.topic_prefix);
    setup.extra = format!(
        "\n[signals]\ntable = \"{db}.rt_signals\"\n\n[snapshot]\nchunk_size = 10\n\n\
         [notifications]\ntopic = \"{topic}\"\n"
    );
    let toml = setup
        .toml(&env)
        .replace(
            "[sink]\n",
            "[sink]\ndelivery = \"exactly_once\"\ntransaction_max_ms = 200\n",
        )
        .replace(
            "[checkpoint]\n",
            &format!(
                "[checkpoint]\nstore = \"kafka\"\nkafka_topic = \"{}.state\"\n",
                setup.topic_prefix
            ),
        );
    let config = dir.path().join("rowtide.toml");
    std::fs::write(&config, toml).unwrap();
    let mut rt = Rowtide::with_config(&config, dir.path());
    rt.wait_streaming(1).await;

    // The initial snapshot: both tables, in name order.
    let initial = notifications(&env.kafka_brokers, &topic, 6).await;
    let init = "Initial Snapshot";
    assert_eq!(
        kinds(&initial),
        expect(&[
            (init, "STARTED"),
            (init, "IN_PROGRESS"),
            (init, "TABLE_SCAN_COMPLETED"),
            (init, "IN_PROGRESS"),
            (init, "TABLE_SCAN_COMPLETED"),
            (init, "COMPLETED"),
        ])
    );
    let prefix = setup.topic_prefix.as_str();
    let tables = format!("{db}.rt_signals,{db}.t");
    for n in &initial {
        assert_eq!(n["additional_data"]["connector_name"], prefix, "{n}");
        assert!(
            n["timestamp"]
                .as_i64()
                .is_some_and(|t| t > 1_700_000_000_000),
            "{n}"
        );
        assert_eq!(n["id"].as_str().map(str::len), Some(36), "a UUID: {n}");
    }
    assert_eq!(
        initial[3]["additional_data"]["current_collection_in_progress"],
        format!("{db}.t")
    );
    assert_eq!(
        initial[3]["additional_data"]["data_collections"],
        tables.as_str()
    );
    let scanned = &initial[4]["additional_data"];
    assert_eq!(
        scanned["scanned_collection"],
        format!("{db}.t"),
        "{scanned}"
    );
    assert_eq!(scanned["total_rows_scanned"], "25", "{scanned}");
    assert_eq!(scanned["status"], "SUCCEEDED", "{scanned}");

    // Without INSERT on the signal table the first watermark cannot be written: STARTED,
    // then PAUSED; `resume` once the grant is back.
    let grant = format!("ON `{db}`.rt_signals TO '{}'@'127.0.0.1'", env.mysql_user);
    c.query_drop(format!(
        "REVOKE INSERT {}",
        grant.replacen(" TO ", " FROM ", 1)
    ))
    .await
    .unwrap();
    let data = format!(r#"{{"data-collections": ["{db}.t"], "type": "incremental"}}"#);
    c.exec_drop(
        format!("INSERT INTO `{db}`.rt_signals VALUES ('notify-1', 'execute-snapshot', ?)"),
        (data,),
    )
    .await
    .unwrap();
    let now = notifications(&env.kafka_brokers, &topic, 8).await;
    let paused = scrape(port);
    for (name, want) in [
        ("rowtide_incremental_snapshot_paused", 1.0),
        ("rowtide_incremental_snapshot_tables_remaining", 1.0),
        ("rowtide_incremental_snapshot_table_rows", 0.0),
    ] {
        assert_eq!(sample(&paused, name), Some(want), "{name}: {paused}");
    }
    let current = format!("rowtide_incremental_snapshot_current_table{{table=\"{db}.t\"}}");
    assert_eq!(sample(&paused, &current), Some(1.0), "{paused}");
    assert_eq!(now[6]["type"], "STARTED");
    assert_eq!(now[7]["type"], "PAUSED");
    for n in &now[6..] {
        assert_eq!(n["additional_data"]["data_collections"], format!("{db}.t"));
    }
    c.query_drop(format!("GRANT INSERT {grant}")).await.unwrap();
    let out = rt.command(&["snapshot", "resume"]);
    assert!(out.status.success(), "{out:?}");
    rt.wait_log("Incremental snapshot finished.", 1, Duration::from_secs(30))
        .await;
    let all = notifications(&env.kafka_brokers, &topic, 14).await;
    let incr = "Incremental Snapshot";
    assert_eq!(
        kinds(&all[6..]),
        expect(&[
            (incr, "STARTED"),
            (incr, "PAUSED"),
            (incr, "RESUMED"),
            (incr, "IN_PROGRESS"),
            (incr, "IN_PROGRESS"),
            (incr, "IN_PROGRESS"),
            (incr, "TABLE_SCAN_COMPLETED"),
            (incr, "COMPLETED"),
        ])
    );
    // The id of the snapshot's notifications is its execute-snapshot signal's.
    for n in &all[6..] {
        assert_eq!(n["id"], "notify-1", "{n}");
        assert_eq!(n["additional_data"]["connector_name"], prefix, "{n}");
    }
    let last: Vec<&str> = all[9..12]
        .iter()
        .map(|n| {
            let d = &n["additional_data"];
            assert_eq!(
                d["current_collection_in_progress"],
                format!("{db}.t"),
                "{n}"
            );
            assert_eq!(d["data_collections"], format!("{db}.t"), "{n}");
            assert_eq!(d["maximum_key"], "25", "{n}");
            d["last_processed_key"].as_str().unwrap_or_default()
        })
        .collect();
    assert_eq!(last, ["10", "20", "25"]);
    let done = &all[12]["additional_data"];
    assert_eq!(done["total_rows_scanned"], "25", "{done}");
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["scanned_collection"], format!("{db}.t"), "{done}");
    assert_eq!(done["data_collections"], format!("{db}.t"), "{done}");

    let m = scrape(port);
    let t = format!("{{table=\"{db}.t\"}}");
    let chunks = sample(&m, &format!("rowtide_incremental_snapshot_chunks_total{t}"));
    let rows = sample(&m, &format!("rowtide_incremental_snapshot_rows_total{t}"));
    assert_eq!((chunks, rows), (Some(3.0), Some(25.0)), "{m}");
    for (name, want) in [
        ("rowtide_incremental_snapshot_tables_remaining", 0.0),
        ("rowtide_incremental_snapshot_paused", 0.0),
        ("rowtide_incremental_snapshot_window_open", 0.0),
        ("rowtide_incremental_snapshot_table_rows", 0.0),
    ] {
        assert_eq!(sample(&m, name), Some(want), "{name}: {m}");
    }
    let current = format!("rowtide_incremental_snapshot_current_table{t}");
    assert_eq!(sample(&m, &current), Some(0.0), "finished: {m}");
    let last_chunk = sample(
        &m,
        "rowtide_incremental_snapshot_last_chunk_timestamp_seconds",
    );
    assert!(last_chunk.is_some_and(|s| s > 1.7e9), "{m}");

    // A pause while nothing runs sends nothing (as Debezium); the snapshot asked for then
    // waits; `stop` aborts it; the `resume` of nothing sends nothing.
    for args in [
        vec!["snapshot", "pause"],
        vec!["snapshot", &format!("{db}.t")],
        vec!["snapshot", "stop"],
        vec!["snapshot", "resume"],
        vec!["snapshot", "pause"],
    ] {
        let out = rt.command(&args);
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
    rt.wait_log("Incremental snapshot paused.", 2, Duration::from_secs(30))
        .await;
    let all = notifications(&env.kafka_brokers, &topic, 16).await;
    assert_eq!(
        kinds(&all[14..]),
        expect(&[(incr, "STARTED"), (incr, "ABORTED")])
    );
    assert_eq!(all[14]["id"], all[15]["id"], "the stopped snapshot's id");
    assert_ne!(all[14]["id"], "notify-1", "a new signal, a new id");
    let m = scrape(port);
    assert_eq!(
        sample(&m, "rowtide_incremental_snapshot_tables_remaining"),
        Some(0.0),
        "{m}"
    );
    rt.assert_alive("at the end");
    assert!(rt.stop().success());
}

fn get_json(url: &str) -> serde_json::Value {
    let url = url.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async { ::reqwest::get(&url).await.unwrap().json().await.unwrap() })
    })
    .join()
    .unwrap()
}

/// An Avro value in the Confluent wire format, decoded with the registry's schema for its
/// id, as JSON.
fn avro_decode(registry: &str, b: &[u8]) -> serde_json::Value {
    use apache_avro::types::Value as A;
    fn json(v: A) -> serde_json::Value {
        match v {
            A::Null => serde_json::Value::Null,
            A::Long(i) => i.into(),
            A::String(s) => s.into(),
            A::Union(_, b) => json(*b),
            A::Record(f) => f.into_iter().map(|(k, v)| (k, json(v))).collect(),
            A::Map(m) => m.into_iter().map(|(k, v)| (k, json(v))).collect(),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(b[0], 0, "magic byte");
    let id = u32::from_be_bytes([b[1], b[2], b[3], b[4]]);
    let body = get_json(&format!("{registry}/schemas/ids/{id}"));
    let schema = apache_avro::Schema::parse_str(body["schema"].as_str().unwrap()).unwrap();
    let v = apache_avro::reader::datum::GenericDatumReader::builder(&schema)
        .build()
        .unwrap()
        .read_value(&mut &b[5..])
        .unwrap();
    json(v)
}

/// With Avro the notification schemas are registered under the topic's subjects and the
/// records decode with them (an initial-only snapshot of one table).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_notifications_decode_with_the_registered_schemas() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "notify_avro").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY)"))
        .await
        .unwrap();
    c.query_drop(format!("INSERT INTO `{db}`.t VALUES (1), (2), (3)"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.format = "avro";
    setup.partitions = 1;
    setup.snapshot_mode = "initial_only";
    let topic = format!("{}.notifications", setup.topic_prefix);
    setup.extra = format!("\n[notifications]\ntopic = \"{topic}\"\n");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    assert!(rt.wait_exit(Duration::from_secs(60)).success());
    let (b, t) = (env.kafka_brokers.clone(), vec![topic.clone()]);
    let mut recs = tokio::task::spawn_blocking(move || common::kafka::read_all(&b, &t))
        .await
        .unwrap();
    recs.sort_by_key(|r| r.offset);
    let values: Vec<serde_json::Value> = recs
        .iter()
        .map(|r| avro_decode(&env.registry_url, r.value.as_deref().unwrap()))
        .collect();
    let types: Vec<&str> = values.iter().map(|v| v["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "STARTED",
            "IN_PROGRESS",
            "TABLE_SCAN_COMPLETED",
            "COMPLETED"
        ]
    );
    let done = &values[2];
    assert_eq!(done["aggregate_type"], "Initial Snapshot");
    assert_eq!(done["additional_data"]["total_rows_scanned"], "3", "{done}");
    assert_eq!(
        done["additional_data"]["scanned_collection"],
        format!("{db}.t")
    );
    for (r, v) in recs.iter().zip(&values) {
        let key = avro_decode(&env.registry_url, r.key.as_deref().unwrap());
        assert_eq!(key, serde_json::json!({"id": v["id"]}));
    }
    let subjects = get_json(&format!("{}/subjects", env.registry_url));
    for s in [format!("{topic}-key"), format!("{topic}-value")] {
        assert!(
            subjects.as_array().unwrap().iter().any(|x| x == s.as_str()),
            "{s} not in {subjects}"
        );
    }
}
