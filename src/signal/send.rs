//! Sends signals through the configured channel (`rowtide snapshot`): an insert into the
//! signal table, which the running rowtide reads back from the binlog, or a record in the
//! Kafka signal topic (keyed by `sink.topic_prefix`, Debezium's shape).

use std::time::{SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;

use super::Signal;
use crate::config::Config;
use crate::error::{Error, Result};

/// A signal id unique enough for the table's primary key (at most 42 characters).
pub fn new_id() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("rowtide-{now:x}-{:x}", std::process::id())
}

/// The channel `rowtide snapshot` sends through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    /// An insert into `[signals] table`.
    Table,
    /// A record in `[signals] kafka_topic`.
    Kafka,
}

/// Sends `signal` through `via`, or by default through the signal table when one is
/// configured (and `snapshot.read_only` is off: then rowtide never writes it), else the
/// Kafka signal topic; returns its id (`kafka-OFFSET` for the topic,
/// the id the running rowtide logs).
pub async fn send(cfg: &Config, signal: &Signal, via: Option<Via>) -> Result<String> {
    let read_only = cfg.snapshot.read_only;
    let via = via.unwrap_or(match (&cfg.signals.table, &cfg.signals.kafka_topic) {
        (None, Some(_)) => Via::Kafka,
        (Some(_), Some(_)) if read_only => Via::Kafka,
        _ => Via::Table,
    });
    if via == Via::Table && read_only {
        return Err(Error::Config(
            "snapshot.read_only = true: rowtide writes nothing to the source, so it does not \
             insert signals into [signals] table; send them through the Kafka signal topic \
             ([signals] kafka_topic, `--via kafka`), or insert the row yourself as a user \
             who may"
                .into(),
        ));
    }
    match via {
        Via::Table => send_table(cfg, signal).await,
        Via::Kafka => send_kafka(cfg, signal).await,
    }
}

/// Produces `signal` to the Kafka signal topic (partition 0, where rowtide reads), keyed by
/// `sink.topic_prefix`, with the sink's connection settings.
async fn send_kafka(cfg: &Config, signal: &Signal) -> Result<String> {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    use std::sync::Arc;

    use crate::sink::kafka::{client_config, Fault, Identity, KafkaContext};
    let Some(topic) = cfg.signals.kafka_topic.as_deref() else {
        return Err(Error::Config(
            "--via kafka needs [signals] kafka_topic = \"<topic>\" (the topic the running \
             rowtide reads signals from)"
                .into(),
        ));
    };
    let mut conf = client_config(&cfg.sink);
    conf.set("client.id", "rowtide-snapshot-command")
        .set("enable.idempotence", "true")
        .set("acks", "all");
    let producer: FutureProducer<KafkaContext> = conf
        .create_with_context(KafkaContext::new(
            Identity::of(&cfg.sink),
            Arc::new(Fault::default()),
        ))
        .map_err(|e| Error::Config(format!("sink.kafka: invalid producer setting: {e}")))?;
    let value = serde_json::json!({"type": signal.type_name(), "data": signal.data()}).to_string();
    let record = FutureRecord::to(topic)
        .key(cfg.sink.topic_prefix.as_str())
        .payload(value.as_str())
        .partition(0);
    let delivered = producer
        .send(record, std::time::Duration::from_secs(30))
        .await
        .map_err(|(source, _)| Error::Kafka {
            context: format!(
                "could not write the signal to topic {topic} (does it exist, and may this \
                 client write to it?)"
            ),
            source,
        })?;
    Ok(format!("kafka-{}", delivered.offset))
}

/// Inserts `signal` into the signal table; returns its id.
async fn send_table(cfg: &Config, signal: &Signal) -> Result<String> {
    let Some((db, table)) = cfg.signals.table_parts() else {
        return Err(Error::Config(
            "no signal table is configured: set [signals] table = \"<db>.<table>\" \
             (a table rowtide captures, with columns id VARCHAR(42) PRIMARY KEY, \
             type VARCHAR(32) NOT NULL, data VARCHAR(2048)), or send through \
             [signals] kafka_topic with --via kafka"
                .into(),
        ));
    };
    let id = new_id();
    let data = signal.data().to_string();
    let sql = format!(
        "INSERT INTO `{}`.`{}` (id, type, data) VALUES (?, ?, ?)",
        db.replace('`', "``"),
        table.replace('`', "``")
    );
    let mut conn = crate::mysql::connect(&cfg.source).await?;
    let res = conn
        .exec_drop(sql, (id.as_str(), signal.type_name(), data.as_str()))
        .await;
    let _ = conn.disconnect().await;
    res.map_err(|e| {
        Error::ServerSetup(format!(
            "could not insert the signal into {db}.{table} (does the table exist, with columns \
             id, type, data, and may the user INSERT into it?): {e}"
        ))
    })?;
    Ok(id)
}
