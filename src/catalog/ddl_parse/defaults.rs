//! `DEFAULT` clauses: which constants give a column default, and the bytes of hex (`X'…'`)
//! and bit (`b'…'`) literals (also used for `information_schema` defaults).

use sqlparser::ast::{Expr, UnaryOperator, Value};

use crate::model::ColumnDefault;

/// A `DEFAULT` clause's meaning. Like Debezium's DDL parser (`DefaultValueParserListener`),
/// only constants give a default; a parenthesised or other expression is computed per row.
pub(super) fn default_of(e: &Expr) -> ColumnDefault {
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
