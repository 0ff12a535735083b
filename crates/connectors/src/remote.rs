//! Connectors hosted elsewhere: a relay agent runs a connector on a remote host, and the
//! process that hosts the hub provides a [`RemoteConnectors`] that builds a stand-in
//! [`Connector`] forwarding imports and exports to it. The engine asks it first for every
//! connector whose configuration names a relay, so it never opens such a connector locally
//! nor resolves its secrets (they live on the relay host).

use identitymesh_domain::config::ConnectorConfig;

use crate::{Connector, ConnectorError};

/// Builds stand-ins for connectors hosted by relays.
pub trait RemoteConnectors: Send + Sync {
    /// The stand-in for `config`, whose `relay` is set.
    fn open(&self, config: &ConnectorConfig) -> Result<Box<dyn Connector>, ConnectorError>;
}
