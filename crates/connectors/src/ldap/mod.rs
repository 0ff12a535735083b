//! The LDAP connector (OpenLDAP flavour): full import with paged results, per-item export
//! with value-level modifies and modrdn renames. DNs and filters go through the codecs of
//! `identitymesh-ldap`, never string formatting. The anchor is the connector's `anchor`
//! attribute (`entryUUID` on OpenLDAP): a DN is a name, not an identity, and a connector
//! anchored on it is refused.
//!
//! Not yet here (issue 4): Active Directory ranged retrieval and objectGUID, the server
//! schema, delta import (content sync), chunked large-group writes, connection pooling.

mod export;
mod import;
mod session;
mod settings;

use async_trait::async_trait;
use identitymesh_domain::config::ConnectorConfig;
use identitymesh_domain::export::{ExportItem, ExportOutcome};
use identitymesh_domain::schema::ObjectTypeSchema;
use identitymesh_secrets::SecretString;
use ldap3::{Ldap, Scope};
use std::path::{Path, PathBuf};

pub use settings::{LdapSettings, SearchScope, TlsSettings};

use crate::{Connector, ConnectorError, ConnectorSecrets, ExportStyle, ImportMode, ImportStream};
use export::ExportContext;
use import::{LdapImport, SearchSpec};

/// The secret setting holding the bind password.
pub const BIND_PASSWORD: &str = "bind_password";

/// A connection to one LDAP directory.
pub struct LdapConnector {
    name: String,
    settings: LdapSettings,
    ca_file: Option<PathBuf>,
    schema: ObjectTypeSchema,
    password: SecretString,
    ldap: Option<Ldap>,
}

impl LdapConnector {
    /// Builds the connector from its configuration and secrets (`bind_password`).
    pub fn from_config(
        config: &ConnectorConfig,
        base_dir: &Path,
        secrets: &ConnectorSecrets,
    ) -> Result<Self, ConnectorError> {
        let name = config.name.to_string();
        let config_error = |message: String| ConnectorError::Config {
            connector: name.clone(),
            message,
        };
        let settings: LdapSettings = serde_json::from_value(config.settings.clone())
            .map_err(|e| config_error(format!("[connectors.{name}.ldap] {e}")))?;
        settings
            .validate()
            .map_err(|m| config_error(format!("[connectors.{name}.ldap] {m}")))?;
        if let Some(other) = secrets.settings().find(|s| *s != BIND_PASSWORD) {
            return Err(config_error(format!(
                "secrets.{other}: an ldap connector takes only the secret '{BIND_PASSWORD}'"
            )));
        }
        let anchor = config.schema.anchor.as_str();
        if ["dn", "distinguishedName", "entryDN"]
            .iter()
            .any(|a| a.eq_ignore_ascii_case(anchor))
        {
            return Err(config_error(format!(
                "anchor '{anchor}' is a name, not a stable identity (it changes on rename or \
                 move); use entryUUID (OpenLDAP) or objectGUID (Active Directory)"
            )));
        }
        let password = secrets.require(&name, BIND_PASSWORD)?.clone();
        let ca_file = settings.tls.ca_file.as_ref().map(|p| {
            if p.is_absolute() {
                p.clone()
            } else {
                base_dir.join(p)
            }
        });
        Ok(Self {
            name,
            settings,
            ca_file,
            schema: config.schema.clone(),
            password,
            ldap: None,
        })
    }

    async fn session(&mut self) -> Result<Ldap, ConnectorError> {
        if let Some(ldap) = self.ldap.as_mut()
            && !ldap.is_closed()
        {
            return Ok(ldap.clone());
        }
        let ldap = session::connect(
            &self.name,
            &self.settings,
            self.ca_file.as_deref(),
            &self.password,
        )
        .await?;
        self.ldap = Some(ldap.clone());
        Ok(ldap)
    }

    fn search_spec(&self) -> Result<SearchSpec, ConnectorError> {
        let filter = self
            .settings
            .filter()
            .render()
            .map_err(|e| ConnectorError::Config {
                connector: self.name.clone(),
                message: e.to_string(),
            })?;
        let mut attributes: Vec<String> = self
            .schema
            .attributes
            .iter()
            .map(|a| a.name.clone())
            .collect();
        if !attributes
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&self.schema.anchor))
        {
            attributes.push(self.schema.anchor.clone());
        }
        Ok(SearchSpec {
            server: self.settings.url.clone(),
            base: self.settings.base_dn.clone(),
            scope: match self.settings.scope {
                SearchScope::Base => Scope::Base,
                SearchScope::One => Scope::OneLevel,
                SearchScope::Sub => Scope::Subtree,
            },
            filter,
            attributes,
            page_size: self.settings.page_size,
            timeout: self.settings.operation_timeout(),
        })
    }
}

#[async_trait]
impl Connector for LdapConnector {
    fn source_id(&self) -> String {
        format!(
            "{}/{}",
            self.settings.url.trim_end_matches('/'),
            self.settings.base_dn
        )
    }

    async fn import(&mut self, mode: ImportMode) -> Result<Box<dyn ImportStream>, ConnectorError> {
        // Delta import (content sync) is not built yet: every import reads everything.
        let _ = mode;
        let spec = self.search_spec()?;
        let ldap = self.session().await?;
        Ok(Box::new(LdapImport::new(ldap, spec, self.schema.clone())))
    }

    fn export_style(&self) -> ExportStyle {
        ExportStyle::PerItem
    }

    async fn apply_exports(
        &mut self,
        items: &[ExportItem],
    ) -> Result<Vec<ExportOutcome>, ConnectorError> {
        let mut ldap = self.session().await?;
        let cx = ExportContext {
            server: &self.settings.url,
            base_dn: &self.settings.base_dn,
            anchor_attribute: &self.schema.anchor,
            object_classes: &self.settings.object_classes,
            timeout: self.settings.operation_timeout(),
        };
        let mut outcomes = Vec::with_capacity(items.len());
        for item in items {
            outcomes.push(export::apply(&mut ldap, &cx, item).await?);
        }
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests;
