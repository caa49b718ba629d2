//! A notification about a snapshot (Debezium's `io.debezium.pipeline.notification.
//! Notification`): what the sink notification channel writes to `[notifications] topic` as
//! a record, keyed by its id.

/// `aggregate_type` of the initial snapshot's notifications.
pub const INITIAL_SNAPSHOT: &str = "Initial Snapshot";
/// `aggregate_type` of incremental snapshots' notifications.
pub const INCREMENTAL_SNAPSHOT: &str = "Incremental Snapshot";

/// Debezium's `SnapshotStatus` / `SnapshotResultStatus` names (the notification `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeType {
    Started,
    InProgress,
    TableScanCompleted,
    Completed,
    Aborted,
    Paused,
    Resumed,
}

impl NoticeType {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeType::Started => "STARTED",
            NoticeType::InProgress => "IN_PROGRESS",
            NoticeType::TableScanCompleted => "TABLE_SCAN_COMPLETED",
            NoticeType::Completed => "COMPLETED",
            NoticeType::Aborted => "ABORTED",
            NoticeType::Paused => "PAUSED",
            NoticeType::Resumed => "RESUMED",
        }
    }
}

/// One notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The incremental snapshot's `execute-snapshot` signal id (Debezium's correlation id),
    /// else a fresh UUID-shaped id.
    pub id: String,
    pub aggregate_type: &'static str,
    pub kind: NoticeType,
    /// `additional_data` (a `map<string,string>`), in the order Debezium's services build
    /// it; `connector_name` is always present.
    pub additional_data: Vec<(String, String)>,
    /// Milliseconds since the epoch when it was made.
    pub timestamp: i64,
}

impl Notification {
    /// The value of one `additional_data` entry.
    pub fn data(&self, key: &str) -> Option<&str> {
        self.additional_data
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}
