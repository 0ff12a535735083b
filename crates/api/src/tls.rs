//! TLS for the Admin API: a certificate chain and its private key, read from PEM files and
//! checked before the server binds anything, so a missing, unreadable or malformed file is an
//! error naming that file and what to do — never a panic, never a half-started server.
//!
//! The key decision: TLS is terminated in-process with rustls (the `ring` provider, which the
//! database driver already brings), so `identitymesh serve --tls-cert … --tls-key …` needs no
//! proxy. Private key bytes never reach an error message or `Debug`.

use rustls::ServerConfig;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How to make a certificate when there is none.
const HINT: &str = "for a first run, `identitymesh certs self-signed --host NAME --out DIR` writes a certificate and key";

/// Why a certificate or key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file cannot be read.
    #[error(
        "cannot read the TLS {what} {path}: {message}; check the path and that this user may read it ({HINT})"
    )]
    Unreadable {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        message: String,
    },
    /// The file holds no usable PEM section of the right kind.
    #[error("the TLS {what} {path} is not usable: {message}; it must be PEM ({expect}) ({HINT})")]
    Malformed {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
        /// What the file should contain.
        expect: &'static str,
    },
    /// rustls refused the pair (the key does not match the certificate, an unsupported key).
    #[error(
        "the TLS certificate {cert} and key {key} cannot be used together: {message}; use the key that belongs to this certificate"
    )]
    Rejected {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls' reason.
        message: String,
    },
}

/// A checked server TLS configuration; cheap to clone.
#[derive(Clone)]
pub struct TlsConfig {
    config: Arc<ServerConfig>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsConfig(<certificate and private key>)")
    }
}

const CERT_EXPECT: &str = "one or more '-----BEGIN CERTIFICATE-----' blocks, the server's first";
const KEY_EXPECT: &str =
    "one '-----BEGIN PRIVATE KEY-----' (or RSA/EC PRIVATE KEY) block, unencrypted";

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Unreadable {
        what,
        path: path.to_owned(),
        message: e.to_string(),
    })
}

fn certs(pem_bytes: &[u8], path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let malformed = |message: String| TlsError::Malformed {
        what: "certificate",
        path: path.to_owned(),
        message,
        expect: CERT_EXPECT,
    };
    let chain = CertificateDer::pem_slice_iter(pem_bytes)
        .collect::<Result<Vec<_>, pem::Error>>()
        .map_err(|e| malformed(format!("its PEM does not parse ({e})")))?;
    if chain.is_empty() {
        return Err(malformed("it holds no certificate".into()));
    }
    Ok(chain)
}

fn key(pem_bytes: &[u8], path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    // the key's bytes are never part of a message: only the parser's kind of failure
    PrivateKeyDer::from_pem_slice(pem_bytes).map_err(|e| TlsError::Malformed {
        what: "private key",
        path: path.to_owned(),
        message: match e {
            pem::Error::NoItemsFound => "it holds no private key".to_owned(),
            _ => "its PEM does not parse".to_owned(),
        },
        expect: KEY_EXPECT,
    })
}

impl TlsConfig {
    /// Reads and checks a PEM certificate chain and its PEM private key.
    pub fn from_pem_files(cert: &Path, key_path: &Path) -> Result<Self, TlsError> {
        let cert_pem = read("certificate", cert)?;
        let key_pem = read("private key", key_path)?;
        Self::from_pem(&cert_pem, &key_pem, cert, key_path)
    }

    /// Checks PEM text; `cert` and `key_path` name the sources in errors.
    pub fn from_pem(
        cert_pem: &[u8],
        key_pem: &[u8],
        cert: &Path,
        key_path: &Path,
    ) -> Result<Self, TlsError> {
        let chain = certs(cert_pem, cert)?;
        let private = key(key_pem, key_path)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let rejected = |e: rustls::Error| TlsError::Rejected {
            cert: cert.to_owned(),
            key: key_path.to_owned(),
            message: e.to_string(),
        };
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(rejected)?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(rejected)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
        })
    }

    /// The rustls configuration.
    pub(crate) fn server_config(&self) -> Arc<ServerConfig> {
        self.config.clone()
    }
}
