//! Signals, compatible with Debezium's: operator requests read from the signal table
//! (`[signals] table`, rows `id, type, data` inserted and read back from the binlog in log
//! order) and sent by `rowtide snapshot`.
//!
//! Invariant: a signal that cannot be understood is logged with its reason and skipped; it
//! is never fatal to the pipeline.
//!
//! The `data` shapes are Debezium's (`execute-snapshot`: `data-collections`, `type`,
//! `additional-conditions` of `{"data-collection", "filter"}`, and the older single
//! `additional-condition`; `stop-snapshot`: optional `data-collections` and `type`; `log`:
//! `message`).

pub mod kafka;
pub mod send;
pub mod watch;

use serde_json::{json, Map, Value as Json};

/// Debezium's signal table columns, in order.
pub const TABLE_COLUMNS: [&str; 3] = ["id", "type", "data"];

/// The kind of an ad-hoc snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotKind {
    Incremental,
    Blocking,
}

impl SnapshotKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotKind::Incremental => "incremental",
            SnapshotKind::Blocking => "blocking",
        }
    }

    fn parse(v: Option<&Json>) -> Result<Self, String> {
        match v {
            None | Some(Json::Null) => Ok(SnapshotKind::Incremental),
            Some(Json::String(s)) if s.eq_ignore_ascii_case("incremental") => {
                Ok(SnapshotKind::Incremental)
            }
            Some(Json::String(s)) if s.eq_ignore_ascii_case("blocking") => {
                Ok(SnapshotKind::Blocking)
            }
            Some(other) => Err(format!(
                "\"type\" is {other}; expected \"incremental\" or \"blocking\""
            )),
        }
    }
}

/// A per-table filter of an `execute-snapshot` signal (a SQL condition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// `db.table`.
    pub table: String,
    pub filter: String,
}

/// One understood signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    ExecuteSnapshot {
        tables: Vec<String>,
        kind: SnapshotKind,
        conditions: Vec<Condition>,
        /// Debezium's `surrogate-key`: the column that orders the chunks of every listed
        /// table instead of its primary key (incremental snapshots).
        surrogate_key: Option<String>,
    },
    StopSnapshot {
        /// Empty: every table of the running snapshot.
        tables: Vec<String>,
        kind: SnapshotKind,
    },
    PauseSnapshot,
    ResumeSnapshot,
    Log {
        message: String,
    },
}

impl Signal {
    /// Debezium's signal type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Signal::ExecuteSnapshot { .. } => "execute-snapshot",
            Signal::StopSnapshot { .. } => "stop-snapshot",
            Signal::PauseSnapshot => "pause-snapshot",
            Signal::ResumeSnapshot => "resume-snapshot",
            Signal::Log { .. } => "log",
        }
    }

    /// The `data` document Debezium expects for this signal.
    pub fn data(&self) -> Json {
        match self {
            Signal::ExecuteSnapshot {
                tables,
                kind,
                conditions,
                surrogate_key,
            } => {
                let mut m = Map::new();
                m.insert("data-collections".into(), json!(tables));
                m.insert("type".into(), json!(kind.as_str()));
                if let Some(k) = surrogate_key {
                    m.insert("surrogate-key".into(), json!(k));
                }
                if !conditions.is_empty() {
                    let conds: Vec<Json> = conditions
                        .iter()
                        .map(|c| json!({"data-collection": c.table, "filter": c.filter}))
                        .collect();
                    m.insert("additional-conditions".into(), Json::Array(conds));
                }
                Json::Object(m)
            }
            Signal::StopSnapshot { tables, kind } => {
                let mut m = Map::new();
                if !tables.is_empty() {
                    m.insert("data-collections".into(), json!(tables));
                }
                m.insert("type".into(), json!(kind.as_str()));
                Json::Object(m)
            }
            Signal::PauseSnapshot | Signal::ResumeSnapshot => json!({}),
            Signal::Log { message } => json!({ "message": message }),
        }
    }

    /// The signal `rowtide snapshot <targets…> [--filter] [--blocking]` sends.
    pub fn from_command(
        targets: &[String],
        filter: Option<String>,
        blocking: bool,
    ) -> Result<Signal, String> {
        let kind = if blocking {
            SnapshotKind::Blocking
        } else {
            SnapshotKind::Incremental
        };
        let verb = match targets {
            [one] => match one.as_str() {
                "stop" => Some(Signal::StopSnapshot {
                    tables: Vec::new(),
                    kind,
                }),
                "pause" => Some(Signal::PauseSnapshot),
                "resume" => Some(Signal::ResumeSnapshot),
                _ => None,
            },
            _ => None,
        };
        if let Some(v) = verb {
            if filter.is_some() {
                return Err(format!(
                    "--filter goes with table names, not with `{}`",
                    targets[0]
                ));
            }
            return Ok(v);
        }
        if let Some(bad) = targets.iter().find(|t| !valid_table_name(t)) {
            return Err(format!(
                "\"{bad}\" is not a \"db.table\" name (nor stop, pause or resume)"
            ));
        }
        let conditions = match filter.as_deref().map(str::trim) {
            Some("") => return Err("--filter is empty".into()),
            Some(f) => targets
                .iter()
                .map(|t| Condition {
                    table: t.clone(),
                    filter: f.to_string(),
                })
                .collect(),
            None => Vec::new(),
        };
        Ok(Signal::ExecuteSnapshot {
            tables: targets.to_vec(),
            kind,
            conditions,
            surrogate_key: None,
        })
    }

    /// `rowtide snapshot … --surrogate-key COLUMN`: the column that orders the chunks of the
    /// named tables (incremental snapshots only).
    pub fn with_surrogate_key(self, column: Option<String>) -> Result<Signal, String> {
        let Some(column) = column else {
            return Ok(self);
        };
        let column = column.trim().to_string();
        match self {
            _ if column.is_empty() => Err("--surrogate-key is empty".into()),
            Signal::ExecuteSnapshot {
                tables,
                kind: SnapshotKind::Incremental,
                conditions,
                ..
            } => Ok(Signal::ExecuteSnapshot {
                tables,
                kind: SnapshotKind::Incremental,
                conditions,
                surrogate_key: Some(column),
            }),
            Signal::ExecuteSnapshot { .. } => Err(
                "--surrogate-key goes with incremental snapshots (a blocking snapshot reads \
                 whole tables)"
                    .into(),
            ),
            other => Err(format!(
                "--surrogate-key goes with table names, not with `{}`",
                other.type_name()
            )),
        }
    }

    /// Parses a signal from its `type` and `data` (the table's columns, or the Kafka
    /// record's fields; `data` may be absent, a JSON text or, from Kafka, an object).
    /// The error says what is wrong, for the log.
    pub fn parse(kind: &str, data: Option<&Json>) -> Result<Signal, String> {
        let doc = match data {
            None | Some(Json::Null) => Json::Object(Map::new()),
            Some(Json::String(s)) if s.trim().is_empty() => Json::Object(Map::new()),
            Some(Json::String(s)) => serde_json::from_str(s)
                .map_err(|e| format!("\"data\" is not valid JSON ({e}): {s}"))?,
            Some(other) => other.clone(),
        };
        let Json::Object(obj) = doc else {
            return Err(format!("\"data\" must be a JSON object, not {doc}"));
        };
        match kind.trim() {
            "execute-snapshot" => parse_execute(&obj),
            "stop-snapshot" => Ok(Signal::StopSnapshot {
                tables: collections(&obj, false)?,
                kind: SnapshotKind::parse(obj.get("type"))?,
            }),
            "pause-snapshot" => Ok(Signal::PauseSnapshot),
            "resume-snapshot" => Ok(Signal::ResumeSnapshot),
            "log" => match obj.get("message") {
                Some(Json::String(m)) => Ok(Signal::Log { message: m.clone() }),
                _ => Err("a log signal needs \"message\" (a string) in its data".into()),
            },
            other => Err(format!(
                "unknown signal type \"{other}\" (known: execute-snapshot, stop-snapshot, \
                 pause-snapshot, resume-snapshot, log)"
            )),
        }
    }
}

fn parse_execute(obj: &Map<String, Json>) -> Result<Signal, String> {
    let tables = collections(obj, true)?;
    let kind = SnapshotKind::parse(obj.get("type"))?;
    let mut conditions = Vec::new();
    match obj.get("additional-conditions") {
        None | Some(Json::Null) => {}
        Some(Json::Array(items)) => {
            for item in items {
                let table = item.get("data-collection").and_then(Json::as_str);
                let filter = item.get("filter").and_then(Json::as_str);
                match (table, filter) {
                    (Some(t), Some(f)) => conditions.push(Condition {
                        table: t.to_string(),
                        filter: f.to_string(),
                    }),
                    _ => {
                        return Err(format!(
                            "each of \"additional-conditions\" needs \"data-collection\" and \
                             \"filter\" (strings); got {item}"
                        ))
                    }
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "\"additional-conditions\" must be a list, not {other}"
            ))
        }
    }
    // Debezium's older form: one condition for every listed table.
    if let Some(Json::String(f)) = obj.get("additional-condition") {
        if !f.trim().is_empty() {
            for t in &tables {
                conditions.push(Condition {
                    table: t.clone(),
                    filter: f.clone(),
                });
            }
        }
    }
    for c in &conditions {
        if !tables.iter().any(|t| t.eq_ignore_ascii_case(&c.table)) {
            return Err(format!(
                "the additional condition for \"{}\" names a table not in \"data-collections\"",
                c.table
            ));
        }
    }
    let surrogate_key = match obj.get("surrogate-key") {
        None | Some(Json::Null) => None,
        Some(Json::String(k)) if k.trim().is_empty() => None,
        Some(Json::String(k)) => Some(k.trim().to_string()),
        Some(other) => {
            return Err(format!(
                "\"surrogate-key\" must be a column name (a string), not {other}"
            ))
        }
    };
    Ok(Signal::ExecuteSnapshot {
        tables,
        kind,
        conditions,
        surrogate_key,
    })
}

/// `data-collections`: a list of `db.table` names (required for execute-snapshot).
fn collections(obj: &Map<String, Json>, required: bool) -> Result<Vec<String>, String> {
    let list = match obj.get("data-collections") {
        None | Some(Json::Null) if !required => return Ok(Vec::new()),
        None | Some(Json::Null) => {
            return Err("\"data-collections\" is missing (a list of \"db.table\" names)".into())
        }
        Some(Json::Array(items)) => items,
        Some(other) => return Err(format!("\"data-collections\" must be a list, not {other}")),
    };
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        match item.as_str().map(str::trim) {
            Some(name) if valid_table_name(name) => out.push(name.to_string()),
            _ => {
                return Err(format!(
                    "\"data-collections\" entry {item} is not a \"db.table\" name"
                ))
            }
        }
    }
    if required && out.is_empty() {
        return Err("\"data-collections\" is empty: name at least one table".into());
    }
    Ok(out)
}

/// Whether `name` has the `db.table` form.
pub fn valid_table_name(name: &str) -> bool {
    crate::config::SignalsConfig::is_table_name(name)
}

#[cfg(test)]
mod tests;
