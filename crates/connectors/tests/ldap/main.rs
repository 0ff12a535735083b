//! The LDAP connector against a real OpenLDAP slapd (one test binary; each test starts its
//! own server with `.ci/slapd.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod export;
mod filters;
mod harness;
mod import;
mod nis_sample;
