//! Snapshot rows as `Value`s: one binary-protocol row from the server's cursor, converted
//! by the table's column kinds (the same values the binlog decoder gives for streamed rows).

use mysql_async::Value as MyValue;

use crate::model::value::days_from_civil;
use crate::model::{ColumnDesc, ColumnKind, DateTime, Row, TableDesc, Value};

/// Converts one binary-protocol row to `Value`s, by the table's column kinds.
pub(crate) fn convert_row(
    table: &TableDesc,
    values: Vec<Option<MyValue>>,
) -> std::result::Result<Row, (String, String)> {
    if values.len() != table.columns.len() {
        return Err((
            "*".into(),
            format!(
                "row has {} values for {} columns",
                values.len(),
                table.columns.len()
            ),
        ));
    }
    table
        .columns
        .iter()
        .zip(values)
        .map(|(c, v)| convert(c, v.unwrap_or(MyValue::NULL)).map_err(|e| (c.name.clone(), e)))
        .collect()
}

/// One binary-protocol value as a `Value`, by the column's kind: a single dispatch into
/// the helper for the kind's family.
fn convert(col: &ColumnDesc, v: MyValue) -> std::result::Result<Value, String> {
    use ColumnKind as K;
    if v == MyValue::NULL {
        return Ok(Value::Null);
    }
    match &col.kind {
        K::TinyInt | K::SmallInt | K::MediumInt | K::Int | K::BigInt => {
            convert_int(v, col.unsigned)
        }
        K::Float => match v {
            MyValue::Float(f) => Ok(Value::Float(f)),
            MyValue::Double(d) => Ok(Value::Float(d as f32)),
            other => Err(format!("unexpected FLOAT value {other:?}")),
        },
        K::Double => match v {
            MyValue::Double(d) => Ok(Value::Double(d)),
            MyValue::Float(f) => Ok(Value::Double(f as f64)),
            other => Err(format!("unexpected DOUBLE value {other:?}")),
        },
        K::Decimal { .. } => Ok(Value::Decimal(
            String::from_utf8(bytes(v)?).map_err(|_| "DECIMAL text is not ASCII")?,
        )),
        K::Bit { .. } => convert_bit(v),
        K::Year => convert_year(v),
        K::Date => match v {
            MyValue::Date(y, m, d, ..) => Ok(Value::Date {
                year: y,
                month: m,
                day: d,
            }),
            other => Err(format!("unexpected DATE value {other:?}")),
        },
        K::Time { .. } => convert_time(v),
        K::DateTime { .. } => convert_datetime(v),
        K::Timestamp { .. } => convert_timestamp(v),
        K::Char { .. } | K::VarChar { .. } | K::Blob { .. } => convert_text(col, v),
        K::Enum { .. } | K::Set { .. } => convert_label(col, v),
        K::Json => Ok(Value::Json(
            String::from_utf8(bytes(v)?).map_err(|_| "JSON text is not UTF-8")?,
        )),
        K::Geometry => convert_geometry(v),
        K::Vector { .. } => convert_vector(v),
    }
}

/// The bytes of a value the protocol sends as bytes.
fn bytes(v: MyValue) -> std::result::Result<Vec<u8>, String> {
    match v {
        MyValue::Bytes(b) => Ok(b),
        other => Err(format!("expected bytes, got {other:?}")),
    }
}

/// TINYINT … BIGINT, by the column's signedness (text as well as binary values).
fn convert_int(v: MyValue, unsigned: bool) -> std::result::Result<Value, String> {
    Ok(match v {
        MyValue::Int(i) if unsigned => Value::UInt(i as u64),
        MyValue::Int(i) => Value::Int(i),
        MyValue::UInt(u) if unsigned => Value::UInt(u),
        MyValue::UInt(u) => Value::Int(u as i64),
        MyValue::Bytes(b) => {
            let s = String::from_utf8_lossy(&b);
            if unsigned {
                Value::UInt(s.parse().map_err(|_| format!("bad integer {s}"))?)
            } else {
                Value::Int(s.parse().map_err(|_| format!("bad integer {s}"))?)
            }
        }
        other => return Err(format!("unexpected integer value {other:?}")),
    })
}

/// BIT(n): big-endian bytes, at most 64 bits.
fn convert_bit(v: MyValue) -> std::result::Result<Value, String> {
    let b = bytes(v)?;
    if b.len() > 8 {
        return Err("BIT wider than 64 bits".into());
    }
    Ok(Value::Bit(b.iter().fold(0u64, |a, x| (a << 8) | *x as u64)))
}

/// YEAR, as a number or as text.
fn convert_year(v: MyValue) -> std::result::Result<Value, String> {
    Ok(match v {
        MyValue::Int(y) => Value::Year(y as u16),
        MyValue::UInt(y) => Value::Year(y as u16),
        MyValue::Bytes(b) => Value::Year(
            String::from_utf8_lossy(&b)
                .parse()
                .map_err(|_| "bad YEAR")?,
        ),
        other => return Err(format!("unexpected YEAR value {other:?}")),
    })
}

/// TIME, as signed micros.
fn convert_time(v: MyValue) -> std::result::Result<Value, String> {
    match v {
        MyValue::Time(neg, days, h, m, s, us) => {
            let micros = ((days as i64 * 24 + h as i64) * 3600 + m as i64 * 60 + s as i64)
                * 1_000_000
                + us as i64;
            Ok(Value::Time(if neg { -micros } else { micros }))
        }
        other => Err(format!("unexpected TIME value {other:?}")),
    }
}

/// DATETIME, field by field.
fn convert_datetime(v: MyValue) -> std::result::Result<Value, String> {
    match v {
        MyValue::Date(year, month, day, hour, minute, second, micros) => {
            Ok(Value::DateTime(DateTime {
                year,
                month,
                day,
                hour,
                minute,
                second,
                micros,
            }))
        }
        other => Err(format!("unexpected DATETIME value {other:?}")),
    }
}

/// TIMESTAMP (read in UTC) as epoch seconds; the zero date is the epoch.
fn convert_timestamp(v: MyValue) -> std::result::Result<Value, String> {
    match v {
        MyValue::Date(y, mo, d, h, mi, s, us) => {
            if mo == 0 || d == 0 {
                Ok(Value::Timestamp { secs: 0, micros: 0 })
            } else {
                let days = days_from_civil(y as i64, mo as u32, d as u32);
                Ok(Value::Timestamp {
                    secs: days * 86_400 + h as i64 * 3600 + mi as i64 * 60 + s as i64,
                    micros: us,
                })
            }
        }
        other => Err(format!("unexpected TIMESTAMP value {other:?}")),
    }
}

/// CHAR/VARCHAR/TEXT in the column's charset, or bytes when it is binary; MariaDB
/// UUID/INET4/INET6 as the text the server sends for them.
fn convert_text(col: &ColumnDesc, v: MyValue) -> std::result::Result<Value, String> {
    let b = bytes(v)?;
    if col.declared().is_text_form() {
        return String::from_utf8(b)
            .map(Value::String)
            .map_err(|_| "UUID/INET text that is not UTF-8".to_string());
    }
    if col.charset.is_binary() {
        Ok(Value::Bytes(b))
    } else {
        Ok(Value::String(col.charset.decode(&b)?))
    }
}

/// ENUM/SET labels as text (UTF-8 when the column's charset is binary).
fn convert_label(col: &ColumnDesc, v: MyValue) -> std::result::Result<Value, String> {
    let b = bytes(v)?;
    let cs = if col.charset.is_binary() {
        crate::model::Charset::Utf8
    } else {
        col.charset
    };
    Ok(Value::String(cs.decode(&b)?))
}

/// GEOMETRY: a little-endian SRID, then WKB.
fn convert_geometry(v: MyValue) -> std::result::Result<Value, String> {
    let b = bytes(v)?;
    if b.len() < 4 {
        return Err("GEOMETRY value shorter than its SRID".into());
    }
    Ok(Value::Geometry {
        srid: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        wkb: b[4..].to_vec(),
    })
}

/// VECTOR: little-endian f32s.
fn convert_vector(v: MyValue) -> std::result::Result<Value, String> {
    let b = bytes(v)?;
    if b.len() % 4 != 0 {
        return Err("VECTOR length is not a multiple of 4".into());
    }
    Ok(Value::Vector(
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    ))
}
