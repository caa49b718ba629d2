//! Every metric rowtide exports, declared in one place, named
//! `rowtide_<stage>_<noun>_<unit|total>` per Prometheus conventions. The recorder is a
//! Prometheus exporter whose text `GET /metrics` serves (see `http.rs`). The signals
//! named after Debezium's MBean attributes live in [`debezium`], the process metrics and
//! the build info in [`process`].

mod debezium;
pub mod incremental;
mod process;

pub use debezium::{
    behind_source_ms, connected, event_filtered, event_read_at, snapshot_ended, snapshot_started,
    snapshot_table_done, started, transaction_committed,
};

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use crate::model::{ByTable, GtidSet, TableDesc};

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const EVENTS: &str = "rowtide_source_events_total";
pub const LAG: &str = "rowtide_source_lag_seconds";
pub const BINLOG_FILE_INDEX: &str = "rowtide_source_binlog_file_index";
pub const BINLOG_POSITION: &str = "rowtide_source_binlog_position_bytes";
pub const GTID_SEQUENCE: &str = "rowtide_source_gtid_sequence";
pub const RECONNECTS: &str = "rowtide_source_reconnects_total";
pub const DDL_SKIPPED: &str = "rowtide_source_ddl_skipped_total";
pub const DDL_REREADS: &str = "rowtide_source_ddl_rereads_total";
/// Rows events passed over because they cannot be decoded (`events.failure_handling_mode`
/// `warn`/`skip`), by table and mode.
pub const EVENTS_FAILED: &str = "rowtide_events_failed_total";
pub const HEARTBEATS: &str = "rowtide_source_heartbeats_total";
pub const HEARTBEAT_ACTION_ERRORS: &str = "rowtide_source_heartbeat_action_errors_total";
pub const SINK_RECORDS: &str = "rowtide_sink_records_total";
pub const SINK_BYTES: &str = "rowtide_sink_bytes_total";
pub const DELIVERY_LATENCY: &str = "rowtide_sink_delivery_latency_seconds";
pub const DELIVERY_ERRORS: &str = "rowtide_sink_delivery_errors_total";
pub const IN_FLIGHT: &str = "rowtide_sink_in_flight_records";
/// Bytes of `pipeline.max_in_flight_bytes` held by events between the binlog reader and
/// Kafka's acknowledgement.
pub const BYTES_HELD: &str = "rowtide_pipeline_held_bytes";
pub const QUEUE_DEPTH: &str = "rowtide_pipeline_queue_depth";
pub const CHECKPOINT_WRITES: &str = "rowtide_checkpoint_writes_total";
pub const SNAPSHOT_ROWS: &str = "rowtide_snapshot_rows_total";
pub const SNAPSHOT_ROWS_ESTIMATED: &str = "rowtide_snapshot_rows_estimated";
/// `[ha]`: 1 on the group's active instance, 0 on a standby (absent without `[ha]`).
pub const HA_ACTIVE: &str = "rowtide_ha_active";
/// `[ha]`: times this instance became the active one, and times it lost that role, by why.
pub const HA_TRANSITIONS: &str = "rowtide_ha_transitions_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Handles of the unlabelled metrics updated per event or per record, registered once
/// (a macro call hashes the metric's key on every update).
struct Hot {
    sink_records: metrics::Counter,
    sink_bytes: metrics::Counter,
    delivery_latency: metrics::Histogram,
    in_flight: metrics::Gauge,
    bytes_held: metrics::Gauge,
    queue_source: metrics::Gauge,
    queue_sink: metrics::Gauge,
    remaining_source: metrics::Gauge,
    remaining_sink: metrics::Gauge,
    binlog_file_index: metrics::Gauge,
    binlog_position: metrics::Gauge,
    lag: metrics::Gauge,
}

static HOT: OnceLock<Hot> = OnceLock::new();

/// Installs the Prometheus recorder once per process and returns its handle.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(DELIVERY_LATENCY.to_string()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                        10.0,
                    ],
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Histogram samples are kept until upkeep folds them into the buckets: without
            // it they would pile up between scrapes (or forever with nobody scraping).
            let upkeep = handle.clone();
            let _ = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    upkeep.run_upkeep();
                });
            // A second install (tests) keeps the first recorder; the handle still renders it.
            let _ = metrics::set_global_recorder(recorder);
            debezium::init();
            process::build_info();
            let _ = HOT.set(Hot {
                sink_records: counter!(SINK_RECORDS),
                sink_bytes: counter!(SINK_BYTES),
                delivery_latency: histogram!(DELIVERY_LATENCY),
                in_flight: gauge!(IN_FLIGHT),
                bytes_held: gauge!(BYTES_HELD),
                queue_source: gauge!(QUEUE_DEPTH, "queue" => "source"),
                queue_sink: gauge!(QUEUE_DEPTH, "queue" => "sink"),
                remaining_source: gauge!(debezium::QUEUE_REMAINING_CAPACITY, "queue" => "source"),
                remaining_sink: gauge!(debezium::QUEUE_REMAINING_CAPACITY, "queue" => "sink"),
                binlog_file_index: gauge!(BINLOG_FILE_INDEX),
                binlog_position: gauge!(BINLOG_POSITION),
                lag: gauge!(LAG),
            });
            handle
        })
        .clone()
}

thread_local! {
    /// Event counter handles per table description and op: registering a labelled counter
    /// formats and hashes its labels, too much for every event.
    static EVENT_COUNTERS: RefCell<ByTable<Vec<(&'static str, metrics::Counter)>>> =
        RefCell::new(ByTable::default());
}

/// Counts one change event of `table` (`rowtide_source_events_total{table, op}`).
pub fn table_event(table: &Arc<TableDesc>, op: &'static str) {
    EVENT_COUNTERS.with(|c| {
        let mut c = c.borrow_mut();
        let ops = c.get_or_insert_with(table, Vec::new);
        match ops.iter().find(|(o, _)| *o == op) {
            Some((_, counter)) => counter.increment(1),
            None => {
                let counter = counter!(EVENTS, "table" => table.full_name(), "op" => op);
                counter.increment(1);
                ops.push((op, counter));
            }
        }
    });
}

pub fn lag_seconds(secs: f64) {
    match HOT.get() {
        Some(h) => h.lag.set(secs),
        None => gauge!(LAG).set(secs),
    }
}

pub fn binlog_position(file: &str, pos: u64) {
    let idx = file.rsplit('.').next().and_then(|s| s.parse::<u64>().ok());
    match HOT.get() {
        Some(h) => {
            if let Some(idx) = idx {
                h.binlog_file_index.set(idx as f64);
            }
            h.binlog_position.set(pos as f64);
        }
        None => {
            if let Some(idx) = idx {
                gauge!(BINLOG_FILE_INDEX).set(idx as f64);
            }
            gauge!(BINLOG_POSITION).set(pos as f64);
        }
    }
}

/// The last committed GTID sequence number per MariaDB domain (or per MySQL server UUID).
pub fn gtid_sequence(domain: &str, seq: u64) {
    gauge!(GTID_SEQUENCE, "domain" => domain.to_string()).set(seq as f64);
}

/// The last committed GTID of every domain (MariaDB) or server UUID (MySQL) in `set`.
pub fn gtid_set(set: &GtidSet) {
    match set {
        GtidSet::Mariadb(list) => {
            for g in list.iter() {
                gtid_sequence(&g.domain.to_string(), g.seq);
            }
        }
        GtidSet::Mysql(set) => {
            for (uuid, tag, ivs) in set.iter() {
                if let Some(&(_, last)) = ivs.last() {
                    let label = if tag.is_empty() {
                        uuid.to_string()
                    } else {
                        format!("{uuid}:{tag}")
                    };
                    gtid_sequence(&label, last);
                }
            }
        }
    }
}

pub fn reconnect() {
    counter!(RECONNECTS).increment(1);
}

/// A DDL statement passed over because `source.ddl_skip` lists it.
pub fn ddl_skipped() {
    counter!(DDL_SKIPPED).increment(1);
}

/// A table structure re-read from the server after a DDL rowtide could not follow
/// (`source.ddl_reread`).
pub fn ddl_reread() {
    counter!(DDL_REREADS).increment(1);
}

/// A rows event of `table` passed over under failure-handling `mode` (`warn`/`skip`).
pub fn event_failed(table: &str, mode: &'static str) {
    counter!(EVENTS_FAILED, "table" => table.to_string(), "mode" => mode).increment(1);
}

/// A heartbeat record sent (`[heartbeat]`).
pub fn heartbeat() {
    counter!(HEARTBEATS).increment(1);
}

/// A heartbeat action query that failed (`heartbeat.action_query`).
pub fn heartbeat_action_error() {
    counter!(HEARTBEAT_ACTION_ERRORS).increment(1);
}

pub fn record_sent(bytes: usize) {
    match HOT.get() {
        Some(h) => {
            h.sink_records.increment(1);
            h.sink_bytes.increment(bytes as u64);
        }
        None => {
            counter!(SINK_RECORDS).increment(1);
            counter!(SINK_BYTES).increment(bytes as u64);
        }
    }
}

pub fn delivered(latency_secs: f64) {
    match HOT.get() {
        Some(h) => h.delivery_latency.record(latency_secs),
        None => histogram!(DELIVERY_LATENCY).record(latency_secs),
    }
}

pub fn delivery_error() {
    counter!(DELIVERY_ERRORS).increment(1);
}

pub fn in_flight(n: usize) {
    match HOT.get() {
        Some(h) => h.in_flight.set(n as f64),
        None => gauge!(IN_FLIGHT).set(n as f64),
    }
}

pub fn bytes_held(n: u64) {
    match HOT.get() {
        Some(h) => h.bytes_held.set(n as f64),
        None => gauge!(BYTES_HELD).set(n as f64),
    }
}

pub fn queue_depth(queue: &'static str, n: usize) {
    match (HOT.get(), queue) {
        (Some(h), "source") => h.queue_source.set(n as f64),
        (Some(h), "sink") => h.queue_sink.set(n as f64),
        _ => gauge!(QUEUE_DEPTH, "queue" => queue).set(n as f64),
    }
    let Some(left) = debezium::queue_remaining(queue, n) else {
        return;
    };
    match (HOT.get(), queue) {
        (Some(h), "source") => h.remaining_source.set(left),
        (Some(h), "sink") => h.remaining_sink.set(left),
        _ => gauge!(debezium::QUEUE_REMAINING_CAPACITY, "queue" => queue).set(left),
    }
}

/// Computes the values that depend on the time of the scrape (`GET /metrics` calls it
/// before rendering): the time since the last event, the snapshot's duration, the process
/// metrics.
pub fn refresh() {
    debezium::refresh(crate::model::now_ms().max(0) as u64);
    process::refresh();
}

/// `[ha]`: whether this instance is the group's active one.
pub fn ha_active(active: bool) {
    gauge!(HA_ACTIVE).set(if active { 1.0 } else { 0.0 });
}

/// `[ha]`: a change of role (`to` is `active` or `standby`), and why (`assigned`,
/// `revoked`, `lost`, `fenced`, …).
pub fn ha_transition(to: &'static str, reason: &'static str) {
    counter!(HA_TRANSITIONS, "to" => to, "reason" => reason).increment(1);
}

pub fn checkpoint_written() {
    counter!(CHECKPOINT_WRITES).increment(1);
}

pub fn snapshot_rows(table: &str, n: u64) {
    counter!(SNAPSHOT_ROWS, "table" => table.to_string()).increment(n);
    if n > 0 {
        event_read_at(crate::model::now_ms().max(0) as u64);
    }
}

pub fn snapshot_estimate(table: &str, n: u64) {
    gauge!(SNAPSHOT_ROWS_ESTIMATED, "table" => table.to_string()).set(n as f64);
}
