//! Snapshot notifications side by side with Debezium's MariaDB connector (3.5.0.Final from
//! Maven Central, in a Kafka Connect standalone worker started by `scripts/connect`, with
//! `notification.enabled.channels=sink`): both capture one database — an initial snapshot,
//! then incremental snapshots of one table asked for through each one's signal table, then
//! a blocking snapshot of it (Debezium's `Initial Snapshot` notifications again) —
//! and their notification topics (`json_schema`, i.e. JsonConverter with schemas) must
//! agree record by record: the same sequence of `aggregate_type` / `type`, the same key and
//! value schemas, the same `additional_data` keys and values, ignoring only the ids, the
//! timestamps and `connector_name` (each one's topic prefix).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::connect::{connect_cmd, start_worker, write_worker, Worker};
use common::kafka::{read_all, Record};
use common::poll::poll_until_async;
use common::proc::{Rowtide, Setup};
use common::{free_port, TestEnv};
use mysql_async::prelude::Queryable;
use serde_json::Value;

const DEBEZIUM_MARIADB: &str = "io.debezium:debezium-connector-mariadb:3.5.0.Final";
const SIGNAL_TABLE: &str =
    "(id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)";

fn start_debezium(env: &TestEnv, dir: &Path, db: &str, prefix: &str) -> Worker {
    let plugin = connect_cmd(&["plugin", DEBEZIUM_MARIADB]);
    let name = common::unique("dbznote").replace('_', "-");
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
include.schema.changes=false
schema.history.internal.store.only.captured.tables.ddl=true
schema.history.internal.kafka.bootstrap.servers={brokers}
schema.history.internal.kafka.topic={prefix}-history
signal.data.collection={db}.dbz_signals
incremental.snapshot.chunk.size=10
notification.enabled.channels=sink
notification.sink.topic.name={prefix}.notifications
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

/// Waits until `topic` holds a notification of `aggregate_type` / `type`; returns them all.
async fn until(env: &TestEnv, topic: &str, aggregate: &str, kind: &str) -> Vec<Record> {
    let (brokers, topic) = (env.kafka_brokers.clone(), topic.to_string());
    let what = format!("{aggregate} {kind} on {topic}");
    poll_until_async(
        &what,
        Duration::from_secs(120),
        Duration::from_millis(500),
        || {
            let (b, t) = (brokers.clone(), topic.clone());
            let (aggregate, kind) = (aggregate.to_string(), kind.to_string());
            async move {
                let mut recs = tokio::task::spawn_blocking(move || read_all(&b, &[t]))
                    .await
                    .unwrap();
                recs.sort_by_key(|r| (r.partition, r.offset));
                let seen = recs.iter().any(|r| {
                    let p = &r.value_json()["payload"];
                    p["aggregate_type"] == aggregate.as_str() && p["type"] == kind.as_str()
                });
                match seen {
                    true => Ok(recs),
                    false => Err(format!("{} notifications so far", recs.len())),
                }
            }
        },
    )
    .await
}

/// Whether the notification reports on `table` (its `current_collection_in_progress` or
/// `scanned_collection`).
fn about(r: &Record, table: &str) -> bool {
    let d = &r.value_json()["payload"]["additional_data"];
    d["current_collection_in_progress"] == table || d["scanned_collection"] == table
}

/// The record without what differs by design: the ids, timestamps and `connector_name`;
/// `data_collections` as a set (Debezium lists the initial snapshot's tables from a set)
/// without `skip` (Debezium's signal table, which only Debezium leaves out of its
/// snapshot).
fn normalize(r: &Record, skip: &str) -> (Value, Value) {
    let mut key = r.key_json();
    key["payload"]["id"] = Value::Null;
    let mut v = r.value_json();
    let p = &mut v["payload"];
    p["id"] = Value::Null;
    p["timestamp"] = Value::Null;
    if let Some(d) = p["additional_data"].as_object_mut() {
        d.remove("connector_name");
        if let Some(Value::String(list)) = d.get("data_collections") {
            let set: BTreeSet<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|t| *t != skip)
                .collect();
            let joined = set.into_iter().collect::<Vec<_>>().join(",");
            d.insert("data_collections".into(), Value::String(joined));
        }
    }
    (key, v)
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_match_debeziums() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "notepar").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    for t in ["dbz_signals", "rt_signals"] {
        c.query_drop(format!("CREATE TABLE `{db}`.{t} {SIGNAL_TABLE}"))
            .await
            .unwrap();
        c.query_drop(format!(
            "GRANT INSERT ON `{db}`.{t} TO '{}'@'127.0.0.1'",
            env.mysql_user
        ))
        .await
        .unwrap();
    }
    c.query_drop(format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v INT)"))
        .await
        .unwrap();
    c.query_drop(format!(
        "INSERT INTO `{db}`.t SELECT seq, seq FROM seq_1_to_25"
    ))
    .await
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let short = db.replace('_', "");
    let (dbz_prefix, rt_prefix) = (format!("d{short}"), format!("r{short}"));
    let mut debezium = start_debezium(&env, dir.path(), &db, &dbz_prefix);
    let rt_dir = dir.path().join("rt");
    std::fs::create_dir_all(&rt_dir).unwrap();
    let mut setup = Setup::new(&db, &rt_dir);
    setup.topic_prefix = rt_prefix.clone();
    setup.format = "json_schema";
    setup.partitions = 1;
    let (dbz_topic, rt_topic) = (
        format!("{dbz_prefix}.notifications"),
        format!("{rt_prefix}.notifications"),
    );
    setup.extra = format!(
        "\n[signals]\ntable = \"{db}.rt_signals\"\n\n[snapshot]\nchunk_size = 10\n\n\
         [notifications]\ntopic = \"{rt_topic}\"\n"
    );
    let mut rt = Rowtide::start(&env, &setup, &rt_dir);
    let init = "Initial Snapshot";
    until(&env, &dbz_topic, init, "COMPLETED").await;
    until(&env, &rt_topic, init, "COMPLETED").await;
    rt.wait_streaming(1).await;

    let data = format!(r#"{{"data-collections": ["{db}.t"], "type": "incremental"}}"#);
    for (table, id) in [("dbz_signals", "dbz-1"), ("rt_signals", "rt-1")] {
        c.exec_drop(
            format!("INSERT INTO `{db}`.{table} VALUES (?, 'execute-snapshot', ?)"),
            (id, data.as_str()),
        )
        .await
        .unwrap();
    }
    let incr = "Incremental Snapshot";
    until(&env, &dbz_topic, incr, "COMPLETED").await;
    until(&env, &rt_topic, incr, "COMPLETED").await;
    // A pause and a resume while nothing runs send nothing; the next snapshot runs.
    for (n, kind, data) in [
        (2, "pause-snapshot", "{}"),
        (3, "resume-snapshot", "{}"),
        (4, "execute-snapshot", data.as_str()),
    ] {
        for (table, id) in [("dbz_signals", "dbz"), ("rt_signals", "rt")] {
            c.exec_drop(
                format!("INSERT INTO `{db}`.{table} VALUES (?, ?, ?)"),
                (format!("{id}-{n}"), kind, data),
            )
            .await
            .unwrap();
        }
    }
    let twice = |recs: &[Record]| {
        recs.iter()
            .filter(|r| {
                let p = &r.value_json()["payload"];
                p["aggregate_type"] == incr && p["type"] == "COMPLETED"
            })
            .count()
            >= 2
    };
    let (mut dbz, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..240 {
        dbz = until(&env, &dbz_topic, incr, "COMPLETED").await;
        ours = until(&env, &rt_topic, incr, "COMPLETED").await;
        if twice(&dbz) && twice(&ours) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // A blocking snapshot: Debezium runs its initial-snapshot code, notifications included.
    let blocking = format!(r#"{{"data-collections": ["{db}.t"], "type": "blocking"}}"#);
    for (table, id) in [("dbz_signals", "dbz-5"), ("rt_signals", "rt-5")] {
        c.exec_drop(
            format!("INSERT INTO `{db}`.{table} VALUES (?, 'execute-snapshot', ?)"),
            (id, blocking.as_str()),
        )
        .await
        .unwrap();
    }
    let twice_init = |recs: &[Record]| {
        recs.iter()
            .filter(|r| {
                let p = &r.value_json()["payload"];
                p["aggregate_type"] == init && p["type"] == "COMPLETED"
            })
            .count()
            >= 2
    };
    for _ in 0..240 {
        dbz = until(&env, &dbz_topic, init, "COMPLETED").await;
        ours = until(&env, &rt_topic, init, "COMPLETED").await;
        if twice_init(&dbz) && twice_init(&ours) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Debezium does not snapshot its own signal table (rowtide reads every captured table,
    // its own signal table included): rowtide's notifications about it have no match.
    let skip = format!("{db}.dbz_signals");
    let ours: Vec<Record> = ours.into_iter().filter(|r| !about(r, &skip)).collect();
    if let Some(f) = debezium.failure().await {
        panic!("Debezium failed: {f}");
    }
    let kinds = |recs: &[Record]| -> Vec<String> {
        recs.iter()
            .map(|r| {
                let p = &r.value_json()["payload"];
                format!("{} {}", p["aggregate_type"], p["type"])
            })
            .collect()
    };
    for r in &dbz {
        eprintln!("DBZ {}", r.value_json()["payload"]);
    }
    for r in &ours {
        eprintln!("OURS {}", r.value_json()["payload"]);
    }
    assert_eq!(kinds(&dbz), kinds(&ours), "the sequences differ");
    let mut diffs = Vec::new();
    for (i, (d, o)) in dbz.iter().zip(&ours).enumerate() {
        if normalize(d, &skip) != normalize(o, &skip) {
            diffs.push(format!(
                "record {i}:\n  debezium {:?}\n  rowtide  {:?}",
                normalize(d, &skip),
                normalize(o, &skip)
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    // Incremental notifications carry the signal's id, initial ones a UUID.
    let id = |r: &Record| {
        r.value_json()["payload"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let incr_done: Vec<usize> = kinds(&ours)
        .iter()
        .enumerate()
        .filter(|(_, k)| k.contains(incr) && k.ends_with("\"COMPLETED\""))
        .map(|(i, _)| i)
        .collect();
    let (first_done, last) = (incr_done[0], incr_done[incr_done.len() - 1]);
    assert_eq!(
        (id(&dbz[first_done]), id(&ours[first_done])),
        ("dbz-1".into(), "rt-1".into())
    );
    assert_eq!(
        (id(&dbz[last]), id(&ours[last])),
        ("dbz-4".into(), "rt-4".into())
    );
    assert_eq!(id(&dbz[0]).len(), id(&ours[0]).len());
    eprintln!("{} notifications agree: {:?}", ours.len(), kinds(&ours));
    debezium.stop();
    rt.assert_alive("at the end");
    assert!(rt.stop().success());
}
