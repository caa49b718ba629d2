//! The change model: what the source produces and every later stage consumes.
//!
//! A [`Change`] is one row change (or one snapshot row) with the table schema that was in
//! force when it was written, its position in the log and its commit time.

use std::sync::Arc;

use super::position::{Position, SourceOffset};
use super::table::{Catalog, TableDesc};
use super::value::Value;

/// One row image: a value per column of the table, in column order.
pub type Row = Vec<Value>;

/// The kind of change, as Debezium's `op` letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Create,
    Update,
    Delete,
    /// A snapshot read.
    Read,
    /// `TRUNCATE TABLE`: no row images (Debezium's truncate event).
    Truncate,
}

impl Op {
    pub fn code(self) -> &'static str {
        match self {
            Op::Create => "c",
            Op::Update => "u",
            Op::Delete => "d",
            Op::Read => "r",
            Op::Truncate => "t",
        }
    }
}

/// A set of operations: those `events.skipped_operations` (Debezium's `skipped.operations`)
/// keeps from being emitted. Snapshot reads are never in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpSet(u8);

impl OpSet {
    /// Debezium's default: truncates only.
    pub const TRUNCATES: OpSet = OpSet(1 << 3);

    fn bit(op: Op) -> u8 {
        match op {
            Op::Create => 1,
            Op::Update => 1 << 1,
            Op::Delete => 1 << 2,
            Op::Truncate => 1 << 3,
            Op::Read => 0,
        }
    }

    /// The set of the codes `c`, `u`, `d`, `t` among `codes` (`none` and anything else
    /// adds nothing; the configuration rejects unknown codes).
    pub fn from_codes<S: AsRef<str>>(codes: &[S]) -> Self {
        let mut set = 0;
        for code in codes {
            for op in [Op::Create, Op::Update, Op::Delete, Op::Truncate] {
                if code.as_ref() == op.code() {
                    set |= Self::bit(op);
                }
            }
        }
        OpSet(set)
    }

    /// Whether `op` is in the set (never for a snapshot read).
    pub fn contains(self, op: Op) -> bool {
        self.0 & Self::bit(op) != 0
    }
}

/// Debezium's `source.snapshot` marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnapshotMarker {
    #[default]
    False,
    First,
    True,
    Last,
    /// First row of a table's snapshot other than the first table.
    FirstInDataCollection,
    /// Last row of a table's snapshot other than the last table.
    LastInDataCollection,
    /// A row read by an incremental snapshot (Debezium's `"incremental"`).
    Incremental,
}

impl SnapshotMarker {
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotMarker::False => "false",
            SnapshotMarker::First => "first",
            SnapshotMarker::True => "true",
            SnapshotMarker::Last => "last",
            SnapshotMarker::FirstInDataCollection => "first_in_data_collection",
            SnapshotMarker::LastInDataCollection => "last_in_data_collection",
            SnapshotMarker::Incremental => "incremental",
        }
    }
}

/// A row change.
#[derive(Debug, Clone)]
pub struct Change {
    pub table: Arc<TableDesc>,
    pub op: Op,
    pub before: Option<Row>,
    pub after: Option<Row>,
    pub position: Position,
    /// Commit (event) time in milliseconds since the epoch.
    pub ts_ms: i64,
    pub snapshot: SnapshotMarker,
    /// Thread id of the writing session, from the QUERY event that began the transaction.
    pub thread: Option<u32>,
    /// The statement text, when the server logs it (annotate rows / rows query events).
    pub query: Option<Arc<str>>,
    /// Server id of the server that wrote the event.
    pub server_id: u32,
}

impl Change {
    /// True for an update that changes the primary key. Such an update is sent as a delete
    /// of the old key and a create of the new one ([`Change::split`]), as Debezium does.
    pub fn moves_key(&self) -> bool {
        self.moves_key_on(&self.table.primary_key)
    }

    /// True for an update that changes a column of `key` (indexes into the columns: the
    /// primary key, or the key columns `events.message_key_columns` chose).
    pub fn moves_key_on(&self, key: &[usize]) -> bool {
        if self.op != Op::Update || key.is_empty() {
            return false;
        }
        let (Some(before), Some(after)) = (&self.before, &self.after) else {
            return false;
        };
        key.iter().any(|&i| before.get(i) != after.get(i))
    }

    /// An update that changes the primary key as the delete of the old key and the create
    /// of the new one (Debezium's behaviour, which keyed consumers such as compacted topics
    /// and JDBC sinks rely on); `None` for every other change.
    pub fn split(&self) -> Option<(Change, Change)> {
        self.split_on(&self.table.primary_key)
    }

    /// As [`Change::split`] for an update that changes a column of `key`.
    pub fn split_on(&self, key: &[usize]) -> Option<(Change, Change)> {
        if !self.moves_key_on(key) {
            return None;
        }
        let mut delete = self.clone();
        delete.op = Op::Delete;
        delete.after = None;
        let mut create = self.clone();
        create.op = Op::Create;
        create.before = None;
        Some((delete, create))
    }

    /// How many change events this change becomes: 2 when [`Change::split`] splits it.
    pub fn event_count(&self) -> usize {
        if self.moves_key() {
            2
        } else {
            1
        }
    }
}

/// A DDL statement seen in the log that touches a captured table (or a database).
#[derive(Debug, Clone)]
pub struct SchemaChange {
    pub database: String,
    pub ddl: String,
    pub position: Position,
    pub ts_ms: i64,
    pub server_id: u32,
    /// The tables' schemas after the statement, when known.
    pub tables: Vec<Arc<TableDesc>>,
    /// `CREATE`, `ALTER` or `DROP` (Debezium's `tableChanges[].type`).
    pub change_type: &'static str,
    /// Every known table structure right after the statement: persisted with the
    /// checkpoint once this event is delivered, so that after a restart older events decode
    /// with the structure they were written under.
    pub catalog_after: Option<Catalog>,
    /// `source.table` when it is not the tables of `tables`: a multi-table DROP is one
    /// event per table, each naming all of the statement's tables (sorted), as Debezium's.
    pub source_table: Option<String>,
    /// Written by a snapshot (`source.snapshot = "true"`, no server id or GTID, as
    /// Debezium's snapshot schema changes), not read from the log.
    pub snapshot: bool,
}

/// What the source hands to the pipeline, in log order.
#[derive(Debug, Clone)]
pub enum SourceEvent {
    Change(Box<Change>),
    /// A change of the transaction the stream resumed into that was delivered before (one
    /// of the offset's `skip_rows`): not to be sent again, but it lets transaction metadata
    /// continue its numbering where it stopped.
    Skipped(Box<Change>),
    SchemaChange(Box<SchemaChange>),
    /// A transaction (or a standalone event) is complete: once everything before it has
    /// been delivered, the checkpoint may move to `offset`.
    Commit {
        offset: SourceOffset,
        ts_ms: i64,
    },
    /// A snapshot finished reading `table` (`db.table`): once everything before it has
    /// been delivered, the checkpoint may record the table as done.
    SnapshotTableDone {
        table: String,
    },
    /// The snapshot is complete; streaming continues from `offset`.
    SnapshotCompleted {
        offset: SourceOffset,
    },
    /// A snapshot begins: the checkpoint records it as running from `offset` (tables in
    /// `done` already finished by an interrupted earlier attempt), with the catalog.
    SnapshotStarted {
        offset: SourceOffset,
        done: Vec<String>,
        catalog: Catalog,
    },
    /// An incremental snapshot moved on (a chunk emitted, a table started or finished, a
    /// signal taken): once everything before it has been delivered, the checkpoint records
    /// this progress (`None`: no incremental snapshot remains).
    IncrementalProgress(Option<Box<super::incremental::IncrementalProgress>>),
    /// Debezium's heartbeat (`[heartbeat]`), taken at `ts_ms`: a record on the heartbeat
    /// topic; once it (and everything before it) is delivered the checkpoint may move to
    /// `offset`, where the stream stood between transactions (`None` inside one).
    Heartbeat {
        offset: Option<SourceOffset>,
        ts_ms: i64,
    },
    /// A snapshot notification (`[notifications] topic`): a record of that topic, in order
    /// with the data around it; it moves no checkpoint.
    Notification(Box<super::notification::Notification>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_sets_hold_the_listed_codes_and_never_reads() {
        let s = OpSet::from_codes(&["c", "t"]);
        assert!(s.contains(Op::Create) && s.contains(Op::Truncate));
        assert!(!s.contains(Op::Update) && !s.contains(Op::Delete) && !s.contains(Op::Read));
        assert_eq!(OpSet::from_codes(&["none"]), OpSet::default());
        assert_eq!(OpSet::from_codes(&["t"]), OpSet::TRUNCATES);
        let all = OpSet::from_codes(&["c", "u", "d", "t", "r"]);
        assert!(!all.contains(Op::Read), "snapshot reads are never skipped");
    }
}
