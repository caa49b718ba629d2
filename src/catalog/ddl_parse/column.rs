//! One column definition of CREATE TABLE or ALTER TABLE ADD/MODIFY/CHANGE: its kind, charset,
//! byte lengths, nullability, default, and whether it is declared PRIMARY KEY inline.
//! Attributes that do not change the row layout (INVISIBLE, CHECK, REFERENCES, SRID,
//! generated-column expressions, COLUMN_FORMAT, STORAGE, ENGINE_ATTRIBUTE, unknown words)
//! are read past.

use super::charset::{charset_of, collation_charset, max_char_bytes};
use super::column_type::read_type;
use super::cursor::Cursor;
use super::defaults::read_default;
use super::lexer::{SqlMode, Tok};
use crate::model::{Charset, ColumnDdl, ColumnDefault, ColumnDesc, ColumnKind};

/// What a column without its own charset clause inherits: the table's default charset
/// (or the database's, or the server's) and its name.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Inherited<'a> {
    pub cs: Option<Charset>,
    pub name: Option<&'a str>,
}

/// A system-versioning period column (`GENERATED ALWAYS AS ROW START | END`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RowPeriod {
    Start,
    End,
}

/// A column definition as read.
#[derive(Debug, Clone)]
pub(super) struct ColumnDef {
    pub desc: ColumnDesc,
    /// Declared `PRIMARY KEY` inline.
    pub pk: bool,
    /// Declared `AS ROW START` / `AS ROW END`.
    pub row_period: Option<RowPeriod>,
    /// Declared `WITH SYSTEM VERSIONING` (the table becomes system-versioned).
    pub versioned: bool,
    /// Declared `UNIQUE [KEY]` inline.
    pub unique: bool,
}

/// What a column definition's attributes say about it.
#[derive(Default)]
struct Attrs {
    nullable: Option<bool>,
    pk: bool,
    /// `CHARACTER SET x`, lower-case.
    charset: Option<String>,
    /// `COLLATE y`, lower-case.
    collation: Option<String>,
    ascii: bool,
    unicode: bool,
    /// `CHAR(n) BYTE`: a binary string.
    byte: bool,
    unsigned: bool,
    zerofill: bool,
    default: Option<ColumnDefault>,
    auto_increment: bool,
    comment: Option<String>,
    row_period: Option<RowPeriod>,
    versioned: bool,
    unique: bool,
}

/// Reads one column definition (name, type, attributes) up to the `,` or `)` after it, or
/// to `FIRST` / `AFTER` in ALTER TABLE.
pub(super) fn read_column(
    c: &mut Cursor<'_>,
    inherited: Inherited<'_>,
    mode: SqlMode,
) -> Result<ColumnDef, String> {
    let name = c.name()?;
    let spec = read_type(c, mode).map_err(|e| format!("column `{name}`: {e}"))?;
    let a = read_attributes(c, &name).map_err(|e| format!("column `{name}`: {e}"))?;
    let (kind, type_binary) = spec.kind();
    let declared = a
        .charset
        .clone()
        .or_else(|| a.collation.as_deref().map(collation_charset))
        .or_else(|| a.ascii.then(|| "latin1".to_string()))
        .or_else(|| a.unicode.then(|| "ucs2".to_string()))
        .or_else(|| spec.national.then(|| "utf8mb3".to_string()));
    let bytes = type_binary || a.byte || declared.as_deref() == Some("binary");
    let charset = if bytes {
        Charset::Binary
    } else {
        declared
            .as_deref()
            .map(charset_of)
            .or(inherited.cs)
            .unwrap_or(Charset::Utf8)
    };
    let unsigned = a.unsigned || a.zerofill || spec.serial;
    let (mut type_name, jdbc_type, length, scale) = spec.ddl_type(&kind, unsigned);
    if a.zerofill {
        type_name.push_str(" ZEROFILL");
    }
    let charset_name = if type_binary || a.byte || !kind.has_charset() {
        None
    } else {
        declared.or_else(|| inherited.name.map(str::to_string))
    };
    let ddl = ColumnDdl {
        type_name: Some(type_name),
        jdbc_type: Some(jdbc_type),
        length,
        scale,
        charset_name,
        auto_increment: a.auto_increment || spec.serial,
        comment: a.comment,
    };
    let kind = match kind {
        // Lengths are in characters in DDL and in bytes on the wire.
        ColumnKind::Char { max_bytes } => ColumnKind::Char {
            max_bytes: max_bytes.saturating_mul(max_char_bytes(charset)),
        },
        ColumnKind::VarChar { max_bytes } => ColumnKind::VarChar {
            max_bytes: max_bytes.saturating_mul(max_char_bytes(charset)),
        },
        k => k,
    };
    let nullable = a.nullable.unwrap_or(true) && !a.pk && !spec.serial && a.row_period.is_none();
    let charset = stored_charset(&kind, charset);
    Ok(ColumnDef {
        desc: ColumnDesc {
            name,
            kind,
            unsigned,
            nullable,
            charset,
            default: a.default,
            ddl,
        },
        pk: a.pk,
        row_period: a.row_period,
        versioned: a.versioned,
        unique: a.unique,
    })
}

/// Whether the column definition ends here (`PARTITION BY …` may follow an ALTER TABLE's
/// last operation without a comma).
fn at_column_end(c: &Cursor<'_>) -> bool {
    c.at_end()
        || c.is_punct(',')
        || c.is_punct(')')
        || c.is_any_kw(&["FIRST", "AFTER", "PARTITION"])
        || c.is_kws(&["REMOVE", "PARTITIONING"])
}

/// Reads the attributes after the type.
fn read_attributes(c: &mut Cursor<'_>, name: &str) -> Result<Attrs, String> {
    let mut a = Attrs::default();
    while !at_column_end(c) {
        // Engine-defined column options, which MariaDB prints quoted: `option`=value.
        if matches!(c.peek(), Some(Tok::Name(_))) && matches!(c.peek_at(1), Some(Tok::Punct('='))) {
            c.pos += 2;
            c.advance();
            continue;
        }
        let Some(Tok::Word(w)) = c.peek() else {
            return Err(format!(
                "unexpected {} in the definition of column `{name}`",
                c.describe()
            ));
        };
        c.advance();
        let up = w.to_ascii_uppercase();
        if !text_attribute(c, &up, &mut a)? {
            other_attribute(c, &up, &mut a)?;
        }
    }
    Ok(a)
}

/// Charset, collation and sign attributes; false when `up` is none of them.
fn text_attribute(c: &mut Cursor<'_>, up: &str, a: &mut Attrs) -> Result<bool, String> {
    match up {
        "CHARACTER" | "CHAR" => {
            c.expect_kw("SET")?;
            a.charset = Some(c.name_or_string()?.to_ascii_lowercase());
        }
        "CHARSET" => a.charset = Some(c.name_or_string()?.to_ascii_lowercase()),
        "COLLATE" => a.collation = Some(c.name_or_string()?.to_ascii_lowercase()),
        // `VARCHAR(40) BINARY`: the charset's `_bin` collation; still text.
        "BINARY" => {}
        "ASCII" => a.ascii = true,
        "UNICODE" => a.unicode = true,
        "BYTE" => a.byte = true,
        "UNSIGNED" => a.unsigned = true,
        "SIGNED" => {}
        "ZEROFILL" => a.zerofill = true,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Every other attribute: nullability, keys, defaults, comments, generated columns,
/// constraints, and words that do not change the row layout.
fn other_attribute(c: &mut Cursor<'_>, up: &str, a: &mut Attrs) -> Result<(), String> {
    match up {
        "NOT" => {
            if c.eat_kw("NULL") {
                a.nullable = Some(false);
            } else {
                c.advance(); // NOT SECONDARY, NOT ENFORCED
            }
        }
        "NULL" => a.nullable = Some(true),
        "DEFAULT" => a.default = Some(read_default(c)?),
        "AUTO_INCREMENT" => a.auto_increment = true,
        // Debezium's DDL parser marks `ON UPDATE CURRENT_TIMESTAMP` columns as
        // auto-incremented (and so generated) too.
        "ON" => {
            c.expect_kw("UPDATE")?;
            read_default(c)?;
            a.auto_increment = true;
        }
        "COMMENT" => {
            c.eat_punct('=');
            a.comment = Some(
                c.string()
                    .ok_or_else(|| format!("expected a quoted comment, found {}", c.describe()))?,
            );
        }
        "PRIMARY" => {
            c.expect_kw("KEY")?;
            a.pk = true;
        }
        // A lone `KEY` in a column definition is PRIMARY KEY.
        "KEY" => a.pk = true,
        "UNIQUE" => {
            let _ = c.eat_kw("KEY") || c.eat_kw("INDEX");
            a.unique = true;
        }
        "GENERATED" => c.expect_kw("ALWAYS")?,
        "AS" => {
            if c.eat_kw("ROW") {
                a.row_period = if c.eat_kw("START") {
                    Some(RowPeriod::Start)
                } else {
                    c.expect_kw("END")?;
                    Some(RowPeriod::End)
                };
            } else {
                c.skip_group()?;
            }
        }
        "CHECK" => c.skip_group()?,
        "CONSTRAINT" => {
            if !c.is_kw("CHECK") {
                c.name()?;
            }
        }
        "REFERENCES" => references(c)?,
        "WITH" => {
            c.expect_kw("SYSTEM")?;
            c.expect_kw("VERSIONING")?;
            a.versioned = true;
        }
        "WITHOUT" => {
            c.expect_kw("SYSTEM")?;
            c.expect_kw("VERSIONING")?;
        }
        "SERIAL" => {
            c.expect_kw("DEFAULT")?;
            c.expect_kw("VALUE")?;
            a.nullable = Some(false);
            a.auto_increment = true;
        }
        "SRID" | "COLUMN_FORMAT" | "STORAGE" => {
            c.advance();
        }
        "INVISIBLE" | "VISIBLE" | "VIRTUAL" | "STORED" | "PERSISTENT" => {}
        // ENGINE_ATTRIBUTE = '…', COMPRESSED[=zlib], REF_SYSTEM_ID=n, engine-defined
        // attributes, and other words that do not change the row layout.
        _ => {
            if c.eat_punct('=') {
                c.advance();
            } else if c.is_punct('(') {
                c.skip_group()?;
            } else if up.ends_with("ENGINE_ATTRIBUTE") {
                c.advance();
            }
        }
    }
    Ok(())
}

/// `REFERENCES t (cols) [MATCH …] [ON DELETE | ON UPDATE action]…`, read past.
fn references(c: &mut Cursor<'_>) -> Result<(), String> {
    c.qualified("")?;
    if c.is_punct('(') {
        c.skip_group()?;
    }
    loop {
        if c.eat_kw("MATCH") {
            c.advance();
        } else if c.is_kws(&["ON", "DELETE"]) || c.is_kws(&["ON", "UPDATE"]) {
            c.pos += 2;
            if !(c.eat_kw("RESTRICT")
                || c.eat_kw("CASCADE")
                || c.eat_kws(&["SET", "NULL"])
                || c.eat_kws(&["SET", "DEFAULT"])
                || c.eat_kws(&["NO", "ACTION"]))
            {
                return Err(format!(
                    "expected a referential action, found {}",
                    c.describe()
                ));
            }
        } else {
            return Ok(());
        }
    }
}

/// The charset kept for a column of `kind`: text kinds keep `charset`, spatial and vector
/// columns are bytes, and the rest (numbers, dates, JSON) are UTF-8.
fn stored_charset(kind: &ColumnKind, charset: Charset) -> Charset {
    match kind {
        ColumnKind::Char { .. }
        | ColumnKind::VarChar { .. }
        | ColumnKind::Blob { .. }
        | ColumnKind::Enum { .. }
        | ColumnKind::Set { .. } => charset,
        ColumnKind::Geometry | ColumnKind::Vector { .. } => Charset::Binary,
        _ => Charset::Utf8,
    }
}
