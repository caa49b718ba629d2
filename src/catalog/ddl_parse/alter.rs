//! ALTER TABLE: column changes (ADD/DROP/MODIFY/CHANGE/RENAME COLUMN with FIRST/AFTER,
//! ALTER COLUMN SET/DROP DEFAULT), the primary key, RENAME TO, and CONVERT TO CHARACTER SET
//! (read from the text, as sqlparser does not parse it). Each statement is applied to a copy
//! of the table, which replaces the catalog's only when every operation succeeded.

use std::sync::Arc;

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, DataType,
    MySQLColumnPosition, ObjectName, TableConstraint,
};

use super::charset::charset_clause;
use super::column::column;
use super::defaults::default_of;
use super::{qualified, set_primary_key, unquote};
use crate::model::{Catalog, Charset, ColumnDesc, ColumnKind, TableDesc};

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
    let table_cs = desc
        .columns
        .iter()
        .find(|c| {
            matches!(
                c.kind,
                ColumnKind::Char { .. } | ColumnKind::VarChar { .. } | ColumnKind::Blob { .. }
            ) && !c.charset.is_binary()
        })
        .map(|c| c.charset);
    let mut renamed_to = None;
    for op in ops {
        match op {
            AlterTableOperation::AddColumn {
                column_def,
                column_position,
                ..
            } => {
                let (col, pk) = column(column_def, table_cs)?;
                if desc.column_index(&col.name).is_some() {
                    return Err(format!(
                        "column `{}` already exists in {db}.{table}",
                        col.name
                    ));
                }
                let at = position(&desc, column_position.as_ref())?;
                insert_column(&mut desc, at, col);
                if pk {
                    desc.primary_key = vec![at];
                }
            }
            AlterTableOperation::DropColumn {
                column_names,
                if_exists,
                ..
            } => {
                for n in column_names {
                    match desc.column_index(&n.value) {
                        Some(i) => remove_column(&mut desc, i),
                        None if *if_exists => {}
                        None => return Err(format!("no column `{}` in {db}.{table}", n.value)),
                    }
                }
            }
            AlterTableOperation::ModifyColumn {
                col_name,
                data_type,
                options,
                column_position,
            } => {
                replace_column(
                    &mut desc,
                    &col_name.value,
                    &col_name.value,
                    data_type,
                    options,
                    column_position.as_ref(),
                    table_cs,
                )?;
            }
            AlterTableOperation::ChangeColumn {
                old_name,
                new_name,
                data_type,
                options,
                column_position,
            } => {
                replace_column(
                    &mut desc,
                    &old_name.value,
                    &new_name.value,
                    data_type,
                    options,
                    column_position.as_ref(),
                    table_cs,
                )?;
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                let i = desc.column_index(&old_column_name.value).ok_or_else(|| {
                    format!("no column `{}` in {db}.{table}", old_column_name.value)
                })?;
                desc.columns[i].name = new_column_name.value.clone();
            }
            AlterTableOperation::AddConstraint {
                constraint: TableConstraint::PrimaryKey { columns, .. },
                ..
            } => {
                let names: Vec<String> =
                    columns.iter().map(|c| c.column.expr.to_string()).collect();
                set_primary_key(&mut desc, &names)?;
            }
            AlterTableOperation::AlterColumn { column_name, op } => {
                let i = desc
                    .column_index(&column_name.value)
                    .ok_or_else(|| format!("no column `{}` in {db}.{table}", column_name.value))?;
                match op {
                    AlterColumnOperation::SetDefault { value } => {
                        desc.columns[i].default = Some(default_of(value))
                    }
                    AlterColumnOperation::DropDefault => desc.columns[i].default = None,
                    AlterColumnOperation::SetNotNull => desc.columns[i].nullable = false,
                    AlterColumnOperation::DropNotNull => desc.columns[i].nullable = true,
                    _ => {}
                }
            }
            AlterTableOperation::DropPrimaryKey => desc.primary_key.clear(),
            AlterTableOperation::RenameTable { table_name } => {
                renamed_to = Some(qualified(table_name, &db));
            }
            // Indexes, constraints other than the primary key, options, algorithm, lock,
            // partitions: no effect on the row layout.
            _ => {}
        }
    }
    if let Some((nd, nt)) = renamed_to {
        catalog.remove(&db, &table);
        desc.db = nd;
        desc.name = nt;
    }
    Ok(catalog.put(desc))
}

/// MODIFY / CHANGE: replaces column `old` by `new`, moving it when a position is given and
/// keeping the primary key on the same columns.
#[allow(clippy::too_many_arguments)]
fn replace_column(
    desc: &mut TableDesc,
    old: &str,
    new: &str,
    data_type: &DataType,
    options: &[ColumnOption],
    pos: Option<&MySQLColumnPosition>,
    table_cs: Option<Charset>,
) -> Result<(), String> {
    let i = desc
        .column_index(old)
        .ok_or_else(|| format!("no column `{old}` in {}", desc.full_name()))?;
    let cd = ColumnDef {
        name: sqlparser::ast::Ident::new(new),
        data_type: data_type.clone(),
        options: options
            .iter()
            .map(|o| sqlparser::ast::ColumnOptionDef {
                name: None,
                option: o.clone(),
            })
            .collect(),
    };
    let (mut col, pk) = column(&cd, table_cs)?;
    let was_key = desc.primary_key.contains(&i);
    if was_key {
        col.nullable = false;
    }
    match pos {
        None => desc.columns[i] = col,
        Some(p) => {
            let key_names: Vec<String> = desc
                .primary_key
                .iter()
                .map(|&k| {
                    if k == i {
                        new.to_string()
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
        if let Some(j) = desc.column_index(new) {
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
        let text = matches!(
            c.kind,
            ColumnKind::Char { .. }
                | ColumnKind::VarChar { .. }
                | ColumnKind::Blob { .. }
                | ColumnKind::Enum { .. }
                | ColumnKind::Set { .. }
        );
        if text && !c.charset.is_binary() {
            c.charset = cs;
        }
    }
    Some(Ok(vec![catalog.put(desc)]))
}
