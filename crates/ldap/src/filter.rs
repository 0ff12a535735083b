//! Search filters (RFC 4515) built with a typed builder. Assertion values go in as plain
//! values and are escaped exactly once when the filter is rendered: `*` `(` `)` `\` and NUL
//! become `\2a` `\28` `\29` `\5c` `\00`, so a value can never add a clause or a wildcard.
//! Binary values (an `objectGUID`) are rendered entirely as `\xx` byte escapes.

use std::fmt::Write as _;

use crate::error::{FilterError, valid_attribute_type};

/// An assertion value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssertionValue {
    /// Text, rendered as UTF-8 with the five special characters escaped.
    Text(String),
    /// Bytes, rendered entirely as `\xx` escapes.
    Bytes(Vec<u8>),
}

impl From<&str> for AssertionValue {
    fn from(s: &str) -> Self {
        AssertionValue::Text(s.to_owned())
    }
}

impl From<String> for AssertionValue {
    fn from(s: String) -> Self {
        AssertionValue::Text(s)
    }
}

impl From<&crate::Dn> for AssertionValue {
    fn from(dn: &crate::Dn) -> Self {
        AssertionValue::Text(dn.to_string())
    }
}

/// A search filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// `(&…)`: all hold.
    And(Vec<Filter>),
    /// `(|…)`: one holds.
    Or(Vec<Filter>),
    /// `(!…)`: does not hold.
    Not(Box<Filter>),
    /// `(attr=value)`.
    Equality(String, AssertionValue),
    /// `(attr>=value)`.
    GreaterOrEqual(String, AssertionValue),
    /// `(attr<=value)`.
    LessOrEqual(String, AssertionValue),
    /// `(attr=*)`.
    Present(String),
    /// `(attr=initial*any*…*final)`.
    Substring {
        /// The attribute.
        attribute: String,
        /// The leading piece.
        initial: Option<String>,
        /// Middle pieces, in order.
        any: Vec<String>,
        /// The trailing piece.
        last: Option<String>,
    },
}

impl Filter {
    /// `(attribute=value)`, the value matched literally.
    pub fn eq(attribute: &str, value: impl Into<AssertionValue>) -> Self {
        Filter::Equality(attribute.to_owned(), value.into())
    }

    /// `(attribute=\xx\xx…)`: a binary value (an `objectGUID`'s 16 bytes).
    pub fn eq_bytes(attribute: &str, value: &[u8]) -> Self {
        Filter::Equality(attribute.to_owned(), AssertionValue::Bytes(value.to_vec()))
    }

    /// `(attribute>=value)`.
    pub fn ge(attribute: &str, value: impl Into<AssertionValue>) -> Self {
        Filter::GreaterOrEqual(attribute.to_owned(), value.into())
    }

    /// `(attribute<=value)`.
    pub fn le(attribute: &str, value: impl Into<AssertionValue>) -> Self {
        Filter::LessOrEqual(attribute.to_owned(), value.into())
    }

    /// `(attribute=*)`.
    pub fn present(attribute: &str) -> Self {
        Filter::Present(attribute.to_owned())
    }

    /// `(attribute=initial*any1*any2*last)`, each piece matched literally.
    pub fn substring(
        attribute: &str,
        initial: Option<&str>,
        any: &[&str],
        last: Option<&str>,
    ) -> Self {
        Filter::Substring {
            attribute: attribute.to_owned(),
            initial: initial.map(str::to_owned),
            any: any.iter().map(|s| (*s).to_owned()).collect(),
            last: last.map(str::to_owned),
        }
    }

    /// `(attribute=prefix*)`.
    pub fn starts_with(attribute: &str, prefix: &str) -> Self {
        Self::substring(attribute, Some(prefix), &[], None)
    }

    /// `(&…)` of these filters.
    pub fn and(filters: impl IntoIterator<Item = Filter>) -> Self {
        Filter::And(filters.into_iter().collect())
    }

    /// `(|…)` of these filters.
    pub fn or(filters: impl IntoIterator<Item = Filter>) -> Self {
        Filter::Or(filters.into_iter().collect())
    }

    /// `(!filter)`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(filter: Filter) -> Self {
        Filter::Not(Box::new(filter))
    }

    /// The RFC 4515 string, each value escaped exactly once. Fails only on an attribute
    /// description that is not a name or OID (with options), or an empty substring filter.
    pub fn render(&self) -> Result<String, FilterError> {
        let mut out = String::new();
        self.render_into(&mut out)?;
        Ok(out)
    }

    fn render_into(&self, out: &mut String) -> Result<(), FilterError> {
        out.push('(');
        match self {
            Filter::And(fs) | Filter::Or(fs) => {
                out.push(if matches!(self, Filter::And(_)) {
                    '&'
                } else {
                    '|'
                });
                for f in fs {
                    f.render_into(out)?;
                }
            }
            Filter::Not(f) => {
                out.push('!');
                f.render_into(out)?;
            }
            Filter::Equality(a, v) => simple(out, a, "=", v)?,
            Filter::GreaterOrEqual(a, v) => simple(out, a, ">=", v)?,
            Filter::LessOrEqual(a, v) => simple(out, a, "<=", v)?,
            Filter::Present(a) => {
                out.push_str(checked(a)?);
                out.push_str("=*");
            }
            Filter::Substring {
                attribute,
                initial,
                any,
                last,
            } => {
                if initial.is_none() && any.is_empty() && last.is_none() {
                    return Err(FilterError::EmptySubstring(attribute.clone()));
                }
                out.push_str(checked(attribute)?);
                out.push('=');
                if let Some(i) = initial {
                    escape_text(out, i);
                }
                out.push('*');
                for piece in any {
                    escape_text(out, piece);
                    out.push('*');
                }
                if let Some(l) = last {
                    escape_text(out, l);
                }
            }
        }
        out.push(')');
        Ok(())
    }
}

fn checked(attribute: &str) -> Result<&str, FilterError> {
    if valid_attribute_type(attribute) {
        Ok(attribute)
    } else {
        Err(FilterError::Attribute(attribute.to_owned()))
    }
}

fn simple(
    out: &mut String,
    attribute: &str,
    op: &str,
    value: &AssertionValue,
) -> Result<(), FilterError> {
    out.push_str(checked(attribute)?);
    out.push_str(op);
    match value {
        AssertionValue::Text(s) => escape_text(out, s),
        AssertionValue::Bytes(bytes) => {
            for b in bytes {
                let _ = write!(out, "\\{b:02x}");
            }
        }
    }
    Ok(())
}

/// Escapes a text assertion value: `*` `(` `)` `\` NUL as `\2a` `\28` `\29` `\5c` `\00`.
fn escape_text(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '*' => out.push_str("\\2a"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '\\' => out.push_str("\\5c"),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
}
