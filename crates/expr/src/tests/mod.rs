//! Tests of the language and its function library.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dates_refs;
mod language;
mod limits;
mod lists_convert;
mod props;
mod text;

use chrono::{DateTime, FixedOffset};

use crate::{CompileError, EvalError, MapScope, Program, Value};

/// The scope most tests evaluate against.
pub(crate) fn scope() -> MapScope {
    MapScope::new()
        .with("Employee_Name", "Doe, Jane M")
        .with("GivenName", "Zoë")
        .with("Surname", "Ørsted-Łukasz")
        .with("Empty", "")
        .with("Age", 42i64)
        .with("Active", true)
        .with("Employee Name", "spaced")
        .with("msDS-cloudExtensionAttribute1", "ext")
        .with("Groups", vec![s("Staff"), s("Admins"), s("Staff")])
        .with("Mail", "Jane.Doe@Example.COM")
        .with("HireDate", "7/5/2011")
        .with("now", datetime("2024-03-01T12:00:00+01:00"))
        .with_now(datetime("2024-03-01T12:00:00+01:00"))
}

pub(crate) fn s(text: &str) -> Value {
    Value::from(text)
}

pub(crate) fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|i| s(i)).collect())
}

pub(crate) fn datetime(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

pub(crate) fn try_run(src: &str) -> Result<Value, EvalError> {
    Program::compile(src)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .eval(&scope())
}

pub(crate) fn run(src: &str) -> Value {
    try_run(src).unwrap_or_else(|e| panic!("{src}: {e}"))
}

pub(crate) fn run_err(src: &str) -> EvalError {
    match try_run(src) {
        Ok(v) => panic!("{src}: expected an error, got {v:?}"),
        Err(e) => e,
    }
}

pub(crate) fn compile_err(src: &str) -> CompileError {
    match Program::compile(src) {
        Ok(p) => panic!("{src}: expected a compile error, got {p:?}"),
        Err(e) => e,
    }
}
