//! DDL the handler cannot follow, with events built by hand the way MariaDB writes them:
//! what a FULL table map stream keeps of the table (nothing stale), and which statements
//! `source.ddl_skip` passes over (only those that cannot be applied).

use mysql_common::binlog::consts::{BinlogChecksumAlg, BinlogVersion};
use mysql_common::binlog::events::{BinlogEventFooter, Event, FormatDescriptionEvent};

use crate::catalog::ddl_skip::DdlSkipList;
use crate::model::{BinlogPosition, Catalog, Filter, Flavor, SourceEvent, SourceOffset};
use crate::source::events::rows::TableSlot;
use crate::source::events::{DdlState, EventHandler, HandlerOptions};

/// A MariaDB 10.11 format description without checksums.
fn fde() -> FormatDescriptionEvent<'static> {
    let mut lens = vec![0u8; 171];
    lens[2 - 1] = 13;
    lens[19 - 1] = 8;
    lens[30 - 1..=32 - 1].fill(10);
    FormatDescriptionEvent::new(BinlogVersion::Version4)
        .with_server_version(b"10.11.19-MariaDB".to_vec())
        .with_event_type_header_lengths(lens)
        .with_footer(BinlogEventFooter::new(
            BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_OFF,
        ))
}

/// An event of type `ty` with `body`, ending at `log_pos`.
fn event(ty: u8, body: &[u8], log_pos: u32) -> Event {
    let mut b = Vec::new();
    b.extend_from_slice(&1_700_000_000u32.to_le_bytes());
    b.push(ty);
    b.extend_from_slice(&9u32.to_le_bytes());
    b.extend_from_slice(&(19 + body.len() as u32).to_le_bytes());
    b.extend_from_slice(&log_pos.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(body);
    Event::read(&fde(), &b[..]).unwrap()
}

/// A QUERY event with `sql` run in database `db`.
fn query(sql: &str, log_pos: u32) -> Event {
    let mut b = Vec::new();
    b.extend_from_slice(&7u32.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.push(2);
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(b"db\0");
    b.extend_from_slice(sql.as_bytes());
    event(2, &b, log_pos)
}

/// A TABLE_MAP of `db.t` with an INT and a TINYINT column, named (FULL metadata) or not.
fn table_map(names: Option<[&str; 2]>, log_pos: u32) -> Event {
    let mut b = 42u64.to_le_bytes()[..6].to_vec();
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(b"\x02db\0\x01t\0");
    b.extend_from_slice(&[2, 3, 1, 0, 0b11]);
    if let Some(names) = names {
        let mut field = Vec::new();
        for n in names {
            field.push(n.len() as u8);
            field.extend_from_slice(n.as_bytes());
        }
        b.push(4); // COLUMN_NAME
        b.push(field.len() as u8);
        b.extend(field);
    }
    event(19, &b, log_pos)
}

fn handler(catalog: Catalog, skip: &[&str]) -> EventHandler {
    let skip = DdlSkipList::parse(&skip.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    EventHandler::new(
        Filter::new(&["db\\.t".to_string()], &[]).unwrap(),
        &SourceOffset {
            binlog: BinlogPosition::new("bin.000001".to_string(), 4),
            gtid_set: None,
            skip_rows: 0,
        },
        HandlerOptions {
            catalog,
            flavor: Some(Flavor::Mariadb),
            include_query: false,
            allow_positional_names: false,
            capture_system_schemas: false,
            ddl: DdlState::live(skip.unwrap(), false),
            failure_mode: Default::default(),
        },
    )
}

/// The declared type of column `col` in the decoder the last table map built.
fn declared_type(h: &EventHandler, col: usize) -> Option<String> {
    match h.tables.get(&42) {
        Some(TableSlot::Captured(dec)) => dec.table.columns[col].ddl.type_name.clone(),
        _ => panic!("db.t has no decoder"),
    }
}

/// A statement no parser can follow from its text: its columns come from an unknown table.
const NOT_FOLLOWED: &str = "CREATE OR REPLACE TABLE db.t LIKE other.src";

#[test]
fn under_full_metadata_a_ddl_not_followed_leaves_no_stale_structure_behind() {
    let mut h = handler(Catalog::default(), &[]);
    let mut out = Vec::new();
    h.handle(
        &query("CREATE TABLE t (id INT PRIMARY KEY, b BOOLEAN)", 100),
        &mut out,
    )
    .unwrap();
    h.handle(&table_map(Some(["id", "b"]), 200), &mut out)
        .unwrap();
    assert_eq!(
        declared_type(&h, 1).as_deref(),
        Some("BOOLEAN"),
        "from the DDL"
    );

    out.clear();
    h.handle(&query(NOT_FOLLOWED, 300), &mut out).unwrap();
    assert!(
        h.catalog.get("db", "t").is_none(),
        "the structure is forgotten"
    );
    let checkpointed = out
        .iter()
        .find_map(|e| match e {
            SourceEvent::SchemaChange(sc) => sc.catalog_after.clone(),
            _ => None,
        })
        .expect("a schema change with the catalog after it");
    assert!(
        checkpointed.get("db", "t").is_none(),
        "and not checkpointed"
    );

    // (b) A later statement rowtide understands has nothing stale to apply to.
    h.handle(&query("ALTER TABLE t RENAME COLUMN b TO c", 400), &mut out)
        .unwrap();
    assert!(h.catalog.get("db", "t").is_none());
    let e = h
        .handle(&table_map(None, 500), &mut out)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot follow the DDL"), "{e}");

    // (a) The next FULL table map describes the table afresh: the declared BOOLEAN of the
    // old structure is not lent to the new TINYINT column of the same name.
    h.handle(&table_map(Some(["id", "b"]), 600), &mut out)
        .unwrap();
    assert_ne!(declared_type(&h, 1).as_deref(), Some("BOOLEAN"));

    // (c) After a restart from the checkpoint, MINIMAL rows find no structure and are
    // refused with the way out.
    let mut restarted = handler(checkpointed, &[]);
    let e = restarted
        .handle(&table_map(None, 700), &mut out)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no schema is known for db.t")
            && e.contains("When rowtide cannot follow a DDL")
            && e.contains("rowtide offsets reset"),
        "{e}"
    );
}

#[test]
fn ddl_skip_passes_over_only_statements_that_cannot_be_applied() {
    let create = query("CREATE TABLE t (id INT PRIMARY KEY, a INT)", 200);
    let start = 200 - create.header().event_size();
    let at_create = format!("bin.000001:{start}");
    let mut h = handler(Catalog::default(), &["regex:^ALTER TABLE t ", &at_create]);
    let mut out = Vec::new();
    // The FILE:POS entry stands at a statement rowtide understands: applied.
    h.handle(
        &query("CREATE TABLE t (id INT PRIMARY KEY, a INT)", 200),
        &mut out,
    )
    .unwrap();
    assert!(
        h.catalog.get("db", "t").is_some(),
        "applied despite the entry"
    );
    // A RENAME COLUMN the regex matches is applied too: skipping it would misname rows.
    h.handle(&query("ALTER TABLE t RENAME COLUMN a TO b", 300), &mut out)
        .unwrap();
    let names: Vec<String> = h
        .catalog
        .get("db", "t")
        .unwrap()
        .columns
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(names, ["id", "b"]);
    // A statement that cannot be applied and that the regex matches is skipped: the
    // catalog keeps what it had, no schema change goes out.
    h.set_row_metadata_setting(Some("MINIMAL"));
    out.clear();
    h.handle(
        &query(
            "ALTER TABLE t ADD COLUMN z INT, ALGORITHM=NOT_A_THING(",
            400,
        ),
        &mut out,
    )
    .unwrap();
    assert!(
        !out.iter()
            .any(|e| matches!(e, SourceEvent::SchemaChange(_))),
        "{out:?}"
    );
    let names: Vec<String> = h
        .catalog
        .get("db", "t")
        .unwrap()
        .columns
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(names, ["id", "b"]);
    // Not listed and not applicable: the definite error.
    let e = h
        .handle(&query(NOT_FOLLOWED, 500), &mut out)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot follow the DDL at bin.000001:"), "{e}");
}

/// A WRITE_ROWS (v2) event of table id 42 (`db.t`: INT, TINYINT) with `rows` as its row
/// data (null bitmap then values, per row).
fn write_rows(rows: &[u8], log_pos: u32) -> Event {
    let mut b = 42u64.to_le_bytes()[..6].to_vec();
    b.extend_from_slice(&1u16.to_le_bytes()); // STMT_END
    b.extend_from_slice(&2u16.to_le_bytes()); // no extra data
    b.extend_from_slice(&[2, 0b11]);
    b.extend_from_slice(rows);
    event(30, &b, log_pos)
}

/// An XID event (the commit of a transactional statement).
fn xid(log_pos: u32) -> Event {
    event(16, &7u64.to_le_bytes(), log_pos)
}

/// A row `(id, b)` of `db.t`.
fn row(id: u8, b: u8) -> Vec<u8> {
    vec![0, id, 0, 0, 0, b]
}

/// The op and first column of each change in `out`, `Commit`s as ("commit", -1).
fn summary(out: &[SourceEvent]) -> Vec<(&'static str, i64)> {
    out.iter()
        .filter_map(|e| match e {
            SourceEvent::Change(c) => Some((
                c.op.code(),
                match c.after.as_ref().or(c.before.as_ref()).map(|r| &r[0]) {
                    Some(crate::model::Value::Int(i)) => *i,
                    _ => -1,
                },
            )),
            SourceEvent::Commit { .. } => Some(("commit", -1)),
            _ => None,
        })
        .collect()
}

#[test]
fn truncate_of_a_captured_table_is_a_truncate_change_and_no_schema_change() {
    let mut h = handler(Catalog::default(), &[]);
    let mut out = Vec::new();
    h.handle(
        &query("CREATE TABLE t (id INT PRIMARY KEY, b TINYINT)", 100),
        &mut out,
    )
    .unwrap();
    let before = h.catalog.get("db", "t").cloned().unwrap();
    for (sql, pos) in [
        ("TRUNCATE TABLE t", 200),
        ("truncate db.t", 300),
        ("TRUNCATE TABLE other", 400),
    ] {
        out.clear();
        h.handle(&query(sql, pos), &mut out).unwrap();
        let changes: Vec<_> = out
            .iter()
            .filter_map(|e| match e {
                SourceEvent::Change(c) => Some(c),
                _ => None,
            })
            .collect();
        assert!(
            !out.iter()
                .any(|e| matches!(e, SourceEvent::SchemaChange(_))),
            "{sql}: {out:?}"
        );
        assert!(
            matches!(out.last(), Some(SourceEvent::Commit { .. })),
            "{sql}: a statement of its own commits: {out:?}"
        );
        if sql.ends_with("other") {
            assert!(changes.is_empty(), "not captured: {out:?}");
            continue;
        }
        assert_eq!(changes.len(), 1, "{sql}: {out:?}");
        let c = changes[0];
        assert_eq!(c.op, crate::model::Op::Truncate);
        assert_eq!(c.op.code(), "t");
        assert_eq!(c.table.full_name(), "db.t");
        assert!(c.before.is_none() && c.after.is_none());
        assert_eq!(c.position.txn_row, 0, "the transaction's first change");
        assert_eq!(c.position.row, 0);
        assert_eq!(c.thread, None, "as Debezium's: no BEGIN gave a thread");
    }
    assert!(
        std::sync::Arc::ptr_eq(h.catalog.get("db", "t").unwrap(), &before),
        "the structure stays as it was"
    );
}

/// A rows event whose value runs past its row data, between two good ones.
fn damaged_transaction(h: &mut EventHandler) -> crate::error::Result<Vec<SourceEvent>> {
    let mut out = Vec::new();
    h.handle(&query("BEGIN", 150), &mut out)?;
    h.handle(&table_map(Some(["id", "b"]), 200), &mut out)?;
    h.handle(&write_rows(&row(1, 7), 300), &mut out)?;
    let mut bad = row(2, 8);
    bad.truncate(3);
    let mut two = row(5, 1);
    two.extend(bad);
    h.handle(&write_rows(&two, 400), &mut out)?;
    h.handle(&write_rows(&row(3, 9), 500), &mut out)?;
    h.handle(&xid(600), &mut out)?;
    Ok(out)
}

#[test]
fn an_undecodable_rows_event_fails_or_is_passed_over_whole() {
    use crate::config::shaping::FailureMode;
    let mut h = handler(Catalog::default(), &[]);
    let e = damaged_transaction(&mut h).unwrap_err();
    assert!(
        matches!(e, crate::error::Error::Decode { .. }),
        "fail (the default) stops: {e}"
    );
    let e = e.to_string();
    assert!(
        e.contains("cannot decode db.t.id at bin.000001:") && e.contains("ends early"),
        "names table, column and position: {e}"
    );

    for mode in [FailureMode::Warn, FailureMode::Skip] {
        let mut h = handler(Catalog::default(), &[]);
        h.failure_mode = mode;
        let out = damaged_transaction(&mut h).unwrap();
        // The damaged event's first row decoded, but the event goes as a whole.
        assert_eq!(
            summary(&out),
            [("c", 1), ("c", 3), ("commit", -1)],
            "{mode:?}"
        );
        let third = out
            .iter()
            .find_map(|e| match e {
                SourceEvent::Change(c)
                    if c.after.as_ref().unwrap()[0] == crate::model::Value::Int(3) =>
                {
                    Some(c)
                }
                _ => None,
            })
            .unwrap();
        assert_eq!(
            third.position.txn_row, 1,
            "{mode:?}: the passed-over event counts no change (resuming skips the same rows)"
        );
    }
}
