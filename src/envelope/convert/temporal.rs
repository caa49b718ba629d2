//! Temporal helpers: the `ZonedTimestamp` text of a TIMESTAMP, and the readers of the
//! `DATE`/`DATETIME`/`TIME` literals that column defaults carry.

use crate::model::DateTime;

/// `io.debezium.time.ZonedTimestamp` in UTC: `yyyy-MM-ddTHH:mm:ss[.f{fsp}]Z`. With fsp > 0
/// exactly fsp fraction digits (ZonedTimestamp's formatter for a fractional width); with
/// fsp 0 none (the value has no fraction).
pub fn zoned_timestamp(secs: i64, micros: u32, fsp: u8) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = crate::model::value::civil_from_days(days);
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        y,
        mo,
        d,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    );
    if fsp > 0 {
        let fsp = fsp.min(6) as usize;
        let frac = format!("{:06}", micros.min(999_999));
        s.push('.');
        s.push_str(&frac[..fsp]);
    } else if micros > 0 {
        // ISO_OFFSET_DATE_TIME prints the shortest fraction for a non-zero one.
        let frac = format!("{:06}", micros.min(999_999));
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Debezium's "epoch-equivalent" dates (`EPOCH_EQUIVALENT_DATE`): a zero year, month or day.
pub(super) fn zero_date(dt: &DateTime) -> bool {
    dt.year == 0 || dt.month == 0 || dt.day == 0
}

/// `YYYY-MM-DD[ HH[:MM[:SS[.ffffff]]]]` (a `T` also separates); `None` when not of that shape
/// or out of range (zero months and days are kept, for the caller to judge).
pub(super) fn parse_datetime(t: &str) -> Option<DateTime> {
    let (date, time) = match t.split_once([' ', 'T']) {
        Some((d, tm)) => (d, tm.trim()),
        None => (t, ""),
    };
    let mut d = date.splitn(3, '-');
    let year: u16 = d.next()?.parse().ok()?;
    let month: u8 = d.next()?.parse().ok()?;
    let day: u8 = d.next()?.parse().ok()?;
    if month > 12 || day > 31 || year > 9999 {
        return None;
    }
    let mut dt = DateTime {
        year,
        month,
        day,
        ..DateTime::default()
    };
    if !time.is_empty() {
        let us = parse_time(time)?;
        if !(0..86_400_000_000).contains(&us) {
            return None;
        }
        let secs = us / 1_000_000;
        dt.hour = (secs / 3600) as u8;
        dt.minute = (secs / 60 % 60) as u8;
        dt.second = (secs % 60) as u8;
        dt.micros = (us % 1_000_000) as u32;
    }
    Some(dt)
}

/// `[-]H+:MM[:SS[.f…]]` (or `HH` alone) as signed microseconds.
pub(super) fn parse_time(t: &str) -> Option<i64> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let (hms, frac) = body.split_once('.').unwrap_or((body, ""));
    let mut parts = hms.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let mi: i64 = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    let s: i64 = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    if parts.next().is_some() || mi > 59 || s > 59 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut f = frac.chars().take(6).collect::<String>();
    while f.len() < 6 {
        f.push('0');
    }
    let us = ((h * 60 + mi) * 60 + s) * 1_000_000 + f.parse::<i64>().ok()?;
    Some(if neg { -us } else { us })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoned_timestamps() {
        // shared-mariadb-mysql.adoc: TIMESTAMP '2018-06-20 06:37:03' (UTC-7) → 2018-06-20T13:37:03Z
        assert_eq!(zoned_timestamp(1_529_501_823, 0, 0), "2018-06-20T13:37:03Z");
        assert_eq!(
            zoned_timestamp(1_529_501_823, 780_000, 2),
            "2018-06-20T13:37:03.78Z"
        );
        assert_eq!(
            zoned_timestamp(1_529_501_823, 0, 3),
            "2018-06-20T13:37:03.000Z"
        );
    }
}
