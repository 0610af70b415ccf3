//! Flake loading: the fixture flake set (`fixtures/flakes`) compared with what C++ Nix
//! 2.26 prints for it, and the Clan conformance cases loaded as flakes.
//!
//! Ground truth was taken with the fixture copied to `/tmp/kfx`, `main/` made a git
//! repository with `flake.nix` and `sub.nix` committed (author and committer
//! `kith <kith@example.org>`, date `1700000000 +0000`) and `untracked.nix` left untracked:
//!
//! ```text
//! nix --extra-experimental-features 'nix-command flakes' --store /tmp/nixstore26 \
//!   eval --no-write-lock-file --json /tmp/kfx/main#ATTR \
//!   --override-input leaf path:/tmp/kfx/leaf --override-input dep path:/tmp/kfx/dep \
//!   --override-input data path:/tmp/kfx/data
//! ```

#[path = "../../eval/tests/common/mod.rs"]
mod common;

use kith_eval::EvalOptions;
use kith_flake::{self as flake, FlakeOptions};
use std::path::{Path, PathBuf};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/flakes");

/// The fixture set in a fresh temporary directory, `main/` a git repository with
/// `flake.nix` and `sub.nix` committed as described above.
fn fixture(tag: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("kith-flake-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    common::fixtures::copy_dir(Path::new(FIXTURES), &root);
    common::git_commit(&root.join("main"), &["flake.nix", "sub.nix"], "fixture\n");
    root
}

fn overrides(root: &Path) -> FlakeOptions {
    FlakeOptions {
        overrides: ["leaf", "dep", "data"]
            .iter()
            .map(|n| (n.to_string(), root.join(n)))
            .collect(),
        offline: false,
        ..FlakeOptions::default()
    }
}

/// `nix eval --json main#attr` for each attribute.
fn eval_json(root: &Path, opts: &FlakeOptions, attrs: &[&str]) -> Vec<Result<String, String>> {
    let mut ev = kith_flake::evaluator(EvalOptions::default(), false);
    let f = flake::load(&mut ev, &root.join("main"), opts).unwrap();
    attrs
        .iter()
        .map(|a| {
            let v = flake::select_output(&mut ev, &f, "main", a).map_err(|e| e.message.clone())?;
            kith_eval::to_json_string(&mut ev, &v).map_err(|e| e.message.clone())
        })
        .collect()
}

#[test]
fn fixture_matches_nix() {
    let root = fixture("nix");
    // (attribute, `nix eval --json` output of Nix 2.26)
    let cases: &[(&str, &str)] = &[
        ("depValue", r#""dep""#),
        ("depLeaf", r#""leaf""#),
        ("depSelfType", r#""flake""#),
        ("leafViaDep", r#""leaf""#),
        ("hello", r#""hello from data\n""#),
        (
            "dataNames",
            r#"["lastModified","lastModifiedDate","narHash","outPath"]"#,
        ),
        ("sub", r#"{"answer":42}"#),
        (
            "selfPath",
            r#""/nix/store/r3qbmxwzy5wi76gw570i6gm7y5kiqjc8-source""#,
        ),
        ("untrackedVisible", "false"),
        ("listing", r#"["flake.nix","sub.nix"]"#),
        (
            "depNames",
            r#"["_type","inputs","lastModified","lastModifiedDate","leafValue","narHash","outPath","outputs","selfIsFlake","sourceInfo","value"]"#,
        ),
        ("inputNames", r#"["data","dep","leaf"]"#),
        // The lock file changed and was not written: Nix drops `rev`, `revCount`, `shortRev`.
        (
            "selfInfo",
            r#"{"lastModified":1700000000,"lastModifiedDate":"20231114221320","narHash":"sha256-I3dru8vryhGW7yP6hCA1jnWXZioHug6Q8MwfHhr7hNo=","submodules":false}"#,
        ),
        (
            "depOut",
            r#""/nix/store/x3q3rj01pd1dk31v9bjk3p8nk9mz4lqi-source""#,
        ),
        (
            "dataOut",
            r#""/nix/store/c04qkv9yprijpy0gcyk3h8ypgy45qr63-source""#,
        ),
        ("depType", r#""flake""#),
        (
            "selfNames",
            r#"["_type","dataInfo","dataIsPath","dataNames","dataOut","depInfo","depLeaf","depNames","depOut","depSelfType","depType","depValue","hello","inputNames","inputs","lastModified","lastModifiedDate","leafViaDep","listing","narHash","outPath","outputs","selfInfo","selfNames","selfPath","sourceInfo","sub","subPath","submodules","untracked","untrackedVisible"]"#,
        ),
    ];
    let attrs: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let got = eval_json(&root, &overrides(&root), &attrs);
    for ((attr, want), got) in cases.iter().zip(got) {
        assert_eq!(got.as_deref(), Ok(*want), "attribute {attr}");
    }
    // Nix prints the in-store path (here the sub.nix of the store path above).
    let sub = eval_json(&root, &overrides(&root), &["subPath"]);
    assert_eq!(
        sub[0].as_deref(),
        Ok(r#""/nix/store/r3qbmxwzy5wi76gw570i6gm7y5kiqjc8-source/sub.nix""#)
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn untracked_files_are_invisible() {
    let root = fixture("untracked");
    let got = eval_json(&root, &overrides(&root), &["untracked"]);
    let err = got[0].clone().unwrap_err();
    assert_eq!(
        err,
        "path '/nix/store/r3qbmxwzy5wi76gw570i6gm7y5kiqjc8-source/untracked.nix' does not exist"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn relative_path_inputs_and_follows() {
    // Without overrides, `path:../dep` etc. resolve next to the flake's directory.
    let root = fixture("relative");
    let got = eval_json(
        &root,
        &FlakeOptions::default(),
        &["depLeaf", "leafViaDep", "hello", "depOut", "dataOut"],
    );
    let want = [
        r#""leaf""#,
        r#""leaf""#,
        r#""hello from data\n""#,
        r#""/nix/store/x3q3rj01pd1dk31v9bjk3p8nk9mz4lqi-source""#,
        r#""/nix/store/c04qkv9yprijpy0gcyk3h8ypgy45qr63-source""#,
    ];
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.as_deref(), Ok(w));
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn dirty_tree_has_dirty_rev() {
    // A modified tracked file: Nix 2.26 sets `dirtyRev = "<HEAD>-dirty"` and
    // `dirtyShortRev`, and no `rev`.
    let root = fixture("dirty");
    std::fs::write(root.join("main/sub.nix"), "{ answer = 43; }\n").unwrap();
    let head = git2::Repository::open(root.join("main"))
        .unwrap()
        .head()
        .unwrap()
        .target()
        .unwrap()
        .to_string();
    let got = eval_json(&root, &overrides(&root), &["selfInfo", "sub"]);
    let info: serde_json::Value = serde_json::from_str(got[0].as_ref().unwrap()).unwrap();
    assert_eq!(info["dirtyRev"], format!("{head}-dirty"));
    assert_eq!(info["dirtyShortRev"], format!("{}-dirty", &head[..7]));
    assert!(info.get("rev").is_none());
    assert_eq!(got[1].as_deref(), Ok(r#"{"answer":43}"#));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn missing_outputs_is_an_error() {
    let root = std::env::temp_dir().join(format!("kith-flake-noout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("flake.nix"), "{ description = \"x\"; }").unwrap();
    let mut ev = kith_flake::evaluator(EvalOptions::default(), false);
    let Err(err) = flake::load(&mut ev, &root, &FlakeOptions::default()) else {
        panic!("a flake without outputs loaded");
    };
    let real = std::fs::canonicalize(&root).unwrap();
    assert_eq!(
        err.message,
        format!("flake 'path:{}' lacks attribute 'outputs'", real.display())
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// Replaces the store paths of the case and the corpus inputs with the oracle's
/// placeholders.
fn placeholders(text: &str, reps: &[(String, &str)]) -> String {
    let mut out = text.to_string();
    for (from, to) in reps {
        out = out.replace(from.as_str(), to);
    }
    out
}

/// The inputs overridden to corpus directories.
fn corpus_overrides(pairs: &[(&str, &str)]) -> FlakeOptions {
    FlakeOptions {
        overrides: pairs
            .iter()
            .map(|(n, d)| (n.to_string(), common::corpus_path(d)))
            .collect(),
        offline: false,
        ..FlakeOptions::default()
    }
}

/// The six overrides that let clan-core be evaluated as a real flake: the case's two, and
/// clan-core's own inputs that the corpus holds (flake-parts is the exact locked revision,
/// so its store path is the one clan-core's flake.lock names).
const ALL_OVERRIDES: &[(&str, &str)] = &[
    ("clan-core", "clan-core"),
    ("nixpkgs", "nixpkgs-lib"),
    ("clan-core/flake-parts", "flake-parts"),
    ("clan-core/systems", "nix-systems"),
    ("clan-core/nix-select", "nix-select"),
    ("clan-core/nixpkgs", "nixpkgs-lib"),
];

/// Every conformance case, loaded as a flake with all the inputs clan-core's flake
/// needs overridden to the corpus (so clan-core is evaluated as a flake), gives the
/// expected views (or fails with the expected error).
#[test]
fn conformance_cases_as_flakes() {
    check_conformance(&corpus_overrides(ALL_OVERRIDES));
}

/// With only `clan-core` and `nixpkgs` overridden, clan-core's own inputs are missing
/// and it is built by the source-tree substitute: the views are the same.
#[test]
fn conformance_cases_with_two_overrides() {
    check_conformance(&corpus_overrides(&[
        ("clan-core", "clan-core"),
        ("nixpkgs", "nixpkgs-lib"),
    ]));
}

/// `--explain` says which way clan-core was loaded.
#[test]
fn explain_names_the_substitute() {
    let what = "explain_names_the_substitute";
    let case = common::shared_path("conformance/cases/01-machine-sources");
    if common::present(&case, what).is_none() || common::corpus("", what).is_none() {
        return;
    }
    let line = |opts: &FlakeOptions| {
        let mut ev = kith_flake::evaluator(EvalOptions::default(), false);
        let (_, report) = flake::load_explained(&mut ev, &case, opts).unwrap();
        report
            .into_iter()
            .find(|l| l.starts_with("clan-core:"))
            .unwrap()
    };
    let two = line(&corpus_overrides(&[
        ("clan-core", "clan-core"),
        ("nixpkgs", "nixpkgs-lib"),
    ]));
    assert!(two.contains("path override"), "{two}");
    assert!(two.contains("source-tree substitute"), "{two}");
    assert!(two.contains("'flake-parts': not in the store"), "{two}");
    let six = line(&corpus_overrides(ALL_OVERRIDES));
    assert!(six.ends_with("evaluated as a flake"), "{six}");
}

/// The flake-parts and `buildClan` forms with clan-core built by the substitute (only
/// `clan-core`, `nixpkgs` and the clan's own `flake-parts` overridden): its `lib` has the
/// deprecated `buildClan` and its `flakeModules` the flake-parts module, as clan-core's
/// flake gives them.
#[test]
fn entry_forms_through_the_substitute() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../inventory/tests/cases");
    let names = ["01-flake-parts", "02-flake-parts-file", "03-build-clan"];
    let opts = corpus_overrides(&[
        ("clan-core", "clan-core"),
        ("nixpkgs", "nixpkgs-lib"),
        ("flake-parts", "flake-parts"),
    ]);
    check_cases(
        &cases,
        Some(&names),
        &opts,
        "entry forms through the substitute",
    );
}

/// Loads every conformance case with `opts` and compares the three views with
/// `expected.json` (paths written as `@CASE@`/`@CORPUS@`).
fn check_conformance(opts: &FlakeOptions) {
    let what = "conformance cases as flakes";
    let Some(cases) = common::present(&common::shared_path("conformance/cases"), what) else {
        return;
    };
    check_cases(&cases, None, opts, what);
}

/// Loads the cases in `cases` (those named in `only`, else all) with `opts` and compares
/// the three views with `expected.json` (paths written as `@CASE@`/`@CORPUS@`).
fn check_cases(cases: &Path, only: Option<&[&str]>, opts: &FlakeOptions, what: &str) {
    if common::corpus("", what).is_none() {
        return;
    }
    let entries = std::fs::read_dir(cases).unwrap();
    let views = [
        ("exports", "clan.exports"),
        (
            "inventory",
            "clanInternals.inventoryClass.inventorySerialization",
        ),
        ("cliChecks", "clanInternals.cliChecks"),
    ];
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    dirs.sort();
    let mut failures = Vec::new();
    for case in dirs {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        if only.is_some_and(|names| !names.contains(&name.as_str())) || !case.is_dir() {
            continue;
        }
        let expected = std::fs::read_to_string(case.join("expected.json"))
            .or_else(|_| std::fs::read_to_string(case.join("expected-partial.json")))
            .unwrap_or_else(|_| "{}".into());
        let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
        let want_err = std::fs::read_to_string(case.join("expected-error.txt")).ok();
        for (view, sel) in views {
            let mut ev = kith_flake::evaluator(EvalOptions::default(), false);
            let f = flake::load(&mut ev, &case, opts).unwrap();
            let mut path_of = |s: &str| {
                let v = flake::select_output(&mut ev, &f, "case", s).unwrap();
                let s = kith_eval::to_json_string(&mut ev, &v).unwrap();
                serde_json::from_str::<String>(&s).unwrap()
            };
            let reps = vec![
                (path_of(".inputs.clan-core.outPath"), "@CORPUS@/clan-core"),
                (path_of(".inputs.nixpkgs.outPath"), "@CORPUS@/nixpkgs-lib"),
                (path_of(".outPath"), "@CASE@"),
            ];
            let got = flake::select_output(&mut ev, &f, "case", sel)
                .and_then(|v| kith_eval::to_json_string(&mut ev, &v));
            match (got, expected.get(view)) {
                (Ok(text), Some(want)) => {
                    let got: serde_json::Value =
                        serde_json::from_str(&placeholders(&text, &reps)).unwrap();
                    if &got != want {
                        failures.push(format!("{name} {view}: differs"));
                    }
                }
                (Ok(_), None) => failures.push(format!("{name} {view}: should fail")),
                (Err(e), Some(_)) => failures.push(format!("{name} {view}: {}", e.message)),
                (Err(e), None) => {
                    let text = e.render(&ev.sources);
                    let want = want_err.as_deref().unwrap_or("").trim();
                    if !text.contains(want) {
                        failures.push(format!("{name} {view}: wrong error {}", e.message));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// `expr` evaluated (impure unless `pure`) and printed as JSON, or the error message.
fn eval_expr_json(expr: &str, pure: bool) -> Result<String, String> {
    let mut ev = kith_flake::evaluator(
        EvalOptions {
            pure,
            ..EvalOptions::default()
        },
        false,
    );
    let v = ev
        .eval_expr(expr, Path::new("/"))
        .map_err(|e| e.message.clone())?;
    kith_eval::to_json_string(&mut ev, &v).map_err(|e| e.message.clone())
}

#[test]
fn get_flake_equals_the_loaded_flake() {
    // Impure: a path in a git work tree, like `--flake DIR` (relative inputs next to it).
    let root = fixture("getflake");
    let main = root.join("main");
    let attrs = [
        "depLeaf",
        "leafViaDep",
        "hello",
        "depOut",
        "dataOut",
        "selfInfo",
        "selfPath",
        "sub",
        "untrackedVisible",
        "inputNames",
    ];
    let want = eval_json(&root, &FlakeOptions::default(), &attrs);
    for (a, w) in attrs.iter().zip(&want) {
        let e = format!("(builtins.getFlake \"{}\").{a}", main.display());
        assert_eq!(&eval_expr_json(&e, false), w, "{a}");
    }
    // The whole value has the shape of a flake.
    let e = format!("builtins.getFlake \"{}\"", main.display());
    let names = eval_expr_json(&format!("builtins.attrNames ({e})"), false).unwrap();
    for n in [
        "_type",
        "inputs",
        "outPath",
        "outputs",
        "sourceInfo",
        "depLeaf",
    ] {
        assert!(names.contains(&format!("\"{n}\"")), "{names}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn get_flake_in_pure_mode_needs_a_locked_reference() {
    let root = fixture("getflake-pure");
    let leaf = root.join("leaf");
    // Nix 2.26 (2.8 words it the same, with its own position format).
    let e = format!("builtins.getFlake \"{}\"", leaf.display());
    assert_eq!(
        eval_expr_json(&e, true).unwrap_err(),
        format!(
            "cannot call 'getFlake' on unlocked flake reference '{}', at «string»:1:1 (use --impure to override)",
            leaf.display()
        )
    );
    let e = format!("builtins.getFlake \"path:{}\"", leaf.display());
    assert!(eval_expr_json(&e, true)
        .unwrap_err()
        .contains("unlocked flake reference"));
    assert_eq!(
        eval_expr_json(&format!("({e}).value"), false).as_deref(),
        Ok(r#""leaf""#)
    );

    // Locked by its NAR hash: Nix 2.26 gives the leaf this hash and store path.
    let hash = "sha256-wABrXB8op4xiNlW1dk2Qj0EwjdPfugy8JO1rsm88MJw%3D";
    let locked = format!(
        "builtins.getFlake \"path:{}?narHash={hash}\"",
        leaf.display()
    );
    assert_eq!(
        eval_expr_json(&format!("({locked}).value"), true).as_deref(),
        Ok(r#""leaf""#)
    );
    assert_eq!(
        eval_expr_json(&format!("({locked}).outPath"), true).as_deref(),
        Ok(r#""/nix/store/iamxzclg8bn5127hpzd8mwhhbfzb8w9s-source""#)
    );
    let bad = locked.replace("sha256-wAB", "sha256-AAB");
    let err = eval_expr_json(&format!("({bad}).value"), true).unwrap_err();
    assert!(
        err.starts_with("NAR hash mismatch in input 'path:"),
        "{err}"
    );
    assert!(
        err.ends_with("but got 'sha256-wABrXB8op4xiNlW1dk2Qj0EwjdPfugy8JO1rsm88MJw='"),
        "{err}"
    );

    // Locked by a revision: the git work tree at its clean HEAD; `sourceInfo` as Nix 2.26
    // gives it for the leaf committed as in `fixture`.
    let rev = common::git_commit(&leaf, &["flake.nix"], "leaf\n").to_string();
    let git = format!(
        "builtins.getFlake \"git+file://{}?rev={rev}\"",
        leaf.display()
    );
    let info = eval_expr_json(
        &format!("builtins.removeAttrs ({git}).sourceInfo [ \"outPath\" ]"),
        true,
    )
    .unwrap();
    assert_eq!(
        info,
        format!(
            r#"{{"lastModified":1700000000,"lastModifiedDate":"20231114221320","narHash":"sha256-wABrXB8op4xiNlW1dk2Qj0EwjdPfugy8JO1rsm88MJw=","rev":"{rev}","revCount":1,"shortRev":"{}","submodules":false}}"#,
            &rev[..7]
        )
    );
    assert_eq!(
        eval_expr_json(&format!("({git}).value"), true).as_deref(),
        Ok(r#""leaf""#)
    );
    let other = git.replace(&rev, "0000000000000000000000000000000000000000");
    assert!(eval_expr_json(&other, true)
        .unwrap_err()
        .contains("clean HEAD"));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn get_flake_argument_errors() {
    assert_eq!(
        eval_expr_json("builtins.getFlake \"/x#a\"", false).unwrap_err(),
        "unexpected fragment 'a' in flake reference '/x#a'"
    );
    assert_eq!(
        eval_expr_json("builtins.getFlake 1", false).unwrap_err(),
        "expected a string but found an integer: 1"
    );
    assert!(eval_expr_json("builtins.getFlake \"nixpkgs\"", false)
        .unwrap_err()
        .starts_with("cannot find flake 'flake:nixpkgs' in the flake registries"));
}

#[test]
fn get_flake_of_itself_is_infinite_recursion_not_a_hang() {
    let dir = std::env::temp_dir().join(format!("kith-getflake-self-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let me = format!("path:{}", dir.display());
    std::fs::write(
        dir.join("flake.nix"),
        format!(
            "{{ outputs = _: {{ x = (builtins.getFlake \"{me}\").x; y = 1; z = (builtins.getFlake \"{me}\").y; }}; }}"
        ),
    )
    .unwrap();
    // Another attribute of the flake itself is fine: the flake is loaded once.
    assert_eq!(
        eval_expr_json(&format!("(builtins.getFlake \"{me}\").z"), false).as_deref(),
        Ok("1")
    );
    // The attribute itself is infinite recursion, reported at once.
    let started = std::time::Instant::now();
    let err = eval_expr_json(&format!("(builtins.getFlake \"{me}\").x"), false).unwrap_err();
    assert_eq!(err, "infinite recursion encountered");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The flake of `symlinks_cannot_escape_a_pure_flake`, byte for byte as it was given to Nix.
const SYMLINK_FLAKE: &str = r#"{ outputs = { self }: {
  host = builtins.readFile ./host;
  up = builtins.readDir ./up;
  chain = builtins.readFile ./chain1;
  inner = builtins.readFile ./inner;
  root = builtins.readDir ./.;
  parent = builtins.readDir ../.;
  out = builtins.readFile ./out;
  out2 = builtins.readFile ./out2;
  hashHost = builtins.hashFile "sha256" ./host;
  existsHost = builtins.pathExists ./host;
  existsOut = builtins.pathExists ./out;
  typeHost = builtins.readFileType ./host;
  pathHost = builtins.path { path = ./host; };
  pathHostStr = "${./host}";
  filterHost = builtins.filterSource (p: t: true) ./host;
  importHost = import ./host;
  pathUp = builtins.path { path = ./up; };
  readUpFile = builtins.readFile ./up/kf-outside;
  self = "${self}";
  hashInner = builtins.hashFile "sha256" ./inner;
  pathInner = "${./inner}";
  pathSub = "${./sub}";
  typeUpOut = builtins.readFileType ./up/kf-outside;
  existsUpOut = builtins.pathExists ./up/kf-outside;
  rootDir = builtins.readDir /.;
  loop = builtins.readFile ./loop;
  existsHostSlash = builtins.pathExists "${toString ./host}/";
  typeEtc = builtins.readFileType ./host/x;
  readEtcDir = builtins.readDir "${toString ./host}/..";
}; }
"#;

/// Issue 11, class 3: symlinks in a flake (to `/etc/hostname`, to `..`, chains, loops)
/// cannot be used to read outside the flake in pure mode. Expected values and messages are
/// Nix 2.26's, from the same tree in `/tmp/kf` (with `/tmp/kf-outside` next to it):
///
/// ```text
/// nix --extra-experimental-features 'nix-command flakes' --store /tmp/kstore \
///   eval --offline --json path:/tmp/kf#ATTR
/// ```
///
/// (its messages name the chroot store's real directory, `/tmp/kstore/nix/store`, where
/// kith, like Nix with the default store, names `/nix/store`; `rootDir` lists `tmp` there).
#[test]
fn symlinks_cannot_escape_a_pure_flake() {
    use std::os::unix::fs::symlink;
    let root = std::env::temp_dir().join(format!("kith-flake-links-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let dir = root.join("kf");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/file"), "inner\n").unwrap();
    std::fs::write(root.join("kf-outside"), "OUT\n").unwrap();
    std::fs::write(dir.join("flake.nix"), SYMLINK_FLAKE).unwrap();
    for (link, target) in [
        ("host", "/etc/hostname"),
        ("up", ".."),
        ("chain1", "chain2"),
        ("chain2", "/etc/hostname"),
        ("inner", "sub/file"),
        ("out", "../kf-outside"),
        ("out2", "up/kf-outside"),
        ("loop", "loop"),
    ] {
        symlink(target, dir.join(link)).unwrap();
    }
    let src = "/nix/store/qpjzkb1ip6d7bnh6b3p4kmhasnpdh0a4-source";
    let forbidden = |p: &str| {
        Err(format!(
            "access to absolute path '{p}' is forbidden in pure evaluation mode (use '--impure' to override)"
        ))
    };
    let listing = r#"{"chain1":"symlink","chain2":"symlink","flake.nix":"regular","host":"symlink","inner":"symlink","loop":"symlink","out":"symlink","out2":"symlink","sub":"directory","up":"symlink"}"#;
    let store_listing = r#"{"qpjzkb1ip6d7bnh6b3p4kmhasnpdh0a4-source":"directory"}"#;
    let ok = |s: &str| Ok(s.to_string());
    let cases: Vec<(&str, Result<String, String>)> = vec![
        ("host", forbidden("/etc")),
        ("up", ok(store_listing)),
        ("chain", forbidden("/etc")),
        ("inner", ok(r#""inner\n""#)),
        ("root", ok(listing)),
        ("parent", ok(store_listing)),
        ("out", forbidden("/nix/store/kf-outside")),
        ("out2", forbidden("/nix/store/kf-outside")),
        ("hashHost", forbidden("/etc")),
        ("existsHost", ok("true")),
        ("existsOut", ok("true")),
        ("typeHost", ok(r#""symlink""#)),
        ("pathHost", forbidden("/etc")),
        (
            "pathHostStr",
            ok(r#""/nix/store/m6rjrxiqf0b7l25cnh9q828lzc4a5xsk-host""#),
        ),
        ("filterHost", forbidden("/etc")),
        ("importHost", forbidden("/etc")),
        ("readUpFile", forbidden("/nix/store/kf-outside")),
        ("self", Ok(format!("\"{src}\""))),
        (
            "hashInner",
            ok(r#""940a68104d3b690442453f4be394b0a14721a174127d84c1c2f834b7ad05d684""#),
        ),
        (
            "pathInner",
            ok(r#""/nix/store/82dd2sr46bc0nr6q7ap3hq3mf8cdbsz5-inner""#),
        ),
        (
            "pathSub",
            ok(r#""/nix/store/hpn0kimq9zcc1z6g1cyws86blbm0wvmr-sub""#),
        ),
        ("typeUpOut", Err(format!("path '{src}/up' is a symlink"))),
        ("existsUpOut", ok("false")),
        ("rootDir", ok(r#"{"nix":"directory"}"#)),
        (
            "loop",
            Err(format!("infinite symlink recursion in path '{src}/loop'")),
        ),
        ("existsHostSlash", ok("false")),
        ("typeEtc", Err(format!("path '{src}/host' is a symlink"))),
        ("readEtcDir", ok(listing)),
    ];
    let mut ev = kith_flake::evaluator(
        EvalOptions {
            pure: true,
            ..EvalOptions::default()
        },
        false,
    );
    let f = flake::load(&mut ev, &dir, &FlakeOptions::default()).unwrap();
    for (attr, want) in cases {
        let got = flake::select_output(&mut ev, &f, "kf", attr)
            .and_then(|v| kith_eval::to_json_string(&mut ev, &v))
            .map_err(|e| e.message.clone());
        assert_eq!(got, want, "{attr}");
    }

    // Impure, the links are followed where they point (here: the host's files).
    let mut ev = kith_flake::evaluator(EvalOptions::default(), false);
    let f = flake::load(&mut ev, &dir, &FlakeOptions::default()).unwrap();
    for attr in ["inner", "existsHost", "typeHost"] {
        assert!(
            flake::select_output(&mut ev, &f, "kf", attr).is_ok(),
            "{attr}"
        );
    }
    if let Ok(host) = std::fs::read_to_string("/etc/hostname") {
        let v = flake::select_output(&mut ev, &f, "kf", "host").unwrap();
        let got = kith_eval::to_json_string(&mut ev, &v).unwrap();
        assert!(got.contains(host.trim()), "{got}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// Issue 11, class 4: a `path:` input's `narHash` in `flake.lock` is checked when the input
/// is used. Nix 2.26 (fresh `--store`, the dependency changed after `nix flake lock`):
/// `mismatch in field 'narHash' of input '{"__final":true,"lastModified":1796516232,
/// "narHash":"sha256-37zF…","path":"/tmp/k4/dep","type":"path"}', got '{…"narHash":
/// "sha256-dPKG…"…}'`; an output that does not use the input still evaluates.
#[test]
fn a_path_input_must_match_its_locked_nar_hash() {
    let root = std::env::temp_dir().join(format!("kith-flake-narhash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (dep, main) = (root.join("dep"), root.join("main"));
    std::fs::create_dir_all(&dep).unwrap();
    std::fs::create_dir_all(&main).unwrap();
    std::fs::write(dep.join("flake.nix"), "{ outputs = _: { v = 1; }; }\n").unwrap();
    let d = dep.display();
    std::fs::write(
        main.join("flake.nix"),
        format!("{{ inputs.dep.url = \"path:{d}\"; outputs = {{ self, dep }}: {{ x = dep.v; y = 2; }}; }}\n"),
    )
    .unwrap();
    let locked = "sha256-37zF8G1j1i66QZ/KIDUmtiFx/NRTITrdxSdHIG2HQBw=";
    let lock = format!(
        r#"{{"nodes":{{"dep":{{"locked":{{"lastModified":1796516232,"narHash":"{locked}","path":"{d}","type":"path"}},"original":{{"path":"{d}","type":"path"}}}},"root":{{"inputs":{{"dep":"dep"}}}}}},"root":"root","version":7}}"#
    );
    std::fs::write(main.join("flake.lock"), lock).unwrap();
    let eval = |attr: &str| {
        let mut ev = kith_flake::evaluator(
            EvalOptions {
                pure: true,
                ..EvalOptions::default()
            },
            false,
        );
        let f = flake::load(&mut ev, &main, &FlakeOptions::default()).unwrap();
        flake::select_output(&mut ev, &f, "main", attr)
            .and_then(|v| kith_eval::to_json_string(&mut ev, &v))
            .map_err(|e| e.message.clone())
    };
    // As locked.
    std::fs::write(dep.join("data"), "hello\n").unwrap();
    assert_eq!(eval("x"), Ok("1".into()));
    // Changed after locking.
    std::fs::write(dep.join("data"), "changed\n").unwrap();
    assert_eq!(eval("y"), Ok("2".into()));
    let entry = |h: &str| {
        format!(
            r#"{{"__final":true,"lastModified":1796516232,"narHash":"{h}","path":"{d}","type":"path"}}"#
        )
    };
    let got = "sha256-dPKGpiL9C7VwQohvGPQi0v5pntB2kHu6RmgsrmH6Diw=";
    assert_eq!(
        eval("x"),
        Err(format!(
            "mismatch in field 'narHash' of input '{}', got '{}'",
            entry(locked),
            entry(got)
        ))
    );
    let _ = std::fs::remove_dir_all(&root);
}
