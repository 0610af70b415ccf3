//! The flake-parts entry form: `flake-parts.lib.mkFlake { inherit inputs; } { imports = [
//! inputs.clan-core.flakeModules.default ]; clan = { … }; … }`.
//!
//! The `flake-parts` input is replaced, in the arguments of `outputs`, by a stand-in whose
//! `lib.mkFlake` returns a marker holding its two arguments, and clan-core's
//! `flakeModules.default`/`flakeModules.clan` are a marker module (see `clan.rs`). The
//! flake-parts modules are then walked by [`crate::modsys`] against a small schema: the
//! definitions of `clan` (renamed to `flake.clan` by clan-core's module) and `flake.clan` are
//! collected, with their files, as clan modules; everything else flake-parts declares is kept
//! unevaluated. Reading any option from flake-parts' `config` (`clan` and `flake.clan`
//! included) is [`crate::Error::Unsupported`], as is an option flake-parts may not declare,
//! `clan` and `flake.clan` both defined, or a flake-parts `lib` function other than
//! `mkFlake`/`importApply`. flake-parts' `lib` is the flake's `nixpkgs` input's. The clan is evaluated as
//! the function form evaluates it ([`crate::clan::evaluate_modules`]), as the submodule
//! `flake.clan` of clan-core's flake module: its modules are clan-core's and one module per
//! definition, `{ _file = <definition's file>; imports = [ <value> ]; }`.

use crate::error::{unsupported_eval, Error, Result};
use crate::modsys::merge::{eval_submodule, Ctx};
use crate::modsys::{
    attr, attrs, collect, props, Args, Collected, Decl, Def, Loc, Node, Schema, Ty,
};
use kith_eval::{Attr, Attrs, Eval, Thunk, Value};
use kith_flake::InputWrapper;
use std::path::Path;
use std::rc::Rc;

/// The attribute of the stand-in `mkFlake`'s result that holds its arguments.
pub const MARKER: &str = "__kithFlakeParts";

/// The option clan-core's flake-module marker defines (see `clan.rs`): `[ { real; path; } ]`.
const CLAN_MODULE_OPTION: &str = "__kithClanFlakeModule";

/// The file named for the defaults of the options declared here (never a user's file).
const DECLARED: &str = "<kith: flake-parts option declarations>";

/// The parts of the stand-in written in Nix: `mkFlake` (capturing its arguments and the
/// module location flake-parts would use) and `importApply`, as flake-parts defines them.
const STAND_IN: &str = r#"
{
  mkFlake = args: module: {
    __kithFlakeParts = {
      inherit args module;
      file =
        args.moduleLocation or (
          let
            pos = builtins.unsafeGetAttrPos "inputs" args;
          in
          if pos != null then
            pos.file
          else if args ? inputs.self.outPath then
            args.inputs.self.outPath + "/flake.nix"
          else
            "<mkFlake argument>"
        );
    };
  };
  importApply = modulePath: staticArgs: {
    _file = modulePath;
    imports = [ (import modulePath staticArgs) ];
  };
}
"#;

/// flake-parts' `lib` functions the stand-in does not provide: using one is unsupported.
const UNMODELLED_LIB: &[&str] = &[
    "evalFlakeModule",
    "defaultModule",
    "mkSubmoduleOptions",
    "mkDeferredModuleType",
    "mkPerSystemType",
    "mkDeferredModuleOption",
    "mkPerSystemOption",
    "attrsWith",
    "mkTransposedPerSystemModule",
    "mkAliasOptionModule",
    "importAndPublish",
    "memoizeStr",
    "deferredModuleWith",
];

/// Top-level options flake-parts declares, kept unevaluated.
const UNMODELLED_OPTIONS: &[&str] = &[
    "allSystems",
    "debug",
    "perInput",
    "perSystem",
    "processedFlake",
    "systems",
    "transposition",
];

/// A value whose use is unsupported, with `reason`.
fn unmodelled(reason: String) -> Value {
    Thunk::native(move |_| Err(unsupported_eval(reason)))
}

/// The [`InputWrapper`] replacing the `flake-parts` input by the stand-in.
pub fn wrapper(ev: &mut Eval) -> Result<InputWrapper> {
    let stand_in = ev.eval_expr(STAND_IN, Path::new("/"))?;
    Ok(InputWrapper {
        input: "flake-parts".into(),
        wrap: Rc::new(move |real, path| {
            let stand_in = stand_in.clone();
            Thunk::native(move |ev: &mut Eval| {
                let own = ev.force_attrs(&stand_in)?;
                let mut lib: Vec<Attr> = own.iter().cloned().collect();
                for name in UNMODELLED_LIB {
                    lib.push(attr(name, unmodelled(format!("flake-parts.lib.{name}"))));
                }
                let inputs = Thunk::native(move |ev: &mut Eval| {
                    let set = ev.force_attrs(&real)?;
                    match set.get(kith_eval::sym!("inputs")) {
                        Some(i) => ev.force(i),
                        None => Err(unsupported_eval("flake-parts' own inputs")),
                    }
                });
                let mut entries = vec![
                    attr("lib", Value::Attrs(Attrs::from_entries(lib))),
                    attr("outPath", path),
                    attr("inputs", inputs),
                ];
                for name in ["flakeModules", "modules", "templates"] {
                    entries.push(attr(name, unmodelled(format!("flake-parts.{name}"))));
                }
                Ok(Value::Attrs(Attrs::from_entries(entries)))
            })
        }),
    })
}

/// What a flake-parts flake declares.
pub enum FlakeParts {
    /// A clan through clan-core's flake module, evaluated.
    Module(Found),
    /// Without clan-core's flake module: the single definition of the freeform output
    /// `flake.clan` (e.g. `clan.config` of a `lib.clan` call), the flake's `clan` output.
    Output(Value),
}

/// A clan declared through flake-parts, found and evaluated.
pub struct Found {
    /// clan's top-level `config` (lazy).
    pub config: Value,
    /// clan-core's source directory.
    pub core: String,
    /// The real `clan-core` input (lazy; may be unavailable).
    pub clan_core: Value,
    /// nixpkgs' `lib` as the clan's modules receive it (lazy).
    pub lib: Value,
}

/// `set.name`, if present.
fn get(ev: &mut Eval, set: &Value, name: &str) -> kith_eval::Result<Option<Value>> {
    let set = ev.force_attrs(set)?;
    Ok(set.get_str(name).cloned())
}

/// An option of type `ty` with no default.
fn opt(ty: Ty) -> Node {
    Node::Opt(Decl::new(ty))
}

/// The options of the flake-parts evaluation, as its modules see them: reading any but
/// the flake-module marker is unsupported (`clan` and `flake.clan` included: their
/// definitions are taken from the collected modules, see [`option_defs`]).
fn schema(special: Vec<(String, Value)>) -> Schema {
    let declared: Rc<str> = Rc::from(DECLARED);
    let flake = Schema {
        options: vec![("clan", opt(Ty::Unmodelled))],
        freeform: Some(Ty::Unmodelled),
        decl_file: declared.clone(),
        class: None,
        extra: None,
        special: None,
        nodes: Default::default(),
    };
    let mut options = vec![
        (CLAN_MODULE_OPTION, opt(Ty::ListOf(Rc::new(Ty::Raw)))),
        ("clan", opt(Ty::Unmodelled)),
        (
            "flake",
            Node::Opt(Decl::with_default(Ty::Submodule(Rc::new(flake)), || {
                attrs(Vec::new())
            })),
        ),
    ];
    for name in UNMODELLED_OPTIONS {
        options.push((name, opt(Ty::Unmodelled)));
    }
    Schema {
        options,
        freeform: None,
        decl_file: declared,
        class: Some("flake"),
        extra: None,
        special: Some(Rc::new(move |_| special.clone())),
        nodes: Default::default(),
    }
}

/// The definitions of option `name` in collected `modules`, as the module system merges
/// them (`mkIf`/`mkMerge` discharged, only the highest priority kept).
fn option_defs(ev: &mut Eval, modules: &[Collected], name: &str) -> Result<Vec<Def>> {
    let mut defs = Vec::new();
    for m in modules {
        for p in &m.pieces {
            if let Some(a) = p.get_str(name) {
                defs.push(Def::new(&m.file, a.clone()));
            }
        }
    }
    Ok(props::normalise(ev, &defs)?.0)
}

/// A module `{ _file = file; imports = [ value ]; }` (a submodule definition as a module).
fn located(file: &str, value: Value) -> Value {
    attrs(vec![
        attr("_file", Value::string(file)),
        attr("imports", Value::list(vec![value])),
    ])
}

/// The error of an undeclared top-level definition is flake-parts' own (with its own
/// option list in the suggestions): not modelled.
fn undeclared(e: Error) -> Error {
    match e {
        Error::Eval(e)
            if e.message.starts_with("The option `") && e.message.contains("' does not exist.") =>
        {
            Error::unsupported(format!(
                "a flake-parts definition of an option the native engine does not know: {}",
                e.message.lines().next().unwrap_or_default()
            ))
        }
        e => e,
    }
}

/// Walks the flake-parts modules captured by the stand-in `mkFlake` (`marker`) and
/// evaluates the clan they define.
pub fn evaluate(ev: &mut Eval, marker: &Value) -> Result<FlakeParts> {
    let args = get(ev, marker, "args")?.unwrap_or(Value::Null);
    let module = get(ev, marker, "module")?.unwrap_or(Value::Null);
    let file = get(ev, marker, "file")?.unwrap_or(Value::Null);
    let file: Rc<str> = Rc::from(ev.force_str_noctx(&file)?.as_str());
    let arg_inputs = get(ev, &args, "inputs")?;
    let self_value = match get(ev, &args, "self")? {
        Some(s) => s,
        None => match &arg_inputs {
            Some(i) => get(ev, i, "self")?.ok_or_else(|| {
                Error::unsupported("flake-parts.lib.mkFlake called without `inputs.self`")
            })?,
            None => {
                return Err(Error::unsupported(
                    "flake-parts.lib.mkFlake called without `inputs` or `self`",
                ))
            }
        },
    };
    let inputs = match arg_inputs {
        Some(i) => i,
        None => get(ev, &self_value, "inputs")?.unwrap_or(Value::Null),
    };
    let mut special = vec![
        ("self".to_string(), self_value.clone()),
        ("inputs".to_string(), inputs.clone()),
        (
            "flake-parts-lib".to_string(),
            unmodelled("the `flake-parts-lib' module argument".into()),
        ),
        ("moduleLocation".to_string(), Value::string(&*file)),
    ];
    if let Some(extra) = get(ev, &args, "specialArgs")? {
        let extra = ev.force_attrs(&extra)?;
        for a in extra.iter() {
            special.retain(|(n, _)| n != a.name.as_str());
            special.push((a.name.as_str().to_string(), a.value.clone()));
        }
    }
    let lib = nixpkgs_lib(inputs);
    let ctx = Ctx {
        loc: Loc::default(),
        name: None,
        parent: Value::Null,
        lib: lib.clone(),
    };
    let top = Rc::new(schema(special.clone()));
    let config = eval_submodule(ev, &ctx, &top, vec![Def::new(&file, module.clone())]);
    let config_set = ev.force_attrs(&config).map_err(|e| undeclared(e.into()))?;
    let option = |name: &str| config_set.get_str(name).cloned().unwrap_or(Value::Null);
    let found = ev.force_list(&option(CLAN_MODULE_OPTION))?;
    let found: Vec<Value> = found.iter().cloned().collect();
    // The modules again, as the evaluation above collected them (same `config`), for the
    // definitions of `clan` and of `flake` (a submodule: its definitions are modules).
    let args = Args {
        lib: lib.clone(),
        class: Some("flake"),
        special,
    };
    let modules = collect(ev, vec![(file.clone(), module)], &config, &args)?;
    let renamed = option_defs(ev, &modules, "clan")?;
    let flake_roots = option_defs(ev, &modules, "flake")?
        .into_iter()
        .map(|d| (d.file, d.value))
        .collect();
    let flake_args = Args {
        lib,
        class: None,
        special: Vec::new(),
    };
    let flake_modules = collect(ev, flake_roots, &option("flake"), &flake_args)?;
    let direct = option_defs(ev, &flake_modules, "clan")?;
    let core_module = match (found.as_slice(), renamed.is_empty(), direct.as_slice()) {
        ([m], _, _) => m.clone(),
        ([], true, [d]) => return Ok(FlakeParts::Output(d.value.clone())),
        ([], true, []) => {
            return Err(Error::Eval(kith_eval::EvalError::new(
                crate::clan::NO_CLAN_OUTPUT,
            )))
        }
        ([], _, _) => {
            return Err(Error::unsupported(
                "a flake-parts clan (`clan` or several `flake.clan`) without clan-core's flakeModules.default",
            ))
        }
        _ => {
            return Err(Error::unsupported(
                "clan-core's flake module imported more than once",
            ))
        }
    };
    let real = get(ev, &core_module, "real")?.unwrap_or(Value::Null);
    let path = get(ev, &core_module, "path")?.unwrap_or(Value::Null);
    let core = ev.force_str_noctx(&path)?;
    if !renamed.is_empty() && !direct.is_empty() {
        return Err(Error::unsupported(
            "both `clan` and `flake.clan` are defined (their relative priority is not modelled)",
        ));
    }
    // `clan` is renamed to `flake.clan` by clan-core's flake module: the definitions then
    // come from that module's file.
    let rename_file = format!("{core}/flakeModules/clan.nix");
    let unknown: Rc<str> = Rc::from("<unknown-file>");
    let user: Vec<Def> = renamed
        .into_iter()
        .map(|d| located(&rename_file, d.value))
        .chain(direct.into_iter().map(|d| located(&d.file, d.value)))
        .map(|m| Def::new(&unknown, m))
        .collect();
    let lib = crate::clan::lib_of(&self_value, &real);
    let config = crate::clan::evaluate_modules(
        ev,
        &core,
        vec!["flake".into(), "clan".into()],
        user,
        self_value,
        real.clone(),
    )?;
    Ok(FlakeParts::Module(Found {
        config,
        core,
        clan_core: real,
        lib,
    }))
}

/// `inputs.nixpkgs.lib`, lazily: flake-parts' own `lib` comes from its `nixpkgs-lib`
/// input, which the stand-in replaces; the flake's nixpkgs stands for it.
fn nixpkgs_lib(inputs: Value) -> Value {
    if let Some(lib) = crate::builtin_lib::active() {
        return lib;
    }
    Thunk::native(move |ev: &mut Eval| {
        let nixpkgs = match get(ev, &inputs, "nixpkgs")? {
            Some(n) => n,
            None => {
                return Err(unsupported_eval(
                    "flake-parts modules without a `nixpkgs` input for their `lib`",
                ))
            }
        };
        match get(ev, &nixpkgs, "lib")? {
            Some(l) => ev.force(&l),
            None => Err(unsupported_eval("the `nixpkgs` input has no `lib`")),
        }
    })
}
