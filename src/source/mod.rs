//! The source: reads row changes from the binlog stream or a recorded binlog file and
//! hands them on as [`crate::model::SourceEvent`]s, in log order.

pub mod binlog;
pub mod chunk;
pub(crate) mod events;
pub mod file;
pub mod guard;
pub mod heartbeat;
pub(crate) mod reread;
pub mod snapshot;
pub mod watermark;
