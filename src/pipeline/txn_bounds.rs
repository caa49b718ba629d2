//! Exactly-once (`sink.delivery = "exactly_once"`): when the sink loop may and must commit
//! the open transaction.
//!
//! A transaction may end only where the state can name exactly the position after its
//! last record: after an item that carries a checkpoint mark. The last record of every
//! change carries its change's mark (with `skip_rows`, so a commit may fall inside a source
//! transaction and the restart resumes after the last committed row); snapshot rows carry
//! none until their table's mark, so a table's snapshot rows are never split across
//! transactions. Within those points a transaction commits once it holds
//! `sink.transaction_max_records` records or `sink.transaction_max_bytes` bytes, or has
//! been open `sink.transaction_max_ms`.

use std::time::{Duration, Instant};

use crate::config::SinkConfig;

pub struct TxnBounds {
    max_age: Duration,
    max_records: usize,
    max_bytes: usize,
    records: usize,
    bytes: usize,
    /// When the first item of the open transaction was handed over.
    opened: Option<Instant>,
    /// The last item handed over carried a mark (the state can name the position after it).
    at_boundary: bool,
}

impl TxnBounds {
    pub fn new(cfg: &SinkConfig) -> Self {
        Self {
            max_age: Duration::from_millis(cfg.transaction_max_ms),
            max_records: cfg.transaction_max_records,
            max_bytes: cfg.transaction_max_bytes,
            records: 0,
            bytes: 0,
            opened: None,
            at_boundary: true,
        }
    }

    /// An item was handed over: a record of `bytes` bytes (`None`: a mark-only item), with a
    /// mark or not.
    pub fn handed(&mut self, bytes: Option<usize>, has_mark: bool) {
        if bytes.is_none() && !has_mark {
            return;
        }
        self.opened.get_or_insert_with(Instant::now);
        if let Some(b) = bytes {
            self.records += 1;
            self.bytes += b;
        }
        self.at_boundary = has_mark;
    }

    /// Whether anything was handed over since the last commit.
    pub fn is_open(&self) -> bool {
        self.opened.is_some()
    }

    /// Whether the transaction could end here.
    pub fn at_boundary(&self) -> bool {
        self.at_boundary
    }

    /// The transaction holds as much as it may: stop handing over at the next boundary.
    pub fn full(&self) -> bool {
        self.records >= self.max_records || self.bytes >= self.max_bytes
    }

    /// It is time to commit (and allowed).
    pub fn due(&self) -> bool {
        self.at_boundary
            && self
                .opened
                .is_some_and(|t| self.full() || t.elapsed() >= self.max_age)
    }

    /// The transaction ended (committed or aborted).
    pub fn reset(&mut self) {
        self.records = 0;
        self.bytes = 0;
        self.opened = None;
        self.at_boundary = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(max_records: usize) -> TxnBounds {
        TxnBounds::new(&SinkConfig {
            transaction_max_records: max_records,
            transaction_max_ms: 60_000,
            ..SinkConfig::default()
        })
    }

    /// A full transaction waits for the record that carries a mark (the end of a change,
    /// or of a snapshot table) before it may commit.
    #[test]
    fn commits_only_after_a_marked_item() {
        let mut b = bounds(2);
        assert!(!b.is_open() && !b.due());
        b.handed(Some(10), false);
        b.handed(Some(10), false);
        assert!(
            b.full() && !b.due(),
            "a change's records without its mark yet"
        );
        b.handed(Some(10), true);
        assert!(b.due());
        b.reset();
        assert!(!b.is_open() && !b.due());
        b.handed(None, false);
        assert!(
            !b.is_open(),
            "an item with neither record nor mark opens nothing"
        );
        b.handed(None, true);
        assert!(b.is_open() && b.at_boundary() && !b.due());
    }

    #[test]
    fn commits_on_age() {
        let mut b = TxnBounds::new(&SinkConfig {
            transaction_max_ms: 1,
            ..SinkConfig::default()
        });
        b.handed(Some(1), true);
        std::thread::sleep(Duration::from_millis(5));
        assert!(b.due());
    }
}
