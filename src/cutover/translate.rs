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
    /// One line per event of the transaction walked: `#i TYPE at POS: N changes`.
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
    for s in crate::source::binlog::session_setup(cfg, info.flavor, false, &base)? {
        conn.query_drop(s)
            .await
            .map_err(|e| classify_mysql(e, ""))?;
    }
    let walk = tokio::time::timeout(READ_TIMEOUT, walk(conn, cfg.server_id, handler, dbz)).await;
    let (skip_rows, walked) = walk.map_err(|_| {
        Error::SourceTransient(format!(
            "reading the transaction at {}:{} took over {} s",
            dbz.file,
            dbz.pos,
            READ_TIMEOUT.as_secs()
        ))
    })??;
    Ok(Translated {
        offset: SourceOffset { skip_rows, ..base },
        flavor: info.flavor,
        walked,
    })
}

/// Reads the transaction at the offset and counts the changes Debezium already processed.
async fn walk(
    conn: mysql_async::Conn,
    server_id: u32,
    mut handler: EventHandler,
    dbz: &DebeziumOffset,
) -> Result<(u64, Vec<String>)> {
    let wanted = format!("{}:{}", dbz.file, dbz.pos);
    let file = dbz.file.clone().into_bytes();
    let req = BinlogStreamRequest::new(server_id)
        .with_filename(&file)
        .with_pos(dbz.pos);
    let mut stream = conn
        .get_binlog_stream(req)
        .await
        .map_err(|e| classify_mysql(e, &wanted))?;
    let mut index: Option<u64> = None;
    let mut skip = 0u64;
    let mut walked = Vec::new();
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
        if h.log_pos() == 0 || index.is_none() && start < dbz.pos {
            continue; // the stream's artificial ROTATE and FORMAT_DESCRIPTION
        }
        let i = match index {
            Some(i) => i,
            None if start == dbz.pos && (ty == MARIADB_GTID || ty == QUERY_EVENT) => 0,
            None => {
                break Err(refuse(format!(
                    "no transaction starts at {wanted} (the event there is {}), yet the offset \
                     says {} events of one were processed",
                    crate::source::guard::event_type_name(ty),
                    dbz.events
                )))
            }
        };
        index = Some(i + 1);
        if ty == TRANSACTION_PAYLOAD_EVENT {
            break Err(refuse(
                "the transaction is a compressed MySQL transaction payload, whose inner events \
                 Debezium counts separately; resume at the next transaction with `rowtide \
                 offsets set` instead",
            ));
        }
        let changes = out
            .iter()
            .filter(|e| matches!(e, SourceEvent::Change(_)))
            .count() as u64;
        let committed = i > 0 && out.iter().any(|e| matches!(e, SourceEvent::Commit { .. }));
        let name = crate::source::guard::event_type_name(ty);
        walked.push(format!("#{} {name} at {start}: {changes} changes", i + 1));
        if committed {
            break Err(refuse(format!(
                "the transaction at {wanted} has {} events, but the offset says {} were \
                 processed and the commit was not: the offset belongs to another server or binlog",
                i, dbz.events
            )));
        }
        if i < dbz.events {
            skip += changes;
            if i + 1 == dbz.events && dbz.rows == 0 {
                break Ok(skip);
            }
            continue;
        }
        // Event `events` + 1: Debezium processed its first `rows` rows.
        if !is_rows_event(ty) {
            break Err(refuse(format!(
                "the offset skips {} rows of event {} of the transaction at {wanted}, but that \
                 event is a {name}",
                dbz.rows,
                i + 1
            )));
        }
        if changes > 0 && dbz.rows > changes {
            break Err(refuse(format!(
                "the offset skips {} rows of event {} of the transaction at {wanted}, which has \
                 only {changes}",
                dbz.rows,
                i + 1
            )));
        }
        // A table rowtide does not capture: none of its rows are rowtide's to skip.
        break Ok(skip + dbz.rows.min(changes));
    };
    let _ = stream.close().await;
    result.map(|skip| (skip, walked))
}
