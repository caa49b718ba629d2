//! `Value`: one decoded column value, source-neutral and exact. Integers keep their sign and
//! width, DECIMAL keeps every digit as text, temporal values keep every field (zero dates
//! included), text is decoded with the column's charset and binary stays bytes.

use std::fmt;

/// A decoded column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    /// Any signed integer column (TINYINT … BIGINT).
    Int(i64),
    /// Any unsigned integer column (TINYINT UNSIGNED … BIGINT UNSIGNED).
    UInt(u64),
    Float(f32),
    Double(f64),
    /// DECIMAL as canonical text with exactly `scale` fraction digits, e.g. `-12.340`.
    Decimal(String),
    /// BIT(n): the bits as an integer (bit 0 is the least significant).
    Bit(u64),
    /// YEAR (0 stands for the zero year `0000`).
    Year(u16),
    /// DATE; zero dates (`0000-00-00`) and zero-in-date values are kept as written.
    Date {
        year: u16,
        month: u8,
        day: u8,
    },
    /// TIME as signed microseconds (−838:59:59.999999 … 838:59:59.999999).
    Time(i64),
    /// DATETIME: wall-clock fields with no time zone.
    DateTime(DateTime),
    /// TIMESTAMP: UTC seconds since the epoch plus microseconds.
    Timestamp {
        secs: i64,
        micros: u32,
    },
    /// CHAR/VARCHAR/TEXT (and ENUM/SET labels) decoded with the column's charset.
    String(String),
    /// BINARY/VARBINARY/BLOB, and text columns with the `binary` charset.
    Bytes(Vec<u8>),
    /// JSON as JSON text.
    Json(String),
    /// GEOMETRY: SRID and well-known binary.
    Geometry {
        srid: u32,
        wkb: Vec<u8>,
    },
    /// VECTOR (MySQL 9): float32 components.
    Vector(Vec<f32>),
}

/// A DATETIME value as written (no zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub micros: u32,
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl DateTime {
    /// True for `0000-00-00 …` and for values with a zero month or day.
    pub fn has_zero_date(&self) -> bool {
        self.month == 0 || self.day == 0
    }

    /// Microseconds since the epoch, reading the wall-clock value as if it were UTC
    /// (Debezium's rule for DATETIME); `None` for zero dates.
    pub fn epoch_micros(&self) -> Option<i64> {
        if self.has_zero_date() {
            return None;
        }
        let days = days_from_civil(self.year as i64, self.month as u32, self.day as u32);
        let secs =
            days * 86_400 + self.hour as i64 * 3600 + self.minute as i64 * 60 + self.second as i64;
        Some(secs * 1_000_000 + self.micros as i64)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )?;
        if self.micros > 0 {
            write!(f, ".{:06}", self.micros)?;
        }
        Ok(())
    }
}

/// Formats signed microseconds as `[-]HH:MM:SS[.ffffff]` (hours may exceed 24).
pub fn format_time(micros: i64) -> String {
    let neg = micros < 0;
    let m = micros.unsigned_abs();
    let (secs, frac) = (m / 1_000_000, m % 1_000_000);
    let s = format!(
        "{}{:02}:{:02}:{:02}",
        if neg { "-" } else { "" },
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    if frac > 0 {
        format!("{s}.{frac:06}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_round_trip() {
        for z in [-719468i64, -1, 0, 1, 10957, 2932896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
        assert_eq!(days_from_civil(1, 1, 1), -719162);
    }

    #[test]
    fn datetime_epoch() {
        let dt = DateTime {
            year: 2018,
            month: 6,
            day: 20,
            hour: 6,
            minute: 37,
            second: 3,
            micros: 123456,
        };
        assert_eq!(dt.epoch_micros(), Some(1_529_476_623_123_456));
        assert_eq!(
            format_time(-(838 * 3600 + 59 * 60 + 59) * 1_000_000),
            "-838:59:59"
        );
    }
}
