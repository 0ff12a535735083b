//! Header validation and the hints given when required columns are missing.
//!
//! Header names are trimmed, must be non-empty and unique. When required columns are missing,
//! the untrimmed header fields are re-joined and split by the other common delimiters; if one of
//! them yields all required columns, the hint names it (case C-21).

use std::collections::HashMap;
use std::path::Path;

use super::CsvError;

const CANDIDATE_DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The validated header line.
#[derive(Debug)]
pub(super) struct Header {
    names: Vec<String>,
    index: HashMap<String, usize>,
    /// The header line as read, without terminator (quotes removed), for delimiter hints.
    raw_line: String,
    delimiter: u8,
}

impl Header {
    /// Trims names and rejects empty or duplicate ones.
    pub(super) fn new(path: &Path, raw: Vec<String>, delimiter: u8) -> Result<Header, CsvError> {
        let raw_line = raw.join(char::from(delimiter).encode_utf8(&mut [0; 4]));
        let names: Vec<String> = raw.iter().map(|n| n.trim().to_owned()).collect();
        let mut index = HashMap::with_capacity(names.len());
        for (column, name) in names.iter().enumerate() {
            if name.is_empty() {
                return Err(CsvError::EmptyColumnName {
                    path: path.to_path_buf(),
                    column: column + 1,
                });
            }
            if let Some(first) = index.insert(name.clone(), column) {
                return Err(CsvError::DuplicateColumn {
                    path: path.to_path_buf(),
                    name: name.clone(),
                    first: first + 1,
                    second: column + 1,
                });
            }
        }
        Ok(Header {
            names,
            index,
            raw_line,
            delimiter,
        })
    }

    pub(super) fn names(&self) -> &[String] {
        &self.names
    }

    pub(super) fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Name of a column for messages; columns beyond the header are described by position.
    pub(super) fn describe(&self, column: usize) -> String {
        match self.names.get(column) {
            Some(name) => format!("column \"{name}\""),
            None => format!("column {} (beyond the header)", column + 1),
        }
    }

    /// MissingColumns when any `required` column is absent.
    pub(super) fn require(&self, path: &Path, required: &[&str]) -> Result<(), CsvError> {
        let missing: Vec<String> = required
            .iter()
            .filter(|name| !self.index.contains_key(**name))
            .map(|name| (*name).to_owned())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let hint = self
            .delimiter_hint(required)
            .or_else(|| self.case_hint(&missing));
        Err(CsvError::MissingColumns {
            path: path.to_path_buf(),
            missing,
            hint,
        })
    }

    fn delimiter_hint(&self, required: &[&str]) -> Option<String> {
        let found = CANDIDATE_DELIMITERS
            .into_iter()
            .filter(|d| *d != self.delimiter)
            .find(|d| splits_into(&self.raw_line, *d, required))?;
        Some(match found {
            b'\t' => {
                "the file appears to use a tab as its delimiter; set delimiter = \"\\t\"".into()
            }
            d => {
                let d = char::from(d);
                format!("the file appears to use '{d}' as its delimiter; set delimiter = \"{d}\"")
            }
        })
    }

    fn case_hint(&self, missing: &[String]) -> Option<String> {
        let pairs: Vec<String> = missing
            .iter()
            .filter_map(|want| {
                let have = self.names.iter().find(|n| n.eq_ignore_ascii_case(want))?;
                Some(format!("\"{have}\" for \"{want}\""))
            })
            .collect();
        if pairs.is_empty() {
            return None;
        }
        Some(format!(
            "column names are case-sensitive: the header has {}",
            pairs.join(", ")
        ))
    }
}

/// Whether `line` split by `delimiter` contains every required name (trimmed, unquoted).
fn splits_into(line: &str, delimiter: u8, required: &[&str]) -> bool {
    let names: Vec<&str> = line
        .split(char::from(delimiter))
        .map(|n| n.trim().trim_matches('"').trim())
        .collect();
    required.iter().all(|r| names.contains(r))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn header(fields: &[&str], delimiter: u8) -> Result<Header, CsvError> {
        let raw = fields.iter().map(|s| s.to_string()).collect();
        Header::new(Path::new("h.csv"), raw, delimiter)
    }

    #[test]
    fn names_are_trimmed_and_indexed() {
        let h = header(&[" a ", "b\t"], b',').unwrap();
        assert_eq!(h.names(), ["a", "b"]);
        assert_eq!(h.position("b"), Some(1));
        assert_eq!(h.position(" a "), None);
    }

    #[test]
    fn empty_and_duplicate_names_are_rejected() {
        let err = header(&["a", " "], b',').unwrap_err();
        assert!(matches!(err, CsvError::EmptyColumnName { column: 2, .. }));
        let err = header(&["a", "b", "a "], b',').unwrap_err();
        assert!(matches!(
            err,
            CsvError::DuplicateColumn {
                first: 1,
                second: 3,
                ..
            }
        ));
        assert!(err.to_string().contains("rename one"), "{err}");
    }

    #[test]
    fn tab_and_case_hints() {
        let h = header(&["employeeId\tmail"], b',').unwrap();
        let err = h
            .require(Path::new("h.csv"), &["employeeId", "mail"])
            .unwrap_err();
        assert!(err.to_string().contains("set delimiter = \"\\t\""), "{err}");
        let h = header(&["EmployeeID", "mail"], b',').unwrap();
        let err = h
            .require(Path::new("h.csv"), &["employeeId", "mail"])
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("\"EmployeeID\" for \"employeeId\""),
            "{err}"
        );
    }
}
