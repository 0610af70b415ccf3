//! Option declarations written in Nix (`options.x = lib.mkOption { type = …; }`), read
//! into the native module system's [`Node`]s and [`Ty`]s.

use super::types::{Decl, NixSubmodule, NixType, Node, Ty};
use crate::error::unsupported_eval;
use kith_eval::{Attrs, Eval, Result, Value};
use std::rc::Rc;

/// Adds the declarations of one module's `options` to `nodes` (a name declared twice as
/// an option is not modelled: nixpkgs would merge the declarations). `lib` is the
/// evaluation's: an option declared without a type is of its `types.unspecified`.
pub fn add_declarations(
    ev: &mut Eval,
    lib: &Value,
    file: &Rc<str>,
    options: &Value,
    nodes: &mut Vec<(String, Node)>,
) -> Result<()> {
    for (name, node) in declarations(ev, lib, file, options)? {
        match nodes.iter_mut().find(|(n, _)| *n == name) {
            None => nodes.push((name, node)),
            Some((_, Node::Group(children))) => match node {
                Node::Group(more) => {
                    for (cn, c) in more {
                        add_node(children, cn, c)?;
                    }
                }
                Node::Opt(_) => {
                    return Err(unsupported_eval(format!("option `{name}' declared twice")))
                }
            },
            Some(_) => return Err(unsupported_eval(format!("option `{name}' declared twice"))),
        }
    }
    Ok(())
}

/// `options` value identity and file → the value (kept alive) and its declarations.
type DeclarationCache = std::collections::HashMap<(usize, Rc<str>), (Value, Vec<(String, Node)>)>;

thread_local! {
    /// Declarations already read, by the identity of the `options` value and its file
    /// (shared interface modules give the same value to every settings evaluation).
    static DECLARATIONS: std::cell::RefCell<DeclarationCache> = Default::default();
}

/// The declarations of one module's `options`, read once per `options` value.
fn declarations(
    ev: &mut Eval,
    lib: &Value,
    file: &Rc<str>,
    options: &Value,
) -> Result<Vec<(String, Node)>> {
    let forced = ev.force(options)?;
    let id = forced.ptr_id();
    if let Some(id) = id {
        let hit =
            DECLARATIONS.with(|c| c.borrow().get(&(id, file.clone())).map(|(_, n)| n.clone()));
        if let Some(n) = hit {
            return Ok(n);
        }
    }
    let set = ev.force_attrs(&forced)?;
    let mut out = Vec::new();
    for a in set.sorted_by_name() {
        out.push((
            a.name.as_str().to_string(),
            node_of(ev, Some(lib), file, &a.value)?,
        ));
    }
    if let Some(id) = id {
        DECLARATIONS.with(|c| {
            c.borrow_mut()
                .insert((id, file.clone()), (forced, out.clone()))
        });
    }
    Ok(out)
}

fn add_node(children: &mut Vec<(String, Node)>, name: String, node: Node) -> Result<()> {
    match children.iter_mut().find(|(n, _)| *n == name) {
        None => {
            children.push((name, node));
            Ok(())
        }
        Some((_, Node::Group(existing))) => match node {
            Node::Group(more) => {
                for (cn, c) in more {
                    add_node(existing, cn, c)?;
                }
                Ok(())
            }
            Node::Opt(_) => Err(unsupported_eval(format!("option `{name}' declared twice"))),
        },
        Some(_) => Err(unsupported_eval(format!("option `{name}' declared twice"))),
    }
}

/// An option declaration (`_type = "option"`) or a namespace of them.
fn node_of(ev: &mut Eval, lib: Option<&Value>, file: &Rc<str>, v: &Value) -> Result<Node> {
    let set = ev.force_attrs(v)?;
    if super::props::type_tag(ev, &set)?.as_deref() == Some("option") {
        return Ok(Node::Opt(decl_of(ev, lib, file, &set)?));
    }
    let mut children = Vec::new();
    for a in set.sorted_by_name() {
        children.push((
            a.name.as_str().to_string(),
            node_of(ev, lib, file, &a.value)?,
        ));
    }
    Ok(Node::Group(children))
}

/// A declaration from `mkOption`'s attributes (one without `type` is of `lib`'s
/// `types.unspecified`, as `mergeOptionDecls` gives it).
fn decl_of(
    ev: &mut Eval,
    lib: Option<&Value>,
    file: &Rc<str>,
    set: &kith_eval::Attrs,
) -> Result<Decl> {
    let ty = match (set.get(kith_eval::sym!("type")), lib) {
        (Some(t), _) => ty_of(ev, t)?,
        (None, Some(lib)) => {
            let unspecified = match ev.force(lib)? {
                Value::Attrs(l) => match l.get(kith_eval::sym!("types")).cloned() {
                    Some(types) => match ev.force(&types)? {
                        Value::Attrs(t) => t.get(kith_eval::sym!("unspecified")).cloned(),
                        _ => None,
                    },
                    None => None,
                },
                _ => None,
            };
            match unspecified {
                Some(t) => ty_of(ev, &t)?,
                None => return Err(unsupported_eval("an option without a type")),
            }
        }
        (None, None) => return Err(unsupported_eval("an option without a type")),
    };
    let default = set.get(kith_eval::sym!("default")).cloned().map(|d| {
        let f: super::DefaultFn = Rc::new(move |_, _| Ok(d.clone()));
        f
    });
    let apply = match set.get(kith_eval::sym!("apply")) {
        Some(a) => match ev.force(a)? {
            Value::Null => None,
            f => Some(f),
        },
        None => None,
    };
    Ok(Decl {
        ty,
        default,
        apply_unique: false,
        apply,
        file: Some(file.clone()),
    })
}

/// Names of `mkOptionType`s merged with `mergeEqualOption` and checked by `check` alone.
fn is_equal_scalar(name: &str) -> bool {
    matches!(
        name,
        "str"
            | "int"
            | "bool"
            | "float"
            | "path"
            | "intBetween"
            | "unsignedInt"
            | "positiveInt"
            | "numberBetween"
            | "numberNonnegative"
            | "numberPositive"
            | "nonEmptyStr"
            | "singleLineStr"
            | "enum"
    ) || name.starts_with("strMatching ")
        || name.starts_with("signedInt")
        || name.starts_with("unsignedInt")
}

/// The names of the types read natively (as [`Ty::NixScalar`] or their own [`Ty`]).
fn modelled(name: &str) -> bool {
    is_equal_scalar(name)
        || matches!(
            name,
            "raw"
                | "attrs"
                | "separatedString"
                | "deferredModule"
                | "listOf"
                | "attrsOf"
                | "lazyAttrsOf"
                | "nullOr"
                | "submodule"
                | "attrTag"
        )
}

/// Whether a type the engine models by `name` is the one `lib.types` makes by that name:
/// its `merge` (and, but for the scalars, whose own `check` is called, its `check`) is the
/// code of the type its constructor (`functor.type`) makes again from its payload, not
/// replaced by `//` or `addCheck` (`nonEmptyListOf`, `ints.positive`). Any other type, or
/// one that cannot be made again, is run by its own functions ([`Ty::Nix`]). The types of
/// kith's built-in lib have no merge functions (forcing one aborts: the module system's
/// are kith's own), and are taken as their names say.
fn canonical(ev: &mut Eval, set: &Attrs, name: &str) -> bool {
    if !modelled(name) || builtin_type(ev, set) {
        return true;
    }
    let made_again = |ev: &mut Eval| -> Result<Option<Value>> {
        let Some(functor) = set.get(kith_eval::sym!("functor")) else {
            return Ok(None);
        };
        let functor = ev.force_attrs(functor)?;
        let Some(ctor) = functor.get(kith_eval::sym!("type")) else {
            return Ok(None);
        };
        let ctor = ev.force(ctor)?;
        if !ctor.is_function() {
            return Ok(Some(ctor));
        }
        for key in [kith_eval::sym!("payload"), kith_eval::sym!("wrapped")] {
            if let Some(arg) = functor.get(key) {
                let arg = ev.force(arg)?;
                if !matches!(arg, Value::Null) {
                    return ev.call(&ctor, arg, kith_eval::Span::NONE).map(Some);
                }
            }
        }
        Ok(None)
    };
    let same = |ev: &mut Eval| -> Result<bool> {
        let Some(again) = made_again(ev)? else {
            return Ok(false);
        };
        let again = ev.force_attrs(&again)?;
        let merge = kith_eval::sym!("merge");
        if !same_code(ev, set.get(merge), again.get(merge))? {
            return Ok(false);
        }
        let check = kith_eval::sym!("check");
        Ok(is_equal_scalar(name) || same_code(ev, set.get(check), again.get(check))?)
    };
    same(ev).unwrap_or(false)
}

/// Whether two functions (lambdas, builtins or `__functor` sets, with their `v2`) run the
/// same code.
fn same_code(ev: &mut Eval, a: Option<&Value>, b: Option<&Value>) -> Result<bool> {
    let (Some(a), Some(b)) = (a, b) else {
        return Ok(a.is_none() && b.is_none());
    };
    let (a, b) = (ev.force(a)?, ev.force(b)?);
    Ok(match (&a, &b) {
        (Value::Lambda(x), Value::Lambda(y)) => Rc::ptr_eq(&x.lambda, &y.lambda),
        (Value::PrimOp(x), Value::PrimOp(y)) => {
            std::ptr::eq(x.op, y.op)
                && x.args.len() == y.args.len()
                && x.args
                    .iter()
                    .zip(&y.args)
                    .all(|(p, q)| p.ptr_id().is_some() && p.ptr_id() == q.ptr_id())
        }
        (Value::Attrs(x), Value::Attrs(y)) => {
            same_code(
                ev,
                x.get(kith_eval::sym!("__functor")),
                y.get(kith_eval::sym!("__functor")),
            )? && same_code(ev, x.get_str("v2"), y.get_str("v2"))?
        }
        _ => false,
    })
}

/// Whether a type is one of kith's built-in lib (see [`canonical`]).
fn builtin_type(ev: &mut Eval, set: &Attrs) -> bool {
    match set.get(kith_eval::sym!("merge")) {
        Some(m) => ev.force(m).is_err(),
        None => false,
    }
}

/// A type run by its own `check` and `merge` ([`Ty::Nix`]).
fn nix_type(ev: &mut Eval, set: &Attrs, name: &str, description: Value) -> Result<Ty> {
    if builtin_type(ev, set) {
        return Err(unsupported_eval(format!(
            "option type `{name}' with kith's built-in lib (it has no merge functions)"
        )));
    }
    let (Some(check), Some(merge)) = (
        set.get(kith_eval::sym!("check")).cloned(),
        set.get(kith_eval::sym!("merge")).cloned(),
    ) else {
        return Err(unsupported_eval("an option type without check or merge"));
    };
    let v2 = match ev.force(&merge)? {
        Value::Attrs(m) => m.get_str("v2").cloned(),
        _ => None,
    };
    if v2.is_some() {
        // `checkV2MergeCoherence`: its error is not modelled.
        let coherent = match ev.force(&check)? {
            Value::Attrs(c) => match c.get_str("isV2MergeCoherent") {
                Some(x) => matches!(ev.force(x)?, Value::Bool(true)),
                None => false,
            },
            _ => false,
        };
        if !coherent {
            return Err(unsupported_eval(
                "an option type whose `check' was replaced by `//' (v2 merge coherence)",
            ));
        }
    }
    let empty = match set.get(kith_eval::sym!("emptyValue")) {
        Some(e) => match ev.force(e)? {
            Value::Attrs(e) => e.get_str("value").cloned(),
            _ => None,
        },
        None => None,
    };
    let class = set
        .get(kith_eval::sym!("descriptionClass"))
        .cloned()
        .unwrap_or(Value::Null);
    Ok(Ty::Nix(Rc::new(NixType {
        check,
        merge,
        v2,
        empty,
        description,
        class,
    })))
}

thread_local! {
    /// Types already read, by the identity of their `lib.types` value (kept alive here so
    /// that the identity stays theirs): `lib.types.str` and friends are shared values that
    /// every settings evaluation reads again.
    static TYPES: std::cell::RefCell<std::collections::HashMap<usize, (Value, Ty)>> =
        Default::default();
}

/// Forgets the types read so far (a new clan, a new evaluator).
pub fn reset_type_cache() {
    TYPES.with(|t| t.borrow_mut().clear());
    DECLARATIONS.with(|t| t.borrow_mut().clear());
    super::merge::reset_shared_submodules();
}

/// A native type for a `lib.types` value.
pub fn ty_of(ev: &mut Eval, t: &Value) -> Result<Ty> {
    let forced = ev.force(t)?;
    let id = forced.ptr_id();
    if let Some(id) = id {
        if let Some(ty) = TYPES.with(|c| c.borrow().get(&id).map(|(_, ty)| ty.clone())) {
            return Ok(ty);
        }
    }
    let ty = read_type(ev, &forced)?;
    if let Some(id) = id {
        TYPES.with(|c| c.borrow_mut().insert(id, (forced, ty.clone())));
    }
    Ok(ty)
}

/// Reads a `lib.types` value (see [`ty_of`]).
fn read_type(ev: &mut Eval, t: &Value) -> Result<Ty> {
    let set = ev.force_attrs(t)?;
    let name = match set.get(kith_eval::sym!("name")) {
        Some(n) => ev.force_string(n)?.encoded().into_owned(),
        None => return Err(unsupported_eval("an option type without a name")),
    };
    let description = set
        .get(kith_eval::sym!("description"))
        .cloned()
        .unwrap_or_else(|| Value::string(name.as_str()));
    let nested = |ev: &mut Eval, key: &str| -> Result<Ty> {
        let n = set
            .get(kith_eval::sym!("nestedTypes"))
            .cloned()
            .unwrap_or(Value::Null);
        let n = ev.force_attrs(&n)?;
        match n.get_str(key) {
            Some(e) => ty_of(ev, e),
            None => Err(unsupported_eval(format!(
                "option type `{name}' without {key}"
            ))),
        }
    };
    // The type's `functor.payload` (`null` if it has none).
    let payload = |ev: &mut Eval| -> Result<Value> {
        let functor = set
            .get(kith_eval::sym!("functor"))
            .cloned()
            .unwrap_or(Value::Null);
        let functor = ev.force_attrs(&functor)?;
        Ok(functor
            .get(kith_eval::sym!("payload"))
            .cloned()
            .unwrap_or(Value::Null))
    };
    if !canonical(ev, &set, &name) {
        return nix_type(ev, &set, &name, description);
    }
    let inner = if is_equal_scalar(&name) {
        let check = set
            .get(kith_eval::sym!("check"))
            .cloned()
            .unwrap_or(Value::Null);
        let class = set
            .get(kith_eval::sym!("descriptionClass"))
            .cloned()
            .unwrap_or(Value::Null);
        return Ok(Ty::NixScalar {
            check,
            description,
            class,
        });
    } else {
        match name.as_str() {
            "raw" => Ty::Raw,
            "attrs" => Ty::Attrs,
            "separatedString" => {
                let payload = payload(ev)?;
                let payload = ev.force_attrs(&payload)?;
                let Some(sep) = payload.get(kith_eval::sym!("sep")) else {
                    return Err(unsupported_eval(
                        "option type `separatedString' without sep",
                    ));
                };
                Ty::SeparatedString(Rc::from(ev.force_string(sep)?.encoded().as_ref()))
            }
            "deferredModule" => Ty::Module,
            "listOf" => Ty::ListOf(Rc::new(nested(ev, "elemType")?)),
            "attrsOf" => Ty::AttrsOf(Rc::new(nested(ev, "elemType")?), false),
            "lazyAttrsOf" => Ty::AttrsOf(Rc::new(nested(ev, "elemType")?), true),
            "nullOr" => Ty::NullOr(Rc::new(nested(ev, "elemType")?)),
            "submodule" => {
                let modules = match set.get(kith_eval::sym!("getSubModules")) {
                    Some(m) => ev.force_list(m)?.iter().cloned().collect(),
                    None => Vec::new(),
                };
                let payload = payload(ev)?;
                let mut special = Vec::new();
                if let Value::Attrs(p) = ev.force(&payload)? {
                    if let Some(sa) = p.get(kith_eval::sym!("specialArgs")) {
                        if let Value::Attrs(sa) = ev.force(sa)? {
                            for a in sa.iter() {
                                special.push((a.name.as_str().to_string(), a.value.clone()));
                            }
                        }
                    }
                    // A class the native submodule does not check: nixpkgs' own merge
                    // (`evalModules` with the class) is run.
                    if let Some(c) = p.get(kith_eval::sym!("class")) {
                        if !matches!(ev.force(c)?, Value::Null) {
                            return nix_type(ev, &set, &name, description);
                        }
                    }
                }
                Ty::NixSubmodule(Rc::new(NixSubmodule { modules, special }))
            }
            "attrTag" => {
                let n = set
                    .get(kith_eval::sym!("nestedTypes"))
                    .cloned()
                    .unwrap_or(Value::Null);
                let n = ev.force_attrs(&n)?;
                let file: Rc<str> = Rc::from("<attrTag {...}>");
                let mut tags = Vec::new();
                for a in n.sorted_by_name() {
                    let opt = ev.force_attrs(&a.value)?;
                    tags.push((a.name.as_str().to_string(), decl_of(ev, None, &file, &opt)?));
                }
                Ty::AttrTag(Rc::new(tags))
            }
            _ => return nix_type(ev, &set, &name, description),
        }
    };
    Ok(Ty::Named(description, Rc::new(inner)))
}
