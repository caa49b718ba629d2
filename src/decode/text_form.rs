//! MariaDB's `UUID`, `INET4` and `INET6`: the binlog carries their binary form (BINARY(16)
//! or BINARY(4), trailing zero bytes dropped like any BINARY(n)), a client reading the table
//! gets their text. [`text_form`] turns the binary form into exactly the text the server
//! returns for `CAST(col AS CHAR)`, so a streamed change and a snapshot read of the same row
//! carry the same value.
//!
//! The forms, as MariaDB 10.11 writes them (checked against the live server in
//! `tests/types_mariadb.rs`):
//! - UUID: the 16 bytes in order, lower-case hex grouped 8-4-4-4-12 (the binlog holds them in
//!   text order, not in the swapped order InnoDB may store).
//! - INET4: dotted decimal.
//! - INET6: lower-case hex groups without leading zeros; the longest run of zero groups (the
//!   first of equally long runs, even a single group) becomes `::`; an IPv4-compatible
//!   (`::a.b.c.d`, first 6 groups zero and the 7th not) or IPv4-mapped (`::ffff:a.b.c.d`)
//!   address ends in dotted decimal.

use std::fmt::Write as _;

use crate::model::Declared;

/// The server's text form of the binary value `bytes` of a column declared `declared`
/// (`bytes` already zero-padded to the type's length); an error when the length is wrong or
/// the type has no text form.
pub fn text_form(declared: Declared, bytes: &[u8]) -> Result<String, String> {
    let want = declared
        .binary_len()
        .ok_or_else(|| format!("{declared:?} has no text form"))?;
    if bytes.len() != want {
        return Err(format!(
            "a {declared:?} value has {} bytes instead of {want}",
            bytes.len()
        ));
    }
    Ok(match declared {
        Declared::Uuid => uuid(bytes),
        Declared::Inet4 => inet4(bytes),
        _ => inet6(bytes),
    })
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` of 16 bytes.
fn uuid(b: &[u8]) -> String {
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        // Writing into a String cannot fail.
        let _ = write!(s, "{byte:02x}");
    }
    s
}

/// `a.b.c.d` of 4 bytes.
fn inet4(b: &[u8]) -> String {
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

/// The short form of a 16-byte IPv6 address, as MariaDB prints it.
fn inet6(b: &[u8]) -> String {
    let words: Vec<u16> = b
        .chunks_exact(2)
        .map(|w| u16::from_be_bytes([w[0], w[1]]))
        .collect();
    // The longest run of zero words; the first one wins a tie.
    let (mut gap_pos, mut gap_len) = (usize::MAX, 0);
    let mut i = 0;
    while i < 8 {
        if words[i] == 0 {
            let start = i;
            while i < 8 && words[i] == 0 {
                i += 1;
            }
            if i - start > gap_len {
                (gap_pos, gap_len) = (start, i - start);
            }
        } else {
            i += 1;
        }
    }
    let embeds_ipv4 = gap_pos == 0 && (gap_len == 6 || (gap_len == 5 && words[5] == 0xffff));
    let mut s = String::with_capacity(39);
    let mut i = 0;
    while i < 8 {
        if i == gap_pos {
            s.push_str(if i == 0 { "::" } else { ":" });
            i += gap_len;
            continue;
        }
        if i == 6 && embeds_ipv4 {
            s.push_str(&inet4(&b[12..16]));
            break;
        }
        let _ = write!(s, "{:x}", words[i]);
        if i != 7 {
            s.push(':');
        }
        i += 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn inet6_as_mariadb_prints_it() {
        // (HEX(col), CAST(col AS CHAR)) pairs read from MariaDB 10.11.
        let cases = [
            ("00000000000000000000000000000000", "::"),
            ("00000000000000000000000000000001", "::1"),
            ("00010000000000000000000000000000", "1::"),
            ("00000000000000000000FFFF01020304", "::ffff:1.2.3.4"),
            ("00000000000000000000000001020304", "::1.2.3.4"),
            ("0000000000000000FFFF000001020304", "::ffff:0:102:304"),
            ("0064FF9B000000000000000001020304", "64:ff9b::102:304"),
            ("20010DB8000000000001000000000001", "2001:db8::1:0:0:1"),
            ("20010000000000010000000000000001", "2001:0:0:1::1"),
            ("00010002000300040005000600070008", "1:2:3:4:5:6:7:8"),
            ("FE800000000000000001000000000000", "fe80::1:0:0:0"),
            ("00010000000100000001000000010000", "1::1:0:1:0:1:0"),
            ("00000000000000000000000000000100", "::100"),
            ("00000000000000000000FFFF00000000", "::ffff:0.0.0.0"),
            ("00000000000000000000FFFFFFFFFFFF", "::ffff:255.255.255.255"),
            ("00000000000000000000000100000000", "::1:0:0"),
            (
                "ABCDEF0123456789ABCDEF0123456789",
                "abcd:ef01:2345:6789:abcd:ef01:2345:6789",
            ),
            ("00000000000000000001000000000000", "::1:0:0:0"),
        ];
        for (h, want) in cases {
            assert_eq!(text_form(Declared::Inet6, &hex(h)).unwrap(), want, "{h}");
        }
    }

    #[test]
    fn uuid_and_inet4() {
        assert_eq!(
            text_form(Declared::Uuid, &hex("123E4567E89B12D3A456426614174000")).unwrap(),
            "123e4567-e89b-12d3-a456-426614174000"
        );
        assert_eq!(
            text_form(Declared::Inet4, &[192, 168, 0, 1]).unwrap(),
            "192.168.0.1"
        );
        assert_eq!(
            text_form(Declared::Inet4, &[0, 0, 0, 0]).unwrap(),
            "0.0.0.0"
        );
        assert!(text_form(Declared::Inet4, &[1, 2, 3]).is_err());
        assert!(text_form(Declared::Uuid, &[0; 15]).is_err());
        assert!(text_form(Declared::Boolean, &[0]).is_err());
    }
}
