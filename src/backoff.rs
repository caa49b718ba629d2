//! One retry policy for every retry loop (the binlog reconnect and the pipeline supervisor):
//! exponential backoff from `first` up to `max`, with jitter so that many instances that
//! lost the same server do not come back in lockstep, and an optional limit of consecutive
//! failures (`source.max_reconnect_attempts`; 0 retries forever).

use std::time::Duration;

use crate::config::SourceConfig;

/// Delays between attempts after consecutive failures.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    limit: u32,
    failures: u32,
    base: Duration,
    rng: u64,
}

impl Backoff {
    /// Starts at `first`, doubles up to `max`; gives up after `limit` consecutive failures
    /// (`0`: never).
    pub fn new(first: Duration, max: Duration, limit: u32) -> Self {
        let first = first.max(Duration::from_millis(1));
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ u64::from(std::process::id()).rotate_left(32);
        Self {
            first,
            max: max.max(first),
            limit,
            failures: 0,
            base: first,
            rng: seed | 1,
        }
    }

    /// The source's reconnect policy: `source.reconnect_backoff_ms` doubling up to
    /// `source.reconnect_backoff_max_ms`, at most `source.max_reconnect_attempts` failures.
    pub fn from_source(cfg: &SourceConfig) -> Self {
        Self::new(
            Duration::from_millis(cfg.reconnect_backoff_ms),
            Duration::from_millis(cfg.reconnect_backoff_max_ms),
            cfg.max_reconnect_attempts,
        )
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The configured limit (0: none).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// An attempt worked: the next failure starts again from the first delay.
    pub fn reset(&mut self) {
        self.failures = 0;
        self.base = self.first;
    }

    /// An attempt failed: the delay before the next one, or `None` when the limit of
    /// consecutive failures is reached. The delay is the current base with "equal jitter"
    /// (uniform between half of it and all of it); the base then doubles up to `max`.
    pub fn fail(&mut self) -> Option<Duration> {
        self.failures = self.failures.saturating_add(1);
        if self.limit > 0 && self.failures > self.limit {
            return None;
        }
        let base = self.base;
        self.base = (self.base * 2).min(self.max);
        let half = base / 2;
        let spread = (base - half).as_nanos() as u64;
        let jitter = if spread == 0 {
            0
        } else {
            self.next_random() % (spread + 1)
        };
        Some(half + Duration::from_nanos(jitter))
    }

    /// xorshift64*: jitter needs spread, not cryptographic quality.
    fn next_random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_maximum_with_jitter_within_bounds() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000), 0);
        let bases = [100, 200, 400, 800, 1000, 1000, 1000];
        for base in bases {
            let d = b.fail().unwrap();
            let base = Duration::from_millis(base);
            assert!(
                d >= base / 2 && d <= base,
                "{d:?} outside [{:?}, {base:?}]",
                base / 2
            );
        }
        b.reset();
        assert!(b.fail().unwrap() <= Duration::from_millis(100));
    }

    #[test]
    fn gives_up_after_the_limit_of_consecutive_failures() {
        let mut b = Backoff::new(Duration::from_millis(1), Duration::from_millis(2), 3);
        assert!(b.fail().is_some() && b.fail().is_some() && b.fail().is_some());
        assert_eq!(b.fail(), None);
        b.reset();
        assert!(b.fail().is_some(), "a success starts the count again");
    }

    #[test]
    fn jitter_spreads_delays() {
        let mut b = Backoff::new(Duration::from_millis(1000), Duration::from_millis(1000), 0);
        let ds: std::collections::HashSet<Duration> = (0..20).map(|_| b.fail().unwrap()).collect();
        assert!(
            ds.len() > 10,
            "jitter gave {} distinct delays of 20",
            ds.len()
        );
    }
}
