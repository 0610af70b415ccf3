//! Tests of lowering: scopes, attribute merging, static errors, and the Nix corpus.

use super::lower;
use crate::error::{ErrorKind, EvalError};
use crate::ir::{AttrsDef, BindingValue, Expr, ExprRef, Param};
use crate::parse::parse;
use crate::source::{Origin, Sources};
use crate::symbol::Symbol;
use crate::value::Value;
use std::path::Path;

const GLOBALS: &[&str] = &[
    "true",
    "false",
    "null",
    "builtins",
    "import",
    "map",
    "throw",
    "abort",
    "toString",
    "baseNameOf",
    "dirOf",
    "isNull",
    "removeAttrs",
    "derivation",
    "derivationStrict",
    "fetchTarball",
    "fetchGit",
    "fetchMercurial",
    "fetchTree",
    "placeholder",
    "scopedImport",
];

fn is_global(s: Symbol) -> bool {
    GLOBALS.contains(&s.as_str()) || s.as_str().starts_with("__")
}

/// Parses and lowers `text` as the file `/dir/test.nix`, on a big stack.
fn lower_file(path: &Path, text: &str) -> Result<ExprRef, Box<EvalError>> {
    let mut sources = Sources::default();
    let file = sources.add(Origin::File(path.to_path_buf()), text.into());
    stacker::grow(256 << 20, || {
        let root = parse(text, file)?;
        let result = lower(&sources, file, &root, &is_global, false, Default::default());
        drop(root);
        result
    })
}

fn lower_str(text: &str) -> Result<ExprRef, Box<EvalError>> {
    lower_file(Path::new("/dir/test.nix"), text)
}

fn ok(text: &str) -> ExprRef {
    match lower_str(text) {
        Ok(e) => e,
        Err(e) => panic!("{text:?}: {}", e.message),
    }
}

fn err(text: &str) -> String {
    match lower_str(text) {
        Ok(_) => panic!("expected an error for {text:?}"),
        Err(e) => e.message,
    }
}

fn attrs(e: &Expr) -> &AttrsDef {
    match e {
        Expr::Attrs(a) => a,
        _ => panic!("not an attrset"),
    }
}

fn binding_expr<'e>(a: &'e AttrsDef, name: &str) -> &'e Expr {
    let b = a
        .bindings
        .iter()
        .find(|b| b.name.as_str() == name)
        .expect("binding");
    match &b.value {
        BindingValue::Expr(e) => e,
        _ => panic!("not an expression binding"),
    }
}

fn names(a: &AttrsDef) -> Vec<&'static str> {
    a.bindings.iter().map(|b| b.name.as_str()).collect()
}

fn var(e: &Expr) -> (u32, u32) {
    match e {
        Expr::Var { depth, slot, .. } => (*depth, *slot),
        _ => panic!("not a variable"),
    }
}

#[test]
fn scope_resolution() {
    let e = ok("let a = 1; b = a; in x: { y, z ? y }@w: with w; [ a b x y z w q true ]");
    let Expr::Let(l) = &*e else { panic!() };
    let (body, bindings) = (&l.body, &l.bindings);
    assert_eq!(
        var(match &bindings[1].value {
            BindingValue::Expr(e) => e,
            _ => panic!(),
        }),
        (0, 0)
    );
    let Expr::Lambda(outer) = &**body else {
        panic!()
    };
    let Expr::Lambda(inner) = &*outer.body else {
        panic!()
    };
    let Param::Pattern { formals, at, .. } = &inner.param else {
        panic!()
    };
    assert_eq!(formals.len(), 2);
    assert_eq!(at.map(|s| s.as_str()), Some("w"));
    assert_eq!(var(formals[1].default.as_deref().expect("default")), (0, 0));
    let Expr::With { body, .. } = &*inner.body else {
        panic!()
    };
    let Expr::List(items, _) = &**body else {
        panic!()
    };
    let vars: Vec<(u32, u32)> = items[..6].iter().map(|e| var(e)).collect();
    assert_eq!(vars, vec![(3, 0), (3, 1), (2, 0), (1, 0), (1, 1), (1, 2)]);
    assert!(matches!(&*items[6], Expr::WithVar(s, _) if s.as_str() == "q"));
    assert!(matches!(&*items[7], Expr::Global(s, _) if s.as_str() == "true"));
}

#[test]
fn rec_and_inherit_scopes() {
    let e = ok("x: y: rec { a = x; b = a; inherit y; inherit ({ c = b; }) c; }");
    let Expr::Lambda(l) = &*e else { panic!() };
    let Expr::Lambda(l) = &*l.body else { panic!() };
    let set = attrs(&l.body);
    assert!(set.recursive);
    assert_eq!(var(binding_expr(set, "a")), (2, 0));
    assert_eq!(var(binding_expr(set, "b")), (0, 0));
    // `inherit x;` resolves outside the rec frame.
    assert!(matches!(&set.bindings[2].value, BindingValue::Inherit(v) if var(v) == (0, 0)));
    assert!(matches!(
        set.bindings[3].value,
        BindingValue::InheritFrom { source: 0 }
    ));
    let source = attrs(&set.inherit_sources[0]);
    assert_eq!(var(binding_expr(source, "c")), (0, 1));
}

#[test]
fn undefined_variables() {
    assert_eq!(err("x: y"), "undefined variable 'y'");
    assert!(lower_str("with {}; y").is_ok());
    let e = lower_str("let {\n x = {gcc}: { inherit gcc; };\n body = ({ inherit gcc; }).gcc;\n}")
        .err()
        .expect("error");
    assert_eq!(e.message, "undefined variable 'gcc'");
    assert_eq!(e.kind, ErrorKind::Eval);
}

#[test]
fn scoped_import_frame() {
    let mut sources = Sources::default();
    let text = "x: [ x y true ]";
    let file = sources.add(Origin::File("/d/f.nix".into()), text.into());
    let root = parse(text, file).expect("parses");
    let e = lower(&sources, file, &root, &is_global, true, Default::default()).expect("lowers");
    let Expr::Lambda(l) = &*e else { panic!() };
    let Expr::List(items, _) = &*l.body else {
        panic!()
    };
    assert_eq!(var(&items[0]), (0, 0));
    assert!(matches!(&*items[1], Expr::WithVar(s, _) if s.as_str() == "y"));
    assert!(matches!(&*items[2], Expr::Global(..)));
}

#[test]
fn nested_attr_merge() {
    let e = ok("{ a.b.c = 1; a.b.d = 2; x = { y = 1; }; x.z = 2; s.t = 1; s = rec { u = 3; }; }");
    let set = attrs(&e);
    assert_eq!(names(set), vec!["a", "x", "s"]);
    let a = attrs(binding_expr(set, "a"));
    assert!(!a.recursive);
    assert_eq!(names(attrs(binding_expr(a, "b"))), vec!["c", "d"]);
    assert_eq!(names(attrs(binding_expr(set, "x"))), vec!["y", "z"]);
    let s = attrs(binding_expr(set, "s"));
    assert_eq!(names(s), vec!["t", "u"]);
    assert!(
        !s.recursive,
        "a rec literal merged into an attribute path loses `rec`"
    );
}

#[test]
fn duplicate_attributes() {
    let m = err("{ x = 123;\n  y = 456;\n  x = 789;\n}");
    assert_eq!(m, "attribute 'x' already defined at /dir/test.nix:1:3");
    let m = err("{\n  services.ssh.port = 22;\n  services.ssh.port = 23;\n}");
    assert_eq!(
        m,
        "attribute 'services.ssh.port' already defined at /dir/test.nix:2:3"
    );
    let m = err("{ \n  x.y.y = 3; \n  x = { y.y= 3; z = 3; }; \n}");
    assert_eq!(m, "attribute 'x.y.y' already defined at /dir/test.nix:2:3");
    let m = err("{ a = 1; inherit a; }");
    assert_eq!(m, "attribute 'a' already defined at /dir/test.nix:1:3");
    assert_eq!(
        err("{ a = 1; a.b = 2; }"),
        "attribute 'a' already defined at /dir/test.nix:1:3"
    );
    assert_eq!(
        err("let ${x} = 1; in 1"),
        "dynamic attributes not allowed in let"
    );
    assert_eq!(
        err("{ inherit \"${x}\"; }"),
        "dynamic attributes not allowed in inherit"
    );
    assert_eq!(
        err("{x, y, x}: x"),
        "duplicate formal function argument 'x'"
    );
    assert_eq!(
        err("args@{args, x}: x"),
        "duplicate formal function argument 'args'"
    );
}

#[test]
fn static_and_dynamic_names() {
    let e = ok(r#"x: { "a" = 1; ${"b"} = 2; "c${x}" = 3; ${x} = 4; }"#);
    let Expr::Lambda(l) = &*e else { panic!() };
    let set = attrs(&l.body);
    assert_eq!(names(set), vec!["a", "b"]);
    assert_eq!(set.dynamic.len(), 2);
}

#[test]
fn literals_and_paths() {
    let e = ok("[ 1 2.5 .5 1. http://x.y/z ./a/../b /c/./d <nixpkgs/lib> ./a/${\"b\"} ]");
    let Expr::List(items, _) = &*e else { panic!() };
    assert!(matches!(&*items[0], Expr::Const(Value::Int(1), _)));
    assert!(matches!(&*items[1], Expr::Const(Value::Float(f), _) if *f == 2.5));
    assert!(matches!(&*items[2], Expr::Const(Value::Float(f), _) if *f == 0.5));
    assert!(matches!(&*items[3], Expr::Const(Value::Float(f), _) if *f == 1.0));
    assert!(matches!(&*items[4], Expr::Const(Value::String(s), _) if s.s == b"http://x.y/z"));
    assert!(matches!(&*items[5], Expr::Const(Value::Path(p), _) if &***p == "/dir/b"));
    assert!(matches!(&*items[6], Expr::Const(Value::Path(p), _) if &***p == "/c/d"));
    assert!(
        matches!(&*items[7], Expr::Call { args, .. } if matches!(&*args[1], Expr::Const(crate::value::Value::String(s), _) if s.s == b"nixpkgs/lib"))
    );
    let Expr::PathInterpolate { parts, .. } = &*items[8] else {
        panic!()
    };
    assert!(matches!(&*parts[0], Expr::Const(Value::String(s), _) if s.s == b"/dir/a/"));
    assert_eq!(
        err("9223372036854775808"),
        "invalid integer '9223372036854775808'"
    );
    assert!(matches!(&*ok("-9223372036854775807"), Expr::Neg(..)));
}

#[test]
fn strings() {
    let s = |text: &str| match &*ok(text) {
        Expr::Const(Value::String(s), _) => s.encoded().into_owned(),
        _ => panic!("not a constant string"),
    };
    assert_eq!(s(r#""a\nb\${c}$${d}""#), "a\nb${c}$${d}");
    assert_eq!(s("''\n    foo\n      bar\n  ''"), "foo\n  bar\n");
    assert_eq!(s("''a''${b}'''c''"), "a${b}''c");
    assert!(
        matches!(&*ok("x: \"a${x}\""), Expr::Lambda(l) if matches!(&*l.body, Expr::Interpolate { parts, .. } if parts.len() == 2))
    );
}

#[test]
fn lambda_names_and_calls() {
    let text = "let f = x: x; g = (y: y); in f g 1";
    let start = text.find("f g").expect("call") as u32;
    let e = ok(text);
    let Expr::Let(l) = &*e else { panic!() };
    let (bindings, body) = (&l.bindings, &l.body);
    for b in bindings {
        let BindingValue::Expr(e) = &b.value else {
            panic!()
        };
        let Expr::Lambda(l) = &**e else { panic!() };
        assert_eq!(l.name, Some(b.name));
    }
    assert!(
        matches!(&**body, Expr::Call { args, span, .. } if args.len() == 2 && span.start == start)
    );
}

#[test]
fn deep_nesting() {
    // About as deep as C++ Nix's parser goes (5 000 nested lists).
    check_deep_nesting(5_000);
}

/// Deeper than the parser's limit: a clean error, found before rnix's (quadratic) parse.
#[test]
fn very_deep_nesting() {
    let n = 100_000;
    let list = format!("{}{}", "[".repeat(n), "]".repeat(n));
    let e = lower_str(&list).map(|_| ()).unwrap_err();
    assert_eq!(e.message, "expression nested too deeply (limit 10000)");
    let sum = format!("{}1", "1 + ".repeat(n));
    let e = lower_str(&sum).map(|_| ()).unwrap_err();
    assert_eq!(e.message, "expression nested too deeply (limit 10000)");
}

fn check_deep_nesting(n: usize) {
    // Lowering grows the stack; dropping the deep IR needs none (it is freed with a work
    // list): on a thread with a small stack.
    let small_stack = |text: String| {
        std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(move || {
                let e = lower_str(&text);
                assert!(e.is_ok());
                drop(e);
            })
            .unwrap()
            .join()
            .unwrap();
    };
    small_stack(format!("{}{}", "[".repeat(n), "]".repeat(n)));
    small_stack(format!("{}1", "1 + ".repeat(n)));
}

/// Parses and lowers every file of Nix's language test suite; reports the counts.
#[test]
fn corpus() {
    let Some(dir) =
        crate::test_corpus::corpus("nix-lang-tests/tests/functional/lang", "lower::corpus")
    else {
        return;
    };
    let entries = std::fs::read_dir(dir).unwrap();
    let mut files: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    let (mut ok_pass, mut ok_fail, mut fail_pass, mut fail_fail) = (0, 0, 0, 0);
    let mut problems = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        if !name.ends_with(".nix") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let result = lower_file(&path, &text);
        let should_fail = name.starts_with("parse-fail-");
        match (should_fail, result) {
            (false, Ok(e)) => {
                ok_pass += 1;
                drop(e);
            }
            (false, Err(e)) => {
                ok_fail += 1;
                problems.push(format!("{name}: unexpected error: {}", e.message));
            }
            (true, Ok(_)) => {
                fail_pass += 1;
                problems.push(format!("{name}: lowered without error"));
            }
            (true, Err(e)) => {
                fail_fail += 1;
                let exp =
                    std::fs::read_to_string(path.with_extension("err.exp")).unwrap_or_default();
                let first = exp
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("error: ");
                let got = e.message.replace("/dir/test.nix", "«stdin»");
                let got = got.replace(&path.display().to_string(), "«stdin»");
                if first != got {
                    problems.push(format!(
                        "{name}: message differs:\n   got: {got}\n  want: {first}"
                    ));
                }
            }
        }
    }
    for p in &problems {
        eprintln!("{p}");
    }
    eprintln!(
        "corpus: {ok_pass} ok files lowered, {ok_fail} ok files failed; \
         {fail_fail} fail files rejected, {fail_pass} fail files accepted"
    );
    assert_eq!(fail_pass, 0, "all parse-fail files must be rejected");
}

/// Nix names a lambda that is the body of a named lambda after the binding too (`while
/// calling 'f'` for the inner function of `f = a: b: …`); other bodies stay anonymous.
#[test]
fn curried_lambda_names() {
    let names = |text: &str| -> Vec<Option<String>> {
        let e = ok(text);
        let Expr::Let(l) = &*e else { panic!() };
        let bindings = &l.bindings;
        let BindingValue::Expr(e) = &bindings[0].value else {
            panic!()
        };
        let mut e = e.clone();
        let mut out = Vec::new();
        while let Expr::Lambda(l) = &*e.clone() {
            out.push(l.name.map(|n| n.to_string()));
            e = l.body.clone();
        }
        out
    };
    let f = Some("f".to_string());
    assert_eq!(
        names("let f = a: b: c: a; in f"),
        [f.clone(), f.clone(), f.clone()]
    );
    assert_eq!(names("let f = { a }: (b: a); in f"), [f.clone(), f.clone()]);
    assert_eq!(names("let f = a: let g = b: a; in g; in f"), [f]);
}
