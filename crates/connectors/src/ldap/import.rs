//! Full import: one subtree search with the paged-results control (RFC 2696), the cookie
//! followed until the server returns an empty one. Pages are fetched as the engine asks for
//! batches, so memory holds at most a page. The import is complete only when every page
//! arrived with success; a limit (sizeLimitExceeded, timeLimitExceeded, adminLimitExceeded)
//! ends it partial, any other error or a lost connection ends it failed, each with a reason
//! naming the server and the result code.
//!
//! An import may run several searches in turn (an Active Directory delta: the changed entries,
//! then the tombstones, whose entries become deletions). For Active Directory each entry's
//! ranged attributes are followed to their end (`ranged`); one that cannot be is rejected and
//! the import ends partial, so no member removal is staged from a short list.

use async_trait::async_trait;
use identitymesh_domain::run::ObjectError;
use identitymesh_domain::schema::{ObjectTypeSchema, ValueKind};
use identitymesh_domain::staged::ImportedObject;
use identitymesh_domain::watermark::Watermark;
use identitymesh_domain::{Anchor, Attributes, Value};
use identitymesh_ldap::Dn;
use ldap3::controls::{ControlType, PagedResults, RawControl};
use ldap3::{Ldap, Scope, SearchEntry, SearchResult};
use std::collections::VecDeque;
use std::time::Duration;

use super::ad;
use super::ranged::{self, RawAttrs};
use super::session::{describe, is_limit};
use crate::{ConnectorError, ImportEnd, ImportRecord, ImportShape, ImportStream};

/// What one import searches for.
pub(crate) struct SearchSpec {
    pub server: String,
    pub base: String,
    pub scope: Scope,
    pub filter: String,
    pub attributes: Vec<String>,
    pub page_size: u32,
    pub timeout: Duration,
    /// Controls sent with every page besides paged results (Show Deleted).
    pub controls: Vec<RawControl>,
    /// Entries found are tombstones: each is a deletion by anchor.
    pub deleted: bool,
}

/// How entries become objects.
pub(crate) struct Mapper {
    pub schema: ObjectTypeSchema,
    /// Active Directory: the ranged window size; `None` for OpenLDAP.
    pub ad_range: Option<u64>,
}

/// What the import is beyond its searches.
pub(crate) struct ImportPlan {
    pub shape: ImportShape,
    /// The searches after the first.
    pub rest: Vec<SearchSpec>,
    /// Given out only when the whole read was complete.
    pub watermark: Option<Watermark>,
}

/// A running paged import.
pub(crate) struct LdapImport {
    ldap: Ldap,
    spec: SearchSpec,
    mapper: Mapper,
    plan: ImportPlan,
    cookie: Vec<u8>,
    /// Why some objects could not be read whole (the import is then partial).
    incomplete: Option<String>,
    done: bool,
    pending: VecDeque<ImportRecord>,
    /// `(failed, reason)` once the read went wrong.
    trouble: Option<(bool, String)>,
    pages: u64,
    entries: u64,
}

impl LdapImport {
    pub(crate) fn new(ldap: Ldap, spec: SearchSpec, mapper: Mapper, mut plan: ImportPlan) -> Self {
        plan.rest.reverse();
        Self {
            ldap,
            spec,
            mapper,
            plan,
            cookie: Vec::new(),
            incomplete: None,
            done: false,
            pending: VecDeque::new(),
            trouble: None,
            pages: 0,
            entries: 0,
        }
    }

    async fn fetch_page(&mut self) {
        let spec = &self.spec;
        let ldap = &mut self.ldap;
        let mut controls = spec.controls.clone();
        if spec.page_size > 0 {
            let control = PagedResults {
                size: i32::try_from(spec.page_size).unwrap_or(i32::MAX),
                cookie: std::mem::take(&mut self.cookie),
            };
            controls.push(control.into());
        }
        if !controls.is_empty() {
            ldap.with_controls(controls);
        }
        let answer = ldap
            .with_timeout(spec.timeout)
            .search(&spec.base, spec.scope, &spec.filter, &spec.attributes)
            .await;
        let SearchResult(entries, result) = match answer {
            Ok(r) => r,
            Err(e) => {
                self.stop(
                    true,
                    format!("the search of {} failed: {e}", self.spec.base),
                );
                return;
            }
        };
        self.pages += 1;
        for entry in entries {
            let entry = SearchEntry::construct(entry);
            self.entries += 1;
            let record = self.read_entry(entry).await;
            self.pending.push_back(record);
        }
        if result.rc != 0 {
            let failed = !is_limit(result.rc);
            let reason = format!(
                "the search of {} stopped after {} entries: {}",
                self.spec.base,
                self.entries,
                describe(&result)
            );
            self.stop(failed, reason);
            return;
        }
        let cookie = result.ctrls.iter().find_map(|c| match c.0 {
            Some(ControlType::PagedResults) => Some(c.1.parse::<PagedResults>().cookie),
            _ => None,
        });
        match cookie {
            Some(cookie) if !cookie.is_empty() => self.cookie = cookie,
            _ => match self.plan.rest.pop() {
                Some(next) => self.spec = next,
                None => self.done = true,
            },
        }
    }

    /// One entry as a record, its ranged attributes followed first (Active Directory).
    async fn read_entry(&mut self, entry: SearchEntry) -> ImportRecord {
        let dn = entry.dn.clone();
        let mut raw = ranged::raw_attrs(entry);
        if self.spec.deleted {
            return match ad::anchor(&self.mapper.schema.anchor, &raw) {
                Some(anchor) => ImportRecord::Delete {
                    object_type: self.mapper.schema.name.clone(),
                    anchor,
                },
                None => reject(&dn, "a deleted entry without a usable anchor".into()),
            };
        }
        if let Some(size) = self.mapper.ad_range
            && let Err(why) =
                ranged::complete(&mut self.ldap, &dn, &mut raw, size, self.spec.timeout).await
        {
            let message = format!("{why}; the object is incomplete and left as it was");
            self.incomplete.get_or_insert(format!("{dn}: {message}"));
            return reject(&dn, message);
        }
        map_entry(&self.mapper, &dn, &raw)
    }

    fn stop(&mut self, failed: bool, reason: String) {
        self.done = true;
        let reason = format!(
            "{}: {reason} (page {}); the import is {} and stages no deletion",
            self.spec.server,
            self.pages + 1,
            if failed { "failed" } else { "partial" }
        );
        self.trouble = Some((failed, reason));
    }
}

#[async_trait]
impl ImportStream for LdapImport {
    fn shape(&self) -> ImportShape {
        self.plan.shape
    }

    async fn next_batch(&mut self, max: usize) -> Result<Vec<ImportRecord>, ConnectorError> {
        let max = max.max(1);
        while self.pending.len() < max && !self.done {
            self.fetch_page().await;
        }
        let take = max.min(self.pending.len());
        Ok(self.pending.drain(..take).collect())
    }

    fn finish(self: Box<Self>) -> ImportEnd {
        let read = ReadState {
            trouble: self.trouble,
            incomplete: self.incomplete,
            done: self.done,
        };
        read.end(&self.spec.server, self.plan.watermark)
    }
}

/// How a read went, for its verdict.
struct ReadState {
    trouble: Option<(bool, String)>,
    incomplete: Option<String>,
    done: bool,
}

impl ReadState {
    /// The verdict: failed, partial (a limit, an object not read whole, not read to its end)
    /// or complete; the watermark only with a complete read.
    fn end(self, server: &str, watermark: Option<Watermark>) -> ImportEnd {
        let (failed, reason) = match (self.trouble, self.incomplete) {
            (Some((failed, reason)), _) => (failed, Some(reason)),
            (None, Some(why)) => (
                false,
                Some(format!(
                    "{server}: an object could not be read whole ({why}); the import is partial \
                     and stages no deletion"
                )),
            ),
            (None, None) if !self.done => (
                false,
                Some(format!("{server}: the import was not read to its end")),
            ),
            (None, None) => (false, None),
        };
        let complete = reason.is_none();
        ImportEnd {
            complete,
            failed,
            reason,
            watermark: watermark.filter(|_| complete),
        }
    }
}

fn reject(dn: &str, message: String) -> ImportRecord {
    ImportRecord::Rejected(ObjectError {
        object: dn.to_owned(),
        message,
    })
}

/// One entry as an imported object: anchor from the anchor attribute, name the parsed and
/// re-formatted DN, attributes by the schema (names as the schema spells them).
pub(crate) fn map_entry(mapper: &Mapper, dn_text: &str, raw: &RawAttrs) -> ImportRecord {
    let schema = &mapper.schema;
    let dn = match Dn::parse(dn_text) {
        Ok(dn) => dn,
        Err(e) => return reject(dn_text, format!("the entry's DN does not parse: {e}")),
    };
    let mut attributes = Attributes::new();
    for attr in &schema.attributes {
        let derived = mapper.ad_range.and_then(|_| ad::derived(attr, raw));
        let values = match derived {
            Some(Ok(values)) => values,
            Some(Err(why)) => return reject(dn_text, format!("{why}; the entry is skipped")),
            None => {
                let Some(values) = raw.get(&attr.name.to_ascii_lowercase()) else {
                    continue;
                };
                match values
                    .iter()
                    .map(|v| to_value(attr.kind, v.clone()))
                    .collect()
                {
                    Some(values) => values,
                    None => {
                        return reject(
                            dn_text,
                            format!(
                                "attribute '{}' holds a value that is not a valid {:?}; the entry is skipped",
                                attr.name, attr.kind
                            ),
                        );
                    }
                }
            }
        };
        if !values.is_empty() {
            attributes.set(attr.name.clone(), values);
        }
    }
    let anchor = if mapper.ad_range.is_some() {
        ad::anchor(&schema.anchor, raw)
    } else {
        raw.get(&schema.anchor.to_ascii_lowercase())
            .and_then(|v| v.first())
            .and_then(|a| std::str::from_utf8(a).ok())
            .and_then(|a| Anchor::parse(a).ok())
    };
    let Some(anchor) = anchor else {
        return reject(
            dn_text,
            format!(
                "the entry has no usable anchor attribute '{}'; it is skipped",
                schema.anchor
            ),
        );
    };
    ImportRecord::Upsert(ImportedObject {
        object_type: schema.name.clone(),
        anchor,
        name: Some(dn.to_string()),
        attributes,
    })
}

fn to_value(kind: ValueKind, raw: Vec<u8>) -> Option<Value> {
    match kind {
        ValueKind::Binary => Some(Value::Bytes(raw)),
        ValueKind::Integer => std::str::from_utf8(&raw)
            .ok()?
            .trim()
            .parse()
            .ok()
            .map(Value::Int),
        ValueKind::Boolean => match std::str::from_utf8(&raw).ok()? {
            "TRUE" => Some(Value::Bool(true)),
            "FALSE" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => String::from_utf8(raw).ok().map(Value::Str),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn c12_an_object_not_read_whole_makes_the_import_partial_without_a_watermark() {
        let watermark = Watermark {
            format: 2,
            source_id: "ldaps://dc/DC=x".into(),
            position: "04030201-0605-0807-090a-0b0c0d0e0f10:99".into(),
        };
        let read = ReadState {
            trouble: None,
            incomplete: Some("CN=all-staff: the ranged read member;range=1500-2999 failed".into()),
            done: true,
        };
        let end = read.end("ldaps://dc", Some(watermark.clone()));
        assert!(!end.complete && !end.failed, "{end:?}");
        assert!(end.watermark.is_none());
        let reason = end.reason.unwrap();
        assert!(
            reason.contains("member;range=1500-2999") && reason.contains("partial"),
            "{reason}"
        );

        let clean = ReadState {
            trouble: None,
            incomplete: None,
            done: true,
        };
        let end = clean.end("ldaps://dc", Some(watermark.clone()));
        assert!(end.complete && end.watermark == Some(watermark));
    }

    #[test]
    fn ad_entries_map_with_the_guid_text_anchor_and_all_joined_values() {
        let schema: ObjectTypeSchema = serde_json::from_value(serde_json::json!({
            "name": "group", "anchor": "objectGUID",
            "attributes": [{"name": "objectGUID"}, {"name": "member", "multi": true}],
        }))
        .unwrap();
        let mapper = Mapper {
            schema,
            ad_range: Some(1500),
        };
        let mut raw = RawAttrs::new();
        raw.insert("objectguid".into(), vec![(1..=16).collect()]);
        raw.insert("member".into(), vec![b"CN=a".to_vec(), b"CN=b".to_vec()]);
        let ImportRecord::Upsert(o) = map_entry(&mapper, "CN=g,DC=x", &raw) else {
            panic!("not an upsert");
        };
        assert_eq!(o.anchor.as_str(), "04030201-0605-0807-090a-0b0c0d0e0f10");
        assert_eq!(
            o.attributes.first_text("objectGUID").as_deref(),
            Some(o.anchor.as_str())
        );
        assert_eq!(o.attributes.get("member").unwrap().len(), 2);
    }
}
