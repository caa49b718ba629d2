//! rowtide: log-based change data capture from MySQL/MariaDB binlogs to Kafka, with
//! Debezium-compatible events.
//!
//! # Layout
//! A change flows one way, and each module owns one step of that flow:
//! - [`source`] reads the binlog (live or recorded) and decodes rows into [`change::Change`]s;
//! - [`catalog`] knows each table's structure at every point of the log;
//! - [`envelope`] turns a change into a Debezium envelope and derives its schema;
//! - [`encode`] serializes keys and envelopes (JSON, JSON with schema, Avro + registry);
//! - [`sink`] delivers records (Kafka, stdout) and reports each delivery;
//! - [`checkpoint`] moves the stored position only past acknowledged events;
//! - [`pipeline`] wires the stages with bounded channels and owns shutdown.
//!
//! [`position`] holds the position types, [`config`] the configuration and [`error`] the
//! error classification (transient vs definite).

pub(crate) mod backoff;
pub mod catalog;
pub(crate) mod checkpoint;
pub mod cli;
pub mod config;
pub mod decode;
pub mod encode;
pub mod envelope;
pub mod error;
pub(crate) mod http;
pub(crate) mod metrics;
pub mod model;
pub mod mysql;
pub(crate) mod pipeline;
pub(crate) mod preflight;
pub(crate) mod sink;
pub mod source;
pub mod telemetry;

pub use error::{Error, Result};
