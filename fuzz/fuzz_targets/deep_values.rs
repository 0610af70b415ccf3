//! Fuzzes deep and cyclic values: a fuzz-chosen expression is wrapped in a value nested
//! thousands of levels deep (built by evaluation), in a cyclic value, or in deep syntax,
//! and then compared, ordered, coerced, printed, serialised, forced deeply, sorted,
//! matched or dropped. Every outcome must be a value or an error; panics, aborts, stack
//! overflows and hangs are findings (see README.md).
#![no_main]

use kith_eval::instantiate::{run, Input, Request};
use libfuzzer_sys::fuzz_target;

/// What is done to the wrapped value `d` (which may be cyclic).
const OPS: &[&str] = &[
    "d",
    "d == d",
    "d == (w 0)",
    "d < (w 1)",
    "toString d",
    "\"${d}\"",
    "builtins.toJSON d",
    "builtins.toXML d",
    "builtins.deepSeq d 1",
    "builtins.sort (a: b: a < b) [ d d ]",
    "builtins.length (builtins.genList (x: d) 3)",
    "(builtins.tryEval (builtins.deepSeq d d)).success",
    "d 1",
    "builtins.seq d null",
];

/// The wrapped value: `w` builds it from a seed, `d` is `w 0`.
fn wrapper(mode: u8, depth: usize, e: &str) -> String {
    match mode % 6 {
        // Nested lists and sets, built by evaluation.
        0 => format!(
            "w = s: builtins.foldl' (acc: x: [ acc ({e}) ]) [ s ] (builtins.genList (x: x) {depth});"
        ),
        1 => format!(
            "w = s: builtins.foldl' (acc: x: {{ a = acc; v = ({e}); }}) {{ s = s; }} (builtins.genList (x: x) {depth});"
        ),
        // Cycles through attributes, coercion and functors.
        2 => format!("w = s: let x = {{ a = x; v = ({e}); s = s; }}; in x;"),
        3 => format!("w = s: let x = {{ outPath = x; v = ({e}); }}; in x;"),
        4 => format!("w = s: let x = {{ __toString = self: ({e}); __functor = self: x; }}; in x;"),
        // Deep syntax around the expression.
        _ => format!(
            "w = s: {}({e}){};",
            "[ (".repeat(depth.min(3000)),
            ") ]".repeat(depth.min(3000))
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, op, size, rest @ ..] = data else { return };
    let Ok(e) = std::str::from_utf8(rest) else { return };
    let depth = (*size as usize) * 400;
    let op = OPS[*op as usize % OPS.len()];
    let text = format!("let {} d = w 0; in {op}", wrapper(*mode, depth, e));
    let mut req = Request::new(Input::Expr(text.into_bytes()), "/nonexistent".into());
    req.strict = true;
    req.options.max_call_depth = 200;
    let _ = run(&req);
});
