//! The asynchronous face of the checkpoint store: every store call runs on tokio's blocking
//! pool (sled flushes to disk), and a failure of that blocking task is mapped to an error in
//! exactly one place.

use std::sync::Arc;

use super::{Checkpoint, CheckpointStore};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::metrics;
use crate::model::{Catalog, TableDesc};

/// A shareable handle to the store, for async code.
#[derive(Clone)]
pub struct StoreHandle {
    store: Arc<dyn CheckpointStore>,
}

/// What the store holds at start: the checkpoint and the catalog saved with it.
#[derive(Debug, Default)]
pub struct Stored {
    pub checkpoint: Option<Checkpoint>,
    pub catalog: Option<Vec<TableDesc>>,
}

impl StoreHandle {
    pub fn new(store: Arc<dyn CheckpointStore>) -> Self {
        Self { store }
    }

    /// Opens the configured store for writing (`checkpoint.store`; see [`super::store::open`]).
    pub async fn open(cfg: &Config) -> Result<Self> {
        let cfg = cfg.clone();
        let store = blocking("checkpoint open", move || {
            super::store::open(&cfg, cfg.checkpoint.store, super::Access::ReadWrite)
        })
        .await?;
        Ok(Self::new(Arc::from(store)))
    }

    /// The checkpoint and the catalog, read together.
    pub async fn load(&self) -> Result<Stored> {
        let s = self.store.clone();
        blocking("checkpoint load", move || {
            Ok(Stored {
                checkpoint: s.load()?,
                catalog: s.load_catalog()?,
            })
        })
        .await
    }

    /// Writes and flushes the checkpoint.
    pub async fn save(&self, cp: Checkpoint) -> Result<()> {
        let s = self.store.clone();
        blocking("checkpoint save", move || s.save(&cp)).await?;
        metrics::checkpoint_written();
        Ok(())
    }

    /// Writes the checkpoint and every table of `catalog` in one atomic write.
    pub async fn save_with_catalog(&self, cp: Checkpoint, catalog: &Catalog) -> Result<()> {
        let s = self.store.clone();
        let tables: Vec<TableDesc> = catalog.tables().map(|t| (**t).clone()).collect();
        blocking("checkpoint save", move || s.save_with_catalog(&cp, &tables)).await?;
        metrics::checkpoint_written();
        Ok(())
    }
}

/// Runs a store call on the blocking pool.
async fn blocking<T: Send + 'static>(
    task: &'static str,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|source| Error::Task { task, source })?
}
