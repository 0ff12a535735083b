//! The `[connectors.NAME.ldap]` settings: where the directory is, how to reach it safely and
//! what to read. The bind password is never a setting here: it comes from the secret store
//! (`secrets = { bind_password = "NAME" }`).

use identitymesh_ldap::{Dn, Filter};
use serde::Deserialize;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Search scope below `base_dn`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchScope {
    /// The base entry only.
    Base,
    /// Its immediate children.
    One,
    /// The whole subtree (default).
    #[default]
    Sub,
}

/// TLS settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM bundle of the CAs to trust (default: the system's roots).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Upgrade an `ldap://` connection with StartTLS.
    #[serde(default)]
    pub starttls: bool,
}

/// The `[connectors.NAME.ldap]` settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapSettings {
    /// `ldaps://host:636` or `ldap://host:389`.
    pub url: String,
    /// The DN to bind as (its password is the secret `bind_password`).
    pub bind_dn: String,
    /// Where the objects live.
    pub base_dn: String,
    /// Search scope below `base_dn`.
    #[serde(default)]
    pub scope: SearchScope,
    /// The object classes of this connector's objects: the search filter is the `and` of
    /// them, and an add gives them to the new entry.
    #[serde(default)]
    pub object_classes: Vec<String>,
    /// Entries per page of the paged-results control; 0 sends no control (servers without
    /// it: an import then ends partial when the server's size limit cuts it).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// TLS.
    #[serde(default)]
    pub tls: TlsSettings,
    /// Allow plain LDAP (no TLS) to a host that is not loopback.
    #[serde(default)]
    pub allow_plain: bool,
    /// Seconds to wait for the connection.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// Seconds to wait for any one operation (a bind, a page, a modify).
    #[serde(default = "default_operation_timeout")]
    pub operation_timeout_secs: u64,
}

fn default_page_size() -> u32 {
    500
}

fn default_connect_timeout() -> u64 {
    10
}

fn default_operation_timeout() -> u64 {
    60
}

impl LdapSettings {
    /// Checks the settings; the message says what to change.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let host = self.host().ok_or_else(|| {
            format!(
                "url {:?} must be ldap://HOST[:PORT] or ldaps://HOST[:PORT]",
                self.url
            )
        })?;
        let tls = self.url.starts_with("ldaps://") || self.tls.starttls;
        if !tls && !self.allow_plain && !is_loopback(host) {
            return Err(format!(
                "url {:?} is plain LDAP to a remote host: the bind password would cross the \
                 network in clear; use ldaps://, set tls.starttls = true, or set \
                 allow_plain = true if you accept that",
                self.url
            ));
        }
        Dn::parse(&self.bind_dn).map_err(|e| format!("bind_dn: {e}"))?;
        Dn::parse(&self.base_dn).map_err(|e| format!("base_dn: {e}"))?;
        self.filter()
            .render()
            .map_err(|e| format!("object_classes: {e}"))?;
        if self.page_size > i32::MAX as u32 {
            return Err("page_size is too large".into());
        }
        Ok(())
    }

    /// The host part of the URL.
    pub(crate) fn host(&self) -> Option<&str> {
        let rest = self
            .url
            .strip_prefix("ldaps://")
            .or_else(|| self.url.strip_prefix("ldap://"))?;
        let authority = rest.split('/').next()?;
        let host = if let Some(v6) = authority.strip_prefix('[') {
            v6.split(']').next()?
        } else {
            authority.split(':').next()?
        };
        (!host.is_empty()).then_some(host)
    }

    /// The search filter: every configured object class, or any entry.
    pub(crate) fn filter(&self) -> Filter {
        if self.object_classes.is_empty() {
            return Filter::present("objectClass");
        }
        Filter::and(
            self.object_classes
                .iter()
                .map(|oc| Filter::eq("objectClass", oc.as_str())),
        )
    }

    /// The connection timeout.
    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs.max(1))
    }

    /// The per-operation timeout.
    pub(crate) fn operation_timeout(&self) -> Duration {
        Duration::from_secs(self.operation_timeout_secs.max(1))
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn settings(url: &str) -> LdapSettings {
        serde_json::from_value(serde_json::json!({
            "url": url, "bind_dn": "cn=admin,dc=example,dc=test", "base_dn": "dc=example,dc=test",
            "object_classes": ["inetOrgPerson", "a)(b"],
        }))
        .unwrap()
    }

    #[test]
    fn plain_ldap_only_to_loopback_unless_allowed() {
        assert!(settings("ldap://127.0.0.1:3890").validate().is_ok());
        assert!(settings("ldap://[::1]:3890/").validate().is_ok());
        assert!(settings("ldap://localhost").validate().is_ok());
        let remote = settings("ldap://dir.example.test");
        assert!(remote.validate().unwrap_err().contains("plain LDAP"));
        assert!(settings("ldaps://dir.example.test").validate().is_ok());
        let mut allowed = settings("ldap://dir.example.test");
        allowed.allow_plain = true;
        assert!(allowed.validate().is_ok());
        assert!(settings("http://x").validate().is_err());
    }

    #[test]
    fn the_filter_is_built_not_formatted() {
        assert_eq!(
            settings("ldap://127.0.0.1").filter().render().unwrap(),
            "(&(objectClass=inetOrgPerson)(objectClass=a\\29\\28b))"
        );
    }
}
