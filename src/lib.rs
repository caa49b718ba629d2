//! rowtide: log-based change data capture from MySQL/MariaDB binlogs to Kafka, with
//! Debezium-compatible events.
//!
//! # Layout
//! The house has three floors; every module depends only on the floors below it (checked
//! by `tests/architecture.rs`: no cycle between top-level modules, nothing above the model
//! imported by the model).
//!
//! **The model** — [`model`]: the shared vocabulary (flavour, positions and the row mark,
//! charsets, values, table descriptions, the filter, the change and the source events).
//! It imports nothing from the crate.
//!
//! **The rooms**, one step of the flow each, in flow order:
//! - [`mysql`] talks SQL to the server: connections, server facts, `information_schema`;
//! - [`catalog`] knows each table's structure at every point of the log (table maps, DDL);
//! - [`decode`] turns row-image bytes into values;
//! - [`source`] reads rows: the snapshot, the live binlog stream, recorded files;
//! - [`envelope`] turns a change into a Debezium envelope and derives its schema;
//! - [`encode`] serializes keys and envelopes (JSON, JSON with schema, Avro + registry) and
//!   owns the record rules (tombstones, key changes, transaction boundaries);
//! - `sink` delivers records (Kafka, stdout) and reports each delivery;
//! - `checkpoint` owns the marks, the acknowledgement window and the store;
//!
//! beside them [`config`] (and [`import`], which writes a rowtide configuration from a
//! Debezium connector's), [`error`] (transient vs definite), `backoff` (the one retry
//! policy), [`redact`] (no secret in any output), `metrics`, `http` (`/metrics`,
//! `/healthz`) and [`telemetry`] (logs).
//!
//! **The wiring** — `pipeline` connects the rooms into stages (plan, source task, encoder
//! pool, sink loop) and restarts them after transient errors; `preflight` checks a setup
//! (`rowtide check`); `ha` runs the pipeline as one instance of a hot-standby group
//! (`[ha]`: leadership from Kafka's group coordination, the transactional fence against a
//! deposed instance); [`cli`] is the command line.
//!
//! The data path: binlog event → [`source`] (`EventHandler`, decoded with the [`catalog`]'s
//! structure) → [`model::SourceEvent`] → encoder pool (`encode::records`: envelope, bytes,
//! checkpoint mark on the last record of a change) → sink loop (sent with a sequence
//! number; its slot in the acknowledgement window) → delivery report → the acknowledged
//! prefix's marks move the checkpoint → saved (flushed) by the store.

pub(crate) mod backoff;
pub mod catalog;
pub(crate) mod checkpoint;
pub mod cli;
pub mod config;
pub mod cutover;
pub mod decode;
pub mod encode;
pub mod envelope;
pub mod error;
pub(crate) mod ha;
pub(crate) mod http;
pub mod import;
pub(crate) mod metrics;
pub mod model;
pub mod mysql;
pub(crate) mod notify;
pub(crate) mod pipeline;
pub(crate) mod preflight;
pub mod redact;
pub mod signal;
pub(crate) mod sink;
pub mod source;
pub mod telemetry;
pub mod transform;

pub use error::{Error, Result};
