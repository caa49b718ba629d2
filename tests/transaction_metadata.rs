//! Transaction metadata (`format.provide_transaction_metadata`), as Debezium's binlog
//! connectors produce it (debezium/debezium, 3.6 line):
//! - DOC = documentation/modules/ROOT/partials/modules/all-connectors/shared-mariadb-mysql.adoc,
//!   "Transaction metadata" (boundary events, the `transaction` block, `<prefix>.transaction`);
//! - TM  = debezium-connector-common/.../pipeline/txmetadata/TransactionMonitor.java and
//!   AbstractTransactionStructMaker.java (field order, what counts as an event);
//! - BOC = debezium-connector-binlog/.../BinlogOffsetContext.java (the id: GTID, else
//!   `file=%s,pos=%s` of the transaction start);
//! - IT  = debezium-connector-binlog/src/test/.../BinlogTransactionMetadataIT.java
//!   (`data_collection` is `db.table`; counters continue after a restart mid-transaction).
//!
//! Golden tests of the shapes (no servers), then two tests through the real binary:
//! MariaDB → `rowtide run` → Kafka.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::kafka::{wait_for_async, Record};
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;
use rowtide::config::{FormatConfig, FormatKind};
use rowtide::encode::Encoder;
use rowtide::envelope::transaction::{Boundary, TxnBlock};
use rowtide::envelope::Now;
use rowtide::model::{
    position::Position, Change, ColumnDesc, ColumnKind, Flavor, Op, SnapshotMarker, TableDesc,
    Value,
};
use serde_json::{json, Value as Json};

const NOW: Now = Now {
    nanos: 1_700_000_001_234_567_891,
};

fn encoder(kind: FormatKind) -> Encoder {
    let cfg = FormatConfig {
        kind,
        provide_transaction_metadata: true,
        ..FormatConfig::default()
    };
    Encoder::new(&cfg, "dbserver1", Flavor::Mariadb).unwrap()
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn end() -> Boundary {
    Boundary::End {
        id: "0-1-42".into(),
        ts_ms: 1_700_000_000_999,
        event_count: 3,
        data_collections: vec![("shop.orders".into(), 2), ("shop.items".into(), 1)],
    }
}

#[test]
fn begin_and_end_in_json() {
    let mut e = encoder(FormatKind::Json);
    let begin = Boundary::Begin {
        id: "0-1-42".into(),
        ts_ms: 1_700_000_000_000,
    };
    let r = block_on(e.encode_transaction(&begin)).unwrap();
    // DOC: `<topic.prefix>.transaction` (topic.transaction defaults to `transaction`).
    assert_eq!(&*r.topic, "dbserver1.transaction");
    let key: Json = serde_json::from_slice(&r.key.unwrap()).unwrap();
    assert_eq!(key, json!({"id": "0-1-42"}));
    let value: Json = serde_json::from_slice(&r.value.unwrap()).unwrap();
    assert_eq!(
        value,
        json!({"status": "BEGIN", "id": "0-1-42", "event_count": null,
               "data_collections": null, "ts_ms": 1_700_000_000_000i64})
    );
    let r = block_on(e.encode_transaction(&end())).unwrap();
    let value: Json = serde_json::from_slice(&r.value.unwrap()).unwrap();
    assert_eq!(
        value,
        json!({"status": "END", "id": "0-1-42", "event_count": 3,
               "data_collections": [
                   {"data_collection": "shop.orders", "event_count": 2},
                   {"data_collection": "shop.items", "event_count": 1}],
               "ts_ms": 1_700_000_000_999i64})
    );
}

#[test]
fn end_in_json_with_schema_names_debeziums_structs() {
    let mut e = encoder(FormatKind::JsonSchema);
    let r = block_on(e.encode_transaction(&end())).unwrap();
    let key: Json = serde_json::from_slice(&r.key.unwrap()).unwrap();
    assert_eq!(
        key["schema"]["name"],
        "io.debezium.connector.common.TransactionMetadataKey"
    );
    assert_eq!(key["payload"], json!({"id": "0-1-42"}));
    let value: Json = serde_json::from_slice(&r.value.unwrap()).unwrap();
    let s = &value["schema"];
    assert_eq!(
        s["name"],
        "io.debezium.connector.common.TransactionMetadataValue"
    );
    let fields: Vec<&str> = s["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["status", "id", "event_count", "data_collections", "ts_ms"]
    );
    assert_eq!(value["payload"]["event_count"], 3);
    assert_eq!(
        value["payload"]["data_collections"][1],
        json!({"data_collection": "shop.items", "event_count": 1})
    );
}

#[test]
fn data_event_carries_the_transaction_block() {
    let t = Arc::new(TableDesc {
        db: "shop".into(),
        name: "orders".into(),
        columns: vec![ColumnDesc::new("id", ColumnKind::Int)],
        primary_key: vec![0],
        charset_name: None,
        comment: None,
    });
    let c = Change {
        table: t,
        op: Op::Create,
        before: None,
        after: Some(vec![Value::Int(1)]),
        position: Position {
            file: Arc::from("mariadb-bin.000002"),
            pos: 1000,
            row: 0,
            gtid: Some(Arc::from("0-1-42")),
            txn_file: Arc::from("mariadb-bin.000002"),
            txn_pos: 900,
            txn_row: 1,
            gtid_before: None,
        },
        ts_ms: 1_700_000_000_000,
        snapshot: SnapshotMarker::False,
        thread: None,
        query: None,
        server_id: 1,
    };
    let block = TxnBlock {
        id: "0-1-42".into(),
        total_order: 2,
        data_collection_order: 1,
    };
    let mut e = encoder(FormatKind::Json);
    let r = block_on(e.encode_change_in(&c, NOW, Some(&block))).unwrap();
    let v: Json = serde_json::from_slice(&r.value.unwrap()).unwrap();
    assert_eq!(
        v["transaction"],
        json!({"id": "0-1-42", "total_order": 2, "data_collection_order": 1})
    );
    // Without a block (metadata off, snapshot reads) the field stays null.
    let r = block_on(e.encode_change_in(&c, NOW, None)).unwrap();
    let v: Json = serde_json::from_slice(&r.value.unwrap()).unwrap();
    assert!(v["transaction"].is_null());
    // json_schema: the block's Connect schema is Debezium's optional `event.block`.
    let mut e = encoder(FormatKind::JsonSchema);
    let r = block_on(e.encode_change_in(&c, NOW, Some(&block))).unwrap();
    let v: Json = serde_json::from_slice(&r.value.unwrap()).unwrap();
    assert_eq!(v["payload"]["transaction"]["total_order"], 2);
    let f = v["schema"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "transaction")
        .unwrap();
    assert_eq!(f["name"], "event.block");
    assert_eq!(f["optional"], true);
}

async fn exec(c: &mut mysql_async::Conn, sql: &str) {
    c.query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn values(recs: &[Record], topic: &str) -> Vec<Json> {
    recs.iter()
        .filter(|r| r.topic == topic && r.value.is_some())
        .map(Record::value_json)
        .collect()
}

/// A multi-statement transaction over two tables (with a primary-key change), an autocommit
/// insert, a transaction on a table that is not captured, and a last autocommit insert:
/// three BEGIN/END pairs (none for the uncaptured one), data events numbered per
/// transaction and per table, in JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn begin_data_events_and_end_reach_kafka() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "txm").await;
    let other = common::fresh_db(&env, "txmo").await;
    let mut c = common::admin(&env).await;
    exec(&mut c, &format!("USE `{db}`")).await;
    exec(
        &mut c,
        "CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(20))",
    )
    .await;
    exec(
        &mut c,
        "CREATE TABLE items (id INT PRIMARY KEY, sku VARCHAR(20))",
    )
    .await;
    exec(&mut c, "INSERT INTO orders VALUES (1, 'snapshot')").await;
    exec(
        &mut c,
        &format!("CREATE TABLE `{other}`.elsewhere (id INT PRIMARY KEY)"),
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.format_extra = "provide_transaction_metadata = true\n".into();
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    let txn_topic = format!("{}.transaction", setup.topic_prefix);
    let topics = vec![
        setup.topic("orders"),
        setup.topic("items"),
        txn_topic.clone(),
    ];
    wait_for_async(
        &env.kafka_brokers,
        &topics,
        Duration::from_secs(60),
        "the snapshot read",
        |recs| !recs.is_empty(),
    )
    .await;

    for sql in [
        "START TRANSACTION",
        "INSERT INTO orders VALUES (10, 'ann')",
        "INSERT INTO items VALUES (1, 'a'), (2, 'b')",
        "UPDATE orders SET customer = 'ann2' WHERE id = 10",
        "INSERT INTO items VALUES (3, 'c')",
        "UPDATE items SET id = 30 WHERE id = 3", // a key change: delete + create
        "COMMIT",
        "INSERT INTO orders VALUES (11, 'bob')",
    ] {
        exec(&mut c, sql).await;
    }
    exec(
        &mut c,
        &format!("INSERT INTO `{other}`.elsewhere VALUES (1)"),
    )
    .await;
    exec(&mut c, "INSERT INTO orders VALUES (12, 'last')").await;
    c.disconnect().await.ok();

    let (tt, ot, it) = (
        txn_topic.clone(),
        setup.topic("orders"),
        setup.topic("items"),
    );
    // Wait for every record checked below, on each topic: Kafka does not make records of
    // different topics visible in the order they were produced. `items` is created by the
    // sink during the transaction, and the producer holds its records until it has the new
    // topic's metadata, while records to known topics (the last insert, the END) go out —
    // waiting only for those (as this test once did) read `items` incomplete under load.
    let recs = wait_for_async(
        &env.kafka_brokers,
        &topics,
        Duration::from_secs(60),
        "the 3 ENDs, the 4 streamed orders events and the 5 items events",
        move |recs| {
            values(recs, &tt)
                .iter()
                .filter(|v| v["status"] == "END")
                .count()
                >= 3
                // orders has 3 partitions, each made visible on its own: every streamed
                // event (10 created and updated, 11, 12) is waited for, not only the last.
                && values(recs, &ot).iter().filter(|v| v["op"] != "r").count() >= 4
                && values(recs, &it).len() >= 5
        },
    )
    .await;
    let status = rt.stop();
    assert!(status.success(), "{status:?}\n{}", rt.log_text());

    // The snapshot read carries no block.
    let orders = values(&recs, &setup.topic("orders"));
    let read = orders.iter().find(|v| v["op"] == "r").expect("a read");
    assert!(read["transaction"].is_null(), "{read}");

    // The boundaries: BEGIN/END per transaction that touched a captured table.
    let txn: Vec<(Json, Json)> = recs
        .iter()
        .filter(|r| r.topic == txn_topic)
        .map(|r| (r.key_json(), r.value_json()))
        .collect();
    let begins: Vec<&Json> = txn
        .iter()
        .map(|(_, v)| v)
        .filter(|v| v["status"] == "BEGIN")
        .collect();
    let ends: Vec<&Json> = txn
        .iter()
        .map(|(_, v)| v)
        .filter(|v| v["status"] == "END")
        .collect();
    assert_eq!(begins.len(), 3, "{txn:?}");
    assert_eq!(ends.len(), 3, "{txn:?}");
    for (k, v) in &txn {
        assert_eq!(k, &json!({"id": v["id"].clone()}), "keyed by id");
        assert!(v["ts_ms"].as_i64().unwrap() > 1_600_000_000_000);
    }
    for b in &begins {
        assert!(b["event_count"].is_null() && b["data_collections"].is_null());
    }

    // The big transaction: its events in the two tables share one id.
    let items = values(&recs, &setup.topic("items"));
    let id = items[0]["transaction"]["id"].clone();
    assert_eq!(id, items[0]["source"]["gtid"], "the id is the GTID");
    let mut events: Vec<&Json> = orders
        .iter()
        .chain(items.iter())
        .filter(|v| v["transaction"]["id"] == id)
        .collect();
    events.sort_by_key(|v| v["transaction"]["total_order"].as_i64());
    let seen: Vec<(i64, &str, &str, i64)> = events
        .iter()
        .map(|v| {
            (
                v["transaction"]["total_order"].as_i64().unwrap(),
                v["source"]["table"].as_str().unwrap(),
                v["op"].as_str().unwrap(),
                v["transaction"]["data_collection_order"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, "orders", "c", 1),
            (2, "items", "c", 1),
            (3, "items", "c", 2),
            (4, "orders", "u", 2),
            (5, "items", "c", 3),
            (6, "items", "d", 4),
            (7, "items", "c", 5),
        ],
        "total_order 1..n in binlog order, data_collection_order per table (tombstones \
         are not counted)"
    );
    let begin_at = txn
        .iter()
        .position(|(_, v)| v["status"] == "BEGIN" && v["id"] == id)
        .expect("its BEGIN");
    let end_at = txn
        .iter()
        .position(|(_, v)| v["status"] == "END" && v["id"] == id)
        .expect("its END");
    assert!(begin_at < end_at, "BEGIN before END in the topic");
    let end = &txn[end_at].1;
    assert_eq!(end["event_count"], 7);
    let mut per_table: Vec<(String, i64)> = end["data_collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["data_collection"].as_str().unwrap().to_string(),
                d["event_count"].as_i64().unwrap(),
            )
        })
        .collect();
    per_table.sort();
    assert_eq!(
        per_table,
        [(format!("{db}.items"), 5), (format!("{db}.orders"), 2)]
    );

    // The autocommit inserts: transactions of one event each.
    for id in [11, 12] {
        let v = orders
            .iter()
            .find(|v| v["after"]["id"] == id)
            .expect("the insert");
        assert_eq!(
            (
                &v["transaction"]["total_order"],
                &v["transaction"]["data_collection_order"]
            ),
            (&json!(1), &json!(1))
        );
        let tid = &v["transaction"]["id"];
        let end = ends.iter().find(|e| &e["id"] == tid).expect("its END");
        assert_eq!(end["event_count"], 1);
    }
}

/// An update that moves an `events.message_key_columns` key (not the primary key) is split
/// into a delete and a create: both carry the transaction block and both count in the
/// END's `event_count` / `data_collections`, as Debezium's `TransactionMonitor` counts
/// every record the emitter hands over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_message_key_counts_as_two_events() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "txmk").await;
    let mut c = common::admin(&env).await;
    exec(&mut c, &format!("USE `{db}`")).await;
    exec(
        &mut c,
        "CREATE TABLE refs (id INT PRIMARY KEY, code VARCHAR(10), note VARCHAR(10))",
    )
    .await;
    exec(&mut c, "INSERT INTO refs VALUES (1, 'a', 'snap')").await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.format_extra = "provide_transaction_metadata = true\n".into();
    setup.extra = format!("\n[events]\nmessage_key_columns = \"{db}.refs:code\"\n");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    let txn_topic = format!("{}.transaction", setup.topic_prefix);
    let topics = vec![setup.topic("refs"), txn_topic.clone()];
    wait_for_async(
        &env.kafka_brokers,
        &topics,
        Duration::from_secs(60),
        "the snapshot read",
        |recs| !recs.is_empty(),
    )
    .await;
    for sql in [
        "START TRANSACTION",
        "UPDATE refs SET note = 'n' WHERE id = 1", // the key (code) stays: one update
        "UPDATE refs SET code = 'b' WHERE id = 1", // the key moves: delete + create
        "COMMIT",
    ] {
        exec(&mut c, sql).await;
    }
    c.disconnect().await.ok();
    let (tt, rt_) = (txn_topic.clone(), setup.topic("refs"));
    // Both topics are waited for: Kafka does not order visibility across topics.
    let recs = wait_for_async(
        &env.kafka_brokers,
        &topics,
        Duration::from_secs(60),
        "the END of the transaction and the read, update, delete and create of refs",
        move |recs| {
            values(recs, &tt).iter().any(|v| v["status"] == "END") && values(recs, &rt_).len() >= 4
        },
    )
    .await;
    let status = rt.stop();
    assert!(status.success(), "{status:?}\n{}", rt.log_text());

    let refs = values(&recs, &setup.topic("refs"));
    let seen: Vec<(&str, &Json, &Json)> = refs
        .iter()
        .filter(|v| v["op"] != "r")
        .map(|v| {
            (
                v["op"].as_str().unwrap(),
                &v["transaction"]["total_order"],
                &v["transaction"]["data_collection_order"],
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("u", &json!(1), &json!(1)),
            ("d", &json!(2), &json!(2)),
            ("c", &json!(3), &json!(3))
        ],
        "{refs:#?}"
    );
    let end = values(&recs, &txn_topic)
        .into_iter()
        .find(|v| v["status"] == "END")
        .unwrap();
    assert_eq!(end["event_count"], 3, "{end}");
    assert_eq!(
        end["data_collections"],
        json!([{"data_collection": format!("{db}.refs"), "event_count": 3}])
    );
}

/// Avro: registered under `<prefix>.transaction-key/-value` and readable with the static
/// schemas of `schemas/` (Debezium's Avro form of the transaction structs).
#[tokio::test]
async fn begin_and_end_in_avro_read_back_with_the_static_schemas() {
    use apache_avro::types::Value as Avro;
    let Some(env) = common::servers() else { return };
    let cfg = FormatConfig {
        kind: FormatKind::Avro,
        registry_url: Some(env.registry_url.clone()),
        provide_transaction_metadata: true,
        ..FormatConfig::default()
    };
    let prefix = common::unique("txa");
    let mut e = Encoder::new(&cfg, &prefix, Flavor::Mariadb).unwrap();
    let r = e.encode_transaction(&end()).await.unwrap();
    assert_eq!(r.topic.to_string(), format!("{prefix}.transaction"));
    let read = |bytes: &[u8], avsc: &str| -> Vec<(String, Avro)> {
        assert_eq!(bytes[0], 0, "Confluent magic byte");
        let schema = apache_avro::Schema::parse_str(avsc).unwrap();
        let reader = apache_avro::reader::datum::GenericDatumReader::builder(&schema)
            .build()
            .unwrap();
        match reader.read_value(&mut &bytes[5..]).unwrap() {
            Avro::Record(fields) => fields,
            other => panic!("not a record: {other:?}"),
        }
    };
    let key = read(
        &r.key.unwrap(),
        include_str!("../schemas/transaction-metadata-key.avsc"),
    );
    assert_eq!(key, [("id".to_string(), Avro::String("0-1-42".into()))]);
    let value = read(
        &r.value.unwrap(),
        include_str!("../schemas/transaction-metadata-value.avsc"),
    );
    assert_eq!(value[0].1, Avro::String("END".into()));
    assert_eq!(value[2].1, Avro::Union(1, Box::new(Avro::Long(3))));
    let Avro::Union(1, arr) = &value[3].1 else {
        panic!("data_collections: {:?}", value[3].1)
    };
    let Avro::Array(items) = &**arr else {
        panic!("an array: {arr:?}")
    };
    assert_eq!(items.len(), 2);
    assert_eq!(value[4].1, Avro::Long(1_700_000_000_999));
    let begin = Boundary::Begin {
        id: "0-1-43".into(),
        ts_ms: 1,
    };
    let r = e.encode_transaction(&begin).await.unwrap();
    let value = read(
        &r.value.unwrap(),
        include_str!("../schemas/transaction-metadata-value.avsc"),
    );
    assert_eq!(value[2].1, Avro::Union(0, Box::new(Avro::Null)));
    assert_eq!(value[3].1, Avro::Union(0, Box::new(Avro::Null)));
}
