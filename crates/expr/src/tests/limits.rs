//! Operation, size and depth limits.

use super::{run_err, scope};
use crate::{EvalErrorKind, Limits, MapScope, Program, Value};

fn with_limits(src: &str, limits: Limits) -> Result<Value, crate::EvalError> {
    Program::compile_with(src, limits).unwrap().eval(&scope())
}

#[test]
fn defaults() {
    let l = Limits::default();
    assert_eq!(
        (
            l.max_operations,
            l.max_string_len,
            l.max_list_len,
            l.max_source_len,
            l.max_depth
        ),
        (100_000, 1 << 20, 100_000, 64 * 1024, 64)
    );
}

#[test]
fn operation_limit() {
    let limits = Limits {
        max_operations: 10,
        ..Limits::default()
    };
    let e = with_limits("1+1+1+1+1+1+1+1+1+1+1+1", limits).unwrap_err();
    assert_eq!(e.kind(), &EvalErrorKind::OperationLimit { limit: 10 });
    assert!(
        e.to_string()
            .starts_with("operation limit of 10 exceeded in rule `1+1+1"),
        "{e}"
    );
    assert!(with_limits("1+1+1", limits).is_ok());
}

#[test]
fn operations_are_charged_for_size() {
    let big = "x".repeat(500_000);
    let scope = MapScope::new().with("Big", big.as_str());
    let limits = Limits {
        max_operations: 20_000,
        ..Limits::default()
    };
    let p = Program::compile_with("upper(upper(upper(Big)))", limits).unwrap();
    let e = p.eval(&scope).unwrap_err();
    assert!(
        matches!(e.kind(), EvalErrorKind::OperationLimit { .. }),
        "{e}"
    );
}

#[test]
fn string_limit_is_checked_before_allocating() {
    let e = run_err(r#"pad_left("x", 2000000000, "y")"#);
    assert_eq!(
        e.kind(),
        &EvalErrorKind::StringLimit {
            op: "pad_left",
            limit: 1 << 20
        }
    );
    assert!(
        e.to_string()
            .contains("pad_left: result exceeds the string length limit")
    );
    let limits = Limits {
        max_string_len: 10,
        ..Limits::default()
    };
    assert!(with_limits("'abcdef' + 'ghijk'", limits).is_err());
    assert!(with_limits("'abcde' + 'fghij'", limits).is_ok());
    assert!(with_limits("replace('aaaa', 'a', 'bbb')", limits).is_err());
    assert!(with_limits("regex_replace('aaaa', 'a', '$0$0$0')", limits).is_err());
    assert!(with_limits("join(list('aaaa', 'bbbb', 'cc'), ',')", limits).is_err());
    assert!(with_limits("upper('ßßßßßß')", limits).is_err());
    assert!(with_limits("date_format(now(), '%Y')", limits).is_err());
}

#[test]
fn doubling_cannot_exhaust_memory() {
    // Each step doubles the string; the string limit stops it long before memory runs out.
    let mut src = String::from("'0123456789abcdef'");
    for _ in 0..25 {
        src = format!("replace({src}, 'f', 'ff')");
    }
    let p = Program::compile(&src).unwrap();
    let e = p.eval(&scope()).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            EvalErrorKind::StringLimit { .. } | EvalErrorKind::OperationLimit { .. }
        ),
        "{e}"
    );
}

#[test]
fn list_limit() {
    let limits = Limits {
        max_list_len: 3,
        ..Limits::default()
    };
    let e = with_limits("split('a,b,c,d', ',')", limits).unwrap_err();
    assert_eq!(
        e.kind(),
        &EvalErrorKind::ListLimit {
            op: "split",
            limit: 3
        }
    );
    assert!(with_limits("split('a,b,c', ',')", limits).is_ok());
    assert!(with_limits("list(1, 2, 3, 4)", limits).is_err());
    assert!(with_limits("flatten(list(list(1, 2), list(3, 4)))", limits).is_err());
    assert!(with_limits("split('abcd', '')", limits).is_err());
}

#[test]
fn source_limit() {
    let limits = Limits {
        max_source_len: 8,
        ..Limits::default()
    };
    let e = Program::compile_with("'123456789'", limits).unwrap_err();
    assert_eq!((e.line, e.column), (1, 1));
    assert!(e.message.contains("longer than the limit of 8 bytes"));
}

#[test]
fn depth_limit_on_parentheses_calls_and_unary() {
    let deep_parens = format!("{}1{}", "(".repeat(30_000), ")".repeat(30_000));
    let e = Program::compile(&deep_parens).unwrap_err();
    assert!(e.message.contains("nested too deeply (limit 64)"), "{e}");
    let deep_calls = format!("{}x{}", "trim(".repeat(1000), ")".repeat(1000));
    assert!(
        Program::compile(&deep_calls)
            .unwrap_err()
            .message
            .contains("too deeply")
    );
    assert!(
        Program::compile(&"-".repeat(10_000))
            .unwrap_err()
            .message
            .contains("too deeply")
    );
    assert!(
        Program::compile(&format!("x{}", "[0]".repeat(100)))
            .unwrap_err()
            .message
            .contains("too deeply")
    );
    let ok = format!("{}1{}", "(".repeat(60), ")".repeat(60));
    assert!(Program::compile(&ok).is_ok());
}

#[test]
fn long_flat_chains_are_not_deep() {
    let long = vec!["'a'"; 2000].join(" + ");
    let p = Program::compile(&long).unwrap();
    assert_eq!(p.eval(&scope()).unwrap(), Value::Str("a".repeat(2000)));
    let ors = vec!["false"; 1000].join(" or ");
    assert_eq!(
        Program::compile(&ors).unwrap().eval(&scope()).unwrap(),
        Value::Bool(false)
    );
}

#[test]
fn non_literal_regex_is_compiled_at_eval_with_limits() {
    let scope = MapScope::new()
        .with("P", "(unclosed")
        .with("Big", "a{1000}{1000}{1000}");
    let p = Program::compile("regex_match('x', P)").unwrap();
    let e = p.eval(&scope).unwrap_err();
    assert_eq!(
        e.to_string(),
        "regex_match: invalid regular expression in rule `regex_match('x', P)` at line 1, column 1"
    );
    let p = Program::compile("regex_match('x', Big)").unwrap();
    assert!(p.eval(&scope).is_err());
}
