//! `source.ddl_skip`: DDL statements the operator told rowtide to pass over on purpose,
//! because rowtide cannot follow them (MINIMAL row metadata and a statement it does not
//! understand) and the operator knows what they did to the table.
//!
//! An entry is one of
//! - `FILE:POS` — the statement that starts at that binlog position (the position the
//!   "cannot follow the DDL at …" error names), e.g. `mariadb-bin.000042:1234`;
//! - `gtid:GTID` — the statement of that transaction, e.g. `gtid:0-1-4711` (MariaDB) or
//!   `gtid:3e11fa47-71ca-11e1-9e33-c80aa9429562:23` (MySQL);
//! - `regex:RE` — every statement whose text matches the regex `RE` (Rust `regex` syntax,
//!   unanchored: write `^` yourself; `(?i)` for case-insensitive), e.g.
//!   `regex:^ALTER TABLE legacy\.`.
//!
//! Invariant: a skipped statement leaves the catalog exactly as it was. Nothing here decides
//! whether values still fit: rows that no longer fit the kept structure are refused by the
//! table-map check (`check_fits`), so a wrong skip is an error at the row, never misaligned
//! values.

use regex::Regex;

/// One entry of the list.
#[derive(Debug, Clone)]
enum Entry {
    Position { file: String, pos: u64 },
    Gtid(String),
    Pattern(Regex),
}

/// The compiled `source.ddl_skip` list (empty by default: nothing is skipped).
#[derive(Debug, Clone, Default)]
pub struct DdlSkipList {
    entries: Vec<(String, Entry)>,
}

/// Where a statement stands, as the skip list matches it.
#[derive(Debug, Clone, Copy)]
pub struct StatementAt<'a> {
    /// The binlog file the statement is in.
    pub file: &'a str,
    /// The offset of the statement's event in `file`.
    pub pos: u64,
    /// The GTID of its transaction, when the server has GTIDs.
    pub gtid: Option<&'a str>,
    /// The statement as logged.
    pub sql: &'a str,
}

impl DdlSkipList {
    /// Compiles the entries; `Err` names the bad entry, what is wrong and how to write it.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut out = Vec::with_capacity(entries.len());
        for raw in entries {
            out.push((raw.clone(), parse_entry(raw)?));
        }
        Ok(Self { entries: out })
    }

    /// True when no entry is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first entry (as the operator wrote it) that matches the statement, if any.
    pub fn matching(&self, at: StatementAt<'_>) -> Option<&str> {
        self.entries
            .iter()
            .find(|(_, e)| match e {
                Entry::Position { file, pos } => *pos == at.pos && file == at.file,
                Entry::Gtid(g) => at.gtid == Some(g.as_str()),
                Entry::Pattern(re) => re.is_match(at.sql),
            })
            .map(|(raw, _)| raw.as_str())
    }
}

/// Reads one entry.
fn parse_entry(raw: &str) -> Result<Entry, String> {
    let s = raw.trim();
    if let Some(re) = s.strip_prefix("regex:") {
        if re.is_empty() {
            return Err(format!(
                "`{raw}` has an empty regex; write e.g. \"regex:^ALTER TABLE legacy\\\\.\""
            ));
        }
        return Regex::new(re).map(Entry::Pattern).map_err(|e| {
            format!(
                "`{raw}` is not a valid regex ({e}); in a TOML string write a backslash as \
                 \\\\ (e.g. \"regex:^ALTER TABLE legacy\\\\..*\") or use a literal string \
                 ('regex:^ALTER TABLE legacy\\..*')"
            )
        });
    }
    if let Some(g) = s.strip_prefix("gtid:") {
        let g = g.trim();
        let mariadb = g.split('-').count() == 3 && g.split('-').all(is_number);
        let mysql = g
            .rsplit_once(':')
            .is_some_and(|(uuid, gno)| uuid.len() >= 32 && is_number(gno));
        if !mariadb && !mysql {
            return Err(format!(
                "`{raw}` is not a GTID; write \"gtid:DOMAIN-SERVER-SEQ\" (MariaDB, e.g. \
                 gtid:0-1-4711) or \"gtid:UUID:N\" (MySQL)"
            ));
        }
        return Ok(Entry::Gtid(g.to_string()));
    }
    let Some((file, pos)) = s.rsplit_once(':') else {
        return Err(format!(
            "`{raw}` is neither FILE:POS (e.g. \"mariadb-bin.000042:1234\", the position the \
             error names), \"gtid:GTID\" nor \"regex:RE\""
        ));
    };
    let pos: u64 = pos.parse().map_err(|_| {
        format!("`{raw}`: `{pos}` is not a byte offset; write FILE:POS, e.g. \"mariadb-bin.000042:1234\"")
    })?;
    if file.is_empty() || file.contains(char::is_whitespace) || pos < 4 {
        return Err(format!(
            "`{raw}` is not a binlog position: the file name must be non-empty without spaces \
             and the offset at least 4; write FILE:POS, e.g. \"mariadb-bin.000042:1234\""
        ));
    }
    Ok(Entry::Position {
        file: file.to_string(),
        pos,
    })
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Result<DdlSkipList, String> {
        DdlSkipList::parse(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn at<'a>(file: &'a str, pos: u64, gtid: Option<&'a str>, sql: &'a str) -> StatementAt<'a> {
        StatementAt {
            file,
            pos,
            gtid,
            sql,
        }
    }

    #[test]
    fn matches_positions_gtids_and_patterns() {
        let l = list(&[
            "mariadb-bin.000042:1234",
            "gtid:0-1-77",
            "gtid:3e11fa47-71ca-11e1-9e33-c80aa9429562:23",
            r"regex:^ALTER TABLE legacy\..*",
        ])
        .unwrap();
        let sql = "CREATE TABLE t LIKE x.y";
        assert_eq!(
            l.matching(at("mariadb-bin.000042", 1234, None, sql)),
            Some("mariadb-bin.000042:1234")
        );
        // Same offset in another file, another offset in the same file: no.
        assert_eq!(l.matching(at("mariadb-bin.000043", 1234, None, sql)), None);
        assert_eq!(l.matching(at("mariadb-bin.000042", 1235, None, sql)), None);
        assert_eq!(
            l.matching(at("f.000001", 4, Some("0-1-77"), sql)),
            Some("gtid:0-1-77")
        );
        assert_eq!(l.matching(at("f.000001", 4, Some("0-1-7"), sql)), None);
        assert_eq!(
            l.matching(at(
                "f.000001",
                4,
                Some("3e11fa47-71ca-11e1-9e33-c80aa9429562:23"),
                sql
            )),
            Some("gtid:3e11fa47-71ca-11e1-9e33-c80aa9429562:23")
        );
        assert_eq!(
            l.matching(at("f.000001", 9, None, "ALTER TABLE legacy.t ADD x INT")),
            Some(r"regex:^ALTER TABLE legacy\..*")
        );
        // Unanchored at the end, anchored by `^` at the start, case-sensitive by default.
        assert_eq!(
            l.matching(at("f.000001", 9, None, "/* x */ ALTER TABLE legacy.t")),
            None
        );
        assert_eq!(
            l.matching(at("f.000001", 9, None, "alter table legacy.t")),
            None
        );
        let ci = list(&["regex:(?i)^alter table legacy"]).unwrap();
        assert!(ci
            .matching(at("f.000001", 9, None, "ALTER TABLE legacy.t"))
            .is_some());
        assert!(DdlSkipList::default().is_empty());
        assert!(DdlSkipList::default()
            .matching(at("f.000001", 9, None, sql))
            .is_none());
    }

    #[test]
    fn refuses_bad_entries_with_the_fix() {
        let err = |e: &str| list(&[e]).unwrap_err();
        let e = err("regex:^ALTER (TABLE");
        assert!(e.contains("not a valid regex") && e.contains("\\\\"), "{e}");
        assert!(err("regex:").contains("empty regex"));
        assert!(err("mariadb-bin.000042").contains("neither FILE:POS"));
        assert!(err("mariadb-bin.000042:12x").contains("not a byte offset"));
        assert!(err(":1234").contains("not a binlog position"));
        assert!(err("mariadb-bin.000042:0").contains("at least 4"));
        assert!(err("gtid:abc").contains("not a GTID"));
        assert!(err("gtid:0-1").contains("not a GTID"));
        // The name of the bad entry is in the message.
        assert!(err("bin.1:x").contains("`bin.1:x`"));
    }
}
