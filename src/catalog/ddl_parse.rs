//! Applying CREATE TABLE / ALTER TABLE statements to the catalog with sqlparser's MySQL
//! dialect, for servers that log MINIMAL table metadata.

use std::sync::Arc;

use super::{Catalog, TableDesc};

/// Parses `sql` and applies it to `catalog`; returns the tables it defined or changed.
pub fn apply_statement(
    _catalog: &mut Catalog,
    sql: &str,
    _default_db: &str,
) -> Result<Vec<Arc<TableDesc>>, String> {
    Err(format!("DDL not applied: {}", sql.chars().take(60).collect::<String>()))
}
