//! Reading ALTER TABLE operations: the ones that change columns, the primary key, the name,
//! the charset or system versioning are applied to the [`Alter`] state; indexes, foreign
//! keys, CHECK constraints, partitions, table options, ALGORITHM/LOCK, ORDER BY, FORCE,
//! ENABLE/DISABLE KEYS and the like are read past. An operation that is not known is an
//! error (the statement is then not applied), never silently ignored.

use super::alter::{Alter, Position};
use super::column::read_column;
use super::cursor::Cursor;
use super::defaults::read_default;
use super::lexer::Tok;
use super::unique::{drop_key, drop_key_column, hash_columns, read_unique, rename_key};
use super::{option_value, primary_key_clause, set_primary_key};

/// Table options that may appear in ALTER TABLE without `=`.
const TABLE_OPTIONS: &[&str] = &[
    "ENGINE",
    "AUTO_INCREMENT",
    "AVG_ROW_LENGTH",
    "CHECKSUM",
    "PAGE_CHECKSUM",
    "COMPRESSION",
    "CONNECTION",
    "DELAY_KEY_WRITE",
    "ENCRYPTION",
    "ENCRYPTED",
    "ENCRYPTION_KEY_ID",
    "INSERT_METHOD",
    "KEY_BLOCK_SIZE",
    "MAX_ROWS",
    "MIN_ROWS",
    "PACK_KEYS",
    "PASSWORD",
    "ROW_FORMAT",
    "STATS_AUTO_RECALC",
    "STATS_PERSISTENT",
    "STATS_SAMPLE_PAGES",
    "TABLESPACE",
    "STORAGE",
    "UNION",
    "PAGE_COMPRESSED",
    "PAGE_COMPRESSION_LEVEL",
    "TRANSACTIONAL",
    "SEQUENCE",
    "IETF_QUOTES",
    "ENGINE_ATTRIBUTE",
    "SECONDARY_ENGINE",
    "SECONDARY_ENGINE_ATTRIBUTE",
    "AUTOEXTEND_SIZE",
];

/// Words that start an ALTER TABLE operation (where an `ORDER BY` list ends).
const OPERATIONS: &[&str] = &[
    "ADD",
    "DROP",
    "MODIFY",
    "CHANGE",
    "RENAME",
    "ALTER",
    "CONVERT",
    "ALGORITHM",
    "LOCK",
    "FORCE",
    "ENABLE",
    "DISABLE",
    "DEFAULT",
    "CHARACTER",
    "CHARSET",
    "COLLATE",
    "COMMENT",
    "PARTITION",
    "REMOVE",
];

/// Reads and applies one operation.
pub(super) fn operation(st: &mut Alter, c: &mut Cursor<'_>) -> Result<(), String> {
    // MariaDB's engine-defined table options may be quoted: `PAGE_COMPRESSED`=1.
    if matches!(c.peek(), Some(Tok::Name(_))) && matches!(c.peek_at(1), Some(Tok::Punct('='))) {
        c.advance();
        return option_value(c);
    }
    let Some(Tok::Word(w)) = c.peek() else {
        return Err(format!("unexpected {} in ALTER TABLE", c.describe()));
    };
    let up = w.to_ascii_uppercase();
    c.advance();
    match up.as_str() {
        "ADD" => add(st, c),
        "DROP" => drop(st, c),
        "MODIFY" => modify(st, c, false),
        "CHANGE" => modify(st, c, true),
        "RENAME" => rename(st, c),
        "ALTER" => alter_column(st, c),
        "CONVERT" => convert(st, c),
        "ORDER" => order_by(c),
        // Partition operations come last and do not change columns.
        "PARTITION" | "REMOVE" | "COALESCE" | "REORGANIZE" | "EXCHANGE" | "ANALYZE" | "CHECK"
        | "OPTIMIZE" | "REBUILD" | "REPAIR" | "TRUNCATE" | "UPGRADE" | "DISCARD" | "IMPORT" => {
            c.skip_rest();
            Ok(())
        }
        "ENABLE" | "DISABLE" => c.expect_kw("KEYS"),
        "FORCE" | "NOWAIT" | "SECONDARY_LOAD" | "SECONDARY_UNLOAD" | "DEFAULT" => Ok(()),
        "WAIT" => {
            c.number();
            Ok(())
        }
        "WITH" | "WITHOUT" => c.expect_kw("VALIDATION"),
        // Debezium keeps the table's charset name through `ALTER TABLE … DEFAULT CHARSET=`
        // (columns added later inherit the old one in its `tableChanges`); so does this
        // description, which only follows what Debezium reports.
        "CHARACTER" | "CHARSET" | "CHAR" | "COLLATE" => {
            c.eat_kw("SET");
            option_value(c)
        }
        "COMMENT" => {
            c.eat_punct('=');
            let text = c
                .string()
                .ok_or_else(|| format!("expected a quoted comment, found {}", c.describe()))?;
            st.desc.comment = Some(text);
            Ok(())
        }
        "ALGORITHM" | "LOCK" => option_value(c),
        _ if c.is_punct('=') || TABLE_OPTIONS.contains(&up.as_str()) => option_value(c),
        _ => Err(format!("unsupported ALTER TABLE operation `{w}`")),
    }
}

/// `FIRST`, `AFTER x`, or nothing (the end).
fn position(c: &mut Cursor<'_>) -> Result<Position, String> {
    if c.eat_kw("FIRST") {
        Ok(Position::First)
    } else if c.eat_kw("AFTER") {
        Ok(Position::After(c.name()?))
    } else {
        Ok(Position::End)
    }
}

/// `ADD …`: columns, the primary key, periods, system versioning; other keys and
/// constraints and partitions are read past.
fn add(st: &mut Alter, c: &mut Cursor<'_>) -> Result<(), String> {
    if c.eat_kw("COLUMN") {
        return add_columns(st, c);
    }
    if add_element(st, c)? {
        return Ok(());
    }
    if c.eat_kws(&["SYSTEM", "VERSIONING"]) {
        st.add_versioning = true;
        return Ok(());
    }
    if c.is_kw("PARTITION") {
        c.skip_rest();
        return Ok(());
    }
    add_columns(st, c)
}

/// A key, constraint or period after `ADD` (also inside `ADD (…)`); false when the next
/// element is a column.
fn add_element(st: &mut Alter, c: &mut Cursor<'_>) -> Result<bool, String> {
    if c.eat_kw("CONSTRAINT") {
        c.eat_if_exists();
        if !c.is_any_kw(&["PRIMARY", "UNIQUE", "FOREIGN", "CHECK"]) {
            c.name()?;
        }
    }
    if c.eat_kws(&["PRIMARY", "KEY"]) {
        c.eat_if_exists();
        let names = primary_key_clause(c)?;
        set_primary_key(&mut st.desc, &names)?;
        return Ok(true);
    }
    if c.is_kw("UNIQUE") {
        st.uniques.push(read_unique(c)?);
        return Ok(true);
    }
    if c.is_any_kw(&[
        "INDEX", "KEY", "UNIQUE", "FULLTEXT", "SPATIAL", "FOREIGN", "CHECK",
    ]) {
        c.skip_item()?;
        return Ok(true);
    }
    if c.is_kws(&["PERIOD", "FOR"]) {
        st.explicit_period |= c.is_kw_at(2, "SYSTEM_TIME");
        c.skip_item()?;
        return Ok(true);
    }
    Ok(false)
}

/// `ADD [COLUMN] [IF NOT EXISTS] def [FIRST | AFTER x]` or `… (def, def, …)`.
fn add_columns(st: &mut Alter, c: &mut Cursor<'_>) -> Result<(), String> {
    let if_not_exists = c.eat_if_exists();
    if c.eat_punct('(') {
        loop {
            if !add_element(st, c)? {
                let def = read_column(c, st.inherited(), st.mode)?;
                st.add_column(def, &Position::End, if_not_exists)?;
            }
            if c.eat_punct(')') {
                return Ok(());
            }
            c.expect_punct(',')?;
        }
    }
    let def = read_column(c, st.inherited(), st.mode)?;
    let pos = position(c)?;
    st.add_column(def, &pos, if_not_exists)
}

/// `DROP …`: a column, the primary key, system versioning; other keys, constraints,
/// periods and partitions are read past.
fn drop(st: &mut Alter, c: &mut Cursor<'_>) -> Result<(), String> {
    if c.eat_kws(&["PRIMARY", "KEY"]) {
        st.desc.primary_key.clear();
        return Ok(());
    }
    if c.is_any_kw(&["INDEX", "KEY", "CONSTRAINT"]) && hash_columns(&st.desc) > 0 {
        // A long unique key takes its hidden hash column with it.
        c.advance();
        c.eat_if_exists();
        let key = c.name()?;
        if let Some(i) = drop_key(&mut st.desc, &key) {
            st.orig.remove(i);
        }
        return c.skip_item();
    }
    if c.is_any_kw(&["INDEX", "KEY", "FOREIGN", "CONSTRAINT", "CHECK"])
        || c.is_kws(&["PERIOD", "FOR"])
    {
        return c.skip_item();
    }
    if c.eat_kws(&["SYSTEM", "VERSIONING"]) {
        st.drop_versioning = true;
        return Ok(());
    }
    if c.is_kw("PARTITION") {
        c.skip_rest();
        return Ok(());
    }
    c.eat_kw("COLUMN");
    let if_exists = c.eat_if_exists();
    let name = c.name()?;
    let _ = c.eat_kw("RESTRICT") || c.eat_kw("CASCADE");
    match st.find(&name) {
        Some(i) => {
            let dropped = st.desc.columns[i].name.clone();
            st.remove_column(i);
            for k in drop_key_column(&mut st.desc, &dropped) {
                st.orig.remove(k);
            }
        }
        None if if_exists => {}
        None => return Err(st.column(&name).unwrap_err()),
    }
    Ok(())
}

/// `MODIFY [COLUMN] [IF EXISTS] def [pos]` and `CHANGE [COLUMN] [IF EXISTS] old def [pos]`.
fn modify(st: &mut Alter, c: &mut Cursor<'_>, change: bool) -> Result<(), String> {
    c.eat_kw("COLUMN");
    let if_exists = c.eat_if_exists();
    let old = if change { Some(c.name()?) } else { None };
    let def = read_column(c, st.inherited(), st.mode)?;
    let pos = position(c)?;
    let old = old.unwrap_or_else(|| def.desc.name.clone());
    if if_exists && st.find(&old).is_none() {
        return Ok(());
    }
    st.replace_column(&old, def, &pos)
}

/// `RENAME COLUMN a TO b`, `RENAME INDEX|KEY a TO b`, `RENAME [TO | AS] t`.
fn rename(st: &mut Alter, c: &mut Cursor<'_>) -> Result<(), String> {
    if c.eat_kw("COLUMN") {
        let if_exists = c.eat_if_exists();
        let from = c.name()?;
        c.expect_kw("TO")?;
        let to = c.name()?;
        let Some(i) = st.find(&from) else {
            return if if_exists {
                Ok(())
            } else {
                Err(st.column(&from).unwrap_err())
            };
        };
        // The server checked the new name against the table after the whole statement
        // (`RENAME COLUMN a TO b, RENAME COLUMN b TO a` swaps them).
        st.desc.columns[i].name = to;
        return Ok(());
    }
    if c.eat_kw("INDEX") || c.eat_kw("KEY") {
        let from = c.name()?;
        c.expect_kw("TO")?;
        let to = c.name()?;
        rename_key(&mut st.desc, &from, &to);
        return Ok(());
    }
    let _ = c.eat_kw("TO") || c.eat_kw("AS");
    let db = st.default_db.clone();
    st.renamed_to = Some(c.qualified(&db)?);
    Ok(())
}

/// `ALTER [COLUMN] c SET DEFAULT x | DROP DEFAULT | SET [IN]VISIBLE`; ALTER INDEX / CHECK /
/// CONSTRAINT are read past.
fn alter_column(st: &mut Alter, c: &mut Cursor<'_>) -> Result<(), String> {
    if c.is_any_kw(&["INDEX", "KEY", "CHECK", "CONSTRAINT"]) {
        return c.skip_item();
    }
    c.eat_kw("COLUMN");
    let if_exists = c.eat_if_exists();
    let name = c.name()?;
    let i = match st.find(&name) {
        Some(i) => Some(i),
        None if if_exists => None,
        None => return Err(st.column(&name).unwrap_err()),
    };
    let mut apply = |f: &dyn Fn(&mut crate::model::ColumnDesc)| {
        if let Some(i) = i {
            f(&mut st.desc.columns[i]);
        }
    };
    if c.eat_kws(&["SET", "DEFAULT"]) {
        let d = read_default(c)?;
        apply(&|col| col.default = Some(d.clone()));
    } else if c.eat_kws(&["DROP", "DEFAULT"]) {
        apply(&|col| col.default = None);
    } else if c.eat_kws(&["SET", "VISIBLE"]) || c.eat_kws(&["SET", "INVISIBLE"]) {
    } else if c.eat_kws(&["SET", "NOT", "NULL"]) {
        apply(&|col| col.nullable = false);
    } else if c.eat_kws(&["DROP", "NOT", "NULL"]) {
        apply(&|col| col.nullable = true);
    } else {
        return Err(format!(
            "unsupported ALTER COLUMN operation at {}",
            c.describe()
        ));
    }
    Ok(())
}

/// `CONVERT TO CHARACTER SET x [COLLATE y]`, and MariaDB's `CONVERT PARTITION p TO TABLE t`
/// (a new table like this one) and `CONVERT TABLE t TO PARTITION …` (t goes away).
fn convert(st: &mut Alter, c: &mut Cursor<'_>) -> Result<(), String> {
    if c.eat_kw("TO") {
        if !(c.eat_kws(&["CHARACTER", "SET"]) || c.eat_kw("CHARSET")) {
            return Err(format!(
                "expected CHARACTER SET after CONVERT TO, found {}",
                c.describe()
            ));
        }
        c.eat_punct('=');
        let cs = if c.eat_kw("DEFAULT") {
            None
        } else {
            Some(c.name_or_string()?.to_ascii_lowercase())
        };
        if c.eat_kw("COLLATE") {
            c.eat_punct('=');
            c.name_or_string()?;
        }
        st.convert_to(cs);
        return Ok(());
    }
    let db = st.default_db.clone();
    if c.eat_kw("PARTITION") {
        c.name()?;
        c.expect_kw("TO")?;
        c.expect_kw("TABLE")?;
        let t = c.qualified(&db)?;
        st.split_off.push(t);
        return Ok(());
    }
    if c.eat_kw("TABLE") {
        let t = c.qualified(&db)?;
        st.merged.push(t);
        c.skip_rest();
        return Ok(());
    }
    Err(format!("unsupported CONVERT at {}", c.describe()))
}

/// `ORDER BY a [ASC|DESC], b …` (a storage order; no column change).
fn order_by(c: &mut Cursor<'_>) -> Result<(), String> {
    c.expect_kw("BY")?;
    loop {
        c.qualified("")?;
        if c.eat_punct('.') {
            c.name()?;
        }
        let _ = c.eat_kw("ASC") || c.eat_kw("DESC");
        let next_is_operation = OPERATIONS.iter().any(|k| c.is_kw_at(1, k))
            || TABLE_OPTIONS.iter().any(|k| c.is_kw_at(1, k));
        if c.is_punct(',') && !next_is_operation {
            c.advance();
        } else {
            return Ok(());
        }
    }
}
