//! SASL/OAUTHBEARER with OIDC against real servers: the test Kafka's OAUTHBEARER listener
//! (TLS) verifies RS256 tokens against the key set of the `oidc` issuer that `scripts/env`
//! starts (scripts/oidc-issuer.py); rowtide gets its tokens from that issuer with the
//! client-credentials grant (librdkafka's `sasl.oauthbearer.method = "oidc"`, built in with
//! the `curl-static` feature).
//!
//! - `rowtide check` passes through the listener and `run` creates its topic and produces
//!   through it, with tokens the issuer counts as issued;
//! - a wrong client secret: the issuer refuses the client, `check` fails on Kafka and `run`
//!   stops with one line naming the token endpoint's refusal instead of retrying forever;
//! - a client with a valid token but no ACL is "not authorized" in both.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::proc::{binary, Process};
use common::TestEnv;

struct Oidc {
    brokers: String,
    ca: String,
    token_url: String,
    stats_url: String,
    client_id: String,
    client_secret: String,
    outsider_id: String,
    outsider_secret: String,
}

fn oidc() -> Option<(TestEnv, Oidc)> {
    let env = common::servers()?;
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let Some(brokers) = var("ROWTIDE_TEST_KAFKA_OAUTH_BROKERS") else {
        let msg = "ROWTIDE_TEST_KAFKA_OAUTH_BROKERS is not set: run `scripts/env up` and \
                   `eval \"$(scripts/env print)\"` (scripts/test does both)";
        assert!(!common::in_ci(), "{msg}");
        eprintln!("SKIPPED: {msg}");
        return None;
    };
    let need = |n: &str| var(n).unwrap_or_else(|| panic!("{n} is not set (scripts/env print)"));
    Some((
        env,
        Oidc {
            brokers,
            ca: need("ROWTIDE_TEST_KAFKA_CA"),
            token_url: need("ROWTIDE_TEST_OIDC_TOKEN_URL"),
            stats_url: need("ROWTIDE_TEST_OIDC_STATS_URL"),
            client_id: need("ROWTIDE_TEST_OIDC_CLIENT_ID"),
            client_secret: need("ROWTIDE_TEST_OIDC_CLIENT_SECRET"),
            outsider_id: need("ROWTIDE_TEST_OIDC_OUTSIDER_ID"),
            outsider_secret: need("ROWTIDE_TEST_OIDC_OUTSIDER_SECRET"),
        },
    ))
}

/// The issuer's counters: tokens issued and clients refused.
async fn stats(o: &Oidc) -> (u64, u64) {
    let v: serde_json::Value = reqwest::get(&o.stats_url)
        .await
        .expect("oidc issuer /stats")
        .json()
        .await
        .expect("oidc /stats JSON");
    (
        v["issued"].as_u64().unwrap(),
        v["refused"].as_u64().unwrap(),
    )
}

/// A configuration capturing `db` through the OAUTHBEARER listener as client `id`.
fn config(env: &TestEnv, o: &Oidc, dir: &Path, db: &str, id: &str, secret: &str) -> PathBuf {
    let prefix = format!("o{}", db.replace('_', ""));
    let toml = format!(
        r#"[source]
host = "{host}"
port = {port}
user = "{user}"
password = "{password}"
server_id = {server_id}
include = ["{db}\\..*"]
read_timeout_ms = 5000
heartbeat_interval_ms = 1000

[sink]
brokers = "{brokers}"
topic_prefix = "{prefix}"

[sink.kafka]
"security.protocol" = "SASL_SSL"
"sasl.mechanism" = "OAUTHBEARER"
"sasl.oauthbearer.method" = "oidc"
"sasl.oauthbearer.token.endpoint.url" = "{token_url}"
"sasl.oauthbearer.client.id" = "{id}"
"sasl.oauthbearer.client.secret" = "{secret}"
"sasl.oauthbearer.scope" = "kafka"
"ssl.ca.location" = "{ca}"

[format]
kind = "json"

[checkpoint]
path = "{state}"
flush_interval_ms = 100

[metrics]
listen = "127.0.0.1:{metrics}"
"#,
        host = env.mysql_host,
        port = env.mysql_port,
        user = env.mysql_user,
        password = env.mysql_password,
        server_id = common::server_id(),
        brokers = o.brokers,
        token_url = o.token_url,
        ca = o.ca,
        state = dir.join("state").display(),
        metrics = common::free_port(),
    );
    let p = dir.join(format!("{id}.toml"));
    std::fs::write(&p, toml).unwrap();
    p
}

async fn table_with_row(env: &TestEnv) -> String {
    use mysql_async::prelude::Queryable;
    let db = common::fresh_db(env, "oauth").await;
    let mut c = common::admin(env).await;
    c.query_drop(format!(
        "CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v VARCHAR(20)); \
         INSERT INTO `{db}`.t VALUES (1, 'one');"
    ))
    .await
    .unwrap();
    c.disconnect().await.ok();
    db
}

fn rowtide(args: &[&str], config: &Path) -> Output {
    Command::new(binary())
        .args(args)
        .arg("-c")
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .expect("run rowtide")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn check_line<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(&format!("] {name}: ")))
        .unwrap_or_else(|| panic!("no `{name}` line in check output:\n{out}"))
}

/// `rowtide run` until it exits by itself (within `limit`); its status and log.
fn run_to_exit(config: &Path, dir: &Path, limit: Duration) -> (Option<i32>, String) {
    let mut run = Process::new(
        "rowtide",
        binary(),
        ["run", "-c", config.to_str().unwrap()],
        dir,
    );
    run.spawn();
    let started = Instant::now();
    loop {
        if let Some(status) = run.exit_status() {
            return (status.code(), run.log_text());
        }
        assert!(
            started.elapsed() < limit,
            "rowtide run did not stop by itself within {limit:?}:\n{}",
            run.log_tail(40)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn oidc_client_credentials_create_topics_produce_and_pass_check() {
    let Some((env, o)) = oidc() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = table_with_row(&env).await;
    let cfg = config(&env, &o, dir.path(), &db, &o.client_id, &o.client_secret);
    let (issued_before, _) = stats(&o).await;

    let out = rowtide(&["check"], &cfg);
    let all = text(&out);
    assert!(out.status.success(), "check failed:\n{all}");
    assert!(
        check_line(&all, "kafka reachable").contains("sasl.mechanism OAUTHBEARER"),
        "{all}"
    );
    assert!(
        check_line(&all, "topics creatable").starts_with("[ OK ]"),
        "{all}"
    );

    let mut run = Process::new(
        "rowtide",
        binary(),
        ["run", "-c", cfg.to_str().unwrap()],
        dir.path(),
    );
    run.spawn();
    let topic = format!("o{}.{db}.t", db.replace('_', ""));
    let started = Instant::now();
    let records = loop {
        let r = common::kafka::read_all(&env.kafka_brokers, std::slice::from_ref(&topic));
        if !r.is_empty() {
            break r;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no snapshot row in {topic} after 60 s; rowtide's log:\n{}",
            run.log_tail(60)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(records[0].value_json()["after"]["v"], "one", "{topic}");
    run.assert_alive("after producing through OAUTHBEARER");
    assert!(run.stop().success(), "{}", run.log_tail(30));
    let (issued_after, _) = stats(&o).await;
    // check's clients and run's producer and admin client each fetched their own token
    assert!(
        issued_after >= issued_before + 3,
        "tokens issued: {issued_before} before, {issued_after} after"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn oidc_wrong_client_secret_fails_check_and_stops_run() {
    let Some((env, o)) = oidc() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = table_with_row(&env).await;
    let cfg = config(
        &env,
        &o,
        dir.path(),
        &db,
        &o.client_id,
        "not-the-oidc-secret-815",
    );
    let (_, refused_before) = stats(&o).await;

    let out = rowtide(&["check"], &cfg);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let line = check_line(&all, "kafka authentication");
    assert!(line.starts_with("[FAIL]"), "{all}");
    assert!(line.contains("token"), "{all}");
    assert!(
        !all.contains("not-the-oidc-secret-815"),
        "secret printed:\n{all}"
    );

    let (code, log) = run_to_exit(&cfg, dir.path(), Duration::from_secs(90));
    assert_eq!(code, Some(1), "{log}");
    assert!(
        !log.contains("not-the-oidc-secret-815"),
        "secret printed:\n{log}"
    );
    let last = log
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    assert!(
        last.contains("authentication failed") && last.contains("token"),
        "last line: {last}\n{log}"
    );
    let (_, refused_after) = stats(&o).await;
    assert!(refused_after > refused_before, "the issuer refused nobody");
}

#[tokio::test(flavor = "multi_thread")]
async fn oidc_client_without_acl_is_not_authorized() {
    let Some((env, o)) = oidc() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = table_with_row(&env).await;
    let cfg = config(
        &env,
        &o,
        dir.path(),
        &db,
        &o.outsider_id,
        &o.outsider_secret,
    );
    let out = rowtide(&["check"], &cfg);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        check_line(&all, "kafka authorized").starts_with("[FAIL] kafka authorized: not authorized"),
        "{all}"
    );
    let (code, log) = run_to_exit(&cfg, dir.path(), Duration::from_secs(90));
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("not authorized"), "{log}");
}
