//! Comparing two configuration texts: a unified line diff (the `similar` crate, three lines
//! of context) and a structured summary of which connectors, mesh types and cycles were
//! added, removed or changed, read from the TOML tables themselves.

use serde_json::{Value, json};
use similar::TextDiff;

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// The comparison of two texts as the API returns it.
pub fn compare(old: &str, new: &str, old_name: &str, new_name: &str) -> Value {
    let diff = TextDiff::from_lines(old, new);
    let (mut added, mut removed) = (0u64, 0u64);
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    let unified = diff
        .unified_diff()
        .context_radius(CONTEXT)
        .header(old_name, new_name)
        .to_string();
    json!({
        "unified": unified,
        "lines_added": added,
        "lines_removed": removed,
        "summary": summary(old, new),
    })
}

/// Per top-level table (`connectors`, `mesh`, `cycles`): names added, removed and changed.
/// `null` when a text is not TOML (a stored version always is).
fn summary(old: &str, new: &str) -> Value {
    let (Ok(old), Ok(new)) = (old.parse::<toml::Table>(), new.parse::<toml::Table>()) else {
        return Value::Null;
    };
    let mut out = serde_json::Map::new();
    for section in ["connectors", "mesh", "cycles"] {
        out.insert(
            section.to_owned(),
            section_changes(old.get(section), new.get(section)),
        );
    }
    Value::Object(out)
}

fn section_changes(old: Option<&toml::Value>, new: Option<&toml::Value>) -> Value {
    let empty = toml::Table::new();
    let table = |v: Option<&toml::Value>| v.and_then(toml::Value::as_table).cloned();
    let (old, new) = (
        table(old).unwrap_or_else(|| empty.clone()),
        table(new).unwrap_or(empty),
    );
    let added: Vec<&String> = new.keys().filter(|k| !old.contains_key(*k)).collect();
    let removed: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    let changed: Vec<&String> = new
        .iter()
        .filter(|(k, v)| old.get(*k).is_some_and(|o| o != *v))
        .map(|(k, _)| k)
        .collect();
    json!({ "added": added, "removed": removed, "changed": changed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_connector_is_summarised_and_diffed() {
        let old = "[connectors.hr]\ntype = \"csv\"\n\n[connectors.ad]\ntype = \"ldap\"\n";
        let new = "[connectors.hr]\ntype = \"ldap\"\n\n[connectors.crm]\ntype = \"csv\"\n";
        let v = compare(old, new, "version 1", "version 2");
        assert_eq!(v["summary"]["connectors"]["added"], json!(["crm"]));
        assert_eq!(v["summary"]["connectors"]["removed"], json!(["ad"]));
        assert_eq!(v["summary"]["connectors"]["changed"], json!(["hr"]));
        let unified = v["unified"].as_str().unwrap_or_default();
        assert!(
            unified.starts_with("--- version 1\n+++ version 2\n"),
            "{unified}"
        );
        for line in [
            "-[connectors.ad]\n",
            "+[connectors.crm]\n",
            "+type = \"ldap\"\n",
        ] {
            assert!(unified.contains(line), "{line} in {unified}");
        }
        assert!(v["lines_added"].as_u64().unwrap_or_default() >= 2);
    }

    #[test]
    fn identical_texts_have_an_empty_diff() {
        let v = compare("a = 1\n", "a = 1\n", "x", "y");
        assert_eq!(v["unified"], "");
        assert_eq!(v["lines_removed"], 0);
    }
}
