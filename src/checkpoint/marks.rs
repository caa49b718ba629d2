//! What the checkpoint learns from delivered records, and the checkpoint as the sink loop
//! keeps it. Marks are applied strictly in source order and only once everything before
//! them was acknowledged (see [`super::window`]), so the state always names a position of a
//! contiguous delivered prefix.

use super::handle::StoreHandle;
use super::{Checkpoint, SnapshotState};
use crate::error::Result;
use crate::model::{now_ms, BinlogPosition, Catalog, Flavor, RowMark, SourceOffset};

/// What the checkpoint learns once an item (and everything before it) is delivered.
#[derive(Debug, Clone)]
pub enum Mark {
    /// Streaming may resume inside a transaction: after this change.
    Row(RowMark),
    /// Streaming may resume here.
    Offset(Box<SourceOffset>),
    /// A snapshot finished this table.
    SnapshotTable(String),
    /// The snapshot is complete; streaming continues from this offset.
    SnapshotDone(Box<SourceOffset>),
    /// A DDL statement changed the catalog: persist it with the first checkpoint past
    /// that statement (never with one before it, which would replay the DDL onto a catalog
    /// that already has it).
    Catalog(Box<Catalog>),
    /// An incremental snapshot moved on (`None`: none remains).
    Incremental(Option<Box<crate::model::IncrementalProgress>>),
    /// A snapshot begins from this offset (some tables maybe already done).
    SnapshotStarted {
        offset: Box<SourceOffset>,
        done: Vec<String>,
        catalog: Box<Catalog>,
    },
}

impl Mark {
    /// Snapshot progress is rare and precious: it is saved as soon as it is delivered.
    pub fn saves_at_once(&self) -> bool {
        !matches!(self, Mark::Offset(_) | Mark::Row(_) | Mark::Catalog(_))
    }
}

/// The checkpoint as the sink loop keeps it: updated by delivered marks, saved when changed.
pub struct CheckpointState {
    current: Checkpoint,
    dirty: bool,
    /// A catalog to store together with the next checkpoint write.
    catalog: Option<Catalog>,
    /// The latest delivered change inside a transaction, when it is newer than
    /// `current.offset` (turned into the offset lazily: there is one per change).
    row: Option<RowMark>,
    /// The catalog after a delivered DDL, until a mark moves the offset past the DDL: only
    /// then is it the catalog as of the checkpoint.
    after_ddl: Option<Catalog>,
}

impl CheckpointState {
    /// Starts from the stored checkpoint, or from nothing (a run that has not delivered
    /// anything yet).
    pub fn new(stored: Option<Checkpoint>, flavor: Flavor) -> Self {
        let current = stored.unwrap_or(Checkpoint {
            offset: SourceOffset {
                binlog: BinlogPosition::new("", 4),
                gtid_set: None,
                skip_rows: 0,
            },
            snapshot: SnapshotState::NotStarted,
            flavor: Some(flavor),
            updated_at_ms: 0,
            reason: String::new(),
            incremental: None,
        });
        Self {
            current,
            dirty: false,
            catalog: None,
            row: None,
            after_ddl: None,
        }
    }

    /// Where streaming would resume if the state were saved now.
    pub fn offset(&self) -> SourceOffset {
        match &self.row {
            Some(r) => r.offset(),
            None => self.current.offset.clone(),
        }
    }

    /// Folds a pending row mark into `current.offset`.
    fn settle(&mut self) {
        if let Some(r) = self.row.take() {
            self.current.offset = r.offset();
            self.past_ddl();
        }
    }

    /// The offset moved past the last delivered DDL: its catalog goes with the next save.
    fn past_ddl(&mut self) {
        if let Some(c) = self.after_ddl.take() {
            self.catalog = Some(c);
        }
    }

    /// Records one delivered mark.
    pub fn apply(&mut self, mark: Mark) {
        if let Mark::Row(r) = mark {
            self.row = Some(r);
            self.dirty = true;
            return;
        }
        self.settle();
        match mark {
            Mark::Row(_) => {}
            Mark::Offset(o) => {
                self.current.offset = *o;
                self.past_ddl();
            }
            Mark::SnapshotTable(t) => {
                if let SnapshotState::Running { done, .. } = &mut self.current.snapshot {
                    // A whole table replaces the key ranges recorded for it
                    // (`db.table@range:LO..HI`, see `source::snapshot`'s ranges).
                    let ranges = format!("{t}@range:");
                    done.retain(|d| !d.starts_with(&ranges));
                    done.push(t);
                }
            }
            Mark::SnapshotDone(o) => {
                self.current.offset = *o;
                self.current.snapshot = SnapshotState::Completed;
                self.past_ddl();
            }
            Mark::Catalog(c) => self.after_ddl = Some(*c),
            Mark::Incremental(p) => self.current.incremental = p.map(|p| *p),
            Mark::SnapshotStarted {
                offset,
                done,
                catalog,
            } => {
                self.current.offset = (*offset).clone();
                self.current.snapshot = SnapshotState::Running {
                    offset: *offset,
                    done,
                };
                self.catalog = Some(*catalog);
            }
        }
        self.dirty = true;
    }

    /// The next [`Self::save`] writes even if nothing changed (exactly-once: every commit
    /// carries the checkpoint record).
    pub fn force_save(&mut self) {
        self.dirty = true;
    }

    /// Saves the state if it changed, with the catalog when a DDL was delivered since the
    /// last save. `reason` is stored with it and logged.
    pub async fn save(&mut self, store: &StoreHandle, reason: &str) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        self.settle();
        self.current.updated_at_ms = now_ms();
        self.current.reason = reason.to_string();
        match self.catalog.take() {
            Some(c) => store.save_with_catalog(self.current.clone(), &c).await?,
            None => store.save(self.current.clone()).await?,
        }
        tracing::debug!(offset = %self.current.offset, reason, "Checkpoint moved.");
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    pub(crate) fn row(pos: u64, skip_rows: u64) -> Mark {
        Mark::Row(RowMark {
            file: Arc::from("bin.000001"),
            pos,
            gtid_before: None,
            skip_rows,
        })
    }

    fn state() -> CheckpointState {
        CheckpointState::new(Some(super::super::test_checkpoint()), Flavor::Mariadb)
    }

    /// A row mark followed by a catalog mark: the catalog is stored with the row's offset
    /// (the pending row is folded in before any other mark applies).
    #[test]
    fn a_pending_row_mark_settles_before_other_marks() {
        let mut st = state();
        st.apply(row(200, 3));
        st.apply(Mark::SnapshotTable("db.t".into()));
        assert!(st.row.is_none());
        assert_eq!(
            (st.current.offset.binlog.pos, st.current.offset.skip_rows),
            (200, 3)
        );
        st.apply(row(300, 1));
        st.settle();
        assert_eq!(
            (st.current.offset.binlog.pos, st.current.offset.skip_rows),
            (300, 1)
        );
    }

    /// Incremental progress is saved at once and replaced (or cleared) by the next one.
    #[test]
    fn incremental_progress_is_recorded_and_cleared() {
        let mut st = state();
        let p = crate::model::IncrementalProgress {
            tables: vec![crate::model::TableTodo {
                table: "db.t".into(),
                filter: None,
                surrogate_key: None,
            }],
            chunks_done: 2,
            ..Default::default()
        };
        let m = Mark::Incremental(Some(Box::new(p.clone())));
        assert!(m.saves_at_once());
        st.apply(m);
        assert_eq!(st.current.incremental, Some(p));
        st.apply(Mark::Incremental(None));
        assert_eq!(st.current.incremental, None);
    }

    /// A DDL's catalog is never stored with a checkpoint before that DDL: it waits for the
    /// offset to move past it.
    #[test]
    fn a_ddl_catalog_waits_for_the_offset_past_the_ddl() {
        let mut st = state();
        st.apply(Mark::Catalog(Box::default()));
        assert!(!Mark::Catalog(Box::default()).saves_at_once());
        assert!(st.catalog.is_none(), "not with the offset before the DDL");
        let mut past = st.current.offset.clone();
        past.binlog.pos = 900;
        st.apply(Mark::Offset(Box::new(past)));
        assert!(st.catalog.is_some());
        assert_eq!(st.current.offset.binlog.pos, 900);
        // A row of a later transaction also lies past the DDL.
        let mut st = state();
        st.apply(Mark::Catalog(Box::default()));
        st.apply(row(950, 1));
        st.settle();
        assert!(st.catalog.is_some());
    }

    /// A snapshot's finished key ranges are recorded one by one, and the whole table
    /// replaces them (ranges of another table stay).
    #[test]
    fn a_finished_table_replaces_its_ranges() {
        let mut st = state();
        st.apply(Mark::SnapshotStarted {
            offset: Box::new(st.current.offset.clone()),
            done: vec![],
            catalog: Box::default(),
        });
        for d in ["db.t@range:..10", "db.t@range:10..20", "db.t2@range:..5"] {
            st.apply(Mark::SnapshotTable(d.into()));
        }
        st.apply(Mark::SnapshotTable("db.t".into()));
        let SnapshotState::Running { done, .. } = &st.current.snapshot else {
            panic!("{:?}", st.current.snapshot)
        };
        assert_eq!(done, &["db.t2@range:..5", "db.t"]);
    }
}
