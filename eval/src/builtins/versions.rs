//! Builtins on package names and versions: `parseDrvName`, `splitVersion`,
//! `compareVersions`.

use super::strings::string_no_ctx;
use crate::error::Result;
use crate::eval::Eval;
use crate::source::Span;
use crate::symbol::Symbol;
use crate::value::{Attr, Attrs, PrimOp, Value};
use std::cmp::Ordering;

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "parseDrvName",
        arity: 1,
        func: parse_drv_name,
    },
    PrimOp {
        name: "splitVersion",
        arity: 1,
        func: split_version,
    },
    PrimOp {
        name: "compareVersions",
        arity: 2,
        func: compare_versions_op,
    },
];

/// Splits `name-version` at the first dash followed by a non-letter.
pub fn split_drv_name(s: &str) -> (&str, &str) {
    let b = s.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'-' && b.get(i + 1).is_some_and(|c| !c.is_ascii_alphabetic()) {
            return (&s[..i], &s[i + 1..]);
        }
    }
    (s, "")
}

/// The next version component after `*pos`: skips `.` and `-` separators, then takes a
/// run of digits or a run of other non-separator characters. Empty at the end.
fn next_component<'a>(s: &'a str, pos: &mut usize) -> &'a str {
    let b = s.as_bytes();
    while *pos < b.len() && matches!(b[*pos], b'.' | b'-') {
        *pos += 1;
    }
    let start = *pos;
    if start < b.len() && b[start].is_ascii_digit() {
        while *pos < b.len() && b[*pos].is_ascii_digit() {
            *pos += 1;
        }
    } else {
        while *pos < b.len() && !b[*pos].is_ascii_digit() && !matches!(b[*pos], b'.' | b'-') {
            *pos += 1;
        }
    }
    // Runs end next to ASCII bytes or the end, so on char boundaries.
    &s[start..*pos]
}

/// The components of a version string (`splitVersion`).
pub fn split_version_str(s: &str) -> Vec<&str> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < s.len() {
        let c = next_component(s, &mut pos);
        if c.is_empty() {
            break;
        }
        out.push(c);
    }
    out
}

/// Nix's order on version components: numbers numerically (a number is a digit run that
/// fits a C `int`), missing < number, `pre` < anything, strings < numbers, else bytewise.
fn component_lt(c1: &str, c2: &str) -> bool {
    let n1 = c1
        .parse::<i32>()
        .ok()
        .filter(|_| c1.bytes().all(|b| b.is_ascii_digit()));
    let n2 = c2
        .parse::<i32>()
        .ok()
        .filter(|_| c2.bytes().all(|b| b.is_ascii_digit()));
    match (n1, n2) {
        (Some(a), Some(b)) => a < b,
        _ if c1.is_empty() && n2.is_some() => true,
        _ if c1 == "pre" && c2 != "pre" => true,
        _ if c2 == "pre" => false,
        (_, Some(_)) => true,
        (Some(_), _) => false,
        _ => c1 < c2,
    }
}

/// Compares two version strings component by component (`compareVersions`).
pub fn compare_versions(v1: &str, v2: &str) -> Ordering {
    let (mut p1, mut p2) = (0, 0);
    while p1 < v1.len() || p2 < v2.len() {
        let c1 = next_component(v1, &mut p1);
        let c2 = next_component(v2, &mut p2);
        if component_lt(c1, c2) {
            return Ordering::Less;
        }
        if component_lt(c2, c1) {
            return Ordering::Greater;
        }
    }
    Ordering::Equal
}

/// `parseDrvName s`: `{ name; version; }`.
fn parse_drv_name(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let s = string_no_ctx(
        ev,
        &args[0],
        "while evaluating the first argument passed to builtins.parseDrvName",
    )?;
    let (name, version) = split_drv_name(&s);
    let attr = |n: &str, v: &str| Attr {
        name: Symbol::new(n),
        value: Value::string_encoded(v),
        span: Span::NONE,
    };
    Ok(Value::Attrs(Attrs::from_entries(vec![
        attr("name", name),
        attr("version", version),
    ])))
}

/// `splitVersion s`: the list of version components.
fn split_version(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let s = string_no_ctx(
        ev,
        &args[0],
        "while evaluating the first argument passed to builtins.splitVersion",
    )?;
    Ok(Value::list(
        split_version_str(&s)
            .into_iter()
            .map(Value::string_encoded)
            .collect(),
    ))
}

/// `compareVersions a b`: -1, 0 or 1.
fn compare_versions_op(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let a = string_no_ctx(
        ev,
        &args[0],
        "while evaluating the first argument passed to builtins.compareVersions",
    )?;
    let b = string_no_ctx(
        ev,
        &args[1],
        "while evaluating the second argument passed to builtins.compareVersions",
    )?;
    Ok(Value::Int(match compare_versions(&a, &b) {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drv_names() {
        // From Nix's eval-okay-versions.nix.
        assert_eq!(split_drv_name("hello-1.0.2"), ("hello", "1.0.2"));
        assert_eq!(split_drv_name("hello"), ("hello", ""));
        assert_eq!(
            split_drv_name("915resolution-0.5.2"),
            ("915resolution", "0.5.2")
        );
        assert_eq!(
            split_drv_name("xf86-video-i810-1.7.4"),
            ("xf86-video-i810", "1.7.4")
        );
        assert_eq!(
            split_drv_name("name-that-ends-with-dash--1.0"),
            ("name-that-ends-with-dash", "-1.0")
        );
    }

    #[test]
    fn versions() {
        use Ordering::*;
        // From Nix's eval-okay-versions.nix.
        for (a, b, want) in [
            ("1.0", "2.3", Less),
            ("2.1", "2.3", Less),
            ("2.3", "2.3", Equal),
            ("2.5", "2.3", Greater),
            ("3.1", "2.3", Greater),
            ("2.3.1", "2.3", Greater),
            ("2.3.1", "2.3a", Greater),
            ("2.3pre1", "2.3", Less),
            ("2.3pre3", "2.3pre12", Less),
            ("2.3a", "2.3c", Less),
            ("2.3pre1", "2.3c", Less),
            ("2.3pre1", "2.3q", Less),
        ] {
            assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
            assert_eq!(compare_versions(b, a), want.reverse(), "{b} vs {a}");
        }
        assert_eq!(split_version_str("1.2.3"), vec!["1", "2", "3"]);
    }
}
