//! Passphrase-protected key files: how a key-encryption key travels between hosts.
//!
//! `secrets export-key` writes one KEK to a small JSON document: the key id in clear (so an
//! operator can tell which key a file holds), Argon2id parameters and salt, and the key
//! sealed with XChaCha20-Poly1305 under the passphrase-derived key. Everything in clear is
//! bound as associated data, so changing the id or lowering the parameters makes the file
//! fail to open. `import-key` refuses parameters outside sane bounds before deriving, so a
//! hostile file cannot make it allocate gigabytes.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use std::path::Path;
use zeroize::Zeroizing;

use crate::crypto::{KEY_LEN, aad, open, random_bytes, seal};
use crate::error::{SecretsError, SecretsResult};
use crate::kek::Kek;
use crate::secret::SecretString;

/// The format tag of an exported key file.
pub const KEY_EXPORT_FORMAT: &str = "identitymesh-key/1";
/// The shortest passphrase an export accepts.
pub const MIN_PASSPHRASE: usize = 12;
/// Largest memory cost an import accepts (1 GiB, in KiB).
const MAX_M_COST: u32 = 1 << 20;

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// What the product uses: 64 MiB, 3 passes, 1 lane (OWASP's Argon2id baseline and more).
    pub const STRONG: Self = Self {
        m_cost: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };
    /// Cheap parameters for tests only.
    pub const FOR_TESTS: Self = Self {
        m_cost: 256,
        t_cost: 1,
        p_cost: 1,
    };
}

#[derive(Serialize, Deserialize)]
struct ExportFile {
    format: String,
    key_id: String,
    kdf: String,
    #[serde(flatten)]
    params: KdfParams,
    salt: String,
    sealed: String,
}

fn header_aad(key_id: &str, params: &KdfParams, salt: &[u8]) -> Vec<u8> {
    aad(
        KEY_EXPORT_FORMAT,
        &[
            key_id.as_bytes(),
            &params.m_cost.to_be_bytes(),
            &params.t_cost.to_be_bytes(),
            &params.p_cost.to_be_bytes(),
            salt,
        ],
    )
}

fn derive(
    passphrase: &SecretString,
    salt: &[u8],
    params: &KdfParams,
) -> SecretsResult<Zeroizing<Vec<u8>>> {
    let argon = Params::new(params.m_cost, params.t_cost, params.p_cost, Some(KEY_LEN))
        .map_err(|e| SecretsError::Passphrase(format!("bad key-derivation parameters: {e}")))?;
    let mut out = Zeroizing::new(vec![0u8; KEY_LEN]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, argon)
        .hash_password_into(passphrase.expose().as_bytes(), salt, &mut out)
        .map_err(|e| SecretsError::Passphrase(format!("key derivation failed: {e}")))?;
    Ok(out)
}

/// Renders `kek` as a passphrase-protected key file.
pub fn export_key(
    kek: &Kek,
    passphrase: &SecretString,
    params: KdfParams,
) -> SecretsResult<String> {
    if passphrase.expose().chars().count() < MIN_PASSPHRASE {
        return Err(SecretsError::Passphrase(format!(
            "use at least {MIN_PASSPHRASE} characters"
        )));
    }
    let salt = random_bytes(16)?;
    let key = derive(passphrase, &salt, &params)?;
    let id = kek.id().to_string();
    let sealed = seal(&key, &header_aad(&id, &params, &salt), kek.material())?;
    let file = ExportFile {
        format: KEY_EXPORT_FORMAT.into(),
        key_id: id,
        kdf: "argon2id".into(),
        params,
        salt: B64.encode(&*salt),
        sealed: B64.encode(sealed),
    };
    serde_json::to_string_pretty(&file)
        .map(|s| s + "\n")
        .map_err(|e| SecretsError::Random(format!("cannot encode the key file: {e}")))
}

/// The key id an exported key file names (without opening it).
pub fn exported_key_id(text: &str, path: &Path) -> SecretsResult<String> {
    parse(text, path).map(|f| f.key_id)
}

fn parse(text: &str, path: &Path) -> SecretsResult<ExportFile> {
    let bad = |message: String| SecretsError::KeyFile {
        path: path.to_owned(),
        message,
    };
    let file: ExportFile = serde_json::from_str(text).map_err(|_| {
        bad(format!(
            "not an exported key file (expected {KEY_EXPORT_FORMAT})"
        ))
    })?;
    if file.format != KEY_EXPORT_FORMAT || file.kdf != "argon2id" {
        return Err(bad(format!(
            "unsupported format '{}' / '{}'",
            file.format, file.kdf
        )));
    }
    let p = &file.params;
    if p.m_cost > MAX_M_COST || p.t_cost == 0 || p.t_cost > 64 || p.p_cost == 0 || p.p_cost > 16 {
        return Err(bad("key-derivation parameters out of bounds".into()));
    }
    Ok(file)
}

/// Opens a key file made by [`export_key`]; `path` names it in errors.
pub fn import_key(text: &str, passphrase: &SecretString, path: &Path) -> SecretsResult<Kek> {
    let file = parse(text, path)?;
    let bad = |message: &str| SecretsError::KeyFile {
        path: path.to_owned(),
        message: message.to_owned(),
    };
    let salt = B64
        .decode(&file.salt)
        .map_err(|_| bad("the salt is not base64"))?;
    let sealed = B64
        .decode(&file.sealed)
        .map_err(|_| bad("the sealed key is not base64"))?;
    let key = derive(passphrase, &salt, &file.params)?;
    let material = open(
        &key,
        &header_aad(&file.key_id, &file.params, &salt),
        &sealed,
        "the key file",
    )
    .map_err(|_| SecretsError::WrongPassphrase {
        path: path.to_owned(),
    })?;
    let kek = Kek::from_bytes(material)?;
    if kek.id().as_str() != file.key_id {
        return Err(bad("the key does not match the id the file names"));
    }
    Ok(kek)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn pass(p: &str) -> SecretString {
        SecretString::from(p)
    }

    #[test]
    fn export_import_round_trip_and_wrong_passphrase() {
        let kek = Kek::generate().unwrap();
        let text = export_key(&kek, &pass("correct horse battery"), KdfParams::FOR_TESTS).unwrap();
        assert!(text.contains(kek.id().as_str()));
        assert!(!text.contains("correct horse"));
        let path = Path::new("k.json");
        assert_eq!(exported_key_id(&text, path).unwrap(), kek.id().as_str());
        let back = import_key(&text, &pass("correct horse battery"), path).unwrap();
        assert_eq!(back.id(), kek.id());
        let err = import_key(&text, &pass("wrong horse battery"), path).unwrap_err();
        assert!(matches!(err, SecretsError::WrongPassphrase { .. }), "{err}");
    }

    #[test]
    fn altered_headers_and_short_passphrases_are_refused() {
        let kek = Kek::generate().unwrap();
        assert!(export_key(&kek, &pass("short"), KdfParams::FOR_TESTS).is_err());
        let text = export_key(&kek, &pass("correct horse battery"), KdfParams::FOR_TESTS).unwrap();
        let lowered = text.replace("\"t_cost\": 1", "\"t_cost\": 2");
        assert!(import_key(&lowered, &pass("correct horse battery"), Path::new("k")).is_err());
        let huge = text.replace("\"m_cost\": 256", "\"m_cost\": 99999999");
        assert!(import_key(&huge, &pass("correct horse battery"), Path::new("k")).is_err());
        assert!(import_key("garbage", &pass("correct horse battery"), Path::new("k")).is_err());
    }
}
