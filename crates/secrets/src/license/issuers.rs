//! Signed license files and the issuers trusted to sign them.
//!
//! A `license.key` file is a small JSON envelope: the format tag, the issuer's key id, the
//! license document as base64 of its JSON, and an Ed25519 signature over the format tag and
//! those exact document bytes (no re-serialisation, so nothing is lost to canonical forms).
//! The verifier picks the trusted issuer by key id: an id it does not trust is "unknown
//! issuer"; a trusted id whose signature fails is "tampered". Trusted issuers are the
//! built-in project key plus any configured ones (base64 Ed25519 public keys).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::LicenseDocument;
use crate::error::{SecretsError, SecretsResult};

/// The format tag of a license file.
pub const LICENSE_FORMAT: &str = "identitymesh-license/1";

/// The project's license issuer public key(s), built in. The private half is held by the
/// project's release owner, never in the repository.
pub const BUILTIN_ISSUERS: &[&str] = &["lW4xaATaTgRgPyWcDrS0B8SGBx5L048Ra/cHluGcZ8A="];

#[derive(Serialize, Deserialize)]
struct Envelope {
    format: String,
    issuer: String,
    document: String,
    signature: String,
}

/// The fingerprint naming an issuer key (16 hex digits).
pub fn issuer_id(key: &VerifyingKey) -> String {
    let digest = blake3::derive_key("identitymesh 2025 license issuer id", key.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn signed_bytes(document: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(LICENSE_FORMAT.len() + 1 + document.len());
    out.extend_from_slice(LICENSE_FORMAT.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(document);
    out
}

/// The issuer keys a verifier trusts.
#[derive(Clone, Debug, Default)]
pub struct TrustedIssuers {
    keys: Vec<(String, VerifyingKey)>,
}

impl TrustedIssuers {
    /// No issuer at all (tests start here).
    pub fn none() -> Self {
        Self::default()
    }

    /// The built-in project issuers.
    pub fn builtin() -> SecretsResult<Self> {
        let mut out = Self::none();
        for key in BUILTIN_ISSUERS {
            out.add_base64(key, "the built-in issuer list")?;
        }
        Ok(out)
    }

    /// The built-in issuers plus those in `extra` (base64 public keys separated by commas,
    /// whitespace or new lines; `#` starts a comment), naming `origin` in errors.
    pub fn with_configured(mut self, extra: &str, origin: &str) -> SecretsResult<Self> {
        for line in extra.lines() {
            let line = line.split('#').next().unwrap_or_default();
            for key in line.split([',', ' ', '\t']).filter(|k| !k.is_empty()) {
                self.add_base64(key, origin)?;
            }
        }
        Ok(self)
    }

    /// Trusts one key.
    pub fn add(&mut self, key: VerifyingKey) {
        if !self.keys.iter().any(|(_, k)| *k == key) {
            self.keys.push((issuer_id(&key), key));
        }
    }

    /// Trusts one base64 public key.
    pub fn add_base64(&mut self, text: &str, origin: &str) -> SecretsResult<()> {
        let bad = || SecretsError::LicenseMalformed {
            source_name: origin.to_owned(),
            message: format!("'{text}' is not a base64 Ed25519 public key"),
        };
        let bytes: [u8; 32] = B64
            .decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        self.add(VerifyingKey::from_bytes(&bytes).map_err(|_| bad())?);
        Ok(())
    }

    /// The trusted key ids.
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|(id, _)| id.as_str()).collect()
    }
}

/// Signs a license document: the text of a `license.key` file. For the issuing tool.
pub fn sign_license(document: &LicenseDocument, key: &SigningKey) -> SecretsResult<String> {
    let json = serde_json::to_vec(document).map_err(|e| SecretsError::LicenseMalformed {
        source_name: "the document to sign".into(),
        message: e.to_string(),
    })?;
    let signature = key.sign(&signed_bytes(&json));
    let envelope = Envelope {
        format: LICENSE_FORMAT.into(),
        issuer: issuer_id(&key.verifying_key()),
        document: B64.encode(&json),
        signature: B64.encode(signature.to_bytes()),
    };
    serde_json::to_string_pretty(&envelope)
        .map(|s| s + "\n")
        .map_err(|e| SecretsError::LicenseMalformed {
            source_name: "the document to sign".into(),
            message: e.to_string(),
        })
}

/// Verifies a license file's text against the trusted issuers and returns its document.
/// `source_name` names the file in errors.
pub fn verify_license(
    text: &str,
    source_name: &str,
    issuers: &TrustedIssuers,
) -> SecretsResult<LicenseDocument> {
    let malformed = |message: &str| SecretsError::LicenseMalformed {
        source_name: source_name.to_owned(),
        message: message.to_owned(),
    };
    let envelope: Envelope =
        serde_json::from_str(text).map_err(|_| malformed("not an IdentityMesh license file"))?;
    if envelope.format != LICENSE_FORMAT {
        return Err(malformed("unsupported license format"));
    }
    let key = issuers
        .keys
        .iter()
        .find(|(id, _)| *id == envelope.issuer)
        .map(|(_, k)| k)
        .ok_or_else(|| SecretsError::LicenseUnknownIssuer {
            source_name: source_name.to_owned(),
            key_id: envelope.issuer.clone(),
        })?;
    let tampered = || SecretsError::LicenseTampered {
        source_name: source_name.to_owned(),
    };
    let document = B64.decode(&envelope.document).map_err(|_| tampered())?;
    let signature: [u8; 64] = B64
        .decode(&envelope.signature)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or_else(tampered)?;
    key.verify(&signed_bytes(&document), &Signature::from_bytes(&signature))
        .map_err(|_| tampered())?;
    serde_json::from_slice(&document)
        .map_err(|e| malformed(&format!("signed, but unreadable: {e}")))
}
