//! Finds the line where a dotted configuration path is written, for error messages.

/// The 1-based line of `path` (`connectors.hr.flows_in.givenName`) in TOML `source`: the
/// key's own line when found under its table, else the nearest table header.
pub(crate) fn line_of(source: &str, path: &str) -> Option<usize> {
    let parts: Vec<&str> = path.split('.').collect();
    for split in (1..=parts.len()).rev() {
        let (table, keys) = parts.split_at(split);
        if let Some(header) = find_header(source, &table.join(".")) {
            return Some(find_key_after(source, header, keys.first().copied()).unwrap_or(header));
        }
    }
    None
}

fn find_header(source: &str, table: &str) -> Option<usize> {
    source.lines().enumerate().find_map(|(i, line)| {
        let t = line.trim();
        let inner = t
            .strip_prefix("[[")
            .and_then(|r| r.strip_suffix("]]"))
            .or_else(|| t.strip_prefix('[').and_then(|r| r.strip_suffix(']')))?;
        (inner.trim() == table).then_some(i + 1)
    })
}

fn find_key_after(source: &str, header_line: usize, key: Option<&str>) -> Option<usize> {
    let key = key?;
    for (i, line) in source.lines().enumerate().skip(header_line) {
        let t = line.trim_start();
        if t.starts_with('[') {
            return None;
        }
        let name = t.split('=').next().unwrap_or("").trim().trim_matches('"');
        if t.contains('=') && name == key {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_under_their_table_and_falls_back_to_headers() {
        let src = "[mesh.person]\nattributes = []\n\n[connectors.hr]\ntype = \"csv\"\nanchor = \"EmpID\"\n\n[connectors.hr.flows_in]\ngivenName = \"x\"\n";
        assert_eq!(line_of(src, "connectors.hr.anchor"), Some(6));
        assert_eq!(line_of(src, "connectors.hr.flows_in.givenName"), Some(9));
        assert_eq!(line_of(src, "connectors.hr.flows_in.missing"), Some(8));
        assert_eq!(line_of(src, "connectors.nope"), None);
    }
}
