//! Debezium's transaction metadata (`provide.transaction.metadata`): the `transaction`
//! block of each streamed data event (`{id, total_order, data_collection_order}`) and the
//! `BEGIN`/`END` boundary events of the `<prefix>.transaction` topic.
//!
//! [`TransactionMonitor`] keeps only counters for the open transaction — its id, the number
//! of data events so far and one count per table — never the rows, so a transaction of a
//! million rows costs the same memory as one of a single row.
//!
//! Rules, as Debezium's binlog connectors apply them:
//! - the id is the transaction's GTID (`uuid:gno` on MySQL, `domain-server-seq` on MariaDB),
//!   else `file=<binlog file>,pos=<offset of the transaction's start>`;
//! - every data event (a key change — primary key or `events.message_key_columns` — counts
//!   twice: its delete and its create, as the encoder splits it)
//!   increments `total_order` and the table's `data_collection_order`; tombstones are not
//!   data events and snapshot reads carry no block;
//! - `data_collection` names the table as `db.table` (without the topic prefix).
//!
//! Differences, on purpose: a transaction that touches no captured table produces no
//! `BEGIN`/`END` (Debezium sends both, with `event_count` 0), and `data_collections` lists
//! tables in the order the transaction first touched them.
//!
//! Resuming inside a transaction: the source hands over the changes it skips (delivered
//! before the restart, `SourceEvent::Skipped`) so the counters continue where they stopped,
//! and no second `BEGIN` is sent — it was delivered before the first of those changes.

use std::sync::Arc;

use crate::envelope::schema::Datum;
use crate::model::{Change, Position, TableDesc};

/// The suffix of the transaction topic: `<topic_prefix>.transaction` (Debezium's default
/// `topic.transaction`).
pub const TOPIC_SUFFIX: &str = "transaction";

/// The `transaction` block of one data event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnBlock {
    pub id: String,
    pub total_order: u64,
    pub data_collection_order: u64,
}

impl TxnBlock {
    /// The datum of Debezium's `event.block` struct (see [`super::transaction_schema`]).
    pub fn datum(&self) -> Datum {
        Datum::Struct(vec![
            Datum::str(self.id.clone()),
            Datum::Int(self.total_order as i64),
            Datum::Int(self.data_collection_order as i64),
        ])
    }
}

/// A `BEGIN` or `END` event of the transaction topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Boundary {
    Begin {
        id: String,
        ts_ms: i64,
    },
    End {
        id: String,
        ts_ms: i64,
        event_count: u64,
        /// `(db.table, events)` in the order the transaction first touched each table.
        data_collections: Vec<(String, u64)>,
    },
}

impl Boundary {
    pub fn id(&self) -> &str {
        match self {
            Boundary::Begin { id, .. } | Boundary::End { id, .. } => id,
        }
    }

    /// The key datum `{id}` (`io.debezium.connector.common.TransactionMetadataKey`).
    pub fn key_datum(&self) -> Datum {
        Datum::Struct(vec![Datum::str(self.id())])
    }

    /// The value datum `{status, id, event_count, data_collections, ts_ms}`
    /// (`io.debezium.connector.common.TransactionMetadataValue`).
    pub fn value_datum(&self) -> Datum {
        match self {
            Boundary::Begin { id, ts_ms } => Datum::Struct(vec![
                Datum::str("BEGIN"),
                Datum::str(id.clone()),
                Datum::Null,
                Datum::Null,
                Datum::Int(*ts_ms),
            ]),
            Boundary::End {
                id,
                ts_ms,
                event_count,
                data_collections,
            } => Datum::Struct(vec![
                Datum::str("END"),
                Datum::str(id.clone()),
                Datum::Int(*event_count as i64),
                Datum::Array(
                    data_collections
                        .iter()
                        .map(|(t, n)| {
                            Datum::Struct(vec![Datum::str(t.clone()), Datum::Int(*n as i64)])
                        })
                        .collect(),
                ),
                Datum::Int(*ts_ms),
            ]),
        }
    }
}

/// The transaction id Debezium gives the transaction of `p`: its GTID, else
/// `file=<file>,pos=<pos>` of the transaction's start.
pub fn transaction_id(p: &Position) -> String {
    match &p.gtid {
        Some(g) => g.to_string(),
        None => format!("file={},pos={}", p.txn_file, p.txn_pos),
    }
}

/// The open transaction's counters.
#[derive(Debug)]
struct Open {
    gtid: Option<Arc<str>>,
    file: Arc<str>,
    pos: u64,
    id: String,
    total: u64,
    /// Tables in first-touched order with their event counts (a handful per transaction).
    tables: Vec<(Arc<TableDesc>, u64)>,
    /// The source's index (`Position::txn_row`) of the next change not yet counted: changes
    /// replayed after a reconnect are counted once.
    next_row: u64,
}

impl Open {
    fn is(&self, p: &Position) -> bool {
        match (&self.gtid, &p.gtid) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.pos == p.txn_pos && self.file == p.txn_file,
            _ => false,
        }
    }

    fn end(self, ts_ms: i64) -> Boundary {
        Boundary::End {
            id: self.id,
            ts_ms,
            event_count: self.total,
            data_collections: self
                .tables
                .iter()
                .map(|(t, n)| (format!("{}.{}", t.db, t.name), *n))
                .collect(),
        }
    }
}

/// Numbers the data events of the open transaction and says when to send `BEGIN`/`END`.
#[derive(Debug, Default)]
pub struct TransactionMonitor {
    open: Option<Open>,
}

impl TransactionMonitor {
    pub fn new() -> Self {
        Self::default()
    }

    /// A streamed change is about to be sent as `events` data events (1, or 2 for a
    /// primary-key change). Returns the boundaries to send before them (`BEGIN` of a new
    /// transaction, preceded by the `END` of an unfinished one) and one block per event.
    pub fn data_event(&mut self, c: &Change, events: u64) -> (Vec<Boundary>, Vec<TxnBlock>) {
        let mut boundaries = Vec::new();
        let open = self.enter(c, Some(&mut boundaries));
        open.next_row = open.next_row.max(c.position.txn_row + 1);
        let blocks = (0..events).map(|_| count(open, &c.table)).collect();
        (boundaries, blocks)
    }

    /// A change the source skipped because it was delivered before a restart: counted
    /// (once, even when a reconnect replays it again) so the numbering continues, without a
    /// `BEGIN` (that was delivered before the change).
    pub fn skipped(&mut self, c: &Change, events: u64) {
        let open = self.enter(c, None);
        if c.position.txn_row >= open.next_row {
            open.next_row = c.position.txn_row + 1;
            for _ in 0..events {
                count(open, &c.table);
            }
        }
    }

    /// The transaction committed at `ts_ms`: its `END`, if it had data events.
    pub fn commit(&mut self, ts_ms: i64) -> Option<Boundary> {
        self.open.take().map(|o| o.end(ts_ms))
    }

    /// Makes `c`'s transaction the open one. When it is new and `begin` is given, pushes
    /// the `END` of a transaction left open (its commit never came) and the new `BEGIN`.
    fn enter(&mut self, c: &Change, begin: Option<&mut Vec<Boundary>>) -> &mut Open {
        match self.open.take() {
            Some(o) if o.is(&c.position) => self.open.insert(o),
            previous => {
                let id = transaction_id(&c.position);
                if let Some(out) = begin {
                    if let Some(prev) = previous {
                        out.push(prev.end(c.ts_ms));
                    }
                    out.push(Boundary::Begin {
                        id: id.clone(),
                        ts_ms: c.ts_ms,
                    });
                }
                self.open.insert(Open {
                    gtid: c.position.gtid.clone(),
                    file: c.position.txn_file.clone(),
                    pos: c.position.txn_pos,
                    id,
                    total: 0,
                    tables: Vec::new(),
                    next_row: 0,
                })
            }
        }
    }
}

/// Counts one data event of `table`; returns its block.
fn count(open: &mut Open, table: &Arc<TableDesc>) -> TxnBlock {
    open.total += 1;
    let i = match open
        .tables
        .iter()
        .position(|(t, _)| t.name == table.name && t.db == table.db)
    {
        Some(i) => i,
        None => {
            open.tables.push((table.clone(), 0));
            open.tables.len() - 1
        }
    };
    open.tables[i].1 += 1;
    TxnBlock {
        id: open.id.clone(),
        total_order: open.total,
        data_collection_order: open.tables[i].1,
    }
}

/// What transaction metadata adds around one source event, decided in source order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TxnMeta {
    /// Boundaries to send before the event's records (`BEGIN`, maybe an unfinished `END`).
    pub before: Vec<Boundary>,
    /// One block per data event of a change (two for a primary-key change).
    pub blocks: Vec<TxnBlock>,
    /// The `END` to send for a commit; it carries the commit's checkpoint mark.
    pub end: Option<Boundary>,
}

impl TransactionMonitor {
    /// The metadata of one source event; must see every event, in source order. A change
    /// counts as [`Change::event_count`] data events (its primary key decides the split).
    pub fn annotate(&mut self, ev: &crate::model::SourceEvent) -> TxnMeta {
        self.annotate_counted(ev, &mut |c| c.event_count())
    }

    /// As [`Self::annotate`], with `events` saying how many data events a change becomes
    /// (2 when the encoder splits it: its key — primary key or `events.message_key_columns`
    /// — moved), so both halves of a split carry a block and count, as in Debezium.
    pub fn annotate_counted(
        &mut self,
        ev: &crate::model::SourceEvent,
        events: &mut dyn FnMut(&Change) -> usize,
    ) -> TxnMeta {
        use crate::model::{Op, SourceEvent};
        match ev {
            SourceEvent::Change(c) if c.op != Op::Read => {
                let (before, blocks) = self.data_event(c, events(c) as u64);
                TxnMeta {
                    before,
                    blocks,
                    end: None,
                }
            }
            SourceEvent::Skipped(c) => {
                self.skipped(c, events(c) as u64);
                TxnMeta::default()
            }
            SourceEvent::Commit { ts_ms, .. } => TxnMeta {
                end: self.commit(*ts_ms),
                ..TxnMeta::default()
            },
            _ => TxnMeta::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        ColumnDesc, ColumnKind, Op, SnapshotMarker, SourceEvent, SourceOffset, Value,
    };

    fn table(name: &str) -> Arc<TableDesc> {
        Arc::new(TableDesc {
            db: "shop".into(),
            name: name.into(),
            columns: vec![ColumnDesc::new("id", ColumnKind::Int)],
            primary_key: vec![0],
            charset_name: None,
            comment: None,
        })
    }

    /// The `row`-th captured change of the transaction `gtid` (or, without one, of the
    /// transaction starting at mariadb-bin.000002:900).
    fn change(t: &Arc<TableDesc>, gtid: Option<&str>, row: u64) -> Change {
        Change {
            table: t.clone(),
            op: Op::Create,
            before: None,
            after: Some(vec![Value::Int(row as i64)]),
            position: Position {
                file: Arc::from("mariadb-bin.000002"),
                pos: 1000 + row,
                row: 0,
                gtid: gtid.map(Arc::from),
                txn_file: Arc::from("mariadb-bin.000002"),
                txn_pos: 900,
                txn_row: row,
                gtid_before: None,
            },
            ts_ms: 1_700_000_000_000,
            snapshot: SnapshotMarker::False,
            thread: None,
            query: None,
            server_id: 1,
        }
    }

    fn commit(ts_ms: i64) -> SourceEvent {
        SourceEvent::Commit {
            offset: SourceOffset {
                binlog: crate::model::BinlogPosition::new("mariadb-bin.000002", 2000),
                gtid_set: None,
                skip_rows: 0,
            },
            ts_ms,
        }
    }

    fn block(id: &str, total: u64, per_table: u64) -> TxnBlock {
        TxnBlock {
            id: id.into(),
            total_order: total,
            data_collection_order: per_table,
        }
    }

    #[test]
    fn numbers_a_transaction_over_two_tables() {
        let (a, b) = (table("a"), table("b"));
        let mut m = TransactionMonitor::new();
        let id = "0-1-42";
        let m1 = m.annotate(&SourceEvent::Change(Box::new(change(&a, Some(id), 0))));
        assert_eq!(
            m1.before,
            vec![Boundary::Begin {
                id: id.into(),
                ts_ms: 1_700_000_000_000
            }]
        );
        assert_eq!(m1.blocks, vec![block(id, 1, 1)]);
        let m2 = m.annotate(&SourceEvent::Change(Box::new(change(&b, Some(id), 1))));
        assert!(m2.before.is_empty());
        assert_eq!(m2.blocks, vec![block(id, 2, 1)]);
        let m3 = m.annotate(&SourceEvent::Change(Box::new(change(&a, Some(id), 2))));
        assert_eq!(m3.blocks, vec![block(id, 3, 2)]);
        let end = m.annotate(&commit(1_700_000_000_999));
        assert_eq!(
            end.end,
            Some(Boundary::End {
                id: id.into(),
                ts_ms: 1_700_000_000_999,
                event_count: 3,
                data_collections: vec![("shop.a".into(), 2), ("shop.b".into(), 1)],
            })
        );
        // A transaction that touched no captured table: its commit sends nothing.
        assert_eq!(m.annotate(&commit(1)), TxnMeta::default());
    }

    #[test]
    fn id_without_gtid_is_file_and_pos_of_the_transaction_start() {
        let c = change(&table("a"), None, 0);
        assert_eq!(
            transaction_id(&c.position),
            "file=mariadb-bin.000002,pos=900"
        );
        let c = change(
            &table("a"),
            Some("3e11fa47-71ca-11e1-9e33-c80aa9429562:23"),
            0,
        );
        assert_eq!(
            transaction_id(&c.position),
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:23"
        );
    }

    #[test]
    fn primary_key_change_counts_twice_and_snapshot_reads_not_at_all() {
        let a = table("a");
        let mut m = TransactionMonitor::new();
        let mut read = change(&a, None, 0);
        read.op = Op::Read;
        assert_eq!(
            m.annotate(&SourceEvent::Change(Box::new(read))),
            TxnMeta::default()
        );
        let mut moved = change(&a, Some("0-1-7"), 0);
        moved.op = Op::Update;
        moved.before = Some(vec![Value::Int(1)]);
        moved.after = Some(vec![Value::Int(2)]);
        let meta = m.annotate(&SourceEvent::Change(Box::new(moved)));
        assert_eq!(
            meta.blocks,
            vec![block("0-1-7", 1, 1), block("0-1-7", 2, 2)]
        );
        let Some(Boundary::End { event_count, .. }) = m.commit(0) else {
            panic!("an END");
        };
        assert_eq!(event_count, 2);
    }

    #[test]
    fn resuming_mid_transaction_continues_the_numbering_without_a_second_begin() {
        let (a, b) = (table("a"), table("b"));
        let id = "0-1-9";
        let mut m = TransactionMonitor::new();
        // Delivered before the restart: a, b, a.
        for (t, row) in [(&a, 0), (&b, 1), (&a, 2)] {
            m.annotate(&SourceEvent::Skipped(Box::new(change(t, Some(id), row))));
        }
        // A reconnect replays them once more: still counted once.
        m.annotate(&SourceEvent::Skipped(Box::new(change(&a, Some(id), 0))));
        let meta = m.annotate(&SourceEvent::Change(Box::new(change(&b, Some(id), 3))));
        assert!(meta.before.is_empty(), "no second BEGIN");
        assert_eq!(meta.blocks, vec![block(id, 4, 2)]);
        let Some(Boundary::End {
            event_count,
            data_collections,
            ..
        }) = m.commit(0)
        else {
            panic!("an END");
        };
        assert_eq!(event_count, 4);
        assert_eq!(
            data_collections,
            vec![("shop.a".into(), 2), ("shop.b".into(), 2)]
        );
    }

    #[test]
    fn a_transaction_left_open_ends_before_the_next_begins() {
        let a = table("a");
        let mut m = TransactionMonitor::new();
        m.annotate(&SourceEvent::Change(Box::new(change(&a, Some("0-1-1"), 0))));
        let meta = m.annotate(&SourceEvent::Change(Box::new(change(&a, Some("0-1-2"), 0))));
        assert!(
            matches!(&meta.before[..], [Boundary::End { id, event_count: 1, .. }, Boundary::Begin { id: id2, .. }] if id == "0-1-1" && id2 == "0-1-2")
        );
        assert_eq!(meta.blocks, vec![block("0-1-2", 1, 1)]);
    }
}
