//! DDL seen in QUERY events: which statement it is and which tables it touches
//! ([`classify`], over the DDL reader's lexer, never fails), and how it changes the catalog
//! ([`apply`], for servers that log MINIMAL table metadata).
//!
//! Classification is deliberately forgiving: an unusual statement on an uncaptured table must
//! never stop the engine, so anything not understood is `Other` and ignored. Views, triggers,
//! routines, events, users and grants are `Other`; TEMPORARY tables are `Other` (row format
//! does not log their rows); MariaDB sequences are tables (NEXTVAL logs row events on them).

use std::sync::Arc;

use super::ddl_parse::lexer::{lex, Tok};
pub use super::ddl_parse::SqlMode;
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
    /// The session's `sql_mode` the statement was read under (and is applied under).
    pub mode: SqlMode,
}

/// A statement's tokens and the session's default database, read by position.
struct Toks<'a> {
    toks: Vec<Tok>,
    default_db: &'a str,
}

impl Toks<'_> {
    /// Whether token `i` is the (unquoted) keyword `k`.
    fn kw(&self, i: usize, k: &str) -> bool {
        matches!(self.toks.get(i), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    /// Whether token `i` is the punctuation `c`.
    fn punct(&self, i: usize, c: char) -> bool {
        self.toks.get(i) == Some(&Tok::Punct(c))
    }

    /// The name at token `i` (a word or a quoted name).
    fn ident(&self, i: usize) -> Option<String> {
        match self.toks.get(i) {
            Some(Tok::Word(w) | Tok::Name(w)) => Some(w.clone()),
            _ => None,
        }
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
        let first = self.ident(i)?;
        if self.punct(i + 1, '.') {
            let second = self.ident(i + 2)?;
            Some(((first, second), i + 3))
        } else {
            Some(((self.default_db.to_string(), first), i + 1))
        }
    }

    /// The table after the first `ON` from `i` on (`… INDEX name ON tbl`).
    fn table_after_on(&self, mut i: usize) -> Option<(String, String)> {
        while i < self.toks.len() && !self.kw(i, "ON") {
            i += 1;
        }
        self.name(i + 1).map(|(t, _)| t)
    }

    /// The index after `WAIT n` / `NOWAIT` at `i` (MariaDB's lock wait clause).
    fn skip_wait(&self, i: usize) -> usize {
        if self.kw(i, "NOWAIT") {
            i + 1
        } else if self.kw(i, "WAIT") {
            i + 2
        } else {
            i
        }
    }

    /// A comma-separated list of `[db.]name` from `i` (DROP TABLE a, b).
    fn names(&self, mut i: usize) -> Vec<(String, String)> {
        let mut out = Vec::new();
        while let Some((tb, next)) = self.name(i) {
            out.push(tb);
            if !self.punct(next, ',') {
                break;
            }
            i = next + 1;
        }
        out
    }
}

/// A statement of `kind` on one table.
fn on_table(kind: DdlKind, t: (String, String)) -> DdlInfo {
    on_tables(kind, vec![t])
}

/// A statement of `kind` on several tables; its database is the first table's.
fn on_tables(kind: DdlKind, tables: Vec<(String, String)>) -> DdlInfo {
    DdlInfo {
        kind,
        database: tables[0].0.clone(),
        tables,
        mode: SqlMode::default(),
    }
}

/// A statement of `kind` on the database named by token `i`.
fn on_database(kind: DdlKind, t: &Toks<'_>, i: usize) -> Option<DdlInfo> {
    Some(DdlInfo {
        kind,
        database: t.ident(i)?,
        tables: vec![],
        mode: SqlMode::default(),
    })
}

/// Classifies a statement under the default `sql_mode`. Never fails: unknown statements are
/// `Other`.
#[cfg(test)]
pub fn classify(sql: &str, default_db: &str) -> DdlInfo {
    classify_with(sql, default_db, SqlMode::default())
}

/// Classifies a statement read under the session's `sql_mode` (ANSI_QUOTES changes what
/// `"x"` is; NO_BACKSLASH_ESCAPES where a string ends).
pub fn classify_with(sql: &str, default_db: &str, mode: SqlMode) -> DdlInfo {
    let mut toks: Vec<Tok> = lex(sql, mode).tokens.into_iter().map(|t| t.tok).collect();
    // MariaDB's `SET STATEMENT var = value, … FOR <statement>`: the statement after FOR.
    let set_statement = |t: &[Tok], i: usize, k: &str| matches!(t.get(i), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k));
    if set_statement(&toks, 0, "SET") && set_statement(&toks, 1, "STATEMENT") {
        let mut depth = 0usize;
        let at = toks.iter().position(|t| {
            match t {
                Tok::Punct('(') => depth += 1,
                Tok::Punct(')') => depth = depth.saturating_sub(1),
                Tok::Word(w) => return depth == 0 && w.eq_ignore_ascii_case("FOR"),
                _ => {}
            }
            false
        });
        toks.drain(..at.map_or(toks.len(), |i| i + 1));
    }
    let t = Toks { toks, default_db };
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
    let mut info = found.unwrap_or_else(|| DdlInfo {
        kind: DdlKind::Other,
        database: default_db.to_string(),
        tables: vec![],
        mode,
    });
    info.mode = mode;
    info
}

/// `CREATE [OR REPLACE] TABLE | SEQUENCE | DATABASE | SCHEMA | [UNIQUE…] INDEX`; `None`
/// otherwise (views, triggers, routines, events, users, TEMPORARY tables).
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
    if t.kw(i, "TABLE") || t.kw(i, "SEQUENCE") {
        let j = t.skip_if_exists(i + 1);
        return t.name(j).map(|(tb, _)| on_table(DdlKind::CreateTable, tb));
    }
    if t.kw(i, "DATABASE") || t.kw(i, "SCHEMA") {
        let j = t.skip_if_exists(i + 1);
        return on_database(DdlKind::CreateDatabase, t, j);
    }
    // CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX name ON tbl
    let mut j = i;
    while t.kw(j, "UNIQUE") || t.kw(j, "FULLTEXT") || t.kw(j, "SPATIAL") {
        j += 1;
    }
    index_on(t, j, DdlKind::CreateIndex)
}

/// `ALTER TABLE` (`RenameTable` when it only renames), `ALTER SEQUENCE` and `ALTER DATABASE
/// | SCHEMA`.
fn classify_alter(t: &Toks<'_>) -> Option<DdlInfo> {
    let mut j = 1;
    while t.kw(j, "ONLINE") || t.kw(j, "IGNORE") || t.kw(j, "OFFLINE") {
        j += 1;
    }
    if t.kw(j, "TABLE") || t.kw(j, "SEQUENCE") {
        let k = t.skip_if_exists(j + 1);
        let (tb, next) = t.name(k)?;
        let mut tables = vec![tb];
        let (other, only_rename) = alter_other_tables(t, next);
        tables.extend(other);
        let kind = if only_rename && tables.len() > 1 {
            DdlKind::RenameTable
        } else {
            DdlKind::AlterTable
        };
        return Some(on_tables(kind, tables));
    }
    if t.kw(j, "DATABASE") || t.kw(j, "SCHEMA") {
        let named = !(t.kw(j + 1, "CHARACTER")
            || t.kw(j + 1, "CHARSET")
            || t.kw(j + 1, "DEFAULT")
            || t.kw(j + 1, "COLLATE"));
        let db = named
            .then(|| t.ident(j + 1))
            .flatten()
            .unwrap_or_else(|| t.default_db.to_string());
        return Some(DdlInfo {
            kind: DdlKind::AlterDatabase,
            database: db,
            tables: vec![],
            mode: SqlMode::default(),
        });
    }
    None
}

/// The other tables an ALTER TABLE names from token `from` on: the new name of `RENAME
/// [TO|AS] b` (not RENAME COLUMN/INDEX/KEY), and the tables of MariaDB's `CONVERT PARTITION
/// p TO TABLE t` / `CONVERT TABLE t TO PARTITION p`; and whether the statement only renames.
fn alter_other_tables(t: &Toks<'_>, from: usize) -> (Vec<(String, String)>, bool) {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut only_rename = true;
    let mut m = t.skip_wait(from);
    while m < t.toks.len() {
        if t.punct(m, '(') {
            depth += 1;
        } else if t.punct(m, ')') {
            depth = depth.saturating_sub(1);
        }
        let top = depth == 0;
        if top && t.kw(m, "RENAME") && !["COLUMN", "INDEX", "KEY"].iter().any(|k| t.kw(m + 1, k)) {
            let n = if t.kw(m + 1, "TO") || t.kw(m + 1, "AS") {
                m + 2
            } else {
                m + 1
            };
            if let Some((nt, next)) = t.name(n) {
                out.push(nt);
                m = next;
                continue;
            }
        } else if top && t.kw(m, "CONVERT") && t.kw(m + 1, "PARTITION") && t.kw(m + 3, "TO") {
            out.extend(t.name(m + 5).map(|(nt, _)| nt));
            only_rename = false;
        } else if top && t.kw(m, "CONVERT") && t.kw(m + 1, "TABLE") {
            out.extend(t.name(m + 2).map(|(nt, _)| nt));
            only_rename = false;
        } else if !(top && (t.punct(m, ',') || t.punct(m, ';'))) {
            only_rename = false;
        }
        m += 1;
    }
    (out, only_rename)
}

/// `DROP TABLE[S] | SEQUENCE a, b`, `DROP DATABASE | SCHEMA`, `DROP INDEX i ON t`; `None`
/// otherwise.
fn classify_drop(t: &Toks<'_>) -> Option<DdlInfo> {
    let mut j = 1;
    if t.kw(j, "TEMPORARY") {
        return None;
    }
    if t.kw(j, "TABLE") || t.kw(j, "TABLES") || t.kw(j, "SEQUENCE") {
        j = t.skip_if_exists(j + 1);
        let tables = t.names(j);
        return (!tables.is_empty()).then(|| on_tables(DdlKind::DropTable, tables));
    }
    if t.kw(j, "DATABASE") || t.kw(j, "SCHEMA") {
        j = t.skip_if_exists(j + 1);
        return on_database(DdlKind::DropDatabase, t, j);
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

/// `RENAME TABLE [IF EXISTS] a [WAIT n | NOWAIT] TO b[, c TO d …]`: old and new names
/// alternate; `None` when none parse.
fn classify_rename(t: &Toks<'_>) -> Option<DdlInfo> {
    let mut j = 2;
    let mut tables = Vec::new();
    loop {
        j = t.skip_if_exists(j);
        let Some((from, next)) = t.name(j) else {
            break;
        };
        let next = t.skip_wait(next);
        if !t.kw(next, "TO") {
            break;
        }
        let Some((to, after)) = t.name(next + 1) else {
            break;
        };
        tables.push(from);
        tables.push(to);
        if !t.punct(after, ',') {
            break;
        }
        j = after + 1;
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
            super::ddl_parse::apply_statement_with(catalog, sql, default_db, info.mode)?
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
/// default charset and comment. Hidden columns that `information_schema` does not list but
/// every row image carries last (a system-versioned table's implicit `row_start` /
/// `row_end`, the `DB_ROW_HASH_<n>` of MariaDB's long unique keys) are added at the end.
pub fn carry_ddl(desc: &mut TableDesc, from: &TableDesc) {
    // Hidden columns, which `information_schema` does not list but every row image carries
    // last: the implicit period columns, then the hash columns of long unique keys.
    let hidden = |c: &&crate::model::ColumnDesc| {
        c.name.starts_with("DB_ROW_HASH_")
            || (super::ddl_parse::has_implicit_period(from)
                && (c.name == "row_start" || c.name == "row_end"))
    };
    for c in from.columns.iter().filter(hidden) {
        if desc.column_index(&c.name).is_none() {
            desc.columns.push(c.clone());
        }
    }
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

    #[test]
    fn carry_ddl_adds_the_implicit_period_columns() {
        let mut cat = Catalog::default();
        let parse = |cat: &mut Catalog, sql: &str| {
            super::super::ddl_parse::apply_statement(cat, sql, "shop").unwrap()[0].clone()
        };
        let from = parse(
            &mut cat,
            "CREATE TABLE v (id INT, x INT) WITH SYSTEM VERSIONING",
        );
        let mut desc = TableDesc::clone(&parse(&mut cat, "CREATE TABLE i (id INT, x INT)"));
        carry_ddl(&mut desc, &from);
        let names: Vec<&str> = desc.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["id", "x", "row_start", "row_end"]);
        carry_ddl(&mut desc, &from);
        assert_eq!(desc.columns.len(), 4, "added once");
    }

    #[test]
    fn classifies_forms_of_real_servers() {
        let create = |d: &str, n: &str| (DdlKind::CreateTable, vec![t(d, n)]);
        assert_eq!(c("CREATE OR REPLACE TABLE x (id int)"), create("shop", "x"));
        assert_eq!(c("/*!40101 SET NAMES utf8 */").0, DdlKind::Other);
        assert_eq!(
            c("CREATE TABLE /*!32312 IF NOT EXISTS*/ `a b`.`\u{8868}` (id int)"),
            create("a b", "\u{8868}")
        );
        assert_eq!(c("CREATE SEQUENCE s1"), create("shop", "s1"));
        assert_eq!(
            c("CREATE OR REPLACE SEQUENCE IF NOT EXISTS o.s1 START WITH 5"),
            create("o", "s1")
        );
        assert_eq!(c("ALTER SEQUENCE s1 RESTART").0, DdlKind::AlterTable);
        assert_eq!(
            c("DROP SEQUENCE IF EXISTS s1, o.s2"),
            (DdlKind::DropTable, vec![t("shop", "s1"), t("o", "s2")])
        );
        assert_eq!(c("DROP TEMPORARY SEQUENCE s1").0, DdlKind::Other);
        assert_eq!(
            c("CREATE OR REPLACE TEMPORARY TABLE x (id int)").0,
            DdlKind::Other
        );
        assert_eq!(c("DROP TEMPORARY TABLE IF EXISTS x").0, DdlKind::Other);
        assert_eq!(
            c("RENAME TABLE IF EXISTS a WAIT 3 TO o.b, `c d` TO e"),
            (
                DdlKind::RenameTable,
                vec![
                    t("shop", "a"),
                    t("o", "b"),
                    t("shop", "c d"),
                    t("shop", "e")
                ]
            )
        );
        assert_eq!(
            c("ALTER TABLE a ADD x INT, RENAME TO b"),
            (DdlKind::AlterTable, vec![t("shop", "a"), t("shop", "b")])
        );
        assert_eq!(
            c("ALTER TABLE a CONVERT PARTITION p1 TO TABLE o.archive"),
            (DdlKind::AlterTable, vec![t("shop", "a"), t("o", "archive")])
        );
        assert_eq!(
            c("ALTER TABLE a RENAME INDEX i TO j").0,
            DdlKind::AlterTable
        );
        assert_eq!(c("ALTER TABLE o.x DROP y").1, vec![t("o", "x")]);
        assert_eq!(
            c("SET STATEMENT max_statement_time = 60 FOR CREATE TABLE some_table (val INT)"),
            create("shop", "some_table")
        );
        assert_eq!(c("SET STATEMENT x = 1 FOR").0, DdlKind::Other);
        assert_eq!(
            c("DROP TABLE a, o.b RESTRICT"),
            (DdlKind::DropTable, vec![t("shop", "a"), t("o", "b")])
        );
        for other in [
            "CREATE VIEW v AS SELECT 1",
            "CREATE OR REPLACE ALGORITHM=MERGE DEFINER=`u`@`%` SQL SECURITY DEFINER VIEW v AS SELECT 1",
            "/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER=`root`@`localhost` */ /*!50001 VIEW v AS select 1 */",
            "ALTER VIEW v AS SELECT 2",
            "DROP VIEW IF EXISTS v",
            "CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1",
            "DROP TRIGGER tr",
            "CREATE PROCEDURE p() BEGIN SELECT 1; END",
            "CREATE FUNCTION f() RETURNS INT RETURN 1",
            "DROP PROCEDURE IF EXISTS p",
            "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t",
            "ALTER EVENT e DISABLE",
            "CREATE USER 'u'@'%' IDENTIFIED BY 'p'",
            "GRANT SELECT ON shop.* TO 'u'@'%'",
            "REVOKE ALL ON *.* FROM u",
            "SET PASSWORD FOR u = 'x'",
            "INSERT INTO t VALUES (1)",
            "FLUSH TABLES",
            "ANALYZE TABLE t",
        ] {
            assert_eq!(c(other).0, DdlKind::Other, "{other}");
        }
        let ansi = SqlMode {
            ansi_quotes: true,
            ..SqlMode::default()
        };
        let i = classify_with("CREATE TABLE \"o\".\"x y\" (\"a\" int)", "shop", ansi);
        assert_eq!(
            (i.kind, i.tables, i.mode),
            (DdlKind::CreateTable, vec![t("o", "x y")], ansi)
        );
        // Without ANSI_QUOTES `"x"` is a string: not a table name.
        assert_eq!(c("CREATE TABLE \"x\" (a int)").0, DdlKind::Other);
    }
}
