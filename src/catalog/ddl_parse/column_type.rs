//! SQL column types → [`ColumnKind`]: the many spellings MySQL and MariaDB accept (`INT4`,
//! `MIDDLEINT`, `NATIONAL CHAR`, `CHARACTER VARYING`, `LONG VARBINARY`, `DOUBLE PRECISION`,
//! `REAL`, `SERIAL`, …), their numbers in parentheses (lengths, precision and scale, fsp,
//! bits, dimensions), ENUM/SET labels, and Debezium's view of the declared type.

use super::cursor::Cursor;
use super::lexer::{SqlMode, Tok};
use crate::model::ColumnKind;

/// A declared column type, as read.
#[derive(Debug, Clone, Default)]
pub(super) struct TypeSpec {
    /// The canonical type (`VARCHAR` for `CHARACTER VARYING`, `INT` for `INT4`).
    pub base: &'static str,
    /// The name Debezium reports: the first word as written, upper-case (`BOOLEAN` for
    /// `BOOL`, `CHAR` for `NATIONAL CHAR`).
    pub shown: String,
    /// The numbers between the parentheses.
    pub args: Vec<u64>,
    /// ENUM / SET labels.
    pub labels: Vec<String>,
    /// `NATIONAL CHAR`, `NCHAR`, `NVARCHAR`: the national charset (utf8mb3).
    pub national: bool,
    /// `SERIAL`: BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE.
    pub serial: bool,
}

/// The canonical name of a single-word type, `None` for words that are not types.
fn single_word(w: &str, mode: SqlMode) -> Option<&'static str> {
    if mode.oracle {
        match w {
            "VARCHAR2" => return Some("VARCHAR"),
            // NUMBER(p[,s]) is DECIMAL; a bare NUMBER is DOUBLE.
            "NUMBER" => return Some("NUMBER"),
            "RAW" => return Some("VARBINARY"),
            "CLOB" => return Some("LONGTEXT"),
            "BLOB" => return Some("LONGBLOB"),
            "DATE" => return Some("DATETIME"),
            _ => {}
        }
    }
    Some(match w {
        "TINYINT" | "INT1" | "BOOL" | "BOOLEAN" => "TINYINT",
        "SMALLINT" | "INT2" => "SMALLINT",
        "MEDIUMINT" | "INT3" | "MIDDLEINT" => "MEDIUMINT",
        "INT" | "INTEGER" | "INT4" => "INT",
        "BIGINT" | "INT8" | "SERIAL" => "BIGINT",
        "FLOAT" | "FLOAT4" => "FLOAT",
        "DOUBLE" | "FLOAT8" => "DOUBLE",
        "REAL" if mode.real_as_float => "FLOAT",
        "REAL" => "DOUBLE",
        "DECIMAL" | "DEC" | "NUMERIC" | "FIXED" => "DECIMAL",
        "BIT" => "BIT",
        "YEAR" => "YEAR",
        "DATE" => "DATE",
        "TIME" => "TIME",
        "DATETIME" => "DATETIME",
        "TIMESTAMP" => "TIMESTAMP",
        "BINARY" => "BINARY",
        "VARBINARY" => "VARBINARY",
        "VARCHAR" | "VARCHARACTER" => "VARCHAR",
        "TINYTEXT" => "TINYTEXT",
        "TEXT" => "TEXT",
        "MEDIUMTEXT" => "MEDIUMTEXT",
        "LONGTEXT" => "LONGTEXT",
        "TINYBLOB" => "TINYBLOB",
        "BLOB" => "BLOB",
        "MEDIUMBLOB" => "MEDIUMBLOB",
        "LONGBLOB" => "LONGBLOB",
        "ENUM" => "ENUM",
        "SET" => "SET",
        "JSON" => "JSON",
        "GEOMETRY" => "GEOMETRY",
        "POINT" => "POINT",
        "LINESTRING" => "LINESTRING",
        "POLYGON" => "POLYGON",
        "MULTIPOINT" => "MULTIPOINT",
        "MULTILINESTRING" => "MULTILINESTRING",
        "MULTIPOLYGON" => "MULTIPOLYGON",
        "GEOMETRYCOLLECTION" | "GEOMCOLLECTION" => "GEOMETRYCOLLECTION",
        "VECTOR" => "VECTOR",
        "UUID" => "UUID",
        "INET4" => "INET4",
        "INET6" => "INET6",
        _ => return None,
    })
}

/// Reads a column type at the cursor (its words and parenthesised arguments).
pub(super) fn read_type(c: &mut Cursor<'_>, mode: SqlMode) -> Result<TypeSpec, String> {
    let word = match c.peek() {
        Some(Tok::Word(w)) => w.to_ascii_uppercase(),
        _ => return Err(format!("expected a column type, found {}", c.describe())),
    };
    c.advance();
    let mut spec = TypeSpec {
        shown: word.clone(),
        ..TypeSpec::default()
    };
    let varying = |c: &mut Cursor<'_>| c.eat_kw("VARYING");
    spec.base = match word.as_str() {
        "NATIONAL" => {
            spec.national = true;
            let next = c.name()?.to_ascii_uppercase();
            spec.shown = next.clone();
            match next.as_str() {
                "CHAR" | "CHARACTER" if varying(c) => "VARCHAR",
                "CHAR" | "CHARACTER" => "CHAR",
                "VARCHAR" | "VARCHARACTER" => "VARCHAR",
                _ => return Err(format!("unknown column type `NATIONAL {next}`")),
            }
        }
        "NCHAR" => {
            spec.national = true;
            if varying(c) || c.eat_kw("VARCHAR") {
                "VARCHAR"
            } else {
                "CHAR"
            }
        }
        "NVARCHAR" => {
            spec.national = true;
            "VARCHAR"
        }
        "CHAR" | "CHARACTER" if varying(c) => "VARCHAR",
        "CHAR" | "CHARACTER" => "CHAR",
        "LONG" => {
            if c.eat_kw("VARBINARY") {
                "MEDIUMBLOB"
            } else {
                let _ = c.eat_kw("VARCHAR")
                    || c.eat_kws(&["CHAR", "VARYING"])
                    || c.eat_kws(&["CHARACTER", "VARYING"]);
                "MEDIUMTEXT"
            }
        }
        "DOUBLE" => {
            c.eat_kw("PRECISION");
            "DOUBLE"
        }
        w => single_word(w, mode).ok_or_else(|| format!("unknown column type `{word}`"))?,
    };
    if word == "BOOL" {
        spec.shown = "BOOLEAN".into();
    }
    spec.serial = word == "SERIAL";
    if c.is_punct('(') {
        read_args(c, &mut spec)?;
    }
    Ok(spec)
}

/// The parenthesised arguments: numbers, or the labels of ENUM and SET.
fn read_args(c: &mut Cursor<'_>, spec: &mut TypeSpec) -> Result<(), String> {
    c.expect_punct('(')?;
    let labelled = matches!(spec.base, "ENUM" | "SET");
    loop {
        if labelled {
            let label = c
                .string()
                .ok_or_else(|| format!("expected a quoted label, found {}", c.describe()))?;
            spec.labels.push(label);
        } else if let Some(n) = c.number() {
            spec.args.push(n);
        } else if let Some(n) = decimal_point_number(c) {
            // MariaDB reads `DECIMAL(19.5)` as DECIMAL(19).
            spec.args.push(n);
        } else {
            return Err(format!(
                "expected a number in the arguments of {}, found {}",
                spec.shown,
                c.describe()
            ));
        }
        if c.eat_punct(')') {
            return Ok(());
        }
        c.expect_punct(',')?;
    }
}

/// The integer part of a number written with a decimal point (`19.5` → 19).
fn decimal_point_number(c: &mut Cursor<'_>) -> Option<u64> {
    let Some(Tok::Num(n)) = c.peek() else {
        return None;
    };
    let int = n.split_once('.')?.0;
    let v = if int.is_empty() { 0 } else { int.parse().ok()? };
    c.advance();
    Some(v)
}

impl TypeSpec {
    /// The `i`-th number, or `default` when the type does not give it.
    fn n(&self, i: usize, default: u64) -> u64 {
        self.args.get(i).copied().unwrap_or(default)
    }

    /// The fractional-seconds precision of TIME/DATETIME/TIMESTAMP (0 to 6).
    fn fsp(&self) -> u8 {
        self.n(0, 0).min(6) as u8
    }

    /// `(kind, binary)`: the column kind, and whether the type itself holds bytes (BINARY,
    /// VARBINARY, BLOB, spatial, VECTOR, UUID/INET). CHAR/VARCHAR lengths are characters.
    pub fn kind(&self) -> (ColumnKind, bool) {
        let blob = |len_bytes| ColumnKind::Blob { len_bytes };
        let text = |k| (k, false);
        let bytes = |k| (k, true);
        match self.base {
            "TINYINT" => text(ColumnKind::TinyInt),
            "SMALLINT" => text(ColumnKind::SmallInt),
            "MEDIUMINT" => text(ColumnKind::MediumInt),
            "INT" => text(ColumnKind::Int),
            "BIGINT" => text(ColumnKind::BigInt),
            "FLOAT" if self.args.len() == 1 && self.n(0, 0) > 24 => text(ColumnKind::Double),
            "FLOAT" => text(ColumnKind::Float),
            "DOUBLE" => text(ColumnKind::Double),
            "NUMBER" if self.args.is_empty() => text(ColumnKind::Double),
            "DECIMAL" | "NUMBER" => text(ColumnKind::Decimal {
                // A precision of 0 is the default, 10.
                precision: Some(self.n(0, 10)).filter(|&p| p > 0).unwrap_or(10).min(65) as u8,
                scale: self.n(1, 0).min(30) as u8,
            }),
            "BIT" => text(ColumnKind::Bit {
                bits: self.n(0, 1).clamp(1, 64) as u16,
            }),
            "YEAR" => text(ColumnKind::Year),
            "DATE" => text(ColumnKind::Date),
            "TIME" => text(ColumnKind::Time { fsp: self.fsp() }),
            "DATETIME" => text(ColumnKind::DateTime { fsp: self.fsp() }),
            "TIMESTAMP" => text(ColumnKind::Timestamp { fsp: self.fsp() }),
            "CHAR" => text(ColumnKind::Char {
                max_bytes: self.n(0, 1) as u32,
            }),
            "BINARY" => bytes(ColumnKind::Char {
                max_bytes: self.n(0, 1) as u32,
            }),
            "VARCHAR" => text(ColumnKind::VarChar {
                max_bytes: self.n(0, 255) as u32,
            }),
            "VARBINARY" => bytes(ColumnKind::VarChar {
                max_bytes: self.n(0, 255) as u32,
            }),
            "TINYTEXT" => text(blob(1)),
            "TEXT" => text(blob(blob_len_bytes(self.n(0, 65_535)))),
            "MEDIUMTEXT" => text(blob(3)),
            "LONGTEXT" => text(blob(4)),
            "TINYBLOB" => bytes(blob(1)),
            "BLOB" => bytes(blob(blob_len_bytes(self.n(0, 65_535)))),
            "MEDIUMBLOB" => bytes(blob(3)),
            "LONGBLOB" => bytes(blob(4)),
            "ENUM" => text(ColumnKind::Enum {
                values: self.labels.clone(),
            }),
            "SET" => text(ColumnKind::Set {
                values: self.labels.clone(),
            }),
            "JSON" => text(ColumnKind::Json),
            "VECTOR" => bytes(ColumnKind::Vector {
                dims: self.n(0, 2048) as u32,
            }),
            // MariaDB logs these as fixed binary strings of their storage size.
            "UUID" | "INET6" => bytes(ColumnKind::Char { max_bytes: 16 }),
            "INET4" => bytes(ColumnKind::Char { max_bytes: 4 }),
            // GEOMETRY, POINT, … (the only bases left).
            _ => bytes(ColumnKind::Geometry),
        }
    }

    /// Debezium's view of the declared type (its MySQL DDL parser): the upper-case type
    /// name (`SMALLINT UNSIGNED`, `BOOLEAN`), its `java.sql.Types` code, and the declared
    /// length and scale (display width of integers, characters, digits, fsp, bits; 1 for
    /// ENUM, the labels and their commas for SET).
    pub fn ddl_type(
        &self,
        kind: &ColumnKind,
        unsigned: bool,
    ) -> (String, i32, Option<i64>, Option<i64>) {
        let base = self.shown.clone();
        let binary_kind = matches!(
            self.base,
            "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB"
        );
        let jdbc = match self.base {
            _ if base == "BOOLEAN" => 16,
            // `java.sql.Types.OTHER`, as Debezium's MariaDB parser registers UUID.
            "UUID" => 1111,
            _ => kind.jdbc_type(binary_kind),
        };
        let first = self.args.first().map(|n| *n as i64);
        let (length, scale) = match kind {
            ColumnKind::Enum { .. } => (Some(1), None),
            // DECIMAL is DECIMAL(10,0), DECIMAL(p) is DECIMAL(p,0), BIT is BIT(1).
            ColumnKind::Decimal { .. } => (
                Some(first.unwrap_or(10)),
                Some(self.args.get(1).copied().unwrap_or(0) as i64),
            ),
            ColumnKind::Bit { .. } => (Some(first.unwrap_or(1)), None),
            ColumnKind::Set { values } => (Some((values.len() * 2).saturating_sub(1) as i64), None),
            _ => (first, self.args.get(1).map(|n| *n as i64)),
        };
        let name = if unsigned && kind.is_number() {
            format!("{base} UNSIGNED")
        } else {
            base
        };
        (name, jdbc, length, scale)
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
