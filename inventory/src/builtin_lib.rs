//! kith's built-in `lib` and `clanLib`, for a clan whose inputs are locked but in no store.
//!
//! A fresh clone of a clan has a `flake.lock` naming clan-core and nixpkgs, and neither on
//! disk. The inventory needs neither (kith models clan-core's part natively), but service
//! modules are written against nixpkgs' `lib` (`lib.mkOption`, `lib.types`,
//! `lib.mapAttrs'`, …) and may use clan-core's `clanLib`. When the clan's `nixpkgs` input
//! is locked and its store path does not exist, kith gives the modules its own `lib`
//! (`builtin_lib/lib.nix`): the functions clan modules commonly use, each giving exactly
//! what nixpkgs' gives (`tests/builtin_lib.rs` compares them with the real lib), and every
//! other name of nixpkgs' lib (`builtin_lib/names.json`) present but aborting with a
//! message naming it. Likewise, when clan-core's source is not on disk, `clanLib` is
//! `builtin_lib/clan_lib.nix` (`buildScopeKey`, `getPath`, `getPublicValue`, `exists`;
//! the rest aborts), checked against clan-core's by the same test.
//! Nothing here is used when the inputs are on disk (or overridden).

use kith_eval::{Eval, Result, Value};
use kith_flake::InputWrapper;
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

/// The attribute names of nixpkgs' lib (and of the namespaces the built-in lib fills),
/// at the nixpkgs revision kith is checked against.
const NAMES: &str = include_str!("builtin_lib/names.json");

/// The attribute names of clan-core's `clanLib` at the modelled revision.
const CLAN_LIB_NAMES: &str = include_str!("builtin_lib/clan_lib_names.json");

thread_local! {
    /// The built-in lib chosen by the clan being loaded on this thread (see [`choose`]).
    static ACTIVE: RefCell<Option<Value>> = const { RefCell::new(None) };
}

/// kith's built-in `lib` (a new value each call).
pub fn lib(ev: &mut Eval) -> Result<Value> {
    let f = ev.eval_expr(include_str!("builtin_lib/lib.nix"), Path::new("/"))?;
    let names = Value::from_json(&serde_json::from_str(NAMES).expect("valid JSON"));
    ev.call(&f, names, kith_eval::Span::NONE)
}

/// kith's built-in `clanLib` over `lib` (a new value each call).
pub fn clan_lib(ev: &mut Eval, lib: Value) -> Result<Value> {
    let f = ev.eval_expr(include_str!("builtin_lib/clan_lib.nix"), Path::new("/"))?;
    let names = Value::from_json(&serde_json::from_str(CLAN_LIB_NAMES).expect("valid JSON"));
    let args = crate::modsys::attrs(vec![
        crate::modsys::attr("lib", lib),
        crate::modsys::attr("names", names),
    ]);
    ev.call(&f, args, kith_eval::Span::NONE)
}

/// Where the root flake's `nixpkgs` input would be, once the flake is loaded.
pub(crate) type NixpkgsPath = Rc<RefCell<Option<Value>>>;

/// An input wrapper that notes the source path of the root flake's `nixpkgs` input in
/// `cell` (the input itself is passed on unchanged).
pub(crate) fn nixpkgs_wrapper(cell: &NixpkgsPath) -> InputWrapper {
    let cell = cell.clone();
    InputWrapper {
        input: "nixpkgs".into(),
        wrap: Rc::new(move |real, path| {
            *cell.borrow_mut() = Some(path);
            real
        }),
    }
}

/// Chooses the `lib` of the clan being loaded on this thread: the built-in one if the
/// root flake's `nixpkgs` input is locked but its source is not on disk, else none (the
/// real input's). Returns whether the built-in lib was chosen.
pub(crate) fn choose(ev: &mut Eval, cell: &NixpkgsPath) -> Result<bool> {
    forget();
    let Some(path) = cell.borrow().clone() else {
        return Ok(false);
    };
    // An input that cannot be located (no lock entry, …) keeps the real input's error.
    let Ok(path) = ev.force_str_noctx(&path) else {
        return Ok(false);
    };
    if on_disk(ev, &path) {
        return Ok(false);
    }
    let lib = lib(ev)?;
    ACTIVE.with(|a| *a.borrow_mut() = Some(lib));
    Ok(true)
}

/// Forgets the choice of the clan loaded on this thread.
pub(crate) fn forget() {
    ACTIVE.with(|a| *a.borrow_mut() = None);
}

/// The built-in lib, if the clan being loaded on this thread uses it.
pub(crate) fn active() -> Option<Value> {
    ACTIVE.with(|a| a.borrow().clone())
}

/// Whether `path` (a source's store path) exists in the file system the evaluator sees
/// (where sources, overridden ones too, are mapped to their store paths).
pub(crate) fn on_disk(ev: &Eval, path: &str) -> bool {
    match ev.resolve_fs(path, kith_eval::Follow::All) {
        Ok(p) => !matches!(p.found, kith_eval::Found::Missing),
        Err(_) => std::fs::symlink_metadata(path).is_ok(),
    }
}

/// What `--explain` adds when the built-in lib answered.
pub const EXPLAIN: &str =
    "the clan's nixpkgs is not in the store: its modules got kith's built-in lib";
