//! Signals (`[signals] table`, Debezium's signal table) through the real binary, MariaDB →
//! `rowtide run` → Kafka:
//! - rows inserted into the signal table are read from the binlog and acted on in log
//!   order: a `log` signal is logged; unknown and malformed signals are logged with their
//!   reason and skipped, and the stream goes on;
//! - `rowtide snapshot` inserts Debezium's `execute-snapshot` signal (with
//!   `additional-conditions` for `--filter`), which the running rowtide reads back and
//!   acts on (as do `rowtide snapshot pause|resume|stop`);
//! - a signal table the source does not capture is refused at start (exit 2), and
//!   `rowtide snapshot` without a channel is a configuration error (exit 2).

mod common;

use std::time::Duration;

use common::kafka::wait_for_async;
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;

const SIGNAL_TABLE: &str =
    "(id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_from_the_table_act_in_log_order_and_bad_ones_are_skipped() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "signals_tbl").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v INT)"))
        .await
        .unwrap();
    c.query_drop(format!("CREATE TABLE `{db}`.rt_signals {SIGNAL_TABLE}"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.extra = format!("\n[signals]\ntable = \"{db}.rt_signals\"\n");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;

    let insert = |id: &str, kind: &str, data: &str| {
        format!(
            "INSERT INTO `{db}`.rt_signals VALUES ('{id}', '{kind}', {})",
            if data == "NULL" {
                "NULL".to_string()
            } else {
                format!("'{data}'")
            }
        )
    };
    c.query_drop(insert("s1", "log", r#"{"message": "first signal"}"#))
        .await
        .unwrap();
    c.query_drop(insert("s2", "reboot", "NULL")).await.unwrap();
    c.query_drop(insert("s3", "execute-snapshot", "{not json"))
        .await
        .unwrap();
    c.query_drop(insert("s4", "log", r#"{"message": "after the bad ones"}"#))
        .await
        .unwrap();
    rt.wait_log("after the bad ones", 1, Duration::from_secs(30))
        .await;
    let log = rt.log_text();
    let at = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("\"{needle}\" not in the log:\n{log}"))
    };
    // In log order, each with its reason.
    let first = at("Signal log: first signal");
    let unknown = at("unknown signal type \"reboot\"");
    let bad_json = at("\"data\" is not valid JSON");
    let last = at("Signal log: after the bad ones");
    assert!(
        first < unknown && unknown < bad_json && bad_json < last,
        "{log}"
    );
    assert!(
        log.contains("s2") && log.contains("s3"),
        "ids are logged:\n{log}"
    );
    rt.assert_alive("after malformed signals");

    // `rowtide snapshot` writes with the source user: without the grant it says so.
    let out = rt.command(&["snapshot", &format!("{db}.t")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("may the user INSERT into it"), "{stderr}");
    c.query_drop(format!(
        "GRANT INSERT ON `{db}`.rt_signals TO '{}'@'127.0.0.1'",
        env.mysql_user
    ))
    .await
    .unwrap();
    // `rowtide snapshot` sends Debezium's execute-snapshot through the table.
    let out = rt.command(&["snapshot", &format!("{db}.t"), "--filter", "id > 1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rowtide snapshot: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Sent execute-snapshot signal rowtide-"),
        "{stdout}"
    );
    let rows: Vec<(String, String)> = c
        .query(format!(
            "SELECT type, data FROM `{db}`.rt_signals WHERE id LIKE 'rowtide-%'"
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "execute-snapshot");
    let data: serde_json::Value = serde_json::from_str(&rows[0].1).unwrap();
    assert_eq!(
        data,
        serde_json::json!({"data-collections": [format!("{db}.t")], "type": "incremental",
            "additional-conditions": [{"data-collection": format!("{db}.t"), "filter": "id > 1"}]})
    );
    rt.wait_log(
        "Incremental snapshot requested.",
        1,
        Duration::from_secs(30),
    )
    .await;
    for verb in ["pause", "resume", "stop"] {
        let out = rt.command(&["snapshot", verb]);
        assert!(out.status.success(), "rowtide snapshot {verb}: {out:?}");
    }
    for done in [
        "Incremental snapshot paused.",
        "Incremental snapshot resumed.",
        "Incremental snapshot stopped.",
    ] {
        rt.wait_log(done, 1, Duration::from_secs(30)).await;
    }

    // The stream went on: a change after the signals reaches Kafka, and the signal rows
    // are captured like any other table's (as with Debezium).
    c.query_drop(format!("INSERT INTO `{db}`.t VALUES (1, 10)"))
        .await
        .unwrap();
    wait_for_async(
        &env.kafka_brokers,
        &[setup.topic("t")],
        Duration::from_secs(30),
        "the change after the signals",
        |recs| {
            recs.iter().any(|r| {
                r.value_json()["payload"]["after"]["id"] == 1 || r.value_json()["after"]["id"] == 1
            })
        },
    )
    .await;
    let sig = wait_for_async(
        &env.kafka_brokers,
        &[setup.topic("rt_signals")],
        Duration::from_secs(30),
        "the signal rows",
        |recs| recs.len() >= 8,
    )
    .await;
    assert_eq!(sig.len(), 8);
    rt.assert_alive("at the end");
    assert!(rt.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_table_that_is_not_captured_is_refused() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "signals_unc").await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.extra = "\n[signals]\ntable = \"elsewhere.rt_signals\"\n".into();
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    let status = rt.wait_exit(Duration::from_secs(60));
    assert_eq!(status.code(), Some(2), "{}", rt.log_tail(20));
    let log = rt.log_text();
    assert!(
        log.contains("signals.table = \"elsewhere.rt_signals\" is not captured")
            && log.contains("source.include"),
        "{log}"
    );

    // Without a channel, `rowtide snapshot` is a configuration error.
    let plain = dir.path().join("plain.toml");
    std::fs::write(&plain, Setup::new(&db, dir.path()).toml(&env)).unwrap();
    let out = common::proc::rowtide_command(&["snapshot", &format!("{db}.t")], &plain);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("[signals] table"),
        "{out:?}"
    );
    // A bad argument is a usage error.
    let out = common::proc::rowtide_command(&["snapshot", "nodot"], &plain);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
