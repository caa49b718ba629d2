//! CREATE TABLE: a new table from its column list, key and options, or a copy of another
//! table (`CREATE TABLE … LIKE`, `CREATE TABLE … (LIKE …)`).

use std::sync::Arc;

use super::charset::{charset_of, collation_charset};
use super::column::{read_column, ColumnDef, Inherited};
use super::cursor::Cursor;
use super::lexer::{SqlMode, Tok};
use super::unique::{add_hash_columns, read_unique, UniqueKey};
use super::{
    has_implicit_period, implicit_period_columns, option_value, primary_key_clause, set_primary_key,
};
use crate::model::{Catalog, TableDesc};

/// The error for a table whose structure comes from a query.
fn from_select(db: &str, name: &str) -> String {
    format!(
        "CREATE TABLE {db}.{name} takes (part of) its structure from a SELECT, which the \
         statement's text does not reveal"
    )
}

/// Applies `CREATE [OR REPLACE] [TEMPORARY] TABLE | SEQUENCE …` after `CREATE`.
pub(super) fn create(
    catalog: &mut Catalog,
    c: &mut Cursor<'_>,
    default_db: &str,
    mode: SqlMode,
) -> Result<Vec<Arc<TableDesc>>, String> {
    c.eat_kws(&["OR", "REPLACE"]);
    if c.eat_kw("TEMPORARY") {
        // Row format does not log a temporary table's rows.
        c.skip_rest();
        return Ok(vec![]);
    }
    if c.eat_kw("SEQUENCE") {
        return super::sequence::create(catalog, c, default_db);
    }
    if !c.eat_kw("TABLE") {
        return Err("not a CREATE/ALTER TABLE statement".into());
    }
    let if_not_exists = c.eat_if_exists();
    let (db, name) = c.qualified(default_db)?;
    if if_not_exists {
        if let Some(t) = catalog.get(&db, &name) {
            // The server left the existing table as it was.
            let t = t.clone();
            c.skip_rest();
            return Ok(vec![t]);
        }
    }
    let like_in_parens = c.is_punct('(') && c.is_kw_at(1, "LIKE");
    if like_in_parens || c.is_kw("LIKE") {
        c.eat_punct('(');
        c.expect_kw("LIKE")?;
        let (ld, lt) = c.qualified(default_db)?;
        if like_in_parens {
            c.expect_punct(')')?;
        }
        let src = catalog
            .get(&ld, &lt)
            .ok_or_else(|| format!("CREATE TABLE {db}.{name} LIKE unknown table {ld}.{lt}"))?;
        let mut desc = TableDesc::clone(src);
        desc.db = db;
        desc.name = name;
        return Ok(vec![catalog.put(desc)]);
    }
    if c.is_punct('(') && (c.is_kw_at(1, "SELECT") || c.is_kw_at(1, "WITH")) {
        return Err(from_select(&db, &name));
    }
    let body = if c.eat_punct('(') {
        read_elements(c, mode)?
    } else {
        Elements::default()
    };
    let opts = read_options(c)?;
    if opts.select {
        return Err(from_select(&db, &name));
    }
    if body.columns.is_empty() {
        return Err(format!("CREATE TABLE {db}.{name} has no columns"));
    }
    let desc = build(catalog, c, mode, (db, name), body, opts)?;
    Ok(vec![catalog.put(desc)])
}

/// What the parenthesised list of a CREATE TABLE holds. Column definitions are kept as
/// read (their charset is settled once the table options are known).
#[derive(Default, Clone)]
struct Elements {
    /// Where each column definition starts.
    columns: Vec<usize>,
    key: Option<Vec<String>>,
    period: bool,
    uniques: Vec<UniqueKey>,
}

/// Reads the elements after `(` up to the closing `)`. Columns are read to find their end
/// and errors, and read again once the table's charset is known.
fn read_elements(c: &mut Cursor<'_>, mode: SqlMode) -> Result<Elements, String> {
    let mut e = Elements::default();
    loop {
        if c.eat_kw("CONSTRAINT") && !c.is_any_kw(&["PRIMARY", "UNIQUE", "FOREIGN", "CHECK"]) {
            c.name()?;
        }
        if c.eat_kws(&["PRIMARY", "KEY"]) {
            e.key = Some(primary_key_clause(c)?);
        } else if c.is_kw("UNIQUE") {
            e.uniques.push(read_unique(c)?);
        } else if c.is_any_kw(&[
            "INDEX", "KEY", "UNIQUE", "FULLTEXT", "SPATIAL", "FOREIGN", "CHECK",
        ]) {
            c.skip_item()?;
        } else if c.is_kws(&["PERIOD", "FOR"]) {
            e.period |= c.is_kw_at(2, "SYSTEM_TIME");
            c.skip_item()?;
        } else {
            let start = c.pos;
            // Read once to find its end (and its errors); read again with the charset.
            read_column(c, Inherited::default(), mode)?;
            e.columns.push(start);
        }
        if c.eat_punct(')') {
            return Ok(e);
        }
        c.expect_punct(',')?;
    }
}

/// The table options after the column list.
#[derive(Default)]
struct Options {
    charset: Option<String>,
    collation: Option<String>,
    comment: Option<String>,
    /// `ENGINE=x`, upper-case.
    engine: String,
    versioned: bool,
    /// The structure comes from `[AS] SELECT …`.
    select: bool,
}

/// Reads the table options, PARTITION clause and any `[IGNORE | REPLACE] [AS] SELECT`.
fn read_options(c: &mut Cursor<'_>) -> Result<Options, String> {
    let mut o = Options::default();
    while !c.at_end() {
        if c.eat_punct(',') {
            continue;
        }
        if c.eat_kws(&["WITH", "SYSTEM", "VERSIONING"]) {
            o.versioned = true;
            continue;
        }
        if c.is_punct('(') || c.is_any_kw(&["SELECT", "AS", "IGNORE", "REPLACE", "WITH", "TABLE"]) {
            o.select = true;
            return Ok(o);
        }
        // MariaDB prints engine-defined options quoted: `PAGE_COMPRESSED`='ON'.
        if matches!(c.peek(), Some(Tok::Name(_))) && matches!(c.peek_at(1), Some(Tok::Punct('='))) {
            c.advance();
            option_value(c)?;
            continue;
        }
        let Some(Tok::Word(w)) = c.advance() else {
            c.pos -= 1;
            return Err(format!("unexpected {} in the table options", c.describe()));
        };
        match w.to_ascii_uppercase().as_str() {
            "PARTITION" => {
                o.select = c.top_level_has("SELECT");
                c.skip_rest();
            }
            "DEFAULT" => {}
            "CHARACTER" | "CHARSET" | "CHAR" => {
                c.eat_kw("SET");
                c.eat_punct('=');
                o.charset = Some(c.name_or_string()?.to_ascii_lowercase());
            }
            "COLLATE" => {
                c.eat_punct('=');
                o.collation = Some(c.name_or_string()?.to_ascii_lowercase());
            }
            "COMMENT" => {
                c.eat_punct('=');
                o.comment = Some(c.string().ok_or_else(|| {
                    format!("expected a quoted table comment, found {}", c.describe())
                })?);
            }
            "DATA" | "INDEX" => {
                c.expect_kw("DIRECTORY")?;
                option_value(c)?;
            }
            "START" => c.expect_kw("TRANSACTION")?,
            "ENGINE" | "TYPE" => {
                c.eat_punct('=');
                o.engine = c.name_or_string()?.to_ascii_uppercase();
            }
            _ => option_value(c)?,
        }
    }
    Ok(o)
}

/// The table from its elements and options.
fn build(
    catalog: &Catalog,
    c: &Cursor<'_>,
    mode: SqlMode,
    (db, name): (String, String),
    body: Elements,
    opts: Options,
) -> Result<TableDesc, String> {
    let declared = opts
        .charset
        .clone()
        .or_else(|| opts.collation.as_deref().map(collation_charset));
    let charset_name = declared
        .clone()
        .or_else(|| catalog.charset_of(&db).map(str::to_string));
    let inherited = Inherited {
        cs: charset_name.as_deref().map(charset_of),
        name: charset_name.as_deref(),
    };
    let mut desc = TableDesc {
        db,
        name,
        columns: Vec::with_capacity(body.columns.len() + 2),
        primary_key: vec![],
        charset_name: charset_name.clone(),
        comment: opts.comment,
    };
    let mut versioned = opts.versioned;
    let mut explicit_period = body.period;
    let mut uniques = body.uniques.clone();
    for &start in &body.columns {
        let mut at = c.clone();
        at.pos = start;
        let def: ColumnDef = read_column(&mut at, inherited, mode)?;
        if def.pk {
            desc.primary_key.push(desc.columns.len());
        }
        versioned |= def.versioned;
        if def.unique {
            uniques.push(UniqueKey {
                parts: vec![(def.desc.name.clone(), None)],
                ..UniqueKey::default()
            });
        }
        explicit_period |= def.row_period.is_some();
        desc.columns.push(def.desc);
    }
    if let Some(key) = &body.key {
        set_primary_key(&mut desc, key)?;
    }
    if versioned && !explicit_period && !has_implicit_period(&desc) {
        desc.columns.extend(implicit_period_columns());
    }
    add_hash_columns(&mut desc, &uniques, &opts.engine, mode);
    Ok(desc)
}
