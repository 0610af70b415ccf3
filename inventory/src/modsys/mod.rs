//! A native subset of nixpkgs' module system (`lib.evalModules`), enough for clan's
//! inventory and services: modules as attribute sets, functions and files with `imports`;
//! definitions collected in the module system's order; `mkMerge`/`mkIf`/`mkOverride`/
//! `mkOrder`; options of known types with defaults; submodules evaluated lazily, so that
//! `config` can be read by the modules that define it. Its values are lazy evaluator values,
//! errors are the module system's messages word for word, and anything it does not model
//! raises [`crate::Error::Unsupported`].

mod declare;
mod loc;
pub mod merge;
pub mod pretty;
pub mod prios;
pub mod props;
pub mod share;
pub mod sites;
mod types;

pub use declare::reset_type_cache;
pub(crate) use declare::ty_of;
pub use loc::Loc;
pub use types::{Class, Decl, DefaultFn, NixSubmodule, Node, Schema, Ty};

use crate::error::unsupported_eval;
use kith_eval::{Attr, Attrs, ErrorKind, Eval, EvalError, Result, Shared, Span, Symbol, Value};
use rustc_hash::FxHashSet as HashSet;
use std::rc::Rc;

/// One definition: a value and the file (and span) it comes from.
#[derive(Clone)]
pub struct Def {
    /// The file the module system names for it (`_file`, or the imported path).
    pub file: Rc<str>,
    /// Where the defining attribute is, if known.
    pub span: Span,
    /// The defined value, unevaluated.
    pub value: Value,
}

impl Def {
    /// A definition of `value` from `file`.
    pub fn new(file: &Rc<str>, value: Value) -> Def {
        Def {
            file: file.clone(),
            span: Span::NONE,
            value,
        }
    }
}

/// An error as the module system throws it (catchable, like `throw`).
pub fn throw(msg: impl Into<String>) -> Box<EvalError> {
    EvalError::of_kind(ErrorKind::Throw, msg)
}

/// `showOption`: an option path as the module system prints it.
pub fn show_option(loc: &[String]) -> String {
    loc.iter()
        .map(|p| {
            if p == "*" || (p.len() >= 2 && p.starts_with('<') && p.ends_with('>')) {
                p.clone()
            } else {
                pretty::escape_identifier(p)
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// An attribute `name = value` (without a position), its name already a symbol (`sym!`
/// for a literal name: interned once, not per call).
pub fn attr_sym(name: Symbol, value: Value) -> Attr {
    Attr {
        name,
        value,
        span: Span::NONE,
    }
}

/// An attribute `name = value` (without a position).
pub fn attr(name: &str, value: Value) -> Attr {
    Attr {
        name: Symbol::new(name),
        value,
        span: Span::NONE,
    }
}

/// An attribute set of `entries`.
pub fn attrs(entries: Vec<Attr>) -> Value {
    Value::Attrs(Attrs::from_entries(entries))
}

/// A module after collection: its file, its `options` and its `config`, pushed down into
/// attribute sets.
pub struct Collected {
    /// `_file` or the path it was imported from.
    pub file: Rc<str>,
    /// The pieces of its `config` (after `pushDownProperties`).
    pub pieces: Vec<Shared<Attrs>>,
    /// Its option declarations, if any.
    pub options: Option<Value>,
    /// Its `freeformType`, if it gives one.
    pub freeform: Option<Value>,
}

/// What function modules receive besides `config`.
#[derive(Clone)]
pub struct Args {
    /// `lib`.
    pub lib: Value,
    /// `_class` of the evaluation, if any.
    pub class: Option<&'static str>,
    /// Special arguments (and `name` of an attribute-set element).
    pub special: Vec<(String, Value)>,
}

/// Collects the modules reachable from `roots` as `lib.evalModules` does
/// (`builtins.genericClosure` over `imports`, deduplicated by key), calling function
/// modules with `config` and `args`, and returns them in the order definitions are merged
/// (reversed).
pub fn collect(
    ev: &mut Eval,
    roots: Vec<(Rc<str>, Value)>,
    config: &Value,
    args: &Args,
) -> Result<Vec<Collected>> {
    let mut queue: std::collections::VecDeque<(Rc<str>, Option<String>, Value)> =
        roots.into_iter().map(|(f, v)| (f, None, v)).collect();
    let mut seen: HashSet<String> = HashSet::default();
    let mut out = Vec::new();
    while let Some((parent_file, key, value)) = queue.pop_front() {
        let mut file = parent_file;
        let mut key = key;
        let mut v = ev.force(&value)?;
        let import_path: Option<String> = match &v {
            Value::Path(p) => Some(p.to_string()),
            Value::String(s) => Some(s.encoded().into_owned()),
            _ => None,
        };
        if let Some(path) = import_path {
            if !path.starts_with('/') {
                return Err(unsupported_eval(format!("module import '{path}'")));
            }
            if !seen.insert(path.clone()) {
                continue;
            }
            key = Some(path.clone());
            file = Rc::from(path.as_str());
            v = ev.eval_file(std::path::Path::new(&path))?;
            v = ev.force(&v)?;
        }
        if v.is_function() {
            v = call_module(ev, &v, config, args)?;
            v = ev.force(&v)?;
        }
        let set = match &v {
            Value::Attrs(s) => s.clone(),
            _ => {
                return Err(throw(format!(
                "Module `{file}' is not a module: expected an attribute set or a function, got {}",
                v.type_desc()
            )))
            }
        };
        if let Some(k) = set.get(kith_eval::sym!("key")) {
            let k = ev.force_string(k)?.encoded().into_owned();
            if !seen.insert(k.clone()) {
                continue;
            }
            key = Some(k);
        }
        let _ = key;
        if let Some(f) = set.get(kith_eval::sym!("_file")) {
            let f = ev.force(f)?;
            file = Rc::from(match &f {
                Value::Path(p) => p.to_string(),
                _ => ev.force_string(&f)?.encoded().into_owned(),
            });
        }
        let structural = [
            kith_eval::sym!("imports"),
            kith_eval::sym!("_file"),
            kith_eval::sym!("key"),
            kith_eval::sym!("_class"),
            kith_eval::sym!("disabledModules"),
            kith_eval::sym!("config"),
            kith_eval::sym!("options"),
            kith_eval::sym!("freeformType"),
            kith_eval::sym!("require"),
        ];
        let has_config_or_options = set.get(kith_eval::sym!("config")).is_some()
            || set.get(kith_eval::sym!("options")).is_some();
        if let Some(c) = set.get(kith_eval::sym!("_class")) {
            let c = ev.force(c)?;
            if !matches!(c, Value::Null) {
                let c = ev.force_str_noctx(&c)?;
                if args.class != Some(c.as_str()) {
                    return Err(unsupported_eval(format!(
                        "a module of class '{c}' in `{file}'"
                    )));
                }
            }
        }
        for unsupported in [
            kith_eval::sym!("disabledModules"),
            kith_eval::sym!("require"),
        ] {
            if let Some(x) = set.get(unsupported) {
                let empty = match ev.force(x)? {
                    Value::List(l) => l.is_empty(),
                    Value::Attrs(a) => a.is_empty(),
                    _ => false,
                };
                if !empty {
                    return Err(unsupported_eval(format!(
                        "`{unsupported}' in module `{file}'"
                    )));
                }
            }
        }
        let config_value = if has_config_or_options {
            for a in set.iter() {
                if !structural.contains(&a.name) && a.name != kith_eval::sym!("meta") {
                    return Err(unsupported_eval(format!(
                        "attribute `{}' beside `config' in module `{file}'",
                        a.name.as_str()
                    )));
                }
            }
            match (
                set.get(kith_eval::sym!("config")),
                set.get(kith_eval::sym!("meta")),
            ) {
                (c, Some(meta)) => {
                    // `meta` beside `config` is merged into it (unifyModuleSyntax).
                    let mut contents = Vec::new();
                    if let Some(c) = c {
                        contents.push(c.clone());
                    }
                    contents.push(attrs(vec![attr("meta", meta.clone())]));
                    Some(attrs(vec![
                        attr("_type", Value::string("merge")),
                        attr("contents", Value::list(contents)),
                    ]))
                }
                (c, None) => c.cloned(),
            }
        } else {
            let rest: Vec<Attr> = set
                .iter()
                .filter(|a| !structural.contains(&a.name))
                .cloned()
                .collect();
            Some(Value::Attrs(Attrs::from_entries(rest)))
        };
        let mut pieces = Vec::new();
        if let Some(c) = config_value {
            let mut vals = Vec::new();
            props::push_down(ev, &c, &mut vals)?;
            for p in vals {
                let p = ev.force_attrs(&p)?;
                if p.get(kith_eval::sym!("_module")).is_some() {
                    return Err(unsupported_eval(format!("`_module' in module `{file}'")));
                }
                pieces.push(p);
            }
        }
        if let Some(imports) = set.get(kith_eval::sym!("imports")) {
            let imports = ev.force_list(imports)?;
            for m in imports.iter() {
                queue.push_back((file.clone(), None, m.clone()));
            }
        }
        let options = set.get(kith_eval::sym!("options")).cloned();
        let freeform = set.get(kith_eval::sym!("freeformType")).cloned();
        out.push(Collected {
            file,
            pieces,
            options,
            freeform,
        });
    }
    out.reverse();
    Ok(out)
}

/// Calls a function module as `lib.evalModules` does: with `lib`, `config`, `options`,
/// the special arguments and `_class`, plus every named argument it asks for.
fn call_module(ev: &mut Eval, f: &Value, config: &Value, args: &Args) -> Result<Value> {
    let sym_attr = |name: kith_eval::Symbol, value: Value| Attr {
        name,
        value,
        span: Span::NONE,
    };
    let mut entries: Vec<Attr> = vec![
        sym_attr(kith_eval::sym!("lib"), args.lib.clone()),
        sym_attr(kith_eval::sym!("config"), config.clone()),
    ];
    entries.push(sym_attr(
        kith_eval::sym!("options"),
        kith_eval::Thunk::native(|_| Err(unsupported_eval("a module reading `options'"))),
    ));
    entries.push(sym_attr(
        kith_eval::sym!("_class"),
        args.class.map(Value::string).unwrap_or(Value::Null),
    ));
    for (k, v) in &args.special {
        entries.push(attr(k, v.clone()));
    }
    for formal in f.formals() {
        if !entries.iter().any(|a| a.name == formal.name) {
            let owned = formal.name.as_str().to_string();
            entries.push(sym_attr(
                formal.name,
                kith_eval::Thunk::native(move |_| {
                    Err(unsupported_eval(format!("module argument `{owned}'")))
                }),
            ));
        }
    }
    ev.call(f, attrs(entries), Span::NONE)
}
