//! The composer: decides each mesh attribute's value when several connectors contribute.
//!
//! * ranked precedence — the highest-ranked contributor that contributes wins; an explicit
//!   clear from it wins too (lower contributors are ignored); "no contribution" falls through.
//!   Ties in rank are broken by the newest source change time, then by connector name —
//!   never by the order runs happened in.
//! * latest — equal precedence: the newest source change wins.
//! * union — multi-valued merge of every contributor's values.

use crate::config::{ComposeRuleKind, ComposerRule};
use crate::value::{Contribution, Value};

/// One connector's say about one attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contributor {
    /// The connector.
    pub connector: String,
    /// Its rank (lower wins) when no explicit ranking names it.
    pub precedence: i64,
    /// When the source last changed the object (RFC 3339, UTC), for tie-breaks.
    pub changed_at: String,
    /// The flow that produced it.
    pub rule: String,
    /// What it says; `None` is no contribution.
    pub contribution: Option<Contribution>,
}

/// The composed state of one attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Composed {
    /// Set to these values, by this connector and rule (for union: the first contributor).
    Set {
        /// Values.
        values: Vec<Value>,
        /// Winning connector.
        connector: String,
        /// Winning rule.
        rule: String,
    },
    /// Explicitly cleared by this connector and rule.
    Cleared {
        /// Clearing connector.
        connector: String,
        /// Clearing rule.
        rule: String,
    },
    /// Nobody contributed.
    Absent,
}

/// Composes one attribute from its contributors.
pub fn compose(rule: &ComposerRule, contributors: &[Contributor]) -> Composed {
    match rule.kind {
        ComposeRuleKind::Union => union(contributors),
        ComposeRuleKind::Latest => first_contributing(ordered_latest(contributors)),
        ComposeRuleKind::Ranked => first_contributing(ordered_ranked(rule, contributors)),
    }
}

fn rank(rule: &ComposerRule, c: &Contributor) -> (usize, i64) {
    match rule.precedence.iter().position(|n| *n == c.connector) {
        Some(i) => (0, i as i64),
        None => (1, c.precedence),
    }
}

fn ordered_ranked<'a>(
    rule: &ComposerRule,
    contributors: &'a [Contributor],
) -> Vec<&'a Contributor> {
    let mut v: Vec<&Contributor> = contributors.iter().collect();
    v.sort_by(|a, b| {
        rank(rule, a)
            .cmp(&rank(rule, b))
            .then_with(|| b.changed_at.cmp(&a.changed_at))
            .then_with(|| a.connector.cmp(&b.connector))
    });
    v
}

fn ordered_latest(contributors: &[Contributor]) -> Vec<&Contributor> {
    let mut v: Vec<&Contributor> = contributors
        .iter()
        .filter(|c| c.contribution.is_some())
        .collect();
    v.sort_by(|a, b| {
        b.changed_at
            .cmp(&a.changed_at)
            .then_with(|| a.connector.cmp(&b.connector))
    });
    v
}

fn first_contributing(ordered: Vec<&Contributor>) -> Composed {
    for c in ordered {
        match &c.contribution {
            None => continue,
            Some(Contribution::Clear) => {
                return Composed::Cleared {
                    connector: c.connector.clone(),
                    rule: c.rule.clone(),
                };
            }
            Some(Contribution::Values(values)) => {
                return Composed::Set {
                    values: values.clone(),
                    connector: c.connector.clone(),
                    rule: c.rule.clone(),
                };
            }
        }
    }
    Composed::Absent
}

fn union(contributors: &[Contributor]) -> Composed {
    let mut sorted: Vec<&Contributor> = contributors.iter().collect();
    sorted.sort_by(|a, b| a.connector.cmp(&b.connector));
    let mut values: Vec<Value> = Vec::new();
    let mut first: Option<&Contributor> = None;
    for c in sorted {
        if let Some(Contribution::Values(vs)) = &c.contribution {
            first.get_or_insert(c);
            for v in vs {
                if !values.contains(v) {
                    values.push(v.clone());
                }
            }
        }
    }
    match first {
        Some(c) => Composed::Set {
            values,
            connector: c.connector.clone(),
            rule: c.rule.clone(),
        },
        None => Composed::Absent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(
        connector: &str,
        precedence: i64,
        at: &str,
        contribution: Option<Contribution>,
    ) -> Contributor {
        Contributor {
            connector: connector.into(),
            precedence,
            changed_at: at.into(),
            rule: format!("flows_in.x@{connector}"),
            contribution,
        }
    }

    fn vals(s: &str) -> Option<Contribution> {
        Some(Contribution::Values(vec![Value::str(s)]))
    }

    fn ranked(order: &[&str]) -> ComposerRule {
        ComposerRule {
            kind: ComposeRuleKind::Ranked,
            precedence: order.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn value_of(c: &Composed) -> Option<String> {
        match c {
            Composed::Set { values, .. } => values.first().map(Value::to_text),
            _ => None,
        }
    }

    #[test]
    fn c42_absent_empty_and_clear_token() {
        let rule = ranked(&["hr", "ad"]);
        // A: HR makes no contribution -> AD's value
        let a = compose(
            &rule,
            &[c("hr", 1, "t", None), c("ad", 2, "t", vals("+1 555 0100"))],
        );
        assert_eq!(value_of(&a).as_deref(), Some("+1 555 0100"));
        // C: HR says clear -> cleared, AD ignored
        let cl = compose(
            &rule,
            &[
                c("hr", 1, "t", Some(Contribution::Clear)),
                c("ad", 2, "t", vals("+1 555 0102")),
            ],
        );
        assert!(matches!(cl, Composed::Cleared { ref connector, .. } if connector == "hr"));
        assert_eq!(compose(&rule, &[c("hr", 1, "t", None)]), Composed::Absent);
    }

    #[test]
    fn c42_equal_precedence_is_decided_by_change_time_not_run_order() {
        let rule = ComposerRule {
            kind: ComposeRuleKind::Latest,
            precedence: vec![],
        };
        let hr = c("hr", 1, "2026-01-01T09:00:00Z", vals("Sales"));
        let ad = c("ad", 2, "2026-01-01T09:30:00Z", vals("Marketing"));
        let day1 = compose(&rule, &[hr.clone(), ad.clone()]);
        let day2 = compose(&rule, &[ad, hr]);
        assert_eq!(value_of(&day1).as_deref(), Some("Marketing"));
        assert_eq!(day1, day2);
    }

    #[test]
    fn ranked_falls_back_to_connector_precedence_and_union_merges() {
        let by_precedence = compose(
            &ranked(&[]),
            &[
                c("b", 5, "t", vals("from-b")),
                c("a", 1, "t", vals("from-a")),
            ],
        );
        assert_eq!(value_of(&by_precedence).as_deref(), Some("from-a"));
        let u = ComposerRule {
            kind: ComposeRuleKind::Union,
            precedence: vec![],
        };
        let merged = compose(
            &u,
            &[
                c(
                    "b",
                    1,
                    "t",
                    Some(Contribution::Values(vec![Value::str("x"), Value::str("y")])),
                ),
                c(
                    "a",
                    1,
                    "t",
                    Some(Contribution::Values(vec![Value::str("y"), Value::str("z")])),
                ),
            ],
        );
        match merged {
            Composed::Set { values, .. } => assert_eq!(values.len(), 3),
            other => panic!("expected a set, got {other:?}"),
        }
    }
}
