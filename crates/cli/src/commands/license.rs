//! `identitymesh license show|install FILE|verify [FILE]`, and the limit checks other
//! commands call. No license is the community edition; an expired license warns and never
//! stops synchronisation; a tampered one or one from an unknown issuer is refused.

use anyhow::{Context, Result};
use identitymesh_domain::audit::NewAudit;
use identitymesh_engine::{Clock, SystemClock};
use identitymesh_secrets::license::files::{
    ISSUERS_ENV, LICENSE_FILE, installed_license, read_license, trusted_issuers,
};
use identitymesh_secrets::license::issuers::TrustedIssuers;
use identitymesh_secrets::{License, Limit};
use std::path::PathBuf;

use crate::context::{Ctx, cli_actor};

/// License subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum LicenseCommand {
    /// Show the installed license (or the community edition) and its status.
    Show,
    /// Verify a license file and install it as DATA_DIR/license.key.
    Install {
        /// The license file.
        file: PathBuf,
    },
    /// Verify a license file (default: the installed one); exit 1 when it is not valid.
    Verify {
        /// The file.
        file: Option<PathBuf>,
    },
}

fn issuers(ctx: &Ctx) -> Result<TrustedIssuers> {
    Ok(trusted_issuers(
        &ctx.data_dir,
        std::env::var(ISSUERS_ENV).ok().as_deref(),
    )?)
}

/// The license in force on this host.
pub fn current(ctx: &Ctx) -> Result<License> {
    Ok(installed_license(&ctx.data_dir, &issuers(ctx)?)?)
}

fn today() -> chrono::NaiveDate {
    SystemClock.now().date_naive()
}

fn print(license: &License) {
    println!("edition:  {}", license.edition());
    println!("licensee: {}", license.licensee());
    println!("status:   {}", license.status(today()));
    if let Some(d) = license.document() {
        println!(
            "id:       {}  issued {}  expires {}  grace {} days",
            d.id, d.issued, d.expires, d.grace_days
        );
        println!(
            "features: {}",
            if d.features.is_empty() {
                "-".to_owned()
            } else {
                d.features.join(", ")
            }
        );
    }
    let l = license.limits();
    let show = |v: Option<u64>| v.map_or_else(|| "unlimited".to_owned(), |n| n.to_string());
    println!(
        "limits:   mesh_objects {}, connectors {}, relay_agents {}",
        show(l.mesh_objects),
        show(l.connectors),
        show(l.relay_agents)
    );
    if let Some(w) = license.warning(today()) {
        eprintln!("warning: {w}");
    }
}

/// Refuses a configuration with more connectors than licensed (naming the limit) and warns
/// about an expired license. Called by `config apply`.
pub fn check_connectors(ctx: &Ctx, connectors: usize) -> Result<()> {
    let license = current(ctx)?;
    if let Some(w) = license.warning(today()) {
        tracing::warn!("{w}");
    }
    Ok(license.check_limit(Limit::Connectors, connectors as u64)?)
}

pub async fn run(ctx: &Ctx, cmd: LicenseCommand) -> Result<u8> {
    match cmd {
        LicenseCommand::Show => {
            print(&current(ctx)?);
            Ok(0)
        }
        LicenseCommand::Verify { file } => {
            let result = match &file {
                Some(path) => read_license(path, &issuers(ctx)?).map_err(anyhow::Error::from),
                None => current(ctx),
            };
            match result {
                Ok(license) => {
                    print(&license);
                    println!("license OK");
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(1)
                }
            }
        }
        LicenseCommand::Install { file } => {
            let license = read_license(&file, &issuers(ctx)?)?;
            std::fs::create_dir_all(&ctx.data_dir)?;
            let target = ctx.data_dir.join(LICENSE_FILE);
            let tmp = ctx.data_dir.join(format!("{LICENSE_FILE}.new"));
            std::fs::copy(&file, &tmp)
                .and_then(|_| std::fs::rename(&tmp, &target))
                .with_context(|| format!("cannot install {}", target.display()))?;
            if let Some(d) = license.document().cloned() {
                let store = ctx.store(true).await?;
                let (actor, now) = (cli_actor(), SystemClock.now());
                store
                    .run_blocking(move |tx| {
                        let after = serde_json::json!({ "licensee": d.licensee, "edition": d.edition, "expires": d.expires.to_string() });
                        let record = NewAudit { actor, action: "license.install".into(), target: format!("license:{}", d.id), before: None, after: Some(after), run_id: None };
                        tx.append_audit(&record, now).map(drop)
                    })
                    .await?;
            }
            println!("installed {} as {}", file.display(), target.display());
            print(&license);
            Ok(0)
        }
    }
}
