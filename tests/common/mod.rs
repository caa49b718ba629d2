//! Shared helpers for integration tests: finding the real servers that `scripts/env` started
//! (through the variables `scripts/env print` exports), unique names and replica server ids
//! per test, and admin connections. When `CI` is set and a server is missing, tests fail
//! instead of skipping. Also: `poll` (bounded waits), `proc` (child processes such as the
//! `rowtide` binary), `kafka` (reading topics back), `mariadb` (a private server with its own
//! settings).
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;
use rowtide::config::{SourceConfig, TlsMode};

/// Where the test servers are.
#[derive(Debug, Clone)]
pub struct TestEnv {
    pub mysql_host: String,
    pub mysql_port: u16,
    pub mysql_user: String,
    pub mysql_password: String,
    pub admin_user: String,
    pub admin_password: String,
    pub mysql_ca: Option<String>,
    pub mysql_pidfile: Option<String>,
    pub kafka_brokers: String,
    pub registry_url: String,
    pub run_dir: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// True when running under CI (where a missing server is a failure).
pub fn in_ci() -> bool {
    var("CI").is_some()
}

/// The test servers, or `None` (with a message) when they are not configured outside CI.
/// Under CI a missing variable or an unreachable server panics.
pub fn servers() -> Option<TestEnv> {
    let Some(port) = var("ROWTIDE_TEST_MYSQL_PORT") else {
        let msg = "ROWTIDE_TEST_* variables are not set: run the tests through scripts/test \
                   (or `eval \"$(scripts/env print)\"` after `scripts/env up`)";
        if in_ci() {
            panic!("{msg}");
        }
        eprintln!("SKIPPED (no test servers): {msg}");
        return None;
    };
    let env = TestEnv {
        mysql_host: var("ROWTIDE_TEST_MYSQL_HOST").unwrap_or_else(|| "127.0.0.1".into()),
        mysql_port: port
            .parse()
            .expect("ROWTIDE_TEST_MYSQL_PORT is a port number"),
        mysql_user: var("ROWTIDE_TEST_MYSQL_USER").unwrap_or_else(|| "cdc".into()),
        mysql_password: var("ROWTIDE_TEST_MYSQL_PASSWORD").unwrap_or_default(),
        admin_user: var("ROWTIDE_TEST_MYSQL_ADMIN_USER").unwrap_or_else(|| "root".into()),
        admin_password: var("ROWTIDE_TEST_MYSQL_ADMIN_PASSWORD").unwrap_or_default(),
        mysql_ca: var("ROWTIDE_TEST_MYSQL_CA"),
        mysql_pidfile: var("ROWTIDE_TEST_MYSQL_PIDFILE"),
        kafka_brokers: var("ROWTIDE_TEST_KAFKA_BROKERS")
            .unwrap_or_else(|| "127.0.0.1:19092".into()),
        registry_url: var("ROWTIDE_TEST_REGISTRY_URL")
            .unwrap_or_else(|| "http://127.0.0.1:18081/apis/ccompat/v7".into()),
        run_dir: var("ROWTIDE_DEV_RUN"),
    };
    let addr = format!("{}:{}", env.mysql_host, env.mysql_port);
    if std::net::TcpStream::connect(&addr).is_err() {
        let msg = format!("MariaDB is not reachable at {addr}; start it with scripts/env up");
        if in_ci() {
            panic!("{msg}");
        }
        eprintln!("SKIPPED: {msg}");
        return None;
    }
    Some(env)
}

/// A free TCP port on 127.0.0.1 (for a private server or an HTTP endpoint).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A name unique to this process and call, for databases, topics and state dirs.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % 100_000_000;
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        t,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Connection options of the admin user (all privileges), over TCP.
pub fn admin_opts(env: &TestEnv) -> mysql_async::OptsBuilder {
    mysql_async::OptsBuilder::default()
        .ip_or_hostname(env.mysql_host.clone())
        .tcp_port(env.mysql_port)
        .user(Some(env.admin_user.clone()))
        .pass(Some(env.admin_password.clone()))
        .prefer_socket(false)
}

/// An admin connection for creating databases and writing data.
pub async fn admin(env: &TestEnv) -> mysql_async::Conn {
    mysql_async::Conn::new(admin_opts(env))
        .await
        .expect("admin connection to MariaDB")
}

/// Creates a fresh database and returns its name.
pub async fn fresh_db(env: &TestEnv, prefix: &str) -> String {
    let db = unique(prefix);
    let mut c = admin(env).await;
    c.query_drop(format!("CREATE DATABASE `{db}`"))
        .await
        .unwrap();
    c.disconnect().await.ok();
    db
}

/// A source configuration for the CDC user, capturing `include`.
pub fn source_config(env: &TestEnv, include: &[String]) -> SourceConfig {
    SourceConfig {
        host: env.mysql_host.clone(),
        port: env.mysql_port,
        user: env.mysql_user.clone(),
        password: Some(env.mysql_password.clone()),
        server_id: server_id(),
        include: include.to_vec(),
        tls: TlsMode::Preferred,
        heartbeat_interval_ms: 1_000,
        read_timeout_ms: 10_000,
        ..SourceConfig::default()
    }
}

/// A replica `server_id` for one rowtide (or stream) of a test: unique among the test
/// binaries running at the same time (it contains the process id) and within one binary (a
/// counter), and far above the test MariaDB's own id (1) and any small hand-picked id.
pub fn server_id() -> u32 {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    assert!(
        n < 1000,
        "a test binary asked for more than 1000 server ids"
    );
    // Linux process ids stay below 2^22 (4,194,304), so this fits in a u32.
    std::process::id()
        .checked_mul(1000)
        .and_then(|id| id.checked_add(100_000_000 + n))
        .expect("process id too large for a server id")
}

/// The fixtures directory (`ROWTIDE_FIXTURES`, default `../shared/fixtures/binlog`), or
/// `None` with a message outside CI.
pub fn fixtures_dir() -> Option<std::path::PathBuf> {
    let dir = var("ROWTIDE_FIXTURES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/binlog")
        });
    if dir.is_dir() {
        Some(dir)
    } else {
        let msg = format!(
            "binlog fixtures not found at {}; set ROWTIDE_FIXTURES",
            dir.display()
        );
        if in_ci() {
            panic!("{msg}");
        }
        eprintln!("SKIPPED: {msg}");
        None
    }
}

pub mod connect;
pub mod kafka;
pub mod mariadb;
pub mod mutate;
pub mod poll;
pub mod private_kafka;
pub mod proc;
