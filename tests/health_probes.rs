//! `/livez`, `/readyz` and `/healthz` in each state of the pipeline, against the real
//! servers: snapshotting, streaming, the source gone, Kafka gone.
//!
//! The shared MariaDB and Kafka are never stopped. Instead:
//! - the source is reached through a TCP proxy this test owns ([`Proxy`]): *pausing* it
//!   (bytes held, connections kept) holds a large snapshot in progress; *cutting* it
//!   (listener closed, every connection dropped) is the database going away; reopening it on
//!   the same port is the database coming back;
//! - Kafka advertises its own address (127.0.0.1:19092), so a proxy in front of it would be
//!   bypassed after the first metadata answer. "Kafka down" is therefore a bootstrap address
//!   on a port where nothing listens; "Kafka back" is a proxy opened on that port, from
//!   which librdkafka learns the real broker and delivers. The topic is created beforehand
//!   (`sink.create_topics = false`), so that records wait in the producer for
//!   acknowledgement rather than in topic creation.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::poll::poll_until_async;
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy on a fixed local port to `upstream`, which the test can pause, cut and
/// reopen.
struct Proxy {
    port: u16,
    upstream: String,
    paused: Arc<AtomicBool>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// A proxy listening on `port`.
    async fn start_on(port: u16, upstream: &str) -> Self {
        let p = Proxy {
            port,
            upstream: upstream.to_string(),
            paused: Arc::new(AtomicBool::new(false)),
            tasks: Arc::new(Mutex::new(Vec::new())),
        };
        p.open().await;
        p
    }

    /// Listens (again) on the port and forwards every connection.
    async fn open(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        let (upstream, paused, tasks) = (
            self.upstream.clone(),
            self.paused.clone(),
            self.tasks.clone(),
        );
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let up = tokio::spawn(pump(cr, sw, paused.clone()));
                let down = tokio::spawn(pump(sr, cw, paused.clone()));
                tasks.lock().unwrap().extend([up, down]);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Holds every byte (connections stay open) until [`Self::resume`].
    fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }

    /// Closes the listener and every connection: the server is gone.
    fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    paused: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        while paused.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// `(status, body)` of `GET path`.
async fn probe(port: u16, path: &str) -> (u16, String) {
    match reqwest::get(format!("http://127.0.0.1:{port}{path}")).await {
        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    }
}

/// Waits until `path` answers `code` with a body starting with `prefix`; returns the body.
async fn wait_probe(port: u16, path: &str, code: u16, prefix: &str, secs: u64) -> String {
    let what = format!("{path} {code} \"{prefix}…\"");
    poll_until_async(
        &what,
        Duration::from_secs(secs),
        Duration::from_millis(20),
        async || match probe(port, path).await {
            (c, body) if c == code && body.starts_with(prefix) => Ok(body),
            (c, body) => Err(format!("{c} {body}")),
        },
    )
    .await
}

/// The value of an unlabelled metric.
async fn metric(port: u16, name: &str) -> f64 {
    let (_, text) = probe(port, "/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} "))?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in /metrics:\n{text}"))
}

/// The config of `setup` with the probes' timeouts short and extra `[sink]` keys.
fn config(setup: &Setup, env: &common::TestEnv, sink_extra: &str) -> String {
    setup
        .toml(env)
        .replace("[sink]\n", &format!("[sink]\n{sink_extra}"))
        .replace(
            "[metrics]\n",
            "[metrics]\nliveness_timeout_secs = 3\nreadiness_ack_timeout_secs = 3\n",
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn snapshotting_streaming_and_source_down() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "health_src").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop("CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(200))")
        .await
        .unwrap();
    // Large enough that the snapshot is still copying when the proxy is paused.
    c.query_drop("INSERT INTO big SELECT seq, REPEAT('x', 200) FROM seq_1_to_300000")
        .await
        .unwrap();

    let proxy = Proxy::start_on(
        common::free_port(),
        &format!("{}:{}", env.mysql_host, env.mysql_port),
    )
    .await;
    let mut via_proxy = env.clone();
    via_proxy.mysql_host = "127.0.0.1".into();
    via_proxy.mysql_port = proxy.port;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    let port = common::free_port();
    setup.metrics_listen = format!("127.0.0.1:{port}");
    let path = dir.path().join("rowtide.toml");
    std::fs::write(&path, config(&setup, &via_proxy, "")).unwrap();
    let mut rt = Rowtide::with_config(&path, dir.path());

    // Snapshotting: the source held mid-copy, Kafka acknowledges what was sent.
    wait_probe(port, "/livez", 200, "live: snapshotting", 60).await;
    proxy.pause();
    wait_probe(port, "/readyz", 200, "ready: snapshotting", 30).await;
    wait_probe(port, "/healthz", 200, "ready: snapshotting", 5).await;
    assert_eq!(metric(port, "rowtide_snapshot_running").await, 1.0);
    assert_eq!(metric(port, "rowtide_snapshot_total_tables").await, 1.0);
    assert_eq!(metric(port, "rowtide_snapshot_remaining_tables").await, 1.0);
    assert_eq!(metric(port, "rowtide_connected").await, 0.0);
    proxy.resume();

    // Streaming.
    wait_probe(port, "/readyz", 200, "ready: streaming", 120).await;
    assert_eq!(metric(port, "rowtide_snapshot_completed").await, 1.0);
    assert_eq!(metric(port, "rowtide_snapshot_remaining_tables").await, 0.0);
    assert_eq!(metric(port, "rowtide_connected").await, 1.0);
    assert_eq!(
        probe(port, "/livez").await,
        (200, "live: streaming\n".to_string())
    );

    // The source goes away: not ready, and live throughout — longer than the liveness
    // timeout (3 s), through the engine's reconnect attempts and backoff.
    proxy.cut();
    let body = wait_probe(port, "/readyz", 503, "not ready: reconnecting", 30).await;
    assert!(body.lines().count() == 1, "one line: {body}");
    assert_eq!(probe(port, "/healthz").await.0, 503);
    let until = tokio::time::Instant::now() + Duration::from_secs(8);
    while tokio::time::Instant::now() < until {
        let (code, body) = probe(port, "/livez").await;
        assert_eq!(
            code, 200,
            "a database outage is not a reason to be killed: {body}"
        );
        assert!(body.starts_with("live: "), "{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(metric(port, "rowtide_connected").await, 0.0);
    rt.assert_alive("while the source is down");

    // The source comes back: ready again, and changes flow.
    proxy.open().await;
    wait_probe(port, "/readyz", 200, "ready: streaming", 60).await;
    c.query_drop("INSERT INTO big VALUES (0, 'after the outage')")
        .await
        .unwrap();
    c.disconnect().await.ok();
    common::kafka::wait_for_async(
        &env.kafka_brokers,
        &[setup.topic("big")],
        Duration::from_secs(60),
        "the change made after the outage",
        |recs| recs.iter().any(|r| r.key_json()["id"] == 0),
    )
    .await;
    assert!(rt.stop().success());
}

/// Creates `topic` on the real broker (rowtide is told not to).
fn create_topic(brokers: &str, topic: &str) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::ClientConfig;
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let res = rt
        .block_on(admin.create_topics(
            [&NewTopic::new(topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        ))
        .unwrap();
    for r in res {
        r.unwrap_or_else(|e| panic!("create {topic}: {e:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kafka_down_is_live_but_not_ready_until_it_acknowledges() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "health_kafka").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO t SELECT seq, seq FROM seq_1_to_100")
        .await
        .unwrap();
    c.disconnect().await.ok();

    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    let port = common::free_port();
    setup.metrics_listen = format!("127.0.0.1:{port}");
    let topic = setup.topic("t");
    let brokers = env.kafka_brokers.clone();
    let t = topic.clone();
    tokio::task::spawn_blocking(move || create_topic(&brokers, &t))
        .await
        .unwrap();
    // Kafka "down": the bootstrap address is a port where nothing listens.
    let dead = common::free_port();
    let mut no_kafka = env.clone();
    no_kafka.kafka_brokers = format!("127.0.0.1:{dead}");
    let path = dir.path().join("rowtide.toml");
    std::fs::write(
        &path,
        config(&setup, &no_kafka, "create_topics = false\n").replace(
            "\"linger.ms\" = \"2\"",
            "\"linger.ms\" = \"2\"\n\"reconnect.backoff.max.ms\" = \"500\"",
        ),
    )
    .unwrap();
    let mut rt = Rowtide::with_config(&path, dir.path());

    let body = wait_probe(
        port,
        "/readyz",
        503,
        "not ready: kafka not acknowledging for ",
        90,
    )
    .await;
    let secs: u64 = body
        .trim_end()
        .rsplit(' ')
        .next()
        .and_then(|s| s.strip_suffix('s')?.parse().ok())
        .unwrap_or_else(|| panic!("{body}"));
    assert!(secs >= 3, "{body}");
    // Deliveries are held by backpressure, which is waiting on purpose: live, for longer
    // than the liveness timeout (3 s).
    let until = tokio::time::Instant::now() + Duration::from_secs(6);
    while tokio::time::Instant::now() < until {
        let (code, body) = probe(port, "/livez").await;
        assert_eq!(code, 200, "{body}");
        assert!(body.starts_with("live: "), "{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(probe(port, "/healthz").await.0, 503);
    rt.assert_alive("while Kafka is down");

    // Kafka "back": the bootstrap port now leads to the broker, which librdkafka then
    // reaches at its advertised address.
    let back = Proxy::start_on(dead, &env.kafka_brokers).await;
    wait_probe(port, "/readyz", 200, "ready: streaming", 90).await;
    let recs = common::kafka::wait_for_async(
        &env.kafka_brokers,
        &[topic],
        Duration::from_secs(60),
        "the 100 snapshot rows",
        |r| r.len() >= 100,
    )
    .await;
    assert!(recs.iter().all(|r| r.value_json()["op"] == "r"));
    assert!(rt.stop().success());
    back.cut();
}
