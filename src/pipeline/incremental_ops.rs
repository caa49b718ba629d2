//! What operators see of an incremental snapshot, kept out of the relay's algorithm: its
//! notifications (`[notifications] topic`), its metrics and its progress lines in the log.
//!
//! Invariant: the relay reports each step here as it changes its progress; notifications
//! wait here and go out just before the next progress event ([`Ops::take`], called by the
//! relay's `send_progress`), so a notification always precedes the checkpoint mark of the
//! step it reports — under exactly-once delivery both are in one transaction.

use std::time::{Duration, Instant};

use tracing::info;

use crate::config::Config;
use crate::metrics;
use crate::model::{IncrementalProgress, NoticeType, SourceEvent};
use crate::notify::{key_number, Notices, ScanStatus};

/// A progress line at most this often (and at least every `LOG_EVERY_CHUNKS` chunks).
const LOG_INTERVAL: Duration = Duration::from_secs(30);
const LOG_EVERY_CHUNKS: u64 = 50;

pub(super) struct Ops {
    notices: Option<Notices>,
    pending: Vec<SourceEvent>,
    /// When this run began reading the current table, and its rows then.
    table_since: Option<(Instant, u64)>,
    /// The last progress line: when, and at which chunk.
    logged: (Instant, u64),
}

impl Ops {
    pub(super) fn new(cfg: &Config) -> Self {
        Self {
            notices: Notices::new(cfg),
            pending: Vec::new(),
            table_since: None,
            logged: (Instant::now(), 0),
        }
    }

    fn push(&mut self, make: impl FnOnce(&Notices) -> SourceEvent) {
        if let Some(n) = &self.notices {
            self.pending.push(make(n));
        }
    }

    /// The notifications to send before the next progress event; the gauges of `p`.
    pub(super) fn take(&mut self, p: &IncrementalProgress) -> Vec<SourceEvent> {
        metrics::incremental::state(p.tables.len(), p.paused);
        let current = p.current().map(|t| t.table.as_str());
        let ratio = match (
            key_number(p.last_key.as_deref()),
            key_number(p.max_key.as_deref()),
        ) {
            (Some(l), Some(m)) if m > 0.0 => Some(l / m),
            _ => None,
        };
        metrics::incremental::table(current, p.chunks_done, p.rows, ratio);
        std::mem::take(&mut self.pending)
    }

    /// An `execute-snapshot` signal added tables.
    pub(super) fn started(&mut self, p: &IncrementalProgress) {
        self.push(|n| n.incremental(p, NoticeType::Started, vec![]));
    }

    /// A running snapshot that was not paused is paused (as Debezium, nothing is sent for
    /// a pause while no snapshot runs).
    pub(super) fn paused(&mut self, p: &IncrementalProgress) {
        if p.is_active() {
            self.push(|n| n.incremental(p, NoticeType::Paused, vec![]));
        }
    }

    /// A paused snapshot resumes (nothing is sent while none runs).
    pub(super) fn resumed(&mut self, p: &IncrementalProgress) {
        if p.is_active() {
            self.push(|n| n.incremental(p, NoticeType::Resumed, vec![]));
        }
    }

    /// A `stop-snapshot` signal removed `tables` (all when empty). When it named the table
    /// being read and nothing remains (`emptied`), the snapshot first reports `COMPLETED`,
    /// and `ABORTED` comes with a fresh id — as Debezium's do.
    pub(super) fn aborted(&mut self, p: &IncrementalProgress, tables: &[String], emptied: bool) {
        metrics::incremental::window(false);
        let data = match tables.is_empty() {
            true => vec![],
            false => vec![("data_collections", tables.join(","))],
        };
        if emptied {
            self.push(|n| n.incremental(p, NoticeType::Completed, vec![]));
            let fresh = IncrementalProgress {
                correlation_id: None,
                ..p.clone()
            };
            self.push(|n| n.incremental(&fresh, NoticeType::Aborted, data));
            return;
        }
        self.push(|n| n.incremental(p, NoticeType::Aborted, data));
    }

    /// A chunk of the current table was emitted (`p` counts it).
    pub(super) fn chunk(&mut self, p: &IncrementalProgress, table: &str, emitted: u64) {
        metrics::incremental::chunk(table, emitted);
        if self.notices.as_ref().is_some_and(Notices::in_progress) {
            self.push(|n| n.chunk(p));
        }
        let (since, rows_then) = *self
            .table_since
            .get_or_insert((Instant::now(), p.rows.saturating_sub(emitted)));
        tracing::debug!(%table, chunks_done = p.chunks_done, rows = p.rows, "Incremental snapshot chunk emitted.");
        let (at, chunk_then) = self.logged;
        if p.chunks_done < chunk_then + LOG_EVERY_CHUNKS && at.elapsed() < LOG_INTERVAL {
            return;
        }
        self.logged = (Instant::now(), p.chunks_done);
        let secs = since.elapsed().as_secs_f64().max(1e-3);
        let rate = ((p.rows - rows_then.min(p.rows)) as f64 / secs) as u64;
        let percent = match (
            key_number(p.last_key.as_deref()),
            key_number(p.max_key.as_deref()),
        ) {
            (Some(l), Some(m)) if m > 0.0 => format!("{:.1}", (l / m * 100.0).clamp(0.0, 100.0)),
            _ => "-".into(),
        };
        info!(%table, chunks_done = p.chunks_done, rows = p.rows, rows_per_sec = rate,
              key_percent = %percent, tables_remaining = p.tables.len(),
              "Incremental snapshot in progress.");
    }

    /// The current table is done (read to its end, or given up with `status`): before
    /// the progress moves to the next table. `COMPLETED` follows when it was the last.
    pub(super) fn table_done(&mut self, p: &IncrementalProgress, status: ScanStatus) {
        self.table_since = None;
        self.logged = (Instant::now(), 0);
        self.push(|n| n.table_scanned(p, status));
        if p.tables.len() <= 1 {
            self.push(|n| n.incremental(p, NoticeType::Completed, vec![]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Notification, TableTodo};

    fn ops() -> Ops {
        let mut cfg = Config::default();
        cfg.notifications.topic = Some("notes".into());
        Ops::new(&cfg)
    }

    fn notes(ops: &mut Ops, p: &IncrementalProgress) -> Vec<Notification> {
        ops.take(p)
            .into_iter()
            .map(|e| match e {
                SourceEvent::Notification(n) => *n,
                _ => panic!("not a notification"),
            })
            .collect()
    }

    #[test]
    fn pause_and_resume_of_nothing_send_nothing() {
        let mut o = ops();
        let idle = IncrementalProgress::default();
        o.paused(&idle);
        o.resumed(&idle);
        assert!(notes(&mut o, &idle).is_empty());
        let running = IncrementalProgress {
            tables: vec![TableTodo {
                table: "a.b".into(),
                filter: None,
                surrogate_key: None,
            }],
            ..Default::default()
        };
        o.paused(&running);
        let n = notes(&mut o, &running);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].kind, NoticeType::Paused);
    }

    /// As Debezium: a stop that names the table being read and leaves nothing reports
    /// COMPLETED (the snapshot's id), then ABORTED with a fresh id.
    #[test]
    fn a_stop_that_empties_the_snapshot_completes_then_aborts() {
        let mut o = ops();
        let after = IncrementalProgress {
            correlation_id: Some("sig-9".into()),
            ..Default::default()
        };
        o.aborted(&after, &["a.b".into()], true);
        let n = notes(&mut o, &after);
        let kinds: Vec<NoticeType> = n.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [NoticeType::Completed, NoticeType::Aborted]);
        assert_eq!(n[0].id, "sig-9");
        assert_ne!(n[1].id, "sig-9");
        assert_eq!(n[1].data("data_collections"), Some("a.b"));
        o.aborted(&after, &[], false);
        let n = notes(&mut o, &after);
        assert_eq!(n.len(), 1);
        assert_eq!(
            (n[0].kind, n[0].id.as_str()),
            (NoticeType::Aborted, "sig-9")
        );
        assert_eq!(n[0].data("data_collections"), None);
    }

    #[test]
    fn without_a_topic_nothing_is_queued() {
        let mut o = Ops::new(&Config::default());
        let p = IncrementalProgress {
            tables: vec![TableTodo {
                table: "a.b".into(),
                filter: None,
                surrogate_key: None,
            }],
            ..Default::default()
        };
        o.started(&p);
        o.table_done(&p, ScanStatus::Succeeded);
        assert!(o.take(&p).is_empty());
    }
}
