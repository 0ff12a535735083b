//! The LDAP connector against a real OpenLDAP slapd (one test binary; each test starts its
//! own server with `.ci/slapd.sh`) and a real Samba AD domain controller (`ad_*`: one DC
//! shared by the binary, `.ci/samba.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ad_delta;
mod ad_export;
mod ad_import;
mod export;
mod filters;
mod harness;
mod import;
mod nis_sample;
mod samba;
