//! Record headers as a consumer reads them from Kafka: an UPDATE that moves the primary key
//! is a `d` (with its tombstone) carrying `__debezium.newkey` and a `c` carrying
//! `__debezium.oldkey`, rendered as Kafka Connect's SimpleHeaderConverter renders the key
//! struct — in every format. Every change record, tombstone and schema-change record carries
//! Debezium's four `__debezium.context.*` headers after its own (unless
//! `events.extended_headers_enabled = false`).

mod common;

use std::time::Duration;

use common::kafka::{wait_for_async, Record};
use common::proc::{Rowtide, Setup};

async fn exec(c: &mut mysql_async::Conn, sql: &str) {
    use mysql_async::prelude::Queryable;
    c.query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

const CONTEXT: [&str; 4] = [
    "__debezium.context.connectorLogicalName",
    "__debezium.context.taskId",
    "__debezium.context.connectorName",
    "__debezium.context.runId",
];

/// The record's header keys after its own `own` ones are the context headers, with the
/// values Debezium gives them; returns the run id.
fn check_context(r: &Record, own: usize, prefix: &str) -> String {
    let keys: Vec<&str> = r.headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys.len(), own + 4, "{r:?}");
    assert_eq!(keys[own..], CONTEXT, "{r:?}");
    assert_eq!(r.header(CONTEXT[0]).as_deref(), Some(prefix));
    assert_eq!(r.header(CONTEXT[1]).as_deref(), Some("0"));
    assert_eq!(r.header(CONTEXT[2]).as_deref(), Some("mariadb"));
    let run_id = r.header(CONTEXT[3]).expect("runId");
    assert!(
        run_id.len() == 36 && &run_id[14..15] == "7",
        "UUID v7: {run_id}"
    );
    run_id
}

async fn run(format: &'static str, extended: bool) {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, &format!("hdr{}", format.replace('_', ""))).await;
    let mut c = common::admin(&env).await;
    exec(&mut c, &format!("USE `{db}`")).await;
    exec(
        &mut c,
        "CREATE TABLE accounts (region VARCHAR(8), id INT, note VARCHAR(20), \
         PRIMARY KEY (region, id))",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.format = format;
    setup.partitions = 1;
    if !extended {
        setup.extra = "[events]\nextended_headers_enabled = false\n".into();
    }
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;
    for sql in [
        "INSERT INTO accounts VALUES ('eu', 1, 'a \"quoted\" note')",
        "UPDATE accounts SET note = 'plain' WHERE id = 1",
        "UPDATE accounts SET region = 'us', id = 2 WHERE id = 1",
    ] {
        exec(&mut c, sql).await;
    }
    c.disconnect().await.ok();
    let topics = vec![setup.topic("accounts")];
    let recs: Vec<Record> = wait_for_async(
        &env.kafka_brokers,
        &topics,
        Duration::from_secs(60),
        "insert, update, and the key change's delete, tombstone and create",
        |recs| recs.len() >= 5,
    )
    .await;
    assert!(rt.stop().success(), "{}", rt.log_text());
    assert_eq!(recs.len(), 5, "{recs:?}");
    let (insert, update, delete, tombstone, create) =
        (&recs[0], &recs[1], &recs[2], &recs[3], &recs[4]);
    assert!(
        tombstone.value.is_none(),
        "the delete's tombstone: {tombstone:?}"
    );
    assert!(create.value.is_some());
    let new_key = r#"{"region":"us","id":2}"#;
    let old_key = r#"{"region":"eu","id":1}"#;
    for r in [delete, tombstone] {
        assert_eq!(r.headers[0].0, "__debezium.newkey", "{r:?}");
        assert_eq!(r.header("__debezium.newkey").as_deref(), Some(new_key));
    }
    assert_eq!(create.headers[0].0, "__debezium.oldkey", "{create:?}");
    assert_eq!(create.header("__debezium.oldkey").as_deref(), Some(old_key));
    if !extended {
        for r in [insert, update] {
            assert!(r.headers.is_empty(), "no headers on plain changes: {r:?}");
        }
        for r in [delete, tombstone, create] {
            assert_eq!(r.headers.len(), 1, "{r:?}");
        }
        return;
    }
    let ids: std::collections::BTreeSet<String> = [(insert, 0), (update, 0)]
        .into_iter()
        .chain([(delete, 1), (tombstone, 1), (create, 1)])
        .map(|(r, own)| check_context(r, own, &setup.topic_prefix))
        .collect();
    assert_eq!(ids.len(), 1, "one run id for the whole run: {ids:?}");
    // Schema-change records carry them too.
    let ddl = common::kafka::read_all(&env.kafka_brokers, &[setup.topic_prefix.clone()]);
    assert!(
        !ddl.is_empty(),
        "schema-change records on {}",
        setup.topic_prefix
    );
    for r in &ddl {
        check_context(r, 0, &setup.topic_prefix);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_key_change_carries_old_and_new_key_headers_json() {
    run("json", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_headers_can_be_turned_off() {
    run("json_schema", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_key_change_carries_old_and_new_key_headers_avro() {
    run("avro", true).await;
}
