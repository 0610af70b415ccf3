//! Bindings of attribute sets and `let`: collecting them from the syntax tree with Nix's
//! merging of nested attribute paths (`a.b = 1; a.c = 2;`), then lowering them.
//!
//! Collection happens before any value is lowered, because the names a `rec` set or `let`
//! binds (its frame layout) are only known once all paths have been merged.

use super::{syn, Lowerer};
use crate::error::{ErrorKind, EvalError, Result};
use crate::ir::{AttrsDef, Binding, BindingValue, Expr, ExprRef};
use crate::source::Span;
use crate::symbol::Symbol;
use rnix::ast::{self, HasEntry};
use std::collections::HashMap;
use std::rc::Rc;

/// An attribute set (or `let`) under construction.
pub(super) struct SetBuilder {
    pub(super) recursive: bool,
    entries: Vec<Entry>,
    index: HashMap<Symbol, usize>,
    pub(super) dynamic: Vec<DynEntry>,
    inherit_sources: Vec<ast::Expr>,
    pub(super) span: Span,
}

/// A static attribute.
struct Entry {
    name: Symbol,
    /// Where the attribute is defined (start of its attribute path, or the inherited name).
    span: Span,
    value: EntryValue,
}

/// The value of an attribute, still as syntax.
enum EntryValue {
    Expr(ast::Expr),
    /// A set literal or a set made by an attribute path; other definitions merge into it.
    Set(SetBuilder),
    /// `inherit x;` (the identifier's span).
    Inherit(Span),
    /// `inherit (e) x;` with the index of `e` in `inherit_sources`.
    InheritFrom(usize),
}

/// A `${name} = value;` attribute.
pub(super) struct DynEntry {
    name: ast::Attr,
    value: EntryValue,
    span: Span,
}

/// One component of an attribute path.
pub(super) enum Comp {
    Static(Symbol),
    Dynamic(ast::Attr),
}

/// A lowered set's parts.
pub(super) struct LoweredSet {
    pub(super) bindings: Vec<Binding>,
    pub(super) dynamic: Vec<(ExprRef, ExprRef, Span)>,
    pub(super) inherit_sources: Vec<ExprRef>,
}

impl SetBuilder {
    fn new(recursive: bool, span: Span) -> SetBuilder {
        SetBuilder {
            recursive,
            entries: Vec::new(),
            index: HashMap::new(),
            dynamic: Vec::new(),
            inherit_sources: Vec::new(),
            span,
        }
    }

    fn push(&mut self, entry: Entry) {
        self.index.insert(entry.name, self.entries.len());
        self.entries.push(entry);
    }
}

impl Lowerer<'_> {
    /// Collects the bindings of a set literal, `let` or old-style `let { … }`.
    pub(super) fn collect_set(
        &mut self,
        node: &impl HasEntry,
        recursive: bool,
        span: Span,
    ) -> Result<SetBuilder> {
        stacker::maybe_grow(super::RED_ZONE, super::STACK_GROWTH, || {
            let mut set = SetBuilder::new(recursive, span);
            for entry in node.entries() {
                match entry {
                    ast::Entry::Inherit(inherit) => self.collect_inherit(&mut set, &inherit)?,
                    ast::Entry::AttrpathValue(av) => self.collect_binding(&mut set, &av)?,
                }
            }
            Ok(set)
        })
    }

    fn collect_inherit(&mut self, set: &mut SetBuilder, inherit: &ast::Inherit) -> Result<()> {
        let source = match inherit.from() {
            Some(from) => {
                let expr = self.need(from.expr(), syn(&from))?;
                set.inherit_sources.push(expr);
                Some(set.inherit_sources.len() - 1)
            }
            None => None,
        };
        for attr in inherit.attrs() {
            let span = self.span(syn(&attr));
            let name = match self.attr_comp(&attr)? {
                Comp::Static(name) => name,
                Comp::Dynamic(_) => {
                    return Err(self.error(
                        ErrorKind::Parse,
                        "dynamic attributes not allowed in inherit",
                        span,
                    ))
                }
            };
            if let Some(&i) = set.index.get(&name) {
                return Err(self.dup_attr(name.as_str(), span, set.entries[i].span));
            }
            let value = match source {
                Some(s) => EntryValue::InheritFrom(s),
                None => EntryValue::Inherit(span),
            };
            set.push(Entry { name, span, value });
        }
        Ok(())
    }

    fn collect_binding(&mut self, set: &mut SetBuilder, av: &ast::AttrpathValue) -> Result<()> {
        let path = self.need(av.attrpath(), syn(av))?;
        let attrs: Vec<ast::Attr> = path.attrs().collect();
        let first = self.need(attrs.first(), syn(&path))?;
        let span = Span {
            file: self.file,
            start: u32::from(syn(&path).text_range().start()),
            end: u32::from(syn(first).text_range().end()),
        };
        let comps = attrs
            .iter()
            .map(|a| self.attr_comp(a))
            .collect::<Result<Vec<_>>>()?;
        let value = self.need(av.value(), syn(av))?;
        let value = self.entry_value(value)?;
        self.add_attr(set, &comps, value, span)
    }

    /// A binding's value: set literals become mergeable [`EntryValue::Set`]s.
    fn entry_value(&mut self, expr: ast::Expr) -> Result<EntryValue> {
        match super::unparen(expr.clone()) {
            ast::Expr::AttrSet(set) => {
                let span = self.span(syn(&set));
                let recursive = set.rec_token().is_some();
                Ok(EntryValue::Set(self.collect_set(&set, recursive, span)?))
            }
            _ => Ok(EntryValue::Expr(expr)),
        }
    }

    /// Nix's `ParserState::addAttr`: walks/creates nested sets along `path`.
    fn add_attr(
        &mut self,
        set: &mut SetBuilder,
        path: &[Comp],
        value: EntryValue,
        span: Span,
    ) -> Result<()> {
        let Some((last, prefix)) = path.split_last() else {
            return Ok(());
        };
        let mut names: Vec<String> = Vec::with_capacity(path.len());
        let mut cur = set;
        for comp in prefix {
            cur = match comp {
                Comp::Static(name) => {
                    names.push(name.as_str().to_string());
                    match cur.index.get(name).copied() {
                        Some(i) => {
                            let prev = cur.entries[i].span;
                            match &mut cur.entries[i].value {
                                EntryValue::Set(nested) => nested,
                                _ => return Err(self.dup_attr(&names.join("."), span, prev)),
                            }
                        }
                        None => {
                            let nested = SetBuilder::new(false, span);
                            let value = EntryValue::Set(nested);
                            cur.push(Entry {
                                name: *name,
                                span,
                                value,
                            });
                            match cur.entries.last_mut().map(|e| &mut e.value) {
                                Some(EntryValue::Set(nested)) => nested,
                                _ => unreachable!("just pushed a set"),
                            }
                        }
                    }
                }
                Comp::Dynamic(attr) => {
                    let value = EntryValue::Set(SetBuilder::new(false, span));
                    cur.dynamic.push(DynEntry {
                        name: attr.clone(),
                        value,
                        span,
                    });
                    match cur.dynamic.last_mut().map(|e| &mut e.value) {
                        Some(EntryValue::Set(nested)) => nested,
                        _ => unreachable!("just pushed a set"),
                    }
                }
            };
        }
        match last {
            Comp::Static(name) => {
                names.push(name.as_str().to_string());
                self.insert_static(
                    cur,
                    &mut names,
                    Entry {
                        name: *name,
                        span,
                        value,
                    },
                )
            }
            Comp::Dynamic(attr) => {
                cur.dynamic.push(DynEntry {
                    name: attr.clone(),
                    value,
                    span,
                });
                Ok(())
            }
        }
    }

    /// Adds a static attribute; when both the existing and the new value are sets, merges
    /// the new one into the existing one (recursively), as Nix does.
    fn insert_static(
        &mut self,
        set: &mut SetBuilder,
        path: &mut Vec<String>,
        entry: Entry,
    ) -> Result<()> {
        let Some(i) = set.index.get(&entry.name).copied() else {
            set.push(entry);
            return Ok(());
        };
        let prev = set.entries[i].span;
        match (&mut set.entries[i].value, entry.value) {
            (EntryValue::Set(existing), EntryValue::Set(new)) => self.merge(existing, new, path),
            _ => Err(self.dup_attr(&path.join("."), entry.span, prev)),
        }
    }

    fn merge(
        &mut self,
        into: &mut SetBuilder,
        from: SetBuilder,
        path: &mut Vec<String>,
    ) -> Result<()> {
        let offset = into.inherit_sources.len();
        for mut entry in from.entries {
            if let EntryValue::InheritFrom(source) = &mut entry.value {
                *source += offset;
            }
            path.push(entry.name.as_str().to_string());
            self.insert_static(into, path, entry)?;
            path.pop();
        }
        into.dynamic.extend(from.dynamic);
        into.inherit_sources.extend(from.inherit_sources);
        Ok(())
    }

    fn dup_attr(&self, path: &str, span: Span, prev: Span) -> Box<EvalError> {
        let at = match self.sources.describe(prev) {
            Some((file, line, col)) => format!("{file}:{line}:{col}"),
            None => "«unknown»".into(),
        };
        self.error(
            ErrorKind::Parse,
            format!("attribute '{path}' already defined at {at}"),
            span,
        )
    }

    /// Lowers collected bindings. For a recursive set this pushes the set's frame (slot `i`
    /// = `bindings[i]`) and leaves it pushed; the caller pops it.
    pub(super) fn lower_bindings(&mut self, set: SetBuilder) -> Result<LoweredSet> {
        // `inherit x;` resolves outside the new frame, so resolve those first.
        let mut inherited: Vec<Option<ExprRef>> = Vec::with_capacity(set.entries.len());
        for entry in &set.entries {
            inherited.push(match entry.value {
                EntryValue::Inherit(span) => Some(self.variable(entry.name, span)?),
                _ => None,
            });
        }
        if set.recursive {
            self.scopes
                .push_frame(set.entries.iter().map(|e| e.name).collect());
        }
        let mut bindings = Vec::with_capacity(set.entries.len());
        for (entry, inherited) in set.entries.into_iter().zip(inherited) {
            let value = match (entry.value, inherited) {
                (_, Some(var)) => BindingValue::Inherit(var),
                (EntryValue::InheritFrom(source), None) => BindingValue::InheritFrom { source },
                (value, None) => BindingValue::Expr(self.entry_expr(value, Some(entry.name))?),
            };
            bindings.push(Binding {
                name: entry.name,
                value,
                span: entry.span,
            });
        }
        let mut dynamic = Vec::with_capacity(set.dynamic.len());
        for d in set.dynamic {
            let name = self.dynamic_name(&d.name)?;
            let value = self.entry_expr(d.value, None)?;
            dynamic.push((name, value, d.span));
        }
        let inherit_sources = set
            .inherit_sources
            .into_iter()
            .map(|e| self.expr(e))
            .collect::<Result<Vec<_>>>()?;
        Ok(LoweredSet {
            bindings,
            dynamic,
            inherit_sources,
        })
    }

    fn entry_expr(&mut self, value: EntryValue, name: Option<Symbol>) -> Result<ExprRef> {
        match value {
            EntryValue::Expr(e) => self.named_expr(e, name),
            EntryValue::Set(set) => self.lower_set(set),
            // Only static entries can be inherited; handled by the caller.
            EntryValue::Inherit(_) | EntryValue::InheritFrom(_) => Err(EvalError::of_kind(
                ErrorKind::Parse,
                "internal error: an inherited attribute without a name",
            )),
        }
    }

    /// Lowers a collected set into an `Expr::Attrs`.
    pub(super) fn lower_set(&mut self, set: SetBuilder) -> Result<ExprRef> {
        stacker::maybe_grow(super::RED_ZONE, super::STACK_GROWTH, || {
            let (recursive, span) = (set.recursive, set.span);
            let lowered = self.lower_bindings(set)?;
            if recursive {
                self.scopes.pop();
            }
            Ok(Rc::new(Expr::Attrs(Rc::new(AttrsDef {
                recursive,
                bindings: lowered.bindings,
                dynamic: lowered.dynamic,
                inherit_sources: lowered.inherit_sources,
                span,
                symbol_order: Default::default(),
            }))))
        })
    }
}
