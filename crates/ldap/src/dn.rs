//! Distinguished names as structured values (RFC 4514): a [`Dn`] is a sequence of [`Rdn`]s,
//! most specific first; an RDN is one or more attribute-value assertions ([`Ava`]) joined by
//! `+`. Values are held unescaped; [`fmt::Display`] escapes each exactly once.

use std::fmt;

use crate::error::{DnError, valid_attribute_type};

/// The value of an attribute-value assertion.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AvaValue {
    /// A string value (the usual case), held unescaped.
    Text(String),
    /// A `#hex` value: the BER encoding of the value, as the DN gave it.
    Ber(Vec<u8>),
}

/// One `type=value` of an RDN.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ava {
    attribute: String,
    value: AvaValue,
}

impl Ava {
    /// A `type=value` assertion with a plain (unescaped) text value.
    pub fn new(attribute: &str, value: impl Into<String>) -> Result<Self, DnError> {
        Self::with_value(attribute, AvaValue::Text(value.into()))
    }

    /// A `type=value` assertion with any value.
    pub fn with_value(attribute: &str, value: AvaValue) -> Result<Self, DnError> {
        if !valid_attribute_type(attribute) || attribute.contains(';') {
            return Err(DnError::AttributeType(attribute.to_owned()));
        }
        Ok(Self {
            attribute: attribute.to_owned(),
            value,
        })
    }

    /// The attribute type as written (`cn`, `CN`, `2.5.4.3`).
    pub fn attribute(&self) -> &str {
        &self.attribute
    }

    /// The value.
    pub fn value(&self) -> &AvaValue {
        &self.value
    }

    /// The value as text, if it is text.
    pub fn text(&self) -> Option<&str> {
        match &self.value {
            AvaValue::Text(s) => Some(s),
            AvaValue::Ber(_) => None,
        }
    }

    /// The comparison key under `distinguishedNameMatch` as this crate applies it: the type in
    /// lower case, the value case-folded with insignificant spaces removed.
    fn match_key(&self) -> (String, AvaValue) {
        let value = match &self.value {
            AvaValue::Text(s) => AvaValue::Text(fold_case_ignore(s)),
            AvaValue::Ber(b) => AvaValue::Ber(b.clone()),
        };
        (self.attribute.to_ascii_lowercase(), value)
    }
}

/// `caseIgnoreMatch` preparation: lower case, leading and trailing spaces removed, inner runs
/// of spaces collapsed to one.
fn fold_case_ignore(s: &str) -> String {
    s.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A relative distinguished name: one or more assertions (`cn=A+uid=b`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rdn(Vec<Ava>);

impl Rdn {
    /// A single-valued RDN from a type and a plain value: `Rdn::new("cn", "Doe, Jane")`.
    pub fn new(attribute: &str, value: impl Into<String>) -> Result<Self, DnError> {
        Ok(Self(vec![Ava::new(attribute, value)?]))
    }

    /// A (possibly multi-valued) RDN from its assertions.
    pub fn from_avas(avas: Vec<Ava>) -> Result<Self, DnError> {
        if avas.is_empty() {
            return Err(DnError::EmptyRdn);
        }
        Ok(Self(avas))
    }

    /// The assertions, in the order given.
    pub fn avas(&self) -> &[Ava] {
        &self.0
    }

    /// The first assertion (the only one of a single-valued RDN).
    pub fn first(&self) -> &Ava {
        // An Rdn is never empty: both constructors and the parser guarantee one assertion.
        &self.0[0]
    }

    /// The text value of `attribute` in this RDN (type compared case-insensitively).
    pub fn value_of(&self, attribute: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|a| a.attribute.eq_ignore_ascii_case(attribute))
            .and_then(Ava::text)
    }

    /// Whether two RDNs match under `distinguishedNameMatch` (assertion order ignored).
    pub fn matches(&self, other: &Rdn) -> bool {
        self.match_key() == other.match_key()
    }

    fn match_key(&self) -> Vec<(String, AvaValue)> {
        let mut keys: Vec<_> = self.0.iter().map(Ava::match_key).collect();
        keys.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        keys
    }
}

/// A distinguished name: RDNs from the most specific (the entry's own) to the root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Dn(Vec<Rdn>);

impl Dn {
    /// The empty DN (the root DSE).
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// Parses an RFC 4514 string. Escapes are decoded once; the result formats back to an
    /// equivalent string with each value escaped exactly once.
    pub fn parse(text: &str) -> Result<Self, DnError> {
        crate::dn_parse::parse_dn(text).map(Self)
    }

    /// A DN from RDNs, most specific first.
    pub fn from_rdns(rdns: Vec<Rdn>) -> Self {
        Self(rdns)
    }

    /// The RDNs, most specific first.
    pub fn rdns(&self) -> &[Rdn] {
        &self.0
    }

    /// Whether this is the empty DN.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The entry's own RDN.
    pub fn rdn(&self) -> Option<&Rdn> {
        self.0.first()
    }

    /// The parent DN (the empty DN's parent is itself: `None`).
    pub fn parent(&self) -> Option<Dn> {
        (!self.0.is_empty()).then(|| Dn(self.0[1..].to_vec()))
    }

    /// The child of this DN named `rdn`.
    pub fn child(&self, rdn: Rdn) -> Dn {
        let mut rdns = Vec::with_capacity(self.0.len() + 1);
        rdns.push(rdn);
        rdns.extend(self.0.iter().cloned());
        Dn(rdns)
    }

    /// This DN with its own RDN replaced (a rename in place).
    pub fn renamed(&self, rdn: Rdn) -> Result<Dn, DnError> {
        let parent = self.parent().ok_or(DnError::Empty)?;
        Ok(parent.child(rdn))
    }

    /// This DN moved under `new_parent`, keeping its RDN.
    pub fn moved_to(&self, new_parent: &Dn) -> Result<Dn, DnError> {
        let rdn = self.rdn().ok_or(DnError::Empty)?.clone();
        Ok(new_parent.child(rdn))
    }

    /// Whether this DN is `ancestor` or lies below it (`distinguishedNameMatch` per RDN).
    pub fn is_within(&self, ancestor: &Dn) -> bool {
        let (n, m) = (self.0.len(), ancestor.0.len());
        n >= m
            && self.0[n - m..]
                .iter()
                .zip(&ancestor.0)
                .all(|(a, b)| a.matches(b))
    }

    /// Whether this DN is an immediate child of `parent`.
    pub fn is_child_of(&self, parent: &Dn) -> bool {
        self.0.len() == parent.0.len() + 1 && self.is_within(parent)
    }

    /// Whether two DNs match under `distinguishedNameMatch`: same number of RDNs, each
    /// matching (types case-insensitive, values under `caseIgnoreMatch`, RDN order of a
    /// multi-valued RDN ignored). `CN=Jane Doe,OU=People,DC=Example` matches
    /// `cn=jane doe,ou=people,dc=example`.
    pub fn matches(&self, other: &Dn) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| a.matches(b))
    }

    /// A normalised string to index DNs by (equal exactly when [`Dn::matches`]).
    pub fn match_key(&self) -> String {
        let rdns: Vec<String> = self
            .0
            .iter()
            .map(|r| {
                let avas: Vec<Ava> = r
                    .match_key()
                    .into_iter()
                    .map(|(attribute, value)| Ava { attribute, value })
                    .collect();
                Rdn(avas).to_string()
            })
            .collect();
        rdns.join(",")
    }
}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{rdn}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Rdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, ava) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            write!(f, "{ava}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Ava {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.attribute)?;
        f.write_str("=")?;
        match &self.value {
            AvaValue::Text(s) => f.write_str(&escape_value(s)),
            AvaValue::Ber(bytes) => {
                f.write_str("#")?;
                bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

/// Escapes an attribute value for a DN string (RFC 4514 section 2.4): `, + " \ < > ; =` get a
/// backslash, a leading space or `#` and a trailing space get a backslash, NUL becomes `\00`.
/// Other characters, non-ASCII included, are kept as UTF-8.
pub(crate) fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '\0' => out.push_str("\\00"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '#' if i == 0 => out.push_str("\\#"),
            _ => out.push(c),
        }
    }
    out
}
