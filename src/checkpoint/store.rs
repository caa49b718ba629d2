//! The checkpoint store: a small trait, its sled implementation, and [`open`], which opens
//! the store the configuration names (sled here, Kafka in [`super::kafka_store`]). `save`
//! returns only once the write is durable (flushed to disk, or committed in Kafka), so a
//! saved checkpoint survives `kill -9`.

use std::path::{Path, PathBuf};

use super::kafka_store::{Access, KafkaStore};
use super::Checkpoint;
use crate::config::{Config, StoreKind};
use crate::error::{Error, Result};

const KEY: &[u8] = b"checkpoint";
const CATALOG_KEY: &[u8] = b"catalog";

/// Durable storage for the checkpoint (and the schema catalog that goes with it).
pub trait CheckpointStore: Send + Sync {
    fn load(&self) -> Result<Option<Checkpoint>>;
    /// Writes and flushes; the checkpoint counts only after this returns `Ok`.
    fn save(&self, cp: &Checkpoint) -> Result<()>;
    /// Forgets the checkpoint (the next run starts per the snapshot mode).
    fn clear(&self) -> Result<()>;
    /// The catalog (table structures) as of the checkpoint.
    fn load_catalog(&self) -> Result<Option<Vec<crate::model::TableDesc>>>;
    /// Writes the checkpoint and the catalog together, atomically, and flushes.
    fn save_with_catalog(&self, cp: &Checkpoint, tables: &[crate::model::TableDesc]) -> Result<()>;
    /// Where the state lives, for messages (`sled store at ./rowtide-state`).
    fn describe(&self) -> String;
    /// With `sink.delivery = "exactly_once"`: the transactional producer the sink must send
    /// through (a save then commits the sink's open transaction with the state records).
    fn transactions(
        &self,
    ) -> Result<Option<std::sync::Arc<crate::sink::transactional::TxnProducer>>> {
        Ok(None)
    }
    /// After a failed exactly-once run: abort what is open and forget the producer and the
    /// cached state, so the next load fences, aborts and reads the committed state again.
    fn restart_transactions(&self) {}
}

/// Opens the store of kind `kind` as configured (`checkpoint.path`, or
/// `checkpoint.kafka_topic` on the sink's brokers). A Kafka store opened `ReadOnly` never
/// fences a running rowtide; sled has one mode (and one process per directory).
pub fn open(cfg: &Config, kind: StoreKind, access: Access) -> Result<Box<dyn CheckpointStore>> {
    Ok(match kind {
        StoreKind::Sled => Box::new(SledStore::open(&cfg.checkpoint.path)?),
        StoreKind::Kafka => Box::new(KafkaStore::new(
            &cfg.sink,
            &cfg.checkpoint.kafka_topic_for(&cfg.sink.topic_prefix),
            access,
        )),
    })
}

/// The sled-backed store.
pub struct SledStore {
    db: sled::Db,
    path: PathBuf,
}

impl SledStore {
    /// Opens (or creates) the store at `path`. A store in use by another process is an
    /// error that says so.
    pub fn open(path: &Path) -> Result<Self> {
        let db = sled::Config::new()
            .path(path)
            .flush_every_ms(None)
            // The store holds a few small keys: sled's default 1 GiB page cache and
            // 512 KiB segments are sized for databases, not for a checkpoint.
            .cache_capacity(4 << 20)
            .open()
            .map_err(|e| Error::Checkpoint {
                path: path.display().to_string(),
                reason: match e {
                    sled::Error::Io(ref io) if io.kind() == std::io::ErrorKind::WouldBlock => {
                        "the store is locked by another rowtide process (one process per checkpoint.path)".into()
                    }
                    ref other => other.to_string(),
                },
                source: Some(Box::new(e)),
            })?;
        Ok(Self {
            db,
            path: path.to_path_buf(),
        })
    }

    /// A store error caused by `e`, described as `what: e`.
    fn err(&self, what: &str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Checkpoint {
            path: self.path.display().to_string(),
            reason: format!("{what}: {e}"),
            source: Some(Box::new(e)),
        }
    }
}

impl CheckpointStore for SledStore {
    fn load(&self) -> Result<Option<Checkpoint>> {
        match self.db.get(KEY).map_err(|e| self.err("read", e))? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| self.err("stored checkpoint is unreadable", e)),
        }
    }

    fn save(&self, cp: &Checkpoint) -> Result<()> {
        let bytes = serde_json::to_vec(cp).map_err(|e| self.err("serialize", e))?;
        self.db
            .insert(KEY, bytes)
            .map_err(|e| self.err("write", e))?;
        self.db.flush().map_err(|e| self.err("flush", e))?;
        Ok(())
    }

    fn clear(&self) -> Result<()> {
        self.db.remove(KEY).map_err(|e| self.err("write", e))?;
        self.db
            .remove(CATALOG_KEY)
            .map_err(|e| self.err("write", e))?;
        self.db.flush().map_err(|e| self.err("flush", e))?;
        Ok(())
    }

    fn load_catalog(&self) -> Result<Option<Vec<crate::model::TableDesc>>> {
        match self.db.get(CATALOG_KEY).map_err(|e| self.err("read", e))? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| self.err("stored catalog is unreadable", e)),
        }
    }

    fn save_with_catalog(&self, cp: &Checkpoint, tables: &[crate::model::TableDesc]) -> Result<()> {
        let cp_bytes = serde_json::to_vec(cp).map_err(|e| self.err("serialize", e))?;
        let cat_bytes = serde_json::to_vec(tables).map_err(|e| self.err("serialize", e))?;
        self.db
            .transaction(|tx| {
                tx.insert(KEY, cp_bytes.as_slice())?;
                tx.insert(CATALOG_KEY, cat_bytes.as_slice())?;
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Storage(e) => self.err("write", e),
                sled::transaction::TransactionError::Abort(()) => {
                    self.err("write", std::io::Error::other("transaction aborted"))
                }
            })?;
        self.db.flush().map_err(|e| self.err("flush", e))?;
        Ok(())
    }

    fn describe(&self) -> String {
        format!("sled store at {}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::SnapshotState;
    use crate::model::{BinlogPosition, SourceOffset};

    #[test]
    fn save_load_clear_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(store.load().unwrap(), None);
        let cp = Checkpoint {
            offset: SourceOffset {
                binlog: BinlogPosition::new("mariadb-bin.000002", 1234),
                gtid_set: Some("0-1-42".parse().unwrap()),
                skip_rows: 3,
            },
            snapshot: SnapshotState::Completed,
            flavor: Some(crate::model::Flavor::Mariadb),
            updated_at_ms: 1,
            reason: "test".into(),
            incremental: Some(crate::model::IncrementalProgress {
                tables: vec![crate::model::TableTodo {
                    table: "db.t".into(),
                    filter: Some("a > 1".into()),
                    surrogate_key: Some("k".into()),
                }],
                last_key: Some(vec![
                    crate::model::KeyPart::Int(7),
                    crate::model::KeyPart::Bytes(b"k".to_vec()),
                ]),
                chunks_done: 4,
                blocking: Some(crate::model::BlockingRequest {
                    signal: "op-1".into(),
                    tables: vec!["db.t".into()],
                    filters: Default::default(),
                }),
                ..Default::default()
            }),
        };
        // (Read back from the same handle: sled releases its directory lock only once its
        // background flusher has let go of the database, so reopening at once is racy.)
        store.save(&cp).unwrap();
        assert_eq!(store.load().unwrap(), Some(cp));
        store.clear().unwrap();
        assert_eq!(store.load().unwrap(), None);
    }

    /// A checkpoint written before blocking snapshots existed (incremental progress without
    /// `blocking`) loads from sled with none pending.
    #[test]
    fn an_older_checkpoint_without_a_blocking_snapshot_loads() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let old = br#"{"offset":{"binlog":"mariadb-bin.000002:1234","gtid_set":null,"skip_rows":0},
            "snapshot":{"state":"completed"},"flavor":"mariadb","updated_at_ms":1,"reason":"old",
            "incremental":{"tables":[],"signal_ids":["op-1"]}}"#;
        store.db.insert(KEY, &old[..]).unwrap();
        let cp = store.load().unwrap().unwrap();
        let inc = cp.incremental.unwrap();
        assert!(inc.blocking.is_none());
        assert_eq!(inc.signal_ids, vec!["op-1".to_string()]);
    }
}
