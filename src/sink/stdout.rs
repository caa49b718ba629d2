//! The stdout sink: one JSON line per record (`{"topic", "key", "value"}`), for debugging
//! and demos. JSON keys and values are embedded as JSON; other bytes (Avro) as base64.
//! A record counts as delivered once it is written and flushed.

use std::io::Write;

use base64::Engine;

use super::{Delivery, OutRecord, SendError};
use crate::error::{Error, Result};

pub struct StdoutSink;

fn embed(bytes: &Option<Vec<u8>>) -> serde_json::Value {
    match bytes {
        None => serde_json::Value::Null,
        Some(b) => serde_json::from_slice(b).unwrap_or_else(|_| {
            serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }),
    }
}

impl StdoutSink {
    pub fn send(&self, rec: OutRecord) -> std::result::Result<Delivery, SendError> {
        let line = serde_json::json!({
            "topic": rec.topic,
            "key": embed(&rec.key),
            "value": embed(&rec.value),
        });
        let mut out = std::io::stdout().lock();
        let r = writeln!(out, "{line}")
            .and_then(|_| out.flush())
            .map_err(|e| Error::io("writing to stdout", e));
        Ok(Box::pin(async move { r }))
    }

    pub fn flush(&self) -> Result<()> {
        std::io::stdout()
            .flush()
            .map_err(|e| Error::io("flushing stdout", e))
    }
}

impl From<Error> for SendError {
    fn from(e: Error) -> Self {
        SendError::Failed(e)
    }
}
