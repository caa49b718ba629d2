//! From Debezium's offset to rowtide's: the same transaction start (`file:pos`, executed GTID
//! set), and Debezium's "skip `event` events, then `row` rows of the next event" turned into
//! rowtide's count of changes to skip.
//!
//! The units differ: Debezium counts every binlog event of the transaction from its first
//! (the MariaDB GTID event or MySQL's `BEGIN`, event 1), table maps included; rowtide counts
//! the row changes of captured tables. So the transaction is read from the server, from
//! `file:pos`, through rowtide's own event handler (same filter, same decoding), and the
//! changes of the first `event` events plus the first `row` of the next one are what
//! rowtide skips. Anything that does not fit (no transaction starts there, it ends before
//! event `event`, the event after them holds fewer than `row` rows or no rows) is a refusal.

use std::time::Duration;

use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::BinlogStreamRequest;

use super::offset::{gtid_set_for, DebeziumOffset};
use crate::catalog::ddl_skip::DdlSkipList;
use crate::config::shaping::FailureMode;
use crate::config::SourceConfig;
use crate::error::{classify_mysql, Error, Result};
use crate::model::{BinlogPosition, Catalog, Filter, Flavor, SourceEvent, SourceOffset};
use crate::mysql;
use crate::source::events::{DdlState, EventHandler, HandlerOptions};

const QUERY_EVENT: u8 = 2;
const HEARTBEAT_EVENT: u8 = 27;
const TRANSACTION_PAYLOAD_EVENT: u8 = 40;
const MARIADB_ANNOTATE_ROWS: u8 = 160;
const MARIADB_GTID: u8 = 162;
/// Rows events: v1 (23-25), v2 (30-32), MySQL's partial updates (39), MariaDB's compressed
/// ones (166-171).
fn is_rows_event(ty: u8) -> bool {
    matches!(ty, 23..=25 | 30..=32 | 39 | 166..=171)
}

/// How long reading the transaction may take (it is already in the binlog).
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The translated position, and what was read to get it.
#[derive(Debug, Clone)]
pub struct Translated {
    pub offset: SourceOffset,
    pub flavor: Flavor,
    /// One line per event of the transaction read: `TYPE at POS: N changes`.
    pub walked: Vec<String>,
}

fn refuse(reason: impl Into<String>) -> Error {
    Error::Config(format!(
        "cannot resume exactly from Debezium's offset: {}",
        reason.into()
    ))
}

/// Checks the offset against the server and computes rowtide's offset.
pub async fn translate(
    cfg: &SourceConfig,
    filter: &Filter,
    dbz: &DebeziumOffset,
    include_query: Option<bool>,
) -> Result<Translated> {
    let mut conn = mysql::connect(cfg).await?;
    let info = mysql::server_info(&mut conn, cfg.flavor).await?;
    let gtid_set = match &dbz.gtids {
        Some(g) => Some(gtid_set_for(info.flavor, g).map_err(refuse)?),
        None => None,
    };
    let logs = mysql::binary_logs(&mut conn).await?;
    match logs.iter().find(|(f, _)| *f == dbz.file) {
        None => {
            return Err(refuse(format!(
                "binlog file {} is not on the server (it has {}): it was purged, or the offset \
                 belongs to another server. Re-snapshot with rowtide instead",
                dbz.file,
                mysql::describe_logs(&logs)
            )))
        }
        Some((_, size)) if dbz.pos > *size => {
            return Err(refuse(format!(
                "position {} is past the end of {} ({size} bytes): the offset belongs to another server",
                dbz.pos, dbz.file
            )))
        }
        Some(_) => {}
    }
    let base = SourceOffset {
        binlog: BinlogPosition::new(dbz.file.clone(), dbz.pos),
        gtid_set,
        skip_rows: 0,
    };
    if dbz.events == 0 {
        let _ = conn.disconnect().await;
        if dbz.rows != 0 {
            return Err(refuse(format!(
                "the offset skips {} rows but no events; Debezium never writes that",
                dbz.rows
            )));
        }
        return Ok(Translated {
            offset: base,
            flavor: info.flavor,
            walked: Vec::new(),
        });
    }
    let catalog = {
        let mut c = Catalog::default();
        for t in mysql::schema::load_tables(&mut conn, filter).await? {
            c.put(t);
        }
        c
    };
    let row_metadata = mysql::variable(&mut conn, "binlog_row_metadata").await?;
    let options = HandlerOptions {
        catalog,
        flavor: Some(info.flavor),
        include_query: false,
        allow_positional_names: false,
        capture_system_schemas: false,
        ddl: DdlState::live(
            DdlSkipList::parse(&cfg.ddl_skip)
                .map_err(|e| Error::Config(format!("source.ddl_skip: {e}")))?,
            cfg.ddl_reread,
        ),
        failure_mode: FailureMode::Fail,
    };
    let mut handler = EventHandler::new(filter.clone(), &base, options);
    handler.set_row_metadata_setting(row_metadata.as_deref());
    let annotates = match info.flavor {
        Flavor::Mariadb => annotate_positions(&mut conn, dbz).await?,
        // MySQL sends its Rows_query events to every replica: rowtide reads them too.
        Flavor::Mysql => Vec::new(),
    };
    for s in crate::source::binlog::session_setup(cfg, info.flavor, false, &base)? {
        conn.query_drop(s)
            .await
            .map_err(|e| classify_mysql(e, ""))?;
    }
    let walk = tokio::time::timeout(READ_TIMEOUT, walk(conn, cfg.server_id, handler, dbz)).await;
    let walked = walk.map_err(|_| {
        Error::SourceTransient(format!(
            "reading the transaction at {}:{} took over {} s",
            dbz.file,
            dbz.pos,
            READ_TIMEOUT.as_secs()
        ))
    })??;
    let skip_rows = decide(&walked, &annotates, dbz, include_query)?;
    let walked = walked
        .iter()
        .map(|w| {
            let name = crate::source::guard::event_type_name(w.ty);
            format!("{name} at {}: {} changes", w.start, w.changes)
        })
        .collect();
    Ok(Translated {
        offset: SourceOffset { skip_rows, ..base },
        flavor: info.flavor,
        walked,
    })
}

/// Where the transaction's `ANNOTATE_ROWS` events are (MariaDB writes one before each
/// statement's rows with `binlog_annotate_row_events`, the default). rowtide's stream does
/// not ask for them; Debezium does with `include.query=true`, and then counts them.
async fn annotate_positions(
    conn: &mut mysql_async::Conn,
    dbz: &DebeziumOffset,
) -> Result<Vec<u64>> {
    // Enough events to cover Debezium's `event` + 1 however many of them are annotations.
    let limit = dbz.events.saturating_mul(2).saturating_add(2);
    let sql = format!(
        "SHOW BINLOG EVENTS IN '{}' FROM {} LIMIT {limit}",
        dbz.file.replace('\\', "\\\\").replace('\'', "''"),
        dbz.pos
    );
    let rows: Vec<mysql_async::Row> = conn.query(sql).await.map_err(|e| classify_mysql(e, ""))?;
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let pos: Option<u64> = row.get(1);
        let ty: Option<String> = row.get(2);
        let (Some(pos), Some(ty)) = (pos, ty) else {
            continue;
        };
        if ty == "Annotate_rows" {
            out.push(pos);
        } else if i > 0 && (ty == "Xid" || ty == "Gtid") {
            break; // the transaction ended (or the next began)
        }
    }
    Ok(out)
}

/// The skip, with `ANNOTATE_ROWS` counted or not: as `include_query` says, else whichever
/// reading of the offset fits the transaction — and a refusal when both fit but differ.
fn decide(
    walked: &[Walked],
    annotates: &[u64],
    dbz: &DebeziumOffset,
    include_query: Option<bool>,
) -> Result<u64> {
    let plain = skip_for(walked, &[], dbz);
    if annotates.is_empty() {
        return plain.map_err(refuse);
    }
    let annotated = skip_for(walked, annotates, dbz);
    match (include_query, plain, annotated) {
        (Some(false), p, _) => p.map_err(refuse),
        (Some(true), _, a) => a.map_err(refuse),
        (None, Ok(p), Ok(a)) if p == a => Ok(p),
        (None, Ok(p), Ok(a)) => Err(refuse(format!(
            "the transaction has ANNOTATE_ROWS events, which Debezium counts only with              include.query=true: skipping {p} changes (include.query=false) or {a}              (include.query=true) both fit. Give --include-query false|true as the connector had it"
        ))),
        (None, Ok(p), Err(_)) => Ok(p),
        (None, Err(_), Ok(a)) => Ok(a),
        (None, Err(p), Err(_)) => Err(refuse(p)),
    }
}

/// One event of the transaction as rowtide's stream received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walked {
    pub start: u64,
    pub ty: u8,
    /// Changes rowtide's handler produced from it (rows of captured tables).
    pub changes: u64,
    /// It ended the transaction (XID / COMMIT).
    pub commit: bool,
}

/// Reads the transaction at the offset: from its first event until `dbz.events` + 1 events
/// were received or it ended.
async fn walk(
    conn: mysql_async::Conn,
    server_id: u32,
    mut handler: EventHandler,
    dbz: &DebeziumOffset,
) -> Result<Vec<Walked>> {
    let wanted = format!("{}:{}", dbz.file, dbz.pos);
    let file = dbz.file.clone().into_bytes();
    let req = BinlogStreamRequest::new(server_id)
        .with_filename(&file)
        .with_pos(dbz.pos);
    let mut stream = conn
        .get_binlog_stream(req)
        .await
        .map_err(|e| classify_mysql(e, &wanted))?;
    let mut walked: Vec<Walked> = Vec::new();
    let mut out = Vec::new();
    let result = loop {
        let event = match stream.next().await {
            Some(Ok(ev)) => ev,
            Some(Err(e)) => break Err(classify_mysql(e, &wanted)),
            None => {
                break Err(refuse(format!(
                    "the server ended the stream inside the transaction at {wanted}"
                )))
            }
        };
        let h = event.header();
        let ty = h.event_type_raw();
        if ty == HEARTBEAT_EVENT {
            continue;
        }
        let start = (h.log_pos() as u64).saturating_sub(h.event_size() as u64);
        out.clear();
        if let Err(e) = crate::source::guard::verify_event(&event) {
            break Err(refuse(format!(
                "the event at {}:{start} is damaged: {e}",
                dbz.file
            )));
        }
        if let Err(e) = handler.handle(&event, &mut out) {
            break Err(e);
        }
        if h.log_pos() == 0 || walked.is_empty() && start < dbz.pos {
            continue; // the stream's artificial ROTATE and FORMAT_DESCRIPTION
        }
        if ty == TRANSACTION_PAYLOAD_EVENT {
            break Err(refuse(
                "the transaction is a compressed MySQL transaction payload, whose inner events \
                 Debezium counts separately; resume at the next transaction with `rowtide \
                 offsets set` instead",
            ));
        }
        let first = walked.is_empty();
        walked.push(Walked {
            start,
            ty,
            changes: out
                .iter()
                .filter(|e| matches!(e, SourceEvent::Change(_)))
                .count() as u64,
            commit: !first && out.iter().any(|e| matches!(e, SourceEvent::Commit { .. })),
        });
        if first && !(start == dbz.pos && (ty == MARIADB_GTID || ty == QUERY_EVENT)) {
            break Ok(()); // not a transaction start: skip_for says so
        }
        if walked.len() as u64 > dbz.events || walked.last().is_some_and(|w| w.commit) {
            break Ok(());
        }
    };
    let _ = stream.close().await;
    result.map(|()| walked)
}

/// Debezium's skip in rowtide's unit, for the events as Debezium received them: `walked`,
/// plus (when Debezium ran with `include.query=true`) the `ANNOTATE_ROWS` events at
/// `annotates`, which rowtide's stream does not receive but Debezium counts.
pub fn skip_for(walked: &[Walked], annotates: &[u64], dbz: &DebeziumOffset) -> Result<u64, String> {
    let wanted = format!("{}:{}", dbz.file, dbz.pos);
    let mut seq: Vec<Walked> = walked.to_vec();
    for &a in annotates {
        seq.push(Walked {
            start: a,
            ty: MARIADB_ANNOTATE_ROWS,
            changes: 0,
            commit: false,
        });
    }
    seq.sort_by_key(|w| w.start);
    match seq.first() {
        Some(w) if w.start == dbz.pos && (w.ty == MARIADB_GTID || w.ty == QUERY_EVENT) => {}
        Some(w) => {
            return Err(format!(
                "no transaction starts at {wanted} (the event there is {}), yet the offset says \
                 {} events of one were processed",
                crate::source::guard::event_type_name(w.ty),
                dbz.events
            ))
        }
        None => return Err(format!("nothing was read at {wanted}")),
    }
    let mut skip = 0u64;
    for (i, w) in seq.iter().enumerate() {
        let i = i as u64;
        if w.commit && i < dbz.events {
            return Err(format!(
                "the transaction at {wanted} has {i} events before its commit, but the offset \
                 says {} were processed and the commit was not: the offset belongs to another \
                 server or binlog",
                dbz.events
            ));
        }
        if i < dbz.events {
            skip += w.changes;
            continue;
        }
        if dbz.rows == 0 {
            return Ok(skip);
        }
        // Event `events` + 1: Debezium processed its first `rows` rows.
        let name = crate::source::guard::event_type_name(w.ty);
        if !is_rows_event(w.ty) {
            return Err(format!(
                "the offset skips {} rows of event {} of the transaction at {wanted}, but that \
                 event is a {name}",
                dbz.rows,
                i + 1
            ));
        }
        if w.changes > 0 && dbz.rows > w.changes {
            return Err(format!(
                "the offset skips {} rows of event {} of the transaction at {wanted}, which has \
                 only {}",
                dbz.rows,
                i + 1,
                w.changes
            ));
        }
        // A table rowtide does not capture: none of its rows are rowtide's to skip.
        return Ok(skip + dbz.rows.min(w.changes));
    }
    Err(format!(
        "the transaction at {wanted} ended before event {} (the offset's `event` + 1)",
        dbz.events + 1
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dbz(events: u64, rows: u64) -> DebeziumOffset {
        DebeziumOffset {
            server: "s".into(),
            file: "b.000001".into(),
            pos: 100,
            gtids: None,
            events,
            rows,
            ts_sec: None,
            server_id: None,
        }
    }

    fn ev(start: u64, ty: u8, changes: u64) -> Walked {
        Walked {
            start,
            ty,
            changes,
            commit: ty == 16,
        }
    }

    /// GTID, noise table map + 1 row (not captured), t table map + 3 rows, t map + update,
    /// XID — as rowtide's stream receives it (no ANNOTATE_ROWS).
    fn txn() -> Vec<Walked> {
        vec![
            ev(100, MARIADB_GTID, 0),
            ev(200, 19, 0),
            ev(300, 23, 0),
            ev(400, 19, 0),
            ev(500, 23, 3),
            ev(600, 19, 0),
            ev(700, 24, 1),
            ev(800, 16, 0),
        ]
    }

    #[test]
    fn debezium_events_and_rows_become_rowtide_changes() {
        // Inside the 3-row event: its first 2 rows were processed.
        assert_eq!(skip_for(&txn(), &[], &dbz(4, 2)), Ok(2));
        // All 3 rows (Debezium writes `row` = the event's row count on its last row).
        assert_eq!(skip_for(&txn(), &[], &dbz(4, 3)), Ok(3));
        // The update's only row.
        assert_eq!(skip_for(&txn(), &[], &dbz(6, 1)), Ok(4));
        // Rows of a table rowtide does not capture count for nothing.
        assert_eq!(skip_for(&txn(), &[], &dbz(2, 1)), Ok(0));
        // Events only (a heartbeat's offset): the changes of those events.
        assert_eq!(skip_for(&txn(), &[], &dbz(5, 0)), Ok(3));
    }

    #[test]
    fn offsets_that_do_not_fit_the_transaction_are_refused() {
        assert!(skip_for(&txn(), &[], &dbz(3, 1))
            .unwrap_err()
            .contains("TABLE_MAP"));
        assert!(skip_for(&txn(), &[], &dbz(4, 4))
            .unwrap_err()
            .contains("only 3"));
        assert!(skip_for(&txn(), &[], &dbz(9, 1))
            .unwrap_err()
            .contains("commit"));
        assert!(skip_for(&txn()[..3], &[], &dbz(5, 1))
            .unwrap_err()
            .contains("ended before"));
        let mut t = txn();
        t[0].start = 90;
        assert!(skip_for(&t, &[], &dbz(4, 1))
            .unwrap_err()
            .contains("no transaction starts"));
        assert!(skip_for(&[], &[], &dbz(4, 1)).is_err());
    }

    #[test]
    fn annotate_rows_events_count_only_as_include_query_says() {
        // MariaDB writes an ANNOTATE_ROWS before each statement's first table map.
        let annotates = [150, 350, 550];
        // With include.query=true Debezium saw: GTID, A, TM, WR, A, TM, WR(3), A, TM, UPD.
        assert_eq!(skip_for(&txn(), &annotates, &dbz(6, 2)), Ok(2));
        // Read without them, event 7 would be the update's table map: only one reading fits.
        assert_eq!(decide(&txn(), &annotates, &dbz(6, 2), None).unwrap(), 2);
        // Both readings fit and differ: refused unless --include-query says which.
        // Event 7 is the update without them, the 3-row insert with them.
        let both = decide(&txn(), &annotates, &dbz(6, 1), None).unwrap_err();
        assert!(both.to_string().contains("--include-query"), "{both}");
        assert_eq!(both.exit_code(), 2);
        assert_eq!(
            decide(&txn(), &annotates, &dbz(6, 1), Some(false)).unwrap(),
            4
        );
        assert_eq!(
            decide(&txn(), &annotates, &dbz(6, 1), Some(true)).unwrap(),
            1
        );
        // Event 5 is the 3-row insert without them, an ANNOTATE_ROWS with them.
        assert_eq!(decide(&txn(), &annotates, &dbz(4, 1), None).unwrap(), 1);
        assert!(decide(&txn(), &annotates, &dbz(4, 1), Some(true)).is_err());
        // Without annotations in the binlog there is one reading.
        assert_eq!(decide(&txn(), &[], &dbz(4, 1), None).unwrap(), 1);
    }
}
