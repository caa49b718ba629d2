//! *Value* conversion: how a decoded row [`Value`] becomes a [`Datum`] of the column's
//! Connect schema (`JdbcValueConverters` / `BinlogValueConverters.converter`), including the
//! fallback for a null in a NOT NULL column and the `binary.handling.mode` encodings.

use base64::Engine as _;

use super::{
    decimal_unscaled_bytes, unsigned_to_twos_complement, zoned_timestamp, ConvertError, Modes,
};
use crate::config::{BigintUnsignedMode, BinaryMode, DecimalMode, TimePrecisionMode};
use crate::envelope::schema::Datum;
use crate::model::value::days_from_civil;
use crate::model::{ColumnDesc, ColumnKind, Declared, Value};

/// Converts one column value into a datum of `column_schema(col, m)`: one `match` on the
/// column kind and the value (this runs for every column of every row: one dispatch, no
/// intermediate `Option`).
pub fn column_datum(col: &ColumnDesc, v: &Value, m: &Modes) -> Result<Datum, ConvertError> {
    let fallback = || fallback(col, m);
    if v.is_null() {
        return Ok(fallback());
    }
    let mismatch = || format!("unexpected value {v:?} for a {} column", col.type_name());
    let d = match (&col.kind, v) {
        // JdbcValueConverters.convertBoolean: any non-zero number is true.
        (ColumnKind::TinyInt, Value::Int(i)) if col.declared() == Declared::Boolean => {
            Datum::Bool(*i != 0)
        }
        (ColumnKind::TinyInt, Value::UInt(u)) if col.declared() == Declared::Boolean => {
            Datum::Bool(*u != 0)
        }
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
                // fsp 0: the shortest fraction, as Debezium's snapshot prints it.
                let fsp = if m.snapshot_read { 0 } else { *fsp };
                Datum::Str(zoned_timestamp(*secs, *micros, fsp))
            }
        }
        // MariaDB UUID/INET4/INET6: the decoder and the snapshot both give the server's text.
        (ColumnKind::Char { .. }, Value::String(s)) if col.declared().is_text_form() => {
            Datum::Str(s.clone())
        }
        (ColumnKind::Char { max_bytes }, Value::Bytes(b)) if col.is_binary() => {
            binary_datum(zero_padded(b, *max_bytes as usize), m.binary)
        }
        (
            ColumnKind::Char { .. } | ColumnKind::VarChar { .. } | ColumnKind::Blob { .. },
            Value::Bytes(b),
        ) if col.is_binary() => binary_datum(b.clone(), m.binary),
        (
            ColumnKind::Char { .. } | ColumnKind::VarChar { .. } | ColumnKind::Blob { .. },
            Value::String(s),
        ) if !col.is_binary() => Datum::Str(s.clone()),
        (ColumnKind::Enum { values } | ColumnKind::Set { values }, v) => {
            label_datum(values, v).ok_or_else(mismatch)?
        }
        (ColumnKind::Json, Value::Json(s) | Value::String(s)) => Datum::Str(s.clone()),
        (ColumnKind::Geometry, Value::Geometry { srid, wkb })
            if col.declared() == Declared::Point =>
        {
            point_datum(*srid, wkb)?
        }
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

/// BinlogValueConverters.convertPoint: the SRID (null when 0), the WKB as logged, and x and
/// y read from it (`Point.parseWKBPoint`: 21 bytes, byte order from its first byte, type 1).
/// Anything but a 2D point is an error, as in Debezium.
fn point_datum(srid: u32, wkb: &[u8]) -> Result<Datum, ConvertError> {
    let not_a_point = || {
        format!(
            "a POINT column holds {} bytes of WKB that are not a 2D point",
            wkb.len()
        )
    };
    if wkb.len() != 21 {
        return Err(not_a_point());
    }
    let little = wkb[0] != 0;
    let word = |b: &[u8]| -> [u8; 8] {
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        a
    };
    let ty = [wkb[1], wkb[2], wkb[3], wkb[4]];
    let ty = if little {
        u32::from_le_bytes(ty)
    } else {
        u32::from_be_bytes(ty)
    };
    if ty != 1 {
        return Err(not_a_point());
    }
    let f = |b: &[u8]| {
        if little {
            f64::from_le_bytes(word(b))
        } else {
            f64::from_be_bytes(word(b))
        }
    };
    Ok(Datum::Struct(vec![
        Datum::F64(f(&wkb[5..13])),
        Datum::F64(f(&wkb[13..21])),
        Datum::Bytes(wkb.to_vec()),
        if srid == 0 {
            Datum::Null
        } else {
            Datum::Int(srid as i64)
        },
    ]))
}

/// JdbcValueConverters.convertValue: a null in a NOT NULL column (zero dates, or a row
/// logged while the column allowed NULL) becomes the fallback of its type — epoch 0, 0,
/// 0.0, false, "", empty bytes or the epoch as an ISO string — always a datum of the
/// column's schema.
fn fallback(col: &ColumnDesc, m: &Modes) -> Datum {
    if is_optional(col) {
        return Datum::Null;
    }
    match (&col.kind, col.declared()) {
        (_, Declared::Boolean) => Datum::Bool(false),
        (_, d) if d.is_text_form() => Datum::str(""),
        // Debezium's fallback is an empty GEOMETRYCOLLECTION without x and y (which Connect
        // then rejects); the origin with that WKB keeps the event valid.
        (_, Declared::Point) => Datum::Struct(vec![
            Datum::F64(0.0),
            Datum::F64(0.0),
            Datum::Bytes(vec![1, 7, 0, 0, 0, 0, 0, 0, 0]),
            Datum::Null,
        ]),
        (ColumnKind::Timestamp { .. }, _) => Datum::str("1970-01-01T00:00:00Z"),
        (ColumnKind::Enum { .. } | ColumnKind::Set { .. } | ColumnKind::Json, _) => Datum::str(""),
        (ColumnKind::Float, _) => Datum::F32(0.0),
        (ColumnKind::Double, _) => Datum::F64(0.0),
        (ColumnKind::Decimal { scale, .. }, _) => {
            let zero = match *scale {
                0 => "0".to_string(),
                s => format!("0.{}", "0".repeat(s as usize)),
            };
            column_datum(col, &Value::Decimal(zero), m).unwrap_or(Datum::Int(0))
        }
        // BIGINT UNSIGNED in `precise` mode is a Decimal (bytes).
        (ColumnKind::BigInt, _) => column_datum(col, &Value::UInt(0), m).unwrap_or(Datum::Int(0)),
        (ColumnKind::Bit { bits }, _) if *bits > 1 => Datum::Bytes(vec![]),
        (ColumnKind::Char { .. } | ColumnKind::VarChar { .. } | ColumnKind::Blob { .. }, _)
            if col.is_binary() =>
        {
            binary_datum(vec![], m.binary)
        }
        (ColumnKind::Char { .. } | ColumnKind::VarChar { .. } | ColumnKind::Blob { .. }, _) => {
            Datum::str("")
        }
        (ColumnKind::Vector { .. }, _) => Datum::Array(vec![]),
        _ => Datum::Int(0),
    }
}

/// Whether the column's schema is optional (a geometry other than a POINT always is:
/// `Geometry.builder()`).
pub(super) fn is_optional(col: &ColumnDesc) -> bool {
    col.nullable || (matches!(col.kind, ColumnKind::Geometry) && col.declared() != Declared::Point)
}

pub(super) fn binary_datum(b: Vec<u8>, mode: BinaryMode) -> Datum {
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

/// An ENUM/SET value: its label(s) as decoded, or — labels unknown (a positional
/// description from a MINIMAL table map) — the decimal text of the ENUM's 1-based index or
/// the SET's bit mask that the decoder kept.
fn label_datum(values: &[String], v: &Value) -> Option<Datum> {
    match v {
        Value::String(s) => Some(Datum::Str(s.clone())),
        Value::UInt(u) if values.is_empty() => Some(Datum::Str(u.to_string())),
        _ => None,
    }
}

/// DBZ-254: BINARY(n) values are right-padded with zero bytes to n.
fn zero_padded(b: &[u8], n: usize) -> Vec<u8> {
    let mut b = b.to_vec();
    if b.len() < n {
        b.resize(n, 0);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_and_set_without_labels_are_their_index_or_mask_as_text() {
        let m = Modes::default();
        let e = ColumnDesc::new("e", ColumnKind::Enum { values: vec![] });
        let s = ColumnDesc::new("s", ColumnKind::Set { values: vec![] });
        assert_eq!(
            column_datum(&e, &Value::UInt(2), &m).unwrap(),
            Datum::str("2")
        );
        assert_eq!(
            column_datum(&s, &Value::UInt(5), &m).unwrap(),
            Datum::str("5")
        );
        // With labels, an index is still a mismatch (the decoder gives the label).
        let labelled = ColumnDesc::new(
            "e",
            ColumnKind::Enum {
                values: vec!["a".into()],
            },
        );
        assert!(column_datum(&labelled, &Value::UInt(1), &m).is_err());
    }

    /// Debezium 3.5 (MariaDB connector, seen live): a streamed TIMESTAMP(fsp) has exactly
    /// fsp fraction digits, a snapshot-read one the shortest fraction (none when zero).
    #[test]
    fn a_snapshot_read_timestamp_has_the_shortest_fraction() {
        let ts3 = ColumnDesc::new("ts", ColumnKind::Timestamp { fsp: 3 });
        let at = |micros, snapshot_read| {
            let m = Modes {
                snapshot_read,
                ..Modes::default()
            };
            let v = Value::Timestamp {
                secs: 1_704_067_201,
                micros,
            };
            column_datum(&ts3, &v, &m).unwrap()
        };
        assert_eq!(at(500_000, false), Datum::str("2024-01-01T00:00:01.500Z"));
        assert_eq!(at(500_000, true), Datum::str("2024-01-01T00:00:01.5Z"));
        assert_eq!(at(0, false), Datum::str("2024-01-01T00:00:01.000Z"));
        assert_eq!(at(0, true), Datum::str("2024-01-01T00:00:01Z"));
        assert_eq!(at(999_000, true), Datum::str("2024-01-01T00:00:01.999Z"));
    }

    /// A null in a NOT NULL column becomes a zero of the column's own schema type (the
    /// encoders refuse a datum of another type).
    #[test]
    fn a_null_in_a_not_null_column_is_a_zero_of_its_type() {
        let m = Modes::default();
        let not_null = |kind: ColumnKind| {
            let mut c = ColumnDesc::new("c", kind);
            c.nullable = false;
            c
        };
        let cases = [
            (not_null(ColumnKind::Float), Datum::F32(0.0)),
            (not_null(ColumnKind::Double), Datum::F64(0.0)),
            (
                not_null(ColumnKind::VarChar { max_bytes: 40 }),
                Datum::str(""),
            ),
            (not_null(ColumnKind::Json), Datum::str("")),
            (not_null(ColumnKind::Int), Datum::Int(0)),
            (not_null(ColumnKind::Bit { bits: 12 }), Datum::Bytes(vec![])),
        ];
        for (col, want) in cases {
            assert_eq!(
                column_datum(&col, &Value::Null, &m).unwrap(),
                want,
                "{:?}",
                col.kind
            );
        }
        let mut blob = not_null(ColumnKind::Blob { len_bytes: 2 });
        blob.charset = crate::model::Charset::Binary;
        assert_eq!(
            column_datum(&blob, &Value::Null, &m).unwrap(),
            Datum::Bytes(vec![])
        );
        let dec = not_null(ColumnKind::Decimal {
            precision: 10,
            scale: 2,
        });
        // `precise`: the unscaled value 0 as bytes.
        assert_eq!(
            column_datum(&dec, &Value::Null, &m).unwrap(),
            Datum::Bytes(vec![0])
        );
        let mut nullable = ColumnDesc::new("n", ColumnKind::Double);
        nullable.nullable = true;
        assert_eq!(
            column_datum(&nullable, &Value::Null, &m).unwrap(),
            Datum::Null
        );
    }
}
