//! End to end through the real servers: MariaDB → `rowtide run` (the binary) → Kafka, read
//! back with a Kafka consumer. Proves snapshot reads, inserts, updates, deletes with
//! tombstones, several tables, multi-statement transactions and DDL mid-stream arrive
//! complete and field-correct, in per-key order, in JSON and in Avro (decoded with the
//! writer schema fetched from the registry by the id in each record's frame).

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::kafka::{read_all, wait_for_async, Record};
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

async fn exec(c: &mut mysql_async::Conn, sql: &str) {
    c.query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The writes every format test makes: a snapshot-time row set, then changes.
async fn workload(env: &common::TestEnv, db: &str) {
    let mut c = common::admin(env).await;
    exec(&mut c, &format!("USE `{db}`")).await;
    for sql in [
        "INSERT INTO orders VALUES (3, 'carol', 30.00, '2024-03-03 03:03:03')",
        "UPDATE orders SET amount = 11.50 WHERE id = 1",
        "DELETE FROM orders WHERE id = 2",
        "START TRANSACTION",
        "INSERT INTO orders VALUES (4, 'dave', 40.25, NULL)",
        "INSERT INTO notes (body) VALUES ('in a transaction')",
        "UPDATE orders SET customer = 'dave2' WHERE id = 4",
        "COMMIT",
        "ALTER TABLE orders ADD COLUMN status VARCHAR(10) NULL DEFAULT 'new'",
        "INSERT INTO orders VALUES (5, 'erin', 50.00, NULL, 'paid')",
        "UPDATE orders SET status = 'sent' WHERE id = 5",
    ] {
        exec(&mut c, sql).await;
    }
    c.disconnect().await.ok();
}

async fn prepare(env: &common::TestEnv, db: &str) {
    let mut c = common::admin(env).await;
    exec(&mut c, &format!("USE `{db}`")).await;
    exec(
        &mut c,
        "CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(20) NOT NULL, \
         amount DECIMAL(10,2), placed DATETIME(3) NULL)",
    )
    .await;
    exec(&mut c, "CREATE TABLE notes (body TEXT)").await; // no primary key
    exec(
        &mut c,
        "INSERT INTO orders VALUES (1, 'alice', 10.00, '2024-01-01 01:01:01.500'), \
         (2, 'bob', 20.00, NULL)",
    )
    .await;
    c.disconnect().await.ok();
}

fn by_topic<'a>(recs: &'a [Record], topic: &str) -> Vec<&'a Record> {
    recs.iter().filter(|r| r.topic == topic).collect()
}

/// Per key, the records in partition order must follow binlog order: checked by the
/// sequence of ops/ids we wrote.
fn ops_per_key(
    recs: &[&Record],
    decode: &dyn Fn(&Record) -> (Value, Value),
) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    let mut sorted: Vec<&&Record> = recs.iter().collect();
    sorted.sort_by_key(|r| (r.partition, r.offset));
    let mut partition_of: HashMap<String, i32> = HashMap::new();
    for r in sorted {
        let (k, v) = decode(r);
        let key = k.to_string();
        let p = *partition_of.entry(key.clone()).or_insert(r.partition);
        assert_eq!(
            p, r.partition,
            "all events of key {key} are in one partition"
        );
        let op = if v.is_null() {
            "tombstone".to_string()
        } else {
            v["op"].as_str().unwrap().to_string()
        };
        out.entry(key).or_default().push(op);
    }
    out
}

fn check_events(setup: &Setup, recs: &[Record], decode: &dyn Fn(&Record) -> (Value, Value)) {
    let orders = by_topic(recs, &setup.topic("orders"));
    let per_key = ops_per_key(&orders, decode);
    let expect = |id: i32| {
        per_key
            .get(&json!({ "id": id }).to_string())
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(expect(1), ["r", "u"]);
    assert_eq!(expect(2), ["r", "d", "tombstone"]);
    assert_eq!(expect(3), ["c"]);
    assert_eq!(expect(4), ["c", "u"]);
    assert_eq!(expect(5), ["c", "u"]);

    let find = |id: i32, op: &str| -> Value {
        orders
            .iter()
            .map(|r| decode(r))
            .find(|(k, v)| k["id"] == id && v["op"] == op)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no {op} for id {id}"))
    };
    // Snapshot read with Debezium's markers and types (DECIMAL precise: base64 of the
    // unscaled value; DATETIME(3): epoch millis).
    let r1 = find(1, "r");
    assert_eq!(r1["after"]["customer"], "alice");
    assert_eq!(r1["after"]["placed"], 1_704_070_861_500i64);
    assert!(r1["before"].is_null());
    assert!([
        "first",
        "true",
        "last",
        "first_in_data_collection",
        "last_in_data_collection"
    ]
    .contains(&r1["source"]["snapshot"].as_str().unwrap()));
    let u1 = find(1, "u");
    assert_eq!(u1["before"]["customer"], "alice");
    assert_eq!(u1["source"]["snapshot"], "false");
    assert_eq!(u1["source"]["connector"], "mariadb");
    assert_eq!(u1["source"]["db"], setup.db.as_str());
    assert_eq!(u1["source"]["table"], "orders");
    assert!(u1["source"]["gtid"].as_str().unwrap().starts_with("0-1-"));
    assert!(u1["source"]["pos"].as_i64().unwrap() > 4);
    let d2 = find(2, "d");
    assert_eq!(d2["before"]["customer"], "bob");
    assert!(d2["after"].is_null());
    // The transaction's changes share one GTID.
    let c4 = find(4, "c");
    let u4 = find(4, "u");
    assert_eq!(c4["source"]["gtid"], u4["source"]["gtid"]);
    assert_eq!(u4["after"]["customer"], "dave2");
    // After the ALTER, the new column is there.
    let c5 = find(5, "c");
    assert_eq!(c5["after"]["status"], "paid");
    let u5 = find(5, "u");
    assert_eq!(u5["before"]["status"], "paid");
    assert_eq!(u5["after"]["status"], "sent");
    assert!(c1_lacks_status(&r1));

    // The keyless table: null keys, one create, in the transaction of id 4.
    let notes = by_topic(recs, &setup.topic("notes"));
    assert_eq!(notes.len(), 1, "notes: {notes:?}");
    let (k, v) = decode(notes[0]);
    assert!(k.is_null());
    assert_eq!(v["after"]["body"], "in a transaction");
    assert_eq!(v["source"]["gtid"], c4["source"]["gtid"]);
}

fn c1_lacks_status(v: &Value) -> bool {
    v["after"].get("status").is_none() || v["after"]["status"].is_null()
}

fn expected_done<'a>(
    setup: &'a Setup,
    decode: &'a dyn Fn(&Record) -> (Value, Value),
) -> impl Fn(&[Record]) -> bool + 'a {
    // Different topics and partitions are acknowledged independently: wait for each. The
    // orders topic gets 10 records: ids 1, 4 and 5 two each, id 2 three (with the tombstone),
    // id 3 one.
    move |recs: &[Record]| {
        by_topic(recs, &setup.topic("orders"))
            .iter()
            .any(|r| r.value.is_some() && decode(r).1["op"] == "u" && decode(r).0["id"] == 5)
            && by_topic(recs, &setup.topic("orders")).len() >= 10
            && !by_topic(recs, &setup.topic("notes")).is_empty()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_events_reach_kafka_complete_and_in_order() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "e2ej").await;
    prepare(&env, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(&db, dir.path());
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    // Let the snapshot happen before the writes (they would be fine either way, but the
    // expected op sequence assumes the snapshot saw the initial rows only).
    let topics = vec![
        setup.topic("orders"),
        setup.topic("notes"),
        setup.topic_prefix.clone(),
    ];
    let decode = |r: &Record| (r.key_json(), r.value_json());
    wait_snapshot(&env, &topics).await;
    workload(&env, &db).await;
    let s2 = setup.clone();
    let recs = wait_for_async(
        &env.kafka_brokers,
        &topics,
        Duration::from_secs(60),
        "every change of the workload and the ALTER",
        move |recs| {
            expected_done(&s2, &decode)(recs)
                && recs.iter().any(|r| {
                    r.topic == s2.topic_prefix
                        && r.value_json()["ddl"]
                            .as_str()
                            .is_some_and(|d| d.contains("ADD COLUMN status"))
                })
        },
    )
    .await;
    let status = rt.stop();
    assert!(
        status.success(),
        "graceful stop exits 0: {status:?}\n{}",
        rt.log_text()
    );
    check_events(&setup, &recs, &decode);
    // The schema change event, on the prefix topic, keyed by database.
    let ddl: Vec<&Record> = by_topic(&recs, &setup.topic_prefix);
    let alter = ddl
        .iter()
        .map(|r| (r.key_json(), r.value_json()))
        .find(|(_, v)| {
            v["ddl"]
                .as_str()
                .is_some_and(|d| d.contains("ADD COLUMN status"))
        })
        .unwrap_or_else(|| {
            panic!(
                "no schema change event for the ALTER among {:?}",
                ddl.iter()
                    .map(|r| r.value_json()["ddl"].clone())
                    .collect::<Vec<_>>()
            )
        });
    assert_eq!(alter.0["databaseName"], db.as_str());
    assert_eq!(alter.1["databaseName"], db.as_str());
    // A restart repeats nothing: once a write made after it has arrived (so it streams), the
    // only new record is that write's.
    let before: HashSet<(String, i32, i64)> = read_all(&env.kafka_brokers, &topics)
        .iter()
        .map(|r| (r.topic.clone(), r.partition, r.offset))
        .collect();
    rt.spawn();
    let mut c = common::admin(&env).await;
    exec(
        &mut c,
        &format!("INSERT INTO `{db}`.orders VALUES (6, 'fay', 60.00, NULL, 'new')"),
    )
    .await;
    c.disconnect().await.ok();
    wait_for_async(
        &env.kafka_brokers,
        &topics,
        Duration::from_secs(60),
        "id 6, written after the restart",
        |recs| recs.iter().any(|r| r.key_json()["id"] == 6),
    )
    .await;
    assert!(rt.stop().success(), "{}", rt.log_text());
    let new: Vec<(Value, Value)> = read_all(&env.kafka_brokers, &topics)
        .iter()
        .filter(|r| !before.contains(&(r.topic.clone(), r.partition, r.offset)))
        .map(|r| (r.key_json(), r.value_json()))
        .collect();
    assert!(
        new.len() == 1 && new[0].0["id"] == 6 && new[0].1["op"] == "c",
        "after a graceful restart only the new write arrives, nothing repeats: {new:?}\n{}",
        rt.log_text()
    );
}

/// Waits until the snapshot has read both initial rows of orders.
async fn wait_snapshot(env: &common::TestEnv, topics: &[String]) {
    wait_for_async(
        &env.kafka_brokers,
        topics,
        Duration::from_secs(60),
        "the snapshot reads of orders",
        |recs| recs.iter().filter(|r| r.topic.ends_with(".orders")).count() >= 2,
    )
    .await;
}

/// Decodes a Confluent-framed Avro record with the writer schema fetched by id.
struct AvroReader {
    url: String,
    cache: std::sync::Mutex<HashMap<u32, apache_avro::Schema>>,
}

impl AvroReader {
    fn decode(&self, bytes: &Option<Vec<u8>>) -> Value {
        let Some(b) = bytes else { return Value::Null };
        assert_eq!(b[0], 0, "magic byte");
        let id = u32::from_be_bytes([b[1], b[2], b[3], b[4]]);
        let mut cache = self.cache.lock().unwrap();
        let schema = cache.entry(id).or_insert_with(|| {
            let body: Value = reqwest::blocking_get(&format!("{}/schemas/ids/{id}", self.url));
            apache_avro::Schema::parse_str(body["schema"].as_str().unwrap()).unwrap()
        });
        let reader = apache_avro::reader::datum::GenericDatumReader::builder(schema)
            .build()
            .expect("datum reader");
        let v = reader.read_value(&mut &b[5..]).expect("avro datum");
        avro_to_json(v)
    }
}

mod reqwest {
    pub fn blocking_get(url: &str) -> serde_json::Value {
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
}

fn avro_to_json(v: apache_avro::types::Value) -> Value {
    use apache_avro::types::Value as A;
    match v {
        A::Null => Value::Null,
        A::Boolean(b) => json!(b),
        A::Int(i) | A::Date(i) | A::TimeMillis(i) => json!(i),
        A::Long(i) | A::TimestampMillis(i) | A::TimestampMicros(i) | A::TimeMicros(i) => json!(i),
        A::Float(f) => json!(f),
        A::Double(f) => json!(f),
        A::String(s) | A::Enum(_, s) => json!(s),
        A::Bytes(b) | A::Fixed(_, b) => json!(b),
        A::Union(_, b) => avro_to_json(*b),
        A::Record(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, avro_to_json(v)))
                .collect(),
        ),
        A::Array(a) => Value::Array(a.into_iter().map(avro_to_json).collect()),
        A::Map(m) => Value::Object(m.into_iter().map(|(k, v)| (k, avro_to_json(v))).collect()),
        A::Decimal(d) => json!(format!("{d:?}")),
        other => json!(format!("{other:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_events_decode_with_their_registered_schemas() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "e2ea").await;
    prepare(&env, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.format = "avro";
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    let topics = vec![setup.topic("orders"), setup.topic("notes")];
    let reader = std::sync::Arc::new(AvroReader {
        url: env.registry_url.clone(),
        cache: Default::default(),
    });
    wait_snapshot(&env, &topics).await;
    workload(&env, &db).await;
    let r2 = reader.clone();
    let s2 = setup.clone();
    let recs = wait_for_async(
        &env.kafka_brokers,
        &topics,
        Duration::from_secs(60),
        "every change of the workload",
        move |recs| {
            let decode = |r: &Record| (r2.decode(&r.key), r2.decode(&r.value));
            let done = expected_done(&s2, &decode);
            done(recs)
        },
    )
    .await;
    assert!(rt.stop().success(), "{}", rt.log_text());
    let r3 = reader.clone();
    let setup2 = setup.clone();
    tokio::task::spawn_blocking(move || {
        let decode = |r: &Record| (r3.decode(&r.key), r3.decode(&r.value));
        check_events(&setup2, &recs, &decode);
        // Events before and after the ALTER use different writer schemas.
        let ids: std::collections::BTreeSet<u32> = recs
            .iter()
            .filter(|r| r.topic.ends_with(".orders"))
            .filter_map(|r| {
                r.value
                    .as_ref()
                    .map(|v| u32::from_be_bytes([v[1], v[2], v[3], v[4]]))
            })
            .collect();
        assert!(
            ids.len() >= 2,
            "a new value schema version after ALTER TABLE: {ids:?}"
        );
    })
    .await
    .unwrap();
}
