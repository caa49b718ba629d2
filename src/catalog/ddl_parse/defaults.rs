//! `DEFAULT` clauses: which constants give a column default, and the bytes of hex (`X'…'`)
//! and bit (`b'…'`) literals (also used for `information_schema` defaults).

use super::cursor::Cursor;
use super::lexer::Tok;
use crate::model::ColumnDefault;

/// Reads the expression after `DEFAULT` (or `ON UPDATE`). Like Debezium's DDL parser
/// (`DefaultValueParserListener`), only constants give a default; a parenthesised or other
/// expression is computed per row and kept as its text.
pub(super) fn read_default(c: &mut Cursor<'_>) -> Result<ColumnDefault, String> {
    let start = c.pos;
    let first = primary(c)?;
    if !continues_expression(c) {
        return Ok(first);
    }
    while continues_expression(c) {
        c.advance();
        while continues_expression(c) {
            c.advance(); // `<=`, `||`, `- -1`: one character at a time
        }
        primary(c)?;
    }
    Ok(ColumnDefault::Expression(c.text_since(start).to_string()))
}

/// Whether the next token is a binary operator that continues an expression
/// (`DEFAULT 1 + 1`, which MariaDB accepts without parentheses).
fn continues_expression(c: &Cursor<'_>) -> bool {
    matches!(
        c.peek(),
        Some(Tok::Punct(
            '+' | '-' | '*' | '/' | '%' | '|' | '&' | '^' | '<' | '>' | '=' | '!'
        ))
    ) || c.is_any_kw(&["DIV", "MOD", "AND", "OR", "XOR"])
}

/// One operand: a literal, a function call, a parenthesised expression or a keyword.
fn primary(c: &mut Cursor<'_>) -> Result<ColumnDefault, String> {
    let start = c.pos;
    let expression = |c: &Cursor<'_>| ColumnDefault::Expression(c.text_since(start).to_string());
    if c.is_punct('(') {
        c.skip_group()?;
        return Ok(expression(c));
    }
    let mut negative = false;
    let mut signed = false;
    while c.is_punct('-') || c.is_punct('+') {
        negative ^= c.is_punct('-');
        signed = true;
        c.advance();
    }
    if let Some(Tok::Num(n)) = c.peek() {
        c.advance();
        return Ok(ColumnDefault::Literal(if negative {
            format!("-{n}")
        } else {
            n.clone()
        }));
    }
    if signed {
        primary(c)?;
        return Ok(expression(c));
    }
    if let Some(s) = c.string() {
        return Ok(ColumnDefault::Literal(s));
    }
    match c.advance() {
        Some(Tok::Hex(h)) => Ok(hex_bytes(h).map_or_else(|| expression(c), ColumnDefault::Bytes)),
        Some(Tok::Bits(b)) => Ok(bit_bytes(b).map_or_else(|| expression(c), ColumnDefault::Bytes)),
        Some(Tok::Word(w)) => word_default(c, w, start),
        _ => {
            c.pos = start;
            Err(format!("expected a default value, found {}", c.describe()))
        }
    }
}

/// A default that starts with the word `w` (already consumed; `start` is its position).
fn word_default(c: &mut Cursor<'_>, w: &str, start: usize) -> Result<ColumnDefault, String> {
    let up = w.to_ascii_uppercase();
    match up.as_str() {
        "NULL" => return Ok(ColumnDefault::Null),
        // Debezium records the keyword as written; upper case is SHOW CREATE TABLE's.
        "TRUE" | "FALSE" => return Ok(ColumnDefault::Literal(up)),
        // `DATE '2020-01-01'`, `TIMESTAMP '…'`.
        "DATE" | "TIME" | "TIMESTAMP" | "DATETIME" => {
            if let Some(s) = c.string() {
                return Ok(ColumnDefault::Literal(s));
            }
        }
        _ => {}
    }
    if c.is_punct('(') {
        c.skip_group()?;
    }
    let text = c.text_since(start);
    if ColumnDefault::is_now_function(text) {
        return Ok(ColumnDefault::CurrentTimestamp);
    }
    Ok(ColumnDefault::Expression(text.to_string()))
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
