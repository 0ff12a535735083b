//! Operator decisions on adoptions: an unmanaged target object that matched a mesh object
//! waits (case C-47) until an operator approves or rejects taking it over. Approval links it;
//! the next sync computes its first export, which `run TARGET full-sync --simulate` previews.

use identitymesh_domain::audit::NewAudit;
use identitymesh_domain::staged::{Link, LinkKind};
use identitymesh_domain::{Anchor, ConnectorName};
use serde_json::json;

use crate::engine::Engine;
use crate::error::EngineError;

/// What an operator decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdoptionVerdict {
    /// Take the object over.
    Approve,
    /// Leave it unmanaged (it is proposed again if it still matches on a later sync).
    Reject,
}

impl Engine {
    /// Records an operator's decision on a pending adoption, audited with the object's state.
    pub async fn decide_adoption(
        &self,
        connector: &str,
        anchor: &str,
        verdict: AdoptionVerdict,
        actor: &str,
    ) -> Result<String, EngineError> {
        let config = self
            .config()
            .connector(connector)
            .cloned()
            .ok_or_else(|| EngineError::UnknownConnector(connector.to_owned()))?;
        let name: ConnectorName = config.name.clone();
        let anchor =
            Anchor::parse(anchor).map_err(|e| EngineError::NotApplicable(e.to_string()))?;
        let (actor, now) = (actor.to_owned(), self.now());
        let result = self
            .store()
            .run_blocking(move |tx| {
                let Some(object) = tx.staged_by_anchor(&name, &anchor)? else {
                    return Ok(Err(format!(
                        "connector '{name}' has no object with anchor '{anchor}'"
                    )));
                };
                let Link::AwaitingAdoption { candidate, reason } = object.link.clone() else {
                    return Ok(Err(format!(
                        "{name}/anchor {anchor} is not waiting for adoption"
                    )));
                };
                let (link, action) = match verdict {
                    AdoptionVerdict::Approve => (
                        Link::Joined {
                            mesh_id: candidate,
                            how: LinkKind::Adopted,
                        },
                        "adoption.approved",
                    ),
                    AdoptionVerdict::Reject => (Link::Unjoined, "adoption.rejected"),
                };
                tx.set_staged_link(object.id, &link)?;
                let record = NewAudit {
                    actor,
                    action: action.into(),
                    target: format!("{name}/anchor {anchor}"),
                    before: Some(json!({ "awaiting": candidate, "reason": reason })),
                    after: Some(json!({ "link": link })),
                    run_id: None,
                };
                tx.append_audit(&record, now)?;
                Ok(Ok(format!(
                    "{name}/anchor {anchor}: {action} ({candidate})"
                )))
            })
            .await?;
        result.map_err(EngineError::NotApplicable)
    }
}
