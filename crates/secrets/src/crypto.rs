//! The primitives every part of the crate uses: random bytes from the operating system and
//! one AEAD, XChaCha20-Poly1305 (a 24-byte random nonce, so random nonces never collide in
//! practice), framed as `version(1) ‖ nonce(24) ‖ ciphertext ‖ tag(16)`.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use crate::error::{SecretsError, SecretsResult};
use crate::secret::SecretBytes;

/// Key length of every symmetric key here (data keys, KEKs, key-ring keys).
pub const KEY_LEN: usize = 32;
/// The frame version byte.
const FRAME_V1: u8 = 1;
/// Nonce length.
const NONCE_LEN: usize = 24;
/// Tag length.
const TAG_LEN: usize = 16;
/// Shortest possible frame (empty plaintext).
pub const MIN_FRAME: usize = 1 + NONCE_LEN + TAG_LEN;

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> SecretsResult<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(vec![0u8; n]);
    OsRng
        .try_fill_bytes(&mut out)
        .map_err(|e| SecretsError::Random(e.to_string()))?;
    Ok(out)
}

/// A fresh random 32-byte key.
pub fn random_key() -> SecretsResult<SecretBytes> {
    random_bytes(KEY_LEN).map(SecretBytes::from)
}

fn cipher(key: &[u8]) -> SecretsResult<XChaCha20Poly1305> {
    XChaCha20Poly1305::new_from_slice(key).map_err(|_| SecretsError::Damaged {
        record: "a key".into(),
        message: format!("a key must be {KEY_LEN} bytes"),
    })
}

/// Encrypts `plaintext` under `key` bound to `aad`, returning a frame.
pub fn seal(key: &[u8], aad: &[u8], plaintext: &[u8]) -> SecretsResult<Vec<u8>> {
    let nonce = random_bytes(NONCE_LEN)?;
    let sealed = cipher(key)?
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| SecretsError::Random("encryption failed".into()))?;
    let mut frame = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
    frame.push(FRAME_V1);
    frame.extend_from_slice(&nonce);
    frame.extend_from_slice(&sealed);
    Ok(frame)
}

/// Opens a frame made by [`seal`] with the same key and `aad`. `record` names what is being
/// opened, for the error.
pub fn open(key: &[u8], aad: &[u8], frame: &[u8], record: &str) -> SecretsResult<SecretBytes> {
    let damaged = |message: String| SecretsError::Damaged {
        record: record.to_owned(),
        message,
    };
    if frame.len() < MIN_FRAME {
        return Err(damaged(format!(
            "{} bytes, shorter than the {MIN_FRAME} of an empty value",
            frame.len()
        )));
    }
    if frame[0] != FRAME_V1 {
        return Err(damaged(format!("unknown format version {}", frame[0])));
    }
    let (nonce, body) = frame[1..].split_at(NONCE_LEN);
    cipher(key)?
        .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
        .map(SecretBytes::new)
        .map_err(|_| SecretsError::Tampered {
            record: record.to_owned(),
        })
}

/// Builds associated data from labelled parts, length-prefixed so that no two different
/// part lists give the same bytes (`a|bc` ≠ `ab|c`).
pub fn aad(context: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    for part in std::iter::once(context.as_bytes()).chain(parts.iter().copied()) {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn round_trip_and_failures() {
        let key = random_key().unwrap();
        let frame = seal(key.expose(), b"ctx", b"hello").unwrap();
        assert_eq!(
            open(key.expose(), b"ctx", &frame, "t").unwrap().expose(),
            b"hello"
        );
        assert!(matches!(
            open(key.expose(), b"other", &frame, "t"),
            Err(SecretsError::Tampered { .. })
        ));
        let other = random_key().unwrap();
        assert!(matches!(
            open(other.expose(), b"ctx", &frame, "t"),
            Err(SecretsError::Tampered { .. })
        ));
        let mut flipped = frame.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            open(key.expose(), b"ctx", &flipped, "t"),
            Err(SecretsError::Tampered { .. })
        ));
        assert!(matches!(
            open(key.expose(), b"ctx", &frame[..10], "t"),
            Err(SecretsError::Damaged { .. })
        ));
        assert!(matches!(
            open(key.expose(), b"ctx", &frame[..frame.len() - 1], "t"),
            Err(SecretsError::Tampered { .. })
        ));
        let mut version = frame;
        version[0] = 9;
        assert!(matches!(
            open(key.expose(), b"ctx", &version, "t"),
            Err(SecretsError::Damaged { .. })
        ));
    }

    #[test]
    fn aad_parts_are_unambiguous() {
        assert_ne!(aad("c", &[b"a", b"bc"]), aad("c", &[b"ab", b"c"]));
    }
}
