//! Active Directory value codecs: `userAccountControl` as a bit field (C-36) and
//! `accountExpires` as a Windows FILETIME.
//!
//! An account is enabled exactly when bit 0x2 (ACCOUNTDISABLE) is clear; there is no table of
//! "known" values. Enabling or disabling flips that one bit on the value the directory holds
//! now and keeps every other bit. `accountExpires` counts 100-nanosecond intervals since
//! 1601-01-01 UTC; both 0 and 0x7FFFFFFFFFFFFFFF mean "never expires".

use chrono::{DateTime, SecondsFormat, Utc};

/// ACCOUNTDISABLE.
pub(crate) const ACCOUNTDISABLE: i64 = 0x2;
/// NORMAL_ACCOUNT: the value a new user account starts from.
pub(crate) const NORMAL_ACCOUNT: i64 = 0x200;
/// The "never expires" value AD itself writes.
pub(crate) const NEVER: i64 = i64::MAX;

/// The name of the derived boolean attribute an AD connector exposes.
pub(crate) const ENABLED: &str = "enabled";
/// The bit field it is derived from.
pub(crate) const UAC: &str = "userAccountControl";
/// The expiry attribute.
pub(crate) const ACCOUNT_EXPIRES: &str = "accountExpires";

/// Whether an account with this `userAccountControl` is enabled.
pub(crate) fn enabled(uac: i64) -> bool {
    uac & ACCOUNTDISABLE == 0
}

/// `uac` with only the ACCOUNTDISABLE bit changed.
pub(crate) fn with_enabled(uac: i64, enabled: bool) -> i64 {
    if enabled {
        uac & !ACCOUNTDISABLE
    } else {
        uac | ACCOUNTDISABLE
    }
}

/// Seconds between 1601-01-01 and 1970-01-01.
const EPOCH_DIFF_SECS: i64 = 11_644_473_600;
const TICKS_PER_SEC: i64 = 10_000_000;

/// A FILETIME as RFC 3339 UTC text, `None` for "never" (0 or 0x7FFFFFFFFFFFFFFF) or a value
/// outside the representable range.
pub(crate) fn filetime_to_text(ticks: i64) -> Option<String> {
    if ticks <= 0 || ticks == NEVER {
        return None;
    }
    let secs = ticks / TICKS_PER_SEC - EPOCH_DIFF_SECS;
    let nanos = u32::try_from((ticks % TICKS_PER_SEC) * 100).ok()?;
    DateTime::<Utc>::from_timestamp(secs, nanos)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// An RFC 3339 timestamp as a FILETIME, or `None` when it does not parse or lies before 1601.
pub(crate) fn text_to_filetime(text: &str) -> Option<i64> {
    let t = DateTime::parse_from_rfc3339(text.trim()).ok()?;
    let secs = t.timestamp().checked_add(EPOCH_DIFF_SECS)?;
    let ticks = secs
        .checked_mul(TICKS_PER_SEC)?
        .checked_add(i64::from(t.timestamp_subsec_nanos() / 100))?;
    (ticks > 0).then_some(ticks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c36_enabled_is_bit_0x2_for_every_value() {
        let cases = [
            (512, true),
            (514, false),
            (66048, true),
            (66050, false),
            (1049088, true),
            (4260352, true),
        ];
        for (uac, expected) in cases {
            assert_eq!(enabled(uac), expected, "{uac}");
        }
        assert_eq!(with_enabled(66048, false), 66050);
        assert_eq!(with_enabled(66050, true), 66048);
        assert_eq!(with_enabled(4260352, false), 4260354);
        assert_eq!(with_enabled(512, true), 512);
    }

    #[test]
    fn account_expires_round_trips_and_never_is_absent() {
        assert_eq!(filetime_to_text(0), None);
        assert_eq!(filetime_to_text(NEVER), None);
        // 2030-01-01T00:00:00Z
        let ticks = 135_379_296_000_000_000;
        let text = filetime_to_text(ticks);
        assert_eq!(text.as_deref(), Some("2030-01-01T00:00:00Z"));
        assert_eq!(text_to_filetime("2030-01-01T00:00:00Z"), Some(ticks));
        assert_eq!(text_to_filetime("2030-01-01T01:00:00+01:00"), Some(ticks));
        assert_eq!(text_to_filetime("next tuesday"), None);
        assert_eq!(text_to_filetime("1500-01-01T00:00:00Z"), None);
    }
}
