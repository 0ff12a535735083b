//! The license issuing tool: not part of the product's command line.
//!
//! ```text
//! cargo run -p identitymesh-secrets --example issue-license -- new-issuer PRIVATE_KEY_FILE
//!     writes a new issuer private key (base64, mode 0600) and prints its public key, the
//!     line to add to IDENTITYMESH_LICENSE_ISSUERS or DATA_DIR/license-issuers
//! cargo run -p identitymesh-secrets --example issue-license -- sign PRIVATE_KEY_FILE DOCUMENT.json
//!     prints a signed license.key for the document (see LicenseDocument)
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use identitymesh_secrets::license::LicenseDocument;
use identitymesh_secrets::license::issuers::{issuer_id, sign_license};
use identitymesh_secrets::{SecretString, SigningKey};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["new-issuer", path] => new_issuer(path),
        ["sign", key, doc] => sign(key, doc),
        _ => Err("usage: issue-license new-issuer PRIVATE_KEY_FILE | sign PRIVATE_KEY_FILE DOCUMENT.json".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn new_issuer(path: &str) -> Result<(), String> {
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| format!("{path}: {e}"))?;
    let private = SecretString::new(B64.encode(key.to_bytes()));
    writeln!(file, "{}", private.expose()).map_err(|e| format!("{path}: {e}"))?;
    println!("{}", B64.encode(key.verifying_key().as_bytes()));
    eprintln!(
        "issuer key id {} written to {path}",
        issuer_id(&key.verifying_key())
    );
    Ok(())
}

fn sign(key_path: &str, doc_path: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(key_path).map_err(|e| format!("{key_path}: {e}"))?;
    let bytes: [u8; 32] = B64
        .decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("{key_path}: not a base64 Ed25519 private key"))?;
    let key = SigningKey::from_bytes(&bytes);
    let doc: LicenseDocument = serde_json::from_str(
        &std::fs::read_to_string(doc_path).map_err(|e| format!("{doc_path}: {e}"))?,
    )
    .map_err(|e| format!("{doc_path}: {e}"))?;
    print!("{}", sign_license(&doc, &key).map_err(|e| e.to_string())?);
    Ok(())
}
