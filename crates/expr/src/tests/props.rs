//! Property tests: compiling and evaluating arbitrary input never panics; plus a timing check.

use std::time::Instant;

use proptest::prelude::*;

use super::scope;
use crate::{Limits, MapScope, Program, Value};

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        (-3i64..40).prop_map(|i| i.to_string()),
        "[a-zA-Z0-9 ,.@ßøŁë%$\\\\()*+?-]{0,12}".prop_map(|s| format!("{s:?}")),
        prop::sample::select(vec![
            "GivenName",
            "Groups",
            "Missing",
            "Empty",
            "Age",
            "Active",
            "Mail",
            "HireDate",
            "now()",
            "null",
            "true",
            "false",
            "clear()",
            "list()",
            "'%Y-%m-%d'",
            "'iso'",
            "'+01:00'",
            "9223372036854775807",
        ])
        .prop_map(str::to_string),
    ]
}

fn program() -> impl Strategy<Value = String> {
    let calls: Vec<(&'static str, usize, usize)> = crate::function_names()
        .filter_map(crate::funcs::lookup)
        .map(|spec| (spec.name, spec.min, spec.max.min(4)))
        .collect();
    leaf().prop_recursive(5, 48, 4, move |inner| {
        let ops = prop::sample::select(vec![
            "+", "-", "*", "/", "%", "==", "!=", "<", ">=", "and", "or",
        ]);
        prop_oneof![
            (inner.clone(), ops, inner.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (prop::sample::select(vec!["-", "not ", "!"]), inner.clone())
                .prop_map(|(op, a)| format!("{op}({a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, i)| format!("({a})[{i}]")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("if {c} then {a} else {b}")),
            (
                prop::sample::select(calls.clone()),
                prop::collection::vec(inner, 0..5)
            )
                .prop_map(|((f, min, max), mut args)| {
                    args.resize(args.len().clamp(min, max), "'x'".to_string());
                    format!("{f}({})", args.join(", "))
                }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn compile_never_panics(src in "\\PC{0,80}") {
        let _ = Program::compile(&src);
    }

    #[test]
    fn compile_never_panics_on_token_soup(src in "[a-z_`'\"(),\\[\\]+*/%<>=!&| 0-9\\\\-]{0,60}") {
        let _ = Program::compile(&src);
    }

    #[test]
    fn eval_never_panics(src in program()) {
        if let Ok(p) = Program::compile(&src) {
            let _ = p.eval(&scope());
            let _ = p.eval(&MapScope::new());
        }
    }

    #[test]
    fn eval_never_panics_under_tight_limits(src in program()) {
        let limits = Limits { max_operations: 50, max_string_len: 64, max_list_len: 4, ..Limits::default() };
        if let Ok(p) = Program::compile_with(&src, limits) {
            let _ = p.eval(&scope());
        }
    }
}

#[test]
fn most_generated_programs_compile() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = program();
    let compiled = (0..500)
        .filter(|_| {
            let src = strategy
                .new_tree(&mut runner)
                .map(|t| t.current())
                .unwrap_or_default();
            Program::compile(&src).is_ok()
        })
        .count();
    assert!(
        compiled > 250,
        "only {compiled} of 500 generated programs compile"
    );
}

/// Run with `cargo test --release -p identitymesh-expr -- --ignored --nocapture eval_speed`.
#[test]
#[ignore = "timing measurement"]
fn eval_speed() {
    let program =
        Program::compile(r#"trim(split(Employee_Name, ",")[1])"#).unwrap_or_else(|e| panic!("{e}"));
    let scope = MapScope::new().with("Employee_Name", "Doe, Jane M");
    let rounds = 1_000_000u32;
    let start = Instant::now();
    for _ in 0..rounds {
        let value = program.eval(&scope).unwrap_or(Value::Null);
        std::hint::black_box(value);
    }
    let per_eval = start.elapsed() / rounds;
    println!("eval of trim(split(Employee_Name, \",\")[1]): {per_eval:?} per evaluation");
    assert!(per_eval.as_nanos() < 2_000);
}
