//! The license: who may use which edition, until when, within which limits.
//!
//! No license file means the **community** edition, in which every single-host feature works.
//! A license never stops synchronisation: past its expiry it starts a grace period
//! (`grace_days`, 30 unless the document says otherwise) with a warning, and past the grace
//! period it warns louder; its limits keep applying. Dates are passed in (`today`), never read
//! from a clock. Verification of the signed file is in [`issuers`].

pub mod files;
pub mod issuers;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::{SecretsError, SecretsResult};

/// The default grace period after expiry, in days.
pub const DEFAULT_GRACE_DAYS: u32 = 30;

fn default_grace() -> u32 {
    DEFAULT_GRACE_DAYS
}

/// The limits a license sets; `None` is unlimited.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Identities in the mesh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesh_objects: Option<u64>,
    /// Configured connectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connectors: Option<u64>,
    /// Enrolled relay agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_agents: Option<u64>,
}

/// One limit, for [`License::check_limit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Identities in the mesh.
    MeshObjects,
    /// Configured connectors.
    Connectors,
    /// Enrolled relay agents.
    RelayAgents,
}

impl Limit {
    /// The name used in documents and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::MeshObjects => "mesh_objects",
            Limit::Connectors => "connectors",
            Limit::RelayAgents => "relay_agents",
        }
    }
}

/// The signed content of a license.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseDocument {
    /// The license's serial number.
    pub id: String,
    /// Who it is issued to.
    pub licensee: String,
    /// The edition (`standard`, `enterprise`, …).
    pub edition: String,
    /// The day it was issued.
    pub issued: NaiveDate,
    /// The last day it is valid.
    pub expires: NaiveDate,
    /// Days after `expires` during which it still counts as licensed, with a warning.
    #[serde(default = "default_grace")]
    pub grace_days: u32,
    /// The limits.
    #[serde(default)]
    pub limits: Limits,
    /// Licensed features (`scale-out`, …).
    #[serde(default)]
    pub features: Vec<String>,
}

/// Where a license stands on a given day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LicenseStatus {
    /// No license: the community edition.
    Community,
    /// Valid through `expires`.
    Valid {
        /// The last valid day.
        expires: NaiveDate,
    },
    /// Expired; still honoured with a warning through `grace_ends`.
    InGrace {
        /// The last valid day.
        expired: NaiveDate,
        /// The last day of the grace period.
        grace_ends: NaiveDate,
    },
    /// Expired and past its grace period: synchronisation continues, with a loud warning.
    PastGrace {
        /// The last valid day.
        expired: NaiveDate,
        /// The last day of the grace period.
        grace_ended: NaiveDate,
    },
}

/// The license in force: a verified document, or the community edition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct License {
    document: Option<LicenseDocument>,
}

/// The limits of the community edition: single-host features are unlimited; relay agents
/// (remote hosts) need a license.
pub const COMMUNITY_LIMITS: Limits = Limits {
    mesh_objects: None,
    connectors: None,
    relay_agents: Some(0),
};

impl License {
    /// The community edition (no license file).
    pub fn community() -> Self {
        Self { document: None }
    }

    /// A verified document.
    pub fn licensed(document: LicenseDocument) -> Self {
        Self {
            document: Some(document),
        }
    }

    /// The document, unless community.
    pub fn document(&self) -> Option<&LicenseDocument> {
        self.document.as_ref()
    }

    /// The edition's name.
    pub fn edition(&self) -> &str {
        self.document
            .as_ref()
            .map_or("community", |d| d.edition.as_str())
    }

    /// The licensee, or `community user`.
    pub fn licensee(&self) -> &str {
        self.document
            .as_ref()
            .map_or("community user", |d| d.licensee.as_str())
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        self.document
            .as_ref()
            .map_or(&COMMUNITY_LIMITS, |d| &d.limits)
    }

    /// Whether a feature is licensed.
    pub fn has_feature(&self, feature: &str) -> bool {
        self.document
            .as_ref()
            .is_some_and(|d| d.features.iter().any(|f| f == feature))
    }

    /// The status on `today`.
    pub fn status(&self, today: NaiveDate) -> LicenseStatus {
        let Some(d) = &self.document else {
            return LicenseStatus::Community;
        };
        let grace_ends = d
            .expires
            .checked_add_days(Days::new(u64::from(d.grace_days)))
            .unwrap_or(NaiveDate::MAX);
        if today <= d.expires {
            LicenseStatus::Valid { expires: d.expires }
        } else if today <= grace_ends {
            LicenseStatus::InGrace {
                expired: d.expires,
                grace_ends,
            }
        } else {
            LicenseStatus::PastGrace {
                expired: d.expires,
                grace_ended: grace_ends,
            }
        }
    }

    /// The warning to show on `today`, if any.
    pub fn warning(&self, today: NaiveDate) -> Option<String> {
        match self.status(today) {
            LicenseStatus::Community | LicenseStatus::Valid { .. } => None,
            LicenseStatus::InGrace {
                expired,
                grace_ends,
            } => Some(format!(
                "the {} license of {} expired on {expired}; it is honoured during a grace period \
                 until {grace_ends}: install a renewed license with `identitymesh license install FILE`",
                self.edition(),
                self.licensee()
            )),
            LicenseStatus::PastGrace {
                expired,
                grace_ended,
            } => Some(format!(
                "LICENSE EXPIRED: the {} license of {} expired on {expired} and its grace period ended \
                 on {grace_ended}. Synchronisation continues, but this deployment is unlicensed: \
                 install a renewed license with `identitymesh license install FILE` now",
                self.edition(),
                self.licensee()
            )),
        }
    }

    /// Refuses `requested` units of `limit` beyond what the license allows, naming the limit.
    pub fn check_limit(&self, limit: Limit, requested: u64) -> SecretsResult<()> {
        let limits = self.limits();
        let allowed = match limit {
            Limit::MeshObjects => limits.mesh_objects,
            Limit::Connectors => limits.connectors,
            Limit::RelayAgents => limits.relay_agents,
        };
        match allowed {
            Some(allowed) if requested > allowed => Err(SecretsError::LimitExceeded {
                limit: limit.as_str(),
                allowed,
                requested,
                licensee: self.licensee().to_owned(),
                edition: self.edition().to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for LicenseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LicenseStatus::Community => f.write_str("community edition (no license installed)"),
            LicenseStatus::Valid { expires } => write!(f, "valid until {expires}"),
            LicenseStatus::InGrace {
                expired,
                grace_ends,
            } => {
                write!(
                    f,
                    "expired on {expired}, in grace period until {grace_ends}"
                )
            }
            LicenseStatus::PastGrace {
                expired,
                grace_ended,
            } => {
                write!(
                    f,
                    "expired on {expired}, grace period ended on {grace_ended}"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests;
