//! Table maps and rows events of the [`EventHandler`]: building (and caching) a table's
//! decoder from its table map, and turning each row image into a `Change`.
//!
//! Invariants: every row of a captured table produces a change or a definite error naming
//! its position, table and column (which `failure` may turn into passing over the whole
//! event); rows are counted into the open transaction as they go out, and while the skip
//! counter of a resumed transaction is armed the first rows go out as
//! `SourceEvent::Skipped` instead of `SourceEvent::Change`.

use std::sync::Arc;

use mysql_common::binlog::consts::EventType;
use mysql_common::binlog::events::{Event, RowsEventData, TableMapEvent};

use super::EventHandler;
use crate::catalog::table_map::{self, Wire};
use crate::decode::{Bitmap, Cursor, DecodeError, RowDecoder};
use crate::error::{Error, Result};
use crate::model::{Change, Op, Position, Row, SnapshotMarker, SourceEvent, TableDesc};

/// What a table id of the current file stands for.
#[derive(Debug)]
pub(super) enum TableSlot {
    Ignored,
    Captured(Arc<RowDecoder>),
}

/// What every row of one rows event shares.
struct RowsContext {
    dec: Arc<RowDecoder>,
    op: Op,
    /// A MySQL PARTIAL_UPDATE_ROWS_EVENT (JSON columns may hold diffs).
    partial_event: bool,
    before_bits: Option<Vec<u8>>,
    after_bits: Option<Vec<u8>>,
    ts_ms: i64,
    server_id: u32,
}

impl EventHandler {
    /// A TABLE_MAP event: maps its table id to a decoder, or to `Ignored`.
    pub(super) fn handle_table_map(
        &mut self,
        event: &Event,
        tme: &TableMapEvent<'_>,
    ) -> Result<()> {
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
        let desc = self.describe_table(event, tme, &db, &name, &wires)?;
        let dec = Arc::new(RowDecoder::new(Arc::new(desc), wires));
        self.decoder_cache
            .insert(table_id, (event.data().to_vec(), dec.clone()));
        self.tables.insert(table_id, TableSlot::Captured(dec));
        Ok(())
    }

    /// The table's structure: from the table map's FULL metadata (plus what the catalog
    /// knows), else from the catalog, else positional names when allowed.
    fn describe_table(
        &mut self,
        event: &Event,
        tme: &TableMapEvent<'_>,
        db: &str,
        name: &str,
        wires: &[Wire],
    ) -> Result<TableDesc> {
        Ok(
            match table_map::describe(tme, wires)
                .map_err(|e| self.event_error(event, format!("table map of {db}.{name}: {e}")))?
            {
                Some(mut desc) => {
                    self.ddl.saw_table_map(db, name, true);
                    // The catalog may know more than the table map (MariaDB JSON columns are
                    // LONGTEXT in the log; column defaults are not in the log at all): they
                    // come from DDL or information_schema.
                    if let Some(known) = self.catalog.get(db, name) {
                        table_map::carry_over(&mut desc, known);
                    }
                    self.catalog.put(desc.clone());
                    desc
                }
                None => match self.minimal_table_map(event, db, name)? {
                    Some(known) => {
                        table_map::check_fits(&known, wires).map_err(|e| {
                            self.event_error(event, self.ddl.explain_misfit(db, name, e))
                        })?;
                        TableDesc::clone(&known)
                    }
                    None if self.allow_positional_names => {
                        table_map::describe_positional(tme, wires).map_err(|e| {
                            self.event_error(event, format!("table map of {db}.{name}: {e}"))
                        })?
                    }
                    None => {
                        return Err(self.event_error(
                            event,
                            self.ddl.explain_misfit(db, name, format!(
                                "no schema is known for {db}.{name} and the server logs MINIMAL \
                                 table metadata (rowtide also forgets a table's structure at a DDL \
                                 on it that it could not follow, logged as `DDL not understood`: \
                                 docs/operations.md, \"When rowtide cannot follow a DDL\"); set \
                                 binlog_row_metadata=FULL on the source, or start from a point \
                                 where rowtide can read the table's structure (a new snapshot: \
                                 `rowtide offsets reset`, then run with snapshot_mode = \"initial\"; \
                                 `rowtide replay --positional-names` decodes such tables with names @1, @2, …)"
                            )),
                        ))
                    }
                },
            },
        )
    }

    /// A table map without column names: noted, refused when the table's last DDL was not
    /// followed (see `ddl_guard`), else the catalog's structure of the table, if any.
    fn minimal_table_map(
        &mut self,
        event: &Event,
        db: &str,
        name: &str,
    ) -> Result<Option<Arc<TableDesc>>> {
        self.ddl.saw_table_map(db, name, false);
        let known = self.catalog.get(db, name).cloned();
        // `replay --positional-names` names the columns of unknown tables @1, @2, …: no
        // name can be wrong then.
        if known.is_some() || !self.allow_positional_names {
            let at = format!("{}:{}", self.file, self.here(event));
            self.ddl.check_minimal_rows(db, name, &at)?;
        }
        Ok(known)
    }

    /// A WRITE/UPDATE/DELETE rows event: one change per row image, in order.
    pub(super) fn handle_rows(
        &mut self,
        event: &Event,
        rows: &RowsEventData<'_>,
        out: &mut Vec<SourceEvent>,
    ) -> Result<()> {
        let dec = match self.tables.get(&rows.table_id()) {
            Some(TableSlot::Captured(d)) => d.clone(),
            Some(TableSlot::Ignored) => {
                crate::metrics::event_filtered();
                return Ok(());
            }
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
        let start = self.rows_start(out);
        let table = dec.table.clone();
        if let Err(e) = self.rows_changes(event, rows, dec, out) {
            self.rows_failed(event, &table.full_name(), e, start, out)?;
        }
        self.end_statement(event, rows, out);
        Ok(())
    }

    /// The changes of a rows event of a captured table, one per row image, in order.
    fn rows_changes(
        &mut self,
        event: &Event,
        rows: &RowsEventData<'_>,
        dec: Arc<RowDecoder>,
        out: &mut Vec<SourceEvent>,
    ) -> Result<()> {
        let ctx = self.rows_context(event, rows, dec)?;
        let mut cur = Cursor::new(rows.rows_data());
        let mut row_idx: u32 = 0;
        while !cur.is_empty() {
            let position = self.position_for(event, row_idx);
            let at = cur.pos;
            let (before, after) = ctx.decode(&mut cur, &position)?;
            if cur.pos == at {
                // Images of no column take no bytes: the same "row" would repeat forever.
                return Err(self.corrupt_error(
                    event,
                    format!("row {row_idx} has no column in its images (damaged column bitmaps)"),
                ));
            }
            row_idx += 1;
            self.emit_change(&ctx, before, after, position, out);
        }
        Ok(())
    }

    /// The operation, column bitmaps and header fields of a rows event, once its column
    /// count is checked against the table map.
    fn rows_context(
        &self,
        event: &Event,
        rows: &RowsEventData<'_>,
        dec: Arc<RowDecoder>,
    ) -> Result<RowsContext> {
        let ty = event.header().event_type_raw();
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
        Ok(RowsContext {
            before_bits: rows.columns_before_image().map(bits_to_bytes),
            after_bits: rows.columns_after_image().map(bits_to_bytes),
            ts_ms: event.header().timestamp() as i64 * 1000,
            server_id: event.header().server_id(),
            dec,
            op,
            partial_event,
        })
    }

    /// Counts a decoded row into the transaction and sends it on, or skips it while the
    /// rows already delivered before a restart are being passed over.
    fn emit_change(
        &mut self,
        ctx: &RowsContext,
        before: Option<Row>,
        after: Option<Row>,
        position: Position,
        out: &mut Vec<SourceEvent>,
    ) {
        let txn = self.txn.as_mut().expect("a transaction was opened above");
        txn.rows += 1;
        let change = Box::new(Change {
            table: ctx.dec.table.clone(),
            op: ctx.op,
            before,
            after,
            position,
            ts_ms: ctx.ts_ms,
            snapshot: SnapshotMarker::False,
            thread: txn.thread,
            query: self.query.clone(),
            server_id: ctx.server_id,
        });
        if self.skip_armed && self.skip_rows > 0 {
            self.skip_rows -= 1;
            out.push(SourceEvent::Skipped(change));
            return;
        }
        out.push(SourceEvent::Change(change));
    }

    /// Commits a statement outside any BEGIN (MyISAM on old servers) at its last rows event.
    fn end_statement(
        &mut self,
        event: &Event,
        rows: &RowsEventData<'_>,
        out: &mut Vec<SourceEvent>,
    ) {
        let stmt_end = rows.flags().bits() & 1 != 0;
        if stmt_end
            && self
                .txn
                .as_ref()
                .is_some_and(|t| !t.began && t.gtid.is_none())
        {
            self.commit(event, out);
        }
    }
}

impl RowsContext {
    /// Decodes the next row's before and after images, as the operation has them.
    fn decode(
        &self,
        cur: &mut Cursor<'_>,
        position: &Position,
    ) -> Result<(Option<Row>, Option<Row>)> {
        Ok(match self.op {
            Op::Create => {
                let bits = self.after_bits.as_deref().or(self.before_bits.as_deref());
                (None, Some(self.decode_image(cur, bits, position)?))
            }
            Op::Delete => {
                let bits = self.before_bits.as_deref();
                (Some(self.decode_image(cur, bits, position)?), None)
            }
            _ => self.decode_update(cur, position)?,
        })
    }

    /// One whole row image of the columns in `bits` (none when the event has no bitmap).
    fn decode_image(
        &self,
        cur: &mut Cursor<'_>,
        bits: Option<&[u8]>,
        position: &Position,
    ) -> Result<Row> {
        self.dec
            .decode_row(cur, Bitmap::new(bits.unwrap_or(&[])), None, None)
            .map_err(|e| self.decode_error(e, position))
    }

    /// An update's before image, then its after image (whose JSON columns may be diffs
    /// against the before image in a partial update).
    fn decode_update(
        &self,
        cur: &mut Cursor<'_>,
        position: &Position,
    ) -> Result<(Option<Row>, Option<Row>)> {
        let before = self.decode_image(cur, self.before_bits.as_deref(), position)?;
        let partial_bytes = self
            .partial_json_bits(cur)
            .map_err(|reason| self.decode_error(DecodeError { column: 0, reason }, position))?;
        let ab = Bitmap::new(self.after_bits.as_deref().unwrap_or(&[]));
        let after = self
            .dec
            .decode_row(cur, ab, partial_bytes.map(Bitmap::new), Some(&before))
            .map_err(|e| self.decode_error(e, position))?;
        Ok((Some(before), Some(after)))
    }

    /// In a partial update, the bitmap of JSON columns that hold diffs (when its options
    /// say there is one).
    fn partial_json_bits<'a>(&self, cur: &mut Cursor<'a>) -> Result<Option<&'a [u8]>, String> {
        if !self.partial_event {
            return Ok(None);
        }
        let opts = cur.lenenc()?;
        if opts & 1 == 0 {
            return Ok(None);
        }
        let nbytes = self.dec.json_column_count().div_ceil(8);
        cur.take(nbytes).map(Some)
    }

    /// A decode error naming the table, the column and the row's position.
    fn decode_error(&self, e: DecodeError, position: &Position) -> Error {
        let col = self
            .dec
            .table
            .columns
            .get(e.column)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| format!("#{}", e.column));
        Error::decode(&self.dec.table.full_name(), &col, position, e.reason)
    }
}

/// A column bitmap as bytes (bit i of the image is bit `i % 8` of byte `i / 8`).
fn bits_to_bytes(bits: &bitvec::slice::BitSlice<u8>) -> Vec<u8> {
    let mut out = vec![0u8; bits.len().div_ceil(8)];
    for (i, b) in bits.iter().by_vals().enumerate() {
        if b {
            out[i / 8] |= 1 << (i % 8);
        }
    }
    out
}
