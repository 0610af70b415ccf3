//! Attribute-set builtins: `attrNames`, `getAttr`, `listToAttrs`, `mapAttrs`,
//! `genericClosure`, ….

use super::control::with_ctx;
use super::lists::fn_span;
use crate::error::{ErrorExt, EvalError, Result};
use crate::eval::Eval;
use crate::print::show_for_error;
use crate::source::Span;
use crate::symbol::{known, Symbol, SymbolMap, SymbolSet};
use crate::value::Shared;
use crate::value::{Attr, Attrs, AttrsBuilder, List, PrimOp, Thunk, Value};
use smallvec::SmallVec;
use std::cmp::Ordering;
use std::collections::VecDeque;

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "attrNames",
        arity: 1,
        func: attr_names,
    },
    PrimOp {
        name: "attrValues",
        arity: 1,
        func: attr_values,
    },
    PrimOp {
        name: "getAttr",
        arity: 2,
        func: get_attr,
    },
    PrimOp {
        name: "hasAttr",
        arity: 2,
        func: has_attr,
    },
    PrimOp {
        name: "removeAttrs",
        arity: 2,
        func: remove_attrs,
    },
    PrimOp {
        name: "intersectAttrs",
        arity: 2,
        func: intersect_attrs,
    },
    PrimOp {
        name: "listToAttrs",
        arity: 1,
        func: list_to_attrs,
    },
    PrimOp {
        name: "mapAttrs",
        arity: 2,
        func: map_attrs,
    },
    PrimOp {
        name: "catAttrs",
        arity: 2,
        func: cat_attrs,
    },
    PrimOp {
        name: "zipAttrsWith",
        arity: 2,
        func: zip_attrs_with,
    },
    PrimOp {
        name: "functionArgs",
        arity: 1,
        func: function_args,
    },
    PrimOp {
        name: "unsafeGetAttrPos",
        arity: 2,
        func: unsafe_get_attr_pos,
    },
    PrimOp {
        name: "groupBy",
        arity: 2,
        func: group_by,
    },
    PrimOp {
        name: "genericClosure",
        arity: 1,
        func: generic_closure,
    },
];

/// Forces `v` as a set, with the context `while evaluating the <which> argument passed to
/// builtins.<name>`.
fn attrs_arg(ev: &mut Eval, v: &Value, which: &str, name: &str) -> Result<Shared<Attrs>> {
    // The context is formatted only on failure: these run on every builtin call.
    ev.force_attrs(v).context(Span::NONE, || {
        format!("while evaluating the {which} argument passed to builtins.{name}")
    })
}

/// Forces `v` as a string without context and interns it.
fn name_arg(ev: &mut Eval, v: &Value, which: &str, name: &str) -> Result<Symbol> {
    // The context is formatted only on failure: these run on every builtin call.
    let s = ev.force_str_noctx(v).context(Span::NONE, || {
        format!("while evaluating the {which} argument passed to builtins.{name}")
    })?;
    Ok(Symbol::new(&s))
}

/// The attribute `name` of `attrs`, or Nix's `attribute '…' missing` (without suggestions,
/// as builtins report it).
fn required(attrs: &Attrs, name: Symbol) -> Result<&Attr> {
    attrs
        .get_attr(name)
        .ok_or_else(|| EvalError::new(format!("attribute '{name}' missing")))
}

/// A string-list or set result made of fresh attributes without positions.
fn plain_attr(name: Symbol, value: Value) -> Attr {
    Attr {
        name,
        value,
        span: Span::NONE,
    }
}

/// `attrNames set`: the names, sorted.
fn attr_names(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let what = "while evaluating the argument passed to builtins.attrNames";
    let attrs = with_ctx(ev.force_attrs(&args[0]), what)?;
    let names = attrs
        .sorted_by_name()
        .into_iter()
        .map(|a| ev.name_string(a.name));
    Ok(Value::List(List::from_exact(names)))
}

/// `attrValues set`: the values, in the order of their names.
fn attr_values(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let what = "while evaluating the argument passed to builtins.attrValues";
    let attrs = with_ctx(ev.force_attrs(&args[0]), what)?;
    let values = attrs.sorted_by_name().into_iter().map(|a| a.value.clone());
    Ok(Value::List(List::from_exact(values)))
}

/// `getAttr name set`: `set.${name}`.
fn get_attr(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let name = name_arg(ev, &args[0], "first", "getAttr")?;
    let attrs = attrs_arg(ev, &args[1], "second", "getAttr")?;
    let attr = with_ctx(
        required(&attrs, name),
        "in the attribute set under consideration",
    )?;
    let v = attr.value.clone();
    ev.force(&v)
}

/// `hasAttr name set`: `set ? ${name}`.
fn has_attr(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let name = name_arg(ev, &args[0], "first", "hasAttr")?;
    let attrs = attrs_arg(ev, &args[1], "second", "hasAttr")?;
    Ok(Value::Bool(attrs.contains(name)))
}

/// `removeAttrs set names`: `set` without the listed attributes (absent names are fine).
fn remove_attrs(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let attrs = attrs_arg(ev, &args[0], "first", "removeAttrs")?;
    let what = "while evaluating the second argument passed to builtins.removeAttrs";
    let names = with_ctx(ev.force_list(&args[1]), what)?;
    // The positions of the attributes to drop. A name never interned names no attribute.
    let mut drop: SmallVec<[usize; 8]> = SmallVec::new();
    for n in names.iter() {
        let what =
            "while evaluating the values of the second argument passed to builtins.removeAttrs";
        let s = with_ctx(ev.force_str_noctx(n), what)?;
        if let Some(i) = Symbol::existing(&s).and_then(|name| attrs.position(name)) {
            drop.push(i);
        }
    }
    if drop.is_empty() {
        return Ok(Value::Attrs(attrs));
    }
    drop.sort_unstable();
    drop.dedup();
    let mut kept = AttrsBuilder::with_capacity(attrs.len() - drop.len());
    let mut drop = drop.into_iter().peekable();
    for (i, a) in attrs.iter().enumerate() {
        if drop.next_if_eq(&i).is_none() {
            kept.push(a.clone());
        }
    }
    Ok(Value::Attrs(kept.finish()))
}

/// `intersectAttrs e1 e2`: the attributes of `e2` whose names are in `e1`.
fn intersect_attrs(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let left = attrs_arg(ev, &args[0], "first", "intersectAttrs")?;
    let right = attrs_arg(ev, &args[1], "second", "intersectAttrs")?;
    let mut kept = AttrsBuilder::with_capacity(left.len().min(right.len()));
    for a in right.iter().filter(|a| left.contains(a.name)) {
        kept.push(a.clone());
    }
    Ok(Value::Attrs(kept.finish()))
}

/// `listToAttrs [ { name; value; } … ]`; for duplicate names the first one wins.
fn list_to_attrs(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let what = "while evaluating the argument passed to builtins.listToAttrs";
    let list = with_ctx(ev.force_list(&args[0]), what)?;
    let pair = "in a {name=...; value=...;} pair";
    // All names are evaluated first; `value` is looked up only for the winners.
    let mut named: Vec<(Symbol, Shared<Attrs>)> = Vec::with_capacity(list.len());
    for item in list.iter() {
        let what = "while evaluating an element of the list passed to builtins.listToAttrs";
        let item = with_ctx(ev.force_attrs(item), what)?;
        let name_attr = with_ctx(required(&item, known::name()), pair)?;
        let (v, span) = (name_attr.value.clone(), name_attr.span);
        let name = ev.force_str_noctx(&v).map_err(|e| {
            e.at(span).context(span, || {
                "while evaluating the `name` attribute of an element of the list passed to builtins.listToAttrs"
                    .into()
            })
        })?;
        named.push((Symbol::new(&name), item));
    }
    let mut seen = SymbolSet::default();
    let mut out = Vec::with_capacity(named.len());
    for (name, item) in named {
        if !seen.insert(name) {
            continue;
        }
        let value = with_ctx(required(&item, known::value()), pair)?;
        out.push(Attr {
            name,
            value: value.value.clone(),
            span: value.span,
        });
    }
    Ok(Value::Attrs(Attrs::from_entries(out)))
}

/// `mapAttrs f set`: each value becomes the lazy `f name value`.
fn map_attrs(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let attrs = attrs_arg(ev, &args[1], "second", "mapAttrs")?;
    let f = &args[0];
    let mut mapped = AttrsBuilder::with_capacity(attrs.len());
    for a in attrs.iter() {
        let name = ev.name_string(a.name);
        mapped.push(Attr {
            name: a.name,
            value: Thunk::apply2(f.clone(), name, a.value.clone(), Span::NONE),
            // Nix gives mapped attributes no position (`unsafeGetAttrPos` is null).
            span: Span::NONE,
        });
    }
    Ok(Value::Attrs(mapped.finish()))
}

/// `catAttrs name sets`: the values of `name` in those sets that have it.
fn cat_attrs(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let name = name_arg(ev, &args[0], "first", "catAttrs")?;
    let what = "while evaluating the second argument passed to builtins.catAttrs";
    let list = with_ctx(ev.force_list(&args[1]), what)?;
    let mut out = Vec::new();
    for item in list.iter() {
        let what = "while evaluating an element in the list passed as second argument to builtins.catAttrs";
        let attrs = with_ctx(ev.force_attrs(item), what)?;
        if let Some(v) = attrs.get(name) {
            out.push(v.clone());
        }
    }
    Ok(Value::list(out))
}

/// `zipAttrsWith f sets`: for each name in any set, the lazy `f name [ values… ]`.
fn zip_attrs_with(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let what = "while evaluating the first argument passed to builtins.zipAttrsWith";
    let f = with_ctx(ev.force_function(&args[0]), what)?;
    let what = "while evaluating the second argument passed to builtins.zipAttrsWith";
    let list = with_ctx(ev.force_list(&args[1]), what)?;
    // Every (name, value) pair in list order, then sorted by name (stably, so each name's
    // values keep the list's order): the groups come out contiguous and in set order.
    let mut pairs: Vec<(Symbol, Value)> = Vec::new();
    for item in list.iter() {
        let what = "while evaluating a value of the list passed as second argument to builtins.zipAttrsWith";
        let attrs = with_ctx(ev.force_attrs(item), what)?;
        pairs.extend(attrs.iter().map(|a| (a.name, a.value.clone())));
    }
    pairs.sort_by_key(|(name, _)| *name);
    let span = fn_span(&f);
    let mut out = Vec::new();
    let mut pairs = pairs.into_iter().peekable();
    while let Some((name, first)) = pairs.next() {
        let mut vs = vec![first];
        while let Some((_, v)) = pairs.next_if(|(n, _)| *n == name) {
            vs.push(v);
        }
        let name_value = ev.name_string(name);
        out.push(plain_attr(
            name,
            Thunk::apply2(f.clone(), name_value, Value::list(vs), span),
        ));
    }
    Ok(Value::Attrs(Attrs::from_sorted(out)))
}

/// `functionArgs f`: `{ name = hasDefault; … }` for a pattern lambda, `{ }` for other
/// functions.
fn function_args(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let f = ev.force(&args[0])?;
    if !f.is_function() {
        return Err(EvalError::new("'functionArgs' requires a function"));
    }
    let out = f
        .formals()
        .into_iter()
        .map(|p| Attr {
            name: p.name,
            value: Value::Bool(p.has_default),
            span: p.span,
        })
        .collect();
    Ok(Value::Attrs(Attrs::from_entries(out)))
}

/// `unsafeGetAttrPos name set`: `{ file; line; column; }` of the definition, or null.
fn unsafe_get_attr_pos(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let name = name_arg(ev, &args[0], "first", "unsafeGetAttrPos")?;
    let attrs = attrs_arg(ev, &args[1], "second", "unsafeGetAttrPos")?;
    Ok(match attrs.get_attr(name) {
        Some(a) => ev.pos_attrs(a.span),
        None => Value::Null,
    })
}

/// `groupBy f list`: the elements grouped into lists by the name `f` gives them.
fn group_by(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let what = "while evaluating the first argument passed to builtins.groupBy";
    let f = with_ctx(ev.force_function(&args[0]), what)?;
    let what = "while evaluating the second argument passed to builtins.groupBy";
    let list = with_ctx(ev.force_list(&args[1]), what)?;
    let mut groups: SymbolMap<Vec<Value>> = SymbolMap::default();
    for item in list.iter() {
        let r = ev.call(&f, item.clone(), Span::NONE)?;
        let what =
            "while evaluating the return value of the grouping function passed to builtins.groupBy";
        let name = with_ctx(ev.force_str_noctx(&r), what)?;
        groups
            .entry(Symbol::new(&name))
            .or_default()
            .push(item.clone());
    }
    let out = groups
        .into_iter()
        .map(|(name, vs)| plain_attr(name, Value::list(vs)))
        .collect();
    Ok(Value::Attrs(Attrs::from_entries(out)))
}

/// `genericClosure { startSet; operator; }`: the elements reachable from `startSet` through
/// `operator`, without repeating a `key`, in discovery order.
fn generic_closure(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let what = "while evaluating the first argument passed to builtins.genericClosure";
    let arg = with_ctx(ev.force_attrs(&args[0]), what)?;
    let in_arg = "in the attrset passed as argument to builtins.genericClosure";
    let start = with_ctx(required(&arg, known::start_set()), in_arg)?
        .value
        .clone();
    let what =
        "while evaluating the 'startSet' attribute passed as argument to builtins.genericClosure";
    let start = with_ctx(ev.force_list(&start), what)?;
    let op = with_ctx(required(&arg, known::operator()), in_arg)?
        .value
        .clone();
    if start.is_empty() {
        return Ok(Value::List(start));
    }
    let what =
        "while evaluating the 'operator' attribute passed as argument to builtins.genericClosure";
    let op = with_ctx(ev.force_function(&op), what)?;

    let mut work: VecDeque<Value> = start.iter().cloned().collect();
    let mut done = KeySet::default();
    let mut result = Vec::new();
    while let Some(elem) = work.pop_front() {
        let key = element_key(ev, &elem).map_err(|e| {
            e.context(Span::NONE, || {
                format!("in genericClosure element {}", show_for_error(ev, &elem))
            })
        })?;
        if !done.insert(ev, key, &elem)? {
            continue;
        }
        result.push(elem.clone());
        let next = operator_result(ev, &op, &elem).map_err(|e| {
            e.context(Span::NONE, || {
                format!(
                    "while calling operator on genericClosure element {}",
                    show_for_error(ev, &elem)
                )
            })
        })?;
        work.extend(next.iter().cloned());
    }
    Ok(Value::list(result))
}

/// The forced `key` attribute of a `genericClosure` element.
fn element_key(ev: &mut Eval, elem: &Value) -> Result<Value> {
    let attrs = ev.force_attrs(elem)?;
    let key = required(&attrs, known::key())?.value.clone();
    ev.force(&key)
}

/// Calls `operator` on an element and forces its result as a list.
fn operator_result(ev: &mut Eval, op: &Value, elem: &Value) -> Result<Shared<List>> {
    let r = ev.call(op, elem.clone(), Span::NONE)?;
    let what =
        "while evaluating the return value of the `operator` passed to builtins.genericClosure";
    with_ctx(ev.force_list(&r), what)
}

/// The keys seen by `genericClosure`, ordered by Nix's `<` (as Nix's `std::set` does).
#[derive(Default)]
struct KeySet {
    /// `(key, element)` in insertion order.
    entries: Vec<(Value, Value)>,
    /// Indices into `entries`, sorted by key.
    sorted: Vec<usize>,
}

impl KeySet {
    /// Adds `key` (of `elem`); false if an equal key is already present.
    fn insert(&mut self, ev: &mut Eval, key: Value, elem: &Value) -> Result<bool> {
        let (mut lo, mut hi) = (0, self.sorted.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (other_key, other_elem) = &self.entries[self.sorted[mid]];
            let ord = ev.compare(&key, other_key).map_err(|e| {
                e.context(Span::NONE, || {
                    format!("with element {}", show_for_error(ev, other_elem))
                })
                .context(Span::NONE, || {
                    format!("while comparing element {}", show_for_error(ev, elem))
                })
            })?;
            match ord {
                Ordering::Less => hi = mid,
                Ordering::Greater => lo = mid + 1,
                Ordering::Equal => return Ok(false),
            }
        }
        self.sorted.insert(lo, self.entries.len());
        self.entries.push((key, elem.clone()));
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::super::control::testing::{error, eval};

    #[test]
    fn names_and_values() {
        assert_eq!(
            eval("builtins.attrNames { b = 1; a = 2; \"B\" = 3; \"_\" = 4; }"),
            "[ \"B\" \"_\" \"a\" \"b\" ]"
        );
        assert_eq!(eval("builtins.attrValues { b = 1; a = 2; }"), "[ 2 1 ]");
        assert_eq!(
            error("builtins.attrNames [ ]"),
            "expected a set but found a list: [ ]"
        );
    }

    #[test]
    fn get_has_remove_intersect() {
        assert_eq!(
            eval("[ (builtins.getAttr \"a\" { a = 1; }) (builtins.hasAttr \"b\" { a = 1; }) ]"),
            "[ 1 false ]"
        );
        assert_eq!(
            error("builtins.getAttr \"foo\" { }"),
            "attribute 'foo' missing"
        );
        assert_eq!(
            eval("builtins.removeAttrs { a = 1; b = 2; } [ \"a\" \"c\" ]"),
            "{ b = 2; }"
        );
        // Duplicates, names in any order, and a name no set has ever had.
        assert_eq!(
            eval("builtins.removeAttrs { a = 1; b = 2; c = 3; } [ \"c\" \"a\" \"a\" \"never-interned-xyz\" ]"),
            "{ b = 2; }"
        );
        assert_eq!(
            error("builtins.removeAttrs { a = 1; } [ 1 ]"),
            "expected a string but found an integer: 1"
        );
        assert_eq!(
            error("builtins.removeAttrs \"\" [ 1 ]"),
            "expected a set but found a string: \"\""
        );
        assert_eq!(
            eval("builtins.intersectAttrs { a = 1; b = 2; } { b = 3; c = 4; }"),
            "{ b = 3; }"
        );
    }

    #[test]
    fn list_to_attrs_first_wins() {
        assert_eq!(eval("builtins.listToAttrs [ { name = \"a\"; value = 1; } { name = \"a\"; value = 2; } ]"), "{ a = 1; }");
        assert_eq!(
            eval("builtins.listToAttrs [ { name = \"a\"; value = 1; } { name = \"a\"; } ]"),
            "{ a = 1; }"
        );
        assert_eq!(
            error("builtins.listToAttrs [ { } ]"),
            "attribute 'name' missing"
        );
        assert_eq!(
            error("builtins.listToAttrs [ { name = 1; } ]"),
            "expected a string but found an integer: 1"
        );
        assert_eq!(
            error("builtins.listToAttrs [ { name = \"foo\"; } ]"),
            "attribute 'value' missing"
        );
    }

    #[test]
    fn lazy_maps() {
        assert_eq!(
            eval("builtins.mapAttrs (n: v: n + toString v) { x = 1; y = 2; }"),
            "{ x = \"x1\"; y = \"y2\"; }"
        );
        assert_eq!(
            eval("builtins.attrNames (builtins.mapAttrs (n: v: throw \"lazy\") { x = 1; })"),
            "[ \"x\" ]"
        );
        assert_eq!(
            error("builtins.mapAttrs (x: x + \"1\") { foo.bar = 1; }"),
            "attempt to call something which is not a function but a string: \"foo1\""
        );
        assert_eq!(
            eval("builtins.zipAttrsWith (n: v: v) [ { a = 1; } { a = 2; b = 3; } ]"),
            "{ a = [ 1 2 ]; b = [ 3 ]; }"
        );
        // Each name's values in list order, whatever order the names were first seen in.
        assert_eq!(
            eval("builtins.zipAttrsWith (n: v: [ n ] ++ v) [ { z = 1; a = 2; } { a = 3; } { q = 4; z = 5; } ]"),
            "{ a = [ \"a\" 2 3 ]; q = [ \"q\" 4 ]; z = [ \"z\" 1 5 ]; }"
        );
        // `mapAttrs` applies to two arguments; the result may itself be a function.
        assert_eq!(
            eval("(builtins.mapAttrs (n: v: w: n + v + w) { x = \"1\"; }).x \"2\""),
            "\"x12\""
        );
        assert_eq!(
            error("builtins.zipAttrsWith (a: b: a + b) [ { foo = 1; } { foo = 2; } ]"),
            "cannot coerce a list to a string: [ 1 2 ]"
        );
        assert_eq!(
            eval("builtins.catAttrs \"a\" [ { a = 1; } { b = 0; } { a = 2; } ]"),
            "[ 1 2 ]"
        );
        assert_eq!(
            eval("builtins.groupBy (x: if x > 2 then \"big\" else \"small\") [ 1 2 3 4 ]"),
            "{ big = [ 3 4 ]; small = [ 1 2 ]; }"
        );
        assert_eq!(
            error("builtins.groupBy (x: x) [ \"foo\" \"bar\" 1 ]"),
            "expected a string but found an integer: 1"
        );
    }

    #[test]
    fn function_args_and_positions() {
        assert_eq!(
            eval("builtins.functionArgs ({ a, b ? 1, ... }: a)"),
            "{ a = false; b = true; }"
        );
        assert_eq!(
            eval("[ (builtins.functionArgs (x: x)) (builtins.functionArgs builtins.map) ]"),
            "[ { } { } ]"
        );
        assert_eq!(
            error("builtins.functionArgs { }"),
            "'functionArgs' requires a function"
        );
        // Columns as Nix 2.8 reports them for this expression.
        assert_eq!(
            eval("[ (builtins.unsafeGetAttrPos \"a\" { a = 1; }).column (builtins.unsafeGetAttrPos \"foo\" (builtins.functionArgs ({ foo }: 1))).column ]"),
            "[ 36 112 ]"
        );
        assert_eq!(eval("builtins.unsafeGetAttrPos \"b\" { a = 1; }"), "null");
        // Nix 2.26: mapped attributes have no position (nixpkgs' declaration-positions test).
        assert_eq!(
            eval("builtins.unsafeGetAttrPos \"a\" (builtins.mapAttrs (k: v: v) { a = 1; })"),
            "null"
        );
    }

    #[test]
    fn generic_closure() {
        assert_eq!(
            eval("builtins.length (builtins.genericClosure { startSet = [ { key = 80; } ]; operator = { key, foo ? false }: if builtins.lessThan key 0 then [ ] else [ { key = builtins.sub key 9; } { key = builtins.sub key 13; foo = true; } ]; })"),
            "46"
        );
        assert_eq!(eval("builtins.genericClosure { startSet = [ { key = 1; } { key = 1.0; } ]; operator = x: [ ]; }"), "[ { key = 1; } ]");
        assert_eq!(
            eval("builtins.genericClosure { startSet = [ ]; operator = 1; }"),
            "[ ]"
        );
        assert_eq!(
            error("builtins.genericClosure { startSet = [ { key = 1; } { key = \"string\"; } ]; operator = x: [ ]; }"),
            "cannot compare a string with an integer; values are \"string\" and 1"
        );
        assert_eq!(
            error("builtins.genericClosure { startSet = [ { key = 1; } ]; }"),
            "attribute 'operator' missing"
        );
        assert_eq!(error("builtins.genericClosure { startSet = [ { key = 1; } ]; operator = x: \"not a list\"; }"), "expected a list but found a string: \"not a list\"");
        assert_eq!(
            error(
                "builtins.genericClosure { startSet = [ \"not an attrset\" ]; operator = x: [ ]; }"
            ),
            "expected a set but found a string: \"not an attrset\""
        );
    }
}
