//! The `source` block of every event: its Connect schema (named after the connector, as
//! Debezium's `BinlogSourceInfoStructMaker` does) and its values from a change's position.
//!
//! Invariant: the field order is Debezium's — the common fields of `SchemaFactory.
//! sourceInfoSchemaBuilder` (version … ts_ns) followed by the binlog fields (table … query).

use crate::envelope::schema::{int32, int64, string, Datum, Field, Schema, Type};
use crate::model::Flavor;

/// Debezium's `SnapshotRecord` values, lowercased, in declaration order.
pub const SNAPSHOT_ALLOWED: &str =
    "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental";

/// `io.debezium.connector.mysql.Source` or `io.debezium.connector.mariadb.Source`.
pub fn source_schema_name(flavor: Flavor) -> String {
    format!("io.debezium.connector.{}.Source", flavor.connector())
}

/// The source block's schema.
pub fn source_schema(flavor: Flavor) -> Schema {
    let snapshot = Schema::new(Type::String)
        .named(super::convert::ENUM)
        .version(1)
        .param("allowed", SNAPSHOT_ALLOWED)
        .default_value(Datum::str("false"))
        .optional();
    Schema::strukt(
        source_schema_name(flavor),
        vec![
            Field::new("version", string()),
            Field::new("connector", string()),
            Field::new("name", string()),
            Field::new("ts_ms", int64()),
            Field::new("snapshot", snapshot),
            Field::new("db", string()),
            Field::new("sequence", string().optional()),
            Field::new("ts_us", int64().optional()),
            Field::new("ts_ns", int64().optional()),
            Field::new("table", string().optional()),
            Field::new("server_id", int64()),
            Field::new("gtid", string().optional()),
            Field::new("file", string()),
            Field::new("pos", int64()),
            Field::new("row", int32()),
            Field::new("thread", int64().optional()),
            Field::new("query", string().optional()),
        ],
    )
    .version(1)
}

/// What the source block says about one event.
#[derive(Debug, Clone, Default)]
pub struct SourceFields<'a> {
    pub connector: &'static str,
    pub name: &'a str,
    pub ts_ms: i64,
    pub snapshot: &'static str,
    pub db: &'a str,
    pub table: Option<&'a str>,
    pub server_id: u32,
    pub gtid: Option<&'a str>,
    pub file: &'a str,
    pub pos: u64,
    pub row: u32,
    pub thread: Option<u32>,
    pub query: Option<&'a str>,
}

/// The source block's datum (fields in schema order).
pub fn source_datum(s: &SourceFields<'_>) -> Datum {
    Datum::Struct(vec![
        Datum::str(env!("CARGO_PKG_VERSION")),
        Datum::str(s.connector),
        Datum::str(s.name),
        Datum::Int(s.ts_ms),
        Datum::str(s.snapshot),
        Datum::str(s.db),
        Datum::Null,
        Datum::Int(s.ts_ms.saturating_mul(1_000)),
        Datum::Int(s.ts_ms.saturating_mul(1_000_000)),
        Datum::opt_str(s.table),
        Datum::Int(s.server_id as i64),
        Datum::opt_str(s.gtid),
        Datum::str(s.file),
        Datum::Int(s.pos as i64),
        Datum::Int(s.row as i64),
        s.thread.map_or(Datum::Null, |t| Datum::Int(t as i64)),
        Datum::opt_str(s.query),
    ])
}
