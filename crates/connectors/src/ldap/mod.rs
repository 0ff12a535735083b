//! The LDAP connector: full import with paged results, per-item export with value-level
//! modifies (large ones in chunks) and modrdn renames. DNs and filters go through the codecs
//! of `identitymesh-ldap`, never string formatting. The anchor is the connector's `anchor`
//! attribute (`entryUUID` on OpenLDAP, `objectGUID` on Active Directory): a DN is a name, not
//! an identity, and a connector anchored on it is refused.
//!
//! `flavor = "active_directory"` adds ranged attribute retrieval, the objectGUID text form,
//! `enabled` from `userAccountControl`, `accountExpires` timestamps, initial passwords
//! through `unicodePwd`, and delta import by `uSNChanged` bound to the DC's invocationId.
//!
//! Not yet here (issue 4): the server schema, OpenLDAP delta import (content sync),
//! connection pooling.

mod ad;
mod ad_export;
mod chunks;
mod export;
mod guid;
mod import;
mod ranged;
mod session;
mod settings;
mod uac;

use async_trait::async_trait;
use identitymesh_domain::config::ConnectorConfig;
use identitymesh_domain::export::{ExportItem, ExportOutcome};
use identitymesh_domain::schema::ObjectTypeSchema;
use identitymesh_domain::watermark::{WATERMARK_FORMAT, Watermark};
use identitymesh_ldap::Filter;
use identitymesh_secrets::SecretString;
use ldap3::controls::RawControl;
use ldap3::{Ldap, Scope};
use std::path::{Path, PathBuf};

pub use settings::{Flavor, InitialPassword, LdapSettings, SearchScope, TlsMode, TlsSettings};

use crate::{
    Connector, ConnectorError, ConnectorSecrets, ExportStyle, ImportMode, ImportShape, ImportStream,
};
use ad_export::PasswordSource;
use export::ExportContext;
use import::{ImportPlan, LdapImport, Mapper, SearchSpec};

/// The secret setting holding the bind password.
pub const BIND_PASSWORD: &str = "bind_password";
/// The secret setting holding new AD users' initial password (`initial_password = "secret"`).
pub const INITIAL_PASSWORD: &str = "initial_password";
/// Values per window of a ranged read: Active Directory's MaxValRange default.
const RANGE_SIZE: u64 = 1500;

/// A connection to one LDAP directory.
pub struct LdapConnector {
    name: String,
    settings: LdapSettings,
    ca_file: Option<PathBuf>,
    schema: ObjectTypeSchema,
    password: SecretString,
    initial_password: Option<SecretString>,
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
        let wants_initial = settings.initial_password == Some(InitialPassword::Secret);
        if let Some(other) = secrets
            .settings()
            .find(|s| *s != BIND_PASSWORD && !(wants_initial && *s == INITIAL_PASSWORD))
        {
            return Err(config_error(format!(
                "secrets.{other}: an ldap connector takes only the secret '{BIND_PASSWORD}' \
                 (and '{INITIAL_PASSWORD}' with initial_password = \"secret\")"
            )));
        }
        let initial_password = if wants_initial {
            Some(secrets.require(&name, INITIAL_PASSWORD)?.clone())
        } else {
            None
        };
        if settings.initial_password.is_some() && !settings.tls_protected() {
            return Err(config_error(format!(
                "[connectors.{name}.ldap] initial_password is sent as unicodePwd, which needs \
                 LDAPS or StartTLS: use an ldaps:// url or tls = \"starttls\""
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
        let ca_file = settings.ca_file().map(|p| {
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
            initial_password,
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
        let mut attributes: Vec<String> = if self.is_ad() {
            ad::requested(&self.schema.attributes, RANGE_SIZE)
        } else {
            self.schema
                .attributes
                .iter()
                .map(|a| a.name.clone())
                .collect()
        };
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
            controls: Vec::new(),
            deleted: false,
        })
    }

    fn is_ad(&self) -> bool {
        self.settings.flavor == Flavor::ActiveDirectory
    }

    fn mapper(&self) -> Mapper {
        Mapper {
            schema: self.schema.clone(),
            ad_range: self.is_ad().then_some(RANGE_SIZE),
        }
    }

    fn render(&self, filter: Filter) -> Result<String, ConnectorError> {
        filter.render().map_err(|e| ConnectorError::Config {
            connector: self.name.clone(),
            message: e.to_string(),
        })
    }

    /// The Active Directory plan: a full read, or the changes and tombstones since a
    /// watermark of this same DC. The position is read before the search, so a change made
    /// during the read is read again next time, never lost.
    async fn ad_plan(
        &self,
        ldap: &mut Ldap,
        mode: &ImportMode,
        spec: &mut SearchSpec,
    ) -> Result<ImportPlan, ConnectorError> {
        let state = ad::dc_state(ldap, self.settings.operation_timeout())
            .await
            .map_err(|message| ConnectorError::Unavailable {
                connector: self.name.clone(),
                message: format!("{}: {message}", self.settings.url),
            })?;
        let watermark = Some(Watermark {
            format: WATERMARK_FORMAT,
            source_id: self.source_id(),
            position: state.position(),
        });
        let since = match mode {
            ImportMode::Full => None,
            ImportMode::Delta(w) => match ad::parse_position(&w.position) {
                Some((id, usn)) if id == state.invocation_id => Some(usn),
                _ => {
                    tracing::warn!(
                        connector = %self.name, stored = %w.position, dc = %state.invocation_id,
                        "the watermark was issued by another domain controller (or before a \
                         restore): running an explicit full import"
                    );
                    None
                }
            },
        };
        let Some(usn) = since else {
            return Ok(ImportPlan {
                shape: ImportShape::Full,
                rest: Vec::new(),
                watermark,
            });
        };
        let changed = || Filter::ge("uSNChanged", (usn + 1).to_string());
        spec.filter = self.render(Filter::and([self.settings.filter(), changed()]))?;
        let tombstones = SearchSpec {
            server: spec.server.clone(),
            base: state.naming_context,
            scope: Scope::Subtree,
            filter: self.render(Filter::and([
                self.settings.filter(),
                Filter::eq("isDeleted", "TRUE"),
                changed(),
            ]))?,
            attributes: vec![self.schema.anchor.clone()],
            page_size: spec.page_size,
            timeout: spec.timeout,
            controls: vec![RawControl {
                ctype: ad::SHOW_DELETED.to_owned(),
                crit: true,
                val: None,
            }],
            deleted: true,
        };
        Ok(ImportPlan {
            shape: ImportShape::Delta,
            rest: vec![tombstones],
            watermark,
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
        // OpenLDAP delta import (content sync) is not built yet: it reads everything.
        let mut spec = self.search_spec()?;
        let mut ldap = self.session().await?;
        let plan = if self.is_ad() {
            self.ad_plan(&mut ldap, &mode, &mut spec).await?
        } else {
            ImportPlan {
                shape: ImportShape::Full,
                rest: Vec::new(),
                watermark: None,
            }
        };
        Ok(Box::new(LdapImport::new(ldap, spec, self.mapper(), plan)))
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
            active_directory: self.is_ad(),
            chunk_size: self.settings.chunk_size,
            tls: self.settings.tls_protected(),
            password: match (self.settings.initial_password, &self.initial_password) {
                (Some(InitialPassword::Secret), Some(secret)) => {
                    Some(PasswordSource::Secret(secret))
                }
                (Some(InitialPassword::Generate), _) => Some(PasswordSource::Generate),
                _ => None,
            },
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
