//! Recorded binlog files: the same event handler as the live stream, fed from a file
//! (plain or gzip). Each event is read whole before it is parsed, so a truncated file is a
//! clear error with the byte offset — never a panic.
//!
//! Schemas: a file written with `binlog_row_metadata=FULL` describes every table itself.
//! Otherwise the catalog follows the CREATE/ALTER statements in the file (and whatever the
//! caller seeded into it). A table whose structure is still unknown stops the replay with an
//! error naming the table — unless [`ReplayOptions::allow_positional_names`] is set, in which
//! case its rows decode with names `@1`, `@2`, … derived from the table map's wire layout
//! (types and widths are exact, signedness and charsets come from whatever optional metadata
//! the server logged; without charset metadata BLOB/TEXT columns stay bytes and ENUM/SET
//! values are their index/bitmask). Values are never read under the wrong column either way.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use mysql_common::binlog::consts::{BinlogVersion, EventType};
use mysql_common::binlog::events::TransactionPayloadEvent;
use mysql_common::binlog::EventStreamReader;

use crate::error::{Error, Result};
use crate::model::{BinlogPosition, Filter, Flavor, SourceEvent, SourceOffset};
use crate::source::events::{EventHandler, HandlerOptions};

const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];
const HEADER_LEN: usize = 19;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How a recorded file is replayed; the default is the live stream's strictness.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// Decode tables with no known schema using positional names (`@1`, `@2`, …).
    pub allow_positional_names: bool,
    /// Also capture tables in the system schemas (`mysql`, …), which filters always exclude.
    pub capture_system_schemas: bool,
    /// Table structures known before the file starts (e.g. from `information_schema`).
    pub catalog: Option<crate::model::Catalog>,
    /// DDL statements to pass over (`replay --ddl-skip`, as `source.ddl_skip`).
    pub ddl_skip: crate::catalog::ddl_skip::DdlSkipList,
}

/// Opens a recorded binlog file for reading, decompressing it when it is gzip (recognised by
/// its content, whatever its name).
pub fn open(path: &Path) -> Result<Box<dyn Read>> {
    let name = path.display().to_string();
    let mut file = File::open(path).map_err(|e| Error::io(format!("cannot open {name}"), e))?;
    // The first bytes decide; they are read whole (a pipe may hand them over piecemeal)
    // and put back in front of the rest.
    let mut head = [0u8; GZIP_MAGIC.len()];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(format!("cannot read {name}"), e)),
        }
    }
    let input = BufReader::new(std::io::Cursor::new(head[..n].to_vec()).chain(file));
    Ok(if head[..n] == GZIP_MAGIC {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(input)))
    } else {
        Box::new(input)
    })
}

/// The server family that wrote a recorded file, from the server version in its format
/// description event (MySQL when it cannot be read).
pub fn file_flavor(path: &Path) -> Flavor {
    let Ok(mut r) = open(path) else {
        return Flavor::Mysql;
    };
    // Magic, the event header, the binlog version, then the server version (50 bytes).
    let mut buf = [0u8; 4 + HEADER_LEN + 2 + 50];
    if r.read_exact(&mut buf).is_err() {
        return Flavor::Mysql;
    }
    let version = String::from_utf8_lossy(&buf[4 + HEADER_LEN + 2..]).to_ascii_lowercase();
    if version.contains("mariadb") {
        Flavor::Mariadb
    } else {
        Flavor::Mysql
    }
}

/// Reads a binlog file and calls `emit` for every source event, in order.
pub fn replay_file(
    path: &Path,
    filter: Filter,
    emit: &mut dyn FnMut(SourceEvent) -> Result<()>,
) -> Result<EventHandler> {
    replay_file_with(path, filter, ReplayOptions::default(), emit)
}

/// [`replay_file`] with explicit [`ReplayOptions`].
pub fn replay_file_with(
    path: &Path,
    filter: Filter,
    options: ReplayOptions,
    emit: &mut dyn FnMut(SourceEvent) -> Result<()>,
) -> Result<EventHandler> {
    let name = path.display().to_string();
    let mut input = open(path)?;
    let file_err = |offset: u64, reason: String| Error::File {
        file: name.clone(),
        offset,
        reason,
    };
    let mut magic = [0u8; 4];
    read_full(&mut input, &mut magic).map_err(|e| file_err(0, e))?;
    if magic != MAGIC {
        return Err(file_err(
            0,
            format!("not a binlog file (magic bytes {magic:02x?}, expected fe 62 69 6e)"),
        ));
    }
    let base = path
        .file_name()
        .map(|f| f.to_string_lossy().trim_end_matches(".gz").to_string())
        .unwrap_or_default();
    let start = SourceOffset {
        binlog: BinlogPosition::new(base, 4),
        gtid_set: None,
        skip_rows: 0,
    };
    let handler_options = HandlerOptions {
        catalog: options.catalog.unwrap_or_default(),
        include_query: true,
        allow_positional_names: options.allow_positional_names,
        capture_system_schemas: options.capture_system_schemas,
        flavor: None,
        ddl: crate::source::events::DdlState::replay(options.ddl_skip),
    };
    let mut handler = EventHandler::new(filter, &start, handler_options);
    let mut esr = EventStreamReader::new(BinlogVersion::Version4);
    let mut offset: u64 = 4;
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut out = Vec::new();
    loop {
        buf.clear();
        buf.resize(HEADER_LEN, 0);
        match read_full(&mut input, &mut buf[..HEADER_LEN]) {
            Ok(()) => {}
            Err(e) if e == "eof" => break,
            Err(_) => {
                return Err(file_err(
                    offset,
                    "the file ends inside an event header".into(),
                ));
            }
        }
        let size = u32::from_le_bytes([buf[9], buf[10], buf[11], buf[12]]) as usize;
        if size < HEADER_LEN {
            return Err(file_err(
                offset,
                format!("event size {size} is smaller than a header"),
            ));
        }
        if size > 1 << 30 {
            return Err(file_err(
                offset,
                format!("event size {size} is implausible"),
            ));
        }
        buf.resize(size, 0);
        read_full(&mut input, &mut buf[HEADER_LEN..]).map_err(|_| {
            file_err(
                offset,
                format!("the file ends inside an event of {size} bytes (truncated file)"),
            )
        })?;
        let event = esr
            .read(&buf[..])
            .map_err(|e| file_err(offset, format!("malformed event: {e}")))?
            .ok_or_else(|| file_err(offset, "empty event".into()))?;
        handler.handle(&event, &mut out).map_err(|e| match e {
            Error::Event { reason, .. } => file_err(offset, reason),
            other => other,
        })?;
        for ev in out.drain(..) {
            emit(ev)?;
        }
        if event.header().event_type_raw() == EventType::TRANSACTION_PAYLOAD_EVENT as u8 {
            let tpe = event
                .read_event::<TransactionPayloadEvent<'_>>()
                .map_err(|e| file_err(offset, format!("compressed transaction: {e}")))?;
            let mut payload = Vec::new();
            tpe.decompressed()
                .and_then(|mut r| r.read_to_end(&mut payload))
                .map_err(|e| file_err(offset, format!("compressed transaction: {e}")))?;
            let mut inner = &payload[..];
            while !inner.is_empty() {
                let ev = esr.read_decompressed(&mut inner).map_err(|e| {
                    file_err(
                        offset,
                        format!("event inside a compressed transaction: {e}"),
                    )
                })?;
                let Some(ev) = ev else { break };
                handler.handle(&ev, &mut out).map_err(|e| match e {
                    Error::Event { reason, .. } => file_err(offset, reason),
                    other => other,
                })?;
                for e in out.drain(..) {
                    emit(e)?;
                }
            }
        }
        offset += size as u64;
    }
    Ok(handler)
}

/// Fills `buf`; `Err("eof")` when nothing at all could be read, another message otherwise.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::result::Result<(), String> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => {
                return Err(if n == 0 {
                    "eof".into()
                } else {
                    "short read".into()
                });
            }
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}
