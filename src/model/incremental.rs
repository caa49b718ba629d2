//! Progress of incremental snapshots (the DBLog watermark algorithm), as the checkpoint
//! keeps it: which tables remain, where the current one stands, and the key bounds — so a
//! restart or a crash resumes from the last chunk Kafka acknowledged.

use serde::{Deserialize, Serialize};

/// One value of a chunk key, exactly as the server's binary protocol returned it, so it
/// can be bound again as a parameter of the next chunk's `SELECT`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyPart {
    Null,
    Int(i64),
    UInt(u64),
    Float(f32),
    Double(f64),
    Bytes(Vec<u8>),
    /// Year, month, day, hour, minute, second, microsecond.
    Date(u16, u8, u8, u8, u8, u8, u32),
    /// Negative, days, hours, minutes, seconds, microseconds.
    Time(bool, u32, u8, u8, u8, u32),
}

/// A table an incremental snapshot still has to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableTodo {
    /// `db.table`.
    pub table: String,
    /// The `additional-conditions` filter (a SQL condition), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The signal's `surrogate-key`: the column that orders the chunks instead of the
    /// primary key (before `[snapshot] surrogate_keys`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surrogate_key: Option<String>,
}

/// Where the incremental snapshot stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IncrementalProgress {
    /// Tables still to read; the first one is being read.
    pub tables: Vec<TableTodo>,
    /// The key of the last row of the current table emitted (and acknowledged): the next
    /// chunk starts after it. `None`: the table starts from its first row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_key: Option<Vec<KeyPart>>,
    /// The current table's largest key when its snapshot began: rows inserted later come
    /// through the stream, so the snapshot stops there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_key: Option<Vec<KeyPart>>,
    /// Chunks emitted of the current table.
    #[serde(default)]
    pub chunks_done: u64,
    /// Rows emitted of the current table.
    #[serde(default)]
    pub rows: u64,
    /// A `pause-snapshot` signal holds it until `resume-snapshot`.
    #[serde(default)]
    pub paused: bool,
    /// The ids of the latest `execute-snapshot` signals taken (a signal read again after a
    /// restart is not taken twice).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signal_ids: Vec<String>,
    /// The next offset of the Kafka signal topic (`[signals] kafka_topic`) to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka_offset: Option<i64>,
    /// The id of the `execute-snapshot` signal that started the running snapshot (the id
    /// of its notifications, as Debezium's correlation id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// A blocking snapshot taken but whose rows are not yet all acknowledged: a restart
    /// takes it again (absent in older checkpoints: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking: Option<BlockingRequest>,
}

/// A blocking snapshot to take: its signal, tables and per-table filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockingRequest {
    /// The `execute-snapshot` signal's id.
    pub signal: String,
    /// `db.table`, captured.
    pub tables: Vec<String>,
    /// `db.table` → SQL condition (`additional-conditions`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub filters: std::collections::BTreeMap<String, String>,
}

impl IncrementalProgress {
    /// How many signal ids are remembered.
    pub const SIGNAL_IDS: usize = 64;

    /// Whether the checkpoint must keep it (something to resume, remember or filter).
    pub fn worth_keeping(&self) -> bool {
        self.is_active()
            || !self.signal_ids.is_empty()
            || self.kafka_offset.is_some()
            || self.blocking.is_some()
    }

    /// Whether anything remains to be read.
    pub fn is_active(&self) -> bool {
        !self.tables.is_empty()
    }

    /// The table being read.
    pub fn current(&self) -> Option<&TableTodo> {
        self.tables.first()
    }

    /// The current table is finished: the next one starts from its first row.
    pub fn next_table(&mut self) {
        if !self.tables.is_empty() {
            self.tables.remove(0);
        }
        self.last_key = None;
        self.max_key = None;
        self.chunks_done = 0;
        self.rows = 0;
    }

    /// Remembers an `execute-snapshot` signal's id; false if it was taken already.
    pub fn take_signal(&mut self, id: &str) -> bool {
        if id.is_empty() {
            return true;
        }
        if self.signal_ids.iter().any(|s| s == id) {
            return false;
        }
        self.signal_ids.push(id.to_string());
        let extra = self.signal_ids.len().saturating_sub(Self::SIGNAL_IDS);
        self.signal_ids.drain(..extra);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_is_taken_once_and_the_memory_is_bounded() {
        let mut p = IncrementalProgress::default();
        assert!(p.take_signal("a"));
        assert!(!p.take_signal("a"));
        for i in 0..100 {
            assert!(p.take_signal(&format!("s{i}")));
        }
        assert_eq!(p.signal_ids.len(), IncrementalProgress::SIGNAL_IDS);
        assert!(p.take_signal("a"), "forgotten after 64 newer ones");
    }

    #[test]
    fn next_table_resets_the_position() {
        let mut p = IncrementalProgress {
            tables: vec![
                TableTodo {
                    table: "a.b".into(),
                    filter: None,
                    surrogate_key: None,
                },
                TableTodo {
                    table: "a.c".into(),
                    filter: Some("x > 1".into()),
                    surrogate_key: None,
                },
            ],
            last_key: Some(vec![KeyPart::Int(5)]),
            max_key: Some(vec![KeyPart::Int(9)]),
            chunks_done: 3,
            rows: 30,
            ..Default::default()
        };
        p.next_table();
        assert_eq!(p.current().unwrap().table, "a.c");
        assert!(p.last_key.is_none() && p.max_key.is_none() && p.chunks_done == 0);
        p.next_table();
        assert!(!p.is_active());
    }
}
