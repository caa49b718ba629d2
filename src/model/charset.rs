//! Character sets: which collation ids the binlog names, and how to turn a text column's
//! bytes into a Rust string. `binary` text stays bytes; MySQL's `latin1` is Windows-1252;
//! every other known charset is decoded with `encoding_rs`. Unknown collation ids are read
//! as strict UTF-8, and invalid input is an error — never replacement characters.

use encoding_rs::Encoding;

/// How a text column's bytes are turned into a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// utf8mb3, utf8mb4, ascii and unknown collations: strict UTF-8.
    Utf8,
    /// The `binary` charset: the column holds bytes, not text.
    Binary,
    /// A legacy charset decoded with encoding_rs (latin1 is Windows-1252).
    Legacy(&'static Encoding),
    /// UCS-2 / UTF-16 big endian.
    Utf16Be,
    /// UTF-16 little endian.
    Utf16Le,
    /// UTF-32 big endian.
    Utf32,
}

impl Charset {
    /// The charset of a collation id (as found in table maps and `information_schema`).
    pub fn from_collation(id: u16) -> Charset {
        use encoding_rs::*;
        let legacy = Charset::Legacy;
        match id {
            63 => Charset::Binary,
            5 | 8 | 15 | 31 | 47 | 48 | 49 | 94 => legacy(WINDOWS_1252),
            2 | 9 | 21 | 27 | 77 => legacy(ISO_8859_2),
            26 | 34 | 44 | 66 | 99 => legacy(WINDOWS_1250),
            14 | 23 | 50 | 51 | 52 => legacy(WINDOWS_1251),
            57 | 67 => legacy(WINDOWS_1256),
            29 | 58 | 59 => legacy(WINDOWS_1257),
            7 | 74 => legacy(KOI8_R),
            22 | 75 => legacy(KOI8_U),
            25 | 70 => legacy(ISO_8859_7),
            16 | 71 => legacy(ISO_8859_8),
            30 | 78 => legacy(WINDOWS_1254),
            20 | 41 | 42 | 79 => legacy(ISO_8859_13),
            18 | 89 => legacy(WINDOWS_874),
            36 | 68 => legacy(IBM866),
            39 | 53 => legacy(MACINTOSH),
            13 | 88 | 95 | 96 => legacy(SHIFT_JIS),
            12 | 91 | 97 | 98 => legacy(EUC_JP),
            19 | 85 => legacy(EUC_KR),
            24 | 86 | 28 | 87 => legacy(GBK),
            248..=250 => legacy(GB18030),
            1 | 84 => legacy(BIG5),
            35 | 90 | 128..=151 | 159 | 54 | 55 | 101..=124 => Charset::Utf16Be,
            56 | 62 => Charset::Utf16Le,
            60 | 61 | 160..=183 => Charset::Utf32,
            _ => Charset::Utf8,
        }
    }

    /// The charset of a MySQL charset name (from `information_schema` or DDL).
    pub fn from_name(name: &str) -> Charset {
        use encoding_rs::*;
        match name.to_ascii_lowercase().as_str() {
            "binary" => Charset::Binary,
            "latin1" => Charset::Legacy(WINDOWS_1252),
            "latin2" => Charset::Legacy(ISO_8859_2),
            "cp1250" => Charset::Legacy(WINDOWS_1250),
            "cp1251" => Charset::Legacy(WINDOWS_1251),
            "cp1256" => Charset::Legacy(WINDOWS_1256),
            "cp1257" => Charset::Legacy(WINDOWS_1257),
            "koi8r" => Charset::Legacy(KOI8_R),
            "koi8u" => Charset::Legacy(KOI8_U),
            "greek" => Charset::Legacy(ISO_8859_7),
            "hebrew" => Charset::Legacy(ISO_8859_8),
            "latin5" => Charset::Legacy(WINDOWS_1254),
            "latin7" => Charset::Legacy(ISO_8859_13),
            "tis620" => Charset::Legacy(WINDOWS_874),
            "cp866" => Charset::Legacy(IBM866),
            "macroman" => Charset::Legacy(MACINTOSH),
            "sjis" | "cp932" => Charset::Legacy(SHIFT_JIS),
            "ujis" | "eucjpms" => Charset::Legacy(EUC_JP),
            "euckr" => Charset::Legacy(EUC_KR),
            "gbk" | "gb2312" => Charset::Legacy(GBK),
            "gb18030" => Charset::Legacy(GB18030),
            "big5" => Charset::Legacy(BIG5),
            "ucs2" | "utf16" => Charset::Utf16Be,
            "utf16le" => Charset::Utf16Le,
            "utf32" => Charset::Utf32,
            _ => Charset::Utf8,
        }
    }

    pub fn is_binary(self) -> bool {
        self == Charset::Binary
    }

    /// Decodes `bytes` as text of this charset; `Err` names what is wrong.
    pub fn decode(self, bytes: &[u8]) -> Result<String, String> {
        match self {
            Charset::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => Ok(s.to_owned()),
                Err(e) => Err(format!(
                    "invalid UTF-8 at byte {} of a {}-byte text value",
                    e.valid_up_to(),
                    bytes.len()
                )),
            },
            Charset::Binary => Err("binary value decoded as text".into()),
            Charset::Legacy(enc) => {
                let (s, had_errors) = enc.decode_without_bom_handling(bytes);
                if had_errors {
                    Err(format!("bytes that are not valid {}", enc.name()))
                } else {
                    Ok(s.into_owned())
                }
            }
            Charset::Utf16Be | Charset::Utf16Le => {
                let enc = if self == Charset::Utf16Be {
                    encoding_rs::UTF_16BE
                } else {
                    encoding_rs::UTF_16LE
                };
                let (s, had_errors) = enc.decode_without_bom_handling(bytes);
                if had_errors {
                    Err("invalid UTF-16".into())
                } else {
                    Ok(s.into_owned())
                }
            }
            Charset::Utf32 => {
                if !bytes.len().is_multiple_of(4) {
                    return Err("UTF-32 value whose length is not a multiple of 4".into());
                }
                bytes
                    .chunks_exact(4)
                    .map(|c| {
                        char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                            .ok_or_else(|| "invalid UTF-32 code point".to_string())
                    })
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_is_windows_1252() {
        let cs = Charset::from_collation(8);
        assert_eq!(cs.decode(&[0x80, b'a', 0xe9]).unwrap(), "€aé");
        assert_eq!(Charset::from_name("latin1"), cs);
    }

    #[test]
    fn utf8_is_strict() {
        let cs = Charset::from_collation(45);
        assert_eq!(cs.decode("ñ😀".as_bytes()).unwrap(), "ñ😀");
        assert!(cs.decode(&[0xff, 0xfe]).is_err());
        assert!(Charset::from_collation(63).is_binary());
    }

    #[test]
    fn wide_charsets() {
        assert_eq!(Charset::Utf16Be.decode(&[0, b'h', 0, b'i']).unwrap(), "hi");
        assert_eq!(Charset::Utf32.decode(&[0, 1, 0xf6, 0x00]).unwrap(), "😀");
    }
}
