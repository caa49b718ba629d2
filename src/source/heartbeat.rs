//! Debezium's heartbeats (`[heartbeat]`) on the source side: when one is due, the position
//! it may record, and the `action_query` run with it (`HeartbeatImpl`, `CompositeHeartbeat`
//! and `DatabaseHeartbeatImpl` of Debezium 3.5).
//!
//! Invariants:
//! - a heartbeat leaves the binlog reader after everything the events read before it
//!   produced, in the same queue, so it reaches the checkpoint in order with them;
//! - it names a position only between transactions — the end of the last event read, with
//!   the GTID set executed so far — so once it is delivered the checkpoint may move there
//!   without skipping an undelivered change or part of a transaction (inside a transaction
//!   the heartbeat record goes out without a position);
//! - the action query runs on its own connection, after the heartbeat record is queued;
//!   a failure is logged and counted and the connection is opened again at the next
//!   heartbeat, except the errors Debezium's binlog connectors treat as fatal (SQLSTATE
//!   `42000`, e.g. a syntax error or a missing grant, and `3D000`, no database selected).

use std::time::Duration;

use mysql_async::prelude::Queryable;
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::config::{HeartbeatConfig, SourceConfig};
use crate::error::{Error, Result};
use crate::metrics;
use crate::model::{now_ms, SourceEvent, SourceOffset};
use crate::mysql;

/// The heartbeat clock of one run and its action query.
pub struct Heartbeats {
    interval: Duration,
    next: Instant,
    action: Option<Action>,
}

/// `heartbeat.action.query` and the connection it runs on.
struct Action {
    source: SourceConfig,
    sql: String,
    conn: Option<mysql_async::Conn>,
    /// How long one execution may take before it counts as failed.
    timeout: Duration,
}

impl Heartbeats {
    /// The heartbeats of `[heartbeat]`, or `None` when they are off (`interval_ms = 0`).
    /// The first one is due an interval from now (a snapshot that takes longer is followed
    /// by one as soon as streaming starts, as with Debezium).
    pub fn new(cfg: &HeartbeatConfig, source: &SourceConfig) -> Option<Self> {
        if cfg.interval_ms == 0 {
            return None;
        }
        let interval = Duration::from_millis(cfg.interval_ms);
        let action = cfg
            .action_query
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(|sql| Action {
                source: source.clone(),
                sql: sql.to_string(),
                conn: None,
                timeout: Duration::from_millis(source.read_timeout_ms.max(1_000)),
            });
        Some(Self {
            interval,
            next: Instant::now() + interval,
            action,
        })
    }

    /// When the next heartbeat is due.
    pub fn deadline(&self) -> Instant {
        self.next
    }

    /// Whether a heartbeat is due now.
    pub fn due(&self) -> bool {
        Instant::now() >= self.next
    }

    /// The heartbeat event, recording `offset` once delivered (`None` inside a transaction),
    /// and the clock restarted: the next one is due an interval from now.
    pub fn beat(&mut self, offset: Option<SourceOffset>) -> SourceEvent {
        self.next = Instant::now() + self.interval;
        metrics::heartbeat();
        SourceEvent::Heartbeat {
            offset,
            ts_ms: now_ms(),
        }
    }

    /// Runs the action query, if there is one. `Err` only for the failures Debezium stops
    /// on; the others are logged and counted.
    pub async fn run_action(&mut self) -> Result<()> {
        let Some(a) = self.action.as_mut() else {
            return Ok(());
        };
        match tokio::time::timeout(a.timeout, a.execute()).await {
            Ok(Ok(())) => {
                debug!("Executed the heartbeat action query.");
                Ok(())
            }
            Ok(Err(e)) => {
                metrics::heartbeat_action_error();
                if let Some(fatal) = fatal(&e, &a.sql) {
                    return Err(fatal);
                }
                if !matches!(e, mysql_async::Error::Server(_)) {
                    a.conn = None;
                }
                warn!(error = %e, "Could not execute the heartbeat action query; trying again at the next heartbeat.");
                Ok(())
            }
            Err(_) => {
                metrics::heartbeat_action_error();
                a.conn = None;
                warn!(
                    timeout_ms = a.timeout.as_millis() as u64,
                    "The heartbeat action query did not finish in time; trying again at the next heartbeat."
                );
                Ok(())
            }
        }
    }
}

impl Action {
    /// Executes the query, connecting first when there is no connection.
    async fn execute(&mut self) -> std::result::Result<(), mysql_async::Error> {
        let conn = match self.conn.as_mut() {
            Some(c) => c,
            None => {
                let c = mysql::connect(&self.source)
                    .await
                    .map_err(|e| mysql_async::Error::Other(format!("connecting: {e}").into()))?;
                self.conn.insert(c)
            }
        };
        conn.query_drop(&self.sql).await
    }
}

/// The failures Debezium's binlog connectors stop on (`BinlogHeartbeatErrorHandler`):
/// SQLSTATE `42000` (syntax error or access violation) and `3D000` (no database selected).
fn fatal(e: &mysql_async::Error, sql: &str) -> Option<Error> {
    let mysql_async::Error::Server(se) = e else {
        return None;
    };
    matches!(se.state.as_str(), "42000" | "3D000").then(|| {
        Error::ServerSetup(format!(
            "heartbeat.action_query `{sql}` failed with SQLSTATE {} (error {}: {}); fix the \
             statement or the grants of the source user",
            se.state, se.code, se.message
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(state: &str, code: u16) -> mysql_async::Error {
        mysql_async::Error::Server(mysql_async::ServerError {
            code,
            message: "boom".into(),
            state: state.into(),
        })
    }

    #[test]
    fn only_syntax_access_and_no_database_errors_are_fatal() {
        assert!(fatal(&server_error("42000", 1064), "UPDATE x").is_some());
        assert!(fatal(&server_error("42000", 1142), "UPDATE x").is_some());
        assert!(fatal(&server_error("3D000", 1046), "UPDATE x").is_some());
        // A missing table, a lock wait, a lost connection: logged, not fatal.
        assert!(fatal(&server_error("42S02", 1146), "UPDATE x").is_none());
        assert!(fatal(&server_error("HY000", 1205), "UPDATE x").is_none());
        let io = mysql_async::Error::Other("connection reset".into());
        assert!(fatal(&io, "UPDATE x").is_none());
    }

    #[test]
    fn off_at_zero_and_due_after_the_interval() {
        let mut cfg = HeartbeatConfig::default();
        assert!(Heartbeats::new(&cfg, &SourceConfig::default()).is_none());
        cfg.interval_ms = 60_000;
        cfg.action_query = Some("  ".into());
        let mut hb = Heartbeats::new(&cfg, &SourceConfig::default()).unwrap();
        assert!(hb.action.is_none(), "a blank action query is none");
        assert!(!hb.due());
        let ev = hb.beat(None);
        assert!(matches!(ev, SourceEvent::Heartbeat { offset: None, .. }));
        assert!(hb.deadline() > Instant::now() + Duration::from_secs(59));
    }
}
