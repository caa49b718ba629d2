//! Charset and collation names in DDL: the charset a charset or collation name stands for,
//! the first charset clause of a text (for `CREATE/ALTER DATABASE`), and how many bytes a
//! character takes.

use crate::model::Charset;

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

/// The charset name of a collation name (`utf8mb4_bin` → `utf8mb4`, `binary` → `binary`),
/// lower-case.
pub(super) fn collation_charset(collation: &str) -> String {
    let lower = collation.to_ascii_lowercase();
    lower.split('_').next().unwrap_or(&lower).to_string()
}
