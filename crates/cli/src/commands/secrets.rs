//! `identitymesh secrets …`: connector secrets under the key-encryption key, and the key
//! ceremonies (export, import, rotate, shared-key mode). Values are read from standard input
//! or a prompt without echo, never from the command line, and are never printed.

use anyhow::{Context, Result, anyhow, bail};
use identitymesh_engine::{Clock, SystemClock};
use identitymesh_secrets::{KdfParams, Kek, KeyDir, SecretString, export_key, import_key};
use identitymesh_store::vault::Vault;
use identitymesh_store::{KeyMode, Store};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use crate::context::{Ctx, cli_actor};

/// The environment variable a script sets to give the key-file passphrase without a prompt.
pub const PASSPHRASE_ENV: &str = "IDENTITYMESH_KEY_PASSPHRASE";

/// Secrets subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum SecretsCommand {
    /// Set a secret; the value comes from standard input (or a prompt without echo), never the command line.
    Set {
        /// The secret's name (connectors refer to it).
        name: String,
        /// What it is for; part of what the ciphertext is bound to.
        #[arg(long, default_value = "connector")]
        purpose: String,
    },
    /// List secrets: names, creation, last use, key id. Never values.
    List,
    /// Delete a secret.
    Delete {
        /// The secret's name.
        name: String,
    },
    /// Prove that every secret (or one) and every key-ring key decrypts under the keys present; exit 1 otherwise.
    Check {
        /// Only this secret.
        name: Option<String>,
    },
    /// Write the database's key-encryption key (or --key-id) to a passphrase-protected file.
    ExportKey {
        /// The file to write (must not exist).
        file: PathBuf,
        /// Export this key id instead.
        #[arg(long)]
        key_id: Option<String>,
    },
    /// Add a key from a file made by export-key (or generate-key) to this host's keys.
    ImportKey {
        /// The file.
        file: PathBuf,
    },
    /// Rotate to a new key-encryption key, rewrapping every data key and key-ring key in one transaction.
    Rotate,
    /// Write a new random key to a passphrase-protected file, to be used as a shared key.
    GenerateKey {
        /// The file to write (must not exist).
        file: PathBuf,
    },
    /// Shared-key mode: import the key in FILE and rewrap everything under it.
    UseSharedKey {
        /// A file made by generate-key or export-key.
        file: PathBuf,
    },
    /// Host-key mode: rewrap everything under this host's own key.
    UseHostKey,
}

fn now() -> chrono::DateTime<chrono::Utc> {
    SystemClock.now()
}

/// The vault over this host's keys.
pub fn vault(ctx: &Ctx) -> Result<Vault> {
    Ok(Vault::new(KeyDir::new(&ctx.data_dir).load()?))
}

async fn store(ctx: &Ctx) -> Result<Store> {
    ctx.store(false).await
}

/// Reads a secret value: a prompt without echo on a terminal, otherwise standard input with
/// one trailing line break removed.
fn read_value(name: &str) -> Result<SecretString> {
    let value = if std::io::stdin().is_terminal() {
        SecretString::new(rpassword::prompt_password(format!(
            "value of secret '{name}': "
        ))?)
    } else {
        let mut raw = String::new();
        std::io::stdin()
            .read_to_string(&mut raw)
            .context("cannot read the value from standard input")?;
        let trimmed = raw
            .strip_suffix('\n')
            .map(|s| s.strip_suffix('\r').unwrap_or(s))
            .unwrap_or(&raw)
            .to_owned();
        let value = SecretString::new(trimmed);
        drop(SecretString::new(raw));
        value
    };
    if value.is_empty() {
        bail!(
            "the value of secret '{name}' is empty: pipe it on standard input (printf '%s' \"$VALUE\" | identitymesh secrets set {name})"
        );
    }
    Ok(value)
}

/// The key-file passphrase: IDENTITYMESH_KEY_PASSPHRASE, or a prompt without echo (twice when `confirm`).
fn passphrase(confirm: bool) -> Result<SecretString> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        return Ok(SecretString::new(p));
    }
    if !std::io::stdin().is_terminal() {
        bail!("a key-file passphrase is needed: run on a terminal, or set {PASSPHRASE_ENV}");
    }
    let first = SecretString::new(rpassword::prompt_password("key-file passphrase: ")?);
    if confirm && SecretString::new(rpassword::prompt_password("repeat the passphrase: ")?) != first
    {
        bail!("the passphrases differ; nothing was written");
    }
    Ok(first)
}

fn write_new_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn read_key_file(file: &Path) -> Result<Kek> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the key file {}", file.display()))?;
    Ok(import_key(&text, &passphrase(false)?, file)?)
}

pub async fn run(ctx: &Ctx, cmd: SecretsCommand) -> Result<u8> {
    let actor = cli_actor();
    match cmd {
        SecretsCommand::Set { name, purpose } => {
            let value = read_value(&name)?;
            let (vault, store) = (vault(ctx)?, ctx.store(true).await?);
            let n = name.clone();
            let version = store
                .run_blocking(move |tx| vault.set(tx, &n, &purpose, &value, &actor, now()))
                .await?;
            println!("secret '{name}' set (version {version})");
            Ok(0)
        }
        SecretsCommand::List => {
            let infos = store(ctx)
                .await?
                .run_blocking(|tx| tx.secret_infos())
                .await?;
            if infos.is_empty() {
                println!("no secrets stored; add one with `identitymesh secrets set NAME`");
            }
            for s in infos {
                let used = s
                    .last_used_at
                    .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339());
                println!(
                    "{}  purpose={}  version={}  created={}  last-used={}  key={}",
                    s.name,
                    s.purpose,
                    s.version,
                    s.created_at.to_rfc3339(),
                    used,
                    s.kek_id
                );
            }
            Ok(0)
        }
        SecretsCommand::Delete { name } => {
            let (vault, store) = (vault(ctx)?, store(ctx).await?);
            let n = name.clone();
            if store
                .run_blocking(move |tx| vault.delete(tx, &n, &actor, now()))
                .await?
            {
                println!("secret '{name}' deleted");
                Ok(0)
            } else {
                eprintln!("error: no secret named '{name}'");
                Ok(1)
            }
        }
        SecretsCommand::Check { name } => check(ctx, name).await,
        SecretsCommand::ExportKey { file, key_id } => {
            let keys = KeyDir::new(&ctx.data_dir).load()?;
            let id = match key_id {
                Some(id) => id,
                None => store(ctx)
                    .await?
                    .run_blocking(|tx| tx.key_settings())
                    .await?
                    .map_or_else(|| keys.host_id().to_string(), |s| s.kek_id),
            };
            let kek = keys.require(&id, "the key to export")?;
            let text = export_key(kek, &passphrase(true)?, KdfParams::STRONG)?;
            write_new_private(&file, &text)?;
            println!(
                "key {id} exported to {}: copy it to the other host and run `identitymesh secrets import-key FILE` there",
                file.display()
            );
            Ok(0)
        }
        SecretsCommand::ImportKey { file } => {
            let kek = read_key_file(&file)?;
            let path = KeyDir::new(&ctx.data_dir).add(&kek)?;
            println!(
                "key {} imported to {}; run `identitymesh secrets check` to prove every secret opens",
                kek.id(),
                path.display()
            );
            Ok(0)
        }
        SecretsCommand::GenerateKey { file } => {
            let kek = Kek::generate()?;
            write_new_private(
                &file,
                &export_key(&kek, &passphrase(true)?, KdfParams::STRONG)?,
            )?;
            println!(
                "new key {} written to {}; on every host run `identitymesh secrets use-shared-key {}`",
                kek.id(),
                file.display(),
                file.display()
            );
            Ok(0)
        }
        SecretsCommand::Rotate => rotate(ctx, &actor).await,
        SecretsCommand::UseSharedKey { file } => {
            let kek = read_key_file(&file)?;
            let keydir = KeyDir::new(&ctx.data_dir);
            keydir.add(&kek)?;
            rewrap(ctx, kek.id().as_str(), KeyMode::Shared, &actor).await
        }
        SecretsCommand::UseHostKey => {
            let host = KeyDir::new(&ctx.data_dir).host_key()?;
            rewrap(ctx, host.id().as_str(), KeyMode::Host, &actor).await
        }
    }
}

async fn check(ctx: &Ctx, name: Option<String>) -> Result<u8> {
    let (vault, store) = (vault(ctx)?, store(ctx).await?);
    let held = vault.keys().describe();
    let wanted = name.clone();
    let outcomes = store
        .run_blocking(move |tx| vault.check(tx, wanted.as_deref()))
        .await?;
    if let (Some(n), true) = (&name, outcomes.is_empty()) {
        eprintln!("error: no secret named '{n}'");
        return Ok(1);
    }
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    for o in &outcomes {
        match &o.result {
            Ok(()) => println!("ok    {} (key {})", o.record, o.kek_id),
            Err(e) => println!("FAIL  {e}"),
        }
    }
    println!(
        "{} checked, {failed} failed; keys on this host: {held}",
        outcomes.len()
    );
    Ok(u8::from(failed > 0))
}

async fn rewrap(ctx: &Ctx, to: &str, mode: KeyMode, actor: &str) -> Result<u8> {
    let (vault, store) = (vault(ctx)?, ctx.store(true).await?);
    let (to_owned, actor) = (to.to_owned(), actor.to_owned());
    let count = store
        .run_blocking(move |tx| vault.rewrap_all(tx, &to_owned, mode, &actor, now()))
        .await?;
    println!(
        "{count} keys rewrapped under key {to} ({} mode); earlier keys stay in {} until you delete them",
        mode.as_str(),
        ctx.data_dir.join("keys").display()
    );
    Ok(0)
}

async fn rotate(ctx: &Ctx, actor: &str) -> Result<u8> {
    let keydir = KeyDir::new(&ctx.data_dir);
    let store = ctx.store(true).await?;
    let mode = store
        .run_blocking(|tx| tx.key_settings())
        .await?
        .map_or(KeyMode::Host, |s| s.mode);
    let new = Kek::generate()?;
    // the new key is on disk before any record depends on it
    keydir.add(&new)?;
    let vault = Vault::new(keydir.load()?);
    let (to, a) = (new.id().to_string(), actor.to_owned());
    let count = store
        .run_blocking(move |tx| vault.rewrap_all(tx, &to, mode, &a, now()))
        .await
        .map_err(|e| anyhow!("rotation failed, nothing was changed: {e}"))?;
    if mode == KeyMode::Host {
        keydir.replace_host_key(&new)?;
    }
    println!(
        "rotated to key {}: {count} keys rewrapped in one transaction; the previous key stays in {} until you delete it",
        new.id(),
        ctx.data_dir.join("keys").display()
    );
    if mode == KeyMode::Shared {
        println!(
            "shared-key mode: every other host needs the new key: `identitymesh secrets export-key FILE` here, `identitymesh secrets import-key FILE` there"
        );
    }
    Ok(0)
}
