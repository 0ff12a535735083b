//! List functions. A scalar is treated as a one-element list (a one-valued attribute gives the
//! scalar), so `first(x)` works whether `x` has one value or many.

use std::collections::HashSet;

use super::Func;
use super::args::int_at;
use crate::error::EvalError;
use crate::limits::Limits;
use crate::ops::{order, ordering_error, resolve_index};
use crate::value::Value;

pub(super) fn call(
    limits: &Limits,
    func: Func,
    name: &'static str,
    mut args: Vec<Value>,
) -> Result<Value, EvalError> {
    if func == Func::List {
        args.retain(|v| !v.is_null());
        limits.check_list(name, args.len())?;
        return Ok(Value::List(args));
    }
    let index = if func == Func::Item {
        int_at(name, &args, 1)?
    } else {
        0
    };
    let subject = args.into_iter().next().unwrap_or(Value::Null);
    match func {
        Func::Item => Ok(item(subject, index)),
        Func::First => Ok(item(subject, 0)),
        Func::Last => Ok(item(subject, -1)),
        Func::Count => Ok(Value::Int(count(&subject))),
        Func::Distinct => Ok(distinct(subject)),
        Func::Sort => sort(name, subject),
        _ => flatten(limits, name, subject),
    }
}

/// Element `i` (0-based, negative from the end) of a list, a scalar being a one-element list.
fn item(subject: Value, i: i64) -> Value {
    match subject {
        Value::List(items) => {
            let at = resolve_index(i, items.len());
            at.and_then(|at| items.into_iter().nth(at))
                .unwrap_or(Value::Null)
        }
        scalar if i == 0 || i == -1 => scalar,
        _ => Value::Null,
    }
}

fn count(subject: &Value) -> i64 {
    match subject {
        Value::Null => 0,
        Value::List(items) => i64::try_from(items.len()).unwrap_or(i64::MAX),
        _ => 1,
    }
}

/// Drops repeated elements, keeping the first occurrence.
fn distinct(subject: Value) -> Value {
    let Value::List(items) = subject else {
        return subject;
    };
    let mut seen = HashSet::new();
    let kept = items
        .into_iter()
        .filter(|v| seen.insert(format!("{v:?}")))
        .collect();
    Value::List(kept)
}

/// Sorts a list whose elements all have the same orderable type.
fn sort(name: &'static str, subject: Value) -> Result<Value, EvalError> {
    let Value::List(mut items) = subject else {
        return Ok(subject);
    };
    if let Some(first) = items.first()
        && let Some(bad) = items.iter().find(|v| order(first, v).is_none())
    {
        return Err(ordering_error(name, first, bad));
    }
    items.sort_by(|a, b| order(a, b).unwrap_or(std::cmp::Ordering::Equal));
    Ok(Value::List(items))
}

/// Flattens nested lists into one, dropping Nulls; a scalar stays a scalar.
fn flatten(limits: &Limits, name: &'static str, subject: Value) -> Result<Value, EvalError> {
    let Value::List(items) = subject else {
        return Ok(subject);
    };
    limits.check_list(name, leaves(&items))?;
    let mut out = Vec::new();
    push_leaves(&mut out, items);
    Ok(Value::List(out))
}

fn leaves(items: &[Value]) -> usize {
    items
        .iter()
        .map(|v| match v {
            Value::List(inner) => leaves(inner),
            Value::Null => 0,
            _ => 1,
        })
        .sum()
}

fn push_leaves(out: &mut Vec<Value>, items: Vec<Value>) {
    for v in items {
        match v {
            Value::List(inner) => push_leaves(out, inner),
            Value::Null => {}
            other => out.push(other),
        }
    }
}
