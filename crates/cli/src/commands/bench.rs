//! `identitymesh bench`: N synthetic persons through full import, full sync and export
//! (CSV → mesh → CSV), a one-row delta cycle, and a raw bulk insert of the same rows into the
//! same database as the baseline. One JSON line per phase, with the peak resident memory.

use anyhow::{Context, Result};
use identitymesh_connectors::KNOWN_KINDS;
use identitymesh_connectors::csv::{CsvFormat, write_atomically};
use identitymesh_domain::config::compile;
use identitymesh_domain::run::{RunProfile, RunStatus};
use identitymesh_engine::{Engine, RunOptions, SystemClock};
use identitymesh_store::{DatabaseUrl, Store};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::context::{Ctx, engine_holder};
use crate::sample::{HR_COLUMNS, hr_row};

/// Arguments of `bench`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// How many synthetic persons.
    #[arg(long, default_value_t = 100_000)]
    pub persons: u64,
}

/// The benchmark's configuration: the example's HR flows into a directory file, without the
/// accounts list.
const BENCH_CONFIG: &str = r#"
[mesh.person]
attributes = [
  { name = "employeeId", unique = true }, { name = "givenName" }, { name = "sn" }, { name = "displayName" },
  { name = "mail", email = true }, { name = "department" }, { name = "title" }, { name = "status" },
]
[connectors.hr]
type = "csv"
mesh_type = "person"
anchor = "EmpID"
columns = ["Employee_Name", "EmpID", "Position", "Department", "Termd"]
projection = {}
csv = { path = "hr.csv" }
join = [{ mesh_attribute = "employeeId", value = "trim(EmpID)" }]
[connectors.hr.flows_in]
employeeId = "trim(EmpID)"
sn = "collapse_spaces(split(Employee_Name, \",\")[0])"
givenName = "collapse_spaces(split(Employee_Name, \",\")[1])"
displayName = "collapse_spaces(split(Employee_Name, \",\")[1]) + \" \" + collapse_spaces(split(Employee_Name, \",\")[0])"
mail = "lower(ascii(word(split(Employee_Name, \",\")[1], 0))) + \".\" + lower(ascii(collapse_spaces(split(Employee_Name, \",\")[0]))) + \".\" + trim(EmpID) + \"@example.test\""
department = "collapse_spaces(Department)"
title = "collapse_spaces(Position)"
status = "if trim(Termd) == \"1\" then \"terminated\" else \"active\""
[connectors.directory]
type = "csv"
mesh_type = "person"
anchor = "employeeId"
columns = ["employeeId", "displayName", "mail", "department", "title"]
csv = { path = "directory.csv", missing_file = "empty" }
provisioning = { anchor = "employeeId", scope = "status == \"active\"" }
guards = { enabled = false }
[connectors.directory.flows_out]
employeeId = "employeeId"
displayName = "displayName"
mail = "mail"
department = "department"
title = "title"
"#;

/// Peak resident set size of this process so far (Linux; 0 elsewhere).
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// CPU time (user + system) of this process so far, in seconds (Linux; 0 elsewhere). Beside
/// the wall time it shows how much of a phase was waiting (disk, or other load on the machine).
fn cpu_seconds() -> f64 {
    // fields 14 and 15 of /proc/self/stat, after the parenthesised command name
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        });
    // the kernel reports USER_HZ ticks, 100 per second on every Linux platform
    ticks.map_or(0.0, |t| t as f64 / 100.0)
}

fn line(phase: &str, objects: u64, seconds: f64, cpu: f64) {
    let per_sec = if seconds > 0.0 {
        objects as f64 / seconds
    } else {
        0.0
    };
    println!(
        "{}",
        json!({ "phase": phase, "objects": objects, "seconds": (seconds * 1000.0).round() / 1000.0, "cpu_seconds": (cpu * 100.0).round() / 100.0, "objects_per_sec": per_sec.round(), "peak_rss_bytes": peak_rss_bytes() })
    );
}

fn write_hr(path: &Path, persons: u64, terminated_override: Option<u64>) -> Result<()> {
    let columns: Vec<String> = HR_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    let rows = (0..persons).map(|i| {
        let mut row = hr_row(i, persons);
        // the benchmark provisions everyone except the rows it terminates on purpose
        row[10] = if Some(i) == terminated_override {
            "1".into()
        } else {
            "0".into()
        };
        row
    });
    write_atomically(path, &CsvFormat::default(), &columns, rows)?;
    Ok(())
}

async fn timed(
    engine: &Engine,
    connector: &str,
    profile: RunProfile,
    phase: &str,
    objects: impl Fn(&identitymesh_engine::RunReport) -> u64,
) -> Result<(f64, f64)> {
    let (start, cpu) = (Instant::now(), cpu_seconds());
    let report = engine
        .run(
            connector,
            profile,
            &RunOptions {
                actor: "bench".into(),
                ..RunOptions::default()
            },
        )
        .await?;
    let seconds = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    if !matches!(report.status, RunStatus::Completed) {
        anyhow::bail!(
            "{phase} ended {}: {:?} {:?}",
            report.status.as_str(),
            report.reason,
            report.errors.first()
        );
    }
    line(phase, objects(&report), seconds, cpu);
    Ok((seconds, cpu))
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let url = match &ctx.url {
        DatabaseUrl::Sqlite(_) => DatabaseUrl::Sqlite(dir.path().join("bench.db")),
        other => other.clone(),
    };
    eprintln!(
        "bench: {} persons, database {}, files in {}",
        args.persons,
        url.redacted(),
        dir.path().display()
    );
    write_hr(&dir.path().join("hr.csv"), args.persons, None)?;
    let store = tokio::task::spawn_blocking(move || Store::open(&url, true)).await??;

    let n = args.persons;
    let s2 = store.clone();
    let (start, cpu) = (Instant::now(), cpu_seconds());
    let inserted = tokio::task::spawn_blocking(move || {
        s2.baseline_bulk_insert(
            &mut (0..n).map(|i| (hr_row(i, n)[1].clone(), hr_row(i, n)[0].clone())),
        )
    })
    .await??;
    line(
        "baseline_bulk_insert",
        inserted,
        start.elapsed().as_secs_f64(),
        cpu_seconds() - cpu,
    );

    let config = compile(BENCH_CONFIG, KNOWN_KINDS).map_err(|e| anyhow::anyhow!("{e}"))?;
    let engine = Engine::new(
        store,
        config,
        dir.path().to_path_buf(),
        Arc::new(SystemClock),
        engine_holder(),
    );
    let import = timed(&engine, "hr", RunProfile::FullImport, "full_import", |r| {
        r.stats.read
    })
    .await?;
    let sync = timed(&engine, "hr", RunProfile::FullSync, "full_sync", |r| {
        r.stats.synced
    })
    .await?;
    line(
        "full_import_plus_full_sync",
        n,
        import.0 + sync.0,
        import.1 + sync.1,
    );
    timed(
        &engine,
        "directory",
        RunProfile::FullImport,
        "target_import",
        |r| r.stats.read,
    )
    .await?;
    timed(&engine, "directory", RunProfile::Export, "export", |r| {
        r.stats.exported_adds
    })
    .await?;

    // one changed row: an active employee terminated
    write_hr(&dir.path().join("hr.csv"), n, Some(n / 2))?;
    let delta_import = timed(
        &engine,
        "hr",
        RunProfile::DeltaImport,
        "delta_import_file_compare",
        |r| r.stats.staged_updates,
    )
    .await?;
    let delta_sync = timed(
        &engine,
        "hr",
        RunProfile::DeltaSync,
        "delta_sync_one_change",
        |r| r.stats.synced,
    )
    .await?;
    let export = timed(
        &engine,
        "directory",
        RunProfile::Export,
        "delta_export_rewrite_file",
        |r| r.stats.exported_deletes,
    )
    .await?;
    line(
        "delta_cycle_total",
        1,
        delta_import.0 + delta_sync.0 + export.0,
        delta_import.1 + delta_sync.1 + export.1,
    );
    Ok(0)
}
