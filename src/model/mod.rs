//! The model: the engine's shared vocabulary, at the bottom of the house. Every other module
//! depends on it; it depends on nothing above it (no `crate::` path outside `model`, checked
//! by `tests/architecture.rs`), so these types can be read, tested and changed on their own.
//!
//! - [`flavor`]: MySQL or MariaDB;
//! - [`position`]: binlog file:pos, MySQL GTID sets and MariaDB GTID lists, the position of
//!   one change, resumable offsets and the row mark;
//! - [`charset`]: MySQL character sets and how their bytes decode;
//! - [`value`]: a decoded column value;
//! - [`table`]: a table's structure at one point of the log, and the set of known tables;
//! - [`filter`]: which tables are captured;
//! - [`change`]: a row change, a schema change and the events the source hands on;
//! - [`incremental`]: where an incremental snapshot stands (kept in the checkpoint);
//! - [`budget`]: the byte budget events hold from the source to Kafka's acknowledgement.

pub mod budget;
pub mod change;
pub mod charset;
pub mod filter;
pub mod flavor;
pub mod incremental;
pub mod position;
pub mod table;
pub mod value;

pub use change::{Change, Op, OpSet, Row, SchemaChange, SnapshotMarker, SourceEvent};
pub use charset::Charset;
pub use filter::{Filter, FilterError};
pub use flavor::Flavor;
pub use incremental::{BlockingRequest, IncrementalProgress, KeyPart, TableTodo};
pub use position::{
    BinlogPosition, GtidSet, MariadbGtid, MariadbGtidList, MysqlGtidSet, Position, RowMark,
    SourceOffset,
};
pub use table::{
    ByTable, Catalog, ColumnDdl, ColumnDefault, ColumnDesc, ColumnKind, Declared, TableDesc,
};
pub use value::{DateTime, Value};

/// Milliseconds since the Unix epoch, by the system clock (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
