//! Runtime values of the expression language.
//!
//! `Null` means "absent / no value" and propagates through most operations; `Clear` is the
//! explicit "clear this attribute" marker that only `clear()` produces.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// A value produced or consumed by an expression.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub enum Value {
    /// Absent / no value.
    #[default]
    Null,
    /// Text.
    Str(String),
    /// 64-bit signed integer; overflow is an evaluation error.
    Int(i64),
    /// Boolean.
    Bool(bool),
    /// A point in time with its UTC offset.
    DateTime(DateTime<FixedOffset>),
    /// Multiple values (a multi-valued attribute with more than one value).
    List(Vec<Value>),
    /// The explicit "clear this attribute" marker produced by `clear()`.
    Clear,
}

impl Value {
    /// Name of the value's type as used in error messages (`Str`, `Int`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "Null",
            Value::Str(_) => "Str",
            Value::Int(_) => "Int",
            Value::Bool(_) => "Bool",
            Value::DateTime(_) => "DateTime",
            Value::List(_) => "List",
            Value::Clear => "Clear",
        }
    }

    /// True for `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True for `Null`, the empty string and the empty list (what `is_empty` tests).
    pub fn is_empty_value(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Str(s) => s.is_empty(),
            Value::List(items) => items.is_empty(),
            _ => false,
        }
    }

    /// The text of a `Str`, `None` otherwise.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Rough size used for operation accounting: bytes of text plus list items.
    pub(crate) fn weight(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
            Value::List(items) => items.len() + items.iter().map(Value::weight).sum::<usize>(),
            _ => 1,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<DateTime<FixedOffset>> for Value {
    fn from(d: DateTime<FixedOffset>) -> Self {
        Value::DateTime(d)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::List(items)
    }
}
