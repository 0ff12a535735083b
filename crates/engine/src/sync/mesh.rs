//! Composing mesh objects from every joined contributor, creating and deleting them.

use identitymesh_domain::compose::{Composed, Contributor, compose};
use identitymesh_domain::config::{ConnectorConfig, MeshType};
use identitymesh_domain::mesh::{MeshKey, MeshObject, NewMeshObject, Provenance};
use identitymesh_domain::staged::{Link, StagedObject};
use identitymesh_domain::{Attributes, MeshId, Value};
use identitymesh_store::Tx;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use super::provision::{deprovision_target, provision_all_targets};
use super::scope::{ObjectScope, inbound};
use super::{ObjectProblem, ObjectResult, SyncCx, audit_json};

type ProvenanceMap = BTreeMap<String, Provenance>;

fn mesh_type<'c>(cx: &SyncCx<'c>, name: &str) -> ObjectResult<&'c MeshType> {
    cx.config
        .mesh_types
        .get(name)
        .ok_or_else(|| ObjectProblem::Rule(format!("mesh type '{name}' is no longer configured")))
}

/// The mesh attributes some connector flows into.
fn flowed_attributes(cx: &SyncCx, mesh_type: &str) -> BTreeSet<String> {
    cx.config
        .connectors
        .values()
        .filter(|c| c.mesh_type.as_deref() == Some(mesh_type))
        .flat_map(|c| c.flows_in.iter().map(|f| f.attribute.clone()))
        .collect()
}

/// Each contributor's say, per mesh attribute.
fn contributions(
    cx: &SyncCx,
    tx: &mut dyn Tx,
    objects: &[StagedObject],
) -> ObjectResult<BTreeMap<String, Vec<Contributor>>> {
    let mut out: BTreeMap<String, Vec<Contributor>> = BTreeMap::new();
    let cell = RefCell::new(tx);
    for object in objects {
        let Some(connector) = cx.config.connector(object.connector.as_str()) else {
            continue;
        };
        let scope = ObjectScope {
            attributes: &object.attributes,
            now: cx.now,
            config: cx.config,
            tx: Some(&cell),
        };
        for flow in &connector.flows_in {
            let contribution =
                inbound(flow, connector.clear_token.as_deref(), &scope).map_err(|e| {
                    ObjectProblem::Rule(format!(
                        "connectors.{}.{} (anchor {}): {e}",
                        connector.name, flow.rule, object.anchor
                    ))
                })?;
            out.entry(flow.attribute.clone())
                .or_default()
                .push(Contributor {
                    connector: connector.name.to_string(),
                    precedence: connector.precedence,
                    changed_at: object.changed_at.clone(),
                    rule: format!("connectors.{}.{}", connector.name, flow.rule),
                    contribution,
                });
        }
    }
    Ok(out)
}

fn same_values(a: Option<&[Value]>, b: &[Value]) -> bool {
    let Some(a) = a else { return false };
    let mut x: Vec<&Value> = a.iter().collect();
    let mut y: Vec<&Value> = b.iter().collect();
    x.sort();
    y.sort();
    x == y
}

/// Composes the attributes of a mesh object of `type_name` from `objects`, starting from
/// `base` (the current state) so unchanged values keep their provenance.
fn compose_all(
    cx: &SyncCx,
    tx: &mut dyn Tx,
    type_name: &str,
    objects: &[StagedObject],
    base: (&Attributes, &ProvenanceMap),
) -> ObjectResult<(Attributes, ProvenanceMap)> {
    let mesh_type = mesh_type(cx, type_name)?;
    let mut per_attribute = contributions(cx, tx, objects)?;
    let mut attributes = base.0.clone();
    let mut provenance = base.1.clone();
    // one timestamp text for every attribute set now
    let mut at: Option<String> = None;
    for name in flowed_attributes(cx, type_name) {
        let contributors = per_attribute.remove(&name).unwrap_or_default();
        match compose(&cx.config.composer_rule(type_name, &name), &contributors) {
            Composed::Set {
                values,
                connector,
                rule,
            } => {
                let multi = mesh_type.attribute(&name).is_some_and(|a| a.multi);
                if values.len() > 1 && !multi {
                    return Err(ObjectProblem::Rule(format!(
                        "{rule} gives {} values for the single-valued mesh attribute '{name}'; declare it multi = true or pick one value in the flow",
                        values.len()
                    )));
                }
                if !same_values(attributes.get(&name), &values) {
                    attributes.set(name.clone(), values);
                    let at = at.get_or_insert_with(|| cx.now.to_rfc3339()).clone();
                    provenance.insert(
                        name,
                        Provenance {
                            connector,
                            rule,
                            at,
                        },
                    );
                }
            }
            Composed::Cleared { .. } | Composed::Absent => {
                attributes.remove(&name);
                provenance.remove(&name);
            }
        }
    }
    Ok((attributes, provenance))
}

/// The indexed keys of a mesh object, under each attribute's normaliser.
fn keys_of(mesh_type: &MeshType, attributes: &Attributes) -> Vec<MeshKey> {
    let mut keys = Vec::new();
    for name in &mesh_type.indexed {
        let Some(schema) = mesh_type.attribute(name) else {
            continue;
        };
        let normalizer = schema.normalizer();
        for value in attributes.get(name).unwrap_or(&[]) {
            let key = identitymesh_domain::delta::value_key(normalizer, value);
            if !key.is_empty() {
                keys.push(MeshKey {
                    attribute: name.clone(),
                    key,
                    unique: schema.unique,
                });
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Projects a new mesh object from one connector object and returns it as stored.
pub(crate) fn create_mesh_from(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    connector: &ConnectorConfig,
    object: &StagedObject,
) -> ObjectResult<MeshObject> {
    let type_name = connector.mesh_type.clone().unwrap_or_default();
    let (attributes, provenance) = compose_all(
        cx,
        tx,
        &type_name,
        std::slice::from_ref(object),
        (&Attributes::new(), &ProvenanceMap::new()),
    )?;
    let mesh_type = mesh_type(cx, &type_name)?;
    let new = NewMeshObject {
        object_type: type_name.clone(),
        attributes,
        provenance,
    };
    let id = tx.insert_mesh_with_keys(&new, &keys_of(mesh_type, &new.attributes), cx.now)?;
    let after = audit_json(&new.attributes, &mesh_type.attributes, None);
    cx.audit(tx, "mesh.create", id.to_string(), None, Some(serde_json::json!({ "projected_from": format!("{}/anchor {}", connector.name, object.anchor), "attributes": after })))?;
    Ok(MeshObject {
        id,
        object_type: new.object_type,
        attributes: new.attributes,
        provenance: new.provenance,
        version: 1,
    })
}

/// Recomposes a mesh object from all its contributors and stores it when it changed.
/// Returns the object as it now is, with the connector objects linked to it.
pub(crate) fn recompute_mesh(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    id: MeshId,
) -> ObjectResult<Option<(MeshObject, Vec<StagedObject>)>> {
    let Some(mesh) = tx.mesh_by_id(id)? else {
        return Ok(None);
    };
    let objects = tx.staged_for_mesh(id)?;
    let (attributes, provenance) = compose_all(
        cx,
        tx,
        &mesh.object_type,
        &objects,
        (&mesh.attributes, &mesh.provenance),
    )?;
    if attributes == mesh.attributes {
        return Ok(Some((mesh, objects)));
    }
    let mesh_type = mesh_type(cx, &mesh.object_type)?;
    tx.update_mesh(id, &attributes, &provenance, cx.now)?;
    tx.replace_mesh_keys(id, &mesh.object_type, &keys_of(mesh_type, &attributes))?;
    let changed: Vec<String> = attributes
        .names()
        .chain(mesh.attributes.names())
        .filter(|n| attributes.get(n) != mesh.attributes.get(n))
        .cloned()
        .collect();
    let before = audit_json(&mesh.attributes, &mesh_type.attributes, Some(&changed));
    let after = audit_json(&attributes, &mesh_type.attributes, Some(&changed));
    cx.audit(tx, "mesh.update", id.to_string(), Some(before), Some(after))?;
    cx.stats.mesh_updates += 1;
    Ok(Some((
        MeshObject {
            attributes,
            provenance,
            version: mesh.version + 1,
            ..mesh
        },
        objects,
    )))
}

/// Recomposes a mesh object, then provisions it into every target.
pub(crate) fn recompute_and_provision(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    id: MeshId,
) -> ObjectResult<bool> {
    match recompute_mesh(cx, tx, id)? {
        Some((mesh, linked)) => {
            provision_all_targets(cx, tx, &mesh, &linked)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Deletes a mesh object whose authoritative source disappeared: every target object is
/// deprovisioned, every other contributor disconnected.
pub(crate) fn delete_mesh_object(cx: &mut SyncCx, tx: &mut dyn Tx, id: MeshId) -> ObjectResult<()> {
    let Some(mesh) = tx.mesh_by_id(id)? else {
        return Ok(());
    };
    for object in tx.staged_for_mesh(id)? {
        let Some(connector) = cx.config.connector(object.connector.as_str()) else {
            continue;
        };
        if connector.provisioning.is_some() {
            deprovision_target(cx, tx, connector, &object, None)?;
        } else {
            tx.set_staged_link(object.id, &Link::Unjoined)?;
            cx.stats.disconnects += 1;
        }
    }
    tx.delete_mesh(id)?;
    let schema = &mesh_type(cx, &mesh.object_type)?.attributes;
    cx.audit(
        tx,
        "mesh.delete",
        id.to_string(),
        Some(audit_json(&mesh.attributes, schema, None)),
        None,
    )?;
    cx.stats.mesh_deletes += 1;
    Ok(())
}
