//! Black-box tests of the Admin API: the real app on port 0 with a temporary database, on
//! every backend. All in one binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod config;
mod helpers;
mod hub;
mod runs;
mod security;
mod server;
mod space;
mod system;
mod tls;
mod ui;
mod users;
