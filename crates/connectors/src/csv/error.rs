//! Errors of the CSV file layer.
//!
//! Messages name the file, line, column name and problem and say what to do. They never contain a
//! field value or the text of a row: columns may hold secrets (case C-48).

use std::path::PathBuf;

/// A problem with the file as a whole: it cannot be opened, its header is unusable, or a file
/// cannot be written. Reading stops.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// The file cannot be opened, read, written or renamed.
    #[error("{}: {source}; check that the path exists and that the service account may access it", path.display())]
    Io {
        /// The file (or the display name given to `from_reader`).
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Required columns are absent from the header.
    #[error("{}: missing required column(s) {}{}", path.display(), quote_list(missing), hint_suffix(hint))]
    MissingColumns {
        /// The file (or the display name given to `from_reader`).
        path: PathBuf,
        /// Required columns not in the header.
        missing: Vec<String>,
        /// What probably went wrong (another delimiter, letter case), when it can be told.
        hint: Option<String>,
    },
    /// Two header columns have the same name (after trimming).
    #[error("{}: column \"{name}\" appears twice in the header (columns {first} and {second}); rename one so every column name is unique", path.display())]
    DuplicateColumn {
        /// The file (or the display name given to `from_reader`).
        path: PathBuf,
        /// The duplicated name.
        name: String,
        /// 1-based position of the first occurrence.
        first: usize,
        /// 1-based position of the second occurrence.
        second: usize,
    },
    /// A header column name is empty or only whitespace.
    #[error("{}: header column {column} has no name; give every column a name in the first line", path.display())]
    EmptyColumnName {
        /// The file.
        path: PathBuf,
        /// 1-based column position.
        column: usize,
    },
    /// The file has no header line.
    #[error("{}: the file is empty (no header line); check the export that produced it", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// The header line cannot be parsed.
    #[error("{}: the header line is malformed: {detail}", path.display())]
    MalformedHeader {
        /// The file.
        path: PathBuf,
        /// Line, column and problem.
        detail: String,
    },
    /// The bytes do not match the configured encoding (byte-order mark or header bytes).
    #[error("{}: {detail}", path.display())]
    Encoding {
        /// The file.
        path: PathBuf,
        /// What is wrong and which encoding to set.
        detail: String,
    },
    /// The configured delimiter cannot separate CSV fields.
    #[error(
        "delimiter {delimiter:?} cannot be used; choose an ASCII character other than '\"', CR and LF, e.g. delimiter = \";\""
    )]
    InvalidDelimiter {
        /// The configured delimiter.
        delimiter: char,
    },
    /// A value cannot be represented in the output encoding.
    #[error("{}: record {record}, column {column} (\"{column_name}\") holds a character that {encoding} cannot represent; write with encoding = \"utf-8\" or remove the character", path.display())]
    Unencodable {
        /// The file (or the display name given to `from_reader`).
        path: PathBuf,
        /// 1-based data record number (the header not counted).
        record: u64,
        /// 1-based column position.
        column: usize,
        /// Header name of that column.
        column_name: String,
        /// The output encoding's configuration name.
        encoding: &'static str,
    },
    /// A row to write has a different number of fields than the header.
    #[error("{}: record {record} has {found} fields but the header has {expected}; every row must have one value per column", path.display())]
    FieldCount {
        /// The file (or the display name given to `from_reader`).
        path: PathBuf,
        /// 1-based data record number (the header not counted).
        record: u64,
        /// Columns in the header.
        expected: usize,
        /// Values in the row.
        found: usize,
    },
}

impl CsvError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> CsvError {
        CsvError::Io {
            path: path.into(),
            source,
        }
    }
}

fn quote_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    quoted.join(", ")
}

fn hint_suffix(hint: &Option<String>) -> String {
    match hint {
        Some(h) => format!("; {h}"),
        None => "; check the column names in the first line and the connector's column mapping"
            .to_owned(),
    }
}

/// A problem with one row. With `fatal: false` reading continues at the next line; with
/// `fatal: true` the reader stops (`next_record` returns `None` afterwards).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RowError {
    /// Physical line (1-based) where the bad row starts.
    pub line: u64,
    /// True when reading cannot continue.
    pub fatal: bool,
    /// File, line, column name and problem; never a field value or the row's text.
    pub message: String,
    /// Name of the offending column, when the problem is in one column.
    pub column: Option<String>,
}
