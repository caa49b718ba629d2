//! The servers go away and come back: Kafka stopped for a while, MariaDB restarted
//! mid-stream, and binlogs purged past the checkpoint while rowtide was stopped. These
//! tests stop and start the shared test servers, so they run one at a time in their own
//! test binary (cargo runs test binaries one after another).

mod common;

use std::time::Duration;

use common::kafka::wait_for_async;
use common::poll::poll_until_async;
use common::proc::{env_script, Rowtide, Setup};
use mysql_async::prelude::Queryable;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn create(env: &common::TestEnv, db: &str) {
    let mut c = common::admin(env).await;
    c.query_drop(format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v INT)"))
        .await
        .unwrap();
    c.disconnect().await.ok();
}

/// Inserts ids `from..to`, reconnecting while the server is (re)starting.
async fn insert(env: &common::TestEnv, db: &str, from: i32, to: i32) {
    let opts = common::admin_opts(env);
    let mut id = from;
    while id < to {
        let mut c = poll_until_async(
            "MariaDB to accept connections",
            Duration::from_secs(60),
            Duration::from_millis(200),
            async || {
                mysql_async::Conn::new(opts.clone())
                    .await
                    .map_err(|e| e.to_string())
            },
        )
        .await;
        while id < to {
            if c.query_drop(format!("INSERT INTO `{db}`.t VALUES ({id}, {id})"))
                .await
                .is_err()
            {
                break;
            }
            id += 1;
        }
        c.disconnect().await.ok();
    }
}

/// A test server stopped until this is dropped: it is started again even when the test
/// fails while it is stopped, so the tests after it find it running.
struct Stopped(&'static str);

impl Stopped {
    fn new(component: &'static str) -> Self {
        env_script(&["stop", component]);
        Stopped(component)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        env_script(&["start", self.0]);
    }
}

async fn ids_in_kafka(
    env: &common::TestEnv,
    topic: &str,
    want: usize,
) -> std::collections::BTreeSet<i64> {
    let recs = wait_for_async(
        &env.kafka_brokers,
        &[topic.to_string()],
        Duration::from_secs(120),
        &format!("{want} rows in Kafka"),
        move |r| r.iter().filter_map(|r| r.value.as_ref()).count() >= want,
    )
    .await;
    recs.iter()
        .filter(|r| r.value.is_some())
        .map(|r| r.key_json()["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_down_for_a_while_loses_nothing() {
    let _serial = SERIAL.lock().await;
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "kdown").await;
    create(&env, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(&db, dir.path());
    let topic = setup.topic("t");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;
    insert(&env, &db, 0, 100).await;
    assert_eq!(ids_in_kafka(&env, &topic, 100).await.len(), 100);

    let kafka_down = Stopped::new("kafka");
    insert(&env, &db, 100, 300).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    rt.assert_alive("while Kafka is down");
    drop(kafka_down);
    insert(&env, &db, 300, 400).await;

    let ids = ids_in_kafka(&env, &topic, 400).await;
    assert_eq!(
        ids.len(),
        400,
        "every row after Kafka came back\n{}",
        rt.log_text()
    );
    assert_eq!(*ids.iter().next_back().unwrap(), 399);
    assert!(rt.stop().success(), "{}", rt.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_restart_mid_stream_loses_nothing() {
    let _serial = SERIAL.lock().await;
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "mrestart").await;
    create(&env, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(&db, dir.path());
    let topic = setup.topic("t");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;
    insert(&env, &db, 0, 100).await;
    assert_eq!(ids_in_kafka(&env, &topic, 100).await.len(), 100);
    env_script(&["restart", "mariadb"]);
    insert(&env, &db, 100, 200).await;
    let ids = ids_in_kafka(&env, &topic, 200).await;
    assert_eq!(
        ids.len(),
        200,
        "every row after the restart\n{}",
        rt.log_text()
    );
    let log = rt.log_text();
    assert!(
        log.matches("Connected to the binlog stream").count() >= 2,
        "it reconnected:\n{log}"
    );
    assert!(rt.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purged_binlog_is_a_clear_error_with_the_choices() {
    let _serial = SERIAL.lock().await;
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "purged").await;
    create(&env, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(&db, dir.path());
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;
    insert(&env, &db, 0, 10).await;
    ids_in_kafka(&env, &setup.topic("t"), 10).await;
    assert!(rt.stop().success());

    // While rowtide is stopped the server moves on and purges the checkpoint's binlog.
    let mut c = common::admin(&env).await;
    c.query_drop("FLUSH BINARY LOGS").await.unwrap();
    insert(&env, &db, 10, 20).await;
    c.query_drop("FLUSH BINARY LOGS").await.unwrap();
    let current: (String, u64) = c
        .query_first("SHOW MASTER STATUS")
        .await
        .unwrap()
        .map(|r: mysql_async::Row| (r.get::<String, _>(0).unwrap(), r.get::<u64, _>(1).unwrap()))
        .unwrap();
    c.query_drop(format!("PURGE BINARY LOGS TO '{}'", current.0))
        .await
        .unwrap();
    c.disconnect().await.ok();

    // `check` names the problem and the fix.
    let out = rt.command(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "check fails:\n{text}");
    assert!(text.contains("[FAIL] checkpoint retained"), "{text}");

    // `run` stops with a definite error naming the position and the choices.
    rt.spawn();
    let status = rt.wait_exit(Duration::from_secs(60));
    assert_eq!(status.code(), Some(1));
    let log = rt.log_text();
    assert!(log.contains("is not available on the source"), "{log}");
    assert!(
        log.contains(&current.0),
        "names the retained binlogs: {log}"
    );
    assert!(
        log.contains("offsets reset") && log.contains("offsets set"),
        "offers the choices: {log}"
    );

    // Choosing a new position (losing what is in between, knowingly) makes it run again.
    let out = rt.command(&["offsets", "set", "--position", &format!("{}:4", current.0)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    rt.spawn();
    rt.wait_streaming(2).await;
    insert(&env, &db, 20, 25).await;
    wait_for_async(
        &env.kafka_brokers,
        &[setup.topic("t")],
        Duration::from_secs(60),
        "id 24, written after the new position",
        |r| r.iter().any(|r| r.key_json()["id"] == 24),
    )
    .await;
    assert!(rt.stop().success());
}
