//! List builtins: `map`, `filter`, `head`, `elemAt`, `foldl'`, `genList`, `sort`, ….

use super::control::with_ctx;
use crate::error::{fail, ErrorExt, Result};
use crate::eval::Eval;
use crate::source::Span;
use crate::symbol::known;
use crate::value::Shared;
use crate::value::{Attr, Attrs, List, ListBuilder, PrimOp, Thunk, Value};

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "map",
        arity: 2,
        func: map,
    },
    PrimOp {
        name: "filter",
        arity: 2,
        func: filter,
    },
    PrimOp {
        name: "head",
        arity: 1,
        func: head,
    },
    PrimOp {
        name: "tail",
        arity: 1,
        func: tail,
    },
    PrimOp {
        name: "elemAt",
        arity: 2,
        func: elem_at,
    },
    PrimOp {
        name: "elem",
        arity: 2,
        func: elem,
    },
    PrimOp {
        name: "length",
        arity: 1,
        func: length,
    },
    PrimOp {
        name: "concatLists",
        arity: 1,
        func: concat_lists,
    },
    PrimOp {
        name: "concatMap",
        arity: 2,
        func: concat_map,
    },
    PrimOp {
        name: "foldl'",
        arity: 3,
        func: foldl_strict,
    },
    PrimOp {
        name: "genList",
        arity: 2,
        func: gen_list,
    },
    PrimOp {
        name: "sort",
        arity: 2,
        func: sort,
    },
    PrimOp {
        name: "partition",
        arity: 2,
        func: partition,
    },
    PrimOp {
        name: "any",
        arity: 2,
        func: any,
    },
    PrimOp {
        name: "all",
        arity: 2,
        func: all,
    },
];

/// The position Nix reports for calls of `f` made by a builtin: the lambda's, if any.
pub(super) fn fn_span(f: &Value) -> Span {
    match f {
        Value::Lambda(c) => c.lambda.span,
        _ => Span::NONE,
    }
}

/// Forces argument `v` of `builtins.<name>` as a list (`which`: "first", "second", …).
fn list_arg(ev: &mut Eval, v: &Value, which: &str, name: &str) -> Result<Shared<List>> {
    // The context is formatted only on failure: these run on every builtin call.
    ev.force_list(v).context(Span::NONE, || {
        format!("while evaluating the {which} argument passed to builtins.{name}")
    })
}

/// Forces argument `v` of `builtins.<name>` as a function.
fn fn_arg(ev: &mut Eval, v: &Value, which: &str, name: &str) -> Result<Value> {
    // The context is formatted only on failure: these run on every builtin call.
    ev.force_function(v).context(Span::NONE, || {
        format!("while evaluating the {which} argument passed to builtins.{name}")
    })
}

/// `map f list`: lazily applies `f` to each element.
fn map(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let list = list_arg(ev, &args[1], "second", "map")?;
    if list.is_empty() {
        return Ok(Value::List(list));
    }
    let f = fn_arg(ev, &args[0], "first", "map")?;
    let span = fn_span(&f);
    let items = list
        .iter()
        .map(|x| Thunk::apply(f.clone(), x.clone(), span));
    Ok(Value::List(List::from_exact(items)))
}

/// Calls the predicate `f` on `x` and forces the result as a Boolean.
fn predicate(ev: &mut Eval, f: &Value, x: &Value, what: &str) -> Result<bool> {
    let r = ev.call(f, x.clone(), Span::NONE)?;
    with_ctx(ev.force_bool(&r), what)
}

/// `filter f list`: the elements for which `f` is true.
fn filter(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let list = list_arg(ev, &args[1], "second", "filter")?;
    if list.is_empty() {
        return Ok(Value::List(list));
    }
    let f = fn_arg(ev, &args[0], "first", "filter")?;
    let what =
        "while evaluating the return value of the filtering function passed to builtins.filter";
    let mut out = Vec::new();
    for x in list.iter() {
        if predicate(ev, &f, x, what)? {
            out.push(x.clone());
        }
    }
    if out.len() == list.len() {
        return Ok(Value::List(list));
    }
    Ok(Value::list(out))
}

/// Forces the list argument of `head`/`tail` (Nix quotes these names).
fn quoted_list_arg(ev: &mut Eval, v: &Value, name: &str) -> Result<Shared<List>> {
    // The context is formatted only on failure: these run on every builtin call.
    ev.force_list(v).context(Span::NONE, || {
        format!("while evaluating the first argument passed to 'builtins.{name}'")
    })
}

/// `head list`: the first element.
fn head(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let list = quoted_list_arg(ev, &args[0], "head")?;
    match list.first() {
        Some(x) => ev.force(x),
        None => fail("'builtins.head' called on an empty list"),
    }
}

/// `tail list`: all but the first element.
fn tail(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let list = quoted_list_arg(ev, &args[0], "tail")?;
    if list.is_empty() {
        return fail("'builtins.tail' called on an empty list");
    }
    Ok(Value::List(List::concat(&[&list[1..]])))
}

/// `elemAt list n`: element `n` (from 0).
fn elem_at(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let n = with_ctx(
        ev.force_int(&args[1]),
        "while evaluating the second argument passed to 'builtins.elemAt'",
    )?;
    let list = with_ctx(
        ev.force_list(&args[0]),
        "while evaluating the first argument passed to 'builtins.elemAt'",
    )?;
    match usize::try_from(n).ok().and_then(|i| list.get(i)) {
        Some(x) => ev.force(x),
        None => fail(format!(
            "'builtins.elemAt' called with index {n} on a list of size {}",
            list.len()
        )),
    }
}

/// `elem x list`: whether some element equals `x`.
fn elem(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let list = list_arg(ev, &args[1], "second", "elem")?;
    if !list.is_empty() {
        let x = with_ctx(
            ev.force(&args[0]),
            "while searching for the presence of the given element in the list",
        )?;
        if let Value::String(s) = x {
            if let Some(found) = ev.elem_index.lookup(&list, &s.s) {
                return Ok(Value::Bool(found));
            }
        }
    }
    for item in list.iter() {
        let eq = with_ctx(
            ev.equal(&args[0], item),
            "while searching for the presence of the given element in the list",
        )?;
        if eq {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

/// `length list`.
fn length(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let list = list_arg(ev, &args[0], "first", "length")?;
    Ok(Value::Int(list.len() as i64))
}

/// `concatLists lists`: the concatenation of a list of lists.
fn concat_lists(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let lists = list_arg(ev, &args[0], "first", "concatLists")?;
    let mut parts = Vec::with_capacity(lists.len());
    for l in lists.iter() {
        parts.push(with_ctx(
            ev.force_list(l),
            "while evaluating a value of the list passed to builtins.concatLists",
        )?);
    }
    Ok(Value::List(join(&parts)))
}

/// `concatMap f list`: `concatLists (map f list)`, applying `f` eagerly.
fn concat_map(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let f = fn_arg(ev, &args[0], "first", "concatMap")?;
    let list = list_arg(ev, &args[1], "second", "concatMap")?;
    let span = fn_span(&f);
    let mut parts = Vec::with_capacity(list.len());
    for x in list.iter() {
        let r = ev.call(&f, x.clone(), Span::NONE)?;
        parts.push(ev.force_list(&r).context(span, || {
            "while evaluating the return value of the function passed to builtins.concatMap".into()
        })?);
    }
    Ok(Value::List(join(&parts)))
}

/// The lists `parts` joined (one that is the only non-empty part is shared, not copied).
fn join(parts: &[Shared<List>]) -> Shared<List> {
    let mut non_empty = parts.iter().filter(|p| !p.is_empty());
    if let (Some(only), None) = (non_empty.next(), non_empty.next()) {
        return only.clone();
    }
    let slices: Vec<&[Value]> = parts.iter().map(|p| &p[..]).collect();
    List::concat(&slices)
}

/// `foldl' op nul list`: left fold, forcing each intermediate accumulator (but not `nul`
/// unless the list is empty).
fn foldl_strict(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let f = fn_arg(ev, &args[0], "first", "foldlStrict")?;
    let list = list_arg(ev, &args[2], "third", "foldlStrict")?;
    let mut acc = args[1].clone();
    for x in list.iter() {
        let r = ev.call_n(&f, &[acc, x.clone()], Span::NONE)?;
        acc = ev.force(&r)?;
    }
    ev.force(&acc)
}

/// `genList f n`: `[ (f 0) … (f (n - 1)) ]`, lazily.
fn gen_list(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let n = with_ctx(
        ev.force_int(&args[1]),
        "while evaluating the second argument passed to builtins.genList",
    )?;
    if n < 0 {
        return fail(format!("cannot create list of size {n}"));
    }
    let f = fn_arg(ev, &args[0], "first", "genList")?;
    let span = fn_span(&f);
    let Ok(mut items) = ListBuilder::try_with_capacity(n as usize) else {
        return fail(format!("cannot create list of size {n}"));
    };
    for i in 0..n {
        items.push(Thunk::apply(f.clone(), Value::Int(i), span));
    }
    Ok(Value::List(items.finish()))
}

/// `sort less list`: a stable sort by the comparator `less`; elements are forced first.
fn sort(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let list = list_arg(ev, &args[1], "second", "sort")?;
    if list.is_empty() {
        return Ok(Value::List(list));
    }
    let f = fn_arg(ev, &args[0], "first", "sort")?;
    let mut items = Vec::with_capacity(list.len());
    for x in list.iter() {
        items.push(ev.force(x)?);
    }
    let is_less_than =
        matches!(&f, Value::PrimOp(p) if p.op.name == "lessThan" && p.args.is_empty());
    let mut less = |ev: &mut Eval, a: &Value, b: &Value| -> Result<bool> {
        if is_less_than {
            return Ok(ev.compare(a, b)? == std::cmp::Ordering::Less);
        }
        let r = ev.call_n(&f, &[a.clone(), b.clone()], Span::NONE)?;
        with_ctx(
            ev.force_bool(&r),
            "while evaluating the return value of the sorting function passed to builtins.sort",
        )
    };
    stable_sort(ev, &mut items, &mut less)?;
    Ok(Value::list(items))
}

/// A fallible strict-weak-order "less than".
type Less<'a> = dyn FnMut(&mut Eval, &Value, &Value) -> Result<bool> + 'a;

/// Length of the runs sorted by insertion before merging (libstdc++'s chunk size).
const CHUNK: usize = 7;

/// Stable merge sort calling `less` in the pattern of libstdc++'s `std::stable_sort`, which
/// Nix uses: each half is sorted (insertion-sorted chunks, then pairwise merges), then the
/// halves are merged. Never panics, whatever `less` answers.
fn stable_sort(ev: &mut Eval, items: &mut Vec<Value>, less: &mut Less) -> Result<()> {
    let n = items.len();
    if n < 2 {
        return Ok(());
    }
    let mid = n.div_ceil(2);
    let mut second = items.split_off(mid);
    merge_sort(ev, items, less)?;
    merge_sort(ev, &mut second, less)?;
    let mut out = Vec::with_capacity(n);
    merge(ev, items, &second, &mut out, less)?;
    *items = out;
    Ok(())
}

/// Bottom-up merge sort: insertion-sorted chunks, then merges of doubling width.
fn merge_sort(ev: &mut Eval, items: &mut Vec<Value>, less: &mut Less) -> Result<()> {
    let n = items.len();
    for start in (0..n).step_by(CHUNK) {
        insertion_sort(ev, &mut items[start..(start + CHUNK).min(n)], less)?;
    }
    let mut width = CHUNK;
    let mut buf: Vec<Value> = Vec::with_capacity(n);
    while width < n {
        buf.clear();
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            merge(ev, &items[start..mid], &items[mid..end], &mut buf, less)?;
            start = end;
        }
        std::mem::swap(items, &mut buf);
        width *= 2;
    }
    Ok(())
}

/// Sorts a short run by insertion; an element moves left past those it is less than.
fn insertion_sort(ev: &mut Eval, run: &mut [Value], less: &mut Less) -> Result<()> {
    for i in 1..run.len() {
        let mut j = i;
        if less(ev, &run[i], &run[0])? {
            j = 0;
        } else {
            while j > 0 && less(ev, &run[i], &run[j - 1])? {
                j -= 1;
            }
        }
        run[j..=i].rotate_right(1);
    }
    Ok(())
}

/// Merges two sorted runs into `out`, taking from the left run on ties.
fn merge(
    ev: &mut Eval,
    a: &[Value],
    b: &[Value],
    out: &mut Vec<Value>,
    less: &mut Less,
) -> Result<()> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if less(ev, &b[j], &a[i])? {
            out.push(b[j].clone());
            j += 1;
        } else {
            out.push(a[i].clone());
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    Ok(())
}

/// `partition pred list`: `{ right = [ x | pred x ]; wrong = [ x | !pred x ]; }`.
fn partition(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let f = fn_arg(ev, &args[0], "first", "partition")?;
    let list = list_arg(ev, &args[1], "second", "partition")?;
    let what =
        "while evaluating the return value of the partition function passed to builtins.partition";
    let (mut right, mut wrong) = (Vec::new(), Vec::new());
    for x in list.iter() {
        let x = ev.force(x)?;
        if predicate(ev, &f, &x, what)? {
            right.push(x);
        } else {
            wrong.push(x);
        }
    }
    Ok(Value::Attrs(Attrs::from_entries(vec![
        Attr {
            name: known::right(),
            value: Value::list(right),
            span: Span::NONE,
        },
        Attr {
            name: known::wrong(),
            value: Value::list(wrong),
            span: Span::NONE,
        },
    ])))
}

/// `any pred list` / `all pred list`, stopping at the first deciding element.
fn any_or_all(ev: &mut Eval, args: &[Value], any: bool) -> Result<Value> {
    let (name, what) = if any {
        (
            "any",
            "while evaluating the return value of the function passed to builtins.any",
        )
    } else {
        (
            "all",
            "while evaluating the return value of the function passed to builtins.all",
        )
    };
    let f = fn_arg(ev, &args[0], "first", name)?;
    let list = list_arg(ev, &args[1], "second", name)?;
    for x in list.iter() {
        if predicate(ev, &f, x, what)? == any {
            return Ok(Value::Bool(any));
        }
    }
    Ok(Value::Bool(!any))
}

fn any(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    any_or_all(ev, args, true)
}

fn all(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    any_or_all(ev, args, false)
}

#[cfg(test)]
mod tests {
    use super::super::control::testing::{error, eval};

    #[test]
    fn map_filter_and_friends() {
        assert_eq!(
            eval("builtins.length (builtins.map (x: throw \"x\") [ 1 2 ])"),
            "2"
        );
        assert_eq!(eval("builtins.filter (x: x > 1) [ 1 2 3 ]"), "[ 2 3 ]");
        assert_eq!(
            eval("builtins.length (builtins.filter (x: true) [ (throw \"a\") ])"),
            "1"
        );
        assert_eq!(
            eval("builtins.concatMap (x: [ x x ]) [ 1 2 ]"),
            "[ 1 1 2 2 ]"
        );
        assert_eq!(
            eval("builtins.concatLists [ [ 1 ] [ ] [ 2 3 ] ]"),
            "[ 1 2 3 ]"
        );
        assert_eq!(
            eval("builtins.partition (x: x > 2) [ 1 2 3 4 ]"),
            "{ right = [ 3 4 ]; wrong = [ 1 2 ]; }"
        );
        assert_eq!(error("builtins.partition (x: true) [ (throw \"a\") ]"), "a");
        assert_eq!(
            eval("[ (builtins.any (x: x) [ ]) (builtins.all (x: x) [ ]) ]"),
            "[ false true ]"
        );
        assert_eq!(
            eval("builtins.any (x: x) [ false true (throw \"no\") ]"),
            "true"
        );
        assert_eq!(
            eval("builtins.all (x: x) [ true false (throw \"no\") ]"),
            "false"
        );
        assert_eq!(
            eval("[ (builtins.elem 2 [ 1 2 3 ]) (builtins.elem 5 [ 1 2 3 ]) ]"),
            "[ true false ]"
        );
    }

    #[test]
    fn argument_errors() {
        assert_eq!(
            error("builtins.map 1 \"foo\""),
            "expected a list but found a string: \"foo\""
        );
        assert_eq!(
            error("builtins.map 1 [ 1 ]"),
            "expected a function but found an integer: 1"
        );
        assert_eq!(
            error("builtins.filter (_: 5) [ \"foo\" ]"),
            "expected a Boolean but found an integer: 5"
        );
        assert_eq!(
            error("builtins.concatMap (x: 1) [ \"foo\" ]"),
            "expected a list but found an integer: 1"
        );
        assert_eq!(
            error("builtins.any 1 \"foo\""),
            "expected a function but found an integer: 1"
        );
        assert_eq!(
            error("builtins.partition 1 \"foo\""),
            "expected a function but found an integer: 1"
        );
    }

    #[test]
    fn indexing() {
        assert_eq!(eval("[ (builtins.head [ 1 2 ]) (builtins.tail [ 1 2 3 ]) (builtins.elemAt [ 1 2 3 ] 2) (builtins.length [ 1 2 ]) ]"), "[ 1 [ 2 3 ] 3 2 ]");
        assert_eq!(
            error("builtins.head [ ]"),
            "'builtins.head' called on an empty list"
        );
        assert_eq!(
            error("builtins.tail [ ]"),
            "'builtins.tail' called on an empty list"
        );
        assert_eq!(
            error("builtins.elemAt [ ] (-1)"),
            "'builtins.elemAt' called with index -1 on a list of size 0"
        );
        assert_eq!(
            error("builtins.elemAt [ \"foo\" ] 3"),
            "'builtins.elemAt' called with index 3 on a list of size 1"
        );
    }

    #[test]
    fn fold_is_strict_in_results_only() {
        assert_eq!(eval("builtins.foldl' (a: b: a + b) 0 [ 1 2 3 ]"), "6");
        assert_eq!(
            eval("builtins.foldl' (_: x: x) (throw \"This is never forced\") [ \"a\" 42 ]"),
            "42"
        );
        assert_eq!(
            error("builtins.foldl' (_: f: f null) null [ (_: throw \"Not the final value, but is still forced!\") (_: 23) ]"),
            "Not the final value, but is still forced!"
        );
        assert_eq!(
            error("builtins.foldl' (_: 1) \"foo\" [ true ]"),
            "attempt to call something which is not a function but an integer: 1"
        );
        assert_eq!(
            eval("builtins.foldl' (a: b: a + b) 0 (builtins.genList (x: x) 100000)"),
            "4999950000"
        );
    }

    #[test]
    fn gen_list() {
        assert_eq!(eval("builtins.genList (x: x * 2) 5"), "[ 0 2 4 6 8 ]");
        assert_eq!(
            eval("builtins.length (builtins.genList (x: throw \"lazy\") 3)"),
            "3"
        );
        assert_eq!(
            error("builtins.genList false (-3)"),
            "cannot create list of size -3"
        );
        assert_eq!(
            error("builtins.genList (x: x + \"foo\") 2"),
            "cannot add a string to an integer"
        );
        assert!(
            error("builtins.genList (x: x) 9223372036854775807").starts_with("cannot create list")
        );
    }

    #[test]
    fn sort() {
        // From the Nix test suite (eval-okay-sort) and Nix 2.8.
        assert_eq!(
            eval("builtins.sort builtins.lessThan [ 483 249 526 147 42 77 ]"),
            "[ 42 77 147 249 483 526 ]"
        );
        assert_eq!(
            eval("builtins.sort (x: y: x.key < y.key) [ { key = 1; value = \"foo\"; } { key = 2; value = \"bar\"; } { key = 1; value = \"fnord\"; } ]"),
            "[ { key = 1; value = \"foo\"; } { key = 1; value = \"fnord\"; } { key = 2; value = \"bar\"; } ]"
        );
        assert_eq!(eval("builtins.sort (a: b: false) [ 3 1 2 ]"), "[ 3 1 2 ]");
        assert_eq!(
            eval("builtins.sort (a: b: true) [ 1 2 3 4 5 6 7 8 9 10 ]"),
            "[ 10 9 8 7 6 5 4 3 2 1 ]"
        );
        // An inconsistent comparator gives libstdc++'s answer rather than a panic.
        assert_eq!(
            eval("builtins.sort (a: b: builtins.lessThan (a + b) 7) (builtins.genList (x: x) 40)"),
            "[ 3 4 2 5 1 6 0 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 ]"
        );
        assert_eq!(
            error("builtins.sort (_: _: 1) [ \"foo\" \"bar\" ]"),
            "expected a Boolean but found an integer: 1"
        );
        assert_eq!(
            error("builtins.sort (a: b: a <= b) [ \"foo\" { } ]"),
            "cannot compare a string with a set; values are \"foo\" and { }"
        );
        assert_eq!(
            error("builtins.length (builtins.sort (a: b: true) [ 1 (throw \"a\") ])"),
            "a"
        );
    }
}
