//! # identitymesh-ldap
//!
//! The pure codecs of LDAP: distinguished names (RFC 4514) as structured values and search
//! filters (RFC 4515) built with a typed builder. The key decision: a DN or a filter is never
//! assembled by string formatting. A value goes into an [`Rdn`] or a [`Filter`] as the plain
//! value it is and is escaped exactly once, when the structure is rendered; a DN received from
//! a directory is parsed once into a [`Dn`] and never escaped a second time.
//!
//! Comparison follows `distinguishedNameMatch` with one documented simplification: attribute
//! types compare case-insensitively, and every value compares under `caseIgnoreMatch`
//! semantics (case folded, insignificant spaces removed) unless the caller asks for exact
//! comparison, since the servers' per-attribute matching rules are not known here.
//!
//! This crate must not depend on tokio, an LDAP client (ldap3), the store or the engine: it
//! is plain data and text, tested by properties, and usable by any connector or by the domain.

#![warn(missing_docs)]

mod dn;
mod dn_parse;
mod error;
mod filter;

pub use dn::{Ava, AvaValue, Dn, Rdn};
pub use error::{DnError, FilterError};
pub use filter::{AssertionValue, Filter};
