//! The one place for calendar arithmetic: UTC calendar dates from and to days since the epoch
//! (the civil-from-days and days-from-civil algorithms of Howard Hinnant's date paper), and
//! the capture-time strings of reports. Hand-written rather than a date crate on the hot path:
//! a report writes two times per host and per endpoint (see [`rfc3339`]); the people's reports
//! use `jiff` for local time zones.

/// The UTC (year, month, day) of a day number counted from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day number counted from 1970-01-01 of the UTC date `year`-`month`-`day` (month 1-12).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a capture time in ns since the epoch.
///
/// Written digit by digit: a report holds two of these per host and per endpoint, and
/// `format!` made them a good part of the time spent reporting.
pub fn rfc3339(ts_ns: i64) -> String {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let millis = ts_ns.rem_euclid(1_000_000_000) / 1_000_000;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    // Nanoseconds in an i64 span the years 1677 to 2262: four digits always suffice.
    let year = y as u32;
    let mut out = *b"0000-00-00T00:00:00.000Z";
    put_digits(&mut out[0..4], year);
    put_digits(&mut out[5..7], mo);
    put_digits(&mut out[8..10], d);
    // `sod` is in 0..86400 and `millis` in 0..1000: the casts are exact.
    put_digits(&mut out[11..13], (sod / 3600) as u32);
    put_digits(&mut out[14..16], (sod % 3600 / 60) as u32);
    put_digits(&mut out[17..19], (sod % 60) as u32);
    put_digits(&mut out[20..23], millis as u32);
    ascii(&out)
}

/// Writes the last `out.len()` decimal digits of `value` into `out`, zero-padded: the digit
/// writer of the hand-made report strings (times here, `flow::PortName`).
pub(crate) fn put_digits(out: &mut [u8], value: u32) {
    let mut v = value;
    for d in out.iter_mut().rev() {
        // `v % 10` is below 10: the cast cannot truncate.
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// A String of the ASCII bytes written above (digits and separators). Anything else, which the
/// writers never produce, gives an empty string rather than a panic.
fn ascii(bytes: &[u8]) -> String {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .unwrap_or_default()
}

/// `YYYY-MM-DD` for seconds since the epoch.
pub fn date(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The UTC year of a capture time, or None for times that cannot be real capture times
/// (zero or before 1990: a missing timestamp, not a date).
pub fn year(ts_ns: i64) -> Option<i32> {
    if ts_ns < 631_152_000 * 1_000_000_000 {
        return None;
    }
    let (y, _, _) = civil_from_days(ts_ns.div_euclid(1_000_000_000).div_euclid(86_400));
    i32::try_from(y).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_dates_round_trip() {
        for days in [
            -719_468, -1, 0, 1, 59, 60, 11_016, 15_340, 19_782, 2_932_896,
        ] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(
                days_from_civil(y, i64::from(m), i64::from(d)),
                days,
                "{y}-{m}-{d}"
            );
        }
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        assert_eq!(date(86_400 * 11_016), "2000-02-29");
    }

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        // 2012-12-13T10:20:30.456Z
        assert_eq!(
            rfc3339(1_355_394_030_456_000_000),
            "2012-12-13T10:20:30.456Z"
        );
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(rfc3339(-1_000_000_000), "1969-12-31T23:59:59.000Z");
        assert_eq!(year(1_355_394_030_000_000_000), Some(2012));
        assert_eq!(year(0), None);
    }

    #[test]
    fn digit_by_digit_agrees_with_format() {
        let reference = |ts_ns: i64| {
            let secs = ts_ns.div_euclid(1_000_000_000);
            let millis = ts_ns.rem_euclid(1_000_000_000) / 1_000_000;
            let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
            let sod = secs.rem_euclid(86_400);
            format!(
                "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
                sod / 3600,
                sod % 3600 / 60,
                sod % 60
            )
        };
        // The whole range, in steps of about 9 days that are not a round number.
        let step = 777_600_123_456_789;
        let mut ts = i64::MIN;
        while let Some(next) = ts.checked_add(step) {
            assert_eq!(rfc3339(ts), reference(ts), "{ts}");
            ts = next;
        }
        for ts in [i64::MIN, i64::MAX, 0, -1, 999_999_999, 86_399_999_999_999] {
            assert_eq!(rfc3339(ts), reference(ts), "{ts}");
        }
    }
}
