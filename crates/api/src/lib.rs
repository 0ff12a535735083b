//! # identitymesh-api
//!
//! The Admin API: the HTTP face operators and automation use to see and steer IdentityMesh —
//! a JSON REST API under `/api/v1` described by an OpenAPI document, health and Prometheus
//! metrics, and the server-rendered admin UI under `/ui`.
//!
//! The key decision: state is passed, never global. [`router`] takes an [`AppState`] (the
//! store, the engine when this process runs one, the vault whose data-protection key ring
//! protects cookies and anti-forgery tokens, the clock), and [`serve`] takes a bound listener
//! and a shutdown future, so tests run the real app on port 0 with a temporary database and a
//! manual clock. Every failure leaves through one mapping ([`ApiError`]) to one JSON error
//! body. Every route sits behind a role; sessions live in the database.
//!
//! It must not depend on a database driver (rusqlite, sqlx): everything durable goes through
//! `identitymesh-store`'s `Store`/`Tx`. It drives the engine only through `Engine`'s public
//! API (`run`, `decide_adoption`, `config`), never its internals.

#![warn(missing_docs)]

pub mod auth;
mod error;
pub mod extract;
pub mod hub;
mod ops;
mod server;
mod state;
pub mod tls;
mod ui;
pub mod v1;

pub use auth::Role;
pub use auth::bootstrap::{BOOTSTRAP_ADMIN, add_user, ensure_bootstrap_admin};
pub use error::{ApiError, ApiResult};
pub use server::{check_plain_http, router, serve, serve_tls};
pub use state::{AppState, Security};
pub use tls::{TlsConfig, TlsError};
