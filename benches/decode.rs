//! Row-image decode throughput (rows/s) of `RowDecoder` for a representative mixed-type
//! table and for a wide, text-heavy (JSON-free) table.
//!
//! The row images are synthesized here by a small encoder that follows MySQL's binary row
//! format (null bitmap, little-endian integers, big-endian DATETIME2/TIMESTAMP2 packing,
//! binary DECIMAL, length-prefixed strings); the batch is decoded once and checked against
//! the values it was built from before anything is timed.
//!
//! Benches:
//! - `decode/<table>`: one rows event's worth (`ROWS` rows) per iteration; throughput is
//!   rows/s, and with `ROWS = 1000` the reported time in µs equals ns/row.
//! - `decode_row/<table>`: one row per iteration (cycling through the batch); the reported
//!   time is ns/row directly.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rowtide::catalog::table_map::Wire;
use rowtide::decode::{Bitmap, Cursor, RowDecoder};
use rowtide::model::{ColumnDesc, ColumnKind, DateTime, Row, TableDesc, Value};

/// Rows per batch (a rows event's worth).
const ROWS: usize = 1000;

/// A synthesized batch: the rows event's row data, where each row starts, and the values.
struct Batch {
    name: &'static str,
    decoder: RowDecoder,
    present: Vec<u8>,
    data: Vec<u8>,
    offsets: Vec<usize>,
    expected: Vec<Row>,
}

// ---------------------------------------------------------------------------------------
// Encoder: MySQL binary row format, one function per wire layout.
// ---------------------------------------------------------------------------------------

const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

fn put_be(out: &mut Vec<u8>, v: u64, n: usize) {
    out.extend_from_slice(&v.to_be_bytes()[8 - n..]);
}

fn put_le(out: &mut Vec<u8>, v: u64, n: usize) {
    out.extend_from_slice(&v.to_le_bytes()[..n]);
}

/// Binary DECIMAL(precision, scale) of `[-]int_digits.frac_digits` (digit strings with no
/// sign; `frac_digits` has exactly `scale` digits). Returns the canonical text too.
fn put_decimal(
    out: &mut Vec<u8>,
    precision: u8,
    scale: u8,
    negative: bool,
    int_digits: &str,
    frac_digits: &str,
) -> String {
    let intg = (precision - scale) as usize;
    let scale = scale as usize;
    assert!(int_digits.len() <= intg && frac_digits.len() == scale);
    let int_padded = format!("{int_digits:0>intg$}");
    let (intg0, intg0x) = (intg / 9, intg % 9);
    let (frac0, frac0x) = (scale / 9, scale % 9);
    let mut d = Vec::new();
    let group = |d: &mut Vec<u8>, digits: &str| {
        if !digits.is_empty() {
            let v: u64 = digits.parse().unwrap();
            put_be(d, v, DIG2BYTES[digits.len()]);
        }
    };
    group(&mut d, &int_padded[..intg0x]);
    for k in 0..intg0 {
        group(&mut d, &int_padded[intg0x + 9 * k..intg0x + 9 * (k + 1)]);
    }
    for k in 0..frac0 {
        group(&mut d, &frac_digits[9 * k..9 * (k + 1)]);
    }
    group(&mut d, &frac_digits[9 * frac0..9 * frac0 + frac0x]);
    if negative {
        for b in &mut d {
            *b ^= 0xff;
        }
    }
    d[0] ^= 0x80;
    out.extend_from_slice(&d);

    let trimmed = int_digits.trim_start_matches('0');
    let int_part = if trimmed.is_empty() { "0" } else { trimmed };
    let zero = int_part == "0" && frac_digits.bytes().all(|b| b == b'0');
    let mut text = String::new();
    if negative && !zero {
        text.push('-');
    }
    text.push_str(int_part);
    if scale > 0 {
        text.push('.');
        text.push_str(frac_digits);
    }
    text
}

/// DATETIME2(fsp): 5 big-endian bytes of packed YMD-HMS + 0x80_0000_0000, then the fraction.
fn put_datetime2(out: &mut Vec<u8>, fsp: u8, dt: &DateTime) {
    let ym = dt.year as u64 * 13 + dt.month as u64;
    let ymd = (ym << 5) | dt.day as u64;
    let hms = ((dt.hour as u64) << 12) | ((dt.minute as u64) << 6) | dt.second as u64;
    put_be(out, ((ymd << 17) | hms) + 0x80_0000_0000, 5);
    put_frac(out, fsp, dt.micros);
}

/// TIMESTAMP2(fsp): 4 big-endian bytes of seconds, then the fraction.
fn put_timestamp2(out: &mut Vec<u8>, fsp: u8, secs: u32, micros: u32) {
    put_be(out, secs as u64, 4);
    put_frac(out, fsp, micros);
}

/// Fractional seconds: `(fsp + 1) / 2` big-endian bytes.
fn put_frac(out: &mut Vec<u8>, fsp: u8, micros: u32) {
    match fsp {
        0 => {}
        1 | 2 => put_be(out, (micros / 10_000) as u64, 1),
        3 | 4 => put_be(out, (micros / 100) as u64, 2),
        _ => put_be(out, micros as u64, 3),
    }
}

/// DATE: 3 little-endian bytes of `year << 9 | month << 5 | day`.
fn put_date(out: &mut Vec<u8>, year: u16, month: u8, day: u8) {
    put_le(
        out,
        ((year as u64) << 9) | ((month as u64) << 5) | day as u64,
        3,
    );
}

/// VARCHAR/CHAR: 1-byte length when the column's maximum byte length is below 256, else 2.
fn put_varstring(out: &mut Vec<u8>, max_len: u16, s: &str) {
    put_le(out, s.len() as u64, if max_len < 256 { 1 } else { 2 });
    out.extend_from_slice(s.as_bytes());
}

/// BLOB/TEXT: `len_bytes`-byte little-endian length, then the data.
fn put_blob(out: &mut Vec<u8>, len_bytes: u8, s: &str) {
    put_le(out, s.len() as u64, len_bytes as usize);
    out.extend_from_slice(s.as_bytes());
}

/// One row image with every column present: the null bitmap, then each non-NULL value
/// written by `put(column, out)`.
fn put_row(out: &mut Vec<u8>, nulls: &[bool], mut put: impl FnMut(usize, &mut Vec<u8>)) {
    let mut bitmap = vec![0u8; nulls.len().div_ceil(8)];
    for (i, _) in nulls.iter().enumerate().filter(|(_, n)| **n) {
        bitmap[i / 8] |= 1 << (i % 8);
    }
    out.extend_from_slice(&bitmap);
    for (i, null) in nulls.iter().enumerate() {
        if !null {
            put(i, out);
        }
    }
}

fn all_present(n: usize) -> Vec<u8> {
    let mut b = vec![0xffu8; n.div_ceil(8)];
    if !n.is_multiple_of(8) {
        *b.last_mut().unwrap() = (1u8 << (n % 8)) - 1;
    }
    b
}

// ---------------------------------------------------------------------------------------
// The mixed-type table.
// ---------------------------------------------------------------------------------------

const STATUSES: [&str; 5] = ["new", "paid", "packed", "shipped", "cancelled"];
const WORDS: [&str; 12] = [
    "alpha", "Bravo", "charlie", "délta", "echo", "foxtrot", "Gölf", "hotel", "India", "juliett",
    "kilo", "日本",
];

fn phrase(seed: usize, words: usize) -> String {
    let mut s = String::new();
    for k in 0..words {
        if k > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[(seed * 7 + k * 5) % WORDS.len()]);
    }
    s
}

fn mixed() -> Batch {
    let col = |name: &str, kind| ColumnDesc::new(name, kind);
    let mut id = col("id", ColumnKind::BigInt);
    id.nullable = false;
    let mut qty = col("qty", ColumnKind::Int);
    qty.unsigned = true;
    let table = TableDesc {
        db: "shop".into(),
        name: "orders".into(),
        columns: vec![
            id,
            qty,
            col(
                "amount",
                ColumnKind::Decimal {
                    precision: 12,
                    scale: 2,
                },
            ),
            // VARCHAR(64) utf8mb4: 256 bytes, so a 2-byte length prefix.
            col("customer", ColumnKind::VarChar { max_bytes: 256 }),
            col("created", ColumnKind::DateTime { fsp: 6 }),
            col("updated", ColumnKind::Timestamp { fsp: 3 }),
            col(
                "status",
                ColumnKind::Enum {
                    values: STATUSES.iter().map(|s| s.to_string()).collect(),
                },
            ),
            col("note", ColumnKind::Blob { len_bytes: 2 }),
            col("ratio", ColumnKind::Double),
            col("flag", ColumnKind::TinyInt),
            col("ship_date", ColumnKind::Date),
            // VARCHAR(20) utf8mb4, nullable: NULL in every third row.
            col("coupon", ColumnKind::VarChar { max_bytes: 80 }),
        ],
        primary_key: vec![0],
        charset_name: None,
        comment: None,
    };
    let wires = vec![
        Wire::LongLong,
        Wire::Long,
        Wire::NewDecimal {
            precision: 12,
            scale: 2,
        },
        Wire::VarString { max_len: 256 },
        Wire::DateTime2 { fsp: 6 },
        Wire::Timestamp2 { fsp: 3 },
        Wire::Enum { pack_len: 1 },
        Wire::Blob { len_bytes: 2 },
        Wire::Double,
        Wire::Tiny,
        Wire::Date,
        Wire::VarString { max_len: 80 },
    ];
    let n = wires.len();
    let mut data = Vec::new();
    let mut offsets = Vec::with_capacity(ROWS);
    let mut expected = Vec::with_capacity(ROWS);
    for r in 0..ROWS {
        offsets.push(data.len());
        let id = 1_000_000_000_000i64 + r as i64 * 7919;
        let qty = (r as u32).wrapping_mul(2_654_435_761);
        let negative = r % 10 == 3;
        let int_digits = format!("{}", (r as u64 * 9_876_543_211) % 10_000_000_000);
        let frac_digits = format!("{:02}", r % 100);
        let customer = format!("{} #{r}", phrase(r, 2));
        let created = DateTime {
            year: 2020 + (r % 6) as u16,
            month: 1 + (r % 12) as u8,
            day: 1 + (r % 28) as u8,
            hour: (r % 24) as u8,
            minute: (r * 7 % 60) as u8,
            second: (r * 13 % 60) as u8,
            micros: (r as u32 * 104_729) % 1_000_000,
        };
        let secs = 1_700_000_000u32 + r as u32 * 61;
        let micros = (r as u32 % 1000) * 1000;
        let status = r % (STATUSES.len() + 1); // 0 is the empty (invalid) ENUM value
        let note = phrase(r + 3, 3 + r % 10);
        let ratio = r as f64 / 7.0 - 30.0;
        let flag = (r % 256) as u8 as i8;
        let (sy, sm, sd) = (2024u16, 1 + (r % 12) as u8, 1 + (r % 28) as u8);
        let coupon = (r % 3 != 0).then(|| format!("SAVE{}", r % 50));

        let mut nulls = vec![false; n];
        nulls[11] = coupon.is_none();
        let mut dec_text = String::new();
        put_row(&mut data, &nulls, |i, out| match i {
            0 => put_le(out, id as u64, 8),
            1 => put_le(out, qty as u64, 4),
            2 => dec_text = put_decimal(out, 12, 2, negative, &int_digits, &frac_digits),
            3 => put_varstring(out, 256, &customer),
            4 => put_datetime2(out, 6, &created),
            5 => put_timestamp2(out, 3, secs, micros),
            6 => put_le(out, status as u64, 1),
            7 => put_blob(out, 2, &note),
            8 => put_le(out, ratio.to_bits(), 8),
            9 => put_le(out, flag as u8 as u64, 1),
            10 => put_date(out, sy, sm, sd),
            11 => put_varstring(out, 80, coupon.as_deref().unwrap()),
            _ => unreachable!(),
        });
        expected.push(vec![
            Value::Int(id),
            Value::UInt(qty as u64),
            Value::Decimal(dec_text),
            Value::String(customer),
            Value::DateTime(created),
            Value::Timestamp {
                secs: secs as i64,
                micros,
            },
            Value::String(if status == 0 {
                String::new()
            } else {
                STATUSES[status - 1].to_string()
            }),
            Value::String(note),
            Value::Double(ratio),
            Value::Int(flag as i64),
            Value::Date {
                year: sy,
                month: sm,
                day: sd,
            },
            coupon.map_or(Value::Null, Value::String),
        ]);
    }
    Batch {
        name: "mixed_12col",
        decoder: RowDecoder::new(Arc::new(table), wires),
        present: all_present(n),
        data,
        offsets,
        expected,
    }
}

// ---------------------------------------------------------------------------------------
// The wide text table: BIGINT key, 10 × VARCHAR(255) utf8mb4, 5 × TEXT; no JSON.
// ---------------------------------------------------------------------------------------

fn wide_text() -> Batch {
    const VARCHARS: usize = 10;
    const TEXTS: usize = 5;
    let mut columns = vec![ColumnDesc::new("id", ColumnKind::BigInt)];
    columns[0].nullable = false;
    let mut wires = vec![Wire::LongLong];
    for k in 0..VARCHARS {
        columns.push(ColumnDesc::new(
            format!("v{k}"),
            ColumnKind::VarChar { max_bytes: 1020 },
        ));
        wires.push(Wire::VarString { max_len: 1020 });
    }
    for k in 0..TEXTS {
        columns.push(ColumnDesc::new(
            format!("t{k}"),
            ColumnKind::Blob { len_bytes: 2 },
        ));
        wires.push(Wire::Blob { len_bytes: 2 });
    }
    let table = TableDesc {
        db: "crm".into(),
        name: "contacts".into(),
        columns,
        primary_key: vec![0],
        charset_name: None,
        comment: None,
    };
    let n = wires.len();
    let mut data = Vec::new();
    let mut offsets = Vec::with_capacity(ROWS);
    let mut expected = Vec::with_capacity(ROWS);
    for r in 0..ROWS {
        offsets.push(data.len());
        let id = r as i64 + 1;
        let texts: Vec<Option<String>> = (1..n)
            .map(|i| {
                // A NULL now and then, short VARCHARs, longer TEXTs.
                if (r + i) % 11 == 0 {
                    None
                } else if i <= VARCHARS {
                    Some(phrase(r * 3 + i, 2 + (r + i) % 6))
                } else {
                    Some(phrase(r * 5 + i, 10 + (r + i) % 30))
                }
            })
            .collect();
        let mut nulls = vec![false; n];
        for (i, t) in texts.iter().enumerate() {
            nulls[i + 1] = t.is_none();
        }
        put_row(&mut data, &nulls, |i, out| match i {
            0 => put_le(out, id as u64, 8),
            i if i <= VARCHARS => put_varstring(out, 1020, texts[i - 1].as_deref().unwrap()),
            i => put_blob(out, 2, texts[i - 1].as_deref().unwrap()),
        });
        let mut row = vec![Value::Int(id)];
        row.extend(
            texts
                .into_iter()
                .map(|t| t.map_or(Value::Null, Value::String)),
        );
        expected.push(row);
    }
    Batch {
        name: "wide_text_16col",
        decoder: RowDecoder::new(Arc::new(table), wires),
        present: all_present(n),
        data,
        offsets,
        expected,
    }
}

// ---------------------------------------------------------------------------------------

impl Batch {
    /// Decodes the whole batch the way the source does for a WRITE_ROWS event.
    fn decode_all(&self) -> usize {
        let present = Bitmap::new(&self.present);
        let mut cur = Cursor::new(&self.data);
        let mut rows = 0;
        while !cur.is_empty() {
            let row = self
                .decoder
                .decode_row(&mut cur, present, None, None)
                .expect("decode");
            black_box(row);
            rows += 1;
        }
        rows
    }

    /// Decodes once and checks every value against what the batch was built from.
    fn verify(&self) {
        let present = Bitmap::new(&self.present);
        let mut cur = Cursor::new(&self.data);
        for (r, want) in self.expected.iter().enumerate() {
            assert_eq!(cur.pos, self.offsets[r], "{}: row {r} starts", self.name);
            let got = self
                .decoder
                .decode_row(&mut cur, present, None, None)
                .unwrap_or_else(|e| panic!("{}: row {r}: {e:?}", self.name));
            assert_eq!(&got, want, "{}: row {r}", self.name);
        }
        assert!(cur.is_empty(), "{}: bytes left after the batch", self.name);
        assert_eq!(self.decode_all(), ROWS);
    }
}

#[path = "support/alloc_count.rs"]
mod alloc_count;

#[global_allocator]
static ALLOC: alloc_count::Counting = alloc_count::Counting;

fn bench(c: &mut Criterion) {
    let batches = [mixed(), wide_text()];
    for b in &batches {
        b.verify();
    }
    // Spot-check the encoder's less obvious corners against known values.
    assert_eq!(
        batches[0].expected[3][2],
        Value::Decimal("-9629629633.03".into())
    );
    assert_eq!(
        batches[0].expected[0][6],
        Value::String(String::new()),
        "ENUM index 0 is the empty string"
    );

    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(ROWS as u64));
    for b in &batches {
        g.bench_function(b.name, |bench| bench.iter(|| b.decode_all()));
    }
    g.finish();

    for b in &batches {
        let present = Bitmap::new(&b.present);
        let mut r = 0;
        alloc_count::report(&format!("decode_row/{}", b.name), 10_000, || {
            let mut cur = Cursor::new(&b.data);
            cur.pos = b.offsets[r];
            r = if r + 1 == ROWS { 0 } else { r + 1 };
            b.decoder
                .decode_row(&mut cur, present, None, None)
                .expect("decode");
        });
    }

    let mut g = c.benchmark_group("decode_row");
    g.throughput(Throughput::Elements(1));
    for b in &batches {
        let present = Bitmap::new(&b.present);
        let mut r = 0;
        g.bench_function(b.name, |bench| {
            bench.iter(|| {
                let mut cur = Cursor::new(&b.data);
                cur.pos = b.offsets[r];
                r = if r + 1 == ROWS { 0 } else { r + 1 };
                b.decoder
                    .decode_row(&mut cur, present, None, None)
                    .expect("decode")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
