//! CREATE TABLE: a new table from its column list and key, or a copy of another table
//! (`CREATE TABLE … LIKE`).

use std::sync::Arc;

use sqlparser::ast::{CreateTable, TableConstraint};

use super::charset::{charset_name_of, table_charset, table_options};
use super::column::{column, Inherited};
use super::{key_column_names, qualified, set_primary_key};
use crate::model::{Catalog, TableDesc};

/// Applies one CREATE TABLE statement (`sql` is its text, for the table options).
pub(super) fn create_table(
    catalog: &mut Catalog,
    ct: &CreateTable,
    sql: &str,
    default_db: &str,
) -> Result<Arc<TableDesc>, String> {
    let (db, name) = qualified(&ct.name, default_db);
    if let Some(like) = &ct.like {
        let (ld, lt) = qualified(like, default_db);
        let src = catalog
            .get(&ld, &lt)
            .ok_or_else(|| format!("CREATE TABLE {db}.{name} LIKE unknown table {ld}.{lt}"))?;
        let mut desc = TableDesc::clone(src);
        desc.db = db;
        desc.name = name;
        return Ok(catalog.put(desc));
    }
    if ct.query.is_some() && ct.columns.is_empty() {
        return Err(format!(
            "CREATE TABLE {db}.{name} … SELECT: structure unknown"
        ));
    }
    let table_cs = table_charset(sql);
    let tail = table_options(sql);
    let charset_name =
        charset_name_of(tail).or_else(|| catalog.charset_of(&db).map(str::to_string));
    let comment = table_comment(ct, tail);
    let mut desc = TableDesc {
        db,
        name,
        columns: Vec::with_capacity(ct.columns.len()),
        primary_key: vec![],
        charset_name,
        comment,
    };
    let cs_name = desc.charset_name.clone();
    let inherited = Inherited {
        cs: table_cs,
        name: cs_name.as_deref(),
    };
    for cd in &ct.columns {
        let (col, pk) = column(cd, inherited)?;
        if pk {
            desc.primary_key.push(desc.columns.len());
        }
        desc.columns.push(col);
    }
    for c in &ct.constraints {
        if let TableConstraint::PrimaryKey { columns, .. } = c {
            set_primary_key(&mut desc, &key_column_names(columns))?;
        }
    }
    Ok(catalog.put(desc))
}

/// The table's `COMMENT` option (sqlparser's, else read from the options after the column
/// list, where MySQL's `COMMENT='…'` sits).
fn table_comment(ct: &CreateTable, tail: &str) -> Option<String> {
    if let Some(c) = &ct.comment {
        let text = c.to_string();
        let v = text
            .trim_start_matches("COMMENT")
            .trim_start()
            .trim_start_matches('=')
            .trim_start();
        return Some(v.trim_matches('\'').replace("''", "'"));
    }
    let up = tail.to_ascii_uppercase();
    let at = up.rfind("COMMENT")?;
    let rest = tail[at + 7..].trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim_start();
    let rest = rest.strip_prefix('\'')?;
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if chars.peek() == Some(&'\'') => {
                chars.next();
                out.push('\'');
            }
            '\'' => return Some(out),
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            c => out.push(c),
        }
    }
    None
}
