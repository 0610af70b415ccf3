//! The native `showDefs` (`kith_inventory::modsys::pretty`, used in the module system's
//! type errors) against nixpkgs' own `lib.options.showDefs` (`../shared/corpus/nixpkgs-lib`)
//! run by kith's evaluator: the same definitions give the same text, or the same error.
//! Skipped without `../shared`.

#[path = "../../eval/tests/common/mod.rs"]
mod common;

use kith_eval::{Eval, EvalOptions, Value};
use kith_inventory::modsys::{pretty, Def};
use std::path::Path;
use std::rc::Rc;

/// Definition values, each shown on its own: scalars, strings that need escaping, multi-line
/// strings (with and without a last empty line), functions with and without formals,
/// derivations, nesting at and past `withRecursion`'s depth limit, and values whose
/// printing fails.
const VALUES: &[&str] = &[
    "1",
    "-7",
    "1.5",
    "0.1",
    "1.0e-6",
    "123456789.0",
    "true",
    "null",
    r#""plain""#,
    r#""quote \" backslash \\ dollar $ interp ${"$"}{x}""#,
    r#""tab\there\rcarriage""#,
    r#""a\nb""#,
    r#""a\nb\n""#,
    r#""\n""#,
    r#""one\n\ntwo\nthree with '' and ${"$"}{x}\n""#,
    "./relative/path",
    "[ ]",
    "{ }",
    "[ 1 [ 2 [ ] ] { a = 1; } ]",
    r#"{ b = 1; a = "x"; "with space" = 2; "in" = 3; "a$b" = 4; "tab	t" = 5; _u = 6; "9x" = 7; "x'-" = 8; }"#,
    r#"{ "" = 1; }"#,
    "x: x",
    "{ a, b ? 1, ... }: a",
    "{ }: 1",
    "builtins.map",
    r#"{ type = "derivation"; name = "hello-1.0"; }"#,
    r#"{ type = "derivation"; }"#,
    r#"{ a = { type = "derivation"; name = "d"; }; }"#,
    r#"{ __functor = self: x: x; inner = { a = 1; }; }"#,
    r#"{ __toString = self: "s"; v = [ 1 ]; }"#,
    r#"{ __functor = self: { a, b ? 2 }: a; }"#,
    r#"{ __functor = self: x: x; __functionArgs = { z = true; y = false; }; }"#,
    r#"{ __functor = self: 1; v = 2; }"#,
    r#"{ __functor = self: throw "no"; v = 2; }"#,
    r#"[ [ [ [ [ [ [ [ [ [ { __functor = self: x: x; } ] ] ] ] ] ] ] ] ] ]"#,
    r#"[ [ [ [ [ [ [ [ [ { type = "derivation"; name = "n"; } ] ] ] ] ] ] ] ] ]"#,
    r#"[ [ [ [ [ [ [ [ { type = "derivation"; name = "n"; } ] ] ] ] ] ] ] ]"#,
    r#"{ __pretty = x: "p"; val = 1; }"#,
    "[ [ [ [ [ [ [ [ [ 9 ] ] ] ] ] ] ] ] ]",
    "[ [ [ [ [ [ [ [ [ [ 10 ] ] ] ] ] ] ] ] ] ]",
    "[ [ [ [ [ [ [ [ [ [ [ 11 ] ] ] ] ] ] ] ] ] ]",
    "[ [ [ [ [ [ [ [ [ [ [ ] ] ] ] ] ] ] ] ] ]",
    "[ [ [ [ [ [ [ [ [ [ { } ] ] ] ] ] ] ] ] ] ]",
    "{ a.b.c.d.e.f.g.h.i.j = 1; }",
    "{ a.b.c.d.e.f.g.h.i = 1; }",
    "{ a.b.c.d.e.f.g.h.i.j.k = throw \"deep\"; }",
    "builtins.genList (i: i) 12",
    "throw \"boom\"",
    "{ a = throw \"boom\"; }",
    "[ 1 (assert false; 2) ]",
    "{ a = 1; b = abort \"aborted\"; }",
    "{ a = 1 + \"x\"; }",
    "{ a = { }.missing; }",
    // Deep enough to overflow a recursive printer: `withRecursion` stops at depth 10.
    "let deep = n: if n == 0 then [ ] else [ (deep (n - 1)) ]; in deep 100000",
    "let deep = n: if n == 0 then { } else { x = deep (n - 1); }; in deep 100000",
];

/// nixpkgs' `showDefs` of one definition (its text, or its error's message).
fn real(ev: &mut Eval, lib: &Value, value: &str) -> Result<String, String> {
    let f = ev
        .eval_expr(
            &format!("lib: lib.options.showDefs [ {{ file = \"f.nix\"; value = ({value}); }} ]"),
            Path::new("/"),
        )
        .map_err(|e| e.message)?;
    let s = ev
        .call(&f, lib.clone(), kith_eval::Span::NONE)
        .map_err(|e| e.message)?;
    ev.force_string(&s)
        .map(|s| s.encoded().into_owned())
        .map_err(|e| e.message)
}

/// kith's native `showDefs` of the same definition.
fn native(ev: &mut Eval, value: &str) -> Result<String, String> {
    // The value unevaluated, as the module system's definitions are.
    let set = ev
        .eval_expr(&format!("{{ v = ({value}); }}"), Path::new("/"))
        .map_err(|e| e.message)?;
    let v = ev.force_attrs(&set).unwrap().get_str("v").cloned().unwrap();
    let file: Rc<str> = Rc::from("f.nix");
    pretty::show_defs(ev, &[Def::new(&file, v)]).map_err(|e| e.message)
}

#[test]
fn show_defs_matches_nixpkgs() {
    let Some(dir) = common::corpus("nixpkgs-lib/lib", "showDefs against nixpkgs' lib") else {
        return;
    };
    let mut ev = Eval::new(EvalOptions::default());
    let lib = ev
        .eval_expr(&format!("import {}", dir.display()), Path::new("/"))
        .unwrap();
    let mut wrong = Vec::new();
    for v in VALUES {
        let want = real(&mut ev, &lib, v);
        let got = native(&mut ev, v);
        if want != got {
            wrong.push(format!("{v}\n  nixpkgs: {want:?}\n  kith:    {got:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        VALUES.len(),
        wrong.join("\n")
    );
}

#[test]
fn show_defs_of_a_deep_value_is_bounded() {
    // No corpus needed: the printer must stop at nixpkgs' depth limit, not overflow.
    let mut ev = Eval::new(EvalOptions::default());
    let v = ev
        .eval_expr(
            "let deep = n: if n == 0 then [ ] else [ (deep (n - 1)) ]; in deep 1000000",
            Path::new("/"),
        )
        .unwrap();
    let file: Rc<str> = Rc::from("f.nix");
    let shown = pretty::show_defs(&mut ev, &[Def::new(&file, v)]).unwrap();
    assert!(shown.starts_with("\n- In `f.nix':\n    [\n"), "{shown}");
    assert!(shown.ends_with("\n    ..."), "{shown}");
}
