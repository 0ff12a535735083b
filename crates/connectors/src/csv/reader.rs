//! [`CsvReader`]: opens a source, validates the header, and hands out records or row errors.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::error::{CsvError, RowError};
use super::header::Header;
use super::parse::{ParseError, Parser, Problem};
use super::source::{Source, SourceError};
use super::{CsvEncoding, CsvFormat, CsvRecord, ReadSummary};

const BUFFER: usize = 256 * 1024;

/// A streaming CSV reader. Memory use depends on the longest record, not on the file size.
///
/// ```no_run
/// # use identitymesh_connectors::csv::{CsvFormat, CsvReader};
/// # fn demo() -> Result<(), identitymesh_connectors::csv::CsvError> {
/// let mut reader = CsvReader::open("hr.csv".as_ref(), &CsvFormat::default())?;
/// reader.require_columns(&["employeeId", "mail"])?;
/// while let Some(row) = reader.next_record() {
///     match row {
///         Ok(record) => { /* map record.fields */ }
///         Err(bad) if bad.fatal => break,
///         Err(bad) => eprintln!("{bad}"),
///     }
/// }
/// println!("{:?}", reader.summary());
/// # Ok(()) }
/// ```
pub struct CsvReader {
    path: PathBuf,
    encoding: CsvEncoding,
    parser: Parser<BufReader<Source>>,
    header: Header,
    records: u64,
    rejected: u64,
    finished: bool,
    complete: bool,
}

impl std::fmt::Debug for CsvReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvReader")
            .field("path", &self.path)
            .field("encoding", &self.encoding)
            .field("headers", &self.header.names())
            .field("records", &self.records)
            .field("rejected", &self.rejected)
            .finish_non_exhaustive()
    }
}

impl CsvReader {
    /// Opens `path`, reads and validates the header line.
    pub fn open(path: &Path, format: &CsvFormat) -> Result<CsvReader, CsvError> {
        let file = File::open(path).map_err(|e| CsvError::io(path, e))?;
        Self::start(Box::new(file), path.to_path_buf(), format)
    }

    /// Reads from any source; `display_name` stands in for the path in messages.
    pub fn from_reader(
        source: Box<dyn Read + Send>,
        display_name: &str,
        format: &CsvFormat,
    ) -> Result<CsvReader, CsvError> {
        Self::start(source, PathBuf::from(display_name), format)
    }

    fn start(
        raw: Box<dyn Read + Send>,
        path: PathBuf,
        format: &CsvFormat,
    ) -> Result<CsvReader, CsvError> {
        let delimiter = format.delimiter_byte()?;
        let source = Source::new(raw, format.encoding).map_err(|e| match e {
            SourceError::Io(e) => CsvError::io(&path, e),
            SourceError::BomMismatch(detail) => CsvError::Encoding {
                path: path.clone(),
                detail,
            },
        })?;
        let mut parser = Parser::new(BufReader::with_capacity(BUFFER, source), delimiter);
        let raw_header = read_header(&mut parser, &path, format.encoding)?;
        let header = Header::new(&path, raw_header, delimiter)?;
        Ok(CsvReader {
            path,
            encoding: format.encoding,
            parser,
            header,
            records: 0,
            rejected: 0,
            finished: false,
            complete: false,
        })
    }

    /// Column names from the header line, trimmed.
    pub fn headers(&self) -> &[String] {
        self.header.names()
    }

    /// Fails with [`CsvError::MissingColumns`] when any `required` column is absent, with a hint
    /// when another delimiter or a different letter case would have matched.
    pub fn require_columns(&self, required: &[&str]) -> Result<(), CsvError> {
        self.header.require(&self.path, required)
    }

    /// Position of a column by exact (trimmed) name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.header.position(name)
    }

    /// The next record, a bad row (`Err`), or `None` when the file is finished or a fatal error
    /// was returned.
    pub fn next_record(&mut self) -> Option<Result<CsvRecord, RowError>> {
        if self.finished {
            return None;
        }
        let result = match self.parser.next_record() {
            Ok(None) => {
                self.finished = true;
                self.complete = true;
                return None;
            }
            Ok(Some(raw)) => self.check_width(raw.line, raw.fields),
            Err(e) => Err(self.row_error(e)),
        };
        match &result {
            Ok(_) => self.records += 1,
            Err(e) => {
                self.rejected += 1;
                self.finished = e.fatal;
            }
        }
        Some(result)
    }

    /// Counts, bytes and hash of what has been read so far.
    pub fn summary(&self) -> ReadSummary {
        let source = self.parser.input().get_ref();
        ReadSummary {
            records: self.records,
            rejected: self.rejected,
            bytes: source.bytes(),
            blake3: source.hash_hex(),
            complete: self.complete,
        }
    }

    fn check_width(&self, line: u64, fields: Vec<String>) -> Result<CsvRecord, RowError> {
        let expected = self.header.names().len();
        if fields.len() == expected {
            return Ok(CsvRecord { line, fields });
        }
        Err(RowError {
            line,
            fatal: false,
            message: format!(
                "{}: line {line}: expected {expected} fields, found {}; check for an unquoted delimiter or a missing value in this row",
                self.path.display(),
                fields.len()
            ),
            column: None,
        })
    }

    fn row_error(&self, e: ParseError) -> RowError {
        let column = e.column.map(|c| self.header.describe(c));
        let place = match &column {
            Some(c) => format!("line {}, {c}", e.line),
            None => format!("line {}", e.line),
        };
        let fatal = e.problem.is_fatal();
        RowError {
            line: e.line,
            fatal,
            message: format!(
                "{}: {place}: {}",
                self.path.display(),
                describe(&e.problem, self.encoding)
            ),
            column: e.column.and_then(|c| self.header.names().get(c).cloned()),
        }
    }
}

/// Reads the header record; any problem there is a [`CsvError`].
fn read_header(
    parser: &mut Parser<BufReader<Source>>,
    path: &Path,
    encoding: CsvEncoding,
) -> Result<Vec<String>, CsvError> {
    match parser.next_record() {
        Ok(Some(record)) => Ok(record.fields),
        Ok(None) => Err(CsvError::EmptyFile {
            path: path.to_path_buf(),
        }),
        Err(ParseError {
            problem: Problem::Io(e),
            ..
        }) => Err(CsvError::io(path, e)),
        Err(ParseError {
            problem: Problem::InvalidUtf8,
            ..
        }) => Err(CsvError::Encoding {
            path: path.to_path_buf(),
            detail: format!(
                "the header line {}",
                describe(&Problem::InvalidUtf8, encoding)
            ),
        }),
        Err(e) => Err(CsvError::MalformedHeader {
            path: path.to_path_buf(),
            detail: format!(
                "line {}{}: {}",
                e.line,
                e.column
                    .map(|c| format!(", column {}", c + 1))
                    .unwrap_or_default(),
                describe(&e.problem, encoding)
            ),
        }),
    }
}

/// What went wrong and what to do, without any field content.
fn describe(problem: &Problem, encoding: CsvEncoding) -> String {
    match problem {
        Problem::QuoteInUnquoted => "a quote character appears inside an unquoted field; the exporting system must quote the whole field and double inner quotes (RFC 4180)".into(),
        Problem::AfterClosingQuote => "characters follow the closing quote of a quoted field; inner quotes must be doubled (RFC 4180)".into(),
        Problem::BareCarriageReturn => "an unquoted field contains a carriage return that does not end the line; quote the field or use CRLF/LF line endings".into(),
        Problem::InvalidUtf8 => match encoding {
            CsvEncoding::Utf8 => "contains bytes that are not valid UTF-8; if the file was saved as ANSI/Excel CSV, set encoding = \"windows-1252\"".into(),
            other => format!("contains bytes that are not valid {}; check that encoding = \"{}\" matches the file", other.config_name().to_uppercase(), other.config_name()),
        },
        Problem::Unterminated { quote_line } => format!("unterminated quoted field starting at line {quote_line}; the file is truncated or a quote is not closed, so the import stops"),
        Problem::TooLong => format!("record is longer than {} MiB; this is almost always an unterminated quote, so the import stops", super::MAX_RECORD_BYTES / (1024 * 1024)),
        Problem::Io(e) => format!("read error: {e}; check the file and run again"),
    }
}
