//! Debezium's MySQL/MariaDB connector offset, as Kafka Connect stores it (a JSON map under the
//! key `["<connector>", {"server": "<topic.prefix>"}]`), and the checks that decide whether
//! rowtide can resume from it exactly.
//!
//! Debezium's offset says: reconnect at the transaction that begins at `file`:`pos` (with
//! `gtids` as the executed GTID set before it), pass over its first `event` binlog events
//! (counted from the transaction's first event, the MariaDB GTID event or MySQL's `BEGIN`,
//! which is event 1) and then over the first `row` rows of the next event. Offsets taken
//! between transactions have neither `event` nor `row`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{Flavor, GtidSet, MariadbGtid, MariadbGtidList, MysqlGtidSet};

/// One connector's stored offset for one source partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebeziumOffset {
    /// The `server` of the source partition (Debezium's `topic.prefix`).
    pub server: String,
    pub file: String,
    pub pos: u64,
    /// The executed GTID set before the transaction at `file:pos`, as Debezium wrote it.
    pub gtids: Option<String>,
    /// Events of the transaction already processed (`event`).
    pub events: u64,
    /// Rows of the next event already processed (`row`).
    pub rows: u64,
    /// `ts_sec`: when the last processed event was written.
    pub ts_sec: Option<i64>,
    /// `server_id` of the last processed event.
    pub server_id: Option<u64>,
}

/// Reads a connector's offset map. Errors are refusals: the reason rowtide cannot resume
/// exactly where Debezium would.
pub fn parse(server: &str, value: &Value) -> Result<DebeziumOffset, String> {
    let map = value
        .as_object()
        .ok_or_else(|| format!("the offset is not a JSON object: {value}"))?;
    let snapshot = map.get("snapshot").map(truthy).unwrap_or(false);
    let completed = map.get("snapshot_completed").map(truthy).unwrap_or(false);
    if snapshot && !completed {
        return Err(
            "the offset was taken during Debezium's initial snapshot (`snapshot` is set and \
             `snapshot_completed` is not true): Debezium itself would restart the snapshot, so \
             there is no binlog position to resume from. Let the snapshot finish (or run \
             rowtide with its own snapshot) and import again"
                .into(),
        );
    }
    let file = match map.get("file") {
        Some(Value::String(f)) if !f.is_empty() => f.clone(),
        Some(other) => return Err(format!("`file` is not a binlog file name: {other}")),
        None => return Err("the offset has no `file` (binlog file name)".into()),
    };
    let pos = number(map, "pos")?.ok_or("the offset has no `pos` (binlog position)")?;
    if pos < 4 {
        return Err(format!(
            "`pos` {pos} is before the first event of a binlog file (4)"
        ));
    }
    let gtids = match map.get("gtids") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.trim().to_string()),
        Some(other) => return Err(format!("`gtids` is not a string: {other}")),
    };
    Ok(DebeziumOffset {
        server: server.to_string(),
        file,
        pos,
        gtids,
        events: number(map, "event")?.unwrap_or(0),
        rows: number(map, "row")?.unwrap_or(0),
        ts_sec: number(map, "ts_sec")?.map(|t| t as i64),
        server_id: number(map, "server_id")?,
    })
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Null => false,
        // Debezium 1.x wrote `true`; 2.x/3.x write the snapshot kind (`INITIAL`, …).
        Value::String(s) => !s.is_empty() && !s.eq_ignore_ascii_case("false"),
        Value::Number(n) => n.as_u64() != Some(0),
        _ => true,
    }
}

/// A non-negative integer that Kafka Connect's JSON may hold as a number or a string.
fn number(map: &serde_json::Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("`{key}` is not a non-negative integer: {n}")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("`{key}` is not a non-negative integer: {s:?}")),
        Some(other) => Err(format!("`{key}` is not a non-negative integer: {other}")),
    }
}

/// Debezium's `gtids` as rowtide's executed set for a server of `flavor`.
///
/// MariaDB: Debezium writes one `domain-server-seq` per domain and server that ever wrote
/// there; the replication position is the last GTID of each domain (the highest sequence
/// number, GTIDs in a domain being strictly increasing). MySQL: a UUID set, taken as is.
pub fn gtid_set_for(flavor: Flavor, gtids: &str) -> Result<GtidSet, String> {
    let looks_mysql = gtids.contains(':');
    match (flavor, looks_mysql) {
        (Flavor::Mariadb, true) => Err(format!(
            "the offset's GTID set `{gtids}` is a MySQL (UUID) set but the source is MariaDB: \
             the offset comes from another server"
        )),
        (Flavor::Mysql, false) => Err(format!(
            "the offset's GTID set `{gtids}` is a MariaDB (domain-server-seq) list but the \
             source is MySQL: the offset comes from another server"
        )),
        (Flavor::Mysql, true) => gtids
            .parse::<MysqlGtidSet>()
            .map(GtidSet::Mysql)
            .map_err(|e| format!("the offset's `gtids`: {e}")),
        (Flavor::Mariadb, false) => {
            let mut last: BTreeMap<u32, MariadbGtid> = BTreeMap::new();
            for part in gtids.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let g: MariadbGtid = part
                    .parse()
                    .map_err(|e| format!("the offset's `gtids`: {e}"))?;
                let keep = last.get(&g.domain).is_none_or(|old| g.seq > old.seq);
                if keep {
                    last.insert(g.domain, g);
                }
            }
            let mut list = MariadbGtidList::default();
            for g in last.into_values() {
                list.apply(g);
            }
            Ok(GtidSet::Mariadb(list))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_mid_transaction_offset() {
        let v = json!({"ts_sec": 1764750000, "file": "mariadb-bin.000003", "pos": 1234,
                       "gtids": "0-1-41", "event": 3, "row": 2, "server_id": 1});
        let o = parse("dbserver1", &v).unwrap();
        assert_eq!(o.file, "mariadb-bin.000003");
        assert_eq!((o.pos, o.events, o.rows), (1234, 3, 2));
        assert_eq!(o.gtids.as_deref(), Some("0-1-41"));
        assert_eq!(o.server_id, Some(1));
        // Numbers as strings are accepted too.
        let v = json!({"file": "b.000001", "pos": "4", "event": "1"});
        assert_eq!(parse("s", &v).unwrap().events, 1);
    }

    #[test]
    fn refuses_what_cannot_be_resumed_exactly() {
        let mid_snapshot = json!({"file": "b.000001", "pos": 400, "snapshot": "INITIAL"});
        assert!(parse("s", &mid_snapshot).unwrap_err().contains("snapshot"));
        let legacy = json!({"file": "b.000001", "pos": 400, "snapshot": true});
        assert!(parse("s", &legacy).unwrap_err().contains("snapshot"));
        let done = json!({"file": "b.000001", "pos": 400, "snapshot": "INITIAL", "snapshot_completed": true});
        assert_eq!(parse("s", &done).unwrap().pos, 400);
        assert!(parse("s", &json!({"pos": 4}))
            .unwrap_err()
            .contains("`file`"));
        assert!(parse("s", &json!({"file": "b.000001"}))
            .unwrap_err()
            .contains("`pos`"));
        assert!(parse("s", &json!({"file": "b.000001", "pos": -5})).is_err());
        assert!(parse("s", &json!({"file": "b.000001", "pos": 2})).is_err());
        assert!(parse("s", &json!({"file": "b.000001", "pos": 9, "row": "x"})).is_err());
        assert!(parse("s", &json!({"file": "", "pos": 9})).is_err());
        assert!(parse("s", &json!(["not", "a", "map"])).is_err());
    }

    #[test]
    fn gtid_sets_must_match_the_server_flavour() {
        let uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5";
        assert!(gtid_set_for(Flavor::Mariadb, uuid)
            .unwrap_err()
            .contains("MySQL"));
        assert!(gtid_set_for(Flavor::Mysql, "0-1-5")
            .unwrap_err()
            .contains("MariaDB"));
        assert_eq!(gtid_set_for(Flavor::Mysql, uuid).unwrap().to_string(), uuid);
        // Several servers in one domain: the highest sequence number is the position.
        let g = gtid_set_for(Flavor::Mariadb, "0-1-100,0-2-7,1-3-9").unwrap();
        assert_eq!(g.to_string(), "0-1-100,1-3-9");
        assert!(gtid_set_for(Flavor::Mariadb, "0-1-x").is_err());
    }
}
