//! The data-protection key ring: symmetric keys that protect small payloads (session
//! cookies, anti-forgery tokens) so that any Admin API instance can read what another minted.
//!
//! Each key has a creation, an activation and an expiry time. [`KeyRing::protect`] uses the
//! newest key active at `now`; [`KeyRing::unprotect`] accepts any key that has not expired, so
//! after a rotation tokens minted under the old key keep working until that key expires, and
//! then fail. A token is `KEYID.BASE64URL(frame)`; the frame is XChaCha20-Poly1305 over the
//! payload with the purpose and key id as associated data, so a token minted for one purpose
//! never verifies for another. Time is always passed in, never read from a clock. The keys
//! live in the database wrapped by the key-encryption key, like secrets.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chrono::{DateTime, Duration, Utc};
use std::fmt;

use crate::crypto::{KEY_LEN, aad, open, random_bytes, random_key, seal};
use crate::error::{SecretsError, SecretsResult};
use crate::secret::SecretBytes;

/// One data-protection key.
#[derive(Clone)]
pub struct ProtectionKey {
    /// Random id (16 hex digits), named in every token it mints.
    pub id: String,
    key: SecretBytes,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// From when it mints tokens.
    pub activates_at: DateTime<Utc>,
    /// From when its tokens no longer verify.
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for ProtectionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtectionKey")
            .field("id", &self.id)
            .field("key", &"<redacted>")
            .field("activates_at", &self.activates_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl ProtectionKey {
    /// A new random key made at `now`, active from `activates_at`, living `lifetime` after it.
    pub fn generate(
        now: DateTime<Utc>,
        activates_at: DateTime<Utc>,
        lifetime: Duration,
    ) -> SecretsResult<Self> {
        let id: String = random_bytes(8)?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self::from_parts(
            id,
            random_key()?,
            now,
            activates_at,
            activates_at + lifetime,
        )
    }

    /// A key from stored parts (its material unwrapped).
    pub fn from_parts(
        id: String,
        key: SecretBytes,
        created_at: DateTime<Utc>,
        activates_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> SecretsResult<Self> {
        if key.len() != KEY_LEN {
            return Err(SecretsError::Damaged {
                record: format!("data-protection key {id}"),
                message: format!("{} bytes where {KEY_LEN} were expected", key.len()),
            });
        }
        Ok(Self {
            id,
            key,
            created_at,
            activates_at,
            expires_at,
        })
    }

    /// The key material, to be wrapped for storage.
    pub fn material(&self) -> &SecretBytes {
        &self.key
    }

    fn usable(&self, now: DateTime<Utc>) -> bool {
        self.activates_at <= now && now < self.expires_at
    }
}

fn token_aad(purpose: &str, key_id: &str) -> Vec<u8> {
    aad(
        "identitymesh protect v1",
        &[purpose.as_bytes(), key_id.as_bytes()],
    )
}

/// The keys in use, loaded from the database.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: Vec<ProtectionKey>,
}

impl KeyRing {
    /// A ring of these keys.
    pub fn new(keys: Vec<ProtectionKey>) -> Self {
        Self { keys }
    }

    /// The keys.
    pub fn keys(&self) -> &[ProtectionKey] {
        &self.keys
    }

    /// The newest key active at `now`.
    pub fn active_key(&self, now: DateTime<Utc>) -> Option<&ProtectionKey> {
        self.keys
            .iter()
            .filter(|k| k.usable(now))
            .max_by_key(|k| (k.activates_at, k.created_at))
    }

    /// Whether a new key should be made: none is active at `now`, or the active one expires
    /// within `lead` (make the next one early so every instance sees it before it is needed).
    pub fn needs_rotation(&self, now: DateTime<Utc>, lead: Duration) -> bool {
        let newest_expiry = self
            .keys
            .iter()
            .filter(|k| now < k.expires_at)
            .map(|k| k.expires_at)
            .max();
        self.active_key(now).is_none() || newest_expiry.is_none_or(|e| e - now <= lead)
    }

    /// Protects `payload` for `purpose` with the active key.
    pub fn protect(
        &self,
        purpose: &str,
        payload: &[u8],
        now: DateTime<Utc>,
    ) -> SecretsResult<String> {
        let key = self.active_key(now).ok_or(SecretsError::NoActiveKey)?;
        let frame = seal(key.key.expose(), &token_aad(purpose, &key.id), payload)?;
        Ok(format!("{}.{}", key.id, B64URL.encode(frame)))
    }

    /// The payload of a token minted by [`KeyRing::protect`] for `purpose`, if its key has
    /// not expired at `now`.
    pub fn unprotect(
        &self,
        purpose: &str,
        token: &str,
        now: DateTime<Utc>,
    ) -> SecretsResult<Vec<u8>> {
        let (id, body) = token
            .split_once('.')
            .ok_or(SecretsError::Token("malformed token"))?;
        let frame = B64URL
            .decode(body)
            .map_err(|_| SecretsError::Token("malformed token"))?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or(SecretsError::Token(
                "minted by a key this ring does not hold",
            ))?;
        if now >= key.expires_at {
            return Err(SecretsError::Token("its key has expired"));
        }
        open(
            key.key.expose(),
            &token_aad(purpose, id),
            &frame,
            "a protected token",
        )
        .map(|p| p.expose().to_vec())
        .map_err(|_| SecretsError::Token("altered, or minted for another purpose"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use chrono::TimeZone;

    fn t(days: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::days(days)
    }

    #[test]
    fn protect_unprotect_and_wrong_purpose() {
        let ring = KeyRing::new(vec![
            ProtectionKey::generate(t(0), t(0), Duration::days(90)).unwrap(),
        ]);
        let token = ring.protect("session", b"user:ada", t(1)).unwrap();
        assert_eq!(
            ring.unprotect("session", &token, t(2)).unwrap(),
            b"user:ada"
        );
        assert!(ring.unprotect("csrf", &token, t(2)).is_err());
        let mut altered = token.clone();
        altered.push('A');
        assert!(ring.unprotect("session", &altered, t(2)).is_err());
        assert!(ring.unprotect("session", "nodot", t(2)).is_err());
        assert!(!format!("{ring:?}").contains("user:ada"));
    }

    #[test]
    fn rotation_old_tokens_verify_until_their_key_expires() {
        let old = ProtectionKey::generate(t(0), t(0), Duration::days(90)).unwrap();
        let mut ring = KeyRing::new(vec![old.clone()]);
        let old_token = ring.protect("session", b"x", t(10)).unwrap();
        assert!(!ring.needs_rotation(t(10), Duration::days(14)));
        assert!(ring.needs_rotation(t(80), Duration::days(14)));
        let new = ProtectionKey::generate(t(80), t(80), Duration::days(90)).unwrap();
        ring = KeyRing::new(vec![old.clone(), new.clone()]);
        assert_eq!(
            ring.active_key(t(81)).map(|k| k.id.clone()),
            Some(new.id.clone())
        );
        let new_token = ring.protect("session", b"y", t(81)).unwrap();
        assert!(new_token.starts_with(&new.id));
        assert_eq!(ring.unprotect("session", &old_token, t(89)).unwrap(), b"x");
        assert!(matches!(
            ring.unprotect("session", &old_token, t(90)),
            Err(SecretsError::Token(_))
        ));
        assert_eq!(ring.unprotect("session", &new_token, t(100)).unwrap(), b"y");
    }

    #[test]
    fn no_active_key_is_an_error() {
        let future = ProtectionKey::generate(t(0), t(5), Duration::days(90)).unwrap();
        let ring = KeyRing::new(vec![future]);
        assert!(matches!(
            ring.protect("p", b"x", t(1)),
            Err(SecretsError::NoActiveKey)
        ));
        assert!(ring.needs_rotation(t(1), Duration::days(1)));
    }
}
