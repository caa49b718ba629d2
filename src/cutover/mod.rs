//! `rowtide offsets import`: cutover from Debezium. Reads the MySQL/MariaDB connector's latest
//! offset from Kafka Connect's offsets topic or a `FileOffsetBackingStore` file, translates it
//! into rowtide's position (reading the transaction it points into from the server) and stores
//! it as `rowtide offsets set` does — or refuses, with the reason, an offset rowtide cannot
//! resume from exactly (all refusals are configuration errors: exit code 2, nothing stored).
//!
//! After the import rowtide sends exactly the changes Debezium would have sent had it been
//! restarted from the same offset.

pub mod java;
pub mod offset;
pub mod stored;
pub mod translate;

use std::path::PathBuf;
use std::time::Duration;

use tracing::warn;

use crate::checkpoint::{Checkpoint, CheckpointStore, SnapshotState};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::{now_ms, Filter};

/// Where the Debezium offset comes from, and what to do with it.
#[derive(Debug, Clone)]
pub struct ImportArgs {
    /// Kafka Connect's offsets topic (`offset.storage.topic`).
    pub connect_offsets: Option<String>,
    /// Brokers of the Connect cluster (default: `sink.brokers`).
    pub brokers: Option<String>,
    /// A `FileOffsetBackingStore` file instead of the topic.
    pub file: Option<PathBuf>,
    /// The connector's name (`name` in its configuration).
    pub connector: String,
    /// The source partition's `server` (Debezium's `topic.prefix`), when it has several.
    pub server: Option<String>,
    /// The connector's `include.query`, when the transaction's ANNOTATE_ROWS events make
    /// Debezium's event count ambiguous.
    pub include_query: Option<bool>,
    pub dry_run: bool,
}

/// How long reading the offsets topic may take.
const TOPIC_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the import; returns the exit code.
pub async fn import(cfg: &Config, store: &dyn CheckpointStore, args: ImportArgs) -> Result<i32> {
    let (partitions, names, source) = read_stored(cfg, &args).await?;
    let server = pick_server(&partitions, &names, &args, &source)?;
    let Some(value) = partitions.get(&server).cloned().flatten() else {
        return Err(Error::Config(format!(
            "the offset of connector {} (server {server}) in {source} was deleted (its last \
             record is a tombstone): Debezium would start over per its snapshot.mode",
            args.connector
        )));
    };
    let dbz = offset::parse(&server, &value)
        .map_err(|r| Error::Config(format!("cannot resume exactly from Debezium's offset: {r}")))?;
    if server != cfg.sink.topic_prefix {
        warn!(
            debezium = %server,
            rowtide = %cfg.sink.topic_prefix,
            "Debezium's topic.prefix differs from sink.topic_prefix: rowtide's events go to other topics."
        );
    }
    crate::redact::println(&format!(
        "Debezium offset (connector {}, server {server}, from {source}): {value}",
        args.connector
    ));
    let filter = Filter::new(&cfg.source.include, &cfg.source.exclude)?;
    let t = translate::translate(&cfg.source, &filter, &dbz, args.include_query).await?;
    for (i, line) in t.walked.iter().enumerate() {
        crate::redact::println(&format!("  transaction event #{} {line}", i + 1));
    }
    let cp = Checkpoint {
        offset: t.offset,
        snapshot: SnapshotState::Skipped,
        flavor: Some(t.flavor),
        updated_at_ms: now_ms(),
        reason: format!("offsets import (Debezium connector {})", args.connector),
        incremental: None,
    };
    if args.dry_run {
        crate::redact::println(&format!(
            "dry run, nothing stored; would store: {}\n{}",
            cp.offset,
            serde_json::to_string_pretty(&cp).unwrap_or_default()
        ));
        return Ok(0);
    }
    store.save(&cp)?;
    crate::redact::println(&format!("checkpoint set to {}", cp.offset));
    Ok(0)
}

async fn read_stored(
    cfg: &Config,
    args: &ImportArgs,
) -> Result<(stored::Partitions, Vec<String>, String)> {
    match (&args.connect_offsets, &args.file) {
        (Some(topic), None) => {
            let mut base = crate::sink::kafka::client_config(&cfg.sink);
            if let Some(b) = &args.brokers {
                base.set("bootstrap.servers", b);
            }
            let (topic, connector) = (topic.clone(), args.connector.clone());
            let source = format!("topic {topic}");
            let (p, n) = tokio::task::spawn_blocking(move || {
                stored::from_topic(base, &topic, &connector, TOPIC_TIMEOUT)
            })
            .await
            .map_err(|source| Error::Task {
                task: "offsets topic reader",
                source,
            })??;
            Ok((p, n, source))
        }
        (None, Some(path)) => {
            let (p, n) = stored::from_file(path, &args.connector)?;
            Ok((p, n, format!("file {}", path.display())))
        }
        _ => Err(Error::Config(
            "offsets import needs exactly one of --connect-offsets TOPIC or --file PATH".into(),
        )),
    }
}

/// The source partition to import: `--server`, else the connector's only one.
fn pick_server(
    partitions: &stored::Partitions,
    names: &[String],
    args: &ImportArgs,
    source: &str,
) -> Result<String> {
    let found: Vec<&str> = partitions.keys().map(String::as_str).collect();
    if partitions.is_empty() {
        return Err(Error::Config(format!(
            "{source} holds no offset of connector {} (connectors found: {}); check the name \
             (`name` in the connector's configuration)",
            args.connector,
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )));
    }
    match &args.server {
        Some(s) if partitions.contains_key(s) => Ok(s.clone()),
        Some(s) => Err(Error::Config(format!(
            "connector {} has no offset for server {s} in {source} (servers found: {})",
            args.connector,
            found.join(", ")
        ))),
        None if partitions.len() == 1 => Ok(found[0].to_string()),
        None => Err(Error::Config(format!(
            "connector {} has offsets for several servers in {source} ({}); choose one with --server",
            args.connector,
            found.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(server: Option<&str>) -> ImportArgs {
        ImportArgs {
            connect_offsets: None,
            brokers: None,
            file: None,
            connector: "inv".into(),
            server: server.map(Into::into),
            include_query: None,
            dry_run: true,
        }
    }

    #[test]
    fn picks_the_only_server_or_the_named_one_and_refuses_otherwise() {
        let mut p = stored::Partitions::new();
        let e = pick_server(&p, &["other".into()], &args(None), "f").unwrap_err();
        assert!(e.to_string().contains("connectors found: other"), "{e}");
        assert_eq!(e.exit_code(), 2);
        p.insert("a".into(), Some(json!({})));
        assert_eq!(pick_server(&p, &[], &args(None), "f").unwrap(), "a");
        let e = pick_server(&p, &[], &args(Some("b")), "f").unwrap_err();
        assert!(e.to_string().contains("servers found: a"), "{e}");
        p.insert("b".into(), None);
        assert_eq!(pick_server(&p, &[], &args(Some("b")), "f").unwrap(), "b");
        let e = pick_server(&p, &[], &args(None), "f").unwrap_err();
        assert!(e.to_string().contains("--server"), "{e}");
    }
}
