//! Recorded binlog files: the same event handler as the live stream, fed from a file
//! (plain or gzip). Each event is read whole before it is parsed, so a truncated file is a
//! clear error with the byte offset — never a panic. Every event passes [`guard`] before the
//! parser sees it: its size field is checked against the bytes actually present (memory
//! grows only with bytes read, never with a size field), its CRC32 is verified when the
//! format description announces one, and the parser runs inside the panic boundary. The
//! events of a compressed transaction are decompressed as a stream, one event at a time,
//! bounded by the transaction's declared uncompressed size.
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
use mysql_common::binlog::events::{Event, TransactionPayloadEvent};
use mysql_common::binlog::EventStreamReader;

use crate::error::{Error, Result};
use crate::model::{BinlogPosition, Filter, Flavor, SourceEvent, SourceOffset};
use crate::source::events::{EventHandler, HandlerOptions};
use crate::source::guard::{self, Checksum, CRC_LEN, HEADER_LEN, MAX_EVENT_SIZE};

const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const FORMAT_DESCRIPTION: u8 = EventType::FORMAT_DESCRIPTION_EVENT as u8;
const TRANSACTION_PAYLOAD: u8 = EventType::TRANSACTION_PAYLOAD_EVENT as u8;

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
    /// What a rows event that cannot be decoded does (as `events.failure_handling_mode`).
    pub failure_mode: crate::config::shaping::FailureMode,
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
    let input = open(path)?;
    let base = path
        .file_name()
        .map(|f| f.to_string_lossy().trim_end_matches(".gz").to_string())
        .unwrap_or_default();
    replay_stream(&name, &base, input, filter, options, emit)
}

/// [`replay_file_with`] on bytes from anywhere (`name` for errors, `base` as the binlog
/// file name in positions): the path `replay` takes, also for the fuzz targets.
pub fn replay_stream(
    name: &str,
    base: &str,
    input: Box<dyn Read>,
    filter: Filter,
    options: ReplayOptions,
    emit: &mut dyn FnMut(SourceEvent) -> Result<()>,
) -> Result<EventHandler> {
    let start = SourceOffset {
        binlog: BinlogPosition::new(base.to_string(), 4),
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
        failure_mode: options.failure_mode,
    };
    let mut reader = Reader {
        name: name.to_string(),
        input,
        offset: 0,
        esr: EventStreamReader::new(BinlogVersion::Version4),
        checksum: Checksum::None,
        handler: EventHandler::new(filter, &start, handler_options),
        out: Vec::new(),
    };
    let mut magic = [0u8; 4];
    match read_full(&mut reader.input, &mut magic) {
        Ok(()) if magic == MAGIC => {}
        Ok(()) => {
            return Err(reader.file_err(format!(
                "not a binlog file (magic bytes {magic:02x?}, expected fe 62 69 6e)"
            )))
        }
        Err(e) => return Err(reader.file_err(format!("not a binlog file: {e}"))),
    }
    reader.offset = 4;
    let mut buf = Vec::with_capacity(64 * 1024);
    while reader.next_event(&mut buf)? {
        let ty = buf[4];
        guard::contain(|| reader.process(&buf, emit))
            .unwrap_or_else(|panic| Err(reader.corrupt(ty, panic)))?;
        reader.offset += buf.len() as u64;
    }
    Ok(reader.handler)
}

/// The state of one file being read.
struct Reader {
    /// The file, for errors.
    name: String,
    input: Box<dyn Read>,
    /// Where the current event starts.
    offset: u64,
    esr: EventStreamReader,
    /// What the last format description announced.
    checksum: Checksum,
    handler: EventHandler,
    out: Vec<SourceEvent>,
}

impl Reader {
    fn file_err(&self, reason: impl Into<String>) -> Error {
        Error::File {
            file: self.name.clone(),
            offset: self.offset,
            reason: reason.into(),
        }
    }

    fn corrupt(&self, ty: u8, reason: impl Into<String>) -> Error {
        Error::Corrupt {
            file: self.name.clone(),
            offset: self.offset,
            event_type: guard::event_type_name(ty),
            reason: reason.into(),
        }
    }

    /// An error of the handler, placed at this file and offset.
    fn place(&self, e: Error) -> Error {
        match e {
            Error::Event { reason, .. } => self.file_err(reason),
            Error::Corrupt {
                event_type, reason, ..
            } => Error::Corrupt {
                file: self.name.clone(),
                offset: self.offset,
                event_type,
                reason,
            },
            other => other,
        }
    }

    /// Reads the next whole event into `buf` with its size and checksum verified; `false`
    /// at the end of the file.
    fn next_event(&mut self, buf: &mut Vec<u8>) -> Result<bool> {
        buf.clear();
        buf.resize(HEADER_LEN, 0);
        match read_full(&mut self.input, buf) {
            Ok(()) => {}
            Err(ReadError::Eof) => return Ok(false),
            Err(ReadError::Short) => {
                return Err(self.file_err("the file ends inside an event header"))
            }
            Err(e) => return Err(self.file_err(e.to_string())),
        }
        let ty = buf[4];
        let size = u32::from_le_bytes([buf[9], buf[10], buf[11], buf[12]]) as usize;
        check_size(size, ty, self.checksum, usize::MAX).map_err(|r| self.corrupt(ty, r))?;
        let body = (size - HEADER_LEN) as u64;
        let got = (&mut self.input)
            .take(body)
            .read_to_end(buf)
            .map_err(|e| self.file_err(format!("cannot read: {e}")))?;
        if (got as u64) < body {
            return Err(self.file_err(format!(
                "the file ends inside an event of {size} bytes (a truncated file, or a \
                 damaged size field)"
            )));
        }
        if ty == FORMAT_DESCRIPTION {
            // It announces the checksums of the events after it, and of itself.
            self.checksum = guard::fde_checksum(buf).map_err(|r| self.corrupt(ty, r))?;
        }
        if self.checksum == Checksum::Crc32 {
            guard::verify_raw(buf).map_err(|r| self.corrupt(ty, r))?;
        }
        guard::validate(buf, self.checksum).map_err(|r| self.corrupt(ty, r))?;
        Ok(true)
    }

    /// Parses one verified event and hands it (and, for a compressed transaction, the
    /// events inside it) to the handler. Runs inside the panic boundary.
    fn process(
        &mut self,
        raw: &[u8],
        emit: &mut dyn FnMut(SourceEvent) -> Result<()>,
    ) -> Result<()> {
        let ty = raw[4];
        let event = self
            .esr
            .read(raw)
            .map_err(|e| self.corrupt(ty, format!("malformed event: {e}")))?
            .ok_or_else(|| self.file_err("empty event"))?;
        self.handle(&event, emit)?;
        if ty == TRANSACTION_PAYLOAD {
            self.read_payload(&event, emit)?;
        }
        Ok(())
    }

    fn handle(
        &mut self,
        event: &Event,
        emit: &mut dyn FnMut(SourceEvent) -> Result<()>,
    ) -> Result<()> {
        let handled = self.handler.handle(event, &mut self.out);
        handled.map_err(|e| self.place(e))?;
        for ev in self.out.drain(..) {
            emit(ev)?;
        }
        Ok(())
    }

    /// The events inside a compressed transaction, decompressed one at a time: each
    /// event's size is checked against what remains of the declared uncompressed size
    /// before its bytes are read, and the total must match the declaration.
    fn read_payload(
        &mut self,
        event: &Event,
        emit: &mut dyn FnMut(SourceEvent) -> Result<()>,
    ) -> Result<()> {
        let (name, offset) = (self.name.clone(), self.offset);
        let bad = move |reason: String| Error::Corrupt {
            file: name.clone(),
            offset,
            event_type: guard::event_type_name(TRANSACTION_PAYLOAD),
            reason,
        };
        let tpe = event
            .read_event::<TransactionPayloadEvent<'_>>()
            .map_err(|e| bad(format!("malformed compressed transaction: {e}")))?;
        let declared = tpe.uncompressed_size();
        let limit = guard::payload_limit(declared);
        let reader = tpe
            .decompressed()
            .map_err(|e| bad(format!("compressed transaction: {e}")))?;
        let mut payload = reader.take(limit.saturating_add(1));
        let mut total: u64 = 0;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            buf.resize(HEADER_LEN, 0);
            match read_full(&mut payload, &mut buf) {
                Ok(()) => {}
                Err(ReadError::Eof) => break,
                Err(e) => return Err(bad(format!("compressed transaction: {e}"))),
            }
            let ty = buf[4];
            let size = u32::from_le_bytes([buf[9], buf[10], buf[11], buf[12]]) as usize;
            let left = usize::try_from(limit - total.min(limit)).unwrap_or(usize::MAX);
            check_size(size, ty, Checksum::None, left).map_err(|r| {
                bad(format!(
                    "event {} at byte {total} of the decompressed transaction: {r}",
                    guard::event_type_name(ty)
                ))
            })?;
            let body = (size - HEADER_LEN) as u64;
            let got = (&mut payload)
                .take(body)
                .read_to_end(&mut buf)
                .map_err(|e| bad(format!("compressed transaction: {e}")))?;
            if (got as u64) < body {
                return Err(bad(format!(
                    "the decompressed transaction ends inside an event of {size} bytes"
                )));
            }
            total += size as u64;
            guard::validate(&buf, Checksum::None).map_err(|r| {
                bad(format!(
                    "event {} inside it: {r}",
                    guard::event_type_name(ty)
                ))
            })?;
            let inner = self.esr.read_decompressed(&buf[..]).map_err(|e| {
                bad(format!(
                    "event {} inside it: {e}",
                    guard::event_type_name(ty)
                ))
            })?;
            let Some(inner) = inner else { break };
            self.handle(&inner, emit)?;
        }
        if declared != 0 && total != declared {
            return Err(bad(format!(
                "the compressed transaction declares {declared} bytes but holds {total}"
            )));
        }
        Ok(())
    }
}

/// Checks an event's size field before any byte of its body is read: at least a header
/// (and a checksum), at most [`MAX_EVENT_SIZE`] and `left`.
fn check_size(
    size: usize,
    ty: u8,
    checksum: Checksum,
    left: usize,
) -> std::result::Result<(), String> {
    let min = HEADER_LEN
        + match checksum {
            Checksum::Crc32 if ty != FORMAT_DESCRIPTION => CRC_LEN,
            _ => 0,
        };
    if size < min {
        return Err(format!(
            "its size field says {size} bytes, less than the {min} of its header{}",
            if min > HEADER_LEN {
                " and checksum"
            } else {
                ""
            }
        ));
    }
    if size > MAX_EVENT_SIZE {
        return Err(format!(
            "its size field says {size} bytes, more than any server writes ({MAX_EVENT_SIZE})"
        ));
    }
    if size > left {
        return Err(format!(
            "its size field says {size} bytes, but only {left} remain"
        ));
    }
    Ok(())
}

/// Why `read_full` could not fill its buffer.
#[derive(Debug)]
enum ReadError {
    /// Nothing at all could be read.
    Eof,
    /// Some bytes, then the end.
    Short,
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Eof => f.write_str("no bytes left"),
            ReadError::Short => f.write_str("it ends inside an event header"),
            ReadError::Io(e) => write!(f, "cannot read: {e}"),
        }
    }
}

/// Fills `buf` from `r`.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::result::Result<(), ReadError> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) if n == 0 => return Err(ReadError::Eof),
            Ok(0) => return Err(ReadError::Short),
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
    Ok(())
}
