//! CREATE TABLE: a new table from its column list and key, or a copy of another table
//! (`CREATE TABLE … LIKE`).

use std::sync::Arc;

use sqlparser::ast::{CreateTable, TableConstraint};

use super::charset::table_charset;
use super::column::column;
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
    let mut desc = TableDesc {
        db,
        name,
        columns: Vec::with_capacity(ct.columns.len()),
        primary_key: vec![],
    };
    for cd in &ct.columns {
        let (col, pk) = column(cd, table_cs)?;
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
