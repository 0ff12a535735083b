//! Black-box tests of the `identitymesh` binary: every test runs the built executable in its
//! own temporary data directory and checks exit codes, printed output and the files it
//! writes, as an operator or a script would.
//!
//! One test binary for the whole crate (each extra binary costs link time).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bench;
mod certs;
mod config;
mod csv;
mod helpers;
mod license;
mod live;
mod migrate;
mod quickstart;
mod real_hr;
mod relay;
mod run;
mod secrets;
mod users;
