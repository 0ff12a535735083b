//! Null / empty / clear handling and type conversions.

use super::Func;
use super::args::map_each;
use crate::error::{EvalError, EvalErrorKind};
use crate::ops::type_error;
use crate::value::Value;

pub(super) fn call(func: Func, name: &'static str, args: Vec<Value>) -> Result<Value, EvalError> {
    match func {
        Func::Coalesce | Func::Default => Ok(args
            .into_iter()
            .find(|v| !v.is_empty_value())
            .unwrap_or(Value::Null)),
        Func::IsNull => Ok(Value::Bool(args.iter().all(Value::is_null))),
        Func::IsEmpty => Ok(Value::Bool(args.iter().all(Value::is_empty_value))),
        Func::Clear => Ok(Value::Clear),
        Func::ToString => map_each(&first(&args), &mut |v| to_string(name, v)),
        Func::ToInt => map_each(&first(&args), &mut |v| to_int(name, v)),
        _ => map_each(&first(&args), &mut |v| to_bool(name, v)),
    }
}

fn first(args: &[Value]) -> Value {
    args.first().cloned().unwrap_or(Value::Null)
}

fn to_string(name: &'static str, v: &Value) -> Result<Value, EvalError> {
    let s = match v {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::DateTime(d) => d.to_rfc3339(),
        other => return Err(type_error(name, "Str, Int, Bool or DateTime", other)),
    };
    Ok(Value::Str(s))
}

fn to_int(name: &'static str, v: &Value) -> Result<Value, EvalError> {
    match v {
        Value::Int(i) => Ok(Value::Int(*i)),
        Value::Bool(b) => Ok(Value::Int(i64::from(*b))),
        Value::Str(s) => s.trim().parse::<i64>().map(Value::Int).map_err(|_| {
            let problem = "value of type Str is not an integer";
            EvalErrorKind::Invalid {
                func: name,
                problem,
            }
            .into()
        }),
        other => Err(type_error(name, "Str, Int or Bool", other)),
    }
}

fn to_bool(name: &'static str, v: &Value) -> Result<Value, EvalError> {
    let parsed = match v {
        Value::Bool(b) => Some(*b),
        Value::Int(0) => Some(false),
        Value::Int(1) => Some(true),
        Value::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        Value::Int(_) => None,
        other => return Err(type_error(name, "Str, Int or Bool", other)),
    };
    let problem = "value is not one of true/false/1/0/yes/no";
    parsed.map(Value::Bool).ok_or_else(|| {
        EvalErrorKind::Invalid {
            func: name,
            problem,
        }
        .into()
    })
}
