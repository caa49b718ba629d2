//! Java `.properties` files as `java.util.Properties.load` reads them: `=`, `:` or blank
//! space between key and value, `#`/`!` comment lines, a trailing odd backslash continuing
//! the line (the next line's leading blank space dropped), and the escapes `\t`, `\n`,
//! `\r`, `\f`, `\uXXXX` and `\<any>` (the character itself) in keys and values.
//!
//! Invariant: the result is what the JVM would read — the last of repeated keys wins, the
//! value's trailing blank space is kept — or an error naming the line (a malformed `\u`
//! escape, which the JVM refuses too).

use std::collections::BTreeMap;

/// Parses properties text; the error names the (1-based) line of the fault.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (line_no, logical) in logical_lines(text) {
        let (key, value) = split_key_value(&logical);
        let key = unescape(key).map_err(|e| format!("line {line_no}: {e}"))?;
        let value = unescape(value).map_err(|e| format!("line {line_no}: {e}"))?;
        out.insert(key, value);
    }
    Ok(out)
}

/// True when the line ends in an odd number of backslashes (it continues on the next).
fn continues(line: &str) -> bool {
    line.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

/// The logical lines (continuations joined, comments and blank lines left out), each with
/// the number of the natural line it starts on.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    // `\r\n`, `\n` and a lone `\r` all end a natural line.
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    for (i, natural) in normalized.split('\n').enumerate() {
        let trimmed = natural.trim_start_matches(is_blank);
        let line = match current.take() {
            Some((start, mut acc)) => {
                acc.push_str(trimmed);
                (start, acc)
            }
            None => {
                if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
                    continue;
                }
                (i + 1, trimmed.to_string())
            }
        };
        if continues(&line.1) {
            let (start, mut acc) = line;
            acc.pop();
            current = Some((start, acc));
        } else {
            out.push(line);
        }
    }
    // A continuation on the last line: the JVM keeps what it has.
    if let Some(line) = current {
        out.push(line);
    }
    out
}

/// Splits a logical line at the first unescaped `=`, `:` or blank (blank space around the
/// separator belongs to neither side; the value keeps its trailing blank space).
fn split_key_value(line: &str) -> (&str, &str) {
    let mut escaped = false;
    let mut key_end = line.len();
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
        } else if c == '=' || c == ':' || is_blank(c) {
            key_end = i;
            break;
        }
    }
    let key = &line[..key_end];
    let mut rest = line[key_end..].trim_start_matches(is_blank);
    if let Some(r) = rest.strip_prefix(['=', ':']) {
        rest = r.trim_start_matches(is_blank);
    }
    (key, rest)
}

/// Resolves the escapes of a key or value.
fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            None => {}
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or_else(|| format!("malformed \\uxxxx escape `\\u{hex}`"))?;
                // UTF-16 surrogate pairs arrive as two escapes; join them.
                out.push(decode_utf16_unit(code, &mut chars)?);
            }
            Some(other) => out.push(other),
        }
    }
    Ok(out)
}

/// A `\uXXXX` code unit, joined with a following `\uXXXX` low surrogate when it is a high one.
fn decode_utf16_unit(code: u32, chars: &mut std::str::Chars<'_>) -> Result<char, String> {
    if let Some(c) = char::from_u32(code) {
        return Ok(c);
    }
    if (0xD800..0xDC00).contains(&code) {
        let rest = chars.as_str();
        if let Some(low) = rest
            .strip_prefix("\\u")
            .and_then(|r| r.get(..4))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .filter(|l| (0xDC00..0xE000).contains(l))
        {
            for _ in 0..6 {
                chars.next();
            }
            let joined = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            if let Some(c) = char::from_u32(joined) {
                return Ok(c);
            }
        }
    }
    // A lone surrogate: the JVM keeps it; a Rust string cannot.
    Ok(char::REPLACEMENT_CHARACTER)
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn one(text: &str) -> (String, String) {
        let m = parse(text).unwrap();
        assert_eq!(m.len(), 1, "{m:?}");
        m.into_iter().next().unwrap()
    }

    #[test]
    fn separators() {
        assert_eq!(one("a=b"), ("a".into(), "b".into()));
        assert_eq!(one("a:b"), ("a".into(), "b".into()));
        assert_eq!(one("a b"), ("a".into(), "b".into()));
        assert_eq!(one("  a \t = \t b  "), ("a".into(), "b  ".into()));
        assert_eq!(one("a = = b"), ("a".into(), "= b".into()));
        assert_eq!(one("a"), ("a".into(), "".into()));
        assert_eq!(one("a="), ("a".into(), "".into()));
        assert_eq!(one("a : b=c:d"), ("a".into(), "b=c:d".into()));
    }

    #[test]
    fn comments_and_blank_lines() {
        let m = parse("# c\n! c\n   # indented comment\n\n  \nk=v # not a comment\n").unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m["k"], "v # not a comment");
    }

    #[test]
    fn continuation_lines() {
        let m = parse("list=a,\\\n    b,\\\r\n\tc\nnext=1\n").unwrap();
        assert_eq!(m["list"], "a,b,c");
        assert_eq!(m["next"], "1");
        // An even number of backslashes is an escaped backslash, not a continuation.
        let m = parse("path=c:\\\\\nnext=1").unwrap();
        assert_eq!(m["path"], "c:\\");
        assert_eq!(m["next"], "1");
        // A continuation line that starts with # is not a comment.
        let m = parse("a=x\\\n  #y\n").unwrap();
        assert_eq!(m["a"], "x#y");
        // A trailing continuation at the end of the file.
        assert_eq!(parse("a=x\\").unwrap()["a"], "x");
    }

    #[test]
    fn escapes() {
        assert_eq!(
            one(r"a\ b\=c\:d = x\ty\nz\\w\q"),
            ("a b=c:d".into(), "x\ty\nz\\wq".into())
        );
        assert_eq!(one(r"k=caf\u00e9"), ("k".into(), "café".into()));
        assert_eq!(one(r"k=\ud83d\ude00"), ("k".into(), "😀".into()));
        // Regexes as Debezium users write them.
        assert_eq!(
            one(r"table.include.list=inventory\\.orders"),
            ("table.include.list".into(), r"inventory\.orders".into())
        );
        let e = parse("ok=1\nk=\\u12").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn last_repeated_key_wins_and_crlf() {
        let m = parse("a=1\r\na=2\rb=3").unwrap();
        assert_eq!(m["a"], "2");
        assert_eq!(m["b"], "3");
    }
}
