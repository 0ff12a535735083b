//! Per-item export. An add creates the entry with the configured object classes and reads its
//! anchor back; an update renames or moves first (modrdn with newSuperior: the entry keeps its
//! anchor, never delete-and-add), then applies value-level changes; a delete removes the
//! entry. Idempotent outcomes: "already exists" on add is looked up and linked, "value exists"
//! on a value add and "no such attribute" on a value delete count as applied. Any other result
//! code is a failure reported with its code, never success.
//!
//! Large multi-valued writes go in chunks (`chunks`); Active Directory's own encodings
//! (`enabled`, `accountExpires`, `unicodePwd`, objectGUID anchors) are translated by
//! `ad_export` and `guid`.

use identitymesh_domain::export::{AttributeChange, ExportItem, ExportOp, ExportOutcome};
use identitymesh_domain::{Anchor, Attributes, Value};
use identitymesh_ldap::{Dn, Filter};
use ldap3::{Ldap, LdapResult, Scope, SearchEntry};
use std::collections::HashSet;
use std::time::Duration;

use super::ad_export::{self, PasswordSource};
use super::session::describe;
use super::{chunks, guid};
use crate::ConnectorError;

/// What the exporter needs to know.
pub(crate) struct ExportContext<'a> {
    pub server: &'a str,
    pub base_dn: &'a str,
    pub anchor_attribute: &'a str,
    pub object_classes: &'a [String],
    pub timeout: Duration,
    /// Active Directory: AD encodings, Permissive Modify, objectGUID anchors.
    pub active_directory: bool,
    /// Values per modify for large multi-valued writes.
    pub chunk_size: usize,
    /// Whether the connection is LDAPS or StartTLS.
    pub tls: bool,
    /// A new AD user's initial password, if configured.
    pub password: Option<PasswordSource<'a>>,
}

/// A step that either goes on or ends the item with this outcome.
pub(crate) type Step<T> = Result<T, ExportOutcome>;

/// The outcome of a refused operation, with its result code.
pub(crate) fn failed(what: &str, result: &LdapResult) -> ExportOutcome {
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

/// A lost connection during an export.
pub(crate) fn transport(cx: &ExportContext<'_>, e: ldap3::LdapError) -> ConnectorError {
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
    let translated;
    let attributes = if cx.active_directory {
        match ad_export::add_attributes(cx, attributes) {
            Ok(a) => {
                translated = a;
                &translated
            }
            Err(message) => return Ok(Err(ExportOutcome::Permanent { message })),
        }
    } else {
        attributes
    };
    let mut later = Vec::new();
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
        let (now, rest) = values.split_at(values.len().min(cx.chunk_size));
        if !rest.is_empty() {
            later.push(AttributeChange::AddValues {
                attribute: attribute.clone(),
                values: rest.to_vec(),
            });
        }
        let set: HashSet<Vec<u8>> = now.iter().map(value_bytes).collect();
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
    if let Err(outcome) = chunks::modify(ldap, cx, &dn, &later).await? {
        return Ok(Err(outcome));
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
        let translated;
        let changes = if cx.active_directory {
            match ad_export::changes(ldap, cx, &dn_text, changes).await? {
                Ok(c) => {
                    translated = c;
                    &translated
                }
                Err(message) => return Ok(Err(ExportOutcome::Permanent { message })),
            }
        } else {
            changes
        };
        if let Err(outcome) = chunks::modify(ldap, cx, &dn_text, changes).await? {
            return Ok(Err(outcome));
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
    let filter = if is_guid(cx) {
        let Some(bytes) = guid::from_text(anchor.as_str()) else {
            return Ok(None);
        };
        Filter::eq_bytes(cx.anchor_attribute, &bytes)
    } else {
        Filter::eq(cx.anchor_attribute, anchor.as_str())
    };
    let filter = filter
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
        let raw = super::ranged::raw_attrs(SearchEntry::construct(e));
        super::ad::anchor(cx.anchor_attribute, &raw)
    });
    Ok(anchor)
}

/// Whether anchors are objectGUIDs (searched by their 16 bytes).
fn is_guid(cx: &ExportContext<'_>) -> bool {
    cx.active_directory && cx.anchor_attribute.eq_ignore_ascii_case("objectGUID")
}

/// The bytes LDAP carries for a value.
pub(crate) fn value_bytes(value: &Value) -> Vec<u8> {
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
