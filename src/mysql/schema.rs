//! Reading table structures from `information_schema`: the catalog's starting point (and,
//! with FULL table metadata, the source of what the binlog lacks, such as column defaults),
//! the source of `rowtide schema`, and the table list for snapshots.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use crate::catalog::ddl_parse::{bit_bytes, hex_bytes};
use crate::error::{classify_mysql, Result};
use crate::model::{Charset, ColumnDdl, ColumnDefault, ColumnDesc, ColumnKind, Filter, TableDesc};

/// Parses `enum('a','b''c')` / `set(...)` labels.
fn labels(column_type: &str) -> Vec<String> {
    let Some(start) = column_type.find('(') else {
        return vec![];
    };
    let body = &column_type[start + 1..column_type.rfind(')').unwrap_or(column_type.len())];
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_str = false;
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_str {
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    cur.push('\'');
                    i += 1;
                } else {
                    in_str = false;
                    out.push(std::mem::take(&mut cur));
                }
            } else if c == '\\' && i + 1 < chars.len() {
                cur.push(chars[i + 1]);
                i += 1;
            } else {
                cur.push(c);
            }
        } else if c == '\'' {
            in_str = true;
        }
        i += 1;
    }
    out
}

fn paren_numbers(column_type: &str) -> Vec<u32> {
    column_type
        .find('(')
        .map(|s| {
            column_type[s + 1..]
                .split([',', ')'])
                .take_while(|p| !p.is_empty())
                .filter_map(|p| p.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Maps one `information_schema.COLUMNS` row to a column description.
pub fn column_from_info(
    name: &str,
    data_type: &str,
    column_type: &str,
    charset: Option<&str>,
    nullable: bool,
    char_max_bytes: Option<u64>,
) -> ColumnDesc {
    let dt = data_type.to_ascii_lowercase();
    let ct = column_type.to_ascii_lowercase();
    let nums = paren_numbers(&ct);
    let fsp = nums.first().copied().unwrap_or(0) as u8;
    let unsigned = ct.contains("unsigned");
    let mut cs = charset.map(Charset::from_name).unwrap_or(Charset::Utf8);
    let kind = match dt.as_str() {
        "tinyint" | "bool" | "boolean" => ColumnKind::TinyInt,
        "smallint" => ColumnKind::SmallInt,
        "mediumint" => ColumnKind::MediumInt,
        "int" | "integer" => ColumnKind::Int,
        "bigint" => ColumnKind::BigInt,
        "float" => ColumnKind::Float,
        "double" | "real" | "double precision" => ColumnKind::Double,
        "decimal" | "numeric" | "fixed" => ColumnKind::Decimal {
            precision: nums.first().copied().unwrap_or(10) as u8,
            scale: nums.get(1).copied().unwrap_or(0) as u8,
        },
        "bit" => ColumnKind::Bit {
            bits: nums.first().copied().unwrap_or(1) as u16,
        },
        "year" => ColumnKind::Year,
        "date" => ColumnKind::Date,
        "time" => ColumnKind::Time { fsp },
        "datetime" => ColumnKind::DateTime { fsp },
        "timestamp" => ColumnKind::Timestamp { fsp },
        "char" | "binary" => {
            if dt == "binary" {
                cs = Charset::Binary;
            }
            ColumnKind::Char {
                max_bytes: char_max_bytes.unwrap_or(nums.first().copied().unwrap_or(1) as u64)
                    as u32,
            }
        }
        "varchar" | "varbinary" => {
            if dt == "varbinary" {
                cs = Charset::Binary;
            }
            ColumnKind::VarChar {
                max_bytes: char_max_bytes.unwrap_or(nums.first().copied().unwrap_or(255) as u64)
                    as u32,
            }
        }
        "tinytext" | "tinyblob" => ColumnKind::Blob { len_bytes: 1 },
        "text" | "blob" => ColumnKind::Blob { len_bytes: 2 },
        "mediumtext" | "mediumblob" => ColumnKind::Blob { len_bytes: 3 },
        "longtext" | "longblob" => ColumnKind::Blob { len_bytes: 4 },
        "enum" => ColumnKind::Enum {
            values: labels(column_type),
        },
        "set" => ColumnKind::Set {
            values: labels(column_type),
        },
        "json" => ColumnKind::Json,
        "geometry" | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" | "geomcollection" => ColumnKind::Geometry,
        "vector" => ColumnKind::Vector {
            dims: nums.first().copied().unwrap_or(0),
        },
        // MariaDB's UUID, INET6 and INET4: BINARY(16)/BINARY(4) in the binlog; the declared
        // name (kept in `ddl`) makes their values text (`ColumnDesc::declared`).
        "uuid" | "inet6" => ColumnKind::Char { max_bytes: 16 },
        "inet4" => ColumnKind::Char { max_bytes: 4 },
        _ => ColumnKind::Blob { len_bytes: 4 },
    };
    if dt.ends_with("blob") || matches!(dt.as_str(), "uuid" | "inet6" | "inet4") {
        cs = Charset::Binary;
    }
    let mut ddl = ColumnDdl::default();
    if matches!(dt.as_str(), "uuid" | "inet6" | "inet4") {
        ddl.type_name = Some(dt.to_ascii_uppercase());
    }
    ColumnDesc {
        name: name.to_string(),
        kind,
        unsigned,
        nullable,
        charset: cs,
        default: None,
        ddl,
    }
}

/// Reads `information_schema.COLUMNS.COLUMN_DEFAULT` (with `EXTRA`). The two servers write it
/// differently: MariaDB (10.2.7+) quotes string literals (`'abc'`, `'it''s'`), writes
/// `DEFAULT NULL` as the text `NULL` and expressions as SQL (`current_timestamp()`,
/// `uuid()`); MySQL writes literals raw (`abc`), `DEFAULT NULL` as SQL NULL, and marks
/// expression defaults (8.0.13+, and CURRENT_TIMESTAMP) with `DEFAULT_GENERATED` in `EXTRA`.
/// Both write bit literals as `b'101'`; MySQL writes binary-column literals as `0x6162`.
pub fn default_from_info(
    column_default: Option<&str>,
    extra: &str,
    mariadb: bool,
    col: &ColumnDesc,
) -> Option<ColumnDefault> {
    let text = column_default?;
    let t = text.trim();
    let generated = extra.to_ascii_uppercase().contains("DEFAULT_GENERATED");
    if let Some(bits) = t.strip_prefix("b'").and_then(|r| r.strip_suffix('\'')) {
        if let Some(b) = bit_bytes(bits) {
            return Some(ColumnDefault::Bytes(b));
        }
    }
    // MySQL 5.7 marks nothing, but allows CURRENT_TIMESTAMP only on temporal columns (where
    // it cannot be a string literal).
    let temporal = matches!(
        col.kind,
        ColumnKind::Timestamp { .. } | ColumnKind::DateTime { .. }
    );
    if ColumnDefault::is_now_function(t) && (mariadb || generated || temporal) {
        return Some(ColumnDefault::CurrentTimestamp);
    }
    if mariadb {
        if t == "NULL" {
            return Some(ColumnDefault::Null);
        }
        if let Some(body) = t.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
            return Some(ColumnDefault::Literal(unquote_sql(body)));
        }
        if is_number(t) {
            return Some(ColumnDefault::Literal(t.to_string()));
        }
        return Some(ColumnDefault::Expression(t.to_string()));
    }
    if generated {
        return Some(ColumnDefault::Expression(text.to_string()));
    }
    if col.is_binary() {
        if let Some(b) = t
            .strip_prefix("0x")
            .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
            .and_then(hex_bytes)
        {
            return Some(ColumnDefault::Bytes(b));
        }
    }
    Some(ColumnDefault::Literal(text.to_string()))
}

fn is_number(t: &str) -> bool {
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    !t.is_empty()
        && t.parse::<f64>().is_ok()
        && t.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
}

/// The body of a single-quoted SQL string as the server quotes it: `''` for a quote and
/// backslash escapes (`\\`, `\'`, `\n`, `\t`, `\r`, `\0`, `\Z`).
fn unquote_sql(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut it = body.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\'' if it.peek() == Some(&'\'') => {
                it.next();
                out.push('\'');
            }
            '\\' => match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('0') => out.push('\0'),
                Some('Z') => out.push('\u{1a}'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

/// MariaDB's system-versioned tables whose period columns are implicit (`WITH SYSTEM
/// VERSIONING` without `PERIOD FOR SYSTEM_TIME`) carry `row_start` and `row_end` in every
/// row image, after the declared columns, but `information_schema.COLUMNS` does not list
/// them. They are added here so the catalog matches the log (and the snapshot selects them
/// by name, as the stream carries them).
const IMPLICIT_PERIOD: [&str; 2] = ["row_start", "row_end"];

fn implicit_period_columns() -> impl Iterator<Item = ColumnDesc> {
    IMPLICIT_PERIOD
        .into_iter()
        .map(|name| column_from_info(name, "timestamp", "timestamp(6)", None, false, None))
}

/// Reads the captured tables' structures (base tables and MariaDB's system-versioned
/// tables), sorted by name.
pub async fn load_tables(conn: &mut Conn, filter: &Filter) -> Result<Vec<TableDesc>> {
    type ColRow = (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        Option<u64>,
        Option<String>,
        String,
        Option<String>,
        String,
    );
    let version: Option<String> = conn
        .query_first("SELECT VERSION()")
        .await
        .map_err(|e| classify_mysql(e, ""))?;
    let mariadb = version.is_some_and(|v| v.to_ascii_lowercase().contains("mariadb"));
    // GENERATION_EXPRESSION is `ROW START` for an explicit period column on MariaDB; MySQL
    // has no system versioning (and no 'SYSTEM VERSIONED' table type).
    let cols: Vec<ColRow> = conn
        .query(
            "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, \
             c.CHARACTER_SET_NAME, c.IS_NULLABLE, c.CHARACTER_OCTET_LENGTH, \
             c.COLUMN_DEFAULT, c.EXTRA, c.GENERATION_EXPRESSION, t.TABLE_TYPE \
             FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
             ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
             WHERE t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'SEQUENCE') \
             AND c.TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys') \
             ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION",
        )
        .await
        .map_err(|e| classify_mysql(e, ""))?;
    let keys: Vec<(String, String, String)> = conn
        .query(
            "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE CONSTRAINT_NAME = 'PRIMARY' \
             AND TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys') \
             ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
        )
        .await
        .map_err(|e| classify_mysql(e, ""))?;
    let mut tables: Vec<TableDesc> = Vec::new();
    // Per table (same index as `tables`): system-versioned with implicit period columns.
    let mut implicit_period: Vec<bool> = Vec::new();
    for (db, table, col, dt, ct, cs, nullable, octets, default, extra, generation, table_type) in
        cols
    {
        if !filter.captures(&db, &table) {
            continue;
        }
        let fixed_len = matches!(
            dt.to_ascii_lowercase().as_str(),
            "char" | "binary" | "varchar" | "varbinary"
        );
        let mut c = column_from_info(
            &col,
            &dt,
            &ct,
            cs.as_deref(),
            nullable == "YES",
            if fixed_len { octets } else { None },
        );
        c.default = default_from_info(default.as_deref(), &extra, mariadb, &c);
        let explicit_period = generation.is_some_and(|g| g.eq_ignore_ascii_case("ROW START"));
        match tables.last_mut() {
            Some(t) if t.db == db && t.name == table => {
                t.columns.push(c);
                if explicit_period {
                    if let Some(implicit) = implicit_period.last_mut() {
                        *implicit = false;
                    }
                }
            }
            _ => {
                tables.push(TableDesc {
                    db,
                    name: table,
                    columns: vec![c],
                    primary_key: vec![],
                    charset_name: None,
                    comment: None,
                });
                implicit_period.push(table_type == "SYSTEM VERSIONED" && !explicit_period);
            }
        }
    }
    for (t, implicit) in tables.iter_mut().zip(implicit_period) {
        if implicit {
            t.columns.extend(implicit_period_columns());
        }
    }
    for (db, table, col) in keys {
        if let Some(t) = tables.iter_mut().find(|t| t.db == db && t.name == table) {
            if let Some(i) = t.column_index(&col) {
                t.primary_key.push(i);
            }
        }
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_column_types() {
        let c = column_from_info(
            "e",
            "enum",
            "enum('a','it''s','c')",
            Some("utf8mb4"),
            true,
            None,
        );
        assert_eq!(
            c.kind,
            ColumnKind::Enum {
                values: vec!["a".into(), "it's".into(), "c".into()]
            }
        );
        let c = column_from_info("d", "decimal", "decimal(10,2) unsigned", None, false, None);
        assert_eq!(
            c.kind,
            ColumnKind::Decimal {
                precision: 10,
                scale: 2
            }
        );
        assert!(c.unsigned && !c.nullable);
        let c = column_from_info("t", "datetime", "datetime(6)", None, true, None);
        assert_eq!(c.kind, ColumnKind::DateTime { fsp: 6 });
        let c = column_from_info("b", "varbinary", "varbinary(16)", None, true, Some(16));
        assert!(c.is_binary());
        // MariaDB's UUID/INET types: BINARY(n) as the binlog has them, named as declared.
        let c = column_from_info("u", "uuid", "uuid", None, true, None);
        assert_eq!(c.kind, ColumnKind::Char { max_bytes: 16 });
        assert_eq!(c.declared(), crate::model::Declared::Uuid);
        assert!(c.is_binary());
        let c = column_from_info("a", "inet4", "inet4", None, true, None);
        assert_eq!(c.declared(), crate::model::Declared::Inet4);
        let c = column_from_info("a", "inet6", "inet6", None, false, None);
        assert_eq!(c.declared(), crate::model::Declared::Inet6);
    }

    #[test]
    fn reads_column_defaults() {
        let int = column_from_info("a", "int", "int(11)", None, false, None);
        let vc = column_from_info("s", "varchar", "varchar(10)", Some("utf8mb4"), true, None);
        let ts = column_from_info("t", "timestamp", "timestamp(3)", None, false, None);
        let bin = column_from_info("b", "varbinary", "varbinary(4)", None, true, Some(4));
        let lit = |s: &str| Some(ColumnDefault::Literal(s.into()));
        // MariaDB 10.11, as its information_schema shows them.
        let maria = |text: Option<&str>, c: &ColumnDesc| default_from_info(text, "", true, c);
        assert_eq!(maria(Some("1"), &int), lit("1"));
        assert_eq!(maria(Some("-1.50"), &int), lit("-1.50"));
        assert_eq!(maria(Some("'it''s \\\\ x'"), &vc), lit("it's \\ x"));
        assert_eq!(maria(Some("'NULL'"), &vc), lit("NULL"));
        assert_eq!(maria(Some("NULL"), &vc), Some(ColumnDefault::Null));
        assert_eq!(maria(None, &int), None);
        assert_eq!(
            maria(Some("current_timestamp(3)"), &ts),
            Some(ColumnDefault::CurrentTimestamp)
        );
        assert_eq!(
            maria(Some("uuid()"), &vc),
            Some(ColumnDefault::Expression("uuid()".into()))
        );
        assert_eq!(
            maria(Some("b'101'"), &int),
            Some(ColumnDefault::Bytes(vec![5]))
        );
        // MySQL 8: raw literals, DEFAULT_GENERATED on expressions, hex for binary columns.
        let mysql = |text: Option<&str>, extra: &str, c: &ColumnDesc| {
            default_from_info(text, extra, false, c)
        };
        assert_eq!(mysql(Some("NULL"), "", &vc), lit("NULL"));
        assert_eq!(mysql(Some("it's"), "", &vc), lit("it's"));
        assert_eq!(mysql(None, "", &vc), None);
        assert_eq!(
            mysql(Some("CURRENT_TIMESTAMP(3)"), "DEFAULT_GENERATED", &ts),
            Some(ColumnDefault::CurrentTimestamp)
        );
        // MySQL 5.7 marks nothing.
        assert_eq!(
            mysql(Some("CURRENT_TIMESTAMP"), "", &ts),
            Some(ColumnDefault::CurrentTimestamp)
        );
        assert_eq!(
            mysql(Some("CURRENT_TIMESTAMP"), "", &vc),
            lit("CURRENT_TIMESTAMP")
        );
        assert_eq!(
            mysql(Some("uuid()"), "DEFAULT_GENERATED", &vc),
            Some(ColumnDefault::Expression("uuid()".into()))
        );
        assert_eq!(
            mysql(Some("0x6162"), "", &bin),
            Some(ColumnDefault::Bytes(b"ab".to_vec()))
        );
        assert_eq!(mysql(Some("0x6162"), "", &vc), lit("0x6162"));
    }
}

/// What a snapshot's schema-change events are made of (Debezium's snapshot writes the same):
/// the server's charset settings, and for each database holding a captured table its
/// default charset and collation and each captured table's `SHOW CREATE TABLE` text.
#[derive(Debug, Clone, Default)]
pub struct SnapshotDdl {
    pub server_charset: String,
    pub server_collation: String,
    /// In the order of their first table, tables ordered by `db.table` (as Debezium).
    pub databases: Vec<DatabaseDdl>,
}

#[derive(Debug, Clone, Default)]
pub struct DatabaseDdl {
    pub name: String,
    pub charset: String,
    pub collation: String,
    /// `(table, SHOW CREATE TABLE text)`, in `db.table` order.
    pub tables: Vec<(String, String)>,
}

/// Reads [`SnapshotDdl`] for `tables` (the captured ones); without `with_tables` only the
/// charsets (no `SHOW CREATE TABLE`).
pub async fn snapshot_ddl(
    conn: &mut Conn,
    tables: &[TableDesc],
    with_tables: bool,
) -> Result<SnapshotDdl> {
    let err = |e| classify_mysql(e, "");
    let (server_charset, server_collation): (String, String) = conn
        .query_first("SELECT @@character_set_server, @@collation_server")
        .await
        .map_err(err)?
        .unwrap_or_default();
    // Debezium orders tables by the string `db.table`, and databases by their first table.
    let mut sorted: Vec<&TableDesc> = tables.iter().collect();
    sorted.sort_by_key(|t| format!("{}.{}", t.db, t.name));
    let mut by_db: Vec<(String, Vec<String>)> = Vec::new();
    for t in sorted {
        match by_db.iter_mut().find(|(d, _)| *d == t.db) {
            Some((_, names)) => names.push(t.name.clone()),
            None => by_db.push((t.db.clone(), vec![t.name.clone()])),
        }
    }
    let mut databases = Vec::with_capacity(by_db.len());
    for (db, names) in by_db {
        let (charset, collation): (String, String) = conn
            .exec_first(
                "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME \
                 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (db.clone(),),
            )
            .await
            .map_err(err)?
            .unwrap_or_default();
        let mut texts = Vec::with_capacity(names.len());
        for name in names.into_iter().filter(|_| with_tables) {
            let sql = format!(
                "SHOW CREATE TABLE `{}`.`{}`",
                db.replace('`', "``"),
                name.replace('`', "``")
            );
            match conn.query_first::<(String, String), _>(sql).await {
                Ok(Some((_, text))) => texts.push((name, text)),
                Ok(None) => {}
                // Dropped since it was listed: its DROP comes from the log.
                Err(mysql_async::Error::Server(e)) if e.code == 1146 => {}
                Err(e) => return Err(err(e)),
            }
        }
        databases.push(DatabaseDdl {
            name: db,
            charset,
            collation,
            tables: texts,
        });
    }
    Ok(SnapshotDdl {
        server_charset,
        server_collation,
        databases,
    })
}
