//! One column definition of CREATE TABLE or ALTER TABLE ADD/MODIFY/CHANGE: its kind, charset,
//! byte lengths, nullability, default, and whether it is declared PRIMARY KEY inline.

use sqlparser::ast::{ColumnDef, ColumnOption};

use super::charset::{charset_of, max_char_bytes};
use super::column_type::{is_serial, kind_of};
use super::defaults::default_of;
use crate::model::{Charset, ColumnDefault, ColumnDesc, ColumnKind};

/// What a column definition's options say about it.
struct Options {
    nullable: bool,
    /// Declared `PRIMARY KEY` inline.
    pk: bool,
    /// From `CHARACTER SET x`, or else `COLLATE y`.
    charset: Option<Charset>,
    default: Option<ColumnDefault>,
}

/// One column definition; `true` when it is declared PRIMARY KEY inline.
pub(super) fn column(
    cd: &ColumnDef,
    table_cs: Option<Charset>,
) -> Result<(ColumnDesc, bool), String> {
    let name = cd.name.value.clone();
    let Options {
        mut nullable,
        pk,
        charset: col_cs,
        default,
    } = options(cd);
    let (kind, unsigned, binary, type_cs) = kind_of(&cd.data_type)?;
    let charset = if binary {
        Charset::Binary
    } else {
        col_cs.or(type_cs).or(table_cs).unwrap_or(Charset::Utf8)
    };
    let kind = match kind {
        // Lengths are in characters in DDL and in bytes on the wire.
        ColumnKind::Char { max_bytes } => ColumnKind::Char {
            max_bytes: max_bytes.saturating_mul(max_char_bytes(charset)),
        },
        ColumnKind::VarChar { max_bytes } => ColumnKind::VarChar {
            max_bytes: max_bytes.saturating_mul(max_char_bytes(charset)),
        },
        ColumnKind::BigInt if unsigned && is_serial(&cd.data_type) => ColumnKind::BigInt,
        k => k,
    };
    if is_serial(&cd.data_type) {
        nullable = false;
    }
    let charset = stored_charset(&kind, charset);
    Ok((
        ColumnDesc {
            name,
            kind,
            unsigned,
            nullable,
            charset,
            default,
        },
        pk,
    ))
}

/// Reads a column's options: NULL / NOT NULL, inline PRIMARY KEY, charset and DEFAULT.
fn options(cd: &ColumnDef) -> Options {
    let mut o = Options {
        nullable: true,
        pk: false,
        charset: None,
        default: None,
    };
    for def in &cd.options {
        match &def.option {
            ColumnOption::Default(e) => o.default = Some(default_of(e)),
            ColumnOption::NotNull => o.nullable = false,
            ColumnOption::Null => o.nullable = true,
            ColumnOption::Unique { is_primary, .. } if *is_primary => {
                o.pk = true;
                o.nullable = false;
            }
            ColumnOption::CharacterSet(n) => o.charset = Some(charset_of(&n.to_string())),
            ColumnOption::Collation(n) if o.charset.is_none() => {
                o.charset = Some(charset_of(&n.to_string()))
            }
            _ => {}
        }
    }
    o
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
