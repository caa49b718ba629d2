//! MySQL binary JSON: rendering it as JSON text in storage order, and applying the partial
//! updates (`binlog_row_value_options=PARTIAL_JSON`) of a PARTIAL_UPDATE_ROWS event to the
//! before image.
//!
//! mysql_common parses the binary format; its own conversion sorts object keys and prints
//! decimals as strings, so the rendering is written here to keep MySQL's key order and
//! number forms.

use std::fmt::Write;

use mysql_common::binlog::jsonb;
use mysql_common::binlog::jsondiff::{JsonDiff, JsonDiffOperation};
use mysql_common::constants::ColumnType;
use mysql_common::io::ParseBuf;

/// Renders one binary JSON document as compact JSON text.
pub fn jsonb_to_text(bytes: &[u8]) -> Result<String, String> {
    if bytes.is_empty() {
        // An empty binary value is how MySQL logs a JSON column holding SQL NULL inside a
        // NOT NULL context; it reads back as JSON null.
        return Ok("null".into());
    }
    let value: jsonb::Value<'_> = ParseBuf(bytes)
        .parse(())
        .map_err(|e| format!("binary JSON: {e}"))?;
    let mut out = String::with_capacity(bytes.len() + 16);
    write_value(&value, &mut out, 0)?;
    Ok(out)
}

/// How deep a binary JSON document may nest. MySQL refuses documents deeper than 100; a
/// damaged one could nest thousands of levels in a few kilobytes and overflow the stack
/// of this recursion.
const MAX_DEPTH: usize = 1000;

fn write_value(v: &jsonb::Value<'_>, out: &mut String, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "binary JSON nests deeper than {MAX_DEPTH} levels (MySQL allows 100): damaged"
        ));
    }
    use jsonb::Value as V;
    match v {
        V::Null => out.push_str("null"),
        V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        V::I16(x) => write!(out, "{x}").unwrap_or(()),
        V::U16(x) => write!(out, "{x}").unwrap_or(()),
        V::I32(x) => write!(out, "{x}").unwrap_or(()),
        V::U32(x) => write!(out, "{x}").unwrap_or(()),
        V::I64(x) => write!(out, "{x}").unwrap_or(()),
        V::U64(x) => write!(out, "{x}").unwrap_or(()),
        V::F64(x) => write_f64(*x, out),
        V::String(s) => write_str(&s.str(), out),
        V::SmallArray(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(
                    &e.map_err(|e| format!("binary JSON array: {e}"))?,
                    out,
                    depth + 1,
                )?;
            }
            out.push(']');
        }
        V::LargeArray(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(
                    &e.map_err(|e| format!("binary JSON array: {e}"))?,
                    out,
                    depth + 1,
                )?;
            }
            out.push(']');
        }
        V::SmallObject(o) => {
            out.push('{');
            for (i, e) in o.iter().enumerate() {
                let (k, v) = e.map_err(|e| format!("binary JSON object: {e}"))?;
                if i > 0 {
                    out.push(',');
                }
                write_str(&k.value(), out);
                out.push(':');
                write_value(&v, out, depth + 1)?;
            }
            out.push('}');
        }
        V::LargeObject(o) => {
            out.push('{');
            for (i, e) in o.iter().enumerate() {
                let (k, v) = e.map_err(|e| format!("binary JSON object: {e}"))?;
                if i > 0 {
                    out.push(',');
                }
                write_str(&k.value(), out);
                out.push(':');
                write_value(&v, out, depth + 1)?;
            }
            out.push('}');
        }
        V::Opaque(o) => write_opaque(o, out)?,
    }
    Ok(())
}

fn write_f64(x: f64, out: &mut String) {
    if x.is_finite() {
        if x.fract() == 0.0 && x.abs() < 1e15 {
            write!(out, "{x:.1}").unwrap_or(());
        } else {
            write!(out, "{x}").unwrap_or(());
        }
    } else {
        out.push_str("null");
    }
}

fn write_str(s: &str, out: &mut String) {
    // serde_json's escaping is the JSON standard's; writing into a String cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

/// Opaque values carry a MySQL type: DECIMAL prints as a number, temporal values as quoted
/// strings (as `JSON_UNQUOTE` shows them), anything else as base64 with its type.
fn write_opaque(o: &jsonb::OpaqueValue<'_>, out: &mut String) -> Result<(), String> {
    let data = o.data_raw();
    match o.value_type() {
        ColumnType::MYSQL_TYPE_NEWDECIMAL => {
            if data.len() < 2 {
                return Err("binary JSON decimal too short".into());
            }
            let (precision, scale) = (data[0], data[1]);
            let (text, _) = super::read_decimal(&data[2..], precision, scale)?;
            out.push_str(&text);
        }
        t @ (ColumnType::MYSQL_TYPE_DATE
        | ColumnType::MYSQL_TYPE_DATETIME
        | ColumnType::MYSQL_TYPE_TIMESTAMP
        | ColumnType::MYSQL_TYPE_TIME) => {
            if data.len() < 8 {
                return Err("binary JSON temporal value too short".into());
            }
            let packed = i64::from_le_bytes(data[..8].try_into().unwrap_or([0; 8]));
            let text = if t == ColumnType::MYSQL_TYPE_TIME {
                crate::model::value::format_time(time_from_packed(packed))
            } else {
                let dt = datetime_from_packed(packed);
                if t == ColumnType::MYSQL_TYPE_DATE {
                    format!("{:04}-{:02}-{:02}", dt.year, dt.month, dt.day)
                } else {
                    let mut s = format!(
                        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                        dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second
                    );
                    write!(s, ".{:06}", dt.micros).unwrap_or(());
                    s
                }
            };
            write_str(&text, out);
        }
        other => {
            use base64::Engine;
            let text = format!(
                "base64:type{}:{}",
                other as u8,
                base64::engine::general_purpose::STANDARD.encode(data)
            );
            write_str(&text, out);
        }
    }
    Ok(())
}

/// Unpacks MySQL's in-memory packed TIME (sign, then hh:mm:ss << 24 | micros).
pub(crate) fn time_from_packed(packed: i64) -> i64 {
    let neg = packed < 0;
    let p = packed.unsigned_abs();
    let hms = p >> 24;
    let micros = p & 0xff_ffff;
    let hour = (hms >> 12) % (1 << 10);
    let minute = (hms >> 6) % (1 << 6);
    let second = hms % (1 << 6);
    let total = ((hour * 3600 + minute * 60 + second) * 1_000_000 + micros) as i64;
    if neg {
        -total
    } else {
        total
    }
}

/// Unpacks MySQL's packed DATETIME (ymd << 17 | hms) << 24 | micros.
pub(crate) fn datetime_from_packed(packed: i64) -> crate::model::DateTime {
    let p = packed.unsigned_abs();
    let micros = (p % (1 << 24)) as u32;
    let ymdhms = p >> 24;
    let ymd = ymdhms >> 17;
    let ym = ymd >> 5;
    let hms = ymdhms % (1 << 17);
    crate::model::DateTime {
        year: (ym / 13) as u16,
        month: (ym % 13) as u8,
        day: (ymd % (1 << 5)) as u8,
        hour: (hms >> 12) as u8,
        minute: ((hms >> 6) % (1 << 6)) as u8,
        second: (hms % (1 << 6)) as u8,
        micros,
    }
}

/// Applies the JSON diffs of a partial update to the before image's JSON text.
pub fn apply_diffs(before: &str, diffs_bytes: &[u8]) -> Result<String, String> {
    let mut doc: serde_json::Value =
        serde_json::from_str(before).map_err(|e| format!("before image is not JSON: {e}"))?;
    let mut buf = ParseBuf(diffs_bytes);
    while !buf.is_empty() {
        let diff: JsonDiff<'_> = buf.parse(()).map_err(|e| format!("JSON diff: {e}"))?;
        let path = parse_path(&diff.path_str())?;
        let value = match diff.value() {
            Some(v) => {
                let mut s = String::new();
                write_value(v, &mut s, 0)?;
                Some(serde_json::from_str::<serde_json::Value>(&s).map_err(|e| e.to_string())?)
            }
            None => None,
        };
        apply_one(&mut doc, &path, diff.operation(), value)
            .map_err(|e| format!("JSON diff at {}: {e}", diff.path_str()))?;
    }
    Ok(serde_json::to_string(&doc).unwrap_or_default())
}

#[derive(Debug, PartialEq)]
enum Leg {
    Key(String),
    Index(usize),
}

/// Parses the JSON paths MySQL writes in diffs: `$`, `$.a`, `$."a b"`, `$[3]`.
fn parse_path(p: &str) -> Result<Vec<Leg>, String> {
    let mut chars = p.trim().chars().peekable();
    if chars.next() != Some('$') {
        return Err(format!("JSON path `{p}` does not start with $"));
    }
    let mut legs = Vec::new();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut key = String::new();
                if chars.peek() == Some(&'"') {
                    chars.next();
                    let mut escaped = false;
                    for c in chars.by_ref() {
                        if escaped {
                            key.push(c);
                            escaped = false;
                        } else if c == '\\' {
                            escaped = true;
                        } else if c == '"' {
                            break;
                        } else {
                            key.push(c);
                        }
                    }
                } else {
                    while let Some(&c) = chars.peek() {
                        if c == '.' || c == '[' {
                            break;
                        }
                        key.push(c);
                        chars.next();
                    }
                }
                legs.push(Leg::Key(key));
            }
            '[' => {
                let mut n = String::new();
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    n.push(c);
                }
                legs.push(Leg::Index(
                    n.trim()
                        .parse()
                        .map_err(|_| format!("bad array index in JSON path `{p}`"))?,
                ));
            }
            c if c.is_whitespace() => {}
            _ => return Err(format!("unexpected `{c}` in JSON path `{p}`")),
        }
    }
    Ok(legs)
}

fn apply_one(
    doc: &mut serde_json::Value,
    path: &[Leg],
    op: JsonDiffOperation,
    value: Option<serde_json::Value>,
) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        // The whole document.
        return match (op, value) {
            (JsonDiffOperation::REPLACE, Some(v)) => {
                *doc = v;
                Ok(())
            }
            _ => Err("cannot insert or remove the root".into()),
        };
    };
    let mut cur = doc;
    for leg in parents {
        cur = match (leg, cur) {
            (Leg::Key(k), serde_json::Value::Object(m)) => {
                m.get_mut(k).ok_or_else(|| format!("no member `{k}`"))?
            }
            (Leg::Index(i), serde_json::Value::Array(a)) => {
                a.get_mut(*i).ok_or_else(|| format!("no element {i}"))?
            }
            _ => return Err("path does not match the document".into()),
        };
    }
    match (op, last, cur) {
        (JsonDiffOperation::REMOVE, Leg::Key(k), serde_json::Value::Object(m)) => {
            m.shift_remove(k);
        }
        (JsonDiffOperation::REMOVE, Leg::Index(i), serde_json::Value::Array(a)) => {
            if *i < a.len() {
                a.remove(*i);
            }
        }
        (_, Leg::Key(k), serde_json::Value::Object(m)) => {
            let v = value.ok_or("diff without a value")?;
            m.insert(k.clone(), v);
        }
        (JsonDiffOperation::REPLACE, Leg::Index(i), serde_json::Value::Array(a)) => {
            let v = value.ok_or("diff without a value")?;
            let slot = a.get_mut(*i).ok_or_else(|| format!("no element {i}"))?;
            *slot = v;
        }
        (JsonDiffOperation::INSERT, Leg::Index(i), serde_json::Value::Array(a)) => {
            let v = value.ok_or("diff without a value")?;
            let at = (*i).min(a.len());
            a.insert(at, v);
        }
        _ => return Err("path does not match the document".into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parse_path("$").unwrap(), vec![]);
        assert_eq!(
            parse_path("$.a[2].\"b c\"").unwrap(),
            vec![Leg::Key("a".into()), Leg::Index(2), Leg::Key("b c".into())]
        );
    }

    #[test]
    fn packed_temporal() {
        // 12:34:56.789 packed: ((12<<12)|(34<<6)|56) << 24 | 789000
        let p = (((12i64 << 12) | (34 << 6) | 56) << 24) | 789_000;
        assert_eq!(
            time_from_packed(p),
            (12 * 3600 + 34 * 60 + 56) * 1_000_000 + 789_000
        );
        assert_eq!(
            time_from_packed(-p),
            -((12 * 3600 + 34 * 60 + 56) * 1_000_000 + 789_000)
        );
    }
}
