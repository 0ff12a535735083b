//! `quickstart --hr-csv` on the public HRDataset_v14 sample (311 fictional employees, 104 of
//! them terminated, with a byte-order mark, padded values and "Last, First M" names).

use crate::csv::{EMP_ID, TERMD, Table, edit_rows, terminate};
use crate::helpers::{DataDir, assert_no_changes, num};
use std::path::PathBuf;

/// `../shared/data/hr/HRDataset_v14.csv` beside the repository, if it is there.
fn real_hr_export() -> Option<PathBuf> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/hr/HRDataset_v14.csv");
    if path.is_file() {
        Some(path)
    } else {
        println!(
            "skipped: the public HR sample is not at {} (CI provides it beside the repository)",
            path.display()
        );
        None
    }
}

/// What the example configuration makes of "Last, First M": spaces trimmed and collapsed.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn split_name(name: &str) -> (String, String) {
    let (last, first) = name.split_once(',').expect("names are \"Last, First\"");
    (collapse(first), collapse(last))
}

#[test]
fn the_public_hr_sample_provisions_its_207_active_employees_with_clean_names() {
    let Some(source) = real_hr_export() else {
        return;
    };
    let hr = Table::read(&source);
    assert_eq!(hr.rows.len(), 311);
    let (emp_id, termd, name, dept) = (
        hr.col("EmpID"),
        hr.col("Termd"),
        hr.col("Employee_Name"),
        hr.col("Department"),
    );
    assert_eq!(
        (emp_id, termd),
        (EMP_ID, TERMD),
        "the HRDataset_v14 column layout"
    );
    let terminated: Vec<&String> = hr
        .rows
        .iter()
        .filter(|r| r[termd].trim() == "1")
        .map(|r| &r[emp_id])
        .collect();
    assert_eq!(terminated.len(), 104);

    let dir = DataDir::new();
    let summary = dir.quickstart(&["--hr-csv", &source.display().to_string()]);
    assert_eq!(num(&summary, "mesh_persons"), 311, "{summary}");
    assert_eq!(num(&summary, "projected"), 311, "{summary}");
    assert_eq!(num(&summary, "exported_adds"), 207, "{summary}");
    assert_eq!(num(&summary, "errors"), 0, "{summary}");
    assert_eq!(num(&summary, "rejected"), 0, "{summary}");

    let target = Table::read(&dir.file("out/directory.csv"));
    assert_eq!(target.rows.len(), 207);
    let ids = target.column("employeeId");
    for id in &terminated {
        assert!(
            !ids.contains(id),
            "terminated employee {id} was provisioned"
        );
    }

    // the example from the issue, spelled out
    let wilson = target.row_where("employeeId", "10026");
    assert_eq!(wilson[target.col("sn")], "Adinolfi");
    assert_eq!(wilson[target.col("givenName")], "Wilson K");
    assert_eq!(wilson[target.col("displayName")], "Wilson K Adinolfi");
    assert_eq!(wilson[target.col("department")], "Production");

    // and every other provisioned row the same way, against the source row
    let (given, sn, display, department) = (
        target.col("givenName"),
        target.col("sn"),
        target.col("displayName"),
        target.col("department"),
    );
    for row in &target.rows {
        let source_row = hr.row_where("EmpID", &row[0]);
        let (first, last) = split_name(&source_row[name]);
        let id = &row[0];
        assert_eq!(row[given], first, "givenName of {id}");
        assert_eq!(row[sn], last, "sn of {id}");
        assert_eq!(
            row[display],
            format!("{first} {last}"),
            "displayName of {id}"
        );
        assert_eq!(
            row[department],
            collapse(&source_row[dept]),
            "department of {id}"
        );
        for value in row {
            assert_eq!(
                value,
                value.trim(),
                "a padded value in the row of {id}: {row:?}"
            );
        }
    }
    assert!(
        hr.rows.iter().any(|r| r[dept] != r[dept].trim()),
        "the sample has padded departments, so the trim above is tested"
    );

    let second = dir.quickstart(&["--hr-csv", &source.display().to_string()]);
    assert_no_changes(&second);
    assert_eq!(num(&second, "mesh_persons"), 311, "{second}");
}

#[test]
fn one_employee_terminated_in_a_copy_of_the_public_sample_is_one_delete() {
    let Some(source) = real_hr_export() else {
        return;
    };
    let dir = DataDir::new();
    let hr_arg = source.display().to_string();
    dir.quickstart(&["--hr-csv", &hr_arg]);

    let scratch = tempfile::tempdir().unwrap();
    let copy = scratch.path().join("HRDataset_v14.csv");
    std::fs::copy(&source, &copy).unwrap();
    let leaver = "10026";
    let changed = edit_rows(&copy, |row| {
        if row[EMP_ID] == leaver {
            assert_eq!(row[TERMD], "0", "{leaver} is active in the sample");
            terminate(row);
            return true;
        }
        false
    });
    assert_eq!(changed, 1);
    let before = Table::read(&source);
    let after = Table::read(&copy);
    let differing = before
        .rows
        .iter()
        .zip(&after.rows)
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(
        differing, 1,
        "the copy differs from the sample in one row only"
    );

    let summary = dir.quickstart(&["--hr-csv", &copy.display().to_string()]);
    assert_eq!(num(&summary, "exported_deletes"), 1, "{summary}");
    assert_eq!(num(&summary, "exported_adds"), 0, "{summary}");
    assert_eq!(num(&summary, "exported_updates"), 0, "{summary}");
    assert_eq!(num(&summary, "errors"), 0, "{summary}");
    assert_eq!(
        num(&summary, "held"),
        0,
        "one delete of 207 is under the guard's 10%: {summary}"
    );
    let target = Table::read(&dir.file("out/directory.csv"));
    assert_eq!(target.rows.len(), 206);
    assert!(
        !target.column("employeeId").iter().any(|id| id == leaver),
        "{leaver} left the directory file"
    );
}

/// Found while writing these tests (SQLite reused the ids of deleted mesh objects, so orphaned
/// target rows were re-linked to new people). Replacing every person of a data directory is a
/// mass deletion: the guard holds it; approving it leaves exactly the new people, once each.
#[test]
fn switching_a_data_dir_from_the_fictional_export_to_the_public_sample_is_held_then_replaces_its_people()
 {
    let Some(source) = real_hr_export() else {
        return;
    };
    let dir = DataDir::new();
    let fictional = dir.quickstart(&[]);
    let hr = source.display().to_string();
    let summary = dir
        .run(&["quickstart", "--json", "--hr-csv", &hr])
        .expect_code(2)
        .json();
    assert_eq!(summary["status"], "held", "{summary}");
    assert_eq!(
        num(&summary, "exported_adds"),
        0,
        "nothing is written while the guard holds: {summary}"
    );
    let approved = dir.run(&["run", "directory", "export", "--approve-held"]);
    assert_eq!(approved.code, 0, "{}\n{}", approved.stdout, approved.stderr);
    let mut ids = Table::read(&dir.file("out/directory.csv")).column("employeeId");
    let rows = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(
        (rows, ids.len()),
        (207, 207),
        "one row per active employee, no duplicate anchors"
    );
    assert!(num(&fictional, "target_rows") > 0);
    assert!(
        ids.iter().all(|id| !id.starts_with("200")),
        "no fictional employee is left"
    );
    let again = dir.quickstart(&["--hr-csv", &source.display().to_string()]);
    assert_eq!(again["status"], "completed", "{again}");
    assert_eq!(
        num(&again, "exported_adds")
            + num(&again, "exported_updates")
            + num(&again, "exported_deletes"),
        0,
        "{again}"
    );
}
