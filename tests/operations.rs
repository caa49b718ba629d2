//! Operating rowtide: `check` (passing, and failing with the exact fix for a server with
//! `binlog_format=STATEMENT` and for a user without REPLICATION SLAVE), `offsets set` then
//! `run` resuming exactly there, `offsets show --json` / `reset`, the metrics endpoint
//! counting a known number of events, `/healthz` turning 503 when the source goes away,
//! `schema`, `replay`, JSON logs, and configuration errors with exit code 2.
//!
//! The failing-server cases run against a private MariaDB this test starts itself (a
//! throwaway datadir on a free port), so the shared test server keeps its settings.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::free_port;
use common::mariadb::PrivateMariadb;
use common::poll::poll_until;
use common::proc::{binary, rowtide_command, Rowtide, Setup};
use mysql_async::prelude::Queryable;

fn write_config(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("rowtide.toml");
    std::fs::write(&p, body).unwrap();
    p
}

fn run(args: &[&str], config: &Path) -> (i32, String, String) {
    let out = rowtide_command(args, config);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn private_config(dir: &Path, port: u16, user: &str, env: &common::TestEnv) -> PathBuf {
    write_config(
        dir,
        &format!(
            "[source]\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"{user}\"\npassword = \"pw\"\nserver_id = {server_id}\n\
             heartbeat_interval_ms = 500\nread_timeout_ms = 2000\nreconnect_backoff_ms = 200\n\
             [sink]\nbrokers = \"{}\"\ntopic_prefix = \"ops\"\n[checkpoint]\npath = \"{}\"\n[metrics]\nlisten = \"\"\n",
            env.kafka_brokers,
            dir.join("state").display(),
            server_id = common::server_id(),
        ),
    )
}

#[test]
fn check_fails_on_statement_binlog_and_missing_grant_with_the_fix() {
    let Some(env) = common::servers() else { return };
    let m = PrivateMariadb::start(&["--binlog-format=STATEMENT"]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = private_config(dir.path(), m.port, "cdc", &env);
    let (code, out, _) = run(&["check"], &cfg);
    assert_eq!(code, 1, "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("binlog_format"))
        .expect("a binlog_format line");
    assert!(line.starts_with("[FAIL]"), "{line}");
    assert!(
        line.contains("SET GLOBAL binlog_format = 'ROW'"),
        "the fix is given: {line}"
    );
    assert!(out.contains("[ OK ] source reachable"), "{out}");
    // `run` refuses to start on such a server, with the same fix.
    let (code, _, err) = run(&["run"], &cfg);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("binlog_format is STATEMENT")
            && err.contains("SET GLOBAL binlog_format = 'ROW'"),
        "{err}"
    );

    let cfg = private_config(dir.path(), m.port, "noslave", &env);
    let (code, out, _) = run(&["check"], &cfg);
    assert_eq!(code, 1);
    let line = out
        .lines()
        .find(|l| l.contains("grant REPLICATION SLAVE"))
        .expect("grant line");
    assert!(
        line.starts_with("[FAIL]") && line.contains("GRANT REPLICATION SLAVE ON *.* TO 'noslave'"),
        "{line}"
    );
}

#[test]
fn check_passes_on_a_good_setup() {
    let Some(env) = common::servers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new("opscheck", dir.path());
    setup.format = "avro";
    let cfg = write_config(dir.path(), &setup.toml(&env));
    let (code, out, err) = run(&["check"], &cfg);
    assert_eq!(code, 0, "check on the test servers passes:\n{out}\n{err}");
    for name in [
        "source reachable",
        "binlog_format",
        "binlog_row_image",
        "binlog_row_metadata",
        "grant REPLICATION SLAVE",
        "kafka reachable",
        "topics creatable",
        "schema registry",
    ] {
        assert!(
            out.contains(&format!("] {name}")),
            "check reports {name}:\n{out}"
        );
    }
    assert!(!out.contains("[FAIL]"), "{out}");
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    let code = buf
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = buf.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (code, body)
}

/// Polls `path` until it answers `want`; returns the body.
fn wait_http(addr: &str, path: &str, want: u16, what: &str) -> String {
    poll_until(
        what,
        Duration::from_secs(30),
        Duration::from_millis(200),
        || match std::panic::catch_unwind(|| http_get(addr, path)) {
            Ok((code, body)) if code == want => Ok(body),
            Ok((code, body)) => Err(format!("{path} answered {code}: {body}")),
            Err(_) => Err(format!("{path} did not answer")),
        },
    )
}

#[test]
fn healthz_turns_503_when_the_source_goes_away() {
    let Some(env) = common::servers() else { return };
    let mut m = PrivateMariadb::start(&[
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        "--binlog-row-metadata=FULL",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = private_config(dir.path(), m.port, "cdc", &env);
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("listen = \"\"", &format!("listen = \"127.0.0.1:{port}\""));
    std::fs::write(&cfg, text).unwrap();
    let mut rt = Rowtide::with_config(&cfg, dir.path());
    let addr = format!("127.0.0.1:{port}");
    wait_http(&addr, "/healthz", 200, "/healthz 200 while streaming");
    m.kill();
    let body = wait_http(
        &addr,
        "/healthz",
        503,
        "/healthz 503 once the source is gone",
    );
    assert!(body.starts_with("not ready: reconnecting"), "{body}");
    let (_, metrics) = http_get(&addr, "/metrics");
    assert!(
        metrics.contains("rowtide_source_reconnects_total"),
        "{metrics}"
    );
    rt.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_set_then_run_resumes_exactly_there_and_metrics_count_events() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "offs").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO t VALUES (1, 1), (2, 1)")
        .await
        .unwrap(); // before the position
    let (file, pos): (String, u64) = c
        .query_first("SHOW MASTER STATUS")
        .await
        .unwrap()
        .map(|r: mysql_async::Row| (r.get(0).unwrap(), r.get(1).unwrap()))
        .unwrap();
    for i in 3..10 {
        c.query_drop(format!("INSERT INTO t VALUES ({i}, 1)"))
            .await
            .unwrap();
    }
    c.query_drop("UPDATE t SET v = 2 WHERE id IN (1, 3, 5)")
        .await
        .unwrap();
    c.disconnect().await.ok();

    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    let port = free_port();
    setup.metrics_listen = format!("127.0.0.1:{port}");
    let cfg = write_config(dir.path(), &setup.toml(&env));
    let (code, out, err) = run(
        &["offsets", "set", "--position", &format!("{file}:{pos}")],
        &cfg,
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = run(&["offsets", "show", "--json"], &cfg);
    assert_eq!(code, 0);
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["offset"]["binlog"], format!("{file}:{pos}"));

    let mut rt = Rowtide::start(&env, &setup, dir.path());
    let topic = setup.topic("t");
    let recs = common::kafka::wait_for_async(
        &env.kafka_brokers,
        &[topic],
        Duration::from_secs(60),
        "the 10 changes after the position",
        |r| r.len() >= 10,
    )
    .await;
    let addr = format!("127.0.0.1:{port}");
    let metrics = tokio::task::spawn_blocking(move || http_get(&addr, "/metrics").1)
        .await
        .unwrap();
    assert!(rt.stop().success());
    let seen: Vec<(i64, String)> = recs
        .iter()
        .map(|r| {
            (
                r.key_json()["id"].as_i64().unwrap(),
                r.value_json()["op"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let creates: Vec<i64> = seen
        .iter()
        .filter(|(_, op)| op == "c")
        .map(|(id, _)| *id)
        .collect();
    let mut sorted = creates.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        (3..10).collect::<Vec<_>>(),
        "exactly the inserts after the position: {seen:?}"
    );
    assert_eq!(seen.iter().filter(|(_, op)| op == "u").count(), 3);
    assert!(
        !seen.iter().any(|(_, op)| op == "r"),
        "no snapshot when an offset was set"
    );
    let count = |op: &str| -> f64 {
        metrics
            .lines()
            .find(|l| {
                l.starts_with("rowtide_source_events_total")
                    && l.contains(&format!("{db}.t"))
                    && l.contains(&format!("op=\"{op}\""))
            })
            .and_then(|l| l.split_whitespace().last()?.parse().ok())
            .unwrap_or(-1.0)
    };
    assert_eq!(count("c"), 7.0, "{metrics}");
    assert_eq!(count("u"), 3.0, "{metrics}");
    for name in [
        "rowtide_source_lag_seconds",
        "rowtide_source_binlog_position_bytes",
        "rowtide_sink_delivery_latency_seconds",
        "rowtide_checkpoint_writes_total",
        "rowtide_source_gtid_sequence{domain=\"0\"}",
    ] {
        assert!(
            metrics.contains(name),
            "metric {name} is exported:\n{metrics}"
        );
    }

    let (code, out, _) = run(&["offsets", "reset"], &cfg);
    assert_eq!(code, 0, "{out}");
    let (_, out, _) = run(&["offsets", "show", "--json"], &cfg);
    assert_eq!(out.trim(), "null");

    // `schema` shows the key and value schemas of the table.
    let (code, out, err) = run(&["schema", "--table", &format!("{db}.t")], &cfg);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("{}.{db}.t.Key", setup.topic_prefix)) || out.contains("Key"),
        "{out}"
    );
}

#[test]
fn configuration_errors_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "[source]\nhots = \"db\"\n");
    let (code, _, err) = run(&["offsets", "show"], &cfg);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("source.hots") && err.contains("did you mean `host`"),
        "{err}"
    );
    let cfg = write_config(dir.path(), "[sink]\ntopic_partitions = \"three\"\n");
    let (code, _, err) = run(&["offsets", "show"], &cfg);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("topic_partitions"), "{err}");
    let cfg = write_config(dir.path(), "[format]\nkind = \"avro\"\n");
    let (code, _, err) = run(&["offsets", "show"], &cfg);
    assert_eq!(code, 2);
    assert!(err.contains("format.registry_url"), "{err}");
    // Shaping sections: their keys and their transforms' options are checked at load too.
    let cfg = write_config(dir.path(), "[events]\nskipped_operations = [\"x\"]\n");
    let (code, _, err) = run(&["offsets", "show"], &cfg);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("events.skipped_operations"), "{err}");
    let cfg = write_config(
        dir.path(),
        "[[transforms]]\nname = \"route\"\ntype = \"com.example.Custom\"\n",
    );
    let (code, _, err) = run(&["offsets", "show"], &cfg);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("transforms[0] (route)") && err.contains("com.example.Custom"),
        "{err}"
    );
    let cfg = write_config(dir.path(), "[heartbeat]\ninterval = 5\n");
    let (code, _, err) = run(&["offsets", "show"], &cfg);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("heartbeat.interval") && err.contains("interval_ms"),
        "{err}"
    );
    let out = Command::new(binary())
        .args(["run", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn replay_prints_change_events_and_logs_can_be_json() {
    let Some(fixtures) = common::fixtures_dir() else {
        return;
    };
    let file = fixtures.join("mysql_common--mariadb-bin.000001");
    let out = Command::new(binary())
        .args(["--log-format", "json", "replay"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert!(!lines.is_empty());
    let change = lines
        .iter()
        .find(|l| l["value"]["op"].is_string())
        .expect("a change event");
    assert_eq!(change["value"]["source"]["connector"], "mariadb");
    assert!(change["value"]["source"]["gtid"]
        .as_str()
        .unwrap()
        .starts_with("0-1-"));
    for l in String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        serde_json::from_str::<serde_json::Value>(l)
            .unwrap_or_else(|_| panic!("log line is JSON: {l}"));
    }
}

#[test]
fn minimal_metadata_restart_decodes_old_events_with_their_old_schema() {
    let Some(env) = common::servers() else { return };
    let m = PrivateMariadb::start(&[
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        "--binlog-row-metadata=MINIMAL",
    ]);
    m.sql("CREATE DATABASE hist; CREATE TABLE hist.t (id INT PRIMARY KEY, a INT)")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let prefix = common::unique("hist").replace('_', "");
    let cfg = write_config(
        dir.path(),
        &format!(
            "[source]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"cdc\"\npassword = \"pw\"\nserver_id = {}\n\
             include = [\"hist\\\\..*\"]\nheartbeat_interval_ms = 500\nread_timeout_ms = 2000\n\
             [sink]\nbrokers = \"{}\"\ntopic_prefix = \"{prefix}\"\n[checkpoint]\npath = \"{}\"\nflush_interval_ms = 100\n\
             [metrics]\nlisten = \"\"\n",
            m.port,
            common::server_id(),
            env.kafka_brokers,
            dir.path().join("state").display()
        ),
    );
    let topic = format!("{prefix}.hist.t");
    let stop = |rt: &mut Rowtide| {
        let st = rt.stop();
        assert!(st.success(), "graceful stop: {st:?}\n{}", rt.log_text());
    };
    let wait_id = |id: i64| {
        let b = env.kafka_brokers.clone();
        let t = vec![topic.clone()];
        common::kafka::wait_for(
            &b,
            &t,
            Duration::from_secs(60),
            &format!("id {id} in Kafka"),
            move |r| r.iter().any(|r| r.key_json()["id"] == id),
        )
    };

    let mut rt = Rowtide::with_config(&cfg, dir.path());
    std::thread::sleep(Duration::from_secs(2));
    m.sql("INSERT INTO hist.t VALUES (1, 1)").unwrap();
    wait_id(1);
    stop(&mut rt);

    // While rowtide is stopped: a row under the old structure, then a column inserted in
    // the middle, then a row under the new structure.
    m.sql(
        "INSERT INTO hist.t VALUES (2, 2); ALTER TABLE hist.t ADD COLUMN b VARCHAR(5) AFTER id; \
           INSERT INTO hist.t VALUES (3, 'x', 3)",
    )
    .unwrap();
    rt.spawn();
    let recs = wait_id(3);
    stop(&mut rt);
    // Each start kept its own log: the second did not overwrite the first's.
    let first = std::fs::read_to_string(rt.log_path(1)).unwrap();
    let second = std::fs::read_to_string(rt.log_path(2)).unwrap();
    assert!(
        first.contains("Snapshot finished") && !first.contains("Resuming from the checkpoint"),
        "the first start's log is its own:\n{first}"
    );
    assert!(
        second.contains("Resuming from the checkpoint"),
        "the second start's log:\n{second}"
    );
    let after = |id: i64| {
        recs.iter()
            .find(|r| r.key_json()["id"] == id && r.value.is_some())
            .map(|r| r.value_json()["after"].clone())
            .unwrap_or_else(|| panic!("no event for id {id}"))
    };
    assert_eq!(
        after(2),
        serde_json::json!({"id": 2, "a": 2}),
        "decoded with the structure it was written under"
    );
    assert_eq!(after(3), serde_json::json!({"id": 3, "b": "x", "a": 3}));
}
