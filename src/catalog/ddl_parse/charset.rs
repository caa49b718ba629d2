//! Charset and collation names in DDL: a column's or table's `CHARACTER SET` / `CHARSET` /
//! `COLLATE` clause, the charset a name stands for, and how many bytes a character takes.

use crate::model::Charset;

/// The table's default charset from `[DEFAULT] CHARSET|CHARACTER SET [=] x` or
/// `COLLATE [=] x` after the column list.
pub(super) fn table_charset(sql: &str) -> Option<Charset> {
    charset_clause(table_options(sql))
}

/// The table options of a CREATE TABLE: the text after the `)` that closes its column list
/// (not the last `)`, which may be inside a `PARTITION BY` clause or a comment). Quoted
/// text and comments do not count.
pub(super) fn table_options(sql: &str) -> &str {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == b'\\' && q != b'`' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'(' => depth += 1,
                b')' if depth == 1 => return &sql[i + 1..],
                b')' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
        i += 1;
    }
    ""
}

/// The charset of the first `CHARACTER SET`, `CHARSET` or `COLLATE` clause in `text`.
pub(super) fn charset_clause(text: &str) -> Option<Charset> {
    charset_name_of(text).map(|name| charset_of(&name))
}

/// The charset *name* of the first charset clause in `text` (`COLLATE ascii_bin` → `ascii`),
/// lower-case, as MySQL reports it.
pub(crate) fn charset_name_of(text: &str) -> Option<String> {
    let up = text.to_ascii_uppercase();
    for (key, collation) in [
        ("CHARACTER SET", false),
        ("CHARSET", false),
        ("COLLATE", true),
    ] {
        if let Some(at) = up.find(key) {
            let rest = text[at + key.len()..].trim_start();
            let rest = rest.strip_prefix('=').unwrap_or(rest).trim_start();
            let word: String = rest
                .trim_start_matches(['`', '\'', '"'])
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
                .to_ascii_lowercase();
            if word.is_empty() {
                continue;
            }
            let name = if collation && word != "binary" {
                word.split('_').next().unwrap_or(&word).to_string()
            } else {
                word
            };
            return Some(name);
        }
    }
    None
}

/// A charset from a charset or collation name (`utf8mb4`, `latin1_swedish_ci`, `binary`).
pub(super) fn charset_of(name: &str) -> Charset {
    let lower = name.to_ascii_lowercase();
    let cs = lower.split('_').next().unwrap_or(&lower);
    Charset::from_name(cs)
}

/// Bytes per character, to turn CHAR(n)/VARCHAR(n) into a byte length.
pub(super) fn max_char_bytes(cs: Charset) -> u32 {
    match cs {
        Charset::Utf8 => 4,
        Charset::Binary => 1,
        Charset::Legacy(enc) if enc == encoding_rs::WINDOWS_1252 => 1,
        Charset::Legacy(_) => 2,
        Charset::Utf16Be | Charset::Utf16Le | Charset::Utf32 => 4,
    }
}
