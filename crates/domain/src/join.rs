//! Join decisions: how an unjoined connector object finds its mesh object, and whether an
//! unmanaged target object may be adopted.
//!
//! Rules are tried in order; the first rule that finds any candidate decides. Exactly one
//! candidate joins; several is an ambiguous join, which stops for that object and is
//! reported — it never picks one, so repeated runs cannot flap between candidates.

use crate::config::AdoptPolicy;
use crate::names::MeshId;

/// The outcome of evaluating the join rules for one connector object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JoinDecision {
    /// Exactly one mesh object matched.
    Join {
        /// The mesh object.
        mesh_id: MeshId,
        /// The rule that matched.
        rule: String,
    },
    /// Several matched: stop and report.
    Ambiguous {
        /// The candidates, sorted.
        candidates: Vec<MeshId>,
        /// The rule that found them.
        rule: String,
    },
    /// No rule matched.
    NoMatch,
}

/// Decides from each rule's candidates, in rule order.
pub fn decide_join<I>(results: I) -> JoinDecision
where
    I: IntoIterator<Item = (String, Vec<MeshId>)>,
{
    for (rule, mut candidates) in results {
        candidates.sort();
        candidates.dedup();
        match candidates.len() {
            0 => continue,
            1 => {
                return JoinDecision::Join {
                    mesh_id: candidates[0],
                    rule,
                };
            }
            _ => return JoinDecision::Ambiguous { candidates, rule },
        }
    }
    JoinDecision::NoMatch
}

/// What to do with an unmanaged target object that matches a mesh object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdoptionDecision {
    /// Link it now.
    Adopt,
    /// Wait for an operator.
    AwaitApproval(String),
    /// Refuse: the object stays unmanaged.
    Refuse(String),
}

/// Applies the adoption policy. Privileged objects are never adopted automatically.
pub fn decide_adoption(policy: AdoptPolicy, privileged: bool) -> AdoptionDecision {
    match (policy, privileged) {
        (AdoptPolicy::Never, _) => AdoptionDecision::Refuse(
            "the connector's adopt policy is \"never\": an existing target object is not taken over".into(),
        ),
        (_, true) => AdoptionDecision::AwaitApproval(
            "the existing target object is marked privileged: adoption needs an operator's approval".into(),
        ),
        (AdoptPolicy::Approve, false) => AdoptionDecision::AwaitApproval(
            "the existing target object was not created by IdentityMesh: adoption needs approval (adopt = \"approve\")".into(),
        ),
        (AdoptPolicy::Auto, false) => AdoptionDecision::Adopt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_rule_with_candidates_decides() {
        let d = decide_join(vec![
            ("join[0]".to_string(), vec![]),
            ("join[1]".to_string(), vec![MeshId(7)]),
            ("join[2]".to_string(), vec![MeshId(8), MeshId(9)]),
        ]);
        assert_eq!(
            d,
            JoinDecision::Join {
                mesh_id: MeshId(7),
                rule: "join[1]".into()
            }
        );
    }

    #[test]
    fn two_candidates_are_ambiguous_and_never_picked() {
        let d = decide_join(vec![(
            "join[0]".to_string(),
            vec![MeshId(9), MeshId(3), MeshId(9)],
        )]);
        assert_eq!(
            d,
            JoinDecision::Ambiguous {
                candidates: vec![MeshId(3), MeshId(9)],
                rule: "join[0]".into()
            }
        );
        assert_eq!(
            decide_join(Vec::<(String, Vec<MeshId>)>::new()),
            JoinDecision::NoMatch
        );
    }

    #[test]
    fn adoption_defaults_to_approval_and_never_auto_adopts_privileged() {
        assert!(matches!(
            decide_adoption(AdoptPolicy::default(), false),
            AdoptionDecision::AwaitApproval(_)
        ));
        assert!(matches!(
            decide_adoption(AdoptPolicy::Auto, true),
            AdoptionDecision::AwaitApproval(_)
        ));
        assert_eq!(
            decide_adoption(AdoptPolicy::Auto, false),
            AdoptionDecision::Adopt
        );
        assert!(matches!(
            decide_adoption(AdoptPolicy::Never, false),
            AdoptionDecision::Refuse(_)
        ));
    }
}
