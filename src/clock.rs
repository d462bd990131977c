//! Time as a parameter: core logic asks a `Clock`, so tests can move time without sleeping.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;

    /// Seconds since the Unix epoch.
    fn unix_seconds(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or(0)
    }
}

/// A moment in UTC, split into the fields dates are written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CivilTime {
    pub year: i64,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// 0 for Sunday to 6 for Saturday.
    pub weekday: u8,
}

impl CivilTime {
    /// The UTC date and time `unix_seconds` after the epoch (before it, when negative):
    /// Howard Hinnant's days-to-civil.
    pub fn of_unix(unix_seconds: i64) -> CivilTime {
        let days = unix_seconds.div_euclid(86_400);
        let rest = unix_seconds.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        };
        CivilTime {
            year: year_of_era + era * 400 + i64::from(month <= 2),
            // Each below is in range by construction (month 1-12, day 1-31, ...).
            month: month as u8,
            day: day as u8,
            hour: (rest / 3_600) as u8,
            minute: (rest % 3_600 / 60) as u8,
            second: (rest % 60) as u8,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u8,
        }
    }
}

/// `unix_seconds` as an RFC 3339 UTC time, `2026-11-30T22:54:07Z`.
pub fn rfc3339_utc(unix_seconds: u64) -> String {
    let mut text = String::with_capacity(20);
    write_rfc3339(
        &mut text,
        i64::try_from(unix_seconds).unwrap_or(i64::MAX),
        None,
    );
    text.push('Z');
    text
}

/// Milliseconds since the epoch as JavaScript's `toISOString()` writes them,
/// `2026-11-30T22:54:07.123Z`.
pub fn iso_time_millis(unix_millis: i64) -> String {
    let mut text = String::with_capacity(24);
    write_rfc3339(
        &mut text,
        unix_millis.div_euclid(1_000),
        Some(unix_millis.rem_euclid(1_000)),
    );
    text.push('Z');
    text
}

fn write_rfc3339(text: &mut String, unix_seconds: i64, millis: Option<i64>) {
    use std::fmt::Write as _;
    let CivilTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
        ..
    } = CivilTime::of_unix(unix_seconds);
    // Writing into a String cannot fail.
    let _ = write!(
        text,
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}"
    );
    if let Some(millis) = millis {
        let _ = write!(text, ".{millis:03}");
    }
}

/// Latest moment an HTTP date (RFC 9110 §5.6.7) is written for: the end of year 9999.
const MAX_HTTP_DATE: i64 = 253_402_300_799;

/// An HTTP date (RFC 9110 §5.6.7), `Tue, 01 Dec 2026 15:48:37 GMT`: a cookie's `Expires`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpDate(CivilTime);

impl HttpDate {
    /// The date `unix_seconds` after the epoch; none before 1970 or after 9999.
    pub fn of_unix(unix_seconds: i64) -> Option<HttpDate> {
        (0..=MAX_HTTP_DATE)
            .contains(&unix_seconds)
            .then(|| HttpDate(CivilTime::of_unix(unix_seconds)))
    }
}

impl std::fmt::Display for HttpDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let time = self.0;
        let weekday = WEEKDAYS[usize::from(time.weekday) % 7];
        let month = MONTHS[usize::from(time.month.saturating_sub(1)) % 12];
        write!(
            f,
            "{weekday}, {:02} {month} {:04} {:02}:{:02}:{:02} GMT",
            time.day, time.year, time.hour, time.minute, time.second
        )
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<SystemTime>,
}

impl ManualClock {
    pub fn at_unix_seconds(seconds: u64) -> Self {
        ManualClock {
            now: Mutex::new(UNIX_EPOCH + Duration::from_secs(seconds)),
        }
    }

    pub fn advance(&self, by: Duration) {
        if let Ok(mut now) = self.now.lock() {
            *now += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.now.lock().map(|now| *now).unwrap_or(UNIX_EPOCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_format_as_rfc3339_utc() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_798_761_599, "2026-12-31T23:59:59Z"),
            (4_107_542_400, "2100-03-01T00:00:00Z"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(rfc3339_utc(seconds), expected, "{seconds}");
        }
    }

    #[test]
    fn unix_millis_format_as_javascript_iso_strings() {
        let cases = [
            (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
        ];
        for (millis, expected) in cases {
            assert_eq!(iso_time_millis(millis), expected, "{millis}");
        }
    }

    /// The same text as the `time` crate's formatting of the cookie crate's `Expires`.
    #[test]
    fn http_dates_match_the_time_crates_and_stop_outside_1970_to_9999() {
        let format = time::format_description::parse_borrowed::<2>(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
        )
        .unwrap();
        for seconds in [
            0,
            951_782_400,
            1_798_761_599,
            1_764_603_517,
            4_107_542_400,
            MAX_HTTP_DATE,
        ] {
            let text = HttpDate::of_unix(seconds).unwrap().to_string();
            let expected = time::OffsetDateTime::from_unix_timestamp(seconds)
                .unwrap()
                .format(&format)
                .unwrap();
            assert_eq!(text, expected, "{seconds}");
        }
        for seconds in [-1, MAX_HTTP_DATE + 1, i64::MAX, i64::MIN] {
            assert_eq!(HttpDate::of_unix(seconds), None, "{seconds}");
        }
    }

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::at_unix_seconds(1_000);
        assert_eq!(clock.unix_seconds(), 1_000);
        clock.advance(Duration::from_secs(60));
        assert_eq!(clock.unix_seconds(), 1_060);
    }
}
