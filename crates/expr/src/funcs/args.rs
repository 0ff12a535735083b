//! Argument helpers shared by the function families: type checks and the elementwise
//! mapping of string functions over lists.

use std::borrow::Cow;

use crate::error::EvalError;
use crate::ops::type_error;
use crate::value::Value;

const NULL: Value = Value::Null;

/// The `i`-th argument (Null when absent; arity is checked at compile time).
pub(crate) fn at(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&NULL)
}

/// A value used as text: Str as is, Int and Bool in their decimal / `true` form.
pub(crate) fn text<'v>(name: &'static str, v: &'v Value) -> Result<Cow<'v, str>, EvalError> {
    match v {
        Value::Str(s) => Ok(Cow::Borrowed(s)),
        Value::Int(i) => Ok(Cow::Owned(i.to_string())),
        Value::Bool(b) => Ok(Cow::Owned(b.to_string())),
        other => Err(type_error(name, "Str", other)),
    }
}

pub(crate) fn text_at<'v>(
    name: &'static str,
    args: &'v [Value],
    i: usize,
) -> Result<Cow<'v, str>, EvalError> {
    text(name, at(args, i))
}

pub(crate) fn int_at(name: &'static str, args: &[Value], i: usize) -> Result<i64, EvalError> {
    match at(args, i) {
        Value::Int(n) => Ok(*n),
        other => Err(type_error(name, "Int", other)),
    }
}

/// Applies `f` to a scalar, or to each element of a list (Null elements stay Null).
pub(crate) fn map_each(
    v: &Value,
    f: &mut dyn FnMut(&Value) -> Result<Value, EvalError>,
) -> Result<Value, EvalError> {
    match v {
        Value::List(items) => items
            .iter()
            .map(|item| {
                if item.is_null() {
                    Ok(Value::Null)
                } else {
                    f(item)
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        Value::Null => Ok(Value::Null),
        other => f(other),
    }
}

/// [`map_each`] for functions of text.
pub(crate) fn map_text(
    name: &'static str,
    v: &Value,
    f: &mut dyn FnMut(&str) -> Result<Value, EvalError>,
) -> Result<Value, EvalError> {
    map_each(v, &mut |item| f(&text(name, item)?))
}

/// True when `f` holds for the scalar, or for any element of a list.
pub(crate) fn any_text(
    name: &'static str,
    v: &Value,
    f: &mut dyn FnMut(&str) -> Result<bool, EvalError>,
) -> Result<Value, EvalError> {
    let result = match v {
        Value::List(items) => {
            let mut found = false;
            for item in items.iter().filter(|i| !i.is_null()) {
                if f(&text(name, item)?)? {
                    found = true;
                    break;
                }
            }
            found
        }
        other => f(&text(name, other)?)?,
    };
    Ok(Value::Bool(result))
}

/// Collects characters into a string, failing as soon as it exceeds `max` bytes.
pub(crate) fn collect_limited(
    limits: &crate::Limits,
    name: &'static str,
    chars: impl Iterator<Item = char>,
) -> Result<String, EvalError> {
    let mut out = String::new();
    for c in chars {
        out.push(c);
        if out.len() > limits.max_string_len {
            limits.check_str(name, out.len())?;
        }
    }
    Ok(out)
}
