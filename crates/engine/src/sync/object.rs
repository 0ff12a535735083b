//! One connector object's sync: deletion, join or projection, then composing its mesh object
//! and provisioning every target.

use identitymesh_domain::MeshId;
use identitymesh_domain::config::ConnectorConfig;
use identitymesh_domain::join::{AdoptionDecision, JoinDecision, decide_adoption, decide_join};
use identitymesh_domain::staged::{Link, LinkKind, PendingImport, StagedObject};
use identitymesh_expr::Value as X;
use identitymesh_store::Tx;
use serde_json::json;
use std::cell::RefCell;

use super::mesh::{create_mesh_from, delete_mesh_object, recompute_and_provision};
use super::provision::provision_all_targets;
use identitymesh_domain::mesh::MeshObject;

/// What resolving the link of an unlinked object found.
enum Resolved {
    /// Linked to an existing mesh object.
    Existing(MeshId),
    /// A new mesh object was projected from it; its link is not written yet.
    Projected(MeshObject),
    /// A new mesh object was projected from it, and the link written.
    ProjectedLinked(MeshObject),
    /// Not linked.
    Nothing,
}
use super::scope::ObjectScope;
use super::{ObjectProblem, ObjectResult, SyncCx};

/// Syncs one staged object.
pub(crate) fn sync_object(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    object: &StagedObject,
) -> ObjectResult<()> {
    let config = cx.config;
    let connector = config.connector(object.connector.as_str()).ok_or_else(|| {
        ObjectProblem::Rule(format!(
            "connector '{}' is no longer configured",
            object.connector
        ))
    })?;
    if object.pending == PendingImport::Delete {
        return source_deleted(cx, tx, connector, object);
    }
    let mesh_id = match &object.link {
        Link::Joined { mesh_id, .. } => Some(*mesh_id),
        _ => match resolve_link(cx, tx, connector, object, LinkWrite::Deferred)? {
            Resolved::Existing(id) => Some(id),
            Resolved::Projected(mesh) => {
                // freshly composed from this object alone: nothing to recompose, no target yet
                provision_all_targets(cx, tx, &mesh, &[])?;
                // the link and the pending state in one write
                let link = Link::Joined {
                    mesh_id: mesh.id,
                    how: LinkKind::Projected,
                };
                if object.pending == PendingImport::None {
                    tx.set_staged_link(object.id, &link)?;
                } else {
                    tx.set_staged_link_and_pending(object.id, &link, PendingImport::None)?;
                }
                return Ok(());
            }
            Resolved::ProjectedLinked(mesh) => {
                provision_all_targets(cx, tx, &mesh, &[])?;
                None
            }
            Resolved::Nothing => None,
        },
    };
    if let Some(mesh_id) = mesh_id
        && connector.mesh_type.is_some()
        && !recompute_and_provision(cx, tx, mesh_id)?
        && let Some(relinked) = orphaned(cx, tx, connector, object)?
    {
        recompute_and_provision(cx, tx, relinked)?;
    }
    if object.pending != PendingImport::None {
        tx.set_staged_pending(object.id, PendingImport::None)?;
    }
    Ok(())
}

/// A staged object linked to a mesh object that no longer exists: a target object waiting
/// for its delete export stays; anything else becomes unjoined and is matched again.
fn orphaned(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    connector: &ConnectorConfig,
    object: &StagedObject,
) -> ObjectResult<Option<MeshId>> {
    if tx.export_for_staged(object.id)?.is_some() {
        return Ok(None);
    }
    tx.set_staged_link(object.id, &Link::Unjoined)?;
    let mut unlinked = object.clone();
    unlinked.link = Link::Unjoined;
    match resolve_link(cx, tx, connector, &unlinked, LinkWrite::Now)? {
        Resolved::Existing(id) => Ok(Some(id)),
        Resolved::Projected(mesh) | Resolved::ProjectedLinked(mesh) => Ok(Some(mesh.id)),
        Resolved::Nothing => Ok(None),
    }
}

fn join_candidates(
    cx: &SyncCx,
    tx: &mut dyn Tx,
    connector: &ConnectorConfig,
    object: &StagedObject,
) -> ObjectResult<JoinDecision> {
    let Some(mesh_type_name) = connector.mesh_type.as_deref() else {
        return Ok(JoinDecision::NoMatch);
    };
    let Some(mesh_type) = cx.config.mesh_types.get(mesh_type_name) else {
        return Ok(JoinDecision::NoMatch);
    };
    let mut results = Vec::new();
    let cell = RefCell::new(tx);
    for rule in &connector.join {
        let value = {
            let scope = ObjectScope {
                attributes: &object.attributes,
                now: cx.now,
                config: cx.config,
                tx: Some(&cell),
            };
            rule.value.eval(&scope).map_err(|e| {
                ObjectProblem::Rule(format!("connectors.{}.{}: {e}", connector.name, rule.rule))
            })?
        };
        let texts: Vec<String> = match value {
            X::Str(s) => vec![s],
            X::Int(i) => vec![i.to_string()],
            X::List(items) => items
                .into_iter()
                .filter_map(|i| if let X::Str(s) = i { Some(s) } else { None })
                .collect(),
            _ => Vec::new(),
        };
        let normalizer = mesh_type
            .attribute(&rule.mesh_attribute)
            .map(|a| a.normalizer())
            .unwrap_or_default();
        let mut candidates = Vec::new();
        for text in texts.iter().filter(|t| !t.trim().is_empty()) {
            let key = normalizer.key(text);
            candidates.extend(cell.borrow_mut().mesh_ids_by_key(
                mesh_type_name,
                &rule.mesh_attribute,
                &key,
            )?);
        }
        results.push((rule.rule.clone(), candidates));
    }
    Ok(decide_join(results))
}

/// When a projected object's link is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LinkWrite {
    /// At once.
    Now,
    /// By the caller, after provisioning, together with the pending state — unless a target
    /// connector is the object's own connector: provisioning may then read the object, and
    /// the link is written at once.
    Deferred,
}

/// Finds or makes the mesh object of an unlinked connector object.
fn resolve_link(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    connector: &ConnectorConfig,
    object: &StagedObject,
    link_write: LinkWrite,
) -> ObjectResult<Resolved> {
    if matches!(object.link, Link::AwaitingAdoption { .. }) {
        return Ok(Resolved::Nothing);
    }
    match join_candidates(cx, tx, connector, object)? {
        JoinDecision::Join { mesh_id, rule } => {
            Ok(join(cx, tx, connector, object, mesh_id, &rule)?
                .map_or(Resolved::Nothing, Resolved::Existing))
        }
        JoinDecision::Ambiguous { candidates, rule } => {
            let link = Link::Ambiguous {
                candidates: candidates.clone(),
                rule: rule.clone(),
            };
            if object.link != link {
                tx.set_staged_link(object.id, &link)?;
                cx.audit(
                    tx,
                    "join.ambiguous",
                    format!("{}/anchor {}", connector.name, object.anchor),
                    None,
                    Some(json!({ "candidates": candidates, "rule": rule })),
                )?;
            }
            cx.stats.ambiguous += 1;
            let list: Vec<String> = candidates.iter().map(ToString::to_string).collect();
            cx.errors.push(identitymesh_domain::run::ObjectError {
                object: format!("{} anchor {}", connector.name, object.anchor),
                message: format!("ambiguous join: {rule} matches {}; not joined — resolve it with a more specific rule or a manual join", list.join(", ")),
            });
            Ok(Resolved::Nothing)
        }
        JoinDecision::NoMatch => project(cx, tx, connector, object, link_write),
    }
}

fn join(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    connector: &ConnectorConfig,
    object: &StagedObject,
    mesh_id: MeshId,
    rule: &str,
) -> ObjectResult<Option<MeshId>> {
    let already = tx.staged_for_mesh(mesh_id)?;
    if let Some(other) = already
        .iter()
        .find(|s| s.connector == object.connector && s.id != object.id)
    {
        if other.link
            == (Link::Joined {
                mesh_id,
                how: LinkKind::Joined,
            })
        {
            // C-44: two objects of this connector match one mesh object: neither joins
            flag_contested(cx, tx, connector, other, mesh_id, rule, &object.anchor)?;
            recompute_and_provision(cx, tx, mesh_id)?;
            flag_contested(cx, tx, connector, object, mesh_id, rule, &other.anchor)?;
            return Ok(None);
        }
        return Err(ObjectProblem::Rule(format!(
            "{rule} matches {mesh_id}, which is already joined to anchor {} of this connector; two objects of one connector cannot share an identity — fix the duplicate in the source",
            other.anchor
        )));
    }
    if let Some(rival) = contending_sibling(cx, tx, connector, object, mesh_id)? {
        flag_contested(cx, tx, connector, object, mesh_id, rule, &rival)?;
        return Ok(None);
    }
    let target = format!("{}/anchor {}", connector.name, object.anchor);
    let kind = match &connector.provisioning {
        None => LinkKind::Joined,
        Some(p) => {
            let privileged = is_privileged(cx, connector, object)?;
            match decide_adoption(p.adopt, privileged) {
                AdoptionDecision::Adopt => LinkKind::Adopted,
                AdoptionDecision::AwaitApproval(reason) => {
                    tx.set_staged_link(
                        object.id,
                        &Link::AwaitingAdoption {
                            candidate: mesh_id,
                            reason: reason.clone(),
                        },
                    )?;
                    cx.audit(
                        tx,
                        "adoption.awaiting",
                        target,
                        None,
                        Some(json!({ "candidate": mesh_id, "reason": reason })),
                    )?;
                    cx.stats.awaiting_adoption += 1;
                    return Ok(None);
                }
                AdoptionDecision::Refuse(_) => return Ok(None),
            }
        }
    };
    tx.set_staged_link(object.id, &Link::Joined { mesh_id, how: kind })?;
    let before = super::audit_json(&object.attributes, &connector.schema.attributes, None);
    cx.audit(
        tx,
        if kind == LinkKind::Adopted {
            "adoption"
        } else {
            "join"
        },
        target,
        Some(before),
        Some(json!({ "mesh_id": mesh_id, "rule": rule })),
    )?;
    cx.stats.joined += 1;
    Ok(Some(mesh_id))
}

/// Another object of this connector that was stopped as contesting `mesh_id` and whose join
/// rules still find it: while one exists, neither may join (no flapping between runs).
fn contending_sibling(
    cx: &SyncCx,
    tx: &mut dyn Tx,
    connector: &ConnectorConfig,
    object: &StagedObject,
    mesh_id: MeshId,
) -> ObjectResult<Option<identitymesh_domain::Anchor>> {
    for sibling in tx.staged_needing_review(Some(&object.connector), 1000)? {
        let contests = matches!(&sibling.link, Link::Ambiguous { candidates, .. } if candidates.as_slice() == [mesh_id]);
        if sibling.id != object.id
            && contests
            && matches!(join_candidates(cx, tx, connector, &sibling)?, JoinDecision::Join { mesh_id: m, .. } if m == mesh_id)
        {
            return Ok(Some(sibling.anchor));
        }
    }
    Ok(None)
}

/// Stops `object` as an ambiguous join: it and `rival` (of the same connector) both match `mesh_id`.
fn flag_contested(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    connector: &ConnectorConfig,
    object: &StagedObject,
    mesh_id: MeshId,
    rule: &str,
    rival: &identitymesh_domain::Anchor,
) -> ObjectResult<()> {
    let link = Link::Ambiguous {
        candidates: vec![mesh_id],
        rule: rule.to_owned(),
    };
    if object.link != link {
        tx.set_staged_link(object.id, &link)?;
        let target = format!("{}/anchor {}", connector.name, object.anchor);
        cx.audit(
            tx,
            "join.ambiguous",
            target,
            None,
            Some(json!({ "candidates": [mesh_id], "rule": rule, "also_matched_by": rival })),
        )?;
    }
    cx.stats.ambiguous += 1;
    cx.errors.push(identitymesh_domain::run::ObjectError {
        object: format!("{} anchor {}", connector.name, object.anchor),
        message: format!("ambiguous join: {rule} matches {mesh_id}, which anchor {rival} of this connector also matches; neither is joined — fix the duplicate in the source, or resolve it with a more specific rule or a manual join"),
    });
    Ok(())
}

pub(crate) fn is_privileged(
    cx: &SyncCx,
    connector: &ConnectorConfig,
    object: &StagedObject,
) -> ObjectResult<bool> {
    let Some(program) = connector
        .provisioning
        .as_ref()
        .and_then(|p| p.privileged.as_ref())
    else {
        return Ok(false);
    };
    let scope = ObjectScope {
        attributes: &object.attributes,
        now: cx.now,
        config: cx.config,
        tx: None,
    };
    match program.eval(&scope) {
        Ok(X::Bool(b)) => Ok(b),
        Ok(X::Null) => Ok(false),
        Ok(other) => Err(ObjectProblem::Rule(format!(
            "connectors.{}.provisioning.privileged must give true or false, not {}",
            connector.name,
            other.type_name()
        ))),
        // when in doubt, treat as privileged: never adopt automatically
        Err(_) => Ok(true),
    }
}

fn project(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    connector: &ConnectorConfig,
    object: &StagedObject,
    link_write: LinkWrite,
) -> ObjectResult<Resolved> {
    let Some(projection) = &connector.projection else {
        if object.link != Link::Unjoined {
            tx.set_staged_link(object.id, &Link::Unjoined)?;
        }
        return Ok(Resolved::Nothing);
    };
    if let Some(when) = &projection.when {
        let scope = ObjectScope {
            attributes: &object.attributes,
            now: cx.now,
            config: cx.config,
            tx: None,
        };
        match when.eval(&scope) {
            Ok(X::Bool(true)) => {}
            Ok(X::Bool(false) | X::Null) => return Ok(Resolved::Nothing),
            Ok(other) => {
                return Err(ObjectProblem::Rule(format!(
                    "connectors.{}.projection.when must give true or false, not {}",
                    connector.name,
                    other.type_name()
                )));
            }
            Err(e) => {
                return Err(ObjectProblem::Rule(format!(
                    "connectors.{}.projection.when: {e}",
                    connector.name
                )));
            }
        }
    }
    if let Some(limit) = cx.mesh_limit
        && limit.existing + cx.stats.projected >= limit.allowed
    {
        return Err(ObjectProblem::Rule(format!(
            "the license allows {} mesh objects (limit mesh_objects) and the mesh holds them all: this object was not projected; \
             `identitymesh license show` shows the license, a license with a higher limit lifts it",
            limit.allowed
        )));
    }
    let mesh = create_mesh_from(cx, tx, connector, object)?;
    cx.stats.projected += 1;
    let self_target = || {
        cx.config
            .targets_for(&mesh.object_type)
            .any(|t| t.name == object.connector)
    };
    if link_write == LinkWrite::Now || self_target() {
        tx.set_staged_link(
            object.id,
            &Link::Joined {
                mesh_id: mesh.id,
                how: LinkKind::Projected,
            },
        )?;
        return Ok(Resolved::ProjectedLinked(mesh));
    }
    Ok(Resolved::Projected(mesh))
}

/// The source object is gone (a complete import did not see it, or a delta said so).
fn source_deleted(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    connector: &ConnectorConfig,
    object: &StagedObject,
) -> ObjectResult<()> {
    let target = format!("{}/anchor {}", connector.name, object.anchor);
    let mesh_id = object.link.mesh_id();
    tx.delete_staged(object.id)?;
    cx.audit(
        tx,
        "staged.delete",
        target,
        Some(super::audit_json(
            &object.attributes,
            &connector.schema.attributes,
            None,
        )),
        None,
    )?;
    let Some(mesh_id) = mesh_id else {
        return Ok(());
    };
    if tx.mesh_by_id(mesh_id)?.is_none() {
        return Ok(());
    }
    let authoritative = connector
        .projection
        .as_ref()
        .is_some_and(|p| p.delete_when_gone);
    if authoritative {
        delete_mesh_object(cx, tx, mesh_id)
    } else {
        cx.stats.disconnects += 1;
        recompute_and_provision(cx, tx, mesh_id).map(drop)
    }
}
