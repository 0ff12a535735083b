//! The configuration file as written: serde types mirroring the TOML. Validation and
//! compilation into the engine's form happen in `compile`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::schema::AttributeSchema;

/// The whole configuration file.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Mesh object types and their attributes.
    #[serde(default)]
    pub mesh: BTreeMap<String, RawMeshType>,
    /// Connectors by name.
    #[serde(default)]
    pub connectors: BTreeMap<String, RawConnector>,
    /// Per mesh type, per attribute: how contributions from several connectors combine.
    #[serde(default)]
    pub composer: BTreeMap<String, BTreeMap<String, RawComposerRule>>,
    /// Named cycles: ordered steps `connector:profile`.
    #[serde(default)]
    pub cycles: BTreeMap<String, Vec<String>>,
}

/// A mesh object type.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeshType {
    /// Its attributes.
    pub attributes: Vec<AttributeSchema>,
}

/// How an empty inbound value counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmptyMeaning {
    /// An empty value is no contribution: lower-precedence contributors decide.
    #[default]
    NoContribution,
    /// An empty value clears the attribute.
    Clear,
    /// An empty value is kept as a present-but-empty attribute.
    Empty,
}

/// What happens to a target object when its mesh object leaves scope or disappears.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeprovisionAction {
    /// Delete the target object.
    #[default]
    Delete,
    /// Apply the `disable` flows and keep the object.
    Disable,
    /// Only disconnect: the target object stays as it is and is no longer managed.
    Disconnect,
}

/// Whether an existing, unmanaged target object that matches a mesh object may be adopted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdoptPolicy {
    /// Adopt automatically (never for privileged objects).
    Auto,
    /// Wait for an operator's approval (the default).
    #[default]
    Approve,
    /// Never adopt; a collision is an error on the mesh object.
    Never,
}

/// A flow: an expression, or an expression with options.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RawFlow {
    /// Just the expression.
    Expr(String),
    /// The expression with options.
    Detailed {
        /// The expression.
        expr: String,
        /// How an empty result counts (inbound flows only).
        #[serde(default)]
        empty: Option<EmptyMeaning>,
    },
}

/// A join rule: the connector-side value (an expression) compared, normalised, with a mesh
/// attribute.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawJoinRule {
    /// The mesh attribute to look in.
    pub mesh_attribute: String,
    /// An expression over the connector object giving the value to look for.
    pub value: String,
}

/// Whether unmatched connector objects create mesh objects.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawProjection {
    /// Only project when this expression is true.
    #[serde(default)]
    pub when: Option<String>,
    /// Delete the mesh object when its projecting source object disappears.
    #[serde(default = "default_true")]
    pub delete_when_gone: bool,
}

/// Which mesh objects must exist in this (target) connector, and how they are named.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvisioning {
    /// Scope filter over the mesh object (default: every object of the type).
    #[serde(default)]
    pub scope: Option<String>,
    /// Expression giving a new target object's anchor.
    pub anchor: String,
    /// Expression giving a new target object's name (a DN), if the target names objects.
    #[serde(default)]
    pub name: Option<String>,
    /// What to do when an object leaves scope or its mesh object disappears.
    #[serde(default)]
    pub deprovision: DeprovisionAction,
    /// Flows applied when disabling (connector attribute to expression over the mesh object).
    #[serde(default)]
    pub disable: BTreeMap<String, String>,
    /// Policy for adopting an existing, unmanaged target object.
    #[serde(default)]
    pub adopt: AdoptPolicy,
    /// An expression over the target object that marks it privileged: never adopted
    /// automatically.
    #[serde(default)]
    pub privileged: Option<String>,
}

/// Limits on one run's destructive changes, and on short imports.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawGuards {
    /// Whether the guards are on (default: on).
    pub enabled: bool,
    /// Most deletes and disables one export may apply.
    pub max_deletes: u64,
    /// Most deletes and disables as a percentage of the connector's objects.
    pub max_delete_percent: f64,
    /// The percentage limit only applies from this many destructive changes.
    pub percent_applies_from: u64,
    /// A full import with fewer objects is partial (unless allowed for that run).
    pub min_objects: u64,
    /// A full import that shrinks by more than this percentage is partial.
    pub max_shrink_percent: f64,
}

impl Default for RawGuards {
    fn default() -> Self {
        Self {
            enabled: true,
            max_deletes: 500,
            max_delete_percent: 10.0,
            percent_applies_from: 10,
            min_objects: 1,
            max_shrink_percent: 50.0,
        }
    }
}

/// A connector.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawConnector {
    /// The connector type (`csv`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The connector's object type name.
    #[serde(default = "default_object_type")]
    pub object_type: String,
    /// The mesh type its objects join, project to or are provisioned from.
    #[serde(default)]
    pub mesh_type: Option<String>,
    /// The anchor attribute.
    pub anchor: String,
    /// Shorthand schema: single-valued text columns.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Full schema (combined with `columns`).
    #[serde(default)]
    pub attributes: Vec<AttributeSchema>,
    /// Rank among contributors (lower wins; default 100).
    #[serde(default = "default_precedence")]
    pub precedence: i64,
    /// How empty inbound values count (default: no contribution).
    #[serde(default)]
    pub empty: EmptyMeaning,
    /// A value that means "clear this attribute" in the source.
    #[serde(default)]
    pub clear_token: Option<String>,
    /// An attribute holding the source's change time (RFC 3339), for equal precedence.
    #[serde(default)]
    pub change_time_attribute: Option<String>,
    /// Join rules, tried in order.
    #[serde(default)]
    pub join: Vec<RawJoinRule>,
    /// Projection of unmatched objects.
    #[serde(default)]
    pub projection: Option<RawProjection>,
    /// Inbound flows: mesh attribute to expression over the connector object.
    #[serde(default)]
    pub flows_in: BTreeMap<String, RawFlow>,
    /// Provisioning into this connector.
    #[serde(default)]
    pub provisioning: Option<RawProvisioning>,
    /// Outbound flows: connector attribute to expression over the mesh object.
    #[serde(default)]
    pub flows_out: BTreeMap<String, String>,
    /// Guards.
    #[serde(default)]
    pub guards: RawGuards,
    /// CSV settings (for `type = "csv"`).
    #[serde(default)]
    pub csv: Option<toml::Table>,
    /// LDAP settings (for `type = "ldap"`).
    #[serde(default)]
    pub ldap: Option<toml::Table>,
    /// Credentials by reference: connector setting name to the name of a secret stored with
    /// `identitymesh secrets set NAME` (`secrets = { bind_password = "ldap-bind" }`). The
    /// engine opens them when the connector runs; values never appear in the configuration.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// The relay agent that hosts this connector (by the relay's name): its imports and
    /// exports run on that relay's host, and its secrets live there, never in this database.
    #[serde(default)]
    pub relay: Option<String>,
}

/// How one mesh attribute's contributions combine.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawComposerRule {
    /// ranked, latest or union.
    pub rule: ComposeRuleKind,
    /// For `ranked`: connectors in order, highest first (unlisted ones after, by their
    /// connector precedence).
    #[serde(default)]
    pub precedence: Vec<String>,
}

/// The composer rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComposeRuleKind {
    /// Ranked precedence: the highest-ranked contributor wins; ties by newest source change.
    Ranked,
    /// Equal precedence: the newest source change wins (ties by connector name).
    Latest,
    /// Multi-valued merge: the union of every contributor's values.
    Union,
}

fn default_true() -> bool {
    true
}

fn default_object_type() -> String {
    "object".to_owned()
}

fn default_precedence() -> i64 {
    100
}
