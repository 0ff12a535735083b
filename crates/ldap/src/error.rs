//! Errors of the codecs: where the text is wrong and why. Messages quote positions, never
//! whole values (a DN may carry a person's name).

/// A DN that does not parse under RFC 4514, or a structural operation that cannot apply.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnError {
    /// The text is not a valid DN.
    #[error("invalid DN at byte {position}: {message}")]
    Syntax {
        /// Byte offset of the problem.
        position: usize,
        /// What is wrong.
        message: &'static str,
    },
    /// An attribute type is not a descriptor (`cn`) or a numeric OID (`2.5.4.3`).
    #[error("invalid attribute type {0:?}: use a name (letters, digits, '-') or a numeric OID")]
    AttributeType(String),
    /// An RDN needs at least one attribute-value assertion.
    #[error("an RDN needs at least one attribute=value")]
    EmptyRdn,
    /// The operation needs a non-empty DN.
    #[error("the empty DN has no RDN or parent")]
    Empty,
}

/// A filter that cannot be rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// An attribute description is not a name or OID with options.
    #[error("invalid attribute description {0:?} in a filter")]
    Attribute(String),
    /// A substring filter needs at least one piece.
    #[error("a substring filter on {0:?} needs at least one piece")]
    EmptySubstring(String),
}

/// Whether `name` is a valid attribute description: a descriptor or numeric OID, optionally
/// followed by `;option`s (`member;range=0-1499` is not a description but is accepted as an
/// option-bearing name in search results, not here).
pub(crate) fn valid_attribute_type(name: &str) -> bool {
    let mut parts = name.split(';');
    let Some(base) = parts.next() else {
        return false;
    };
    let options_ok =
        parts.all(|o| !o.is_empty() && o.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    options_ok && (valid_descriptor(base) || valid_oid(base))
}

fn valid_descriptor(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn valid_oid(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|n| {
            !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && (n == "0" || !n.starts_with('0'))
        })
}
