//! List, null/empty/clear and conversion functions.

use super::{list, run, run_err, s};
use crate::{EvalErrorKind, Value};

#[test]
fn list_construction() {
    assert_eq!(run("list()"), Value::List(vec![]));
    assert_eq!(run("list('a', null, 'b')"), list(&["a", "b"]));
    assert_eq!(
        run("list(1, 'a')"),
        Value::List(vec![Value::Int(1), s("a")])
    );
}

#[test]
fn first_last_count_item() {
    assert_eq!(run("first(Groups)"), s("Staff"));
    assert_eq!(run("last(Groups)"), s("Staff"));
    assert_eq!(run("first(GivenName)"), s("Zoë"));
    assert_eq!(run("last(list())"), Value::Null);
    assert_eq!(run("count(Groups)"), Value::Int(3));
    assert_eq!(run("count(GivenName)"), Value::Int(1));
    assert_eq!(run("count(Missing)"), Value::Int(0));
    assert_eq!(run("count(list())"), Value::Int(0));
    assert_eq!(run("item(Groups, 1)"), s("Admins"));
    assert_eq!(run("item(Groups, -1)"), s("Staff"));
    assert_eq!(run("item(Groups, 5)"), Value::Null);
    assert_eq!(run("item(GivenName, 0)"), s("Zoë"));
    assert_eq!(run("item(GivenName, 1)"), Value::Null);
    assert_eq!(run("first(Missing)"), Value::Null);
}

#[test]
fn distinct_sort_flatten() {
    assert_eq!(run("distinct(Groups)"), list(&["Staff", "Admins"]));
    assert_eq!(
        run("distinct(list(1, '1', 1))"),
        Value::List(vec![Value::Int(1), s("1")])
    );
    assert_eq!(run("sort(Groups)"), list(&["Admins", "Staff", "Staff"]));
    assert_eq!(
        run("sort(list(3, 1, 2))"),
        Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(3)])
    );
    assert_eq!(run("sort('x')"), s("x"));
    let e = run_err("sort(list(1, 'a'))");
    assert_eq!(
        e.kind(),
        &EvalErrorKind::Ordering {
            op: "sort",
            left: "Int",
            right: "Str"
        }
    );
    assert_eq!(
        run("flatten(list(list('a', 'b'), 'c', list(list('d'))))"),
        list(&["a", "b", "c", "d"])
    );
    assert_eq!(run("flatten(split('a,b', ','))"), list(&["a", "b"]));
    assert_eq!(run("flatten(Missing)"), Value::Null);
    assert_eq!(
        run("flatten(split(list('a,b', 'c'), ','))"),
        list(&["a", "b", "c"])
    );
}

#[test]
fn coalesce_default_and_emptiness() {
    assert_eq!(run("coalesce(Missing, Empty, 'x', 'y')"), s("x"));
    assert_eq!(run("coalesce(Missing, Empty)"), Value::Null);
    assert_eq!(run("coalesce(list(), 0)"), Value::Int(0));
    assert_eq!(run("default(Missing, 'fallback')"), s("fallback"));
    assert_eq!(run("default(GivenName, 'fallback')"), s("Zoë"));
    assert_eq!(run("is_null(Missing)"), Value::Bool(true));
    assert_eq!(run("is_null(Empty)"), Value::Bool(false));
    assert_eq!(run("is_empty(Missing)"), Value::Bool(true));
    assert_eq!(run("is_empty(Empty)"), Value::Bool(true));
    assert_eq!(run("is_empty(list())"), Value::Bool(true));
    assert_eq!(run("is_empty(0)"), Value::Bool(false));
    assert_eq!(run("clear()"), Value::Clear);
    assert_eq!(
        run("if is_empty(Mail) then clear() else lower(Mail)"),
        s("jane.doe@example.com")
    );
    assert_eq!(run("coalesce(clear(), 'x')"), Value::Clear);
}

#[test]
fn conversions() {
    assert_eq!(run("to_string(42)"), s("42"));
    assert_eq!(run("to_string(true)"), s("true"));
    assert_eq!(run("to_string('a')"), s("a"));
    assert_eq!(run("to_string(now())"), s("2024-03-01T12:00:00+01:00"));
    assert_eq!(run("to_string(list(1, 2))"), list(&["1", "2"]));
    assert_eq!(run("to_int(' 42 ')"), Value::Int(42));
    assert_eq!(run("to_int('-7')"), Value::Int(-7));
    assert_eq!(run("to_int(true)"), Value::Int(1));
    assert_eq!(run("to_int(Age)"), Value::Int(42));
    let e = run_err("to_int('12abc')");
    assert_eq!(
        e.kind(),
        &EvalErrorKind::Invalid {
            func: "to_int",
            problem: "value of type Str is not an integer"
        }
    );
    assert!(
        run_err("to_int(now())")
            .to_string()
            .contains("found DateTime")
    );
    for (text, expected) in [
        ("TRUE", true),
        ("false", false),
        ("1", true),
        ("0", false),
        ("Yes", true),
        (" no ", false),
    ] {
        assert_eq!(
            run(&format!("to_bool('{text}')")),
            Value::Bool(expected),
            "{text}"
        );
    }
    assert_eq!(run("to_bool(1)"), Value::Bool(true));
    assert!(
        run_err("to_bool('maybe')")
            .to_string()
            .contains("to_bool: value is not one of")
    );
    assert!(run_err("to_bool(2)").to_string().contains("to_bool"));
    for f in ["to_string", "to_int", "to_bool"] {
        assert_eq!(run(&format!("{f}(Missing)")), Value::Null);
    }
}
