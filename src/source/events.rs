//! Turning binlog events into [`SourceEvent`]s: one `handle_<event>` per event type.
//!
//! The handler keeps the stream's position (file, offset, GTIDs), groups row events into
//! transactions, decodes each row with the schema in force at that point of the log, and
//! emits a `Commit` after every transaction so the checkpoint can move. It never buffers a
//! transaction: each rows event's changes go out as soon as they are decoded.
//!
//! Invariants: every row of a captured table produces a change or a definite error naming
//! its position, table and column; the first `skip_rows` changes of the transaction the
//! stream resumes into are not sent again (they were delivered before the restart): they
//! go out as `SourceEvent::Skipped`, which only transaction metadata counts.

use std::collections::HashMap;
use std::sync::Arc;

use mysql_common::binlog::consts::EventType;
use mysql_common::binlog::events::{Event, EventData, RowsEventData, TableMapEvent};

use crate::catalog::ddl;
use crate::catalog::table_map::{self, Wire};
use crate::decode::{Bitmap, Cursor, RowDecoder};
use crate::error::{Error, Result};
use crate::model::{
    BinlogPosition, Catalog, Change, Filter, Flavor, GtidSet, MariadbGtid, MariadbGtidList,
    MysqlGtidSet, Op, Position, SchemaChange, SnapshotMarker, SourceEvent, SourceOffset, TableDesc,
};

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

#[derive(Debug)]
enum TableSlot {
    Ignored,
    Captured(Arc<RowDecoder>),
}

#[derive(Debug)]
struct Txn {
    file: Arc<str>,
    pos: u64,
    gtid: Option<Arc<str>>,
    gtid_before: Option<Arc<GtidSet>>,
    rows: u64,
    thread: Option<u32>,
    began: bool,
    standalone: bool,
    /// What to add to the executed set at commit.
    commit_gtid: Option<PendingGtid>,
}

#[derive(Debug, Clone)]
enum PendingGtid {
    Mysql { uuid: String, tag: String, gno: u64 },
    Mariadb(MariadbGtid),
}

/// How an [`EventHandler`] starts, beyond its filter and position.
#[derive(Debug, Clone, Default)]
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
    include_query: bool,
    allow_positional_names: bool,
    capture_system_schemas: bool,
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
            include_query: options.include_query,
            allow_positional_names: options.allow_positional_names,
            capture_system_schemas: options.capture_system_schemas,
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
        }
    }

    /// The table structures known now.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
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

    pub fn flavor(&self) -> Option<Flavor> {
        self.flavor
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn executed(&self) -> Option<&GtidSet> {
        self.executed.as_ref()
    }

    /// True while inside a transaction.
    pub fn in_transaction(&self) -> bool {
        self.txn.is_some()
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

    fn here(&self, event: &Event) -> u64 {
        let h = event.header();
        if h.log_pos() == 0 {
            self.outer_pos
        } else {
            (h.log_pos() as u64).saturating_sub(h.event_size() as u64)
        }
    }

    fn event_error(&self, event: &Event, reason: impl Into<String>) -> Error {
        Error::Event {
            position: format!("{}:{}", self.file, self.here(event)),
            reason: reason.into(),
        }
    }

    /// Handles one event, appending what it produces to `out`.
    pub fn handle(&mut self, event: &Event, out: &mut Vec<SourceEvent>) -> Result<()> {
        let header = event.header();
        let ty = header.event_type_raw();
        if header.log_pos() != 0 && ty != EventType::ROTATE_EVENT as u8 {
            self.outer_pos = (header.log_pos() as u64).saturating_sub(header.event_size() as u64);
        }
        match ty {
            MARIADB_GTID => return self.handle_mariadb_gtid(event),
            MARIADB_GTID_LIST => return self.handle_mariadb_gtid_list(event),
            MARIADB_ANNOTATE_ROWS => {
                if self.include_query {
                    self.query = Some(Arc::from(String::from_utf8_lossy(event.data()).as_ref()));
                }
                return Ok(());
            }
            MARIADB_BINLOG_CHECKPOINT | MARIADB_START_ENCRYPTION => {
                if ty == MARIADB_START_ENCRYPTION {
                    return Err(self.event_error(
                        event,
                        "the binlog is encrypted (MariaDB encrypt_binlog); rowtide cannot read \
                         encrypted binlogs from files — stream them from the server instead",
                    ));
                }
                return Ok(());
            }
            MARIADB_QUERY_COMPRESSED
            | MARIADB_ROWS_COMPRESSED_FIRST..=MARIADB_ROWS_COMPRESSED_LAST => {
                return Err(self.event_error(
                    event,
                    "MariaDB compressed binlog events (log_bin_compress=ON) are not supported; \
                     set log_bin_compress=OFF on the source (changes logged while it was ON \
                     must be re-snapshotted)",
                ));
            }
            _ => {}
        }
        let data = event
            .read_data()
            .map_err(|e| self.event_error(event, format!("malformed event (type {ty}): {e}")))?;
        let Some(data) = data else {
            return Ok(()); // unknown event types are ignorable by the protocol's rules
        };
        match data {
            EventData::RotateEvent(r) => {
                self.file = Arc::from(rotate_file_name(event, r.name_raw()).as_ref());
                if !r.is_fake() {
                    self.tables.clear();
                }
                Ok(())
            }
            EventData::GtidEvent(g) => {
                let uuid = format_uuid(&g.sid());
                let tag = g.tag().map(|t| t.to_string()).unwrap_or_default();
                let text = if tag.is_empty() {
                    format!("{uuid}:{}", g.gno())
                } else {
                    format!("{uuid}:{tag}:{}", g.gno())
                };
                self.flavor.get_or_insert(Flavor::Mysql);
                self.open_txn(
                    event,
                    Some(text),
                    Some(PendingGtid::Mysql {
                        uuid,
                        tag,
                        gno: g.gno(),
                    }),
                    false,
                );
                Ok(())
            }
            EventData::AnonymousGtidEvent(_) => {
                self.open_txn(event, None, None, false);
                Ok(())
            }
            EventData::PreviousGtidsEvent(p) => {
                if self.executed.is_none() {
                    let mut set = MysqlGtidSet::default();
                    for sid in p.sids() {
                        let uuid = format_uuid(&sid.uuid());
                        let tag = sid.tag().map(|t| t.to_string()).unwrap_or_default();
                        for iv in sid.intervals() {
                            let (start, end) = (iv.start(), iv.end());
                            for gno in start..end.min(start.saturating_add(1_000_000)) {
                                set.add(&uuid, &tag, gno);
                            }
                        }
                    }
                    self.executed = Some(GtidSet::Mysql(set));
                    self.executed_arc = self.executed.clone().map(Arc::new);
                }
                Ok(())
            }
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
            EventData::IncidentEvent(i) => Err(self.event_error(
                event,
                format!(
                    "the source logged an incident ({}): changes may be missing from the \
                     binlog; re-snapshot the captured tables",
                    String::from_utf8_lossy(i.message_raw())
                ),
            )),
            EventData::TransactionPayloadEvent(tpe) => {
                // Decompress once to check it is whole: a silently empty payload would drop
                // a transaction.
                let declared = tpe.uncompressed_size();
                let got = tpe.decompressed().and_then(|mut r| {
                    let mut buf = Vec::new();
                    std::io::Read::read_to_end(&mut r, &mut buf).map(|_| buf.len() as u64)
                });
                match got {
                    Ok(n) if declared == 0 || n == declared => Ok(()),
                    Ok(n) => Err(self.event_error(
                        event,
                        format!("compressed transaction declares {declared} bytes but holds {n}"),
                    )),
                    Err(e) => Err(self.event_error(
                        event,
                        format!("compressed transaction cannot be decompressed: {e}"),
                    )),
                }
            }
            _ => Ok(()),
        }
    }

    fn open_txn(
        &mut self,
        event: &Event,
        gtid: Option<String>,
        pending: Option<PendingGtid>,
        standalone: bool,
    ) {
        let pos = self.here(event);
        self.txn = Some(Txn {
            file: self.file.clone(),
            pos,
            gtid: gtid.map(Arc::from),
            gtid_before: self.executed_arc.clone(),
            rows: 0,
            thread: None,
            began: false,
            standalone,
            commit_gtid: pending,
        });
    }

    fn handle_mariadb_gtid(&mut self, event: &Event) -> Result<()> {
        let d = event.data();
        if d.len() < 13 {
            return Err(self.event_error(event, "MariaDB GTID event too short"));
        }
        let seq = u64::from_le_bytes(d[0..8].try_into().unwrap_or_default());
        let domain = u32::from_le_bytes(d[8..12].try_into().unwrap_or_default());
        let flags = d[12];
        let gtid = MariadbGtid {
            domain,
            server: event.header().server_id(),
            seq,
        };
        self.flavor.get_or_insert(Flavor::Mariadb);
        self.open_txn(
            event,
            Some(gtid.to_string()),
            Some(PendingGtid::Mariadb(gtid)),
            flags & MARIADB_FL_STANDALONE != 0,
        );
        Ok(())
    }

    fn handle_mariadb_gtid_list(&mut self, event: &Event) -> Result<()> {
        let d = event.data();
        if d.len() < 4 {
            return Err(self.event_error(event, "MariaDB GTID_LIST event too short"));
        }
        let count =
            (u32::from_le_bytes(d[0..4].try_into().unwrap_or_default()) & 0x0fff_ffff) as usize;
        if d.len() < 4 + count * 16 {
            return Err(self.event_error(event, "MariaDB GTID_LIST event truncated"));
        }
        self.flavor.get_or_insert(Flavor::Mariadb);
        let mut list = match self.executed.take() {
            Some(GtidSet::Mariadb(l)) => l,
            _ => MariadbGtidList::default(),
        };
        for i in 0..count {
            let b = &d[4 + i * 16..4 + (i + 1) * 16];
            let g = MariadbGtid {
                domain: u32::from_le_bytes(b[0..4].try_into().unwrap_or_default()),
                server: u32::from_le_bytes(b[4..8].try_into().unwrap_or_default()),
                seq: u64::from_le_bytes(b[8..16].try_into().unwrap_or_default()),
            };
            if !list.covers(&g) {
                list.apply(g);
            }
        }
        self.executed = Some(GtidSet::Mariadb(list));
        self.executed_arc = self.executed.clone().map(Arc::new);
        Ok(())
    }

    fn handle_query(
        &mut self,
        event: &Event,
        sql: &str,
        schema: &str,
        thread: u32,
        out: &mut Vec<SourceEvent>,
    ) -> Result<()> {
        let trimmed = sql.trim();
        if trimmed.eq_ignore_ascii_case("BEGIN")
            || trimmed.eq_ignore_ascii_case("START TRANSACTION")
        {
            match &mut self.txn {
                Some(t) if !t.began && t.rows == 0 => {
                    t.began = true;
                    t.thread = Some(thread);
                }
                _ => {
                    self.open_txn(event, None, None, false);
                    if let Some(t) = &mut self.txn {
                        t.began = true;
                        t.thread = Some(thread);
                    }
                }
            }
            return Ok(());
        }
        if trimmed.eq_ignore_ascii_case("COMMIT") || trimmed.eq_ignore_ascii_case("ROLLBACK") {
            // ROLLBACK appears for transactions that touched non-transactional tables: the
            // rows it logged did happen, so they are kept and the transaction ends.
            self.commit(event, out);
            return Ok(());
        }
        if self.txn.is_none() {
            self.open_txn(event, None, None, true);
        }
        if let Some(t) = &mut self.txn {
            t.thread.get_or_insert(thread);
        }
        self.handle_ddl(event, sql, schema, out)?;
        let ends = self.txn.as_ref().is_some_and(|t| t.standalone || !t.began);
        if ends {
            self.commit(event, out);
        }
        Ok(())
    }

    fn handle_ddl(
        &mut self,
        event: &Event,
        sql: &str,
        schema: &str,
        out: &mut Vec<SourceEvent>,
    ) -> Result<()> {
        let info = ddl::classify(sql, schema);
        if info.kind == ddl::DdlKind::Other {
            return Ok(());
        }
        let captured: Vec<(String, String)> = info
            .tables
            .iter()
            .filter(|(d, t)| self.captures(d, t))
            .cloned()
            .collect();
        let db_level = matches!(
            info.kind,
            ddl::DdlKind::CreateDatabase | ddl::DdlKind::DropDatabase | ddl::DdlKind::AlterDatabase
        );
        if captured.is_empty() && !(db_level && self.filter.may_capture_db(&info.database)) {
            return Ok(());
        }
        // Apply to the catalog (needed when the server logs MINIMAL metadata) and forget
        // cached decoders of the touched tables.
        let tables = ddl::apply(&mut self.catalog, &info, sql, schema);
        self.decoder_cache.clear();
        self.tables.clear();
        let position = self.position_for(event, 0);
        let ts_ms = event.header().timestamp() as i64 * 1000;
        out.push(SourceEvent::SchemaChange(Box::new(SchemaChange {
            database: info.database.clone(),
            ddl: sql.to_string(),
            position,
            ts_ms,
            server_id: event.header().server_id(),
            tables,
            change_type: info.kind.change_type(),
            catalog_after: Some(self.catalog.clone()),
        })));
        Ok(())
    }

    fn commit(&mut self, event: &Event, out: &mut Vec<SourceEvent>) {
        let Some(txn) = self.txn.take() else {
            return;
        };
        match txn.commit_gtid {
            Some(PendingGtid::Mysql { uuid, tag, gno }) => {
                let set = match self
                    .executed
                    .get_or_insert_with(|| GtidSet::Mysql(Default::default()))
                {
                    GtidSet::Mysql(s) => s,
                    other => {
                        *other = GtidSet::Mysql(Default::default());
                        match other {
                            GtidSet::Mysql(s) => s,
                            GtidSet::Mariadb(_) => unreachable!("just assigned"),
                        }
                    }
                };
                set.add(&uuid, &tag, gno);
                self.executed_arc = self.executed.clone().map(Arc::new);
            }
            Some(PendingGtid::Mariadb(g)) => {
                let list = match self
                    .executed
                    .get_or_insert_with(|| GtidSet::Mariadb(Default::default()))
                {
                    GtidSet::Mariadb(l) => l,
                    other => {
                        *other = GtidSet::Mariadb(Default::default());
                        match other {
                            GtidSet::Mariadb(l) => l,
                            GtidSet::Mysql(_) => unreachable!("just assigned"),
                        }
                    }
                };
                list.apply(g);
                self.executed_arc = self.executed.clone().map(Arc::new);
            }
            None => {}
        }
        self.skip_armed = false;
        self.skip_rows = 0;
        self.query = None;
        let end = event.header().log_pos() as u64;
        let end = if end == 0 { self.outer_pos } else { end };
        out.push(SourceEvent::Commit {
            offset: SourceOffset {
                binlog: BinlogPosition::new(self.file.to_string(), end),
                gtid_set: self.executed.clone(),
                skip_rows: 0,
            },
            ts_ms: event.header().timestamp() as i64 * 1000,
        });
    }

    fn handle_table_map(&mut self, event: &Event, tme: &TableMapEvent<'_>) -> Result<()> {
        let table_id = tme.table_id();
        let db = tme.database_name();
        let name = tme.table_name();
        if !self.captures(&db, &name) {
            self.tables.insert(table_id, TableSlot::Ignored);
            return Ok(());
        }
        if let Some((bytes, dec)) = self.decoder_cache.get(&table_id) {
            if bytes.as_slice() == event.data() {
                self.tables
                    .insert(table_id, TableSlot::Captured(dec.clone()));
                return Ok(());
            }
        }
        let wires: Vec<Wire> = table_map::layout(tme)
            .map_err(|e| self.event_error(event, format!("table map of {db}.{name}: {e}")))?;
        let desc = match table_map::describe(tme, &wires)
            .map_err(|e| self.event_error(event, format!("table map of {db}.{name}: {e}")))?
        {
            Some(mut desc) => {
                // The catalog may know more than the table map (MariaDB JSON columns are
                // LONGTEXT in the log; column defaults are not in the log at all): they come
                // from DDL or information_schema.
                if let Some(known) = self.catalog.get(&db, &name) {
                    table_map::carry_over(&mut desc, known);
                }
                self.catalog.put(desc.clone());
                desc
            }
            None => match self.catalog.get(&db, &name) {
                Some(known) => {
                    table_map::check_fits(known, &wires).map_err(|e| self.event_error(event, e))?;
                    TableDesc::clone(known)
                }
                None if self.allow_positional_names => table_map::describe_positional(tme, &wires)
                    .map_err(|e| {
                        self.event_error(event, format!("table map of {db}.{name}: {e}"))
                    })?,
                None => {
                    return Err(self.event_error(
                        event,
                        format!(
                            "no schema is known for {db}.{name} and the server logs MINIMAL \
                             table metadata; set binlog_row_metadata=FULL on the source, or \
                             start from a point where rowtide can read the table's structure \
                             (`rowtide replay --positional-names` decodes such tables with names @1, @2, …)"
                        ),
                    ))
                }
            },
        };
        let dec = Arc::new(RowDecoder::new(Arc::new(desc), wires));
        self.decoder_cache
            .insert(table_id, (event.data().to_vec(), dec.clone()));
        self.tables.insert(table_id, TableSlot::Captured(dec));
        Ok(())
    }

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

    fn handle_rows(
        &mut self,
        event: &Event,
        rows: &RowsEventData<'_>,
        out: &mut Vec<SourceEvent>,
    ) -> Result<()> {
        let ty = event.header().event_type_raw();
        let dec = match self.tables.get(&rows.table_id()) {
            Some(TableSlot::Captured(d)) => d.clone(),
            Some(TableSlot::Ignored) => return Ok(()),
            None => {
                return Err(self.event_error(
                    event,
                    format!(
                        "rows event for table id {} without a preceding table map",
                        rows.table_id()
                    ),
                ))
            }
        };
        if self.txn.is_none() {
            // Rows outside BEGIN/COMMIT (non-transactional engines on old servers): treat
            // the statement as its own transaction, closed at the statement end flag.
            self.open_txn(event, None, None, false);
        }
        let op = match EventType::try_from(ty) {
            Ok(EventType::WRITE_ROWS_EVENT | EventType::WRITE_ROWS_EVENT_V1) => Op::Create,
            Ok(EventType::DELETE_ROWS_EVENT | EventType::DELETE_ROWS_EVENT_V1) => Op::Delete,
            Ok(
                EventType::UPDATE_ROWS_EVENT
                | EventType::UPDATE_ROWS_EVENT_V1
                | EventType::PARTIAL_UPDATE_ROWS_EVENT,
            ) => Op::Update,
            _ => return Err(self.event_error(event, format!("unexpected rows event type {ty}"))),
        };
        let partial_event = ty == EventType::PARTIAL_UPDATE_ROWS_EVENT as u8;
        let n = rows.num_columns() as usize;
        if n != dec.wires.len() {
            return Err(self.event_error(
                event,
                format!(
                    "rows event for {} has {n} columns but its table map has {}",
                    dec.table.full_name(),
                    dec.wires.len()
                ),
            ));
        }
        let before_bits = rows.columns_before_image().map(bits_to_bytes);
        let after_bits = rows.columns_after_image().map(bits_to_bytes);
        let mut cur = Cursor::new(rows.rows_data());
        let ts_ms = event.header().timestamp() as i64 * 1000;
        let server_id = event.header().server_id();
        let mut row_idx: u32 = 0;
        while !cur.is_empty() {
            let position = self.position_for(event, row_idx);
            let decode_err = |e: crate::decode::DecodeError| {
                let col = dec
                    .table
                    .columns
                    .get(e.column)
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| format!("#{}", e.column));
                Error::decode(&dec.table.full_name(), &col, &position, e.reason)
            };
            let (before, after) = match op {
                Op::Create => {
                    let bits = Bitmap::new(
                        after_bits
                            .as_deref()
                            .or(before_bits.as_deref())
                            .unwrap_or(&[]),
                    );
                    (
                        None,
                        Some(
                            dec.decode_row(&mut cur, bits, None, None)
                                .map_err(decode_err)?,
                        ),
                    )
                }
                Op::Delete => {
                    let bits = Bitmap::new(before_bits.as_deref().unwrap_or(&[]));
                    (
                        Some(
                            dec.decode_row(&mut cur, bits, None, None)
                                .map_err(decode_err)?,
                        ),
                        None,
                    )
                }
                _ => {
                    let bb = Bitmap::new(before_bits.as_deref().unwrap_or(&[]));
                    let before = dec
                        .decode_row(&mut cur, bb, None, None)
                        .map_err(decode_err)?;
                    let mut partial_bytes = None;
                    if partial_event {
                        let opts = cur.lenenc().map_err(|r| {
                            decode_err(crate::decode::DecodeError {
                                column: 0,
                                reason: r,
                            })
                        })?;
                        if opts & 1 != 0 {
                            let nbytes = dec.json_column_count().div_ceil(8);
                            partial_bytes = Some(cur.take(nbytes).map_err(|r| {
                                decode_err(crate::decode::DecodeError {
                                    column: 0,
                                    reason: r,
                                })
                            })?);
                        }
                    }
                    let ab = Bitmap::new(after_bits.as_deref().unwrap_or(&[]));
                    let after = dec
                        .decode_row(&mut cur, ab, partial_bytes.map(Bitmap::new), Some(&before))
                        .map_err(decode_err)?;
                    (Some(before), Some(after))
                }
            };
            row_idx += 1;
            let txn = self.txn.as_mut().expect("a transaction was opened above");
            txn.rows += 1;
            let change = Box::new(Change {
                table: dec.table.clone(),
                op,
                before,
                after,
                position,
                ts_ms,
                snapshot: SnapshotMarker::False,
                thread: txn.thread,
                query: self.query.clone(),
                server_id,
            });
            if self.skip_armed && self.skip_rows > 0 {
                self.skip_rows -= 1;
                out.push(SourceEvent::Skipped(change));
                continue;
            }
            out.push(SourceEvent::Change(change));
        }
        // A statement outside any BEGIN (MyISAM on old servers) ends with its last rows event.
        let stmt_end = rows.flags().bits() & 1 != 0;
        if stmt_end
            && self
                .txn
                .as_ref()
                .is_some_and(|t| !t.began && t.gtid.is_none())
        {
            self.commit(event, out);
        }
        Ok(())
    }
}

fn bits_to_bytes(bits: &bitvec::slice::BitSlice<u8>) -> Vec<u8> {
    let mut out = vec![0u8; bits.len().div_ceil(8)];
    for (i, b) in bits.iter().by_vals().enumerate() {
        if b {
            out[i / 8] |= 1 << (i % 8);
        }
    }
    out
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

fn format_uuid(b: &[u8; 16]) -> String {
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
