//! The CSV connector: an HR export or an account list as a source, a file as a target.
//!
//! Import streams the file and maps each row to an object by the configured schema; a bad
//! row is rejected with its line number and the import goes on; a missing anchor column,
//! a wrong delimiter or an unterminated quote fails the import before any deletion can be
//! staged. A delta import compares the file's fingerprint with the watermark: unchanged
//! means nothing to do, changed means the engine compares every row (a file has no change
//! log). Export rewrites the whole file atomically from the connector space.

use async_trait::async_trait;
use identitymesh_domain::config::ConnectorConfig;
use identitymesh_domain::run::ObjectError;
use identitymesh_domain::schema::{ObjectTypeSchema, ValueKind};
use identitymesh_domain::staged::ImportedObject;
use identitymesh_domain::watermark::{WATERMARK_FORMAT, Watermark};
use identitymesh_domain::{Anchor, Attributes, Value};
use serde::Deserialize;
use std::path::{Path, PathBuf};

use crate::csv::{
    CsvEncoding, CsvFormat, CsvReader, CsvRecord, file_fingerprint, write_rows_atomically,
};
use crate::{
    Connector, ConnectorError, ExportStyle, ImportEnd, ImportMode, ImportRecord, ImportShape,
    ImportStream, SnapshotWritten,
};

/// What to do when the file does not exist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissingFile {
    /// Fail the import (sources).
    #[default]
    Error,
    /// Treat it as an empty file (a target that was never written).
    Empty,
}

/// The `[connectors.NAME.csv]` settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvSettings {
    /// The file, relative to the configuration's directory.
    pub path: PathBuf,
    /// Field delimiter: one character, or "tab".
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    /// utf-8 (default), windows-1252, utf-16le, utf-16be.
    #[serde(default)]
    pub encoding: CsvEncoding,
    /// Write a UTF-8 byte-order mark on export.
    #[serde(default)]
    pub write_bom: bool,
    /// What a missing file means.
    #[serde(default)]
    pub missing_file: MissingFile,
    /// Separator of values in multi-valued columns.
    #[serde(default = "default_separator")]
    pub value_separator: String,
}

fn default_delimiter() -> String {
    ",".into()
}

fn default_separator() -> String {
    ";".into()
}

/// A CSV file has no credentials: a connector of this type configured with secrets (or given
/// any) is a configuration error naming the setting.
pub(crate) fn refuse_secrets<'a>(
    config: &'a ConnectorConfig,
    given: impl Iterator<Item = &'a str>,
) -> Result<(), ConnectorError> {
    let configured = config.secrets.keys().map(String::as_str);
    let Some(setting) = configured.chain(given).next() else {
        return Ok(());
    };
    let name = config.name.as_str();
    Err(ConnectorError::Config {
        connector: name.to_owned(),
        message: format!(
            "secrets.{setting}: a csv connector takes no secrets (it reads and writes a file); \
             remove `secrets` from [connectors.{name}]"
        ),
    })
}

/// A CSV file connector.
pub struct CsvConnector {
    name: String,
    path: PathBuf,
    format: CsvFormat,
    settings: CsvSettings,
    schema: ObjectTypeSchema,
}

impl CsvConnector {
    /// Builds the connector from its configuration.
    pub fn from_config(config: &ConnectorConfig, base_dir: &Path) -> Result<Self, ConnectorError> {
        refuse_secrets(config, std::iter::empty())?;
        let name = config.name.to_string();
        let settings: CsvSettings =
            serde_json::from_value(config.settings.clone()).map_err(|e| {
                ConnectorError::Config {
                    connector: name.clone(),
                    message: format!("[connectors.{name}.csv] {e}"),
                }
            })?;
        let delimiter = match settings.delimiter.as_str() {
            "tab" | "\\t" | "\t" => '\t',
            d if d.chars().count() == 1 => d.chars().next().unwrap_or(','),
            other => {
                return Err(ConnectorError::Config {
                    connector: name,
                    message: format!("delimiter must be one character or \"tab\", not {other:?}"),
                });
            }
        };
        let format = CsvFormat {
            delimiter,
            encoding: settings.encoding,
            write_bom: settings.write_bom,
        };
        format.delimiter_byte()?;
        let path = if settings.path.is_absolute() {
            settings.path.clone()
        } else {
            base_dir.join(&settings.path)
        };
        Ok(Self {
            name,
            path,
            format,
            settings,
            schema: config.schema.clone(),
        })
    }

    fn headers(&self) -> Vec<String> {
        self.schema
            .attributes
            .iter()
            .map(|a| a.name.clone())
            .collect()
    }

    fn open_reader(&self) -> Result<Option<CsvReader>, ConnectorError> {
        if !self.path.exists() && self.settings.missing_file == MissingFile::Empty {
            return Ok(None);
        }
        if !self.path.exists() {
            return Err(ConnectorError::Unavailable {
                connector: self.name.clone(),
                message: format!(
                    "the file {} does not exist; check [connectors.{}.csv] path (or set missing_file = \"empty\" for a target)",
                    self.path.display(),
                    self.name
                ),
            });
        }
        let reader = CsvReader::open(&self.path, &self.format)?;
        let headers = self.headers();
        let required: Vec<&str> = headers.iter().map(String::as_str).collect();
        reader.require_columns(&required)?;
        Ok(Some(reader))
    }

    fn cells_of(&self, attributes: &Attributes) -> Vec<String> {
        self.schema
            .attributes
            .iter()
            .map(|a| {
                attributes
                    .get(&a.name)
                    .map(|vs| {
                        vs.iter()
                            .map(Value::to_text)
                            .collect::<Vec<_>>()
                            .join(&self.settings.value_separator)
                    })
                    .unwrap_or_default()
            })
            .collect()
    }
}

#[async_trait]
impl Connector for CsvConnector {
    fn source_id(&self) -> String {
        format!("file:{}", self.path.display())
    }

    async fn import(&mut self, mode: ImportMode) -> Result<Box<dyn ImportStream>, ConnectorError> {
        if let ImportMode::Delta(watermark) = &mode
            && self.path.exists()
            && file_fingerprint(&self.path)? == watermark.position
        {
            return Ok(Box::new(UnchangedFile {
                watermark: watermark.clone(),
            }));
        }
        let reader = self.open_reader()?;
        let indices = match &reader {
            Some(r) => self
                .schema
                .attributes
                .iter()
                .map(|a| r.column_index(&a.name))
                .collect(),
            None => Vec::new(),
        };
        Ok(Box::new(CsvImport {
            source_id: self.source_id(),
            reader,
            schema: self.schema.clone(),
            indices,
            separator: self.settings.value_separator.clone(),
            fatal: None,
        }))
    }

    fn export_style(&self) -> ExportStyle {
        ExportStyle::Snapshot
    }

    fn snapshot_fingerprint(&self) -> Result<Option<String>, ConnectorError> {
        if !self.path.exists() {
            return Ok(None);
        }
        Ok(Some(file_fingerprint(&self.path)?))
    }

    fn write_snapshot(
        &mut self,
        rows: &mut dyn Iterator<Item = Result<(Anchor, Attributes), ConnectorError>>,
    ) -> Result<SnapshotWritten, ConnectorError> {
        let headers = self.headers();
        let mut cells = rows.map(|row| row.map(|(_, attributes)| self.cells_of(&attributes)));
        let written = write_rows_atomically(&self.path, &self.format, &headers, &mut cells)?;
        Ok(SnapshotWritten {
            objects: written.records,
            fingerprint: written.blake3,
        })
    }
}

struct UnchangedFile {
    watermark: Watermark,
}

#[async_trait]
impl ImportStream for UnchangedFile {
    fn shape(&self) -> ImportShape {
        ImportShape::Unchanged
    }
    async fn next_batch(&mut self, _max: usize) -> Result<Vec<ImportRecord>, ConnectorError> {
        Ok(Vec::new())
    }
    fn finish(self: Box<Self>) -> ImportEnd {
        ImportEnd {
            complete: true,
            failed: false,
            reason: None,
            watermark: Some(self.watermark),
        }
    }
}

struct CsvImport {
    source_id: String,
    reader: Option<CsvReader>,
    schema: ObjectTypeSchema,
    indices: Vec<Option<usize>>,
    separator: String,
    fatal: Option<String>,
}

#[async_trait]
impl ImportStream for CsvImport {
    fn shape(&self) -> ImportShape {
        ImportShape::Full
    }

    async fn next_batch(&mut self, max: usize) -> Result<Vec<ImportRecord>, ConnectorError> {
        let mut batch = Vec::with_capacity(max.min(4096));
        let Some(reader) = self.reader.as_mut() else {
            return Ok(batch);
        };
        while batch.len() < max {
            match reader.next_record() {
                None => break,
                Some(Ok(record)) => batch.push(map_record(
                    &self.schema,
                    &self.indices,
                    &self.separator,
                    record,
                )),
                Some(Err(e)) if e.fatal => {
                    batch.push(ImportRecord::Rejected(ObjectError {
                        object: format!("line {}", e.line),
                        message: e.message.clone(),
                    }));
                    self.fatal = Some(e.message);
                    break;
                }
                Some(Err(e)) => batch.push(ImportRecord::Rejected(ObjectError {
                    object: format!("line {}", e.line),
                    message: e.message,
                })),
            }
        }
        Ok(batch)
    }

    fn finish(self: Box<Self>) -> ImportEnd {
        let Some(reader) = self.reader else {
            return ImportEnd {
                complete: true,
                failed: false,
                reason: None,
                watermark: None,
            };
        };
        let summary = reader.summary();
        if let Some(reason) = self.fatal {
            return ImportEnd {
                complete: false,
                failed: true,
                reason: Some(reason),
                watermark: None,
            };
        }
        if !summary.complete {
            return ImportEnd {
                complete: false,
                failed: false,
                reason: Some("the file was not read to its end".into()),
                watermark: None,
            };
        }
        let watermark = Watermark {
            format: WATERMARK_FORMAT,
            source_id: self.source_id,
            position: summary.blake3,
        };
        ImportEnd {
            complete: true,
            failed: false,
            reason: None,
            watermark: Some(watermark),
        }
    }
}

fn map_record(
    schema: &ObjectTypeSchema,
    indices: &[Option<usize>],
    separator: &str,
    record: CsvRecord,
) -> ImportRecord {
    let line = record.line;
    let reject = |message: String| {
        ImportRecord::Rejected(ObjectError {
            object: format!("line {line}"),
            message,
        })
    };
    let mut attributes = Attributes::new();
    let mut anchor = None;
    let mut fields = record.fields;
    for (attr, index) in schema.attributes.iter().zip(indices) {
        let Some(raw) = index.and_then(|i| fields.get_mut(i)).map(std::mem::take) else {
            continue;
        };
        if attr.name == schema.anchor {
            anchor = Some(raw.trim().to_owned());
        }
        let values: Result<Vec<Value>, &str> = if raw.is_empty() {
            Ok(Vec::new())
        } else if attr.multi {
            raw.split(separator)
                .filter(|v| !v.is_empty())
                .map(|v| parse_value(attr.kind, v))
                .collect()
        } else {
            parse_value(attr.kind, &raw).map(|v| vec![v])
        };
        let values = match values {
            Ok(v) => v,
            Err(kind) => {
                return reject(format!(
                    "line {line}: column '{}' holds a value that is not a valid {kind}; the row is skipped",
                    attr.name
                ));
            }
        };
        attributes.set(attr.name.clone(), values);
    }
    let anchor = match anchor.as_deref().map(Anchor::parse) {
        Some(Ok(a)) => a,
        _ => {
            return reject(format!(
                "line {line}: the anchor column '{}' is empty or invalid; the row is skipped",
                schema.anchor
            ));
        }
    };
    ImportRecord::Upsert(ImportedObject {
        object_type: schema.name.clone(),
        anchor,
        name: None,
        attributes,
    })
}

fn parse_value(kind: ValueKind, raw: &str) -> Result<Value, &'static str> {
    match kind {
        ValueKind::Integer => raw
            .trim()
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| "integer"),
        ValueKind::Boolean => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(Value::Bool(true)),
            "false" | "0" | "no" => Ok(Value::Bool(false)),
            _ => Err("boolean"),
        },
        _ => Ok(Value::Str(raw.to_owned())),
    }
}
