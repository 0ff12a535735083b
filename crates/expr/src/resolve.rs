//! Compile-time resolution of function calls: name lookup, argument count, literal regex
//! patterns and literal date formats checked (and regexes compiled) once.

use chrono::format::StrftimeItems;

use crate::ast::{Call, Kind, Node};
use crate::error::{CompileError, Position};
use crate::funcs::{self, Func, Spec};
use crate::value::Value;

/// Builds a call node for `name(args…)`.
pub(crate) fn call(
    name: &str,
    pos: Position,
    args: Vec<Node>,
    attributes: &mut Vec<String>,
) -> Result<Kind, CompileError> {
    let spec = funcs::lookup(name)
        .ok_or_else(|| CompileError::new(pos, format!("unknown function `{name}`")))?;
    check_arity(spec, args.len(), pos)?;
    if let Some(attr) = literal_str(args.first()) {
        match spec.func {
            Func::Attr => {
                note_attribute(attributes, attr);
                return Ok(Kind::Attr(attr.to_string()));
            }
            Func::Ref => note_attribute(attributes, attr),
            _ => {}
        }
    }
    let regex = literal_regex(spec.func, &args)?;
    check_date_format(spec.func, &args)?;
    Ok(Kind::Call(Box::new(Call {
        func: spec.func,
        name: spec.name,
        args,
        regex,
    })))
}

/// Records an attribute name once, in order of first appearance.
pub(crate) fn note_attribute(attributes: &mut Vec<String>, name: &str) {
    if !attributes.iter().any(|a| a == name) {
        attributes.push(name.to_string());
    }
}

fn check_arity(spec: &Spec, got: usize, pos: Position) -> Result<(), CompileError> {
    if got >= spec.min && got <= spec.max {
        return Ok(());
    }
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    let expected = if spec.max == funcs::VARIADIC {
        format!("at least {} {}", spec.min, plural(spec.min))
    } else if spec.min == spec.max {
        format!("{} {}", spec.min, plural(spec.min))
    } else {
        format!("{} to {} arguments", spec.min, spec.max)
    };
    let msg = format!("function `{}` takes {expected}, got {got}", spec.name);
    Err(CompileError::new(pos, msg))
}

fn literal_str(node: Option<&Node>) -> Option<&str> {
    match node.map(|n| &n.kind) {
        Some(Kind::Lit(Value::Str(s))) => Some(s),
        _ => None,
    }
}

fn literal_regex(func: Func, args: &[Node]) -> Result<Option<regex::Regex>, CompileError> {
    if !matches!(
        func,
        Func::RegexReplace | Func::RegexMatch | Func::RegexCapture
    ) {
        return Ok(None);
    }
    let Some(node) = args.get(1) else {
        return Ok(None);
    };
    let Some(pattern) = literal_str(Some(node)) else {
        return Ok(None);
    };
    funcs::build_regex(pattern)
        .map(Some)
        .map_err(|e| CompileError::new(node.pos, format!("invalid regular expression: {e}")))
}

fn check_date_format(func: Func, args: &[Node]) -> Result<(), CompileError> {
    if !matches!(func, Func::DateParse | Func::DateFormat) {
        return Ok(());
    }
    let Some(node) = args.get(1) else {
        return Ok(());
    };
    match literal_str(Some(node)) {
        Some("iso") if func == Func::DateParse => Ok(()),
        Some(format) if StrftimeItems::new(format).parse().is_err() => {
            Err(CompileError::new(node.pos, "invalid date format"))
        }
        _ => Ok(()),
    }
}
