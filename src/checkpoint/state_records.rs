//! The layout of the state topic (`checkpoint.store = "kafka"`) and how its records fold
//! back into a checkpoint and a catalog. Pure: no client here, so the rules are testable
//! alone and reusable by whatever writes the records (the store's own transactions today;
//! the sink's transactions when delivery becomes exactly-once).
//!
//! One record per key, so that compaction (which keeps the latest record of each key)
//! never loses what a restart needs:
//! - `checkpoint`: the checkpoint, in the sled store's bytes (serde JSON of [`Checkpoint`]);
//! - `catalog`: the catalog's manifest `{"format":1,"generation":G,"tables":N}`;
//! - `table/["db","name"]`: one table's structure (serde JSON of [`TableDesc`], the sled
//!   catalog's element format), with the header `rowtide.generation` naming the catalog
//!   generation that wrote it. A dropped table's key gets a tombstone.
//!
//! A catalog save writes the tables that changed (and tombstones for the tables that went
//! away), a new manifest and the checkpoint in ONE transaction, so the latest record of
//! every key always describes one consistent catalog: exactly `tables` live table keys, none
//! from a generation after the manifest's. [`StateView::catalog`] checks both, so a topic
//! whose history was cut (a `delete` cleanup policy, records produced by hand) is reported
//! instead of decoding rows with a wrong structure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Checkpoint;
use crate::model::TableDesc;

/// Key of the checkpoint record.
pub const CHECKPOINT_KEY: &str = "checkpoint";
/// Key of the catalog manifest record.
pub const CATALOG_KEY: &str = "catalog";
/// Prefix of the table records' keys.
pub const TABLE_PREFIX: &str = "table/";
/// Header of a table record: the catalog generation that wrote it.
pub const GENERATION_HEADER: &str = "rowtide.generation";

/// One record to write: `value` `None` is a tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRecord {
    pub key: String,
    pub value: Option<Vec<u8>>,
    /// For table records: the catalog generation, sent as [`GENERATION_HEADER`].
    pub generation: Option<u64>,
}

/// The catalog manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub generation: u64,
    pub tables: usize,
}

/// What the topic holds, by key (the latest record of each): what a reader folds the topic
/// into, and what a writer diffs a new catalog against.
#[derive(Debug, Default, Clone)]
pub struct StateView {
    checkpoint: Option<Vec<u8>>,
    manifest: Option<Vec<u8>>,
    /// Table key → (structure bytes, generation).
    tables: BTreeMap<String, (Vec<u8>, u64)>,
}

/// Why the topic's records do not make a state.
pub type Invalid = String;

/// The key of `t`'s record: its database and name as a JSON array (names may hold dots).
pub fn table_key(t: &TableDesc) -> String {
    let names = serde_json::to_string(&[&t.db, &t.name]).unwrap_or_default();
    format!("{TABLE_PREFIX}{names}")
}

impl StateView {
    /// Folds one record read from the topic in (later records replace earlier ones).
    /// Keys rowtide does not know (written by a later version) are passed over.
    pub fn apply(&mut self, key: &[u8], value: Option<&[u8]>, generation: Option<u64>) {
        let Ok(key) = std::str::from_utf8(key) else {
            return;
        };
        let value = value.map(<[u8]>::to_vec);
        match key {
            CHECKPOINT_KEY => self.checkpoint = value,
            CATALOG_KEY => self.manifest = value,
            k if k.starts_with(TABLE_PREFIX) => match value {
                Some(v) => {
                    self.tables
                        .insert(k.to_string(), (v, generation.unwrap_or(u64::MAX)));
                }
                None => {
                    self.tables.remove(k);
                }
            },
            _ => {}
        }
    }

    /// Folds records this process wrote (after their transaction committed).
    pub fn apply_written(&mut self, records: &[StateRecord]) {
        for r in records {
            self.apply(r.key.as_bytes(), r.value.as_deref(), r.generation);
        }
    }

    /// The stored checkpoint.
    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, Invalid> {
        self.checkpoint
            .as_deref()
            .map(|b| {
                serde_json::from_slice(b)
                    .map_err(|e| format!("the stored checkpoint is unreadable: {e}"))
            })
            .transpose()
    }

    fn manifest(&self) -> Result<Option<Manifest>, Invalid> {
        self.manifest
            .as_deref()
            .map(|b| {
                serde_json::from_slice(b)
                    .map_err(|e| format!("the stored catalog manifest is unreadable: {e}"))
            })
            .transpose()
    }

    /// The stored catalog (`None`: none was saved), checked against its manifest.
    pub fn catalog(&self) -> Result<Option<Vec<TableDesc>>, Invalid> {
        let Some(m) = self.manifest()? else {
            return Ok(None);
        };
        if m.format != 1 {
            return Err(format!(
                "the stored catalog has format {} (this rowtide reads format 1): written by a \
                 newer rowtide",
                m.format
            ));
        }
        if self.tables.len() != m.tables {
            return Err(format!(
                "the catalog of generation {} has {} tables but the topic holds {} table \
                 records: the topic lost records (is its cleanup.policy exactly \"compact\"?)",
                m.generation,
                m.tables,
                self.tables.len()
            ));
        }
        let mut out = Vec::with_capacity(self.tables.len());
        for (key, (bytes, generation)) in &self.tables {
            if *generation > m.generation {
                return Err(format!(
                    "table record {key} has generation {generation}, after the catalog's {}: \
                     records were written outside rowtide's transactions",
                    m.generation
                ));
            }
            out.push(
                serde_json::from_slice(bytes)
                    .map_err(|e| format!("the stored structure of {key} is unreadable: {e}"))?,
            );
        }
        Ok(Some(out))
    }

    /// The records that store `cp` (and, with `tables`, the catalog as of it) over what the
    /// view holds: changed tables, tombstones for dropped ones, the manifest, then the
    /// checkpoint. Written in one transaction they replace the state atomically.
    pub fn save_records(
        &self,
        cp: &Checkpoint,
        tables: Option<&[TableDesc]>,
    ) -> serde_json::Result<Vec<StateRecord>> {
        let mut out = Vec::new();
        if let Some(tables) = tables {
            let generation = self
                .manifest()
                .ok()
                .flatten()
                .map_or(1, |m| m.generation + 1);
            let mut keys = BTreeMap::new();
            for t in tables {
                keys.insert(table_key(t), serde_json::to_vec(t)?);
            }
            for (key, bytes) in &keys {
                if self.tables.get(key).map(|(b, _)| b) != Some(bytes) {
                    out.push(StateRecord {
                        key: key.clone(),
                        value: Some(bytes.clone()),
                        generation: Some(generation),
                    });
                }
            }
            for key in self.tables.keys().filter(|k| !keys.contains_key(*k)) {
                out.push(StateRecord {
                    key: key.clone(),
                    value: None,
                    generation: None,
                });
            }
            let manifest = Manifest {
                format: 1,
                generation,
                tables: keys.len(),
            };
            out.push(StateRecord {
                key: CATALOG_KEY.into(),
                value: Some(serde_json::to_vec(&manifest)?),
                generation: None,
            });
        }
        out.push(StateRecord {
            key: CHECKPOINT_KEY.into(),
            value: Some(serde_json::to_vec(cp)?),
            generation: None,
        });
        Ok(out)
    }

    /// Tombstones for every key of the state: the checkpoint, the manifest, every table.
    pub fn clear_records(&self) -> Vec<StateRecord> {
        let tomb = |key: String| StateRecord {
            key,
            value: None,
            generation: None,
        };
        let mut out: Vec<StateRecord> = self.tables.keys().cloned().map(tomb).collect();
        out.push(tomb(CATALOG_KEY.into()));
        out.push(tomb(CHECKPOINT_KEY.into()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::test_checkpoint;
    use crate::model::TableDesc;

    fn table(db: &str, name: &str, cols: &[&str]) -> TableDesc {
        use crate::model::{ColumnDesc, ColumnKind};
        TableDesc {
            db: db.into(),
            name: name.into(),
            columns: cols
                .iter()
                .map(|c| ColumnDesc::new(*c, ColumnKind::Int))
                .collect(),
            primary_key: vec![0],
            charset_name: None,
            comment: None,
        }
    }

    /// A topic as the broker keeps it: every record appended, in order.
    #[derive(Default)]
    struct Log(Vec<StateRecord>);

    impl Log {
        fn write(&mut self, view: &mut StateView, records: Vec<StateRecord>) {
            view.apply_written(&records);
            self.0.extend(records);
        }
        /// What compaction leaves: the latest record of each key, tombstones removed
        /// (as after delete.retention.ms), in offset order.
        fn compacted(&self) -> Vec<StateRecord> {
            let mut last = BTreeMap::new();
            for (i, r) in self.0.iter().enumerate() {
                last.insert(r.key.clone(), i);
            }
            let mut keep: Vec<usize> = last.into_values().collect();
            keep.sort();
            keep.into_iter()
                .map(|i| self.0[i].clone())
                .filter(|r| r.value.is_some())
                .collect()
        }
        fn read(records: &[StateRecord]) -> StateView {
            let mut v = StateView::default();
            v.apply_written(records);
            v
        }
    }

    fn names(tables: &[TableDesc]) -> Vec<(String, usize)> {
        let mut v: Vec<_> = tables
            .iter()
            .map(|t| (t.full_name(), t.columns.len()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn the_latest_record_per_key_rebuilds_checkpoint_and_catalog() {
        let mut log = Log::default();
        let mut view = StateView::default();
        let mut cp = test_checkpoint();
        let a = table("shop", "a", &["id"]);
        let b = table("shop", "b", &["id", "x"]);
        let c = table("shop.x", "c", &["id"]);
        let recs = view
            .save_records(&cp, Some(&[a.clone(), b.clone(), c.clone()]))
            .unwrap();
        log.write(&mut view, recs);
        // Many checkpoints, an ALTER of `a`, a DROP of `c`, more checkpoints.
        for pos in 5..50 {
            cp.offset.binlog.pos = pos;
            let recs = view.save_records(&cp, None).unwrap();
            log.write(&mut view, recs);
        }
        let a2 = table("shop", "a", &["id", "added"]);
        cp.offset.binlog.pos = 60;
        let recs = view
            .save_records(&cp, Some(&[a2.clone(), b.clone()]))
            .unwrap();
        // Only what changed: `a` rewritten, `c` tombstoned, `b` left alone.
        let keys: Vec<(&str, bool)> = recs
            .iter()
            .map(|r| (r.key.as_str(), r.value.is_some()))
            .collect();
        assert_eq!(
            keys,
            vec![
                (r#"table/["shop","a"]"#, true),
                (r#"table/["shop.x","c"]"#, false),
                ("catalog", true),
                ("checkpoint", true)
            ]
        );
        log.write(&mut view, recs);
        cp.offset.binlog.pos = 70;
        let recs = view.save_records(&cp, None).unwrap();
        log.write(&mut view, recs);

        for records in [log.0.clone(), log.compacted()] {
            let v = Log::read(&records);
            assert_eq!(v.checkpoint().unwrap().unwrap().offset.binlog.pos, 70);
            let cat = v.catalog().unwrap().unwrap();
            assert_eq!(
                names(&cat),
                vec![("shop.a".into(), 2), ("shop.b".into(), 2)]
            );
        }
        // Compaction left one record per live key.
        assert_eq!(log.compacted().len(), 4);
    }

    #[test]
    fn a_topic_that_lost_table_records_is_reported() {
        let mut view = StateView::default();
        let cp = test_checkpoint();
        let tables = [table("d", "a", &["id"]), table("d", "b", &["id"])];
        let recs = view.save_records(&cp, Some(&tables)).unwrap();
        view.apply_written(&recs);
        // A `delete` retention removed the first table record.
        let cut = Log::read(&recs[1..]);
        let e = cut.catalog().unwrap_err();
        assert!(e.contains("has 2 tables but the topic holds 1"), "{e}");
        // A table record from a later generation than the manifest.
        let mut forged = Log::read(&recs);
        forged.apply(
            br#"table/["d","a"]"#,
            Some(&recs[0].value.clone().unwrap()),
            Some(9),
        );
        assert!(forged.catalog().unwrap_err().contains("generation 9"));
    }

    #[test]
    fn clear_tombstones_every_key_and_no_catalog_reads_as_none() {
        let mut view = StateView::default();
        let cp = test_checkpoint();
        let recs = view.save_records(&cp, None).unwrap();
        view.apply_written(&recs);
        assert_eq!(view.catalog().unwrap(), None);
        let recs = view.save_records(&cp, Some(&[])).unwrap();
        view.apply_written(&recs);
        assert_eq!(view.catalog().unwrap(), Some(vec![]));
        let recs = view
            .save_records(&cp, Some(&[table("d", "a", &["id"])]))
            .unwrap();
        view.apply_written(&recs);
        let clear = view.clear_records();
        assert_eq!(clear.len(), 3);
        view.apply_written(&clear);
        assert_eq!(view.checkpoint().unwrap(), None);
        assert_eq!(view.catalog().unwrap(), None);
    }

    #[test]
    fn the_checkpoint_bytes_are_the_sled_stores() {
        let cp = test_checkpoint();
        let recs = StateView::default().save_records(&cp, None).unwrap();
        assert_eq!(
            recs[0].value.as_deref(),
            Some(&serde_json::to_vec(&cp).unwrap()[..])
        );
    }

    /// The Kafka store carries incremental snapshot progress like the sled store.
    #[test]
    fn incremental_progress_survives_the_kafka_store_records() {
        let mut cp = test_checkpoint();
        cp.incremental = Some(crate::model::IncrementalProgress {
            tables: vec![crate::model::TableTodo {
                table: "db.t".into(),
                filter: None,
                surrogate_key: None,
            }],
            last_key: Some(vec![crate::model::KeyPart::UInt(99)]),
            max_key: Some(vec![crate::model::KeyPart::UInt(1000)]),
            chunks_done: 3,
            rows: 3072,
            ..Default::default()
        });
        let mut view = StateView::default();
        let recs = view.save_records(&cp, None).unwrap();
        view.apply_written(&recs);
        assert_eq!(view.checkpoint().unwrap(), Some(cp));
    }

    /// A pending blocking snapshot survives the Kafka store's records, and progress
    /// written before blocking snapshots existed loads with none.
    #[test]
    fn a_pending_blocking_snapshot_survives_and_older_progress_loads_without_it() {
        let mut cp = test_checkpoint();
        cp.incremental = Some(crate::model::IncrementalProgress {
            signal_ids: vec!["op-1".into()],
            blocking: Some(crate::model::BlockingRequest {
                signal: "op-1".into(),
                tables: vec!["db.t".into(), "db.u".into()],
                filters: [("db.t".to_string(), "id > 5".to_string())].into(),
            }),
            ..Default::default()
        });
        let mut view = StateView::default();
        let recs = view.save_records(&cp, None).unwrap();
        view.apply_written(&recs);
        assert_eq!(view.checkpoint().unwrap(), Some(cp.clone()));

        let mut old = serde_json::to_value(&cp).unwrap();
        let inc = old["incremental"].as_object_mut().unwrap();
        assert!(inc.remove("blocking").is_some());
        let old: Checkpoint = serde_json::from_value(old).unwrap();
        let inc = old.incremental.unwrap();
        assert!(inc.blocking.is_none());
        assert_eq!(inc.signal_ids, vec!["op-1".to_string()]);
    }

    /// A checkpoint written before the field existed loads with no incremental snapshot.
    #[test]
    fn a_checkpoint_without_incremental_progress_loads() {
        let mut old = serde_json::to_value(test_checkpoint()).unwrap();
        assert!(
            old.get("incremental").is_none(),
            "not written when none runs"
        );
        old.as_object_mut().unwrap().remove("incremental");
        let old = serde_json::to_vec(&old).unwrap();
        let cp: Checkpoint = serde_json::from_slice(&old).unwrap();
        assert_eq!(cp, test_checkpoint());
    }
}
