//! String functions. Those producing text map over lists elementwise; predicates on a list
//! are true when any element satisfies them.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::Func;
use super::args::{any_text, at, collect_limited, int_at, map_text, text, text_at};
use crate::error::{EvalError, EvalErrorKind};
use crate::limits::Limits;
use crate::ops::type_error;
use crate::value::Value;

/// One-argument text transforms (trim, lower, …, email_domain).
pub(super) fn transform(
    limits: &Limits,
    func: Func,
    name: &'static str,
    args: &[Value],
) -> Result<Value, EvalError> {
    map_text(name, at(args, 0), &mut |s| {
        let out = match func {
            Func::Trim => s.trim().to_string(),
            Func::Lower => collect_limited(limits, name, s.chars().flat_map(char::to_lowercase))?,
            Func::Upper => collect_limited(limits, name, s.chars().flat_map(char::to_uppercase))?,
            Func::Nfc => collect_limited(limits, name, s.nfc())?,
            Func::Nfkc => collect_limited(limits, name, s.nfkc())?,
            Func::CollapseSpaces => s.split_whitespace().collect::<Vec<_>>().join(" "),
            Func::TitleCase => collect_limited(limits, name, title_case(s))?,
            Func::Ascii => ascii(s),
            _ => return Ok(email_domain(s)),
        };
        Ok(Value::Str(out))
    })
}

/// Upper-cases the first letter of each word and lower-cases the rest; a word starts after
/// any non-alphabetic character ("o'brien-smith" → "O'Brien-Smith").
fn title_case(s: &str) -> impl Iterator<Item = char> + '_ {
    let mut after_letter = false;
    s.chars().flat_map(move |c| {
        let upper = !after_letter;
        after_letter = c.is_alphabetic();
        let mapped: Vec<char> = if upper {
            c.to_uppercase().collect()
        } else {
            c.to_lowercase().collect()
        };
        mapped
    })
}

/// Folds to ASCII for logins: NFD, combining marks dropped, a few letters spelled out, and
/// whatever is still not ASCII dropped.
fn ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_ascii() {
            out.push(c);
        } else if let Some(spelled) = spell_ascii(c) {
            out.push_str(spelled);
        }
    }
    out
}

fn spell_ascii(c: char) -> Option<&'static str> {
    let spelled = match c {
        'ß' => "ss",
        'ẞ' => "SS",
        'æ' => "ae",
        'Æ' => "AE",
        'œ' => "oe",
        'Œ' => "OE",
        'ø' => "o",
        'Ø' => "O",
        'đ' | 'ð' => "d",
        'Đ' | 'Ð' => "D",
        'ł' => "l",
        'Ł' => "L",
        'þ' => "th",
        'Þ' => "TH",
        'ı' => "i",
        _ => return None,
    };
    Some(spelled)
}

/// The lower-cased part after the last `@`, Null when there is none.
fn email_domain(s: &str) -> Value {
    match s.rsplit_once('@') {
        Some((_, domain)) if !domain.trim().is_empty() => Value::Str(domain.trim().to_lowercase()),
        _ => Value::Null,
    }
}

/// `len`: characters of text, items of a list.
pub(super) fn len(name: &'static str, args: &[Value]) -> Result<Value, EvalError> {
    let n = match at(args, 0) {
        Value::List(items) => items.len(),
        other => text(name, other)?.chars().count(),
    };
    Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// `substring(s, start[, len])`, `left(s, n)`, `right(s, n)`: character based, clamped.
pub(super) fn slice(func: Func, name: &'static str, args: &[Value]) -> Result<Value, EvalError> {
    let a = int_at(name, args, 1)?;
    let b = if args.len() > 2 {
        Some(int_at(name, args, 2)?)
    } else {
        None
    };
    map_text(name, at(args, 0), &mut |s| {
        let count = s.chars().count();
        let (start, take) = match func {
            Func::Left => (0, clamp(a, count)),
            Func::Right => (count - clamp(a, count), count),
            _ => {
                let back = usize::try_from(a.unsigned_abs()).unwrap_or(usize::MAX);
                let start = if a < 0 {
                    count.saturating_sub(back)
                } else {
                    clamp(a, count)
                };
                (start, b.map_or(count, |n| clamp(n, count)))
            }
        };
        Ok(Value::Str(s.chars().skip(start).take(take).collect()))
    })
}

/// `n` as a count of characters in `0..=max`.
fn clamp(n: i64, max: usize) -> usize {
    usize::try_from(n.max(0)).unwrap_or(usize::MAX).min(max)
}

/// `replace(s, from, to)`: every occurrence; an empty `from` leaves the text unchanged.
pub(super) fn replace(
    limits: &Limits,
    name: &'static str,
    args: &[Value],
) -> Result<Value, EvalError> {
    let from = text_at(name, args, 1)?;
    let to = text_at(name, args, 2)?;
    map_text(name, at(args, 0), &mut |s| {
        if from.is_empty() {
            return Ok(Value::Str(s.to_string()));
        }
        let hits = s.matches(from.as_ref()).count();
        let grown = hits.saturating_mul(to.len()).saturating_add(s.len());
        limits.check_str(name, grown.saturating_sub(hits * from.len()))?;
        Ok(Value::Str(s.replace(from.as_ref(), &to)))
    })
}

/// `pad_left(s, n, ch)`: pads with `ch` (one character) to `n` characters; size checked first.
pub(super) fn pad_left(
    limits: &Limits,
    name: &'static str,
    args: &[Value],
) -> Result<Value, EvalError> {
    let width = clamp(int_at(name, args, 1)?, usize::MAX);
    let pad = text_at(name, args, 2)?;
    let mut chars = pad.chars();
    let (Some(ch), None) = (chars.next(), chars.next()) else {
        let problem = "the pad argument must be exactly one character";
        return Err(EvalErrorKind::Invalid {
            func: name,
            problem,
        }
        .into());
    };
    map_text(name, at(args, 0), &mut |s| {
        let missing = width.saturating_sub(s.chars().count());
        limits.check_str(
            name,
            missing
                .saturating_mul(ch.len_utf8())
                .saturating_add(s.len()),
        )?;
        let mut out: String = std::iter::repeat_n(ch, missing).collect();
        out.push_str(s);
        Ok(Value::Str(out))
    })
}

/// contains / starts_with / ends_with / eq_ignore_case.
pub(super) fn predicate(
    func: Func,
    name: &'static str,
    args: &[Value],
) -> Result<Value, EvalError> {
    let subject = at(args, 0);
    if func == Func::Contains
        && let Value::List(items) = subject
    {
        return Ok(Value::Bool(items.contains(at(args, 1))));
    }
    if matches!(subject, Value::DateTime(_) | Value::Clear) {
        return Err(type_error(name, "Str or List", subject));
    }
    let needle = text_at(name, args, 1)?;
    any_text(name, subject, &mut |s| {
        Ok(match func {
            Func::Contains => s.contains(needle.as_ref()),
            Func::StartsWith => s.starts_with(needle.as_ref()),
            Func::EndsWith => s.ends_with(needle.as_ref()),
            _ => s.to_lowercase() == needle.to_lowercase(),
        })
    })
}
