//! Where a host keeps its license and its extra trusted issuers.
//!
//! `DATA_DIR/license.key` is the installed license (absent: community edition).
//! Extra trusted issuer keys come from `DATA_DIR/license-issuers` (one base64 Ed25519 public
//! key per line, `#` comments) and from the `IDENTITYMESH_LICENSE_ISSUERS` environment
//! variable (comma-separated); both add to the built-in list.

use std::path::Path;

use super::License;
use super::issuers::{TrustedIssuers, verify_license};
use crate::error::{SecretsError, SecretsResult};

/// The license file in a data directory.
pub const LICENSE_FILE: &str = "license.key";
/// The file of extra trusted issuer keys in a data directory.
pub const ISSUERS_FILE: &str = "license-issuers";
/// The environment variable of extra trusted issuer keys.
pub const ISSUERS_ENV: &str = "IDENTITYMESH_LICENSE_ISSUERS";

/// The built-in issuers plus those configured in the data directory and in `env_value` (the
/// value of [`ISSUERS_ENV`], passed in by the caller).
pub fn trusted_issuers(data_dir: &Path, env_value: Option<&str>) -> SecretsResult<TrustedIssuers> {
    let mut issuers = TrustedIssuers::builtin()?;
    let file = data_dir.join(ISSUERS_FILE);
    match std::fs::read_to_string(&file) {
        Ok(text) => issuers = issuers.with_configured(&text, &file.display().to_string())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(SecretsError::LicenseMalformed {
                source_name: file.display().to_string(),
                message: format!("cannot read it: {e}"),
            });
        }
    }
    if let Some(env) = env_value {
        issuers = issuers.with_configured(env, ISSUERS_ENV)?;
    }
    Ok(issuers)
}

/// Reads and verifies a license file.
pub fn read_license(path: &Path, issuers: &TrustedIssuers) -> SecretsResult<License> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SecretsError::LicenseMalformed {
        source_name: name.clone(),
        message: format!("cannot read it: {e}"),
    })?;
    verify_license(&text, &name, issuers).map(License::licensed)
}

/// The license installed in a data directory, or the community edition when there is none.
pub fn installed_license(data_dir: &Path, issuers: &TrustedIssuers) -> SecretsResult<License> {
    let path = data_dir.join(LICENSE_FILE);
    if !path.exists() {
        return Ok(License::community());
    }
    read_license(&path, issuers)
}
