//! Date functions. Formats are chrono strftime formats; a parsed text without a zone takes the
//! offset argument or UTC, never the local zone; `now()` comes from the scope.

use std::fmt::Write;

use chrono::format::StrftimeItems;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeDelta, TimeZone};

use super::Func;
use super::args::{at, int_at, map_each, text, text_at};
use crate::error::{EvalError, EvalErrorKind};
use crate::eval::Ctx;
use crate::ops::{overflow, type_error};
use crate::value::Value;

/// Longest output of one strftime specifier per source byte (`%+` gives 32 from 2).
const FORMAT_GROWTH: usize = 16;

pub(super) fn call(
    ctx: &Ctx<'_>,
    func: Func,
    name: &'static str,
    args: &[Value],
) -> Result<Value, EvalError> {
    match func {
        Func::Now => ctx.scope.now().map(Value::DateTime).ok_or_else(|| {
            let problem = "the evaluation context provides no current time";
            EvalErrorKind::Invalid {
                func: name,
                problem,
            }
            .into()
        }),
        Func::DateParse => {
            let format = text_at(name, args, 1)?;
            let offset = match args.get(2) {
                Some(v) => parse_offset(&text(name, v)?)
                    .ok_or_else(|| invalid(name, "invalid UTC offset"))?,
                None => {
                    FixedOffset::east_opt(0).ok_or_else(|| invalid(name, "invalid UTC offset"))?
                }
            };
            map_each(at(args, 0), &mut |v| {
                parse(name, &text(name, v)?, &format, offset)
            })
        }
        Func::DateFormat => {
            let format = text_at(name, args, 1)?;
            ctx.limits
                .check_str(name, format.len().saturating_mul(FORMAT_GROWTH))?;
            map_each(at(args, 0), &mut |v| {
                format_date(name, date(name, v)?, &format)
            })
        }
        Func::AddDays => {
            let days = int_at(name, args, 1)?;
            let delta = TimeDelta::try_days(days).ok_or_else(|| overflow(name))?;
            map_each(at(args, 0), &mut |v| {
                let moved = date(name, v)?
                    .checked_add_signed(delta)
                    .ok_or_else(|| overflow(name))?;
                Ok(Value::DateTime(moved))
            })
        }
        _ => {
            let (from, to) = (date(name, at(args, 0))?, date(name, at(args, 1))?);
            Ok(Value::Int(to.signed_duration_since(from).num_days()))
        }
    }
}

fn invalid(func: &'static str, problem: &'static str) -> EvalError {
    EvalErrorKind::Invalid { func, problem }.into()
}

fn date(name: &'static str, v: &Value) -> Result<DateTime<FixedOffset>, EvalError> {
    match v {
        Value::DateTime(d) => Ok(*d),
        other => Err(type_error(name, "DateTime", other)),
    }
}

/// Parses `s` with `format` (or RFC 3339 for `"iso"`), in `offset` when the text has no zone.
fn parse(
    name: &'static str,
    s: &str,
    format: &str,
    offset: FixedOffset,
) -> Result<Value, EvalError> {
    let s = s.trim();
    let parsed = if format == "iso" {
        DateTime::parse_from_rfc3339(s).ok().or_else(|| {
            ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d"]
                .iter()
                .find_map(|f| parse_naive(s, f, offset))
        })
    } else {
        DateTime::parse_from_str(s, format)
            .ok()
            .or_else(|| parse_naive(s, format, offset))
    };
    parsed
        .map(Value::DateTime)
        .ok_or_else(|| invalid(name, "text does not match the date format"))
}

fn parse_naive(s: &str, format: &str, offset: FixedOffset) -> Option<DateTime<FixedOffset>> {
    let naive = NaiveDateTime::parse_from_str(s, format).ok().or_else(|| {
        NaiveDate::parse_from_str(s, format)
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })?;
    offset.from_local_datetime(&naive).single()
}

/// `Z`, `UTC`, `+HH`, `+HHMM` or `+HH:MM` (and `-`).
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i32 = digits.get(0..2)?.parse().ok()?;
    let minutes: i32 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Some(0), |m| m.parse().ok())?;
    if minutes >= 60 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

fn format_date(
    name: &'static str,
    d: DateTime<FixedOffset>,
    format: &str,
) -> Result<Value, EvalError> {
    let items = StrftimeItems::new(format)
        .parse()
        .map_err(|_| invalid(name, "invalid date format"))?;
    let mut out = String::new();
    write!(out, "{}", d.format_with_items(items.iter()))
        .map_err(|_| invalid(name, "the date cannot be formatted with this format"))?;
    Ok(Value::Str(out))
}
