//! Finding the clan a flake declares, and evaluating its top-level module natively.
//!
//! The user's `flake.nix` is evaluated by kith's evaluator with the `clan-core` input
//! replaced, in the arguments of `outputs`, by a stand-in whose `lib.clan` and
//! `lib.buildClan` return a marker holding the module they were given. The module is then
//! evaluated by [`crate::modsys`] against clan's option declarations (the private `schema` module)
//! and a stand-in of clan-core's source modules (`sources.nix`), never running clan-core.

use crate::builtin_lib;
use crate::error::{Error, Result};
use crate::flake_parts;
use crate::modsys::merge::{eval_submodule, Ctx};
use crate::modsys::{attr, attrs, Def, Loc};
use crate::schema;
use kith_eval::{Eval, Span, Thunk, Value};
use kith_flake::{FlakeOptions, InputWrapper};
use std::path::Path;
use std::rc::Rc;

/// The stand-in for the `clan-core` input (see the module documentation).
const CAPTURE: &str = r#"
real: path:
let
  marker = kind: module:
    let
      r = {
        __kithClan = { inherit kind module real path; };
        config = r;
        clanInternals = r;
        nixosConfigurations = { };
        darwinConfigurations = { };
        nixosModules = { };
        darwinModules = { };
      };
    in
    r;
  # clan-core's flake-parts module, recognised by the option it defines (flake_parts.rs).
  flakeModule = {
    _file = path + "/flakeModules/clan.nix";
    __kithClanFlakeModule = [ { inherit real path; } ];
  };
in
{
  lib = {
    clan = marker "clan";
    buildClan = marker "buildClan";
  };
  flakeModules = {
    default = flakeModule;
    clan = flakeModule;
  };
  outPath = path;
  inputs = real.inputs;
}
"#;

/// The error clan's CLI shows for a flake without a `clan` output.
pub const NO_CLAN_OUTPUT: &str = "This flake does not export the 'clan' attribute. Please write 'clan = clan.config;' into the outputs of your flake.nix.";

/// A clan found in a flake, with its top-level configuration evaluated lazily.
pub struct Clan {
    /// The flake's value (outputs, `inputs`, `outPath`, …), as the user's code sees it.
    pub flake: Value,
    /// clan's top-level `config` (lazy).
    pub config: Value,
    /// clan-core's source directory (where its files would be; only used in names).
    pub core: String,
    /// The entry point the flake used: `clan` (`lib.clan`), `buildClan` or `flake-parts`.
    pub entry: String,
    /// The real `clan-core` input (lazy; may be unavailable).
    pub clan_core: Value,
    /// nixpkgs' `lib` as the clan's modules receive it (lazy).
    pub lib: Value,
    /// Whether the clan's modules got kith's built-in `lib` (its nixpkgs is locked but
    /// not on disk: see [`crate::builtin_lib`]).
    pub builtin_lib: bool,
    /// The services, once built (see [`crate::services::services`]).
    pub(crate) services: std::cell::RefCell<Option<Rc<crate::services::Services>>>,
}

impl Clan {
    /// The flake's store path (its `outPath`), which answers contain in file names.
    pub fn flake_path(&self, ev: &mut Eval) -> kith_eval::Result<String> {
        let flake = ev.force_attrs(&self.flake)?;
        let out = flake
            .get(kith_eval::sym!("outPath"))
            .cloned()
            .unwrap_or(Value::Null);
        Ok(ev.force_string(&out)?.encoded().into_owned())
    }
}

/// Loads the flake in `dir` and finds its clan.
pub fn load(ev: &mut Eval, dir: &Path, opts: &FlakeOptions) -> Result<Clan> {
    let clan = load_clan(ev, dir, opts);
    // The clan's values hold the lib it chose; the next load chooses again.
    builtin_lib::forget();
    clan
}

fn load_clan(ev: &mut Eval, dir: &Path, opts: &FlakeOptions) -> Result<Clan> {
    crate::modsys::reset_type_cache();
    let capture = ev.eval_expr(CAPTURE, Path::new("/"))?;
    let mut opts = opts.clone();
    let cap = capture.clone();
    opts.input_wrappers.push(InputWrapper {
        input: "clan-core".into(),
        wrap: Rc::new(move |real, path| Thunk::apply2(cap.clone(), real, path, Span::NONE)),
    });
    opts.input_wrappers.push(flake_parts::wrapper(ev)?);
    let nixpkgs_path = builtin_lib::NixpkgsPath::default();
    opts.input_wrappers
        .push(builtin_lib::nixpkgs_wrapper(&nixpkgs_path));
    let flake = kith_flake::load(ev, dir, &opts)?;
    let outputs = ev.force_attrs(&flake)?;
    // Building the outputs ran the wrappers: the nixpkgs input's path is known.
    let builtin_lib = builtin_lib::choose(ev, &nixpkgs_path)?;
    let clan_out = match (
        outputs.get(kith_eval::sym!("clan")),
        outputs.get_str(flake_parts::MARKER),
    ) {
        (Some(c), _) => c.clone(),
        (None, Some(marker)) => match flake_parts::evaluate(ev, marker)? {
            flake_parts::FlakeParts::Module(found) => {
                return Ok(Clan {
                    flake,
                    config: found.config,
                    core: found.core,
                    entry: "flake-parts".into(),
                    clan_core: found.clan_core,
                    lib: found.lib,
                    builtin_lib,
                    services: Default::default(),
                })
            }
            flake_parts::FlakeParts::Output(c) => c,
        },
        (None, None) => return Err(Error::Eval(kith_eval::EvalError::new(NO_CLAN_OUTPUT))),
    };
    let clan_out = ev.force_attrs(&clan_out)?;
    let Some(marker) = clan_out.get(kith_eval::sym!("__kithClan")).cloned() else {
        return Err(Error::unsupported(
            "the flake's `clan` output is not the result of clan-core.lib.clan or buildClan",
        ));
    };
    let marker = ev.force_attrs(&marker)?;
    // The marker is kith's own, but a flake could imitate it: never trust its shape.
    let field = |name: &str| {
        marker.get_str(name).cloned().ok_or_else(|| {
            Error::unsupported("a `clan` output that imitates kith's marker".to_string())
        })
    };
    let kind = ev.force_str_noctx(&field("kind")?)?;
    let module = field("module")?;
    let real = field("real")?;
    let m = ev.force_attrs(&module)?;
    let Some(self_value) = m.get(kith_eval::sym!("self")).cloned() else {
        return Err(Error::unsupported("`lib.clan` called without `self`"));
    };
    let core = ev.force_str_noctx(&field("path")?)?;
    let lib = lib_of(&self_value, &real);
    let config = evaluate(ev, &core, module, self_value, real.clone())?;
    Ok(Clan {
        flake,
        config,
        core,
        entry: kind,
        clan_core: real,
        lib,
        builtin_lib,
        services: Default::default(),
    })
}

/// Evaluates clan's top-level module `m` (lazily) and returns its `config`.
pub fn evaluate(
    ev: &mut Eval,
    core: &str,
    m: Value,
    self_value: Value,
    clan_core: Value,
) -> Result<Value> {
    let unknown: Rc<str> = Rc::from("<unknown-file>");
    let user = vec![Def::new(&unknown, m)];
    evaluate_modules(ev, core, Vec::new(), user, self_value, clan_core)
}

/// Evaluates clan's top-level modules `user` (after clan-core's own) lazily, as the option
/// at `prefix` (empty for `lib.clan`, `flake.clan` in flake-parts), and returns its
/// `config`.
pub fn evaluate_modules(
    ev: &mut Eval,
    core: &str,
    prefix: Vec<String>,
    user: Vec<Def>,
    self_value: Value,
    clan_core: Value,
) -> Result<Value> {
    let lib = lib_of(&self_value, &clan_core);
    let inventory = Rc::new(schema::inventory(core));
    let mut top = schema::clan(core, inventory);
    set_defaults(&mut top, self_value.clone());
    let sources = ev.eval_expr(include_str!("sources.nix"), Path::new("/"))?;
    let sources = ev.call(
        &sources,
        attrs(vec![attr("core", Value::string(core))]),
        Span::NONE,
    )?;
    let nixpkgs = input_of(&self_value, &clan_core, "nixpkgs");
    let nix_darwin = input_of(&self_value, &clan_core, "nix-darwin");
    let special = vec![
        ("self".to_string(), self_value.clone()),
        ("nixpkgs".to_string(), nixpkgs),
        ("nix-darwin".to_string(), nix_darwin),
        ("clan-core".to_string(), clan_core.clone()),
        (
            "clanLib".to_string(),
            clan_lib_of(ev, core, &clan_core, &lib),
        ),
    ];
    top.special = Some(Rc::new(move |_| special.clone()));
    let default_file: Rc<str> = Rc::from(format!("{core}/modules/clan/default.nix").as_str());
    let ctx = Ctx {
        loc: Loc::new(&prefix),
        name: None,
        parent: Value::Null,
        lib,
    };
    let mut defs = vec![Def::new(&default_file, sources)];
    defs.extend(user);
    Ok(eval_submodule(ev, &ctx, &Rc::new(top), defs))
}

/// `self` defaults to the special argument, `directory` to `toString self`.
fn set_defaults(top: &mut crate::modsys::Schema, self_value: Value) {
    use crate::modsys::{Decl, Node, Ty};
    for (name, node) in &mut top.options {
        let s = self_value.clone();
        match *name {
            "self" => {
                *node = Node::Opt(Decl {
                    ty: Ty::Raw,
                    default: Some(Rc::new(move |_, _| Ok(s.clone()))),
                    apply_unique: false,
                    apply: None,
                    file: None,
                })
            }
            "directory" => {
                *node = Node::Opt(Decl {
                    ty: Ty::Raw,
                    default: Some(Rc::new(move |ev: &mut Eval, _| {
                        let set = ev.force_attrs(&s)?;
                        let out = set
                            .get(kith_eval::sym!("outPath"))
                            .cloned()
                            .unwrap_or(Value::Null);
                        let out = ev.force(&out)?;
                        Ok(match out {
                            Value::Path(p) => Value::string(p.to_string()),
                            v => v,
                        })
                    })),
                    apply_unique: false,
                    apply: None,
                    file: None,
                })
            }
            _ => {}
        }
    }
}

/// `v.name`, lazily.
fn select(v: &Value, name: &'static str) -> Value {
    let v = v.clone();
    Thunk::native(move |ev: &mut Eval| {
        let set = ev.force_attrs(&v)?;
        match set.get_str(name) {
            Some(x) => ev.force(x),
            None => Err(kith_eval::EvalError::new(format!(
                "attribute '{name}' missing"
            ))),
        }
    })
}

/// `self.inputs.<name> or clan-core.inputs.<name>`, lazily.
fn input_of(self_value: &Value, clan_core: &Value, name: &'static str) -> Value {
    let s = self_value.clone();
    let c = clan_core.clone();
    Thunk::native(move |ev: &mut Eval| {
        let set = ev.force_attrs(&s)?;
        if let Some(inputs) = set.get(kith_eval::sym!("inputs")) {
            let inputs = ev.force_attrs(inputs)?;
            if let Some(x) = inputs.get_str(name) {
                return ev.force(x);
            }
        }
        let inputs = select(&c, "inputs");
        let inputs = ev.force_attrs(&inputs)?;
        match inputs.get_str(name) {
            Some(x) => ev.force(x),
            None => Err(kith_eval::EvalError::new(format!(
                "attribute '{name}' missing"
            ))),
        }
    })
}

/// nixpkgs' `lib`, as clan-core's evaluation uses it: kith's built-in one if the clan's
/// nixpkgs is locked but not on disk (see [`crate::builtin_lib`]).
pub(crate) fn lib_of(self_value: &Value, clan_core: &Value) -> Value {
    match builtin_lib::active() {
        Some(lib) => lib,
        None => select(&input_of(self_value, clan_core, "nixpkgs"), "lib"),
    }
}

/// clan-core's `clanLib`, lazily: kith's built-in one (over `lib`) if clan-core's source
/// is not on disk at `core`.
pub(crate) fn clan_lib_of(ev: &Eval, core: &str, clan_core: &Value, lib: &Value) -> Value {
    if builtin_lib::on_disk(ev, core) {
        let c = clan_core.clone();
        return Thunk::native(move |ev: &mut Eval| {
            let set = ev.force_attrs(&c)?;
            match set.get(kith_eval::sym!("clanLib")) {
                Some(l) => ev.force(l),
                None => Err(crate::error::unsupported_eval(
                    "a clan-core input without clanLib",
                )),
            }
        });
    }
    let lib = lib.clone();
    Thunk::native(move |ev: &mut Eval| {
        let v = builtin_lib::clan_lib(ev, lib.clone())?;
        ev.force(&v)
    })
}
