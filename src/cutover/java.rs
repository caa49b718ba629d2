//! A small, bounded reader for exactly one Java serialization shape: the file Kafka's
//! `FileOffsetBackingStore` writes (Kafka Connect standalone, Debezium Server, the embedded
//! engine): `ObjectOutputStream.writeObject(HashMap<byte[], byte[]>)`.
//!
//! It understands the stream header, one `java.util.HashMap` class descriptor with primitive
//! fields, the map's custom data block (capacity, size) and `size` key/value pairs that are
//! `byte[]` arrays, `null`, or back-references to arrays read before. Anything else is an
//! error naming the byte offset; every length is checked against the bytes left, so a
//! malformed or hostile file can neither panic nor allocate more than its own size.

use std::fmt;

const STREAM_MAGIC: u16 = 0xACED;
const STREAM_VERSION: u16 = 5;
const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_STRING: u8 = 0x74;
const TC_ARRAY: u8 = 0x75;
const TC_BLOCKDATA: u8 = 0x77;
const TC_ENDBLOCKDATA: u8 = 0x78;
const TC_BLOCKDATALONG: u8 = 0x7A;
const BASE_HANDLE: u32 = 0x7E_0000;
const SC_SERIALIZABLE: u8 = 0x02;
const SC_WRITE_METHOD: u8 = 0x01;
/// Bounds what one file may declare (the handle table and the map both grow with it).
const MAX_HANDLES: usize = 1 << 20;

/// One key/value pair of the map; `None` is Java's `null`.
pub type Entry = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Why the bytes are not a serialized `HashMap<byte[], byte[]>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.reason)
    }
}

/// What a stream handle stands for.
#[derive(Debug, Clone)]
enum Handle {
    /// A class descriptor, by class name.
    Class(String),
    /// A `byte[]` read earlier.
    Bytes(Vec<u8>),
    /// A string (a field's type name) or the map object itself.
    Other,
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
    handles: Vec<Handle>,
}

type R<T> = Result<T, ParseError>;

/// Parses a `FileOffsetBackingStore` file into its key/value pairs, in stream order.
pub fn parse_offset_file(buf: &[u8]) -> R<Vec<Entry>> {
    let mut r = Reader {
        buf,
        at: 0,
        handles: Vec::new(),
    };
    if r.u16()? != STREAM_MAGIC {
        return Err(r.err_at(0, "not a Java serialization stream (no 0xACED magic)"));
    }
    if r.u16()? != STREAM_VERSION {
        return Err(r.err_at(2, "unsupported Java serialization stream version"));
    }
    r.expect(TC_OBJECT, "the map object")?;
    let class = r.class_desc()?;
    if class != "java.util.HashMap" {
        return Err(r.err(format!(
            "the stored object is a {class}, not the java.util.HashMap a FileOffsetBackingStore writes"
        )));
    }
    r.new_handle(Handle::Other)?;
    let entries = r.map_data()?;
    if r.at != r.buf.len() {
        return Err(r.err(format!(
            "{} unexpected bytes after the map",
            r.buf.len() - r.at
        )));
    }
    Ok(entries)
}

impl Reader<'_> {
    fn err(&self, reason: impl Into<String>) -> ParseError {
        self.err_at(self.at, reason)
    }

    fn err_at(&self, offset: usize, reason: impl Into<String>) -> ParseError {
        ParseError {
            offset,
            reason: reason.into(),
        }
    }

    fn take(&mut self, n: usize) -> R<&[u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| {
                self.err(format!(
                    "truncated: {n} bytes needed, {} left",
                    self.buf.len() - self.at
                ))
            })?;
        let s = &self.buf[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self) -> R<u8> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> R<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> R<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn expect(&mut self, tc: u8, what: &str) -> R<()> {
        let at = self.at;
        let got = self.u8()?;
        if got != tc {
            return Err(self.err_at(
                at,
                format!("expected {what} (type code 0x{tc:02X}), found 0x{got:02X}"),
            ));
        }
        Ok(())
    }

    /// A modified-UTF-8 string with a 2-byte length (class and field names).
    fn utf(&mut self) -> R<String> {
        let n = self.u16()? as usize;
        let at = self.at;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| self.err_at(at, "a name is not valid UTF-8"))
    }

    fn new_handle(&mut self, h: Handle) -> R<()> {
        if self.handles.len() >= MAX_HANDLES {
            return Err(self.err("too many objects in the stream"));
        }
        self.handles.push(h);
        Ok(())
    }

    fn handle(&mut self) -> R<Handle> {
        let at = self.at;
        let raw = self.i32()? as u32;
        raw.checked_sub(BASE_HANDLE)
            .and_then(|i| self.handles.get(i as usize))
            .cloned()
            .ok_or_else(|| self.err_at(at, format!("reference to unknown handle 0x{raw:X}")))
    }

    /// `TC_CLASSDESC` (the tag already read): name, serialVersionUID, flags, fields, end
    /// of annotations and a `TC_NULL` superclass. Returns the class name; primitive fields
    /// are skipped when the instance data is read, so only their sizes are kept.
    fn class_desc(&mut self) -> R<String> {
        self.expect(TC_CLASSDESC, "a class descriptor")?;
        let name = self.utf()?;
        self.take(8)?; // serialVersionUID
        let flags = self.u8()?;
        if flags & SC_SERIALIZABLE == 0 {
            return Err(self.err(format!("class {name} is not marked serializable")));
        }
        let n = self.u16()? as usize;
        let mut sizes = Vec::with_capacity(n.min(16));
        for _ in 0..n {
            let at = self.at;
            let ty = self.u8()?;
            let field = self.utf()?;
            let size = match ty {
                b'B' | b'Z' => 1,
                b'C' | b'S' => 2,
                b'I' | b'F' => 4,
                b'J' | b'D' => 8,
                _ => {
                    return Err(self.err_at(
                        at,
                        format!("field {field} of {name} is not primitive; not a HashMap"),
                    ))
                }
            };
            sizes.push(size);
        }
        self.expect(TC_ENDBLOCKDATA, "the end of the class annotations")?;
        self.expect(TC_NULL, "no superclass descriptor")?;
        self.new_handle(Handle::Class(name.clone()))?;
        if name == "java.util.HashMap" {
            if flags & SC_WRITE_METHOD == 0 {
                return Err(self.err("java.util.HashMap without its writeObject data"));
            }
            let total: usize = sizes.iter().sum();
            self.take(total)?; // loadFactor, threshold
        }
        Ok(name)
    }

    /// The map's `writeObject` data: a block with capacity and size, then the pairs.
    fn map_data(&mut self) -> R<Vec<Entry>> {
        let at = self.at;
        let len = match self.u8()? {
            TC_BLOCKDATA => self.u8()? as usize,
            TC_BLOCKDATALONG => self.i32()? as u32 as usize,
            other => {
                return Err(self.err_at(
                    at,
                    format!("expected the map's data block, found 0x{other:02X}"),
                ))
            }
        };
        if len != 8 {
            return Err(self.err_at(at, format!("the map's data block has {len} bytes, not 8")));
        }
        let _capacity = self.i32()?;
        let size_at = self.at;
        let size = self.i32()?;
        // Each pair takes at least two bytes (two TC_NULLs).
        if size < 0 || (size as usize).saturating_mul(2) > self.buf.len() - self.at {
            return Err(self.err_at(size_at, format!("implausible map size {size}")));
        }
        let mut out = Vec::with_capacity(size as usize);
        for _ in 0..size {
            let k = self.bytes_or_null()?;
            let v = self.bytes_or_null()?;
            out.push((k, v));
        }
        self.expect(TC_ENDBLOCKDATA, "the end of the map")?;
        Ok(out)
    }

    fn bytes_or_null(&mut self) -> R<Option<Vec<u8>>> {
        let at = self.at;
        match self.u8()? {
            TC_NULL => Ok(None),
            TC_ARRAY => {
                let class = match self.buf.get(self.at) {
                    Some(&TC_REFERENCE) => {
                        self.at += 1;
                        match self.handle()? {
                            Handle::Class(c) => c,
                            _ => return Err(self.err("an array's class is not a class")),
                        }
                    }
                    _ => self.class_desc()?,
                };
                if class != "[B" {
                    return Err(self.err_at(at, format!("a key or value is a {class}, not byte[]")));
                }
                let len_at = self.at;
                let len = self.i32()?;
                if len < 0 {
                    return Err(self.err_at(len_at, format!("negative array length {len}")));
                }
                let bytes = self.take(len as usize)?.to_vec();
                self.new_handle(Handle::Bytes(bytes.clone()))?;
                Ok(Some(bytes))
            }
            TC_REFERENCE => match self.handle()? {
                Handle::Bytes(b) => Ok(Some(b)),
                _ => Err(self.err_at(at, "a key or value refers to something not a byte[]")),
            },
            TC_STRING => Err(self.err_at(at, "a key or value is a String, not byte[]")),
            other => Err(self.err_at(
                at,
                format!("expected a byte[] or null, found type code 0x{other:02X}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes in the shape `ObjectOutputStream` writes for a `HashMap<byte[], byte[]>`,
    /// built field by field from the specification to exercise error paths (the real
    /// files come from Java in `tests/cutover.rs`).
    type Pair<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

    fn map(entries: &[Pair<'_>]) -> Vec<u8> {
        let mut b = vec![0xAC, 0xED, 0, 5, TC_OBJECT, TC_CLASSDESC];
        let name = b"java.util.HashMap";
        b.extend((name.len() as u16).to_be_bytes());
        b.extend(name);
        b.extend(0x0507_DAC1_C316_60D1u64.to_be_bytes());
        b.push(SC_SERIALIZABLE | SC_WRITE_METHOD);
        b.extend(2u16.to_be_bytes());
        b.push(b'F');
        b.extend(10u16.to_be_bytes());
        b.extend(b"loadFactor");
        b.push(b'I');
        b.extend(9u16.to_be_bytes());
        b.extend(b"threshold");
        b.extend([TC_ENDBLOCKDATA, TC_NULL]);
        b.extend(0.75f32.to_be_bytes());
        b.extend(12i32.to_be_bytes());
        b.extend([TC_BLOCKDATA, 8]);
        b.extend(16i32.to_be_bytes());
        b.extend((entries.len() as i32).to_be_bytes());
        let mut first = true;
        for (k, v) in entries {
            for x in [k, v] {
                match x {
                    None => b.push(TC_NULL),
                    Some(bytes) => {
                        b.push(TC_ARRAY);
                        if first {
                            b.extend([TC_CLASSDESC, 0, 2, b'[', b'B']);
                            b.extend(0xACF3_17F8_0608_54E0u64.to_be_bytes());
                            b.extend([SC_SERIALIZABLE, 0, 0, TC_ENDBLOCKDATA, TC_NULL]);
                            first = false;
                        } else {
                            b.push(TC_REFERENCE);
                            // handles: 0 HashMap class, 1 the map, 2 the byte[] class
                            b.extend((BASE_HANDLE + 2).to_be_bytes());
                        }
                        b.extend((bytes.len() as i32).to_be_bytes());
                        b.extend(*bytes);
                    }
                }
            }
        }
        b.push(TC_ENDBLOCKDATA);
        b
    }

    #[test]
    fn reads_pairs_and_nulls() {
        let bytes = map(&[(Some(b"k1"), Some(b"v1")), (Some(b"k2"), None)]);
        let got = parse_offset_file(&bytes).unwrap();
        assert_eq!(
            got,
            vec![
                (Some(b"k1".to_vec()), Some(b"v1".to_vec())),
                (Some(b"k2".to_vec()), None)
            ]
        );
    }

    #[test]
    fn every_truncation_and_every_single_byte_change_is_an_error_or_a_value_never_a_panic() {
        let bytes = map(&[(Some(b"key"), Some(b"{\"pos\":4}")), (None, Some(b"x"))]);
        for n in 0..bytes.len() {
            assert!(
                parse_offset_file(&bytes[..n]).is_err(),
                "prefix of {n} bytes"
            );
        }
        for i in 0..bytes.len() {
            for v in [0u8, 0x70, 0x71, 0x7F, 0xFF] {
                let mut b = bytes.clone();
                b[i] = v;
                let _ = parse_offset_file(&b);
            }
        }
    }

    #[test]
    fn refuses_other_shapes_with_the_offset() {
        assert!(parse_offset_file(b"{\"json\": true}")
            .unwrap_err()
            .reason
            .contains("0xACED"));
        let mut b = map(&[(Some(b"k"), Some(b"v"))]);
        b.push(0);
        assert!(parse_offset_file(&b)
            .unwrap_err()
            .reason
            .contains("after the map"));
        // A huge declared size fails before anything is allocated for it.
        let mut b = map(&[]);
        let size_at = b.len() - 5;
        b[size_at..size_at + 4].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(parse_offset_file(&b)
            .unwrap_err()
            .reason
            .contains("implausible map size"));
        // A huge array length fails on the bytes left.
        let mut b = map(&[(Some(b"k"), None)]);
        let len_at = b.len() - 1 - 1 - 1 - 4;
        b[len_at..len_at + 4].copy_from_slice(&0x7FFF_FFF0i32.to_be_bytes());
        assert!(parse_offset_file(&b)
            .unwrap_err()
            .reason
            .contains("truncated"));
    }
}
