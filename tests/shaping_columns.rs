//! `[events]` column and key shaping end to end: MariaDB → `rowtide run` → Kafka, read back
//! by a consumer, in `json`, `json_schema` and `avro` (decoded with the writer schema the
//! registry holds for the id in each record's frame). One table has varchar, text, int and
//! decimal columns with an excluded column, a mask, a v1 and a v2 hash (one cut to the
//! column length), a truncation, source-type propagation by column and by data type, and a
//! `message_key_columns` key; a table without a primary key gets a key from
//! `message_key_columns`. A streamed update of the custom key column arrives as a delete
//! (and tombstone) of the old key and a create of the new one, as Debezium sends it.
//!
//! Expected hashes were computed independently with Python's hashlib:
//! v1 = `sha256(b"CzQMA0cB5K" + b"\xac\xed\x00\x05\x74" + len(v).to_bytes(2, "big") + v)`
//! (Java serialization of the string), v2 = `md5(b"pepper" + v)`.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::kafka::{wait_for_async, Record};
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

const J_HASH: &str = "0af33ba8146005db145562ba642cb11294fa31169fda86712568f21a10d3cb4e";
const J2_HASH: &str = "b38824b5ad95d64a2f947d5e08e75f62fed4a4fa7d8b489aae9c80a66fad14ed";
const N_HASH: &str = "5adff839ab56f6d139a68a80bdb9c43164a5f6a909674e9a6512f8cc0589ccbe";
/// md5(b"pepper" + b"tok-1") = 0bc4dcddf7829b55e1112e43f3a9c25e, cut to VARCHAR(12).
const TOKEN_HASH: &str = "0bc4dcddf782";

async fn exec(c: &mut mysql_async::Conn, sql: &str) {
    c.query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn prepare(env: &common::TestEnv, db: &str) {
    let mut c = common::admin(env).await;
    exec(&mut c, &format!("USE `{db}`")).await;
    for sql in [
        "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40), \
         email VARCHAR(100) NOT NULL, token VARCHAR(12), secret VARCHAR(30), bio TEXT, \
         price DECIMAL(10,2), age INT) DEFAULT CHARSET=utf8mb4",
        "CREATE TABLE nokey (a INT NOT NULL, b VARCHAR(20) NOT NULL, c TEXT) \
         DEFAULT CHARSET=utf8mb4",
        "INSERT INTO people VALUES (1, 'Jürgen Müller', 'j@example.com', 'tok-1', 'hunter2', \
         'A long biography', 12.50, 42), (2, NULL, 'n@example.com', NULL, NULL, NULL, NULL, NULL)",
        "INSERT INTO nokey VALUES (7, 'seven', 'text seven')",
    ] {
        exec(&mut c, sql).await;
    }
    c.disconnect().await.ok();
}

async fn workload(env: &common::TestEnv, db: &str) {
    let mut c = common::admin(env).await;
    exec(&mut c, &format!("USE `{db}`")).await;
    exec(
        &mut c,
        "UPDATE people SET email = 'j2@example.com' WHERE id = 1",
    )
    .await;
    exec(&mut c, "INSERT INTO nokey VALUES (8, 'eight', NULL)").await;
    c.disconnect().await.ok();
}

fn events_toml(db: &str) -> String {
    format!(
        r#"
[events]
column_exclude = ['{db}\.people\.age']
column_propagate_source_type = ['{db}\.people\.price', '{db}\.people\.name']
datatype_propagate_source_type = ['.+\.TEXT']
message_key_columns = "{db}.people:email;{db}.nokey:b,a"

[[events.column_mask]]
chars = 5
columns = ['{db}\.people\.secret']

[[events.column_mask_hash]]
algorithm = "SHA-256"
salt = "CzQMA0cB5K"
columns = ['{db}\.PEOPLE\.email']

[[events.column_mask_hash]]
algorithm = "MD5"
salt = "pepper"
version = "v2"
columns = ['{db}\.people\.token']

[[events.column_truncate]]
chars = 4
columns = ['{db}\.people\.name']
"#
    )
}

/// One record as the test reads it: key and value payloads, and the value schema's
/// `after` fields' parameters by field name (`None` for a tombstone).
#[derive(Debug, Clone)]
struct Seen {
    topic: String,
    key: Value,
    value: Value,
    params: Option<HashMap<String, Value>>,
}

/// The parameters of the `after` row fields in a Connect JSON envelope schema.
fn connect_params(schema: &Value) -> HashMap<String, Value> {
    let after = schema["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["field"] == "after"))
        .expect("after field");
    after["fields"]
        .as_array()
        .expect("after fields")
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_string(),
                f["parameters"].clone(),
            )
        })
        .collect()
}

/// The `connect.parameters` of the `after` row fields in an Avro envelope schema.
fn avro_params(schema: &Value) -> HashMap<String, Value> {
    let after = schema["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == "before"))
        .expect("after field");
    let record = after["type"]
        .as_array()
        .and_then(|u| u.iter().find(|t| t.is_object()))
        .expect("the row record (defined at `before`, referenced by name at `after`)");
    record["fields"]
        .as_array()
        .expect("record fields")
        .iter()
        .map(|f| {
            let ty = match &f["type"] {
                Value::Array(u) => u.iter().find(|t| *t != "null").cloned().unwrap_or_default(),
                t => t.clone(),
            };
            let p = ty.get("connect.parameters").cloned().unwrap_or(Value::Null);
            (f["name"].as_str().unwrap().to_string(), p)
        })
        .collect()
}

fn get_json(url: &str) -> Value {
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

/// An Avro record decoded with the registry's schema for its id, and that schema.
fn avro_decode(registry: &str, bytes: &Option<Vec<u8>>) -> (Value, Value) {
    let Some(b) = bytes else {
        return (Value::Null, Value::Null);
    };
    assert_eq!(b[0], 0, "magic byte");
    let id = u32::from_be_bytes([b[1], b[2], b[3], b[4]]);
    let body = get_json(&format!("{registry}/schemas/ids/{id}"));
    let text = body["schema"].as_str().expect("schema text").to_string();
    let schema = apache_avro::Schema::parse_str(&text).expect("avro schema");
    let reader = apache_avro::reader::datum::GenericDatumReader::builder(&schema)
        .build()
        .expect("datum reader");
    let v = reader.read_value(&mut &b[5..]).expect("avro datum");
    (avro_to_json(v), serde_json::from_str(&text).unwrap())
}

fn avro_to_json(v: apache_avro::types::Value) -> Value {
    use apache_avro::types::Value as A;
    match v {
        A::Null => Value::Null,
        A::Boolean(b) => json!(b),
        A::Int(i) => json!(i),
        A::Long(i) => json!(i),
        A::String(s) => json!(s),
        A::Bytes(b) => json!(b),
        A::Union(_, b) => avro_to_json(*b),
        A::Record(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, avro_to_json(v)))
                .collect(),
        ),
        A::Decimal(d) => json!(format!("{d:?}")),
        other => json!(format!("{other:?}")),
    }
}

fn seen(format: &str, registry: &str, r: &Record) -> Seen {
    let (key, value, params) = match format {
        "json" => (r.key_json(), r.value_json(), None),
        "json_schema" => {
            let (k, v) = (r.key_json(), r.value_json());
            let params = (!v.is_null()).then(|| connect_params(&v["schema"]));
            (k["payload"].clone(), v["payload"].clone(), params)
        }
        _ => {
            let (k, _) = avro_decode(registry, &r.key);
            let (v, vs) = avro_decode(registry, &r.value);
            let params = (!v.is_null()).then(|| avro_params(&vs));
            (k, v, params)
        }
    };
    Seen {
        topic: r.topic.clone(),
        key,
        value,
        params,
    }
}

async fn run(format: &'static str, prefix: &str) -> (Setup, Vec<Seen>) {
    let env = common::servers().expect("servers");
    let db = common::fresh_db(&env, prefix).await;
    prepare(&env, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.format = format;
    setup.extra = events_toml(&db);
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;
    workload(&env, &db).await;
    let topics = vec![setup.topic("people"), setup.topic("nokey")];
    // people: 2 reads, then delete + tombstone + create; nokey: 1 read, 1 create.
    let recs = wait_for_async(
        &env.kafka_brokers,
        &topics,
        Duration::from_secs(90),
        "the snapshot and streamed records",
        |recs| recs.len() >= 7,
    )
    .await;
    assert!(rt.stop().success(), "{}", rt.log_text());
    let registry = env.registry_url.clone();
    let seen = tokio::task::spawn_blocking(move || {
        let mut recs = recs;
        recs.sort_by_key(|r| (r.topic.clone(), r.partition, r.offset));
        recs.iter().map(|r| seen(format, &registry, r)).collect()
    })
    .await
    .unwrap();
    (setup, seen)
}

fn find<'a>(seen: &'a [Seen], topic: &str, op: &str, pred: impl Fn(&Seen) -> bool) -> &'a Seen {
    seen.iter()
        .find(|s| s.topic == topic && s.value["op"] == op && pred(s))
        .unwrap_or_else(|| panic!("no {op} record on {topic} as expected in {seen:#?}"))
}

fn check(format: &str, setup: &Setup, seen: &[Seen]) {
    let people = setup.topic("people");
    let nokey = setup.topic("nokey");
    let avro = format == "avro";

    // Snapshot row 1: the key is the plain email (keys are not masked); the value has no
    // `age`, a 4-character name, hashed email and token, a masked secret.
    let r1 = find(seen, &people, "r", |s| s.value["after"]["id"] == 1);
    assert_eq!(r1.key, json!({"email": "j@example.com"}), "{format}");
    let after = &r1.value["after"];
    assert!(
        after.get("age").is_none(),
        "{format}: age is excluded: {after}"
    );
    assert_eq!(after["name"], "Jürg", "{format}");
    assert_eq!(after["email"], J_HASH, "{format}");
    assert_eq!(after["token"], TOKEN_HASH, "{format}");
    assert_eq!(after["secret"], "*****", "{format}");
    assert_eq!(after["bio"], "A long biography", "{format}");
    if !avro {
        // 12.50 as Connect Decimal bytes (unscaled 1250 = 0x04E2).
        assert_eq!(after["price"], "BOI=", "{format}");
    }
    let names: Vec<&String> = after.as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        ["id", "name", "email", "token", "secret", "bio", "price"],
        "{format}"
    );

    // Snapshot row 2: nulls stay null, except under the mask (Debezium masks nulls too).
    let r2 = find(seen, &people, "r", |s| s.value["after"]["id"] == 2);
    assert_eq!(r2.value["after"]["name"], Value::Null, "{format}");
    assert_eq!(r2.value["after"]["token"], Value::Null, "{format}");
    assert_eq!(r2.value["after"]["secret"], "*****", "{format}");
    assert_eq!(r2.value["after"]["email"], N_HASH, "{format}");

    // The streamed email change moves the key: delete of the old key (then its
    // tombstone), create of the new one.
    let d = find(seen, &people, "d", |_| true);
    assert_eq!(d.key, json!({"email": "j@example.com"}), "{format}");
    assert_eq!(d.value["before"]["email"], J_HASH, "{format}");
    let c = find(seen, &people, "c", |_| true);
    assert_eq!(c.key, json!({"email": "j2@example.com"}), "{format}");
    assert_eq!(c.value["after"]["email"], J2_HASH, "{format}");
    assert!(
        seen.iter()
            .any(|s| s.topic == people && s.value.is_null() && s.key == d.key),
        "{format}: a tombstone for the old key"
    );

    // The table without a primary key is keyed by b, a (the order written).
    let n7 = find(seen, &nokey, "r", |_| true);
    assert_eq!(n7.key, json!({"b": "seven", "a": 7}), "{format}");
    let order: Vec<&String> = n7.key.as_object().unwrap().keys().collect();
    assert_eq!(order, ["b", "a"], "{format}");
    let n8 = find(seen, &nokey, "c", |_| true);
    assert_eq!(n8.key, json!({"b": "eight", "a": 8}), "{format}");
    assert_eq!(n8.value["after"]["c"], Value::Null, "{format}");

    if format == "json" {
        return;
    }
    let p = r1.params.as_ref().expect("schema");
    assert_eq!(p["id"], Value::Null, "{format}: {p:?}");
    // Truncation comes first among Debezium's mappers: the propagation rule also
    // naming `name` does not apply to it.
    assert_eq!(p["name"], json!({"truncateLength": "4"}), "{format}");
    assert_eq!(p["email"], json!({"masked": "true"}), "{format}");
    assert_eq!(p["token"], json!({"masked": "true"}), "{format}");
    assert_eq!(p["secret"], json!({"masked": "true"}), "{format}");
    assert_eq!(
        p["bio"],
        json!({"__debezium.source.column.type": "TEXT", "__debezium.source.column.name": "bio"}),
        "{format}"
    );
    let price: Vec<(String, Value)> = p["price"]
        .as_object()
        .expect("price parameters")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(
        price,
        [
            ("scale".into(), json!("2")),
            ("connect.decimal.precision".into(), json!("10")),
            ("__debezium.source.column.type".into(), json!("DECIMAL")),
            ("__debezium.source.column.length".into(), json!("10")),
            ("__debezium.source.column.scale".into(), json!("2")),
            ("__debezium.source.column.name".into(), json!("price")),
        ],
        "{format}: Debezium's order: the type's own parameters, then the source ones"
    );
    let n = n7.params.as_ref().expect("schema");
    assert_eq!(
        n["c"],
        json!({"__debezium.source.column.type": "TEXT", "__debezium.source.column.name": "c"}),
        "{format}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_json() {
    if common::servers().is_none() {
        return;
    }
    let (setup, seen) = run("json", "columns_j").await;
    check("json", &setup, &seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_json_schema() {
    if common::servers().is_none() {
        return;
    }
    let (setup, seen) = run("json_schema", "columns_s").await;
    check("json_schema", &setup, &seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_avro() {
    if common::servers().is_none() {
        return;
    }
    let (setup, seen) = run("avro", "columns_a").await;
    check("avro", &setup, &seen);
}
