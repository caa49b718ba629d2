//! The routing transforms against the real MariaDB and Kafka (and the registry for avro),
//! in every format, asserting on what a consumer reads:
//! - `by_logical_table_router`: two shard tables with overlapping ids merged into one topic,
//!   keys made unique by `__dbz__physicalTableIdentifier` (the original topic), key /
//!   envelope / row schemas renamed after the new topic, `source.table` untouched, the
//!   delete's tombstone keyed the same way;
//! - `outbox_event_router`: an outbox table routed by aggregate type to
//!   `outbox.event.<type>` (plain payload as value, `id` header, key = aggregate id), and a
//!   second router expanding the JSON payload into a struct (the schema Debezium 3.5 infers, as
//!   Debezium 3.5.0.Final wrote it on the same server), with `type` as header `eventType`; updates and
//!   deletes of the outbox produce nothing. Under avro, payloads of one shape share one
//!   registered schema version.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::kafka::{wait_for_async, Record};
use common::proc::{Rowtide, Setup};
use common::TestEnv;
use serde_json::{json, Value};

async fn exec(c: &mut mysql_async::Conn, sql: &str) {
    use mysql_async::prelude::Queryable;
    c.query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Starts rowtide on `tables` of `db` with `transform` (TOML of one `[[transforms]]`).
fn start(
    env: &TestEnv,
    db: &str,
    format: &'static str,
    tables: &str,
    transform: &str,
) -> (Rowtide, Setup, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(db, dir.path());
    setup.format = format;
    setup.partitions = 1;
    setup.extra = format!("\n[[transforms]]\n{transform}\n");
    let text = setup.toml(env).replace(
        &format!(r#"include = ["{db}\\..*"]"#),
        &format!(r#"include = ["{db}\\.({tables})"]"#),
    );
    let config = dir.path().join("rowtide.toml");
    std::fs::write(&config, text).unwrap();
    (Rowtide::with_config(&config, dir.path()), setup, dir)
}

/// Reads keys and values as JSON in every format (avro decoded with its registered schema).
struct Reader {
    format: &'static str,
    registry: String,
    schemas: std::sync::Mutex<HashMap<u32, (Value, apache_avro::Schema)>>,
}

impl Reader {
    /// The payload as JSON and, with a schema (json_schema, avro), the schema's JSON.
    fn read(&self, bytes: &Option<Vec<u8>>) -> (Value, Value) {
        let Some(b) = bytes else {
            return (Value::Null, Value::Null);
        };
        match self.format {
            "json" => (serde_json::from_slice(b).expect("JSON"), Value::Null),
            "json_schema" => {
                let v: Value = serde_json::from_slice(b).expect("JSON");
                (v["payload"].clone(), v["schema"].clone())
            }
            _ => self.avro(b),
        }
    }

    fn avro(&self, b: &[u8]) -> (Value, Value) {
        assert_eq!(b[0], 0, "magic byte");
        let id = u32::from_be_bytes([b[1], b[2], b[3], b[4]]);
        let mut cache = self.schemas.lock().unwrap();
        let (raw, schema) = cache.entry(id).or_insert_with(|| {
            let body = http_get(&format!("{}/schemas/ids/{id}", self.registry));
            let text = body["schema"].as_str().expect("schema text").to_string();
            let raw: Value = serde_json::from_str(&text).expect("schema JSON");
            (
                raw,
                apache_avro::Schema::parse_str(&text).expect("avro schema"),
            )
        });
        let reader = apache_avro::reader::datum::GenericDatumReader::builder(schema)
            .build()
            .expect("datum reader");
        let v = reader.read_value(&mut &b[5..]).expect("avro datum");
        (avro_json(v), raw.clone())
    }
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
        A::Boolean(b) => json!(b),
        A::Int(i) => json!(i),
        A::Long(i) => json!(i),
        A::Double(f) => json!(f),
        A::String(s) => json!(s),
        A::Union(_, b) => avro_json(*b),
        A::Record(fields) => {
            Value::Object(fields.into_iter().map(|(k, v)| (k, avro_json(v))).collect())
        }
        A::Array(a) => Value::Array(a.into_iter().map(avro_json).collect()),
        other => json!(format!("{other:?}")),
    }
}

/// The full name a schema carries: Connect's `name` (json_schema) or Avro's
/// `namespace.name` (avro; rowtide's AvroData-style conversion keeps the Connect name).
fn schema_name(schema: &Value) -> String {
    // An optional Avro schema is the union ["null", schema].
    if let Some(members) = schema.as_array() {
        return members.iter().map(schema_name).collect();
    }
    match (schema["namespace"].as_str(), schema["name"].as_str()) {
        (Some(ns), Some(n)) => format!("{ns}.{n}"),
        (None, Some(n)) => n.to_string(),
        _ => String::new(),
    }
}

async fn wait(env: &TestEnv, topics: &[String], n: usize, what: &str) -> Vec<Record> {
    wait_for_async(
        &env.kafka_brokers,
        topics,
        Duration::from_secs(90),
        what,
        move |r| r.len() >= n,
    )
    .await
}

async fn shards(env: &TestEnv, format: &'static str, reader: &Reader) {
    let db = common::fresh_db(env, &format!("rtrs{}", format.replace('_', ""))).await;
    let mut c = common::admin(env).await;
    exec(&mut c, &format!("USE `{db}`")).await;
    for t in ["shard_1", "shard_2"] {
        exec(
            &mut c,
            &format!("CREATE TABLE {t} (id INT PRIMARY KEY, name VARCHAR(20))"),
        )
        .await;
    }
    let (mut rt, setup, _dir) = start(
        env,
        &db,
        format,
        "shard_1|shard_2",
        "name = \"shards\"\ntype = \"io.debezium.transforms.ByLogicalTableRouter\"\n\
         topic_regex = '(.*)\\.shard_[0-9]+'\ntopic_replacement = \"$1.shards\"",
    );
    rt.wait_streaming(1).await;
    for sql in [
        "INSERT INTO shard_1 VALUES (1, 'a'), (2, 'b')",
        "INSERT INTO shard_2 VALUES (1, 'c')",
        "UPDATE shard_2 SET name = 'c2' WHERE id = 1",
        "DELETE FROM shard_1 WHERE id = 2",
    ] {
        exec(&mut c, sql).await;
    }
    c.disconnect().await.ok();
    let topic = setup.topic("shards");
    let recs = wait(
        env,
        &[
            topic.clone(),
            setup.topic("shard_1"),
            setup.topic("shard_2"),
        ],
        6,
        "6 records on the logical topic",
    )
    .await;
    assert!(rt.stop().success(), "{}", rt.log_text());
    assert_eq!(
        recs.len(),
        6,
        "only the logical topic has records: {recs:?}"
    );
    let phys = |t: &str| format!("{}.{db}.{t}", setup.topic_prefix);
    let expected = [
        (1, "shard_1", Some("c")),
        (2, "shard_1", Some("c")),
        (1, "shard_2", Some("c")),
        (1, "shard_2", Some("u")),
        (2, "shard_1", Some("d")),
        (2, "shard_1", None),
    ];
    for (r, (id, table, op)) in recs.iter().zip(expected) {
        assert_eq!(r.topic, topic);
        let (key, key_schema) = reader.read(&r.key);
        assert_eq!(
            key,
            json!({"id": id, "__dbz__physicalTableIdentifier": phys(table)}),
            "{r:?}"
        );
        let (value, value_schema) = reader.read(&r.value);
        let Some(op) = op else {
            assert!(r.value.is_none(), "the delete's tombstone: {r:?}");
            continue;
        };
        assert_eq!(value["op"], json!(op));
        assert_eq!(value["source"]["table"], json!(table), "source untouched");
        if format == "json" {
            continue;
        }
        assert_eq!(schema_name(&key_schema), format!("{topic}.Key"));
        assert_eq!(schema_name(&value_schema), format!("{topic}.Envelope"));
        if format == "json_schema" {
            assert_eq!(
                key_schema["fields"][1],
                json!({"type":"string","optional":false,"field":"__dbz__physicalTableIdentifier"})
            );
            assert_eq!(value_schema["version"], json!(2));
            for f in &value_schema["fields"].as_array().unwrap()[..2] {
                assert_eq!(f["name"], json!(format!("{topic}.Value")));
            }
        }
    }
}

async fn outbox(env: &TestEnv, format: &'static str, reader: &Reader) {
    let db = common::fresh_db(env, &format!("rtro{}", format.replace('_', ""))).await;
    let mut c = common::admin(env).await;
    exec(&mut c, &format!("USE `{db}`")).await;
    exec(
        &mut c,
        "CREATE TABLE outbox (id VARCHAR(36) PRIMARY KEY, aggregatetype VARCHAR(255) NOT NULL, \
         aggregateid VARCHAR(255) NOT NULL, type VARCHAR(64) NOT NULL, payload LONGTEXT)",
    )
    .await;
    let order = format!("{db}_Order");
    let (mut plain, _s1, _d1) = start(
        env,
        &db,
        format,
        "outbox",
        "name = \"outbox\"\ntype = \"outbox_event_router\"",
    );
    let expanded_cfg = format!(
        "name = \"outbox\"\ntype = \"io.debezium.transforms.outbox.EventRouter\"\n\
         table_expand_json_payload = \"true\"\ntable_fields_additional_placement = \"type:header:eventType\"\n\
         route_topic_replacement = \"{db}.x.${{routedByValue}}\""
    );
    let (mut expanded, _s2, _d2) = start(env, &db, format, "outbox", &expanded_cfg);
    plain.wait_streaming(1).await;
    expanded.wait_streaming(1).await;
    let line =
        r#"{"id": 1, "lines": [{"sku": "a", "n": 2}], "total": 12.5, "note": null, "ok": true}"#;
    let line2 = r#"{"id": 2, "lines": [{"sku": "b", "n": 1}], "total": 3.0, "ok": false}"#;
    for sql in [
        format!("INSERT INTO outbox VALUES ('e1', '{order}', 'o-1', 'OrderCreated', '{line}')"),
        format!("INSERT INTO outbox VALUES ('e2', '{order}', 'o-2', 'OrderCreated', '{line2}')"),
        format!("INSERT INTO outbox VALUES ('e3', '{db}_Note', 'n-1', 'Noted', 'plain text')"),
        "UPDATE outbox SET type = 'Changed' WHERE id = 'e1'".to_string(),
        "DELETE FROM outbox WHERE id = 'e1'".to_string(),
    ] {
        exec(&mut c, &sql).await;
    }
    c.disconnect().await.ok();
    let plain_topics = vec![
        format!("outbox.event.{order}"),
        format!("outbox.event.{db}_Note"),
    ];
    let x_topics = vec![format!("{db}.x.{order}"), format!("{db}.x.{db}_Note")];
    let recs = wait(env, &plain_topics, 3, "3 plain outbox events").await;
    let xrecs = wait(env, &x_topics, 3, "3 expanded outbox events").await;
    assert!(plain.stop().success(), "{}", plain.log_text());
    assert!(expanded.stop().success(), "{}", expanded.log_text());
    assert_eq!(
        recs.len(),
        3,
        "the update and the delete produce nothing: {recs:?}"
    );
    assert_eq!(xrecs.len(), 3, "{xrecs:?}");

    // Plain: the payload text is the value, the aggregate id the key, header id.
    for (r, (topic, id, key, payload)) in recs.iter().zip([
        (&plain_topics[0], "e1", "o-1", line),
        (&plain_topics[0], "e2", "o-2", line2),
        (&plain_topics[1], "e3", "n-1", "plain text"),
    ]) {
        assert_eq!(&r.topic, topic);
        assert_eq!(r.header("id").as_deref(), Some(id));
        // Debezium's four context headers, then the event id.
        assert_eq!(r.headers.len(), 5, "{r:?}");
        assert_eq!(r.headers[4].0, "id", "{r:?}");
        let (k, ks) = reader.read(&r.key);
        assert_eq!(k, json!(key));
        let (v, vs) = reader.read(&r.value);
        assert_eq!(v, json!(payload));
        if format == "json_schema" {
            assert_eq!(ks, json!({"type":"string","optional":false}));
            assert_eq!(vs, json!({"type":"string","optional":true}));
        }
    }

    // Expanded: the payload as a struct of the inferred schema; a non-JSON payload stays text.
    let expect1 = json!({"id":1,"lines":[{"sku":"a","n":2}],"total":12.5,"ok":true});
    let expect2 = json!({"id":2,"lines":[{"sku":"b","n":1}],"total":3.0,"ok":false});
    let mut ids = vec![];
    for (r, (topic, id, ty, value)) in xrecs.iter().zip([
        (&x_topics[0], "e1", "OrderCreated", expect1),
        (&x_topics[0], "e2", "OrderCreated", expect2),
        (&x_topics[1], "e3", "Noted", json!("plain text")),
    ]) {
        assert_eq!(&r.topic, topic);
        let names: Vec<&str> = r.headers.iter().map(|(k, _)| k.as_str()).collect();
        // Debezium's four context headers, then the event id and the placed field.
        assert_eq!(names[4..], ["id", "eventType"]);
        assert!(names[..4]
            .iter()
            .all(|n| n.starts_with("__debezium.context.")));
        assert_eq!(r.header("id").as_deref(), Some(id));
        assert_eq!(r.header("eventType").as_deref(), Some(ty));
        let (v, vs) = reader.read(&r.value);
        assert_eq!(v, value, "{r:?}");
        if let Some(b) = &r.value {
            ids.push(b.get(1..5).map(<[u8]>::to_vec));
        }
        if format == "json_schema" && id == "e1" {
            let want: Value = serde_json::from_str(
                r#"{"type":"struct","fields":[{"type":"int32","optional":true,"field":"id"},{"type":"array","items":{"type":"struct","fields":[{"type":"string","optional":true,"field":"sku"},{"type":"int32","optional":true,"field":"n"}],"optional":true,"name":"payload.lines"},"optional":true,"field":"lines"},{"type":"double","optional":true,"field":"total"},{"type":"boolean","optional":true,"field":"ok"}],"optional":true,"name":"payload"}"#,
            )
            .unwrap();
            assert_eq!(vs, want, "Debezium 3.5's inferred schema");
        }
        if format == "avro" && id != "e3" {
            assert_eq!(schema_name(&vs), "payload");
        }
    }
    if format == "avro" {
        assert_eq!(
            ids[0], ids[1],
            "one registered schema for one payload shape"
        );
        let subject = format!("{}-value", x_topics[0]);
        let versions = http_get(&format!("{}/subjects/{subject}/versions", reader.registry));
        assert_eq!(versions, json!([1]), "{subject}");
    }
}

async fn run(format: &'static str) {
    let Some(env) = common::servers() else { return };
    let reader = Reader {
        format,
        registry: env.registry_url.clone(),
        schemas: Default::default(),
    };
    shards(&env, format, &reader).await;
    outbox(&env, format, &reader).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_transforms_json() {
    run("json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_transforms_json_schema() {
    run("json_schema").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_transforms_avro() {
    run("avro").await;
}
