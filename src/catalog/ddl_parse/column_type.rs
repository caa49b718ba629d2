//! SQL column types → [`ColumnKind`]: the many spellings MySQL and MariaDB accept (`INT4`,
//! `NATIONAL CHAR`, `LONG VARBINARY`, …), their numbers in parentheses (lengths, precision
//! and scale, fsp, bits, dimensions), UNSIGNED, and whether the type holds bytes.

use sqlparser::ast::{DataType, EnumMember};

use super::charset::charset_clause;
use crate::model::{Charset, ColumnKind};

/// Whether a type is `SERIAL` (BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE).
pub(super) fn is_serial(dt: &DataType) -> bool {
    dt.to_string().eq_ignore_ascii_case("SERIAL")
}

/// `(kind, unsigned, binary, charset named in the type)` of a SQL type. Works on the type's
/// printed form so that the many spellings sqlparser distinguishes map to one kind.
pub(super) fn kind_of(dt: &DataType) -> Result<(ColumnKind, bool, bool, Option<Charset>), String> {
    match dt {
        DataType::Enum(members, _) => {
            let values = members
                .iter()
                .map(|m| match m {
                    EnumMember::Name(s) => s.clone(),
                    EnumMember::NamedValue(s, _) => s.clone(),
                })
                .collect();
            return Ok((ColumnKind::Enum { values }, false, false, None));
        }
        DataType::Set(values) => {
            return Ok((
                ColumnKind::Set {
                    values: values.clone(),
                },
                false,
                false,
                None,
            ));
        }
        _ => {}
    }
    let text = dt.to_string();
    let up = text.to_ascii_uppercase();
    let (base, args) = match up.find('(') {
        Some(i) => {
            let close = up[i..].find(')').map(|j| i + j).unwrap_or(up.len());
            (up[..i].trim().to_string(), up[i + 1..close].to_string())
        }
        None => (
            up.split_whitespace()
                .filter(|w| !matches!(*w, "UNSIGNED" | "SIGNED" | "ZEROFILL"))
                .collect::<Vec<_>>()
                .join(" "),
            String::new(),
        ),
    };
    let base = base
        .trim_start_matches("NATIONAL ")
        .trim_end_matches(" UNSIGNED")
        .to_string();
    let unsigned = up.contains("UNSIGNED") || base == "SERIAL";
    let nums: Vec<u64> = args
        .split(',')
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    let n = |i: usize, d: u64| nums.get(i).copied().unwrap_or(d);
    let fsp = n(0, 0).min(6) as u8;
    let type_cs = charset_clause(&text);
    let blob_len = |len: u64| -> u8 {
        match len {
            0..=255 => 1,
            256..=65_535 => 2,
            65_536..=16_777_215 => 3,
            _ => 4,
        }
    };
    let (kind, binary) = match base.as_str() {
        "TINYINT" | "BOOL" | "BOOLEAN" | "INT1" => (ColumnKind::TinyInt, false),
        "SMALLINT" | "INT2" => (ColumnKind::SmallInt, false),
        "MEDIUMINT" | "INT3" | "MIDDLEINT" => (ColumnKind::MediumInt, false),
        "INT" | "INTEGER" | "INT4" => (ColumnKind::Int, false),
        "BIGINT" | "INT8" | "SERIAL" => (ColumnKind::BigInt, false),
        "FLOAT" if n(0, 0) > 24 && nums.len() == 1 => (ColumnKind::Double, false),
        "FLOAT" | "FLOAT4" => (ColumnKind::Float, false),
        "DOUBLE" | "DOUBLE PRECISION" | "REAL" | "FLOAT8" => (ColumnKind::Double, false),
        "DECIMAL" | "NUMERIC" | "DEC" | "FIXED" => (
            ColumnKind::Decimal {
                precision: n(0, 10).min(65) as u8,
                scale: n(1, 0).min(30) as u8,
            },
            false,
        ),
        "BIT" => (
            ColumnKind::Bit {
                bits: n(0, 1).clamp(1, 64) as u16,
            },
            false,
        ),
        "YEAR" => (ColumnKind::Year, false),
        "DATE" => (ColumnKind::Date, false),
        "TIME" => (ColumnKind::Time { fsp }, false),
        "DATETIME" => (ColumnKind::DateTime { fsp }, false),
        "TIMESTAMP" => (ColumnKind::Timestamp { fsp }, false),
        "CHAR" | "CHARACTER" | "NCHAR" => (
            ColumnKind::Char {
                max_bytes: n(0, 1) as u32,
            },
            false,
        ),
        "BINARY" => (
            ColumnKind::Char {
                max_bytes: n(0, 1) as u32,
            },
            true,
        ),
        "VARCHAR" | "CHARACTER VARYING" | "NVARCHAR" | "CHAR VARYING" => (
            ColumnKind::VarChar {
                max_bytes: n(0, 255) as u32,
            },
            false,
        ),
        "VARBINARY" => (
            ColumnKind::VarChar {
                max_bytes: n(0, 255) as u32,
            },
            true,
        ),
        "TINYTEXT" => (ColumnKind::Blob { len_bytes: 1 }, false),
        "TEXT" => (
            ColumnKind::Blob {
                len_bytes: blob_len(n(0, 65_535)),
            },
            false,
        ),
        "MEDIUMTEXT" | "LONG" | "LONG VARCHAR" => (ColumnKind::Blob { len_bytes: 3 }, false),
        "LONGTEXT" => (ColumnKind::Blob { len_bytes: 4 }, false),
        "TINYBLOB" => (ColumnKind::Blob { len_bytes: 1 }, true),
        "BLOB" => (
            ColumnKind::Blob {
                len_bytes: blob_len(n(0, 65_535)),
            },
            true,
        ),
        "MEDIUMBLOB" | "LONG VARBINARY" => (ColumnKind::Blob { len_bytes: 3 }, true),
        "LONGBLOB" => (ColumnKind::Blob { len_bytes: 4 }, true),
        "JSON" => (ColumnKind::Json, false),
        "GEOMETRY" | "POINT" | "LINESTRING" | "POLYGON" | "MULTIPOINT" | "MULTILINESTRING"
        | "MULTIPOLYGON" | "GEOMETRYCOLLECTION" | "GEOMCOLLECTION" => (ColumnKind::Geometry, true),
        "VECTOR" => (
            ColumnKind::Vector {
                dims: n(0, 2048) as u32,
            },
            true,
        ),
        other => return Err(format!("unknown column type `{other}` ({text})")),
    };
    Ok((kind, unsigned, binary, type_cs))
}
