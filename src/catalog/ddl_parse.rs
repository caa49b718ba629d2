//! Applying CREATE TABLE / ALTER TABLE statements to the catalog with sqlparser's MySQL
//! dialect, for servers that log MINIMAL table metadata.
//!
//! Covered: CREATE TABLE (column types with UNSIGNED, DECIMAL(p,s), CHAR/VARCHAR lengths,
//! per-column and table-default CHARSET/COLLATE, ENUM/SET labels, BIT(n), the fsp of
//! TIME/DATETIME/TIMESTAMP, JSON, GEOMETRY, VECTOR, NOT NULL, DEFAULT, PRIMARY KEY inline or
//! as a constraint), CREATE TABLE … LIKE, and ALTER TABLE ADD/DROP/MODIFY/CHANGE/RENAME
//! COLUMN (FIRST/AFTER), ALTER COLUMN SET/DROP DEFAULT, ADD/DROP PRIMARY KEY, RENAME TO,
//! CONVERT TO CHARACTER SET.
//!
//! Invariant: a statement is applied whole or not at all. When it cannot be parsed or
//! refers to something unknown, the catalog keeps the old structure and the caller gets an
//! `Err` (it logs a warning and carries on); the decoder's `check_fits` then refuses rows
//! that no longer fit, so a missed statement is an error at the row, never misaligned values.

use std::sync::Arc;

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, CreateTable, DataType,
    EnumMember, Expr, MySQLColumnPosition, ObjectName, Statement, TableConstraint, UnaryOperator,
    Value,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

use crate::model::{Catalog, Charset, ColumnDefault, ColumnDesc, ColumnKind, TableDesc};

/// Parses `sql` and applies it to `catalog`; returns the tables it defined or changed.
pub fn apply_statement(
    catalog: &mut Catalog,
    sql: &str,
    default_db: &str,
) -> Result<Vec<Arc<TableDesc>>, String> {
    let short = || sql.chars().take(80).collect::<String>();
    if let Some(r) = convert_to_charset(catalog, sql, default_db) {
        return r;
    }
    let stmts = Parser::parse_sql(&MySqlDialect {}, sql)
        .map_err(|e| format!("cannot parse `{}`: {e}", short()))?;
    let mut out = Vec::new();
    for stmt in stmts {
        match stmt {
            Statement::CreateTable(ct) => out.push(create_table(catalog, &ct, sql, default_db)?),
            Statement::AlterTable {
                name, operations, ..
            } => out.push(alter_table(catalog, &name, &operations, default_db)?),
            _ => return Err(format!("not a CREATE/ALTER TABLE statement: `{}`", short())),
        }
    }
    Ok(out)
}

/// `(db, table)` of a possibly qualified name.
fn qualified(name: &ObjectName, default_db: &str) -> (String, String) {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| {
            p.as_ident()
                .map(|i| i.value.clone())
                .unwrap_or_else(|| p.to_string())
        })
        .collect();
    match parts.as_slice() {
        [db, t] => (db.clone(), t.clone()),
        [.., t] => (default_db.to_string(), t.clone()),
        [] => (default_db.to_string(), String::new()),
    }
}

fn create_table(
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
            let names: Vec<String> = columns.iter().map(|c| c.column.expr.to_string()).collect();
            set_primary_key(&mut desc, &names)?;
        }
    }
    Ok(catalog.put(desc))
}

fn unquote(s: &str) -> &str {
    s.trim_matches('`').trim_matches('"')
}

fn set_primary_key(desc: &mut TableDesc, names: &[String]) -> Result<(), String> {
    let mut key = Vec::with_capacity(names.len());
    for n in names {
        // `col(10)` prefix keys print as a function call: keep the name.
        let n = unquote(n.split('(').next().unwrap_or(n).trim());
        let i = desc
            .column_index(n)
            .ok_or_else(|| format!("primary key column `{n}` is not in {}", desc.full_name()))?;
        desc.columns[i].nullable = false;
        key.push(i);
    }
    desc.primary_key = key;
    Ok(())
}

/// The table's default charset from `[DEFAULT] CHARSET|CHARACTER SET [=] x` or
/// `COLLATE [=] x` after the column list.
fn table_charset(sql: &str) -> Option<Charset> {
    let tail = &sql[sql.rfind(')').unwrap_or(0)..];
    charset_clause(tail)
}

fn charset_clause(text: &str) -> Option<Charset> {
    let up = text.to_ascii_uppercase();
    for key in ["CHARACTER SET", "CHARSET", "COLLATE"] {
        if let Some(at) = up.find(key) {
            let rest = text[at + key.len()..].trim_start();
            let rest = rest.strip_prefix('=').unwrap_or(rest).trim_start();
            let word: String = rest
                .trim_start_matches(['`', '\'', '"'])
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !word.is_empty() {
                return Some(charset_of(&word));
            }
        }
    }
    None
}

/// A charset from a charset or collation name (`utf8mb4`, `latin1_swedish_ci`, `binary`).
fn charset_of(name: &str) -> Charset {
    let lower = name.to_ascii_lowercase();
    let cs = lower.split('_').next().unwrap_or(&lower);
    Charset::from_name(cs)
}

/// Bytes per character, to turn CHAR(n)/VARCHAR(n) into a byte length.
fn max_char_bytes(cs: Charset) -> u32 {
    match cs {
        Charset::Utf8 => 4,
        Charset::Binary => 1,
        Charset::Legacy(enc) if enc == encoding_rs::WINDOWS_1252 => 1,
        Charset::Legacy(_) => 2,
        Charset::Utf16Be | Charset::Utf16Le | Charset::Utf32 => 4,
    }
}

/// One column definition; `true` when it is declared PRIMARY KEY inline.
fn column(cd: &ColumnDef, table_cs: Option<Charset>) -> Result<(ColumnDesc, bool), String> {
    let name = cd.name.value.clone();
    let mut nullable = true;
    let mut pk = false;
    let mut col_cs = None;
    let mut default = None;
    for o in &cd.options {
        match &o.option {
            ColumnOption::Default(e) => default = Some(default_of(e)),
            ColumnOption::NotNull => nullable = false,
            ColumnOption::Null => nullable = true,
            ColumnOption::Unique { is_primary, .. } if *is_primary => {
                pk = true;
                nullable = false;
            }
            ColumnOption::CharacterSet(n) => col_cs = Some(charset_of(&n.to_string())),
            ColumnOption::Collation(n) if col_cs.is_none() => {
                col_cs = Some(charset_of(&n.to_string()))
            }
            _ => {}
        }
    }
    let (kind, unsigned, binary, type_cs) = kind_of(&cd.data_type)?;
    let charset = if binary {
        Charset::Binary
    } else {
        col_cs.or(type_cs).or(table_cs).unwrap_or(Charset::Utf8)
    };
    let kind = match kind {
        // Lengths are in characters in DDL and in bytes on the wire.
        ColumnKind::Char { max_bytes } => ColumnKind::Char {
            max_bytes: max_bytes.saturating_mul(max_char_bytes(charset)),
        },
        ColumnKind::VarChar { max_bytes } => ColumnKind::VarChar {
            max_bytes: max_bytes.saturating_mul(max_char_bytes(charset)),
        },
        ColumnKind::BigInt if unsigned && is_serial(&cd.data_type) => ColumnKind::BigInt,
        k => k,
    };
    if is_serial(&cd.data_type) {
        nullable = false;
    }
    let charset = match kind {
        ColumnKind::Char { .. }
        | ColumnKind::VarChar { .. }
        | ColumnKind::Blob { .. }
        | ColumnKind::Enum { .. }
        | ColumnKind::Set { .. } => charset,
        ColumnKind::Geometry | ColumnKind::Vector { .. } => Charset::Binary,
        _ => Charset::Utf8,
    };
    Ok((
        ColumnDesc {
            name,
            kind,
            unsigned,
            nullable,
            charset,
            default,
        },
        pk,
    ))
}

/// A `DEFAULT` clause's meaning. Like Debezium's DDL parser (`DefaultValueParserListener`),
/// only constants give a default; a parenthesised or other expression is computed per row.
fn default_of(e: &Expr) -> ColumnDefault {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Null => ColumnDefault::Null,
            Value::Number(n, _) => ColumnDefault::Literal(n.to_string()),
            // Debezium records the keyword as written; upper case is SHOW CREATE TABLE's.
            Value::Boolean(b) => ColumnDefault::Literal(if *b { "TRUE" } else { "FALSE" }.into()),
            Value::SingleQuotedString(s)
            | Value::DoubleQuotedString(s)
            | Value::NationalStringLiteral(s) => ColumnDefault::Literal(s.clone()),
            Value::HexStringLiteral(h) => match hex_bytes(h) {
                Some(b) => ColumnDefault::Bytes(b),
                None => ColumnDefault::Expression(e.to_string()),
            },
            Value::SingleQuotedByteStringLiteral(bits) => match bit_bytes(bits) {
                Some(b) => ColumnDefault::Bytes(b),
                None => ColumnDefault::Expression(e.to_string()),
            },
            _ => ColumnDefault::Expression(e.to_string()),
        },
        Expr::UnaryOp {
            op: op @ (UnaryOperator::Minus | UnaryOperator::Plus),
            expr,
        } => match default_of(expr) {
            ColumnDefault::Literal(n) if matches!(op, UnaryOperator::Minus) => {
                ColumnDefault::Literal(format!("-{n}"))
            }
            ColumnDefault::Literal(n) => ColumnDefault::Literal(n),
            _ => ColumnDefault::Expression(e.to_string()),
        },
        // `_utf8mb4'abc'`: the charset introducer does not change the value.
        Expr::Prefixed { value, .. } => match default_of(value) {
            d @ ColumnDefault::Literal(_) => d,
            _ => ColumnDefault::Expression(e.to_string()),
        },
        // `DATE '2020-01-01'`, `TIMESTAMP '…'`.
        Expr::TypedString { value, .. } => match &value.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => {
                ColumnDefault::Literal(s.clone())
            }
            _ => ColumnDefault::Expression(e.to_string()),
        },
        Expr::Function(f) if ColumnDefault::is_now_function(&f.name.to_string()) => {
            ColumnDefault::CurrentTimestamp
        }
        _ => ColumnDefault::Expression(e.to_string()),
    }
}

/// The bytes of a hex literal's digits (`0F` → `[0x0F]`), big-endian, odd lengths padded.
pub(crate) fn hex_bytes(h: &str) -> Option<Vec<u8>> {
    let h = if h.len() % 2 == 1 {
        format!("0{h}")
    } else {
        h.to_string()
    };
    hex::decode(h).ok()
}

/// The bytes of a bit literal's digits (`101` → `[0x05]`), big-endian.
pub(crate) fn bit_bytes(bits: &str) -> Option<Vec<u8>> {
    if bits.is_empty() || !bits.bytes().all(|b| b == b'0' || b == b'1') {
        return None;
    }
    let mut out = Vec::with_capacity(bits.len().div_ceil(8));
    let head = bits.len() % 8;
    let mut chunks: Vec<&str> = Vec::new();
    if head > 0 {
        chunks.push(&bits[..head]);
    }
    let mut i = head;
    while i < bits.len() {
        chunks.push(&bits[i..i + 8]);
        i += 8;
    }
    for c in chunks {
        out.push(u8::from_str_radix(c, 2).ok()?);
    }
    Some(out)
}

fn is_serial(dt: &DataType) -> bool {
    dt.to_string().eq_ignore_ascii_case("SERIAL")
}

/// `(kind, unsigned, binary, charset named in the type)` of a SQL type. Works on the type's
/// printed form so that the many spellings sqlparser distinguishes map to one kind.
fn kind_of(dt: &DataType) -> Result<(ColumnKind, bool, bool, Option<Charset>), String> {
    match dt {
        DataType::Enum(members, _) => {
            let values = members
                .iter()
                .map(|m| match m {
                    EnumMember::Name(s) => s.clone(),
                    EnumMember::NamedValue(s, _) => s.clone(),
                })
                .collect();
            return Ok((ColumnKind::Enum { values }, false, false, None));
        }
        DataType::Set(values) => {
            return Ok((
                ColumnKind::Set {
                    values: values.clone(),
                },
                false,
                false,
                None,
            ));
        }
        _ => {}
    }
    let text = dt.to_string();
    let up = text.to_ascii_uppercase();
    let (base, args) = match up.find('(') {
        Some(i) => {
            let close = up[i..].find(')').map(|j| i + j).unwrap_or(up.len());
            (up[..i].trim().to_string(), up[i + 1..close].to_string())
        }
        None => (
            up.split_whitespace()
                .filter(|w| !matches!(*w, "UNSIGNED" | "SIGNED" | "ZEROFILL"))
                .collect::<Vec<_>>()
                .join(" "),
            String::new(),
        ),
    };
    let base = base
        .trim_start_matches("NATIONAL ")
        .trim_end_matches(" UNSIGNED")
        .to_string();
    let unsigned = up.contains("UNSIGNED") || base == "SERIAL";
    let nums: Vec<u64> = args
        .split(',')
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    let n = |i: usize, d: u64| nums.get(i).copied().unwrap_or(d);
    let fsp = n(0, 0).min(6) as u8;
    let type_cs = charset_clause(&text);
    let blob_len = |len: u64| -> u8 {
        match len {
            0..=255 => 1,
            256..=65_535 => 2,
            65_536..=16_777_215 => 3,
            _ => 4,
        }
    };
    let (kind, binary) = match base.as_str() {
        "TINYINT" | "BOOL" | "BOOLEAN" | "INT1" => (ColumnKind::TinyInt, false),
        "SMALLINT" | "INT2" => (ColumnKind::SmallInt, false),
        "MEDIUMINT" | "INT3" | "MIDDLEINT" => (ColumnKind::MediumInt, false),
        "INT" | "INTEGER" | "INT4" => (ColumnKind::Int, false),
        "BIGINT" | "INT8" | "SERIAL" => (ColumnKind::BigInt, false),
        "FLOAT" if n(0, 0) > 24 && nums.len() == 1 => (ColumnKind::Double, false),
        "FLOAT" | "FLOAT4" => (ColumnKind::Float, false),
        "DOUBLE" | "DOUBLE PRECISION" | "REAL" | "FLOAT8" => (ColumnKind::Double, false),
        "DECIMAL" | "NUMERIC" | "DEC" | "FIXED" => (
            ColumnKind::Decimal {
                precision: n(0, 10).min(65) as u8,
                scale: n(1, 0).min(30) as u8,
            },
            false,
        ),
        "BIT" => (
            ColumnKind::Bit {
                bits: n(0, 1).clamp(1, 64) as u16,
            },
            false,
        ),
        "YEAR" => (ColumnKind::Year, false),
        "DATE" => (ColumnKind::Date, false),
        "TIME" => (ColumnKind::Time { fsp }, false),
        "DATETIME" => (ColumnKind::DateTime { fsp }, false),
        "TIMESTAMP" => (ColumnKind::Timestamp { fsp }, false),
        "CHAR" | "CHARACTER" | "NCHAR" => (
            ColumnKind::Char {
                max_bytes: n(0, 1) as u32,
            },
            false,
        ),
        "BINARY" => (
            ColumnKind::Char {
                max_bytes: n(0, 1) as u32,
            },
            true,
        ),
        "VARCHAR" | "CHARACTER VARYING" | "NVARCHAR" | "CHAR VARYING" => (
            ColumnKind::VarChar {
                max_bytes: n(0, 255) as u32,
            },
            false,
        ),
        "VARBINARY" => (
            ColumnKind::VarChar {
                max_bytes: n(0, 255) as u32,
            },
            true,
        ),
        "TINYTEXT" => (ColumnKind::Blob { len_bytes: 1 }, false),
        "TEXT" => (
            ColumnKind::Blob {
                len_bytes: blob_len(n(0, 65_535)),
            },
            false,
        ),
        "MEDIUMTEXT" | "LONG" | "LONG VARCHAR" => (ColumnKind::Blob { len_bytes: 3 }, false),
        "LONGTEXT" => (ColumnKind::Blob { len_bytes: 4 }, false),
        "TINYBLOB" => (ColumnKind::Blob { len_bytes: 1 }, true),
        "BLOB" => (
            ColumnKind::Blob {
                len_bytes: blob_len(n(0, 65_535)),
            },
            true,
        ),
        "MEDIUMBLOB" | "LONG VARBINARY" => (ColumnKind::Blob { len_bytes: 3 }, true),
        "LONGBLOB" => (ColumnKind::Blob { len_bytes: 4 }, true),
        "JSON" => (ColumnKind::Json, false),
        "GEOMETRY" | "POINT" | "LINESTRING" | "POLYGON" | "MULTIPOINT" | "MULTILINESTRING"
        | "MULTIPOLYGON" | "GEOMETRYCOLLECTION" | "GEOMCOLLECTION" => (ColumnKind::Geometry, true),
        "VECTOR" => (
            ColumnKind::Vector {
                dims: n(0, 2048) as u32,
            },
            true,
        ),
        other => return Err(format!("unknown column type `{other}` ({text})")),
    };
    Ok((kind, unsigned, binary, type_cs))
}

fn alter_table(
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

fn insert_column(desc: &mut TableDesc, at: usize, col: ColumnDesc) {
    for k in &mut desc.primary_key {
        if *k >= at {
            *k += 1;
        }
    }
    desc.columns.insert(at, col);
}

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
fn convert_to_charset(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(cat: &mut Catalog, sql: &str) -> Arc<TableDesc> {
        match apply_statement(cat, sql, "shop") {
            Ok(mut v) => v.remove(0),
            Err(e) => panic!("{sql}: {e}"),
        }
    }

    fn names(t: &TableDesc) -> Vec<&str> {
        t.columns.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn create_table_types() {
        let mut cat = Catalog::default();
        let t = apply(
            &mut cat,
            "CREATE TABLE `t` (\n  id INT UNSIGNED NOT NULL AUTO_INCREMENT COMMENT 'pk',\n  \
             price DECIMAL(10,2) NOT NULL DEFAULT '0.00',\n  name VARCHAR(45) CHARACTER SET latin1,\n  \
             code CHAR(3) COLLATE utf8mb4_bin,\n  flags BIT(5),\n  t TIME(3),\n  dt DATETIME(6),\n  \
             ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,\n  \
             rating ENUM('G','PG','NC-17') DEFAULT 'G',\n  feats SET('a','b'),\n  doc JSON,\n  \
             g GEOMETRY, y YEAR, big BIGINT(20) unsigned, raw VARBINARY(16), body LONGTEXT,\n  \
             PRIMARY KEY (id), KEY idx (name)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        );
        assert_eq!((t.db.as_str(), t.name.as_str()), ("shop", "t"));
        let c = &t.columns;
        assert_eq!(c.len(), 16);
        assert_eq!(
            (c[0].kind.clone(), c[0].unsigned, c[0].nullable),
            (ColumnKind::Int, true, false)
        );
        assert_eq!(
            c[1].kind,
            ColumnKind::Decimal {
                precision: 10,
                scale: 2
            }
        );
        assert_eq!(c[2].kind, ColumnKind::VarChar { max_bytes: 45 });
        assert_eq!(c[2].charset, Charset::from_name("latin1"));
        assert_eq!(
            (c[3].kind.clone(), c[3].charset),
            (ColumnKind::Char { max_bytes: 12 }, Charset::Utf8)
        );
        assert_eq!(c[4].kind, ColumnKind::Bit { bits: 5 });
        assert_eq!(c[5].kind, ColumnKind::Time { fsp: 3 });
        assert_eq!(c[6].kind, ColumnKind::DateTime { fsp: 6 });
        assert_eq!(
            (c[7].kind.clone(), c[7].nullable),
            (ColumnKind::Timestamp { fsp: 0 }, false)
        );
        assert_eq!(
            c[8].kind,
            ColumnKind::Enum {
                values: vec!["G".into(), "PG".into(), "NC-17".into()]
            }
        );
        assert_eq!(
            c[9].kind,
            ColumnKind::Set {
                values: vec!["a".into(), "b".into()]
            }
        );
        assert_eq!(c[10].kind, ColumnKind::Json);
        assert_eq!(c[11].kind, ColumnKind::Geometry);
        assert_eq!(c[12].kind, ColumnKind::Year);
        assert_eq!(
            (c[13].kind.clone(), c[13].unsigned),
            (ColumnKind::BigInt, true)
        );
        assert_eq!(
            (c[14].kind.clone(), c[14].charset),
            (ColumnKind::VarChar { max_bytes: 16 }, Charset::Binary)
        );
        assert_eq!(
            (c[15].kind.clone(), c[15].charset),
            (ColumnKind::Blob { len_bytes: 4 }, Charset::Utf8)
        );
        assert_eq!(t.primary_key, vec![0]);
    }

    #[test]
    fn inline_and_composite_keys_and_like() {
        let mut cat = Catalog::default();
        let t = apply(&mut cat, "create table a (x int primary key, y text)");
        assert_eq!(t.primary_key, vec![0]);
        let t = apply(
            &mut cat,
            "CREATE TABLE b (x int, y int, CONSTRAINT pk PRIMARY KEY (y, x))",
        );
        assert_eq!(t.primary_key, vec![1, 0]);
        let t = apply(&mut cat, "CREATE TABLE other.c LIKE shop.b");
        assert_eq!((t.db.as_str(), names(&t)), ("other", vec!["x", "y"]));
        assert_eq!(t.primary_key, vec![1, 0]);
        let t = apply(
            &mut cat,
            "CREATE TABLE l1 (name varchar(10)) DEFAULT CHARSET=latin1",
        );
        assert_eq!(t.columns[0].charset, Charset::from_name("latin1"));
    }

    #[test]
    fn alter_table_columns() {
        let mut cat = Catalog::default();
        apply(
            &mut cat,
            "CREATE TABLE t (id int NOT NULL, a int, b int, PRIMARY KEY (id))",
        );
        let t = apply(
            &mut cat,
            "ALTER TABLE t ADD COLUMN c varchar(10) AFTER id, ADD d int FIRST",
        );
        assert_eq!(names(&t), vec!["d", "id", "c", "a", "b"]);
        assert_eq!(t.primary_key, vec![1]);
        let t = apply(&mut cat, "ALTER TABLE t DROP COLUMN d, DROP a");
        assert_eq!(names(&t), vec!["id", "c", "b"]);
        assert_eq!(t.primary_key, vec![0]);
        let t = apply(
            &mut cat,
            "ALTER TABLE t MODIFY COLUMN b bigint unsigned NOT NULL FIRST",
        );
        assert_eq!(names(&t), vec!["b", "id", "c"]);
        assert_eq!(
            (t.columns[0].kind.clone(), t.columns[0].unsigned),
            (ColumnKind::BigInt, true)
        );
        assert_eq!(t.primary_key, vec![1]);
        let t = apply(&mut cat, "ALTER TABLE t CHANGE c cc text AFTER b");
        assert_eq!(names(&t), vec!["b", "cc", "id"]);
        assert_eq!(t.primary_key, vec![2]);
        let t = apply(&mut cat, "ALTER TABLE t RENAME COLUMN cc TO c2");
        assert_eq!(names(&t), vec!["b", "c2", "id"]);
        let t = apply(
            &mut cat,
            "ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (b, id)",
        );
        assert_eq!(t.primary_key, vec![0, 2]);
        let t = apply(&mut cat, "ALTER TABLE t CONVERT TO CHARACTER SET latin1");
        assert_eq!(t.columns[1].charset, Charset::from_name("latin1"));
        let t = apply(&mut cat, "ALTER TABLE t RENAME TO t2");
        assert_eq!(t.name, "t2");
        assert!(cat.get("shop", "t").is_none());
    }

    #[test]
    fn failures_keep_the_old_structure() {
        let mut cat = Catalog::default();
        let before = apply(&mut cat, "CREATE TABLE t (id int, a int)");
        // Second op fails: the first must not be applied either.
        assert!(apply_statement(&mut cat, "ALTER TABLE t ADD x int, DROP nope", "shop").is_err());
        assert_eq!(cat.get("shop", "t"), Some(&before));
        assert!(apply_statement(&mut cat, "ALTER TABLE unknown ADD x int", "shop").is_err());
        assert!(apply_statement(&mut cat, "CREATE TABLE ( garbage", "shop").is_err());
    }

    /// Statements in the style of Debezium's DDL corpus
    /// (debezium-connector-binlog/src/test/resources/ddl/mysql-*.ddl): they must never panic,
    /// and the ones that are plain CREATE/ALTER TABLE must apply.
    #[test]
    fn debezium_style_corpus_does_not_panic() {
        let stmts = [
            "CREATE TABLE IF NOT EXISTS db ( Host char(60) binary DEFAULT '' NOT NULL, Db char(64) binary DEFAULT '' NOT NULL, Select_priv enum('N','Y') COLLATE utf8_general_ci DEFAULT 'N' NOT NULL, PRIMARY KEY Host (Host,Db), KEY User (Db) ) engine=MyISAM CHARACTER SET utf8 COLLATE utf8_bin comment='Database privileges'",
            "CREATE TABLE `products` (`id` int(11) NOT NULL AUTO_INCREMENT, `name` varchar(255) NOT NULL, `description` varchar(512) DEFAULT NULL, `weight` float DEFAULT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB AUTO_INCREMENT=101 DEFAULT CHARSET=latin1",
            "CREATE TABLE orders (order_number INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY, order_date DATE NOT NULL, purchaser INTEGER NOT NULL, quantity INTEGER NOT NULL, product_id INTEGER NOT NULL, FOREIGN KEY order_customer (purchaser) REFERENCES customers(id), FOREIGN KEY ordered_product (product_id) REFERENCES products(id)) AUTO_INCREMENT = 10001",
            "CREATE TABLE dbz_123 (c1 DATE DEFAULT (curdate()), c2 INT CHECK (c2 > 0), c3 VARCHAR(10) GENERATED ALWAYS AS (concat('a', c1)) VIRTUAL)",
            "CREATE TABLE t_part (id INT) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)",
            "ALTER TABLE products ADD COLUMN volume FLOAT, ADD COLUMN alias VARCHAR(30) NULL AFTER description",
            "ALTER TABLE products ALGORITHM=INPLACE, LOCK=NONE, ADD INDEX idx_name (name)",
            "ALTER TABLE `products` DROP COLUMN `alias`",
            // sqlparser 0.58 rejects `DOUBLE(8,2) UNSIGNED`: the catalog keeps `weight`.
            "ALTER TABLE products CHANGE COLUMN weight weight_kg DOUBLE(8,2) UNSIGNED NOT NULL",
            "ALTER TABLE products CHANGE COLUMN weight weight_kg DOUBLE NOT NULL",
            "ALTER USER 'jeffrey'@'localhost' IDENTIFIED BY 'password'",
            "CREATE TABLE `t_spatial` (`id` int NOT NULL, `pt` point NOT NULL SRID 4326, SPATIAL KEY `pt` (`pt`))",
            "CREATE TEMPORARY TABLE tmp (id int)",
            "CREATE TABLE sel AS SELECT * FROM products",
            "CREATE DEFINER=`root`@`localhost` TRIGGER upd BEFORE UPDATE ON products FOR EACH ROW SET NEW.name = UPPER(NEW.name)",
            "ALTER TABLE products PARTITION BY HASH(id) PARTITIONS 4",
            "CREATE TABLE `x` (`a` tinyint(1) unsigned zerofill DEFAULT NULL, `b` mediumint(8) unsigned NOT NULL, `c` double precision, `d` numeric(5), `e` national char(3), `f` long varchar)",
            "ALTER TABLE products ADD CONSTRAINT uq UNIQUE (name), DROP FOREIGN KEY fk1, RENAME INDEX a TO b",
            "",
            ";;;",
            "CREATE TABLE `\u{4e2d}\u{6587}` (`\u{5217}` varchar(20) COMMENT '\u{4e3b}\u{952e}')",
        ];
        let mut cat = Catalog::default();
        for s in stmts {
            let _ = apply_statement(&mut cat, s, "inventory");
        }
        let p = cat.get("inventory", "products").expect("products created");
        assert_eq!(
            names(p),
            vec!["id", "name", "description", "weight_kg", "volume"]
        );
        assert_eq!(p.columns[3].kind, ColumnKind::Double);
    }

    #[test]
    fn column_defaults() {
        let mut cat = Catalog::default();
        let t = apply(
            &mut cat,
            "CREATE TABLE d (a INT NOT NULL DEFAULT 1, b VARCHAR(10) DEFAULT 'it''s', \
             c DECIMAL(5,2) DEFAULT -1.5, d INT DEFAULT NULL, e INT, \
             f TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), \
             g DATETIME DEFAULT now(), h BIT(10) DEFAULT b'101000010', i BINARY(2) DEFAULT X'4142', \
             j VARCHAR(36) DEFAULT (uuid()), k VARCHAR(5) DEFAULT _utf8mb4'x', l TINYINT(1) DEFAULT TRUE, \
             m DATE DEFAULT DATE '2020-01-02', n INT DEFAULT +3)",
        );
        let d = |n: &str| t.columns[t.column_index(n).unwrap()].default.clone();
        let lit = |s: &str| Some(ColumnDefault::Literal(s.into()));
        assert_eq!(d("a"), lit("1"));
        assert_eq!(d("b"), lit("it's"));
        assert_eq!(d("c"), lit("-1.5"));
        assert_eq!(d("d"), Some(ColumnDefault::Null));
        assert_eq!(d("e"), None);
        assert_eq!(d("f"), Some(ColumnDefault::CurrentTimestamp));
        assert_eq!(d("g"), Some(ColumnDefault::CurrentTimestamp));
        assert_eq!(d("h"), Some(ColumnDefault::Bytes(vec![0x01, 0x42])));
        assert_eq!(d("i"), Some(ColumnDefault::Bytes(b"AB".to_vec())));
        assert!(matches!(d("j"), Some(ColumnDefault::Expression(_))));
        assert_eq!(d("k"), lit("x"));
        assert_eq!(d("l"), lit("TRUE"));
        assert_eq!(d("m"), lit("2020-01-02"));
        assert_eq!(d("n"), lit("3"));

        // The JDBC sink scenario: ADD COLUMN with a default, then changing and dropping it.
        let t = apply(
            &mut cat,
            "ALTER TABLE d ADD COLUMN size INT NOT NULL DEFAULT 1",
        );
        let size = &t.columns[t.column_index("size").unwrap()];
        assert_eq!((size.nullable, size.default.clone()), (false, lit("1")));
        let t = apply(&mut cat, "ALTER TABLE d ALTER COLUMN size SET DEFAULT 7");
        assert_eq!(t.columns[t.column_index("size").unwrap()].default, lit("7"));
        let t = apply(&mut cat, "ALTER TABLE d ALTER COLUMN size DROP DEFAULT");
        assert_eq!(t.columns[t.column_index("size").unwrap()].default, None);
        let t = apply(&mut cat, "ALTER TABLE d MODIFY a BIGINT NOT NULL DEFAULT 5");
        assert_eq!(t.columns[0].default, lit("5"));
    }

    #[test]
    fn bit_and_hex_literals() {
        assert_eq!(bit_bytes("101000010"), Some(vec![0x01, 0x42]));
        assert_eq!(bit_bytes("10110000100001111"), Some(vec![0x01, 0x61, 0x0f]));
        assert_eq!(bit_bytes("0"), Some(vec![0]));
        assert_eq!(bit_bytes("12"), None);
        assert_eq!(hex_bytes("F"), Some(vec![0x0f]));
        assert_eq!(hex_bytes("4142"), Some(b"AB".to_vec()));
    }
}
