//! Active Directory export: the connector's `enabled` attribute becomes bit 0x2 of
//! `userAccountControl` (read-modify-write on an update: every other bit is kept, C-36),
//! `accountExpires` is written as a FILETIME ("never" for a cleared value), and a new user
//! gets its initial password as `unicodePwd` (the UTF-16LE of the quoted password) — only
//! over LDAPS or StartTLS, never over plain LDAP.

use identitymesh_domain::export::AttributeChange;
use identitymesh_domain::{Attributes, Value};
use identitymesh_secrets::SecretString;
use ldap3::{Ldap, Scope, SearchEntry};
use rand_core::{OsRng, RngCore};

use super::export::{ExportContext, transport};
use super::uac;
use crate::ConnectorError;

/// Where a new user's initial password comes from.
#[derive(Clone, Copy)]
pub(crate) enum PasswordSource<'a> {
    /// A stored secret.
    Secret(&'a SecretString),
    /// A fresh random password.
    Generate,
}

fn as_bool(values: &[Value]) -> Option<bool> {
    match values.first()? {
        Value::Bool(b) => Some(*b),
        Value::Int(i) => Some(*i != 0),
        Value::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn as_int(values: &[Value]) -> Option<i64> {
    match values.first()? {
        Value::Int(i) => Some(*i),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn take(attrs: &mut Attributes, name: &str) -> Option<Vec<Value>> {
    let key = attrs
        .names()
        .find(|n| n.eq_ignore_ascii_case(name))?
        .clone();
    attrs.remove(&key)
}

fn expires(values: &[Value]) -> Result<i64, String> {
    match values.first() {
        None => Ok(uac::NEVER),
        Some(Value::Int(i)) => Ok(*i),
        Some(v) => uac::text_to_filetime(&v.to_text())
            .ok_or_else(|| "accountExpires is not an RFC 3339 timestamp".to_owned()),
    }
}

/// The attributes of a new entry as AD takes them. `Err` says what is wrong.
pub(crate) fn add_attributes(
    cx: &ExportContext<'_>,
    attributes: &Attributes,
) -> Result<Attributes, String> {
    let mut out = attributes.clone();
    let given = take(&mut out, uac::UAC);
    if let Some(enabled) = take(&mut out, uac::ENABLED) {
        let enabled = as_bool(&enabled).ok_or("'enabled' is not a boolean")?;
        let base = given
            .as_deref()
            .and_then(as_int)
            .unwrap_or(uac::NORMAL_ACCOUNT);
        out.set(uac::UAC, vec![Value::Int(uac::with_enabled(base, enabled))]);
    } else if let Some(given) = given {
        out.set(uac::UAC, given);
    }
    if let Some(values) = take(&mut out, uac::ACCOUNT_EXPIRES) {
        out.set(uac::ACCOUNT_EXPIRES, vec![Value::Int(expires(&values)?)]);
    }
    if let Some(source) = cx.password {
        if !cx.tls {
            return Err(format!(
                "refusing to send an initial password (unicodePwd) over plain LDAP to {}: use \
                 ldaps:// or tls = \"starttls\"",
                cx.server
            ));
        }
        out.set("unicodePwd", vec![Value::Bytes(unicode_pwd(source)?)]);
    }
    Ok(out)
}

/// The `unicodePwd` value: UTF-16LE of the password in double quotes.
fn unicode_pwd(source: PasswordSource<'_>) -> Result<Vec<u8>, String> {
    let generated;
    let password = match source {
        PasswordSource::Secret(s) => s.expose(),
        PasswordSource::Generate => {
            generated = generate();
            generated.as_str()
        }
    };
    Ok(format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect())
}

/// 24 random characters with upper, lower, digit and symbol: meets AD's complexity rule.
fn generate() -> String {
    const SETS: [&[u8]; 4] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
        b"-_.!#%+=",
    ];
    let mut bytes = [0u8; 24];
    OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let set = SETS[i % 4];
            char::from(set[usize::from(*b) % set.len()])
        })
        .collect()
}

/// The changes as AD takes them: `enabled` through the current `userAccountControl`,
/// `accountExpires` as a FILETIME. `Err` says what is wrong.
pub(crate) async fn changes(
    ldap: &mut Ldap,
    cx: &ExportContext<'_>,
    dn: &str,
    changes: &[AttributeChange],
) -> Result<Result<Vec<AttributeChange>, String>, ConnectorError> {
    let mut out = Vec::with_capacity(changes.len());
    for change in changes {
        let attr = change.attribute();
        let values = match change {
            AttributeChange::Replace { values, .. } => values.as_slice(),
            AttributeChange::Clear { .. } => &[],
            other => {
                out.push(other.clone());
                continue;
            }
        };
        if attr.eq_ignore_ascii_case(uac::ENABLED) {
            let Some(enabled) = as_bool(values) else {
                return Ok(Err("'enabled' must be true or false".into()));
            };
            let Some(current) = current_uac(ldap, cx, dn).await? else {
                return Ok(Err(format!("{dn} has no readable userAccountControl")));
            };
            out.push(AttributeChange::Replace {
                attribute: uac::UAC.into(),
                values: vec![Value::Int(uac::with_enabled(current, enabled))],
            });
        } else if attr.eq_ignore_ascii_case(uac::ACCOUNT_EXPIRES) {
            match expires(values) {
                Ok(ticks) => out.push(AttributeChange::Replace {
                    attribute: uac::ACCOUNT_EXPIRES.into(),
                    values: vec![Value::Int(ticks)],
                }),
                Err(why) => return Ok(Err(why)),
            }
        } else {
            out.push(change.clone());
        }
    }
    Ok(Ok(out))
}

async fn current_uac(
    ldap: &mut Ldap,
    cx: &ExportContext<'_>,
    dn: &str,
) -> Result<Option<i64>, ConnectorError> {
    let found = ldap
        .with_timeout(cx.timeout)
        .search(dn, Scope::Base, "(objectClass=*)", vec![uac::UAC])
        .await
        .map_err(|e| transport(cx, e))?;
    Ok(found.0.into_iter().next().and_then(|e| {
        let entry = SearchEntry::construct(e);
        let (_, values) = entry
            .attrs
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(uac::UAC))?;
        values.first()?.trim().parse().ok()
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn unicode_pwd_is_utf16le_of_the_quoted_password() {
        let secret = SecretString::from("Pw1!");
        let bytes = unicode_pwd(PasswordSource::Secret(&secret)).unwrap();
        assert_eq!(bytes, b"\"\0P\0w\x001\0!\0\"\0".to_vec());
        let generated = generate();
        assert_eq!(generated.len(), 24);
        assert!(generated.chars().any(|c| c.is_ascii_uppercase()));
        assert!(generated.chars().any(|c| c.is_ascii_digit()));
        assert_ne!(generated, generate());
    }
}
