//! Attribute values and the attribute map of an object.
//!
//! Absent, empty and cleared are three different states (design invariant 5):
//! an attribute missing from [`Attributes`] is *absent*; present with no values is *empty*
//! (for example an empty CSV cell); an explicit clear is a [`Contribution::Clear`] that a
//! flow produced and the composer honours.

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// One attribute value. Date-times and references are strings whose meaning the schema gives.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// Text (also date-times in RFC 3339 and references by anchor or mesh id).
    Str(String),
    /// A 64-bit integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// Raw bytes (binary attributes such as objectGUID or a photo).
    Bytes(Vec<u8>),
}

impl Value {
    /// A text value.
    pub fn str(s: impl Into<String>) -> Self {
        Value::Str(s.into())
    }

    /// The value as text, if it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Renders the value as text for files and comparisons (bytes as lower-case hex).
    pub fn to_text(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Bytes(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
        }
    }
}

/// Values never print their content in `Debug`: attribute values may be secrets or personal
/// data, and `Debug` output ends up in logs. Use [`Value::to_text`] where the value is wanted.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write!(f, "Str(<{} chars>)", s.chars().count()),
            Value::Int(_) => f.write_str("Int(<hidden>)"),
            Value::Bool(_) => f.write_str("Bool(<hidden>)"),
            Value::Bytes(b) => write!(f, "Bytes(<{} bytes>)", b.len()),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Value::Str(s) => serializer.serialize_str(s),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Bytes(b) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("hex", &Value::Bytes(b.clone()).to_text())?;
                map.end()
            }
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, integer, boolean or {\"hex\": …}")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let (key, hex): (String, String) = map
            .next_entry()?
            .ok_or_else(|| de::Error::custom("empty object"))?;
        if key != "hex" {
            return Err(de::Error::custom("unknown value object"));
        }
        decode_hex(&hex)
            .map(Value::Bytes)
            .ok_or_else(|| de::Error::custom("invalid hex"))
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// The attributes of one object: name to values. A name that is missing is absent; a name
/// with an empty list is present but empty. Multi-valued attributes are sets unless the
/// schema declares them ordered, so comparison helpers treat them as sets.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Attributes(BTreeMap<String, Vec<Value>>);

impl Attributes {
    /// An empty attribute map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets an attribute to the given values (an empty list makes it present but empty).
    pub fn set(&mut self, name: impl Into<String>, values: Vec<Value>) {
        self.0.insert(name.into(), values);
    }

    /// Sets a single text value.
    pub fn set_str(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), vec![Value::Str(value.into())]);
    }

    /// Removes an attribute, making it absent.
    pub fn remove(&mut self, name: &str) -> Option<Vec<Value>> {
        self.0.remove(name)
    }

    /// The values of an attribute, or `None` when absent.
    pub fn get(&self, name: &str) -> Option<&[Value]> {
        self.0.get(name).map(Vec::as_slice)
    }

    /// The first value of an attribute as text.
    pub fn first_text(&self, name: &str) -> Option<String> {
        self.get(name)?.first().map(Value::to_text)
    }

    /// Iterates attributes in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<Value>)> {
        self.0.iter()
    }

    /// The attribute names.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.0.keys()
    }

    /// Number of attributes present.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no attribute is present.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A stable content hash (used to detect whether an imported object changed).
    pub fn content_hash(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        for (name, values) in &self.0 {
            hasher.update(name.as_bytes());
            hasher.update(&[0xff]);
            let mut sorted: Vec<&Value> = values.iter().collect();
            sorted.sort();
            for value in sorted {
                hash_value(&mut hasher, value);
            }
            hasher.update(&[0xfe]);
        }
        hasher.finalize().to_hex()[..32].to_owned()
    }
}

fn hash_value(hasher: &mut blake3::Hasher, value: &Value) {
    match value {
        Value::Str(s) => hasher.update(&[1]).update(s.as_bytes()),
        Value::Int(i) => hasher.update(&[2]).update(&i.to_le_bytes()),
        Value::Bool(b) => hasher.update(&[3, u8::from(*b)]),
        Value::Bytes(b) => hasher.update(&[4]).update(b),
    };
    hasher.update(&[0]);
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, v.len())))
            .finish()
    }
}

impl FromIterator<(String, Vec<Value>)> for Attributes {
    fn from_iter<T: IntoIterator<Item = (String, Vec<Value>)>>(iter: T) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// What one connector's inbound flow says about one mesh attribute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Contribution {
    /// These values (possibly empty, when the flow declares "empty means empty").
    Values(Vec<Value>),
    /// Explicitly clear the attribute: lower-precedence contributors are ignored.
    Clear,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn values_round_trip_through_json() {
        let mut attrs = Attributes::new();
        attrs.set(
            "a",
            vec![Value::str("007"), Value::Int(7), Value::Bool(true)],
        );
        attrs.set("b", vec![Value::Bytes(vec![0, 255, 16])]);
        attrs.set("empty", vec![]);
        let json = serde_json::to_string(&attrs).unwrap();
        let back: Attributes = serde_json::from_str(&json).unwrap();
        assert_eq!(back, attrs);
        assert!(json.contains("\"007\""));
    }

    #[test]
    fn debug_output_hides_values() {
        let mut attrs = Attributes::new();
        attrs.set_str("password", "Tr1cky,Pa$$");
        let shown = format!("{attrs:?} {:?}", Value::str("Tr1cky,Pa$$"));
        assert!(!shown.contains("Tr1cky"));
    }

    #[test]
    fn content_hash_ignores_value_order_but_not_presence() {
        let mut a = Attributes::new();
        a.set("m", vec![Value::str("x"), Value::str("y")]);
        let mut b = Attributes::new();
        b.set("m", vec![Value::str("y"), Value::str("x")]);
        assert_eq!(a.content_hash(), b.content_hash());
        let mut c = a.clone();
        c.set("other", vec![]);
        assert_ne!(a.content_hash(), c.content_hash());
    }
}
