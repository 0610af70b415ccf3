//! Merging definitions by type (`mergeDefinitions`), and submodules evaluated lazily.

use super::pretty::show_defs;
use super::props;
use super::types::{Decl, NixType, Node, Nodes, Schema, Ty};
use super::{attr, attr_sym, attrs, collect, show_option, throw, Args, Collected, Def, Loc};
use kith_eval::{Attr, Attrs, Eval, Result, Shared, Symbol, Thunk, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// Where a merge happens.
#[derive(Clone)]
pub struct Ctx {
    /// The option path.
    pub loc: Loc,
    /// The attribute name of the enclosing `attrsOf` element, if any (`name`).
    pub name: Option<Rc<str>>,
    /// The `config` of the enclosing submodule.
    pub parent: Value,
    /// `lib`.
    pub lib: Value,
}

impl Ctx {
    /// The context of a child option `name`.
    pub fn child(&self, name: &str) -> Ctx {
        Ctx {
            loc: self.loc.child(name),
            name: self.name.clone(),
            parent: self.parent.clone(),
            lib: self.lib.clone(),
        }
    }
}

const PRIORITY_SUGGESTION: &str =
    "Use `lib.mkForce value` or `lib.mkDefault value` to change the priority on any of these definitions.";

/// Merges the definitions of an option declared by `decl` in `decl_file`.
pub fn merge_option(
    ev: &mut Eval,
    ctx: &Ctx,
    decl: &Decl,
    decl_file: &Rc<str>,
    defs: Vec<Def>,
) -> Result<Value> {
    if let Ty::Unmodelled = decl.ty {
        return Err(crate::error::unsupported_eval(format!(
            "reading option `{}'",
            ctx.loc.show()
        )));
    }
    let decl_file = decl.file.as_ref().unwrap_or(decl_file);
    let default = match &decl.default {
        Some(d) => Some(Def::new(decl_file, d(ev, ctx)?)),
        None => None,
    };
    let (defs, highest) = props::normalise_with_default(ev, &defs, default)?;
    if super::prios::recording() {
        let ty = decl.ty.unnamed();
        super::prios::note(
            || ctx.loc.to_vec(),
            super::prios::Prio {
                prio: highest,
                files: defs.iter().map(|d| d.file.clone()).collect(),
                total: matches!(ty, Ty::Submodule(_) | Ty::NixSubmodule(_)),
            },
        );
    }
    if defs.is_empty() {
        return match decl.ty.unnamed() {
            Ty::ListOf(_) => Ok(Value::list(Vec::new())),
            Ty::AttrsOf(..) | Ty::Attrs => Ok(attrs(Vec::new())),
            Ty::NullOr(_) => Ok(Value::Null),
            // `coercedTo`'s `emptyValue` is its final type's (`attrsOf`).
            Ty::NamesOrAttrsOf(_) => Ok(attrs(Vec::new())),
            Ty::Nix(t) if t.empty.is_some() => Ok(t.empty.clone().expect("checked")),
            Ty::NixSubmodule(s) => {
                // `submoduleWith`'s `emptyValue` is `base.config`: its own modules
                // evaluated without definitions, with no prefix and `name` the
                // placeholder `‹name›` (its options' defaults, or their errors).
                let mut c = ctx.clone();
                c.loc = Loc::default();
                Ok(eval_nix_submodule(ev, &c, s, Vec::new(), "‹name›".into()))
            }
            Ty::Submodule(s) => {
                // An element of a lazy attribute set whose definitions all vanished
                // (`mkIf false`) is the type's `emptyValue`: the submodule evaluated
                // without definitions, its `name` the placeholder `‹name›`.
                let mut c = ctx.clone();
                if c.name.is_some() && c.name.as_deref() == ctx.loc.last() {
                    c.name = Some("‹name›".into());
                }
                Ok(eval_submodule(ev, &c, s, Vec::new()))
            }
            _ => Err(throw(format!(
                "The option `{}' was accessed but has no value defined. Try setting the option.",
                ctx.loc.show()
            ))),
        };
    }
    let v = merge_type(ev, ctx, &decl.ty, defs)?;
    if let Some(apply) = &decl.apply {
        return ev.call(apply, v, kith_eval::Span::NONE);
    }
    if decl.apply_unique {
        return unique(ev, &v);
    }
    Ok(v)
}

/// `lib.unique`: the list's elements, each first occurrence kept, compared with `==`.
/// Strings (the common case: tags) are compared by a hash set of their contents, as `==`
/// compares them, so that a long list is not compared pairwise; the first element of
/// another kind makes the rest go pairwise, in the same order.
fn unique(ev: &mut Eval, v: &Value) -> Result<Value> {
    let list = ev.force_list(v)?;
    let mut out: Vec<Value> = Vec::new();
    let mut strings: Option<rustc_hash::FxHashSet<Vec<u8>>> = Some(Default::default());
    for x in list.iter() {
        let x = ev.force(x)?;
        if let (Some(seen), Value::String(s)) = (&mut strings, &x) {
            if seen.insert(s.as_bytes().to_vec()) {
                out.push(x);
            }
            continue;
        }
        strings = None;
        let mut dup = false;
        for y in &out {
            if ev.equal(&x, y)? {
                dup = true;
                break;
            }
        }
        if !dup {
            out.push(x);
        }
    }
    Ok(Value::list(out))
}

/// Whether `v` passes `ty`'s `check`.
fn check(ev: &mut Eval, ty: &Ty, v: &Value) -> Result<bool> {
    let v = ev.force(v)?;
    Ok(match ty {
        Ty::Str => matches!(v, Value::String(_)),
        Ty::Int => matches!(v, Value::Int(_)),
        Ty::UnsignedInt => matches!(v, Value::Int(n) if n >= 0),
        Ty::PositiveInt => matches!(v, Value::Int(n) if n > 0),
        Ty::Bool => matches!(v, Value::Bool(_)),
        Ty::Path => matches!(v, Value::Path(_) | Value::String(_)),
        Ty::Raw => true,
        Ty::Attrs => matches!(v, Value::Attrs(_)),
        Ty::SeparatedString(_) => matches!(v, Value::String(_)),
        Ty::Enum(vals) => match &v {
            Value::String(s) => vals.iter().any(|x| x.as_bytes() == s.as_bytes()),
            _ => false,
        },
        Ty::StrMatching(p) => match &v {
            Value::String(s) => string_matches(ev, p, &s.encoded())?,
            _ => false,
        },
        Ty::NullOr(t) => matches!(v, Value::Null) || check(ev, t, &v)?,
        Ty::ListOf(_) => matches!(v, Value::List(_)),
        Ty::AttrsOf(..) => matches!(v, Value::Attrs(_)),
        Ty::Submodule(_) => matches!(v, Value::Attrs(_) | Value::Path(_)) || v.is_function(),
        // clan's settings type: `seq (builtins.toJSON value) (isAttrs value)` (a function
        // inside fails with `toJSON`'s error, before the type's).
        Ty::UniqueSettings => {
            kith_eval::to_json_string(ev, &v)?;
            matches!(v, Value::Attrs(_))
        }
        Ty::Deferred | Ty::Module | Ty::Unmodelled => true,
        Ty::NamesOrAttrsOf(_) => matches!(v, Value::Attrs(_) | Value::List(_)),
        Ty::NixScalar { check, .. } => {
            let r = ev.call(check, v.clone(), kith_eval::Span::NONE)?;
            ev.force_bool(&r)?
        }
        Ty::Nix(t) => {
            let r = ev.call(&t.check, v.clone(), kith_eval::Span::NONE)?;
            ev.force_bool(&r)?
        }
        Ty::Named(_, t) => check(ev, t, &v)?,
        Ty::NixSubmodule(_) => matches!(v, Value::Attrs(_) | Value::Path(_)) || v.is_function(),
        Ty::AttrTag(tags) => match &v {
            Value::Attrs(a) => {
                a.len() == 1
                    && tags
                        .iter()
                        .any(|(n, _)| Some(n.as_str()) == a.iter().next().map(|x| x.name.as_str()))
            }
            _ => false,
        },
    })
}

/// `builtins.match pattern s != null`, through the evaluator (POSIX semantics).
fn string_matches(ev: &mut Eval, pattern: &str, s: &str) -> Result<bool> {
    let m = ev
        .builtins()
        .get(kith_eval::sym!("match"))
        .cloned()
        .expect("builtins.match");
    let f = ev.call(&m, Value::string(pattern), kith_eval::Span::NONE)?;
    let r = ev.call(&f, Value::string(s), kith_eval::Span::NONE)?;
    Ok(!matches!(ev.force(&r)?, Value::Null))
}

/// The module system's error for definitions `invalid` that fail `ty`'s check: a type
/// whose merge is `v2` reports its `headError` (`checkDefsForError`), prefixed
/// `TypeError: `, one with a plain merge lists the invalid definitions itself
/// (`mergeDefinitions`).
fn type_error(ev: &mut Eval, ctx: &Ctx, ty: &Ty, invalid: &[Def]) -> Box<kith_eval::EvalError> {
    let shown = match show_defs(ev, invalid) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let description = ty.describe(ev);
    let values = if ty.merge_v2() {
        format!("TypeError: Definition values: {shown}")
    } else {
        format!("Definition values:{shown}")
    };
    throw(format!(
        "A definition for option `{}' is not of type `{description}'. {values}",
        ctx.loc.show(),
    ))
}

/// `mergeModules'`'s error for a definition of a namespace of options (`sub` declaring
/// `sub.x`) that is not an attribute set.
fn not_a_namespace(ctx: &Ctx, file: &str, value: &Value) -> Box<kith_eval::EvalError> {
    let prefix = ctx.loc.to_vec().join(".");
    throw(format!(
        "In module `{file}', you're trying to define a value of type `{}'\nrather than an attribute set for the option\n`{prefix}'!\n\nThis usually happens if `{prefix}' has option\ndefinitions inside that are not matched. Please check how to properly define\nthis option by e.g. referring to `man 5 configuration.nix'!\n",
        value.type_of()
    ))
}

/// Type-checks and merges normalised definitions (at least one).
pub fn merge_type(ev: &mut Eval, ctx: &Ctx, ty: &Ty, defs: Vec<Def>) -> Result<Value> {
    if let Ty::Nix(t) = ty {
        return merge_nix(ev, ctx, ty, t, defs);
    }
    if !matches!(
        ty,
        Ty::Raw | Ty::Deferred | Ty::Module | Ty::NixSubmodule(_)
    ) {
        let mut invalid = Vec::new();
        for d in &defs {
            if !check(ev, ty, &d.value)? {
                invalid.push(d.clone());
            }
        }
        if !invalid.is_empty() {
            return Err(type_error(ev, ctx, ty, &invalid));
        }
    }
    match ty {
        Ty::Str
        | Ty::Int
        | Ty::UnsignedInt
        | Ty::PositiveInt
        | Ty::Bool
        | Ty::Enum(_)
        | Ty::StrMatching(_)
        | Ty::Path
        | Ty::NixScalar { .. } => merge_equal(ev, ctx, &defs),
        Ty::Named(_, t) => merge_type(ev, ctx, t, defs),
        Ty::Nix(_) => unreachable!("merged by merge_nix"),
        Ty::NixSubmodule(s) => {
            let name: Rc<str> = Rc::from(ctx.loc.last().unwrap_or_default());
            Ok(eval_nix_submodule(ev, ctx, s, defs, name))
        }
        Ty::AttrTag(tags) => {
            let first = ev.force_attrs(&defs[0].value)?;
            let choice = first.iter().next().map(|a| a.name.as_str()).unwrap_or("");
            let mut inner = Vec::new();
            for d in &defs {
                let set = ev.force_attrs(&d.value)?;
                let here = set.iter().next().map(|a| a.name.as_str()).unwrap_or("");
                if here != choice {
                    let files: Vec<String> = defs.iter().map(|d| format!("`{}'", d.file)).collect();
                    return Err(throw(format!(
                        "The option `{}` is defined both as `{choice}` and `{here}`, in {}.",
                        ctx.loc.show(),
                        files.join(" and ")
                    )));
                }
                inner.push(Def {
                    file: d.file.clone(),
                    span: d.span,
                    value: set.get_str(choice).cloned().unwrap_or(Value::Null),
                });
            }
            let (_, decl) = tags.iter().find(|(n, _)| n == choice).expect("checked");
            let c = ctx.child(choice);
            let file: Rc<str> = Rc::from("");
            let v = merge_option(ev, &c, decl, &file, inner)?;
            Ok(attrs(vec![attr(choice, v)]))
        }
        Ty::Raw => merge_one(ev, ctx, &defs, ""),
        // `foldl' (res: def: res // def.value) { }`.
        Ty::Attrs => {
            let mut entries = Vec::new();
            for d in &defs {
                entries.extend(ev.force_attrs(&d.value)?.iter().cloned());
            }
            Ok(Value::Attrs(kith_eval::Attrs::from_entries(entries)))
        }
        // `concatStringsSep sep (getValues defs)`, through the evaluator (contexts).
        Ty::SeparatedString(sep) => {
            let concat = ev
                .builtins()
                .get(kith_eval::sym!("concatStringsSep"))
                .cloned()
                .expect("builtins.concatStringsSep");
            let f = ev.call(&concat, Value::string(&**sep), kith_eval::Span::NONE)?;
            let values = Value::list(defs.iter().map(|d| d.value.clone()).collect());
            let r = ev.call(&f, values, kith_eval::Span::NONE)?;
            ev.force(&r)
        }
        Ty::NullOr(t) => {
            let mut nulls = 0;
            for d in &defs {
                if matches!(ev.force(&d.value)?, Value::Null) {
                    nulls += 1;
                }
            }
            if nulls == defs.len() {
                Ok(Value::Null)
            } else if nulls > 0 {
                let files: Vec<String> = defs.iter().map(|d| format!("`{}'", d.file)).collect();
                Err(throw(format!(
                    "The option `{}` is defined both null and not null, in {}.",
                    ctx.loc.show(),
                    files.join(" and ")
                )))
            } else {
                merge_called(ev, ctx, t, defs)
            }
        }
        Ty::ListOf(t) => {
            let mut out = Vec::new();
            for (n, d) in defs.iter().enumerate() {
                let list = ev.force_list(&d.value)?;
                for (m, x) in list.iter().enumerate() {
                    let mut vals = Vec::new();
                    props::discharge(ev, x, &mut vals)?;
                    for v in vals {
                        // A scalar element of the right type is its own merge (what a
                        // lazy merge would give when read); any other is merged when read,
                        // so that a wrong one fails only then, as in nixpkgs.
                        if plain_scalar(t) && check(ev, t, &v)? {
                            out.push(v);
                            continue;
                        }
                        let ectx = ctx.child(&format!("[definition {}-entry {}]", n + 1, m + 1));
                        let def = Def {
                            file: d.file.clone(),
                            span: d.span,
                            value: v,
                        };
                        out.push(lazy_merge(&ectx, t, vec![def]));
                    }
                }
            }
            Ok(Value::list(out))
        }
        Ty::AttrsOf(t, lazy) => {
            let mut names: Vec<(Symbol, Vec<Def>)> = Vec::new();
            // Where each name is in `names` (a fleet's machines are thousands of names).
            let mut index: rustc_hash::FxHashMap<Symbol, usize> = Default::default();
            for d in &defs {
                let set = ev.force_attrs(&d.value)?;
                for a in set.iter() {
                    let def = Def {
                        file: d.file.clone(),
                        span: a.span,
                        value: a.value.clone(),
                    };
                    super::sites::note_child(&ctx.loc, Some(a.name.as_str()), &d.file, a.span);
                    match index.entry(a.name) {
                        std::collections::hash_map::Entry::Occupied(at) => {
                            names[*at.get()].1.push(def)
                        }
                        std::collections::hash_map::Entry::Vacant(at) => {
                            at.insert(names.len());
                            names.push((a.name, vec![def]));
                        }
                    }
                }
            }
            if !lazy {
                // Elements are filtered in `filterAttrs`' order (by name): the first error
                // of a condition is the first name's.
                names.sort_by(|a, b| a.0.cmp_str(b.0));
            }
            let mut entries = Vec::new();
            for (name, defs) in names {
                let span = defs
                    .first()
                    .map(|d| d.span)
                    .unwrap_or(kith_eval::Span::NONE);
                let mut ectx = ctx.child(name.as_str());
                ectx.name = Some(Rc::from(name.as_str()));
                if !lazy {
                    let mut any = false;
                    for d in &defs {
                        let mut vals = Vec::new();
                        props::discharge(ev, &d.value, &mut vals)?;
                        any |= !vals.is_empty();
                    }
                    if !any {
                        continue;
                    }
                }
                let decl = Decl::new((**t).clone());
                let file: Rc<str> = Rc::from("");
                let value =
                    Thunk::native(move |ev: &mut Eval| merge_option(ev, &ectx, &decl, &file, defs));
                entries.push(Attr { name, value, span });
            }
            Ok(Value::Attrs(Attrs::from_entries(entries)))
        }
        Ty::Submodule(schema) => Ok(eval_submodule(ev, ctx, schema, defs)),
        Ty::UniqueSettings => merge_settings(ev, ctx, defs),
        Ty::Unmodelled => Err(crate::error::unsupported_eval(format!(
            "reading option `{}'",
            ctx.loc.show()
        ))),
        Ty::Deferred | Ty::Module => {
            // A `deferredModule` locates each definition's module at its file "via" the
            // option (what the module system's errors name).
            let via = matches!(ty, Ty::Module).then(|| ctx.loc.show());
            let modules = defs
                .into_iter()
                .map(|d| {
                    let file = match &via {
                        Some(via) => format!("{}, via option {via}", d.file),
                        None => d.file.to_string(),
                    };
                    attrs(vec![
                        attr_sym(kith_eval::sym!("_file"), Value::string(file)),
                        attr_sym(kith_eval::sym!("imports"), Value::list(vec![d.value])),
                    ])
                })
                .collect();
            Ok(attrs(vec![attr_sym(
                kith_eval::sym!("imports"),
                Value::list(modules),
            )]))
        }
        Ty::NamesOrAttrsOf(t) => {
            let mut coerced = Vec::with_capacity(defs.len());
            for d in defs {
                let v = ev.force(&d.value)?;
                let value = match &v {
                    Value::List(l) => {
                        let mut entries = Vec::new();
                        for x in l.iter() {
                            let n = ev.force_str_noctx(x)?;
                            entries.push(attr(&n, attrs(Vec::new())));
                        }
                        attrs(entries)
                    }
                    _ => v.clone(),
                };
                coerced.push(Def { value, ..d });
            }
            merge_type(ev, ctx, &Ty::AttrsOf(t.clone(), false), coerced)
        }
    }
}

/// `mergeDefinitions`' `mergedValue` for a type declared in Nix: a `v2` merge reports its
/// own `headError`, any other is called once every definition passed `check`.
fn merge_nix(ev: &mut Eval, ctx: &Ctx, ty: &Ty, t: &NixType, defs: Vec<Def>) -> Result<Value> {
    if let Some(v2) = &t.v2 {
        let args = attrs(vec![
            attr_sym(kith_eval::sym!("loc"), loc_value(ctx)),
            attr_sym(kith_eval::sym!("defs"), defs_value(&defs)),
        ]);
        let r = ev.call(v2, args, kith_eval::Span::NONE)?;
        let r = ev.force_attrs(&r)?;
        let head = match r.get_str("headError") {
            Some(h) => ev.force(h)?,
            None => Value::Null,
        };
        if !matches!(head, Value::Null) {
            let message = ev.force_attrs(&head)?;
            let message = message
                .get_str("message")
                .cloned()
                .ok_or_else(|| kith_eval::EvalError::new("attribute 'message' missing"))?;
            let message = ev.force_string(&message)?.encoded().into_owned();
            return Err(throw(format!(
                "A definition for option `{}' is not of type `{}'. TypeError: {message}",
                ctx.loc.show(),
                ty.describe(ev)
            )));
        }
        let value = r
            .get_str("value")
            .cloned()
            .ok_or_else(|| kith_eval::EvalError::new("attribute 'value' missing"))?;
        return Ok(value);
    }
    let mut invalid = Vec::new();
    for d in &defs {
        if !check(ev, ty, &d.value)? {
            invalid.push(d.clone());
        }
    }
    if !invalid.is_empty() {
        return Err(type_error(ev, ctx, ty, &invalid));
    }
    call_merge(ev, ctx, t, &defs)
}

/// `type.merge loc defs`, as a type merging its elements calls its element type's merge
/// (`nullOr`): a type declared in Nix by its own function (a `v2` merge then reports no
/// `headError`: the caller checked its definitions), any other as [`merge_type`] does.
fn merge_called(ev: &mut Eval, ctx: &Ctx, ty: &Ty, defs: Vec<Def>) -> Result<Value> {
    match ty.unnamed() {
        Ty::Nix(t) => call_merge(ev, ctx, t, &defs),
        _ => merge_type(ev, ctx, ty, defs),
    }
}

fn call_merge(ev: &mut Eval, ctx: &Ctx, t: &NixType, defs: &[Def]) -> Result<Value> {
    let f = ev.call(&t.merge, loc_value(ctx), kith_eval::Span::NONE)?;
    ev.call(&f, defs_value(defs), kith_eval::Span::NONE)
}

/// An option's location as the module system passes it (`loc`).
fn loc_value(ctx: &Ctx) -> Value {
    Value::list(ctx.loc.to_vec().into_iter().map(Value::string).collect())
}

/// Definitions as the module system passes them: `[ { file; value; } … ]`.
fn defs_value(defs: &[Def]) -> Value {
    Value::list(
        defs.iter()
            .map(|d| {
                attrs(vec![
                    attr_sym(kith_eval::sym!("file"), Value::string(&*d.file)),
                    attr_sym(kith_eval::sym!("value"), d.value.clone()),
                ])
            })
            .collect(),
    )
}

/// Whether values of `ty` are checked in Rust alone (no Nix `check` function, no regex)
/// and merge to themselves when there is one definition.
fn plain_scalar(ty: &Ty) -> bool {
    match ty {
        Ty::Str
        | Ty::Int
        | Ty::UnsignedInt
        | Ty::PositiveInt
        | Ty::Bool
        | Ty::Path
        | Ty::Enum(_) => true,
        Ty::Named(_, t) => plain_scalar(t),
        _ => false,
    }
}

/// An element merged only when forced.
fn lazy_merge(ctx: &Ctx, ty: &Rc<Ty>, defs: Vec<Def>) -> Value {
    let ctx = ctx.clone();
    let ty = ty.clone();
    Thunk::native(move |ev: &mut Eval| merge_type(ev, &ctx, &ty, defs))
}

/// `mergeEqualOption`.
fn merge_equal(ev: &mut Eval, ctx: &Ctx, defs: &[Def]) -> Result<Value> {
    let first = &defs[0];
    for d in &defs[1..] {
        if !ev.equal(&first.value, &d.value)? {
            let shown = show_defs(ev, &[first.clone(), d.clone()])?;
            return Err(throw(format!(
                "The option `{}' has conflicting definition values:{shown}\n{PRIORITY_SUGGESTION}",
                ctx.loc.show()
            )));
        }
    }
    Ok(first.value.clone())
}

/// `mergeOneOption`/`mergeUniqueOption`.
fn merge_one(ev: &mut Eval, ctx: &Ctx, defs: &[Def], message: &str) -> Result<Value> {
    if defs.len() == 1 {
        return Ok(defs[0].value.clone());
    }
    let shown = show_defs(ev, defs)?;
    Err(throw(format!(
        "The option `{}' is defined multiple times while it's expected to be unique.\n{message}\nDefinition values:{shown}\n{PRIORITY_SUGGESTION}",
        ctx.loc.show()
    )))
}

/// clan's `uniqueDeferredSerializableModule`, once its check passed (`check`: every
/// definition serialisable and an attribute set): one definition, without `imports`;
/// merged into the deferred-module form `{ imports = [ { _file = "<file>, via option
/// <loc>"; imports = [ value ]; } ]; }`.
fn merge_settings(ev: &mut Eval, ctx: &Ctx, defs: Vec<Def>) -> Result<Value> {
    if defs.len() > 1 {
        let shown = show_defs(ev, &defs)?;
        return Err(throw(format!(
            "The option `{}' is defined multiple times while it's expected to be unique.\n------\nDefinition values:{shown}\n{PRIORITY_SUGGESTION}",
            ctx.loc.show()
        )));
    }
    let d = &defs[0];
    let v = ev.force(&d.value)?;
    let Value::Attrs(set) = &v else {
        // Checked before the merge (`merge_type`).
        return Err(type_error(ev, ctx, &Ty::UniqueSettings, &defs));
    };
    if set.get(kith_eval::sym!("imports")).is_some() {
        return Err(throw(
            "uniqueDeferredSerializableModule doesn't allow nested imports",
        ));
    }
    let file = format!("{}, via option {}", d.file, ctx.loc.show());
    let inner = attrs(vec![
        attr_sym(kith_eval::sym!("_file"), Value::string(file)),
        attr_sym(kith_eval::sym!("imports"), Value::list(vec![v.clone()])),
    ]);
    Ok(attrs(vec![attr_sym(
        kith_eval::sym!("imports"),
        Value::list(vec![inner]),
    )]))
}

/// The state of a submodule evaluation, filled once its modules are collected.
struct Submodule {
    modules: Vec<Collected>,
    extra: Vec<(&'static str, Def)>,
    /// Declared options: the schema's, then the modules'.
    nodes: Rc<Nodes>,
    /// The `freeformType` a module gave (`_module.freeformType`), if any.
    freeform: Option<Ty>,
}

/// The options `schema` declares, as [`Nodes`] (built once per schema: each machine of a
/// fleet, each instance and role shares its schema's).
fn schema_nodes(schema: &Schema) -> Rc<Nodes> {
    schema
        .nodes
        .get_or_init(|| {
            Rc::new(
                schema
                    .options
                    .iter()
                    .map(|(n, node)| (n.to_string(), Symbol::new(n), node.clone()))
                    .collect(),
            )
        })
        .clone()
}

/// Evaluates a submodule of `schema` from `defs` (each a module), lazily: the returned
/// value is its `config`.
pub fn eval_submodule(ev: &mut Eval, ctx: &Ctx, schema: &Rc<Schema>, defs: Vec<Def>) -> Value {
    let _ = ev;
    let state: Rc<RefCell<Option<Rc<Submodule>>>> = Rc::new(RefCell::new(None));
    let config_cell: Rc<RefCell<Option<Value>>> = Rc::new(RefCell::new(None));
    let config = {
        let state = state.clone();
        let schema = schema.clone();
        let ctx = ctx.clone();
        let cell = config_cell.clone();
        Thunk::native(move |ev: &mut Eval| {
            let self_value = cell.borrow().clone().unwrap_or(Value::Null);
            let sub = state.borrow().clone();
            let Some(sub) = sub else {
                return Err(kith_eval::EvalError::new("infinite recursion encountered"));
            };
            build_config(ev, &ctx, &schema, &sub, &self_value)
        })
    };
    *config_cell.borrow_mut() = Some(config.clone());
    let schema = schema.clone();
    let ctx = ctx.clone();
    let config2 = config.clone();
    Thunk::native(move |ev: &mut Eval| {
        if state.borrow().is_none() {
            let mut special = schema.special.as_ref().map(|f| f(&ctx)).unwrap_or_default();
            if let Some(n) = &ctx.name {
                special.push(("name".into(), Value::string(&**n)));
            }
            let args = Args {
                lib: ctx.lib.clone(),
                class: schema.class,
                special,
            };
            let roots = defs
                .iter()
                .map(|d| (d.file.clone(), d.value.clone()))
                .collect();
            let modules = collect(ev, roots, &config2, &args)?;
            let extra = match &schema.extra {
                Some(f) => f(ev, &ctx)?,
                None => Vec::new(),
            };
            let mut nodes = schema_nodes(&schema);
            if modules.iter().any(|m| m.options.is_some()) {
                let mut own: Vec<(String, Node)> = nodes
                    .iter()
                    .map(|(n, _, node)| (n.clone(), node.clone()))
                    .collect();
                for m in &modules {
                    if let Some(o) = &m.options {
                        super::declare::add_declarations(ev, &ctx.lib, &m.file, o, &mut own)?;
                    }
                }
                nodes = Rc::new(
                    own.into_iter()
                        .map(|(n, node)| {
                            let sym = Symbol::new(&n);
                            (n, sym, node)
                        })
                        .collect(),
                );
            }
            let freeform = module_freeform(ev, &schema, &modules)?;
            *state.borrow_mut() = Some(Rc::new(Submodule {
                modules,
                extra,
                nodes,
                freeform,
            }));
        }
        ev.force(&config2)
    })
}

/// The type a module gives as `freeformType`. One module giving one is modelled; more, or
/// one beside the schema's own, are not.
fn module_freeform(ev: &mut Eval, schema: &Schema, modules: &[Collected]) -> Result<Option<Ty>> {
    let mut given = modules.iter().filter_map(|m| m.freeform.as_ref());
    let Some(t) = given.next() else {
        return Ok(None);
    };
    if given.next().is_some() || schema.freeform.is_some() {
        return Err(crate::error::unsupported_eval(
            "`freeformType' given by more than one module",
        ));
    }
    if matches!(ev.force(t)?, Value::Null) {
        return Ok(None);
    }
    Ok(Some(super::declare::ty_of(ev, t)?))
}

/// The definitions of `name` (whose symbol is `sym`) in the collected modules (and the
/// type's extra definitions).
fn defs_of(sub: &Submodule, sym: Symbol, name: &str) -> Vec<Def> {
    let mut out = Vec::new();
    for m in &sub.modules {
        for p in &m.pieces {
            if let Some(a) = p.get_attr(sym) {
                out.push(Def {
                    file: m.file.clone(),
                    span: a.span,
                    value: a.value.clone(),
                });
            }
        }
    }
    for (n, d) in &sub.extra {
        if *n == name {
            out.push(d.clone());
        }
    }
    out
}

/// The `config` attribute set of a submodule: one lazily merged attribute per option.
fn build_config(
    ev: &mut Eval,
    ctx: &Ctx,
    schema: &Rc<Schema>,
    sub: &Rc<Submodule>,
    self_value: &Value,
) -> Result<Value> {
    let mut inner = ctx.clone();
    inner.parent = self_value.clone();
    // Unmatched definitions: names no option declares.
    let mut defined: Vec<Symbol> = Vec::new();
    for m in &sub.modules {
        for p in &m.pieces {
            for a in p.iter() {
                if !defined.contains(&a.name) {
                    defined.push(a.name);
                }
            }
        }
    }
    if sub.freeform.is_none() && schema.freeform.is_none() {
        let undeclared = defined
            .iter()
            .any(|n| !sub.nodes.iter().any(|(_, s, _)| s == n));
        let namespaces = sub
            .nodes
            .iter()
            .any(|(_, sym, node)| matches!(node, Node::Group(_)) && defined.contains(sym));
        if undeclared || namespaces {
            let pieces = module_pieces(sub);
            let declared = declared_nodes(sub);
            if let Some((c, siblings, defs)) = first_unmatched(ev, &inner, &declared, &pieces)? {
                let siblings: Vec<&str> = siblings.iter().map(String::as_str).collect();
                return Err(does_not_exist(ev, &c, &siblings, &defs));
            }
        }
    }
    let mut entries = Vec::new();
    for (name, sym, node) in sub.nodes.iter() {
        let sym = *sym;
        let defs = defs_of(sub, sym, name);
        let c = inner.child(name);
        // The sites of the submodule's own options (`meta.tld`, a role's `extraModules`).
        for d in &defs {
            super::sites::note(&c.loc, &d.file, d.span);
        }
        entries.push(node_value(
            ev,
            &c,
            sym,
            node,
            &schema.decl_file,
            defs,
            sub.freeform.is_some(),
        )?);
    }
    if let Some(ty) = &sub.freeform {
        // `freeformType.merge prefix defs` over the definitions no option matches (inside
        // namespaces too), each at its path (`setAttrByPath`); the declared options'
        // values win (`recursiveUpdate freeformConfig declaredConfig`).
        let pieces = module_pieces(sub);
        let declared = declared_nodes(sub);
        let mut defs = Vec::new();
        walk_unmatched(
            ev,
            &mut Vec::new(),
            &declared,
            &pieces,
            &mut |path, _, found| {
                for d in found {
                    let value = path
                        .iter()
                        .rev()
                        .fold(d.value.clone(), |v, n| attrs(vec![attr_sym(*n, v)]));
                    defs.push(Def { value, ..d });
                }
                false
            },
        )?;
        if !defs.is_empty() {
            let merged = merge_called(ev, &inner, ty, defs)?;
            let merged = ev.force_attrs(&merged)?;
            for a in merged.iter() {
                match entries.iter_mut().find(|e| e.name == a.name) {
                    Some(e) => {
                        let (l, r) = (a.value.clone(), e.value.clone());
                        e.value = Thunk::native(move |ev: &mut Eval| recursive_update(ev, &l, &r));
                    }
                    None => entries.push(a.clone()),
                }
            }
        }
        return Ok(Value::Attrs(Attrs::from_entries(entries)));
    }
    for name in defined {
        if sub.nodes.iter().any(|(_, n, _)| *n == name) {
            continue;
        }
        let defs = defs_of(sub, name, name.as_str());
        match &schema.freeform {
            Some(ty) => {
                let decl = Decl::new(ty.clone());
                let c = inner.child(name.as_str());
                let file = schema.decl_file.clone();
                let span = defs[0].span;
                entries.push(Attr {
                    name,
                    span,
                    value: Thunk::native(move |ev: &mut Eval| {
                        merge_option(ev, &c, &decl, &file, defs)
                    }),
                });
            }
            None => {
                let names: Vec<&str> = sub.nodes.iter().map(|(n, _, _)| n.as_str()).collect();
                return Err(does_not_exist(
                    ev,
                    &inner.child(name.as_str()),
                    &names,
                    &defs,
                ));
            }
        }
    }
    Ok(Value::Attrs(Attrs::from_entries(entries)))
}

/// What [`walk_unmatched`] calls for each undeclared name: its path, its level's declared
/// names and its definitions; `true` stops the walk.
type Visit<'a> = dyn FnMut(&[Symbol], &[(&str, &Node)], Vec<Def>) -> bool + 'a;

/// The definitions no option declares, in the module system's order (nixpkgs'
/// `unmatchedDefns`): the names of each level in lexicographic order, a namespace's own
/// undeclared definitions in its place among them. `visit` gets each name's path (from
/// the submodule), its level's declared names and its definitions, and returns whether to
/// stop; the walk returns whether it was stopped. A namespace defined by something other
/// than an attribute set is left to [`node_value`]'s error.
fn walk_unmatched(
    ev: &mut Eval,
    path: &mut Vec<Symbol>,
    declared: &[(&str, &Node)],
    pieces: &[(Rc<str>, Shared<Attrs>)],
    visit: &mut Visit,
) -> Result<bool> {
    let mut names: Vec<Symbol> = pieces
        .iter()
        .flat_map(|(_, p)| p.iter().map(|a| a.name))
        .collect();
    names.sort_by(|a, b| a.cmp_str(*b));
    names.dedup();
    for name in names {
        let defs = defs_in(pieces, name);
        path.push(name);
        let stop = match declared.iter().find(|(n, _)| *n == name.as_str()) {
            Some((_, Node::Opt(_))) => false,
            Some((_, Node::Group(children))) => match namespace_pieces(ev, &defs)? {
                Ok(inner) => {
                    let children: Vec<(&str, &Node)> =
                        children.iter().map(|(n, c)| (n.as_str(), c)).collect();
                    walk_unmatched(ev, path, &children, &inner, visit)?
                }
                Err(_) => false,
            },
            None => visit(path, declared, defs),
        };
        path.pop();
        if stop {
            return Ok(true);
        }
    }
    Ok(false)
}

/// An undeclared definition as its error names it: the option path, its level's declared
/// names (for "Did you mean") and its definitions.
type Unmatched = (Ctx, Vec<String>, Vec<Def>);

/// The first definition no option declares (see [`walk_unmatched`]), as nixpkgs'
/// `checkUnmatched` reports it.
fn first_unmatched(
    ev: &mut Eval,
    ctx: &Ctx,
    declared: &[(&str, &Node)],
    pieces: &[(Rc<str>, Shared<Attrs>)],
) -> Result<Option<Unmatched>> {
    let mut first = None;
    walk_unmatched(
        ev,
        &mut Vec::new(),
        declared,
        pieces,
        &mut |path, level, defs| {
            let c = path.iter().fold(ctx.clone(), |c, n| c.child(n.as_str()));
            let siblings = level.iter().map(|(n, _)| n.to_string()).collect();
            first = Some((c, siblings, defs));
            true
        },
    )?;
    Ok(first)
}

/// `lib.recursiveUpdate lhs rhs`: attribute sets merged name by name (lazily), `rhs`
/// winning wherever the two values are not both attribute sets.
fn recursive_update(ev: &mut Eval, lhs: &Value, rhs: &Value) -> Result<Value> {
    let (l, r) = (ev.force(lhs)?, ev.force(rhs)?);
    let (Value::Attrs(l), Value::Attrs(r)) = (&l, &r) else {
        return Ok(r);
    };
    let mut entries: Vec<Attr> = r.iter().cloned().collect();
    for a in entries.iter_mut() {
        if let Some(lv) = l.get(a.name) {
            let (lv, rv) = (lv.clone(), a.value.clone());
            a.value = Thunk::native(move |ev: &mut Eval| recursive_update(ev, &lv, &rv));
        }
    }
    entries.extend(l.iter().filter(|a| r.get(a.name).is_none()).cloned());
    Ok(Value::Attrs(Attrs::from_entries(entries)))
}

/// The definitions of `name` in `pieces` (each with its file).
fn defs_in(pieces: &[(Rc<str>, Shared<Attrs>)], name: Symbol) -> Vec<Def> {
    pieces
        .iter()
        .filter_map(|(f, p)| {
            p.get_attr(name).map(|a| Def {
                file: f.clone(),
                span: a.span,
                value: a.value.clone(),
            })
        })
        .collect()
}

/// A namespace's definitions split into their attribute sets (properties pushed down),
/// each with its file; or the first that is no attribute set, with its file.
type NamespacePieces = std::result::Result<Vec<(Rc<str>, Shared<Attrs>)>, (Rc<str>, Value)>;

fn namespace_pieces(ev: &mut Eval, defs: &[Def]) -> Result<NamespacePieces> {
    let mut pieces = Vec::new();
    for d in defs {
        let mut vals = Vec::new();
        props::push_down(ev, &d.value, &mut vals)?;
        for v in vals {
            match ev.force(&v)? {
                Value::Attrs(a) => pieces.push((d.file.clone(), a)),
                other => return Ok(Err((d.file.clone(), other))),
            }
        }
    }
    Ok(Ok(pieces))
}

/// Every module's pieces of definitions, with its file.
fn module_pieces(sub: &Submodule) -> Vec<(Rc<str>, Shared<Attrs>)> {
    sub.modules
        .iter()
        .flat_map(|m| m.pieces.iter().map(|p| (m.file.clone(), p.clone())))
        .collect()
}

/// The submodule's declared options and namespaces, by name.
fn declared_nodes(sub: &Submodule) -> Vec<(&str, &Node)> {
    sub.nodes
        .iter()
        .map(|(n, _, node)| (n.as_str(), node))
        .collect()
}

/// The value of an option or a namespace of options, named `name` (the last part of
/// `ctx`'s option path). With `freeform` (a module's `freeformType`), a namespace's
/// undeclared names are the freeform type's, not errors.
fn node_value(
    ev: &mut Eval,
    ctx: &Ctx,
    name: Symbol,
    node: &Node,
    decl_file: &Rc<str>,
    defs: Vec<Def>,
    freeform: bool,
) -> Result<Attr> {
    let span = defs
        .first()
        .map(|d| d.span)
        .unwrap_or(kith_eval::Span::NONE);
    let value = match node {
        Node::Opt(decl) => {
            let c = ctx.clone();
            let decl = decl.clone();
            let file = decl_file.clone();
            Thunk::native(move |ev: &mut Eval| merge_option(ev, &c, &decl, &file, defs))
        }
        Node::Group(children) => {
            let pieces = match namespace_pieces(ev, &defs)? {
                Ok(pieces) => pieces,
                Err((file, other)) => return Err(not_a_namespace(ctx, &file, &other)),
            };
            let mut entries = Vec::new();
            for (child, cnode) in children {
                let sym = Symbol::new(child);
                let cdefs = defs_in(&pieces, sym);
                entries.push(node_value(
                    ev,
                    &ctx.child(child),
                    sym,
                    cnode,
                    decl_file,
                    cdefs,
                    freeform,
                )?);
            }
            // Undeclared names go to the submodule's freeform type, if a module gave one.
            for (f, p) in pieces.iter().filter(|_| !freeform) {
                for a in p.iter() {
                    if !children.iter().any(|(c, _)| c == a.name.as_str()) {
                        let names: Vec<&str> = children.iter().map(|(n, _)| n.as_str()).collect();
                        let d = Def {
                            file: f.clone(),
                            span: a.span,
                            value: a.value.clone(),
                        };
                        return Err(does_not_exist(
                            ev,
                            &ctx.child(a.name.as_str()),
                            &names,
                            &[d],
                        ));
                    }
                }
            }
            Value::Attrs(Attrs::from_entries(entries))
        }
    };
    Ok(Attr { name, value, span })
}

/// The module system's error for a definition of an undeclared option.
pub fn does_not_exist(
    ev: &mut Eval,
    ctx: &Ctx,
    siblings: &[&str],
    defs: &[Def],
) -> Box<kith_eval::EvalError> {
    let shown = match show_defs(ev, &defs[..1.min(defs.len())]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let invalid = ctx.loc.last().unwrap_or_default().to_string();
    let parent = ctx.loc.parent().to_vec();
    let mut cands: Vec<(usize, &str)> = siblings
        .iter()
        .map(|s| (levenshtein(&invalid, s), *s))
        .collect();
    if cands.len() >= 100 {
        cands.retain(|(d, _)| *d <= 2);
    }
    cands.sort_by_key(|(d, _)| *d);
    cands.truncate(3);
    let show = |s: &str| {
        let mut l = parent.to_vec();
        l.push(s.to_string());
        format!("`{}'", show_option(&l))
    };
    let suggestion = match cands.len() {
        0 => String::new(),
        1 => format!("\n\nDid you mean {}?", show(cands[0].1)),
        n => format!(
            "\n\nDid you mean {} or {}?",
            cands[..n - 1]
                .iter()
                .map(|(_, s)| show(s))
                .collect::<Vec<_>>()
                .join(", "),
            show(cands[n - 1].1)
        ),
    };
    throw(format!(
        "The option `{}' does not exist. Definition values:{shown}{suggestion}",
        ctx.loc.show()
    ))
}

/// Edit distance, as `lib.strings.levenshtein`.
fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Evaluates a submodule type declared in Nix: its own modules, then the definitions,
/// with `name` as the modules' `name` argument.
fn eval_nix_submodule(
    ev: &mut Eval,
    ctx: &Ctx,
    sub: &Rc<super::types::NixSubmodule>,
    defs: Vec<Def>,
    name: Rc<str>,
) -> Value {
    let file: Rc<str> = Rc::from("<unknown-file>");
    let modules = shared_submodules(ev, ctx, sub, &name).unwrap_or_else(|_| sub.modules.clone());
    let mut all: Vec<Def> = modules.iter().map(|m| Def::new(&file, m.clone())).collect();
    all.extend(defs);
    let special = sub.special.clone();
    let mut ctx = ctx.clone();
    ctx.name = Some(name);
    let ctx = &ctx;
    let schema = Rc::new(Schema {
        options: Vec::new(),
        freeform: None,
        decl_file: file,
        class: None,
        extra: None,
        special: Some(Rc::new(move |_| special.clone())),
        nodes: Default::default(),
    });
    eval_submodule(ev, ctx, &schema, all)
}

/// (submodule type identity, option name) → the type (kept alive) and its modules, called.
type SharedSubmodules =
    std::collections::HashMap<(usize, String), (Rc<super::types::NixSubmodule>, Vec<Value>)>;

thread_local! {
    /// A submodule type's modules called once per `name` (see [`super::share`]).
    static SHARED_SUBMODULES: RefCell<SharedSubmodules> = Default::default();
}

/// Forgets the shared submodule modules (a new clan, a new evaluator).
pub fn reset_shared_submodules() {
    SHARED_SUBMODULES.with(|c| c.borrow_mut().clear());
}

/// The modules of submodule type `sub` for an option named `name`, called once.
fn shared_submodules(
    ev: &mut Eval,
    ctx: &Ctx,
    sub: &Rc<super::types::NixSubmodule>,
    name: &str,
) -> Result<Vec<Value>> {
    if !super::share::sharing() {
        return Ok(sub.modules.clone());
    }
    let name = name.to_string();
    let key = (Rc::as_ptr(sub) as usize, name.clone());
    if let Some(v) = SHARED_SUBMODULES.with(|c| c.borrow().get(&key).map(|(_, v)| v.clone())) {
        return Ok(v);
    }
    let mut args = vec![
        ("lib".to_string(), ctx.lib.clone()),
        ("name".to_string(), Value::string(name.as_str())),
    ];
    args.extend(sub.special.iter().cloned());
    let mut out = Vec::with_capacity(sub.modules.len());
    for m in &sub.modules {
        out.push(super::share::share_modules(ev, m, &args, 0)?);
    }
    SHARED_SUBMODULES.with(|c| c.borrow_mut().insert(key, (sub.clone(), out.clone())));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modsys::Node;

    /// `config.tags` of a submodule declaring `tags` as a list of strings, defined by
    /// `module` (Nix text).
    fn tags_of(ev: &mut Eval, module: &str) -> Result<Value> {
        let module = ev.eval_expr(module, std::path::Path::new("/")).unwrap();
        let decl = Decl::new(Ty::ListOf(Rc::new(Ty::Str)));
        let schema = Rc::new(Schema::new(
            vec![("tags", Node::Opt(decl))],
            Rc::from("decl.nix"),
        ));
        let ctx = Ctx {
            loc: Loc::new(&["machines", "jon"]),
            name: None,
            parent: Value::Null,
            lib: Value::Null,
        };
        let file: Rc<str> = Rc::from("def.nix");
        let config = eval_submodule(ev, &ctx, &schema, vec![Def::new(&file, module)]);
        let config = ev.force_attrs(&config)?;
        Ok(config.get_str("tags").cloned().expect("declared"))
    }

    /// An element of a list option is checked when it is read: a list with one of the wrong
    /// type has its length and its other elements, and fails where that one is read.
    #[test]
    fn a_list_element_of_the_wrong_type_fails_only_when_read() {
        let mut ev = Eval::new(kith_eval::EvalOptions::default());
        let tags = tags_of(&mut ev, r#"{ tags = [ "a" 1 "c" ]; }"#).unwrap();
        let tags = ev.force_list(&tags).unwrap();
        assert_eq!(tags.len(), 3);
        for (i, want) in [(0, "a"), (2, "c")] {
            let v = ev.force(&tags[i]).unwrap();
            assert!(matches!(&v, Value::String(s) if s.as_bytes() == want.as_bytes()));
        }
        let e = ev.force(&tags[1]).unwrap_err();
        assert!(
            e.message.starts_with(
                "A definition for option `machines.jon.tags.\"[definition 1-entry 2]\"' is not of type `string'."
            ),
            "{}",
            e.message
        );
    }

    /// `lib.unique` keeps each first occurrence in order, comparing strings by content
    /// and, once another kind of element comes, everything pairwise with `==`.
    #[test]
    fn unique_keeps_first_occurrences_across_kinds() {
        let mut ev = Eval::new(kith_eval::EvalOptions::default());
        let list = ev
            .eval_expr(
                r#"[ "b" "a" "b" 1 "a" { x = 1; } 1 { x = 1; } "c" [ "a" ] [ "a" ] "c" ]"#,
                std::path::Path::new("/"),
            )
            .unwrap();
        let out = unique(&mut ev, &list).unwrap();
        let out = ev.to_json(&out).unwrap();
        assert_eq!(
            out,
            serde_json::json!(["b", "a", 1, { "x": 1 }, "c", ["a"]])
        );
    }

    /// An element that fails to evaluate fails `lib.unique`, as `elem` forces it.
    #[test]
    fn unique_forces_every_element() {
        let mut ev = Eval::new(kith_eval::EvalOptions::default());
        let list = ev
            .eval_expr(r#"[ "a" (throw "bad tag") ]"#, std::path::Path::new("/"))
            .unwrap();
        assert_eq!(unique(&mut ev, &list).unwrap_err().message, "bad tag");
    }
}
