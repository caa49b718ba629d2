//! The MySQL/MariaDB → Debezium type mapping: the single place that decides, for every
//! [`ColumnKind`] and every handling mode, which Connect schema a column gets and how a
//! decoded [`Value`] becomes a [`Datum`] of that schema.
//!
//! The rules follow Debezium 3.6 (the reference release): its documented mapping in
//! `documentation/.../shared-mariadb-mysql.adoc` ("Data type mappings"), the converters in
//! `debezium-connector-binlog/.../jdbc/BinlogValueConverters.java` and
//! `debezium-connector-common/.../jdbc/JdbcValueConverters.java`, and the schema builders in
//! `io/debezium/time/*.java` and `io/debezium/data/*.java`.
//!
//! Invariant: `column_schema` and `column_datum` agree — the datum of a column always
//! matches the schema of that column under the same [`Modes`].

use base64::Engine as _;
use serde_json::Value as Json;

use crate::catalog::{ColumnDesc, ColumnKind};
use crate::change::value::{days_from_civil, Value};
use crate::config::{BigintUnsignedMode, BinaryMode, DecimalMode, FormatConfig, TimePrecisionMode};
use crate::envelope::schema::{Datum, Field, Schema, Type};

/// The handling modes that change the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modes {
    pub decimal: DecimalMode,
    pub time: TimePrecisionMode,
    pub bigint_unsigned: BigintUnsignedMode,
    pub binary: BinaryMode,
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
pub const FLOAT_VECTOR: &str = "io.debezium.data.FloatVector";

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
    let s = match &col.kind {
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
        ColumnKind::Geometry => {
            return geometry_schema();
        }
        ColumnKind::Vector { .. } => Schema::new(Type::Array(Box::new(Schema::new(Type::Float32))))
            .named(FLOAT_VECTOR)
            .version(1),
    };
    s.with_optional(col.nullable)
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

/// Why a value could not be converted (the caller adds table, column and position).
pub type ConvertError = String;

/// Converts one column value into a datum of `column_schema(col, m)`.
pub fn column_datum(col: &ColumnDesc, v: &Value, m: &Modes) -> Result<Datum, ConvertError> {
    let optional = col.nullable || matches!(col.kind, ColumnKind::Geometry);
    // JdbcValueConverters.convertValue: a null in a NOT NULL column (zero dates) becomes the
    // fallback: epoch 0, 0, "" or the epoch as an ISO string.
    let fallback = || -> Datum {
        if optional {
            return Datum::Null;
        }
        match &col.kind {
            ColumnKind::Timestamp { .. } => Datum::str("1970-01-01T00:00:00Z"),
            ColumnKind::Enum { .. } | ColumnKind::Set { .. } => Datum::str(""),
            _ => Datum::Int(0),
        }
    };
    if v.is_null() {
        return Ok(fallback());
    }
    let mismatch = || format!("unexpected value {v:?} for a {} column", col.type_name());
    let d = match (&col.kind, v) {
        (
            ColumnKind::TinyInt | ColumnKind::SmallInt | ColumnKind::MediumInt | ColumnKind::Int,
            Value::Int(i),
        ) => Datum::Int(*i),
        (
            ColumnKind::TinyInt | ColumnKind::SmallInt | ColumnKind::MediumInt | ColumnKind::Int,
            Value::UInt(u),
        ) => Datum::Int(i64::try_from(*u).map_err(|_| mismatch())?),
        (ColumnKind::BigInt, Value::Int(i)) => Datum::Int(*i),
        (ColumnKind::BigInt, Value::UInt(u)) => match m.bigint_unsigned {
            // Values above 2^63-1 wrap negative, as Debezium's `long` mode does.
            BigintUnsignedMode::Long => Datum::Int(*u as i64),
            BigintUnsignedMode::Precise => Datum::Bytes(unsigned_to_twos_complement(*u)),
        },
        (ColumnKind::Float, Value::Float(f)) => Datum::F32(*f),
        (ColumnKind::Float, Value::Double(f)) => Datum::F32(*f as f32),
        (ColumnKind::Double, Value::Double(f)) => Datum::F64(*f),
        (ColumnKind::Double, Value::Float(f)) => Datum::F64(*f as f64),
        (ColumnKind::Decimal { scale, .. }, Value::Decimal(text)) => match m.decimal {
            DecimalMode::Precise => Datum::Bytes(decimal_unscaled_bytes(text, *scale as u32)?),
            DecimalMode::Double => Datum::F64(
                text.parse::<f64>()
                    .map_err(|e| format!("invalid DECIMAL {text:?}: {e}"))?,
            ),
            DecimalMode::String => Datum::Str(text.clone()),
        },
        (ColumnKind::Bit { bits }, Value::Bit(b)) if *bits <= 1 => Datum::Bool(*b != 0),
        (ColumnKind::Bit { bits }, Value::Bit(b)) => {
            // Little-endian, (n+7)/8 bytes (JdbcValueConverters.convertBits / Bits).
            let n = (*bits as usize).div_ceil(8).min(8);
            Datum::Bytes(b.to_le_bytes()[..n].to_vec())
        }
        (ColumnKind::Year, Value::Year(y)) => Datum::Int(*y as i64),
        (ColumnKind::Year, Value::Int(y)) => Datum::Int(*y),
        (ColumnKind::Year, Value::UInt(y)) => Datum::Int(*y as i64),
        (ColumnKind::Date, Value::Date { year, month, day }) => {
            if *month == 0 || *day == 0 {
                fallback()
            } else {
                Datum::Int(days_from_civil(*year as i64, *month as u32, *day as u32))
            }
        }
        (ColumnKind::Time { .. }, Value::Time(micros)) => match m.time {
            TimePrecisionMode::AdaptiveTimeMicroseconds => Datum::Int(*micros),
            TimePrecisionMode::Connect => Datum::Int(micros.div_euclid(1000)),
        },
        (ColumnKind::DateTime { fsp }, Value::DateTime(dt)) => match dt.epoch_micros() {
            None => fallback(),
            Some(us) => match m.time {
                TimePrecisionMode::AdaptiveTimeMicroseconds if *fsp > 3 => Datum::Int(us),
                _ => Datum::Int(us.div_euclid(1000)),
            },
        },
        (ColumnKind::Timestamp { fsp }, Value::Timestamp { secs, micros }) => {
            // The zero TIMESTAMP is stored as epoch 0 (never a valid TIMESTAMP otherwise).
            if *secs == 0 && *micros == 0 {
                fallback()
            } else {
                Datum::Str(zoned_timestamp(*secs, *micros, *fsp))
            }
        }
        (ColumnKind::Char { max_bytes }, Value::Bytes(b)) if col.is_binary() => {
            // DBZ-254: BINARY(n) values are right-padded with zero bytes to n.
            let mut b = b.clone();
            if b.len() < *max_bytes as usize {
                b.resize(*max_bytes as usize, 0);
            }
            binary_datum(b, m.binary)
        }
        (
            ColumnKind::Char { .. } | ColumnKind::VarChar { .. } | ColumnKind::Blob { .. },
            Value::Bytes(b),
        ) if col.is_binary() => binary_datum(b.clone(), m.binary),
        (
            ColumnKind::Char { .. } | ColumnKind::VarChar { .. } | ColumnKind::Blob { .. },
            Value::String(s),
        ) if !col.is_binary() => Datum::Str(s.clone()),
        (ColumnKind::Enum { .. } | ColumnKind::Set { .. }, Value::String(s)) => {
            Datum::Str(s.clone())
        }
        (ColumnKind::Json, Value::Json(s) | Value::String(s)) => Datum::Str(s.clone()),
        (ColumnKind::Geometry, Value::Geometry { srid, wkb }) => Datum::Struct(vec![
            Datum::Bytes(wkb.clone()),
            // BinlogGeometry: SRID 0 means "unset" and is emitted as null.
            if *srid == 0 {
                Datum::Null
            } else {
                Datum::Int(*srid as i64)
            },
        ]),
        (ColumnKind::Vector { .. }, Value::Vector(v)) => {
            Datum::Array(v.iter().map(|f| Datum::F32(*f)).collect())
        }
        _ => return Err(mismatch()),
    };
    Ok(d)
}

fn binary_datum(b: Vec<u8>, mode: BinaryMode) -> Datum {
    match mode {
        BinaryMode::Bytes => Datum::Bytes(b),
        BinaryMode::Base64 => Datum::Str(base64::engine::general_purpose::STANDARD.encode(&b)),
        // java.util.Base64.getUrlEncoder() keeps the padding.
        BinaryMode::Base64UrlSafe => {
            Datum::Str(base64::engine::general_purpose::URL_SAFE.encode(&b))
        }
        BinaryMode::Hex => Datum::Str(hex::encode(&b)),
    }
}

/// `io.debezium.time.ZonedTimestamp` in UTC: `yyyy-MM-ddTHH:mm:ss[.f{fsp}]Z`. With fsp > 0
/// exactly fsp fraction digits (ZonedTimestamp's formatter for a fractional width); with
/// fsp 0 none (the value has no fraction).
pub fn zoned_timestamp(secs: i64, micros: u32, fsp: u8) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = crate::change::value::civil_from_days(days);
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        y,
        mo,
        d,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    );
    if fsp > 0 {
        let fsp = fsp.min(6) as usize;
        let frac = format!("{:06}", micros.min(999_999));
        s.push('.');
        s.push_str(&frac[..fsp]);
    } else if micros > 0 {
        // ISO_OFFSET_DATE_TIME prints the shortest fraction for a non-zero one.
        let frac = format!("{:06}", micros.min(999_999));
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Minimal big-endian two's complement of an unsigned 64-bit value (Java's
/// `BigInteger.toByteArray`).
pub fn unsigned_to_twos_complement(u: u64) -> Vec<u8> {
    let mut mag = u.to_be_bytes().to_vec();
    let first = mag.iter().position(|b| *b != 0).unwrap_or(mag.len() - 1);
    mag.drain(..first);
    if mag[0] & 0x80 != 0 {
        mag.insert(0, 0);
    }
    mag
}

/// The unscaled value of a DECIMAL text (`-12.340`, scale 3 → -12340) as the minimal
/// big-endian two's complement bytes Connect's `Decimal` carries.
pub fn decimal_unscaled_bytes(text: &str, scale: u32) -> Result<Vec<u8>, ConvertError> {
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if frac_part.len() > scale as usize && frac_part[scale as usize..].bytes().any(|b| b != b'0') {
        return Err(format!(
            "DECIMAL {text:?} has more than {scale} fraction digits"
        ));
    }
    let mut all: Vec<u8> = Vec::with_capacity(int_part.len() + scale as usize);
    for (i, b) in int_part
        .bytes()
        .chain(
            frac_part
                .bytes()
                .chain(std::iter::repeat(b'0'))
                .take(scale as usize),
        )
        .enumerate()
    {
        if !b.is_ascii_digit() {
            return Err(format!("invalid DECIMAL {text:?} (byte {i})"));
        }
        all.push(b - b'0');
    }
    // Base-10 digits → base-256 magnitude (big-endian).
    let mut mag: Vec<u8> = Vec::new();
    for d in all {
        let mut carry = d as u32;
        for byte in mag.iter_mut().rev() {
            let v = *byte as u32 * 10 + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            mag.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    if mag.is_empty() {
        return Ok(vec![0]);
    }
    if !neg {
        if mag[0] & 0x80 != 0 {
            mag.insert(0, 0);
        }
        return Ok(mag);
    }
    // Two's complement: invert and add one.
    for b in mag.iter_mut() {
        *b = !*b;
    }
    for b in mag.iter_mut().rev() {
        let (v, overflow) = b.overflowing_add(1);
        *b = v;
        if !overflow {
            break;
        }
    }
    if mag[0] & 0x80 == 0 {
        mag.insert(0, 0xff);
    }
    // Drop redundant leading 0xff bytes (keep the sign bit).
    while mag.len() > 1 && mag[0] == 0xff && mag[1] & 0x80 != 0 {
        mag.remove(0);
    }
    Ok(mag)
}

/// The row struct (`…Value`) of a table: one field per column.
pub fn row_fields(cols: &[ColumnDesc], m: &Modes) -> Vec<Field> {
    cols.iter()
        .map(|c| Field::new(c.name.clone(), column_schema(c, m)))
        .collect()
}

/// A default value for the schema of `Json` (unused placeholder for column defaults, which
/// the catalog does not carry yet).
pub fn no_default() -> Option<Json> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_bytes_match_biginteger() {
        assert_eq!(decimal_unscaled_bytes("0", 0).unwrap(), vec![0]);
        assert_eq!(decimal_unscaled_bytes("1.00", 2).unwrap(), vec![0x64]);
        assert_eq!(decimal_unscaled_bytes("1.28", 2).unwrap(), vec![0x00, 0x80]);
        assert_eq!(decimal_unscaled_bytes("-1.28", 2).unwrap(), vec![0x80]);
        assert_eq!(
            decimal_unscaled_bytes("-1.29", 2).unwrap(),
            vec![0xff, 0x7f]
        );
        assert_eq!(decimal_unscaled_bytes("-0.01", 2).unwrap(), vec![0xff]);
        assert_eq!(
            decimal_unscaled_bytes("-2.56", 2).unwrap(),
            vec![0xff, 0x00]
        );
        assert_eq!(decimal_unscaled_bytes("-1.5", 1).unwrap(), vec![0xf1]);
        assert_eq!(
            unsigned_to_twos_complement(u64::MAX),
            vec![0, 255, 255, 255, 255, 255, 255, 255, 255]
        );
        assert_eq!(unsigned_to_twos_complement(0), vec![0]);
    }

    #[test]
    fn zoned_timestamps() {
        // shared-mariadb-mysql.adoc: TIMESTAMP '2018-06-20 06:37:03' (UTC-7) → 2018-06-20T13:37:03Z
        assert_eq!(zoned_timestamp(1_529_501_823, 0, 0), "2018-06-20T13:37:03Z");
        assert_eq!(
            zoned_timestamp(1_529_501_823, 780_000, 2),
            "2018-06-20T13:37:03.78Z"
        );
        assert_eq!(
            zoned_timestamp(1_529_501_823, 0, 3),
            "2018-06-20T13:37:03.000Z"
        );
    }
}
