//! Active Directory import: which attributes to ask for, the values derived from AD's
//! encodings (`enabled` from `userAccountControl`, `accountExpires` as a timestamp, the
//! `objectGUID` text form), and the delta position.
//!
//! The delta position is the domain controller's `highestCommittedUSN`, bound to its
//! `invocationId` (read from the rootDSE's `dsServiceName`, the DC's NTDS Settings object).
//! A USN means nothing on another DC, nor on this one after a restore or reprovision (each
//! gets a new invocationId), so a watermark whose invocationId differs is foreign: the
//! connector then runs a full import instead of trusting it.

use identitymesh_domain::schema::{AttributeSchema, ValueKind};
use identitymesh_domain::{Anchor, Value};
use ldap3::{Ldap, Scope, SearchEntry};
use std::time::Duration;

use super::ranged::{RawAttrs, raw_attrs, window};
use super::session::describe;
use super::{guid, uac};

/// Show Deleted: tombstones are returned too.
pub(crate) const SHOW_DELETED: &str = "1.2.840.113556.1.4.417";
/// Permissive Modify: adding a present value or deleting an absent one succeeds.
pub(crate) const PERMISSIVE_MODIFY: &str = "1.2.840.113556.1.4.1413";

/// What the domain controller says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DcState {
    /// The invocationId in GUID text form.
    pub invocation_id: String,
    /// `highestCommittedUSN` when the read began.
    pub usn: u64,
    /// `defaultNamingContext`: where the Deleted Objects container lives.
    pub naming_context: String,
}

impl DcState {
    /// The watermark position: `<invocationId>:<usn>`.
    pub(crate) fn position(&self) -> String {
        format!("{}:{}", self.invocation_id, self.usn)
    }
}

/// Reads a position written by [`DcState::position`].
pub(crate) fn parse_position(position: &str) -> Option<(&str, u64)> {
    let (id, usn) = position.rsplit_once(':')?;
    guid::from_text(id)?;
    Some((id, usn.parse().ok()?))
}

async fn base_read(
    ldap: &mut Ldap,
    dn: &str,
    attrs: Vec<&str>,
    timeout: Duration,
) -> Result<RawAttrs, String> {
    let answer = ldap
        .with_timeout(timeout)
        .search(dn, Scope::Base, "(objectClass=*)", attrs)
        .await
        .map_err(|e| format!("reading {dn:?} failed: {e}"))?;
    if answer.1.rc != 0 {
        return Err(format!("reading {dn:?} failed: {}", describe(&answer.1)));
    }
    let entry = answer.0.into_iter().next().ok_or("no entry")?;
    Ok(raw_attrs(SearchEntry::construct(entry)))
}

fn first_text(raw: &RawAttrs, key: &str) -> Option<String> {
    raw.get(key)?
        .first()
        .and_then(|v| String::from_utf8(v.clone()).ok())
}

/// Reads the DC's invocationId, highestCommittedUSN and default naming context.
pub(crate) async fn dc_state(ldap: &mut Ldap, timeout: Duration) -> Result<DcState, String> {
    let attrs = vec![
        "dsServiceName",
        "highestCommittedUSN",
        "defaultNamingContext",
    ];
    let root = base_read(ldap, "", attrs, timeout).await?;
    let service = first_text(&root, "dsservicename")
        .ok_or("the rootDSE has no dsServiceName: is this an Active Directory DC?")?;
    let usn = first_text(&root, "highestcommittedusn")
        .and_then(|u| u.parse().ok())
        .ok_or("the rootDSE has no highestCommittedUSN")?;
    let naming_context = first_text(&root, "defaultnamingcontext")
        .ok_or("the rootDSE has no defaultNamingContext")?;
    let ntds = base_read(ldap, &service, vec!["invocationId"], timeout).await?;
    let invocation_id = ntds
        .get("invocationid")
        .and_then(|v| v.first())
        .and_then(|b| guid::to_text(b))
        .ok_or_else(|| format!("{service} has no 16-byte invocationId"))?;
    Ok(DcState {
        invocation_id,
        usn,
        naming_context,
    })
}

/// The attribute descriptions to request for these schema attributes: `enabled` is read
/// through `userAccountControl`, multi-valued attributes in ranged windows.
pub(crate) fn requested(attributes: &[AttributeSchema], range_size: u64) -> Vec<String> {
    let mut out = Vec::new();
    for a in attributes {
        if a.name.eq_ignore_ascii_case(uac::ENABLED) {
            out.push(uac::UAC.to_owned());
        } else if a.multi {
            out.push(window(&a.name, 0, range_size));
        } else {
            out.push(a.name.clone());
        }
    }
    out
}

fn integer(raw: &[Vec<u8>]) -> Option<i64> {
    std::str::from_utf8(raw.first()?).ok()?.trim().parse().ok()
}

/// The values of an attribute AD encodes its own way: `Some` when this attribute is one of
/// them (`Err` names what is wrong), `None` to map it the generic way.
pub(crate) fn derived(
    attr: &AttributeSchema,
    raw: &RawAttrs,
) -> Option<Result<Vec<Value>, String>> {
    let name = attr.name.as_str();
    if name.eq_ignore_ascii_case(uac::ENABLED) {
        let values = raw.get(&uac::UAC.to_ascii_lowercase())?;
        return Some(match integer(values) {
            Some(bits) => Ok(vec![Value::Bool(uac::enabled(bits))]),
            None => Err("userAccountControl is not an integer".into()),
        });
    }
    if name.eq_ignore_ascii_case(uac::ACCOUNT_EXPIRES) && attr.kind != ValueKind::Integer {
        let values = raw.get(&name.to_ascii_lowercase())?;
        return Some(match integer(values) {
            Some(ticks) => Ok(uac::filetime_to_text(ticks)
                .map(Value::Str)
                .into_iter()
                .collect()),
            None => Err("accountExpires is not a FILETIME integer".into()),
        });
    }
    if name.eq_ignore_ascii_case("objectGUID") && attr.kind != ValueKind::Binary {
        let values = raw.get("objectguid")?;
        return Some(
            values
                .iter()
                .map(|v| {
                    guid::to_text(v)
                        .map(Value::Str)
                        .ok_or_else(|| "objectGUID is not 16 bytes".into())
                })
                .collect(),
        );
    }
    None
}

/// The anchor of an AD entry: the GUID text form for `objectGUID`, else the text value.
pub(crate) fn anchor(anchor_attribute: &str, raw: &RawAttrs) -> Option<Anchor> {
    let value = raw.get(&anchor_attribute.to_ascii_lowercase())?.first()?;
    let text = if anchor_attribute.eq_ignore_ascii_case("objectGUID") {
        guid::to_text(value)?
    } else {
        String::from_utf8(value.clone()).ok()?
    };
    Anchor::parse(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_bind_the_usn_to_the_invocation_id() {
        let state = DcState {
            invocation_id: "04030201-0605-0807-090a-0b0c0d0e0f10".into(),
            usn: 4711,
            naming_context: "DC=example,DC=test".into(),
        };
        let position = state.position();
        assert_eq!(
            parse_position(&position),
            Some(("04030201-0605-0807-090a-0b0c0d0e0f10", 4711))
        );
        assert_eq!(parse_position("4711"), None);
        assert_eq!(parse_position("not-a-guid:4711"), None);
    }
}
