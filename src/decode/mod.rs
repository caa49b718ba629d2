//! Decoding row images: one arm per wire type, straight from the rows event's bytes into
//! [`Value`]s, with the column's charset, signedness and ENUM/SET labels from the table's
//! description. Nothing here panics on bad bytes: a short buffer, an out-of-range ENUM
//! index or text that is not valid in its charset is an error naming the column.

use std::sync::Arc;

pub mod compressed;
pub mod json;
pub mod text_form;

use crate::catalog::table_map::Wire;
use crate::model::{Charset, ColumnDesc, ColumnKind, DateTime, Declared, Row, TableDesc, Value};

/// Why a value could not be decoded: the column index and a reason.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    pub column: usize,
    pub reason: String,
}

/// A table's row decoder, built once per table map and reused for every row.
#[derive(Debug)]
pub struct RowDecoder {
    pub table: Arc<TableDesc>,
    pub wires: Vec<Wire>,
    /// Indexes of MySQL binary-JSON columns, in order (partial-update bitmaps count these).
    json_columns: Vec<usize>,
    /// Per column, what its declared type adds (UUID/INET values become their text form).
    declared: Vec<Declared>,
}

/// A byte cursor over a rows event's data.
pub struct Cursor<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        match end {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(format!(
                "row image ends early: need {n} bytes at offset {}, {} left",
                self.pos,
                self.buf.len().saturating_sub(self.pos)
            )),
        }
    }

    fn le(&mut self, n: usize) -> Result<u64, String> {
        let b = self.take(n)?;
        Ok(b.iter().rev().fold(0u64, |acc, x| (acc << 8) | *x as u64))
    }

    fn be(&mut self, n: usize) -> Result<u64, String> {
        let b = self.take(n)?;
        Ok(b.iter().fold(0u64, |acc, x| (acc << 8) | *x as u64))
    }

    /// MySQL's length-encoded integer.
    pub fn lenenc(&mut self) -> Result<u64, String> {
        let first = self.take(1)?[0];
        match first {
            0xfc => self.le(2),
            0xfd => self.le(3),
            0xfe => self.le(8),
            x => Ok(x as u64),
        }
    }
}

/// A view of a column bitmap (bit i set: column i is in the image).
#[derive(Clone, Copy)]
pub struct Bitmap<'a> {
    bytes: &'a [u8],
}

impl<'a> Bitmap<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }
    pub fn get(&self, i: usize) -> bool {
        self.bytes
            .get(i / 8)
            .is_some_and(|b| b & (1 << (i % 8)) != 0)
    }
    pub fn count_ones(&self, n: usize) -> usize {
        (0..n).filter(|&i| self.get(i)).count()
    }
}

impl RowDecoder {
    pub fn new(table: Arc<TableDesc>, wires: Vec<Wire>) -> Self {
        let json_columns = wires
            .iter()
            .enumerate()
            .filter(|(_, w)| matches!(w, Wire::Json { .. }))
            .map(|(i, _)| i)
            .collect();
        let declared = table.columns.iter().map(ColumnDesc::declared).collect();
        Self {
            table,
            wires,
            json_columns,
            declared,
        }
    }

    pub fn json_column_count(&self) -> usize {
        self.json_columns.len()
    }

    /// Decodes one row image. `present` says which columns the image holds (absent columns
    /// read as NULL, which only happens with `binlog_row_image` other than FULL).
    /// `partial` marks MySQL JSON columns that hold a diff against `before`.
    pub fn decode_row(
        &self,
        cur: &mut Cursor<'_>,
        present: Bitmap<'_>,
        partial: Option<Bitmap<'_>>,
        before: Option<&Row>,
    ) -> Result<Row, DecodeError> {
        let n = self.wires.len();
        let n_present = present.count_ones(n);
        let nulls = Bitmap::new(
            cur.take(n_present.div_ceil(8))
                .map_err(|reason| DecodeError { column: 0, reason })?,
        );
        let mut row = Vec::with_capacity(n);
        let mut image_idx = 0;
        let mut json_idx = 0;
        for (i, wire) in self.wires.iter().enumerate() {
            let is_json = matches!(wire, Wire::Json { .. });
            let is_partial = is_json && partial.is_some_and(|p| p.get(json_idx));
            if is_json {
                json_idx += 1;
            }
            if !present.get(i) {
                row.push(Value::Null);
                continue;
            }
            let is_null = nulls.get(image_idx);
            image_idx += 1;
            if is_null {
                row.push(Value::Null);
                continue;
            }
            let v = if is_partial {
                self.decode_partial_json(cur, *wire, before.and_then(|b| b.get(i)))
            } else {
                self.decode_value(cur, i, *wire)
            }
            .map_err(|reason| DecodeError { column: i, reason })?;
            row.push(v);
        }
        Ok(row)
    }

    fn decode_partial_json(
        &self,
        cur: &mut Cursor<'_>,
        wire: Wire,
        before: Option<&Value>,
    ) -> Result<Value, String> {
        let Wire::Json { len_bytes } = wire else {
            return Err("partial update on a non-JSON column".into());
        };
        let len = cur.le(len_bytes as usize)? as usize;
        let diffs = cur.take(len)?;
        match before {
            Some(Value::Json(b)) => Ok(Value::Json(json::apply_diffs(b, diffs)?)),
            _ => Err("partial JSON update without a JSON before image".into()),
        }
    }

    /// Decodes one present, non-NULL value of column `i`: a single dispatch on the wire
    /// type into the helper for its type family.
    fn decode_value(&self, cur: &mut Cursor<'_>, i: usize, wire: Wire) -> Result<Value, String> {
        let col = &self.table.columns[i];
        let unsigned = col.unsigned;
        match wire {
            Wire::Tiny => Ok(int(cur.le(1)?, 1, unsigned)),
            Wire::Short => Ok(int(cur.le(2)?, 2, unsigned)),
            Wire::Int24 => Ok(int(cur.le(3)?, 3, unsigned)),
            Wire::Long => Ok(int(cur.le(4)?, 4, unsigned)),
            Wire::LongLong => Ok(int(cur.le(8)?, 8, unsigned)),
            Wire::Float => Ok(Value::Float(f32::from_bits(cur.le(4)? as u32))),
            Wire::Double => Ok(Value::Double(f64::from_bits(cur.le(8)?))),
            Wire::NewDecimal { precision, scale } => decimal(cur, precision, scale),
            Wire::Year => year(cur),
            Wire::Date => date(cur),
            Wire::Time => time(cur),
            Wire::Time2 { fsp } => Ok(Value::Time(json::time_from_packed(read_time2(cur, fsp)?))),
            Wire::DateTime => datetime(cur),
            Wire::DateTime2 { fsp } => datetime2(cur, fsp),
            Wire::Timestamp => Ok(Value::Timestamp {
                secs: cur.le(4)? as i64,
                micros: 0,
            }),
            Wire::Timestamp2 { fsp } => timestamp2(cur, fsp),
            Wire::Bit { bits } => bit(cur, bits),
            Wire::FixedString { .. } if self.declared[i].is_text_form() => {
                text_form_value(cur, self.declared[i])
            }
            Wire::VarString { max_len } | Wire::FixedString { max_len } => {
                string(cur, wire, max_len, col)
            }
            Wire::CompressedVarString { max_len } => {
                let len = cur.le(if max_len < 256 { 1 } else { 2 })? as usize;
                // The stored maximum counts the header byte.
                let max = max_len.saturating_sub(1) as u64;
                let bytes = compressed::unpack(cur.take(len)?, max)?;
                text_or_bytes(&bytes, col.charset)
            }
            Wire::CompressedBlob { len_bytes } => {
                let max = (1u64 << (8 * len_bytes as u32)) - 1;
                blob(&compressed::unpack(prefixed(cur, len_bytes)?, max)?, col)
            }
            Wire::Enum { pack_len } => enum_label(cur, pack_len, col),
            Wire::Set { pack_len } => set_labels(cur, pack_len, col),
            Wire::Blob { len_bytes } => blob(prefixed(cur, len_bytes)?, col),
            Wire::Json { len_bytes } => {
                Ok(Value::Json(json::jsonb_to_text(prefixed(cur, len_bytes)?)?))
            }
            Wire::Geometry { len_bytes } => geometry(prefixed(cur, len_bytes)?),
            Wire::Vector { len_bytes } => vector(prefixed(cur, len_bytes)?),
        }
    }
}

/// An integer of `width` bytes, sign-extended unless the column is unsigned.
#[inline]
fn int(raw: u64, width: u32, unsigned: bool) -> Value {
    if unsigned {
        Value::UInt(raw)
    } else {
        let shift = 64 - width * 8;
        Value::Int(((raw << shift) as i64) >> shift)
    }
}

/// A binary DECIMAL as canonical text.
#[inline]
fn decimal(cur: &mut Cursor<'_>, precision: u8, scale: u8) -> Result<Value, String> {
    let (text, used) = read_decimal(&cur.buf[cur.pos..], precision, scale)?;
    cur.take(used)?;
    Ok(Value::Decimal(text))
}

/// YEAR: one byte past 1900 (0 stays 0).
#[inline]
fn year(cur: &mut Cursor<'_>) -> Result<Value, String> {
    let y = cur.le(1)? as u16;
    Ok(Value::Year(if y == 0 { 0 } else { 1900 + y }))
}

/// DATE: `year << 9 | month << 5 | day` in 3 bytes.
#[inline]
fn date(cur: &mut Cursor<'_>) -> Result<Value, String> {
    let v = cur.le(3)?;
    Ok(Value::Date {
        year: (v >> 9) as u16,
        month: ((v >> 5) & 15) as u8,
        day: (v & 31) as u8,
    })
}

/// Old TIME: signed HHMMSS in 3 bytes, as micros.
#[inline]
fn time(cur: &mut Cursor<'_>) -> Result<Value, String> {
    let raw = cur.le(3)? as i64;
    let v = if raw & 0x80_0000 != 0 {
        raw - 0x100_0000
    } else {
        raw
    };
    let a = v.abs();
    let secs = (a / 10000) * 3600 + ((a / 100) % 100) * 60 + a % 100;
    Ok(Value::Time(v.signum() * secs * 1_000_000))
}

/// Old DATETIME: YYYYMMDDhhmmss as a little-endian 8-byte integer.
#[inline]
fn datetime(cur: &mut Cursor<'_>) -> Result<Value, String> {
    let v = cur.le(8)?;
    let (d, t) = (v / 1_000_000, v % 1_000_000);
    Ok(Value::DateTime(DateTime {
        year: (d / 10000) as u16,
        month: ((d / 100) % 100) as u8,
        day: (d % 100) as u8,
        hour: (t / 10000) as u8,
        minute: ((t / 100) % 100) as u8,
        second: (t % 100) as u8,
        micros: 0,
    }))
}

/// DATETIME2: 5 big-endian bytes of packed date and time, then the fraction.
#[inline]
fn datetime2(cur: &mut Cursor<'_>, fsp: u8) -> Result<Value, String> {
    let int_part = cur.be(5)? as i64 - 0x80_0000_0000;
    let frac = read_frac(cur, fsp)?;
    let packed = (int_part << 24) + frac as i64;
    Ok(Value::DateTime(json::datetime_from_packed(packed)))
}

/// TIMESTAMP2: big-endian epoch seconds, then the fraction.
#[inline]
fn timestamp2(cur: &mut Cursor<'_>, fsp: u8) -> Result<Value, String> {
    let secs = cur.be(4)? as i64;
    let micros = read_frac(cur, fsp)?;
    Ok(Value::Timestamp { secs, micros })
}

/// BIT(n): big-endian, at most 64 bits.
#[inline]
fn bit(cur: &mut Cursor<'_>, bits: u16) -> Result<Value, String> {
    let n = (bits as usize).div_ceil(8);
    if n > 8 {
        return Err(format!("BIT({bits}) is wider than 64 bits"));
    }
    Ok(Value::Bit(cur.be(n)?))
}

/// CHAR/VARCHAR/BINARY/VARBINARY: a 1- or 2-byte length, then the bytes (BINARY(n)
/// zero-padded back to its width).
#[inline]
fn string(
    cur: &mut Cursor<'_>,
    wire: Wire,
    max_len: u16,
    col: &ColumnDesc,
) -> Result<Value, String> {
    let len = if max_len < 256 {
        cur.le(1)?
    } else {
        cur.le(2)?
    } as usize;
    let bytes = cur.take(len)?;
    if let (Wire::FixedString { .. }, ColumnKind::Char { max_bytes }) = (wire, &col.kind) {
        if col.charset.is_binary() && bytes.len() < *max_bytes as usize {
            // BINARY(n) is zero-padded; the binlog drops the trailing zeros.
            let mut v = bytes.to_vec();
            v.resize(*max_bytes as usize, 0);
            return Ok(Value::Bytes(v));
        }
    }
    text_or_bytes(bytes, col.charset)
}

/// MariaDB UUID/INET4/INET6 (BINARY(16)/BINARY(4) on the wire, trailing zero bytes
/// dropped): the server's text form of the zero-padded bytes.
#[inline]
fn text_form_value(cur: &mut Cursor<'_>, declared: Declared) -> Result<Value, String> {
    let len = cur.le(1)? as usize;
    let bytes = cur.take(len)?;
    let full = declared.binary_len().unwrap_or(0);
    if bytes.len() > full {
        return Err(format!(
            "a {declared:?} value of {} bytes, more than {full}",
            bytes.len()
        ));
    }
    let mut padded = [0u8; 16];
    padded[..bytes.len()].copy_from_slice(bytes);
    text_form::text_form(declared, &padded[..full]).map(Value::String)
}

/// ENUM: the 1-based label index, as its label.
#[inline]
fn enum_label(cur: &mut Cursor<'_>, pack_len: u8, col: &ColumnDesc) -> Result<Value, String> {
    let idx = cur.le(pack_len as usize)? as usize;
    match &col.kind {
        // No labels known (positional replay of MINIMAL metadata): the index.
        ColumnKind::Enum { values } if values.is_empty() => Ok(Value::UInt(idx as u64)),
        ColumnKind::Enum { values } => {
            if idx == 0 {
                Ok(Value::String(String::new()))
            } else {
                Ok(Value::String(values.get(idx - 1).cloned().ok_or_else(
                    || {
                        format!(
                            "ENUM index {idx} but the column has {} labels",
                            values.len()
                        )
                    },
                )?))
            }
        }
        _ => Err("ENUM value for a column not known as ENUM".into()),
    }
}

/// SET: a bitmask of labels, as the comma-separated labels.
#[inline]
fn set_labels(cur: &mut Cursor<'_>, pack_len: u8, col: &ColumnDesc) -> Result<Value, String> {
    let bits = cur.le(pack_len as usize)?;
    match &col.kind {
        // No labels known (positional replay of MINIMAL metadata): the bitmask.
        ColumnKind::Set { values } if values.is_empty() => Ok(Value::UInt(bits)),
        ColumnKind::Set { values } => {
            let mut s = String::new();
            for b in 0..64 {
                if bits & (1u64 << b) != 0 {
                    let label = values.get(b).ok_or_else(|| {
                        format!("SET bit {b} but the column has {} labels", values.len())
                    })?;
                    if !s.is_empty() {
                        s.push(',');
                    }
                    s.push_str(label);
                }
            }
            Ok(Value::String(s))
        }
        _ => Err("SET value for a column not known as SET".into()),
    }
}

/// The bytes after a `len_bytes`-byte little-endian length prefix.
#[inline(always)]
fn prefixed<'a>(cur: &mut Cursor<'a>, len_bytes: u8) -> Result<&'a [u8], String> {
    let len = cur.le(len_bytes as usize)? as usize;
    cur.take(len)
}

/// BLOB/TEXT: text in the column's charset, bytes when binary, JSON text for MariaDB's
/// JSON (logged as LONGTEXT).
#[inline]
fn blob(bytes: &[u8], col: &ColumnDesc) -> Result<Value, String> {
    if col.kind == ColumnKind::Json {
        // MariaDB logs JSON as LONGTEXT.
        Ok(Value::Json(
            std::str::from_utf8(bytes)
                .map_err(|_| "JSON text that is not UTF-8".to_string())?
                .to_owned(),
        ))
    } else {
        text_or_bytes(bytes, col.charset)
    }
}

/// GEOMETRY: a little-endian SRID, then WKB.
#[inline]
fn geometry(bytes: &[u8]) -> Result<Value, String> {
    if bytes.len() < 4 {
        return Err("GEOMETRY value shorter than its SRID".into());
    }
    Ok(Value::Geometry {
        srid: u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
        wkb: bytes[4..].to_vec(),
    })
}

/// VECTOR: little-endian f32s.
#[inline]
fn vector(bytes: &[u8]) -> Result<Value, String> {
    if !bytes.len().is_multiple_of(4) {
        return Err("VECTOR value whose length is not a multiple of 4".into());
    }
    Ok(Value::Vector(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    ))
}

/// Text in the charset, or the bytes themselves when the charset is binary.
fn text_or_bytes(bytes: &[u8], cs: Charset) -> Result<Value, String> {
    if cs.is_binary() {
        Ok(Value::Bytes(bytes.to_vec()))
    } else {
        cs.decode(bytes).map(Value::String)
    }
}

/// Fractional seconds of TIMESTAMP2/DATETIME2 (big-endian, `(fsp+1)/2` bytes) as micros.
fn read_frac(cur: &mut Cursor<'_>, fsp: u8) -> Result<u32, String> {
    Ok(match fsp {
        0 => 0,
        1 | 2 => cur.be(1)? as u32 * 10_000,
        3 | 4 => cur.be(2)? as u32 * 100,
        5 | 6 => cur.be(3)? as u32,
        _ => return Err(format!("fractional-second precision {fsp} is out of range")),
    })
}

/// TIME2 to MySQL's packed in-memory TIME (see `my_time_packed_from_binary`).
fn read_time2(cur: &mut Cursor<'_>, fsp: u8) -> Result<i64, String> {
    const INT_OFS: i64 = 0x80_0000;
    Ok(match fsp {
        0 => (cur.be(3)? as i64 - INT_OFS) << 24,
        1 | 2 => {
            let mut int_part = cur.be(3)? as i64 - INT_OFS;
            let mut frac = cur.be(1)? as i64;
            if int_part < 0 && frac != 0 {
                int_part += 1;
                frac -= 0x100;
            }
            (int_part << 24) + frac * 10_000
        }
        3 | 4 => {
            let mut int_part = cur.be(3)? as i64 - INT_OFS;
            let mut frac = cur.be(2)? as i64;
            if int_part < 0 && frac != 0 {
                int_part += 1;
                frac -= 0x10000;
            }
            (int_part << 24) + frac * 100
        }
        5 | 6 => cur.be(6)? as i64 - 0x8000_0000_0000,
        _ => return Err(format!("fractional-second precision {fsp} is out of range")),
    })
}

const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/// Decodes MySQL's binary DECIMAL into canonical text; returns the text and the number of
/// bytes it used.
pub fn read_decimal(buf: &[u8], precision: u8, scale: u8) -> Result<(String, usize), String> {
    if scale > precision || precision > 65 {
        return Err(format!("DECIMAL({precision},{scale}) is not a valid type"));
    }
    let intg = (precision - scale) as usize;
    let (intg0, intg0x) = (intg / 9, intg % 9);
    let (frac0, frac0x) = (scale as usize / 9, scale as usize % 9);
    let size = intg0 * 4 + DIG2BYTES[intg0x] + frac0 * 4 + DIG2BYTES[frac0x];
    if buf.len() < size {
        return Err(format!(
            "DECIMAL({precision},{scale}) needs {size} bytes, {} left",
            buf.len()
        ));
    }
    if size == 0 {
        return Ok(("0".into(), 0));
    }
    let mut d = [0u8; 40];
    d[..size].copy_from_slice(&buf[..size]);
    let negative = d[0] & 0x80 == 0;
    d[0] ^= 0x80;
    if negative {
        for b in &mut d[..size] {
            *b ^= 0xff;
        }
    }
    let mut pos = 0;
    let mut word = |n: usize| -> u32 {
        let v = d[pos..pos + n]
            .iter()
            .fold(0u32, |a, b| (a << 8) | *b as u32);
        pos += n;
        v
    };
    // Digits go into stack buffers (at most 65 of them) and the text is built once: this
    // runs for every DECIMAL value, so no per-group `format!`.
    let check = |v: u32, digits: usize| -> Result<(), String> {
        if (v as u64) >= 10u64.pow(digits as u32) {
            Err(format!("corrupt DECIMAL({precision},{scale}) digits"))
        } else {
            Ok(())
        }
    };
    // `v` zero-padded to exactly `width` digits (`check` has bounded it).
    fn put_digits(buf: &mut [u8], len: &mut usize, mut v: u32, width: usize) {
        for slot in buf[*len..*len + width].iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
        *len += width;
    }
    let (mut int_digits, mut int_len) = ([0u8; 72], 0);
    if intg0x > 0 {
        let v = word(DIG2BYTES[intg0x]);
        check(v, intg0x)?;
        put_digits(&mut int_digits, &mut int_len, v, intg0x);
    }
    for _ in 0..intg0 {
        let v = word(4);
        check(v, 9)?;
        put_digits(&mut int_digits, &mut int_len, v, 9);
    }
    let (mut frac_digits, mut frac_len) = ([0u8; 72], 0);
    for _ in 0..frac0 {
        let v = word(4);
        check(v, 9)?;
        put_digits(&mut frac_digits, &mut frac_len, v, 9);
    }
    if frac0x > 0 {
        let v = word(DIG2BYTES[frac0x]);
        check(v, frac0x)?;
        put_digits(&mut frac_digits, &mut frac_len, v, frac0x);
    }
    let int_digits = &int_digits[..int_len];
    let frac_digits = &frac_digits[..frac_len];
    let lead = int_digits.iter().take_while(|&&b| b == b'0').count();
    let int_part: &[u8] = if lead == int_digits.len() {
        b"0"
    } else {
        &int_digits[lead..]
    };
    let is_zero = int_part == b"0" && frac_digits.iter().all(|&b| b == b'0');
    let mut out = Vec::with_capacity(int_part.len() + frac_digits.len() + 2);
    if negative && !is_zero {
        out.push(b'-');
    }
    out.extend_from_slice(int_part);
    if scale > 0 {
        out.push(b'.');
        out.extend_from_slice(frac_digits);
    }
    let out = String::from_utf8(out).expect("DECIMAL text is ASCII digits");
    Ok((out, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_vectors() {
        // DECIMAL(10,4): 6 integer digits in 3 bytes, 4 fraction digits in 2 bytes.
        // 1234.5678 -> 0x80 0x04 0xd2 | 0x16 0x2e (sign bit set for non-negative).
        let (s, n) = read_decimal(&[0x80, 0x04, 0xd2, 0x16, 0x2e, 0xff], 10, 4).unwrap();
        assert_eq!((s.as_str(), n), ("1234.5678", 5));
        // Negative values are the bitwise complement.
        let neg = [0x7f, 0xfb, 0x2d, 0xe9, 0xd1];
        let (s, _) = read_decimal(&neg, 10, 4).unwrap();
        assert_eq!(s, "-1234.5678");
        // DECIMAL(5,0) 0 -> 0x80 0x00 0x00
        assert_eq!(read_decimal(&[0x80, 0, 0], 5, 0).unwrap().0, "0");
        assert!(read_decimal(&[0x80], 10, 4).is_err());
    }

    #[test]
    fn decimal_widest_and_negative_zero() {
        // DECIMAL(65,30): 8 leading integer digits in 4 bytes, three 9-digit integer
        // groups, three 9-digit fraction groups, then 3 fraction digits in 2 bytes.
        let mut max = vec![0x05, 0xf5, 0xe0, 0xff];
        for _ in 0..6 {
            max.extend_from_slice(&[0x3b, 0x9a, 0xc9, 0xff]);
        }
        max.extend_from_slice(&[0x03, 0xe7]);
        let mut pos = max.clone();
        pos[0] ^= 0x80;
        let nines = format!("{}.{}", "9".repeat(35), "9".repeat(30));
        assert_eq!(read_decimal(&pos, 65, 30).unwrap(), (nines.clone(), 30));
        let mut neg: Vec<u8> = max.iter().map(|b| b ^ 0xff).collect();
        neg[0] ^= 0x80;
        assert_eq!(read_decimal(&neg, 65, 30).unwrap().0, format!("-{nines}"));
        // DECIMAL(12,2) 0.05 and a negative zero (complemented zero bytes) read as 0.00.
        assert_eq!(
            read_decimal(&[0x80, 0, 0, 0, 0, 5], 12, 2).unwrap().0,
            "0.05"
        );
        assert_eq!(
            read_decimal(&[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff], 12, 2)
                .unwrap()
                .0,
            "0.00"
        );
        // A group above 999999999 is corrupt.
        assert!(read_decimal(&[0x80, 0x3b, 0x9a, 0xca, 0x00, 0], 12, 2).is_err());
    }

    #[test]
    fn signed_ints() {
        assert_eq!(int(0xff, 1, false), Value::Int(-1));
        assert_eq!(int(0xff, 1, true), Value::UInt(255));
        assert_eq!(int(0x80_0000, 3, false), Value::Int(-8388608));
        assert_eq!(int(u64::MAX, 8, true), Value::UInt(u64::MAX));
    }
}
