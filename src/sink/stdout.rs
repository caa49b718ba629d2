//! The stdout sink: one JSON line per record (`{"topic", "key", "value"}`), for debugging
//! and demos. JSON keys and values are embedded as they were encoded (same bytes, same
//! field order as in Kafka); other bytes (Avro) as a base64 string.
//! Records are buffered; a record counts as delivered once the buffer holding it has been
//! written and flushed, which the sink loop asks for once per batch of records.

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine;

use super::{Delivery, OutRecord, SendError};
use crate::error::{Error, Result};

/// Lines are written out when this much is buffered, and when a delivery is awaited.
const BUFFER: usize = 256 * 1024;

#[derive(Default)]
pub struct StdoutSink {
    state: Arc<Mutex<Buffered>>,
}

#[derive(Default)]
struct Buffered {
    buf: Vec<u8>,
    /// Records appended so far, and how many of them are written and flushed.
    sent: u64,
    flushed: u64,
}

impl Buffered {
    fn write_out(&mut self) -> Result<()> {
        let mut out = std::io::stdout().lock();
        let r = out
            .write_all(&self.buf)
            .and_then(|_| out.flush())
            .map_err(|e| Error::io("writing to stdout", e));
        self.buf.clear();
        if r.is_ok() {
            self.flushed = self.sent;
        }
        r
    }
}

fn lock(m: &Mutex<Buffered>) -> std::sync::MutexGuard<'_, Buffered> {
    // A panic while holding the lock leaves at worst a partly appended line in the buffer.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Appends `{"topic":…,"key":…,"value":…}` and a newline to `out`. JSON payloads are
/// embedded verbatim, anything else as a base64 string; `None` (a tombstone's value, a
/// keyless table's key) as `null`.
pub fn json_line(topic: &str, key: Option<&[u8]>, value: Option<&[u8]>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"topic\":");
    write_json_str(topic, out);
    out.extend_from_slice(b",\"key\":");
    embed(key, out);
    out.extend_from_slice(b",\"value\":");
    embed(value, out);
    out.extend_from_slice(b"}\n");
}

fn write_json_str(s: &str, out: &mut Vec<u8>) {
    // Escaping a &str into a Vec cannot fail.
    if serde_json::to_writer(&mut *out, s).is_err() {
        out.extend_from_slice(b"null");
    }
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
            out.push(b'"');
            out.extend_from_slice(
                base64::engine::general_purpose::STANDARD
                    .encode(b)
                    .as_bytes(),
            );
            out.push(b'"');
        }
    }
}

impl StdoutSink {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the record's line; its delivery resolves once the line is flushed (the first
    /// delivery awaited flushes everything buffered before it).
    pub fn send(&self, rec: OutRecord) -> std::result::Result<Delivery, SendError> {
        let seq = {
            let mut st = lock(&self.state);
            json_line(
                &rec.topic,
                rec.key.as_deref(),
                rec.value.as_deref(),
                &mut st.buf,
            );
            st.sent += 1;
            if st.buf.len() >= BUFFER {
                st.write_out()?;
            }
            st.sent
        };
        let state = self.state.clone();
        Ok(Box::pin(async move {
            let mut st = lock(&state);
            if st.flushed >= seq {
                Ok(())
            } else {
                st.write_out()
            }
        }))
    }

    /// Writes and flushes what is buffered: every record sent so far is then delivered.
    pub fn flush(&self) -> Result<()> {
        lock(&self.state).write_out()
    }
}

impl From<Error> for SendError {
    fn from(e: Error) -> Self {
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
