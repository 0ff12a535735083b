//! Syntax, operators, precedence, null propagation and error positions.

use super::{compile_err, list, run, run_err, s, scope};
use crate::{EvalErrorKind, MapScope, Position, Program, Value};

#[test]
fn literals() {
    assert_eq!(run("42"), Value::Int(42));
    assert_eq!(run("true"), Value::Bool(true));
    assert_eq!(run("false"), Value::Bool(false));
    assert_eq!(run("null"), Value::Null);
    assert_eq!(run("'single'"), s("single"));
    assert_eq!(run(r#""double""#), s("double"));
}

#[test]
fn string_escapes() {
    assert_eq!(run(r#""a\nb\tc\rd\\e\"f\'g""#), s("a\nb\tc\rd\\e\"f'g"));
    assert_eq!(run(r#"'\u{e9}\u{1F600}'"#), s("é😀"));
    assert_eq!(compile_err(r#""\q""#).message, "unknown escape sequence");
    assert!(compile_err(r#""\u{110000}""#).message.contains("\\u"));
    assert!(compile_err(r#""\u{}""#).message.contains("\\u"));
    assert_eq!(compile_err("'open").message, "unterminated string literal");
}

#[test]
fn attribute_references() {
    assert_eq!(run("Employee_Name"), s("Doe, Jane M"));
    assert_eq!(run("`Employee Name`"), s("spaced"));
    assert_eq!(run("`msDS-cloudExtensionAttribute1`"), s("ext"));
    assert_eq!(run(r#"attr("Employee Name")"#), s("spaced"));
    assert_eq!(run(r#"attr("Emp" + "ty")"#), s(""));
    assert_eq!(run("Missing"), Value::Null);
    assert_eq!(run("Empty"), s(""));
    assert_eq!(compile_err("``").message, "empty attribute name");
}

#[test]
fn referenced_attributes_are_collected_once_in_order() {
    let p = Program::compile(
        r#"trim(GivenName) + `Employee Name` + attr("Mail") + GivenName + attr(Surname) + ref("manager", "mail")"#,
    )
    .unwrap();
    assert_eq!(
        p.referenced_attributes(),
        ["GivenName", "Employee Name", "Mail", "Surname", "manager"]
    );
    assert!(p.source().starts_with("trim(GivenName)"));
}

#[test]
fn arithmetic_and_concatenation() {
    assert_eq!(run("1 + 2 * 3"), Value::Int(7));
    assert_eq!(run("(1 + 2) * 3"), Value::Int(9));
    assert_eq!(run("10 - 4 - 3"), Value::Int(3));
    assert_eq!(run("7 / 2"), Value::Int(3));
    assert_eq!(run("7 % 4"), Value::Int(3));
    assert_eq!(run("-7 / 2"), Value::Int(-3));
    assert_eq!(run("--3"), Value::Int(3));
    assert_eq!(run("'a' + 1"), s("a1"));
    assert_eq!(run("1 + 'a'"), s("1a"));
    assert_eq!(run("'x' + true"), s("xtrue"));
    assert_eq!(run("1 + 2 + 'a'"), s("3a"));
    assert_eq!(run("'a' + 1 + 2"), s("a12"));
}

#[test]
fn arithmetic_errors() {
    assert_eq!(
        run_err("1 / 0").kind(),
        &EvalErrorKind::DivisionByZero { op: "/" }
    );
    assert_eq!(
        run_err("1 % 0").kind(),
        &EvalErrorKind::DivisionByZero { op: "%" }
    );
    assert_eq!(
        run_err("9223372036854775807 + 1").kind(),
        &EvalErrorKind::Overflow { op: "+" }
    );
    assert_eq!(
        run_err("-9223372036854775807 - 2").kind(),
        &EvalErrorKind::Overflow { op: "-" }
    );
    assert_eq!(
        run_err("9223372036854775807 * 2").kind(),
        &EvalErrorKind::Overflow { op: "*" }
    );
    assert_eq!(
        run_err("(-9223372036854775807 - 1) / -1").kind(),
        &EvalErrorKind::Overflow { op: "/" }
    );
    assert_eq!(
        run_err("-(-9223372036854775807 - 1)").kind(),
        &EvalErrorKind::Overflow { op: "-" }
    );
    assert_eq!(
        compile_err("99999999999999999999").message,
        "integer literal too large"
    );
    let e = run_err("true - 1");
    assert_eq!(
        e.to_string(),
        "-: expected Int, found Bool in rule `true - 1` at line 1, column 6"
    );
    assert!(run_err("Groups + 1").to_string().contains("found List"));
    assert!(
        run_err("-'a'")
            .to_string()
            .contains("expected Int, found Str")
    );
}

#[test]
fn null_propagates_through_operators() {
    for src in [
        "Missing + 1",
        "'a' + Missing",
        "Missing * 2",
        "-Missing",
        "Missing < 3",
        "1 >= Missing",
    ] {
        assert_eq!(run(src), Value::Null, "{src}");
    }
    assert_eq!(run("null == null"), Value::Bool(true));
    assert_eq!(run("Missing == null"), Value::Bool(true));
    assert_eq!(run("Empty == null"), Value::Bool(false));
    assert_eq!(run("Missing != 'x'"), Value::Bool(true));
}

#[test]
fn comparisons() {
    assert_eq!(run("1 < 2"), Value::Bool(true));
    assert_eq!(run("2 <= 2"), Value::Bool(true));
    assert_eq!(run("'b' > 'a'"), Value::Bool(true));
    assert_eq!(run("3 >= 4"), Value::Bool(false));
    assert_eq!(run("1 == 1"), Value::Bool(true));
    assert_eq!(run("1 == '1'"), Value::Bool(false));
    assert_eq!(run("1 != '1'"), Value::Bool(true));
    assert_eq!(
        run("Groups == list('Staff', 'Admins', 'Staff')"),
        Value::Bool(true)
    );
    let e = run_err("1 < 'a'");
    assert_eq!(
        e.kind(),
        &EvalErrorKind::Ordering {
            op: "<",
            left: "Int",
            right: "Str"
        }
    );
    assert_eq!(e.position(), Some(Position { line: 1, column: 3 }));
}

#[test]
fn logic_and_conditions() {
    assert_eq!(run("true and false"), Value::Bool(false));
    assert_eq!(run("true && true"), Value::Bool(true));
    assert_eq!(run("false or true"), Value::Bool(true));
    assert_eq!(run("false || false"), Value::Bool(false));
    assert_eq!(run("not true"), Value::Bool(false));
    assert_eq!(run("!false"), Value::Bool(true));
    assert_eq!(run("not Missing"), Value::Bool(true));
    assert_eq!(run("Missing or true"), Value::Bool(true));
    assert_eq!(run("Missing and true"), Value::Bool(false));
    // Short circuit: the right side is not evaluated.
    assert_eq!(run("false and 1 / 0 == 1"), Value::Bool(false));
    assert_eq!(run("true or 1 / 0 == 1"), Value::Bool(true));
    let e = run_err("Age and true");
    assert_eq!(
        e.kind(),
        &EvalErrorKind::Condition {
            op: "and",
            found: "Int"
        }
    );
    assert!(
        run_err("if 'x' then 1 else 2")
            .to_string()
            .contains("condition of `if` must be Bool, found Str")
    );
    assert!(run_err("not 3").to_string().contains("found Int"));
}

#[test]
fn if_then_else() {
    assert_eq!(run("if Active then 'yes' else 'no'"), s("yes"));
    assert_eq!(run("if Missing then 'yes' else 'no'"), s("no"));
    assert_eq!(
        run("if false then 1 else if true then 2 else 3"),
        Value::Int(2)
    );
    assert_eq!(run("if true then 1 else 2 + 10"), Value::Int(1));
    assert_eq!(run("if false then 1 else 2 + 10"), Value::Int(12));
    assert_eq!(run("5 + if true then 1 else 2"), Value::Int(6));
    assert_eq!(run("if false then 1 / 0 else 0"), Value::Int(0));
    assert!(
        compile_err("if true then 1")
            .message
            .contains("expected `else`")
    );
}

#[test]
fn precedence() {
    assert_eq!(run("1 + 2 == 3 and 2 * 3 > 5 or false"), Value::Bool(true));
    assert_eq!(run("true or false and false"), Value::Bool(true));
    assert_eq!(run("-2 * 3"), Value::Int(-6));
    assert_eq!(run("2 + 3 % 2"), Value::Int(3));
    assert_eq!(run("1 < 2 == true"), Value::Bool(true));
    assert_eq!(run("-list(1, 2)[0]"), Value::Int(-1));
}

#[test]
fn not_binds_tighter_than_comparison() {
    // `not 1 == 2` is `(not 1) == 2`, which fails because `not` needs a Bool.
    assert!(
        run_err("not 1 == 2")
            .to_string()
            .contains("condition of `not`")
    );
    assert_eq!(run("not (1 == 2)"), Value::Bool(true));
}

#[test]
fn indexing() {
    assert_eq!(run("Groups[0]"), s("Staff"));
    assert_eq!(run("Groups[-1]"), s("Staff"));
    assert_eq!(run("Groups[-2]"), s("Admins"));
    assert_eq!(run("Groups[3]"), Value::Null);
    assert_eq!(run("Groups[-4]"), Value::Null);
    assert_eq!(run("GivenName[2]"), s("ë"));
    assert_eq!(run("GivenName[-1]"), s("ë"));
    assert_eq!(run("GivenName[9]"), Value::Null);
    assert_eq!(run("Missing[0]"), Value::Null);
    assert_eq!(run("Groups[Missing]"), Value::Null);
    assert_eq!(run("split('a,b;c', ',')[1][0]"), s("b"));
    assert!(
        run_err("Age[0]")
            .to_string()
            .contains("expected List or Str, found Int")
    );
    assert!(
        run_err("Groups['x']")
            .to_string()
            .contains("expected Int index, found Str")
    );
}

#[test]
fn compile_errors_name_line_and_column() {
    let e = compile_err("trim(GivenName");
    assert_eq!((e.line, e.column), (1, 15));
    assert_eq!(
        e.to_string(),
        "line 1, column 15: expected `,` or `)`, found end of input"
    );
    let e = compile_err("lower(x)\n  + frobnicate(y)");
    assert_eq!((e.line, e.column), (2, 5));
    assert_eq!(e.message, "unknown function `frobnicate`");
    let e = compile_err("trim(a, b)");
    assert_eq!(
        e.to_string(),
        "line 1, column 1: function `trim` takes 1 argument, got 2"
    );
    assert!(
        compile_err("substring(a)")
            .message
            .contains("takes 2 to 3 arguments")
    );
    assert!(
        compile_err("coalesce()")
            .message
            .contains("at least 1 argument")
    );
    assert_eq!(
        compile_err("a = b").message,
        "unexpected `=`; use `==` to compare"
    );
    assert!(compile_err("a b").message.contains("after the end"));
    assert!(
        compile_err("1 +")
            .message
            .contains("expected an expression")
    );
    assert!(compile_err("then").message.contains("unexpected keyword"));
    assert!(
        compile_err("a $ b")
            .message
            .contains("unexpected character")
    );
    assert!(compile_err("12abc").message.contains("invalid number"));
    assert!(compile_err("(1").message.contains("expected `)`"));
    assert!(compile_err("x[1").message.contains("expected `]`"));
    assert_eq!(
        compile_err("").message,
        "expected an expression, found end of input"
    );
}

#[test]
fn literal_regex_and_format_errors_are_compile_errors() {
    let e = compile_err(r#"regex_match(Mail, "(unclosed")"#);
    assert_eq!((e.line, e.column), (1, 19));
    assert!(e.message.starts_with("invalid regular expression"));
    let e = compile_err(r#"date_format(now(), "%Q")"#);
    assert_eq!(
        (e.line, e.column, e.message.as_str()),
        (1, 20, "invalid date format")
    );
}

#[test]
fn eval_errors_name_function_position_and_rule_but_not_values() {
    let e = run_err("lower(x) +\n  to_int(GivenName)");
    assert_eq!(e.position(), Some(Position { line: 2, column: 3 }));
    let text = e.to_string();
    assert_eq!(
        text,
        "to_int: value of type Str is not an integer in rule `lower(x) +…` at line 2, column 3"
    );
    assert!(!text.contains("Zoë"));
    let secret = MapScope::new().with("Password", "hunter2");
    for src in [
        "to_int(Password)",
        "to_bool(Password)",
        "date_parse(Password, '%Y')",
        "Password < 1",
        "Password - 1",
    ] {
        let e = Program::compile(src).unwrap().eval(&secret).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}

#[test]
fn program_is_shareable() {
    fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug>() {}
    assert_traits::<Program>();
    let p = Program::compile("upper(GivenName)").unwrap();
    let copy = p.clone();
    let handle = std::thread::spawn(move || copy.eval(&scope()).unwrap());
    assert_eq!(handle.join().unwrap(), p.eval(&scope()).unwrap());
    assert_eq!(list(&["a"]), Value::List(vec![s("a")]));
}

#[test]
fn whitespace_and_multiline_sources() {
    assert_eq!(run("  trim(\n\t GivenName\n)  "), s("Zoë"));
    assert_eq!(crate::function_names().count(), 49);
}
