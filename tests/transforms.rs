//! `[[transforms]]` end to end: MariaDB → `rowtide run` with `ExtractNewRecordState` and
//! `RegexRouter` → Kafka, read back with a consumer. Proves the flattened values (added
//! fields, `__deleted`), the added headers (also on the kept tombstone), each delete mode's
//! records, and routed topics: two tables merged into one (JSON), the default mode's
//! null-valued deletes with their optional schema (JSON with schemas), and in Avro the
//! flattened schema registered under the routed topic's subject, deletes as tombstones.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::kafka::{wait_for_async, Record};
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

async fn exec(env: &common::TestEnv, db: &str, sqls: &[&str]) {
    let mut c = common::admin(env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    for sql in sqls {
        c.query_drop(*sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    c.disconnect().await.ok();
}

/// Two tables of one shape, one row each for the snapshot.
async fn prepare(env: &common::TestEnv, prefix: &str) -> String {
    let db = common::fresh_db(env, prefix).await;
    exec(
        env,
        &db,
        &[
            "CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, note VARCHAR(20) NULL)",
            "CREATE TABLE b (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, note VARCHAR(20) NULL)",
            "INSERT INTO a VALUES (1, 'a1', NULL)",
            "INSERT INTO b VALUES (1, 'b1', 'x')",
        ],
    )
    .await;
    db
}

/// The streamed changes every test makes: a create, an update and a delete on `a`, a delete
/// on `b`.
const WORKLOAD: &[&str] = &[
    "INSERT INTO a VALUES (2, 'a2', 'n2')",
    "UPDATE a SET name = 'a1x' WHERE id = 1",
    "DELETE FROM a WHERE id = 2",
    "DELETE FROM b WHERE id = 1",
];

fn header<'a>(r: &'a Record, key: &str) -> Vec<&'a str> {
    r.headers
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| {
            v.as_deref()
                .map_or("<null>", |v| std::str::from_utf8(v).unwrap())
        })
        .collect()
}

/// One `[[transforms]]` entry: name, type and options.
type Entry<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

fn transforms_toml(entries: &[Entry]) -> String {
    let mut out = String::new();
    for (name, kind, options) in entries {
        out.push_str(&format!(
            "\n[[transforms]]\nname = \"{name}\"\ntype = \"{kind}\"\n"
        ));
        for (k, v) in *options {
            out.push_str(&format!("{k} = {}\n", toml::Value::String(v.to_string())));
        }
    }
    out
}

/// Starts rowtide on `db` with `transforms`, waits for the snapshot's records on `topics`,
/// runs the workload and waits until `done` holds; returns what the topics hold.
async fn run(
    env: &common::TestEnv,
    setup: &Setup,
    topics: &[String],
    done: impl Fn(&[Record]) -> bool + Send + 'static,
) -> Vec<Record> {
    let dir = setup.state_dir.parent().unwrap().to_path_buf();
    let mut rt = Rowtide::start(env, setup, &dir);
    wait_for_async(
        &env.kafka_brokers,
        topics,
        Duration::from_secs(60),
        "the snapshot reads of a and b",
        |recs| recs.len() >= 2,
    )
    .await;
    exec(env, &setup.db, WORKLOAD).await;
    let recs = wait_for_async(
        &env.kafka_brokers,
        topics,
        Duration::from_secs(60),
        "the workload's records",
        done,
    )
    .await;
    let status = rt.stop();
    assert!(
        status.success(),
        "graceful stop: {status:?}\n{}",
        rt.log_text()
    );
    recs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_rewrite_with_headers_merged_into_one_topic() {
    let Some(env) = common::servers() else { return };
    let db = prepare(&env, "unwrap_j").await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.extra = transforms_toml(&[
        (
            "unwrap",
            "io.debezium.transforms.ExtractNewRecordState",
            &[
                ("delete_tombstone_handling_mode", "rewrite-with-tombstone"),
                ("add_fields", "op,table,source.ts_ms"),
                ("add_headers", "db,op"),
                ("add_headers_prefix", "h_"),
            ],
        ),
        (
            "merge",
            "regex_router",
            &[("regex", "(.*)\\.(a|b)"), ("replacement", "$1.merged")],
        ),
    ]);
    let merged = format!("{}.{db}.merged", setup.topic_prefix);
    let topics = vec![merged.clone(), setup.topic("a"), setup.topic("b")];
    // r a1, r b1, c a2, u a1, d a2 + tombstone, d b1 + tombstone.
    let recs = run(&env, &setup, &topics, |recs| recs.len() >= 8).await;
    assert!(
        recs.iter().all(|r| r.topic == merged),
        "every record is routed to {merged}: {:?}",
        recs.iter().map(|r| &r.topic).collect::<Vec<_>>()
    );
    assert_eq!(recs.len(), 8, "{recs:?}");
    let values: Vec<(Value, Value)> = recs
        .iter()
        .map(|r| (r.key_json(), r.value_json()))
        .collect();
    let find = |table: &str, op: &str, id: i64| -> &Record {
        recs.iter()
            .find(|r| {
                let v = r.value_json();
                v["__table"] == table && v["__op"] == op && r.key_json()["id"] == id
            })
            .unwrap_or_else(|| panic!("no {op} of {table} {id} in {values:?}"))
    };
    let u = find("a", "u", 1);
    let mut v = u.value_json();
    assert!(v["__source_ts_ms"].as_i64().unwrap() > 1_600_000_000_000);
    v.as_object_mut().unwrap().remove("__source_ts_ms");
    assert_eq!(
        v,
        json!({"id": 1, "name": "a1x", "note": null, "__deleted": "false", "__op": "u", "__table": "a"})
    );
    assert_eq!(header(u, "h_db"), [db.as_str()]);
    assert_eq!(header(u, "h_op"), ["u"]);
    let r = find("b", "r", 1);
    assert_eq!(r.value_json()["name"], "b1");
    assert_eq!(header(r, "h_op"), ["r"]);
    // A delete is its before row, marked deleted; its tombstone follows, carrying the
    // delete's headers and one more `op` header, as Debezium's shared header object does.
    for (table, id, name) in [("a", 2, "a2"), ("b", 1, "b1")] {
        let d = find(table, "d", id);
        assert_eq!(d.value_json()["__deleted"], "true");
        assert_eq!(d.value_json()["name"], name);
        assert_eq!(header(d, "h_op"), ["d"]);
        let next = recs
            .iter()
            .find(|r| r.partition == d.partition && r.offset == d.offset + 1)
            .unwrap_or_else(|| panic!("the tombstone after the delete of {table} {id}"));
        assert!(next.value.is_none());
        assert_eq!(next.key_json(), json!({ "id": id }));
        assert_eq!(header(next, "h_op"), ["d", "d"]);
        assert_eq!(header(next, "h_db"), [db.as_str()]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_schema_default_mode_keeps_deletes_as_null_values() {
    let Some(env) = common::servers() else { return };
    let db = prepare(&env, "unwrap_s").await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.format = "json_schema";
    setup.extra = transforms_toml(&[("unwrap", "unwrap", &[])]);
    let topics = vec![setup.topic("a"), setup.topic("b")];
    // r a1, r b1, c a2, u a1, d a2, d b1 (tombstones dropped).
    let recs = run(&env, &setup, &topics, |recs| recs.len() >= 6).await;
    assert_eq!(recs.len(), 6, "{recs:?}");
    assert!(
        recs.iter().all(|r| r.value.is_some()),
        "no Kafka tombstones"
    );
    let by_payload: HashMap<String, &Record> = recs
        .iter()
        .map(|r| (r.value_json()["payload"].to_string(), r))
        .collect();
    let u = by_payload
        .get(&json!({"id": 1, "name": "a1x", "note": null}).to_string())
        .unwrap_or_else(|| panic!("the update of a 1 in {:?}", by_payload.keys()));
    let schema = &u.value_json()["schema"];
    assert_eq!(
        schema["name"],
        format!("{}.{db}.a.Value", setup.topic_prefix)
    );
    assert_eq!(schema["optional"], false);
    assert_eq!(schema["fields"].as_array().unwrap().len(), 3);
    let deletes: Vec<&Record> = recs
        .iter()
        .filter(|r| r.value_json()["payload"].is_null())
        .collect();
    assert_eq!(deletes.len(), 2);
    for d in deletes {
        let v = d.value_json();
        assert_eq!(v["schema"]["optional"], true, "the after schema as it is");
        assert!(v["schema"]["name"].as_str().unwrap().ends_with(".Value"));
        assert!(d.key_json()["payload"]["id"].is_i64());
    }
}

/// Decodes a Confluent-framed Avro record with the writer schema fetched by id.
fn avro_decode(registry: &str, bytes: &[u8]) -> Value {
    assert_eq!(bytes[0], 0, "magic byte");
    let id = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    let body = http_get(&format!("{registry}/schemas/ids/{id}"));
    let schema = apache_avro::Schema::parse_str(body["schema"].as_str().unwrap()).unwrap();
    let reader = apache_avro::reader::datum::GenericDatumReader::builder(&schema)
        .build()
        .expect("datum reader");
    avro_json(reader.read_value(&mut &bytes[5..]).expect("avro datum"))
}

fn http_get(url: &str) -> Value {
    let url = url.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async { reqwest::get(&url).await.unwrap().json().await.unwrap() })
    })
    .join()
    .unwrap()
}

fn avro_json(v: apache_avro::types::Value) -> Value {
    use apache_avro::types::Value as A;
    match v {
        A::Null => Value::Null,
        A::Int(i) => json!(i),
        A::Long(i) => json!(i),
        A::String(s) => json!(s),
        A::Union(_, b) => avro_json(*b),
        A::Record(fields) => {
            Value::Object(fields.into_iter().map(|(k, v)| (k, avro_json(v))).collect())
        }
        other => json!(format!("{other:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_flattened_schema_under_the_routed_subject() {
    let Some(env) = common::servers() else { return };
    let db = prepare(&env, "unwrap_a").await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.format = "avro";
    setup.extra = transforms_toml(&[
        ("unwrap", "unwrap", &[("add_fields", "op")]),
        (
            "rename",
            "org.apache.kafka.connect.transforms.RegexRouter",
            &[("regex", "(.*)\\.a"), ("replacement", "$1.a_flat")],
        ),
    ]);
    let routed = format!("{}.{db}.a_flat", setup.topic_prefix);
    let topics = vec![routed.clone(), setup.topic("a"), setup.topic("b")];
    // r a1, r b1, c a2, u a1, d a2 and d b1 as tombstones.
    let recs = run(&env, &setup, &topics, |recs| recs.len() >= 6).await;
    assert_eq!(recs.len(), 6, "{recs:?}");
    assert!(recs.iter().all(|r| r.topic != setup.topic("a")));
    let registry = env.registry_url.clone();
    let prefix = setup.topic_prefix.clone();
    let b_topic = setup.topic("b");
    tokio::task::spawn_blocking(move || {
        let latest = http_get(&format!(
            "{registry}/subjects/{routed}-value/versions/latest"
        ));
        let schema: Value = serde_json::from_str(latest["schema"].as_str().unwrap()).unwrap();
        assert_eq!(schema["type"], "record", "{schema}");
        assert_eq!(schema["name"], "Value");
        assert_eq!(schema["namespace"], format!("{prefix}.{db}.a"));
        assert_eq!(schema["connect.name"], format!("{prefix}.{db}.a.Value"));
        let fields: Vec<&str> = schema["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["id", "name", "note", "__op"]);
        let on = |t: &str| recs.iter().filter(|r| r.topic == t).collect::<Vec<_>>();
        let mut a: Vec<String> = on(&routed)
            .iter()
            .map(|r| {
                let v = r
                    .value
                    .as_ref()
                    .map_or(Value::Null, |v| avro_decode(&registry, v));
                format!(
                    "{} {v}",
                    r.key
                        .as_ref()
                        .map_or(Value::Null, |k| avro_decode(&registry, k))
                )
            })
            .collect();
        a.sort();
        // The default mode's delete has a null value, which the Avro converter writes as a
        // Kafka tombstone.
        let mut want: Vec<String> = [
            (1, json!({"id": 1, "name": "a1", "note": null, "__op": "r"})),
            (
                1,
                json!({"id": 1, "name": "a1x", "note": null, "__op": "u"}),
            ),
            (2, json!({"id": 2, "name": "a2", "note": "n2", "__op": "c"})),
            (2, Value::Null),
        ]
        .iter()
        .map(|(id, v)| format!("{} {v}", json!({ "id": id })))
        .collect();
        want.sort();
        assert_eq!(a, want);
        let b = on(&b_topic);
        assert_eq!(b.len(), 2);
        assert!(b.iter().any(|r| r.value.is_none()));
    })
    .await
    .unwrap();
}
