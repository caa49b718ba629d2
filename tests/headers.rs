//! Record headers as a consumer reads them from Kafka: an UPDATE that moves the primary key
//! is a `d` (with its tombstone) carrying `__debezium.newkey` and a `c` carrying
//! `__debezium.oldkey`, rendered as Kafka Connect's SimpleHeaderConverter renders the key
//! struct — in every format. Other records carry no headers.

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

async fn run(format: &'static str) {
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
    for r in [insert, update] {
        assert!(r.headers.is_empty(), "no headers on plain changes: {r:?}");
    }
    assert!(
        tombstone.value.is_none(),
        "the delete's tombstone: {tombstone:?}"
    );
    assert!(create.value.is_some());
    let new_key = r#"{"region":"us","id":2}"#;
    let old_key = r#"{"region":"eu","id":1}"#;
    for r in [delete, tombstone] {
        assert_eq!(r.headers.len(), 1, "{r:?}");
        assert_eq!(r.header("__debezium.newkey").as_deref(), Some(new_key));
    }
    assert_eq!(create.headers.len(), 1, "{create:?}");
    assert_eq!(create.header("__debezium.oldkey").as_deref(), Some(old_key));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_key_change_carries_old_and_new_key_headers_json() {
    run("json").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_key_change_carries_old_and_new_key_headers_avro() {
    run("avro").await;
}
