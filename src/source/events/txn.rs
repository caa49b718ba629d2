//! GTID and transaction bookkeeping of the [`EventHandler`]: opening a transaction at its
//! GTID (MySQL, MariaDB or anonymous) and closing it with a `Commit`.
//!
//! Invariant: the executed GTID set only grows at a commit, by the GTID the transaction
//! opened with, so a `Commit`'s offset always names a point between transactions; the
//! skip counter of a resumed transaction is disarmed at its first commit.

use std::sync::Arc;

use mysql_common::binlog::events::{Event, GtidEvent, PreviousGtidsEvent};

use super::{EventHandler, MARIADB_FL_STANDALONE};
use crate::error::Result;
use crate::model::{
    BinlogPosition, Flavor, GtidSet, MariadbGtid, MariadbGtidList, MysqlGtidSet, SourceEvent,
    SourceOffset,
};

/// The transaction being read: where it started and what it has produced so far.
#[derive(Debug)]
pub(super) struct Txn {
    pub(super) file: Arc<str>,
    pub(super) pos: u64,
    pub(super) gtid: Option<Arc<str>>,
    pub(super) gtid_before: Option<Arc<GtidSet>>,
    pub(super) rows: u64,
    pub(super) thread: Option<u32>,
    pub(super) began: bool,
    pub(super) standalone: bool,
    /// What to add to the executed set at commit.
    pub(super) commit_gtid: Option<PendingGtid>,
}

/// A transaction's GTID, added to the executed set when it commits.
#[derive(Debug, Clone)]
pub(super) enum PendingGtid {
    Mysql { uuid: String, tag: String, gno: u64 },
    Mariadb(MariadbGtid),
}

impl EventHandler {
    /// Opens a transaction at `event`, before the GTID set as it is now.
    pub(super) fn open_txn(
        &mut self,
        event: &Event,
        gtid: Option<String>,
        pending: Option<PendingGtid>,
        standalone: bool,
    ) {
        let pos = self.here(event);
        self.txn = Some(Txn {
            file: self.file.clone(),
            pos,
            gtid: gtid.map(Arc::from),
            gtid_before: self.executed_arc.clone(),
            rows: 0,
            thread: None,
            began: false,
            standalone,
            commit_gtid: pending,
        });
    }

    /// MySQL's GTID event: opens a transaction that adds `uuid[:tag]:gno` at commit.
    pub(super) fn handle_gtid(&mut self, event: &Event, g: &GtidEvent) {
        let uuid = format_uuid(&g.sid());
        let tag = g.tag().map(|t| t.to_string()).unwrap_or_default();
        let text = if tag.is_empty() {
            format!("{uuid}:{}", g.gno())
        } else {
            format!("{uuid}:{tag}:{}", g.gno())
        };
        self.flavor.get_or_insert(Flavor::Mysql);
        self.open_txn(
            event,
            Some(text),
            Some(PendingGtid::Mysql {
                uuid,
                tag,
                gno: g.gno(),
            }),
            false,
        );
    }

    /// MySQL's PREVIOUS_GTIDS event: the executed set, when the start did not give one.
    /// Each interval is added whole (`start..end`, end exclusive on the wire), however many
    /// transactions it spans; an interval that starts at 0 or ends before it starts is
    /// damage.
    pub(super) fn handle_previous_gtids(
        &mut self,
        event: &Event,
        p: &PreviousGtidsEvent<'_>,
    ) -> Result<()> {
        if self.executed.is_some() {
            return Ok(());
        }
        let mut set = MysqlGtidSet::default();
        for sid in p.sids() {
            let uuid = format_uuid(&sid.uuid());
            let tag = sid.tag().map(|t| t.to_string()).unwrap_or_default();
            for iv in sid.intervals() {
                let (start, end) = (iv.start(), iv.end());
                if start == 0 || end <= start {
                    return Err(self.corrupt_error(
                        event,
                        format!("GTID interval {uuid}:{start}-{end} (end exclusive) is empty"),
                    ));
                }
                set.add_range(&uuid, &tag, start, end - 1);
            }
        }
        self.executed = Some(GtidSet::Mysql(set));
        self.executed_arc = self.executed.clone().map(Arc::new);
        Ok(())
    }

    /// MariaDB's GTID event: opens a transaction (standalone when its flag says so).
    pub(super) fn handle_mariadb_gtid(&mut self, event: &Event) -> Result<()> {
        let d = event.data();
        if d.len() < 13 {
            return Err(self.event_error(event, "MariaDB GTID event too short"));
        }
        let seq = u64::from_le_bytes(d[0..8].try_into().unwrap_or_default());
        let domain = u32::from_le_bytes(d[8..12].try_into().unwrap_or_default());
        let flags = d[12];
        let gtid = MariadbGtid {
            domain,
            server: event.header().server_id(),
            seq,
        };
        self.flavor.get_or_insert(Flavor::Mariadb);
        self.open_txn(
            event,
            Some(gtid.to_string()),
            Some(PendingGtid::Mariadb(gtid)),
            flags & MARIADB_FL_STANDALONE != 0,
        );
        Ok(())
    }

    /// MariaDB's GTID_LIST event: merges the listed GTIDs into the executed set.
    pub(super) fn handle_mariadb_gtid_list(&mut self, event: &Event) -> Result<()> {
        let d = event.data();
        if d.len() < 4 {
            return Err(self.event_error(event, "MariaDB GTID_LIST event too short"));
        }
        let count =
            (u32::from_le_bytes(d[0..4].try_into().unwrap_or_default()) & 0x0fff_ffff) as usize;
        if d.len() < 4 + count * 16 {
            return Err(self.event_error(event, "MariaDB GTID_LIST event truncated"));
        }
        self.flavor.get_or_insert(Flavor::Mariadb);
        let mut list = match self.executed.take() {
            Some(GtidSet::Mariadb(l)) => l,
            _ => MariadbGtidList::default(),
        };
        for i in 0..count {
            let b = &d[4 + i * 16..4 + (i + 1) * 16];
            let g = MariadbGtid {
                domain: u32::from_le_bytes(b[0..4].try_into().unwrap_or_default()),
                server: u32::from_le_bytes(b[4..8].try_into().unwrap_or_default()),
                seq: u64::from_le_bytes(b[8..16].try_into().unwrap_or_default()),
            };
            if !list.covers(&g) {
                list.apply(g);
            }
        }
        self.executed = Some(GtidSet::Mariadb(list));
        self.executed_arc = self.executed.clone().map(Arc::new);
        Ok(())
    }

    /// Closes the open transaction (if any): adds its GTID and emits a `Commit`.
    pub(super) fn commit(&mut self, event: &Event, out: &mut Vec<SourceEvent>) {
        let Some(txn) = self.txn.take() else {
            return;
        };
        crate::metrics::transaction_committed();
        self.add_executed(txn.commit_gtid);
        self.skip_armed = false;
        self.skip_rows = 0;
        self.query = None;
        let end = event.header().log_pos() as u64;
        let end = if end == 0 { self.outer_pos } else { end };
        out.push(SourceEvent::Commit {
            offset: SourceOffset {
                binlog: BinlogPosition::new(self.file.to_string(), end),
                gtid_set: self.executed.clone(),
                skip_rows: 0,
            },
            ts_ms: event.header().timestamp() as i64 * 1000,
        });
    }

    /// Adds a committed transaction's GTID to the executed set (of its flavour).
    fn add_executed(&mut self, gtid: Option<PendingGtid>) {
        match gtid {
            Some(PendingGtid::Mysql { uuid, tag, gno }) => {
                let set = match self
                    .executed
                    .get_or_insert_with(|| GtidSet::Mysql(Default::default()))
                {
                    GtidSet::Mysql(s) => s,
                    other => {
                        *other = GtidSet::Mysql(Default::default());
                        match other {
                            GtidSet::Mysql(s) => s,
                            GtidSet::Mariadb(_) => unreachable!("just assigned"),
                        }
                    }
                };
                set.add(&uuid, &tag, gno);
                self.executed_arc = self.executed.clone().map(Arc::new);
            }
            Some(PendingGtid::Mariadb(g)) => {
                let list = match self
                    .executed
                    .get_or_insert_with(|| GtidSet::Mariadb(Default::default()))
                {
                    GtidSet::Mariadb(l) => l,
                    other => {
                        *other = GtidSet::Mariadb(Default::default());
                        match other {
                            GtidSet::Mariadb(l) => l,
                            GtidSet::Mysql(_) => unreachable!("just assigned"),
                        }
                    }
                };
                list.apply(g);
                self.executed_arc = self.executed.clone().map(Arc::new);
            }
            None => {}
        }
    }
}

/// A server UUID in its 8-4-4-4-12 text form.
fn format_uuid(b: &[u8; 16]) -> String {
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
