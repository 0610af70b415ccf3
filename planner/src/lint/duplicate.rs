//! `duplicate-definition`: fragments of the inventory merged with `recursiveUpdate`
//! (`lib.recursiveUpdate a b`, or a fold of it over a list), where two fragments define the
//! same leaf under `instances` differently. `recursiveUpdate` keeps the later definition
//! and drops the earlier without a word, where the module system would have merged the two
//! (lists) or refused them (conflicting values).
//!
//! The evaluation only sees the merged result, so the rule reads the syntax of the clan's
//! Nix files (those the evaluation parsed). It reports only what is certain: fragments
//! that are attribute-set literals (inline, files they `import`, or `let` bindings of
//! either), and leaves whose values are literals on both sides (a list, a string, a number,
//! a path, `true`/`false`/`null`) or a literal set against a literal leaf. A computed
//! fragment or value could be a set that merges, and is left alone.

use super::locate::Files;
use super::syntax::{cast, static_name, syn};
use super::{Diagnostic, Location, Note, Severity};
use kith_eval::Eval;
use rnix::ast::{self, HasEntry};
use rnix::{SyntaxKind, SyntaxNode};
use std::collections::BTreeMap;

/// Nesting of `import`s and `let` names followed to find a fragment's literal.
const MAX_HOPS: usize = 8;

/// The diagnostics of every `recursiveUpdate` merge of inventory fragments in the clan's
/// Nix files that `ev` parsed.
pub(crate) fn definitions(ev: &Eval, files: &mut Files) -> Vec<Diagnostic> {
    let mut rels: Vec<String> = Vec::new();
    let mut id = 0;
    while let Some(source) = ev.sources.get(kith_eval::FileId(id)) {
        id += 1;
        if let kith_eval::Origin::File(p) = &source.origin {
            if let Some(rel) = files.relative(&p.to_string_lossy()) {
                if rel.ends_with(".nix") && !rels.contains(&rel) {
                    rels.push(rel);
                }
            }
        }
    }
    let mut out: Vec<Diagnostic> = Vec::new();
    for rel in rels {
        let Some(text) = files.text(&rel) else {
            continue;
        };
        if !text.contains("recursiveUpdate") {
            continue;
        }
        let text = text.to_string();
        let parse = rnix::Root::parse(&text);
        if !parse.errors().is_empty() {
            continue;
        }
        for node in parse.syntax().descendants() {
            let Some(merge) = merge_at(&node) else {
                continue;
            };
            let context = binding_path(&node);
            let mut fragments = Vec::new();
            for operand in &merge {
                let mut leaves = Leaves::default();
                if let Some((file, set, prefix)) = literal(files, &rel, operand, 0) {
                    leaves.collect(&file, &set, Vec::new());
                    leaves.select(&prefix);
                }
                fragments.push(leaves);
            }
            for d in dropped(&fragments, &context) {
                let call = files.location(
                    &rel,
                    node.text_range().start().into(),
                    node.text_range().end().into(),
                );
                let diagnostic = diagnostic(files, &d, call);
                if !out.contains(&diagnostic) {
                    out.push(diagnostic);
                }
            }
        }
    }
    out
}

/// The fragments `node` merges with `recursiveUpdate`, in order (a later one wins), if it
/// is such a merge: `recursiveUpdate a b` or `fold… recursiveUpdate init [ … ]`, as a whole
/// application (not a part of a longer one).
fn merge_at(node: &SyntaxNode) -> Option<Vec<ast::Expr>> {
    if node.kind() != SyntaxKind::NODE_APPLY {
        return None;
    }
    if let Some(parent) = node.parent() {
        if let Some(apply) = cast::<ast::Apply>(parent) {
            if apply.lambda().is_some_and(|l| syn(&l) == node) {
                return None;
            }
        }
    }
    merge_of(&cast::<ast::Expr>(node.clone())?)
}

/// The fragments the expression `e` merges with `recursiveUpdate`, in order, a merge among
/// them spliced in (`recursiveUpdate (recursiveUpdate a b) c` merges `a`, `b`, `c`).
fn merge_of(e: &ast::Expr) -> Option<Vec<ast::Expr>> {
    let mut args = Vec::new();
    let mut head = unparen(e);
    while let ast::Expr::Apply(apply) = head {
        args.push(apply.argument()?);
        head = unparen(&apply.lambda()?);
    }
    args.reverse();
    let name = callee(&head)?;
    let ops = match (name.as_str(), args.as_slice()) {
        ("recursiveUpdate", [a, b]) => vec![a.clone(), b.clone()],
        ("foldl'" | "foldl" | "foldr", [f, init, list])
            if callee(f).as_deref() == Some("recursiveUpdate") =>
        {
            let ast::Expr::List(list) = unparen(list) else {
                return None;
            };
            let mut ops: Vec<ast::Expr> = list.items().collect();
            let empty =
                matches!(unparen(init), ast::Expr::AttrSet(s) if s.entries().next().is_none());
            if !empty {
                // `foldl'` starts from the initial value; `foldr` ends with it, on top.
                if name == "foldr" {
                    ops.push(init.clone());
                } else {
                    ops.insert(0, init.clone());
                }
            }
            ops
        }
        _ => return None,
    };
    let mut out = Vec::new();
    for op in ops {
        match merge_of(&op) {
            Some(inner) => out.extend(inner),
            None => out.push(op),
        }
    }
    Some(out)
}

/// The name a callee ends with: `f` for `f`, `lib.f` and `builtins.f`.
fn callee(e: &ast::Expr) -> Option<String> {
    match unparen(e) {
        ast::Expr::Ident(i) => Some(i.ident_token()?.text().to_string()),
        ast::Expr::Select(s) if s.default_expr().is_none() => {
            let last = s.attrpath()?.attrs().last()?;
            static_name(&last)
        }
        _ => None,
    }
}

fn unparen(e: &ast::Expr) -> ast::Expr {
    let mut e = e.clone();
    while let ast::Expr::Paren(p) = &e {
        match p.expr() {
            Some(inner) => e = inner,
            None => break,
        }
    }
    e
}

/// The attribute path `node` is bound to through the attribute sets around it (`a.b` for
/// `{ a = { b = node; }; }`), stopping at anything else.
fn binding_path(node: &SyntaxNode) -> Vec<String> {
    let mut path = Vec::new();
    let mut cur = node.clone();
    while let Some(parent) = cur.parent() {
        match parent.kind() {
            SyntaxKind::NODE_PAREN => {}
            SyntaxKind::NODE_ATTRPATH_VALUE => {
                let Some(apv) = cast::<ast::AttrpathValue>(parent.clone()) else {
                    break;
                };
                if apv.value().is_none_or(|v| syn(&v) != &cur) {
                    break;
                }
                let Some(names) = apv
                    .attrpath()
                    .map(|p| {
                        p.attrs()
                            .map(|a| static_name(&a))
                            .collect::<Option<Vec<_>>>()
                    })
                    .and_then(|n| n)
                else {
                    break;
                };
                for n in names.into_iter().rev() {
                    path.push(n);
                }
                // The set holding the binding; a `let` ends the path.
                match parent.parent() {
                    Some(set) if set.kind() == SyntaxKind::NODE_ATTR_SET => cur = set,
                    _ => break,
                }
                continue;
            }
            _ => break,
        }
        cur = parent;
    }
    path.reverse();
    path
}

/// The attribute-set literal `e` is (in file `rel`), and the attribute path selected in it
/// (`core.instances`: `instances`), following parentheses, `let … in` and `with …;`
/// bodies, `import`s of the clan's files (applied to arguments or not, through the
/// function they hold), `let` bindings and selections.
fn literal(
    files: &mut Files,
    rel: &str,
    e: &ast::Expr,
    hops: usize,
) -> Option<(String, ast::AttrSet, Vec<String>)> {
    if hops > MAX_HOPS {
        return None;
    }
    match unparen(e) {
        ast::Expr::AttrSet(s) if s.rec_token().is_none() => Some((rel.to_string(), s, Vec::new())),
        ast::Expr::LetIn(l) => literal(files, rel, &l.body()?, hops + 1),
        ast::Expr::With(w) => literal(files, rel, &w.body()?, hops + 1),
        ast::Expr::Select(sel) if sel.default_expr().is_none() => {
            let path = sel
                .attrpath()?
                .attrs()
                .map(|a| static_name(&a))
                .collect::<Option<Vec<_>>>()?;
            let (file, set, mut prefix) = literal(files, rel, &sel.expr()?, hops + 1)?;
            prefix.extend(path);
            Some((file, set, prefix))
        }
        ast::Expr::Apply(apply) => {
            let mut head = unparen(&apply.lambda()?);
            let mut arg = apply.argument()?;
            // `import ./f.nix args`: the import is the head of the inner application.
            if let ast::Expr::Apply(inner) = &head {
                arg = inner.argument()?;
                head = unparen(&inner.lambda()?);
            }
            if callee(&head).as_deref() != Some("import") {
                return None;
            }
            let ast::Expr::PathRel(p) = unparen(&arg) else {
                return None;
            };
            let target = relative_path(rel, &syn(&p).text().to_string())?;
            let text = files.text(&target)?.to_string();
            let parse = rnix::Root::parse(&text);
            if !parse.errors().is_empty() {
                return None;
            }
            let mut body = parse.tree().expr()?;
            while let ast::Expr::Lambda(l) = unparen(&body) {
                body = l.body()?;
            }
            literal(files, &target, &body, hops + 1)
        }
        ast::Expr::Ident(i) => {
            let name = i.ident_token()?.text().to_string();
            let value = let_binding(syn(&i), &name)?;
            literal(files, rel, &value, hops + 1)
        }
        _ => None,
    }
}

/// The value `name` is bound to by the nearest `let` around `node` that binds it.
fn let_binding(node: &SyntaxNode, name: &str) -> Option<ast::Expr> {
    for anc in node.ancestors() {
        let Some(l) = cast::<ast::LetIn>(anc) else {
            continue;
        };
        for entry in l.entries() {
            if let ast::Entry::AttrpathValue(apv) = entry {
                let attrs: Vec<ast::Attr> = apv.attrpath()?.attrs().collect();
                if attrs.len() == 1 && static_name(&attrs[0]).as_deref() == Some(name) {
                    return apv.value();
                }
            }
        }
    }
    None
}

/// `./x.nix` (relative to the file `rel` is in) as a path relative to the clan, if it
/// stays inside it.
fn relative_path(rel: &str, literal: &str) -> Option<String> {
    let rest = literal.strip_prefix("./").or_else(|| {
        if literal.starts_with("../") {
            Some(literal)
        } else {
            None
        }
    })?;
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop();
    for c in rest.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    let mut path = parts.join("/");
    if !path.ends_with(".nix") {
        path.push_str("/default.nix");
    }
    Some(path)
}

/// What a fragment defines at a path.
#[derive(Clone)]
enum Value {
    /// A literal leaf (list, string, number, path, `true`/`false`/`null`), as written.
    Leaf(String),
    /// A set literal (its own leaves are listed separately).
    Set,
    /// Anything else: it might be a set, so nothing is said about it.
    Computed,
}

/// One definition of a fragment: its value and the key it is written at.
#[derive(Clone)]
struct Def {
    value: Value,
    file: String,
    start: usize,
    end: usize,
}

/// Every path a fragment defines.
#[derive(Default)]
struct Leaves {
    defs: BTreeMap<Vec<String>, Def>,
}

impl Leaves {
    fn collect(&mut self, file: &str, set: &ast::AttrSet, prefix: Vec<String>) {
        for entry in set.entries() {
            match entry {
                ast::Entry::AttrpathValue(apv) => {
                    let (Some(path), Some(value)) = (apv.attrpath(), apv.value()) else {
                        continue;
                    };
                    let Some(names) = path
                        .attrs()
                        .map(|a| static_name(&a))
                        .collect::<Option<Vec<_>>>()
                    else {
                        // A dynamic key: nothing is said about what it defines.
                        continue;
                    };
                    let range = syn(&path).text_range();
                    let mut full = prefix.clone();
                    for (k, n) in names.iter().enumerate() {
                        full.push(n.clone());
                        if k + 1 < names.len() {
                            self.define(&full, Value::Set, file, range);
                        }
                    }
                    match unparen(&value) {
                        ast::Expr::AttrSet(inner) if inner.rec_token().is_none() => {
                            self.define(&full, Value::Set, file, range);
                            self.collect(file, &inner, full);
                        }
                        v => {
                            let value = match v {
                                ast::Expr::List(_)
                                | ast::Expr::Str(_)
                                | ast::Expr::Literal(_)
                                | ast::Expr::PathRel(_)
                                | ast::Expr::PathAbs(_) => Value::Leaf(syn(&v).text().to_string()),
                                ast::Expr::Ident(i)
                                    if matches!(
                                        syn(&i).text().to_string().as_str(),
                                        "true" | "false" | "null"
                                    ) =>
                                {
                                    Value::Leaf(syn(&i).text().to_string())
                                }
                                _ => Value::Computed,
                            };
                            self.define(&full, value, file, range);
                        }
                    }
                }
                ast::Entry::Inherit(i) => {
                    for attr in i.attrs() {
                        if let Some(n) = static_name(&attr) {
                            let mut full = prefix.clone();
                            full.push(n);
                            self.define(&full, Value::Computed, file, syn(&attr).text_range());
                        }
                    }
                }
            }
        }
    }

    /// Keeps what is defined below `prefix`, relative to it (`core.instances`).
    fn select(&mut self, prefix: &[String]) {
        if prefix.is_empty() {
            return;
        }
        let defs = std::mem::take(&mut self.defs);
        self.defs = defs
            .into_iter()
            .filter(|(p, _)| p.len() > prefix.len() && p.starts_with(prefix))
            .map(|(p, d)| (p[prefix.len()..].to_vec(), d))
            .collect();
    }

    fn define(&mut self, path: &[String], value: Value, file: &str, range: rnix::TextRange) {
        // A set written in parts (`a.b = 1; a.c = 2;`) is one set: keep its first key.
        if matches!(value, Value::Set) && self.defs.contains_key(path) {
            return;
        }
        self.defs.insert(
            path.to_vec(),
            Def {
                value,
                file: file.to_string(),
                start: range.start().into(),
                end: range.end().into(),
            },
        );
    }
}

/// A definition `recursiveUpdate` drops, and the one that replaces it.
struct Dropped {
    path: Vec<String>,
    lost: Def,
    kept: Def,
}

/// What merging `fragments` in order drops under the inventory's `instances`, given the
/// attribute path the merge is bound to.
fn dropped(fragments: &[Leaves], context: &[String]) -> Vec<Dropped> {
    let mut out: Vec<Dropped> = Vec::new();
    for (i, earlier) in fragments.iter().enumerate() {
        for (path, lost) in &earlier.defs {
            let mut full = context.to_vec();
            full.extend(path.iter().cloned());
            if !under_instances(&full) {
                continue;
            }
            // The first later fragment that replaces it.
            let replaced = fragments[i + 1..].iter().find_map(|later| {
                let kept = later.defs.get(path)?;
                let drops = match (&lost.value, &kept.value) {
                    (Value::Leaf(a), Value::Leaf(b)) => a != b,
                    (Value::Leaf(_), Value::Set) | (Value::Set, Value::Leaf(_)) => true,
                    _ => false,
                };
                drops.then(|| kept.clone())
            });
            if let Some(kept) = replaced {
                // Below a set that is dropped whole, only the set is reported.
                if out.iter().any(|d| path.starts_with(&d.path)) {
                    continue;
                }
                out.push(Dropped {
                    path: full,
                    lost: lost.clone(),
                    kept,
                });
            }
        }
    }
    out
}

/// Whether `path` names something inside one instance of the inventory.
fn under_instances(path: &[String]) -> bool {
    path.iter()
        .position(|p| p == "instances")
        .is_some_and(|i| i + 1 < path.len() && path[..i].iter().any(|p| p == "inventory"))
}

fn diagnostic(files: &mut Files, d: &Dropped, call: Location) -> Diagnostic {
    let from = d.path.iter().position(|p| p == "instances").unwrap_or(0);
    let shown = d.path[from..].join(".");
    let kept = files.location(&d.kept.file, d.kept.start, d.kept.end);
    let at = format!("{}:{}", kept.file, kept.range.start.line);
    Diagnostic {
        code: "duplicate-definition",
        severity: Severity::Warning,
        message: format!(
            "`{shown}` is defined in two fragments merged with `recursiveUpdate`: this definition is silently replaced by the one at {at}"
        ),
        location: files.location(&d.lost.file, d.lost.start, d.lost.end),
        notes: vec![
            Note {
                message: "the definition `recursiveUpdate` keeps".into(),
                location: Some(kept),
            },
            Note {
                message: "the fragments are merged here; the module system (`lib.mkMerge`, or `imports`) would merge or refuse both definitions instead".into(),
                location: Some(call),
            },
        ],
        fixes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_imports_stay_in_the_clan() {
        assert_eq!(
            relative_path("a/b.nix", "./c.nix").as_deref(),
            Some("a/c.nix")
        );
        assert_eq!(
            relative_path("a/b.nix", "../c").as_deref(),
            Some("c/default.nix")
        );
        assert_eq!(relative_path("b.nix", "../c.nix"), None);
        assert_eq!(relative_path("b.nix", "/etc/c.nix"), None);
    }

    #[test]
    fn only_paths_inside_an_instance_count() {
        let p = |s: &str| s.split('.').map(String::from).collect::<Vec<_>>();
        assert!(under_instances(&p("inventory.instances.a.roles")));
        assert!(under_instances(&p("clan.inventory.instances.a")));
        assert!(!under_instances(&p("inventory.instances")));
        assert!(!under_instances(&p("inventory.machines.a.tags")));
        assert!(!under_instances(&p("instances.a.roles")));
    }
}
