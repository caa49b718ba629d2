//! The MySQL/MariaDB → Connect *schema* mapping: which Connect [`Schema`] a column gets for
//! every [`ColumnKind`] under the handling [`Modes`], including the field default (built by
//! [`default_datum`], so the default always has the column's own form).
//!
//! Rules: Debezium 3.6 `BinlogValueConverters.schemaBuilder` and the schema builders in
//! `io/debezium/time/*.java` and `io/debezium/data/*.java`.

use super::{
    default_datum, Modes, BITS, CONNECT_DATE, CONNECT_TIME, CONNECT_TIMESTAMP, DATE, DECIMAL, ENUM,
    ENUM_SET, FLOAT_VECTOR, GEOMETRY, JSON, MICRO_TIME, MICRO_TIMESTAMP, POINT, TIMESTAMP, UUID,
    YEAR, ZONED_TIMESTAMP,
};
use crate::config::{BigintUnsignedMode, BinaryMode, DecimalMode, TimePrecisionMode};
use crate::envelope::schema::{Field, Schema, Type};
use crate::model::{ColumnDesc, ColumnKind, Declared};

/// Connect's `Decimal` logical schema with Debezium's precision parameter
/// (`SpecialValueDecimal.builder`: `scale`, then `connect.decimal.precision`).
pub fn decimal_schema(precision: u32, scale: u32) -> Schema {
    Schema::new(Type::Bytes)
        .named(DECIMAL)
        .version(1)
        .param("scale", scale.to_string())
        .param("connect.decimal.precision", precision.to_string())
}

fn logical(ty: Type, name: &str) -> Schema {
    Schema::new(ty).named(name).version(1)
}

fn binary_schema(mode: BinaryMode) -> Schema {
    match mode {
        BinaryMode::Bytes => Schema::new(Type::Bytes),
        _ => Schema::new(Type::String),
    }
}

/// The Connect schema of one column (without the field name).
pub fn column_schema(col: &ColumnDesc, m: &Modes) -> Schema {
    let s = match (&col.kind, col.declared()) {
        // A column declared BOOLEAN/BOOL (TINYINT(1) on the server): Types.BOOLEAN in
        // Debezium's DDL parser, hence a Connect boolean — only where the DDL says BOOLEAN
        // (`SHOW CREATE TABLE` prints `tinyint(1)`, so snapshotted tables keep INT16).
        (ColumnKind::TinyInt, Declared::Boolean) => Schema::new(Type::Boolean),
        // BinlogValueConverters.schemaBuilder: POINT is a Point (x, y, wkb, srid), optional
        // only when the column is; other spatial types are a Geometry (below).
        (ColumnKind::Geometry, Declared::Point) => point_schema(),
        // MariaDB UUID: its text, as the logical type Debezium has for UUIDs.
        (ColumnKind::Char { .. }, Declared::Uuid) => logical(Type::String, UUID),
        (ColumnKind::Char { .. }, Declared::Inet4 | Declared::Inet6) => Schema::new(Type::String),
        (kind, _) => plain_schema(col, kind, m),
    };
    let optional = s.optional || col.nullable;
    s.with_optional(optional)
        .with_default(default_datum(col, m))
}

/// The Connect schema of a column by its kind alone (no optionality, no default): every
/// type whose declared name adds nothing.
fn plain_schema(col: &ColumnDesc, kind: &ColumnKind, m: &Modes) -> Schema {
    match kind {
        // BinlogValueConverters.schemaBuilder: unsigned types widen; Debezium 3.6 maps signed
        // TINYINT to Types.SMALLINT (MySqlAntlrDdlParser), hence INT16 ("TINYINT → INT16" in
        // the 3.6 docs; 3.7 moves it to INT8).
        ColumnKind::TinyInt => Schema::new(Type::Int16),
        ColumnKind::SmallInt if col.unsigned => Schema::new(Type::Int32),
        ColumnKind::SmallInt => Schema::new(Type::Int16),
        ColumnKind::MediumInt => Schema::new(Type::Int32),
        ColumnKind::Int if col.unsigned => Schema::new(Type::Int64),
        ColumnKind::Int => Schema::new(Type::Int32),
        ColumnKind::BigInt if col.unsigned => match m.bigint_unsigned {
            BigintUnsignedMode::Long => Schema::new(Type::Int64),
            BigintUnsignedMode::Precise => decimal_schema(20, 0),
        },
        ColumnKind::BigInt => Schema::new(Type::Int64),
        // FLOAT with precision ≤ 24 (the only FLOAT the binlog carries) is FLOAT32.
        ColumnKind::Float => Schema::new(Type::Float32),
        ColumnKind::Double => Schema::new(Type::Float64),
        ColumnKind::Decimal { precision, scale } => match m.decimal {
            DecimalMode::Precise => decimal_schema(*precision as u32, *scale as u32),
            DecimalMode::Double => Schema::new(Type::Float64),
            DecimalMode::String => Schema::new(Type::String),
        },
        ColumnKind::Bit { bits } if *bits <= 1 => Schema::new(Type::Boolean),
        ColumnKind::Bit { bits } => logical(Type::Bytes, BITS).param("length", bits.to_string()),
        ColumnKind::Year => logical(Type::Int32, YEAR),
        ColumnKind::Date => match m.time {
            TimePrecisionMode::AdaptiveTimeMicroseconds => logical(Type::Int32, DATE),
            TimePrecisionMode::Connect => logical(Type::Int32, CONNECT_DATE),
        },
        ColumnKind::Time { .. } => match m.time {
            TimePrecisionMode::AdaptiveTimeMicroseconds => logical(Type::Int64, MICRO_TIME),
            TimePrecisionMode::Connect => logical(Type::Int32, CONNECT_TIME),
        },
        ColumnKind::DateTime { fsp } => match m.time {
            TimePrecisionMode::AdaptiveTimeMicroseconds if *fsp <= 3 => {
                logical(Type::Int64, TIMESTAMP)
            }
            TimePrecisionMode::AdaptiveTimeMicroseconds => logical(Type::Int64, MICRO_TIMESTAMP),
            TimePrecisionMode::Connect => logical(Type::Int64, CONNECT_TIMESTAMP),
        },
        ColumnKind::Timestamp { .. } => logical(Type::String, ZONED_TIMESTAMP),
        ColumnKind::Char { .. } | ColumnKind::VarChar { .. } | ColumnKind::Blob { .. } => {
            if col.is_binary() {
                binary_schema(m.binary)
            } else {
                Schema::new(Type::String)
            }
        }
        ColumnKind::Enum { values } => {
            logical(Type::String, ENUM).param("allowed", values.join(","))
        }
        ColumnKind::Set { values } => {
            logical(Type::String, ENUM_SET).param("allowed", values.join(","))
        }
        ColumnKind::Json => logical(Type::String, JSON),
        // Geometry.builder() is optional whatever the column says.
        ColumnKind::Geometry => geometry_schema(),
        ColumnKind::Vector { .. } => Schema::new(Type::Array(Box::new(Schema::new(Type::Float32))))
            .named(FLOAT_VECTOR)
            .version(1),
    }
}

/// `io.debezium.data.geometry.Geometry` (version 1 in Debezium 3.6): `{wkb, srid}`.
pub fn geometry_schema() -> Schema {
    Schema::strukt(
        GEOMETRY,
        vec![
            Field::new("wkb", Schema::new(Type::Bytes)),
            Field::new("srid", Schema::new(Type::Int32).optional()),
        ],
    )
    .version(1)
    .doc("Geometry")
    .optional()
}

/// `io.debezium.data.geometry.Point` (version 1): `{x, y, wkb, srid}`, x and y required.
pub fn point_schema() -> Schema {
    Schema::strukt(
        POINT,
        vec![
            Field::new("x", Schema::new(Type::Float64)),
            Field::new("y", Schema::new(Type::Float64)),
            Field::new("wkb", Schema::new(Type::Bytes).optional()),
            Field::new("srid", Schema::new(Type::Int32).optional()),
        ],
    )
    .version(1)
    .doc("Geometry (POINT)")
}

/// The row struct (`…Value`) of a table: one field per column.
pub fn row_fields(cols: &[ColumnDesc], m: &Modes) -> Vec<Field> {
    cols.iter()
        .map(|c| Field::new(c.name.clone(), column_schema(c, m)))
        .collect()
}
