//! Limits on sign-in attempts, behind a small interface ([`RateLimiter`]) so that a shared
//! backend can replace the per-process one for several instances. The per-process one is
//! governor's GCRA: a burst of `max`, refilled evenly over `per`.
//!
//! Keys are hashed with a per-process random key before they are held, so memory per key
//! is fixed whatever the input. IPv6 clients count per /64, which one subscriber
//! usually holds whole.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::values::Rate;

/// What is being limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    EmailAddress,
    EmailIp,
    CredentialsUsername,
    CredentialsIp,
    OAuthIp,
}

impl Bucket {
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::EmailAddress => "email per address",
            Bucket::EmailIp => "email per IP",
            Bucket::CredentialsUsername => "credentials per username",
            Bucket::CredentialsIp => "credentials per IP",
            Bucket::OAuthIp => "OAuth starts per IP",
        }
    }

    /// The bucket's name in metrics and shared-state keys.
    pub fn label(self) -> &'static str {
        match self {
            Bucket::EmailAddress => "email_address",
            Bucket::EmailIp => "email_ip",
            Bucket::CredentialsUsername => "credentials_username",
            Bucket::CredentialsIp => "credentials_ip",
            Bucket::OAuthIp => "oauth_ip",
        }
    }
}

/// An attempt over its limit: the next one is allowed after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: Duration,
}

/// Attempt counts: every attempt (`check`), or only failures (`count_failure`, with
/// `held_back` asked before each attempt), so that a user who signs in successfully is
/// never slowed down by their own sign-ins.
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one attempt under `key` in `bucket`, refusing it when over `rate`.
    async fn check(&self, bucket: Bucket, key: &str, rate: Rate) -> Result<(), Limited>;

    /// Counts one failure; the first failure over `rate` is refused, and holds `key` back
    /// until the rate allows another.
    async fn count_failure(&self, bucket: Bucket, key: &str, rate: Rate) -> Result<(), Limited>;

    /// Whether failures hold `key` back in `bucket` now. Counts nothing.
    async fn held_back(&self, bucket: Bucket, key: &str) -> Result<(), Limited>;
}

/// How many checks pass between two sweeps of idle keys.
const SWEEP_EVERY: u64 = 4_096;

type Limiter = DefaultKeyedRateLimiter<u64>;

/// The per-process limiter. It lives as long as the server, across reloads; a reload
/// that changes a bucket's rate starts that bucket afresh.
pub struct LocalRateLimiter {
    buckets: Mutex<HashMap<Bucket, (Rate, Arc<Limiter>)>>,
    /// Keys that failed over their rate, and until when they are held back.
    held: Mutex<HashMap<(Bucket, u64), Instant>>,
    hasher: RandomState,
    checks: AtomicU64,
}

impl Default for LocalRateLimiter {
    fn default() -> Self {
        LocalRateLimiter {
            buckets: Mutex::new(HashMap::new()),
            held: Mutex::new(HashMap::new()),
            hasher: RandomState::new(),
            checks: AtomicU64::new(0),
        }
    }
}

impl LocalRateLimiter {
    fn limiter(
        &self,
        bucket: Bucket,
        rate: Rate,
        (max, per): (NonZeroU32, Duration),
    ) -> Option<Arc<Limiter>> {
        let mut buckets = self.buckets.lock().ok()?;
        if let Some((current, limiter)) = buckets.get(&bucket)
            && *current == rate
        {
            return Some(limiter.clone());
        }
        let period = per
            .checked_div(max.get())
            .filter(|period| !period.is_zero())?;
        let quota = Quota::with_period(period)?.allow_burst(max);
        let limiter = Arc::new(Limiter::keyed(quota));
        buckets.insert(bucket, (rate, limiter.clone()));
        Some(limiter)
    }

    fn sweep(&self) {
        let limiters: Vec<Arc<Limiter>> = match self.buckets.lock() {
            Ok(buckets) => buckets
                .values()
                .map(|(_, limiter)| limiter.clone())
                .collect(),
            Err(_) => return,
        };
        // Outside the lock: other requests keep counting meanwhile.
        for limiter in limiters {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if let Ok(mut held) = self.held.lock() {
            let now = Instant::now();
            held.retain(|_, until| *until > now);
        }
    }

    /// One count in `bucket` for `key`, sweeping idle keys now and then.
    fn count(&self, bucket: Bucket, key: &str, rate: Rate) -> Result<(), Limited> {
        let Some((max, per)) = rate.limit() else {
            return Ok(());
        };
        let Some(max) = NonZeroU32::new(max) else {
            return Ok(());
        };
        let Some(limiter) = self.limiter(bucket, rate, (max, per.as_std())) else {
            // A rate too fine for the clock (more than one per nanosecond) limits nothing.
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep();
        }
        limiter
            .check_key(&self.hasher.hash_one(key))
            .map_err(|not_until| Limited {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }
}

#[async_trait::async_trait]
impl RateLimiter for LocalRateLimiter {
    async fn check(&self, bucket: Bucket, key: &str, rate: Rate) -> Result<(), Limited> {
        self.check_now(bucket, key, rate)
    }

    async fn count_failure(&self, bucket: Bucket, key: &str, rate: Rate) -> Result<(), Limited> {
        self.count_failure_now(bucket, key, rate)
    }

    async fn held_back(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
        self.held_back_now(bucket, key)
    }
}

impl LocalRateLimiter {
    /// `RateLimiter::check`, without waiting.
    pub fn check_now(&self, bucket: Bucket, key: &str, rate: Rate) -> Result<(), Limited> {
        self.count(bucket, key, rate)
    }

    /// `RateLimiter::count_failure`, without waiting.
    pub fn count_failure_now(&self, bucket: Bucket, key: &str, rate: Rate) -> Result<(), Limited> {
        let counted = self.count(bucket, key, rate);
        if let (Err(limited), Ok(mut held)) = (counted, self.held.lock()) {
            held.insert(
                (bucket, self.hasher.hash_one(key)),
                Instant::now() + limited.retry_after,
            );
        }
        counted
    }

    /// `RateLimiter::held_back`, without waiting.
    pub fn held_back_now(&self, bucket: Bucket, key: &str) -> Result<(), Limited> {
        let Ok(held) = self.held.lock() else {
            return Ok(());
        };
        match held.get(&(bucket, self.hasher.hash_one(key))) {
            Some(until) => match until.checked_duration_since(Instant::now()) {
                Some(retry_after) if !retry_after.is_zero() => Err(Limited { retry_after }),
                _ => Ok(()),
            },
            None => Ok(()),
        }
    }
}

/// The key an IP is limited under: an IPv4 address, or an IPv6 /64 (an IPv4-mapped IPv6
/// address counts as its IPv4 address).
pub fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(ip) => ip.to_string(),
            None => {
                let segments = ip.segments();
                format!(
                    "{:x}:{:x}:{:x}:{:x}::/64",
                    segments[0], segments[1], segments[2], segments[3]
                )
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::values::Duration as ConfigDuration;

    #[test]
    fn a_burst_of_max_passes_then_attempts_wait() {
        let limiter = LocalRateLimiter::default();
        let rate = Rate::new(3, ConfigDuration::from_seconds(3_600));
        for attempt in 1..=3 {
            assert!(
                limiter
                    .check_now(Bucket::EmailAddress, "a@b.com", rate)
                    .is_ok(),
                "attempt {attempt}"
            );
        }
        let limited = limiter
            .check_now(Bucket::EmailAddress, "a@b.com", rate)
            .expect_err("the fourth attempt");
        // One attempt comes back every 20 minutes.
        assert!(
            limited.retry_after > Duration::from_secs(1_190),
            "{limited:?}"
        );
        assert!(
            limited.retry_after <= Duration::from_secs(1_200),
            "{limited:?}"
        );
        // Another key and another bucket have their own allowance.
        assert!(
            limiter
                .check_now(Bucket::EmailAddress, "c@b.com", rate)
                .is_ok()
        );
        assert!(limiter.check_now(Bucket::EmailIp, "a@b.com", rate).is_ok());
    }

    #[test]
    fn an_off_rate_limits_nothing_and_a_changed_rate_starts_afresh() {
        let limiter = LocalRateLimiter::default();
        for _ in 0..100 {
            assert!(
                limiter
                    .check_now(Bucket::OAuthIp, "1.2.3.4", Rate::OFF)
                    .is_ok()
            );
        }
        let one = Rate::new(1, ConfigDuration::from_seconds(60));
        assert!(limiter.check_now(Bucket::OAuthIp, "1.2.3.4", one).is_ok());
        assert!(limiter.check_now(Bucket::OAuthIp, "1.2.3.4", one).is_err());
        let two = Rate::new(2, ConfigDuration::from_seconds(60));
        assert!(limiter.check_now(Bucket::OAuthIp, "1.2.3.4", two).is_ok());
    }

    #[test]
    fn only_failures_over_the_rate_hold_a_key_back() {
        let limiter = LocalRateLimiter::default();
        let rate = Rate::new(2, ConfigDuration::from_seconds(3_600));
        let bucket = Bucket::CredentialsUsername;
        for failure in 1..=2 {
            assert!(
                limiter.held_back_now(bucket, "ada").is_ok(),
                "before failure {failure}"
            );
            assert!(
                limiter.count_failure_now(bucket, "ada", rate).is_ok(),
                "failure {failure}"
            );
        }
        // The third failure is over the rate: refused, and ada is held back from now on.
        assert!(limiter.held_back_now(bucket, "ada").is_ok());
        assert!(limiter.count_failure_now(bucket, "ada", rate).is_err());
        let held = limiter.held_back_now(bucket, "ada").expect_err("held back");
        assert!(held.retry_after > Duration::from_secs(1_700), "{held:?}");
        assert!(limiter.held_back_now(bucket, "bob").is_ok());
        assert!(limiter.held_back_now(Bucket::EmailAddress, "ada").is_ok());
    }

    #[test]
    fn ipv6_clients_count_per_slash_64() {
        let cases = [
            ("192.0.2.7", "192.0.2.7"),
            ("::ffff:192.0.2.7", "192.0.2.7"),
            ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
            ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
            ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ];
        for (ip, key) in cases {
            assert_eq!(ip_key(ip.parse().unwrap()), key, "{ip}");
        }
    }
}
