//! One connection to a directory: connect (TLS as configured), simple bind with the secret,
//! and the wording of LDAP failures. Every message names the server and, for a result, its
//! code and name (`resultCode 49 (invalidCredentials)`); none carries the password.

use identitymesh_secrets::SecretString;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapResult};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::Path;
use std::sync::Arc;

use super::settings::LdapSettings;
use crate::ConnectorError;

/// Connects and binds. Fails with a message naming the server and the result code.
pub(crate) async fn connect(
    connector: &str,
    settings: &LdapSettings,
    ca_file: Option<&Path>,
    password: &SecretString,
) -> Result<Ldap, ConnectorError> {
    let unavailable = |message: String| ConnectorError::Unavailable {
        connector: connector.to_owned(),
        message,
    };
    let mut conn_settings = LdapConnSettings::new()
        .set_conn_timeout(settings.connect_timeout())
        .set_starttls(settings.starttls());
    if let Some(path) = ca_file {
        conn_settings = conn_settings.set_config(Arc::new(tls_config(path).map_err(&unavailable)?));
    }
    let (conn, mut ldap) = LdapConnAsync::with_settings(conn_settings, &settings.url)
        .await
        .map_err(|e| unavailable(format!("cannot reach {}: {e}", settings.url)))?;
    tokio::spawn(async move {
        if let Err(e) = conn.drive().await {
            tracing::debug!(error = %e, "LDAP connection ended");
        }
    });
    let result = ldap
        .with_timeout(settings.operation_timeout())
        .simple_bind(&settings.bind_dn, password.expose())
        .await
        .map_err(|e| unavailable(format!("bind to {} failed: {e}", settings.url)))?;
    if result.rc != 0 {
        return Err(unavailable(format!(
            "bind to {} as {} failed: {}; check bind_dn and the secret named for bind_password",
            settings.url,
            settings.bind_dn,
            describe(&result)
        )));
    }
    Ok(ldap)
}

fn tls_config(path: &Path) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("ca_file {}: {e}", path.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// `resultCode 49 (invalidCredentials): <server's text>`.
pub(crate) fn describe(result: &LdapResult) -> String {
    let mut text = format!("resultCode {} ({})", result.rc, code_name(result.rc));
    if !result.text.is_empty() {
        text.push_str(": ");
        text.push_str(&result.text);
    }
    text
}

/// The RFC 4511 name of a result code.
pub(crate) fn code_name(rc: u32) -> &'static str {
    match rc {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        12 => "unavailableCriticalExtension",
        13 => "confidentialityRequired",
        16 => "noSuchAttribute",
        17 => "undefinedAttributeType",
        18 => "inappropriateMatching",
        19 => "constraintViolation",
        20 => "attributeOrValueExists",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        54 => "loopDetect",
        64 => "namingViolation",
        65 => "objectClassViolation",
        66 => "notAllowedOnNonLeaf",
        67 => "notAllowedOnRDN",
        68 => "entryAlreadyExists",
        69 => "objectClassModsProhibited",
        71 => "affectsMultipleDSAs",
        80 => "other",
        _ => "unknown",
    }
}

/// Result codes that mean "the server cut the answer short": the import is partial, not
/// failed (what was read is true, but not all of it).
pub(crate) fn is_limit(rc: u32) -> bool {
    matches!(rc, 3 | 4 | 11)
}
