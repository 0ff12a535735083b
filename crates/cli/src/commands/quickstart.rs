//! `identitymesh quickstart`: the main job on the embedded default. Creates a data directory
//! with the example configuration, a fictional HR export and an existing-accounts list (or
//! takes another HR export of the same layout), runs the full cycle into a target file and
//! prints what happened. Run it again and the cycle makes no changes.

use anyhow::{Context, Result};
use identitymesh_connectors::csv::{CsvFormat, write_atomically};
use identitymesh_domain::run::RunStats;
use identitymesh_engine::{CycleReport, RunOptions};
use serde_json::json;
use std::path::{Path, PathBuf};

use super::config::{EXAMPLE, apply_text};
use crate::context::{Ctx, cli_actor, read_config_file};
use crate::output::{exit_code, print_cycle, totals};
use crate::sample::{ACCOUNT_COLUMNS, HR_COLUMNS, account_rows, hr_row};

/// Fictional employees in the generated HR export.
const SAMPLE_PEOPLE: u64 = 60;

/// Arguments of `quickstart`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Use this HR export (HRDataset_v14 column layout) instead of the fictional one; it is copied into the data directory.
    #[arg(long)]
    pub hr_csv: Option<PathBuf>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn strings(columns: &[&str]) -> Vec<String> {
    columns.iter().map(|c| (*c).to_owned()).collect()
}

fn prepare(data_dir: &Path, hr_csv: Option<&Path>) -> Result<PathBuf> {
    std::fs::create_dir_all(data_dir.join("out"))
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let config = data_dir.join("identitymesh.toml");
    if !config.exists() {
        std::fs::write(&config, EXAMPLE)
            .with_context(|| format!("cannot write {}", config.display()))?;
    }
    let hr = data_dir.join("hr.csv");
    match hr_csv {
        Some(source) => {
            std::fs::copy(source, &hr).with_context(|| {
                format!(
                    "cannot copy the HR export {} into the data directory",
                    source.display()
                )
            })?;
        }
        None if !hr.exists() => {
            let format = CsvFormat {
                write_bom: true,
                ..CsvFormat::default()
            };
            write_atomically(
                &hr,
                &format,
                &strings(&HR_COLUMNS),
                (0..SAMPLE_PEOPLE).map(|i| hr_row(i, SAMPLE_PEOPLE)),
            )?;
        }
        None => {}
    }
    let accounts = data_dir.join("accounts.csv");
    if !accounts.exists() {
        write_atomically(
            &accounts,
            &CsvFormat::default(),
            &strings(&ACCOUNT_COLUMNS),
            account_rows(SAMPLE_PEOPLE).into_iter(),
        )?;
    }
    Ok(config)
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let config_path = prepare(&ctx.data_dir, args.hr_csv.as_deref())?;
    let text = read_config_file(&config_path)?;
    let version = apply_text(ctx, &text, &cli_actor()).await?;
    let store = ctx.store(true).await?;
    let engine = ctx.engine(&store).await?;
    let options = RunOptions {
        actor: cli_actor(),
        ..RunOptions::default()
    };
    let report = engine.run_cycle("default", &options).await?;
    let persons = store
        .run_blocking(|tx| tx.count_mesh(Some("person")))
        .await?;
    let target = ctx.data_dir.join("out/directory.csv");
    let target_rows = count_rows(&target);
    if args.json {
        println!(
            "{}",
            summary_json(ctx, version, &report, persons, target_rows)
        );
    } else {
        print_cycle(&report);
        print_summary(
            ctx,
            version,
            &totals(&report),
            persons,
            target_rows,
            &target,
        );
    }
    Ok(exit_code(report.status))
}

fn count_rows(path: &Path) -> u64 {
    let Ok(format) = identitymesh_connectors::csv::CsvReader::open(path, &CsvFormat::default())
    else {
        return 0;
    };
    let mut reader = format;
    let mut n = 0;
    while let Some(record) = reader.next_record() {
        n += u64::from(record.is_ok());
    }
    n
}

fn summary_json(
    ctx: &Ctx,
    version: i64,
    report: &CycleReport,
    persons: u64,
    target_rows: u64,
) -> serde_json::Value {
    let t = totals(report);
    json!({
        "data_dir": ctx.data_dir,
        "database": ctx.url.redacted(),
        "config_version": version,
        "status": report.status,
        "mesh_persons": persons,
        "target_rows": target_rows,
        "projected": t.projected,
        "joined": t.joined,
        "mesh_updates": t.mesh_updates,
        "mesh_deletes": t.mesh_deletes,
        "exported_adds": t.exported_adds,
        "exported_updates": t.exported_updates,
        "exported_deletes": t.exported_deletes,
        "rejected": t.rejected,
        "errors": t.errors,
        "held": t.held,
        "runs": report.runs,
    })
}

fn print_summary(
    ctx: &Ctx,
    version: i64,
    t: &RunStats,
    persons: u64,
    target_rows: u64,
    target: &Path,
) {
    println!();
    println!(
        "IdentityMesh quickstart — data in {} (database {}, configuration version {version})",
        ctx.data_dir.display(),
        ctx.url.redacted()
    );
    println!("  mesh persons:        {persons}");
    println!("  projected:           {}", t.projected);
    println!("  joined:              {}", t.joined);
    println!("  mesh updates:        {}", t.mesh_updates);
    println!(
        "  exported to target:  {} adds, {} updates, {} deletes",
        t.exported_adds, t.exported_updates, t.exported_deletes
    );
    println!("  rejected rows:       {}", t.rejected);
    println!("  errors:              {}", t.errors);
    println!("  held by guards:      {}", t.held);
    println!(
        "  target file:         {} ({target_rows} accounts)",
        target.display()
    );
    println!(
        "Run it again: the second cycle makes no changes. Edit {}/hr.csv and run it again to see one change flow through.",
        ctx.data_dir.display()
    );
}
