//! Builtins with POSIX extended regular expressions: `match` and `split`
//! (leftmost-longest, see [`crate::posix_regex`]).

use super::strings::{ctx, string_no_ctx};
use crate::error::{EvalError, Result};
use crate::eval::Eval;
use crate::posix_regex::{self, Captures, Regex, RegexError};
use crate::source::Span;
use crate::value::{PrimOp, Value};
use std::rc::Rc;

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "match",
        arity: 2,
        func: match_,
    },
    PrimOp {
        name: "split",
        arity: 2,
        func: split,
    },
];

/// Nix's error for a pattern that cannot be used.
fn regex_error(e: RegexError, pattern: &str) -> Box<EvalError> {
    match e {
        RegexError::Invalid => EvalError::new(format!("invalid regular expression '{pattern}'")),
        RegexError::Space => EvalError::new(format!(
            "memory limit exceeded by regular expression '{pattern}'"
        )),
    }
}

/// Forces the pattern argument and compiles it (cached).
fn compiled(ev: &mut Eval, v: &Value, what: &str) -> Result<(Rc<Regex>, String)> {
    let pattern = string_no_ctx(ev, v, what)?;
    let re = posix_regex::cached(&pattern).map_err(|e| regex_error(e, &pattern))?;
    Ok((re, pattern))
}

/// The group captures of a match as Nix values: strings, `null` where a group did not
/// take part.
fn group_values(hay: &[u8], caps: &Captures) -> Value {
    let items = caps[1..]
        .iter()
        .map(|c| match c {
            Some((s, e)) => Value::string(&hay[*s..*e]),
            None => Value::Null,
        })
        .collect();
    Value::list(items)
}

/// `match re s`: `null` unless `re` matches all of `s`, else the list of group captures.
fn match_(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let (re, pattern) = compiled(
        ev,
        &args[0],
        "while evaluating the first argument passed to builtins.match",
    )?;
    let s = ctx(
        ev.force_string(&args[1]),
        "while evaluating the second argument passed to builtins.match",
    )?;
    let hay = &s.s[..];
    match re.match_whole(hay).map_err(|e| regex_error(e, &pattern))? {
        Some(caps) => Ok(group_values(hay, &caps)),
        None => Ok(Value::Null),
    }
}

/// `split re s`: the pieces of `s` between matches of `re`, interleaved with the lists
/// of group captures of each match.
fn split(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let (re, pattern) = compiled(
        ev,
        &args[0],
        "while evaluating the first argument passed to builtins.split",
    )?;
    let s = ctx(
        ev.force_string(&args[1]),
        "while evaluating the second argument passed to builtins.split",
    )?;
    let hay = &s.s[..];
    let matches = re.find_all(hay).map_err(|e| regex_error(e, &pattern))?;
    if matches.is_empty() {
        // Nix returns the argument itself, context included.
        return Ok(Value::list(vec![Value::String(s)]));
    }
    let mut out = Vec::with_capacity(2 * matches.len() + 1);
    let mut last = 0;
    for caps in &matches {
        let (start, end) = caps[0].unwrap_or((last, last));
        out.push(Value::string(&hay[last..start]));
        out.push(group_values(hay, caps));
        last = end;
    }
    out.push(Value::string(&hay[last..]));
    Ok(Value::list(out))
}
