//! `identitymesh certs self-signed`: a certificate and private key for a first HTTPS run,
//! made with rcgen. The certificate names every `--host` (DNS names and IP addresses) and is
//! valid from today for `--days`; the key is written mode 0600 and never printed. What it
//! prints is what a client needs to trust the certificate: its SHA-256 fingerprint, and the
//! `serve` command that uses the pair. Browsers warn about a self-signed certificate; replace
//! it with one from your certificate authority for anything but a first run.

use anyhow::{Context, Result, bail};
use chrono::{Datelike, Days, NaiveDate};
use identitymesh_engine::{Clock, SystemClock};
use rcgen::{CertificateParams, DnType, KeyPair, date_time_ymd};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The certificate file written into `--out`.
pub const CERT_FILE: &str = "cert.pem";
/// The private key file written into `--out`.
pub const KEY_FILE: &str = "key.pem";

/// Certificate subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum CertsCommand {
    /// Write a self-signed certificate (cert.pem) and its private key (key.pem, mode 0600) for HTTPS.
    SelfSigned(SelfSignedArgs),
}

/// Arguments of `certs self-signed`.
#[derive(clap::Args, Debug)]
pub struct SelfSignedArgs {
    /// A host name or IP address clients use to reach the server (repeat for more).
    #[arg(long = "host", value_name = "NAME", required = true)]
    pub hosts: Vec<String>,
    /// The directory to write cert.pem and key.pem into (created if needed; existing files are not overwritten).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// How many days the certificate is valid (1–3650).
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
}

pub async fn run(cmd: CertsCommand) -> Result<u8> {
    match cmd {
        CertsCommand::SelfSigned(args) => self_signed(&args),
    }
}

/// Checks that `host` is an IP address or a DNS name (`sync.example.test`, `*.example.test`).
fn check_host(host: &str) -> Result<()> {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if name.len() > 253 || !name.split('.').all(label_ok) {
        bail!(
            "--host {host:?} is neither a DNS name (letters, digits and '-' in dot-separated labels, e.g. sync.example.test) nor an IP address"
        );
    }
    Ok(())
}

/// The certificate's parameters: every host as a subject alternative name, the first as the
/// common name, valid from `today` for `days`.
fn params(hosts: &[String], today: NaiveDate, days: u32) -> Result<CertificateParams> {
    for host in hosts {
        check_host(host)?;
    }
    let mut params = CertificateParams::new(hosts.to_vec()).with_context(|| {
        format!(
            "cannot make a certificate for {}: each --host must be a DNS name (server.example.test) or an IP address",
            hosts.join(", ")
        )
    })?;
    if let Some(first) = hosts.first() {
        params
            .distinguished_name
            .push(DnType::CommonName, first.as_str());
    }
    let until = today
        .checked_add_days(Days::new(u64::from(days)))
        .context("--days reaches past the calendar")?;
    let ymd = |d: NaiveDate| date_time_ymd(d.year(), d.month() as u8, d.day() as u8);
    params.not_before = ymd(today);
    params.not_after = ymd(until);
    Ok(params)
}

/// Writes `text` to a new file (never over an existing one), mode 0600 when `private`.
fn write_new(path: &Path, text: &str, private: bool) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    let mut file = options.open(path).with_context(|| {
        format!(
            "cannot create {}: it must not exist yet (remove it, or choose another --out)",
            path.display()
        )
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The SHA-256 fingerprint of DER bytes, as colon-separated upper-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn self_signed(args: &SelfSignedArgs) -> Result<u8> {
    let (cert_path, key_path) = (args.out.join(CERT_FILE), args.out.join(KEY_FILE));
    for path in [&cert_path, &key_path] {
        if path.exists() {
            bail!(
                "{} already exists: remove it, or choose another --out; nothing was written",
                path.display()
            );
        }
    }
    let today = SystemClock.now().date_naive();
    let params = params(&args.hosts, today, args.days)?;
    let key = KeyPair::generate().context("cannot generate a key pair")?;
    let cert = params
        .self_signed(&key)
        .context("cannot sign the certificate")?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the directory {}", args.out.display()))?;
    // the key first: a certificate without its key is useless, a key alone is harmless
    write_new(&key_path, &key.serialize_pem(), true)?;
    write_new(&cert_path, &cert.pem(), false)?;
    let listen = if args
        .hosts
        .iter()
        .any(|h| h.parse::<std::net::IpAddr>().is_err())
    {
        "0.0.0.0:8443".to_owned()
    } else {
        format!("{}:8443", args.hosts[0])
    };
    println!("certificate: {}", cert_path.display());
    println!(
        "private key: {} (mode 0600; keep it secret)",
        key_path.display()
    );
    println!("hosts:       {}", args.hosts.join(", "));
    println!(
        "valid:       {today} to {} ({} days)",
        today + Days::new(u64::from(args.days)),
        args.days
    );
    println!("SHA-256 fingerprint: {}", fingerprint(cert.der()));
    println!(
        "serve it:    identitymesh serve --listen {listen} --tls-cert {} --tls-key {}",
        cert_path.display(),
        key_path.display()
    );
    println!(
        "clients must trust this self-signed certificate: compare the fingerprint above with what the browser shows, or give them {}",
        cert_path.display()
    );
    Ok(0)
}
