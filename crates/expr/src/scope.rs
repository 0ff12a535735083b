//! The evaluation context: where attribute values, references and the run time come from.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};

use crate::{EvalError, Value};

/// What a program can read about the object it is evaluated against.
pub trait Scope {
    /// Value of an attribute of the object being evaluated: Null if absent, Str("") if present
    /// but empty, List for multi-valued with more than one value (a single-valued or one-valued
    /// attribute gives the scalar).
    fn attribute(&self, name: &str) -> Value;

    /// `ref(ref_attribute, target_attribute)`: value of `target_attribute` on the object
    /// referenced by `ref_attribute`.
    fn referenced(&self, ref_attribute: &str, target_attribute: &str) -> Result<Value, EvalError> {
        let _ = (ref_attribute, target_attribute);
        Err(EvalError::unsupported("ref"))
    }

    /// `lookup(object_type, attribute, value, result_attribute)`: value of `result_attribute`
    /// on the unique object of that type whose `attribute` equals `value` (Null if none).
    fn lookup(
        &self,
        object_type: &str,
        attribute: &str,
        value: &Value,
        result_attribute: &str,
    ) -> Result<Value, EvalError> {
        let _ = (object_type, attribute, value, result_attribute);
        Err(EvalError::unsupported("lookup"))
    }

    /// Time of the run (time is a parameter; the language never reads the system clock).
    fn now(&self) -> Option<DateTime<FixedOffset>> {
        None
    }
}

/// A simple [`Scope`] over a map of attribute values, with an optional run time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapScope {
    /// Attribute values by name.
    pub attributes: BTreeMap<String, Value>,
    /// What `now()` returns.
    pub now: Option<DateTime<FixedOffset>>,
}

impl MapScope {
    /// An empty scope.
    pub fn new() -> Self {
        MapScope::default()
    }

    /// Builder: sets an attribute.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.set(name, value);
        self
    }

    /// Builder: sets the run time returned by `now()`.
    pub fn with_now(mut self, now: DateTime<FixedOffset>) -> Self {
        self.now = Some(now);
        self
    }

    /// Sets an attribute.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) {
        self.attributes.insert(name.to_string(), value.into());
    }
}

impl Scope for MapScope {
    fn attribute(&self, name: &str) -> Value {
        self.attributes.get(name).cloned().unwrap_or(Value::Null)
    }

    fn now(&self) -> Option<DateTime<FixedOffset>> {
        self.now
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for MapScope {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        let attributes = iter
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        MapScope {
            attributes,
            now: None,
        }
    }
}
