//! Atomic CSV writing and file fingerprints.
//!
//! The new content goes to a temporary file in the target's directory, which is fsynced and then
//! renamed over the target. On any error the temporary file is removed and the old file is left as
//! it was. Records end with CRLF (RFC 4180); a field is quoted when it holds the delimiter, a quote,
//! CR or LF, or starts or ends with whitespace.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use encoding_rs::WINDOWS_1252;
use tempfile::NamedTempFile;

use super::header::Header;
use super::{CsvEncoding, CsvError, CsvFormat, WriteSummary};

/// Writes `headers` and `rows` to `path` atomically (temp file, fsync, rename).
///
/// Every row must have one value per header. Windows-1252 output fails with
/// [`CsvError::Unencodable`] on a character it cannot hold; UTF-16 output always starts with a
/// byte-order mark. A new file gets the temp file's private permissions (0600 on Unix); an existing
/// file keeps its permissions. On any error the old file is untouched and the temp file removed.
pub fn write_atomically(
    path: &Path,
    format: &CsvFormat,
    headers: &[String],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<WriteSummary, CsvError> {
    write_rows_atomically(path, format, headers, rows.map(Ok::<_, CsvError>))
}

/// [`write_atomically`] for rows that may fail while being produced: the first `Err` aborts the
/// write (nothing is replaced) and is returned as is.
pub fn write_rows_atomically<E: From<CsvError>>(
    path: &Path,
    format: &CsvFormat,
    headers: &[String],
    rows: impl Iterator<Item = Result<Vec<String>, E>>,
) -> Result<WriteSummary, E> {
    let delimiter = format.delimiter_byte()?;
    Header::new(path, headers.to_vec(), delimiter)?;
    let dir = parent_dir(path);
    let mut temp = create_temp(path, &dir)?;
    let mut out = Output::new(path, format, delimiter, temp.as_file_mut());
    out.write_bom()?;
    out.write_record(headers, headers, 0)?;
    for row in rows {
        out.write_row(headers, row?)?;
    }
    let summary = out.finish()?;
    commit(temp, path, &dir)?;
    Ok(summary)
}

/// A temp file beside the target, with the target's permissions when it exists.
fn create_temp(path: &Path, dir: &Path) -> Result<NamedTempFile, CsvError> {
    let temp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| CsvError::io(dir, e))?;
    if let Ok(meta) = std::fs::metadata(path) {
        temp.as_file()
            .set_permissions(meta.permissions())
            .map_err(|e| CsvError::io(temp.path(), e))?;
    }
    Ok(temp)
}

/// fsync, rename over the target, fsync the directory.
fn commit(temp: NamedTempFile, path: &Path, dir: &Path) -> Result<(), CsvError> {
    temp.as_file()
        .sync_all()
        .map_err(|e| CsvError::io(temp.path(), e))?;
    temp.persist(path)
        .map_err(|e| CsvError::io(path, e.error))?;
    sync_dir(dir);
    Ok(())
}

/// blake3 (hex) of a file's bytes: a watermark for "did the file change".
pub fn file_fingerprint(path: &Path) -> Result<String, CsvError> {
    let mut file = File::open(path).map_err(|e| CsvError::io(path, e))?;
    let mut hasher = blake3::Hasher::new();
    hasher
        .update_reader(&mut file)
        .map_err(|e| CsvError::io(path, e))?;
    Ok(hasher.finalize().to_hex().to_string())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn temp_prefix(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    format!(".{}.", name.unwrap_or_else(|| "csv".into()))
}

/// Makes the rename durable; a failure here is logged, since the new file is already in place.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        tracing::warn!(dir = %dir.display(), error = %e, "could not fsync directory after rename");
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Encodes and writes records, hashing what it writes.
struct Output<'a> {
    path: &'a Path,
    encoding: CsvEncoding,
    write_bom: bool,
    delimiter: u8,
    sink: BufWriter<&'a mut File>,
    hasher: blake3::Hasher,
    bytes: u64,
    records: u64,
    text: String,
    encoded: Vec<u8>,
}

impl<'a> Output<'a> {
    fn new(path: &'a Path, format: &CsvFormat, delimiter: u8, file: &'a mut File) -> Output<'a> {
        Output {
            path,
            encoding: format.encoding,
            write_bom: format.write_bom,
            delimiter,
            sink: BufWriter::with_capacity(256 * 1024, file),
            hasher: blake3::Hasher::new(),
            bytes: 0,
            records: 0,
            text: String::new(),
            encoded: Vec::new(),
        }
    }

    fn write_row(&mut self, headers: &[String], row: Vec<String>) -> Result<(), CsvError> {
        self.records += 1;
        if row.len() != headers.len() {
            return Err(CsvError::FieldCount {
                path: self.path.to_path_buf(),
                record: self.records,
                expected: headers.len(),
                found: row.len(),
            });
        }
        self.write_record(headers, &row, self.records)
    }

    fn finish(mut self) -> Result<WriteSummary, CsvError> {
        self.sink.flush().map_err(|e| CsvError::io(self.path, e))?;
        Ok(WriteSummary {
            records: self.records,
            bytes: self.bytes,
            blake3: self.hasher.finalize().to_hex().to_string(),
        })
    }

    fn write_bom(&mut self) -> Result<(), CsvError> {
        let bom: &[u8] = match self.encoding {
            CsvEncoding::Utf8 if self.write_bom => &[0xEF, 0xBB, 0xBF],
            CsvEncoding::Utf16Le => &[0xFF, 0xFE],
            CsvEncoding::Utf16Be => &[0xFE, 0xFF],
            _ => &[],
        };
        self.emit(bom)
    }

    fn write_record(
        &mut self,
        headers: &[String],
        fields: &[String],
        record: u64,
    ) -> Result<(), CsvError> {
        self.encoded.clear();
        for (column, field) in fields.iter().enumerate() {
            if column > 0 {
                self.encoded
                    .extend(encode_ascii(self.delimiter, self.encoding));
            }
            self.quote_into_text(field, fields.len() == 1);
            if !encode(&self.text, self.encoding, &mut self.encoded) {
                return Err(CsvError::Unencodable {
                    path: self.path.to_path_buf(),
                    record,
                    column: column + 1,
                    column_name: headers.get(column).cloned().unwrap_or_default(),
                    encoding: self.encoding.config_name(),
                });
            }
        }
        self.encoded.extend(encode_ascii(b'\r', self.encoding));
        self.encoded.extend(encode_ascii(b'\n', self.encoding));
        let line = std::mem::take(&mut self.encoded);
        let result = self.emit(&line);
        self.encoded = line;
        result
    }

    /// Puts the field, quoted if needed, into `self.text`. A lone empty field is quoted so the
    /// record is not a blank line (which readers skip).
    fn quote_into_text(&mut self, field: &str, only_field: bool) {
        self.text.clear();
        let quote = needs_quotes(field, self.delimiter) || (only_field && field.is_empty());
        if !quote {
            self.text.push_str(field);
            return;
        }
        self.text.push('"');
        for part in field.split_inclusive('"') {
            self.text.push_str(part);
            if part.ends_with('"') {
                self.text.push('"');
            }
        }
        self.text.push('"');
    }

    fn emit(&mut self, bytes: &[u8]) -> Result<(), CsvError> {
        self.sink
            .write_all(bytes)
            .map_err(|e| CsvError::io(self.path, e))?;
        self.hasher.update(bytes);
        self.bytes += bytes.len() as u64;
        Ok(())
    }
}

fn needs_quotes(field: &str, delimiter: u8) -> bool {
    let starts_or_ends_blank =
        field.starts_with(char::is_whitespace) || field.ends_with(char::is_whitespace);
    starts_or_ends_blank
        || field
            .bytes()
            .any(|b| b == delimiter || b == b'"' || b == b'\r' || b == b'\n')
}

/// An ASCII byte in the output encoding.
fn encode_ascii(byte: u8, encoding: CsvEncoding) -> impl Iterator<Item = u8> {
    let pair: [u8; 2] = match encoding {
        CsvEncoding::Utf16Le => [byte, 0],
        CsvEncoding::Utf16Be => [0, byte],
        CsvEncoding::Utf8 | CsvEncoding::Windows1252 => [byte, 0],
    };
    let len = match encoding {
        CsvEncoding::Utf16Le | CsvEncoding::Utf16Be => 2,
        CsvEncoding::Utf8 | CsvEncoding::Windows1252 => 1,
    };
    pair.into_iter().take(len)
}

/// Appends `text` in `encoding`; false when a character cannot be represented.
fn encode(text: &str, encoding: CsvEncoding, out: &mut Vec<u8>) -> bool {
    match encoding {
        CsvEncoding::Utf8 => out.extend_from_slice(text.as_bytes()),
        CsvEncoding::Windows1252 if text.is_ascii() => out.extend_from_slice(text.as_bytes()),
        CsvEncoding::Windows1252 => {
            let (bytes, _, had_errors) = WINDOWS_1252.encode(text);
            if had_errors {
                return false;
            }
            out.extend_from_slice(&bytes);
        }
        CsvEncoding::Utf16Le => text
            .encode_utf16()
            .for_each(|u| out.extend(u.to_le_bytes())),
        CsvEncoding::Utf16Be => text
            .encode_utf16()
            .for_each(|u| out.extend(u.to_be_bytes())),
    }
    true
}
