//! String functions.

use super::{list, run, run_err, s};
use crate::{EvalErrorKind, Value};

#[test]
fn name_splitting() {
    assert_eq!(run(r#"trim(split(Employee_Name, ",")[1])"#), s("Jane M"));
    assert_eq!(run(r#"trim(split(Employee_Name, ",")[0])"#), s("Doe"));
    assert_eq!(run(r#"word(Employee_Name, 0, ",")"#), s("Doe"));
    assert_eq!(run(r#"word(Employee_Name, 1, ",")"#), s("Jane M"));
    assert_eq!(run(r#"word(word(Employee_Name, 1, ","), 0)"#), s("Jane"));
}

#[test]
fn trim_case_and_normalization() {
    assert_eq!(run("trim('  a b  ')"), s("a b"));
    assert_eq!(run("lower('ÀB')"), s("àb"));
    assert_eq!(run("upper('straße')"), s("STRASSE"));
    assert_eq!(run("nfc('e\\u{301}')"), s("é"));
    assert_eq!(run("nfkc('ﬁ①')"), s("fi1"));
    assert_eq!(
        run("collapse_spaces('  Jane \\t  Mary\\n Doe ')"),
        s("Jane Mary Doe")
    );
    assert_eq!(
        run("title_case(\"o'BRIEN-smith jr\")"),
        s("O'Brien-Smith Jr")
    );
    assert_eq!(run("title_case('élodie')"), s("Élodie"));
}

#[test]
fn ascii_folding() {
    assert_eq!(run("ascii('Zoë Ørsted-Łukasz')"), s("Zoe Orsted-Lukasz"));
    assert_eq!(
        run("ascii(GivenName + '.' + Surname)"),
        s("Zoe.Orsted-Lukasz")
    );
    assert_eq!(
        run("ascii('Straße Æsir Œuvre đuro Þór ø')"),
        s("Strasse AEsir OEuvre duro THor o")
    );
    assert_eq!(run("ascii('Ñuñez Çelik 李')"), s("Nunez Celik "));
    assert_eq!(run("lower(ascii('Jürgen'))"), s("jurgen"));
    assert_eq!(
        run("lower(ascii(left(GivenName, 1) + Surname))"),
        s("zorsted-lukasz")
    );
}

#[test]
fn len_substring_left_right() {
    assert_eq!(run("len('Zoë')"), Value::Int(3));
    assert_eq!(run("len(Groups)"), Value::Int(3));
    assert_eq!(run("len(12345)"), Value::Int(5));
    assert_eq!(run("substring('abcdef', 1, 3)"), s("bcd"));
    assert_eq!(run("substring('abcdef', 4)"), s("ef"));
    assert_eq!(run("substring('abcdef', -2)"), s("ef"));
    assert_eq!(run("substring('abcdef', 10, 2)"), s(""));
    assert_eq!(run("substring('abcdef', 2, -1)"), s(""));
    assert_eq!(run("substring('abcdef', -100, 2)"), s("ab"));
    assert_eq!(run("left('Zoë', 2)"), s("Zo"));
    assert_eq!(run("left('ab', 5)"), s("ab"));
    assert_eq!(run("left('ab', -1)"), s(""));
    assert_eq!(run("right('Zoë', 2)"), s("oë"));
    assert_eq!(run("right('ab', 9)"), s("ab"));
    assert_eq!(run("left(GivenName, 1) + Surname"), s("ZØrsted-Łukasz"));
    assert!(
        run_err("left('ab', 'x')")
            .to_string()
            .contains("left: expected Int, found Str")
    );
}

#[test]
fn replace_and_pad() {
    assert_eq!(run("replace('a-b-c', '-', '.')"), s("a.b.c"));
    assert_eq!(run("replace('abc', '', 'x')"), s("abc"));
    assert_eq!(run("pad_left(42, 6, '0')"), s("000042"));
    assert_eq!(run("pad_left('1234567', 6, '0')"), s("1234567"));
    assert_eq!(run("pad_left('7', -3, '0')"), s("7"));
    let e = run_err("pad_left('7', 3, '00')");
    assert_eq!(
        e.kind(),
        &EvalErrorKind::Invalid {
            func: "pad_left",
            problem: "the pad argument must be exactly one character"
        }
    );
}

#[test]
fn regexes() {
    assert_eq!(
        run(r#"regex_replace("Jane  Doe", "\\s+", ".")"#),
        s("Jane.Doe")
    );
    assert_eq!(
        run(r#"regex_replace("Doe, Jane", "(\\w+), (\\w+)", "$2 $1")"#),
        s("Jane Doe")
    );
    assert_eq!(
        run(r#"regex_match(Mail, "(?i)@example\\.com$")"#),
        Value::Bool(true)
    );
    assert_eq!(run(r#"regex_match("abc", "^\\d+$")"#), Value::Bool(false));
    assert_eq!(run(r#"regex_capture(Mail, "^([^.]+)\\.", 1)"#), s("Jane"));
    assert_eq!(run(r#"regex_capture(Mail, "^(x)?J", 1)"#), Value::Null);
    assert_eq!(run(r#"regex_capture("abc", "\\d", 0)"#), Value::Null);
    assert_eq!(run(r#"regex_capture("abc", "b", 7)"#), Value::Null);
    assert_eq!(run(r#"regex_match("a1", "\\d" + "$")"#), Value::Bool(true));
}

#[test]
fn split_join_word() {
    assert_eq!(run("split('a;b;;c', ';')"), list(&["a", "b", "", "c"]));
    assert_eq!(run("split('abc', '')"), list(&["a", "b", "c"]));
    assert_eq!(run("join(Groups, '|')"), s("Staff|Admins|Staff"));
    assert_eq!(run("join('single', '|')"), s("single"));
    assert_eq!(run("join(list('a', null, 'b'), ',')"), s("a,b"));
    assert_eq!(run("join(list(1, 2), '+')"), s("1+2"));
    assert_eq!(run("word('  Jane   Mary Doe ', 1)"), s("Mary"));
    assert_eq!(run("word('Jane Mary Doe', -1)"), s("Doe"));
    assert_eq!(run("word('Jane', 3)"), Value::Null);
    assert_eq!(run("word('a, ,b', 1, ',')"), s("b"));
}

#[test]
fn predicates() {
    assert_eq!(run("contains(Mail, 'Doe')"), Value::Bool(true));
    assert_eq!(run("contains(Groups, 'Admins')"), Value::Bool(true));
    assert_eq!(run("contains(Groups, 'admins')"), Value::Bool(false));
    assert_eq!(run("starts_with(Mail, 'Jane')"), Value::Bool(true));
    assert_eq!(run("ends_with(Mail, '.COM')"), Value::Bool(true));
    assert_eq!(run("starts_with(Groups, 'Adm')"), Value::Bool(true));
    assert_eq!(run("ends_with(Groups, 'x')"), Value::Bool(false));
    assert_eq!(run("eq_ignore_case('ÄBC', 'äbc')"), Value::Bool(true));
    assert_eq!(run("eq_ignore_case(Groups, 'ADMINS')"), Value::Bool(true));
    assert_eq!(run("eq_ignore_case('a', 'b')"), Value::Bool(false));
}

#[test]
fn email_domain() {
    assert_eq!(run("email_domain(Mail)"), s("example.com"));
    assert_eq!(run("email_domain('no-at-sign')"), Value::Null);
    assert_eq!(run("email_domain('a@b@Corp.Example')"), s("corp.example"));
    assert_eq!(run("email_domain('x@')"), Value::Null);
}

#[test]
fn string_functions_map_over_lists() {
    assert_eq!(run("trim(list(' a ', 'b '))"), list(&["a", "b"]));
    assert_eq!(run("upper(Groups)"), list(&["STAFF", "ADMINS", "STAFF"]));
    assert_eq!(run("left(Groups, 1)"), list(&["S", "A", "S"]));
    assert_eq!(
        run("replace(Groups, 'a', 'A')"),
        list(&["StAff", "Admins", "StAff"])
    );
    assert_eq!(
        run("regex_replace(Groups, '^', 'CN=')"),
        list(&["CN=Staff", "CN=Admins", "CN=Staff"])
    );
}

#[test]
fn string_functions_propagate_null() {
    for f in [
        "trim",
        "lower",
        "upper",
        "nfc",
        "nfkc",
        "collapse_spaces",
        "title_case",
        "ascii",
        "len",
        "email_domain",
    ] {
        assert_eq!(run(&format!("{f}(Missing)")), Value::Null, "{f}");
    }
    for src in [
        "substring(Missing, 1)",
        "left('a', Missing)",
        "replace(Missing, 'a', 'b')",
        "split(Missing, ',')",
        "join(Missing, ',')",
        "word(Missing, 0)",
        "contains(Missing, 'a')",
        "pad_left(Missing, 3, '0')",
        "regex_match(Missing, 'a')",
        "eq_ignore_case('a', Missing)",
    ] {
        assert_eq!(run(src), Value::Null, "{src}");
    }
}

#[test]
fn string_functions_reject_other_types() {
    assert!(
        run_err("trim(now())")
            .to_string()
            .contains("trim: expected Str, found DateTime")
    );
    assert!(
        run_err("lower(clear())")
            .to_string()
            .contains("found Clear")
    );
    assert!(
        run_err("contains(now(), 'x')")
            .to_string()
            .contains("contains: expected Str or List")
    );
}
