//! The MySQL/MariaDB → Debezium type mapping: the single place that decides, for every
//! [`ColumnKind`](crate::model::ColumnKind) and every handling mode, which Connect schema a
//! column gets and how a decoded [`Value`](crate::model::Value) becomes a
//! [`Datum`](crate::envelope::schema::Datum) of that schema.
//!
//! The rules follow Debezium 3.6 (the reference release): its documented mapping in
//! `documentation/.../shared-mariadb-mysql.adoc` ("Data type mappings"), the converters in
//! `debezium-connector-binlog/.../jdbc/BinlogValueConverters.java` and
//! `debezium-connector-common/.../jdbc/JdbcValueConverters.java`, and the schema builders in
//! `io/debezium/time/*.java` and `io/debezium/data/*.java`.
//!
//! Column defaults follow Debezium's `BinlogDefaultValueConverter` and the DDL parser's
//! `DefaultValueParserListener` ([`default_datum`]).
//!
//! Invariant: `column_schema` and `column_datum` agree — the datum of a column always
//! matches the schema of that column under the same [`Modes`], and so does its default.
//!
//! The mapping is split by concern: `schema_map` (column → Connect schema), `value` (row
//! value → datum), `default` (column-default literals), `temporal` (timestamp text, date/time
//! literal readers) and `decimal` (Decimal bytes, DECIMAL rounding). This module
//! owns the handling [`Modes`] and the Connect/Debezium logical type names, and re-exports
//! the public items of its parts so callers keep using `convert::…`.

use crate::config::{BigintUnsignedMode, BinaryMode, DecimalMode, FormatConfig, TimePrecisionMode};
use crate::model::ColumnKind;

mod decimal;
mod default;
mod schema_map;
mod temporal;
mod value;

pub use decimal::{decimal_text, decimal_unscaled_bytes, unsigned_to_twos_complement};
pub use default::default_datum;
pub use schema_map::{column_schema, decimal_schema, row_fields};
pub use temporal::zoned_timestamp;
pub use value::column_datum;

/// The handling modes that change the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modes {
    pub decimal: DecimalMode,
    pub time: TimePrecisionMode,
    pub bigint_unsigned: BigintUnsignedMode,
    pub binary: BinaryMode,
    /// The row was read by a snapshot (`SELECT`: an `op = r` event, initial or
    /// incremental), not decoded from the binlog. Debezium's snapshot path prints a
    /// TIMESTAMP's fraction shortest (`…:01.5Z`, none when zero), its binlog path with the
    /// column's fsp digits (`…:01.500Z`) — both seen live on its MariaDB connector 3.5
    /// (`tests/incremental_parity.rs`). Set per event by the envelope, never by config.
    pub snapshot_read: bool,
}

impl Default for Modes {
    fn default() -> Self {
        Modes::from(&FormatConfig::default())
    }
}

impl From<&FormatConfig> for Modes {
    fn from(c: &FormatConfig) -> Self {
        Modes {
            decimal: c.decimal_handling_mode,
            time: c.time_precision_mode,
            bigint_unsigned: c.bigint_unsigned_handling_mode,
            binary: c.binary_handling_mode,
            snapshot_read: false,
        }
    }
}

pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
pub const CONNECT_DATE: &str = "org.apache.kafka.connect.data.Date";
pub const CONNECT_TIME: &str = "org.apache.kafka.connect.data.Time";
pub const CONNECT_TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
pub const DATE: &str = "io.debezium.time.Date";
pub const MICRO_TIME: &str = "io.debezium.time.MicroTime";
pub const TIMESTAMP: &str = "io.debezium.time.Timestamp";
pub const MICRO_TIMESTAMP: &str = "io.debezium.time.MicroTimestamp";
pub const ZONED_TIMESTAMP: &str = "io.debezium.time.ZonedTimestamp";
pub const YEAR: &str = "io.debezium.time.Year";
pub const BITS: &str = "io.debezium.data.Bits";
pub const ENUM: &str = "io.debezium.data.Enum";
pub const ENUM_SET: &str = "io.debezium.data.EnumSet";
pub const JSON: &str = "io.debezium.data.Json";
pub const GEOMETRY: &str = "io.debezium.data.geometry.Geometry";
pub const POINT: &str = "io.debezium.data.geometry.Point";
pub const UUID: &str = "io.debezium.data.Uuid";
pub const FLOAT_VECTOR: &str = "io.debezium.data.FloatVector";

/// Why a value could not be converted (the caller adds table, column and position).
pub type ConvertError = String;

/// The families of column kinds that values and default literals are converted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Integers, FLOAT/DOUBLE, DECIMAL, BIT and YEAR.
    Numeric,
    /// DATE, TIME, DATETIME and TIMESTAMP.
    Temporal,
    /// Strings, binary strings, ENUM/SET, JSON, geometries and vectors.
    Other,
}

fn family(kind: &ColumnKind) -> Family {
    match kind {
        ColumnKind::TinyInt
        | ColumnKind::SmallInt
        | ColumnKind::MediumInt
        | ColumnKind::Int
        | ColumnKind::BigInt
        | ColumnKind::Float
        | ColumnKind::Double
        | ColumnKind::Decimal { .. }
        | ColumnKind::Bit { .. }
        | ColumnKind::Year => Family::Numeric,
        ColumnKind::Date
        | ColumnKind::Time { .. }
        | ColumnKind::DateTime { .. }
        | ColumnKind::Timestamp { .. } => Family::Temporal,
        ColumnKind::Char { .. }
        | ColumnKind::VarChar { .. }
        | ColumnKind::Blob { .. }
        | ColumnKind::Enum { .. }
        | ColumnKind::Set { .. }
        | ColumnKind::Json
        | ColumnKind::Geometry
        | ColumnKind::Vector { .. } => Family::Other,
    }
}
