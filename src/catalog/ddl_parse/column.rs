//! One column definition of CREATE TABLE or ALTER TABLE ADD/MODIFY/CHANGE: its kind, charset,
//! byte lengths, nullability, default, and whether it is declared PRIMARY KEY inline.

use sqlparser::ast::{ColumnDef, ColumnOption};

use super::charset::{charset_of, max_char_bytes};
use super::column_type::{is_serial, kind_of};
use super::defaults::default_of;
use crate::model::{Charset, ColumnDesc, ColumnKind};

/// One column definition; `true` when it is declared PRIMARY KEY inline.
pub(super) fn column(
    cd: &ColumnDef,
    table_cs: Option<Charset>,
) -> Result<(ColumnDesc, bool), String> {
    let name = cd.name.value.clone();
    let mut nullable = true;
    let mut pk = false;
    let mut col_cs = None;
    let mut default = None;
    for o in &cd.options {
        match &o.option {
            ColumnOption::Default(e) => default = Some(default_of(e)),
            ColumnOption::NotNull => nullable = false,
            ColumnOption::Null => nullable = true,
            ColumnOption::Unique { is_primary, .. } if *is_primary => {
                pk = true;
                nullable = false;
            }
            ColumnOption::CharacterSet(n) => col_cs = Some(charset_of(&n.to_string())),
            ColumnOption::Collation(n) if col_cs.is_none() => {
                col_cs = Some(charset_of(&n.to_string()))
            }
            _ => {}
        }
    }
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
    let charset = match kind {
        ColumnKind::Char { .. }
        | ColumnKind::VarChar { .. }
        | ColumnKind::Blob { .. }
        | ColumnKind::Enum { .. }
        | ColumnKind::Set { .. } => charset,
        ColumnKind::Geometry | ColumnKind::Vector { .. } => Charset::Binary,
        _ => Charset::Utf8,
    };
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
