//! DDL seen in QUERY events: which statement it is and which tables it touches
//! ([`classify`], a tolerant tokenizer that never fails), and how it changes the catalog
//! ([`apply`], for servers that log MINIMAL table metadata).
//!
//! Classification is deliberately forgiving: an unusual statement on an uncaptured table must
//! never stop the engine, so anything not understood is `Other` and ignored.

use std::sync::Arc;

use crate::model::{Catalog, TableDesc};

/// The statement kinds the engine reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DdlKind {
    CreateTable,
    AlterTable,
    DropTable,
    RenameTable,
    TruncateTable,
    CreateIndex,
    DropIndex,
    CreateDatabase,
    DropDatabase,
    AlterDatabase,
    Other,
}

impl DdlKind {
    /// Debezium's `tableChanges[].type`.
    pub fn change_type(self) -> &'static str {
        match self {
            DdlKind::CreateTable | DdlKind::CreateDatabase => "CREATE",
            DdlKind::DropTable | DdlKind::DropDatabase => "DROP",
            _ => "ALTER",
        }
    }
}

/// What a statement is and what it touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdlInfo {
    pub kind: DdlKind,
    /// The database the statement applies to (its own, or the session's default).
    pub database: String,
    /// `(db, table)` pairs touched; for RENAME, old and new names alternate.
    pub tables: Vec<(String, String)>,
}

/// Splits SQL into identifier-ish tokens, dropping comments and string literals, keeping
/// backquoted names whole and `.` / `,` / `(` as their own tokens.
fn tokens(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b: Vec<char> = sql.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && b.get(i + 1) == Some(&'-') || c == '#' {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            // `/*!50001 … */` executable comments hold real SQL: keep their body.
            if b.get(i + 2) == Some(&'!') {
                i += 3;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                continue;
            }
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '*' && b.get(i + 1) == Some(&'/') {
            i += 2;
        } else if c == '`' || c == '"' {
            let q = c;
            let mut s = String::new();
            i += 1;
            while i < b.len() {
                if b[i] == q {
                    if b.get(i + 1) == Some(&q) {
                        s.push(q);
                        i += 2;
                        continue;
                    }
                    break;
                }
                s.push(b[i]);
                i += 1;
            }
            i += 1;
            out.push(format!("`{s}"));
        } else if c == '\'' {
            i += 1;
            while i < b.len() {
                if b[i] == '\\' {
                    i += 2;
                    continue;
                }
                if b[i] == '\'' {
                    if b.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            out.push("'".into());
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let mut s = String::new();
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '$') {
                s.push(b[i]);
                i += 1;
            }
            out.push(s);
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

/// Whether token `t` is the keyword `kw` (a backquoted name never is).
fn is_kw(t: Option<&String>, kw: &str) -> bool {
    t.is_some_and(|t| !t.starts_with('`') && t.eq_ignore_ascii_case(kw))
}

/// A name token without the mark `tokens` puts on quoted names.
fn ident(t: &str) -> String {
    t.strip_prefix('`').unwrap_or(t).to_string()
}

/// Reads `[db.]name` at `i`; returns the pair and the index after it.
fn qualified(toks: &[String], i: usize, default_db: &str) -> Option<((String, String), usize)> {
    let first = toks.get(i)?;
    if first.len() == 1 && !first.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    if toks.get(i + 1).map(String::as_str) == Some(".") {
        let second = toks.get(i + 2)?;
        Some(((ident(first), ident(second)), i + 3))
    } else {
        Some(((default_db.to_string(), ident(first)), i + 1))
    }
}

/// The tokens of one statement and the session's default database, read by position.
struct Toks<'a> {
    toks: &'a [String],
    default_db: &'a str,
}

impl Toks<'_> {
    /// Whether token `i` is the (unquoted) keyword `k`.
    fn kw(&self, i: usize, k: &str) -> bool {
        is_kw(self.toks.get(i), k)
    }

    /// The index after an optional `IF [NOT] EXISTS` at `i`.
    fn skip_if_exists(&self, mut i: usize) -> usize {
        if self.kw(i, "IF") {
            i += 1;
            if self.kw(i, "NOT") {
                i += 1;
            }
            if self.kw(i, "EXISTS") {
                i += 1;
            }
        }
        i
    }

    /// Reads `[db.]name` at `i`; returns the pair and the index after it.
    fn name(&self, i: usize) -> Option<((String, String), usize)> {
        qualified(self.toks, i, self.default_db)
    }

    /// The table after the first `ON` from `i` on (`… INDEX name ON tbl`).
    fn table_after_on(&self, mut i: usize) -> Option<(String, String)> {
        while i < self.toks.len() && !self.kw(i, "ON") {
            i += 1;
        }
        self.name(i + 1).map(|(t, _)| t)
    }

    /// Whether token `i` is a comma.
    fn comma(&self, i: usize) -> bool {
        self.toks.get(i).map(String::as_str) == Some(",")
    }
}

/// A statement of `kind` on one table.
fn on_table(kind: DdlKind, t: (String, String)) -> DdlInfo {
    DdlInfo {
        kind,
        database: t.0.clone(),
        tables: vec![t],
    }
}

/// A statement of `kind` on several tables; its database is the first table's.
fn on_tables(kind: DdlKind, tables: Vec<(String, String)>) -> DdlInfo {
    DdlInfo {
        kind,
        database: tables[0].0.clone(),
        tables,
    }
}

/// A statement of `kind` on a database named by token `db`.
fn on_database(kind: DdlKind, db: &str) -> DdlInfo {
    DdlInfo {
        kind,
        database: ident(db),
        tables: vec![],
    }
}

/// Classifies a statement. Never fails: unknown statements are `Other`.
pub fn classify(sql: &str, default_db: &str) -> DdlInfo {
    let toks = tokens(sql);
    let t = Toks {
        toks: &toks,
        default_db,
    };
    let found = if t.kw(0, "CREATE") {
        classify_create(&t)
    } else if t.kw(0, "ALTER") {
        classify_alter(&t)
    } else if t.kw(0, "DROP") {
        classify_drop(&t)
    } else if t.kw(0, "RENAME") && (t.kw(1, "TABLE") || t.kw(1, "TABLES")) {
        classify_rename(&t)
    } else if t.kw(0, "TRUNCATE") {
        let j = if t.kw(1, "TABLE") { 2 } else { 1 };
        t.name(j)
            .map(|(tb, _)| on_table(DdlKind::TruncateTable, tb))
    } else {
        None
    };
    found.unwrap_or_else(|| DdlInfo {
        kind: DdlKind::Other,
        database: default_db.to_string(),
        tables: vec![],
    })
}

/// `CREATE [OR REPLACE] TABLE | DATABASE | SCHEMA | [UNIQUE…] INDEX`; `None` otherwise.
fn classify_create(t: &Toks<'_>) -> Option<DdlInfo> {
    let mut i = 1;
    if t.kw(i, "OR") && t.kw(i + 1, "REPLACE") {
        i += 2;
    }
    if t.kw(i, "TEMPORARY") {
        return None; // temporary tables are not logged as row changes
    }
    while t.kw(i, "ONLINE") || t.kw(i, "OFFLINE") {
        i += 1;
    }
    if t.kw(i, "TABLE") {
        let j = t.skip_if_exists(i + 1);
        return t.name(j).map(|(tb, _)| on_table(DdlKind::CreateTable, tb));
    }
    if t.kw(i, "DATABASE") || t.kw(i, "SCHEMA") {
        let j = t.skip_if_exists(i + 1);
        return t
            .toks
            .get(j)
            .map(|db| on_database(DdlKind::CreateDatabase, db));
    }
    // CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX name ON tbl
    let mut j = i;
    while t.kw(j, "UNIQUE") || t.kw(j, "FULLTEXT") || t.kw(j, "SPATIAL") {
        j += 1;
    }
    index_on(t, j, DdlKind::CreateIndex)
}

/// `ALTER TABLE` (a RENAME in it makes it `RenameTable`) and `ALTER DATABASE | SCHEMA`.
fn classify_alter(t: &Toks<'_>) -> Option<DdlInfo> {
    let mut j = 1;
    while t.kw(j, "ONLINE") || t.kw(j, "IGNORE") || t.kw(j, "OFFLINE") {
        j += 1;
    }
    if t.kw(j, "TABLE") {
        let k = t.skip_if_exists(j + 1);
        let (tb, next) = t.name(k)?;
        let mut tables = vec![tb];
        tables.extend(alter_rename_target(t, next));
        let kind = if tables.len() > 1 {
            DdlKind::RenameTable
        } else {
            DdlKind::AlterTable
        };
        return Some(on_tables(kind, tables));
    }
    if t.kw(j, "DATABASE") || t.kw(j, "SCHEMA") {
        let db = t
            .toks
            .get(j + 1)
            .filter(|tok| {
                !is_kw(Some(tok), "CHARACTER")
                    && !is_kw(Some(tok), "DEFAULT")
                    && !is_kw(Some(tok), "COLLATE")
            })
            .map(|tok| ident(tok))
            .unwrap_or_else(|| t.default_db.to_string());
        return Some(DdlInfo {
            kind: DdlKind::AlterDatabase,
            database: db,
            tables: vec![],
        });
    }
    None
}

/// The new name in `ALTER TABLE a … RENAME [TO|AS] b` (not RENAME COLUMN/INDEX/KEY), looked
/// for from token `from` on.
fn alter_rename_target(t: &Toks<'_>, from: usize) -> Option<(String, String)> {
    let m = (from..t.toks.len()).find(|&m| {
        t.kw(m, "RENAME") && !t.kw(m + 1, "COLUMN") && !t.kw(m + 1, "INDEX") && !t.kw(m + 1, "KEY")
    })?;
    let mut n = m + 1;
    if t.kw(n, "TO") || t.kw(n, "AS") {
        n += 1;
    }
    t.name(n).map(|(nt, _)| nt)
}

/// `DROP TABLE[S] a, b`, `DROP DATABASE | SCHEMA`, `DROP INDEX i ON t`; `None` otherwise.
fn classify_drop(t: &Toks<'_>) -> Option<DdlInfo> {
    let mut j = 1;
    if t.kw(j, "TEMPORARY") {
        return None;
    }
    if t.kw(j, "TABLE") || t.kw(j, "TABLES") {
        j = t.skip_if_exists(j + 1);
        let mut tables = Vec::new();
        while let Some((tb, next)) = t.name(j) {
            tables.push(tb);
            if t.comma(next) {
                j = next + 1;
            } else {
                break;
            }
        }
        return (!tables.is_empty()).then(|| on_tables(DdlKind::DropTable, tables));
    }
    if t.kw(j, "DATABASE") || t.kw(j, "SCHEMA") {
        j = t.skip_if_exists(j + 1);
        if let Some(db) = t.toks.get(j) {
            return Some(on_database(DdlKind::DropDatabase, db));
        }
    }
    index_on(t, j, DdlKind::DropIndex)
}

/// `INDEX name ON tbl` at token `i`: a statement of `kind` on `tbl`; `None` otherwise.
fn index_on(t: &Toks<'_>, i: usize, kind: DdlKind) -> Option<DdlInfo> {
    if !t.kw(i, "INDEX") {
        return None;
    }
    t.table_after_on(i + 1).map(|tb| on_table(kind, tb))
}

/// `RENAME TABLE a TO b[, c TO d …]`: old and new names alternate; `None` when none parse.
fn classify_rename(t: &Toks<'_>) -> Option<DdlInfo> {
    let mut j = 2;
    let mut tables = Vec::new();
    while let Some((from, next)) = t.name(j) {
        if !t.kw(next, "TO") {
            break;
        }
        let Some((to, after)) = t.name(next + 1) else {
            break;
        };
        tables.push(from);
        tables.push(to);
        if t.comma(after) {
            j = after + 1;
        } else {
            break;
        }
    }
    (!tables.is_empty()).then(|| on_tables(DdlKind::RenameTable, tables))
}

/// Applies a classified statement to the catalog and returns the touched tables' structures
/// after it (for the schema-change event's `tableChanges`), as far as they are known.
///
/// `Err` carries the parser's reason when a CREATE/ALTER TABLE cannot be applied; the
/// catalog is then unchanged (the old structure stays) and the caller decides what that
/// means: with MINIMAL row metadata it is an error naming the statement, with FULL metadata
/// (the table map describes every row) a warning.
pub fn apply(
    catalog: &mut Catalog,
    info: &DdlInfo,
    sql: &str,
    default_db: &str,
) -> Result<Vec<Arc<TableDesc>>, String> {
    Ok(match info.kind {
        DdlKind::DropTable => {
            for (d, t) in &info.tables {
                catalog.remove(d, t);
            }
            vec![]
        }
        DdlKind::DropDatabase => {
            catalog.drop_database(&info.database);
            vec![]
        }
        DdlKind::CreateDatabase | DdlKind::AlterDatabase => {
            if let Some(cs) = super::ddl_parse::charset_name_of(sql) {
                catalog.set_charset(&info.database, &cs);
            }
            vec![]
        }
        DdlKind::RenameTable => {
            let mut out = Vec::new();
            for pair in info.tables.chunks(2) {
                if let [(fd, ft), (td, tt)] = pair {
                    if let Some(old) = catalog.remove(fd, ft) {
                        let mut desc = TableDesc::clone(&old);
                        desc.db = td.clone();
                        desc.name = tt.clone();
                        out.push(catalog.put(desc));
                    }
                }
            }
            out
        }
        DdlKind::CreateTable | DdlKind::AlterTable => {
            super::ddl_parse::apply_statement(catalog, sql, default_db)?
        }
        _ => info
            .tables
            .iter()
            .filter_map(|(d, t)| catalog.get(d, t).cloned())
            .collect(),
    })
}

/// Completes a description read from `information_schema` with what the table's DDL (its
/// `SHOW CREATE TABLE`, parsed into `from`) says beyond decoding: each column's declared
/// type, width, charset name, comment and AUTO_INCREMENT (by name), and the table's
/// default charset and comment.
pub fn carry_ddl(desc: &mut TableDesc, from: &TableDesc) {
    for c in desc.columns.iter_mut() {
        if let Some(k) = from
            .columns
            .iter()
            .find(|k| k.name.eq_ignore_ascii_case(&c.name))
        {
            c.ddl = k.ddl.clone();
        }
    }
    desc.charset_name = from.charset_name.clone();
    desc.comment = from.comment.clone();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(sql: &str) -> (DdlKind, Vec<(String, String)>) {
        let i = classify(sql, "shop");
        (i.kind, i.tables)
    }

    fn t(d: &str, n: &str) -> (String, String) {
        (d.into(), n.into())
    }

    #[test]
    fn classifies_common_statements() {
        assert_eq!(
            c("CREATE TABLE `a` (id int)"),
            (DdlKind::CreateTable, vec![t("shop", "a")])
        );
        assert_eq!(
            c("create table if not exists other.`b c` (id int)"),
            (DdlKind::CreateTable, vec![t("other", "b c")])
        );
        assert_eq!(
            c("ALTER TABLE a ADD COLUMN x int"),
            (DdlKind::AlterTable, vec![t("shop", "a")])
        );
        assert_eq!(
            c("ALTER TABLE a RENAME TO b"),
            (DdlKind::RenameTable, vec![t("shop", "a"), t("shop", "b")])
        );
        assert_eq!(
            c("ALTER TABLE a RENAME COLUMN x TO y"),
            (DdlKind::AlterTable, vec![t("shop", "a")])
        );
        assert_eq!(
            c("DROP TABLE IF EXISTS `a`, s2.b /* generated by server */"),
            (DdlKind::DropTable, vec![t("shop", "a"), t("s2", "b")])
        );
        assert_eq!(
            c("RENAME TABLE a TO _a_old, _a_new TO a"),
            (
                DdlKind::RenameTable,
                vec![
                    t("shop", "a"),
                    t("shop", "_a_old"),
                    t("shop", "_a_new"),
                    t("shop", "a")
                ]
            )
        );
        assert_eq!(c("TRUNCATE TABLE a").0, DdlKind::TruncateTable);
        assert_eq!(c("CREATE UNIQUE INDEX i ON a (x)").0, DdlKind::CreateIndex);
        assert_eq!(c("CREATE DATABASE x").0, DdlKind::CreateDatabase);
        assert_eq!(c("GRANT ALL ON *.* TO x").0, DdlKind::Other);
        assert_eq!(c("ALTER USER 'x'@'%' IDENTIFIED BY 'y'").0, DdlKind::Other);
        assert_eq!(c("CREATE TEMPORARY TABLE t (id int)").0, DdlKind::Other);
        assert_eq!(
            c("# comment\nCREATE TABLE a (s varchar(3) default 'a;b')").0,
            DdlKind::CreateTable
        );
    }
}
