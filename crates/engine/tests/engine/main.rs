//! Integration tests of the Sync Engine: the behaviour cases of `cases/CASES.md` that concern
//! the engine, run against the real engine, a real store (SQLite always, PostgreSQL when
//! `IDENTITYMESH_TEST_POSTGRES_URL` is set) and real CSV files in a temporary directory.
//! One binary (each extra test binary costs link time); one module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cancel;
mod composer;
mod connector_secrets;
mod csv_files;
mod deprovision;
mod guards;
mod isolation;
mod joins;
mod leases;
mod profiles;
mod secrets;
mod support;
mod watermarks;
