//! Predicates, `ExtractChangedRecordState` + `drop_fields_*`, and the outbox router's record
//! timestamp and partition, against the real MariaDB and Kafka (format `json`), asserting on
//! what a consumer reads:
//! - a `TopicNameMatches` predicate restricts the outbox router to the outbox table's topic:
//!   another captured table's events pass it as full change envelopes (without the
//!   predicate the router would stop the pipeline on them, as Debezium's does);
//! - the outbox events carry the Kafka timestamp of `table_field_event_timestamp` (a
//!   `DATETIME(3)`), else the change's `ts_ms`, and go to the partition of the
//!   `shard:partition` column whatever their key;
//! - `ExtractChangedRecordState` lists changed / unchanged columns in headers and unwrap's
//!   `drop_fields_header_name` removes the unchanged optional columns of an update, on a
//!   table selected by a negated predicate.

mod common;

use std::time::Duration;

use common::kafka::{wait_for_async, Record};
use common::proc::{Rowtide, Setup};
use serde_json::{json, Value};

async fn exec(c: &mut mysql_async::Conn, sql: &str) {
    use mysql_async::prelude::Queryable;
    c.query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

const TRANSFORMS: &str = r#"
[[predicates]]
name = "isOutbox"
type = "org.apache.kafka.connect.transforms.predicates.TopicNameMatches"
pattern = '.*\.outbox'

[[predicates]]
name = "isOutboxOrPlain"
type = "topic_name_matches"
pattern = '(outbox\.event\..*|.*\.plain)'

[[predicates]]
name = "isCustomers"
type = "topic_name_matches"
pattern = '.*\.customers'

[[transforms]]
name = "outbox"
type = "io.debezium.transforms.outbox.EventRouter"
predicate = "isOutbox"
table_field_event_timestamp = "created"
table_fields_additional_placement = "shard:partition"

[[transforms]]
name = "changes"
type = "io.debezium.transforms.ExtractChangedRecordState"
predicate = "isCustomers"
header_changed_name = "Changed"
header_unchanged_name = "Unchanged"

[[transforms]]
name = "unwrap"
type = "unwrap"
predicate = "isOutboxOrPlain"
negate = "true"
drop_fields_header_name = "Unchanged"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predicates_changed_fields_and_outbox_timestamp_partition() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "rtcond").await;
    let mut c = common::admin(&env).await;
    exec(&mut c, &format!("USE `{db}`")).await;
    for sql in [
        "CREATE TABLE outbox (id VARCHAR(36) PRIMARY KEY, aggregatetype VARCHAR(255) NOT NULL, \
         aggregateid VARCHAR(255) NOT NULL, payload LONGTEXT, created DATETIME(3), shard INT)",
        "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, \
         email VARCHAR(40), city VARCHAR(20))",
        "CREATE TABLE plain (id INT PRIMARY KEY, v VARCHAR(10))",
    ] {
        exec(&mut c, sql).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.partitions = 3;
    // unwrap applies to every topic but the outbox events and `plain`.
    setup.extra = TRANSFORMS.to_string();
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;
    let agg = format!("{db}_Order");
    // e1's business timestamp: an hour ago, to the millisecond. Not a fixed date: a record
    // stamped further back than the topic's retention (7 days) can be deleted by the broker's
    // next retention check before it is read.
    let e1_secs = now_ms() / 1000 - 3600;
    let e1_ms = e1_secs * 1000 + 250;
    for sql in [
        "SET time_zone = '+00:00'".to_string(),
        format!(
            "INSERT INTO outbox VALUES ('e1', '{agg}', 'o-1', 'a', FROM_UNIXTIME({e1_secs}.250), 2)"
        ),
        format!("INSERT INTO outbox VALUES ('e2', '{agg}', 'o-1', 'b', NULL, 0)"),
        format!("INSERT INTO outbox VALUES ('e3', '{agg}', 'o-2', 'c', NULL, NULL)"),
        "INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com', 'London')".into(),
        "UPDATE customers SET email = 'ada@lovelace.org' WHERE id = 1".into(),
        "INSERT INTO plain VALUES (1, 'x')".into(),
    ] {
        exec(&mut c, &sql).await;
    }
    c.disconnect().await.ok();
    let started = now_ms();
    let topics = vec![
        format!("outbox.event.{agg}"),
        setup.topic("customers"),
        setup.topic("plain"),
    ];
    let recs = wait_for_async(
        &env.kafka_brokers,
        &topics,
        Duration::from_secs(90),
        "3 outbox events, 2 customer events, 1 plain event",
        |r: &[Record]| r.len() >= 6,
    )
    .await;
    assert!(rt.stop().success(), "{}", rt.log_text());

    // The outbox: timestamp and partition from the row.
    let outbox = |id: &str| {
        recs.iter()
            .find(|r| r.topic == topics[0] && r.header("id").as_deref() == Some(id))
            .unwrap_or_else(|| panic!("event {id}: {recs:#?}"))
    };
    let e1 = outbox("e1");
    assert_eq!(e1.timestamp, Some(e1_ms), "DATETIME(3) in ms");
    assert_eq!(e1.partition, 2);
    let e2 = outbox("e2");
    assert_eq!(e2.partition, 0, "same key as e1, partition from the column");
    let ts = e2.timestamp.expect("a timestamp");
    assert!(
        (started - 300_000..=started + 60_000).contains(&ts),
        "a null column: the change's ts_ms ({ts}, started {started})"
    );
    assert_eq!(e1.value_json(), json!("a"));

    // customers: flattened, the update without its unchanged optional column (city);
    // required `name` and the key column stay.
    let cust: Vec<&Record> = recs.iter().filter(|r| r.topic == topics[1]).collect();
    assert_eq!(cust.len(), 2, "{cust:#?}");
    assert_eq!(
        cust[0].value_json(),
        json!({"id":1,"name":"Ada","email":"ada@example.com","city":"London"})
    );
    assert_eq!(cust[0].header("Changed").as_deref(), Some("[]"));
    assert_eq!(
        cust[1].value_json(),
        json!({"id":1,"name":"Ada","email":"ada@lovelace.org"})
    );
    assert_eq!(cust[1].header("Changed").as_deref(), Some(r#"["email"]"#));
    assert_eq!(
        cust[1].header("Unchanged").as_deref(),
        Some(r#"["id","name","city"]"#)
    );

    // plain: no transform applied (the negated predicate): a full envelope, no list headers.
    let plain: Vec<&Record> = recs.iter().filter(|r| r.topic == topics[2]).collect();
    assert_eq!(plain.len(), 1);
    let v: Value = plain[0].value_json();
    assert_eq!(v["op"], "c");
    assert_eq!(v["after"], json!({"id":1,"v":"x"}));
    assert!(plain[0].header("Changed").is_none());
}
