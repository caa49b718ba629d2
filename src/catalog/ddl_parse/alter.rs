//! ALTER TABLE: column changes (ADD/DROP/MODIFY/CHANGE/RENAME COLUMN with FIRST/AFTER,
//! ALTER COLUMN SET/DROP DEFAULT), the primary key, RENAME TO, and CONVERT TO CHARACTER SET
//! (read from the text, as sqlparser does not parse it). Each statement is applied to a copy
//! of the table, which replaces the catalog's only when every operation succeeded.

use std::sync::Arc;

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, DataType, Ident,
    MySQLColumnPosition, ObjectName, TableConstraint,
};

use super::charset::charset_clause;
use super::column::column;
use super::column::Inherited;
use super::defaults::default_of;
use super::{key_column_names, qualified, set_primary_key, unquote};
use crate::model::{Catalog, Charset, ColumnDesc, ColumnKind, TableDesc};

/// The table an ALTER TABLE works on, as named in the statement (for error messages), and
/// the charset its new text columns take.
struct Target<'a> {
    db: &'a str,
    table: &'a str,
    table_cs: Option<Charset>,
    /// The charset name new text columns inherit (the table's, else the database's).
    table_cs_name: Option<String>,
}

impl Target<'_> {
    fn inherited(&self) -> Inherited<'_> {
        Inherited {
            cs: self.table_cs,
            name: self.table_cs_name.as_deref(),
        }
    }
}

impl Target<'_> {
    /// The index of column `name` in `desc`; `Err` when the table has no such column.
    fn column(&self, desc: &TableDesc, name: &str) -> Result<usize, String> {
        desc.column_index(name).ok_or_else(|| self.no_column(name))
    }

    /// The error for a column the table does not have.
    fn no_column(&self, name: &str) -> String {
        format!("no column `{name}` in {}.{}", self.db, self.table)
    }
}

/// Applies one ALTER TABLE statement's operations, all or none.
pub(super) fn alter_table(
    catalog: &mut Catalog,
    name: &ObjectName,
    ops: &[AlterTableOperation],
    default_db: &str,
) -> Result<Arc<TableDesc>, String> {
    let (db, table) = qualified(name, default_db);
    let old = catalog
        .get(&db, &table)
        .ok_or_else(|| format!("ALTER TABLE on {db}.{table}, whose structure is unknown"))?;
    // Work on a copy: the statement applies whole or not at all.
    let mut desc = TableDesc::clone(old);
    let target = Target {
        db: &db,
        table: &table,
        table_cs: text_charset(&desc),
        table_cs_name: desc
            .charset_name
            .clone()
            .or_else(|| catalog.charset_of(&db).map(str::to_string)),
    };
    let mut renamed_to = None;
    for op in ops {
        if let Some(to) = apply_op(&mut desc, op, &target)? {
            renamed_to = Some(to);
        }
    }
    if let Some((nd, nt)) = renamed_to {
        catalog.remove(&db, &table);
        desc.db = nd;
        desc.name = nt;
    }
    Ok(catalog.put(desc))
}

/// The charset of the table's first non-binary CHAR/VARCHAR/TEXT column, taken as the
/// table's default for columns added without one.
fn text_charset(desc: &TableDesc) -> Option<Charset> {
    desc.columns
        .iter()
        .find(|c| {
            matches!(
                c.kind,
                ColumnKind::Char { .. } | ColumnKind::VarChar { .. } | ColumnKind::Blob { .. }
            ) && !c.charset.is_binary()
        })
        .map(|c| c.charset)
}

/// Applies one operation to `desc`; returns the new `(db, table)` for RENAME TO.
fn apply_op(
    desc: &mut TableDesc,
    op: &AlterTableOperation,
    target: &Target<'_>,
) -> Result<Option<(String, String)>, String> {
    match op {
        AlterTableOperation::AddColumn {
            column_def,
            column_position,
            ..
        } => add_column(desc, column_def, column_position.as_ref(), target)?,
        AlterTableOperation::DropColumn {
            column_names,
            if_exists,
            ..
        } => drop_columns(desc, column_names, *if_exists, target)?,
        AlterTableOperation::ModifyColumn {
            col_name,
            data_type,
            options,
            column_position,
        } => {
            let new = NewColumn::new(col_name, data_type, options, column_position);
            replace_column(desc, &col_name.value, new, target.inherited())?;
        }
        AlterTableOperation::ChangeColumn {
            old_name,
            new_name,
            data_type,
            options,
            column_position,
        } => {
            let new = NewColumn::new(new_name, data_type, options, column_position);
            replace_column(desc, &old_name.value, new, target.inherited())?;
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => {
            let i = target.column(desc, &old_column_name.value)?;
            desc.columns[i].name = new_column_name.value.clone();
        }
        AlterTableOperation::AddConstraint {
            constraint: TableConstraint::PrimaryKey { columns, .. },
            ..
        } => set_primary_key(desc, &key_column_names(columns))?,
        AlterTableOperation::AlterColumn { column_name, op } => {
            let i = target.column(desc, &column_name.value)?;
            alter_column(&mut desc.columns[i], op);
        }
        AlterTableOperation::DropPrimaryKey => desc.primary_key.clear(),
        AlterTableOperation::RenameTable { table_name } => {
            return Ok(Some(qualified(table_name, target.db)));
        }
        // Indexes, constraints other than the primary key, options, algorithm, lock,
        // partitions: no effect on the row layout.
        _ => {}
    }
    Ok(None)
}

/// `ADD [COLUMN] def [FIRST | AFTER x]`; `Err` when the column exists already.
fn add_column(
    desc: &mut TableDesc,
    def: &ColumnDef,
    pos: Option<&MySQLColumnPosition>,
    target: &Target<'_>,
) -> Result<(), String> {
    let (col, pk) = column(def, target.inherited())?;
    if desc.column_index(&col.name).is_some() {
        return Err(format!(
            "column `{}` already exists in {}.{}",
            col.name, target.db, target.table
        ));
    }
    let at = position(desc, pos)?;
    insert_column(desc, at, col);
    if pk {
        desc.primary_key = vec![at];
    }
    Ok(())
}

/// `DROP [COLUMN] [IF EXISTS] a, b`; an unknown column is an `Err` unless IF EXISTS.
fn drop_columns(
    desc: &mut TableDesc,
    names: &[Ident],
    if_exists: bool,
    target: &Target<'_>,
) -> Result<(), String> {
    for n in names {
        match desc.column_index(&n.value) {
            Some(i) => remove_column(desc, i),
            None if if_exists => {}
            None => return Err(target.no_column(&n.value)),
        }
    }
    Ok(())
}

/// `ALTER [COLUMN] c SET DEFAULT x | DROP DEFAULT | SET NOT NULL | DROP NOT NULL`.
fn alter_column(col: &mut ColumnDesc, op: &AlterColumnOperation) {
    match op {
        AlterColumnOperation::SetDefault { value } => col.default = Some(default_of(value)),
        AlterColumnOperation::DropDefault => col.default = None,
        AlterColumnOperation::SetNotNull => col.nullable = false,
        AlterColumnOperation::DropNotNull => col.nullable = true,
        _ => {}
    }
}

/// The new definition of a column in MODIFY / CHANGE.
struct NewColumn<'a> {
    name: &'a str,
    data_type: &'a DataType,
    options: &'a [ColumnOption],
    pos: Option<&'a MySQLColumnPosition>,
}

impl<'a> NewColumn<'a> {
    /// Gathers the parts of a MODIFY / CHANGE operation's new definition.
    fn new(
        name: &'a Ident,
        data_type: &'a DataType,
        options: &'a [ColumnOption],
        pos: &'a Option<MySQLColumnPosition>,
    ) -> Self {
        NewColumn {
            name: &name.value,
            data_type,
            options,
            pos: pos.as_ref(),
        }
    }
}

/// MODIFY / CHANGE: replaces column `old` by `new`, moving it when a position is given and
/// keeping the primary key on the same columns.
fn replace_column(
    desc: &mut TableDesc,
    old: &str,
    new: NewColumn<'_>,
    inherited: Inherited<'_>,
) -> Result<(), String> {
    let i = desc
        .column_index(old)
        .ok_or_else(|| format!("no column `{old}` in {}", desc.full_name()))?;
    let cd = ColumnDef {
        name: Ident::new(new.name),
        data_type: new.data_type.clone(),
        options: new
            .options
            .iter()
            .map(|o| sqlparser::ast::ColumnOptionDef {
                name: None,
                option: o.clone(),
            })
            .collect(),
    };
    let (mut col, pk) = column(&cd, inherited)?;
    let was_key = desc.primary_key.contains(&i);
    if was_key {
        col.nullable = false;
    }
    match new.pos {
        None => desc.columns[i] = col,
        Some(p) => {
            let key_names: Vec<String> = desc
                .primary_key
                .iter()
                .map(|&k| {
                    if k == i {
                        new.name.to_string()
                    } else {
                        desc.columns[k].name.clone()
                    }
                })
                .collect();
            desc.columns.remove(i);
            let at = position(desc, Some(p))?;
            desc.columns.insert(at, col);
            desc.primary_key = key_names
                .iter()
                .filter_map(|n| desc.column_index(n))
                .collect();
        }
    }
    if pk {
        if let Some(j) = desc.column_index(new.name) {
            desc.primary_key = vec![j];
        }
    }
    Ok(())
}

/// Where a column goes: FIRST, AFTER x, or at the end.
fn position(desc: &TableDesc, pos: Option<&MySQLColumnPosition>) -> Result<usize, String> {
    match pos {
        None => Ok(desc.columns.len()),
        Some(MySQLColumnPosition::First) => Ok(0),
        Some(MySQLColumnPosition::After(c)) => desc
            .column_index(&c.value)
            .map(|i| i + 1)
            .ok_or_else(|| format!("AFTER unknown column `{}` in {}", c.value, desc.full_name())),
    }
}

/// Inserts `col` at index `at`, shifting the key indexes after it.
fn insert_column(desc: &mut TableDesc, at: usize, col: ColumnDesc) {
    for k in &mut desc.primary_key {
        if *k >= at {
            *k += 1;
        }
    }
    desc.columns.insert(at, col);
}

/// Removes column `i`, dropping it from the key and shifting the key indexes after it.
fn remove_column(desc: &mut TableDesc, i: usize) {
    desc.columns.remove(i);
    desc.primary_key.retain(|&k| k != i);
    for k in &mut desc.primary_key {
        if *k > i {
            *k -= 1;
        }
    }
}

/// `ALTER TABLE t CONVERT TO CHARACTER SET x [COLLATE y]`, which sqlparser does not parse:
/// every text column takes the new charset. `None` when the statement is not of this form.
pub(super) fn convert_to_charset(
    catalog: &mut Catalog,
    sql: &str,
    default_db: &str,
) -> Option<Result<Vec<Arc<TableDesc>>, String>> {
    let up = sql.to_ascii_uppercase();
    let at = up.find("CONVERT TO")?;
    if !up.trim_start().starts_with("ALTER") {
        return None;
    }
    let cs = charset_clause(&sql[at..])?;
    let cs_name = super::charset::charset_name_of(&sql[at..]);
    let head = &sql[..at];
    let tokens: Vec<&str> = head.split_whitespace().collect();
    let ti = tokens
        .iter()
        .position(|t| t.eq_ignore_ascii_case("TABLE"))?;
    let name = tokens.get(ti + 1)?;
    let (db, table) = match name.split_once('.') {
        Some((d, t)) => (unquote(d).to_string(), unquote(t).to_string()),
        None => (default_db.to_string(), unquote(name).to_string()),
    };
    let Some(old) = catalog.get(&db, &table) else {
        return Some(Err(format!(
            "CONVERT TO on {db}.{table}, whose structure is unknown"
        )));
    };
    let mut desc = TableDesc::clone(old);
    for c in &mut desc.columns {
        if c.kind.has_charset() && !c.charset.is_binary() {
            c.charset = cs;
            if c.ddl.charset_name.is_some() {
                c.ddl.charset_name = cs_name.clone();
            }
        }
    }
    if cs_name.is_some() {
        desc.charset_name = cs_name;
    }
    Some(Ok(vec![catalog.put(desc)]))
}

/// `ALTER TABLE t [DEFAULT] CHARSET = x`, `COLLATE = y`, `COMMENT = '…'` and other table
/// options alone (no column or key change): the table's comment changes (its charset name
/// stays, as in Debezium's description). `None` when the statement is anything else.
pub(super) fn table_options_only(
    catalog: &mut Catalog,
    sql: &str,
    default_db: &str,
) -> Option<Result<Vec<Arc<TableDesc>>, String>> {
    static ALTER: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    static OPTION: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let alter = ALTER.get_or_init(|| {
        regex::Regex::new(r"(?is)^\s*ALTER\s+(?:ONLINE\s+|IGNORE\s+)*TABLE\s+(`[^`]+`(?:\.`[^`]+`)?|[^\s`]+)\s+(.*?)\s*;?\s*$")
            .expect("valid regex")
    });
    let option = OPTION.get_or_init(|| {
        regex::Regex::new(
            r"(?is)^\s*,?\s*(?:DEFAULT\s+)?(?:(?:CHARACTER\s+SET|CHARSET|COLLATE)\s*=?\s*[A-Za-z0-9_]+|(COMMENT)\s*=?\s*'((?:[^'\\]|\\.|'')*)'|(?:ENGINE|AUTO_INCREMENT|ROW_FORMAT|KEY_BLOCK_SIZE|STATS_PERSISTENT|PAGE_COMPRESSED)\s*=?\s*[A-Za-z0-9_]+)",
        )
        .expect("valid regex")
    });
    let caps = alter.captures(sql)?;
    let (mut rest, mut comment) = (caps.get(2)?.as_str(), None);
    while !rest.trim().is_empty() {
        let m = option.captures(rest)?;
        if let (Some(_), Some(text)) = (m.get(1), m.get(2)) {
            comment = Some(text.as_str().replace("''", "'").replace("\\'", "'"));
        }
        rest = &rest[m.get(0)?.end()..];
    }
    let name = caps.get(1)?.as_str();
    let (db, table) = match name.split_once("`.`") {
        Some((d, t)) => (unquote(d).to_string(), unquote(t).to_string()),
        None => match name.split_once('.') {
            Some((d, t)) if !name.starts_with('`') => (d.to_string(), t.to_string()),
            _ => (default_db.to_string(), unquote(name).to_string()),
        },
    };
    let Some(old) = catalog.get(&db, &table) else {
        return Some(Err(format!(
            "ALTER TABLE on {db}.{table}, whose structure is unknown"
        )));
    };
    let mut desc = TableDesc::clone(old);
    // Debezium's DDL parser keeps the table's default charset through `ALTER TABLE …
    // DEFAULT CHARSET=` (columns added later inherit the old one in its `tableChanges`);
    // so does this description, which only follows what Debezium reports.
    if comment.is_some() {
        desc.comment = comment;
    }
    Some(Ok(vec![catalog.put(desc)]))
}
