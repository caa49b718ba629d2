//! Snapshot notifications (Debezium's `InitialSnapshotNotificationService` and
//! `IncrementalSnapshotNotificationService`, sent through its sink channel): the source
//! makes them as [`SourceEvent::Notification`] events, so they travel the normal record
//! path — in order with the data around them, in the configured format, inside the
//! exactly-once transaction — to `[notifications] topic`.
//!
//! Invariants:
//! - a notification never waits for anything but the source queue, like every event; it
//!   carries no checkpoint mark, so it is delivered at least once: after a crash the steps
//!   since the last checkpoint are taken again, and their notifications sent again;
//! - `additional_data` has Debezium's keys and values: `connector_name` (the topic prefix,
//!   Debezium's logical name) always; list values joined by `,`; keys as the first key
//!   column's text (`maximum_key`, `last_processed_key`).

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::Config;
use crate::model::notification::{INCREMENTAL_SNAPSHOT, INITIAL_SNAPSHOT};
use crate::model::{now_ms, IncrementalProgress, KeyPart, NoticeType, Notification, SourceEvent};

/// How a table's scan ended (Debezium's `TableScanCompletionStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanStatus {
    Succeeded,
    /// The table has no rows (or none match the filter).
    Empty,
    NoPrimaryKey,
    /// No such table (or a surrogate key column it does not have).
    UnknownSchema,
    /// The server refused a chunk's or the key bounds' query.
    SqlException,
    Skipped,
}

impl ScanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Succeeded => "SUCCEEDED",
            ScanStatus::Empty => "EMPTY",
            ScanStatus::NoPrimaryKey => "NO_PRIMARY_KEY",
            ScanStatus::UnknownSchema => "UNKNOWN_SCHEMA",
            ScanStatus::SqlException => "SQL_EXCEPTION",
            ScanStatus::Skipped => "SKIPPED",
        }
    }
}

/// Makes notification events; `None` from [`Notices::new`] when `[notifications] topic` is
/// unset.
#[derive(Debug, Clone)]
pub struct Notices {
    connector: String,
    in_progress: bool,
}

impl Notices {
    pub fn new(cfg: &Config) -> Option<Self> {
        cfg.notifications.topic.as_ref()?;
        Some(Self {
            connector: cfg.sink.topic_prefix.clone(),
            in_progress: cfg.notifications.in_progress,
        })
    }

    /// Whether `IN_PROGRESS` notifications are wanted (`notifications.in_progress`).
    pub fn in_progress(&self) -> bool {
        self.in_progress
    }

    fn make(
        &self,
        id: String,
        aggregate_type: &'static str,
        kind: NoticeType,
        data: Vec<(&str, String)>,
    ) -> SourceEvent {
        let mut additional_data: Vec<(String, String)> =
            data.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        additional_data.push(("connector_name".into(), self.connector.clone()));
        SourceEvent::Notification(Box::new(Notification {
            id,
            aggregate_type,
            kind,
            additional_data,
            timestamp: now_ms(),
        }))
    }

    /// An initial snapshot notification (a fresh id each, as Debezium's).
    pub fn initial(&self, kind: NoticeType, data: Vec<(&str, String)>) -> SourceEvent {
        self.make(uuid(), INITIAL_SNAPSHOT, kind, data)
    }

    /// An incremental snapshot notification: its id is the `execute-snapshot` signal's
    /// (`p.correlation_id`), else a fresh one. `data_collections` lists the tables the
    /// snapshot still reads, unless `data` sets it.
    pub fn incremental(
        &self,
        p: &IncrementalProgress,
        kind: NoticeType,
        mut data: Vec<(&str, String)>,
    ) -> SourceEvent {
        let lists_tables = matches!(
            kind,
            NoticeType::Started
                | NoticeType::InProgress
                | NoticeType::TableScanCompleted
                | NoticeType::Paused
                | NoticeType::Resumed
        );
        if lists_tables && !data.iter().any(|(k, _)| *k == "data_collections") {
            data.insert(0, ("data_collections", tables_of(p)));
        }
        let id = p.correlation_id.clone().unwrap_or_else(uuid);
        self.make(id, INCREMENTAL_SNAPSHOT, kind, data)
    }

    /// `IN_PROGRESS` of an incremental snapshot after a chunk: the current table, its
    /// largest key and the last key read.
    pub fn chunk(&self, p: &IncrementalProgress) -> SourceEvent {
        let current = p.current().map(|t| t.table.clone()).unwrap_or_default();
        let data = vec![
            ("current_collection_in_progress", current),
            ("maximum_key", key_text(p.max_key.as_deref())),
            ("last_processed_key", key_text(p.last_key.as_deref())),
        ];
        self.incremental(p, NoticeType::InProgress, data)
    }

    /// `TABLE_SCAN_COMPLETED` of the current table of an incremental snapshot.
    pub fn table_scanned(&self, p: &IncrementalProgress, status: ScanStatus) -> SourceEvent {
        let current = p.current().map(|t| t.table.clone()).unwrap_or_default();
        let data = vec![
            ("scanned_collection", current),
            ("total_rows_scanned", p.rows.to_string()),
            ("status", status.as_str().to_string()),
        ];
        self.incremental(p, NoticeType::TableScanCompleted, data)
    }
}

/// The tables of `p`, joined by `,` (Debezium's `LIST_DELIMITER`).
fn tables_of(p: &IncrementalProgress) -> String {
    p.tables
        .iter()
        .map(|t| t.table.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The first part of a chunk key as text (Debezium's `maximumKey()[0].toString()`);
/// `<none>` when there is none.
pub fn key_text(key: Option<&[KeyPart]>) -> String {
    let Some(first) = key.and_then(|k| k.first()) else {
        return "<none>".into();
    };
    match first {
        KeyPart::Null => "null".into(),
        KeyPart::Int(i) => i.to_string(),
        KeyPart::UInt(u) => u.to_string(),
        KeyPart::Float(f) => f.to_string(),
        KeyPart::Double(d) => d.to_string(),
        KeyPart::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        KeyPart::Date(y, mo, d, h, mi, s, us) => {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}")
        }
        KeyPart::Time(neg, d, h, mi, s, us) => {
            let sign = if *neg { "-" } else { "" };
            format!("{sign}{}:{mi:02}:{s:02}.{us:06}", *d * 24 + u32::from(*h))
        }
    }
}

/// The key as a number, for a progress percentage (integer keys only).
pub fn key_number(key: Option<&[KeyPart]>) -> Option<f64> {
    match key?.first()? {
        KeyPart::Int(i) => Some(*i as f64),
        KeyPart::UInt(u) => Some(*u as f64),
        _ => None,
    }
}

/// A random id in the form of a version-4 UUID (Debezium's `UUID.randomUUID()`).
pub fn uuid() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(SEQ.fetch_add(1, Ordering::Relaxed));
    h.write_i64(now_ms());
    let a = h.finish();
    h.write_u64(a);
    let b = h.finish();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TableTodo;

    fn notices() -> Notices {
        let mut cfg = Config::default();
        cfg.sink.topic_prefix = "dbserver1".into();
        cfg.notifications.topic = Some("notes".into());
        Notices::new(&cfg).unwrap()
    }

    fn progress() -> IncrementalProgress {
        IncrementalProgress {
            tables: vec![
                TableTodo {
                    table: "inv.a".into(),
                    filter: None,
                    surrogate_key: None,
                },
                TableTodo {
                    table: "inv.b".into(),
                    filter: None,
                    surrogate_key: None,
                },
            ],
            last_key: Some(vec![KeyPart::Int(7), KeyPart::Bytes(b"x".to_vec())]),
            max_key: Some(vec![KeyPart::Int(40)]),
            rows: 7,
            correlation_id: Some("sig-1".into()),
            ..Default::default()
        }
    }

    fn note(ev: SourceEvent) -> Notification {
        match ev {
            SourceEvent::Notification(n) => *n,
            _ => panic!("not a notification"),
        }
    }

    #[test]
    fn off_without_a_topic() {
        assert!(Notices::new(&Config::default()).is_none());
    }

    #[test]
    fn incremental_ones_carry_debeziums_fields() {
        let n = notices();
        let p = progress();
        let started = note(n.incremental(&p, NoticeType::Started, vec![]));
        assert_eq!(started.id, "sig-1", "the execute-snapshot signal's id");
        assert_eq!(started.aggregate_type, "Incremental Snapshot");
        assert_eq!(started.kind.as_str(), "STARTED");
        assert_eq!(started.data("data_collections"), Some("inv.a,inv.b"));
        assert_eq!(started.data("connector_name"), Some("dbserver1"));
        let chunk = note(n.chunk(&p));
        assert_eq!(chunk.kind.as_str(), "IN_PROGRESS");
        assert_eq!(chunk.data("current_collection_in_progress"), Some("inv.a"));
        assert_eq!(chunk.data("maximum_key"), Some("40"));
        assert_eq!(chunk.data("last_processed_key"), Some("7"));
        let done = note(n.table_scanned(&p, ScanStatus::Succeeded));
        assert_eq!(done.kind.as_str(), "TABLE_SCAN_COMPLETED");
        assert_eq!(done.data("total_rows_scanned"), Some("7"));
        assert_eq!(done.data("scanned_collection"), Some("inv.a"));
        assert_eq!(done.data("status"), Some("SUCCEEDED"));
        let completed = note(n.incremental(&p, NoticeType::Completed, vec![]));
        assert_eq!(completed.data("data_collections"), None);
        assert_eq!(completed.additional_data.len(), 1);
    }

    #[test]
    fn initial_ones_have_fresh_ids() {
        let n = notices();
        let a = note(n.initial(NoticeType::Started, vec![]));
        let b = note(n.initial(NoticeType::Completed, vec![]));
        assert_eq!(a.aggregate_type, "Initial Snapshot");
        assert_ne!(a.id, b.id);
        assert_eq!(a.id.len(), 36);
        assert_eq!(&a.id[14..15], "4");
    }

    #[test]
    fn key_texts() {
        assert_eq!(key_text(None), "<none>");
        assert_eq!(key_text(Some(&[KeyPart::Bytes(b"k1".to_vec())])), "k1");
        assert_eq!(
            key_text(Some(&[KeyPart::Date(2024, 1, 2, 3, 4, 5, 6)])),
            "2024-01-02T03:04:05.000006"
        );
        assert_eq!(key_number(Some(&[KeyPart::UInt(9)])), Some(9.0));
        assert_eq!(key_number(Some(&[KeyPart::Bytes(vec![])])), None);
    }
}
