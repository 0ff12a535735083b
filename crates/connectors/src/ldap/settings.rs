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

/// How the connection is protected: `tls = "ldaps" | "starttls" | "none"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (`ldaps://`, port 636).
    Ldaps,
    /// An `ldap://` connection upgraded with StartTLS before the bind.
    Starttls,
    /// Plain LDAP: the bind password crosses the network in clear. Only when set explicitly
    /// (or to a loopback host).
    None,
}

/// TLS settings: either the mode alone (`tls = "ldaps"`) or a table
/// (`tls = { mode = "starttls", ca_file = "ca.pem" }`; the older `starttls = true` still reads).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// The mode; when absent it follows the URL scheme (and `starttls`).
    #[serde(default)]
    pub mode: Option<TlsMode>,
    /// PEM bundle of the CAs to trust (default: the system's roots).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Upgrade an `ldap://` connection with StartTLS (same as `mode = "starttls"`).
    #[serde(default)]
    pub starttls: bool,
}

fn tls_setting<'de, D: serde::Deserializer<'de>>(d: D) -> Result<TlsSettings, D::Error> {
    use serde::de::Error;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(mode) => {
            let mode =
                serde_json::from_value(serde_json::Value::String(mode.clone())).map_err(|_| {
                    D::Error::custom(format!(
                        "tls = {mode:?}: expected \"ldaps\", \"starttls\" or \"none\""
                    ))
                })?;
            Ok(TlsSettings {
                mode: Some(mode),
                ..TlsSettings::default()
            })
        }
        other => serde_json::from_value(other).map_err(|e| D::Error::custom(format!("tls: {e}"))),
    }
}

/// Which kind of directory this is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flavor {
    /// OpenLDAP and other RFC directories (default).
    #[default]
    Openldap,
    /// Microsoft Active Directory (and Samba AD): objectGUID anchors, ranged attributes,
    /// `userAccountControl`, `accountExpires`, `unicodePwd`, uSNChanged delta import.
    ActiveDirectory,
}

/// Where the initial password of a new Active Directory user comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitialPassword {
    /// The connector secret `initial_password` (`secrets = { initial_password = "NAME" }`).
    Secret,
    /// A fresh random password per user, never shown or stored (the user gets theirs through
    /// a reset process).
    Generate,
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
    /// TLS: `"ldaps"`, `"starttls"`, `"none"` or a table with `mode` and `ca_file`.
    #[serde(default, deserialize_with = "tls_setting")]
    pub tls: TlsSettings,
    /// PEM bundle of the CAs to trust (the same as `tls.ca_file`).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// `openldap` (default) or `active_directory`.
    #[serde(default)]
    pub flavor: Flavor,
    /// Values per modify when a large multi-valued attribute (`member`) is written; halved
    /// while the server answers adminLimitExceeded.
    #[serde(default = "default_chunk_size")]
    pub chunk_size: usize,
    /// Active Directory: the initial password of a new user, `"secret"` or `"generate"`;
    /// sent as `unicodePwd`, only over LDAPS or StartTLS.
    #[serde(default)]
    pub initial_password: Option<InitialPassword>,
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

fn default_chunk_size() -> usize {
    1000
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
        self.check_tls()?;
        if !self.tls_protected() && !self.explicit_plain() && !is_loopback(host) {
            return Err(format!(
                "url {:?} is plain LDAP to a remote host: the bind password would cross the \
                 network in clear; use ldaps://, set tls = \"starttls\", or set \
                 tls = \"none\" (or allow_plain = true) if you accept that",
                self.url
            ));
        }
        if self.chunk_size == 0 {
            return Err("chunk_size must be at least 1".into());
        }
        if self.initial_password.is_some() && self.flavor != Flavor::ActiveDirectory {
            return Err("initial_password applies to flavor = \"active_directory\" only".into());
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

    fn check_tls(&self) -> Result<(), String> {
        if self.ca_file.is_some() && self.tls.ca_file.is_some() {
            return Err("ca_file is set twice (ca_file and tls.ca_file): keep one".into());
        }
        let ldaps_url = self.url.starts_with("ldaps://");
        match self.tls.mode {
            Some(TlsMode::Ldaps) if !ldaps_url => Err(format!(
                "tls = \"ldaps\" needs an ldaps:// url, not {:?}",
                self.url
            )),
            Some(TlsMode::Starttls | TlsMode::None) if ldaps_url => Err(format!(
                "url {:?} is LDAPS already: tls must be \"ldaps\" (or left out)",
                self.url
            )),
            Some(TlsMode::None) if self.tls.starttls => {
                Err("tls.mode = \"none\" contradicts tls.starttls = true".into())
            }
            _ => Ok(()),
        }
    }

    /// Whether the connection is protected by TLS (LDAPS or StartTLS).
    pub(crate) fn tls_protected(&self) -> bool {
        self.url.starts_with("ldaps://") || self.starttls()
    }

    /// Whether to send StartTLS before the bind.
    pub(crate) fn starttls(&self) -> bool {
        self.tls.starttls || self.tls.mode == Some(TlsMode::Starttls)
    }

    /// The configured CA bundle, from either spelling.
    pub(crate) fn ca_file(&self) -> Option<&PathBuf> {
        self.ca_file.as_ref().or(self.tls.ca_file.as_ref())
    }

    /// Whether plain LDAP was chosen explicitly.
    fn explicit_plain(&self) -> bool {
        self.allow_plain || self.tls.mode == Some(TlsMode::None)
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

    fn with(url: &str, extra: serde_json::Value) -> Result<LdapSettings, String> {
        let mut v = serde_json::json!({
            "url": url, "bind_dn": "cn=admin,dc=example,dc=test", "base_dn": "dc=example,dc=test",
        });
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        let s: LdapSettings = serde_json::from_value(v).map_err(|e| e.to_string())?;
        s.validate().map(|()| s)
    }

    #[test]
    fn tls_modes_and_the_ca_file_read_in_both_spellings() {
        use serde_json::json;
        let s = with(
            "ldap://dir.example.test",
            json!({"tls": "starttls", "ca_file": "ca.pem"}),
        )
        .unwrap();
        assert!(s.starttls() && s.tls_protected());
        assert_eq!(s.ca_file().unwrap().to_str(), Some("ca.pem"));
        let s = with(
            "ldaps://dir.example.test",
            json!({"tls": {"mode": "ldaps", "ca_file": "x"}}),
        )
        .unwrap();
        assert!(!s.starttls() && s.tls_protected());
        assert!(with("ldap://dir.example.test", json!({"tls": "none"})).is_ok());
        let err = with("ldap://dir.example.test", json!({"tls": "ldaps"})).unwrap_err();
        assert!(err.contains("ldaps://"), "{err}");
        let err = with("ldaps://dir.example.test", json!({"tls": "starttls"})).unwrap_err();
        assert!(err.contains("LDAPS already"), "{err}");
        let err = with("ldaps://d", json!({"tls": "tls1.3"})).unwrap_err();
        assert!(err.contains("\"ldaps\", \"starttls\" or \"none\""), "{err}");
        let err = with(
            "ldaps://d",
            json!({"ca_file": "a", "tls": {"ca_file": "b"}}),
        )
        .unwrap_err();
        assert!(err.contains("twice"), "{err}");
        let err = with("ldaps://d", json!({"initial_password": "generate"})).unwrap_err();
        assert!(err.contains("active_directory"), "{err}");
        let ad = json!({"flavor": "active_directory", "initial_password": "secret"});
        assert_eq!(
            with("ldaps://d", ad).unwrap().flavor,
            Flavor::ActiveDirectory
        );
    }

    #[test]
    fn the_filter_is_built_not_formatted() {
        assert_eq!(
            settings("ldap://127.0.0.1").filter().render().unwrap(),
            "(&(objectClass=inetOrgPerson)(objectClass=a\\29\\28b))"
        );
    }
}
