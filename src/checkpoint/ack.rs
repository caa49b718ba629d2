//! The acknowledgement tracker: records go to Kafka in order and are acknowledged in any
//! order; the checkpoint may only move to the offset of the last record of the contiguous
//! acknowledged prefix (the idea of Vector's ordered finalizer).

use std::collections::VecDeque;

use crate::position::SourceOffset;

/// Tracks in-flight records by sequence number.
#[derive(Debug, Default)]
pub struct AckTracker {
    base: u64,
    slots: VecDeque<(bool, Option<SourceOffset>)>,
    committed: Option<SourceOffset>,
}

impl AckTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the next record (or a marker without a record, which is acknowledged at
    /// once); `offset` is where to resume once it and everything before it is delivered.
    pub fn push(&mut self, offset: Option<SourceOffset>, acked: bool) -> u64 {
        let seq = self.base + self.slots.len() as u64;
        self.slots.push_back((acked, offset));
        self.advance();
        seq
    }

    /// Marks `seq` delivered.
    pub fn ack(&mut self, seq: u64) {
        if seq >= self.base {
            if let Some(slot) = self.slots.get_mut((seq - self.base) as usize) {
                slot.0 = true;
            }
        }
        self.advance();
    }

    fn advance(&mut self) {
        while let Some((true, _)) = self.slots.front() {
            if let Some((_, Some(off))) = self.slots.pop_front() {
                self.committed = Some(off);
            }
            self.base += 1;
        }
    }

    /// The offset of the contiguous delivered prefix, if it moved since the last call.
    pub fn take_committed(&mut self) -> Option<SourceOffset> {
        self.committed.take()
    }

    /// Records not yet acknowledged.
    pub fn in_flight(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::position::BinlogPosition;

    fn off(p: u64) -> Option<SourceOffset> {
        Some(SourceOffset {
            binlog: BinlogPosition::new("b.000001", p),
            gtid_set: None,
            skip_rows: 0,
        })
    }

    #[test]
    fn only_contiguous_prefix_commits() {
        let mut t = AckTracker::new();
        let a = t.push(off(10), false);
        let b = t.push(off(20), false);
        let _c = t.push(off(30), true); // a marker, acknowledged at once
        t.ack(b);
        assert_eq!(t.take_committed(), None, "a is still in flight");
        t.ack(a);
        assert_eq!(t.take_committed().unwrap().binlog.pos, 30);
        assert_eq!(t.in_flight(), 0);
    }
}
