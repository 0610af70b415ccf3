//! clan-core's core export interfaces (`modules/clan/export-modules/`) as native schemas:
//! `networking`, `peer`, `endpoints` and `dataMesher` are declared here, so that a clan
//! whose clan-core is not on disk gets its exports; `auth` and `generators` (submodules
//! with generator modules of clan-core's own) are read from clan-core's files.
//!
//! The option types are the clan's `lib.types` (read as the module system reads any
//! declaration, [`crate::modsys::ty_of`]), so they check and describe values exactly as
//! the interface files, which use the same `lib`, do.

use super::ClanCtx;
use crate::modsys::{ty_of, Decl, DefaultFn, Node, Schema, Ty};
use kith_eval::{Eval, Result, Value};
use std::rc::Rc;

/// The interfaces declared natively, with their files in clan-core.
pub(crate) const NATIVE: [(&str, &str); 4] = [
    ("dataMesher", "data-mesher.nix"),
    ("endpoints", "endpoints.nix"),
    ("networking", "networking.nix"),
    ("peer", "peer.nix"),
];

/// The `lib.types` values the interfaces use.
const TYPES: &str = r#"lib: let t = lib.types; in {
  int = t.int;
  str = t.str;
  port = t.port;
  path = t.path;
  nullStr = t.nullOr t.str;
  strs = t.listOf t.str;
  strLists = t.attrsOf (t.listOf t.str);
}"#;

/// The native types of [`TYPES`], by name.
struct Types(Vec<(String, Ty)>);

impl Types {
    fn read(ev: &mut Eval, lib: &Value) -> Result<Types> {
        let f = ev.eval_expr(TYPES, std::path::Path::new("/"))?;
        let set = ev.call(&f, lib.clone(), kith_eval::Span::NONE)?;
        let set = ev.force_attrs(&set)?;
        let mut out = Vec::new();
        for a in set.sorted_by_name() {
            out.push((a.name.as_str().to_string(), ty_of(ev, &a.value)?));
        }
        Ok(Types(out))
    }

    fn get(&self, name: &str) -> Ty {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
            .expect("declared in TYPES")
    }
}

/// An option of type `ty` declared in `file`, with a default.
fn opt(file: &Rc<str>, ty: Ty, default: Option<DefaultFn>) -> Node {
    Node::Opt(Decl {
        ty,
        default,
        apply_unique: false,
        apply: None,
        file: Some(file.clone()),
    })
}

fn constant(v: Value) -> Option<DefaultFn> {
    Some(Rc::new(move |_, _| Ok(v.clone())))
}

fn empty_list() -> Option<DefaultFn> {
    constant(Value::list(Vec::new()))
}

fn schema(file: &Rc<str>, options: Vec<(&'static str, Node)>) -> Rc<Schema> {
    Rc::new(Schema::new(options, file.clone()))
}

fn named(description: &str, ty: Ty) -> Ty {
    Ty::Named(Value::string(description), Rc::new(ty))
}

/// The schema of interface `name` (one of [`NATIVE`]), declared in `file`.
fn interface(name: &str, file: &Rc<str>, t: &Types) -> Rc<Schema> {
    let strs = || opt(file, t.get("strs"), empty_list());
    match name {
        "networking" => schema(
            file,
            vec![
                (
                    "module",
                    opt(
                        file,
                        t.get("str"),
                        constant(Value::string("clan_lib.network.direct")),
                    ),
                ),
                (
                    "priority",
                    opt(file, t.get("int"), constant(Value::Int(1000))),
                ),
            ],
        ),
        "endpoints" => schema(file, vec![("hosts", strs())]),
        "dataMesher" => schema(
            file,
            vec![
                (
                    "files",
                    opt(
                        file,
                        t.get("strLists"),
                        constant(crate::modsys::attrs(Vec::new())),
                    ),
                ),
                ("namespaces", strs()),
            ],
        ),
        _ => {
            let str_opt = |f: &Rc<str>| opt(f, t.get("str"), None);
            let var = schema(
                file,
                vec![
                    ("file", str_opt(file)),
                    ("flake", opt(file, t.get("path"), None)),
                    ("generator", str_opt(file)),
                    ("machine", str_opt(file)),
                ],
            );
            let tags = vec![
                ("plain".to_string(), Decl::new(t.get("str"))),
                (
                    "var".to_string(),
                    Decl::new(named("submodule", Ty::Submodule(var))),
                ),
            ];
            let hosts = named(
                "list of attribute-tagged union with choices: plain, var",
                Ty::ListOf(Rc::new(named(
                    "attribute-tagged union with choices: plain, var",
                    Ty::AttrTag(Rc::new(tags)),
                ))),
            );
            // `name` is the submodule's name: the last part of its location.
            let name_default: DefaultFn =
                Rc::new(|_, ctx| Ok(Value::string(ctx.loc.from_end(1).unwrap_or_default())));
            schema(
                file,
                vec![
                    ("SSHOptions", strs()),
                    ("hosts", opt(file, hosts, empty_list())),
                    ("name", opt(file, t.get("str"), Some(name_default))),
                    ("port", opt(file, t.get("port"), constant(Value::Int(22)))),
                    ("user", opt(file, t.get("nullStr"), constant(Value::Null))),
                ],
            )
        }
    }
}

/// The options `<name> = mkOption { type = nullOr (submodule <interface>); default = null; }`
/// of the natively declared interfaces among `names`, declared in `file`.
pub(crate) fn declarations(
    ev: &mut Eval,
    cc: &ClanCtx,
    names: &[&'static str],
    file: &Rc<str>,
) -> Result<Vec<(&'static str, Node)>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let t = Types::read(ev, &cc.lib)?;
    let mut out = Vec::new();
    for &name in names {
        let Some((_, f)) = NATIVE.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        let ifile: Rc<str> =
            Rc::from(format!("{}/modules/clan/export-modules/{f}", cc.core).as_str());
        let s = interface(name, &ifile, &t);
        let ty = named(
            "null or (submodule)",
            Ty::NullOr(Rc::new(named("submodule", Ty::Submodule(s)))),
        );
        out.push((name, opt(file, ty, constant(Value::Null))));
    }
    Ok(out)
}
