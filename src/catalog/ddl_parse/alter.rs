//! ALTER TABLE: the statement, and the column changes its operations make (see `alter_ops`
//! for reading each operation). Each statement is applied to a copy of the table, which
//! replaces the catalog's only when every operation succeeded.

use std::sync::Arc;

use super::charset::charset_of;
use super::column::{ColumnDef, Inherited};
use super::cursor::Cursor;
use super::lexer::SqlMode;
use super::unique::{add_hash_columns, hash_columns, hidden_tail, UniqueKey};
use super::{has_implicit_period, implicit_period_columns};
use crate::model::{Catalog, Charset, ColumnKind, TableDesc};

/// Where a column goes: at the end, first, or after a named column.
pub(super) enum Position {
    End,
    First,
    After(String),
}

/// An ALTER TABLE statement being applied: the table's new structure so far and what the
/// operations asked for that is settled at the end.
pub(super) struct Alter {
    pub desc: TableDesc,
    pub mode: SqlMode,
    /// The charset new text columns take (the table's default, else the database's).
    pub inherited_cs: Option<Charset>,
    pub inherited_name: Option<String>,
    /// The database's (or server's) default charset, for `CONVERT TO CHARACTER SET DEFAULT`.
    pub db_charset: Option<String>,
    pub renamed_to: Option<(String, String)>,
    /// The session's default database: an unqualified `RENAME TO b`, `CONVERT PARTITION p
    /// TO TABLE b` or `CONVERT TABLE b` names a table there, not in the altered table's.
    pub default_db: String,
    /// The statement declares period columns (`AS ROW START/END`, `PERIOD FOR SYSTEM_TIME`).
    pub explicit_period: bool,
    pub add_versioning: bool,
    pub drop_versioning: bool,
    /// Tables made from a partition (`CONVERT PARTITION p TO TABLE t`): copies of this one.
    pub split_off: Vec<(String, String)>,
    /// Tables that become a partition of this one (`CONVERT TABLE t TO PARTITION p`).
    pub merged: Vec<(String, String)>,
    /// Each column's name before the statement (`None` for columns it added): CHANGE,
    /// MODIFY, DROP, RENAME COLUMN and ALTER COLUMN name the table's columns as they were,
    /// so `CHANGE a b INT, CHANGE b a INT` swaps two names.
    pub orig: Vec<Option<String>>,
    /// UNIQUE keys the statement adds (long ones get a hidden hash column at the end).
    pub uniques: Vec<UniqueKey>,
}

impl Alter {
    pub fn inherited(&self) -> Inherited<'_> {
        Inherited {
            cs: self.inherited_cs,
            name: self.inherited_name.as_deref(),
        }
    }

    /// The index of the column the statement calls `name`: a column of the table as it was
    /// before the statement (else one of its current names); `Err` when there is none.
    pub fn column(&self, name: &str) -> Result<usize, String> {
        self.find(name)
            .ok_or_else(|| format!("no column `{name}` in {}", self.desc.full_name()))
    }

    /// [`Alter::column`], `None` when there is no such column.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.orig
            .iter()
            .position(|o| o.as_deref().is_some_and(|o| o.eq_ignore_ascii_case(name)))
            .or_else(|| self.desc.column_index(name))
    }

    /// The index a column goes to.
    pub fn index_of(&self, pos: &Position) -> Result<usize, String> {
        match pos {
            // New columns go before the implicit period columns and the hidden hash
            // columns, which stay last.
            Position::End => Ok(hidden_tail(&self.desc)),
            Position::First => Ok(0),
            Position::After(c) => {
                self.desc.column_index(c).map(|i| i + 1).ok_or_else(|| {
                    format!("AFTER unknown column `{c}` in {}", self.desc.full_name())
                })
            }
        }
    }

    /// `ADD` one column; `Err` when it exists already, unless `if_not_exists`.
    pub fn add_column(
        &mut self,
        def: ColumnDef,
        pos: &Position,
        if_not_exists: bool,
    ) -> Result<(), String> {
        if self.desc.column_index(&def.desc.name).is_some() {
            if if_not_exists {
                return Ok(());
            }
            return Err(format!(
                "column `{}` already exists in {}",
                def.desc.name,
                self.desc.full_name()
            ));
        }
        self.explicit_period |= def.row_period.is_some();
        if def.unique {
            self.uniques.push(UniqueKey {
                parts: vec![(def.desc.name.clone(), None)],
                ..UniqueKey::default()
            });
        }
        let at = self.index_of(pos)?;
        for k in &mut self.desc.primary_key {
            if *k >= at {
                *k += 1;
            }
        }
        self.desc.columns.insert(at, def.desc);
        self.orig.insert(at, None);
        if def.pk {
            self.desc.primary_key = vec![at];
        }
        Ok(())
    }

    /// Removes column `i`, dropping it from the key and shifting the key indexes after it.
    pub fn remove_column(&mut self, i: usize) {
        self.orig.remove(i);
        let desc = &mut self.desc;
        desc.columns.remove(i);
        desc.primary_key.retain(|&k| k != i);
        for k in &mut desc.primary_key {
            if *k > i {
                *k -= 1;
            }
        }
    }

    /// MODIFY / CHANGE: replaces column `old` by `def`, moving it when a position is given
    /// and keeping the primary key on the same columns.
    pub fn replace_column(
        &mut self,
        old: &str,
        def: ColumnDef,
        pos: &Position,
    ) -> Result<(), String> {
        let i = self.column(old)?;
        self.explicit_period |= def.row_period.is_some();
        let mut col = def.desc;
        let new_name = col.name.clone();
        if self.desc.primary_key.contains(&i) {
            col.nullable = false;
        }
        let key_names: Vec<String> = self
            .desc
            .primary_key
            .iter()
            .map(|&k| {
                if k == i {
                    new_name.clone()
                } else {
                    self.desc.columns[k].name.clone()
                }
            })
            .collect();
        self.desc.columns.remove(i);
        let orig = self.orig.remove(i);
        let at = match pos {
            Position::End => i,
            p => self.index_of(p)?,
        };
        self.desc.columns.insert(at, col);
        self.orig.insert(at, orig);
        self.desc.primary_key = key_names
            .iter()
            .filter_map(|n| self.desc.column_index(n))
            .collect();
        if def.pk {
            if let Some(j) = self.desc.column_index(&new_name) {
                self.desc.primary_key = vec![j];
                self.desc.columns[j].nullable = false;
            }
        }
        Ok(())
    }

    /// `CONVERT TO CHARACTER SET x`: every text column takes the new charset.
    pub fn convert_to(&mut self, cs_name: Option<String>) {
        let Some(cs_name) = cs_name.or_else(|| self.db_charset.clone()) else {
            return;
        };
        let cs = charset_of(&cs_name);
        for c in &mut self.desc.columns {
            if c.kind.has_charset() && !c.charset.is_binary() {
                c.charset = cs;
                if c.ddl.charset_name.is_some() {
                    c.ddl.charset_name = Some(cs_name.clone());
                }
            }
        }
        self.desc.charset_name = Some(cs_name.clone());
        self.inherited_cs = Some(cs);
        self.inherited_name = Some(cs_name);
    }
}

/// Applies `ALTER [ONLINE] [IGNORE] TABLE [IF EXISTS] t op, op …` (or `ALTER SEQUENCE`)
/// after `ALTER`, all operations or none.
pub(super) fn alter(
    catalog: &mut Catalog,
    c: &mut Cursor<'_>,
    default_db: &str,
    mode: SqlMode,
) -> Result<Vec<Arc<TableDesc>>, String> {
    while c.eat_kw("ONLINE") || c.eat_kw("OFFLINE") || c.eat_kw("IGNORE") {}
    if c.eat_kw("SEQUENCE") {
        return super::sequence::alter(catalog, c, default_db);
    }
    if !c.eat_kw("TABLE") {
        return Err("not a CREATE/ALTER TABLE statement".into());
    }
    c.eat_if_exists();
    let (db, table) = c.qualified(default_db)?;
    let old = catalog
        .get(&db, &table)
        .ok_or_else(|| format!("ALTER TABLE on {db}.{table}, whose structure is unknown"))?;
    let desc = TableDesc::clone(old);
    let db_charset = catalog.charset_of(&db).map(str::to_string);
    let inherited_name = desc.charset_name.clone().or_else(|| db_charset.clone());
    let orig = desc.columns.iter().map(|c| Some(c.name.clone())).collect();
    let mut st = Alter {
        orig,
        uniques: vec![],
        inherited_cs: inherited_name
            .as_deref()
            .map(charset_of)
            .or_else(|| text_charset(&desc)),
        inherited_name,
        db_charset,
        desc,
        mode,
        renamed_to: None,
        default_db: default_db.to_string(),
        explicit_period: false,
        add_versioning: false,
        drop_versioning: false,
        split_off: vec![],
        merged: vec![],
    };
    while !c.at_end() {
        if c.eat_punct(',') {
            continue;
        }
        super::alter_ops::operation(&mut st, c)?;
    }
    Ok(finish(catalog, st, (db, table)))
}

/// Settles system versioning, the new name and the tables a partition conversion creates
/// or removes, and puts the results in the catalog.
fn finish(
    catalog: &mut Catalog,
    mut st: Alter,
    (db, table): (String, String),
) -> Vec<Arc<TableDesc>> {
    if st.drop_versioning {
        for name in ["row_end", "row_start"] {
            if let Some(i) = st.desc.column_index(name) {
                st.remove_column(i);
            }
        }
    }
    if st.add_versioning && !st.explicit_period && !has_implicit_period(&st.desc) {
        let at = st.desc.columns.len() - hash_columns(&st.desc);
        for (k, col) in implicit_period_columns().into_iter().enumerate() {
            st.desc.columns.insert(at + k, col);
        }
    }
    let uniques = std::mem::take(&mut st.uniques);
    add_hash_columns(&mut st.desc, &uniques, "", st.mode);
    let mut out = Vec::new();
    for (d, t) in &st.merged {
        catalog.remove(d, t);
    }
    for (d, t) in &st.split_off {
        let mut copy = st.desc.clone();
        copy.db = d.clone();
        copy.name = t.clone();
        out.push(catalog.put(copy));
    }
    if let Some((nd, nt)) = st.renamed_to.take() {
        catalog.remove(&db, &table);
        st.desc.db = nd;
        st.desc.name = nt;
    }
    out.insert(0, catalog.put(st.desc));
    out
}

/// The charset of the table's first non-binary CHAR/VARCHAR/TEXT column, taken as the
/// table's default for columns added without one when the table's own is not known.
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
