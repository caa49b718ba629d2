//! MariaDB column compression (`TEXT COMPRESSED`, `VARCHAR(n) COMPRESSED`, … since 10.3).
//!
//! The row image holds the column's stored form: the usual length prefix, then (for a
//! non-empty value) one header byte and the data. The header's high nibble names the
//! method: 0 means the bytes follow as they are (the server stores short values, and
//! values that do not shrink, that way); 8 is zlib, with bit 3 set for a raw deflate
//! stream (`column_compression_zlib_wrap=OFF`, the default) and clear for a zlib-wrapped
//! one, and the low three bits giving how many big-endian bytes of original length follow
//! the header, before the compressed stream. An empty value has no header at all.

use std::borrow::Cow;

use flate2::{Decompress, FlushDecompress, Status};

/// Output grows in steps of at most this much, so a forged original length never decides
/// an allocation on its own.
const STEP: usize = 64 * 1024;

/// The original bytes of a compressed column's stored value; `max_len` is the column's
/// maximum length in bytes, which bounds the output.
pub fn unpack(stored: &[u8], max_len: u64) -> Result<Cow<'_, [u8]>, String> {
    let Some((&header, rest)) = stored.split_first() else {
        return Ok(Cow::Borrowed(stored));
    };
    match header >> 4 {
        0 if header == 0 => {
            if rest.len() as u64 > max_len {
                return Err(format!(
                    "compressed column value: {} stored bytes, more than the column's \
                     {max_len}",
                    rest.len()
                ));
            }
            Ok(Cow::Borrowed(rest))
        }
        8 => inflate(header, rest, max_len).map(Cow::Owned),
        _ => Err(format!(
            "compressed column value: header byte {header:#04x} names no known \
             compression method (0 = stored, 0x8n = zlib)"
        )),
    }
}

/// The zlib method: length bytes, then the (raw or wrapped) deflate stream.
fn inflate(header: u8, rest: &[u8], max_len: u64) -> Result<Vec<u8>, String> {
    let len_bytes = (header & 0x07) as usize;
    if !(1..=4).contains(&len_bytes) {
        return Err(format!(
            "compressed column value: header byte {header:#04x} gives {len_bytes} \
             length bytes (1 to 4 expected)"
        ));
    }
    if rest.len() < len_bytes {
        return Err(format!(
            "compressed column value: {} bytes after the header, shorter than its \
             {len_bytes}-byte original length",
            rest.len()
        ));
    }
    let (len_raw, stream) = rest.split_at(len_bytes);
    let orig = len_raw.iter().fold(0u64, |acc, &b| acc << 8 | b as u64);
    if orig > max_len {
        return Err(format!(
            "compressed column value: original length {orig} is more than the \
             column's maximum of {max_len} bytes"
        ));
    }
    let orig = orig as usize;
    let wrapped = header & 0x08 == 0;
    let mut z = Decompress::new(wrapped);
    let mut out: Vec<u8> = Vec::new();
    // One byte past the declared length, to notice a stream that yields more.
    let limit = orig + 1;
    loop {
        if out.len() == out.capacity() {
            let want = (out.capacity() * 2).clamp(STEP.min(limit), limit);
            out.reserve_exact(want - out.len());
        }
        let (in0, out0) = (z.total_in(), out.len());
        let input = stream.get(z.total_in() as usize..).unwrap_or_default();
        let status = z
            // Not `Finish`: the Rust backend then wants the whole output in one call.
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| format!("compressed column value: bad zlib data: {e}"))?;
        if out.len() > orig {
            return Err(format!(
                "compressed column value: the data inflates to more than the {orig} \
                 bytes its header declares"
            ));
        }
        if status == Status::StreamEnd {
            break;
        }
        if z.total_in() == in0 && out.len() == out0 {
            return Err(format!(
                "compressed column value: the zlib stream is truncated ({} of {} \
                 original bytes after {} compressed bytes)",
                out.len(),
                orig,
                stream.len()
            ));
        }
    }
    if out.len() != orig {
        return Err(format!(
            "compressed column value: the data inflates to {} bytes but its header \
             declares {orig}",
            out.len()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::DeflateEncoder, write::ZlibEncoder, Compression};
    use std::io::Write;

    /// The server's stored form of `data` compressed with zlib.
    fn packed(data: &[u8], wrap: bool) -> Vec<u8> {
        let z = if wrap {
            let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        } else {
            let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        };
        let len = (data.len() as u32).to_be_bytes();
        let skip = len.iter().take_while(|&&b| b == 0).count().min(3);
        let mut v = vec![0x80 | (4 - skip) as u8 | if wrap { 0 } else { 0x08 }];
        v.extend_from_slice(&len[skip..]);
        v.extend_from_slice(&z);
        v
    }

    #[test]
    fn stored_empty_and_both_zlib_forms() {
        assert_eq!(unpack(b"", 10).unwrap().as_ref(), b"");
        assert_eq!(unpack(b"\0abc", 10).unwrap().as_ref(), b"abc");
        let long = "héllo wörld ".repeat(20_000).into_bytes();
        for wrap in [false, true] {
            let p = packed(&long, wrap);
            assert!(p.len() < long.len());
            assert_eq!(unpack(&p, 1 << 24).unwrap().as_ref(), &long[..]);
        }
    }

    #[test]
    fn malformed_values_are_errors() {
        let long = b"abcdefgh".repeat(1000);
        let p = packed(&long, false);
        let err = |bytes: &[u8], max: u64| unpack(bytes, max).unwrap_err();
        // Unknown method, stored form with stray bits, no length bytes.
        assert!(err(b"\x10abc", 100).contains("no known compression method"));
        assert!(err(b"\x05abc", 100).contains("no known compression method"));
        assert!(err(b"\x88\x01", 100).contains("0 length bytes"));
        // Length bytes cut off.
        assert!(err(&p[..2], 100_000).contains("shorter than its 2-byte"));
        // Truncated stream.
        assert!(err(&p[..p.len() / 2], 100_000).contains("truncated"));
        // Declared length more than the column holds.
        assert!(err(&p, 7999).contains("more than the column's maximum"));
        // Stream that inflates to more than its header declares.
        let mut lying = p.clone();
        lying[2] -= 1; // 8000 -> 7999 (0x1f40 -> 0x1f3f)
        assert!(err(&lying, 100_000).contains("more than the 7999 bytes"));
        // Stream that inflates to less.
        let mut short = p.clone();
        short[2] += 1;
        assert!(err(&short, 100_000).contains("inflates to 8000 bytes"));
        // Garbage instead of deflate data.
        assert!(err(b"\x89\x05\xff\xff\xff\xff", 100).contains("zlib"));
        // Stored form longer than the column.
        assert!(err(b"\0abcd", 3).contains("more than the column's 3"));
    }

    /// A row decoder reports a malformed value as an error of its column (the rows event
    /// handler adds the table and the binlog position).
    #[test]
    fn a_malformed_value_is_an_error_of_its_column() {
        use crate::catalog::table_map::Wire;
        use crate::decode::{Bitmap, Cursor, RowDecoder};
        use crate::model::{ColumnDesc, ColumnKind, TableDesc};
        let table = TableDesc {
            db: "d".into(),
            name: "t".into(),
            columns: vec![
                ColumnDesc::new("v", ColumnKind::VarChar { max_bytes: 40 }),
                ColumnDesc::new("b", ColumnKind::Blob { len_bytes: 2 }),
            ],
            primary_key: vec![],
            charset_name: None,
            comment: None,
        };
        let wires = vec![
            Wire::CompressedVarString { max_len: 41 },
            Wire::CompressedBlob { len_bytes: 2 },
        ];
        let dec = RowDecoder::new(std::sync::Arc::new(table), wires);
        // No NULLs; v = "hi" stored as is; b = a zlib header whose stream is cut off.
        let p = packed(&b"abcdefgh".repeat(100), false);
        let mut row = vec![0u8, 3, 0, b'h', b'i'];
        row.extend_from_slice(&(10u16).to_le_bytes());
        row.extend_from_slice(&p[..10]);
        let e = dec
            .decode_row(&mut Cursor::new(&row), Bitmap::new(&[0xff]), None, None)
            .unwrap_err();
        assert_eq!(e.column, 1);
        assert!(e.reason.contains("truncated"), "{}", e.reason);
        // The same row with b intact decodes to the original values.
        let mut row = vec![0u8, 3, 0, b'h', b'i'];
        row.extend_from_slice(&(p.len() as u16).to_le_bytes());
        row.extend_from_slice(&p);
        let values = dec
            .decode_row(&mut Cursor::new(&row), Bitmap::new(&[0xff]), None, None)
            .unwrap();
        assert_eq!(values[0], crate::model::Value::String("hi".into()));
        assert_eq!(
            values[1],
            crate::model::Value::String("abcdefgh".repeat(100))
        );
    }
}
