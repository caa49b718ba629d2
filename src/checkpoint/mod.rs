//! The checkpoint: where the engine resumes after a stop or a crash. It names only positions
//! whose events Kafka acknowledged, and a save counts only once the store has flushed it to
//! disk.
//!
//! - [`marks`]: what a delivered item tells the checkpoint, and the state the sink loop keeps;
//! - [`window`]: the records in flight; only the acknowledged prefix releases its marks;
//! - [`handle`]: the store from async code (blocking calls on the blocking pool);
//! - [`store`]: the store trait and its sled implementation;
//! - [`kafka_store`], [`state_records`], [`state_topic`]: the Kafka implementation (a
//!   compacted topic), its record layout, and the topic itself.

pub mod handle;
pub mod kafka_store;
pub mod marks;
pub mod state_records;
pub mod state_topic;
pub mod store;
pub mod window;

use serde::{Deserialize, Serialize};

pub use handle::StoreHandle;
pub use kafka_store::Access;
pub use marks::{CheckpointState, Mark};
pub use store::open as open_store;
pub use store::CheckpointStore;
pub use window::AckWindow;

use crate::model::SourceOffset;

/// Progress of the initial snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum SnapshotState {
    /// No snapshot has run (or it was reset).
    #[default]
    NotStarted,
    /// A snapshot is under way from `offset`; `done` lists finished tables (`db.table`).
    Running {
        offset: SourceOffset,
        done: Vec<String>,
    },
    /// The snapshot finished; streaming continues from the stored offset.
    Completed,
    /// Snapshots are not used (`no_data` mode, or the offset was set by hand).
    Skipped,
}

/// What the store keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Where streaming resumes.
    pub offset: SourceOffset,
    #[serde(default)]
    pub snapshot: SnapshotState,
    /// `mysql` or `mariadb`, as detected when the checkpoint was written.
    #[serde(default)]
    pub flavor: Option<crate::model::Flavor>,
    /// Milliseconds since the epoch when it was written.
    #[serde(default)]
    pub updated_at_ms: i64,
    /// Why it was written (`delivered`, `shutdown`, `offsets set`, …).
    #[serde(default)]
    pub reason: String,
    /// An incremental snapshot under way (absent in checkpoints written before rowtide
    /// took incremental snapshots: they load as "none running").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<crate::model::IncrementalProgress>,
}

/// A checkpoint at `bin.000001:4` of a MariaDB server, for unit tests.
#[cfg(test)]
pub(crate) fn test_checkpoint() -> Checkpoint {
    Checkpoint {
        offset: SourceOffset {
            binlog: crate::model::BinlogPosition::new("bin.000001", 4),
            gtid_set: None,
            skip_rows: 0,
        },
        snapshot: SnapshotState::NotStarted,
        flavor: Some(crate::model::Flavor::Mariadb),
        updated_at_ms: 0,
        reason: String::new(),
        incremental: None,
    }
}
