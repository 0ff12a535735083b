//! Change detection between what a target holds and what the mesh says it should hold.
//!
//! Values compare under the attribute's normaliser (the same one joins use), so a value
//! that differs only by case in a case-insensitive attribute is not a change — declare the
//! attribute `case_sensitive` where display case matters. Multi-valued attributes are sets
//! unless ordered: they change by value-level adds and removes, never a rewrite.

use std::collections::BTreeSet;

use crate::export::AttributeChange;
use crate::normalize::Normalizer;
use crate::schema::{AttributeSchema, ObjectTypeSchema};
use crate::value::{Attributes, Value};

/// The comparison key of a value under a normaliser.
pub fn value_key(normalizer: Normalizer, value: &Value) -> String {
    match value {
        Value::Str(s) => normalizer.key(s),
        other => other.to_text(),
    }
}

/// The changes that turn `current` into `desired` for the `managed` attributes. An attribute
/// absent from `desired` is cleared when `current` has it.
pub fn diff_attributes(
    schema: &ObjectTypeSchema,
    current: &Attributes,
    desired: &Attributes,
    managed: &[&str],
) -> Vec<AttributeChange> {
    let mut changes = Vec::new();
    for name in managed {
        let fallback = AttributeSchema::text(*name);
        let attr = schema.attribute(name).unwrap_or(&fallback);
        let now = current.get(name).unwrap_or(&[]);
        match desired.get(name) {
            None | Some([]) => {
                if !now.is_empty() {
                    changes.push(AttributeChange::Clear {
                        attribute: (*name).to_owned(),
                    });
                }
            }
            Some(want) => changes.extend(diff_values(attr, now, want)),
        }
    }
    changes
}

fn diff_values(attr: &AttributeSchema, now: &[Value], want: &[Value]) -> Vec<AttributeChange> {
    let n = attr.normalizer();
    if !attr.multi || attr.ordered {
        let same = now.len() == want.len()
            && now
                .iter()
                .zip(want)
                .all(|(a, b)| value_key(n, a) == value_key(n, b));
        return if same {
            Vec::new()
        } else {
            vec![AttributeChange::Replace {
                attribute: attr.name.clone(),
                values: want.to_vec(),
            }]
        };
    }
    let now_keys: BTreeSet<String> = now.iter().map(|v| value_key(n, v)).collect();
    let want_keys: BTreeSet<String> = want.iter().map(|v| value_key(n, v)).collect();
    let adds: Vec<Value> = dedup_by_key(
        n,
        want.iter().filter(|v| !now_keys.contains(&value_key(n, v))),
    );
    let removes: Vec<Value> = dedup_by_key(
        n,
        now.iter().filter(|v| !want_keys.contains(&value_key(n, v))),
    );
    let mut out = Vec::new();
    if !adds.is_empty() {
        out.push(AttributeChange::AddValues {
            attribute: attr.name.clone(),
            values: adds,
        });
    }
    if !removes.is_empty() {
        out.push(AttributeChange::RemoveValues {
            attribute: attr.name.clone(),
            values: removes,
        });
    }
    out
}

fn dedup_by_key<'a>(n: Normalizer, values: impl Iterator<Item = &'a Value>) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    values
        .filter(|v| seen.insert(value_key(n, v)))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> ObjectTypeSchema {
        let mut member = AttributeSchema::text("member");
        member.multi = true;
        let mut display = AttributeSchema::text("displayName");
        display.case_sensitive = true;
        ObjectTypeSchema {
            name: "t".into(),
            anchor: "id".into(),
            attributes: vec![AttributeSchema::text("mail"), member, display],
        }
    }

    fn attrs(pairs: &[(&str, &[&str])]) -> Attributes {
        pairs
            .iter()
            .map(|(k, vs)| (k.to_string(), vs.iter().map(|v| Value::str(*v)).collect()))
            .collect()
    }

    #[test]
    fn membership_changes_are_value_level() {
        let now = attrs(&[("member", &["cn=a", "cn=b", "cn=c"])]);
        let want = attrs(&[("member", &["cn=b", "cn=c", "cn=d"])]);
        let changes = diff_attributes(&schema(), &now, &want, &["member"]);
        assert_eq!(
            changes,
            vec![
                AttributeChange::AddValues {
                    attribute: "member".into(),
                    values: vec![Value::str("cn=d")]
                },
                AttributeChange::RemoveValues {
                    attribute: "member".into(),
                    values: vec![Value::str("cn=a")]
                },
            ]
        );
    }

    #[test]
    fn case_only_change_is_a_no_op_unless_case_sensitive() {
        let now = attrs(&[
            ("mail", &["Jane@Example.test"]),
            ("displayName", &["jane doe"]),
        ]);
        let want = attrs(&[
            ("mail", &["jane@example.test"]),
            ("displayName", &["Jane Doe"]),
        ]);
        let changes = diff_attributes(&schema(), &now, &want, &["mail", "displayName"]);
        assert_eq!(
            changes,
            vec![AttributeChange::Replace {
                attribute: "displayName".into(),
                values: vec![Value::str("Jane Doe")]
            }]
        );
    }

    #[test]
    fn absent_desired_clears_and_unchanged_gives_nothing() {
        let now = attrs(&[("mail", &["a@x"])]);
        assert_eq!(
            diff_attributes(&schema(), &now, &Attributes::new(), &["mail"]),
            vec![AttributeChange::Clear {
                attribute: "mail".into()
            }]
        );
        assert!(diff_attributes(&schema(), &now, &now, &["mail"]).is_empty());
        assert!(
            diff_attributes(&schema(), &Attributes::new(), &Attributes::new(), &["mail"])
                .is_empty()
        );
    }
}
