//! Watermarks: a connector's delta position, bound to the source that issued it.
//!
//! A watermark advances only after everything it covers is committed, and only to a value
//! the source itself returned (never the local clock). A missing, unreadable or foreign
//! watermark means an explicit full import, never a silent "delta since 1970".

use serde::{Deserialize, Serialize};

/// The watermark format this build writes. Older formats are migrated on read.
pub const WATERMARK_FORMAT: u32 = 2;

/// Which run kind a watermark belongs to: full and delta keep separate positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatermarkKind {
    /// Written by full imports.
    Full,
    /// Written by delta imports.
    Delta,
}

impl WatermarkKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WatermarkKind::Full => "full",
            WatermarkKind::Delta => "delta",
        }
    }
}

/// A delta position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    /// Format version of this record.
    pub format: u32,
    /// The identity of the server that issued `position` (a file path, a DC's invocation id).
    pub source_id: String,
    /// The position as the source gave it (a file hash, a cookie, a USN, a timestamp with zone).
    pub position: String,
}

/// Why a stored watermark cannot be used for a delta import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatermarkProblem {
    /// There is none.
    Missing,
    /// It could not be read (a format this build does not know, or damaged).
    Unreadable(String),
    /// It was issued by another source than the one now connected.
    ForeignSource {
        /// Who issued it.
        stored: String,
        /// Who answers now.
        current: String,
    },
}

impl std::fmt::Display for WatermarkProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WatermarkProblem::Missing => f.write_str("no watermark is stored"),
            WatermarkProblem::Unreadable(why) => {
                write!(f, "the stored watermark is unreadable: {why}")
            }
            WatermarkProblem::ForeignSource { stored, current } => write!(
                f,
                "the stored watermark was issued by '{stored}' but the source now answering is '{current}'"
            ),
        }
    }
}

/// Reads a stored watermark, migrating older formats, and checks that it belongs to the
/// source now connected.
pub fn read_watermark(
    stored: Option<&str>,
    current_source: &str,
) -> Result<Watermark, WatermarkProblem> {
    let raw = stored.ok_or(WatermarkProblem::Missing)?;
    let value: serde_json::Value =
        serde_json::from_str(raw).map_err(|_| WatermarkProblem::Unreadable("not JSON".into()))?;
    let watermark = migrate(value)?;
    if watermark.source_id != current_source {
        return Err(WatermarkProblem::ForeignSource {
            stored: watermark.source_id,
            current: current_source.to_owned(),
        });
    }
    Ok(watermark)
}

/// Format 1 was `{"source": "...", "value": "..."}`; format 2 names the fields explicitly and
/// carries its version.
fn migrate(value: serde_json::Value) -> Result<Watermark, WatermarkProblem> {
    let format = value
        .get("format")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(1);
    match format {
        1 => {
            let source = value.get("source").and_then(serde_json::Value::as_str);
            let position = value.get("value").and_then(serde_json::Value::as_str);
            match (source, position) {
                (Some(s), Some(p)) => Ok(Watermark {
                    format: WATERMARK_FORMAT,
                    source_id: s.to_owned(),
                    position: p.to_owned(),
                }),
                _ => Err(WatermarkProblem::Unreadable(
                    "format 1 record lacks 'source' or 'value'".into(),
                )),
            }
        }
        2 => serde_json::from_value(value)
            .map_err(|e| WatermarkProblem::Unreadable(format!("format 2 record: {e}"))),
        other => Err(WatermarkProblem::Unreadable(format!(
            "format {other} is newer than this build understands"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_foreign_watermarks_are_problems_not_zero() {
        assert_eq!(read_watermark(None, "a"), Err(WatermarkProblem::Missing));
        let stored = r#"{"format":2,"source_id":"dc1","position":"88123"}"#;
        assert!(matches!(
            read_watermark(Some(stored), "dc2"),
            Err(WatermarkProblem::ForeignSource { .. })
        ));
        assert_eq!(
            read_watermark(Some(stored), "dc1").map(|w| w.position),
            Ok("88123".to_owned())
        );
    }

    #[test]
    fn format_one_is_migrated_and_unknown_keys_are_unreadable() {
        let v1 = r#"{"source":"file:/hr.csv","value":"abc"}"#;
        assert_eq!(
            read_watermark(Some(v1), "file:/hr.csv").map(|w| w.format),
            Ok(WATERMARK_FORMAT)
        );
        // C-40 (a): a renamed key must not read as "0"
        let renamed = r#"{"format":1,"source":"x","lastSync_CHANGED":1770033720}"#;
        assert!(matches!(
            read_watermark(Some(renamed), "x"),
            Err(WatermarkProblem::Unreadable(_))
        ));
        assert!(matches!(
            read_watermark(Some(r#"{"format":9}"#), "x"),
            Err(WatermarkProblem::Unreadable(_))
        ));
    }
}
