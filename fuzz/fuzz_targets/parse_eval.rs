//! Fuzzes the whole pipeline: any bytes (UTF-8 or not: Nix source is bytes) are parsed,
//! lowered and evaluated strictly. Every outcome must be a value or an error; panics, hangs
//! and stack overflows are findings.
#![no_main]

use kith_eval::instantiate::{run, Input, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut req = Request::new(Input::Expr(data.to_vec()), "/nonexistent".into());
    req.strict = true;
    // Keep runs short: the fuzzer looks for crashes, not for deep legitimate recursion.
    req.options.max_call_depth = 200;
    let _ = run(&req);
});
