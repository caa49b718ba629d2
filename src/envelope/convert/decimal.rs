//! Exact numbers: Connect `Decimal` bytes (the unscaled value as Java's
//! `BigInteger.toByteArray`), unsigned BIGINTs as such bytes, and DECIMAL literals rounded to
//! a column's scale.

use super::ConvertError;

/// Minimal big-endian two's complement of an unsigned 64-bit value (Java's
/// `BigInteger.toByteArray`).
pub fn unsigned_to_twos_complement(u: u64) -> Vec<u8> {
    let mut mag = u.to_be_bytes().to_vec();
    let first = mag.iter().position(|b| *b != 0).unwrap_or(mag.len() - 1);
    mag.drain(..first);
    if mag[0] & 0x80 != 0 {
        mag.insert(0, 0);
    }
    mag
}

/// The unscaled value of a DECIMAL text (`-12.340`, scale 3 → -12340) as the minimal
/// big-endian two's complement bytes Connect's `Decimal` carries.
pub fn decimal_unscaled_bytes(text: &str, scale: u32) -> Result<Vec<u8>, ConvertError> {
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if frac_part.len() > scale as usize && frac_part[scale as usize..].bytes().any(|b| b != b'0') {
        return Err(format!(
            "DECIMAL {text:?} has more than {scale} fraction digits"
        ));
    }
    let mut all: Vec<u8> = Vec::with_capacity(int_part.len() + scale as usize);
    for (i, b) in int_part
        .bytes()
        .chain(
            frac_part
                .bytes()
                .chain(std::iter::repeat(b'0'))
                .take(scale as usize),
        )
        .enumerate()
    {
        if !b.is_ascii_digit() {
            return Err(format!("invalid DECIMAL {text:?} (byte {i})"));
        }
        all.push(b - b'0');
    }
    // Base-10 digits → base-256 magnitude (big-endian).
    let mut mag: Vec<u8> = Vec::new();
    for d in all {
        let mut carry = d as u32;
        for byte in mag.iter_mut().rev() {
            let v = *byte as u32 * 10 + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            mag.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    if mag.is_empty() {
        return Ok(vec![0]);
    }
    if !neg {
        if mag[0] & 0x80 != 0 {
            mag.insert(0, 0);
        }
        return Ok(mag);
    }
    // Two's complement: invert and add one.
    for b in mag.iter_mut() {
        *b = !*b;
    }
    for b in mag.iter_mut().rev() {
        let (v, overflow) = b.overflowing_add(1);
        *b = v;
        if !overflow {
            break;
        }
    }
    if mag[0] & 0x80 == 0 {
        mag.insert(0, 0xff);
    }
    // Drop redundant leading 0xff bytes (keep the sign bit).
    while mag.len() > 1 && mag[0] == 0xff && mag[1] & 0x80 != 0 {
        mag.remove(0);
    }
    Ok(mag)
}

/// A DECIMAL literal with exactly `scale` fraction digits, rounded HALF_UP like
/// `BigDecimal.setScale(scale, HALF_UP)` (`1.555`, scale 2 → `1.56`; `-0.001` → `0.00`).
pub fn decimal_text(t: &str, scale: u32) -> Option<String> {
    let t = t.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if body.contains(['e', 'E']) {
        let f: f64 = t.parse().ok()?;
        return decimal_text(&format!("{f:.prec$}", prec = scale as usize + 1), scale);
    }
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let scale = scale as usize;
    let mut digits: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes().chain(std::iter::repeat(b'0')).take(scale))
        .map(|b| b - b'0')
        .collect();
    if frac_part.len() > scale && frac_part.as_bytes()[scale] >= b'5' {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let split = digits.len() - scale;
    let int_digits: String = digits[..split]
        .iter()
        .map(|d| (b'0' + d) as char)
        .collect::<String>()
        .trim_start_matches('0')
        .to_string();
    let frac_digits: String = digits[split..].iter().map(|d| (b'0' + d) as char).collect();
    let zero = digits.iter().all(|d| *d == 0);
    let mut out = String::new();
    if neg && !zero {
        out.push('-');
    }
    out.push_str(if int_digits.is_empty() {
        "0"
    } else {
        &int_digits
    });
    if scale > 0 {
        out.push('.');
        out.push_str(&frac_digits);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_bytes_match_biginteger() {
        assert_eq!(decimal_unscaled_bytes("0", 0).unwrap(), vec![0]);
        assert_eq!(decimal_unscaled_bytes("1.00", 2).unwrap(), vec![0x64]);
        assert_eq!(decimal_unscaled_bytes("1.28", 2).unwrap(), vec![0x00, 0x80]);
        assert_eq!(decimal_unscaled_bytes("-1.28", 2).unwrap(), vec![0x80]);
        assert_eq!(
            decimal_unscaled_bytes("-1.29", 2).unwrap(),
            vec![0xff, 0x7f]
        );
        assert_eq!(decimal_unscaled_bytes("-0.01", 2).unwrap(), vec![0xff]);
        assert_eq!(
            decimal_unscaled_bytes("-2.56", 2).unwrap(),
            vec![0xff, 0x00]
        );
        assert_eq!(decimal_unscaled_bytes("-1.5", 1).unwrap(), vec![0xf1]);
        assert_eq!(
            unsigned_to_twos_complement(u64::MAX),
            vec![0, 255, 255, 255, 255, 255, 255, 255, 255]
        );
        assert_eq!(unsigned_to_twos_complement(0), vec![0]);
    }

    #[test]
    fn decimal_text_rounds_half_up() {
        assert_eq!(decimal_text("1.555", 2).as_deref(), Some("1.56"));
        assert_eq!(decimal_text("-1.555", 2).as_deref(), Some("-1.56"));
        assert_eq!(decimal_text("-0.001", 2).as_deref(), Some("0.00"));
        assert_eq!(decimal_text("9.995", 2).as_deref(), Some("10.00"));
        assert_eq!(decimal_text(".5", 0).as_deref(), Some("1"));
        assert_eq!(decimal_text("007", 1).as_deref(), Some("7.0"));
        assert_eq!(decimal_text("1e3", 1).as_deref(), Some("1000.0"));
        assert_eq!(decimal_text("1.2.3", 1), None);
    }
}
