//! `run CONNECTOR PROFILE`: exit codes for scripts (0 completed, 1 failed, 2 held by a guard).

use crate::csv::{EMP_ID, TERMD, Table, edit_rows, terminate};
use crate::helpers::{DataDir, num};

#[test]
fn run_on_a_fresh_data_dir_tells_to_apply_a_configuration() {
    let dir = DataDir::new();
    let out = dir.run(&["run", "hr", "full-import"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("config apply"),
        "the message should say to run `config apply`:\n{}",
        out.stderr
    );
}

#[test]
fn run_on_a_migrated_database_without_configuration_tells_to_apply_one() {
    let dir = DataDir::new();
    dir.run(&["migrate"]).expect_code(0);
    let out = dir.run(&["run", "directory", "export"]);
    out.expect_code(1);
    assert!(out.stderr.contains("config apply"), "{}", out.stderr);
}

#[test]
fn run_of_an_unknown_connector_fails_naming_it() {
    let dir = DataDir::new();
    let example = dir.example_config();
    dir.run(&["config", "apply", &example.display().to_string()])
        .expect_code(0);
    let out = dir.run(&["run", "nosuch", "full-import"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("'nosuch'") && out.stderr.contains("no connector"),
        "{}",
        out.stderr
    );
}

#[test]
fn usage_errors_exit_1_not_2_which_means_held() {
    let dir = DataDir::new();
    let out = dir.run(&["run", "hr", "no-such-profile"]);
    out.expect_code(1);
    assert!(out.stderr.contains("no-such-profile"), "{}", out.stderr);
    dir.run(&["--help"]).expect_code(0);
}

#[test]
fn approve_held_only_goes_with_export() {
    let dir = DataDir::new();
    dir.quickstart(&[]);
    let out = dir.run(&["run", "hr", "full-sync", "--approve-held"]);
    out.expect_code(1);
    assert!(out.stderr.contains("export"), "{}", out.stderr);
}

/// After a quickstart, terminates all but `keep` of the active employees in hr.csv and stages
/// the change (full import + full sync). Returns the terminated ids.
fn terminate_most(dir: &DataDir, keep: usize) -> Vec<String> {
    let active = Table::read(&dir.file("hr.csv"))
        .rows
        .iter()
        .filter(|r| r[TERMD] == "0")
        .count();
    let mut leavers = Vec::new();
    edit_rows(&dir.file("hr.csv"), |row| {
        if row[TERMD] == "0" && leavers.len() < active - keep {
            leavers.push(row[EMP_ID].clone());
            terminate(row);
            return true;
        }
        false
    });
    dir.run(&["run", "hr", "full-import"]).expect_code(0);
    let sync = dir.run(&["run", "hr", "full-sync", "--json"]);
    sync.expect_code(0);
    assert_eq!(
        num(&sync.json()["stats"], "queued_deletes"),
        leavers.len() as u64,
        "{}",
        sync.stdout
    );
    leavers
}

#[test]
fn a_mass_termination_trips_the_guard_and_approve_held_applies_it() {
    let dir = DataDir::new();
    let before = dir.quickstart(&[]);
    let leavers = terminate_most(&dir, 10);
    let target_before = std::fs::read(dir.file("out/directory.csv")).unwrap();

    let held = dir.run(&["run", "directory", "export"]);
    held.expect_code(2);
    assert!(held.stdout.contains("held"), "{}", held.stdout);
    assert!(
        held.stdout.contains("--approve-held") && held.stdout.contains("--reject-held"),
        "the operator is told how to approve or reject:\n{}",
        held.stdout
    );
    assert_eq!(
        std::fs::read(dir.file("out/directory.csv")).unwrap(),
        target_before,
        "nothing was deleted while held"
    );

    let approved = dir.run(&["run", "directory", "export", "--approve-held", "--json"]);
    approved.expect_code(0);
    let report = approved.json();
    assert_eq!(report["status"], "completed", "{report}");
    assert_eq!(
        num(&report["stats"], "exported_deletes"),
        leavers.len() as u64,
        "{report}"
    );

    let target = Table::read(&dir.file("out/directory.csv"));
    assert_eq!(
        target.rows.len() as u64,
        num(&before, "target_rows") - leavers.len() as u64
    );
    let ids = target.column("employeeId");
    assert!(
        leavers.iter().all(|id| !ids.contains(id)),
        "every approved delete was applied"
    );

    let again = dir.run(&["run", "directory", "export", "--json"]);
    again.expect_code(0);
    assert_eq!(
        num(&again.json()["stats"], "exported_deletes"),
        0,
        "{}",
        again.stdout
    );
}

#[test]
fn reject_held_discards_the_held_deletes() {
    let dir = DataDir::new();
    let before = dir.quickstart(&[]);
    terminate_most(&dir, 10);
    dir.run(&["run", "directory", "export"]).expect_code(2);

    let rejected = dir.run(&["run", "directory", "export", "--reject-held", "--json"]);
    rejected.expect_code(0);
    let report = rejected.json();
    assert_eq!(num(&report["stats"], "exported_deletes"), 0, "{report}");
    assert_eq!(
        Table::read(&dir.file("out/directory.csv")).rows.len() as u64,
        num(&before, "target_rows"),
        "rejected deletes are not applied"
    );
}
