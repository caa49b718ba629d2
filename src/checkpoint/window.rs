//! The acknowledgement window: every record handed to the sink (and every mark-only item)
//! gets the next sequence number and a slot, in source order. Acknowledgements arrive in
//! any order and mark their slot; only the marks of the acknowledged *prefix* are released,
//! in order — so the checkpoint never names a position beyond a record Kafka has not
//! acknowledged (Vector's `OrderedFinalizer`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use super::handle::StoreHandle;
use super::marks::{CheckpointState, Mark};
use crate::error::Result;
use crate::metrics;
use crate::model::budget::Charge;
use crate::sink::Ack;

/// One record (or mark-only item) not yet part of the acknowledged prefix.
struct Slot {
    seq: u64,
    mark: Option<Mark>,
    sent_at: Option<Instant>,
    /// For the error message if its delivery fails.
    topic: Arc<str>,
    position: Arc<str>,
    done: bool,
    /// Bytes of the budget the item holds until it leaves the window.
    charge: Charge,
}

/// The records in flight, in submission order.
#[derive(Default)]
pub struct AckWindow {
    slots: VecDeque<Slot>,
    next_seq: u64,
    /// When the last successful acknowledgement arrived.
    last_ack: Option<Instant>,
}

impl AckWindow {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Since when Kafka keeps the front of the window waiting: the oldest unacknowledged
    /// record's send, or the last acknowledgement if that came later; `None` when every
    /// record handed over is acknowledged.
    pub fn waiting_since(&self) -> Option<Instant> {
        let front = self.slots.iter().find(|s| !s.done)?.sent_at?;
        Some(self.last_ack.map_or(front, |a| a.max(front)))
    }

    /// The sequence number the next record must be sent with.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// A record was handed to the sink with [`Self::next_seq`].
    pub fn push_sent(
        &mut self,
        mark: Option<Mark>,
        sent_at: Instant,
        topic: Arc<str>,
        position: Arc<str>,
    ) {
        self.push(Slot {
            seq: self.next_seq,
            mark,
            sent_at: Some(sent_at),
            topic,
            position,
            done: false,
            charge: Charge::default(),
        });
    }

    /// An item with a mark and no record: it needs no acknowledgement of its own.
    pub fn push_mark(&mut self, mark: Option<Mark>) {
        self.push(Slot {
            seq: self.next_seq,
            mark,
            sent_at: None,
            topic: Arc::from(""),
            position: Arc::from(""),
            done: true,
            charge: Charge::default(),
        });
    }

    /// The last item pushed holds `charge` until it leaves the window (acknowledged and
    /// part of the acknowledged prefix): its source event's bytes stay counted until then.
    pub fn hold(&mut self, charge: Charge) {
        if let Some(last) = self.slots.back_mut() {
            last.charge.absorb(charge);
        }
    }

    fn push(&mut self, slot: Slot) {
        self.slots.push_back(slot);
        self.next_seq += 1;
    }

    /// Files acknowledgements; the first failed delivery is returned as the error that
    /// names its record's topic and position.
    pub fn acknowledge(&mut self, acks: &mut Vec<Ack>) -> Result<()> {
        let now = Instant::now();
        let base = self.slots.front().map_or(0, |f| f.seq);
        for (seq, outcome) in acks.drain(..) {
            let Some(slot) = seq
                .checked_sub(base)
                .and_then(|i| self.slots.get_mut(i as usize))
            else {
                continue; // not in the window: a report from before a restart
            };
            match outcome {
                Ok(()) => {
                    slot.done = true;
                    self.last_ack = Some(now);
                    if let Some(t) = slot.sent_at {
                        metrics::delivered(now.duration_since(t).as_secs_f64());
                    }
                }
                Err(f) => {
                    metrics::delivery_error();
                    return Err(f.into_error(&slot.topic, &slot.position));
                }
            }
        }
        Ok(())
    }

    /// Applies the marks of the acknowledged prefix to `state`, in order, and removes that
    /// prefix. Snapshot progress is saved at once.
    pub async fn advance(
        &mut self,
        state: &mut CheckpointState,
        store: &StoreHandle,
    ) -> Result<()> {
        while self.slots.front().is_some_and(|f| f.done) {
            let Some(slot) = self.slots.pop_front() else {
                break;
            };
            if let Some(m) = slot.mark {
                let at_once = m.saves_at_once();
                state.apply(m);
                if at_once {
                    state.save(store, "snapshot progress").await?;
                }
            }
        }
        metrics::in_flight(self.slots.len());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::store::SledStore;
    use crate::checkpoint::{test_checkpoint, CheckpointStore};
    use crate::model::{BinlogPosition, Flavor, RowMark, SourceOffset};

    fn row(pos: u64, skip_rows: u64) -> Option<Mark> {
        Some(Mark::Row(RowMark {
            file: Arc::from("bin.000001"),
            pos,
            gtid_before: None,
            skip_rows,
        }))
    }

    fn sent(w: &mut AckWindow, mark: Option<Mark>) -> u64 {
        let seq = w.next_seq();
        w.push_sent(mark, Instant::now(), Arc::from("t"), Arc::from("p"));
        seq
    }

    /// What `/readyz` is told: since when the oldest unacknowledged record waits, counted
    /// from the last acknowledgement when one came later; nothing once all are in.
    #[test]
    fn waiting_since_is_the_front_record_or_the_last_ack() {
        let mut w = AckWindow::default();
        assert_eq!(w.waiting_since(), None);
        w.push_mark(row(1, 0));
        assert_eq!(w.waiting_since(), None, "a mark waits for nothing");
        let t0 = Instant::now();
        let a = w.next_seq();
        w.push_sent(None, t0, Arc::from("t"), Arc::from("p"));
        let b = sent(&mut w, None);
        assert_eq!(w.waiting_since(), Some(t0));
        w.acknowledge(&mut vec![(b, Ok(()))]).unwrap();
        let after_ack = w.waiting_since().unwrap();
        assert!(after_ack > t0, "an acknowledgement shows Kafka answers");
        w.acknowledge(&mut vec![(a, Ok(()))]).unwrap();
        assert_eq!(w.waiting_since(), None);
    }

    /// Acknowledgements arriving out of order move the checkpoint only over the
    /// acknowledged prefix, in submission order, and what is stored names exactly that.
    #[tokio::test]
    async fn only_the_acknowledged_prefix_moves_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let sled = Arc::new(SledStore::open(dir.path()).unwrap());
        let store = StoreHandle::new(sled.clone());
        let mut st = CheckpointState::new(Some(test_checkpoint()), Flavor::Mariadb);
        let mut w = AckWindow::default();
        let first = sent(&mut w, row(100, 1));
        let tomb = sent(&mut w, None); // a tombstone: no mark of its own
        let second = sent(&mut w, row(100, 2));
        let commit = SourceOffset {
            binlog: BinlogPosition::new("bin.000001", 500),
            gtid_set: None,
            skip_rows: 0,
        };
        let last = sent(&mut w, Some(Mark::Offset(Box::new(commit.clone()))));

        // The last two are acknowledged first: nothing may move.
        w.acknowledge(&mut vec![(last, Ok(())), (second, Ok(()))])
            .unwrap();
        w.advance(&mut st, &store).await.unwrap();
        assert_eq!(w.len(), 4);
        st.save(&store, "test").await.unwrap();
        assert!(sled.load().unwrap().is_none(), "nothing is delivered yet");

        // The first one: the checkpoint may resume after its change, inside the transaction.
        w.acknowledge(&mut vec![(first, Ok(()))]).unwrap();
        w.advance(&mut st, &store).await.unwrap();
        assert_eq!(w.len(), 3);
        st.save(&store, "test").await.unwrap();
        let saved = sled.load().unwrap().unwrap().offset;
        assert_eq!((saved.binlog.pos, saved.skip_rows), (100, 1));

        // The gap closes: everything up to the commit is delivered.
        w.acknowledge(&mut vec![(tomb, Ok(()))]).unwrap();
        w.advance(&mut st, &store).await.unwrap();
        assert!(w.is_empty());
        st.save(&store, "test").await.unwrap();
        assert_eq!(sled.load().unwrap().unwrap().offset, commit);
    }

    /// A failed delivery is the error, naming its record's topic and position.
    #[test]
    fn a_failed_delivery_names_its_record() {
        let mut w = AckWindow::default();
        let seq = w.next_seq();
        w.push_sent(
            None,
            Instant::now(),
            Arc::from("shop.orders"),
            Arc::from("bin.000001:120"),
        );
        let err = w
            .acknowledge(&mut vec![(
                seq,
                Err(crate::sink::Failure::Io("disk full".into())),
            )])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("shop.orders") && err.contains("bin.000001:120"),
            "{err}"
        );
    }
}
