//! Key-encryption keys (KEKs) and the key files of a data directory.
//!
//! A KEK is 32 random bytes. Its id is a short fingerprint (16 hex digits of a BLAKE3
//! derivation): it names the key in blobs, errors and ceremonies without revealing it.
//! A data directory holds:
//!
//! - `host.key` — this host's own KEK, created on first use (mode 0600);
//! - `keys/ID.key` — every other KEK this host holds: imported from another host, the shared
//!   key of a scale-out deployment, or a retired key kept after a rotation until the operator
//!   deletes it.
//!
//! Every key file is refused when group or others can read it, naming the `chmod` that
//! fixes it. Key material never reaches a log, an error or `Debug` output.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::crypto::{KEY_LEN, random_key};
use crate::error::{SecretsError, SecretsResult};
use crate::secret::SecretBytes;

/// The file name of the host key in a data directory.
pub const HOST_KEY_FILE: &str = "host.key";
/// The directory of other keys in a data directory.
pub const KEYS_DIR: &str = "keys";

/// A key id: 16 lowercase hex digits fingerprinting a key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// The fingerprint of key material.
    pub fn of(material: &[u8]) -> Self {
        let digest = blake3::derive_key("identitymesh 2025 key-encryption key id", material);
        Self(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A key-encryption key.
#[derive(Clone)]
pub struct Kek {
    id: KeyId,
    key: SecretBytes,
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kek({}, <redacted>)", self.id)
    }
}

impl Kek {
    /// A new random key.
    pub fn generate() -> SecretsResult<Self> {
        random_key().and_then(Self::from_bytes)
    }

    /// A key from its 32 bytes.
    pub fn from_bytes(key: SecretBytes) -> SecretsResult<Self> {
        if key.len() != KEY_LEN {
            return Err(SecretsError::Damaged {
                record: "a key-encryption key".into(),
                message: format!("{} bytes where {KEY_LEN} were expected", key.len()),
            });
        }
        Ok(Self {
            id: KeyId::of(key.expose()),
            key,
        })
    }

    /// The key's id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The key material, for this crate's seal and open.
    pub(crate) fn material(&self) -> &[u8] {
        self.key.expose()
    }

    /// Reads a key file, refusing one that group or others can read.
    pub fn read_file(path: &Path) -> SecretsResult<Self> {
        check_private(path)?;
        let bytes = fs::read(path).map_err(|e| key_file(path, format!("cannot read it: {e}")))?;
        Self::from_bytes(SecretBytes::new(bytes)).map_err(|_| {
            key_file(
                path,
                format!("it is not a key file (a key file holds exactly {KEY_LEN} bytes)"),
            )
        })
    }

    /// Writes the key to `path` (mode 0600) unless a file is already there. Returns whether
    /// it wrote. The write is atomic: the file appears complete or not at all.
    pub fn write_new_file(&self, path: &Path) -> SecretsResult<bool> {
        if path.exists() {
            return Ok(false);
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dir(parent)?;
        }
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let written = (|| {
            let mut file = private_options().open(&tmp)?;
            file.write_all(self.material())?;
            file.sync_all()?;
            // a hard link fails if the target exists: two processes racing both end up
            // with the one key that won
            fs::hard_link(&tmp, path)
        })();
        let _ = fs::remove_file(&tmp);
        match written {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(key_file(path, format!("cannot write it: {e}"))),
        }
    }
}

fn key_file(path: &Path, message: String) -> SecretsError {
    SecretsError::KeyFile {
        path: path.to_owned(),
        message,
    }
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

/// Creates a directory (and parents) that only the owner can enter, for new directories.
pub(crate) fn create_private_dir(dir: &Path) -> SecretsResult<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| key_file(dir, format!("cannot create the directory: {e}")))
}

/// Refuses a file that group or others may read or write.
pub fn check_private(path: &Path) -> SecretsResult<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta =
            fs::metadata(path).map_err(|e| key_file(path, format!("cannot read it: {e}")))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretsError::KeyFilePermissions {
                path: path.to_owned(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The key files of one data directory.
#[derive(Clone, Debug)]
pub struct KeyDir {
    root: PathBuf,
}

impl KeyDir {
    /// The key files under `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            root: data_dir.to_owned(),
        }
    }

    /// `DATA_DIR/host.key`.
    pub fn host_key_path(&self) -> PathBuf {
        self.root.join(HOST_KEY_FILE)
    }

    /// `DATA_DIR/keys/ID.key`.
    pub fn key_path(&self, id: &KeyId) -> PathBuf {
        self.root.join(KEYS_DIR).join(format!("{id}.key"))
    }

    /// The host key, created on first use.
    pub fn host_key(&self) -> SecretsResult<Kek> {
        let path = self.host_key_path();
        if !path.exists() {
            Kek::generate()?.write_new_file(&path)?;
        }
        Kek::read_file(&path)
    }

    /// Every key this host holds: the host key (created on first use) and `keys/*.key`.
    pub fn load(&self) -> SecretsResult<KeySet> {
        let mut set = KeySet::new(self.host_key()?);
        let dir = self.root.join(KEYS_DIR);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(set),
            Err(e) => return Err(key_file(&dir, format!("cannot list it: {e}"))),
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "key"))
            .collect();
        paths.sort();
        for path in paths {
            set.insert(Kek::read_file(&path)?);
        }
        Ok(set)
    }

    /// Keeps `kek` in `keys/ID.key` (unless it is already held there). Returns the path.
    pub fn add(&self, kek: &Kek) -> SecretsResult<PathBuf> {
        let path = self.key_path(kek.id());
        kek.write_new_file(&path)?;
        Ok(path)
    }

    /// Makes `new` the host key. The old host key is kept as `keys/OLD.key` first, so no
    /// moment exists at which it is lost.
    pub fn replace_host_key(&self, new: &Kek) -> SecretsResult<()> {
        let path = self.host_key_path();
        if path.exists() {
            self.add(&Kek::read_file(&path)?)?;
        }
        let staged = self.add(new)?;
        let tmp = path.with_extension("key.new");
        let _ = fs::remove_file(&tmp);
        fs::copy(&staged, &tmp)
            .and_then(|_| fs::rename(&tmp, &path))
            .map_err(|e| key_file(&path, format!("cannot replace it: {e}")))?;
        check_private(&path)
    }
}

/// The keys present on this host, by id.
#[derive(Clone, Debug)]
pub struct KeySet {
    host: KeyId,
    keys: BTreeMap<KeyId, Kek>,
}

impl KeySet {
    /// A set holding the host key.
    pub fn new(host: Kek) -> Self {
        let id = host.id().clone();
        Self {
            keys: BTreeMap::from([(id.clone(), host)]),
            host: id,
        }
    }

    /// Adds a key.
    pub fn insert(&mut self, kek: Kek) {
        self.keys.insert(kek.id().clone(), kek);
    }

    /// The host key's id.
    pub fn host_id(&self) -> &KeyId {
        &self.host
    }

    /// The host key.
    pub fn host(&self) -> SecretsResult<&Kek> {
        self.require(self.host.as_str(), "the host key")
    }

    /// A key by id, if held.
    pub fn get(&self, id: &str) -> Option<&Kek> {
        self.keys.get(&KeyId(id.to_owned()))
    }

    /// A key by id, or the error that names it and says how to bring it.
    pub fn require(&self, id: &str, record: &str) -> SecretsResult<&Kek> {
        self.get(id).ok_or_else(|| SecretsError::MissingKey {
            key_id: id.to_owned(),
            record: record.to_owned(),
            present: self.describe(),
        })
    }

    /// The ids held, host key first.
    pub fn ids(&self) -> Vec<KeyId> {
        let mut ids = vec![self.host.clone()];
        ids.extend(self.keys.keys().filter(|k| **k != self.host).cloned());
        ids
    }

    /// `1a2b… (host), 3c4d…` for messages.
    pub fn describe(&self) -> String {
        self.ids()
            .iter()
            .map(|id| {
                if *id == self.host {
                    format!("{id} (host key)")
                } else {
                    id.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn host_key_is_created_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyDir::new(&dir.path().join("data"));
        let first = keys.host_key().unwrap();
        let again = keys.host_key().unwrap();
        assert_eq!(first.id(), again.id());
        assert_eq!(first.id().as_str().len(), 16);
        assert!(!format!("{first:?}").contains(&format!("{:?}", first.material())));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(keys.host_key_path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_readable_key_file_is_refused_naming_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyDir::new(dir.path());
        keys.host_key().unwrap();
        let path = keys.host_key_path();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = keys.load().unwrap_err().to_string();
        assert!(
            err.contains(&format!("chmod 600 {}", path.display())),
            "{err}"
        );
    }

    #[test]
    fn a_damaged_key_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyDir::new(dir.path());
        keys.host_key().unwrap();
        fs::write(keys.host_key_path(), b"short").unwrap();
        let err = keys.load().unwrap_err().to_string();
        assert!(err.contains("not a key file"), "{err}");
    }

    #[test]
    fn replacing_the_host_key_keeps_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyDir::new(dir.path());
        let old = keys.host_key().unwrap();
        let new = Kek::generate().unwrap();
        keys.replace_host_key(&new).unwrap();
        let set = keys.load().unwrap();
        assert_eq!(set.host_id(), new.id());
        assert!(set.get(old.id().as_str()).is_some());
        let missing = set
            .require("0000000000000000", "secret 'x'")
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("0000000000000000") && missing.contains("import-key"),
            "{missing}"
        );
    }
}
