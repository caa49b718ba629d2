//! The stdout sink: one JSON line per record (`{"topic", "key", "value"}`), for debugging
//! and demos. JSON keys and values are embedded as they were encoded (same bytes, same
//! field order as in Kafka); other bytes (Avro) as a base64 string.
//! Lines are buffered; a record is acknowledged once the buffer holding it has been written
//! and flushed, which happens when the buffer is full and after every batch the sink loop
//! hands over.

use std::io::Write;
use std::sync::Mutex;

use super::{Acks, Failure, OutRecord, SendError};
use base64::Engine;

/// Lines are written out when this much is buffered (and after every batch).
const BUFFER: usize = 256 * 1024;

#[derive(Default)]
pub struct StdoutSink {
    state: Mutex<Buffered>,
    acks: Acks,
}

#[derive(Default)]
struct Buffered {
    buf: Vec<u8>,
    /// Sequence numbers of the records in `buf`.
    seqs: Vec<u64>,
}

/// Appends `{"topic":…,"key":…,"value":…}` and a newline to `out`. JSON payloads are
/// embedded verbatim, anything else as a base64 string; `None` (a tombstone's value, a
/// keyless table's key) as `null`.
pub fn json_line(topic: &str, key: Option<&[u8]>, value: Option<&[u8]>, out: &mut Vec<u8>) {
    json_line_with(topic, key, value, &[], out)
}

/// As [`json_line`], with the record's headers as `"headers":[{"key","value"}]` (values as
/// text when they are UTF-8, else base64) when it has any.
pub fn json_line_with(
    topic: &str,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[super::Header],
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b"{\"topic\":");
    // Escaping a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, topic);
    out.extend_from_slice(b",\"key\":");
    embed(key, out);
    out.extend_from_slice(b",\"value\":");
    embed(value, out);
    if !headers.is_empty() {
        let list: Vec<serde_json::Value> = headers
            .iter()
            .map(|h| {
                let v = h.value.as_deref().map(|b| match std::str::from_utf8(b) {
                    Ok(t) => t.to_string(),
                    Err(_) => base64::engine::general_purpose::STANDARD.encode(b),
                });
                serde_json::json!({"key": &*h.key, "value": v})
            })
            .collect();
        out.extend_from_slice(b",\"headers\":");
        let _ = serde_json::to_writer(&mut *out, &list);
    }
    out.extend_from_slice(b"}\n");
}

fn embed(bytes: Option<&[u8]>, out: &mut Vec<u8>) {
    match bytes {
        None => out.extend_from_slice(b"null"),
        // Validation only: nothing is allocated for the parsed value. A JSON text without
        // raw line breaks stays on its line (encoders never write any).
        Some(b)
            if !b.contains(&b'\n')
                && serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok() =>
        {
            out.extend_from_slice(b)
        }
        Some(b) => {
            let text = base64::engine::general_purpose::STANDARD.encode(b);
            // Writing a string into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, &text);
        }
    }
}

impl StdoutSink {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the record's line; it is acknowledged under `seq` once written out.
    pub fn send(&self, rec: OutRecord, seq: u64) -> std::result::Result<(), SendError> {
        let full = {
            let mut st = self.lock();
            json_line_with(
                &rec.topic,
                rec.key.as_deref(),
                rec.value.as_deref(),
                &rec.headers,
                &mut st.buf,
            );
            st.seqs.push(seq);
            st.buf.len() >= BUFFER
        };
        if full {
            self.write_out();
        }
        Ok(())
    }

    /// Writes and flushes what is buffered, then acknowledges those records (or reports
    /// the write error for each of them).
    pub fn write_out(&self) {
        let mut st = self.lock();
        if st.seqs.is_empty() {
            return;
        }
        let mut out = std::io::stdout().lock();
        let r = out
            .write_all(&st.buf)
            .and_then(|_| out.flush())
            .map_err(|e| format!("writing to stdout: {e}"));
        st.buf.clear();
        let seqs = std::mem::take(&mut st.seqs);
        drop(st);
        self.acks.extend(
            seqs.into_iter()
                .map(|seq| (seq, r.clone().map_err(Failure::Io))),
        );
    }

    pub fn acks(&self) -> &Acks {
        &self.acks
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buffered> {
        // A panic while holding the lock leaves at worst a partly appended line.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl From<crate::error::Error> for SendError {
    fn from(e: crate::error::Error) -> Self {
        SendError::Failed(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_embed_json_and_base64() {
        let mut out = Vec::new();
        json_line(
            "p.db.t",
            Some(br#"{"id":1}"#),
            Some(br#"{"b":2,"a":1.0}"#),
            &mut out,
        );
        json_line("p.db.t", Some(br#"{"id":1}"#), None, &mut out);
        json_line(
            "p.db.t",
            Some(&[0, 0, 0, 0, 1, 2]),
            Some(b"\x00\x01"),
            &mut out,
        );
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // Field order and number formatting are kept as encoded.
        assert_eq!(
            lines[0],
            r#"{"topic":"p.db.t","key":{"id":1},"value":{"b":2,"a":1.0}}"#
        );
        assert_eq!(
            lines[1],
            r#"{"topic":"p.db.t","key":{"id":1},"value":null}"#
        );
        assert_eq!(
            lines[2],
            r#"{"topic":"p.db.t","key":"AAAAAAEC","value":"AAE="}"#
        );
    }
}
