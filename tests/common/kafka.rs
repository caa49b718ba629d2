//! Reading back what reached Kafka, over the Kafka protocol (rdkafka), from the beginning
//! of each topic up to its current end.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use super::poll::poll_until;

/// One record as a consumer sees it.
#[derive(Debug, Clone)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// The record timestamp (epoch milliseconds), `None` when the broker has none.
    pub timestamp: Option<i64>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// Record headers in order: key and value (`None` for a null value).
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Record {
    /// A consumed message, copied.
    pub fn of<M: Message>(m: &M) -> Record {
        Record {
            topic: m.topic().to_string(),
            partition: m.partition(),
            offset: m.offset(),
            timestamp: m.timestamp().to_millis(),
            key: m.key().map(|k| k.to_vec()),
            value: m.payload().map(|v| v.to_vec()),
            headers: m
                .headers()
                .map(|hs| {
                    hs.iter()
                        .map(|h| (h.key.to_string(), h.value.map(|v| v.to_vec())))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The text of header `key` (the first with that key), `None` when absent or null.
    pub fn header(&self, key: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_ref())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

impl Record {
    pub fn key_json(&self) -> serde_json::Value {
        self.key
            .as_ref()
            .map(|k| serde_json::from_slice(k).expect("JSON key"))
            .unwrap_or(serde_json::Value::Null)
    }
    pub fn value_json(&self) -> serde_json::Value {
        self.value
            .as_ref()
            .map(|v| serde_json::from_slice(v).expect("JSON value"))
            .unwrap_or(serde_json::Value::Null)
    }
}

fn consumer(brokers: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "rowtide-tests")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()
        .expect("consumer")
}

/// The name of every topic in the cluster.
pub fn list_topics(brokers: &str) -> Vec<String> {
    let md = consumer(brokers)
        .fetch_metadata(None, Duration::from_secs(10))
        .expect("cluster metadata");
    md.topics().iter().map(|t| t.name().to_string()).collect()
}

/// How many records `topic` holds now (high minus low watermark, summed over its
/// partitions); 0 while it does not exist.
pub fn count(brokers: &str, topic: &str) -> i64 {
    let c = consumer(brokers);
    let Ok(md) = c.fetch_metadata(Some(topic), Duration::from_secs(10)) else {
        return 0;
    };
    md.topics()
        .iter()
        .filter(|t| t.error().is_none())
        .flat_map(|t| t.partitions())
        .filter_map(|p| {
            c.fetch_watermarks(topic, p.id(), Duration::from_secs(10))
                .ok()
        })
        .map(|(lo, hi)| hi - lo)
        .sum()
}

/// Every record currently in `topics` (missing topics read as empty), in partition order.
pub fn read_all(brokers: &str, topics: &[String]) -> Vec<Record> {
    let c = consumer(brokers);
    let mut tpl = TopicPartitionList::new();
    let mut ends: HashMap<(String, i32), i64> = HashMap::new();
    for t in topics {
        let Ok(md) = c.fetch_metadata(Some(t), Duration::from_secs(10)) else {
            continue;
        };
        for mt in md.topics() {
            if mt.error().is_some() {
                continue;
            }
            for p in mt.partitions() {
                // A topic that was just created may not have a leader yet: retry briefly.
                let mut tries = 0;
                let (lo, hi) = loop {
                    match c.fetch_watermarks(t, p.id(), Duration::from_secs(10)) {
                        Ok(w) => break w,
                        Err(e) if tries < 50 => {
                            tries += 1;
                            let _ = e;
                            std::thread::sleep(Duration::from_millis(200));
                        }
                        Err(e) => panic!("watermarks of {t}/{}: {e}", p.id()),
                    }
                };
                if hi > lo {
                    ends.insert((t.clone(), p.id()), hi);
                    tpl.add_partition_offset(t, p.id(), Offset::Offset(lo))
                        .unwrap();
                }
            }
        }
    }
    let mut out = Vec::new();
    if ends.is_empty() {
        return out;
    }
    c.assign(&tpl).expect("assign");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut pos: HashMap<(String, i32), i64> = HashMap::new();
    while ends
        .iter()
        .any(|(k, hi)| pos.get(k).copied().unwrap_or(-1) + 1 < *hi)
    {
        assert!(
            Instant::now() < deadline,
            "reading topics {topics:?} timed out"
        );
        if let Some(m) = c.poll(Duration::from_millis(200)) {
            let m = m.expect("consume");
            let k = (m.topic().to_string(), m.partition());
            pos.insert(k, m.offset());
            out.push(Record::of(&m));
        }
    }
    out
}

/// Reads `topics` until `done(records)` holds and returns the records; panics naming `what`
/// (and how many records there were) when `timeout` passes first.
pub fn wait_for(
    brokers: &str,
    topics: &[String],
    timeout: Duration,
    what: &str,
    done: impl Fn(&[Record]) -> bool,
) -> Vec<Record> {
    poll_until(what, timeout, Duration::from_millis(300), || {
        let recs = read_all(brokers, topics);
        if done(&recs) {
            Ok(recs)
        } else {
            Err(format!("{} records in {topics:?}", recs.len()))
        }
    })
}

/// [`wait_for`] from async code (on a blocking thread); its panic is the caller's.
pub async fn wait_for_async(
    brokers: &str,
    topics: &[String],
    timeout: Duration,
    what: &str,
    done: impl Fn(&[Record]) -> bool + Send + 'static,
) -> Vec<Record> {
    let (b, t, w) = (brokers.to_string(), topics.to_vec(), what.to_string());
    match tokio::task::spawn_blocking(move || wait_for(&b, &t, timeout, &w, done)).await {
        Ok(recs) => recs,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Sets (`Some(bytes_per_sec)`) or removes the produce quota of Kafka client `client_id`,
/// with Kafka's own `ConfigCommand` (the test server's installation,
/// `ROWTIDE_TEST_KAFKA_HOME`).
pub fn produce_quota(brokers: &str, client_id: &str, rate: Option<u64>) {
    let home = std::env::var("ROWTIDE_TEST_KAFKA_HOME")
        .expect("ROWTIDE_TEST_KAFKA_HOME (scripts/env print sets it)");
    let change = match rate {
        Some(r) => vec![
            "--add-config".to_string(),
            format!("producer_byte_rate={r}"),
        ],
        None => vec!["--delete-config".into(), "producer_byte_rate".into()],
    };
    let out = std::process::Command::new("java")
        .arg("-cp")
        .arg(format!("{home}/libs/*"))
        .args([
            "kafka.admin.ConfigCommand",
            "--bootstrap-server",
            brokers,
            "--alter",
        ])
        .args(&change)
        .args(["--entity-type", "clients", "--entity-name", client_id])
        .output()
        .expect("java (Kafka's ConfigCommand)");
    assert!(
        out.status.success(),
        "ConfigCommand {change:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every record a `read_committed` consumer sees in `topics` (missing topics read as
/// empty): read from the beginning until every partition reports its end (the last stable
/// offset: records of open or aborted transactions are never returned).
pub fn read_committed(brokers: &str, topics: &[String]) -> Vec<Record> {
    let mut out = Vec::new();
    for t in topics {
        read_committed_topic(brokers, t, &mut out);
    }
    out
}

fn read_committed_topic(brokers: &str, topic: &str, out: &mut Vec<Record>) {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "rowtide-tests-read-committed")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", "read_committed")
        .create()
        .expect("consumer");
    let Ok(md) = c.fetch_metadata(Some(topic), Duration::from_secs(10)) else {
        return;
    };
    let mut tpl = TopicPartitionList::new();
    let mut pending: std::collections::HashSet<i32> = Default::default();
    for mt in md.topics() {
        if mt.error().is_some() {
            continue;
        }
        for p in mt.partitions() {
            tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
                .unwrap();
            pending.insert(p.id());
        }
    }
    if pending.is_empty() {
        return;
    }
    c.assign(&tpl).expect("assign");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !pending.is_empty() {
        assert!(
            Instant::now() < deadline,
            "reading topic {topic} read_committed timed out"
        );
        match c.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => out.push(Record::of(&m)),
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                pending.remove(&p);
            }
            Some(Err(e)) => panic!("consume {topic}: {e}"),
            None => {}
        }
    }
}
