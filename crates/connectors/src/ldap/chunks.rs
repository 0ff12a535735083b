//! Value-level modifies, large ones in chunks (C-12). A change of at most `chunk_size` values
//! goes in one modify with the others; a larger one is sent `chunk_size` values at a time, the
//! chunk halved while the server answers adminLimitExceeded. Every chunk is idempotent: on
//! Active Directory the Permissive Modify control makes "value exists" and "no such
//! attribute" succeed. Where the server refuses anyway (OpenLDAP; Samba AD for a linked
//! `member` value, with entryAlreadyExists or unwillingToPerform), the refused modify is
//! retried one value at a time, and a value the server refuses counts as applied only when a
//! compare proves the entry already is as wanted (the value there, or gone).

use identitymesh_domain::Value;
use identitymesh_domain::export::AttributeChange;
use ldap3::controls::RawControl;
use ldap3::{Ldap, LdapResult, Mod};
use std::collections::HashSet;

use super::ad::PERMISSIVE_MODIFY;
use super::export::{ExportContext, Step, failed, transport, value_bytes};
use crate::ConnectorError;

/// noSuchAttribute: a clear of an attribute already absent is applied.
const NO_SUCH_ATTRIBUTE: u32 = 16;
/// adminLimitExceeded: the chunk was too large.
const ADMIN_LIMIT: u32 = 11;

fn values_mod(kind: &AttributeChange, attr: &str, values: &[Value]) -> Mod<Vec<u8>> {
    let attr = attr.as_bytes().to_vec();
    let set: HashSet<Vec<u8>> = values.iter().map(value_bytes).collect();
    match kind {
        AttributeChange::Replace { .. } => Mod::Replace(attr, set),
        AttributeChange::AddValues { .. } => Mod::Add(attr, set),
        AttributeChange::RemoveValues { .. } => Mod::Delete(attr, set),
        AttributeChange::Clear { .. } => Mod::Delete(attr, HashSet::new()),
    }
}

fn values_of(change: &AttributeChange) -> &[Value] {
    match change {
        AttributeChange::Replace { values, .. }
        | AttributeChange::AddValues { values, .. }
        | AttributeChange::RemoveValues { values, .. } => values,
        AttributeChange::Clear { .. } => &[],
    }
}

/// Applies `changes` to `dn`.
pub(crate) async fn modify(
    ldap: &mut Ldap,
    cx: &ExportContext<'_>,
    dn: &str,
    changes: &[AttributeChange],
) -> Result<Step<()>, ConnectorError> {
    let (small, large): (Vec<_>, Vec<_>) = changes
        .iter()
        .partition(|c| values_of(c).len() <= cx.chunk_size);
    if !small.is_empty() {
        let mods = small
            .iter()
            .map(|c| values_mod(c, c.attribute(), values_of(c)))
            .collect();
        let result = send(ldap, cx, dn, mods).await?;
        if result.rc != 0 {
            // The modify is atomic: nothing of it was applied. Change by change, value by value.
            for change in &small {
                let step = singles(ldap, cx, dn, change, change.attribute(), values_of(change));
                if let Err(o) = step.await? {
                    return Ok(Err(o));
                }
            }
        }
    }
    for change in large {
        if let Err(o) = chunked(ldap, cx, dn, change).await? {
            return Ok(Err(o));
        }
    }
    Ok(Ok(()))
}

async fn send(
    ldap: &mut Ldap,
    cx: &ExportContext<'_>,
    dn: &str,
    mods: Vec<Mod<Vec<u8>>>,
) -> Result<LdapResult, ConnectorError> {
    if cx.active_directory {
        ldap.with_controls(RawControl {
            ctype: PERMISSIVE_MODIFY.to_owned(),
            crit: false,
            val: None,
        });
    }
    ldap.with_timeout(cx.timeout)
        .modify(dn, mods)
        .await
        .map_err(|e| transport(cx, e))
}

/// A large change, chunk by chunk. A replace sends its first chunk as the replace and the
/// rest as additions.
async fn chunked(
    ldap: &mut Ldap,
    cx: &ExportContext<'_>,
    dn: &str,
    change: &AttributeChange,
) -> Result<Step<()>, ConnectorError> {
    let values = values_of(change);
    let attr = change.attribute();
    let add = AttributeChange::AddValues {
        attribute: attr.to_owned(),
        values: Vec::new(),
    };
    let mut size = cx.chunk_size.max(1);
    let mut at = 0;
    while at < values.len() {
        let end = (at + size).min(values.len());
        let kind = match change {
            AttributeChange::Replace { .. } if at > 0 => &add,
            other => other,
        };
        let chunk = &values[at..end];
        let result = send(ldap, cx, dn, vec![values_mod(kind, attr, chunk)]).await?;
        match result.rc {
            0 => at = end,
            ADMIN_LIMIT if size > 1 => {
                size = (size / 2).max(1);
                tracing::info!(dn, size, "adminLimitExceeded: smaller chunks");
            }
            _ => {
                if let Err(o) = singles(ldap, cx, dn, kind, attr, chunk).await? {
                    return Ok(Err(o));
                }
                at = end;
            }
        }
    }
    Ok(Ok(()))
}

/// One value at a time; a refused value counts as applied when the entry already is as
/// wanted. Replace and clear stay whole (a clear of an absent attribute is applied).
async fn singles(
    ldap: &mut Ldap,
    cx: &ExportContext<'_>,
    dn: &str,
    change: &AttributeChange,
    attr: &str,
    values: &[Value],
) -> Result<Step<()>, ConnectorError> {
    let wanted = match change {
        AttributeChange::AddValues { .. } => true,
        AttributeChange::RemoveValues { .. } => false,
        other => {
            let r = send(ldap, cx, dn, vec![values_mod(other, attr, values)]).await?;
            let cleared =
                matches!(other, AttributeChange::Clear { .. }) && r.rc == NO_SUCH_ATTRIBUTE;
            return Ok(if r.rc == 0 || cleared {
                Ok(())
            } else {
                Err(failed(&format!("modifying {attr} of {dn}"), &r))
            });
        }
    };
    for value in values {
        let r = send(
            ldap,
            cx,
            dn,
            vec![values_mod(change, attr, std::slice::from_ref(value))],
        )
        .await?;
        if r.rc != 0 && holds(ldap, cx, dn, attr, value).await? != Some(wanted) {
            return Ok(Err(failed(&format!("modifying {attr} of {dn}"), &r)));
        }
    }
    Ok(Ok(()))
}

/// Whether the entry holds the value (LDAP compare); `None` when the server cannot say.
async fn holds(
    ldap: &mut Ldap,
    cx: &ExportContext<'_>,
    dn: &str,
    attr: &str,
    value: &Value,
) -> Result<Option<bool>, ConnectorError> {
    let r = ldap
        .with_timeout(cx.timeout)
        .compare(dn, attr, value_bytes(value))
        .await
        .map_err(|e| transport(cx, e))?;
    Ok(match r.0.rc {
        6 => Some(true),
        5 | NO_SUCH_ATTRIBUTE => Some(false),
        _ => None,
    })
}
