//! Builtins for control flow and diagnostics: `throw`, `abort`, `seq`, `deepSeq`, `trace`,
//! `warn`, `addErrorContext`, `tryEval`, `getEnv`, `break`.

use crate::error::{ErrorExt, ErrorKind, EvalError, Result};
use crate::eval::{CoerceOpts, Eval};
use crate::print::show_for_error;
use crate::source::Span;
use crate::symbol::known;
use crate::value::{Attr, Attrs, PrimOp, Value};
use std::collections::HashSet;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "throw",
        arity: 1,
        func: throw,
    },
    PrimOp {
        name: "abort",
        arity: 1,
        func: abort,
    },
    PrimOp {
        name: "seq",
        arity: 2,
        func: seq,
    },
    PrimOp {
        name: "deepSeq",
        arity: 2,
        func: deep_seq,
    },
    PrimOp {
        name: "trace",
        arity: 2,
        func: trace,
    },
    PrimOp {
        name: "traceVerbose",
        arity: 2,
        func: trace_verbose,
    },
    PrimOp {
        name: "warn",
        arity: 2,
        func: warn,
    },
    PrimOp {
        name: "break",
        arity: 1,
        func: break_,
    },
    PrimOp {
        name: "addErrorContext",
        arity: 2,
        func: add_error_context,
    },
    PrimOp {
        name: "tryEval",
        arity: 1,
        func: try_eval,
    },
    PrimOp {
        name: "getEnv",
        arity: 1,
        func: get_env,
    },
];

/// Adds a position-less `… <msg>` frame to an error, as Nix's `errorCtx` arguments do.
pub(super) fn with_ctx<T>(r: Result<T>, msg: &str) -> Result<T> {
    r.context(Span::NONE, || msg.to_string())
}

/// Coerces an error message argument (`throw`, `abort`, `addErrorContext`) to its text.
fn message_of(ev: &mut Eval, v: &Value, what: &str, copy_to_store: bool) -> Result<String> {
    let opts = CoerceOpts {
        coerce_more: false,
        copy_to_store,
    };
    let s = with_ctx(ev.coerce_to_string(v, opts), what)?;
    Ok(s.encoded().into_owned())
}

/// `throw msg`: a catchable error whose message is `msg`.
fn throw(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    // "builtin.throw" (sic) is Nix's wording.
    let msg = message_of(
        ev,
        &args[0],
        "while evaluating the error message passed to builtin.throw",
        true,
    )?;
    Err(EvalError::of_kind(ErrorKind::Throw, msg))
}

/// `abort msg`: an uncatchable error.
fn abort(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let msg = message_of(
        ev,
        &args[0],
        "while evaluating the error message passed to builtins.abort",
        true,
    )?;
    Err(EvalError::of_kind(
        ErrorKind::Abort,
        format!("evaluation aborted with the following error message: '{msg}'"),
    ))
}

/// `seq a b`: forces `a` to weak head normal form, returns `b`.
fn seq(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    ev.force(&args[0])?;
    ev.force(&args[1])
}

/// `deepSeq a b`: forces `a` completely, returns `b`.
fn deep_seq(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    ev.force_deep(&args[0])?;
    ev.force(&args[1])
}

/// `trace e r`: prints `trace: <e>` to stderr, returns `r`.
fn trace(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let v = ev.force(&args[0])?;
    let text = match &v {
        Value::String(s) => s.encoded().into_owned(),
        other => show_traced(ev, other),
    };
    ev.emit_line(format!("trace: {text}"));
    ev.force(&args[1])
}

/// `traceVerbose e r`: `r`; tracing happens only with Nix's `trace-verbose` setting, which
/// kith does not have.
fn trace_verbose(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    ev.force(&args[1])
}

/// `warn msg r`: prints `evaluation warning: msg` to stderr, returns `r`.
fn warn(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let msg = with_ctx(
        ev.force_string(&args[0]),
        "while evaluating the first argument; the message passed to builtins.warn",
    )?;
    ev.emit_line(format!(
        "evaluation warning: {}",
        align_warning(&msg.encoded())
    ));
    if ev.options.abort_on_warn {
        // Not catchable by `tryEval`, and without a position of its own, as in Nix.
        return Err(EvalError::new(
            "aborting to reveal stack trace of warning, as abort-on-warn is set",
        ));
    }
    ev.force(&args[1])
}

/// A warning's text with its later lines aligned under its first, as Nix prints it after
/// `evaluation warning: `; empty lines stay empty.
fn align_warning(text: &str) -> String {
    let pad = " ".repeat("evaluation warning: ".len());
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(&pad);
            }
        }
        out.push_str(line);
    }
    out
}

impl Eval {
    /// Prints a diagnostic line (`trace: …`, `evaluation warning: …`) to stderr, or keeps
    /// it in [`Eval::diagnostics`] when [`crate::EvalOptions::capture_diagnostics`] is set.
    pub fn emit_line(&mut self, line: String) {
        if self.options.capture_diagnostics {
            self.diagnostics.push(line);
        } else {
            crate::error::eprint_line(&line);
        }
    }
}

/// `break v`: `v` (there is no debugger to stop in).
fn break_(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    ev.force(&args[0])
}

/// `addErrorContext msg v`: `v`, adding `msg` as a trace frame to any error it raises.
fn add_error_context(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    match ev.force(&args[1]) {
        Ok(v) => Ok(v),
        Err(e) => {
            let what = "while evaluating the error message passed to builtins.addErrorContext";
            let msg = message_of(ev, &args[0], what, false)?;
            Err(e.context(Span::NONE, || msg))
        }
    }
}

/// `tryEval e`: `{ success = true; value = e; }`, or `{ success = false; value = false; }`
/// when `e` throws or fails an assertion.
fn try_eval(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let (success, value) = match ev.force(&args[0]) {
        Ok(v) => (true, v),
        Err(e) if e.is_catchable() => (false, Value::Bool(false)),
        Err(e) => return Err(e),
    };
    Ok(Value::Attrs(Attrs::from_entries(vec![
        Attr {
            name: known::success(),
            value: Value::Bool(success),
            span: Span::NONE,
        },
        Attr {
            name: known::value(),
            value,
            span: Span::NONE,
        },
    ])))
}

/// `getEnv name`: the variable's value, `""` when unset or in pure evaluation.
fn get_env(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let name = with_ctx(
        ev.force_str_noctx(&args[0]),
        "while evaluating the first argument passed to builtins.getEnv",
    )?;
    if ev.options.pure {
        return Ok(Value::string(""));
    }
    // Names and values are bytes; a name no variable can have is simply unset.
    let name = crate::bytestr::decode(&name);
    if name.is_empty() || name.contains(&b'=') || name.contains(&0) {
        return Ok(Value::string(""));
    }
    let value = std::env::var_os(std::ffi::OsStr::from_bytes(&name)).unwrap_or_default();
    Ok(Value::string(value.into_vec()))
}

/// A value as `builtins.trace` prints it: unforced parts as `«thunk»`, no size limits.
fn show_traced(ev: &Eval, v: &Value) -> String {
    let mut p = TracePrinter {
        ev,
        out: String::new(),
        seen: HashSet::new(),
    };
    p.show(v, 0);
    p.out
}

/// Nesting beyond which `trace` stops printing (only reachable through cyclic-free but
/// pathological values; keeps the recursion bounded).
const TRACE_MAX_DEPTH: usize = 1000;

struct TracePrinter<'a> {
    ev: &'a Eval,
    out: String,
    seen: HashSet<usize>,
}

impl TracePrinter<'_> {
    fn show(&mut self, v: &Value, depth: usize) {
        let Some(v) = v.peek() else {
            self.out.push_str("«thunk»");
            return;
        };
        if depth > TRACE_MAX_DEPTH {
            self.out.push_str("«too deep»");
            return;
        }
        if crate::print::write_scalar(&mut self.out, &v) {
            return;
        }
        match &v {
            Value::Attrs(a) => self.show_attrs(&v, a, depth),
            Value::List(l) => self.show_list(&v, l, depth),
            other => self.out.push_str(&show_for_error(self.ev, other)),
        }
    }

    /// Whether `v` was printed before (Nix prints `«repeated»` for it).
    fn repeated(&mut self, v: &Value) -> bool {
        match v.ptr_id() {
            Some(id) if !self.seen.insert(id) => {
                self.out.push_str("«repeated»");
                true
            }
            _ => false,
        }
    }

    fn show_attrs(&mut self, v: &Value, a: &Attrs, depth: usize) {
        if a.is_empty() {
            self.out.push_str("{ }");
            return;
        }
        if self.repeated(v) {
            return;
        }
        self.out.push_str("{ ");
        for attr in a.sorted_by_name() {
            crate::print::write_attr_name(&mut self.out, attr.name.as_str());
            self.out.push_str(" = ");
            stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.show(&attr.value, depth + 1));
            self.out.push_str("; ");
        }
        self.out.push('}');
    }

    fn show_list(&mut self, v: &Value, l: &[Value], depth: usize) {
        if l.is_empty() {
            self.out.push_str("[ ]");
            return;
        }
        if self.repeated(v) {
            return;
        }
        self.out.push_str("[ ");
        for item in l {
            stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.show(item, depth + 1));
            self.out.push(' ');
        }
        self.out.push(']');
    }
}

/// Helpers for the builtins' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use crate::eval::{Eval, EvalOptions};
    use std::path::Path;

    /// `src` evaluated strictly and printed as `nix-instantiate --eval --strict` does.
    pub fn eval(src: &str) -> String {
        let mut ev = Eval::new(EvalOptions::default());
        let v = ev.eval_expr(src, Path::new("/")).map_err(|e| e.message);
        let v = v.unwrap_or_else(|m| panic!("{src}: {m}"));
        crate::print::print_value(&mut ev, &v, true)
            .unwrap_or_else(|e| panic!("{src}: {}", e.message))
    }

    /// The message of the error that evaluating `src` strictly raises.
    pub fn error(src: &str) -> String {
        let mut ev = Eval::new(EvalOptions::default());
        let r = ev
            .eval_expr(src, Path::new("/"))
            .and_then(|v| crate::print::print_value(&mut ev, &v, true));
        match r {
            Ok(out) => panic!("{src}: expected an error, got {out}"),
            Err(e) => e.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{error, eval};

    #[test]
    fn throw_and_abort() {
        assert_eq!(error(r#"builtins.throw "msg""#), "msg");
        assert_eq!(
            error(r#"if true then abort "this should fail" else 1"#),
            "evaluation aborted with the following error message: 'this should fail'"
        );
        assert_eq!(error("abort 1"), "cannot coerce an integer to a string: 1");
    }

    #[test]
    fn seq_and_deep_seq() {
        assert_eq!(eval("builtins.seq { a = throw \"x\"; } 1"), "1");
        assert_eq!(error("builtins.seq (throw \"a\") 1"), "a");
        assert_eq!(
            error("builtins.deepSeq { x = abort \"foo\"; } 456"),
            "evaluation aborted with the following error message: 'foo'"
        );
    }

    #[test]
    fn try_eval() {
        assert_eq!(
            eval(r#"{ x = builtins.tryEval "x"; y = builtins.tryEval (assert false; "y"); z = builtins.tryEval (throw "bla"); }"#),
            "{ x = { success = true; value = \"x\"; }; y = { success = false; value = false; }; z = { success = false; value = false; }; }"
        );
        assert_eq!(
            error(r#"builtins.tryEval (builtins.abort "x")"#),
            "evaluation aborted with the following error message: 'x'"
        );
    }

    #[test]
    fn add_error_context_keeps_the_message() {
        assert_eq!(
            error(r#"builtins.addErrorContext "ctx" (throw "boom")"#),
            "boom"
        );
        assert_eq!(eval(r#"builtins.addErrorContext "ctx" 1"#), "1");
    }

    #[test]
    fn trace_and_friends_return_their_second_argument() {
        assert_eq!(eval("builtins.trace 1 2"), "2");
        assert_eq!(eval("builtins.traceVerbose 1 2"), "2");
        assert_eq!(eval(r#"builtins.warn "w" 3"#), "3");
        assert_eq!(eval("builtins.break 4"), "4");
    }

    /// An evaluator that keeps warnings, with `abort-on-warn` as given.
    fn capturing(abort_on_warn: bool) -> crate::eval::Eval {
        crate::eval::Eval::new(crate::eval::EvalOptions {
            abort_on_warn,
            capture_diagnostics: true,
            ..Default::default()
        })
    }

    #[test]
    fn warn_aligns_lines_and_honours_abort_on_warn() {
        // Expectations from Nix 2.26: `builtins.warn "a\n\nb" 1` prints the warning with
        // later lines under the first; with abort-on-warn it then fails.
        let mut ev = capturing(false);
        let v = ev.eval_expr(r#"builtins.warn "a\n\nb" 1"#, std::path::Path::new("/"));
        assert!(matches!(v, Ok(crate::value::Value::Int(1))));
        let pad = " ".repeat(20);
        assert_eq!(ev.diagnostics, [format!("evaluation warning: a\n\n{pad}b")]);
        let mut ev = capturing(true);
        let e = ev
            .eval_expr(
                r#"builtins.tryEval (builtins.warn "w" 1)"#,
                std::path::Path::new("/"),
            )
            .err()
            .map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some("aborting to reveal stack trace of warning, as abort-on-warn is set")
        );
        assert_eq!(ev.diagnostics, ["evaluation warning: w"]);
    }

    #[test]
    fn get_env() {
        assert_eq!(
            eval(r#"builtins.getEnv "KITH_SURELY_UNSET_VARIABLE""#),
            "\"\""
        );
        assert_eq!(
            error("builtins.getEnv [ ]"),
            "expected a string but found a list: [ ]"
        );
    }
}
