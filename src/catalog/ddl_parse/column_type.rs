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
    if let Some(kind) = labelled_kind(dt) {
        return Ok((kind, false, false, None));
    }
    let text = dt.to_string();
    let up = text.to_ascii_uppercase();
    let (base, args) = base_and_args(&up);
    let unsigned = up.contains("UNSIGNED") || base == "SERIAL";
    let args = TypeArgs::parse(&args);
    let type_cs = charset_clause(&text);
    let found = numeric_kind(&base, &args)
        .or_else(|| temporal_kind(&base, &args))
        .or_else(|| char_kind(&base, &args))
        .or_else(|| blob_kind(&base, &args))
        .or_else(|| other_kind(&base, &args));
    let Some((kind, binary)) = found else {
        return Err(format!("unknown column type `{base}` ({text})"));
    };
    Ok((kind, unsigned, binary, type_cs))
}

/// ENUM and SET, whose labels sqlparser has already split out; `None` for other types.
fn labelled_kind(dt: &DataType) -> Option<ColumnKind> {
    match dt {
        DataType::Enum(members, _) => {
            let values = members
                .iter()
                .map(|m| match m {
                    EnumMember::Name(s) => s.clone(),
                    EnumMember::NamedValue(s, _) => s.clone(),
                })
                .collect();
            Some(ColumnKind::Enum { values })
        }
        DataType::Set(values) => Some(ColumnKind::Set {
            values: values.clone(),
        }),
        _ => None,
    }
}

/// Splits an upper-cased printed type into its base name (without `NATIONAL`, `UNSIGNED`,
/// `SIGNED`, `ZEROFILL`) and the text between its parentheses.
fn base_and_args(up: &str) -> (String, String) {
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
    (base, args)
}

/// The numbers between a type's parentheses: `DECIMAL(10,2)` → `[10, 2]`.
struct TypeArgs(Vec<u64>);

impl TypeArgs {
    /// Reads the comma-separated numbers, skipping anything that is not one.
    fn parse(args: &str) -> Self {
        TypeArgs(
            args.split(',')
                .filter_map(|a| a.trim().parse().ok())
                .collect(),
        )
    }

    /// The `i`-th number, or `default` when the type does not give it.
    fn n(&self, i: usize, default: u64) -> u64 {
        self.0.get(i).copied().unwrap_or(default)
    }

    /// The fractional-seconds precision of TIME/DATETIME/TIMESTAMP (0 to 6).
    fn fsp(&self) -> u8 {
        self.n(0, 0).min(6) as u8
    }
}

/// The length-prefix size of a TEXT/BLOB declared with a maximum length.
fn blob_len_bytes(len: u64) -> u8 {
    match len {
        0..=255 => 1,
        256..=65_535 => 2,
        65_536..=16_777_215 => 3,
        _ => 4,
    }
}

/// Integers, floating point, DECIMAL and BIT; `(kind, binary)`.
fn numeric_kind(base: &str, args: &TypeArgs) -> Option<(ColumnKind, bool)> {
    let kind = match base {
        "TINYINT" | "BOOL" | "BOOLEAN" | "INT1" => ColumnKind::TinyInt,
        "SMALLINT" | "INT2" => ColumnKind::SmallInt,
        "MEDIUMINT" | "INT3" | "MIDDLEINT" => ColumnKind::MediumInt,
        "INT" | "INTEGER" | "INT4" => ColumnKind::Int,
        "BIGINT" | "INT8" | "SERIAL" => ColumnKind::BigInt,
        "FLOAT" if args.n(0, 0) > 24 && args.0.len() == 1 => ColumnKind::Double,
        "FLOAT" | "FLOAT4" => ColumnKind::Float,
        "DOUBLE" | "DOUBLE PRECISION" | "REAL" | "FLOAT8" => ColumnKind::Double,
        "DECIMAL" | "NUMERIC" | "DEC" | "FIXED" => ColumnKind::Decimal {
            precision: args.n(0, 10).min(65) as u8,
            scale: args.n(1, 0).min(30) as u8,
        },
        "BIT" => ColumnKind::Bit {
            bits: args.n(0, 1).clamp(1, 64) as u16,
        },
        _ => return None,
    };
    Some((kind, false))
}

/// YEAR, DATE, TIME, DATETIME and TIMESTAMP; `(kind, binary)`.
fn temporal_kind(base: &str, args: &TypeArgs) -> Option<(ColumnKind, bool)> {
    let kind = match base {
        "YEAR" => ColumnKind::Year,
        "DATE" => ColumnKind::Date,
        "TIME" => ColumnKind::Time { fsp: args.fsp() },
        "DATETIME" => ColumnKind::DateTime { fsp: args.fsp() },
        "TIMESTAMP" => ColumnKind::Timestamp { fsp: args.fsp() },
        _ => return None,
    };
    Some((kind, false))
}

/// CHAR/BINARY and VARCHAR/VARBINARY, with their lengths in characters; `(kind, binary)`.
fn char_kind(base: &str, args: &TypeArgs) -> Option<(ColumnKind, bool)> {
    let fixed = ColumnKind::Char {
        max_bytes: args.n(0, 1) as u32,
    };
    let varying = ColumnKind::VarChar {
        max_bytes: args.n(0, 255) as u32,
    };
    match base {
        "CHAR" | "CHARACTER" | "NCHAR" => Some((fixed, false)),
        "BINARY" => Some((fixed, true)),
        "VARCHAR" | "CHARACTER VARYING" | "NVARCHAR" | "CHAR VARYING" => Some((varying, false)),
        "VARBINARY" => Some((varying, true)),
        _ => None,
    }
}

/// The TEXT and BLOB families; `(kind, binary)`.
fn blob_kind(base: &str, args: &TypeArgs) -> Option<(ColumnKind, bool)> {
    let blob = |len_bytes| ColumnKind::Blob { len_bytes };
    match base {
        "TINYTEXT" => Some((blob(1), false)),
        "TEXT" => Some((blob(blob_len_bytes(args.n(0, 65_535))), false)),
        "MEDIUMTEXT" | "LONG" | "LONG VARCHAR" => Some((blob(3), false)),
        "LONGTEXT" => Some((blob(4), false)),
        "TINYBLOB" => Some((blob(1), true)),
        "BLOB" => Some((blob(blob_len_bytes(args.n(0, 65_535))), true)),
        "MEDIUMBLOB" | "LONG VARBINARY" => Some((blob(3), true)),
        "LONGBLOB" => Some((blob(4), true)),
        _ => None,
    }
}

/// JSON, the spatial types and VECTOR; `(kind, binary)`.
fn other_kind(base: &str, args: &TypeArgs) -> Option<(ColumnKind, bool)> {
    match base {
        "JSON" => Some((ColumnKind::Json, false)),
        "UUID" | "INET6" => Some((ColumnKind::Char { max_bytes: 16 }, true)),
        "INET4" => Some((ColumnKind::Char { max_bytes: 4 }, true)),
        "GEOMETRY" | "POINT" | "LINESTRING" | "POLYGON" | "MULTIPOINT" | "MULTILINESTRING"
        | "MULTIPOLYGON" | "GEOMETRYCOLLECTION" | "GEOMCOLLECTION" => {
            Some((ColumnKind::Geometry, true))
        }
        "VECTOR" => Some((
            ColumnKind::Vector {
                dims: args.n(0, 2048) as u32,
            },
            true,
        )),
        _ => None,
    }
}

/// Debezium's view of a declared type (its MySQL DDL parser): the upper-case type name
/// (`SMALLINT UNSIGNED`, `BOOLEAN`), its `java.sql.Types` code, and the declared length
/// and scale (display width of integers, characters, digits, fsp, bits; 1 for ENUM, the
/// labels and their commas for SET).
pub(super) fn ddl_type(
    dt: &DataType,
    kind: &ColumnKind,
    unsigned: bool,
) -> (String, i32, Option<i64>, Option<i64>) {
    let text = dt.to_string();
    let up = text.to_ascii_uppercase();
    let (base, args) = base_and_args(&up);
    let args = TypeArgs::parse(&args);
    let base = match base.as_str() {
        "BOOL" => "BOOLEAN".to_string(),
        _ if matches!(kind, ColumnKind::Enum { .. }) => "ENUM".to_string(),
        _ if matches!(kind, ColumnKind::Set { .. }) => "SET".to_string(),
        b => b.split_whitespace().next().unwrap_or(b).to_string(),
    };
    let binary_kind = matches!(
        base.as_str(),
        "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB"
    );
    let jdbc = if base == "BOOLEAN" {
        16
    } else if base == "UUID" {
        1111 // Types.OTHER, as Debezium's MariaDB parser registers UUID
    } else {
        kind.jdbc_type(binary_kind)
    };
    let (length, scale) = match kind {
        ColumnKind::Enum { .. } => (Some(1), None),
        // DECIMAL is DECIMAL(10,0), DECIMAL(p) is DECIMAL(p,0), BIT is BIT(1).
        ColumnKind::Decimal { .. } => (
            Some(args.0.first().copied().unwrap_or(10) as i64),
            Some(args.0.get(1).copied().unwrap_or(0) as i64),
        ),
        ColumnKind::Bit { .. } => (Some(args.0.first().copied().unwrap_or(1) as i64), None),
        ColumnKind::Set { values } => (Some((values.len() * 2).saturating_sub(1) as i64), None),
        _ => (
            args.0.first().map(|n| *n as i64),
            args.0.get(1).map(|n| *n as i64),
        ),
    };
    let name = if unsigned && kind.is_number() {
        format!("{base} UNSIGNED")
    } else {
        base
    };
    (name, jdbc, length, scale)
}
