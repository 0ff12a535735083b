//! `quickstart` on the fictional data it generates: the main job, and the promise that a second
//! run changes nothing.

use crate::csv::{EMP_ID, TERMD, Table};
use crate::helpers::{DataDir, assert_no_changes, num};

#[test]
fn quickstart_projects_the_fictional_employees_and_provisions_the_active_ones() {
    let dir = DataDir::new();
    let summary = dir.quickstart(&[]);

    let hr = Table::read(&dir.file("hr.csv"));
    assert_eq!(
        hr.rows.len(),
        60,
        "the fictional HR export has 60 employees"
    );
    let active: Vec<&String> = hr
        .rows
        .iter()
        .filter(|r| r[TERMD] == "0")
        .map(|r| &r[EMP_ID])
        .collect();
    assert!(
        !active.is_empty() && active.len() < 60,
        "the fictional export mixes active and terminated employees"
    );

    assert_eq!(summary["status"], "completed", "{summary}");
    assert_eq!(num(&summary, "projected"), 60, "{summary}");
    assert_eq!(num(&summary, "mesh_persons"), 60, "{summary}");
    assert_eq!(
        num(&summary, "exported_adds"),
        active.len() as u64,
        "one account per active employee: {summary}"
    );
    assert_eq!(
        num(&summary, "target_rows"),
        active.len() as u64,
        "{summary}"
    );
    assert_eq!(num(&summary, "errors"), 0, "{summary}");
    assert_eq!(num(&summary, "held"), 0, "{summary}");

    let target = Table::read(&dir.file("out/directory.csv"));
    let mut exported = target.column("employeeId");
    exported.sort();
    let mut expected: Vec<String> = active.into_iter().cloned().collect();
    expected.sort();
    assert_eq!(
        exported, expected,
        "the directory file holds exactly the active employees"
    );
}

#[test]
fn a_second_quickstart_makes_no_changes_and_leaves_the_target_file_as_it_was() {
    let dir = DataDir::new();
    let first = dir.quickstart(&[]);
    let target_before = std::fs::read(dir.file("out/directory.csv")).unwrap();

    let second = dir.quickstart(&[]);
    assert_no_changes(&second);
    assert_eq!(num(&second, "mesh_persons"), 60, "{second}");
    assert_eq!(second["target_rows"], first["target_rows"], "{second}");
    assert_eq!(
        second["config_version"], first["config_version"],
        "the same configuration is not stored twice: {second}"
    );
    assert_eq!(
        std::fs::read(dir.file("out/directory.csv")).unwrap(),
        target_before,
        "a run without changes does not rewrite the target"
    );
}

#[test]
fn quickstart_for_people_prints_the_runs_and_a_summary() {
    let dir = DataDir::new();
    let out = dir.run(&["quickstart"]);
    out.expect_code(0);
    for expected in [
        "hr full-import: completed",
        "directory export: completed",
        "cycle 'default': completed",
        "mesh persons:        60",
        "errors:              0",
    ] {
        assert!(
            out.stdout.contains(expected),
            "quickstart output lacks {expected:?}:\n{}",
            out.stdout
        );
    }
    assert!(
        out.stdout
            .contains(&dir.file("out/directory.csv").display().to_string()),
        "the summary names the target file:\n{}",
        out.stdout
    );
}

#[test]
fn one_terminated_employee_flows_through_as_one_delete() {
    let dir = DataDir::new();
    dir.quickstart(&[]);
    let mut leaver = String::new();
    let changed = crate::csv::edit_rows(&dir.file("hr.csv"), |row| {
        if leaver.is_empty() && row[TERMD] == "0" {
            leaver = row[EMP_ID].clone();
            crate::csv::terminate(row);
            return true;
        }
        false
    });
    assert_eq!(changed, 1);

    let summary = dir.quickstart(&[]);
    assert_eq!(num(&summary, "exported_deletes"), 1, "{summary}");
    assert_eq!(num(&summary, "exported_adds"), 0, "{summary}");
    assert_eq!(num(&summary, "exported_updates"), 0, "{summary}");
    assert_eq!(num(&summary, "errors"), 0, "{summary}");
    let target = Table::read(&dir.file("out/directory.csv"));
    assert!(
        !target.column("employeeId").contains(&leaver),
        "{leaver} left the directory file"
    );
}
