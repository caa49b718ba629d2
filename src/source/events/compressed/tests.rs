//! Compressed events built by hand the way MariaDB writes them: each must rebuild into
//! exactly the plain event (byte for byte, checksum included), and each kind of damage must
//! become an error that says what is wrong.

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::Compression;
use mysql_common::binlog::consts::{BinlogChecksumAlg, BinlogVersion};
use mysql_common::binlog::events::{BinlogEventFooter, Event, EventData, FormatDescriptionEvent};

use super::{rebuild, MAX_UNCOMPRESSED};
use crate::model::{BinlogPosition, Catalog, Filter, Flavor, SourceEvent, SourceOffset};
use crate::source::events::{EventHandler, HandlerOptions};

const TS: u32 = 1_700_000_000;
const SERVER_ID: u32 = 9;

/// A MariaDB 10.11 format description: post-header lengths as MariaDB announces them.
fn fde(crc: bool) -> FormatDescriptionEvent<'static> {
    let mut lens = vec![0u8; 171];
    for (types, len) in [
        (2..=2, 13u8),
        (19..=19, 8),
        (23..=25, 8),
        (30..=32, 10),
        (165..=165, 13),
        (166..=168, 8),
        (169..=171, 10),
    ] {
        for t in types {
            lens[t - 1] = len;
        }
    }
    let alg = if crc {
        BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32
    } else {
        BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_OFF
    };
    FormatDescriptionEvent::new(BinlogVersion::Version4)
        .with_server_version(b"10.11.19-MariaDB".to_vec())
        .with_event_type_header_lengths(lens)
        .with_footer(BinlogEventFooter::new(alg))
}

/// An event of type `ty` with `body` ending at `log_pos`, as a reader hands it over.
fn event(fde: &FormatDescriptionEvent<'static>, ty: u8, body: &[u8], log_pos: u32) -> Event {
    let crc = matches!(
        fde.footer().get_checksum_alg(),
        Ok(Some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32))
    );
    let size = 19 + body.len() + if crc { 4 } else { 0 };
    let mut b = Vec::new();
    b.extend_from_slice(&TS.to_le_bytes());
    b.push(ty);
    b.extend_from_slice(&SERVER_ID.to_le_bytes());
    b.extend_from_slice(&(size as u32).to_le_bytes());
    b.extend_from_slice(&log_pos.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(body);
    if crc {
        let mut c = flate2::Crc::new();
        c.update(&b);
        b.extend_from_slice(&c.sum().to_le_bytes());
    }
    Event::read(fde, &b[..]).unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

/// `data` compressed as MariaDB's `binlog_buf_compress` writes it: header byte with the
/// fewest length bytes that hold the length, the length big-endian, then zlib.
fn compressed_tail(data: &[u8]) -> Vec<u8> {
    let len = data.len() as u32;
    let n = match len {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xff_ffff => 3,
        _ => 4,
    };
    let mut out = vec![0x80 | n as u8];
    out.extend_from_slice(&len.to_be_bytes()[4 - n..]);
    out.extend(zlib(data));
    out
}

/// A query body's head: post-header, one status variable (Q_FLAGS2), the schema and NUL.
fn query_head(schema: &str) -> Vec<u8> {
    let status = [0u8, 0, 0, 0, 0];
    let mut b = Vec::new();
    b.extend_from_slice(&7u32.to_le_bytes()); // thread id
    b.extend_from_slice(&0u32.to_le_bytes()); // execution time
    b.push(schema.len() as u8);
    b.extend_from_slice(&0u16.to_le_bytes()); // error code
    b.extend_from_slice(&(status.len() as u16).to_le_bytes());
    b.extend_from_slice(&status);
    b.extend_from_slice(schema.as_bytes());
    b.push(0);
    b
}

/// A rows body's head for table `id` with `width` columns (all in the image), v1 or v2.
fn rows_head(id: u64, width: u8, v2: bool, update: bool) -> Vec<u8> {
    let mut b = id.to_le_bytes()[..6].to_vec();
    b.extend_from_slice(&1u16.to_le_bytes()); // STMT_END_F
    if v2 {
        b.extend_from_slice(&5u16.to_le_bytes()); // extra data: its length and 3 bytes
        b.extend_from_slice(&[0, 1, 0xff]);
    }
    b.push(width);
    let bitmap = vec![0xffu8; usize::from(width).div_ceil(8)];
    b.extend_from_slice(&bitmap);
    if update {
        b.extend_from_slice(&bitmap);
    }
    b
}

/// Two INT columns' row image: null bitmap, then both values.
fn int_row(a: i32, b: i32) -> Vec<u8> {
    let mut r = vec![0u8];
    r.extend_from_slice(&a.to_le_bytes());
    r.extend_from_slice(&b.to_le_bytes());
    r
}

fn join(a: &[u8], b: &[u8]) -> Vec<u8> {
    [a, b].concat()
}

#[test]
fn query_compressed_rebuilds_into_the_query_event_with_a_fresh_checksum() {
    let fde = fde(true);
    let head = query_head("db");
    let sql = "CREATE TABLE t (id INT PRIMARY KEY, note TEXT) COMMENT 'compressed'";
    let compressed = event(
        &fde,
        165,
        &join(&head, &compressed_tail(sql.as_bytes())),
        900,
    );
    let plain = rebuild(&compressed).unwrap();
    assert_eq!(plain, event(&fde, 2, &join(&head, sql.as_bytes()), 0));
    assert_eq!(plain.header().log_pos(), 0);
    let crc = plain.calc_checksum(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32);
    assert_eq!(plain.checksum(), Some(crc.to_le_bytes()));
    let Ok(Some(EventData::QueryEvent(q))) = plain.read_data() else {
        panic!("a query event");
    };
    assert_eq!(q.query(), sql);
    assert_eq!(q.schema(), "db");
    assert_eq!(q.thread_id(), 7);
}

#[test]
fn rows_compressed_v1_rebuild_into_v1_rows_events() {
    let fde = fde(true);
    let rows = [int_row(1, 2), int_row(1, 3)].concat();
    for (ty, plain_ty, update) in [(166u8, 23u8, false), (167, 24, true), (168, 25, false)] {
        let head = rows_head(42, 2, false, update);
        let compressed = event(&fde, ty, &join(&head, &compressed_tail(&rows)), 500);
        let plain = rebuild(&compressed).unwrap();
        assert_eq!(
            plain,
            event(&fde, plain_ty, &join(&head, &rows), 0),
            "type {ty}"
        );
        let Ok(Some(EventData::RowsEvent(r))) = plain.read_data() else {
            panic!("a rows event");
        };
        assert_eq!((r.table_id(), r.num_columns()), (42, 2));
        assert_eq!(r.rows_data(), &rows[..]);
    }
}

#[test]
fn rows_compressed_v2_keep_their_extra_data() {
    let fde = fde(true);
    let rows = int_row(-5, 1 << 30);
    for (ty, plain_ty, update) in [(169u8, 30u8, false), (170, 31, true), (171, 32, false)] {
        let head = rows_head(7, 2, true, update);
        let compressed = event(&fde, ty, &join(&head, &compressed_tail(&rows)), 500);
        let plain = rebuild(&compressed).unwrap();
        assert_eq!(
            plain,
            event(&fde, plain_ty, &join(&head, &rows), 0),
            "type {ty}"
        );
        let Ok(Some(EventData::RowsEvent(r))) = plain.read_data() else {
            panic!("a rows event");
        };
        assert_eq!(r.rows_data(), &rows[..]);
    }
}

#[test]
fn without_checksums_the_rebuilt_event_has_none_and_big_tails_use_more_length_bytes() {
    let fde = fde(false);
    let head = query_head("");
    let sql = format!("INSERT INTO t VALUES ('{}')", "x".repeat(70_000));
    let tail = compressed_tail(sql.as_bytes());
    assert_eq!(tail[0], 0x83, "three length bytes");
    let plain = rebuild(&event(&fde, 165, &join(&head, &tail), 900)).unwrap();
    assert_eq!(plain, event(&fde, 2, &join(&head, sql.as_bytes()), 0));
    assert_eq!(
        plain.header().event_size() as usize,
        19 + head.len() + sql.len()
    );
}

/// Rebuilds a Write_rows_compressed_v1 event whose tail is `tail` and returns the error.
fn rows_error(tail: &[u8]) -> String {
    let fde = fde(true);
    let head = rows_head(42, 2, false, false);
    rebuild(&event(&fde, 166, &join(&head, tail), 500))
        .map(|_| ())
        .expect_err("malformed")
}

#[test]
fn damaged_compressed_data_is_an_error_that_says_what_is_wrong() {
    let rows = [int_row(1, 2), int_row(3, 4)].concat();
    let good = compressed_tail(&rows);
    let with_header = |b: u8| join(&[b], &good[1..]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("no flag", with_header(0x01), "lacks the compression flag"),
        ("algorithm 1", with_header(0x91), "algorithm 1"),
        ("no length bytes", with_header(0x80), "gives 0 length bytes"),
        (
            "five length bytes",
            with_header(0x85),
            "gives 5 length bytes",
        ),
        (
            "declared longer",
            join(&[0x81, rows.len() as u8 + 1], &good[2..]),
            "decompresses to 18 bytes, not the declared 19",
        ),
        (
            "declared shorter",
            join(&[0x81, rows.len() as u8 - 1], &good[2..]),
            "18 bytes, not the declared 17",
        ),
        (
            "declared zero",
            join(&[0x81, 0], &good[2..]),
            "uncompressed length of 0",
        ),
        (
            "truncated zlib",
            good[..good.len() - 6].to_vec(),
            "truncated",
        ),
        ("only the header", good[..2].to_vec(), "truncated"),
        (
            "cut in the length",
            vec![0x84, 0, 0],
            "ends inside its length",
        ),
        (
            "corrupt zlib",
            {
                let mut g = good.clone();
                g[2] ^= 0xff; // the zlib stream's first header byte
                g
            },
            "zlib data is corrupt",
        ),
        (
            "trailing bytes",
            join(&good, &[1, 2, 3]),
            "3 bytes follow the end of the zlib data",
        ),
    ];
    for (what, tail, want) in cases {
        let err = rows_error(&tail);
        assert!(err.contains(want), "{what}: {err}");
    }
}

#[test]
fn a_declared_length_is_never_trusted_for_memory() {
    // Over the cap: refused before anything is decompressed.
    let err = rows_error(&[0x84, 0x40, 0, 0, 1, 0x78, 0x9c]);
    assert!(
        err.contains(&format!(
            "more than the {MAX_UNCOMPRESSED} an event may hold"
        )),
        "{err}"
    );
    // A small declared length with a stream that inflates to 16 MiB stops right after the
    // declared length.
    let bomb = zlib(&vec![0u8; 16 << 20]);
    let err = rows_error(&join(&[0x82, 0x03, 0xe8], &bomb));
    assert!(err.contains("more than the declared 1000 bytes"), "{err}");
}

#[test]
fn damaged_heads_are_errors_too() {
    let fde = fde(true);
    let tail = compressed_tail(&int_row(1, 2));
    // 200 columns' bitmap does not fit before the tail.
    let mut head = rows_head(42, 2, false, false);
    head[8] = 200;
    let err = rebuild(&event(&fde, 166, &join(&head, &tail[..3]), 500))
        .map(|_| ())
        .unwrap_err();
    assert!(err.contains("200 columns"), "{err}");
    // Extra data shorter than its own length field.
    let mut head = rows_head(42, 2, true, false);
    head[8] = 1;
    let err = rebuild(&event(&fde, 169, &join(&head, &tail), 500))
        .map(|_| ())
        .unwrap_err();
    assert!(err.contains("extra data length is 1"), "{err}");
    // A query whose status variables run past the body.
    let mut head = query_head("db");
    head[11] = 200;
    let err = rebuild(&event(&fde, 165, &join(&head, &tail), 500))
        .map(|_| ())
        .unwrap_err();
    assert!(
        err.contains("no room for the compressed statement"),
        "{err}"
    );
    // A format description that gives the compressed type another post-header length.
    let odd = {
        let mut lens = fde.event_type_header_lengths().to_vec();
        lens[165] = 10;
        fde.clone().with_event_type_header_lengths(lens)
    };
    let head = rows_head(42, 2, false, false);
    let err = rebuild(&event(&odd, 166, &join(&head, &tail), 500))
        .map(|_| ())
        .unwrap_err();
    assert!(err.contains("post-header of 10 bytes"), "{err}");
}

fn handler(include: &[&str]) -> EventHandler {
    let include: Vec<String> = include.iter().map(|s| s.to_string()).collect();
    EventHandler::new(
        Filter::new(&include, &[]).unwrap(),
        &SourceOffset {
            binlog: BinlogPosition::new("bin.000001".to_string(), 4),
            gtid_set: None,
            skip_rows: 0,
        },
        HandlerOptions {
            catalog: Catalog::default(),
            flavor: Some(Flavor::Mariadb),
            include_query: false,
            allow_positional_names: true,
            capture_system_schemas: false,
            ddl: Default::default(),
            failure_mode: Default::default(),
        },
    )
}

/// A TABLE_MAP for `db.table` with two INT columns and no optional metadata.
fn table_map(fde: &FormatDescriptionEvent<'static>, id: u64, table: &str, end: u32) -> Event {
    let mut b = id.to_le_bytes()[..6].to_vec();
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&[2, b'd', b'b', 0]);
    b.push(table.len() as u8);
    b.extend_from_slice(table.as_bytes());
    b.extend_from_slice(&[0, 2, 3, 3, 0, 0]);
    event(fde, 19, &b, end)
}

#[test]
fn the_handler_decodes_compressed_rows_like_plain_ones_at_the_compressed_position() {
    let fde = fde(true);
    let rows = [int_row(1, 2), int_row(3, 4)].concat();
    let head = rows_head(42, 2, false, false);
    let decode = |ev: Event| {
        let mut h = handler(&[]);
        let mut out = Vec::new();
        h.handle(&table_map(&fde, 42, "t", 300), &mut out).unwrap();
        h.handle(&ev, &mut out).unwrap();
        out
    };
    let compressed = decode(event(&fde, 166, &join(&head, &compressed_tail(&rows)), 400));
    let plain = decode(event(&fde, 23, &join(&head, &rows), 400));
    let changes = |out: &[SourceEvent]| -> Vec<(String, u64)> {
        out.iter()
            .filter_map(|e| match e {
                SourceEvent::Change(c) => Some((
                    format!("{:?} {:?} {:?}", c.op, c.before, c.after),
                    c.position.pos,
                )),
                _ => None,
            })
            .collect()
    };
    let (compressed, plain) = (changes(&compressed), changes(&plain));
    assert_eq!(compressed.len(), 2);
    let values = |c: &[(String, u64)]| c.iter().map(|(v, _)| v.clone()).collect::<Vec<_>>();
    assert_eq!(values(&compressed), values(&plain));
    let size = event(&fde, 166, &join(&head, &compressed_tail(&rows)), 400)
        .header()
        .event_size();
    assert_eq!(
        compressed[0].1,
        u64::from(400 - size),
        "the compressed event's start"
    );
}

#[test]
fn a_compressed_ddl_commits_at_the_end_of_the_compressed_event() {
    let fde = fde(true);
    let sql = "CREATE TABLE db.t (id INT PRIMARY KEY, note VARCHAR(200))";
    let ev = event(
        &fde,
        165,
        &join(&query_head("db"), &compressed_tail(sql.as_bytes())),
        1000,
    );
    let start = 1000 - u64::from(ev.header().event_size());
    let mut h = handler(&[]);
    let mut out = Vec::new();
    h.handle(&ev, &mut out).unwrap();
    let Some(SourceEvent::SchemaChange(sc)) = out.first() else {
        panic!("a schema change first: {out:?}");
    };
    assert_eq!(sc.ddl, sql);
    assert_eq!(sc.position.pos, start);
    let Some(SourceEvent::Commit { offset, .. }) = out.last() else {
        panic!("a commit last: {out:?}");
    };
    assert_eq!(offset.binlog.pos, 1000, "after the compressed event");
}

#[test]
fn handler_errors_name_position_type_and_table_and_ignored_tables_are_not_decompressed() {
    let fde = fde(true);
    let head = rows_head(42, 2, false, false);
    let bad = event(
        &fde,
        167,
        &join(&rows_head(42, 2, false, true), &[0x80, 1]),
        700,
    );
    let start = 700 - bad.header().event_size();
    let mut h = handler(&["db\\.t"]);
    let mut out = Vec::new();
    h.handle(&table_map(&fde, 42, "t", 300), &mut out).unwrap();
    let err = h.handle(&bad, &mut out).unwrap_err().to_string();
    assert!(err.contains(&format!("bin.000001:{start}")), "{err}");
    assert!(
        err.contains("Update_rows_compressed_v1 event for table db.t"),
        "{err}"
    );
    assert!(err.contains("gives 0 length bytes"), "{err}");
    // The same damage in a table that is not captured is never looked at.
    h.handle(&table_map(&fde, 43, "other", 800), &mut out)
        .unwrap();
    let mut other = head.clone();
    other[0] = 43;
    let ignored = event(&fde, 166, &join(&other, &[0x80, 1]), 900);
    h.handle(&ignored, &mut out).unwrap();
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn a_compressed_ddl_that_cannot_be_followed_is_re_read_from_after_the_compressed_event() {
    let fde = fde(true);
    let sql = "CREATE TABLE db.t LIKE other.src";
    let ev = event(
        &fde,
        165,
        &join(&query_head("db"), &compressed_tail(sql.as_bytes())),
        1000,
    );
    let mut h = handler(&["db.t"]);
    h.ddl = crate::source::events::DdlState::live(Default::default(), true);
    h.set_row_metadata_setting(Some("MINIMAL"));
    let mut out = Vec::new();
    h.handle(&ev, &mut out).unwrap();
    let pending = h
        .take_reread()
        .expect("the live stream re-reads the table of a compressed DDL too");
    assert_eq!(
        pending.after,
        BinlogPosition::new("bin.000001".to_string(), 1000),
        "later statements are looked for from the end of the compressed event"
    );
    assert_eq!(pending.tables, vec![("db".to_string(), "t".to_string())]);
    assert!(
        out.iter().all(|e| !matches!(e, SourceEvent::Commit { .. })),
        "the statement waits for the re-read: {out:?}"
    );
}
