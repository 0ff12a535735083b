//! Reconnect back-off: exponential with full jitter. The delay before attempt `n` is drawn
//! uniformly from `0..=min(cap, base · 2ⁿ)`, so relays that lost the hub at the same moment
//! do not all come back at the same moment. The schedule is a pure function of the attempt
//! number and a random draw; the random source is passed in (seeded in tests).

use std::time::Duration;

use rand_core::RngCore;

/// The back-off policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first delay.
    pub base: Duration,
    /// The largest ceiling.
    pub cap: Duration,
}

impl Default for Backoff {
    /// 1 s doubling to 60 s.
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The ceiling of the delay before attempt `attempt` (from 0): `min(cap, base · 2ⁿ)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The delay before attempt `attempt` for the random draw `random`: uniform over
    /// `0..=ceiling(attempt)` in milliseconds.
    pub fn delay(&self, attempt: u32, random: u64) -> Duration {
        let ceiling = u64::try_from(self.ceiling(attempt).as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(random % ceiling.saturating_add(1))
    }
}

/// A back-off in progress: counts attempts and draws from its random source.
#[derive(Debug)]
pub struct Schedule<R> {
    policy: Backoff,
    attempt: u32,
    rng: R,
}

impl<R: RngCore> Schedule<R> {
    /// A schedule at attempt 0.
    pub fn new(policy: Backoff, rng: R) -> Self {
        Self {
            policy,
            attempt: 0,
            rng,
        }
    }

    /// The next delay; each call moves one attempt on.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.policy.delay(self.attempt, self.rng.next_u64());
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// Back to attempt 0 (after a connection was accepted).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A seeded xorshift source: the same seed gives the same draws.
    struct Seeded(u64);
    impl RngCore for Seeded {
        fn next_u32(&mut self) -> u32 {
            (self.next_u64() >> 32) as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for b in dest {
                *b = self.next_u64() as u8;
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    #[test]
    fn ceilings_double_from_one_second_to_the_cap() {
        let policy = Backoff::default();
        let secs: Vec<u64> = (0..9).map(|n| policy.ceiling(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(policy.ceiling(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn delays_are_full_jitter_within_the_ceiling() {
        let policy = Backoff::default();
        assert_eq!(policy.delay(0, 0), Duration::ZERO);
        assert_eq!(policy.delay(0, 1000), Duration::from_millis(1000));
        assert_eq!(policy.delay(0, 1001), Duration::ZERO);
        assert_eq!(policy.delay(10, 59_999), Duration::from_millis(59_999));
        let mut schedule = Schedule::new(policy, Seeded(42));
        let delays: Vec<Duration> = (0..12).map(|_| schedule.next_delay()).collect();
        for (n, d) in delays.iter().enumerate() {
            assert!(*d <= policy.ceiling(n as u32), "attempt {n}: {d:?}");
        }
        // spread: the draws are not all the same fraction of their ceiling
        assert!(delays[6..].windows(2).any(|w| w[0] != w[1]), "{delays:?}");
        // the same seed gives the same schedule; reset starts over
        let mut again = Schedule::new(policy, Seeded(42));
        assert_eq!(
            (0..12).map(|_| again.next_delay()).collect::<Vec<_>>(),
            delays
        );
        schedule.reset();
        assert!(schedule.next_delay() <= Duration::from_secs(1));
    }
}
