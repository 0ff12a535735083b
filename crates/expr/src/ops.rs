//! Operators: arithmetic, concatenation, comparison and indexing.
//!
//! Null propagates through everything except `==` / `!=`, which compare (`null == null`).

use std::cmp::Ordering;

use crate::ast::BinOp;
use crate::error::{EvalError, EvalErrorKind};
use crate::eval::Ctx;
use crate::value::Value;

pub(crate) fn negate(value: Value) -> Result<Value, EvalError> {
    match value {
        Value::Null => Ok(Value::Null),
        Value::Int(i) => i.checked_neg().map(Value::Int).ok_or_else(|| overflow("-")),
        other => Err(type_error("-", "Int", &other)),
    }
}

pub(crate) fn binary(ctx: &mut Ctx<'_>, op: BinOp, a: Value, b: Value) -> Result<Value, EvalError> {
    match op {
        BinOp::Eq => return Ok(Value::Bool(a == b)),
        BinOp::Ne => return Ok(Value::Bool(a != b)),
        _ if a.is_null() || b.is_null() => return Ok(Value::Null),
        _ => {}
    }
    match op {
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => compare(op, &a, &b),
        BinOp::Add => add(ctx, a, b),
        _ => arithmetic(op, &a, &b),
    }
}

fn compare(op: BinOp, a: &Value, b: &Value) -> Result<Value, EvalError> {
    let ord = order(a, b).ok_or_else(|| ordering_error(op.symbol(), a, b))?;
    let result = match op {
        BinOp::Lt => ord == Ordering::Less,
        BinOp::Le => ord != Ordering::Greater,
        BinOp::Gt => ord == Ordering::Greater,
        _ => ord != Ordering::Less,
    };
    Ok(Value::Bool(result))
}

/// Ordering of two values of the same orderable type (Int, Str, Bool, DateTime).
pub(crate) fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

pub(crate) fn ordering_error(op: &'static str, a: &Value, b: &Value) -> EvalError {
    EvalErrorKind::Ordering {
        op,
        left: a.type_name(),
        right: b.type_name(),
    }
    .into()
}

fn add(ctx: &mut Ctx<'_>, a: Value, b: Value) -> Result<Value, EvalError> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x
            .checked_add(y)
            .map(Value::Int)
            .ok_or_else(|| overflow("+")),
        (a @ Value::Str(_), b) | (a, b @ Value::Str(_)) => {
            let left = concat_text(&a)?;
            let right = concat_text(&b)?;
            let len = left.len().saturating_add(right.len());
            ctx.limits.check_str("+", len)?;
            ctx.charge_size(len)?;
            let mut out = String::with_capacity(len);
            out.push_str(&left);
            out.push_str(&right);
            Ok(Value::Str(out))
        }
        (a, b) => {
            let bad = if matches!(a, Value::Int(_)) { b } else { a };
            Err(type_error("+", "Int or Str", &bad))
        }
    }
}

fn concat_text(v: &Value) -> Result<std::borrow::Cow<'_, str>, EvalError> {
    match v {
        Value::Str(s) => Ok(s.as_str().into()),
        Value::Int(i) => Ok(i.to_string().into()),
        Value::Bool(b) => Ok(b.to_string().into()),
        other => Err(type_error("+", "Str, Int or Bool", other)),
    }
}

fn arithmetic(op: BinOp, a: &Value, b: &Value) -> Result<Value, EvalError> {
    let symbol = op.symbol();
    let (x, y) = match (a, b) {
        (Value::Int(x), Value::Int(y)) => (*x, *y),
        (Value::Int(_), other) | (other, _) => return Err(type_error(symbol, "Int", other)),
    };
    if matches!(op, BinOp::Div | BinOp::Rem) && y == 0 {
        return Err(EvalErrorKind::DivisionByZero { op: symbol }.into());
    }
    let result = match op {
        BinOp::Sub => x.checked_sub(y),
        BinOp::Mul => x.checked_mul(y),
        BinOp::Div => x.checked_div(y),
        _ => x.checked_rem(y),
    };
    result.map(Value::Int).ok_or_else(|| overflow(symbol))
}

/// `target[index]`: 0-based, negative from the end, out of range gives Null.
pub(crate) fn index(target: Value, index: Value) -> Result<Value, EvalError> {
    let i = match index {
        Value::Null => return Ok(Value::Null),
        Value::Int(i) => i,
        other => return Err(type_error("[]", "Int index", &other)),
    };
    match target {
        Value::Null => Ok(Value::Null),
        Value::List(items) => {
            let at = resolve_index(i, items.len());
            Ok(at
                .and_then(|at| items.into_iter().nth(at))
                .unwrap_or(Value::Null))
        }
        Value::Str(s) => {
            let len = if i < 0 { s.chars().count() } else { usize::MAX };
            let ch = resolve_index(i, len).and_then(|at| s.chars().nth(at));
            Ok(ch.map_or(Value::Null, |c| Value::Str(c.to_string())))
        }
        other => Err(type_error("[]", "List or Str", &other)),
    }
}

/// Maps a possibly negative index onto `0..len`.
pub(crate) fn resolve_index(i: i64, len: usize) -> Option<usize> {
    if i >= 0 {
        usize::try_from(i).ok().filter(|&at| at < len)
    } else {
        let back = usize::try_from(i.unsigned_abs()).ok()?;
        len.checked_sub(back)
    }
}

pub(crate) fn type_error(op: &'static str, expected: &'static str, found: &Value) -> EvalError {
    EvalErrorKind::Type {
        op,
        expected,
        found: found.type_name(),
    }
    .into()
}

pub(crate) fn overflow(op: &'static str) -> EvalError {
    EvalErrorKind::Overflow { op }.into()
}
