//! The selector language of `clan select`: clan's parser (clan-cli.md §1.2,
//! `test_parse_selector`), its semantics (§1.7, nix-select's `tests.nix`) and its output.

#[path = "../../eval/tests/common/corpus.rs"]
mod corpus;

use kith_eval::{Eval, EvalOptions};
use kith_planner::select::parse::display;
use kith_planner::select::{
    apply, dumps, parse, ApplyError, Selector, SelectorError, Semantics, SetItem,
};
use serde_json::json;
use std::path::Path;

fn s(x: &str) -> Selector {
    Selector::Str(x.into())
}
fn m(x: &str) -> Selector {
    Selector::Maybe(x.into())
}
fn ss(x: &str) -> SetItem {
    SetItem::Str(x.into())
}
fn sm(x: &str) -> SetItem {
    SetItem::Maybe(x.into())
}

/// `input` parses to `want`, and prints back to a selector that parses to the same.
fn parses(input: &str, want: &[Selector]) {
    let got = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
    assert_eq!(got, want, "{input:?}");
    let back = display(&got);
    assert_eq!(
        parse(&back).as_ref(),
        Ok(&got),
        "{input:?} printed as {back:?}"
    );
}

fn fails(input: &str, message: &str) {
    match parse(input) {
        Ok(v) => panic!("{input:?} parsed as {v:?}"),
        Err(e) => assert_eq!(e.to_string(), message, "{input:?}"),
    }
}

const EXPECTED_DOT: &str = "expected ., but got {c}";
const OUT_PATH: &str = "Cannot use 'outPath' in multiselect {...}. When nix evaluates \
attrsets with outPath in a multiselect, it collapses the entire attrset to just the outPath \
string, breaking further selection. Use individual selectors instead.";

#[test]
fn grammar_rows() {
    parses("name", &[s("name")]);
    parses(r#""quoted.name""#, &[s("quoted.name")]);
    parses(r"name\.with\.escapes", &[s("name.with.escapes")]);
    parses("0", &[s("0")]);
    parses("*", &[Selector::All]);
    parses(
        "{a,b,?c}",
        &[Selector::Set(vec![ss("a"), ss("b"), sm("c")])],
    );
    parses("?name", &[m("name")]);
    fails("*x", EXPECTED_DOT);
    fails("a.*b", EXPECTED_DOT);
    fails("{a}b", EXPECTED_DOT);
    parses(".a", &[s(""), s("a")]);
    parses("a..b", &[s("a"), s(""), s("b")]);
    parses(r"a\.b", &[s("a.b")]);
    parses(r#"a"b"c"#, &[s(r#"a"b"c"#)]);
    parses("?{a}", &[m("{a}")]);
    parses("??x", &[m("?x")]);
    parses("a*?{ b", &[s("a*?{ b")]);
    parses(r#""a.b".c"#, &[s("a.b"), s("c")]);
    parses(r#"?"b.c""#, &[m("\"b"), s("c\"")]);
    parses(r"?b\.c", &[m("b.c")]);
    parses(r"\*", &[s(r"\*")]);
    parses(r"\.x", &[s(r"\"), s("x")]);
    parses("a.", &[s("a")]);
    parses("{foo.bar}", &[Selector::Set(vec![ss("foo.bar")])]);
    parses(
        r#"{"a,b",c\,d,\"}"#,
        &[Selector::Set(vec![ss("a,b"), ss("c,d"), ss("\"")])],
    );
    parses("{*}", &[Selector::Set(vec![ss("*")])]);
    parses("{ a , b }", &[Selector::Set(vec![ss(" a "), ss(" b ")])]);
    parses("{}", &[Selector::Set(vec![])]);
    parses("{a,}", &[Selector::Set(vec![ss("a")])]);
    parses("{,}", &[Selector::Set(vec![ss("")])]);
    parses("{?}", &[Selector::Set(vec![sm("")])]);
    parses(r#"{""}"#, &[Selector::Set(vec![ss("")])]);
    parses("{a?b,??c}", &[Selector::Set(vec![ss("a?b"), sm("?c")])]);
    parses("{0,2}", &[Selector::Set(vec![ss("0"), ss("2")])]);
    fails("{outPath}", OUT_PATH);
    fails("x.{y,outPath}", OUT_PATH);
    fails("{?outPath}", OUT_PATH);
    parses("outPath", &[s("outPath")]);
    parses("", &[]);
    parses(".", &[s("")]);
    parses(r#""""#, &[s("")]);
    parses("?", &[m("")]);
    parses("x.\u{e9}\u{1f600}", &[s("x"), s("\u{e9}\u{1f600}")]);
    fails("{a", "expected empty stack, but got ['set']");
    fails("\"a", "expected empty stack, but got ['str', 'quote']");
    fails(
        "{\"a\\",
        "expected empty stack, but got ['set', 'quote', 'escape']",
    );
    fails("a\\", "expected empty stack, but got ['str', 'escape']");
    assert_eq!(parse("*z"), Err(SelectorError::ExpectedDot { found: 'z' }));
}

#[test]
fn clan_parse_selector_tests() {
    parses("x", &[s("x")]);
    parses("?x", &[m("x")]);
    parses("\"x\"", &[s("x")]);
    parses("{x}.y", &[Selector::Set(vec![ss("x")]), s("y")]);
    parses("x.y.z", &[s("x"), s("y"), s("z")]);
    parses("x.*.z", &[s("x"), Selector::All, s("z")]);
    parses("*.x", &[Selector::All, s("x")]);
    parses(
        "x.?zzz.{y,?z,x,*}",
        &[
            s("x"),
            m("zzz"),
            Selector::Set(vec![ss("y"), sm("z"), ss("x"), ss("*")]),
        ],
    );
    parses(
        r#"x."?zzz".?zzz\.asd..{y,\?z,"x,",*}"#,
        &[
            s("x"),
            s("?zzz"),
            m("zzz.asd"),
            s(""),
            Selector::Set(vec![ss("y"), ss("?z"), ss("x,"), ss("*")]),
        ],
    );
}

#[test]
fn json_form() {
    let sel = parse("x.*.?y.{a,?b}").unwrap();
    assert_eq!(
        serde_json::to_string(&sel).unwrap(),
        r#"[{"type":"str","value":"x"},{"type":"all"},{"type":"maybe","value":"y"},{"type":"set","value":[{"type":"str","value":"a"},{"type":"maybe","value":"b"}]}]"#
    );
    let back: Vec<Selector> = serde_json::from_value(serde_json::to_value(&sel).unwrap()).unwrap();
    assert_eq!(back, sel);
}

/// A small deterministic generator (no dependency needed).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn never_panics_and_round_trips() {
    let alphabet: Vec<char> = "a.*?{}\",\\ 0é😀".chars().collect();
    let check = |input: &str| {
        if let Ok(sel) = parse(input) {
            let back = display(&sel);
            assert_eq!(
                parse(&back).as_ref(),
                Ok(&sel),
                "{input:?} printed as {back:?}"
            );
        }
    };
    // Every string of up to 4 characters over a small alphabet.
    let small: Vec<char> = "a.*?{}\",\\".chars().collect();
    let mut stack = vec![String::new()];
    while let Some(prefix) = stack.pop() {
        check(&prefix);
        if prefix.chars().count() < 4 {
            for c in &small {
                stack.push(format!("{prefix}{c}"));
            }
        }
    }
    let mut rng = Lcg(7);
    for _ in 0..20_000 {
        let len = (rng.next() % 24) as usize;
        let input: String = (0..len)
            .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
            .collect();
        check(&input);
    }
}

/// `expr` evaluated, then `sel` applied under `sem`.
fn run(expr: &str, sel: &str, sem: Semantics) -> Result<serde_json::Value, String> {
    let mut ev = Eval::new(EvalOptions::default());
    let v = ev.eval_expr(expr, Path::new("/")).map_err(|e| e.message)?;
    let sels = parse(sel).map_err(|e| e.to_string())?;
    apply(&mut ev, &v, &sels, sem).map_err(|e| e.reason(&ev))
}

fn clan(expr: &str, sel: &str) -> Result<serde_json::Value, String> {
    run(expr, sel, Semantics::Clan)
}

#[test]
fn clan_select_table() {
    let abc = r#"{ a.b.c = "bla"; }"#;
    let rows = [
        ("a.b.c", json!("bla")),
        ("a.b", json!({"c": "bla"})),
        ("a", json!({"b": {"c": "bla"}})),
        ("a.b.?c", json!({"c": "bla"})),
        ("a.?b.?c", json!({"b": {"c": "bla"}})),
        ("a.?c", json!({})),
        ("a.?x.c", json!({})),
        ("a.*", json!({"b": {"c": "bla"}})),
        ("a.*.*", json!({"b": {"c": "bla"}})),
        ("a.b.*", json!({"c": "bla"})),
        ("a.*.c", json!({"b": "bla"})),
        ("a.{b}.c", json!({"b": "bla"})),
        ("a.{?b,?x}.c", json!({"b": "bla"})),
        ("a.{b}.{c}", json!({"b": {"c": "bla"}})),
    ];
    for (sel, want) in rows {
        assert_eq!(clan(abc, sel), Ok(want), "{sel}");
    }
    let missing = |k: &str| Err(format!("Attribute '{k}' not found in flake"));
    assert_eq!(clan(abc, "a.b.x"), missing("x"));
    assert_eq!(clan(abc, "a.b.c.x"), missing("x"));
    assert_eq!(clan(abc, "a.{b,x}.c"), missing("x"));

    let t1 = r#"{ testdict.x = { y = [ 123 345 456 ]; z = "bla"; }; }"#;
    assert_eq!(clan(t1, "testdict.x.y.0"), Ok(json!(123)));
    assert_eq!(clan(t1, "testdict.x.y.2"), Ok(json!(456)));
    assert_eq!(clan(t1, "testdict.x.y.{2,0}"), Ok(json!([456, 123])));
    assert_eq!(clan(t1, "testdict.x.y.*"), Ok(json!([123, 345, 456])));
    assert_eq!(clan(t1, "testdict.x.z.z"), missing("z"));
    assert_eq!(clan(t1, "testdict.x.z.1"), missing("1"));
    assert_eq!(clan(t1, "testdict.x.y.3"), missing("3"));
    assert_eq!(clan(t1, "testdict.x.y.01"), missing("01"));
    assert_eq!(
        clan(t1, "testdict.x.y.?0"),
        Err("Expected dict for value in MAYBE, got <class 'list'>".into())
    );

    let t2 = r#"{ testdict2 = { x = { y = { a = 1; b = 2; }; z = null; }; n = { }; }; }"#;
    assert_eq!(clan(t2, "testdict2.n"), Ok(json!({})));
    assert_eq!(clan(t2, "testdict2.?n"), Ok(json!({"n": {}})));
    // clan-cli.md §1.7 shows `{"y": {"a": 1}}`: from a cache that already held `z = null`.
    // A fresh evaluation (what kith's reference path is) keeps `z` as `{}`.
    assert_eq!(
        clan(t2, "testdict2.x.*.?a"),
        Ok(json!({"y": {"a": 1}, "z": {}}))
    );
    for sel in ["testdict2.x.z.?a", "testdict2.x.z.{?a}", "testdict2.x.z.{}"] {
        assert_eq!(clan(t2, sel), Ok(json!({})), "{sel}");
    }
    assert_eq!(clan(t2, "testdict2.x.z.a"), missing("a"));
    assert_eq!(clan(t2, "testdict2.x.z.{a}"), missing("{a}"));
    assert_eq!(clan(t2, "testdict2.x.z.{a,?b}"), missing("{a,b}"));
    assert_eq!(clan(t2, "testdict2.x.z.*"), missing("*"));

    let out = r#"{ x.z = "/nix/store/abc-bla"; x.s = "/nix/store/abc-bla/sub"; }"#;
    assert_eq!(clan(out, "x.z"), Ok(json!("/nix/store/abc-bla")));
    assert_eq!(clan(out, "x.z.outPath"), Ok(json!("/nix/store/abc-bla")));
    assert_eq!(
        clan(out, "x.z.?outPath"),
        Ok(json!({"outPath": "/nix/store/abc-bla"}))
    );
    assert_eq!(clan(out, "x.s.outPath"), missing("outPath"));
    assert_eq!(
        clan(r#"{ d = { outPath = "/nix/store/abc-d"; x = 1; }; }"#, "d"),
        Ok(json!("/nix/store/abc-d"))
    );
}

#[test]
fn set_order_and_laziness() {
    let e = r#"{ a = { z = 1; y = 2; boom = throw "never"; }; }"#;
    let got = clan(e, "a.{z,y}").unwrap();
    assert_eq!(dumps(&got), "{\n    \"z\": 1,\n    \"y\": 2\n}");
    let got = run(e, "a.{z,y}", Semantics::NixSelect).unwrap();
    assert_eq!(dumps(&got), "{\n    \"y\": 2,\n    \"z\": 1\n}");
    assert_eq!(clan(e, "a.?boom2"), Ok(json!({})));
    assert_eq!(clan(e, "a.boom"), Err("never".into()));
    assert_eq!(
        clan("{ }", "clan.exports"),
        Err("This flake does not export the 'clan' attribute. \nPlease write 'clan = clan.config;' into the outputs of your flake.nix.".into())
    );
}

/// The cases of nix-select's `tests.nix`: each `(select SEL testdata) == EXPECTED`.
#[test]
fn nix_select_tests() {
    let what = "nix-select tests.nix";
    let Some(dir) = corpus::present(&corpus::corpus_path("nix-select"), what) else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("tests.nix")).unwrap();
    let split = text.rfind("\nin\n").expect("tests.nix: `in`");
    let data_expr = format!("{}\nin testdata", &text[..split]);
    let mut ev = Eval::new(EvalOptions::default());
    let data = ev.eval_expr(&data_expr, &dir).unwrap();
    let mut rest = &text[split..];
    let mut count = 0;
    while let Some(at) = rest.find("(select ") {
        rest = &rest[at + "(select ".len()..];
        let (sel, after) = if let Some(r) = rest.strip_prefix("''") {
            let end = r.find("''").unwrap();
            (r[..end].to_string(), &r[end + 2..])
        } else {
            let r = rest.strip_prefix('"').unwrap();
            let end = r.find('"').unwrap();
            (r[..end].to_string(), &r[end + 1..])
        };
        let after = after.trim_start().strip_prefix("testdata)").unwrap();
        let after = after.trim_start().strip_prefix("==").unwrap();
        // The expected value: up to the `)` closing the assertion.
        let (mut depth, mut in_string) = (0i32, false);
        let end = after
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '"' => in_string = !in_string,
                    _ if in_string => {}
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' => depth -= 1,
                    _ => {}
                }
                depth < 0
            })
            .unwrap()
            .0;
        let want = ev.eval_expr(&after[..end], &dir).unwrap();
        let want = ev.to_json(&want).unwrap();
        let sels = parse(&sel).unwrap();
        let got = apply(&mut ev, &data, &sels, Semantics::NixSelect)
            .unwrap_or_else(|e| panic!("{sel}: {}", e.reason(&ev)));
        assert_eq!(got, want, "{sel}");
        // Clan shows the same, but for `?N` on a list (its cache rejects the list).
        let clan = apply(&mut ev, &data, &sels, Semantics::Clan);
        match clan {
            Ok(v) => assert_eq!(v, want, "{sel} (clan)"),
            Err(ApplyError::Cache(m)) if sel.contains("somelists.?") => {
                assert!(m.contains("MAYBE"), "{sel}: {m}")
            }
            Err(e) => panic!("{sel} (clan): {}", e.reason(&ev)),
        }
        rest = &after[end..];
        count += 1;
    }
    assert!(count >= 15, "only {count} cases found in tests.nix");
}

#[test]
fn output_format() {
    assert_eq!(dumps(&json!({})), "{}");
    assert_eq!(dumps(&json!([])), "[]");
    assert_eq!(dumps(&json!("a")), "\"a\"");
    assert_eq!(dumps(&json!(null)), "null");
    assert_eq!(
        dumps(&json!({"a": [1, {"b": []}, {}], "c": true})),
        "{\n    \"a\": [\n        1,\n        {\n            \"b\": []\n        },\n        {}\n    ],\n    \"c\": true\n}"
    );
    assert_eq!(
        dumps(&json!("é\u{1f600}\n\t\"\\\u{1}\u{7f}~")),
        r#""\u00e9\ud83d\ude00\n\t\"\\\u0001\u007f~""#
    );
    assert_eq!(dumps(&json!({"ü": 1})), "{\n    \"\\u00fc\": 1\n}");
    let floats = [
        (1.0, "1.0"),
        (0.1, "0.1"),
        (-2.5, "-2.5"),
        (1e16, "1e+16"),
        (1.5e16, "1.5e+16"),
        (123456789012345.6, "123456789012345.6"),
        (1e15, "1000000000000000.0"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1.5e-7, "1.5e-07"),
        (1e100, "1e+100"),
        (-0.0, "-0.0"),
    ];
    for (f, want) in floats {
        assert_eq!(dumps(&json!(f)), want, "{f}");
    }
    assert_eq!(dumps(&json!(-3)), "-3");
    assert_eq!(dumps(&json!(u64::MAX)), "18446744073709551615");
}

#[test]
fn flake_discovery() {
    use kith_planner::select::default_flake_dir;
    let tmp = std::env::temp_dir().join(format!("kith-sel-disc-{}", std::process::id()));
    let deep = tmp.join("a/b/c");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(tmp.join("a/flake.nix"), "{}").unwrap();
    std::fs::create_dir_all(tmp.join("a/b/.git")).unwrap();
    // `.git` is searched (through all ancestors) before `flake.nix`.
    assert_eq!(default_flake_dir(None, &deep), Some(tmp.join("a/b")));
    std::fs::write(tmp.join(".clan-flake"), "").unwrap();
    assert_eq!(default_flake_dir(None, &deep), Some(tmp.clone()));
    let env = std::ffi::OsString::from("/somewhere");
    assert_eq!(
        default_flake_dir(Some(&env), &deep),
        Some("/somewhere".into())
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}
