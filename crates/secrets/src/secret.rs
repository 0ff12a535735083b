//! Types that hold secret material and refuse to show it.
//!
//! [`SecretString`] and [`SecretBytes`] zero their memory when dropped, print `<redacted>`
//! in both `Debug` and `Display`, and do not implement `Serialize`: the only way to the value
//! is an explicit call to `expose`, which is easy to find in review.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A secret text (a password, a token). Zeroed on drop; never printed.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a value. The caller should not keep another copy.
    pub fn new(value: String) -> Self {
        Self(value)
    }
    /// The value. Use it, do not store or print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Decodes UTF-8 secret bytes into a secret string.
    pub fn from_utf8(bytes: SecretBytes) -> Option<Self> {
        std::str::from_utf8(bytes.expose())
            .ok()
            .map(|s| Self(s.to_owned()))
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Secret bytes (key material, a decrypted value). Zeroed on drop; never printed.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Wraps bytes. The caller should not keep another copy.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
    /// The bytes. Use them, do not store or print them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Zeroizing<Vec<u8>>> for SecretBytes {
    fn from(mut value: Zeroizing<Vec<u8>>) -> Self {
        Self(std::mem::take(&mut *value))
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes({} bytes, <redacted>)", self.0.len())
    }
}

impl fmt::Display for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = SecretString::from("Tr1cky,Pa$$");
        let b = SecretBytes::new(b"Tr1cky,Pa$$".to_vec());
        for shown in [
            format!("{s:?}"),
            format!("{s}"),
            format!("{b:?}"),
            format!("{b}"),
            format!("{:#?}", Some(&s)),
        ] {
            assert!(!shown.contains("Tr1cky"), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
        assert_eq!(s.expose(), "Tr1cky,Pa$$");
        assert_eq!(
            SecretString::from_utf8(b).map(|s| s.expose().to_owned()),
            Some("Tr1cky,Pa$$".to_owned())
        );
    }
}
