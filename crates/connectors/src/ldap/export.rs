//! Per-item export. An add creates the entry with the configured object classes and reads its
//! anchor back; an update renames or moves first (modrdn with newSuperior: the entry keeps its
//! anchor, never delete-and-add), then applies value-level changes; a delete removes the
//! entry. Idempotent outcomes: "already exists" on add is looked up and linked, "value exists"
//! on a value add and "no such attribute" on a value delete count as applied. Any other result
//! code is a failure reported with its code, never success.

use identitymesh_domain::export::{AttributeChange, ExportItem, ExportOp, ExportOutcome};
use identitymesh_domain::{Anchor, Attributes, Value};
use identitymesh_ldap::{Dn, Filter};
use ldap3::{Ldap, LdapResult, Mod, Scope, SearchEntry};
use std::collections::HashSet;
use std::time::Duration;

use super::session::describe;
use crate::ConnectorError;

/// What the exporter needs to know.
pub(crate) struct ExportContext<'a> {
    pub server: &'a str,
    pub base_dn: &'a str,
    pub anchor_attribute: &'a str,
    pub object_classes: &'a [String],
    pub timeout: Duration,
}

type Step<T> = Result<T, ExportOutcome>;

fn failed(what: &str, result: &LdapResult) -> ExportOutcome {
    ExportOutcome::Failed {
        message: format!("{what} was refused: {}", describe(result)),
    }
}

/// Applies one export. A transport failure (the connection is gone) is an error: the engine
/// stops and the unapplied exports stay queued.
pub(crate) async fn apply(
    ldap: &mut Ldap,
    cx: &ExportContext<'_>,
    item: &ExportItem,
) -> Result<ExportOutcome, ConnectorError> {
    let outcome = match &item.op {
        ExportOp::Add { name, attributes } => add(ldap, cx, name.as_deref(), attributes).await?,
        ExportOp::Update { changes, new_name } => {
            update(ldap, cx, &item.anchor, changes, new_name.as_deref()).await?
        }
        ExportOp::Delete => delete(ldap, cx, &item.anchor).await?,
    };
    Ok(outcome.unwrap_or_else(|o| o))
}

fn transport(cx: &ExportContext<'_>, e: ldap3::LdapError) -> ConnectorError {
    ConnectorError::Source(format!(
        "{}: the connection failed during export: {e}",
        cx.server
    ))
}

async fn add(
    ldap: &mut Ldap,
    cx: &ExportContext<'_>,
    name: Option<&str>,
    attributes: &Attributes,
) -> Result<Step<ExportOutcome>, ConnectorError> {
    let Some(name) = name else {
        return Ok(Err(ExportOutcome::Permanent {
            message: "an LDAP add needs the entry's DN: configure the naming rule".into(),
        }));
    };
    let dn = match Dn::parse(name) {
        Ok(dn) => dn.to_string(),
        Err(e) => {
            return Ok(Err(ExportOutcome::Permanent {
                message: format!("the planned DN is not valid: {e}"),
            }));
        }
    };
    let mut entry: Vec<(Vec<u8>, HashSet<Vec<u8>>)> = Vec::new();
    let mut classes: HashSet<Vec<u8>> = cx
        .object_classes
        .iter()
        .map(|c| c.as_bytes().to_vec())
        .collect();
    for (attribute, values) in attributes.iter() {
        if attribute.eq_ignore_ascii_case(cx.anchor_attribute) || values.is_empty() {
            continue;
        }
        let set: HashSet<Vec<u8>> = values.iter().map(value_bytes).collect();
        if attribute.eq_ignore_ascii_case("objectClass") {
            classes.extend(set);
        } else {
            entry.push((attribute.as_bytes().to_vec(), set));
        }
    }
    if !classes.is_empty() {
        entry.push((b"objectClass".to_vec(), classes));
    }
    let result = ldap
        .with_timeout(cx.timeout)
        .add(&dn, entry)
        .await
        .map_err(|e| transport(cx, e))?;
    match result.rc {
        0 | 68 => {}
        _ => return Ok(Err(failed(&format!("adding {dn}"), &result))),
    }
    Ok(match read_anchor(ldap, cx, &dn).await? {
        Some(anchor) => Ok(ExportOutcome::Applied { anchor }),
        None => Err(ExportOutcome::Failed {
            message: format!(
                "{dn} was added but its {} could not be read back",
                cx.anchor_attribute
            ),
        }),
    })
}

async fn update(
    ldap: &mut Ldap,
    cx: &ExportContext<'_>,
    anchor: &Anchor,
    changes: &[AttributeChange],
    new_name: Option<&str>,
) -> Result<Step<ExportOutcome>, ConnectorError> {
    let Some(mut dn) = find_by_anchor(ldap, cx, anchor).await? else {
        return Ok(Err(ExportOutcome::Failed {
            message: format!(
                "no entry below {} has {} {anchor}",
                cx.base_dn, cx.anchor_attribute
            ),
        }));
    };
    if let Some(new_name) = new_name {
        match rename(ldap, cx, &dn, new_name).await? {
            Ok(renamed) => dn = renamed,
            Err(outcome) => return Ok(Err(outcome)),
        }
    }
    if !changes.is_empty() {
        let dn_text = dn.to_string();
        let mods: Vec<Mod<Vec<u8>>> = changes.iter().map(to_mod).collect();
        let result = ldap
            .with_timeout(cx.timeout)
            .modify(&dn_text, mods)
            .await
            .map_err(|e| transport(cx, e))?;
        match result.rc {
            0 => {}
            // One value already there or already gone fails the whole modify: apply the
            // changes one value at a time, counting those as applied.
            16 | 20 => {
                for m in changes.iter().flat_map(single_value_mods) {
                    let r = ldap
                        .with_timeout(cx.timeout)
                        .modify(&dn_text, vec![m])
                        .await
                        .map_err(|e| transport(cx, e))?;
                    if !matches!(r.rc, 0 | 16 | 20) {
                        return Ok(Err(failed(&format!("modifying {dn_text}"), &r)));
                    }
                }
            }
            _ => return Ok(Err(failed(&format!("modifying {dn_text}"), &result))),
        }
    }
    Ok(Ok(ExportOutcome::Applied {
        anchor: anchor.clone(),
    }))
}

async fn rename(
    ldap: &mut Ldap,
    cx: &ExportContext<'_>,
    current: &Dn,
    new_name: &str,
) -> Result<Step<Dn>, ConnectorError> {
    let target = match Dn::parse(new_name) {
        Ok(t) => t,
        Err(e) => {
            return Ok(Err(ExportOutcome::Permanent {
                message: format!("the planned new DN is not valid: {e}"),
            }));
        }
    };
    if target == *current {
        return Ok(Ok(target));
    }
    let (Some(rdn), Some(parent)) = (target.rdn(), target.parent()) else {
        return Ok(Err(ExportOutcome::Permanent {
            message: "the planned new DN is empty".into(),
        }));
    };
    let new_superior = match current.parent() {
        Some(p) if p.matches(&parent) => None,
        _ => Some(parent.to_string()),
    };
    let current_text = current.to_string();
    let result = ldap
        .with_timeout(cx.timeout)
        .modifydn(
            &current_text,
            &rdn.to_string(),
            true,
            new_superior.as_deref(),
        )
        .await
        .map_err(|e| transport(cx, e))?;
    if result.rc != 0 {
        return Ok(Err(failed(
            &format!("renaming {current_text} to {target}"),
            &result,
        )));
    }
    Ok(Ok(target))
}

async fn delete(
    ldap: &mut Ldap,
    cx: &ExportContext<'_>,
    anchor: &Anchor,
) -> Result<Step<ExportOutcome>, ConnectorError> {
    let applied = ExportOutcome::Applied {
        anchor: anchor.clone(),
    };
    let Some(dn) = find_by_anchor(ldap, cx, anchor).await? else {
        return Ok(Ok(applied));
    };
    let dn = dn.to_string();
    let result = ldap
        .with_timeout(cx.timeout)
        .delete(&dn)
        .await
        .map_err(|e| transport(cx, e))?;
    Ok(match result.rc {
        0 | 32 => Ok(applied),
        _ => Err(failed(&format!("deleting {dn}"), &result)),
    })
}

/// The DN of the entry with this anchor below the base, if any.
pub(crate) async fn find_by_anchor(
    ldap: &mut Ldap,
    cx: &ExportContext<'_>,
    anchor: &Anchor,
) -> Result<Option<Dn>, ConnectorError> {
    let filter = Filter::eq(cx.anchor_attribute, anchor.as_str())
        .render()
        .map_err(|e| ConnectorError::Source(e.to_string()))?;
    let found = ldap
        .with_timeout(cx.timeout)
        .search(cx.base_dn, Scope::Subtree, &filter, vec!["1.1"])
        .await
        .map_err(|e| transport(cx, e))?;
    if found.1.rc != 0 && found.1.rc != 32 {
        return Err(ConnectorError::Source(format!(
            "{}: looking up {} {anchor} failed: {}",
            cx.server,
            cx.anchor_attribute,
            describe(&found.1)
        )));
    }
    let Some(entry) = found.0.into_iter().next() else {
        return Ok(None);
    };
    let dn = SearchEntry::construct(entry).dn;
    Dn::parse(&dn).map(Some).map_err(|e| {
        ConnectorError::Source(format!(
            "{}: the server returned a DN that does not parse: {e}",
            cx.server
        ))
    })
}

async fn read_anchor(
    ldap: &mut Ldap,
    cx: &ExportContext<'_>,
    dn: &str,
) -> Result<Option<Anchor>, ConnectorError> {
    let found = ldap
        .with_timeout(cx.timeout)
        .search(
            dn,
            Scope::Base,
            "(objectClass=*)",
            vec![cx.anchor_attribute],
        )
        .await
        .map_err(|e| transport(cx, e))?;
    let anchor = found.0.into_iter().next().and_then(|e| {
        let entry = SearchEntry::construct(e);
        let (_, values) = entry
            .attrs
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(cx.anchor_attribute))?;
        values
            .into_iter()
            .next()
            .and_then(|v| Anchor::parse(&v).ok())
    });
    Ok(anchor)
}

fn value_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::Str(s) => s.as_bytes().to_vec(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::Bool(b) => {
            if *b {
                b"TRUE".to_vec()
            } else {
                b"FALSE".to_vec()
            }
        }
        Value::Bytes(b) => b.clone(),
    }
}

fn to_mod(change: &AttributeChange) -> Mod<Vec<u8>> {
    let attr = change.attribute().as_bytes().to_vec();
    let set = |values: &[Value]| values.iter().map(value_bytes).collect::<HashSet<_>>();
    match change {
        AttributeChange::Replace { values, .. } => Mod::Replace(attr, set(values)),
        AttributeChange::AddValues { values, .. } => Mod::Add(attr, set(values)),
        AttributeChange::RemoveValues { values, .. } => Mod::Delete(attr, set(values)),
        AttributeChange::Clear { .. } => Mod::Delete(attr, HashSet::new()),
    }
}

/// A change split into one modification per value (replace and clear stay whole).
fn single_value_mods(change: &AttributeChange) -> Vec<Mod<Vec<u8>>> {
    let attr = change.attribute().as_bytes().to_vec();
    let one = |v: &Value| HashSet::from([value_bytes(v)]);
    match change {
        AttributeChange::AddValues { values, .. } => values
            .iter()
            .map(|v| Mod::Add(attr.clone(), one(v)))
            .collect(),
        AttributeChange::RemoveValues { values, .. } => values
            .iter()
            .map(|v| Mod::Delete(attr.clone(), one(v)))
            .collect(),
        other => vec![to_mod(other)],
    }
}
