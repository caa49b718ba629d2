//! Applying CREATE TABLE / ALTER TABLE (and MariaDB's CREATE / ALTER SEQUENCE) statements to
//! the catalog, for servers that log MINIMAL table metadata: a hand-written, tolerant reader
//! (a lexer and a cursor over its tokens) that reads what decides the row layout and the
//! schema-change events, and reads past what does not.
//!
//! Read: table names (quoted, qualified, Unicode), columns with their types (every MySQL and
//! MariaDB synonym, UUID/INET4/INET6, VECTOR, spatial types, ENUM/SET labels), charset and
//! collation (also the `BINARY`, `ASCII`, `UNICODE`, `BYTE` shorthands and NATIONAL types),
//! NULL / NOT NULL, DEFAULT, AUTO_INCREMENT, ON UPDATE, COMMENT, the primary key (inline or
//! as a constraint), system versioning (its implicit `row_start` / `row_end` columns, which
//! row images carry last), CREATE TABLE … LIKE, CREATE OR REPLACE, IF [NOT] EXISTS, and the
//! ALTER TABLE operations that change columns (ADD/DROP/MODIFY/CHANGE/RENAME COLUMN with
//! FIRST/AFTER, ALTER COLUMN, ADD/DROP PRIMARY KEY, RENAME TO, CONVERT TO CHARACTER SET,
//! ADD/DROP SYSTEM VERSIONING). Skipped: other indexes, foreign keys, CHECK constraints,
//! generated-column expressions, table options, PARTITION clauses and partition operations,
//! and unknown column attributes. Executable comments (`/*!50100 … */`) are part of the
//! statement; `sql_mode` decides how quotes, backslashes, `REAL` and MariaDB's Oracle-mode
//! types read ([`SqlMode`]).
//!
//! Invariant: a statement is applied whole or not at all. When it cannot be read, or refers
//! to something unknown, or its structure comes from a SELECT (CREATE TABLE … SELECT), the
//! catalog keeps the old structure and the caller gets an `Err` saying why (the source
//! decides what that means: under MINIMAL metadata an error naming the statement; see
//! `source::events::ddl_guard`); the decoder's `check_fits` refuses rows that do not fit
//! the structure, so a missed statement is never misaligned values. TEMPORARY tables are
//! ignored (row format does not log their rows).
//!
//! The work is split by what it reads: `lexer` and `cursor` turn text into tokens,
//! `column_type` maps a SQL type to a column kind, `charset` reads charset and collation
//! names, `defaults` reads `DEFAULT` clauses, `column` reads one column definition, and
//! `create`, `alter` (with `alter_ops`) and `sequence` apply whole statements. This file
//! holds the entry point and the helpers they share.

use std::sync::Arc;

use crate::model::{Catalog, TableDesc};

mod alter;
mod alter_ops;
mod charset;
mod column;
mod column_type;
mod create;
pub(crate) mod cursor;
mod defaults;
pub(crate) mod lexer;
mod sequence;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_forms;
#[cfg(test)]
mod tests_syntax;
mod unique;

pub(crate) use charset::charset_name_of;
pub(crate) use defaults::{bit_bytes, hex_bytes};
pub use lexer::SqlMode;

use cursor::Cursor;
use lexer::Tok;

/// Reads `sql` and applies it to `catalog` under the default `sql_mode`; returns the tables
/// it defined or changed.
pub fn apply_statement(
    catalog: &mut Catalog,
    sql: &str,
    default_db: &str,
) -> Result<Vec<Arc<TableDesc>>, String> {
    apply_statement_with(catalog, sql, default_db, SqlMode::default())
}

/// [`apply_statement`] under the session's `sql_mode` (from the QUERY event).
pub fn apply_statement_with(
    catalog: &mut Catalog,
    sql: &str,
    default_db: &str,
    mode: SqlMode,
) -> Result<Vec<Arc<TableDesc>>, String> {
    let short = || {
        let s: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        let cut: String = s.chars().take(100).collect();
        if cut.len() < s.len() {
            format!("{cut}…")
        } else {
            cut
        }
    };
    let lexed = lexer::lex(sql, mode);
    if let Some(e) = lexed.error {
        return Err(format!("cannot read `{}`: {e}", short()));
    }
    let mut c = Cursor::new(&lexed.tokens, sql);
    let mut out = Vec::new();
    while c.eat_punct(';') {}
    while !c.at_end() {
        // MariaDB's `SET STATEMENT var = value, … FOR <statement>`.
        if c.eat_kws(&["SET", "STATEMENT"]) {
            while !c.at_end() && !c.is_kw("FOR") {
                if c.is_punct('(') {
                    c.skip_group()?;
                } else {
                    c.advance();
                }
            }
            c.expect_kw("FOR")
                .map_err(|e| format!("cannot apply `{}`: {e}", short()))?;
        }
        let applied = if c.eat_kw("CREATE") {
            create::create(catalog, &mut c, default_db, mode)
        } else if c.eat_kw("ALTER") {
            alter::alter(catalog, &mut c, default_db, mode)
        } else {
            Err("not a CREATE/ALTER TABLE statement".to_string())
        };
        out.extend(applied.map_err(|e| format!("cannot apply `{}`: {e}", short()))?);
        if !c.at_end() {
            return Err(format!(
                "cannot apply `{}`: unexpected {} after the statement",
                short(),
                c.describe()
            ));
        }
        while c.eat_punct(';') {}
    }
    Ok(out)
}

/// The column names of a key's parts `(a, b(10) DESC, …)` at the cursor.
fn key_columns(c: &mut Cursor<'_>) -> Result<Vec<String>, String> {
    c.expect_punct('(')?;
    let mut names = Vec::new();
    loop {
        if c.is_punct('(') {
            return Err("a primary key on an expression cannot be followed".into());
        }
        names.push(c.name()?);
        if c.is_punct('(') {
            c.skip_group()?; // prefix length
        }
        let _ = c.eat_kw("ASC") || c.eat_kw("DESC");
        if c.eat_punct(')') {
            return Ok(names);
        }
        c.expect_punct(',')?;
    }
}

/// `PRIMARY KEY [name] [USING x] (parts) [options]` after `PRIMARY KEY`: the key's column
/// names; the cursor is left at the `,` or `)` after the definition.
fn primary_key_clause(c: &mut Cursor<'_>) -> Result<Vec<String>, String> {
    if c.eat_kw("USING") {
        c.advance();
    } else if !c.is_punct('(') {
        c.name()?;
    }
    let names = key_columns(c)?;
    c.skip_item()?;
    Ok(names)
}

/// Makes the named columns the primary key (and NOT NULL); `Err` when one is unknown.
fn set_primary_key(desc: &mut TableDesc, names: &[String]) -> Result<(), String> {
    let mut key = Vec::with_capacity(names.len());
    for n in names {
        let i = desc
            .column_index(n)
            .ok_or_else(|| format!("primary key column `{n}` is not in {}", desc.full_name()))?;
        desc.columns[i].nullable = false;
        key.push(i);
    }
    desc.primary_key = key;
    Ok(())
}

/// Reads a table option's value: a parenthesised group or one token (after an optional `=`).
fn option_value(c: &mut Cursor<'_>) -> Result<(), String> {
    c.eat_punct('=');
    if c.is_punct('(') {
        return c.skip_group();
    }
    match c.peek() {
        None | Some(Tok::Punct(',' | ';')) => Err(format!(
            "expected a table option's value, found {}",
            c.describe()
        )),
        _ => {
            c.advance();
            Ok(())
        }
    }
}

/// The implicit columns of a system-versioned table without explicit period columns
/// (MariaDB keeps them invisible and logs them last in every row image).
fn implicit_period_columns() -> Vec<crate::model::ColumnDesc> {
    ["row_start", "row_end"]
        .iter()
        .filter_map(|name| {
            let sql = format!("`{name}` TIMESTAMP(6) NOT NULL INVISIBLE");
            let lexed = lexer::lex(&sql, SqlMode::default());
            let mut c = Cursor::new(&lexed.tokens, &sql);
            column::read_column(&mut c, column::Inherited::default(), SqlMode::default())
                .ok()
                .map(|d| d.desc)
        })
        .collect()
}

/// Whether `desc` ends with the implicit period columns (`row_start`, `row_end`).
pub(crate) fn has_implicit_period(desc: &TableDesc) -> bool {
    let n = desc.columns.len();
    n >= 2
        && desc.columns[n - 2].name.eq_ignore_ascii_case("row_start")
        && desc.columns[n - 1].name.eq_ignore_ascii_case("row_end")
}
