//! MariaDB's long unique keys: a UNIQUE key on a BLOB/TEXT column without a prefix, one
//! longer than the engine's key limit, or one declared `USING HASH`, is kept as a hash in a
//! hidden column `DB_ROW_HASH_<n>` (BIGINT UNSIGNED, n = 1, 2, … in key order) that every
//! row image carries at its very end (after the implicit period columns). MySQL refuses
//! such keys (or ignores `USING HASH`), so they appear in MariaDB's logs only.

use super::cursor::Cursor;
use super::lexer::SqlMode;
use crate::model::{ColumnDesc, ColumnKind, TableDesc};

/// A UNIQUE key as declared.
#[derive(Debug, Clone, Default)]
pub(super) struct UniqueKey {
    /// The key's name (declared, else its first column's, as MariaDB names it).
    pub name: Option<String>,
    /// The key's parts: column name and prefix length.
    pub parts: Vec<(String, Option<u64>)>,
    /// Declared `USING HASH`.
    pub hash: bool,
    /// A part is an expression (MySQL's functional key parts): never a long key.
    pub expression: bool,
}

/// The prefix of the hidden hash columns' names.
const HASH_PREFIX: &str = "DB_ROW_HASH_";

/// Reads `UNIQUE [KEY | INDEX] [IF NOT EXISTS] [name] [USING t] (parts) [options]` at the
/// cursor (at `UNIQUE`), leaving it at the `,` or `)` after the definition.
pub(super) fn read_unique(c: &mut Cursor<'_>) -> Result<UniqueKey, String> {
    c.expect_kw("UNIQUE")?;
    let _ = c.eat_kw("KEY") || c.eat_kw("INDEX");
    c.eat_if_exists();
    let mut key = UniqueKey::default();
    if !c.is_punct('(') && !c.is_kw("USING") {
        key.name = Some(c.name()?);
    }
    c.expect_punct('(').or_else(|_| {
        key.hash |= using_hash(c);
        c.expect_punct('(')
    })?;
    loop {
        if c.is_punct('(') {
            key.expression = true;
            c.skip_group()?;
        } else {
            let name = c.name()?;
            let prefix = if c.eat_punct('(') {
                let n = c.number();
                c.expect_punct(')')?;
                n
            } else {
                None
            };
            key.parts.push((name, prefix));
        }
        let _ = c.eat_kw("ASC") || c.eat_kw("DESC");
        if c.eat_punct(')') {
            break;
        }
        c.expect_punct(',')?;
    }
    while !(c.at_end() || c.is_punct(',') || c.is_punct(')')) {
        if c.is_kw("USING") {
            key.hash |= using_hash(c);
        } else if c.is_punct('(') {
            c.skip_group()?;
        } else {
            c.advance();
        }
    }
    Ok(key)
}

/// Consumes `USING <type>`; true when the type is HASH.
fn using_hash(c: &mut Cursor<'_>) -> bool {
    if !c.is_kw("USING") {
        return false;
    }
    c.advance();
    let hash = c.is_kw("HASH");
    c.advance();
    hash
}

/// The bytes a character takes at most in the charset named `name` (the real width, where
/// the column kind keeps 4 for every UTF-8).
fn char_width(col: &ColumnDesc) -> u64 {
    let Some(name) = col.ddl.charset_name.as_deref() else {
        return u64::from(super::charset::max_char_bytes(col.charset));
    };
    match name {
        "binary" | "latin1" | "ascii" | "latin2" | "latin5" | "latin7" | "cp1250" | "cp1251"
        | "cp1256" | "cp1257" | "cp850" | "cp852" | "cp866" | "koi8r" | "koi8u" | "greek"
        | "hebrew" | "armscii8" | "geostd8" | "keybcs2" | "macce" | "macroman" | "dec8" | "hp8"
        | "swe7" | "tis620" => 1,
        "ucs2" | "gbk" | "big5" | "sjis" | "cp932" | "euckr" | "gb2312" => 2,
        "utf8" | "utf8mb3" | "ujis" | "eucjpms" => 3,
        _ => 4,
    }
}

/// Whether `key` on `desc` is a long unique key under `engine` (upper-case, "" when not
/// given) and `mode`.
fn is_long(desc: &TableDesc, key: &UniqueKey, engine: &str, mode: SqlMode) -> bool {
    if key.expression || engine == "MEMORY" || engine == "HEAP" {
        return false;
    }
    if key.hash && mode.mariadb {
        return true;
    }
    let limit = match engine {
        "" | "INNODB" => 3072,
        "MYISAM" => 1000,
        _ => u64::MAX,
    };
    let mut bytes = 0u64;
    for (name, prefix) in &key.parts {
        let Some(col) = desc.column_index(name).map(|i| &desc.columns[i]) else {
            return false;
        };
        let binary = col.charset.is_binary();
        let width = if binary { 1 } else { char_width(col) };
        let part = match (&col.kind, prefix) {
            (ColumnKind::Blob { .. } | ColumnKind::Json | ColumnKind::Geometry, None) => {
                return true
            }
            (_, Some(p)) => p.saturating_mul(width),
            (ColumnKind::Char { .. } | ColumnKind::VarChar { .. }, None) => {
                (col.ddl.length.unwrap_or(1).max(0) as u64).saturating_mul(width)
            }
            _ => 8,
        };
        bytes = bytes.saturating_add(part);
    }
    bytes > limit
}

/// Adds a hidden hash column at the end of `desc` for each of `keys` that is a long unique
/// key.
pub(super) fn add_hash_columns(
    desc: &mut TableDesc,
    keys: &[UniqueKey],
    engine: &str,
    mode: SqlMode,
) {
    for key in keys {
        if is_long(desc, key, engine, mode) {
            let n = hash_columns(desc) + 1;
            let mut col = ColumnDesc::new(format!("{HASH_PREFIX}{n}"), ColumnKind::BigInt);
            col.unsigned = true;
            let name = key
                .name
                .clone()
                .or_else(|| key.parts.first().map(|p| p.0.clone()))
                .unwrap_or_default();
            let parts: Vec<&str> = key.parts.iter().map(|p| p.0.as_str()).collect();
            col.ddl.comment = Some(mark(&name, &parts));
            col.ddl.type_name = Some("BIGINT UNSIGNED".into());
            col.ddl.jdbc_type = Some(ColumnKind::BigInt.jdbc_type(false));
            desc.columns.push(col);
        }
    }
}

/// The start of a hash column's comment, followed by its key's name.
const KEY_MARK: &str = "hash of the long unique key ";

/// A hash column's comment: its key's name and columns (`… key u (a, b)`).
fn mark(name: &str, parts: &[&str]) -> String {
    format!("{KEY_MARK}{name} ({})", parts.join(", "))
}

/// The key name and columns a hash column's comment records.
fn key_of(col: &ColumnDesc) -> Option<(String, Vec<String>)> {
    if !col.name.starts_with(HASH_PREFIX) {
        return None;
    }
    let rest = col.ddl.comment.as_deref()?.strip_prefix(KEY_MARK)?;
    let (name, parts) = rest.rsplit_once(" (")?;
    let parts = parts.strip_suffix(')')?;
    Some((
        name.to_string(),
        parts.split(", ").map(str::to_string).collect(),
    ))
}

/// The hash column of the long unique key `key`, if it is one.
fn hash_column_of(desc: &TableDesc, key: &str) -> Option<usize> {
    desc.columns
        .iter()
        .position(|c| key_of(c).is_some_and(|(k, _)| k.eq_ignore_ascii_case(key)))
}

/// Names the hash columns DB_ROW_HASH_1, 2, … in order, as MariaDB does.
fn renumber(desc: &mut TableDesc) {
    let mut n = 0;
    for c in desc.columns.iter_mut() {
        if c.name.starts_with(HASH_PREFIX) {
            n += 1;
            c.name = format!("{HASH_PREFIX}{n}");
        }
    }
}

/// `DROP INDEX key`: removes the key's hash column when it is a long unique key (the
/// others are renumbered, as MariaDB does); returns its index.
pub(super) fn drop_key(desc: &mut TableDesc, key: &str) -> Option<usize> {
    let i = hash_column_of(desc, key)?;
    desc.columns.remove(i);
    renumber(desc);
    Some(i)
}

/// `DROP COLUMN column`: the column leaves the long unique keys that cover it, and a key
/// left without columns goes with its hash column. Returns the indexes of the hash columns
/// removed (highest first).
pub(super) fn drop_key_column(desc: &mut TableDesc, column: &str) -> Vec<usize> {
    let mut gone = Vec::new();
    for i in (0..desc.columns.len()).rev() {
        let Some((name, parts)) = key_of(&desc.columns[i]) else {
            continue;
        };
        let left: Vec<&str> = parts
            .iter()
            .map(String::as_str)
            .filter(|p| !p.eq_ignore_ascii_case(column))
            .collect();
        if left.is_empty() {
            gone.push(i);
        } else {
            desc.columns[i].ddl.comment = Some(mark(&name, &left));
        }
    }
    for &i in &gone {
        desc.columns.remove(i);
    }
    renumber(desc);
    gone
}

/// `RENAME INDEX from TO to`: the hash column follows its key's new name.
pub(super) fn rename_key(desc: &mut TableDesc, from: &str, to: &str) {
    if let Some(i) = hash_column_of(desc, from) {
        if let Some((_, parts)) = key_of(&desc.columns[i]) {
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            desc.columns[i].ddl.comment = Some(mark(to, &parts));
        }
    }
}

/// How many hidden hash columns `desc` has.
pub(crate) fn hash_columns(desc: &TableDesc) -> usize {
    desc.columns
        .iter()
        .filter(|c| c.name.starts_with(HASH_PREFIX))
        .count()
}

/// The index before which new columns go: before the hidden hash columns (and the implicit
/// period columns before them), which stay last.
pub(super) fn hidden_tail(desc: &TableDesc) -> usize {
    let n = desc.columns.len() - hash_columns(desc);
    let head = TableDesc {
        columns: desc.columns[..n].to_vec(),
        ..TableDesc::clone(desc)
    };
    if super::has_implicit_period(&head) {
        n - 2
    } else {
        n
    }
}
