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

fn is_kw(t: Option<&String>, kw: &str) -> bool {
    t.is_some_and(|t| !t.starts_with('`') && t.eq_ignore_ascii_case(kw))
}

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

/// Classifies a statement. Never fails: unknown statements are `Other`.
pub fn classify(sql: &str, default_db: &str) -> DdlInfo {
    let toks = tokens(sql);
    let other = DdlInfo {
        kind: DdlKind::Other,
        database: default_db.to_string(),
        tables: vec![],
    };
    let mut i = 0;
    let kw = |i: usize, k: &str| is_kw(toks.get(i), k);
    let skip_if_exists = |mut i: usize| {
        if is_kw(toks.get(i), "IF") {
            i += 1;
            if is_kw(toks.get(i), "NOT") {
                i += 1;
            }
            if is_kw(toks.get(i), "EXISTS") {
                i += 1;
            }
        }
        i
    };
    if kw(i, "CREATE") {
        i += 1;
        if kw(i, "OR") && kw(i + 1, "REPLACE") {
            i += 2;
        }
        if kw(i, "TEMPORARY") {
            return other; // temporary tables are not logged as row changes
        }
        while kw(i, "ONLINE") || kw(i, "OFFLINE") {
            i += 1;
        }
        if kw(i, "TABLE") {
            let j = skip_if_exists(i + 1);
            if let Some((t, _)) = qualified(&toks, j, default_db) {
                return DdlInfo {
                    kind: DdlKind::CreateTable,
                    database: t.0.clone(),
                    tables: vec![t],
                };
            }
        } else if kw(i, "DATABASE") || kw(i, "SCHEMA") {
            let j = skip_if_exists(i + 1);
            if let Some(db) = toks.get(j) {
                return DdlInfo {
                    kind: DdlKind::CreateDatabase,
                    database: ident(db),
                    tables: vec![],
                };
            }
        } else {
            // CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX name ON tbl
            let mut j = i;
            while kw(j, "UNIQUE") || kw(j, "FULLTEXT") || kw(j, "SPATIAL") {
                j += 1;
            }
            if kw(j, "INDEX") {
                let mut k = j + 1;
                while k < toks.len() && !kw(k, "ON") {
                    k += 1;
                }
                if let Some((t, _)) = qualified(&toks, k + 1, default_db) {
                    return DdlInfo {
                        kind: DdlKind::CreateIndex,
                        database: t.0.clone(),
                        tables: vec![t],
                    };
                }
            }
        }
        return other;
    }
    if kw(0, "ALTER") {
        let mut j = 1;
        while kw(j, "ONLINE") || kw(j, "IGNORE") || kw(j, "OFFLINE") {
            j += 1;
        }
        if kw(j, "TABLE") {
            let k = skip_if_exists(j + 1);
            if let Some((t, next)) = qualified(&toks, k, default_db) {
                let mut tables = vec![t.clone()];
                // ALTER TABLE a RENAME [TO|AS] b
                let mut m = next;
                while m < toks.len() {
                    if kw(m, "RENAME")
                        && !kw(m + 1, "COLUMN")
                        && !kw(m + 1, "INDEX")
                        && !kw(m + 1, "KEY")
                    {
                        let mut n = m + 1;
                        if kw(n, "TO") || kw(n, "AS") {
                            n += 1;
                        }
                        if let Some((nt, _)) = qualified(&toks, n, default_db) {
                            tables.push(nt);
                        }
                        break;
                    }
                    m += 1;
                }
                return DdlInfo {
                    kind: if tables.len() > 1 {
                        DdlKind::RenameTable
                    } else {
                        DdlKind::AlterTable
                    },
                    database: t.0.clone(),
                    tables,
                };
            }
        } else if kw(j, "DATABASE") || kw(j, "SCHEMA") {
            let db = toks
                .get(j + 1)
                .filter(|t| {
                    !is_kw(Some(t), "CHARACTER")
                        && !is_kw(Some(t), "DEFAULT")
                        && !is_kw(Some(t), "COLLATE")
                })
                .map(|t| ident(t))
                .unwrap_or_else(|| default_db.to_string());
            return DdlInfo {
                kind: DdlKind::AlterDatabase,
                database: db,
                tables: vec![],
            };
        }
        return other;
    }
    if kw(0, "DROP") {
        let mut j = 1;
        if kw(j, "TEMPORARY") {
            return other;
        }
        if kw(j, "TABLE") || kw(j, "TABLES") {
            j = skip_if_exists(j + 1);
            let mut tables = Vec::new();
            while let Some((t, next)) = qualified(&toks, j, default_db) {
                tables.push(t);
                if toks.get(next).map(String::as_str) == Some(",") {
                    j = next + 1;
                } else {
                    break;
                }
            }
            if tables.is_empty() {
                return other;
            }
            return DdlInfo {
                kind: DdlKind::DropTable,
                database: tables[0].0.clone(),
                tables,
            };
        }
        if kw(j, "DATABASE") || kw(j, "SCHEMA") {
            j = skip_if_exists(j + 1);
            if let Some(db) = toks.get(j) {
                return DdlInfo {
                    kind: DdlKind::DropDatabase,
                    database: ident(db),
                    tables: vec![],
                };
            }
        }
        if kw(j, "INDEX") {
            let mut k = j + 1;
            while k < toks.len() && !kw(k, "ON") {
                k += 1;
            }
            if let Some((t, _)) = qualified(&toks, k + 1, default_db) {
                return DdlInfo {
                    kind: DdlKind::DropIndex,
                    database: t.0.clone(),
                    tables: vec![t],
                };
            }
        }
        return other;
    }
    if kw(0, "RENAME") && (kw(1, "TABLE") || kw(1, "TABLES")) {
        let mut j = 2;
        let mut tables = Vec::new();
        while let Some((from, next)) = qualified(&toks, j, default_db) {
            if !kw(next, "TO") {
                break;
            }
            let Some((to, after)) = qualified(&toks, next + 1, default_db) else {
                break;
            };
            tables.push(from);
            tables.push(to);
            if toks.get(after).map(String::as_str) == Some(",") {
                j = after + 1;
            } else {
                break;
            }
        }
        if tables.is_empty() {
            return other;
        }
        return DdlInfo {
            kind: DdlKind::RenameTable,
            database: tables[0].0.clone(),
            tables,
        };
    }
    if kw(0, "TRUNCATE") {
        let j = if kw(1, "TABLE") { 2 } else { 1 };
        if let Some((t, _)) = qualified(&toks, j, default_db) {
            return DdlInfo {
                kind: DdlKind::TruncateTable,
                database: t.0.clone(),
                tables: vec![t],
            };
        }
    }
    other
}

/// Applies a classified statement to the catalog and returns the touched tables' structures
/// after it (for the schema-change event's `tableChanges`), as far as they are known.
pub fn apply(
    catalog: &mut Catalog,
    info: &DdlInfo,
    sql: &str,
    default_db: &str,
) -> Vec<Arc<TableDesc>> {
    match info.kind {
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
            match super::ddl_parse::apply_statement(catalog, sql, default_db) {
                Ok(tables) => tables,
                Err(reason) => {
                    // The old structure stays; rows that no longer fit it are refused by
                    // `check_fits`, so a missed statement never misaligns values.
                    tracing::warn!(database = %info.database, %reason, "DDL not applied to the catalog; keeping the previous table structure.");
                    info.tables
                        .iter()
                        .filter_map(|(d, t)| catalog.get(d, t).cloned())
                        .collect()
                }
            }
        }
        _ => info
            .tables
            .iter()
            .filter_map(|(d, t)| catalog.get(d, t).cloned())
            .collect(),
    }
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
