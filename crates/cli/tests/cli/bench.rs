//! `bench`: one JSON line per phase.

use crate::helpers::DataDir;
use serde_json::Value;

#[test]
fn bench_prints_one_json_line_per_phase() {
    let dir = DataDir::new();
    let out = dir.run(&["bench", "--persons", "2000"]);
    out.expect_code(0);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    for line in &lines {
        assert!(line["phase"].is_string(), "{line}");
        for key in ["objects", "peak_rss_bytes"] {
            assert!(line[key].is_u64(), "`{key}` is a count: {line}");
        }
        for key in ["seconds", "objects_per_sec"] {
            assert!(
                line[key].as_f64().is_some_and(|v| v >= 0.0),
                "`{key}` is a non-negative number: {line}"
            );
        }
        if cfg!(target_os = "linux") {
            assert!(line["peak_rss_bytes"].as_u64().unwrap() > 0, "{line}");
        }
    }
    let phase = |name: &str| {
        lines
            .iter()
            .find(|l| l["phase"] == name)
            .unwrap_or_else(|| panic!("no phase {name} in\n{}", out.stdout))
    };
    for name in ["baseline_bulk_insert", "full_import", "full_sync", "export"] {
        assert_eq!(
            phase(name)["objects"],
            2000,
            "every person goes through {name}"
        );
    }
    assert!(
        !dir.file("identitymesh.db").exists(),
        "the benchmark does not touch the data directory's database"
    );
}
