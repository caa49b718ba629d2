//! The one boundary between rowtide and the third-party binlog parser (`mysql_common`, and
//! `mysql_async`'s stream built on it). Bytes from a file or a server cross it in three steps:
//!
//! 1. **Integrity** — when the format description event announces CRC32 (it carries the
//!    algorithm itself), every event's checksum is verified: [`verify_raw`] on a file's bytes
//!    before anything parses them, [`verify_event`] on an event the live stream parsed.
//! 2. **Validation** — lengths the parser would trust are checked against the bytes present
//!    first ([`validate`]): a checksummed event too short for its checksum, a compressed
//!    transaction whose header fields run past the event. These are the inputs on which the
//!    library indexes out of bounds or unwraps.
//! 3. **Containment** — the parser then runs inside [`contain`] (or [`contain_poll`] for the
//!    stream): a panic in it becomes an error value naming where it happened, and the panic
//!    hook prints nothing for it (the error says it all, once). Panics outside the boundary
//!    still reach the previous hook unchanged.
//!
//! Invariant: nothing read from the input reaches `mysql_common` without passing 1 and 2,
//! and no call into it happens outside 3.
//!
//! mysql_common 0.37 does not verify checksums itself (it splits them off and offers
//! `Event::calc_checksum`), hence step 1. Known gap: on the live stream, mysql_async
//! decompresses a compressed transaction into a buffer of its declared size while it is
//! polled, before rowtide sees the event, so a damaged size there is not caught in time;
//! recorded files are read by rowtide's own bounded reader.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Once;
use std::task::Poll;

use mysql_common::binlog::consts::{BinlogChecksumAlg, EventType};
use mysql_common::binlog::events::{BinlogEventFooter, Event};
use mysql_common::io::ParseBuf;
use mysql_common::misc::read_varlen_uint;

/// Length of the common event header (binlog version 4).
pub const HEADER_LEN: usize = 19;
/// Length of an event's CRC32 trailer.
pub const CRC_LEN: usize = 4;
/// The largest event rowtide accepts: a server never writes one larger than its maximum
/// packet (1 GiB), so a bigger size field is damage, refused before anything is allocated.
pub const MAX_EVENT_SIZE: usize = 1 << 30;

/// The most bytes a compressed transaction that declares no uncompressed size (the field is
/// optional) may decompress to. Its events are read one at a time, so this bounds the work
/// a damaged payload can cause, not the memory.
pub const MAX_UNDECLARED_PAYLOAD: u64 = 4 << 30;

/// How many bytes a compressed transaction may decompress to, given its declared size.
pub fn payload_limit(declared: u64) -> u64 {
    if declared == 0 {
        MAX_UNDECLARED_PAYLOAD
    } else {
        declared
    }
}

const FORMAT_DESCRIPTION: u8 = EventType::FORMAT_DESCRIPTION_EVENT as u8;
const TRANSACTION_PAYLOAD: u8 = EventType::TRANSACTION_PAYLOAD_EVENT as u8;
const PREVIOUS_GTIDS: u8 = EventType::PREVIOUS_GTIDS_EVENT as u8;
const TABLE_MAP: u8 = EventType::TABLE_MAP_EVENT as u8;
/// Optional metadata fields of a TABLE_MAP that list ENUM and SET labels.
const OPT_SET_STR_VALUE: u8 = 5;
const OPT_ENUM_STR_VALUE: u8 = 6;
/// LOG_EVENT_BINLOG_IN_USE_F: set in the FDE of an open file, cleared when it is closed;
/// the checksum is computed without it.
const FLAG_IN_USE: u8 = 0x01;

/// What the stream's format description event says about checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Checksum {
    /// No checksums (no FDE yet, a pre-5.6 server, or `binlog_checksum=NONE`).
    #[default]
    None,
    /// Every event ends with the CRC32 of its header and body.
    Crc32,
}

/// The checksum setting a FORMAT_DESCRIPTION event announces; `event` is the whole event
/// (header included). An algorithm other than NONE and CRC32 is damage: no server writes one.
pub fn fde_checksum(event: &[u8]) -> Result<Checksum, String> {
    let body = event.get(HEADER_LEN..).unwrap_or_default();
    // The same reading the parser does (server version >= 5.6.1 means the algorithm byte
    // and the checksum follow the post-header lengths), so both agree on the layout.
    let footer = BinlogEventFooter::read(body).map_err(|e| e.to_string())?;
    match footer.get_checksum_alg() {
        Ok(None) | Ok(Some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_OFF)) => Ok(Checksum::None),
        Ok(Some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32)) => Ok(Checksum::Crc32),
        Err(e) => Err(format!(
            "the format description announces checksum algorithm {} (only NONE = 0 and \
             CRC32 = 1 exist)",
            e.0
        )),
    }
}

/// Verifies the CRC32 trailer of a whole event (header included) read from a file.
pub fn verify_raw(event: &[u8]) -> Result<(), String> {
    let Some(cut) = event
        .len()
        .checked_sub(CRC_LEN)
        .filter(|&c| c >= HEADER_LEN)
    else {
        return Err(format!(
            "the event is {} bytes long, too short for a header and a CRC32",
            event.len()
        ));
    };
    let mut crc = flate2::Crc::new();
    let mut header = [0u8; HEADER_LEN];
    header.copy_from_slice(&event[..HEADER_LEN]);
    header[17] &= !FLAG_IN_USE;
    crc.update(&header);
    crc.update(&event[HEADER_LEN..cut]);
    let mut stored = [0u8; CRC_LEN];
    stored.copy_from_slice(&event[cut..]);
    compare(u32::from_le_bytes(stored), crc.sum())
}

/// Verifies the checksum of an event the live stream parsed, when its format description
/// announced CRC32 (events inside a compressed transaction carry none, nor does the stream's
/// artificial first ROTATE, read before the format description).
pub fn verify_event(event: &Event) -> Result<(), String> {
    let footer = event.footer();
    let crc32 = matches!(
        footer.get_checksum_alg(),
        Ok(Some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32))
    );
    if !crc32 || !footer.get_checksum_enabled() {
        return Ok(());
    }
    match event.checksum() {
        Some(stored) => compare(
            u32::from_le_bytes(stored),
            event.calc_checksum(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32),
        ),
        None => Ok(()),
    }
}

fn compare(stored: u32, computed: u32) -> Result<(), String> {
    if stored == computed {
        Ok(())
    } else {
        Err(format!(
            "checksum mismatch: the event's CRC32 is {stored:08x} but its bytes give \
             {computed:08x}, so the event is damaged"
        ))
    }
}

/// Checks what the parser would otherwise trust in a whole event (header included) whose
/// size and checksum are already verified. `checksum` is the setting in force (for an FDE:
/// its own).
pub fn validate(event: &[u8], checksum: Checksum) -> Result<(), String> {
    let ty = event.get(4).copied().unwrap_or_default();
    let trailer = if checksum == Checksum::Crc32 {
        CRC_LEN
    } else {
        0
    };
    let Some(body) = event
        .len()
        .checked_sub(trailer)
        .and_then(|end| event.get(HEADER_LEN..end))
    else {
        return Err(format!(
            "the event is {} bytes long, too short for a header and a CRC32",
            event.len()
        ));
    };
    validate_body(ty, body)
}

/// [`validate`] on an event's body (without header and checksum), for events that are
/// already framed (the live stream's, those inside a compressed transaction): the counts
/// and lengths the parser allocates or slices by are checked against the bytes present.
pub fn validate_body(ty: u8, body: &[u8]) -> Result<(), String> {
    match ty {
        FORMAT_DESCRIPTION => validate_fde(body),
        TRANSACTION_PAYLOAD => validate_transaction_payload(body),
        PREVIOUS_GTIDS => validate_previous_gtids(body),
        _ => Ok(()),
    }
}

/// [`validate_body`] plus what needs the event's format description: the optional
/// metadata of a TABLE_MAP (where the table id's width comes from the format description).
pub fn validate_event(event: &Event) -> Result<(), String> {
    let ty = event.header().event_type_raw();
    validate_body(ty, event.data())?;
    if ty == TABLE_MAP {
        let post_header = event
            .fde()
            .get_event_type_header_length(EventType::TABLE_MAP_EVENT);
        validate_table_map(event.data(), post_header)?;
    }
    Ok(())
}

/// TABLE_MAP: its optional metadata lists ENUM and SET labels as a count and then the
/// labels; the parser reserves memory for the count before reading them, so each count
/// must fit in the bytes of its field. The walk to the optional metadata mirrors the
/// parser's; where the walk itself fails, the parser reports that failure.
fn validate_table_map(body: &[u8], post_header: u8) -> Result<(), String> {
    let Some(mut optional) = optional_metadata(body, post_header) else {
        return Ok(());
    };
    while !optional.is_empty() {
        let (Some(ty), Some(len)) = (optional.checked_eat_u8(), lenenc(&mut optional.0)) else {
            return Ok(());
        };
        let Some(value) = optional.checked_eat(usize::try_from(len).unwrap_or(usize::MAX)) else {
            return Ok(());
        };
        if ty == OPT_SET_STR_VALUE || ty == OPT_ENUM_STR_VALUE {
            check_label_counts(value)?;
        }
    }
    Ok(())
}

/// The optional metadata of a TABLE_MAP body: after the table id and flags, the schema and
/// table names, the column count, types and metadata, and the NULL bitmap.
fn optional_metadata(body: &[u8], post_header: u8) -> Option<ParseBuf<'_>> {
    let mut b = ParseBuf(body);
    b.checked_eat(if post_header == 6 { 4 + 2 } else { 6 + 2 })?;
    for _ in 0..2 {
        let len = b.checked_eat_u8()? as usize;
        b.checked_eat(len + 1)?;
    }
    let n = usize::try_from(b.checked_eat_lenenc_int()?).ok()?;
    b.checked_eat(n)?;
    b.checked_eat_lenenc_str()?;
    b.checked_eat(n.div_ceil(8))?;
    Some(b)
}

/// One ENUM/SET label field: per column, a count and that many length-prefixed labels.
fn check_label_counts(value: &[u8]) -> Result<(), String> {
    let mut v = ParseBuf(value);
    while !v.is_empty() {
        let count = v
            .checked_eat_lenenc_int()
            .ok_or("its ENUM/SET labels are cut off")?;
        if count > v.len() as u64 {
            return Err(format!(
                "its optional metadata declares {count} ENUM/SET labels for a column, more \
                 than the {} bytes left can hold",
                v.len()
            ));
        }
        for _ in 0..count {
            v.checked_eat_lenenc_str()
                .ok_or("its ENUM/SET labels are cut off")?;
        }
    }
    Ok(())
}

/// PREVIOUS_GTIDS: a count of source ids, then per id its UUID, its tag (tagged format),
/// a count of intervals and 16 bytes per interval. The parser reserves memory for both
/// counts before reading, so each must fit in the bytes left.
fn validate_previous_gtids(body: &[u8]) -> Result<(), String> {
    let mut buf = ParseBuf(body);
    let header = buf
        .checked_eat_u64_le()
        .ok_or("it is shorter than its 8-byte header")?;
    let tagged = (header >> 56) != 0;
    let n_sids = if tagged {
        (header >> 8) & ((1 << 48) - 1)
    } else {
        header & ((1 << 56) - 1)
    };
    if n_sids > (buf.len() / 24) as u64 {
        return Err(format!(
            "it declares {n_sids} source ids, more than its {} bytes can hold",
            body.len()
        ));
    }
    for _ in 0..n_sids {
        buf.checked_eat(16).ok_or("it ends inside a server UUID")?;
        if tagged {
            let len = read_varlen_uint(&mut buf).map_err(|e| format!("GTID tag: {e}"))?;
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            buf.checked_eat(len).ok_or("it ends inside a GTID tag")?;
        }
        let n = buf
            .checked_eat_u64_le()
            .ok_or("it ends inside an interval count")?;
        if n > (buf.len() / 16) as u64 {
            return Err(format!(
                "it declares {n} GTID intervals, more than the {} bytes left can hold",
                buf.len()
            ));
        }
        buf.checked_eat(n as usize * 16)
            .ok_or("it ends inside an interval")?;
    }
    Ok(())
}

/// The FDE's fixed part: binlog version (2), server version (50), timestamp (4), header
/// length (1), then one post-header length per event type.
fn validate_fde(body: &[u8]) -> Result<(), String> {
    const FIXED: usize = 2 + 50 + 4 + 1;
    if body.len() < FIXED {
        return Err(format!(
            "a format description needs at least {FIXED} bytes, this one has {}",
            body.len()
        ));
    }
    if body[FIXED - 1] as usize != HEADER_LEN {
        return Err(format!(
            "the format description declares event headers of {} bytes (binlog version 4 \
             has {HEADER_LEN})",
            body[FIXED - 1]
        ));
    }
    Ok(())
}

/// A TRANSACTION_PAYLOAD header is a list of (type, length, value) fields ended by type 0;
/// the parser skips unknown fields by their length and unwraps the compression type, so
/// both are checked here.
fn validate_transaction_payload(body: &[u8]) -> Result<(), String> {
    let mut rest = body;
    let (mut size, mut compression) = (None, None);
    loop {
        let field = lenenc(&mut rest).ok_or("its header is cut off or malformed")?;
        if field == 0 {
            break;
        }
        if field > u64::from(u8::MAX) {
            // The parser unwraps a conversion of the field type to a byte.
            return Err(format!("its header has a field of unknown type {field}"));
        }
        let len = lenenc(&mut rest).ok_or("its header is cut off or malformed")?;
        match field {
            1..=3 => {
                let value = lenenc(&mut rest).ok_or("its header is cut off or malformed")?;
                match field {
                    1 => size = Some(value),
                    2 => compression = Some(value),
                    _ => {}
                }
            }
            _ => {
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                rest = rest.get(len..).ok_or_else(|| {
                    format!("its header field {field} declares {len} bytes past the event's end")
                })?;
            }
        }
    }
    match compression {
        Some(0 | 255) => {}
        Some(other) => return Err(format!("unknown compression type {other}")),
        None => return Err("its header names no compression type".into()),
    }
    match size {
        Some(n) if n <= rest.len() as u64 => Ok(()),
        Some(n) => Err(format!(
            "its payload size {n} exceeds the {} bytes left in the event",
            rest.len()
        )),
        None => Err("its header names no payload size".into()),
    }
}

/// A MySQL length-encoded integer (`None` when the bytes end first or it is malformed).
fn lenenc(buf: &mut &[u8]) -> Option<u64> {
    let (&first, rest) = buf.split_first()?;
    let width = match first {
        0..=0xfa => {
            *buf = rest;
            return Some(first.into());
        }
        0xfc => 2,
        0xfd => 3,
        0xfe => 8,
        0xfb | 0xff => return None,
    };
    let bytes = rest.get(..width)?;
    *buf = &rest[width..];
    let mut v = [0u8; 8];
    v[..width].copy_from_slice(bytes);
    Some(u64::from_le_bytes(v))
}

/// `TYPE_NAME (type N)` for an event type byte, MySQL's and MariaDB's.
pub fn event_type_name(ty: u8) -> String {
    let name = match ty {
        160 => "ANNOTATE_ROWS_EVENT".to_string(),
        161 => "BINLOG_CHECKPOINT_EVENT".to_string(),
        162 => "GTID_EVENT (MariaDB)".to_string(),
        163 => "GTID_LIST_EVENT".to_string(),
        164 => "START_ENCRYPTION_EVENT".to_string(),
        165 => "QUERY_COMPRESSED_EVENT".to_string(),
        166 => "WRITE_ROWS_COMPRESSED_EVENT_V1".to_string(),
        167 => "UPDATE_ROWS_COMPRESSED_EVENT_V1".to_string(),
        168 => "DELETE_ROWS_COMPRESSED_EVENT_V1".to_string(),
        169 => "WRITE_ROWS_COMPRESSED_EVENT".to_string(),
        170 => "UPDATE_ROWS_COMPRESSED_EVENT".to_string(),
        171 => "DELETE_ROWS_COMPRESSED_EVENT".to_string(),
        _ => match EventType::try_from(ty) {
            Ok(t) => format!("{t:?}"),
            Err(_) => "unknown event".to_string(),
        },
    };
    format!("{name} (type {ty})")
}

thread_local! {
    /// How many [`contain`] calls are running on this thread.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The message and location of the last panic caught on this thread.
    static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs (once per process) a panic hook that keeps the message of a panic inside
/// [`contain`] for the error instead of printing it, and hands every other panic to the hook
/// that was there before.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if DEPTH.with(Cell::get) == 0 {
                return previous(info);
            }
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let text = format!("{}{at}", payload_text(info.payload()));
            CAUGHT.with(|c| *c.borrow_mut() = Some(text));
        }));
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// The prefix of every error made from a contained panic.
pub const PANIC_PREFIX: &str = "the binlog parser failed on this event";

/// Runs `f` (a call into the parser and what handles its result), turning a panic inside
/// it into `Err` with the panic's message and location. The state `f` touched may be
/// half-updated afterwards: callers stop reading on that error.
pub fn contain<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = std::panic::catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get() - 1));
    result.map_err(|payload| {
        let text = CAUGHT
            .with(|c| c.borrow_mut().take())
            .unwrap_or_else(|| payload_text(&*payload));
        format!(
            "{PANIC_PREFIX} ({text}); the event is malformed in a way the parser does not \
             check (please report it with the file, so that rowtide rejects it earlier)"
        )
    })
}

/// [`contain`] for a future: every poll runs inside the boundary (for the live stream,
/// whose parsing happens while it is polled).
pub fn contain_poll<F: Future + Unpin>(
    mut fut: F,
) -> impl Future<Output = Result<F::Output, String>> {
    std::future::poll_fn(move |cx| match contain(|| Pin::new(&mut fut).poll(cx)) {
        Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(e) => Poll::Ready(Err(e)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event of type `ty` with `body`, and a valid CRC32 when `crc`.
    fn event(ty: u8, body: &[u8], crc: bool) -> Vec<u8> {
        let size = HEADER_LEN + body.len() + if crc { CRC_LEN } else { 0 };
        let mut e = Vec::with_capacity(size);
        e.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        e.push(ty);
        e.extend_from_slice(&1u32.to_le_bytes());
        e.extend_from_slice(&(size as u32).to_le_bytes());
        e.extend_from_slice(&1000u32.to_le_bytes());
        e.extend_from_slice(&0u16.to_le_bytes());
        e.extend_from_slice(body);
        if crc {
            let mut c = flate2::Crc::new();
            c.update(&e);
            e.extend_from_slice(&c.sum().to_le_bytes());
        }
        e
    }

    #[test]
    fn crc_accepts_intact_and_rejects_any_flipped_bit() {
        let e = event(16, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], true);
        verify_raw(&e).unwrap();
        for bit in 0..e.len() * 8 {
            let mut m = e.clone();
            m[bit / 8] ^= 1 << (bit % 8);
            if bit / 8 == 17 && bit % 8 == 0 {
                // The in-use flag is outside the checksum by definition.
                assert!(verify_raw(&m).is_ok());
                continue;
            }
            let err = verify_raw(&m).unwrap_err();
            assert!(err.contains("checksum mismatch"), "{err}");
        }
        assert!(verify_raw(&e[..HEADER_LEN + 2])
            .unwrap_err()
            .contains("too short"));
    }

    #[test]
    fn transaction_payload_header_fields_are_bounded() {
        // size 3, compression NONE, uncompressed size 3, end, payload.
        let good = [1, 1, 3, 2, 3, 0xfc, 0xff, 0, 3, 1, 3, 0, b'a', b'b', b'c'];
        validate_transaction_payload(&good[..]).unwrap();
        let cases: [(&[u8], &str); 7] = [
            (&[1, 1, 9, 2, 1, 0, 0, 1, 2], "exceeds"),
            (&[1, 1, 1, 2, 1, 7, 0, 1], "unknown compression type 7"),
            (
                &[9, 0xfe, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0],
                "past the event",
            ),
            (&[1, 1], "cut off"),
            (&[2, 1, 0, 0], "no payload size"),
            (&[1, 0xfb, 0], "cut off"),
            // Found by the event_stream fuzz target: the parser unwrapped this one.
            (&[0xfc, 0x00, 0x01, 1, 0, 0], "unknown type 256"),
        ];
        for (body, want) in cases {
            let err = validate_transaction_payload(body).unwrap_err();
            assert!(err.contains(want), "{body:?}: {err}");
        }
    }

    #[test]
    fn previous_gtids_counts_must_fit_the_event() {
        // Real bodies (MySQL 8.0.31 untagged, MySQL 9.6 tagged) pass.
        let untagged = hex::decode(
            "010000000000000076f3e7be672011ed9cad0242ac1100020100000000000000\
             01000000000000000b00000000000000",
        )
        .unwrap();
        let tagged = hex::decode(
            "010200000000000155778904029911f1b1b84ef0c4956feb0001000000000000\
             0001000000000000000e0000000000000055778904029911f1b1b84ef0c4956feb\
             0a6d79746167010000000000000001000000000000000300000000000000",
        )
        .unwrap();
        validate_previous_gtids(&untagged).unwrap();
        validate_previous_gtids(&tagged).unwrap();
        // A damaged count of ids or intervals is refused before anything is reserved.
        let mut many_ids = untagged.clone();
        many_ids[6] = 0x40;
        let err = validate_previous_gtids(&many_ids).unwrap_err();
        assert!(err.contains("source ids"), "{err}");
        let mut many_intervals = untagged.clone();
        many_intervals[24 + 5] = 0x10;
        let err = validate_previous_gtids(&many_intervals).unwrap_err();
        assert!(err.contains("GTID intervals"), "{err}");
        assert!(validate_previous_gtids(&untagged[..30]).is_err());
        assert!(validate_previous_gtids(&tagged[..tagged.len() - 1]).is_err());
    }

    /// A TABLE_MAP of one column with optional metadata `optional`.
    fn table_map_body(optional: &[u8]) -> Vec<u8> {
        let mut b = vec![1, 0, 0, 0, 0, 0, 0, 0, 1, b'd', 0, 1, b't', 0];
        b.extend_from_slice(&[1, 0xfe, 2, 0xf8, 1, 0]); // 1 column: SET, metadata, NULLs
        b.extend_from_slice(optional);
        b
    }

    #[test]
    fn table_map_label_counts_must_fit_the_field() {
        // SET_STR_VALUE: one column with one label "ab".
        validate_table_map(&table_map_body(&[5, 4, 1, 2, b'a', b'b']), 8).unwrap();
        // A count of 2^56 labels in a 10-byte field (found by the row_decoder fuzz target:
        // the parser reserved memory for it and aborted).
        let huge = [5, 10, 0xfe, 0, 0, 0, 0, 0, 0, 0, 1, 0];
        let err = validate_table_map(&table_map_body(&huge), 8).unwrap_err();
        assert!(err.contains("ENUM/SET labels"), "{err}");
        let mut huge_enum = huge;
        huge_enum[0] = 6;
        assert!(validate_table_map(&table_map_body(&huge_enum), 8).is_err());
        // Cut-off labels are refused; a body that does not walk is left to the parser.
        assert!(validate_table_map(&table_map_body(&[5, 3, 2, 1, b'a']), 8).is_err());
        validate_table_map(&[1, 2, 3], 8).unwrap();
    }

    #[test]
    fn a_panic_becomes_an_error_with_its_message_and_location() {
        let err = contain(|| {
            let v: Vec<u8> = Vec::new();
            v[usize::from(v.is_empty()) * 3]
        })
        .unwrap_err();
        assert!(err.starts_with(PANIC_PREFIX), "{err}");
        assert!(err.contains("index out of bounds"), "{err}");
        assert!(err.contains("guard.rs:"), "{err}");
        assert_eq!(contain(|| 7).unwrap(), 7);
    }

    #[test]
    fn names_mysql_and_mariadb_event_types() {
        assert_eq!(event_type_name(30), "WRITE_ROWS_EVENT (type 30)");
        assert_eq!(event_type_name(163), "GTID_LIST_EVENT (type 163)");
        assert_eq!(event_type_name(99), "unknown event (type 99)");
    }
}
