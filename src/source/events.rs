//! Turning binlog events into [`SourceEvent`]s: one `handle_<event>` per event type.
//!
//! The handler keeps the stream's position (file, offset, GTIDs), groups row events into
//! transactions, decodes each row with the schema in force at that point of the log, and
//! emits a `Commit` after every transaction so the checkpoint can move. It never buffers a
//! transaction: each rows event's changes go out as soon as they are decoded.
//!
//! Invariants: every row of a captured table produces a change or a definite error naming
//! its position, table and column (or, with `events.failure_handling_mode` `warn`/`skip`,
//! its whole rows event is passed over, logged and counted: `failure`); the first `skip_rows` changes of the transaction the
//! stream resumes into are not sent again (they were delivered before the restart): they
//! go out as `SourceEvent::Skipped`, which only transaction metadata counts.
//!
//! This file holds the handler's state and the dispatcher; the handling itself is split by
//! concern: `txn` (GTIDs, opening and committing transactions), `rows` (table maps and
//! rows events), `failure` (rows events that cannot be decoded), `query` (BEGIN/COMMIT and
//! DDL), `truncate` (TRUNCATE TABLE) and `compressed` (MariaDB's compressed events, rebuilt
//! as the plain events they stand for).

mod compressed;
mod ddl_guard;
mod failure;
mod query;
mod rows;
mod truncate;
mod txn;

use std::collections::HashMap;
use std::sync::Arc;

use mysql_common::binlog::consts::EventType;
use mysql_common::binlog::events::{
    Event, EventData, IncidentEvent, RotateEvent, TransactionPayloadEvent,
};

use crate::config::shaping::FailureMode;
use crate::decode::RowDecoder;
use crate::error::{Error, Result};
use crate::model::{
    BinlogPosition, Catalog, Filter, Flavor, GtidSet, Position, SourceEvent, SourceOffset,
};
pub use ddl_guard::DdlState;
pub(crate) use ddl_guard::{shorten, PendingReread};
use rows::TableSlot;
use txn::Txn;

// MariaDB-specific event types (not in mysql_common's EventType).
const MARIADB_ANNOTATE_ROWS: u8 = 160;
const MARIADB_BINLOG_CHECKPOINT: u8 = 161;
const MARIADB_GTID: u8 = 162;
const MARIADB_GTID_LIST: u8 = 163;
const MARIADB_START_ENCRYPTION: u8 = 164;
const MARIADB_QUERY_COMPRESSED: u8 = 165;
const MARIADB_ROWS_COMPRESSED_FIRST: u8 = 166;
const MARIADB_ROWS_COMPRESSED_LAST: u8 = 171;
const MARIADB_FL_STANDALONE: u8 = 1;

/// How an [`EventHandler`] starts, beyond its filter and position.
#[derive(Debug, Clone)]
pub struct HandlerOptions {
    /// Table structures known at the start (from the checkpoint, `information_schema` or
    /// the caller).
    pub catalog: Catalog,
    /// The server family, when known; otherwise taken from the start's GTID set or from the
    /// stream's events.
    pub flavor: Option<Flavor>,
    /// Whether to keep the statement text (`source.query`).
    pub include_query: bool,
    /// Replay only: decode tables whose schema is unknown (MINIMAL metadata and no DDL seen)
    /// with positional names `@1`, `@2`, … taken from the table map's layout, instead of
    /// stopping. See [`crate::source::file`].
    pub allow_positional_names: bool,
    /// Replay only: capture tables in the server's system schemas (`mysql`, …) too.
    pub capture_system_schemas: bool,
    /// What to do with DDL that cannot be followed (`ddl_skip`, `ddl_reread`).
    pub ddl: DdlState,
    /// What a rows event that cannot be decoded does (`events.failure_handling_mode`).
    pub failure_mode: FailureMode,
}

/// The event-to-change state machine shared by the live stream and recorded files.
pub struct EventHandler {
    flavor: Option<Flavor>,
    filter: Filter,
    /// Table structures from DDL / information_schema (used without FULL metadata).
    catalog: Catalog,
    tables: HashMap<u64, TableSlot>,
    /// Decoders by table-map bytes, reused across transactions.
    decoder_cache: HashMap<u64, (Vec<u8>, Arc<RowDecoder>)>,
    file: Arc<str>,
    executed: Option<GtidSet>,
    executed_arc: Option<Arc<GtidSet>>,
    txn: Option<Txn>,
    skip_rows: u64,
    skip_armed: bool,
    query: Option<Arc<str>>,
    /// Start of the current outer event (events inside a compressed payload have none).
    outer_pos: u64,
    /// End of the current outer event (where a statement rebuilt from it ends).
    outer_end: u64,
    include_query: bool,
    allow_positional_names: bool,
    capture_system_schemas: bool,
    ddl: DdlState,
    failure_mode: FailureMode,
}

impl EventHandler {
    /// A handler that starts at `file` (the first ROTATE may rename it) and drops the first
    /// `skip_rows` changes of the first transaction.
    /// A handler that reads the log from `start` (the start of a file, or the beginning of
    /// the transaction to resume, skipping its first `start.skip_rows` changes).
    pub fn new(filter: Filter, start: &SourceOffset, options: HandlerOptions) -> Self {
        let executed = start.gtid_set.clone();
        let flavor = options.flavor.or(match &executed {
            Some(GtidSet::Mysql(_)) => Some(Flavor::Mysql),
            Some(GtidSet::Mariadb(_)) => Some(Flavor::Mariadb),
            None => None,
        });
        let skip_rows = start.skip_rows;
        Self {
            flavor,
            filter,
            catalog: options.catalog,
            tables: HashMap::new(),
            decoder_cache: HashMap::new(),
            file: Arc::from(start.binlog.file.as_str()),
            executed_arc: executed.clone().map(Arc::new),
            executed,
            txn: None,
            skip_rows,
            skip_armed: skip_rows > 0,
            query: None,
            outer_pos: 4,
            outer_end: 0,
            include_query: options.include_query,
            allow_positional_names: options.allow_positional_names,
            capture_system_schemas: options.capture_system_schemas,
            ddl: options.ddl,
            failure_mode: options.failure_mode,
        }
    }

    /// The same options again, with the catalog and flavour as they are now (for a handler
    /// that resumes where this one stopped).
    pub fn options_now(&self) -> HandlerOptions {
        HandlerOptions {
            catalog: self.catalog.clone(),
            flavor: self.flavor,
            include_query: self.include_query,
            allow_positional_names: self.allow_positional_names,
            capture_system_schemas: self.capture_system_schemas,
            ddl: self.ddl.for_reconnect(),
            failure_mode: self.failure_mode,
        }
    }

    /// Takes the table structures known now.
    pub fn into_catalog(self) -> Catalog {
        self.catalog
    }

    /// Whether `db.table` is captured (the filter, plus system schemas when asked to).
    fn captures(&self, db: &str, table: &str) -> bool {
        if self.capture_system_schemas
            && crate::model::filter::SYSTEM_SCHEMAS
                .iter()
                .any(|s| s.eq_ignore_ascii_case(db))
        {
            return true;
        }
        self.filter.captures(db, table)
    }

    pub fn set_flavor(&mut self, flavor: Flavor) {
        self.flavor = Some(flavor);
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    /// True between transactions, where the end of the last event read is a resume point
    /// (not before the transaction the stream resumed into, whose delivered rows the start
    /// offset counts, has committed).
    pub fn between_transactions(&self) -> bool {
        self.txn.is_none() && !self.skip_armed
    }

    /// Where to resume if the stream broke now: the start of the open transaction (with the
    /// rows already emitted to skip), or the end of the last event.
    pub fn resume_offset(&self, next_pos: u64) -> SourceOffset {
        match &self.txn {
            Some(t) => SourceOffset {
                binlog: BinlogPosition::new(t.file.to_string(), t.pos),
                gtid_set: t.gtid_before.as_deref().cloned(),
                skip_rows: t.rows + if self.skip_armed { self.skip_rows } else { 0 },
            },
            None => SourceOffset {
                binlog: BinlogPosition::new(self.file.to_string(), next_pos),
                gtid_set: self.executed.clone(),
                skip_rows: 0,
            },
        }
    }

    /// Where `event` starts (for an event inside a compressed payload: its outer event's start).
    fn here(&self, event: &Event) -> u64 {
        let h = event.header();
        if h.log_pos() == 0 {
            self.outer_pos
        } else {
            (h.log_pos() as u64).saturating_sub(h.event_size() as u64)
        }
    }

    /// An error about `event`, naming the file and position it stands at.
    fn event_error(&self, event: &Event, reason: impl Into<String>) -> Error {
        Error::Event {
            position: format!("{}:{}", self.file, self.here(event)),
            reason: reason.into(),
        }
    }

    /// An error about a damaged `event` (it does not parse), naming its file, position
    /// and type.
    pub(crate) fn corrupt_error(&self, event: &Event, reason: impl Into<String>) -> Error {
        Error::Corrupt {
            file: self.file.to_string(),
            offset: self.here(event),
            event_type: crate::source::guard::event_type_name(event.header().event_type_raw()),
            reason: reason.into(),
        }
    }

    /// Where the row `row` of `event` stands, within the open transaction if there is one.
    fn position_for(&self, event: &Event, row: u32) -> Position {
        let pos = self.here(event);
        match &self.txn {
            Some(t) => Position {
                file: self.file.clone(),
                pos,
                row,
                gtid: t.gtid.clone(),
                txn_file: t.file.clone(),
                txn_pos: t.pos,
                txn_row: t.rows,
                gtid_before: t.gtid_before.clone(),
            },
            None => Position {
                file: self.file.clone(),
                pos,
                row,
                gtid: None,
                txn_file: self.file.clone(),
                txn_pos: pos,
                txn_row: 0,
                gtid_before: self.executed_arc.clone(),
            },
        }
    }

    /// Handles one event, appending what it produces to `out`.
    pub fn handle(&mut self, event: &Event, out: &mut Vec<SourceEvent>) -> Result<()> {
        let header = event.header();
        let ty = header.event_type_raw();
        if header.log_pos() != 0 && ty != EventType::ROTATE_EVENT as u8 {
            self.outer_pos = (header.log_pos() as u64).saturating_sub(header.event_size() as u64);
            self.outer_end = header.log_pos() as u64;
        }
        if let Some(handled) = self.handle_mariadb_event(event, ty, out) {
            return handled;
        }
        crate::source::guard::validate_event(event).map_err(|r| self.corrupt_error(event, r))?;
        let data = event
            .read_data()
            .map_err(|e| self.corrupt_error(event, format!("malformed event: {e}")))?;
        let Some(data) = data else {
            return Ok(()); // unknown event types are ignorable by the protocol's rules
        };
        self.dispatch(event, data, out)
    }

    /// MariaDB's own event types (which mysql_common does not parse); `None` for the rest.
    fn handle_mariadb_event(
        &mut self,
        event: &Event,
        ty: u8,
        out: &mut Vec<SourceEvent>,
    ) -> Option<Result<()>> {
        Some(match ty {
            MARIADB_GTID => self.handle_mariadb_gtid(event),
            MARIADB_GTID_LIST => self.handle_mariadb_gtid_list(event),
            MARIADB_ANNOTATE_ROWS => {
                if self.include_query {
                    self.query = Some(Arc::from(String::from_utf8_lossy(event.data()).as_ref()));
                }
                Ok(())
            }
            MARIADB_BINLOG_CHECKPOINT | MARIADB_START_ENCRYPTION => {
                if ty == MARIADB_START_ENCRYPTION {
                    return Some(Err(self.event_error(
                        event,
                        "the binlog is encrypted (MariaDB encrypt_binlog); rowtide cannot read \
                         encrypted binlogs from files — stream them from the server instead",
                    )));
                }
                Ok(())
            }
            MARIADB_QUERY_COMPRESSED
            | MARIADB_ROWS_COMPRESSED_FIRST..=MARIADB_ROWS_COMPRESSED_LAST => {
                self.handle_compressed(event, out)
            }
            _ => return None,
        })
    }

    /// Hands one parsed event to its `handle_<event>`.
    fn dispatch(
        &mut self,
        event: &Event,
        data: EventData<'_>,
        out: &mut Vec<SourceEvent>,
    ) -> Result<()> {
        match data {
            EventData::RotateEvent(r) => {
                self.handle_rotate(event, &r);
                Ok(())
            }
            EventData::GtidEvent(g) => {
                self.handle_gtid(event, &g);
                Ok(())
            }
            EventData::AnonymousGtidEvent(_) => {
                self.open_txn(event, None, None, false);
                Ok(())
            }
            EventData::PreviousGtidsEvent(p) => self.handle_previous_gtids(event, &p),
            EventData::QueryEvent(q) => {
                let sql = q.query();
                let schema = q.schema().into_owned();
                self.handle_query(event, &sql, &schema, q.thread_id(), out)
            }
            EventData::XidEvent(_) => {
                self.commit(event, out);
                Ok(())
            }
            EventData::RowsQueryEvent(q) => {
                if self.include_query {
                    self.query = Some(Arc::from(q.query().as_ref()));
                }
                Ok(())
            }
            EventData::TableMapEvent(tme) => self.handle_table_map(event, &tme),
            EventData::RowsEvent(rows) => self.handle_rows(event, &rows, out),
            EventData::IncidentEvent(i) => Err(self.incident_error(event, &i)),
            EventData::TransactionPayloadEvent(tpe) => self.handle_transaction_payload(event, &tpe),
            _ => Ok(()),
        }
    }

    /// ROTATE: the file name from here on; a real rotation (not the stream's artificial
    /// first one) also ends the table ids' meaning.
    fn handle_rotate(&mut self, event: &Event, r: &RotateEvent<'_>) {
        self.file = Arc::from(rotate_file_name(event, r.name_raw()).as_ref());
        if !r.is_fake() {
            self.tables.clear();
        }
    }

    /// INCIDENT: the source says changes may be missing, which is an error.
    fn incident_error(&self, event: &Event, i: &IncidentEvent<'_>) -> Error {
        self.event_error(
            event,
            format!(
                "the source logged an incident ({}): changes may be missing from the \
                 binlog; re-snapshot the captured tables",
                String::from_utf8_lossy(i.message_raw())
            ),
        )
    }

    /// TRANSACTION_PAYLOAD: decompressed once (as a stream into nothing, at most one byte
    /// past its declared size) to check it is whole: a silently empty payload would drop a
    /// transaction, and a damaged size would mislead the reader of its events.
    fn handle_transaction_payload(
        &self,
        event: &Event,
        tpe: &TransactionPayloadEvent<'_>,
    ) -> Result<()> {
        let declared = tpe.uncompressed_size();
        let limit = crate::source::guard::payload_limit(declared);
        let got = tpe.decompressed().and_then(|r| {
            std::io::copy(
                &mut std::io::Read::take(r, limit.saturating_add(1)),
                &mut std::io::sink(),
            )
        });
        match got {
            Ok(n) if n <= limit && (declared == 0 || n == declared) => Ok(()),
            Ok(_) if declared == 0 => Err(self.corrupt_error(
                event,
                format!(
                    "compressed transaction declares no size and holds more than {limit} bytes"
                ),
            )),
            Ok(n) => Err(self.corrupt_error(
                event,
                format!(
                    "compressed transaction declares {declared} bytes but holds {}",
                    if n > limit {
                        "more".to_string()
                    } else {
                        n.to_string()
                    }
                ),
            )),
            Err(e) => Err(self.corrupt_error(
                event,
                format!("compressed transaction cannot be decompressed: {e}"),
            )),
        }
    }
}

/// The file name a ROTATE event names. The live stream's first event is an artificial
/// ROTATE sent before the FORMAT_DESCRIPTION event, so the reader does not yet know that
/// events carry a CRC32 and leaves its 4 bytes at the end of the name; they are recognised by
/// checking them against the CRC32 of the event and dropped (a real name ending in its own
/// CRC is a 1 in 2^32 accident of no concern).
fn rotate_file_name<'a>(event: &Event, name: &'a [u8]) -> std::borrow::Cow<'a, str> {
    let name = match name.len().checked_sub(4) {
        Some(cut) if event.checksum().is_none() => {
            let h = event.header();
            let mut crc = flate2::Crc::new();
            crc.update(&h.timestamp().to_le_bytes());
            crc.update(&[h.event_type_raw()]);
            crc.update(&h.server_id().to_le_bytes());
            crc.update(&h.event_size().to_le_bytes());
            crc.update(&h.log_pos().to_le_bytes());
            crc.update(&h.flags_raw().to_le_bytes());
            let data = event.data();
            crc.update(&data[..data.len() - 4]);
            if crc.sum().to_le_bytes() == name[cut..] {
                &name[..cut]
            } else {
                name
            }
        }
        _ => name,
    };
    String::from_utf8_lossy(name)
}
