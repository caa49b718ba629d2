//! The per-statement verdict: followed (it changed a table's structure and rowtide named
//! every later row right), ignored harmlessly (it changed no table and rowtide's rows stayed
//! right), failed (the server refused it, or a row after it was named wrong or missing), or
//! unchecked (its table had already been lost to an earlier failure).

use std::fmt::Write as _;

use super::run::Record;
use super::verdict::Verdict;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Followed,
    Ignored,
    Unchecked,
    Failed,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Followed => "followed",
            Status::Ignored => "ignored harmlessly",
            Status::Unchecked => "unchecked",
            Status::Failed => "FAILED",
        }
    }
}

/// One line of the report.
pub struct Line {
    pub status: Status,
    pub place: String,
    pub statement: String,
    pub details: Vec<String>,
}

/// The verdict of every statement, in corpus order.
pub fn lines(records: &[Record], verdict: &Verdict) -> Vec<Line> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut details: Vec<String> = Vec::new();
            if let Some(e) = &r.rejected {
                details.push(format!(
                    "the server refused it (fix or drop it from the corpus): {e}"
                ));
            }
            details.extend(
                r.skipped
                    .iter()
                    .filter(|(_, why)| why.starts_with("HARNESS"))
                    .map(|(_, why)| why.clone()),
            );
            let failed = !details.is_empty() || verdict.failures.contains_key(&i);
            if let Some(f) = verdict.failures.get(&i) {
                details.extend(f.iter().cloned());
            }
            let unchecked = verdict.unchecked.get(&i);
            let status = if failed {
                Status::Failed
            } else if unchecked.is_some() {
                Status::Unchecked
            } else if r.changed.is_empty() {
                Status::Ignored
            } else {
                Status::Followed
            };
            if let Some(u) = unchecked {
                details.extend(u.iter().map(|s| format!("not checked: {s}")));
            }
            details.extend(
                r.skipped
                    .iter()
                    .filter(|(_, why)| !why.starts_with("HARNESS"))
                    .map(|((db, t), why)| format!("no row written into {db}.{t}: {why}")),
            );
            Line {
                status,
                place: r.stmt.place(),
                statement: r.stmt.short(160),
                details,
            }
        })
        .collect()
}

/// Counts per status, as one line.
pub fn totals(lines: &[Line]) -> String {
    let count = |s: Status| lines.iter().filter(|l| l.status == s).count();
    format!(
        "{} statements: {} followed, {} ignored harmlessly, {} failed, {} unchecked",
        lines.len(),
        count(Status::Followed),
        count(Status::Ignored),
        count(Status::Failed),
        count(Status::Unchecked)
    )
}

/// The report file: the totals, then one block per statement.
pub fn text(lines: &[Line], header: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{header}\n{}\n", totals(lines));
    for l in lines {
        let _ = writeln!(out, "{:<19} {}  {}", l.status.label(), l.place, l.statement);
        for d in &l.details {
            let _ = writeln!(out, "{:<19}   - {d}", "");
        }
    }
    out
}

/// The failures alone, for the test's panic message.
pub fn failures(lines: &[Line]) -> String {
    let mut out = String::new();
    for l in lines.iter().filter(|l| l.status == Status::Failed) {
        let _ = writeln!(out, "{}  {}", l.place, l.statement);
        for d in &l.details {
            let _ = writeln!(out, "    - {d}");
        }
    }
    out
}
