//! Splitting one large table into primary-key ranges, so that several snapshot connections
//! can read it at once and an interrupted snapshot resumes range by range.
//!
//! A table is split when its leading primary-key column is an integer and the server's row
//! estimate exceeds `source.snapshot_range_rows`: the key span `MIN .. MAX` (read inside the
//! snapshot transaction, so at the snapshot point) is cut into equal-width ranges of about
//! that many rows. The first range is open below and the last open above, so the ranges
//! together cover every possible key whatever the estimate says.
//!
//! A finished range is recorded in the checkpoint's list of finished snapshot items as
//! `db.table@range:LO..HI` (either bound empty when open). A resumed snapshot reads only
//! what no recorded range covers — the ranges recorded by the earlier attempt may have
//! other bounds than the ones this attempt would choose, so the split subtracts them
//! interval by interval instead of matching them by name.

use std::collections::HashSet;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use crate::error::Result;
use crate::model::{ColumnKind, TableDesc};

/// Most ranges one table is split into.
const MAX_RANGES: i128 = 10_000;

/// A half-open interval `[lo, hi)` of the leading key column; `None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRange {
    pub lo: Option<i128>,
    pub hi: Option<i128>,
}

impl KeyRange {
    const ALL: KeyRange = KeyRange { lo: None, hi: None };

    fn lo_val(&self) -> i128 {
        self.lo.unwrap_or(i128::MIN)
    }

    fn hi_val(&self) -> i128 {
        self.hi.unwrap_or(i128::MAX)
    }

    fn from_vals(lo: i128, hi: i128) -> Self {
        KeyRange {
            lo: (lo != i128::MIN).then_some(lo),
            hi: (hi != i128::MAX).then_some(hi),
        }
    }

    fn is_empty(&self) -> bool {
        self.lo_val() >= self.hi_val()
    }

    /// The checkpoint entry that records this range of `table` (`db.table`) as read.
    pub fn done_entry(&self, table: &str) -> String {
        let b = |v: Option<i128>| v.map(|v| v.to_string()).unwrap_or_default();
        format!("{table}{}{}..{}", RANGE_TAG, b(self.lo), b(self.hi))
    }

    /// Parses what [`done_entry`](Self::done_entry) wrote for `table`.
    fn parse_entry(entry: &str, table: &str) -> Option<Self> {
        let rest = entry.strip_prefix(table)?.strip_prefix(RANGE_TAG)?;
        let (lo, hi) = rest.split_once("..")?;
        let bound = |s: &str| -> Option<Option<i128>> {
            match s {
                "" => Some(None),
                s => s.parse().ok().map(Some),
            }
        };
        Some(KeyRange {
            lo: bound(lo)?,
            hi: bound(hi)?,
        })
    }

    /// The SQL condition selecting this range of `column` (already quoted), if bounded.
    pub fn condition(&self, column: &str) -> Option<String> {
        match (self.lo, self.hi) {
            (None, None) => None,
            (Some(lo), None) => Some(format!("{column} >= {lo}")),
            (None, Some(hi)) => Some(format!("{column} < {hi}")),
            (Some(lo), Some(hi)) => Some(format!("{column} >= {lo} AND {column} < {hi}")),
        }
    }

    /// This range without every range in `done`.
    fn minus(self, done: &[KeyRange]) -> Vec<KeyRange> {
        let mut pieces = vec![self];
        for d in done {
            let mut next = Vec::with_capacity(pieces.len() + 1);
            for p in pieces {
                let below = KeyRange::from_vals(p.lo_val(), p.hi_val().min(d.lo_val()));
                let above = KeyRange::from_vals(p.lo_val().max(d.hi_val()), p.hi_val());
                if d.is_empty() || d.hi_val() <= p.lo_val() || d.lo_val() >= p.hi_val() {
                    next.push(p);
                    continue;
                }
                next.extend([below, above].into_iter().filter(|r| !r.is_empty()));
            }
            pieces = next;
        }
        pieces
    }
}

impl std::fmt::Display for KeyRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = |v: Option<i128>| v.map(|v| v.to_string()).unwrap_or_default();
        write!(f, "[{}..{})", b(self.lo), b(self.hi))
    }
}

/// What separates a table's name from a range in a checkpoint entry.
pub const RANGE_TAG: &str = "@range:";

/// True for a checkpoint entry that records a range of `table`, not the whole table.
#[cfg(test)]
fn is_range_of(entry: &str, table: &str) -> bool {
    entry
        .strip_prefix(table)
        .is_some_and(|r| r.starts_with(RANGE_TAG))
}

/// The leading primary-key column, when it is an integer (the only kind split by value).
fn leading_int_key(table: &TableDesc) -> Option<&str> {
    use ColumnKind as K;
    let col = &table.columns[*table.primary_key.first()?];
    matches!(
        col.kind,
        K::TinyInt | K::SmallInt | K::MediumInt | K::Int | K::BigInt
    )
    .then_some(col.name.as_str())
}

/// Equal-width cuts of `[min, max]` into `n` ranges, the outer ones unbounded.
fn cut(min: i128, max: i128, n: i128) -> Vec<KeyRange> {
    let n = n.clamp(1, MAX_RANGES).min(max - min + 1).max(1);
    let step = (max - min + 1 + n - 1) / n;
    let mut bounds: Vec<i128> = (1..n)
        .map(|i| min + i * step)
        .filter(|b| *b <= max)
        .collect();
    bounds.dedup();
    let mut out = Vec::with_capacity(bounds.len() + 1);
    let mut lo = None;
    for b in bounds {
        out.push(KeyRange { lo, hi: Some(b) });
        lo = Some(b);
    }
    out.push(KeyRange { lo, hi: None });
    out
}

/// How one table is read: a single piece (`None`: the whole table), or key ranges.
pub struct Split {
    pub column: Option<String>,
    pub pieces: Vec<Option<KeyRange>>,
}

/// Splits `table` for a snapshot read on `conn` (inside the snapshot transaction):
/// by key ranges when it is large enough and its leading key is an integer, minus the
/// ranges `done` records as read by an interrupted earlier attempt.
pub async fn split(
    conn: &mut Conn,
    table: &TableDesc,
    estimate: u64,
    range_rows: u64,
    done: &HashSet<String>,
) -> Result<Split> {
    let name = table.full_name();
    let read: Vec<KeyRange> = done
        .iter()
        .filter_map(|e| KeyRange::parse_entry(e, &name))
        .collect();
    let Some(column) = leading_int_key(table) else {
        return Ok(Split {
            column: None,
            pieces: vec![None],
        });
    };
    let wanted = if range_rows > 0 && estimate > range_rows {
        let q = super::quote(column);
        let sql = format!(
            "SELECT CAST(MIN({q}) AS CHAR), CAST(MAX({q}) AS CHAR) FROM {}.{}",
            super::quote(&table.db),
            super::quote(&table.name)
        );
        let span: Option<(Option<String>, Option<String>)> =
            conn.query_first(sql).await.map_err(super::q)?;
        let parse = |s: Option<String>| s.and_then(|s| s.parse::<i128>().ok());
        match span.map(|(a, b)| (parse(a), parse(b))) {
            Some((Some(min), Some(max))) if max > min => {
                let n = (estimate.div_ceil(range_rows)) as i128;
                cut(min, max, n)
            }
            _ => vec![KeyRange::ALL],
        }
    } else {
        vec![KeyRange::ALL]
    };
    let pieces: Vec<KeyRange> = wanted.into_iter().flat_map(|r| r.minus(&read)).collect();
    if read.is_empty() && pieces == [KeyRange::ALL] {
        return Ok(Split {
            column: None,
            pieces: vec![None],
        });
    }
    Ok(Split {
        column: Some(column.to_string()),
        pieces: pieces.into_iter().map(Some).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(lo: Option<i128>, hi: Option<i128>) -> KeyRange {
        KeyRange { lo, hi }
    }

    #[test]
    fn cuts_cover_every_key_once() {
        let ranges = cut(1, 1_000_000, 4);
        assert_eq!(
            ranges,
            vec![
                r(None, Some(250_001)),
                r(Some(250_001), Some(500_001)),
                r(Some(500_001), Some(750_001)),
                r(Some(750_001), None),
            ]
        );
        // More ranges than keys: one per key at most.
        assert_eq!(cut(5, 7, 100).len(), 3);
        assert_eq!(cut(5, 5, 3), vec![KeyRange::ALL]);
        // Unsigned BIGINT span.
        let big = cut(0, u64::MAX as i128, 3);
        assert_eq!(big.len(), 3);
        assert_eq!(big[0].lo, None);
        assert_eq!(big[2].hi, None);
    }

    #[test]
    fn entries_round_trip() {
        for k in [
            r(None, Some(-5)),
            r(Some(10), Some(20)),
            r(Some(18_446_744_073_709_551_615), None),
            KeyRange::ALL,
        ] {
            let e = k.done_entry("db.t");
            assert!(is_range_of(&e, "db.t"), "{e}");
            assert!(!is_range_of(&e, "db.t2"), "{e}");
            assert_eq!(KeyRange::parse_entry(&e, "db.t"), Some(k), "{e}");
        }
        assert_eq!(KeyRange::parse_entry("db.t", "db.t"), None);
        assert_eq!(KeyRange::parse_entry("db.t@range:x..1", "db.t"), None);
    }

    #[test]
    fn done_ranges_are_subtracted_whatever_their_bounds() {
        let all = KeyRange::ALL;
        let done = [r(Some(10), Some(20)), r(Some(30), None)];
        assert_eq!(
            all.minus(&done),
            vec![r(None, Some(10)), r(Some(20), Some(30))]
        );
        // A piece entirely read disappears; one partly read keeps its unread part.
        assert_eq!(r(Some(12), Some(18)).minus(&done), vec![]);
        assert_eq!(
            r(Some(15), Some(35)).minus(&done),
            vec![r(Some(20), Some(30))]
        );
        assert_eq!(r(None, Some(5)).minus(&done), vec![r(None, Some(5))]);
    }

    #[test]
    fn conditions_name_the_bounds() {
        assert_eq!(KeyRange::ALL.condition("`id`"), None);
        assert_eq!(
            r(Some(-3), Some(9)).condition("`id`").unwrap(),
            "`id` >= -3 AND `id` < 9"
        );
        assert_eq!(r(None, Some(9)).condition("`id`").unwrap(), "`id` < 9");
        assert_eq!(r(Some(9), None).condition("`id`").unwrap(), "`id` >= 9");
    }
}
