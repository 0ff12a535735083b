//! A small RFC 4180 reader for checking the files the binary reads and writes (quoted fields,
//! doubled quotes, a leading byte-order mark), and a line-preserving row editor.

use std::path::Path;

/// A parsed CSV file: the header and the data rows.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads and parses `path`.
    #[track_caller]
    pub fn read(path: &Path) -> Self {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let mut records = parse(&text);
        assert!(!records.is_empty(), "{} has no header", path.display());
        let header = records.remove(0);
        Self {
            header,
            rows: records,
        }
    }

    /// The index of a column.
    #[track_caller]
    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }

    /// Every value of one column.
    pub fn column(&self, name: &str) -> Vec<String> {
        let i = self.col(name);
        self.rows.iter().map(|r| r[i].clone()).collect()
    }

    /// The row whose `key` column equals `value`.
    #[track_caller]
    pub fn row_where(&self, key: &str, value: &str) -> &[String] {
        let i = self.col(key);
        self.rows
            .iter()
            .find(|r| r[i] == value)
            .unwrap_or_else(|| panic!("no row with {key} = {value}"))
    }
}

/// Parses CSV text into records; a leading byte-order mark is skipped, blank lines are ignored.
pub fn parse(text: &str) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                if record.len() > 1 || !record[0].is_empty() {
                    records.push(std::mem::take(&mut record));
                }
                record.clear();
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

fn encode_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// Rewrites `path` in place, letting `edit` change the fields of the data rows it wants to; rows
/// it leaves alone keep their exact bytes (quoting, padding, line ending, byte-order mark).
/// Returns how many rows were changed. Assumes no field spans lines (true of the files here).
pub fn edit_rows(path: &Path, mut edit: impl FnMut(&mut Vec<String>) -> bool) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::with_capacity(text.len());
    let mut changed = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let body = line.trim_end_matches(['\r', '\n']);
        let ending = &line[body.len()..];
        if n == 0 || body.is_empty() {
            out.push_str(line);
            continue;
        }
        let mut fields = parse(body).remove(0);
        if edit(&mut fields) {
            changed += 1;
            let encoded: Vec<String> = fields.iter().map(|f| encode_field(f)).collect();
            out.push_str(&encoded.join(","));
            out.push_str(ending);
        } else {
            out.push_str(line);
        }
    }
    std::fs::write(path, out).unwrap();
    changed
}

/// Terminates an employee in an HR export row (HRDataset_v14 layout): `Termd` 1 and
/// `EmploymentStatus` "Voluntarily Terminated". Column indexes come from that layout.
pub fn terminate(fields: &mut [String]) {
    fields[TERMD] = "1".into();
    fields[EMPLOYMENT_STATUS] = "Voluntarily Terminated".into();
}

/// Column indexes of the HRDataset_v14 layout.
pub const EMP_ID: usize = 1;
pub const TERMD: usize = 10;
pub const EMPLOYMENT_STATUS: usize = 24;

#[test]
fn the_test_reader_handles_quotes_and_a_byte_order_mark() {
    let records = parse("\u{feff}a,b\r\n\"Adinolfi, Wilson  K\",\"say \"\"hi\"\"\"\r\n\nx,\n");
    assert_eq!(
        records,
        vec![
            vec!["a", "b"],
            vec!["Adinolfi, Wilson  K", "say \"hi\""],
            vec!["x", ""]
        ]
    );
}
