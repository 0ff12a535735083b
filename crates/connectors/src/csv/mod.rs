//! The file layer under the CSV connector: a streaming, strict RFC 4180 reader and an atomic writer.
//!
//! Key design decision: **strict parsing with precise, value-free errors**. Every record carries the
//! physical line where it starts, every malformed row becomes a [`RowError`] naming file, line and
//! column *name*, and no message ever echoes a field value or the row's text (columns may hold
//! passwords, case C-48). Reading streams through a buffered byte scanner, so memory is bounded by
//! the longest record ([`MAX_RECORD_BYTES`]), not by the file size.
//!
//! What this module is not: it does not map records to identity objects, trim values, infer types or
//! guess the delimiter silently. Values come back exactly as written (leading zeros survive); the
//! caller decides. A wrong delimiter is caught by [`CsvReader::require_columns`], which fails with a
//! hint naming the delimiter the header seems to use (case C-21).
//!
//! Writing ([`write_atomically`]) goes to a temporary file in the target directory, is fsynced and
//! renamed over the target, so readers see either the old or the new file, never a partial one.

mod error;
mod header;
mod parse;
mod reader;
mod source;
mod writer;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use error::{CsvError, RowError};
pub use reader::CsvReader;
pub use writer::{file_fingerprint, write_atomically, write_rows_atomically};

/// Largest record (or physical line) the reader accepts, in bytes after decoding.
///
/// This bounds memory; a longer record is almost always an unterminated quote.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// Character encoding of a CSV file.
///
/// Configured as `"utf-8"` (default), `"windows-1252"`, `"utf-16le"` or `"utf-16be"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CsvEncoding {
    /// UTF-8; a leading byte-order mark is stripped.
    #[default]
    #[serde(rename = "utf-8", alias = "utf8")]
    Utf8,
    /// Windows-1252 ("ANSI" exports from Excel on Western-European Windows).
    #[serde(rename = "windows-1252", alias = "cp1252")]
    Windows1252,
    /// UTF-16 little endian; a byte-order mark, when present, decides the byte order.
    #[serde(rename = "utf-16le")]
    Utf16Le,
    /// UTF-16 big endian; a byte-order mark, when present, decides the byte order.
    #[serde(rename = "utf-16be")]
    Utf16Be,
}

impl CsvEncoding {
    /// The configuration spelling, e.g. `utf-16le`.
    pub fn config_name(self) -> &'static str {
        match self {
            CsvEncoding::Utf8 => "utf-8",
            CsvEncoding::Windows1252 => "windows-1252",
            CsvEncoding::Utf16Le => "utf-16le",
            CsvEncoding::Utf16Be => "utf-16be",
        }
    }
}

/// How a CSV file is laid out. Line endings are not configurable: the reader accepts LF and CRLF,
/// the writer always writes CRLF (RFC 4180).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CsvFormat {
    /// Field separator; must be an ASCII character other than `"`, CR and LF. Default `,`.
    pub delimiter: char,
    /// Character encoding. Default UTF-8.
    pub encoding: CsvEncoding,
    /// Write a byte-order mark (UTF-8 only; UTF-16 always gets one, Windows-1252 never). Default false.
    pub write_bom: bool,
}

impl Default for CsvFormat {
    fn default() -> Self {
        CsvFormat {
            delimiter: ',',
            encoding: CsvEncoding::Utf8,
            write_bom: false,
        }
    }
}

impl CsvFormat {
    /// The delimiter as a byte, or an error when it cannot delimit CSV fields.
    pub(crate) fn delimiter_byte(&self) -> Result<u8, CsvError> {
        match self.delimiter {
            '"' | '\r' | '\n' => Err(CsvError::InvalidDelimiter {
                delimiter: self.delimiter,
            }),
            c if c.is_ascii() => Ok(c as u8),
            _ => Err(CsvError::InvalidDelimiter {
                delimiter: self.delimiter,
            }),
        }
    }
}

/// One data record. Its `Debug` output shows the line and the number of fields, never the values
/// (any column may hold a secret, case C-48).
#[derive(Clone, PartialEq, Eq)]
pub struct CsvRecord {
    /// Physical line (1-based, the header is line 1) where the record starts.
    pub line: u64,
    /// Field values exactly as in the file, one per header column.
    pub fields: Vec<String>,
}

impl std::fmt::Debug for CsvRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvRecord")
            .field("line", &self.line)
            .field(
                "fields",
                &format_args!("<{} values redacted>", self.fields.len()),
            )
            .finish()
    }
}

/// What a [`CsvReader`] has consumed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadSummary {
    /// Records returned as `Ok`.
    pub records: u64,
    /// Rows returned as `Err`, including a final fatal one.
    pub rejected: u64,
    /// Raw bytes read from the source (including a byte-order mark).
    pub bytes: u64,
    /// blake3 (hex) of the raw bytes read so far; of the whole file once `complete`.
    pub blake3: String,
    /// True when the end of the file was reached without a fatal error.
    pub complete: bool,
}

/// What [`write_atomically`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteSummary {
    /// Data records written (the header not counted).
    pub records: u64,
    /// Bytes in the new file.
    pub bytes: u64,
    /// blake3 (hex) of the new file, equal to [`file_fingerprint`] of it.
    pub blake3: String,
}
