//! Date functions and references through the scope.

use super::{datetime, run, run_err, s, scope};
use crate::{EvalError, EvalErrorKind, MapScope, Program, Scope, Value};

#[test]
fn hr_dates() {
    assert_eq!(
        run("date_parse(HireDate, '%m/%d/%Y')"),
        Value::DateTime(datetime("2011-07-05T00:00:00+00:00"))
    );
    assert_eq!(
        run("date_parse(HireDate, '%m/%d/%Y', '+01:00')"),
        Value::DateTime(datetime("2011-07-05T00:00:00+01:00"))
    );
    assert_eq!(
        run("date_format(date_parse(HireDate, '%m/%d/%Y'), '%Y-%m-%d')"),
        s("2011-07-05")
    );
    assert_eq!(
        run("date_parse('2011-07-05 08:30', '%Y-%m-%d %H:%M', '-0500')"),
        Value::DateTime(datetime("2011-07-05T08:30:00-05:00"))
    );
    assert_eq!(
        run("date_parse('2011-07-05 08:30 +0200', '%Y-%m-%d %H:%M %z', 'Z')"),
        Value::DateTime(datetime("2011-07-05T08:30:00+02:00"))
    );
}

#[test]
fn iso_dates() {
    assert_eq!(
        run("date_parse('2020-01-02T03:04:05Z', 'iso')"),
        Value::DateTime(datetime("2020-01-02T03:04:05Z"))
    );
    assert_eq!(
        run("date_parse('2020-01-02', 'iso')"),
        Value::DateTime(datetime("2020-01-02T00:00:00Z"))
    );
    assert_eq!(
        run("date_parse('2020-01-02T03:04:05', 'iso', '+02:00')"),
        Value::DateTime(datetime("2020-01-02T03:04:05+02:00"))
    );
}

#[test]
fn date_errors() {
    let e = run_err("date_parse('13/45/2011', '%m/%d/%Y')");
    assert_eq!(
        e.kind(),
        &EvalErrorKind::Invalid {
            func: "date_parse",
            problem: "text does not match the date format"
        }
    );
    assert!(
        run_err("date_parse(HireDate, '%m/%d/%Y', 'CET')")
            .to_string()
            .contains("invalid UTC offset")
    );
    assert!(
        run_err("date_format('2011', '%Y')")
            .to_string()
            .contains("date_format: expected DateTime, found Str")
    );
    assert!(
        run_err("add_days(now(), 9223372036854775807)")
            .to_string()
            .contains("overflow")
    );
    assert!(
        run_err("date_format(now(), '%' + 'Q')")
            .to_string()
            .contains("invalid date format")
    );
}

#[test]
fn now_add_days_days_between() {
    assert_eq!(
        run("now()"),
        Value::DateTime(datetime("2024-03-01T12:00:00+01:00"))
    );
    assert_eq!(
        run("date_format(add_days(now(), 30), '%Y-%m-%d')"),
        s("2024-03-31")
    );
    assert_eq!(
        run("date_format(add_days(now(), -1), '%d.%m.%Y')"),
        s("29.02.2024")
    );
    assert_eq!(
        run("days_between(date_parse(HireDate, '%m/%d/%Y'), date_parse('2011-08-04', 'iso'))"),
        Value::Int(30)
    );
    assert_eq!(
        run("days_between(now(), add_days(now(), -3))"),
        Value::Int(-3)
    );
    assert_eq!(
        run("date_parse(HireDate, '%m/%d/%Y') < now()"),
        Value::Bool(true)
    );
    let e = Program::compile("now()")
        .unwrap()
        .eval(&MapScope::new())
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("now: the evaluation context provides no current time"),
        "{e}"
    );
    assert_eq!(run("add_days(Missing, 1)"), Value::Null);
}

struct Directory;

impl Scope for Directory {
    fn attribute(&self, name: &str) -> Value {
        if name == "manager" {
            Value::from("cn=boss")
        } else {
            Value::Null
        }
    }

    fn referenced(&self, ref_attribute: &str, target: &str) -> Result<Value, EvalError> {
        Ok(Value::from(format!("{ref_attribute}.{target}")))
    }

    fn lookup(
        &self,
        object_type: &str,
        attribute: &str,
        value: &Value,
        result: &str,
    ) -> Result<Value, EvalError> {
        if value == &Value::from("E1") {
            return Ok(Value::from(format!("{object_type}/{attribute}/{result}")));
        }
        if value == &Value::from("broken") {
            return Err(EvalError::scope("directory unavailable"));
        }
        Ok(Value::Null)
    }
}

#[test]
fn references_delegate_to_the_scope() {
    let eval = |src: &str| Program::compile(src).unwrap().eval(&Directory);
    assert_eq!(eval("ref('manager', 'mail')").unwrap(), s("manager.mail"));
    assert_eq!(
        eval("lookup('person', 'employeeId', 'E1', 'dn')").unwrap(),
        s("person/employeeId/dn")
    );
    assert_eq!(
        eval("lookup('person', 'employeeId', 'E2', 'dn')").unwrap(),
        Value::Null
    );
    assert_eq!(
        eval("lookup('person', 'employeeId', Missing, 'dn')").unwrap(),
        Value::Null
    );
    let e = eval("lookup('person', 'id', 'broken', 'dn')").unwrap_err();
    assert_eq!(
        e.to_string(),
        "directory unavailable in rule `lookup('person', 'id', 'broken', 'dn')` at line 1, column 1"
    );
}

#[test]
fn references_unsupported_by_default() {
    let e = Program::compile("ref('manager', 'mail')")
        .unwrap()
        .eval(&scope())
        .unwrap_err();
    assert_eq!(
        e.kind(),
        &EvalErrorKind::Unsupported {
            what: "ref".to_string()
        }
    );
    assert!(
        e.to_string()
            .starts_with("ref() is not supported in this context")
    );
    let e = Program::compile("lookup('a', 'b', 'c', 'd')")
        .unwrap()
        .eval(&scope())
        .unwrap_err();
    assert!(e.to_string().starts_with("lookup() is not supported"));
}
