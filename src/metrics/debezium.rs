//! The signals Debezium's MySQL/MariaDB connector exposes as MBean attributes (streaming and
//! snapshot metrics), under Prometheus names: `rowtide_milliseconds_behind_source`,
//! `rowtide_connected`, `rowtide_snapshot_*`, `rowtide_milliseconds_since_last_event`,
//! `rowtide_committed_transactions_total`, `rowtide_number_of_events_filtered_total` and
//! the queue capacities. `docs/operations.md` maps each MBean attribute to its metric.
//!
//! Invariant: values that depend on the time of the scrape (time since the last event, the
//! snapshot's duration) are computed in [`refresh`], called by `GET /metrics` before it
//! renders, from instants recorded by the stages — a stage records a clock reading, never
//! a duration that would go stale between scrapes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use metrics::{counter, gauge};

use crate::config::PipelineConfig;

pub const MILLIS_BEHIND_SOURCE: &str = "rowtide_milliseconds_behind_source";
pub const CONNECTED: &str = "rowtide_connected";
pub const MILLIS_SINCE_LAST_EVENT: &str = "rowtide_milliseconds_since_last_event";
pub const COMMITTED_TRANSACTIONS: &str = "rowtide_committed_transactions_total";
pub const EVENTS_FILTERED: &str = "rowtide_number_of_events_filtered_total";
pub const QUEUE_TOTAL_CAPACITY: &str = "rowtide_queue_total_capacity";
pub const QUEUE_REMAINING_CAPACITY: &str = "rowtide_queue_remaining_capacity";
pub const SNAPSHOT_RUNNING: &str = "rowtide_snapshot_running";
pub const SNAPSHOT_COMPLETED: &str = "rowtide_snapshot_completed";
pub const SNAPSHOT_ABORTED: &str = "rowtide_snapshot_aborted";
pub const SNAPSHOT_TOTAL_TABLES: &str = "rowtide_snapshot_total_tables";
pub const SNAPSHOT_REMAINING_TABLES: &str = "rowtide_snapshot_remaining_tables";
pub const SNAPSHOT_DURATION: &str = "rowtide_snapshot_duration_seconds";

/// Wall-clock milliseconds of the last change event read (0: none yet).
static LAST_EVENT_MS: AtomicU64 = AtomicU64::new(0);
/// Capacities of the source and sink queues, in events.
static CAPACITY: OnceLock<[u64; 2]> = OnceLock::new();
/// The current (or last) snapshot: when it started and, once over, when it ended.
static SNAPSHOT: Mutex<Option<(Instant, Option<Instant>)>> = Mutex::new(None);

/// Handles of the counters updated per transaction or per filtered rows event.
struct Hot {
    committed: metrics::Counter,
    filtered: metrics::Counter,
    behind: metrics::Gauge,
}

static HOT: OnceLock<Hot> = OnceLock::new();

/// Registers the handles with the recorder just installed.
pub(super) fn init() {
    let _ = HOT.set(Hot {
        committed: counter!(COMMITTED_TRANSACTIONS),
        filtered: counter!(EVENTS_FILTERED),
        behind: gauge!(MILLIS_BEHIND_SOURCE),
    });
}

/// The engine starts: the values Debezium reports before the first event (-1 for the
/// times, 0 for the flags and counters) and the queues' capacities.
pub fn started(pipeline: &PipelineConfig) {
    gauge!(MILLIS_BEHIND_SOURCE).set(-1.0);
    counter!(COMMITTED_TRANSACTIONS).absolute(0);
    counter!(EVENTS_FILTERED).absolute(0);
    gauge!(CONNECTED).set(0.0);
    for name in [SNAPSHOT_RUNNING, SNAPSHOT_COMPLETED, SNAPSHOT_ABORTED] {
        gauge!(name).set(0.0);
    }
    gauge!(SNAPSHOT_TOTAL_TABLES).set(0.0);
    gauge!(SNAPSHOT_REMAINING_TABLES).set(0.0);
    gauge!(SNAPSHOT_DURATION).set(0.0);
    gauge!(MILLIS_SINCE_LAST_EVENT).set(-1.0);
    // Error counters exist from the start, so that alerts and dashboards see a zero.
    counter!(super::DELIVERY_ERRORS).absolute(0);
    counter!(super::RECONNECTS).absolute(0);
    let caps = [pipeline.source_queue as u64, pipeline.sink_queue as u64];
    let _ = CAPACITY.set(caps);
    for (queue, cap) in ["source", "sink"].into_iter().zip(caps) {
        gauge!(QUEUE_TOTAL_CAPACITY, "queue" => queue).set(cap as f64);
        gauge!(QUEUE_REMAINING_CAPACITY, "queue" => queue).set(cap as f64);
    }
}

/// `queue` holds `n` events: its remaining capacity.
pub(super) fn queue_remaining(queue: &'static str, n: usize) -> Option<f64> {
    let caps = CAPACITY.get()?;
    let cap = match queue {
        "source" => caps[0],
        "sink" => caps[1],
        _ => return None,
    };
    Some(cap.saturating_sub(n as u64) as f64)
}

/// The binlog reader is connected (streaming) or not.
pub fn connected(yes: bool) {
    gauge!(CONNECTED).set(if yes { 1.0 } else { 0.0 });
}

/// How far behind the source the last event read is (0 when the server reports it has
/// nothing newer).
pub fn behind_source_ms(ms: u64) {
    match HOT.get() {
        Some(h) => h.behind.set(ms as f64),
        None => gauge!(MILLIS_BEHIND_SOURCE).set(ms as f64),
    }
    super::lag_seconds(ms as f64 / 1000.0);
}

/// A change event was read at wall-clock `now_ms`.
pub fn event_read_at(now_ms: u64) {
    LAST_EVENT_MS.store(now_ms, Ordering::Relaxed);
}

/// A transaction's commit was read.
pub fn transaction_committed() {
    match HOT.get() {
        Some(h) => h.committed.increment(1),
        None => counter!(COMMITTED_TRANSACTIONS).increment(1),
    }
}

/// A rows event of a table the filter does not capture was passed over.
pub fn event_filtered() {
    match HOT.get() {
        Some(h) => h.filtered.increment(1),
        None => counter!(EVENTS_FILTERED).increment(1),
    }
}

/// A snapshot of `total` tables starts, `remaining` of them still to copy.
pub fn snapshot_started(total: usize, remaining: usize) {
    if let Ok(mut s) = SNAPSHOT.lock() {
        *s = Some((Instant::now(), None));
    }
    gauge!(SNAPSHOT_RUNNING).set(1.0);
    gauge!(SNAPSHOT_COMPLETED).set(0.0);
    gauge!(SNAPSHOT_ABORTED).set(0.0);
    gauge!(SNAPSHOT_TOTAL_TABLES).set(total as f64);
    gauge!(SNAPSHOT_REMAINING_TABLES).set(remaining as f64);
}

/// A table of the snapshot is copied.
pub fn snapshot_table_done() {
    gauge!(SNAPSHOT_REMAINING_TABLES).decrement(1.0);
}

/// The snapshot ended: completed, or aborted (an error or a shutdown).
pub fn snapshot_ended(completed: bool) {
    if let Ok(mut s) = SNAPSHOT.lock() {
        if let Some((_, end)) = s.as_mut() {
            end.get_or_insert_with(Instant::now);
        }
    }
    gauge!(SNAPSHOT_RUNNING).set(0.0);
    let (done, aborted) = if completed { (1.0, 0.0) } else { (0.0, 1.0) };
    gauge!(SNAPSHOT_COMPLETED).set(done);
    gauge!(SNAPSHOT_ABORTED).set(aborted);
}

/// Computes the values that depend on the time of the scrape.
pub(super) fn refresh(now_ms: u64) {
    let last = LAST_EVENT_MS.load(Ordering::Relaxed);
    let since = match last {
        0 => -1.0,
        t => now_ms.saturating_sub(t) as f64,
    };
    gauge!(MILLIS_SINCE_LAST_EVENT).set(since);
    let duration = SNAPSHOT
        .lock()
        .ok()
        .and_then(|s| *s)
        .map(|(start, end)| end.unwrap_or_else(Instant::now).duration_since(start));
    if let Some(d) = duration {
        gauge!(SNAPSHOT_DURATION).set(d.as_secs_f64());
    }
}
