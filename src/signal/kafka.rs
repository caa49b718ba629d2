//! The Kafka signal channel (`[signals] kafka_topic`, Debezium's `signal.kafka.topic`):
//! records keyed by `sink.topic_prefix` whose value is `{"type": …, "data": {…}}`, read
//! from partition 0 of the topic. Where the channel stands (the next offset) is kept in the
//! checkpoint with the incremental snapshot's progress, so a restart reads each signal once.
//! Records with another key are ignored (as Debezium does); malformed ones are logged and
//! skipped by the caller, like any signal.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use serde_json::Value as Json;
use tokio::sync::mpsc;
use tracing::warn;

use super::watch::Received;
use super::Signal;
use crate::config::SinkConfig;
use crate::error::{Error, Result};
use crate::sink::kafka::{client_config, Fault, Identity, KafkaContext};

/// One record of the signal topic, read.
pub struct KafkaSignal {
    /// The offset after it: where the channel resumes once it has acted.
    pub next_offset: i64,
    pub received: Received,
}

/// Parses one record's key and value; `None` for a record not meant for this connector.
pub fn parse_record(
    prefix: &str,
    offset: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
) -> Option<Received> {
    if key != Some(prefix.as_bytes()) {
        return None;
    }
    let id = format!("kafka-{offset}");
    let doc: Result<Json, String> = match value {
        None => Err("the record has no value".into()),
        Some(v) => serde_json::from_slice(v).map_err(|e| format!("the value is not JSON ({e})")),
    };
    let (kind, signal) = match doc {
        Err(reason) => (String::new(), Err(reason)),
        Ok(doc) => match doc.get("type").and_then(Json::as_str) {
            None => (
                String::new(),
                Err("the value has no \"type\" (a string)".into()),
            ),
            Some(kind) => (kind.to_string(), Signal::parse(kind, doc.get("data"))),
        },
    };
    Some(Received { id, kind, signal })
}

/// Starts reading `topic` from `from` (the stored next offset; the beginning when none):
/// signals arrive on the returned receiver until it is dropped.
pub fn start(
    sink: &SinkConfig,
    topic: &str,
    from: Option<i64>,
) -> Result<mpsc::Receiver<KafkaSignal>> {
    let mut conf = client_config(sink);
    conf.set("group.id", format!("rowtide-signals-{}", sink.topic_prefix))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("client.id", "rowtide-signals");
    let c: BaseConsumer<KafkaContext> = conf
        .create_with_context(KafkaContext::new(
            Identity::of(sink),
            Arc::new(Fault::default()),
        ))
        .map_err(|e| Error::Config(format!("sink.kafka: invalid consumer setting: {e}")))?;
    let mut tpl = TopicPartitionList::new();
    let offset = from.map_or(Offset::Beginning, Offset::Offset);
    tpl.add_partition_offset(topic, 0, offset)
        .and_then(|_| c.assign(&tpl))
        .map_err(|e| Error::Kafka {
            context: format!("signal topic {topic}: cannot assign it"),
            source: e,
        })?;
    let (tx, rx) = mpsc::channel(16);
    let prefix = sink.topic_prefix.clone();
    let topic = topic.to_string();
    std::thread::Builder::new()
        .name("rowtide-signals".into())
        .spawn(move || {
            let mut warned = false;
            while !tx.is_closed() {
                match c.poll(Duration::from_millis(200)) {
                    None => {}
                    Some(Err(e)) if !warned => {
                        warn!(%topic, error = %e, "Signal topic not readable yet; retrying.");
                        warned = true;
                    }
                    Some(Err(_)) => {}
                    Some(Ok(m)) => {
                        let next_offset = m.offset() + 1;
                        let Some(received) =
                            parse_record(&prefix, m.offset(), m.key(), m.payload())
                        else {
                            continue;
                        };
                        if tx
                            .blocking_send(KafkaSignal {
                                next_offset,
                                received,
                            })
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
        })
        .map_err(|e| Error::Config(format!("cannot start the signal topic reader: {e}")))?;
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_debeziums_keyed_by_the_prefix() {
        let v = br#"{"type":"execute-snapshot","data":{"data-collections":["db.t"],"type":"INCREMENTAL"}}"#;
        let got = parse_record("app", 7, Some(b"app"), Some(v)).unwrap();
        assert_eq!(got.id, "kafka-7");
        assert_eq!(got.kind, "execute-snapshot");
        assert!(matches!(got.signal, Ok(Signal::ExecuteSnapshot { .. })));
        assert!(parse_record("app", 7, Some(b"other"), Some(v)).is_none());
        let bad = parse_record("app", 8, Some(b"app"), Some(b"{nope")).unwrap();
        assert!(bad.signal.unwrap_err().contains("not JSON"));
    }
}
