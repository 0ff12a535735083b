//! The function library: the name table used at compile time and the dispatcher used at
//! evaluation time.
//!
//! Each family lives in its own module. Functions given Null return Null unless they are
//! listed by [`Func::propagates_null`] as handling Null themselves.

mod args;
mod convert;
mod dates;
mod lists;
mod pattern;
mod text;

use crate::ast::Call;
use crate::error::EvalError;
use crate::eval::Ctx;
use crate::value::Value;

pub(crate) use pattern::build_regex;

/// A resolved function identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Trim,
    Lower,
    Upper,
    Nfc,
    Nfkc,
    CollapseSpaces,
    TitleCase,
    Ascii,
    Len,
    Substring,
    Left,
    Right,
    Replace,
    RegexReplace,
    RegexMatch,
    RegexCapture,
    Split,
    Join,
    Word,
    Contains,
    StartsWith,
    EndsWith,
    PadLeft,
    EqIgnoreCase,
    EmailDomain,
    List,
    First,
    Last,
    Count,
    Item,
    Distinct,
    Sort,
    Flatten,
    Coalesce,
    IsNull,
    IsEmpty,
    Clear,
    Default,
    ToString,
    ToInt,
    ToBool,
    DateParse,
    DateFormat,
    Now,
    AddDays,
    DaysBetween,
    Ref,
    Lookup,
    Attr,
}

/// Name and argument count of a function.
pub(crate) struct Spec {
    pub name: &'static str,
    pub func: Func,
    pub min: usize,
    pub max: usize,
}

/// `Spec::max` of functions taking any number of arguments.
pub(crate) const VARIADIC: usize = usize::MAX;

const fn spec(name: &'static str, func: Func, min: usize, max: usize) -> Spec {
    Spec {
        name,
        func,
        min,
        max,
    }
}

const SPECS: &[Spec] = &[
    spec("trim", Func::Trim, 1, 1),
    spec("lower", Func::Lower, 1, 1),
    spec("upper", Func::Upper, 1, 1),
    spec("nfc", Func::Nfc, 1, 1),
    spec("nfkc", Func::Nfkc, 1, 1),
    spec("collapse_spaces", Func::CollapseSpaces, 1, 1),
    spec("title_case", Func::TitleCase, 1, 1),
    spec("ascii", Func::Ascii, 1, 1),
    spec("len", Func::Len, 1, 1),
    spec("substring", Func::Substring, 2, 3),
    spec("left", Func::Left, 2, 2),
    spec("right", Func::Right, 2, 2),
    spec("replace", Func::Replace, 3, 3),
    spec("regex_replace", Func::RegexReplace, 3, 3),
    spec("regex_match", Func::RegexMatch, 2, 2),
    spec("regex_capture", Func::RegexCapture, 3, 3),
    spec("split", Func::Split, 2, 2),
    spec("join", Func::Join, 2, 2),
    spec("word", Func::Word, 2, 3),
    spec("contains", Func::Contains, 2, 2),
    spec("starts_with", Func::StartsWith, 2, 2),
    spec("ends_with", Func::EndsWith, 2, 2),
    spec("pad_left", Func::PadLeft, 3, 3),
    spec("eq_ignore_case", Func::EqIgnoreCase, 2, 2),
    spec("email_domain", Func::EmailDomain, 1, 1),
    spec("list", Func::List, 0, VARIADIC),
    spec("first", Func::First, 1, 1),
    spec("last", Func::Last, 1, 1),
    spec("count", Func::Count, 1, 1),
    spec("item", Func::Item, 2, 2),
    spec("distinct", Func::Distinct, 1, 1),
    spec("sort", Func::Sort, 1, 1),
    spec("flatten", Func::Flatten, 1, 1),
    spec("coalesce", Func::Coalesce, 1, VARIADIC),
    spec("is_null", Func::IsNull, 1, 1),
    spec("is_empty", Func::IsEmpty, 1, 1),
    spec("clear", Func::Clear, 0, 0),
    spec("default", Func::Default, 2, 2),
    spec("to_string", Func::ToString, 1, 1),
    spec("to_int", Func::ToInt, 1, 1),
    spec("to_bool", Func::ToBool, 1, 1),
    spec("date_parse", Func::DateParse, 2, 3),
    spec("date_format", Func::DateFormat, 2, 2),
    spec("now", Func::Now, 0, 0),
    spec("add_days", Func::AddDays, 2, 2),
    spec("days_between", Func::DaysBetween, 2, 2),
    spec("ref", Func::Ref, 2, 2),
    spec("lookup", Func::Lookup, 4, 4),
    spec("attr", Func::Attr, 1, 1),
];

/// The function called `name`, if any.
pub(crate) fn lookup(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

/// Names of all functions of the language.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    SPECS.iter().map(|s| s.name)
}

impl Func {
    /// False for the functions that handle Null themselves.
    fn propagates_null(self) -> bool {
        !matches!(
            self,
            Func::Coalesce
                | Func::Default
                | Func::IsNull
                | Func::IsEmpty
                | Func::Count
                | Func::List
                | Func::Flatten
        )
    }
}

/// Calls a resolved function with evaluated arguments, charging for input and output size.
pub(crate) fn call(ctx: &mut Ctx<'_>, call: &Call, args: Vec<Value>) -> Result<Value, EvalError> {
    if call.func.propagates_null() && args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    ctx.charge_size(args.iter().map(Value::weight).sum())?;
    let out = dispatch(ctx, call, args)?;
    ctx.charge_size(out.weight())?;
    Ok(out)
}

fn dispatch(ctx: &mut Ctx<'_>, call: &Call, args: Vec<Value>) -> Result<Value, EvalError> {
    let name = call.name;
    let limits = ctx.limits;
    match call.func {
        Func::Trim
        | Func::Lower
        | Func::Upper
        | Func::Nfc
        | Func::Nfkc
        | Func::CollapseSpaces
        | Func::TitleCase
        | Func::Ascii
        | Func::EmailDomain => text::transform(limits, call.func, name, &args),
        Func::Len => text::len(name, &args),
        Func::Substring | Func::Left | Func::Right => text::slice(call.func, name, &args),
        Func::Replace => text::replace(limits, name, &args),
        Func::PadLeft => text::pad_left(limits, name, &args),
        Func::Contains | Func::StartsWith | Func::EndsWith | Func::EqIgnoreCase => {
            text::predicate(call.func, name, &args)
        }
        Func::RegexReplace | Func::RegexMatch | Func::RegexCapture => {
            pattern::regex(limits, call, &args)
        }
        Func::Split => pattern::split(limits, name, &args),
        Func::Join => pattern::join(limits, name, &args),
        Func::Word => pattern::word(name, &args),
        Func::List
        | Func::First
        | Func::Last
        | Func::Count
        | Func::Item
        | Func::Distinct
        | Func::Sort
        | Func::Flatten => lists::call(limits, call.func, name, args),
        Func::Coalesce
        | Func::Default
        | Func::IsNull
        | Func::IsEmpty
        | Func::Clear
        | Func::ToString
        | Func::ToInt
        | Func::ToBool => convert::call(call.func, name, args),
        Func::DateParse | Func::DateFormat | Func::Now | Func::AddDays | Func::DaysBetween => {
            dates::call(ctx, call.func, name, &args)
        }
        Func::Ref | Func::Lookup | Func::Attr => reference(ctx, call.func, name, &args),
    }
}

fn reference(
    ctx: &Ctx<'_>,
    func: Func,
    name: &'static str,
    args: &[Value],
) -> Result<Value, EvalError> {
    let text = |i: usize| args::text_at(name, args, i);
    match func {
        Func::Attr => Ok(ctx.scope.attribute(&text(0)?)),
        Func::Ref => ctx.scope.referenced(&text(0)?, &text(1)?),
        _ => {
            let value = args::at(args, 2);
            ctx.scope.lookup(&text(0)?, &text(1)?, value, &text(3)?)
        }
    }
}
