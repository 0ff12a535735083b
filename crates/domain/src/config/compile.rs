//! Validation and compilation of a [`RawConfig`] into the [`Config`] the engine runs.

use identitymesh_expr::Program;
use std::collections::{BTreeMap, BTreeSet};

use super::locate::line_of;
use super::raw::*;
use super::secret_refs::{check_secret_name, check_setting_name};
use super::{ConfigError, ConfigErrors};
use crate::names::ConnectorName;
use crate::run::RunProfile;
use crate::schema::{AttributeSchema, ObjectTypeSchema};

/// A compiled configuration: every expression compiled, every reference checked.
#[derive(Clone, Debug)]
pub struct Config {
    /// The source text it was compiled from.
    pub source: String,
    /// Content hash of the source (hex).
    pub hash: String,
    /// Mesh object types.
    pub mesh_types: BTreeMap<String, MeshType>,
    /// Connectors.
    pub connectors: BTreeMap<ConnectorName, ConnectorConfig>,
    /// Composer rules by (mesh type, attribute).
    pub composer: BTreeMap<(String, String), ComposerRule>,
    /// Named cycles.
    pub cycles: BTreeMap<String, Vec<CycleStep>>,
}

/// A mesh object type.
#[derive(Clone, Debug)]
pub struct MeshType {
    /// Name.
    pub name: String,
    /// Attributes.
    pub attributes: Vec<AttributeSchema>,
    /// Attributes whose normalised values are indexed (unique ones and join targets).
    pub indexed: BTreeSet<String>,
}

impl MeshType {
    /// An attribute by exact name.
    pub fn attribute(&self, name: &str) -> Option<&AttributeSchema> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// A compiled flow.
#[derive(Clone, Debug)]
pub struct Flow {
    /// The attribute it sets.
    pub attribute: String,
    /// The expression.
    pub program: Program,
    /// How an empty result counts (inbound).
    pub empty: EmptyMeaning,
    /// The rule's name for provenance and errors: `flows_in.givenName`.
    pub rule: String,
}

/// A compiled join rule.
#[derive(Clone, Debug)]
pub struct JoinRule {
    /// The mesh attribute searched.
    pub mesh_attribute: String,
    /// The connector-side value.
    pub value: Program,
    /// The rule's name: `join[0]`.
    pub rule: String,
}

/// Compiled projection settings.
#[derive(Clone, Debug)]
pub struct Projection {
    /// Only project when true.
    pub when: Option<Program>,
    /// Delete the mesh object when the projecting source object disappears.
    pub delete_when_gone: bool,
}

/// Compiled provisioning settings.
#[derive(Clone, Debug)]
pub struct Provisioning {
    /// Scope filter.
    pub scope: Option<Program>,
    /// Anchor of new objects.
    pub anchor: Program,
    /// Name of new objects.
    pub name: Option<Program>,
    /// Deprovisioning action.
    pub deprovision: DeprovisionAction,
    /// Disable flows.
    pub disable: Vec<Flow>,
    /// Adoption policy.
    pub adopt: AdoptPolicy,
    /// Privileged marker over the target object.
    pub privileged: Option<Program>,
}

/// A compiled connector.
#[derive(Clone, Debug)]
pub struct ConnectorConfig {
    /// Name.
    pub name: ConnectorName,
    /// Type (`csv`).
    pub kind: String,
    /// Schema of its objects.
    pub schema: ObjectTypeSchema,
    /// The mesh type it works with.
    pub mesh_type: Option<String>,
    /// Rank among contributors (lower wins).
    pub precedence: i64,
    /// Default meaning of empty inbound values.
    pub empty: EmptyMeaning,
    /// Clear token.
    pub clear_token: Option<String>,
    /// Source change-time attribute.
    pub change_time_attribute: Option<String>,
    /// Join rules.
    pub join: Vec<JoinRule>,
    /// Projection.
    pub projection: Option<Projection>,
    /// Inbound flows.
    pub flows_in: Vec<Flow>,
    /// Provisioning.
    pub provisioning: Option<Provisioning>,
    /// Outbound flows.
    pub flows_out: Vec<Flow>,
    /// Guards.
    pub guards: RawGuards,
    /// Type-specific settings (the `[connectors.NAME.csv]` table) as JSON.
    pub settings: serde_json::Value,
    /// Credentials by reference: connector setting name to stored secret name (names only;
    /// the engine opens the values when the connector runs).
    pub secrets: BTreeMap<String, String>,
    /// The relay hosting it, by name (`None`: it runs in the engine's process).
    pub relay: Option<String>,
}

/// A compiled composer rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComposerRule {
    /// Which rule.
    pub kind: ComposeRuleKind,
    /// Explicit ranking for `ranked`.
    pub precedence: Vec<String>,
}

/// One step of a cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CycleStep {
    /// Connector.
    pub connector: ConnectorName,
    /// Profile.
    pub profile: RunProfile,
}

impl Config {
    /// A connector by name.
    pub fn connector(&self, name: &str) -> Option<&ConnectorConfig> {
        self.connectors
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, c)| c)
    }

    /// The composer rule of a mesh attribute (default: ranked by connector precedence).
    pub fn composer_rule(&self, mesh_type: &str, attribute: &str) -> ComposerRule {
        self.composer
            .get(&(mesh_type.to_owned(), attribute.to_owned()))
            .cloned()
            .unwrap_or(ComposerRule {
                kind: ComposeRuleKind::Ranked,
                precedence: Vec::new(),
            })
    }

    /// Connectors that provision objects of a mesh type.
    pub fn targets_for(&self, mesh_type: &str) -> impl Iterator<Item = &ConnectorConfig> {
        let mesh_type = mesh_type.to_owned();
        self.connectors.values().filter(move |c| {
            c.provisioning.is_some() && c.mesh_type.as_deref() == Some(mesh_type.as_str())
        })
    }
}

/// Parses, validates and compiles a configuration. `known_kinds` lists the connector types
/// this build has. Every problem found is reported, not only the first.
pub fn compile(source: &str, known_kinds: &[&str]) -> Result<Config, ConfigErrors> {
    let raw: RawConfig =
        toml::from_str(source).map_err(|e| ConfigErrors(vec![toml_error(source, &e)]))?;
    let mut cx = Compiler {
        source,
        errors: Vec::new(),
    };
    let mut mesh_types = cx.mesh_types(&raw);
    let mut connectors = BTreeMap::new();
    for (name, rc) in &raw.connectors {
        if let Some(c) = cx.connector(name, rc, &mut mesh_types, known_kinds) {
            connectors.insert(c.name.clone(), c);
        }
    }
    let composer = cx.composer(&raw, &mesh_types);
    let cycles = cx.cycles(&raw);
    if !cx.errors.is_empty() {
        return Err(ConfigErrors(cx.errors));
    }
    Ok(Config {
        source: source.to_owned(),
        hash: blake3::hash(source.as_bytes()).to_hex().to_string(),
        mesh_types,
        connectors,
        composer,
        cycles,
    })
}

fn toml_error(source: &str, e: &toml::de::Error) -> ConfigError {
    let line = e
        .span()
        .map(|s| source[..s.start.min(source.len())].matches('\n').count() + 1);
    ConfigError {
        path: "file".into(),
        line,
        message: e.message().to_owned(),
    }
}

struct Compiler<'s> {
    source: &'s str,
    errors: Vec<ConfigError>,
}

impl Compiler<'_> {
    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let path = path.into();
        let line = line_of(self.source, &path);
        self.errors.push(ConfigError {
            path,
            line,
            message: message.into(),
        });
    }

    fn program(
        &mut self,
        path: &str,
        source: &str,
        allowed: &BTreeSet<String>,
        what: &str,
    ) -> Option<Program> {
        let program = match Program::compile(source) {
            Ok(p) => p,
            Err(e) => {
                self.error(path, format!("expression error at {e}"));
                return None;
            }
        };
        for name in program.referenced_attributes() {
            if !allowed.contains(name) {
                let hint = allowed
                    .iter()
                    .find(|a| a.eq_ignore_ascii_case(name))
                    .map(|a| format!(" (did you mean '{a}'?)"))
                    .unwrap_or_default();
                self.error(
                    path,
                    format!(
                        "the expression reads '{name}', which is not an attribute of {what}{hint}"
                    ),
                );
            }
        }
        Some(program)
    }

    fn mesh_types(&mut self, raw: &RawConfig) -> BTreeMap<String, MeshType> {
        let mut out = BTreeMap::new();
        for (name, t) in &raw.mesh {
            let mut seen = BTreeSet::new();
            for a in &t.attributes {
                if !seen.insert(a.name.clone()) {
                    self.error(
                        format!("mesh.{name}.attributes"),
                        format!("attribute '{}' is declared twice", a.name),
                    );
                }
            }
            let indexed = t
                .attributes
                .iter()
                .filter(|a| a.unique || a.indexed)
                .map(|a| a.name.clone())
                .collect();
            out.insert(
                name.clone(),
                MeshType {
                    name: name.clone(),
                    attributes: t.attributes.clone(),
                    indexed,
                },
            );
        }
        out
    }

    fn schema(&mut self, name: &str, rc: &RawConnector) -> ObjectTypeSchema {
        let mut attributes: Vec<AttributeSchema> =
            rc.columns.iter().map(AttributeSchema::text).collect();
        attributes.extend(rc.attributes.iter().cloned());
        let mut seen = BTreeSet::new();
        for a in &attributes {
            if !seen.insert(a.name.clone()) {
                self.error(
                    format!("connectors.{name}.attributes"),
                    format!("attribute '{}' is declared twice", a.name),
                );
            }
        }
        if !seen.contains(&rc.anchor) {
            self.error(
                format!("connectors.{name}.anchor"),
                format!("the anchor '{}' is not one of the connector's columns or attributes; every connector needs an immutable anchor attribute", rc.anchor),
            );
        }
        ObjectTypeSchema {
            name: rc.object_type.clone(),
            anchor: rc.anchor.clone(),
            attributes,
        }
    }

    fn connector(
        &mut self,
        name: &str,
        rc: &RawConnector,
        mesh_types: &mut BTreeMap<String, MeshType>,
        known_kinds: &[&str],
    ) -> Option<ConnectorConfig> {
        let base = format!("connectors.{name}");
        let parsed = match ConnectorName::parse(name) {
            Ok(n) => Some(n),
            Err(e) => {
                self.error(&base, e.to_string());
                None
            }
        };
        if !known_kinds.contains(&rc.kind.as_str()) {
            self.error(
                format!("{base}.type"),
                format!(
                    "unknown connector type '{}': use one of {}",
                    rc.kind,
                    known_kinds.join(", ")
                ),
            );
        }
        let schema = self.schema(name, rc);
        let own: BTreeSet<String> = schema.attributes.iter().map(|a| a.name.clone()).collect();
        let needs_mesh = !rc.join.is_empty()
            || rc.projection.is_some()
            || !rc.flows_in.is_empty()
            || rc.provisioning.is_some()
            || !rc.flows_out.is_empty();
        let mesh = self.mesh_type_of(&base, rc, mesh_types, needs_mesh)?;
        let mesh_attrs: BTreeSet<String> = mesh
            .as_ref()
            .map(|m| m.attributes.iter().map(|a| a.name.clone()).collect())
            .unwrap_or_default();
        let what_connector = format!("connector '{name}'");
        let what_mesh = format!("mesh type '{}'", rc.mesh_type.as_deref().unwrap_or("?"));

        let flows_in = self.flows_in(&base, rc, &own, &mesh_attrs, &what_connector, &what_mesh);
        let join = self.join_rules(&base, rc, &own, &mesh_attrs, &what_connector, &what_mesh);
        if let Some(m) = rc.mesh_type.as_ref().and_then(|m| mesh_types.get_mut(m)) {
            m.indexed
                .extend(join.iter().map(|j| j.mesh_attribute.clone()));
        }
        let projection = rc.projection.as_ref().map(|p| Projection {
            when: p.when.as_ref().and_then(|w| {
                self.program(&format!("{base}.projection.when"), w, &own, &what_connector)
            }),
            delete_when_gone: p.delete_when_gone,
        });
        let provisioning = rc.provisioning.as_ref().and_then(|p| {
            self.provisioning(&base, p, &own, &mesh_attrs, &what_connector, &what_mesh)
        });
        let flows_out = self.flows_out(&base, rc, &own, &mesh_attrs, &what_connector, &what_mesh);
        if let Some(attr) = rc
            .change_time_attribute
            .as_ref()
            .filter(|a| !own.contains(*a))
        {
            self.error(
                format!("{base}.change_time_attribute"),
                format!("'{attr}' is not an attribute of {what_connector}"),
            );
        }
        let settings = match rc.kind.as_str() {
            "csv" => rc.csv.clone(),
            "ldap" => rc.ldap.clone(),
            _ => None,
        };
        let secrets = self.secret_refs(&base, rc, settings.as_ref());
        let settings =
            serde_json::to_value(settings.unwrap_or_default()).unwrap_or(serde_json::Value::Null);
        Some(ConnectorConfig {
            name: parsed?,
            kind: rc.kind.clone(),
            schema,
            mesh_type: rc.mesh_type.clone(),
            precedence: rc.precedence,
            empty: rc.empty,
            clear_token: rc.clear_token.clone(),
            change_time_attribute: rc.change_time_attribute.clone(),
            join,
            projection,
            flows_in,
            provisioning,
            flows_out,
            guards: rc.guards.clone(),
            settings,
            secrets,
            relay: self.relay_name(&base, rc),
        })
    }

    /// Checks `relay = "NAME"`: a relay name as enrollment gives them.
    fn relay_name(&mut self, base: &str, rc: &RawConnector) -> Option<String> {
        let name = rc.relay.as_ref()?;
        let valid = !name.is_empty()
            && name.len() <= 100
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            self.error(
                format!("{base}.relay"),
                format!("'{name}' is not a relay name: 1 to 100 letters, digits, '-', '_' or '.'"),
            );
        }
        Some(name.clone())
    }

    /// Checks `secrets = { SETTING = "SECRET" }`: both names valid, and no setting also given
    /// in the type's settings table (a credential belongs in a secret only; its value is
    /// never echoed).
    fn secret_refs(
        &mut self,
        base: &str,
        rc: &RawConnector,
        settings: Option<&toml::Table>,
    ) -> BTreeMap<String, String> {
        for (setting, secret) in &rc.secrets {
            let path = format!("{base}.secrets.{setting}");
            if let Err(e) = check_setting_name(setting) {
                self.error(&path, e);
            }
            if let Err(e) = check_secret_name(secret) {
                self.error(&path, e);
            }
            if settings.is_some_and(|t| t.contains_key(setting)) {
                self.error(&path, format!("'{setting}' is set both here and in [{base}.{}]; keep it only under secrets (the value stored with `identitymesh secrets set {secret}`)", rc.kind));
            }
        }
        rc.secrets.clone()
    }

    fn mesh_type_of(
        &mut self,
        base: &str,
        rc: &RawConnector,
        mesh_types: &BTreeMap<String, MeshType>,
        needs: bool,
    ) -> Option<Option<MeshType>> {
        match &rc.mesh_type {
            Some(m) => match mesh_types.get(m) {
                Some(t) => Some(Some(t.clone())),
                None => {
                    self.error(
                        format!("{base}.mesh_type"),
                        format!("mesh type '{m}' is not declared under [mesh.{m}]"),
                    );
                    None
                }
            },
            None if needs => {
                self.error(format!("{base}.mesh_type"), "rules are configured but mesh_type is not set: name the mesh type this connector works with");
                None
            }
            None => Some(None),
        }
    }

    /// Compiles one flow `(attribute, expression)`: the attribute it sets must be one of
    /// `sets.0` (named `sets.1` in errors); the expression may read only `reads.0` (`reads.1`).
    fn flow(
        &mut self,
        rule: &str,
        base: &str,
        (attr, expr): (&str, &str),
        sets: (&BTreeSet<String>, &str),
        reads: (&BTreeSet<String>, &str),
        empty: EmptyMeaning,
    ) -> Option<Flow> {
        let path = format!("{base}.{rule}");
        if !sets.0.contains(attr) {
            self.error(&path, format!("'{attr}' is not an attribute of {}", sets.1));
        }
        let program = self.program(&path, expr, reads.0, reads.1)?;
        Some(Flow {
            attribute: attr.to_owned(),
            program,
            empty,
            rule: rule.to_owned(),
        })
    }

    fn flows_in(
        &mut self,
        base: &str,
        rc: &RawConnector,
        own: &BTreeSet<String>,
        mesh: &BTreeSet<String>,
        what_c: &str,
        what_m: &str,
    ) -> Vec<Flow> {
        rc.flows_in
            .iter()
            .filter_map(|(attr, flow)| {
                let (expr, empty) = match flow {
                    RawFlow::Expr(e) => (e, rc.empty),
                    RawFlow::Detailed { expr, empty } => (expr, empty.unwrap_or(rc.empty)),
                };
                let rule = format!("flows_in.{attr}");
                self.flow(
                    &rule,
                    base,
                    (attr, expr),
                    (mesh, what_m),
                    (own, what_c),
                    empty,
                )
            })
            .collect()
    }

    fn flows_out(
        &mut self,
        base: &str,
        rc: &RawConnector,
        own: &BTreeSet<String>,
        mesh: &BTreeSet<String>,
        what_c: &str,
        what_m: &str,
    ) -> Vec<Flow> {
        rc.flows_out
            .iter()
            .filter_map(|(attr, expr)| {
                let rule = format!("flows_out.{attr}");
                self.flow(
                    &rule,
                    base,
                    (attr, expr),
                    (own, what_c),
                    (mesh, what_m),
                    EmptyMeaning::Clear,
                )
            })
            .collect()
    }

    fn join_rules(
        &mut self,
        base: &str,
        rc: &RawConnector,
        own: &BTreeSet<String>,
        mesh: &BTreeSet<String>,
        what_c: &str,
        what_m: &str,
    ) -> Vec<JoinRule> {
        let mut out = Vec::new();
        for (i, rule) in rc.join.iter().enumerate() {
            let path = format!("{base}.join");
            if !mesh.contains(&rule.mesh_attribute) {
                self.error(
                    &path,
                    format!(
                        "join rule {i}: '{}' is not an attribute of {what_m}",
                        rule.mesh_attribute
                    ),
                );
            }
            if let Some(value) = self.program(&path, &rule.value, own, what_c) {
                out.push(JoinRule {
                    mesh_attribute: rule.mesh_attribute.clone(),
                    value,
                    rule: format!("join[{i}]"),
                });
            }
        }
        out
    }

    fn provisioning(
        &mut self,
        base: &str,
        p: &RawProvisioning,
        own: &BTreeSet<String>,
        mesh: &BTreeSet<String>,
        what_c: &str,
        what_m: &str,
    ) -> Option<Provisioning> {
        let path = format!("{base}.provisioning");
        let scope = p
            .scope
            .as_ref()
            .and_then(|s| self.program(&format!("{path}.scope"), s, mesh, what_m));
        let anchor = self.program(&format!("{path}.anchor"), &p.anchor, mesh, what_m);
        let name = p
            .name
            .as_ref()
            .and_then(|n| self.program(&format!("{path}.name"), n, mesh, what_m));
        let privileged = p
            .privileged
            .as_ref()
            .and_then(|n| self.program(&format!("{path}.privileged"), n, own, what_c));
        let disable: Vec<Flow> = p
            .disable
            .iter()
            .filter_map(|(attr, expr)| {
                let rule = format!("provisioning.disable.{attr}");
                self.flow(
                    &rule,
                    base,
                    (attr, expr),
                    (own, what_c),
                    (mesh, what_m),
                    EmptyMeaning::Clear,
                )
            })
            .collect();
        if p.deprovision == DeprovisionAction::Disable && disable.is_empty() {
            self.error(
                format!("{path}.deprovision"),
                "deprovision = \"disable\" needs at least one flow under [provisioning.disable]",
            );
        }
        Some(Provisioning {
            scope,
            anchor: anchor?,
            name,
            deprovision: p.deprovision,
            disable,
            adopt: p.adopt,
            privileged,
        })
    }

    fn composer(
        &mut self,
        raw: &RawConfig,
        mesh_types: &BTreeMap<String, MeshType>,
    ) -> BTreeMap<(String, String), ComposerRule> {
        let mut out = BTreeMap::new();
        for (t, rules) in &raw.composer {
            for (attr, rule) in rules {
                let path = format!("composer.{t}.{attr}");
                match mesh_types.get(t) {
                    None => self.error(&path, format!("mesh type '{t}' is not declared")),
                    Some(m) if m.attribute(attr).is_none() => self.error(
                        &path,
                        format!("'{attr}' is not an attribute of mesh type '{t}'"),
                    ),
                    Some(m) => {
                        if rule.rule == ComposeRuleKind::Union
                            && m.attribute(attr).is_some_and(|a| !a.multi)
                        {
                            self.error(
                                &path,
                                "rule = \"union\" needs a multi-valued attribute (multi = true)",
                            );
                        }
                    }
                }
                for c in &rule.precedence {
                    if !raw.connectors.contains_key(c) {
                        self.error(
                            &path,
                            format!("precedence names connector '{c}', which is not configured"),
                        );
                    }
                }
                out.insert(
                    (t.clone(), attr.clone()),
                    ComposerRule {
                        kind: rule.rule,
                        precedence: rule.precedence.clone(),
                    },
                );
            }
        }
        out
    }

    fn cycles(&mut self, raw: &RawConfig) -> BTreeMap<String, Vec<CycleStep>> {
        let mut out = BTreeMap::new();
        for (name, steps) in &raw.cycles {
            let path = format!("cycles.{name}");
            let mut parsed = Vec::new();
            for step in steps {
                let Some((c, p)) = step.split_once(':') else {
                    self.error(
                        &path,
                        format!(
                            "step '{step}' must be written CONNECTOR:PROFILE, e.g. hr:full-import"
                        ),
                    );
                    continue;
                };
                if !raw.connectors.contains_key(c) {
                    self.error(
                        &path,
                        format!("step '{step}' names connector '{c}', which is not configured"),
                    );
                    continue;
                }
                match (ConnectorName::parse(c), p.parse::<RunProfile>()) {
                    (Ok(connector), Ok(profile)) => parsed.push(CycleStep { connector, profile }),
                    (_, Err(e)) => self.error(&path, format!("step '{step}': {e}")),
                    (Err(e), _) => self.error(&path, e.to_string()),
                }
            }
            out.insert(name.clone(), parsed);
        }
        out
    }
}
