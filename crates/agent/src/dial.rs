//! Dialing the hub: the URL rules (`wss://` always; `ws://` only to a loopback host or when
//! explicitly allowed), the TLS trust (a CA bundle from `--ca-file`, else the public web
//! roots), and the WebSocket connection itself. Relays never listen.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use identitymesh_protocol::MAX_FRAME_BYTES;
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::error::AgentError;

/// The hub endpoint's path.
pub const HUB_PATH: &str = "/hub/v1";

/// An open connection to the hub.
pub type HubSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A checked hub address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubUrl {
    /// The URL dialed (`wss://host:port/hub/v1`).
    pub url: String,
    /// The hub's origin as the challenge binds it: the scheme, host and port dialed, the port
    /// always written out (`wss://host:443`, `ws://127.0.0.1:8080`), as the hub computes it.
    pub origin: String,
    /// Whether TLS is used.
    pub tls: bool,
}

impl HubUrl {
    /// Checks `raw`: `wss://HOST[:PORT][/hub/v1]`, or `ws://` to a loopback host (or anywhere
    /// when `allow_insecure`). A missing path means `/hub/v1`.
    pub fn parse(raw: &str, allow_insecure: bool) -> Result<Self, AgentError> {
        let (tls, rest) = if let Some(rest) = raw.strip_prefix("wss://") {
            (true, rest)
        } else if let Some(rest) = raw.strip_prefix("ws://") {
            (false, rest)
        } else {
            return Err(AgentError::Setup(format!(
                "hub URL {raw:?}: use wss://HOST/hub/v1 (the Admin API's address)"
            )));
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = host_of(authority)
            .ok_or_else(|| AgentError::Setup(format!("hub URL {raw:?} names no host")))?;
        if !tls && !allow_insecure && !is_loopback(host) {
            return Err(AgentError::Setup(format!(
                "hub URL {raw:?} is plain ws:// to a host that is not loopback: the connection and the relay's traffic would be readable on the network. Use wss://, or pass --allow-insecure if this network is trusted"
            )));
        }
        let path = match path {
            "" | "/" => HUB_PATH,
            p => p,
        };
        let scheme = if tls { "wss" } else { "ws" };
        Ok(Self {
            url: format!("{scheme}://{authority}{path}"),
            origin: origin(scheme, authority, tls),
            tls,
        })
    }
}

/// `scheme://authority` with the port written out (443 for `wss`, 80 for `ws` when the URL
/// has none), the form the hub signs challenges with (relay-protocol.md, Handshake).
fn origin(scheme: &str, authority: &str, tls: bool) -> String {
    let has_port = match authority.rsplit_once(']') {
        Some((_, after_v6)) => after_v6.starts_with(':'),
        None => authority.contains(':'),
    };
    if has_port {
        format!("{scheme}://{authority}")
    } else {
        format!("{scheme}://{authority}:{}", if tls { 443 } else { 80 })
    }
}

fn host_of(authority: &str) -> Option<&str> {
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty() && !authority.contains('@')).then_some(host)
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The TLS client settings: the certificates of `ca_file` (PEM) as the only roots, else the
/// public web roots.
pub fn tls_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, AgentError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| AgentError::file(path, format!("cannot read the CA bundle: {e}")))?;
            for cert in certs {
                let cert = cert
                    .map_err(|e| AgentError::file(path, format!("not a PEM certificate: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| AgentError::file(path, format!("unusable CA certificate: {e}")))?;
            }
            if roots.is_empty() {
                return Err(AgentError::file(path, "holds no PEM certificate"));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AgentError::Setup(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Opens the WebSocket to the hub.
pub async fn connect(
    hub: &HubUrl,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<HubSocket, AgentError> {
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES));
    let connector = if hub.tls {
        Connector::Rustls(tls.clone())
    } else {
        Connector::Plain
    };
    let (socket, _) = tokio_tungstenite::connect_async_tls_with_config(
        hub.url.as_str(),
        Some(config),
        true,
        Some(connector),
    )
    .await
    .map_err(|e| AgentError::Connection(format!("cannot reach the hub at {}: {e}", hub.url)))?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_are_checked_and_plain_ws_only_on_loopback() {
        let hub = HubUrl::parse("wss://sync.example:8443", false).unwrap();
        assert_eq!(hub.url, "wss://sync.example:8443/hub/v1");
        assert_eq!(hub.origin, "wss://sync.example:8443");
        // the port is always written out, as the hub computes the origin it signs
        let origin = |raw: &str| HubUrl::parse(raw, false).unwrap().origin;
        assert_eq!(
            origin("wss://sync.example/hub/v1"),
            "wss://sync.example:443"
        );
        assert_eq!(origin("ws://127.0.0.1:8080/hub/v1"), "ws://127.0.0.1:8080");
        assert_eq!(origin("ws://[::1]/hub/v1"), "ws://[::1]:80");
        assert_eq!(origin("ws://[::1]:9"), "ws://[::1]:9");
        for ok in [
            "ws://127.0.0.1:9/hub/v1",
            "ws://localhost:9",
            "ws://[::1]:9/hub/v1",
        ] {
            assert!(HubUrl::parse(ok, false).is_ok(), "{ok}");
        }
        let refused = HubUrl::parse("ws://sync.example/hub/v1", false)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("--allow-insecure") && refused.contains("wss://"),
            "{refused}"
        );
        assert!(HubUrl::parse("ws://sync.example/hub/v1", true).is_ok());
        assert!(HubUrl::parse("https://sync.example", false).is_err());
        assert!(HubUrl::parse("wss://", false).is_err());
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let err = tls_config(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("ca.pem"), "{err}");
        assert!(tls_config(None).is_ok());
    }
}
