//! Sign-in throttling per user name and client address: after `max_failures` failures in a
//! row the pair waits `lockout` before the next attempt is even checked. Kept in memory (an
//! attacker spreading attempts over instances gains little: each still throttles), cleared
//! by a successful sign-in.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Failure counts by `name|address`.
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, DateTime<Utc>)>>,
}

impl Throttle {
    fn key(name: &str, address: &str) -> String {
        format!("{}|{address}", name.to_lowercase())
    }

    /// Seconds the pair must still wait, if it is locked out at `now`.
    pub fn locked(
        &self,
        name: &str,
        address: &str,
        now: DateTime<Utc>,
        max: u32,
        lockout: Duration,
    ) -> Option<u64> {
        let map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let (count, last) = map.get(&Self::key(name, address))?;
        let until = *last + lockout;
        (*count >= max && now < until)
            .then(|| u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1))
    }

    /// Records a failure (a lockout that has passed starts a fresh count).
    pub fn fail(&self, name: &str, address: &str, now: DateTime<Utc>, max: u32, lockout: Duration) {
        let mut map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() > 100_000 {
            map.retain(|_, (_, last)| now - *last < lockout);
        }
        let entry = map.entry(Self::key(name, address)).or_insert((0, now));
        if entry.0 >= max && now - entry.1 >= lockout {
            entry.0 = 0;
        }
        entry.0 += 1;
        entry.1 = now;
    }

    /// Clears the pair after a successful sign-in.
    pub fn succeed(&self, name: &str, address: &str) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&Self::key(name, address));
    }
}
