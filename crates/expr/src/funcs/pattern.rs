//! Regular expressions and splitting / joining.
//!
//! Literal patterns are compiled once at compile time; other patterns are compiled at each
//! evaluation with the same size limits. Output sizes are bounded before allocating.

use std::borrow::Cow;

use regex::{Regex, RegexBuilder};

use super::Func;
use super::args::{any_text, at, int_at, map_text, text, text_at};
use crate::ast::Call;
use crate::error::{EvalError, EvalErrorKind};
use crate::limits::Limits;
use crate::ops::resolve_index;
use crate::value::Value;

const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Compiles a pattern with bounded program and cache sizes.
pub(crate) fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(64)
        .build()
}

fn pattern<'c>(call: &'c Call, args: &[Value]) -> Result<Cow<'c, Regex>, EvalError> {
    if let Some(regex) = &call.regex {
        return Ok(Cow::Borrowed(regex));
    }
    let source = text_at(call.name, args, 1)?;
    let problem = "invalid regular expression";
    build_regex(&source).map(Cow::Owned).map_err(|_| {
        EvalErrorKind::Invalid {
            func: call.name,
            problem,
        }
        .into()
    })
}

/// regex_replace / regex_match / regex_capture.
pub(super) fn regex(limits: &Limits, call: &Call, args: &[Value]) -> Result<Value, EvalError> {
    let name = call.name;
    let re = pattern(call, args)?;
    let subject = at(args, 0);
    match call.func {
        Func::RegexMatch => any_text(name, subject, &mut |s| Ok(re.is_match(s))),
        Func::RegexCapture => {
            let group = usize::try_from(int_at(name, args, 2)?).ok();
            map_text(name, subject, &mut |s| {
                let found = group.and_then(|g| re.captures(s)?.get(g));
                Ok(found.map_or(Value::Null, |m| Value::Str(m.as_str().to_string())))
            })
        }
        _ => {
            let replacement = text_at(name, args, 2)?;
            map_text(name, subject, &mut |s| {
                replace_all(limits, name, &re, s, &replacement)
            })
        }
    }
}

/// Like `Regex::replace_all`, but checks the growing output against the string limit before
/// each expansion (a `$n` reference is at most as long as the whole match).
fn replace_all(
    limits: &Limits,
    name: &'static str,
    re: &Regex,
    s: &str,
    replacement: &str,
) -> Result<Value, EvalError> {
    let refs = replacement.matches('$').count();
    let mut out = String::new();
    let mut last = 0;
    for caps in re.captures_iter(s) {
        let Some(whole) = caps.get(0) else { continue };
        let bound = refs
            .saturating_mul(whole.len())
            .saturating_add(replacement.len());
        let before = &s[last..whole.start()];
        limits.check_str(
            name,
            out.len().saturating_add(before.len()).saturating_add(bound),
        )?;
        out.push_str(before);
        caps.expand(replacement, &mut out);
        last = whole.end();
    }
    limits.check_str(name, out.len().saturating_add(s.len() - last))?;
    out.push_str(&s[last..]);
    Ok(Value::Str(out))
}

/// `split(s, sep)`: a List of pieces; an empty separator splits into characters.
pub(super) fn split(
    limits: &Limits,
    name: &'static str,
    args: &[Value],
) -> Result<Value, EvalError> {
    let sep = text_at(name, args, 1)?;
    map_text(name, at(args, 0), &mut |s| {
        let pieces: Vec<Value> = if sep.is_empty() {
            limits.check_list(name, s.chars().count())?;
            s.chars().map(|c| Value::Str(c.to_string())).collect()
        } else {
            limits.check_list(name, s.matches(sep.as_ref()).count().saturating_add(1))?;
            s.split(sep.as_ref())
                .map(|p| Value::Str(p.to_string()))
                .collect()
        };
        Ok(Value::List(pieces))
    })
}

/// `join(list, sep)`: Null elements are skipped; a scalar is joined as a one-element list.
pub(super) fn join(
    limits: &Limits,
    name: &'static str,
    args: &[Value],
) -> Result<Value, EvalError> {
    let sep = text_at(name, args, 1)?;
    let items: &[Value] = match at(args, 0) {
        Value::List(items) => items,
        other => std::slice::from_ref(other),
    };
    let parts = items
        .iter()
        .filter(|v| !v.is_null())
        .map(|v| text(name, v))
        .collect::<Result<Vec<_>, _>>()?;
    let total = parts.iter().map(|p| p.len()).sum::<usize>();
    let seps = parts.len().saturating_sub(1).saturating_mul(sep.len());
    limits.check_str(name, total.saturating_add(seps))?;
    Ok(Value::Str(parts.join(sep.as_ref())))
}

/// `word(s, index[, sep])`: the index-th word (0-based, negative from the end); words are
/// split on whitespace by default, trimmed, and empty ones skipped.
pub(super) fn word(name: &'static str, args: &[Value]) -> Result<Value, EvalError> {
    let index = int_at(name, args, 1)?;
    let sep = if args.len() > 2 {
        Some(text_at(name, args, 2)?)
    } else {
        None
    };
    map_text(name, at(args, 0), &mut |s| {
        let words: Vec<&str> = match sep.as_deref() {
            Some(sep) if !sep.is_empty() => s
                .split(sep)
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .collect(),
            _ => s.split_whitespace().collect(),
        };
        let found = resolve_index(index, words.len()).and_then(|i| words.get(i));
        Ok(found.map_or(Value::Null, |w| Value::Str((*w).to_string())))
    })
}
