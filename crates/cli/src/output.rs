//! Printing run and cycle reports for people, and exit codes for scripts.

use identitymesh_domain::run::{RunStats, RunStatus};
use identitymesh_engine::{CycleReport, RunReport};

/// Exit code of a run status: 0 completed, 1 failed, 2 held by a guard, 3 partial,
/// 4 completed with errors, 6 cancelled by an operator (5 is `run`'s busy).
pub fn exit_code(status: RunStatus) -> u8 {
    match status {
        RunStatus::Completed | RunStatus::Running => 0,
        RunStatus::Failed => 1,
        RunStatus::Held => 2,
        RunStatus::Partial => 3,
        RunStatus::CompletedWithErrors => 4,
        RunStatus::Cancelled => 6,
    }
}

fn stat_line(stats: &RunStats) -> String {
    let pairs = [
        ("read", stats.read),
        ("staged adds", stats.staged_adds),
        ("staged updates", stats.staged_updates),
        ("staged deletes", stats.staged_deletes),
        ("unchanged", stats.unchanged),
        ("rejected", stats.rejected),
        ("synced", stats.synced),
        ("projected", stats.projected),
        ("joined", stats.joined),
        ("ambiguous", stats.ambiguous),
        ("awaiting adoption", stats.awaiting_adoption),
        ("mesh updates", stats.mesh_updates),
        ("mesh deletes", stats.mesh_deletes),
        ("queued adds", stats.queued_adds),
        ("queued updates", stats.queued_updates),
        ("queued deletes", stats.queued_deletes),
        ("queued disables", stats.queued_disables),
        ("exported adds", stats.exported_adds),
        ("exported updates", stats.exported_updates),
        ("exported deletes", stats.exported_deletes),
        ("held", stats.held),
        ("errors", stats.errors),
    ];
    let shown: Vec<String> = pairs
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if shown.is_empty() {
        "no changes".into()
    } else {
        shown.join(", ")
    }
}

/// Prints one run for a person.
pub fn print_run(report: &RunReport) {
    let sim = if report.simulation {
        " (simulation)"
    } else {
        ""
    };
    println!(
        "run #{} {} {}{sim}: {} — {}",
        report.run_id,
        report.connector,
        report.profile,
        report.status.as_str(),
        stat_line(&report.stats)
    );
    if let Some(reason) = &report.reason {
        println!("    {reason}");
    }
    for e in &report.errors {
        println!("    ! {}: {}", e.object, e.message);
    }
    if report.stats.errors as usize > report.errors.len() {
        println!(
            "    … {} more errors are stored with the run",
            report.stats.errors as usize - report.errors.len()
        );
    }
}

/// Prints a cycle for a person.
pub fn print_cycle(report: &CycleReport) {
    for run in &report.runs {
        print_run(run);
    }
    println!("cycle '{}': {}", report.cycle, report.status.as_str());
}

/// Sums the counters of a cycle's runs.
pub fn totals(report: &CycleReport) -> RunStats {
    let mut t = RunStats::default();
    for r in &report.runs {
        let s = &r.stats;
        t.read += s.read;
        t.staged_adds += s.staged_adds;
        t.staged_updates += s.staged_updates;
        t.staged_deletes += s.staged_deletes;
        t.rejected += s.rejected;
        t.projected += s.projected;
        t.joined += s.joined;
        t.ambiguous += s.ambiguous;
        t.awaiting_adoption += s.awaiting_adoption;
        t.mesh_updates += s.mesh_updates;
        t.mesh_deletes += s.mesh_deletes;
        t.queued_adds += s.queued_adds;
        t.queued_updates += s.queued_updates;
        t.queued_deletes += s.queued_deletes;
        t.queued_disables += s.queued_disables;
        t.exported_adds += s.exported_adds;
        t.exported_updates += s.exported_updates;
        t.exported_deletes += s.exported_deletes;
        t.held += s.held;
        t.errors += s.errors;
    }
    t
}
