//! Bytes → the row decoder, with a table description derived from the input.
//!
//! Input: a little-endian u16 `n`, then `n` bytes of a TABLE_MAP event's body after the
//! table name (column count, column types, metadata, NULL bitmap, optional metadata), then
//! row images as a WRITE_ROWS event carries them (all columns present). The table map is
//! parsed by mysql_common (inside rowtide's panic boundary; a table map it cannot parse is
//! not this target's business), described as `replay --positional-names` would describe it
//! (with the optional metadata when present), and every row image is decoded until the
//! bytes end or a row is refused. A finding is any panic or abort in rowtide's decoder.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use mysql_common::binlog::consts::BinlogVersion;
use mysql_common::binlog::events::{Event, FormatDescriptionEvent, TableMapEvent};
use rowtide::catalog::table_map;
use rowtide::decode::{Bitmap, Cursor, RowDecoder};
use rowtide::source::guard;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let n = u16::from_le_bytes([data[0], data[1]]) as usize;
    let Some(tail) = data.get(2..2 + n) else {
        return;
    };
    let rows = &data[2 + n..];
    // Table id 1, no flags, database `f`, table `t`.
    let mut body = vec![1, 0, 0, 0, 0, 0, 0, 0, 1, b'f', 0, 1, b't', 0];
    body.extend_from_slice(tail);
    let size = (19 + body.len()) as u32;
    let mut event = Vec::with_capacity(size as usize);
    event.extend_from_slice(&0u32.to_le_bytes());
    event.push(19); // TABLE_MAP_EVENT
    event.extend_from_slice(&1u32.to_le_bytes());
    event.extend_from_slice(&size.to_le_bytes());
    event.extend_from_slice(&0u32.to_le_bytes());
    event.extend_from_slice(&0u16.to_le_bytes());
    event.extend_from_slice(&body);
    let fde = FormatDescriptionEvent::new(BinlogVersion::Version4);
    let parsed = guard::contain(|| {
        let ev = Event::read(&fde, &event[..]).ok()?;
        // What the event handler checks before it describes a table map.
        guard::validate_event(&ev).ok()?;
        let tme = ev.read_event::<TableMapEvent<'_>>().ok()?.into_owned();
        Some(tme)
    });
    let Ok(Some(tme)) = parsed else {
        return;
    };
    let Ok(wires) = table_map::layout(&tme) else {
        return;
    };
    let desc = match table_map::describe(&tme, &wires) {
        Ok(Some(d)) => d,
        _ => match table_map::describe_positional(&tme, &wires) {
            Ok(d) => d,
            Err(_) => return,
        },
    };
    let decoder = RowDecoder::new(Arc::new(desc), wires);
    let present = vec![0xffu8; decoder.wires.len().div_ceil(8)];
    let mut cur = Cursor::new(rows);
    while !cur.is_empty() {
        let at = cur.pos;
        if decoder
            .decode_row(&mut cur, Bitmap::new(&present), None, None)
            .is_err()
        {
            break;
        }
        if cur.pos == at {
            // A table of no columns: rows take no bytes (the handler refuses such an
            // event, see `a_row_image_without_columns_is_refused` in tests/mutation.rs).
            break;
        }
    }
});
