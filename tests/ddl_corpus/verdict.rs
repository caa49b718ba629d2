//! Judging rowtide against the oracle: `rowtide replay` over the server's binlog, every row
//! event matched to the statement (or harness INSERT) whose binlog range holds it, and its
//! column names compared with what the server had at that moment.
//!
//! `replay` stops at the first row (or statement) it cannot handle. When it does, the
//! harness INSERT or corpus statement at that position is blamed, its tables are left out
//! (`--include` lists every other table) and the replay runs again, until it reads the
//! whole binlog: one table rowtide cannot follow does not hide what it does with the
//! others. Rows of a table that was left out are reported as unchecked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use super::oracle::TableKey;
use super::run::Record;

/// A row event as `replay` printed it.
#[derive(Debug)]
struct RowEvent {
    table: TableKey,
    pos: u64,
    names: Vec<String>,
}

/// What one run of `replay` produced.
struct Replayed {
    events: Vec<RowEvent>,
    /// `None` when it read everything; else its error and the binlog position it names.
    stopped: Option<(String, Option<u64>)>,
}

/// Per statement (index into the records), the failures found.
pub type Failures = BTreeMap<usize, BTreeSet<String>>;

/// The outcome of the replays.
pub struct Verdict {
    pub failures: Failures,
    /// Per statement, harness rows that could not be checked (their table was left out of
    /// the replay after an earlier failure).
    pub unchecked: BTreeMap<usize, Vec<String>>,
    /// Row events compared.
    pub checked: usize,
}

/// Where an event belongs: the record, and the harness INSERT when it is one.
struct Mark {
    pos: u64,
    rec: usize,
    insert: Option<usize>,
}

/// Runs `replay` until it reads the whole binlog (leaving out, one at a time, the tables it
/// stops at) and returns every failure, by statement.
pub fn judge(records: &[Record], binary: &str, binlogs: &[PathBuf]) -> Verdict {
    let mut decided = BTreeSet::new();
    let (failures, checked) = rounds(records, binary, binlogs, &mut decided);
    let mut unchecked: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, rec) in records.iter().enumerate() {
        for (j, ins) in rec.inserts.iter().enumerate() {
            if !decided.contains(&(i, j)) {
                unchecked.entry(i).or_default().push(format!(
                    "the row written into {}.{} (rowtide stopped following that table earlier)",
                    ins.table.0, ins.table.1
                ));
            }
        }
    }
    Verdict {
        failures,
        unchecked,
        checked,
    }
}

fn rounds(
    records: &[Record],
    binary: &str,
    binlogs: &[PathBuf],
    decided: &mut BTreeSet<(usize, usize)>,
) -> (Failures, usize) {
    let marks = marks(records);
    let tables: BTreeSet<TableKey> = records
        .iter()
        .flat_map(|r| r.after.keys().chain(r.changed.iter()).cloned())
        .collect();
    let mut failures = Failures::new();
    let mut excluded: BTreeSet<TableKey> = BTreeSet::new();
    // Rows already compared in an earlier round: (position, table, n-th at that position).
    let mut compared: BTreeSet<(u64, TableKey, usize)> = BTreeSet::new();
    let mut last_stop = None;
    // Each round leaves out one more table, so this ends.
    for _ in 0..=tables.len() {
        let include: Vec<&TableKey> = tables.iter().filter(|t| !excluded.contains(*t)).collect();
        let replayed = replay(binary, binlogs, &include);
        let mut seen: BTreeSet<(usize, usize)> = BTreeSet::new();
        let mut nth: BTreeMap<(u64, TableKey), usize> = BTreeMap::new();
        for ev in &replayed.events {
            let Some(m) = mark_of(&marks, ev.pos) else {
                continue;
            };
            if let Some(j) = m.insert {
                if records[m.rec].inserts[j].table == ev.table {
                    seen.insert((m.rec, j));
                }
            }
            let n = nth.entry((ev.pos, ev.table.clone())).or_default();
            *n += 1;
            if !compared.insert((ev.pos, ev.table.clone(), *n)) {
                continue;
            }
            if let Some(f) = compare(&records[m.rec], ev) {
                failures.entry(m.rec).or_default().insert(f);
            }
        }
        let done = settle(records, &marks, &replayed, &seen, &excluded, decided);
        match done {
            Settled::Finished(missing) => {
                for (rec, msg) in missing {
                    failures.entry(rec).or_default().insert(msg);
                }
                return (failures, compared.len());
            }
            Settled::Blame {
                rec,
                tables,
                msg,
                missing,
            } => {
                for (rec, msg) in missing {
                    failures.entry(rec).or_default().insert(msg);
                }
                failures.entry(rec).or_default().insert(msg);
                excluded.extend(tables);
            }
            Settled::Stuck(msg) => {
                let at = replayed.stopped.as_ref().and_then(|s| s.1);
                let rec = at
                    .and_then(|p| mark_of(&marks, p))
                    .map_or(records.len().saturating_sub(1), |m| m.rec);
                failures.entry(rec).or_default().insert(msg);
                return (failures, compared.len());
            }
        }
        let stop = replayed.stopped.as_ref().and_then(|s| s.1);
        if stop.is_some() && stop == last_stop {
            // Leaving the blamed table out did not move the stop: it is not about that table.
            let msg = replayed.stopped.map(|s| s.0).unwrap_or_default();
            let rec = stop.and_then(|p| mark_of(&marks, p)).map_or(0, |m| m.rec);
            failures.entry(rec).or_default().insert(format!(
                "rowtide replay stops here whatever tables are left out: {msg}"
            ));
            return (failures, compared.len());
        }
        last_stop = stop;
    }
    (failures, compared.len())
}

enum Settled {
    /// The replay read everything; the inserts it wrote nothing for.
    Finished(Vec<(usize, String)>),
    /// The replay stopped at this statement (or the harness INSERT after it): leave its
    /// tables out next time.
    Blame {
        rec: usize,
        tables: Vec<TableKey>,
        msg: String,
        missing: Vec<(usize, String)>,
    },
    /// The replay stopped somewhere no table can be blamed for.
    Stuck(String),
}

/// Decides what this round can decide: the inserts with a row, those the replay passed
/// without writing one, and where it stopped.
fn settle(
    records: &[Record],
    marks: &[Mark],
    replayed: &Replayed,
    seen: &BTreeSet<(usize, usize)>,
    excluded: &BTreeSet<TableKey>,
    decided: &mut BTreeSet<(usize, usize)>,
) -> Settled {
    let stop_at = replayed.stopped.as_ref().map(|s| s.1);
    let mut missing = Vec::new();
    let mut first_missing = None;
    for (i, rec) in records.iter().enumerate() {
        for (j, ins) in rec.inserts.iter().enumerate() {
            if decided.contains(&(i, j)) || excluded.contains(&ins.table) {
                continue;
            }
            if seen.contains(&(i, j)) {
                decided.insert((i, j));
                continue;
            }
            let passed = match stop_at {
                None => true,
                Some(Some(at)) => ins.end <= at,
                Some(None) => false,
            };
            if passed {
                decided.insert((i, j));
                missing.push((
                    i,
                    format!(
                        "rowtide printed no row for the row written into {}.{}",
                        ins.table.0, ins.table.1
                    ),
                ));
            } else if first_missing.is_none() {
                first_missing = Some((i, j));
            }
        }
    }
    let Some((err, at)) = &replayed.stopped else {
        return Settled::Finished(missing);
    };
    // Where it stopped: a harness INSERT, or a statement (its DDL, or rows it wrote).
    let place = match at.and_then(|p| mark_of(marks, p)) {
        Some(m) => Some((m.rec, m.insert)),
        None => first_missing.map(|(i, j)| (i, Some(j))),
    };
    let Some((rec, insert)) = place else {
        return Settled::Stuck(format!("rowtide replay stopped: {err}"));
    };
    let r = &records[rec];
    let (tables, msg) = match insert {
        Some(j) => {
            decided.insert((rec, j));
            let t = r.inserts[j].table.clone();
            let msg = format!(
                "rowtide replay stopped at the row written into {}.{}: {err}",
                t.0, t.1
            );
            (vec![t], msg)
        }
        None => {
            let mut tables: Vec<TableKey> = r.changed.clone();
            tables.extend(r.inserts.iter().map(|i| i.table.clone()));
            (
                tables,
                format!("rowtide replay stopped at this statement: {err}"),
            )
        }
    };
    if tables.iter().all(|t| excluded.contains(t)) {
        return Settled::Stuck(msg);
    }
    Settled::Blame {
        rec,
        tables,
        msg,
        missing,
    }
}

fn compare(rec: &Record, ev: &RowEvent) -> Option<String> {
    let name = format!("{}.{}", ev.table.0, ev.table.1);
    let Some(shape) = rec.after.get(&ev.table) else {
        return Some(format!(
            "a row of {name}, which information_schema did not list after this statement"
        ));
    };
    let want = shape.row_image_names();
    if want == ev.names {
        return None;
    }
    Some(format!(
        "{name}: rowtide names {} column(s) [{}], the server has {} [{}]",
        ev.names.len(),
        ev.names.join(", "),
        want.len(),
        want.join(", ")
    ))
}

fn marks(records: &[Record]) -> Vec<Mark> {
    let mut m = Vec::new();
    for (i, r) in records.iter().enumerate() {
        m.push(Mark {
            pos: r.start,
            rec: i,
            insert: None,
        });
        for (j, ins) in r.inserts.iter().enumerate() {
            m.push(Mark {
                pos: ins.start,
                rec: i,
                insert: Some(j),
            });
        }
    }
    // Stable: at equal positions, a statement (which wrote nothing) before its inserts.
    m.sort_by_key(|m| m.pos);
    m
}

/// The last mark at or before `pos`.
fn mark_of(marks: &[Mark], pos: u64) -> Option<&Mark> {
    let n = marks.partition_point(|m| m.pos <= pos);
    n.checked_sub(1).map(|i| &marks[i])
}

/// Runs `rowtide replay` on the binlog, capturing only `include`, and reads its rows.
fn replay(binary: &str, binlogs: &[PathBuf], include: &[&TableKey]) -> Replayed {
    let pattern = include
        .iter()
        .map(|(db, t)| format!("{}\\.{}", regex::escape(db), regex::escape(t)))
        .collect::<Vec<_>>()
        .join("|");
    let out = Command::new(binary)
        .arg("replay")
        .arg("--positional-names")
        .arg("--include")
        .arg(if pattern.is_empty() {
            "\\0none".into()
        } else {
            pattern
        })
        .args(binlogs)
        .env("RUST_LOG", "error")
        .output()
        .expect("run rowtide replay");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let events = stdout.lines().filter_map(row_event).collect();
    let stopped = (!out.status.success()).then(|| {
        let err = String::from_utf8_lossy(&out.stderr);
        let msg = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string();
        let at = position_in(&msg, binlogs);
        (format!("{msg} (exit {})", out.status), at)
    });
    Replayed { events, stopped }
}

/// A change record's table, position and column names; `None` for other lines.
fn row_event(line: &str) -> Option<RowEvent> {
    let v: Value = serde_json::from_str(line).ok()?;
    let value = v.get("value")?;
    value.get("op")?;
    let source = value.get("source")?;
    let row = match value.get("after") {
        Some(Value::Object(o)) => o,
        _ => value.get("before")?.as_object()?,
    };
    Some(RowEvent {
        table: (
            source.get("db")?.as_str()?.to_string(),
            source.get("table")?.as_str()?.to_string(),
        ),
        pos: source.get("pos")?.as_u64()?,
        names: row.keys().cloned().collect(),
    })
}

/// The binlog position an error message names (`<binlog file>:<pos>` or `at byte offset
/// <pos>`), if any.
fn position_in(msg: &str, binlogs: &[PathBuf]) -> Option<u64> {
    let digits_after = |at: usize| -> Option<u64> {
        let d: String = msg[at..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        d.parse().ok()
    };
    let offset = "at byte offset ";
    if let Some(i) = msg.rfind(offset) {
        return digits_after(i + offset.len());
    }
    binlogs.iter().find_map(|p| {
        let name = p.file_name()?.to_str()?;
        digits_after(msg.rfind(&format!("{name}:"))? + name.len() + 1)
    })
}
