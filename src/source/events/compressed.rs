//! MariaDB's compressed binlog events (`log_bin_compress=ON`) for the [`EventHandler`]:
//! QUERY_COMPRESSED (165) and the compressed rows events, in the v1 rows layout MariaDB
//! writes (166–168, `…_COMPRESSED_EVENT_V1`) and in the v2 layout (169–171).
//! (MariaDB's `log_event.h` numbers them so; the `_V1` types come first.)
//!
//! MariaDB compresses only the tail of such an event: the statement text of a query, the
//! row images of a rows event. Everything before the tail is stored as in the plain event
//! (post-header, status variables and schema name; table id, flags, extra data of the v2
//! layout, column count and column bitmaps). The tail is one header byte — high bit set,
//! bits 4–6 the algorithm (0, zlib, is the only one), bits 0–2 the number of length bytes
//! (1–4) — then the uncompressed length, big-endian, then a zlib stream. Each compressed
//! event is rebuilt here as the plain event it stands for (QUERY_EVENT; WRITE/UPDATE/DELETE
//! _ROWS_EVENT_V1 (23–25) for 166–168 and WRITE/UPDATE/DELETE_ROWS_EVENT (30–32) for
//! 169–171, as MariaDB's own replica maps them) and handled as that, so nothing downstream
//! knows the difference.
//!
//! Invariants:
//! - The decompressed size is held to the declared length and to a 1 GiB cap (MariaDB's
//!   largest `max_allowed_packet`) while decompressing: memory grows with the bytes zlib
//!   actually produces, never with the declared length alone. Anything malformed is an
//!   error naming the position, the event type and, for rows, the table.
//! - The compressed event's CRC32 covers its compressed bytes (the reader checks that one).
//!   The rebuilt event carries a CRC32 recomputed over its own bytes whenever the binlog has
//!   checksums — as MariaDB's replica does when it rebuilds these events — so any check of
//!   it agrees.
//! - The rebuilt event has no position of its own (log_pos 0, like an event inside a MySQL
//!   compressed transaction): its rows and statements stand at the compressed event's
//!   start, and a transaction it ends commits at the compressed event's end.

use flate2::{Decompress, FlushDecompress, Status};
use mysql_common::binlog::consts::BinlogChecksumAlg;
use mysql_common::binlog::events::Event;

use super::rows::TableSlot;
use super::{EventHandler, MARIADB_QUERY_COMPRESSED};
use crate::error::Result;
use crate::model::SourceEvent;

/// The largest decompressed tail accepted: a whole event may not exceed MariaDB's largest
/// `max_allowed_packet` either.
const MAX_UNCOMPRESSED: u64 = 1 << 30;
/// How much room the decompressed tail gets at first (it grows with what zlib produces).
const FIRST_CHUNK: usize = 64 * 1024;
const HEADER_LEN: usize = 19;
const CRC_LEN: usize = 4;
const QUERY_EVENT: u8 = 2;
const QUERY_POST_HEADER: u8 = 13;
const WRITE_ROWS_EVENT_V1: u8 = 23;
const WRITE_ROWS_EVENT: u8 = 30;
const ROWS_POST_HEADER_V1: u8 = 8;
const ROWS_POST_HEADER_V2: u8 = 10;

/// What a compressed event type stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Kind {
    /// MariaDB's name of the compressed type (as `SHOW BINLOG EVENTS` shows it).
    name: &'static str,
    /// The plain event type it is rebuilt as.
    plain: u8,
    /// The post-header length of both (the plain one is parsed with the plain type's).
    post_header: u8,
    rows: Option<RowsShape>,
}

/// The layout of a compressed rows event's uncompressed head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RowsShape {
    /// The v2 layout: a variable-length extra-data block after the flags.
    extra_data: bool,
    /// An update: two column bitmaps (before and after image).
    two_bitmaps: bool,
}

impl Kind {
    fn of(ty: u8) -> Option<Kind> {
        const NAMES: [&str; 7] = [
            "Query_compressed",
            "Write_rows_compressed_v1",
            "Update_rows_compressed_v1",
            "Delete_rows_compressed_v1",
            "Write_rows_compressed",
            "Update_rows_compressed",
            "Delete_rows_compressed",
        ];
        let name = NAMES.get(ty.checked_sub(MARIADB_QUERY_COMPRESSED)? as usize)?;
        Some(match ty {
            MARIADB_QUERY_COMPRESSED => Kind {
                name,
                plain: QUERY_EVENT,
                post_header: QUERY_POST_HEADER,
                rows: None,
            },
            166..=168 => Kind {
                name,
                plain: WRITE_ROWS_EVENT_V1 + (ty - 166),
                post_header: ROWS_POST_HEADER_V1,
                rows: Some(RowsShape {
                    extra_data: false,
                    two_bitmaps: ty == 167,
                }),
            },
            _ => Kind {
                name,
                plain: WRITE_ROWS_EVENT + (ty - 169),
                post_header: ROWS_POST_HEADER_V2,
                rows: Some(RowsShape {
                    extra_data: true,
                    two_bitmaps: ty == 170,
                }),
            },
        })
    }
}

impl EventHandler {
    /// A compressed QUERY or rows event: rebuilt as the plain event it stands for and
    /// handled as that one. Rows of a table that is not captured are not decompressed at
    /// all (their plain form would be skipped too).
    pub(super) fn handle_compressed(
        &mut self,
        event: &Event,
        out: &mut Vec<SourceEvent>,
    ) -> Result<()> {
        let ty = event.header().event_type_raw();
        let Some(kind) = Kind::of(ty) else {
            return Err(self.event_error(event, format!("event type {ty} is not compressed")));
        };
        let mut what = format!("{} event", kind.name);
        if kind.rows.is_some() {
            if let Some(id) = rows_table_id(event.data()) {
                match self.tables.get(&id) {
                    Some(TableSlot::Ignored) => return Ok(()),
                    Some(TableSlot::Captured(dec)) => {
                        what = format!("{what} for table {}", dec.table.full_name())
                    }
                    None => what = format!("{what} for table id {id}"),
                }
            }
        }
        let plain = rebuild(event)
            .map_err(|reason| self.event_error(event, format!("{what}: {reason}")))?;
        let first = out.len();
        self.handle(&plain, out)?;
        let end = u64::from(event.header().log_pos());
        if end != 0 {
            for ev in &mut out[first..] {
                if let SourceEvent::Commit { offset, .. } = ev {
                    offset.binlog.pos = end;
                }
            }
        }
        Ok(())
    }
}

/// The table id of a rows event body (its first six bytes, little-endian).
fn rows_table_id(data: &[u8]) -> Option<u64> {
    let b = data.get(..6)?;
    Some(
        b.iter()
            .rev()
            .fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte)),
    )
}

/// The plain event a compressed one stands for, with log_pos 0 and, when the binlog has
/// checksums, a CRC32 of its own bytes.
fn rebuild(event: &Event) -> std::result::Result<Event, String> {
    let header = event.header();
    let ty = header.event_type_raw();
    let kind = Kind::of(ty).ok_or_else(|| format!("event type {ty} is not compressed"))?;
    let fde = event.fde();
    check_post_header(kind, ty, fde.event_type_header_lengths())?;
    let data = event.data();
    let head = match kind.rows {
        None => query_head_len(data)?,
        Some(shape) => rows_head_len(data, shape)?,
    };
    let tail = &data[head..];
    let (expected, skip) = tail_header(tail)?;
    let footer = fde.footer();
    // The same rule mysql_common reads events with: a checksum follows unless the
    // algorithm is OFF (or checksums are disabled for the stream).
    let with_crc = footer.get_checksum_enabled()
        && !matches!(
            footer.get_checksum_alg(),
            Ok(None) | Ok(Some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_OFF))
        );
    let size = HEADER_LEN + head + expected + if with_crc { CRC_LEN } else { 0 };
    let size = u32::try_from(size).map_err(|_| {
        format!("the rebuilt event would be {size} bytes, more than an event can hold")
    })?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + head + expected.min(FIRST_CHUNK) + CRC_LEN);
    bytes.extend_from_slice(&header.timestamp().to_le_bytes());
    bytes.push(kind.plain);
    bytes.extend_from_slice(&header.server_id().to_le_bytes());
    bytes.extend_from_slice(&size.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&header.flags_raw().to_le_bytes());
    bytes.extend_from_slice(&data[..head]);
    inflate(&tail[skip..], expected, &mut bytes)?;
    if with_crc {
        let mut crc = flate2::Crc::new();
        crc.update(&bytes);
        bytes.extend_from_slice(&crc.sum().to_le_bytes());
    }
    // The length written into the header is the length of `bytes`, so the reader takes
    // exactly these bytes (it would panic on fewer).
    if bytes.len() != size as usize {
        return Err(format!(
            "internal error: rebuilt {} bytes for an event of {size}",
            bytes.len()
        ));
    }
    Event::read(fde, &bytes[..]).map_err(|e| format!("the rebuilt event cannot be read: {e}"))
}

/// The format description must give the compressed type the post-header length of the
/// plain type it is rebuilt as (the plain event is parsed with the plain type's length).
fn check_post_header(kind: Kind, ty: u8, lengths: &[u8]) -> std::result::Result<(), String> {
    let of = |t: u8| lengths.get(usize::from(t) - 1).copied();
    let compressed = of(ty).unwrap_or(kind.post_header);
    let plain = of(kind.plain).unwrap_or(kind.post_header);
    if compressed != kind.post_header || plain != kind.post_header {
        return Err(format!(
            "the format description gives it a post-header of {compressed} bytes and event \
             type {} one of {plain} bytes; MariaDB writes {} for both",
            kind.plain, kind.post_header
        ));
    }
    Ok(())
}

/// The uncompressed head of a QUERY_COMPRESSED body: post-header, status variables, schema
/// name and its NUL; the statement text follows, compressed.
fn query_head_len(data: &[u8]) -> std::result::Result<usize, String> {
    let post = usize::from(QUERY_POST_HEADER);
    if data.len() < post {
        return Err(format!(
            "the event body is {} bytes, shorter than its post-header",
            data.len()
        ));
    }
    let schema_len = usize::from(data[8]);
    let status_len = usize::from(u16::from_le_bytes([data[11], data[12]]));
    let head = post + status_len + schema_len + 1;
    if head >= data.len() {
        return Err(format!(
            "status variables ({status_len} bytes) and schema name ({schema_len} bytes) leave \
             no room for the compressed statement in a body of {} bytes",
            data.len()
        ));
    }
    Ok(head)
}

/// The uncompressed head of a compressed rows body: table id, flags, extra data (v2),
/// column count and bitmaps; the row images follow, compressed.
fn rows_head_len(data: &[u8], shape: RowsShape) -> std::result::Result<usize, String> {
    let short = |what: &str| format!("the event body ({} bytes) ends inside {what}", data.len());
    let mut pos = usize::from(ROWS_POST_HEADER_V1);
    if data.len() < pos {
        return Err(short("the post-header"));
    }
    if shape.extra_data {
        let b = data
            .get(pos..pos + 2)
            .ok_or_else(|| short("the extra data"))?;
        let extra = usize::from(u16::from_le_bytes([b[0], b[1]]));
        if extra < 2 {
            return Err(format!(
                "the extra data length is {extra} (it counts its own 2 bytes)"
            ));
        }
        pos += extra;
    }
    let (width, used) =
        lenenc(data.get(pos..).unwrap_or_default()).ok_or_else(|| short("the column count"))?;
    pos += used;
    let bitmaps = if shape.two_bitmaps { 2 } else { 1 };
    let bitmap_len = width.div_ceil(8).saturating_mul(bitmaps);
    let head = u64::try_from(pos)
        .ok()
        .and_then(|p| p.checked_add(bitmap_len))
        .filter(|&h| h < data.len() as u64)
        .ok_or_else(|| {
            format!(
                "{width} columns need {bitmap_len} bytes of column bitmaps, which leave no room \
                 for the compressed rows in a body of {} bytes",
                data.len()
            )
        })?;
    // `head` is below `data.len()`, so it fits in usize.
    Ok(head as usize)
}

/// A length-encoded integer and the bytes it took (`None` when cut short or NULL).
fn lenenc(b: &[u8]) -> Option<(u64, usize)> {
    let n = match *b.first()? {
        v @ 0..=250 => return Some((u64::from(v), 1)),
        252 => 2,
        253 => 3,
        254 => 8,
        _ => return None,
    };
    let bytes = b.get(1..1 + n)?;
    let v = bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte));
    Some((v, 1 + n))
}

/// The compressed tail's header: the declared uncompressed length and the header's size.
fn tail_header(tail: &[u8]) -> std::result::Result<(usize, usize), String> {
    let Some(&b) = tail.first() else {
        return Err("the compressed data is missing".into());
    };
    if b & 0x80 == 0 {
        return Err(format!(
            "the compressed data's header byte {b:#04x} lacks the compression flag (0x80)"
        ));
    }
    let alg = (b >> 4) & 0x07;
    if alg != 0 {
        return Err(format!(
            "the compressed data names algorithm {alg} (header byte {b:#04x}); MariaDB only \
             writes 0, zlib"
        ));
    }
    let n = usize::from(b & 0x07);
    if !(1..=4).contains(&n) {
        return Err(format!(
            "the compressed data's header byte {b:#04x} gives {n} length bytes (1 to 4 expected)"
        ));
    }
    let len = tail
        .get(1..1 + n)
        .ok_or("the compressed data ends inside its length")?;
    let declared = len
        .iter()
        .fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte));
    if declared == 0 {
        return Err("the compressed data declares an uncompressed length of 0".into());
    }
    if declared > MAX_UNCOMPRESSED {
        return Err(format!(
            "the compressed data declares {declared} bytes uncompressed, more than the \
             {MAX_UNCOMPRESSED} an event may hold"
        ));
    }
    // At most 1 GiB: fits in usize on every supported target.
    Ok((declared as usize, 1 + n))
}

/// Appends the zlib stream `input`, decompressed, to `out`; it must come to exactly
/// `expected` bytes and use all of `input`. `out` grows with what zlib produces (at most
/// doubling, never beyond a few bytes more than `expected`), so a wrong declared length
/// cannot make it allocate more than the data really holds.
fn inflate(input: &[u8], expected: usize, out: &mut Vec<u8>) -> std::result::Result<(), String> {
    let start = out.len();
    let mut z = Decompress::new(true);
    loop {
        let produced = out.len() - start;
        if produced > expected {
            return Err(format!(
                "the data decompresses to more than the declared {expected} bytes"
            ));
        }
        if out.len() == out.capacity() {
            // One byte beyond `expected` lets a longer stream show itself; the last chunk
            // also leaves room for the checksum that may follow.
            let chunk = (expected + 1 - produced).min(produced.max(FIRST_CHUNK));
            out.reserve_exact(chunk + CRC_LEN);
        }
        let (in_before, out_before) = (z.total_in(), z.total_out());
        // total_in never exceeds what was handed over, which is within `input`.
        let rest = input.get(in_before as usize..).unwrap_or_default();
        let status = z
            .decompress_vec(rest, out, FlushDecompress::None)
            .map_err(|e| format!("the zlib data is corrupt: {e}"))?;
        match status {
            Status::StreamEnd => break,
            Status::Ok | Status::BufError => {
                let stuck = z.total_in() == in_before && z.total_out() == out_before;
                if stuck && out.len() < out.capacity() {
                    return Err(format!(
                        "the zlib data ends early (truncated) after {} of the declared \
                         {expected} bytes",
                        out.len() - start
                    ));
                }
            }
        }
    }
    let produced = out.len() - start;
    if produced != expected {
        return Err(format!(
            "the data decompresses to {produced} bytes, not the declared {expected}"
        ));
    }
    let used = z.total_in() as usize;
    if used != input.len() {
        return Err(format!(
            "{} bytes follow the end of the zlib data",
            input.len() - used
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
