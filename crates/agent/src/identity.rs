//! The relay's identity: an Ed25519 key pair generated on first start and kept in the data
//! directory (`relay.key`, mode 0600, the 32-byte private seed), and `relay.json` with the
//! relay id the hub assigned at enrollment. The private key is never logged; `Debug` shows
//! the public key only.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

use crate::error::AgentError;

/// The private key file in the data directory.
pub const KEY_FILE: &str = "relay.key";
/// The enrollment record in the data directory.
pub const RELAY_FILE: &str = "relay.json";

/// What `relay.json` holds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrollment {
    /// The id the hub assigned.
    pub relay_id: String,
    /// The hub it was enrolled with (`wss://host/hub/v1`).
    pub hub: String,
}

/// The key pair and enrollment of this relay.
pub struct Identity {
    key: SigningKey,
    enrollment: Option<Enrollment>,
    dir: PathBuf,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("public_key", &self.public_key())
            .field("enrollment", &self.enrollment)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl Identity {
    /// Loads the identity of `data_dir`, generating the key pair on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, AgentError> {
        create_dir(data_dir)?;
        let path = data_dir.join(KEY_FILE);
        if !path.exists() {
            let key = SigningKey::generate(&mut rand_core::OsRng);
            write_private_new(&path, key.as_bytes())?;
            tracing::info!(public_key = %URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()), "generated the relay's key pair");
        }
        let key = read_key(&path)?;
        let enrollment = read_enrollment(&data_dir.join(RELAY_FILE))?;
        Ok(Self {
            key,
            enrollment,
            dir: data_dir.to_owned(),
        })
    }

    /// The public key, 32 bytes in unpadded base64url (as `enroll` carries it).
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes())
    }

    /// The enrolled relay id, if enrolled.
    pub fn relay_id(&self) -> Option<&str> {
        self.enrollment.as_ref().map(|e| e.relay_id.as_str())
    }

    /// The enrollment record, if enrolled.
    pub fn enrollment(&self) -> Option<&Enrollment> {
        self.enrollment.as_ref()
    }

    /// Signs `payload`; the signature in unpadded base64url.
    pub fn sign(&self, payload: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.key.sign(payload).to_bytes())
    }

    /// Records the id the hub assigned (writes `relay.json`).
    pub fn record_enrollment(&mut self, relay_id: &str, hub: &str) -> Result<(), AgentError> {
        let enrollment = Enrollment {
            relay_id: relay_id.to_owned(),
            hub: hub.to_owned(),
        };
        let text = serde_json::to_string_pretty(&enrollment)
            .map_err(|e| AgentError::file(&self.dir.join(RELAY_FILE), e.to_string()))?;
        write_replace(&self.dir.join(RELAY_FILE), text.as_bytes())?;
        self.enrollment = Some(enrollment);
        Ok(())
    }
}

fn read_key(path: &Path) -> Result<SigningKey, AgentError> {
    identitymesh_secrets::check_private(path)?;
    let bytes =
        fs::read(path).map_err(|e| AgentError::file(path, format!("cannot read it: {e}")))?;
    let seed: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        AgentError::file(
            path,
            "it is not a relay key (32 bytes); move it away to generate a new key and enroll again",
        )
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

fn read_enrollment(path: &Path) -> Result<Option<Enrollment>, AgentError> {
    match fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| AgentError::file(path, format!("not a relay enrollment record: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AgentError::file(path, format!("cannot read it: {e}"))),
    }
}

/// Creates the data directory (mode 0700 when new).
pub(crate) fn create_dir(dir: &Path) -> Result<(), AgentError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| AgentError::file(dir, format!("cannot create the directory: {e}")))
}

#[cfg(unix)]
fn private_options() -> fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true).mode(0o600);
    o
}

#[cfg(not(unix))]
fn private_options() -> fs::OpenOptions {
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    o
}

fn write_tmp(path: &Path, bytes: &[u8]) -> Result<PathBuf, AgentError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let written = (|| {
        let mut file = private_options().open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    written.map_err(|e| AgentError::file(path, format!("cannot write it: {e}")))?;
    Ok(tmp)
}

/// Writes a new private file (mode 0600) atomically; an existing file is kept.
pub(crate) fn write_private_new(path: &Path, bytes: &[u8]) -> Result<(), AgentError> {
    let tmp = write_tmp(path, bytes)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(AgentError::file(path, format!("cannot write it: {e}"))),
    }
}

/// Replaces a file (mode 0600) atomically.
pub(crate) fn write_replace(path: &Path, bytes: &[u8]) -> Result<(), AgentError> {
    let tmp = write_tmp(path, bytes)?;
    fs::rename(&tmp, path).map_err(|e| AgentError::file(path, format!("cannot replace it: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_key_is_created_private_stable_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("relay");
        let first = Identity::load_or_create(&data).unwrap();
        let again = Identity::load_or_create(&data).unwrap();
        assert_eq!(first.public_key(), again.public_key());
        assert_eq!(first.public_key().len(), 43);
        let seed = URL_SAFE_NO_PAD.encode(fs::read(data.join(KEY_FILE)).unwrap());
        let shown = format!("{first:?}");
        assert!(
            !shown.contains(&seed) && shown.contains("<redacted>"),
            "{shown}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(data.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(first.relay_id(), None);
        let mut enrolled = first;
        enrolled
            .record_enrollment("r-7", "wss://hub/hub/v1")
            .unwrap();
        assert_eq!(
            Identity::load_or_create(&data).unwrap().relay_id(),
            Some("r-7")
        );
    }
}
