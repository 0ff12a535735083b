//! The relay's own secret store: connector credentials sealed under this host's key, one file
//! per secret (`secrets/NAME.json` in the data directory), with the secrets crate's envelope
//! encryption (`host.key` beside it, created on first use). A relay-hosted connector's
//! credentials are set here with `identitymesh relay secrets set NAME` and never cross the
//! hub: its configuration names them, the relay opens them when the connector runs.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use identitymesh_connectors::ConnectorSecrets;
use identitymesh_domain::config::{ConnectorConfig, check_secret_name};
use identitymesh_secrets::{KeyDir, KeySet, SealedSecret, SecretLabel, SecretString, WrappedKey};
use serde::{Deserialize, Serialize};

use crate::error::AgentError;
use crate::identity::write_replace;

/// The directory of sealed secrets in the data directory.
pub const SECRETS_DIR: &str = "secrets";
/// What a relay secret's ciphertext is bound to besides its name and version.
const PURPOSE: &str = "relay-connector";

/// One sealed secret on disk.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretFile {
    version: i64,
    kek_id: String,
    wrapped_key: String,
    ciphertext: String,
}

/// The sealed secrets of one data directory.
#[derive(Debug)]
pub struct LocalSecrets {
    dir: PathBuf,
    keys: KeySet,
}

impl LocalSecrets {
    /// The store of `data_dir`, with this host's keys (the host key is created on first use).
    pub fn open(data_dir: &Path) -> Result<Self, AgentError> {
        Ok(Self {
            dir: data_dir.join(SECRETS_DIR),
            keys: KeyDir::new(data_dir).load()?,
        })
    }

    fn path(&self, name: &str) -> Result<PathBuf, AgentError> {
        check_secret_name(name).map_err(AgentError::Setup)?;
        Ok(self.dir.join(format!("{name}.json")))
    }

    /// Seals `value` as `name` (replacing an earlier value).
    pub fn set(&self, name: &str, value: &SecretString) -> Result<(), AgentError> {
        let path = self.path(name)?;
        let version = self.read(&path)?.map_or(1, |f| f.version + 1);
        let label = SecretLabel {
            name,
            purpose: PURPOSE,
            version,
        };
        let host = self.keys.host_id().as_str().to_owned();
        let sealed = self
            .keys
            .seal_secret(&host, &label, value.expose().as_bytes())?;
        let file = SecretFile {
            version,
            kek_id: sealed.key.kek_id,
            wrapped_key: STANDARD.encode(&sealed.key.blob),
            ciphertext: STANDARD.encode(&sealed.ciphertext),
        };
        let text = serde_json::to_string_pretty(&file)
            .map_err(|e| AgentError::file(&path, e.to_string()))?;
        crate::identity::create_dir(&self.dir)?;
        write_replace(&path, text.as_bytes())
    }

    /// Opens `name`; `None` when it was never set.
    pub fn get(&self, name: &str) -> Result<Option<SecretString>, AgentError> {
        let path = self.path(name)?;
        let Some(file) = self.read(&path)? else {
            return Ok(None);
        };
        let damaged =
            |what: &str| AgentError::file(&path, format!("damaged {what}; set the secret again"));
        let sealed = SealedSecret {
            key: WrappedKey {
                kek_id: file.kek_id,
                blob: STANDARD
                    .decode(&file.wrapped_key)
                    .map_err(|_| damaged("wrapped key"))?,
            },
            ciphertext: STANDARD
                .decode(&file.ciphertext)
                .map_err(|_| damaged("ciphertext"))?,
        };
        let label = SecretLabel {
            name,
            purpose: PURPOSE,
            version: file.version,
        };
        let bytes = self.keys.open_secret(&label, &sealed)?;
        SecretString::from_utf8(bytes)
            .map(Some)
            .ok_or_else(|| damaged("value (not UTF-8)"))
    }

    fn read(&self, path: &Path) -> Result<Option<SecretFile>, AgentError> {
        match fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| AgentError::file(path, format!("not a sealed secret: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(AgentError::file(path, format!("cannot read it: {e}"))),
        }
    }

    /// Opens every secret `config` names, by connector setting; the error names the
    /// connector, the setting, the secret and the command that stores it — never a value.
    pub fn resolve(&self, config: &ConnectorConfig) -> Result<ConnectorSecrets, String> {
        let mut out = ConnectorSecrets::new();
        for (setting, secret) in &config.secrets {
            match self.get(secret) {
                Ok(Some(value)) => out.insert(setting.clone(), value),
                Ok(None) => {
                    return Err(format!(
                        "connector '{}': the setting '{setting}' names secret '{secret}', which is not stored on this relay; store it on the relay host with `identitymesh relay secrets set {secret}`",
                        config.name
                    ));
                }
                Err(e) => {
                    return Err(format!(
                        "connector '{}': secret '{secret}' (setting '{setting}') cannot be opened on this relay: {e}",
                        config.name
                    ));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_round_trip_sealed_and_bad_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalSecrets::open(dir.path()).unwrap();
        assert!(store.get("ldap-bind").unwrap().is_none());
        store
            .set("ldap-bind", &SecretString::from("Tr1cky,Pa$$"))
            .unwrap();
        store
            .set("ldap-bind", &SecretString::from("Second,Pa$$"))
            .unwrap();
        let on_disk = fs::read_to_string(dir.path().join("secrets/ldap-bind.json")).unwrap();
        assert!(!on_disk.contains("Pa$$"), "{on_disk}");
        let reopened = LocalSecrets::open(dir.path()).unwrap();
        assert_eq!(
            reopened.get("ldap-bind").unwrap().unwrap().expose(),
            "Second,Pa$$"
        );
        let bad = store.get("../x").unwrap_err().to_string();
        assert!(bad.contains("not a secret name"), "{bad}");
    }
}
