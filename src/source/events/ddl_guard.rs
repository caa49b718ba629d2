//! What the [`EventHandler`] does when a DDL statement on a captured table cannot be applied
//! to the catalog, and what it knows to decide it: whether the server logs FULL row metadata
//! (table maps that name every column) or MINIMAL.
//!
//! Which metadata applies is learned per stream: from the table maps of captured tables seen
//! in this stream (the log itself; the latest one wins). Before the first one, the server's
//! `binlog_row_metadata` read when the live stream connected counts only when it says
//! MINIMAL (or the server has no such setting, as MySQL 5.7): then the rows ahead certainly
//! need the DDL. A server that says FULL proves nothing about the log being read — a stream
//! resuming in binlogs written before the setting was changed reads MINIMAL rows — so then
//! (as for a recorded file before its first captured row) the metadata is not known yet.
//!
//! The decision, for a statement the parser cannot apply:
//! - listed in `source.ddl_skip`: passed over before it is even parsed (the catalog keeps the
//!   old structure; rows that no longer fit are refused by `check_fits`, whose message then
//!   names the skip);
//! - `source.ddl_reread` on a live stream: the table's structure is re-read from the server
//!   (`crate::source::reread`), which checks it is safe;
//! - FULL metadata: a warning; the table maps describe every row, only the statement's
//!   attributes (declared type names, comments, defaults) are missing;
//! - MINIMAL metadata: a definite error naming the position, tables, statement and reason,
//!   with the ways out — never a structure that might name columns wrongly;
//! - not known yet: a warning, and the touched tables are forgotten by the catalog, so that
//!   their next rows are either described by a FULL table map or refused (with this
//!   statement named while the process runs; "no schema is known" after a restart) — never
//!   decoded under the old structure.
//!
//! Invariant: a table whose last DDL was not followed is remembered until a later statement
//! or a FULL table map describes it again; a MINIMAL table map for it is then an error
//! naming that DDL, even if the stream believed the server logged FULL metadata.

use std::collections::HashMap;

use crate::catalog::ddl::DdlInfo;
use crate::catalog::ddl_skip::DdlSkipList;
use crate::error::Error;
use crate::model::BinlogPosition;

/// What the stream has seen of the server's `binlog_row_metadata`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RowMetadata {
    /// Nothing yet (a recorded file before its first captured row).
    #[default]
    Unknown,
    /// Table maps carry column names.
    Full,
    /// Table maps carry only the wire layout.
    Minimal,
}

/// How DDL that cannot be followed is handled, and what the stream knows so far; carried
/// over when the live stream reconnects ([`super::EventHandler::options_now`]).
#[derive(Debug, Clone, Default)]
pub struct DdlState {
    skip: DdlSkipList,
    /// Re-read the structure from the server (live streams only).
    reread: bool,
    /// A live stream (ways out name `[source]` settings) or a recorded file (`replay` flags).
    live: bool,
    /// From the table maps of captured tables in this stream.
    seen: RowMetadata,
    /// From the server's `binlog_row_metadata` when the stream connected.
    hint: RowMetadata,
    /// Tables whose last DDL was not followed, with the error to give if MINIMAL rows come.
    unfollowed: HashMap<(String, String), NotFollowed>,
    /// Tables whose last DDL was skipped on purpose, with the skip entry and position.
    skipped: HashMap<(String, String), String>,
    /// A re-read the live stream must do before the handler goes on.
    pending: Option<PendingReread>,
}

/// A DDL statement that could not be applied, as the error describes it.
#[derive(Debug, Clone)]
pub(crate) struct NotFollowed {
    pub(crate) position: String,
    pub(crate) tables: String,
    pub(crate) statement: String,
    pub(crate) reason: String,
}

/// A re-read of the touched tables' structures that the live stream must do before the
/// handler can go on (see `crate::source::reread`).
#[derive(Debug, Clone)]
pub(crate) struct PendingReread {
    /// The statement, classified, with its session's default database.
    pub(crate) info: DdlInfo,
    pub(crate) sql: String,
    /// The captured tables it touches: the ones to re-read.
    pub(crate) tables: Vec<(String, String)>,
    /// Where the statement's event ends: no later statement may touch the tables.
    pub(crate) after: BinlogPosition,
    pub(crate) not_followed: NotFollowed,
}

impl DdlState {
    /// For the live stream: the `source.ddl_skip` list and `source.ddl_reread`.
    pub fn live(skip: DdlSkipList, reread: bool) -> Self {
        Self {
            skip,
            reread,
            live: true,
            ..Self::default()
        }
    }

    /// For a recorded file: only a skip list (there is no server to re-read from).
    pub fn replay(skip: DdlSkipList) -> Self {
        Self {
            skip,
            ..Self::default()
        }
    }

    /// Records the server's `binlog_row_metadata` (`None`: the server has no such setting,
    /// as MySQL 5.7 and MariaDB before 10.5, which log MINIMAL metadata).
    pub fn set_server_setting(&mut self, value: Option<&str>) {
        self.hint = match value {
            Some(v) if v.eq_ignore_ascii_case("FULL") => RowMetadata::Full,
            _ => RowMetadata::Minimal,
        };
    }

    /// What applies now: the table maps' evidence, else MINIMAL when the server says so
    /// (a FULL setting alone is no evidence about the binlog being read).
    pub fn metadata(&self) -> RowMetadata {
        match (self.seen, self.hint) {
            (RowMetadata::Unknown, RowMetadata::Minimal) => RowMetadata::Minimal,
            (seen, _) => seen,
        }
    }

    /// The same state for the handler of a reconnected stream (which handles the statement
    /// of a pending re-read again).
    pub fn for_reconnect(&self) -> Self {
        Self {
            pending: None,
            ..self.clone()
        }
    }

    pub(crate) fn set_pending(&mut self, p: PendingReread) {
        self.pending = Some(p);
    }

    pub(crate) fn take_pending(&mut self) -> Option<PendingReread> {
        self.pending.take()
    }

    pub(crate) fn rereads(&self) -> bool {
        self.reread && self.live
    }

    /// The skip entry that lists the statement, if any.
    pub(crate) fn skip_entry(
        &self,
        at: crate::catalog::ddl_skip::StatementAt<'_>,
    ) -> Option<String> {
        self.skip.matching(at).map(str::to_string)
    }

    /// A table map of a captured table, with (`full`) or without column names.
    pub(crate) fn saw_table_map(&mut self, db: &str, table: &str, full: bool) {
        self.seen = if full {
            RowMetadata::Full
        } else {
            RowMetadata::Minimal
        };
        if full {
            // The table map describes the table itself: nothing is missing any more.
            self.unfollowed.remove(&key(db, table));
        }
    }

    /// The error for a MINIMAL table map of a table whose last DDL was not followed.
    pub(crate) fn check_minimal_rows(&self, db: &str, table: &str, at: &str) -> Result<(), Error> {
        match self.unfollowed.get(&key(db, table)) {
            Some(nf) => Err(self.error(
                nf,
                &format!("{}; its rows at {at} carry MINIMAL row metadata", nf.reason),
            )),
            None => Ok(()),
        }
    }

    /// What a `check_fits` refusal should add when the table's last DDL was skipped.
    pub(crate) fn explain_misfit(&self, db: &str, table: &str, reason: String) -> String {
        match self.skipped.get(&key(db, table)) {
            Some(skip) => format!(
                "{reason} (the DDL {skip} was skipped by source.ddl_skip and rowtide kept the \
                 structure from before it; remove that entry and follow the statement another \
                 way: docs/operations.md, \"When rowtide cannot follow a DDL\")"
            ),
            None => reason,
        }
    }

    /// Records a deliberate skip of a statement touching `tables`.
    pub(crate) fn skipped(&mut self, tables: &[(String, String)], what: String) {
        for (d, t) in tables {
            self.unfollowed.remove(&key(d, t));
            self.skipped.insert(key(d, t), what.clone());
        }
    }

    /// The statement was applied: the tables are followed again.
    pub(crate) fn followed(&mut self, tables: &[(String, String)]) {
        for (d, t) in tables {
            self.unfollowed.remove(&key(d, t));
            self.skipped.remove(&key(d, t));
        }
    }

    /// The statement was not applied but the stream goes on (FULL or unknown metadata).
    pub(crate) fn not_followed(&mut self, tables: &[(String, String)], nf: &NotFollowed) {
        for (d, t) in tables {
            self.skipped.remove(&key(d, t));
            self.unfollowed.insert(key(d, t), nf.clone());
        }
    }

    /// The definite error for `nf`, with `reason` and the ways out for this kind of stream.
    pub(crate) fn error(&self, nf: &NotFollowed, reason: &str) -> Error {
        Error::DdlNotFollowed {
            position: nf.position.clone(),
            tables: nf.tables.clone(),
            statement: nf.statement.clone(),
            reason: reason.to_string(),
            ways_out: self.ways_out(nf),
        }
    }

    /// The ways out, with the exact setting for this statement.
    fn ways_out(&self, nf: &NotFollowed) -> String {
        let entry = nf
            .position
            .split_whitespace()
            .next()
            .unwrap_or(&nf.position);
        let gtid = nf
            .position
            .split_once("(GTID ")
            .map(|(_, g)| g.trim_end_matches(')'));
        let by_gtid = gtid
            .map(|g| format!(" (or \"gtid:{g}\")"))
            .unwrap_or_default();
        let skip = format!(
            "[source] ddl_skip = [\"{entry}\"]{by_gtid} — pass over this statement and keep \
             the previous structure (rows that no longer fit it are refused)"
        );
        let full = "binlog_row_metadata=FULL on the server — the log then describes every row \
                    and DDL no longer has to be understood; it applies to what is logged after \
                    the change";
        let head = "Ways out (docs/operations.md, \"When rowtide cannot follow a DDL\"):";
        if self.rereads() {
            // The re-read is on and was refused: what is left.
            format!(
                "{head} (1) {skip}; (2) a new snapshot (rowtide offsets reset, then run with \
                 snapshot_mode = \"initial\"); (3) {full}, so for this statement also use (1) \
                 or (2)"
            )
        } else if self.live {
            format!(
                "{head} (1) [source] ddl_reread = true — read the table's structure from the \
                 server instead (used only when no later statement touched the table); \
                 (2) {skip}; (3) {full}, so for this statement also use (1) or (2), or \
                 re-snapshot (rowtide offsets reset)"
            )
        } else {
            format!(
                "{head} (1) rowtide replay --ddl-skip {entry} … — pass over this statement and \
                 keep the previous structure (rows that no longer fit it are refused); \
                 (2) {full}; a recorded file cannot be re-read from a server \
                 (source.ddl_reread works only for `rowtide run`)"
            )
        }
    }
}

fn key(db: &str, table: &str) -> (String, String) {
    (db.to_string(), table.to_string())
}

/// The statement as an error quotes it: whitespace collapsed, at most 200 characters.
pub(crate) fn shorten(sql: &str) -> String {
    let one_line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= 200 {
        return one_line;
    }
    let mut s: String = one_line.chars().take(200).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nf() -> NotFollowed {
        NotFollowed {
            position: "mariadb-bin.000003:1234 (GTID 0-1-12)".into(),
            tables: "shop.t4".into(),
            statement: "CREATE TABLE t4 LIKE other.t1".into(),
            reason: "CREATE TABLE shop.t4 LIKE unknown table other.t1".into(),
        }
    }

    #[test]
    fn metadata_evidence_wins_over_the_server_setting() {
        let mut s = DdlState::live(DdlSkipList::default(), false);
        assert_eq!(s.metadata(), RowMetadata::Unknown);
        s.set_server_setting(Some("MINIMAL"));
        assert_eq!(s.metadata(), RowMetadata::Minimal);
        s.set_server_setting(None);
        assert_eq!(s.metadata(), RowMetadata::Minimal, "no setting: MySQL 5.7");
        s.set_server_setting(Some("full"));
        assert_eq!(
            s.metadata(),
            RowMetadata::Unknown,
            "a FULL setting says nothing about old binlogs"
        );
        s.saw_table_map("d", "t", false);
        assert_eq!(s.metadata(), RowMetadata::Minimal, "the log says otherwise");
        s.saw_table_map("d", "t", true);
        assert_eq!(s.metadata(), RowMetadata::Full);
    }

    #[test]
    fn unfollowed_tables_refuse_minimal_rows_until_described() {
        let mut s = DdlState::replay(DdlSkipList::default());
        let t = vec![("shop".to_string(), "t4".to_string())];
        s.not_followed(&t, &nf());
        let e = s
            .check_minimal_rows("shop", "t4", "f.000003:2000")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("mariadb-bin.000003:1234")
                && e.contains("shop.t4")
                && e.contains("LIKE other.t1")
                && e.contains("f.000003:2000")
                && e.contains("--ddl-skip mariadb-bin.000003:1234"),
            "{e}"
        );
        assert!(s.check_minimal_rows("shop", "other", "x").is_ok());
        s.saw_table_map("shop", "t4", true);
        assert!(s.check_minimal_rows("shop", "t4", "x").is_ok());
        s.not_followed(&t, &nf());
        s.followed(&t);
        assert!(s.check_minimal_rows("shop", "t4", "x").is_ok());
    }

    #[test]
    fn ways_out_name_the_exact_settings() {
        let live = DdlState::live(DdlSkipList::default(), false);
        let e = live.error(&nf(), "why").to_string();
        assert!(e.starts_with("cannot follow the DDL at mariadb-bin.000003:1234 (GTID 0-1-12) on shop.t4: why. Statement: `CREATE TABLE t4 LIKE other.t1`."), "{e}");
        assert!(e.contains("[source] ddl_reread = true"), "{e}");
        assert!(
            e.contains("[source] ddl_skip = [\"mariadb-bin.000003:1234\"] (or \"gtid:0-1-12\")"),
            "{e}"
        );
        assert!(e.contains("binlog_row_metadata=FULL"), "{e}");
        let refused = DdlState::live(DdlSkipList::default(), true);
        let e = refused.error(&nf(), "why").to_string();
        assert!(!e.contains("ddl_reread = true"), "{e}");
        assert!(
            e.contains("ddl_skip = [\"mariadb-bin.000003:1234\"]") && e.contains("new snapshot"),
            "{e}"
        );
        let replay = DdlState::replay(DdlSkipList::default());
        let e = replay.error(&nf(), "why").to_string();
        assert!(
            e.contains("rowtide replay --ddl-skip mariadb-bin.000003:1234"),
            "{e}"
        );
        assert!(!e.contains("ddl_reread = true"), "{e}");
    }

    #[test]
    fn misfits_name_the_skip() {
        let mut s = DdlState::live(DdlSkipList::default(), false);
        let t = vec![("shop".to_string(), "t4".to_string())];
        s.skipped(&t, "at f.000001:900 (entry \"f.000001:900\")".into());
        let m = s.explain_misfit("shop", "t4", "3 columns but 2".into());
        assert!(m.contains("f.000001:900") && m.contains("ddl_skip"), "{m}");
        assert_eq!(s.explain_misfit("shop", "t5", "x".into()), "x");
    }

    #[test]
    fn statements_are_shortened() {
        assert_eq!(
            shorten("ALTER  TABLE\n t\tADD x INT"),
            "ALTER TABLE t ADD x INT"
        );
        let long = format!("CREATE TABLE t ({})", "a INT, ".repeat(100));
        let s = shorten(&long);
        assert_eq!(s.chars().count(), 201);
        assert!(s.ends_with('…'));
    }
}
