//! Memory bounded in bytes (`pipeline.max_in_flight_bytes`, issue 18): rows of 16 MiB
//! (`LONGBLOB`) flow from the real MariaDB to the real Kafka — some read by the snapshot,
//! the rest streamed — and every one arrives whole, while rowtide's peak resident memory
//! (`VmHWM`) stays under 512 MiB. Without the byte budget the count limits alone would let
//! the source queue hold up to 2048 such rows (32 GiB): the limit is what keeps it bounded.
//!
//! The second half is read while Kafka throttles rowtide to a trickle (a produce quota on
//! its client id), so the backlog waits in the pipeline: the held bytes
//! (`rowtide_pipeline_held_bytes`) stay within the budget, and the peak RSS low.
//!
//! CI moves 48 rows (768 MiB of row data, ~1 GiB of JSON); `ROWTIDE_BIG_ROWS=<n>` moves
//! more.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine;
use mysql_async::prelude::Queryable;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use common::proc::{Rowtide, Setup};

const ROW_BYTES: usize = 16 << 20;
const LIMIT_RSS: u64 = 512 << 20;

/// The blob of row `id`: its id left-padded to 32 bytes, repeated to 16 MiB.
fn blob(id: u32) -> Vec<u8> {
    format!("{id:x>32}").into_bytes().repeat(ROW_BYTES / 32)
}

fn blob_sql(id: u32) -> String {
    format!("REPEAT(LPAD('{id}', 32, 'x'), {})", ROW_BYTES / 32)
}

/// Peak resident set of process `pid`, in bytes (`VmHWM`).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kb * 1024
}

/// Creates `topic` able to hold records of up to 64 MiB.
async fn create_topic(brokers: &str, topic: &str) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client");
    let t =
        NewTopic::new(topic, 1, TopicReplication::Fixed(1)).set("max.message.bytes", "67108864");
    let r = admin
        .create_topics([&t], &AdminOptions::new())
        .await
        .expect("create topic");
    for x in r {
        x.unwrap_or_else(|e| panic!("create {topic}: {e:?}"));
    }
}

/// The value of an unlabelled gauge in rowtide's `/metrics` at `addr`.
fn gauge(addr: &str, name: &str) -> u64 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("metrics endpoint");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body.lines()
        .find_map(|l| {
            l.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0, |v| v as u64)
}

/// Reads `topic` until `n` records are in, checking each value as it goes (nothing large is
/// kept): returns, per row id, how many change events carried exactly its blob.
fn read_blobs(brokers: &str, topic: &str, n: usize, timeout: Duration) -> BTreeMap<u32, usize> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "rowtide-tests-big")
        .set("enable.auto.commit", "false")
        .set("fetch.message.max.bytes", "67108864")
        .set("receive.message.max.bytes", "200000000")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    c.assign(&tpl).expect("assign");
    let deadline = Instant::now() + timeout;
    let mut seen = BTreeMap::new();
    let mut records = 0;
    while records < n {
        assert!(
            Instant::now() < deadline,
            "{records} of {n} records on {topic} after {timeout:?}: {seen:?}"
        );
        let Some(m) = c.poll(Duration::from_millis(500)) else {
            continue;
        };
        let m = m.expect("consume");
        let Some(payload) = m.payload() else {
            continue; // a tombstone (none expected: rows are only inserted)
        };
        records += 1;
        let v: serde_json::Value = serde_json::from_slice(payload).expect("a JSON change event");
        let after = &v["after"];
        let id = after["id"].as_u64().expect("after.id") as u32;
        let b64 = after["b"].as_str().expect("after.b as base64");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64");
        assert!(
            bytes == blob(id),
            "row {id}: {} bytes that are not its blob",
            bytes.len()
        );
        *seen.entry(id).or_insert(0) += 1;
    }
    seen
}

async fn insert_rows(c: &mut mysql_async::Conn, db: &str, ids: std::ops::RangeInclusive<u32>) {
    for id in ids {
        c.query_drop(format!(
            "INSERT INTO `{db}`.big VALUES ({id}, {})",
            blob_sql(id)
        ))
        .await
        .unwrap();
    }
}

/// Reads `n` records of `topic` off the test's thread.
async fn read_n(brokers: &str, topic: &str, n: usize) -> BTreeMap<u32, usize> {
    let (b, t) = (brokers.to_string(), topic.to_string());
    tokio::task::spawn_blocking(move || read_blobs(&b, &t, n, Duration::from_secs(600)))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_mib_rows_flow_with_bounded_memory() {
    let Some(env) = common::servers() else { return };
    let rows: u32 = std::env::var("ROWTIDE_BIG_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    let half = rows / 2;
    let db = common::fresh_db(&env, "rtbig").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!(
        "CREATE TABLE `{db}`.big (id INT PRIMARY KEY, b LONGBLOB NOT NULL)"
    ))
    .await
    .unwrap();
    // Both halves arrive in a burst, as a backlog that the reader could take far faster
    // than the encoders and Kafka: the first by the snapshot, the second by a catch-up
    // from the binlog after a stop.
    insert_rows(&mut c, &db, 1..=half).await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.partitions = 1;
    setup.metrics_listen = format!("127.0.0.1:{}", common::free_port());
    // Records of 22 MiB (base64 in JSON): the producer's limit goes up, and the topic is
    // made to accept them; the byte budget is left at its default.
    let client_id = format!("rowtide-{db}");
    let setup_toml = setup.toml(&env).replace(
        "\"linger.ms\" = \"2\"",
        &format!(
            "\"linger.ms\" = \"2\"\n\"message.max.bytes\" = \"67108864\"\n\
             \"compression.type\" = \"none\"\n\"client.id\" = \"{client_id}\""
        ),
    );
    assert!(setup_toml.contains("message.max.bytes"));
    let topic = setup.topic("big");
    create_topic(&env.kafka_brokers, &topic).await;
    let config = dir.path().join("rowtide.toml");
    std::fs::write(&config, setup_toml).unwrap();

    let mut rt = Rowtide::with_config(&config, dir.path());
    let first = read_n(&env.kafka_brokers, &topic, half as usize).await;
    rt.wait_streaming(1).await;
    let peak_snapshot = peak_rss(rt.pid().expect("rowtide runs"));
    assert!(rt.stop().success(), "{}", rt.log_tail(30));
    let want: BTreeMap<u32, usize> = (1..=half).map(|id| (id, 1)).collect();
    assert_eq!(first, want, "the snapshot: every row exactly once, whole");

    // Kafka slows to a trickle: a produce quota of 2 MB/s on rowtide's client id (records
    // of 22 MiB, uncompressed) makes the broker throttle it, so the whole backlog is read
    // long before it is acknowledged. Only the byte budget keeps it from being held in
    // memory at once.
    common::kafka::produce_quota(&env.kafka_brokers, &client_id, Some(2_000_000));
    insert_rows(&mut c, &db, half + 1..=rows).await;
    c.disconnect().await.ok();
    rt.spawn();
    rt.wait_streaming(2).await;
    let metrics = setup.metrics_listen.clone();
    let budget = 64u64 << 20;
    let mut held_max = 0u64;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let held = gauge(&metrics, "rowtide_pipeline_held_bytes");
        assert!(
            held <= budget,
            "{held} bytes held, over the default budget of {budget}"
        );
        held_max = held_max.max(held);
    }
    assert!(
        held_max > budget / 2,
        "the stalled pipeline should hold most of the budget, held at most {held_max}; log:\n{}",
        rt.log_tail(30)
    );
    let peak_stalled = peak_rss(rt.pid().expect("rowtide runs"));
    common::kafka::produce_quota(&env.kafka_brokers, &client_id, None);
    let seen = read_n(&env.kafka_brokers, &topic, rows as usize).await;
    rt.assert_alive("after the catch-up");
    let peak_stream = peak_rss(rt.pid().expect("rowtide runs"));
    assert!(rt.stop().success(), "{}", rt.log_tail(30));
    let want: BTreeMap<u32, usize> = (1..=rows).map(|id| (id, 1)).collect();
    assert_eq!(seen, want, "every row exactly once, whole");
    eprintln!(
        "{rows} rows of 16 MiB: rowtide's peak RSS {} MiB in the snapshot of {half}, {} MiB \
         while Kafka stalled the catch-up of {} ({} MiB held at most), {} MiB at its end",
        peak_snapshot >> 20,
        peak_stalled >> 20,
        rows - half,
        held_max >> 20,
        peak_stream >> 20,
    );
    for (what, peak) in [
        ("snapshot", peak_snapshot),
        ("stalled catch-up", peak_stalled),
        ("catch-up", peak_stream),
    ] {
        assert!(
            peak < LIMIT_RSS,
            "{what}: peak RSS {} MiB is over {} MiB with pipeline.max_in_flight_bytes at its \
             default",
            peak >> 20,
            LIMIT_RSS >> 20
        );
    }
}
