//! Provisioning: for every target connector, whether the mesh object must exist there, and
//! the export that makes the target match — add, update, or the deprovisioning action.

use identitymesh_domain::config::{ConnectorConfig, DeprovisionAction, Provisioning};
use identitymesh_domain::delta::diff_attributes;
use identitymesh_domain::export::{ExportOp, ExportReason, ExportState, NewExport};
use identitymesh_domain::join::{AdoptionDecision, decide_adoption};
use identitymesh_domain::mesh::MeshObject;
use identitymesh_domain::normalize::Normalizer;
use identitymesh_domain::run::ObjectError;
use identitymesh_domain::staged::{Link, LinkKind, PendingImport, StagedObject};
use identitymesh_domain::{Anchor, Attributes, MeshId, Value};
use identitymesh_expr::Value as X;
use identitymesh_store::{NewStaged, Tx};
use serde_json::json;
use std::cell::RefCell;

use super::object::is_privileged;
use super::scope::{FlowValue, ObjectScope, from_expr, outbound};
use super::{ObjectProblem, ObjectResult, SyncCx};

/// Evaluates provisioning of one mesh object into every target connector of its type.
pub(crate) fn provision_all_targets(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    mesh: &MeshObject,
    linked: &[StagedObject],
) -> ObjectResult<()> {
    let config = cx.config;
    for target in config.targets_for(&mesh.object_type) {
        let Some(rules) = &target.provisioning else {
            continue;
        };
        let existing = linked.iter().find(|s| s.connector == target.name);
        let in_scope = in_scope(cx, tx, target, rules, mesh)?;
        match (in_scope, existing) {
            (true, None) => provision_new(cx, tx, target, rules, mesh)?,
            (true, Some(object)) => update_existing(cx, tx, target, rules, mesh, object)?,
            (false, Some(object)) => deprovision_target(cx, tx, target, object, Some(mesh))?,
            (false, None) => {}
        }
    }
    Ok(())
}

fn eval(
    cx: &SyncCx,
    tx: &mut dyn Tx,
    attributes: &Attributes,
    program: &identitymesh_expr::Program,
    rule: String,
) -> ObjectResult<X> {
    let cell = RefCell::new(tx);
    let scope = ObjectScope {
        attributes,
        now: cx.now,
        config: cx.config,
        tx: Some(&cell),
    };
    program
        .eval(&scope)
        .map_err(|e| ObjectProblem::Rule(format!("{rule}: {e}")))
}

fn in_scope(
    cx: &SyncCx,
    tx: &mut dyn Tx,
    target: &ConnectorConfig,
    rules: &Provisioning,
    mesh: &MeshObject,
) -> ObjectResult<bool> {
    let Some(scope) = &rules.scope else {
        return Ok(true);
    };
    match eval(
        cx,
        tx,
        &mesh.attributes,
        scope,
        format!("connectors.{}.provisioning.scope", target.name),
    )? {
        X::Bool(b) => Ok(b),
        X::Null => Ok(false),
        other => Err(ObjectProblem::Rule(format!(
            "connectors.{}.provisioning.scope must give true or false, not {}",
            target.name,
            other.type_name()
        ))),
    }
}

fn desired_attributes(
    cx: &SyncCx,
    tx: &mut dyn Tx,
    flows: &[identitymesh_domain::config::Flow],
    target: &ConnectorConfig,
    mesh: &MeshObject,
) -> ObjectResult<Attributes> {
    let cell = RefCell::new(tx);
    let scope = ObjectScope {
        attributes: &mesh.attributes,
        now: cx.now,
        config: cx.config,
        tx: Some(&cell),
    };
    outbound(flows, &scope)
        .map_err(|e| ObjectProblem::Rule(format!("connectors.{}.{e} ({})", target.name, mesh.id)))
}

fn text_of(x: X) -> Option<String> {
    match from_expr(x) {
        FlowValue::Values(v) => v
            .first()
            .map(Value::to_text)
            .filter(|s| !s.trim().is_empty()),
        _ => None,
    }
}

fn new_name(
    cx: &SyncCx,
    tx: &mut dyn Tx,
    target: &ConnectorConfig,
    rules: &Provisioning,
    mesh: &MeshObject,
) -> ObjectResult<Option<String>> {
    match &rules.name {
        None => Ok(None),
        Some(p) => Ok(text_of(eval(
            cx,
            tx,
            &mesh.attributes,
            p,
            format!("connectors.{}.provisioning.name", target.name),
        )?)),
    }
}

fn provision_new(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    target: &ConnectorConfig,
    rules: &Provisioning,
    mesh: &MeshObject,
) -> ObjectResult<()> {
    let raw = text_of(eval(
        cx,
        tx,
        &mesh.attributes,
        &rules.anchor,
        format!("connectors.{}.provisioning.anchor", target.name),
    )?);
    let anchor = raw
        .as_deref()
        .map(Anchor::parse)
        .and_then(Result::ok)
        .ok_or_else(|| ObjectProblem::Rule(format!("connectors.{}.provisioning.anchor gives no usable anchor for {}; fix the rule or the source data", target.name, mesh.id)))?;
    // The name and attributes are evaluated before the anchor is probed, so that the probe
    // and the insert are one statement. Evaluating only reads; an anchor already staged still
    // goes to collide_or_adopt first, whatever the evaluation gave, as before.
    let evaluated = new_name(cx, tx, target, rules, mesh).and_then(|name| {
        Ok((
            name,
            desired_attributes(cx, tx, &target.flows_out, target, mesh)?,
        ))
    });
    let (name, mut desired) = match evaluated {
        Ok(v) => v,
        Err(problem) => {
            return match tx.staged_by_anchor(&target.name, &anchor)? {
                Some(existing) => collide_or_adopt(cx, tx, target, rules, mesh, existing),
                None => Err(problem),
            };
        }
    };
    if desired.get(&target.schema.anchor).is_none() {
        desired.set_str(target.schema.anchor.clone(), anchor.as_str());
    }
    let staged = NewStaged {
        connector: target.name.clone(),
        object_type: target.schema.name.clone(),
        anchor: anchor.clone(),
        name: None,
        attributes: Attributes::new(),
        hash: String::new(),
        pending: PendingImport::None,
        link: Link::Joined {
            mesh_id: mesh.id,
            how: LinkKind::Provisioned,
        },
        changed_at: cx.now,
        seen_run: cx.run_id,
    };
    let reason = ExportReason::Provision;
    // staged_id 0: the store puts the new object's id in
    let export = NewExport {
        connector: target.name.clone(),
        staged_id: 0,
        anchor: anchor.clone(),
        mesh_id: Some(mesh.id),
        op: ExportOp::Add {
            name,
            attributes: desired,
        },
        reason,
    };
    if tx
        .insert_staged_with_export(&staged, &export, cx.run_id, cx.now)?
        .is_none()
    {
        // the anchor was taken after all
        let existing = tx.staged_by_anchor(&target.name, &anchor)?.ok_or_else(|| {
            ObjectProblem::Rule(format!(
                "connectors.{}: the anchor '{anchor}' is taken but not staged",
                target.name
            ))
        })?;
        return collide_or_adopt(cx, tx, target, rules, mesh, existing);
    }
    if cx.changes.is_some() {
        cx.record(json!({ "action": "export.queue", "connector": target.name, "anchor": anchor, "mesh_id": mesh.id, "op": export.op.label(), "reason": reason }));
    }
    cx.stats.queued_adds += 1;
    Ok(())
}

/// The computed anchor is taken in the target by an object this mesh object is not linked to.
fn collide_or_adopt(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    target: &ConnectorConfig,
    rules: &Provisioning,
    mesh: &MeshObject,
    existing: StagedObject,
) -> ObjectResult<()> {
    if let Some(owner) = existing.link.mesh_id() {
        return Err(ObjectProblem::Rule(format!(
            "connectors.{}: the anchor '{}' computed for {} is already used by the target object of {owner}; make provisioning.anchor unique",
            target.name, existing.anchor, mesh.id
        )));
    }
    let label = format!("{}/anchor {}", target.name, existing.anchor);
    match decide_adoption(rules.adopt, is_privileged(cx, target, &existing)?) {
        AdoptionDecision::Adopt => {
            tx.set_staged_link(
                existing.id,
                &Link::Joined {
                    mesh_id: mesh.id,
                    how: LinkKind::Adopted,
                },
            )?;
            let before = super::audit_json(&existing.attributes, &target.schema.attributes, None);
            cx.audit(
                tx,
                "adoption",
                label,
                Some(before),
                Some(json!({ "mesh_id": mesh.id })),
            )?;
            cx.stats.joined += 1;
            update_existing(cx, tx, target, rules, mesh, &existing)
        }
        AdoptionDecision::AwaitApproval(reason) => {
            let link = Link::AwaitingAdoption {
                candidate: mesh.id,
                reason: reason.clone(),
            };
            if existing.link != link {
                tx.set_staged_link(existing.id, &link)?;
                cx.audit(
                    tx,
                    "adoption.awaiting",
                    label.clone(),
                    None,
                    Some(json!({ "candidate": mesh.id, "reason": reason })),
                )?;
            }
            cx.stats.awaiting_adoption += 1;
            cx.errors.push(ObjectError {
                object: label,
                message: format!(
                    "held for approval before {} takes it over: {reason}",
                    mesh.id
                ),
            });
            Ok(())
        }
        AdoptionDecision::Refuse(reason) => Err(ObjectProblem::Rule(format!(
            "connectors.{}: the anchor '{}' computed for {} belongs to an existing unmanaged target object ({reason}); it is retried on the next run",
            target.name, existing.anchor, mesh.id
        ))),
    }
}

/// Queues an export for the target object `(staged id, anchor, mesh id)`.
fn queue(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    target: &ConnectorConfig,
    object: (i64, &Anchor, MeshId),
    op: ExportOp,
    reason: ExportReason,
) -> ObjectResult<()> {
    let (staged_id, anchor, mesh_id) = object;
    if cx.changes.is_some() {
        cx.record(json!({ "action": "export.queue", "connector": target.name, "anchor": anchor, "mesh_id": mesh_id, "op": op.label(), "reason": reason }));
    }
    let export = NewExport {
        connector: target.name.clone(),
        staged_id,
        anchor: anchor.clone(),
        mesh_id: Some(mesh_id),
        op,
        reason,
    };
    tx.queue_export(&export, cx.run_id, cx.now)?;
    Ok(())
}

fn update_existing(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    target: &ConnectorConfig,
    rules: &Provisioning,
    mesh: &MeshObject,
    object: &StagedObject,
) -> ObjectResult<()> {
    let queued = tx.export_for_staged(object.id)?;
    if queued
        .as_ref()
        .is_some_and(|q| matches!(q.state, ExportState::Held | ExportState::DeadLetter))
    {
        return Ok(());
    }
    let mut desired = desired_attributes(cx, tx, &target.flows_out, target, mesh)?;
    let name = new_name(cx, tx, target, rules, mesh)?;
    if let Some(q) = queued
        .as_ref()
        .filter(|q| matches!(q.op, ExportOp::Add { .. }))
    {
        if desired.get(&target.schema.anchor).is_none() {
            desired.set_str(target.schema.anchor.clone(), object.anchor.as_str());
        }
        let op = ExportOp::Add {
            name,
            attributes: desired,
        };
        if q.op != op {
            queue(
                cx,
                tx,
                target,
                (object.id, &object.anchor, mesh.id),
                op,
                ExportReason::Provision,
            )?;
        }
        return Ok(());
    }
    let managed: Vec<&str> = target
        .flows_out
        .iter()
        .map(|f| f.attribute.as_str())
        .collect();
    let changes = diff_attributes(&target.schema, &object.attributes, &desired, &managed);
    let rename = name.filter(|n| {
        object.name.as_deref().map(|o| Normalizer::FOLD.key(o)) != Some(Normalizer::FOLD.key(n))
    });
    if changes.is_empty() && rename.is_none() {
        if queued.is_some() {
            tx.cancel_exports_for_staged(object.id)?;
        }
        return Ok(());
    }
    let op = ExportOp::Update {
        changes,
        new_name: rename,
    };
    if queued.as_ref().map(|q| &q.op) == Some(&op) {
        return Ok(());
    }
    queue(
        cx,
        tx,
        target,
        (object.id, &object.anchor, mesh.id),
        op,
        ExportReason::Update,
    )?;
    cx.stats.queued_updates += 1;
    Ok(())
}

/// The object left scope, or its mesh object is gone (`mesh` is `None`).
pub(crate) fn deprovision_target(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    target: &ConnectorConfig,
    object: &StagedObject,
    mesh: Option<&MeshObject>,
) -> ObjectResult<()> {
    let Some(rules) = &target.provisioning else {
        return Ok(());
    };
    let queued = tx.export_for_staged(object.id)?;
    if queued
        .as_ref()
        .is_some_and(|q| matches!(q.op, ExportOp::Add { .. }) && q.state != ExportState::Held)
    {
        // never exported: nothing exists in the target to remove
        tx.delete_staged(object.id)?;
        return Ok(());
    }
    if queued
        .as_ref()
        .is_some_and(|q| q.state == ExportState::Held)
    {
        return Ok(());
    }
    let mesh_id = object.link.mesh_id().unwrap_or(MeshId(0));
    match rules.deprovision {
        DeprovisionAction::Delete => {
            if queued.map(|q| q.op) != Some(ExportOp::Delete) {
                queue(
                    cx,
                    tx,
                    target,
                    (object.id, &object.anchor, mesh_id),
                    ExportOp::Delete,
                    ExportReason::DeprovisionDelete,
                )?;
                cx.stats.queued_deletes += 1;
            }
        }
        DeprovisionAction::Disable => {
            let empty = Attributes::new();
            let source = MeshObject {
                id: mesh_id,
                object_type: String::new(),
                attributes: mesh.map_or(empty, |m| m.attributes.clone()),
                provenance: Default::default(),
                version: 0,
            };
            let desired = desired_attributes(cx, tx, &rules.disable, target, &source)?;
            let managed: Vec<&str> = rules.disable.iter().map(|f| f.attribute.as_str()).collect();
            let changes = diff_attributes(&target.schema, &object.attributes, &desired, &managed);
            let op = ExportOp::Update {
                changes,
                new_name: None,
            };
            if !matches!(&op, ExportOp::Update { changes, .. } if changes.is_empty())
                && queued.map(|q| q.op) != Some(op.clone())
            {
                queue(
                    cx,
                    tx,
                    target,
                    (object.id, &object.anchor, mesh_id),
                    op,
                    ExportReason::DeprovisionDisable,
                )?;
                cx.stats.queued_disables += 1;
            }
            if mesh.is_none() {
                tx.set_staged_link(object.id, &Link::Unjoined)?;
            }
        }
        DeprovisionAction::Disconnect => {
            tx.cancel_exports_for_staged(object.id)?;
            tx.set_staged_link(object.id, &Link::Unjoined)?;
            cx.audit(
                tx,
                "disconnect",
                format!("{}/anchor {}", target.name, object.anchor),
                Some(json!({ "mesh_id": mesh_id })),
                None,
            )?;
            cx.stats.disconnects += 1;
        }
    }
    Ok(())
}
