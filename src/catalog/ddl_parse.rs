//! Applying CREATE TABLE / ALTER TABLE statements to the catalog with sqlparser's MySQL
//! dialect, for servers that log MINIMAL table metadata.
//!
//! Covered: CREATE TABLE (column types with UNSIGNED, DECIMAL(p,s), CHAR/VARCHAR lengths,
//! per-column and table-default CHARSET/COLLATE, ENUM/SET labels, BIT(n), the fsp of
//! TIME/DATETIME/TIMESTAMP, JSON, GEOMETRY, VECTOR, NOT NULL, DEFAULT, PRIMARY KEY inline or
//! as a constraint), CREATE TABLE … LIKE, and ALTER TABLE ADD/DROP/MODIFY/CHANGE/RENAME
//! COLUMN (FIRST/AFTER), ALTER COLUMN SET/DROP DEFAULT, ADD/DROP PRIMARY KEY, RENAME TO,
//! CONVERT TO CHARACTER SET.
//!
//! Invariant: a statement is applied whole or not at all. When it cannot be parsed or
//! refers to something unknown, the catalog keeps the old structure and the caller gets an
//! `Err` (it logs a warning and carries on); the decoder's `check_fits` then refuses rows
//! that no longer fit, so a missed statement is an error at the row, never misaligned values.
//!
//! The work is split by what it reads: `column_type` maps a SQL type to a column kind,
//! `charset` reads charset and collation names, `defaults` reads `DEFAULT` clauses,
//! `column` turns one column definition into a `ColumnDesc`, and `create` / `alter`
//! apply whole statements. This file holds the entry point and the helpers they share.

use std::sync::Arc;

use sqlparser::ast::{IndexColumn, ObjectName, Statement};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

use crate::model::{Catalog, TableDesc};

mod alter;
mod charset;
mod column;
mod column_type;
mod create;
mod defaults;
#[cfg(test)]
mod tests;

pub(crate) use charset::charset_name_of;
pub(crate) use defaults::{bit_bytes, hex_bytes};

/// Parses `sql` and applies it to `catalog`; returns the tables it defined or changed.
pub fn apply_statement(
    catalog: &mut Catalog,
    sql: &str,
    default_db: &str,
) -> Result<Vec<Arc<TableDesc>>, String> {
    let short = || sql.chars().take(80).collect::<String>();
    if let Some(r) = alter::convert_to_charset(catalog, sql, default_db) {
        return r;
    }
    if let Some(r) = alter::table_options_only(catalog, sql, default_db) {
        return r;
    }
    let cleaned = without_zerofill(sql);
    let stmts = Parser::parse_sql(&MySqlDialect {}, &cleaned)
        .map_err(|e| format!("cannot parse `{}`: {e}", short()))?;
    let mut out = Vec::new();
    for stmt in stmts {
        match stmt {
            Statement::CreateTable(ct) => {
                out.push(create::create_table(catalog, &ct, sql, default_db)?)
            }
            Statement::AlterTable {
                name, operations, ..
            } => out.push(alter::alter_table(catalog, &name, &operations, default_db)?),
            _ => return Err(format!("not a CREATE/ALTER TABLE statement: `{}`", short())),
        }
    }
    Ok(out)
}

/// The comment that stands in for `ZEROFILL` (see [`without_zerofill`]).
pub(super) const ZEROFILL_MARK: &str = "\u{1}rowtide:zerofill";

/// `sql` with each `ZEROFILL` attribute (a display matter that sqlparser does not know; it
/// implies UNSIGNED, which MySQL and MariaDB print next to it) replaced by a column comment
/// [`ZEROFILL_MARK`], which the column reader turns back into the attribute. Quoted text
/// is kept.
fn without_zerofill(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.to_ascii_uppercase().contains("ZEROFILL") {
        return std::borrow::Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut comment: Option<&'static str> = None;
    let mut prev = '\0';
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.eq_ignore_ascii_case("ZEROFILL") {
            out.push_str(&format!("COMMENT '{ZEROFILL_MARK}'"));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for ch in sql.chars() {
        if let Some(end) = comment {
            out.push(ch);
            if (end == "\n" && ch == '\n') || (end == "*/" && prev == '*' && ch == '/') {
                comment = None;
            }
            prev = ch;
            continue;
        }
        match quote {
            Some(_) if escaped => {
                out.push(ch);
                escaped = false;
            }
            Some(q) if ch == '\\' && q != '`' => {
                out.push(ch);
                escaped = true;
            }
            Some(q) => {
                out.push(ch);
                if ch == q {
                    quote = None;
                }
            }
            None if ch.is_ascii_alphanumeric() || ch == '_' => word.push(ch),
            None => {
                flush(&mut word, &mut out);
                if matches!(ch, '\'' | '"' | '`') {
                    quote = Some(ch);
                } else if ch == '#' || (ch == '-' && prev == '-') {
                    comment = Some("\n");
                } else if ch == '*' && prev == '/' {
                    comment = Some("*/");
                }
                out.push(ch);
            }
        }
        prev = ch;
    }
    flush(&mut word, &mut out);
    std::borrow::Cow::Owned(out)
}

/// `(db, table)` of a possibly qualified name.
fn qualified(name: &ObjectName, default_db: &str) -> (String, String) {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| {
            p.as_ident()
                .map(|i| i.value.clone())
                .unwrap_or_else(|| p.to_string())
        })
        .collect();
    match parts.as_slice() {
        [db, t] => (db.clone(), t.clone()),
        [.., t] => (default_db.to_string(), t.clone()),
        [] => (default_db.to_string(), String::new()),
    }
}

/// A name without its backquotes or double quotes.
fn unquote(s: &str) -> &str {
    s.trim_matches('`').trim_matches('"')
}

/// Makes the named columns the primary key (and NOT NULL); `Err` when one is unknown.
fn set_primary_key(desc: &mut TableDesc, names: &[String]) -> Result<(), String> {
    let mut key = Vec::with_capacity(names.len());
    for n in names {
        // `col(10)` prefix keys print as a function call: keep the name.
        let n = unquote(n.split('(').next().unwrap_or(n).trim());
        let i = desc
            .column_index(n)
            .ok_or_else(|| format!("primary key column `{n}` is not in {}", desc.full_name()))?;
        desc.columns[i].nullable = false;
        key.push(i);
    }
    desc.primary_key = key;
    Ok(())
}

/// The column names of a `PRIMARY KEY (…)` clause, as printed (`col(10)` for prefix keys).
fn key_column_names(columns: &[IndexColumn]) -> Vec<String> {
    columns.iter().map(|c| c.column.expr.to_string()).collect()
}
