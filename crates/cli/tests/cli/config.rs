//! Configuration as code: `config example`, `check`, `apply`, `export`, `versions`.

use crate::helpers::{DataDir, identitymesh};

/// The 1-based number of the only line of `text` containing `marker`.
#[track_caller]
fn line_of(text: &str, marker: &str) -> usize {
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(marker))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{marker:?} should occur on exactly one line"
    );
    lines[0]
}

/// The stderr line naming `path`, which must also carry `line N` with N in `lines`.
#[track_caller]
fn assert_error(stderr: &str, path: &str, lines: std::ops::RangeInclusive<usize>, also: &str) {
    let line = stderr
        .lines()
        .find(|l| l.contains(path))
        .unwrap_or_else(|| panic!("no error names {path}:\n{stderr}"));
    assert!(
        line.contains(also),
        "the error for {path} should mention {also:?}: {line}"
    );
    let number = line
        .split("line ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<usize>().ok());
    let number =
        number.unwrap_or_else(|| panic!("the error for {path} carries no line number: {line}"));
    assert!(
        lines.contains(&number),
        "the error for {path} points at line {number}, expected {lines:?}: {line}"
    );
}

#[test]
fn the_example_configuration_checks_clean() {
    let dir = DataDir::new();
    let example = dir.example_config();
    let text = std::fs::read_to_string(&example).unwrap();
    assert!(
        text.starts_with("# IdentityMesh"),
        "the example is the commented file"
    );
    let out = identitymesh(&["config", "check", &example.display().to_string()]);
    out.expect_code(0);
    assert!(out.stdout.contains("OK"), "{}", out.stdout);
    assert!(
        out.stderr.is_empty(),
        "a clean check prints no errors: {}",
        out.stderr
    );
}

#[test]
fn a_broken_configuration_fails_check_naming_each_error_by_path_and_line() {
    let dir = DataDir::new();
    let example = std::fs::read_to_string(dir.example_config()).unwrap();
    let broken = example
        .replacen(
            "employeeId = \"trim(EmpID)\"\n",
            "employeeId = \"trim(EmpID)\"\nx = \"trim(EmpID)\"\n",
            1,
        )
        .replacen(
            "title = \"collapse_spaces(Position)\"",
            "title = \"collapse_spaces(Position\"",
            1,
        )
        .replacen(
            "\"directory:export\",",
            "\"directory:export\", \"nosuch:export\",",
            1,
        );
    assert_ne!(broken, example);
    let path = dir.file("broken.toml");
    std::fs::write(&path, &broken).unwrap();

    let out = identitymesh(&["config", "check", &path.display().to_string()]);
    out.expect_code(1);
    let x = line_of(&broken, "x = \"trim(EmpID)\"");
    assert_error(
        &out.stderr,
        "connectors.hr.flows_in.x",
        x..=x,
        "not an attribute",
    );
    let title = line_of(&broken, "collapse_spaces(Position\"");
    assert_error(
        &out.stderr,
        "connectors.hr.flows_in.title",
        title..=title,
        "expression",
    );
    // the cycle's error may point at the step or at the start of the list holding it
    let (start, step) = (
        line_of(&broken, "default = ["),
        line_of(&broken, "nosuch:export"),
    );
    assert_error(&out.stderr, "cycles.default", start..=step, "nosuch");
    assert!(
        out.stderr.contains("broken.toml"),
        "errors name the file: {}",
        out.stderr
    );
}

#[test]
fn a_broken_configuration_is_not_applied() {
    let dir = DataDir::new();
    let example = dir.example_config();
    identitymesh(&[
        "--data-dir",
        &dir.path().display().to_string(),
        "config",
        "apply",
        &example.display().to_string(),
    ])
    .expect_code(0);
    let broken = dir.file("broken.toml");
    std::fs::write(
        &broken,
        std::fs::read_to_string(&example).unwrap().replace(
            "projection = { delete_when_gone = true }",
            "projection = { delete_when_gone = true }\nbogus_key = 1",
        ),
    )
    .unwrap();
    let out = dir.run(&["config", "check", &broken.display().to_string()]);
    out.expect_code(1);
    assert!(out.stderr.contains("bogus_key"), "{}", out.stderr);
    dir.run(&["config", "apply", &broken.display().to_string()])
        .expect_code(1);
    let export = dir.run(&["config", "export"]);
    export.expect_code(0);
    assert_eq!(
        export.stdout,
        std::fs::read_to_string(&example).unwrap(),
        "the active configuration is still the example"
    );
}

#[test]
fn apply_then_export_round_trips_and_versions_lists_each_version() {
    let dir = DataDir::new();
    let first = dir.example_config();
    let first_text = std::fs::read_to_string(&first).unwrap();

    let applied = dir.run(&["config", "apply", &first.display().to_string()]);
    applied.expect_code(0);
    assert!(
        applied.stdout.contains("configuration version 1"),
        "{}",
        applied.stdout
    );
    let export = dir.run(&["config", "export"]);
    export.expect_code(0);
    assert_eq!(
        export.stdout, first_text,
        "the exported text is the applied file, byte for byte"
    );
    let exported = dir.file("exported.toml");
    dir.run(&[
        "config",
        "export",
        "--output",
        &exported.display().to_string(),
    ])
    .expect_code(0);
    assert_eq!(std::fs::read_to_string(&exported).unwrap(), first_text);

    let versions = dir.run(&["config", "versions"]);
    versions.expect_code(0);
    let listed: Vec<&str> = versions.stdout.lines().collect();
    assert_eq!(listed.len(), 1, "{}", versions.stdout);
    assert!(
        listed[0].trim_start().starts_with("1 "),
        "{}",
        versions.stdout
    );

    let second = dir.file("second.toml");
    let second_text = format!("{first_text}\n# a second version\n");
    std::fs::write(&second, &second_text).unwrap();
    let applied = dir.run(&["config", "apply", &second.display().to_string()]);
    applied.expect_code(0);
    assert!(
        applied.stdout.contains("configuration version 2"),
        "{}",
        applied.stdout
    );
    assert_eq!(
        dir.run(&["config", "export"]).expect_code(0).stdout,
        second_text
    );
    let versions = dir.run(&["config", "versions"]);
    let ids: Vec<&str> = versions
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(ids.len(), 2, "{}", versions.stdout);
    assert!(
        ids.contains(&"1") && ids.contains(&"2"),
        "{}",
        versions.stdout
    );
}

#[test]
fn export_before_any_apply_fails_clearly() {
    let dir = DataDir::new();
    dir.run(&["migrate"]).expect_code(0);
    let out = dir.run(&["config", "export"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("no configuration has been applied"),
        "{}",
        out.stderr
    );
}
