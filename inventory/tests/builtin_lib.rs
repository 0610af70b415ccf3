//! kith's built-in lib (`kith_inventory::builtin_lib`) against nixpkgs' lib
//! (`../shared/corpus/nixpkgs-lib`): the same expressions evaluated with both give the same
//! values (or the same errors); every type it provides has the same name, description,
//! description class, `check` results, nested types, submodules and functor; and both
//! libs have the same attribute names. Skipped without `../shared`.

#[path = "../../eval/tests/common/mod.rs"]
mod common;

use kith_eval::{Eval, EvalOptions, Value};
use std::path::Path;

/// `lib: { case = value; … }`: every function the built-in lib provides, on ordinary and
/// edge-case arguments. Values are compared as JSON, forced deeply, case by case.
const CASES: &str = r#"lib: with lib; {
  mkOption = mkOption { type = types.str; default = "x"; description = "d"; };
  mkOptionBad = mkOption { typo = 1; };
  mkEnableOption = removeAttrs (mkEnableOption "thing") [ "type" ];
  mkEnableOptionType = (mkEnableOption "thing").type.name;
  props = [ (mkIf true 1) (mkMerge [ 1 2 ]) (mkOverride 7 1) (mkDefault 1) (mkForce 1)
    (mkOptionDefault 1) (mkImageMediaOverride 1) (mkVMOverride 1) (mkOrder 3 1) (mkBefore 1) (mkAfter 1) ];
  modules = with lib.modules; [ (mkIf false 1) (mkDefault 2) (mkAfter 3) defaultOverridePriority defaultOrderPriority ];
  optional = [ (optional true 1) (optional false 1) ];
  optionals = [ (optionals true [ 1 2 ]) (optionals false [ 1 ]) ];
  optionalAttrs = [ (optionalAttrs true { a = 1; }) (optionalAttrs false { a = 1; }) ];
  optionalString = [ (optionalString true "a") (optionalString false "a") ];
  toList = [ (toList 1) (toList [ 1 ]) (toList [ ]) ];
  flatten = [ (flatten [ 1 [ 2 [ 3 [ ] ] ] [ [ 4 ] ] ]) (flatten 5) (flatten [ ]) ];
  unique = [ (unique [ 1 2 1 "a" 3 "a" 2 ]) (unique [ ]) (unique [ { a = 1; } { a = 1; } ]) ];
  folds = [ (foldr (a: b: "(${a}${b})") "z" [ "a" "b" "c" ]) (foldl (a: b: "(${a}${b})") "z" [ "a" "b" "c" ])
    (foldl' (a: b: a + b) 0 [ 1 2 3 ]) (foldr (a: b: a) 0 [ ]) ];
  last = last [ 1 2 3 ];
  lastEmpty = last [ ];
  init = init [ 1 2 3 ];
  initEmpty = init [ ];
  heads = [ (head [ 1 2 ]) (tail [ 1 2 ]) ];
  sublist = [ (sublist 1 2 [ 1 2 3 4 ]) (sublist 3 9 [ 1 2 3 4 ]) (sublist 9 1 [ 1 ]) (take 2 [ 1 2 3 ]) (take 9 [ 1 ]) (drop 1 [ 1 2 3 ]) (drop 9 [ 1 ]) ];
  imap = [ (imap0 (i: v: "${toString i}${v}") [ "a" "b" ]) (imap1 (i: v: "${toString i}${v}") [ "a" "b" ]) ];
  range = [ (range 2 5) (range 5 2) (range 3 3) ];
  count = count (x: x > 1) [ 1 2 3 ];
  reverseList = [ (reverseList [ 1 2 3 ]) (reverseList [ ]) ];
  lists = [ (remove 2 [ 1 2 3 2 ]) (subtractLists [ 2 ] [ 1 2 3 ]) (intersectLists [ 2 3 ] [ 1 2 3 ]) ];
  builtinsLists = [ (concatMap (x: [ x x ]) [ 1 2 ]) (concatLists [ [ 1 ] [ 2 ] ]) (elem 2 [ 1 2 ]) (elemAt [ 1 2 ] 1)
    (length [ 1 ]) (filter (x: x > 1) [ 1 2 ]) (map (x: x + 1) [ 1 ]) (any (x: x) [ false true ]) (all (x: x) [ true false ])
    (genList (x: x) 3) (sort (a: b: a < b) [ 3 1 2 ]) ];
  nameValuePair = nameValuePair "a" 1;
  mapAttrs' = mapAttrs' (n: v: nameValuePair "${n}x" (v + 1)) { a = 1; b = 2; };
  mapAttrsToList = mapAttrsToList (n: v: "${n}=${toString v}") { b = 2; a = 1; };
  filterAttrs = filterAttrs (n: v: v > 1) { a = 1; b = 2; c = 3; };
  genAttrs = genAttrs [ "a" "b" ] (n: "${n}!");
  recursiveUpdate = recursiveUpdate { a = { b = 1; c = 2; }; d = 1; e = { f = 1; }; } { a = { b = 3; }; d = { x = 1; }; e = 2; };
  recursiveUpdateUntil = recursiveUpdateUntil (path: l: r: path == [ "a" ]) { a = { b = 1; }; c = { d = 1; }; } { a = { e = 1; }; c = { f = 1; }; };
  attrByPath = [ (attrByPath [ "a" "b" ] 0 { a.b = 1; }) (attrByPath [ "a" "c" ] 0 { a.b = 1; }) (attrByPath [ ] 0 { a = 1; }) ];
  hasAttrByPath = [ (hasAttrByPath [ "a" "b" ] { a.b = 1; }) (hasAttrByPath [ "a" "c" ] { a.b = 1; }) (hasAttrByPath [ ] 1) ];
  getAttrFromPath = getAttrFromPath [ "a" "b" ] { a.b = 1; };
  getAttrFromPathMissing = getAttrFromPath [ "a" "z" ] { a.b = 1; };
  setAttrByPath = [ (setAttrByPath [ "a" "b" ] 1) (setAttrByPath [ ] 1) ];
  zipAttrs = zipAttrs [ { a = 1; } { a = 2; b = 3; } ];
  builtinsAttrs = [ (attrNames { b = 1; a = 2; }) (attrValues { b = 1; a = 2; }) (hasAttr "a" { a = 1; }) (getAttr "a" { a = 1; })
    (mapAttrs (n: v: n) { a = 1; }) (listToAttrs [ { name = "a"; value = 1; } ]) (removeAttrs { a = 1; b = 2; } [ "a" ])
    (intersectAttrs { a = 1; } { a = 2; b = 3; }) (catAttrs "a" [ { a = 1; } { } ]) (zipAttrsWith (n: vs: vs) [ { a = 1; } { a = 2; } ]) ];
  strings = [ (concatStrings [ "a" "b" ]) (concatMapStrings (x: x + x) [ "a" "b" ]) (concatMapStringsSep "," (x: x + x) [ "a" "b" ])
    (concatStringsSep "-" [ "a" "b" ]) (hasSuffix "c" "abc") (hasSuffix "abcd" "bcd") (hasSuffix "" "a")
    (strings.escapeNixString "a\"$b\n") (stringLength "abc") (substring 1 1 "abc") (replaceStrings [ "a" ] [ "b" ] "aa") ];
  trivial = [ (id 1) (const 1 2) (flip (a: b: a - b) 1 3) (boolToString true) (boolToString false)
    (isFunction (x: x)) (isFunction { __functor = s: x: x; }) (isFunction 1) (isStringLike "a") (isStringLike { outPath = "a"; })
    (isStringLike 1) (typeOf 1) (isAttrs { }) (isList [ ]) (isString "") (isInt 1) (isBool true) (isFloat 1.0) (isPath ./.) ];
  throwIf = [ (throwIf false "no" 1) (throwIfNot true "no" 1) (builtins.tryEval (throwIf true "yes" 1)) ];
  throwIfMessage = throwIf true "the message" 1;
  assertMsg = [ (assertMsg true "m") (builtins.tryEval (assertMsg false "m")) ];
  namespaces = [ (attrsets.mapAttrs' (n: v: attrsets.nameValuePair n v) { a = 1; }) (lists.flatten [ [ 1 ] ])
    (strings.concatStringsSep "," [ "a" ]) (trivial.id 1) (options.mkOption { }) ];
}"#;

/// `lib: { name = type; … }`: every type the built-in lib provides.
const TYPES: &str = r#"lib: with lib.types; {
  inherit str nonEmptyStr int port bool float path raw anything attrs deferredModule;
  inherit (ints) unsigned positive u8 u16 u32 s8 s16 s32;
  between = ints.between (-3) 300;
  enum2 = enum [ "a" "b" ];
  enum1 = enum [ "x" ];
  enum0 = enum [ ];
  enumMixed = enum [ 1 true "s" ];
  strMatching = strMatching "[a-z]+";
  strMatchingDollar = strMatching "a$b";
  listOfStr = listOf str;
  listOfNullInt = listOf (nullOr int);
  listOfPositive = listOf ints.positive;
  attrsOfInt = attrsOf int;
  lazyAttrsOfStr = lazyAttrsOf str;
  attrsOfListOfStr = attrsOf (listOf str);
  nullOrStr = nullOr str;
  nullOrListOfStr = nullOr (listOf str);
  nullOrEnum = nullOr (enum [ "a" "b" ]);
  nullOrPort = nullOr port;
  submoduleDescribed = submoduleWith { modules = [ { } ]; description = "a thing"; };
  submodule = submodule { options.a = lib.mkOption { type = str; }; _file = "f"; };
  submoduleWithArgs = submoduleWith { modules = [ ]; specialArgs = { a = 1; }; class = "c"; };
  listOfSubmodule = listOf (submoduleWith { modules = [ ]; description = "x"; });
}"#;

/// What is compared of a type (`t`), with `samples` for its `check`.
const DESCRIBE: &str = r#"t:
let
  samples = [ null true false 0 1 (-1) 3 65535 65536 300 (-129) 2.5 "" " " "a" "abc" "a$b" "A" "a\n" "/abs" "rel"
    [ ] [ 1 ] { } { a = 1; } { outPath = "/x"; } (x: x) /tmp "s" 255 256 4294967295 ];
in {
  inherit (t) _type name description descriptionClass deprecationMessage;
  checks = map (x: t.check x) samples;
  names = builtins.attrNames t;
  nested = builtins.mapAttrs (_: n: n.name) t.nestedTypes;
  subModules = if t.getSubModules == null then null else builtins.length t.getSubModules;
  functor = {
    inherit (t.functor) name;
    payload = if t.functor.payload == null then null
      else builtins.mapAttrs (n: v: if n == "elemType" then v.name else if n == "modules" then builtins.length v else v) t.functor.payload;
  };
  emptyValue = if t.name == "submodule" then null else t.emptyValue;
}"#;

fn corpus_lib() -> Option<std::path::PathBuf> {
    common::corpus("nixpkgs-lib/lib", "the built-in lib against nixpkgs' lib")
}

/// The value of `expr` (a function of `lib`) with `lib`, attribute `name`, as JSON (forced
/// deeply) or its error's message.
fn outcome(ev: &mut Eval, f: &Value, lib: &Value, name: &str) -> Result<serde_json::Value, String> {
    let set = ev
        .call(f, lib.clone(), kith_eval::Span::NONE)
        .map_err(|e| e.message)?;
    let set = ev.force_attrs(&set).map_err(|e| e.message)?;
    let v = set.get_str(name).cloned().expect("case");
    ev.to_json(&v).map_err(|e| e.message)
}

fn libs(ev: &mut Eval, dir: &Path) -> (Value, Value) {
    let real = ev
        .eval_expr(&format!("import {}", dir.display()), Path::new("/"))
        .unwrap();
    let builtin = kith_inventory::builtin_lib::lib(ev).unwrap();
    (real, builtin)
}

#[test]
fn functions_equal_nixpkgs() {
    let Some(dir) = corpus_lib() else { return };
    let mut ev = Eval::new(EvalOptions::default());
    let (real, builtin) = libs(&mut ev, &dir);
    let f = ev.eval_expr(CASES, Path::new("/")).unwrap();
    let set = ev.call(&f, real.clone(), kith_eval::Span::NONE).unwrap();
    let cases: Vec<String> = ev
        .force_attrs(&set)
        .unwrap()
        .sorted_by_name()
        .iter()
        .map(|a| a.name.as_str().to_string())
        .collect();
    let mut failures = Vec::new();
    for case in &cases {
        let want = outcome(&mut ev, &f, &real, case);
        let got = outcome(&mut ev, &f, &builtin, case);
        let same = match (&want, &got) {
            (Ok(a), Ok(b)) => a == b,
            // The same message (nixpkgs' positions differ from the built-in lib's).
            (Err(a), Err(b)) => a == b,
            _ => false,
        };
        if !same {
            failures.push(format!("{case}:\n  nixpkgs: {want:?}\n  built-in: {got:?}"));
        }
    }
    assert!(cases.len() > 40, "{cases:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn types_equal_nixpkgs() {
    let Some(dir) = corpus_lib() else { return };
    let mut ev = Eval::new(EvalOptions::default());
    let (real, builtin) = libs(&mut ev, &dir);
    let types = ev.eval_expr(TYPES, Path::new("/")).unwrap();
    let describe = ev.eval_expr(DESCRIBE, Path::new("/")).unwrap();
    let set = ev
        .call(&types, real.clone(), kith_eval::Span::NONE)
        .unwrap();
    let names: Vec<String> = ev
        .force_attrs(&set)
        .unwrap()
        .sorted_by_name()
        .iter()
        .map(|a| a.name.as_str().to_string())
        .collect();
    let mut failures = Vec::new();
    for name in &names {
        let mut one = |lib: &Value| -> Result<serde_json::Value, String> {
            let set = ev
                .call(&types, lib.clone(), kith_eval::Span::NONE)
                .map_err(|e| e.message)?;
            let set = ev.force_attrs(&set).map_err(|e| e.message)?;
            let t = set.get_str(name).cloned().expect("type");
            let d = ev
                .call(&describe, t, kith_eval::Span::NONE)
                .map_err(|e| e.message)?;
            ev.to_json(&d).map_err(|e| e.message)
        };
        let want = one(&real);
        let got = one(&builtin);
        if want != got || want.is_err() {
            failures.push(format!("{name}:\n  nixpkgs: {want:?}\n  built-in: {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // A submodule's description needs its modules evaluated unless they only declare
    // options: the built-in lib says so instead of guessing.
    let f = ev
        .eval_expr(
            "lib: (lib.types.submodule ({ ... }: { freeformType = lib.types.attrs; })).description",
            Path::new("/"),
        )
        .unwrap();
    let err = ev
        .call(&f, builtin, kith_eval::Span::NONE)
        .and_then(|v| ev.force(&v))
        .unwrap_err();
    assert!(
        err.message.contains(
            "types.submodule's description (it needs nixpkgs' module system) is not available"
        ),
        "{}",
        err.message
    );
}

/// Both libs have the same names, here and in the namespaces the built-in lib fills; so
/// `names.json` is nixpkgs' list, and a name kith does not provide aborts, naming itself.
#[test]
fn names_equal_nixpkgs() {
    let Some(dir) = corpus_lib() else { return };
    let mut ev = Eval::new(EvalOptions::default());
    let (real, builtin) = libs(&mut ev, &dir);
    let f = ev
        .eval_expr(
            "lib: builtins.mapAttrs (_: builtins.attrNames) { inherit lib; inherit (lib) types attrsets lists strings trivial options modules; ints = lib.types.ints; }",
            Path::new("/"),
        )
        .unwrap();
    let mut of = |lib: &Value| {
        let v = ev.call(&f, lib.clone(), kith_eval::Span::NONE).unwrap();
        ev.to_json(&v).unwrap()
    };
    assert_eq!(of(&real), of(&builtin));
    let err = ev
        .eval_expr("lib: lib.fixedWidthNumber 2 3", Path::new("/"))
        .and_then(|g| {
            let v = ev.call(&g, builtin.clone(), kith_eval::Span::NONE)?;
            ev.force(&v)
        })
        .unwrap_err();
    assert!(!err.is_catchable());
    assert!(
        err.message.contains(
            "lib.fixedWidthNumber is not available: the clan's nixpkgs is not in the store"
        ),
        "{}",
        err.message
    );
}

/// `clanLib: flake: { case = value; … }`: the functions the built-in clanLib provides.
const CLAN_LIB_CASES: &str = r#"clanLib: flake: {
  keys = map clanLib.buildScopeKey [
    { serviceName = "s"; }
    { serviceName = "s"; instanceName = "i"; roleName = "r"; machineName = "m"; }
    { machineName = "m"; }
    { serviceName = "svc"; instanceName = "a:b"; }
  ];
  keyColon = clanLib.buildScopeKey { serviceName = "s"; instanceName = "a:"; };
  keyColonShort = clanLib.buildScopeKey { serviceName = ":"; };
  keyEmpty = clanLib.buildScopeKey { };
  keyNeither = clanLib.buildScopeKey { instanceName = "i"; };
  keyUnknown = clanLib.buildScopeKey { service = "s"; };
  values = [
    (clanLib.getPublicValue { machine = "m"; generator = "g"; file = "f"; inherit flake; })
    (clanLib.getPublicValue { generator = "g"; file = "f"; inherit flake; })
    (clanLib.getPublicValue { machine = "x"; generator = "g"; file = "f"; inherit flake; default = 7; })
    (clanLib.getPublicValue { machine = "m"; generator = "g"; file = "f"; flake = toString flake; })
  ];
  missingMachine = clanLib.getPublicValue { machine = "x"; generator = "g"; file = "f"; inherit flake; };
  missingShared = clanLib.getPublicValue { generator = "x"; file = "f"; inherit flake; };
  backend = clanLib.getPublicValue { backend = "in_repo"; generator = "x"; file = "f"; inherit flake; };
  paths = [ (clanLib.getPath { machine = "m"; generator = "g"; file = "f"; rootDir = "/r"; })
    (clanLib.getPath { machine = null; generator = "g"; file = "f"; rootDir = "/r"; }) ];
  exists = clanLib.exists;
  names = builtins.attrNames clanLib;
}"#;

/// The built-in clanLib against clan-core's (over nixpkgs' lib), on a directory of vars.
#[test]
fn clan_lib_equals_clan_cores() {
    let Some(dir) = corpus_lib() else { return };
    let Some(core) = common::corpus("clan-core/lib", "the built-in clanLib against clan-core's")
    else {
        return;
    };
    let vars = std::env::temp_dir().join(format!("kith-clan-lib-{}", std::process::id()));
    for (rel, text) in [
        ("vars/per-machine/m/g/f/value", "machine value"),
        ("vars/shared/g/f/value", "shared value\n"),
    ] {
        let p = vars.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let mut ev = Eval::new(EvalOptions::default());
    let (real_lib, _) = libs(&mut ev, &dir);
    let real = ev
        .eval_expr(&format!("import {}", core.display()), Path::new("/"))
        .unwrap();
    let args = ev
        .eval_expr("lib: { inherit lib; }", Path::new("/"))
        .unwrap();
    let args = ev
        .call(&args, real_lib.clone(), kith_eval::Span::NONE)
        .unwrap();
    let real = ev.call(&real, args, kith_eval::Span::NONE).unwrap();
    let builtin = kith_inventory::builtin_lib::clan_lib(&mut ev, real_lib).unwrap();
    let f = ev.eval_expr(CLAN_LIB_CASES, Path::new("/")).unwrap();
    let flake = ev
        .eval_expr(&format!("{}", vars.display()), Path::new("/"))
        .unwrap();
    let mut with = |clan_lib: &Value| {
        let g = ev.call(&f, clan_lib.clone(), kith_eval::Span::NONE)?;
        ev.call(&g, flake.clone(), kith_eval::Span::NONE)
    };
    let real_cases = with(&real).unwrap();
    let builtin_cases = with(&builtin).unwrap();
    let names: Vec<String> = ev
        .force_attrs(&real_cases)
        .unwrap()
        .sorted_by_name()
        .iter()
        .map(|a| a.name.as_str().to_string())
        .collect();
    let mut failures = Vec::new();
    for name in &names {
        let mut one = |cases: &Value| -> Result<serde_json::Value, String> {
            let set = ev.force_attrs(cases).map_err(|e| e.message)?;
            let v = set.get_str(name).cloned().expect("case");
            ev.to_json(&v).map_err(|e| e.message)
        };
        let want = one(&real_cases);
        let got = one(&builtin_cases);
        if want != got {
            failures.push(format!(
                "{name}:\n  clan-core: {want:?}\n  built-in: {got:?}"
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&vars);
    assert!(names.len() > 8, "{names:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
