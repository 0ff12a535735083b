//! # identitymesh-agent
//!
//! The relay agent (`identitymesh relay run`): it runs on a host that can see a directory or
//! a file the engine cannot, dials out to the Admin API's hub (`wss://HOST/hub/v1`), proves
//! who it is with the Ed25519 key it generated on first start, and carries out the hub's
//! commands with the CSV and LDAP connectors of `identitymesh-connectors`: it streams import
//! batches back as the hub grants credit, applies exports and reports each outcome. It never
//! listens, and it keeps no database: its data directory holds its key, its enrollment, the
//! last configuration and the connector secrets sealed under the host's key.
//!
//! Every reliable message it sends stays in its outbox until the hub acknowledges it and is
//! resent after a reconnect; a command the hub redelivers is acknowledged, not applied
//! again (docs/relay-protocol.md). After any failure it reconnects with jittered
//! exponential back-off; a refusal that retrying cannot cure (revoked, disabled, unknown key,
//! bad enrollment token, version mismatch, the license's relay limit reached) ends it with the
//! hub's message.
//!
//! It must not depend on the store, a database driver or a web framework
//! (`.ci/boundaries.sh`).

#![warn(missing_docs)]

mod backoff;
mod clock;
mod commands;
mod dial;
mod error;
mod identity;
mod secret_store;
mod session;
mod state;
mod work;

use std::path::PathBuf;
use std::sync::Arc;

pub use backoff::{Backoff, Schedule};
pub use clock::{Clock, SystemClock};
pub use dial::{HUB_PATH, HubUrl};
pub use error::AgentError;
pub use identity::{Enrollment, Identity, KEY_FILE, RELAY_FILE};
pub use secret_store::{LocalSecrets, SECRETS_DIR};
pub use state::CONFIG_FILE;

/// Re-exported: the CLI parses `--enroll-token` into it (its `Debug` hides the value).
pub use identitymesh_protocol::EnrollmentToken;

/// How to run the agent.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// The hub: `wss://HOST[:PORT]/hub/v1`.
    pub hub: String,
    /// The data directory (key, enrollment, configuration, sealed secrets, CSV files).
    pub data_dir: PathBuf,
    /// The one-time enrollment token, needed on the first connection only.
    pub enroll_token: Option<EnrollmentToken>,
    /// The name to enroll under (default: the host name).
    pub name: Option<String>,
    /// A PEM bundle of the CAs to trust for the hub's certificate (default: the web roots).
    pub ca_file: Option<PathBuf>,
    /// Allow plain `ws://` to a host that is not loopback.
    pub allow_insecure: bool,
    /// The reconnect back-off.
    pub backoff: Backoff,
}

/// A relay agent.
pub struct Agent {
    options: AgentOptions,
    hub: HubUrl,
    tls: Arc<rustls::ClientConfig>,
    identity: Identity,
    state: state::State,
    clock: Arc<dyn Clock>,
    host: String,
}

impl Agent {
    /// Checks the options and loads (or creates) the relay's identity. Fails on a bad hub
    /// URL, an unreadable CA file or an unusable data directory.
    pub fn new(options: AgentOptions, clock: Arc<dyn Clock>) -> Result<Self, AgentError> {
        let hub = HubUrl::parse(&options.hub, options.allow_insecure)?;
        let tls = dial::tls_config(options.ca_file.as_deref())?;
        let identity = Identity::load_or_create(&options.data_dir)?;
        if identity.relay_id().is_none() && options.enroll_token.is_none() {
            return Err(not_enrolled(&options.data_dir));
        }
        let state = state::State::new(&options.data_dir)?;
        Ok(Self {
            options,
            hub,
            tls,
            identity,
            state,
            clock,
            host: host_name(),
        })
    }

    /// The relay's identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Connects, serves and reconnects until the hub refuses this relay for good; returns
    /// that reason (the caller exits non-zero with it).
    pub async fn run(mut self) -> AgentError {
        let mut schedule = Schedule::new(self.options.backoff, rand_core::OsRng);
        loop {
            let mut welcomed = false;
            let result = self.session(&mut welcomed).await;
            if welcomed {
                schedule.reset();
            }
            match result {
                Err(e) if e.is_fatal() => return e,
                Err(e) => tracing::warn!(reason = %e, "disconnected from the hub"),
                Ok(()) => tracing::info!("disconnected from the hub"),
            }
            let delay = schedule.next_delay();
            tracing::info!(delay_ms = delay.as_millis() as u64, "reconnecting");
            tokio::time::sleep(delay).await;
        }
    }
}

/// The error of a relay that has neither an enrollment nor a token.
pub(crate) fn not_enrolled(data_dir: &std::path::Path) -> AgentError {
    AgentError::Setup(format!(
        "this relay is not enrolled yet (no {RELAY_FILE} in {}): create an enrollment token on the Admin API and pass it once with --enroll-token",
        data_dir.display()
    ))
}

/// This host's name, for `hello` and the default enrollment name.
fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty() && h.len() <= 255 && !h.chars().any(char::is_control))
        .unwrap_or_else(|| "localhost".into())
}
