//! The checkpoint: where the engine resumes after a stop or a crash. It names only positions
//! whose events Kafka acknowledged (the pipeline awaits deliveries in submission order, so
//! the offset it saves is always that of a contiguous delivered prefix), and a save counts
//! only once the store has flushed it to disk.

pub mod store;

use serde::{Deserialize, Serialize};

pub use store::{CheckpointStore, SledStore};

use crate::position::SourceOffset;

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Where streaming resumes.
    pub offset: SourceOffset,
    #[serde(default)]
    pub snapshot: SnapshotState,
    /// `mysql` or `mariadb`, as detected when the checkpoint was written.
    #[serde(default)]
    pub flavor: Option<crate::source::Flavor>,
    /// Milliseconds since the epoch when it was written.
    #[serde(default)]
    pub updated_at_ms: i64,
    /// Why it was written (`delivered`, `shutdown`, `offsets set`, …).
    #[serde(default)]
    pub reason: String,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
