//! Full import: one subtree search with the paged-results control (RFC 2696), the cookie
//! followed until the server returns an empty one. Pages are fetched as the engine asks for
//! batches, so memory holds at most a page. The import is complete only when every page
//! arrived with success; a limit (sizeLimitExceeded, timeLimitExceeded, adminLimitExceeded)
//! ends it partial, any other error or a lost connection ends it failed, each with a reason
//! naming the server and the result code.

use async_trait::async_trait;
use identitymesh_domain::run::ObjectError;
use identitymesh_domain::schema::{ObjectTypeSchema, ValueKind};
use identitymesh_domain::staged::ImportedObject;
use identitymesh_domain::{Anchor, Attributes, Value};
use identitymesh_ldap::Dn;
use ldap3::controls::{ControlType, PagedResults};
use ldap3::{Ldap, Scope, SearchEntry, SearchResult};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

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
}

/// A running paged import.
pub(crate) struct LdapImport {
    ldap: Ldap,
    spec: SearchSpec,
    schema: ObjectTypeSchema,
    cookie: Vec<u8>,
    done: bool,
    pending: VecDeque<ImportRecord>,
    /// `(failed, reason)` once the read went wrong.
    trouble: Option<(bool, String)>,
    pages: u64,
    entries: u64,
}

impl LdapImport {
    pub(crate) fn new(ldap: Ldap, spec: SearchSpec, schema: ObjectTypeSchema) -> Self {
        Self {
            ldap,
            spec,
            schema,
            cookie: Vec::new(),
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
        if spec.page_size > 0 {
            let control = PagedResults {
                size: i32::try_from(spec.page_size).unwrap_or(i32::MAX),
                cookie: std::mem::take(&mut self.cookie),
            };
            ldap.with_controls(control);
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
            self.pending.push_back(map_entry(&self.schema, entry));
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
            _ => self.done = true,
        }
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
        ImportShape::Full
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
        let (failed, reason) = match self.trouble {
            Some((failed, reason)) => (failed, Some(reason)),
            None if !self.done => (
                false,
                Some(format!(
                    "{}: the import was not read to its end",
                    self.spec.server
                )),
            ),
            None => (false, None),
        };
        ImportEnd {
            complete: reason.is_none(),
            failed,
            reason,
            watermark: None,
        }
    }
}

/// One entry as an imported object: anchor from the anchor attribute, name the parsed and
/// re-formatted DN, attributes by the schema (names as the schema spells them).
pub(crate) fn map_entry(schema: &ObjectTypeSchema, entry: SearchEntry) -> ImportRecord {
    let reject = |dn: &str, message: String| {
        ImportRecord::Rejected(ObjectError {
            object: dn.to_owned(),
            message,
        })
    };
    let dn = match Dn::parse(&entry.dn) {
        Ok(dn) => dn,
        Err(e) => return reject(&entry.dn, format!("the entry's DN does not parse: {e}")),
    };
    let texts: HashMap<String, Vec<String>> = lower_keys(entry.attrs);
    let bytes: HashMap<String, Vec<Vec<u8>>> = lower_keys(entry.bin_attrs);
    let mut attributes = Attributes::new();
    for attr in &schema.attributes {
        let key = attr.name.to_ascii_lowercase();
        let raw: Vec<Vec<u8>> = match (texts.get(&key), bytes.get(&key)) {
            (Some(t), _) => t.iter().map(|s| s.as_bytes().to_vec()).collect(),
            (None, Some(b)) => b.clone(),
            (None, None) => continue,
        };
        let mut values = Vec::with_capacity(raw.len());
        for v in raw {
            match to_value(attr.kind, v) {
                Some(value) => values.push(value),
                None => {
                    return reject(
                        &entry.dn,
                        format!(
                            "attribute '{}' holds a value that is not a valid {:?}; the entry is skipped",
                            attr.name, attr.kind
                        ),
                    );
                }
            }
        }
        attributes.set(attr.name.clone(), values);
    }
    let anchor_key = schema.anchor.to_ascii_lowercase();
    let anchor = texts
        .get(&anchor_key)
        .and_then(|v| v.first())
        .and_then(|a| Anchor::parse(a).ok());
    let Some(anchor) = anchor else {
        return reject(
            &entry.dn,
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

fn lower_keys<V>(map: HashMap<String, V>) -> HashMap<String, V> {
    map.into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
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
