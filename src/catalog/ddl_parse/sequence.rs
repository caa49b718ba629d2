//! MariaDB sequences: a sequence is a table with fixed columns, and `NEXTVAL` / `SETVAL`
//! log row events on it (an INSERT of the whole row), so the catalog must know it like a
//! table. `CREATE SEQUENCE s [AS type]` makes that table; `ALTER SEQUENCE s AS type`
//! (MariaDB 11.5+) changes the type of its value columns; other ALTER SEQUENCE options do
//! not change columns.

use std::sync::Arc;

use super::column_type::read_type;
use super::cursor::Cursor;
use super::lexer::SqlMode;
use crate::model::{Catalog, TableDesc};

/// The columns of a sequence table, with `{t}` standing for the value type (BIGINT(21)
/// unless the sequence is declared `AS type`), as MariaDB's SHOW CREATE TABLE prints them.
const COLUMNS: &str = "`next_not_cached_value` {t} NOT NULL, `minimum_value` {t} NOT NULL, \
    `maximum_value` {t} NOT NULL, `start_value` {t} NOT NULL COMMENT 'start value when \
    sequences is created or value if RESTART is used', `increment` bigint(21) NOT NULL \
    COMMENT 'increment value', `cache_size` bigint(21) unsigned NOT NULL, `cycle_option` \
    tinyint(1) unsigned NOT NULL COMMENT '0 if no cycles are allowed, 1 if the sequence \
    should begin a new cycle when maximum_value is passed', `cycle_count` bigint(21) \
    NOT NULL COMMENT 'How many cycles have been done'";

/// The sequence's value type after `AS`, as written, when the statement gives one; the
/// other options are read past.
fn value_type(c: &mut Cursor<'_>) -> Result<Option<String>, String> {
    let mut found = None;
    while !c.at_end() {
        if c.eat_kw("AS") {
            let start = c.pos;
            read_type(c, SqlMode::default())?;
            let _ = c.eat_kw("UNSIGNED") || c.eat_kw("SIGNED");
            found = Some(c.text_since(start).to_string());
        } else {
            c.advance();
        }
    }
    Ok(found)
}

/// The sequence table `db.name` with value type `t`.
fn sequence_table(
    catalog: &mut Catalog,
    db: &str,
    name: &str,
    t: &str,
) -> Result<TableDesc, String> {
    let sql = format!(
        "CREATE TABLE `{}`.`{}` ({}) ENGINE=InnoDB SEQUENCE=1",
        db.replace('`', "``"),
        name.replace('`', "``"),
        COLUMNS.replace("{t}", t)
    );
    // Built on a scratch catalog: only the description is wanted.
    let mut scratch = Catalog::default();
    if let Some(cs) = catalog.charset_of(db) {
        scratch.set_charset(db, cs);
    }
    let mut made = super::apply_statement(&mut scratch, &sql, db)?;
    let desc = made
        .pop()
        .ok_or_else(|| format!("sequence {db}.{name}: no table made"))?;
    Ok(TableDesc::clone(&desc))
}

/// `CREATE [OR REPLACE] SEQUENCE [IF NOT EXISTS] s [AS type] [options]` after `SEQUENCE`.
pub(super) fn create(
    catalog: &mut Catalog,
    c: &mut Cursor<'_>,
    default_db: &str,
) -> Result<Vec<Arc<TableDesc>>, String> {
    let if_not_exists = c.eat_if_exists();
    let (db, name) = c.qualified(default_db)?;
    if if_not_exists {
        if let Some(t) = catalog.get(&db, &name) {
            let t = t.clone();
            c.skip_rest();
            return Ok(vec![t]);
        }
    }
    let t = value_type(c)?.unwrap_or_else(|| "bigint(21)".into());
    let desc = sequence_table(catalog, &db, &name, &t)?;
    Ok(vec![catalog.put(desc)])
}

/// `ALTER SEQUENCE [IF EXISTS] s [AS type] [options]` after `SEQUENCE`.
pub(super) fn alter(
    catalog: &mut Catalog,
    c: &mut Cursor<'_>,
    default_db: &str,
) -> Result<Vec<Arc<TableDesc>>, String> {
    c.eat_if_exists();
    let (db, name) = c.qualified(default_db)?;
    let Some(old) = catalog.get(&db, &name).cloned() else {
        return Err(format!(
            "ALTER SEQUENCE on {db}.{name}, whose structure is unknown"
        ));
    };
    match value_type(c)? {
        Some(t) => {
            let desc = sequence_table(catalog, &db, &name, &t)?;
            Ok(vec![catalog.put(desc)])
        }
        None => Ok(vec![old]),
    }
}
