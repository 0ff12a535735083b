//! Active Directory ranged attribute retrieval (C-12). A domain controller returns at most
//! MaxValRange (1500) values of one attribute per answer: `member;range=0-1499` with the
//! first window, while plain `member` comes back empty. The connector asks for each
//! multi-valued attribute in windows (`member;range=0-1499`), then follows the next window on
//! the entry itself until the server answers with an upper bound of `*`. An empty plain
//! `member` beside a ranged one never means "no members"; a failed follow-up is an error the
//! import turns into "this object is incomplete, the import partial".

use ldap3::{Ldap, Scope, SearchEntry};
use std::collections::HashMap;
use std::time::Duration;

use super::session::describe;

/// Raw attribute values by lower-case attribute description.
pub(crate) type RawAttrs = HashMap<String, Vec<Vec<u8>>>;

/// `member;range=0-1499` → (`member`, 0, Some(1499)); `member;range=1500-*` → (…, None).
pub(crate) fn parse_range(description: &str) -> Option<(&str, u64, Option<u64>)> {
    let (base, options) = description.split_once(';')?;
    let range = options.split(';').find_map(|o| {
        o.strip_prefix("range=")
            .or_else(|| o.strip_prefix("RANGE="))
    })?;
    let (lo, hi) = range.split_once('-')?;
    let lo = lo.parse().ok()?;
    let hi = if hi == "*" {
        None
    } else {
        Some(hi.parse().ok()?)
    };
    Some((base, lo, hi))
}

/// The attribute description asking for `size` values from `lo` on.
pub(crate) fn window(attribute: &str, lo: u64, size: u64) -> String {
    format!(
        "{attribute};range={lo}-{}",
        lo.saturating_add(size.max(1) - 1)
    )
}

/// The entry's attributes as raw values under lower-case names (text values as UTF-8 bytes).
pub(crate) fn raw_attrs(entry: SearchEntry) -> RawAttrs {
    let mut raw: RawAttrs = HashMap::new();
    for (k, values) in entry.attrs {
        raw.entry(k.to_ascii_lowercase())
            .or_default()
            .extend(values.into_iter().map(String::into_bytes));
    }
    for (k, values) in entry.bin_attrs {
        raw.entry(k.to_ascii_lowercase())
            .or_default()
            .extend(values);
    }
    raw
}

/// Follows every ranged attribute of one entry to its end and stores the values under the
/// plain attribute name. `Err` names the attribute, the window and the server's answer.
pub(crate) async fn complete(
    ldap: &mut Ldap,
    dn: &str,
    raw: &mut RawAttrs,
    size: u64,
    timeout: Duration,
) -> Result<(), String> {
    let ranged: Vec<String> = raw
        .keys()
        .filter(|k| parse_range(k).is_some())
        .cloned()
        .collect();
    for key in ranged {
        let Some(mut values) = raw.remove(&key) else {
            continue;
        };
        let Some((base, lo, hi)) = parse_range(&key).map(|(b, l, h)| (b.to_owned(), l, h)) else {
            continue;
        };
        let mut next = hi;
        let mut seen = lo + values.len() as u64;
        while let Some(upper) = next {
            let asked = window(&base, upper + 1, size);
            let (more, bound) = fetch_window(ldap, dn, &base, &asked, timeout).await?;
            seen += more.len() as u64;
            values.extend(more);
            next = match bound {
                Some((_, hi)) => hi,
                // No ranged attribute in the answer: the previous window ended exactly at the
                // last value.
                None => None,
            };
            if next.is_some_and(|h| h + 1 < seen) {
                return Err(format!("the server's window for {asked} went backwards"));
            }
        }
        raw.insert(base, values);
    }
    Ok(())
}

type Bound = Option<(u64, Option<u64>)>;

async fn fetch_window(
    ldap: &mut Ldap,
    dn: &str,
    base: &str,
    asked: &str,
    timeout: Duration,
) -> Result<(Vec<Vec<u8>>, Bound), String> {
    let answer = ldap
        .with_timeout(timeout)
        .search(dn, Scope::Base, "(objectClass=*)", vec![asked])
        .await
        .map_err(|e| format!("the ranged read {asked} of {dn} failed: {e}"))?;
    if answer.1.rc != 0 {
        return Err(format!(
            "the ranged read {asked} of {dn} failed: {}",
            describe(&answer.1)
        ));
    }
    let Some(entry) = answer.0.into_iter().next() else {
        return Err(format!(
            "the ranged read {asked} of {dn} found no entry (deleted meanwhile?)"
        ));
    };
    let raw = raw_attrs(SearchEntry::construct(entry));
    for (key, values) in raw {
        if let Some((b, lo, hi)) = parse_range(&key)
            && b.eq_ignore_ascii_case(base)
        {
            return Ok((values, Some((lo, hi))));
        }
    }
    Ok((Vec::new(), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_options_parse_and_windows_render() {
        assert_eq!(
            parse_range("member;range=0-1499"),
            Some(("member", 0, Some(1499)))
        );
        assert_eq!(
            parse_range("member;range=1500-*"),
            Some(("member", 1500, None))
        );
        assert_eq!(parse_range("member"), None);
        assert_eq!(parse_range("member;binary"), None);
        assert_eq!(parse_range("member;range=x-1"), None);
        assert_eq!(window("member", 1500, 1500), "member;range=1500-2999");
    }
}
