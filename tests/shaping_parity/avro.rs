//! rowtide's `avro` records made comparable with Debezium's JSON payloads: every key and
//! value (Confluent framing: magic byte, schema id, Avro binary) is decoded with its writer
//! schema — fetched from the registry by id — by a second Avro implementation (Python
//! fastavro, `ROWTIDE_TEST_PYTHON`), into the JSON Kafka Connect's JsonConverter writes for
//! the same data without schemas (bytes and decimals as base64 of their bytes).
//!
//! Invariant: a record that cannot be decoded fails the test naming it; nothing is dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::common::kafka::Record;

const DECODER: &str = r#"
import base64, decimal, io, json, sys
import fastavro

def plain(v):
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, decimal.Decimal):
        sign, digits, exp = v.as_tuple()
        n = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
        bits = n.bit_length() if n >= 0 else (~n).bit_length()
        return base64.b64encode(n.to_bytes(bits // 8 + 1, "big", signed=True)).decode()
    return v

inp = json.load(sys.stdin)
schemas = {k: fastavro.parse_schema(json.loads(v)) for k, v in inp["schemas"].items()}
out = []
for sid, data in inp["records"]:
    data = bytes.fromhex(data)
    out.append(plain(fastavro.schemaless_reader(io.BytesIO(data[5:]), schemas[str(sid)])))
json.dump(out, sys.stdout)
"#;

/// The schema id of a framed Avro datum.
fn schema_id(framed: &[u8], what: &str) -> u32 {
    assert!(
        framed.len() >= 5 && framed[0] == 0,
        "{what}: not a Confluent-framed Avro datum"
    );
    u32::from_be_bytes([framed[1], framed[2], framed[3], framed[4]])
}

/// The writer schema `id` from the registry (Confluent API `GET /schemas/ids/{id}`). Each
/// attempt is bounded (a response the registry never finishes must not hang the test);
/// a stalled or failed one is tried again, up to five times.
async fn fetch_schema(registry_url: &str, id: u32) -> String {
    let url = format!("{}/schemas/ids/{id}", registry_url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("http client");
    let mut last = String::new();
    for _ in 0..5 {
        let got = async {
            let resp = client.get(&url).send().await?.error_for_status()?;
            resp.json::<Value>().await
        }
        .await;
        match got {
            Ok(body) => {
                return body["schema"]
                    .as_str()
                    .unwrap_or_else(|| panic!("GET {url}: no schema in {body}"))
                    .to_string()
            }
            Err(e) => last = e.to_string(),
        }
    }
    panic!("GET {url}: {last} (5 attempts)")
}

/// Replaces every key and value of `records` by its decoded JSON (nulls stay null).
pub async fn decode_all(python: &str, registry_url: &str, records: &mut [Record]) {
    let mut parts: Vec<(usize, bool, u32, String)> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        for (is_key, bytes) in [(true, &r.key), (false, &r.value)] {
            if let Some(b) = bytes {
                let what = format!(
                    "{}@{} {}",
                    r.topic,
                    r.offset,
                    if is_key { "key" } else { "value" }
                );
                parts.push((i, is_key, schema_id(b, &what), hex::encode(b)));
            }
        }
    }
    if parts.is_empty() {
        return;
    }
    let ids: BTreeSet<u32> = parts.iter().map(|p| p.2).collect();
    let mut schemas = BTreeMap::new();
    for id in ids {
        schemas.insert(id.to_string(), fetch_schema(registry_url, id).await);
    }
    let input = json!({
        "schemas": schemas,
        "records": parts.iter().map(|(_, _, id, h)| json!([id, h])).collect::<Vec<_>>(),
    });
    let mut child = Command::new(python)
        .arg("-c")
        .arg(DECODER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {python}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "fastavro failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoded: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    for ((i, is_key, _, _), v) in parts.iter().zip(decoded) {
        let text = Some(v.to_string().into_bytes());
        if *is_key {
            records[*i].key = text;
        } else {
            records[*i].value = text;
        }
    }
}
