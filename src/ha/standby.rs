//! What a standby does: proves, every `ha.standby_check_interval_ms`, that it could take
//! over at once — the source answers and is set up for CDC, the brokers answer, and the
//! state (checkpoint and schema history) reads back from the state topic — and reports the
//! outcome to the probes, until the group makes it the active instance.
//!
//! Invariant: a standby never writes and never fences: it opens the state store read-only
//! (no transactional producer), and it never opens a binlog stream (which would disconnect
//! the active instance's, since both use `source.server_id`).

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::membership::{Membership, Seat};
use crate::checkpoint::kafka_store::{Access, KafkaStore};
use crate::checkpoint::CheckpointStore;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::{Health, HealthState};
use crate::sink::kafka::{probe, Probe};

/// How long the standby's Kafka check may wait for the brokers.
const KAFKA_CHECK: Duration = Duration::from_secs(10);

/// Stands by until the group makes this instance the active one (`Some`, with the seat)
/// or `shutdown` fires (`None`).
pub async fn stand_by(
    cfg: &Config,
    health: &Arc<Health>,
    membership: &mut Membership,
    shutdown: &CancellationToken,
) -> Result<Option<Seat>> {
    let mut tick = tokio::time::interval(Duration::from_millis(cfg.ha.standby_check_interval_ms));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut was_ready: Option<bool> = None;
    loop {
        if let Some(e) = membership.fault() {
            return Err(e);
        }
        let seat = membership.seat();
        if seat.active {
            return Ok(Some(seat));
        }
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => return Ok(None),
            _ = membership.changed() => {}
            _ = tick.tick() => {
                // A change of role cuts a check short.
                let outcome = tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => return Ok(None),
                    _ = membership.changed() => continue,
                    r = check(cfg) => r,
                };
                report(health, outcome, &mut was_ready);
            }
        }
    }
}

/// Tells the probes (and, on a change, the log) whether the standby is ready.
fn report(health: &Health, outcome: Result<String>, was_ready: &mut Option<bool>) {
    match outcome {
        Ok(summary) => {
            if *was_ready != Some(true) {
                info!(%summary, "Standing by, ready to take over.");
            }
            *was_ready = Some(true);
            health.set(HealthState::Standby, summary);
        }
        Err(e) => {
            if *was_ready != Some(false) {
                warn!(error = %e, "Standing by, but not ready to take over; checking again.");
            }
            *was_ready = Some(false);
            health.set(
                HealthState::Reconnecting,
                format!("standby cannot take over: {e}"),
            );
        }
    }
}

/// One round of checks; `Ok` with a summary when the standby could take over now.
pub async fn check(cfg: &Config) -> Result<String> {
    let mut conn = crate::mysql::connect(&cfg.source).await?;
    let info = crate::mysql::server_info(&mut conn, cfg.source.flavor).await;
    let settings = match &info {
        Ok(_) => crate::preflight::require_server_settings(&mut conn).await,
        Err(_) => Ok(()),
    };
    let _ = conn.disconnect().await;
    let info = info?;
    settings?;
    let sink = cfg.sink.clone();
    let kafka = tokio::task::spawn_blocking(move || probe(&sink, KAFKA_CHECK))
        .await
        .map_err(|source| Error::Task {
            task: "standby kafka check",
            source,
        })?;
    match kafka {
        Probe::Refused(e) => return Err(e),
        Probe::Unreachable => {
            return Err(Error::Kafka {
                context: format!(
                    "no broker at {} answered within {}s",
                    cfg.sink.brokers,
                    KAFKA_CHECK.as_secs()
                ),
                source: rdkafka::error::KafkaError::MetadataFetch(
                    rdkafka::types::RDKafkaErrorCode::AllBrokersDown,
                ),
            })
        }
        Probe::Reached { .. } => {}
    }
    let sink = cfg.sink.clone();
    let topic = cfg.checkpoint.kafka_topic_for(&cfg.sink.topic_prefix);
    let state = tokio::task::spawn_blocking(move || {
        let store = KafkaStore::new(&sink, &topic, Access::ReadOnly);
        let cp = store.load()?;
        let tables = store.load_catalog()?.map_or(0, |t| t.len());
        Ok::<_, Error>((cp, tables))
    })
    .await
    .map_err(|source| Error::Task {
        task: "standby state check",
        source,
    })??;
    let at = match &state.0 {
        Some(cp) => format!("state at {}", cp.offset),
        None => "no state yet (the active instance starts per source.snapshot_mode)".into(),
    };
    Ok(format!(
        "source {} ({}) and Kafka reachable, {at}, {} tables in the schema history",
        cfg.source.host, info.version, state.1
    ))
}
