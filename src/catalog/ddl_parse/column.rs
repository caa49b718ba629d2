//! One column definition of CREATE TABLE or ALTER TABLE ADD/MODIFY/CHANGE: its kind, charset,
//! byte lengths, nullability, default, and whether it is declared PRIMARY KEY inline.

use sqlparser::ast::{ColumnDef, ColumnOption};

use super::charset::{charset_name_of, charset_of, max_char_bytes};
use super::column_type::{ddl_type, is_serial, kind_of};
use super::defaults::default_of;
use crate::model::{Charset, ColumnDdl, ColumnDefault, ColumnDesc, ColumnKind};

/// What a column without its own charset clause inherits: the table's default charset
/// (or the database's, or the server's) and its name.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Inherited<'a> {
    pub cs: Option<Charset>,
    pub name: Option<&'a str>,
}

/// What a column definition's options say about it.
struct Options {
    nullable: bool,
    /// Declared `PRIMARY KEY` inline.
    pk: bool,
    /// From `CHARACTER SET x`, or else `COLLATE y`.
    charset: Option<Charset>,
    /// The charset's name as declared (from the collation's prefix for `COLLATE y`).
    charset_name: Option<String>,
    default: Option<ColumnDefault>,
    auto_increment: bool,
    zerofill: bool,
    comment: Option<String>,
}

/// One column definition; `true` when it is declared PRIMARY KEY inline.
pub(super) fn column(
    cd: &ColumnDef,
    inherited: Inherited<'_>,
) -> Result<(ColumnDesc, bool), String> {
    let name = cd.name.value.clone();
    let Options {
        mut nullable,
        pk,
        charset: col_cs,
        charset_name: col_cs_name,
        default,
        auto_increment,
        zerofill,
        comment,
    } = options(cd);
    let (kind, unsigned, binary, type_cs) = kind_of(&cd.data_type)?;
    let charset = if binary {
        Charset::Binary
    } else {
        col_cs.or(type_cs).or(inherited.cs).unwrap_or(Charset::Utf8)
    };
    let unsigned = unsigned || zerofill;
    let (mut type_name, jdbc_type, length, scale) = ddl_type(&cd.data_type, &kind, unsigned);
    if zerofill {
        type_name.push_str(" ZEROFILL");
    }
    let charset_name = if binary || !kind.has_charset() {
        None
    } else {
        col_cs_name
            .or_else(|| charset_name_of(&cd.data_type.to_string()))
            .or_else(|| inherited.name.map(str::to_string))
    };
    let ddl = ColumnDdl {
        type_name: Some(type_name),
        jdbc_type: Some(jdbc_type),
        length,
        scale,
        charset_name,
        auto_increment: auto_increment || is_serial(&cd.data_type),
        comment,
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
            ddl,
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
        charset_name: None,
        default: None,
        auto_increment: false,
        zerofill: false,
        comment: None,
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
            ColumnOption::CharacterSet(n) => {
                o.charset = Some(charset_of(&n.to_string()));
                o.charset_name = Some(super::unquote(&n.to_string()).to_ascii_lowercase());
            }
            ColumnOption::Collation(n) if o.charset.is_none() => {
                o.charset = Some(charset_of(&n.to_string()));
                o.charset_name = charset_name_of(&format!("COLLATE {n}"));
            }
            ColumnOption::Comment(c) if c == super::ZEROFILL_MARK => o.zerofill = true,
            // Debezium's DDL parser marks `ON UPDATE CURRENT_TIMESTAMP` columns as
            // auto-incremented (and so generated) too.
            ColumnOption::OnUpdate(_) => o.auto_increment = true,
            ColumnOption::Comment(c) => o.comment = Some(c.clone()),
            ColumnOption::DialectSpecific(tokens)
                if tokens
                    .iter()
                    .any(|t| t.to_string().eq_ignore_ascii_case("AUTO_INCREMENT")) =>
            {
                o.auto_increment = true
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
