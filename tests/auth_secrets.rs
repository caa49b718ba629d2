//! Secrets and refused credentials, against real servers: the SASL_SSL (SCRAM-SHA-512)
//! listener of the test Kafka (with an authorizer: `rowtide` may do everything, `outsider`
//! authenticates but may do nothing) and the registry behind nginx basic auth (`rowtide`
//! may do everything, `outsider` gets 403), both started by `scripts/env`.
//!
//! - Kafka: the right credentials produce through SASL_SSL and pass `check`; a wrong
//!   password stops `run` (exit 1) with one line naming the mechanism and the user, and
//!   `check` says "authentication failed"; an untrusted broker certificate is "TLS
//!   handshake failed" in both; `outsider` is "not authorized" in both; a closed
//!   port is "not reachable".
//! - Registry: "authentication failed" (401), "not authorized" (403), "not reachable" in
//!   `check`; `run` stops on a 401 with one line; credentials in the URL work.
//! - Redaction: marker secrets in every place a secret can be configured (TOML, password
//!   files, environment, URL userinfo, `[sink.kafka]` keys, a file that does not even
//!   parse) never appear in the stdout or stderr of `check`, `run` (to its failure, with
//!   trace logging and librdkafka's debug output) and `offsets show`, nor in `/metrics` and
//!   `/healthz` of a running instance.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::free_port;
use common::poll::poll_until;
use common::proc::{binary, Process};
use common::TestEnv;
use mysql_async::prelude::Queryable;

/// The secured servers (`scripts/env print` exports them).
struct Secured {
    sasl_brokers: String,
    kafka_ca: String,
    kafka_user: String,
    kafka_password: String,
    outsider_user: String,
    outsider_password: String,
    registry_url: String,
    registry_user: String,
    registry_password: String,
    registry_outsider: String,
    registry_outsider_password: String,
}

fn secured() -> Option<(TestEnv, Secured)> {
    let env = common::servers()?;
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let Some(sasl_brokers) = var("ROWTIDE_TEST_KAFKA_SASL_BROKERS") else {
        let msg = "ROWTIDE_TEST_KAFKA_SASL_BROKERS is not set: run `scripts/env up` and \
                   `eval \"$(scripts/env print)\"` (scripts/test does both)";
        assert!(!common::in_ci(), "{msg}");
        eprintln!("SKIPPED: {msg}");
        return None;
    };
    let need = |n: &str| var(n).unwrap_or_else(|| panic!("{n} is not set (scripts/env print)"));
    let s = Secured {
        sasl_brokers,
        kafka_ca: need("ROWTIDE_TEST_KAFKA_CA"),
        kafka_user: need("ROWTIDE_TEST_KAFKA_SASL_USER"),
        kafka_password: need("ROWTIDE_TEST_KAFKA_SASL_PASSWORD"),
        outsider_user: need("ROWTIDE_TEST_KAFKA_OUTSIDER_USER"),
        outsider_password: need("ROWTIDE_TEST_KAFKA_OUTSIDER_PASSWORD"),
        registry_url: need("ROWTIDE_TEST_REGISTRY_AUTH_URL"),
        registry_user: need("ROWTIDE_TEST_REGISTRY_AUTH_USER"),
        registry_password: need("ROWTIDE_TEST_REGISTRY_AUTH_PASSWORD"),
        registry_outsider: need("ROWTIDE_TEST_REGISTRY_OUTSIDER_USER"),
        registry_outsider_password: need("ROWTIDE_TEST_REGISTRY_OUTSIDER_PASSWORD"),
    };
    Some((env, s))
}

/// A database with one table and one row, and a MySQL user `user` with `password` who may
/// capture it (so that a marker can be the real source password).
async fn source_with_user(env: &TestEnv, user: &str, password: &str) -> String {
    let db = common::fresh_db(env, "auth").await;
    let mut c = common::admin(env).await;
    c.query_drop(format!(
        "CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v VARCHAR(20)); \
         INSERT INTO `{db}`.t VALUES (1, 'one');"
    ))
    .await
    .unwrap();
    for host in ["127.0.0.1", "localhost"] {
        c.query_drop(format!(
            "CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY '{password}'; \
             GRANT SELECT, RELOAD, SHOW DATABASES, LOCK TABLES, REPLICATION SLAVE, \
             BINLOG MONITOR, SLAVE MONITOR ON *.* TO '{user}'@'{host}';"
        ))
        .await
        .unwrap();
    }
    c.disconnect().await.ok();
    db
}

/// The TOML of a configuration; `sections` are the bodies (lines) of `[source]`,
/// `[sink.kafka]` and `[format]` and the metrics address; `dir` holds the state.
fn config(env: &TestEnv, dir: &Path, db: &str, brokers: &str, sections: [&str; 4]) -> String {
    let [source, sink_kafka, format, metrics] = sections;
    let prefix = format!("a{}", db.replace('_', ""));
    format!(
        r#"[source]
host = "{host}"
port = {port}
server_id = {server_id}
include = ["{db}\\..*"]
read_timeout_ms = 5000
heartbeat_interval_ms = 1000
{source}

[sink]
brokers = "{brokers}"
topic_prefix = "{prefix}"

[sink.kafka]
{sink_kafka}

[format]
{format}

[checkpoint]
path = "{state}"
flush_interval_ms = 100

[metrics]
listen = "{metrics}"
"#,
        host = env.mysql_host,
        port = env.mysql_port,
        server_id = common::server_id(),
        state = dir.join("state").display(),
    )
}

fn sasl_keys(s: &Secured, user: &str, password: &str) -> String {
    format!(
        "\"security.protocol\" = \"SASL_SSL\"\n\"sasl.mechanism\" = \"SCRAM-SHA-512\"\n\
         \"sasl.username\" = \"{user}\"\n\"sasl.password\" = \"{password}\"\n\
         \"ssl.ca.location\" = \"{}\"\n",
        s.kafka_ca
    )
}

fn write_config(dir: &Path, name: &str, toml: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, toml).unwrap();
    p
}

/// Runs `rowtide ARGS -c CONFIG` to its end with extra environment variables.
fn rowtide(args: &[&str], config: &Path, envs: &[(&str, &str)]) -> Output {
    Command::new(binary())
        .args(args)
        .arg("-c")
        .arg(config)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run rowtide")
}

/// `rowtide run` to its end (bounded: it must stop by itself within `limit`); the output,
/// and how long it took. Its output goes to files (a pipe nobody reads while it runs would
/// fill up and block its logging).
fn run_until_exit(config: &Path, envs: &[(&str, &str)], limit: Duration) -> (Output, Duration) {
    run_until_exit_with(&["run"], config, envs, limit)
}

/// [`run_until_exit`] with `args` (ending in `run`) before `-c CONFIG`.
fn run_until_exit_with(
    args: &[&str],
    config: &Path,
    envs: &[(&str, &str)],
    limit: Duration,
) -> (Output, Duration) {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = Command::new(binary())
        .args(args)
        .arg("-c")
        .arg(config)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("start rowtide run");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
            let own: String = stderr
                .lines()
                .filter(|l| !l.contains("librdkafka") && !l.contains("TRACE"))
                .collect::<Vec<_>>()
                .join("\n");
            panic!(
                "rowtide run ({}) did not stop by itself within {limit:?}; its own log lines:\n{}",
                config.display(),
                common::proc::last_lines(&own, 40)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let took = started.elapsed();
    let out = Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    };
    (out, took)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The last non-empty line of stderr (the one-line reason `run` stops with).
fn last_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .to_string()
}

fn check_line<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(&format!("] {name}: ")))
        .unwrap_or_else(|| panic!("no `{name}` line in check output:\n{out}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_sasl_scram_over_tls_produces_and_passes_check() {
    let Some((env, s)) = secured() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = source_with_user(&env, &common::unique("u"), "src-pass-1").await;
    let toml = config(
        &env,
        dir.path(),
        &db,
        &s.sasl_brokers,
        [
            &format!(
                "user = \"{}\"\npassword = \"{}\"",
                env.mysql_user, env.mysql_password
            ),
            &sasl_keys(&s, &s.kafka_user, &s.kafka_password),
            "kind = \"json\"",
            "",
        ],
    );
    let cfg = write_config(dir.path(), "ok.toml", &toml);
    let out = rowtide(&["check"], &cfg, &[]);
    let all = text(&out);
    assert!(out.status.success(), "check failed:\n{all}");
    assert!(
        check_line(&all, "kafka reachable").contains("SCRAM-SHA-512 as user 'rowtide'"),
        "{all}"
    );
    assert!(
        check_line(&all, "kafka authorized").starts_with("[ OK ]"),
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
    let topic = format!("a{}.{db}.t", db.replace('_', ""));
    let records = common::kafka::wait_for_async(
        &env.kafka_brokers,
        std::slice::from_ref(&topic),
        Duration::from_secs(60),
        "the snapshot row, produced through SASL_SSL",
        |r| !r.is_empty(),
    )
    .await;
    assert_eq!(records[0].value_json()["after"]["v"], "one", "{topic}");
    run.assert_alive("after producing through SASL_SSL");
    assert!(run.stop().success(), "{}", run.log_tail(30));
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_wrong_password_stops_run_and_check_says_authentication_failed() {
    let Some((env, s)) = secured() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = common::fresh_db(&env, "authk").await;
    let toml = config(
        &env,
        dir.path(),
        &db,
        &s.sasl_brokers,
        [
            &format!(
                "user = \"{}\"\npassword = \"{}\"",
                env.mysql_user, env.mysql_password
            ),
            &sasl_keys(&s, &s.kafka_user, "not-the-password-4711"),
            "kind = \"json\"",
            "",
        ],
    );
    let cfg = write_config(dir.path(), "wrong.toml", &toml);
    let out = rowtide(&["check"], &cfg, &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let line = check_line(&all, "kafka authentication");
    assert!(
        line.starts_with("[FAIL] kafka authentication: authentication failed"),
        "{all}"
    );
    assert!(line.contains("SCRAM-SHA-512 as user 'rowtide'"), "{line}");

    // Documented: `run` stops within 30 s of its start (librdkafka reports the refusal on
    // its first connection).
    let (out, took) = run_until_exit(&cfg, &[], Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let last = last_line(&out);
    assert!(
        last.starts_with("rowtide: kafka: authentication failed at ")
            && last.contains("SCRAM-SHA-512 as user 'rowtide'")
            && last.contains("sasl.password"),
        "last line: {last}"
    );
    assert!(!text(&out).contains("not-the-password-4711"));
    eprintln!("run stopped on wrong Kafka credentials after {took:?}");

    // The right password, but a CA that did not sign the broker's certificate.
    let other_ca = std::env::var("ROWTIDE_TEST_MYSQL_CA").expect("ROWTIDE_TEST_MYSQL_CA");
    let toml = config(
        &env,
        dir.path(),
        &db,
        &s.sasl_brokers,
        [
            &format!(
                "user = \"{}\"\npassword = \"{}\"",
                env.mysql_user, env.mysql_password
            ),
            &sasl_keys(&s, &s.kafka_user, &s.kafka_password).replace(&s.kafka_ca, &other_ca),
            "kind = \"json\"",
            "",
        ],
    );
    let cfg = write_config(dir.path(), "untrusted.toml", &toml);
    let out = rowtide(&["check"], &cfg, &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let line = check_line(&all, "kafka tls");
    assert!(
        line.starts_with("[FAIL] kafka tls: TLS handshake failed")
            && line.contains("ssl.ca.location"),
        "{all}"
    );
    let (out, _) = run_until_exit(&cfg, &[], Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let last = last_line(&out);
    assert!(
        last.starts_with("rowtide: kafka: TLS handshake failed at "),
        "last line: {last}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_outsider_is_not_authorized_and_a_closed_port_is_not_reachable() {
    let Some((env, s)) = secured() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = source_with_user(&env, &common::unique("u"), "src-pass-2").await;
    let source = format!(
        "user = \"{}\"\npassword = \"{}\"",
        env.mysql_user, env.mysql_password
    );
    let toml = config(
        &env,
        dir.path(),
        &db,
        &s.sasl_brokers,
        [
            &source,
            &sasl_keys(&s, &s.outsider_user, &s.outsider_password),
            "kind = \"json\"",
            "",
        ],
    );
    let cfg = write_config(dir.path(), "outsider.toml", &toml);
    let out = rowtide(&["check"], &cfg, &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        check_line(&all, "kafka reachable").starts_with("[ OK ]"),
        "{all}"
    );
    let line = check_line(&all, "kafka authorized");
    assert!(
        line.starts_with("[FAIL] kafka authorized: not authorized"),
        "{all}"
    );
    assert!(line.contains("User:outsider"), "{line}");

    let (out, _) = run_until_exit(&cfg, &[], Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let last = last_line(&out);
    assert!(last.contains("not authorized"), "last line: {last}");

    // Nothing listens on this port: not reachable (and not "authentication failed").
    let closed = format!("127.0.0.1:{}", free_port());
    let toml = config(
        &env,
        dir.path(),
        &db,
        &closed,
        [&source, "", "kind = \"json\"", ""],
    );
    let cfg = write_config(dir.path(), "closed.toml", &toml);
    let out = rowtide(&["check"], &cfg, &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        check_line(&all, "kafka reachable").starts_with("[FAIL] kafka reachable: not reachable"),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_check_distinguishes_refusals_and_run_stops_on_401() {
    let Some((env, s)) = secured() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = source_with_user(&env, &common::unique("u"), "src-pass-3").await;
    let source = format!(
        "user = \"{}\"\npassword = \"{}\"",
        env.mysql_user, env.mysql_password
    );
    let with_userinfo = |user: &str, pass: &str| {
        s.registry_url
            .replacen("://", &format!("://{user}:{pass}@"), 1)
    };
    let check = |name: &str, format: String| {
        let toml = config(
            &env,
            dir.path(),
            &db,
            &env.kafka_brokers,
            [&source, "", &format, ""],
        );
        let cfg = write_config(dir.path(), name, &toml);
        let out = rowtide(&["check"], &cfg, &[]);
        (out.status.code(), text(&out))
    };
    // Right credentials, in the URL's userinfo (as many teams configure them).
    let (code, all) = check(
        "ok.toml",
        format!(
            "kind = \"avro\"\nregistry_url = \"{}\"",
            with_userinfo(&s.registry_user, &s.registry_password)
        ),
    );
    assert_eq!(code, Some(0), "{all}");
    assert!(
        check_line(&all, "schema registry").starts_with("[ OK ]"),
        "{all}"
    );
    assert!(!all.contains(&s.registry_password), "{all}");

    // Refusals, each told apart: (file, [format] body, expected line start, also in it).
    let cases = [
        (
            "wrong.toml",
            format!(
                "kind = \"avro\"\nregistry_url = \"{}\"\nregistry_username = \"{}\"\nregistry_password = \"wrong-reg-pass-9\"",
                s.registry_url, s.registry_user
            ),
            "[FAIL] schema registry: authentication failed",
            vec!["user 'rowtide'", "401"],
        ),
        (
            "outsider.toml",
            format!(
                "kind = \"avro\"\nregistry_url = \"{}\"",
                with_userinfo(&s.registry_outsider, &s.registry_outsider_password)
            ),
            "[FAIL] schema registry: not authorized",
            vec!["user 'outsider'", "403"],
        ),
        (
            "closed.toml",
            format!(
                "kind = \"avro\"\nregistry_url = \"http://127.0.0.1:{}/apis/ccompat/v7\"",
                free_port()
            ),
            "[FAIL] schema registry: not reachable",
            vec![],
        ),
    ];
    for (name, format, start, parts) in cases {
        let (code, all) = check(name, format);
        assert_eq!(code, Some(1), "{name}: {all}");
        let line = check_line(&all, "schema registry");
        assert!(line.starts_with(start), "{name}: {all}");
        for part in parts {
            assert!(line.contains(part), "{name}: no {part} in {line}");
        }
        assert!(!all.contains("wrong-reg-pass-9"), "{all}");
    }

    // `run` with a wrong registry password: the first registration is refused, and the run
    // stops with one line instead of restarting forever.
    let toml = config(
        &env,
        dir.path(),
        &db,
        &env.kafka_brokers,
        [
            &source,
            "",
            &format!(
                "kind = \"avro\"\nregistry_url = \"{}\"",
                with_userinfo(&s.registry_user, "wrong-reg-pass-9")
            ),
            "",
        ],
    );
    let cfg = write_config(dir.path(), "run.toml", &toml);
    let (out, _) = run_until_exit(&cfg, &[], Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let last = last_line(&out);
    assert!(
        last.starts_with("rowtide: schema registry: authentication failed at ")
            && last.contains("user 'rowtide'"),
        "last line: {last}"
    );
    assert!(!text(&out).contains("wrong-reg-pass-9"), "{}", text(&out));
}

/// Fails naming the marker and where it appeared.
fn assert_no_marker(what: &str, output: &str, markers: &[&str]) {
    for m in markers {
        // As written, and as JSON logs and `{:?}` fields escape it.
        let json = serde_json::to_string(m).unwrap();
        let debug = format!("{m:?}");
        let forms = [
            m.to_string(),
            json[1..json.len() - 1].to_string(),
            debug[1..debug.len() - 1].to_string(),
        ];
        if let Some(at) = forms.iter().find_map(|f| output.find(f.as_str())) {
            let from = output[..at].rfind('\n').map_or(0, |i| i + 1);
            let to = output[at..].find('\n').map_or(output.len(), |i| at + i);
            panic!("secret marker {m} appears in {what}: {}", &output[from..to]);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_is_shown_anywhere() {
    let Some((env, s)) = secured() else { return };
    let dir = tempfile::tempdir().unwrap();
    // The source password is a marker too, and a real one: a user created with it.
    let src_marker = "MARKER-src-Qx81";
    let user = common::unique("u").chars().take(30).collect::<String>();
    let db = source_with_user(&env, &user, src_marker).await;
    let pw_file = dir.path().join("source.password");
    std::fs::write(&pw_file, format!("{src_marker}\n")).unwrap();
    let reg_file = dir.path().join("registry.password");
    std::fs::write(&reg_file, "MARKER-regfile-Lw3\n").unwrap();
    let markers = [
        src_marker,
        "MARKER-kafka-Zt5",
        "MARKER-ssl\"key\\Hb2",
        "MARKER-url-Pp7",
        "MARKER-regfile-Lw3",
        "MARKER-regenv-Ue4",
        "MARKER-srcenv-Kk9",
        "MARKER-broken-Jj6",
    ];
    // librdkafka's own debug output (connection, SASL, TLS, configuration) on top of
    // rowtide's trace logging: the most a misconfigured run could print.
    let loud = [("RUST_LOG", "trace")];
    let kafka_loud = "\"debug\" = \"security,broker,conf\"\n";

    // 1. Everything in the TOML: the source password, the Kafka SASL password and TLS key
    //    password, credentials in the registry URL.
    let toml1 = config(
        &env,
        dir.path(),
        &db,
        &s.sasl_brokers,
        [
            &format!("user = \"{user}\"\npassword = \"{src_marker}\""),
            &format!(
                "{}\"ssl.key.password\" = 'MARKER-ssl\"key\\Hb2'\n{kafka_loud}",
                sasl_keys(&s, &s.kafka_user, "MARKER-kafka-Zt5")
            ),
            &format!(
                "kind = \"avro\"\nregistry_url = \"{}\"",
                s.registry_url
                    .replacen("://", "://rowtide:MARKER-url-Pp7@", 1)
            ),
            "",
        ],
    );
    // 2. Files: the source password file, the registry password file.
    let toml2 = config(
        &env,
        dir.path(),
        &db,
        &s.sasl_brokers,
        [&format!("user = \"{user}\"\npassword_file = \"{}\"", pw_file.display()), &format!("{}{kafka_loud}", sasl_keys(&s, &s.kafka_user, "MARKER-kafka-Zt5")), &format!(
            "kind = \"avro\"\nregistry_url = \"{}\"\nregistry_username = \"rowtide\"\nregistry_password_file = \"{}\"",
            s.registry_url,
            reg_file.display()
        ), ""],
    );
    // 3. The environment: the source password and the registry password (a wrong source
    //    password: the run stops at the login).
    let toml3 = config(
        &env,
        dir.path(),
        &db,
        &s.sasl_brokers,
        [
            &format!("user = \"{user}\""),
            &format!(
                "{}{kafka_loud}",
                sasl_keys(&s, &s.kafka_user, "MARKER-kafka-Zt5")
            ),
            &format!(
                "kind = \"avro\"\nregistry_url = \"{}\"\nregistry_username = \"rowtide\"",
                s.registry_url
            ),
            "",
        ],
    );
    let env3 = [
        ("ROWTIDE_SOURCE__PASSWORD", "MARKER-srcenv-Kk9"),
        ("ROWTIDE_FORMAT__REGISTRY_PASSWORD", "MARKER-regenv-Ue4"),
        ("RUST_LOG", "trace"),
    ];
    type Case<'a> = (&'a str, String, &'a [(&'a str, &'a str)]);
    // The first case logs JSON lines (which escape `"` and `\` in values).
    let cases: [Case; 3] = [
        ("toml", toml1, &loud),
        ("files", toml2, &loud),
        ("environment", toml3, &env3),
    ];
    for (name, toml, envs) in cases {
        let cfg = write_config(dir.path(), &format!("{name}.toml"), &toml);
        let logs: &[&str] = if name == "toml" {
            &["--log-format", "json"]
        } else {
            &[]
        };
        let out = rowtide(&[logs, &["check"]].concat(), &cfg, envs);
        assert_eq!(
            out.status.code(),
            Some(1),
            "check ({name}) should fail:\n{}",
            text(&out)
        );
        assert_no_marker(&format!("`check` ({name})"), &text(&out), &markers);
        let (out, _) = run_until_exit_with(
            &[logs, &["run"]].concat(),
            &cfg,
            envs,
            Duration::from_secs(60),
        );
        assert_eq!(out.status.code(), Some(1), "run ({name}):\n{}", text(&out));
        assert_no_marker(&format!("`run` ({name})"), &text(&out), &markers);
        for args in [&["offsets", "show"][..], &["offsets", "show", "--json"]] {
            let out = rowtide(args, &cfg, envs);
            assert!(out.status.success(), "{args:?} ({name}):\n{}", text(&out));
            assert_no_marker(
                &format!("`{}` ({name})", args.join(" ")),
                &text(&out),
                &markers,
            );
        }
    }

    // 4. A file that does not parse: the parser's message quotes the line.
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[source]\npassword = MARKER-broken-Jj6 oops\n").unwrap();
    let out = rowtide(&["check"], &broken, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("password"), "{}", text(&out));
    assert_no_marker("a parse error", &text(&out), &markers);

    // 5. A running instance with real secrets (the source marker user, Kafka's and the
    //    registry's passwords): /metrics and /healthz show none of them.
    let port = free_port();
    let run_dir = dir.path().join("running");
    std::fs::create_dir_all(&run_dir).unwrap();
    let toml = config(
        &env,
        &run_dir,
        &db,
        &s.sasl_brokers,
        [
            &format!("user = \"{user}\"\npassword = \"{src_marker}\""),
            &sasl_keys(&s, &s.kafka_user, &s.kafka_password),
            &format!(
                "kind = \"avro\"\nregistry_url = \"{}\"",
                s.registry_url.replacen(
                    "://",
                    &format!("://{}:{}@", s.registry_user, s.registry_password),
                    1
                )
            ),
            &format!("127.0.0.1:{port}"),
        ],
    );
    let cfg = write_config(dir.path(), "running.toml", &toml);
    let mut run = Process::new(
        "rowtide-ok",
        binary(),
        ["run", "-c", cfg.to_str().unwrap()],
        dir.path(),
    )
    .env("RUST_LOG", "trace");
    run.spawn();
    let topic = format!("a{}.{db}.t", db.replace('_', ""));
    common::kafka::wait_for_async(
        &env.kafka_brokers,
        &[topic],
        Duration::from_secs(60),
        "the snapshot row",
        |r| !r.is_empty(),
    )
    .await;
    let real = [
        src_marker,
        s.kafka_password.as_str(),
        s.registry_password.as_str(),
    ];
    for path in ["/metrics", "/healthz"] {
        let body = poll_until(
            path,
            Duration::from_secs(20),
            Duration::from_millis(200),
            || http_get(port, path).ok_or_else(|| "no answer".to_string()),
        );
        assert!(path != "/metrics" || body.contains("rowtide_"), "{body}");
        assert_no_marker(path, &body, &real);
    }
    run.assert_alive("while serving /metrics");
    assert!(run.stop().success());
    assert_no_marker("the log of a running instance", &run.log_text(), &real);
}

fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(body)
}
