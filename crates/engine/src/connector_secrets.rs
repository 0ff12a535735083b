//! Opens the secrets a connector's configuration names (`secrets = { bind_password =
//! "ldap-bind" }`) through the vault, inside one store transaction, recording their use.
//! A secret that is missing or cannot be opened stops the run before the connector is built,
//! with a message naming the connector, the setting, the secret and what to do — never a
//! value.

use chrono::{DateTime, Utc};
use identitymesh_connectors::ConnectorSecrets;
use identitymesh_domain::config::ConnectorConfig;
use identitymesh_secrets::SecretsError;
use identitymesh_store::vault::Vault;
use identitymesh_store::{Store, StoreError};
use std::sync::Arc;

use crate::error::EngineError;

/// Opens every secret `config` names, by connector setting.
pub(crate) async fn resolve(
    store: &Store,
    vault: Option<Arc<Vault>>,
    config: &ConnectorConfig,
    now: DateTime<Utc>,
) -> Result<ConnectorSecrets, EngineError> {
    if config.secrets.is_empty() {
        return Ok(ConnectorSecrets::new());
    }
    let connector = config.name.to_string();
    let refs: Vec<(String, String)> = config
        .secrets
        .iter()
        .map(|(setting, secret)| (setting.clone(), secret.clone()))
        .collect();
    let Some(vault) = vault else {
        let (setting, secret) = refs.into_iter().next().unwrap_or_default();
        return Err(EngineError::Secret {
            connector,
            setting,
            secret,
            problem: "but this engine was started without the host's key-encryption keys, so no \
                      secret can be opened"
                .into(),
        });
    };
    let name = connector.clone();
    store
        .run_blocking(move |tx| {
            let mut out = ConnectorSecrets::new();
            for (setting, secret) in refs {
                let problem = match vault.get(tx, &secret, now) {
                    Ok(Some(value)) => {
                        out.insert(setting, value);
                        continue;
                    }
                    Ok(None) => format!(
                        "which is not stored in the database. Store it with \
                         `identitymesh secrets set {secret}` (the value on standard input)"
                    ),
                    // the error names the key id and the ceremony that brings it
                    Err(StoreError::Secrets(e @ SecretsError::MissingKey { .. })) => {
                        format!("which cannot be opened on this host: {e}")
                    }
                    Err(StoreError::Secrets(e)) => format!(
                        "which cannot be opened on this host: {e}. Store the value again with \
                         `identitymesh secrets set {secret}`; `identitymesh secrets check` lists \
                         every record that does not open"
                    ),
                    Err(other) => return Err(other),
                };
                return Ok(Err(EngineError::Secret {
                    connector: name,
                    setting,
                    secret,
                    problem,
                }));
            }
            Ok(Ok(out))
        })
        .await?
}
