//! The generic cell rate algorithm over one stored number, the "theoretical arrival time"
//! (TAT) in milliseconds: a burst of `max` attempts, refilled evenly over `per`. The
//! database backend runs it here; the Redis backend runs the same steps in a Lua script
//! (`redis.rs`), so that the read and the write are one atomic step on the server. Both
//! take the burst window from `interval`.

/// The outcome of one attempt at `now`, given the stored TAT (`None` or a past one: a
/// fresh start): `Ok(new_tat)` to store (it expires at `new_tat`), or `Err(retry_after)`,
/// both in milliseconds. An attempt passes while the TAT stays within `burst` (the
/// interval times the burst size) of now.
pub fn admit(now: i64, stored_tat: Option<i64>, interval: i64, burst: i64) -> Result<i64, i64> {
    let tat = stored_tat.map_or(now, |tat| tat.max(now));
    let new_tat = tat.saturating_add(interval);
    let ahead = new_tat - now;
    if ahead > burst {
        Err(ahead - burst)
    } else {
        Ok(new_tat)
    }
}

/// The emission interval (rounded up) and the burst window, in milliseconds, for `max` per
/// `per`: a burst of exactly `max`, then one every interval. `None` when the rate cannot
/// be kept in milliseconds (zero, or finer than one per millisecond).
pub fn interval(max: u32, per: std::time::Duration) -> Option<(i64, i64)> {
    let period = i64::try_from(per.as_millis()).ok()?;
    let max = i64::from(max);
    let interval = (period.checked_add(max - 1)?).checked_div(max)?;
    (interval > 0 && max <= period).then_some((interval, interval.checked_mul(max)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_max_passes_then_one_per_interval() {
        // 3 per hour: one every 20 minutes.
        let (interval, period) = interval(3, std::time::Duration::from_secs(3_600)).unwrap();
        let now = 1_000_000;
        let mut tat = None;
        for attempt in 1..=3 {
            tat = Some(admit(now, tat, interval, period).unwrap_or_else(|_| panic!("{attempt}")));
        }
        assert_eq!(admit(now, tat, interval, period), Err(1_200_000));
        // Twenty minutes later, one more passes.
        assert!(admit(now + 1_200_000, tat, interval, period).is_ok());
        // A stale TAT counts as a fresh start.
        assert_eq!(
            admit(now + 10_000_000, tat, interval, period),
            Ok(now + 10_000_000 + interval)
        );
    }

    #[test]
    fn rates_round_up_and_those_too_fine_are_not_kept() {
        assert_eq!(interval(0, std::time::Duration::from_secs(1)), None);
        assert_eq!(interval(5_000, std::time::Duration::from_secs(1)), None);
        // 7 per 10 s: one every 1429 ms, and a burst of exactly 7.
        let (every, burst) = interval(7, std::time::Duration::from_secs(10)).unwrap();
        assert_eq!((every, burst), (1_429, 10_003));
        let mut tat = None;
        for attempt in 1..=7 {
            tat = Some(admit(0, tat, every, burst).unwrap_or_else(|_| panic!("{attempt}")));
        }
        assert!(admit(0, tat, every, burst).is_err());
        assert_eq!(
            interval(10, std::time::Duration::from_secs(60)),
            Some((6_000, 60_000))
        );
    }
}
