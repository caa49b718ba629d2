//! Where Debezium keeps its offsets: Kafka Connect's offsets topic (distributed workers) or a
//! `FileOffsetBackingStore` file (standalone workers, Debezium Server, the embedded engine).
//! Both hold key/value pairs whose key is the JSON `["<connector>", {<source partition>}]`
//! and whose value is the offset's JSON map (null: the offset was deleted). The last pair for
//! a key wins.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::Value;

use crate::error::{Error, Result};

/// The largest offsets file read (the files hold a few kilobytes per connector).
const MAX_FILE_BYTES: u64 = 64 << 20;

/// The connector's latest offset per source partition: `server` → offset (`None`: deleted).
pub type Partitions = BTreeMap<String, Option<Value>>;

/// Decodes one stored key; `Some((connector, server))` for a binlog connector's key.
fn key_of(key: &[u8]) -> Option<(String, String)> {
    let v: Value = serde_json::from_slice(key).ok()?;
    let arr = v.as_array()?;
    if arr.len() != 2 {
        return None;
    }
    let connector = arr[0].as_str()?.to_string();
    let server = arr[1].as_object()?.get("server")?.as_str()?.to_string();
    Some((connector, server))
}

/// Applies one stored pair to `out` when it belongs to `connector`.
fn apply(out: &mut Partitions, connector: &str, key: &[u8], value: Option<&[u8]>) -> Result<()> {
    let Some((name, server)) = key_of(key) else {
        return Ok(());
    };
    if name != connector {
        return Ok(());
    }
    let value = match value {
        None => None,
        Some(b) => Some(serde_json::from_slice(b).map_err(|e| {
            Error::Config(format!(
                "the stored offset of connector {connector} (server {server}) is not JSON: {e}"
            ))
        })?),
    };
    out.insert(server, value);
    Ok(())
}

/// Every connector name found, for the error when the wanted one is missing.
fn names(keys: impl Iterator<Item = Vec<u8>>) -> Vec<String> {
    let mut v: Vec<String> = keys.filter_map(|k| key_of(&k).map(|(n, _)| n)).collect();
    v.sort();
    v.dedup();
    v
}

/// Reads a `FileOffsetBackingStore` file.
pub fn from_file(path: &Path, connector: &str) -> Result<(Partitions, Vec<String>)> {
    let len = std::fs::metadata(path)
        .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(Error::Config(format!(
            "{} has {len} bytes; an offsets file is far smaller (limit {MAX_FILE_BYTES})",
            path.display()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
    let entries = super::java::parse_offset_file(&bytes).map_err(|e| {
        Error::Config(format!(
            "{} is not a Kafka Connect FileOffsetBackingStore file ({e})",
            path.display()
        ))
    })?;
    let mut out = Partitions::new();
    for (k, v) in &entries {
        if let Some(k) = k {
            apply(&mut out, connector, k, v.as_deref())?;
        }
    }
    let all = names(entries.into_iter().filter_map(|(k, _)| k));
    Ok((out, all))
}

/// Reads every partition of the Connect offsets `topic` from the beginning to its end.
pub fn from_topic(
    base: ClientConfig,
    topic: &str,
    connector: &str,
    timeout: Duration,
) -> Result<(Partitions, Vec<String>)> {
    let kafka = |what: &str, e: rdkafka::error::KafkaError| {
        Error::Config(format!("{what} offsets topic {topic}: {e}"))
    };
    let mut cfg = base;
    cfg.set("group.id", "rowtide-offsets-import")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest");
    let consumer: BaseConsumer = cfg
        .create()
        .map_err(|e| kafka("creating a consumer for the", e))?;
    let md = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(|e| kafka("reading the metadata of the", e))?;
    let parts: Vec<i32> = md
        .topics()
        .iter()
        .filter(|t| t.name() == topic && t.error().is_none())
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if parts.is_empty() {
        return Err(Error::Config(format!(
            "the Kafka Connect offsets topic {topic} does not exist (or has no partitions); \
             it is the worker's offset.storage.topic (default connect-offsets)"
        )));
    }
    // Where each partition ends now: everything before it is read.
    let mut end: BTreeMap<i32, i64> = BTreeMap::new();
    let mut tpl = TopicPartitionList::new();
    for &p in &parts {
        let (low, high) = consumer
            .fetch_watermarks(topic, p, timeout)
            .map_err(|e| kafka("reading the end of the", e))?;
        if high > low {
            end.insert(p, high);
            tpl.add_partition_offset(topic, p, Offset::Offset(low))
                .map_err(|e| kafka("assigning the", e))?;
        }
    }
    consumer
        .assign(&tpl)
        .map_err(|e| kafka("assigning the", e))?;
    // Last value per key: (timestamp, partition, value). A key lives in one partition (Connect
    // partitions by key); should it appear in several, the newest record wins.
    let mut latest: BTreeMap<Vec<u8>, (i64, Option<Vec<u8>>)> = BTreeMap::new();
    let deadline = Instant::now() + timeout;
    while !end.is_empty() {
        if Instant::now() > deadline {
            return Err(Error::Config(format!(
                "timed out reading the offsets topic {topic} to its end ({} partitions left)",
                end.len()
            )));
        }
        let Some(msg) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let msg = msg.map_err(|e| kafka("reading the", e))?;
        if let Some(k) = msg.key() {
            let ts = msg.timestamp().to_millis().unwrap_or(0);
            let newer = latest.get(k).is_none_or(|(t, _)| ts >= *t);
            if newer {
                latest.insert(k.to_vec(), (ts, msg.payload().map(<[u8]>::to_vec)));
            }
        }
        if end
            .get(&msg.partition())
            .is_some_and(|&h| msg.offset() + 1 >= h)
        {
            end.remove(&msg.partition());
        }
    }
    let mut out = Partitions::new();
    for (k, (_, v)) in &latest {
        apply(&mut out, connector, k, v.as_deref())?;
    }
    let all = names(latest.into_keys());
    Ok((out, all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_select_the_connector_and_a_null_deletes() {
        let mut out = Partitions::new();
        let key = br#"["inventory",{"server":"dbserver1"}]"#;
        apply(
            &mut out,
            "inventory",
            key,
            Some(br#"{"file":"b.000001","pos":4}"#),
        )
        .unwrap();
        apply(&mut out, "other", key, Some(b"{}")).unwrap();
        apply(
            &mut out,
            "inventory",
            br#"["other",{"server":"x"}]"#,
            Some(b"{}"),
        )
        .unwrap();
        apply(&mut out, "inventory", b"not json", Some(b"{}")).unwrap();
        assert_eq!(out.len(), 1);
        assert!(out["dbserver1"].is_some());
        apply(&mut out, "inventory", key, None).unwrap();
        assert_eq!(out["dbserver1"], None);
        assert!(apply(&mut out, "inventory", key, Some(b"{broken")).is_err());
        let all = names([key.to_vec(), br#"["b",{"server":"y"}]"#.to_vec()].into_iter());
        assert_eq!(all, vec!["b".to_string(), "inventory".to_string()]);
    }
}
