//! Lowering: rnix's syntax tree → the scope-resolved [`crate::ir`].
//!
//! Variables are resolved to frame slots here; the static errors Nix reports while parsing
//! (undefined variables, duplicate attributes or formals, dynamic attributes in `let`,
//! invalid integers) are reported here too. Nested attribute paths are merged like Nix's
//! parser does (see `lower/attrs.rs`). Lowering recurses once per nesting level, on a stack grown
//! on demand with `stacker`.

mod attrs;
pub mod lints;
mod paths;
mod scope;
mod strings;

use crate::error::{ErrorKind, EvalError, Result};
use crate::ir::{AttrName, BinOp, Expr, ExprRef, Formal, Lambda, LetDef, Param};
use crate::source::{FileId, Sources, Span};
use crate::symbol::Symbol;
use crate::value::Value;
use attrs::Comp;
use lints::{LintLevel, Lints};
use rnix::ast::{self, BinOpKind, UnaryOpKind};
use rnix::{NodeOrToken, SyntaxKind, SyntaxNode, TextRange};
use scope::{Resolved, Scopes};
use std::path::PathBuf;
use std::rc::Rc;
use strings::Part;

/// Grow the stack when less than this is left…
const RED_ZONE: usize = 64 * 1024;
/// …by this much.
const STACK_GROWTH: usize = 4 * 1024 * 1024;

/// Lowers the parsed contents of `file` (see [`crate::parse::parse`]) into an expression.
///
/// `is_global` says whether a name is a builtin visible at top level (`true`, `map`, …);
/// such names are the outermost static scope and win over `with`. With `outer_with`, the
/// file is lowered inside an implicit `with` frame (`scopedImport`): the expression must
/// be evaluated in an environment whose innermost frame is that `with` frame, and names
/// not bound statically nor global become [`Expr::WithVar`].
pub fn lower(
    sources: &Sources,
    file: FileId,
    root: &rnix::Root,
    is_global: &dyn Fn(Symbol) -> bool,
    outer_with: bool,
    lints: Lints,
) -> Result<ExprRef> {
    let source = sources
        .get(file)
        .ok_or_else(|| EvalError::of_kind(ErrorKind::Parse, "internal error: unknown source"))?;
    let mut lowerer = Lowerer {
        sources,
        file,
        src: &source.text,
        base_dir: source.base_dir(),
        is_global,
        scopes: Scopes::default(),
        lints,
    };
    if outer_with {
        lowerer.scopes.push_with();
    }
    let expr = lowerer.need(root.expr(), syn(root))?;
    lowerer.expr(expr)
}

/// State of one file's lowering.
struct Lowerer<'a> {
    /// Literal lints in force.
    lints: Lints,
    sources: &'a Sources,
    file: FileId,
    /// The original source text (string contents are read from it).
    src: &'a str,
    base_dir: PathBuf,
    is_global: &'a dyn Fn(Symbol) -> bool,
    scopes: Scopes,
}

/// The syntax node of a typed node.
fn syn<N: ast::AstNode>(node: &N) -> &SyntaxNode {
    node.syntax()
}

/// Casts a syntax node to a typed node.
fn cast<N: ast::AstNode>(node: SyntaxNode) -> Option<N> {
    N::cast(node)
}

/// Strips parentheses (Nix's parser makes no node for them).
fn unparen(mut expr: ast::Expr) -> ast::Expr {
    while let ast::Expr::Paren(p) = &expr {
        match p.expr() {
            Some(inner) => expr = inner,
            None => break,
        }
    }
    expr
}

fn rc(e: Expr) -> Result<ExprRef> {
    Ok(Rc::new(e))
}

impl<'a> Lowerer<'a> {
    fn span(&self, node: &SyntaxNode) -> Span {
        self.span_of(node.text_range())
    }

    fn span_of(&self, range: TextRange) -> Span {
        Span {
            file: self.file,
            start: u32::from(range.start()),
            end: u32::from(range.end()),
        }
    }

    /// The original source text of `range`.
    fn text(&self, range: TextRange) -> &'a str {
        let src: &'a str = self.src;
        src.get(usize::from(range.start())..usize::from(range.end()))
            .unwrap_or("")
    }

    fn error(&self, kind: ErrorKind, message: impl Into<String>, span: Span) -> Box<EvalError> {
        let mut e = EvalError::of_kind(kind, message);
        e.span = span;
        e
    }

    /// A child rnix should have produced for a tree without errors.
    fn need<T>(&self, child: Option<T>, parent: &SyntaxNode) -> Result<T> {
        child.ok_or_else(|| {
            self.error(
                ErrorKind::Parse,
                "syntax error, incomplete expression",
                self.span(parent),
            )
        })
    }

    /// Lowers an expression.
    fn expr(&mut self, expr: ast::Expr) -> Result<ExprRef> {
        stacker::maybe_grow(RED_ZONE, STACK_GROWTH, || self.expr_inner(expr))
    }

    /// Lowers a binding's value; a lambda gets the binding's name, and so does a lambda
    /// that is its body (`f = a: b: …` names both), as in Nix.
    fn named_expr(&mut self, expr: ast::Expr, name: Option<Symbol>) -> Result<ExprRef> {
        match unparen(expr.clone()) {
            ast::Expr::Lambda(l) if name.is_some() => {
                stacker::maybe_grow(RED_ZONE, STACK_GROWTH, || self.lambda(&l, name))
            }
            _ => self.expr(expr),
        }
    }

    fn expr_inner(&mut self, expr: ast::Expr) -> Result<ExprRef> {
        let span = self.span(syn(&expr));
        match expr {
            ast::Expr::Apply(a) => self.apply(a, span),
            ast::Expr::Assert(a) => {
                let cond = self.expr(self.need(a.condition(), syn(&a))?)?;
                let body = self.expr(self.need(a.body(), syn(&a))?)?;
                rc(Expr::Assert { cond, body, span })
            }
            ast::Expr::IfElse(i) => {
                let cond = self.expr(self.need(i.condition(), syn(&i))?)?;
                let then = self.expr(self.need(i.body(), syn(&i))?)?;
                let else_ = self.expr(self.need(i.else_body(), syn(&i))?)?;
                rc(Expr::If {
                    cond,
                    then,
                    else_,
                    span,
                })
            }
            ast::Expr::Select(s) => {
                let subject = self.expr(self.need(s.expr(), syn(&s))?)?;
                let path = self.attr_path(self.need(s.attrpath(), syn(&s))?)?;
                let default = s.default_expr().map(|d| self.expr(d)).transpose()?;
                rc(Expr::Select {
                    expr: subject,
                    path: path.into(),
                    default,
                    span,
                })
            }
            ast::Expr::HasAttr(h) => {
                let subject = self.expr(self.need(h.expr(), syn(&h))?)?;
                let path = self.attr_path(self.need(h.attrpath(), syn(&h))?)?;
                rc(Expr::HasAttr {
                    expr: subject,
                    path,
                    span,
                })
            }
            ast::Expr::Str(s) => self.string(&s),
            ast::Expr::PathAbs(_) | ast::Expr::PathRel(_) | ast::Expr::PathHome(_) => {
                self.path(syn(&expr), span)
            }
            ast::Expr::PathSearch(p) => {
                let text = self.text(syn(&p).text_range());
                let inner = text.trim_start_matches('<').trim_end_matches('>');
                self.search_path(inner, span)
            }
            ast::Expr::Literal(l) => self.literal(&l, span),
            ast::Expr::Lambda(l) => self.lambda(&l, None),
            ast::Expr::LegacyLet(l) => self.legacy_let(&l, span),
            ast::Expr::LetIn(l) => self.let_in(&l, span),
            ast::Expr::List(l) => {
                let items = l
                    .items()
                    .map(|e| self.expr(e))
                    .collect::<Result<Vec<_>>>()?;
                if items.is_empty() {
                    // `[ ]` is a constant, as in Nix (2.26 prints it as `[ ]` even where
                    // other literals are unevaluated thunks).
                    return rc(Expr::Const(Value::list(Vec::new()), span));
                }
                rc(Expr::List(items, span))
            }
            ast::Expr::BinOp(b) => self.bin_op(&b, span),
            ast::Expr::Paren(p) => self.expr(self.need(p.expr(), syn(&p))?),
            ast::Expr::Root(r) => self.expr(self.need(r.expr(), syn(&r))?),
            ast::Expr::AttrSet(s) => {
                let set = self.collect_set(&s, s.rec_token().is_some(), span)?;
                self.lower_set(set)
            }
            ast::Expr::UnaryOp(u) => {
                let operand = self.expr(self.need(u.expr(), syn(&u))?)?;
                match u.operator() {
                    Some(UnaryOpKind::Invert) => rc(Expr::Not(operand, span)),
                    _ => rc(Expr::Neg(operand, span)),
                }
            }
            ast::Expr::Ident(i) => {
                let name = self.ident_name(&i);
                self.variable(name, span)
            }
            ast::Expr::With(w) => {
                let attrs = self.expr(self.need(w.namespace(), syn(&w))?)?;
                let body = self.need(w.body(), syn(&w))?;
                self.scopes.push_with();
                let body = self.expr(body);
                self.scopes.pop();
                rc(Expr::With {
                    attrs,
                    body: body?,
                    span,
                })
            }
            ast::Expr::CurPos(_) => rc(Expr::CurPos(span)),
            ast::Expr::Error(_) => Err(self.error(ErrorKind::Parse, "syntax error", span)),
        }
    }

    fn ident_name(&self, ident: &ast::Ident) -> Symbol {
        Symbol::new(self.text(syn(ident).text_range()).trim())
    }

    /// A variable reference in the current scope.
    fn variable(&mut self, name: Symbol, span: Span) -> Result<ExprRef> {
        match self.scopes.resolve(name, self.is_global) {
            Resolved::Var { depth, slot } => rc(Expr::Var {
                depth,
                slot,
                name,
                span,
            }),
            Resolved::Global => rc(Expr::Global(name, span)),
            Resolved::With => rc(Expr::WithVar(name, span)),
            Resolved::Undefined => Err(self.error(
                ErrorKind::Eval,
                format!("undefined variable '{name}'"),
                span,
            )),
        }
    }

    /// Reports a lint: a warning on stderr, or an error at `span` when fatal.
    fn lint(&self, found: Option<(LintLevel, String)>, span: Span) -> Result<()> {
        match found {
            Some((LintLevel::Fatal, msg)) => Err(self.error(ErrorKind::Parse, msg, span)),
            Some((_, msg)) => {
                crate::error::eprint_line(&format!("warning: {msg}"));
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// `<p>` is `__findFile __nixPath "p"`, both names resolved in scope as Nix does (so a
    /// local `__nixPath` changes the lookup).
    fn search_path(&mut self, lookup: &str, span: Span) -> Result<ExprRef> {
        let find = self.variable(Symbol::new("__findFile"), span)?;
        let path = self.variable(Symbol::new("__nixPath"), span)?;
        let lookup = rc(Expr::Const(crate::value::Value::string(lookup), span))?;
        rc(Expr::Call {
            func: find,
            args: vec![path, lookup],
            span,
        })
    }

    /// `f a b …` flattened into one call.
    fn apply(&mut self, apply: ast::Apply, span: Span) -> Result<ExprRef> {
        let mut args = Vec::new();
        let mut func = ast::Expr::Apply(apply);
        while let ast::Expr::Apply(a) = &func {
            args.push(self.need(a.argument(), syn(a))?);
            func = self.need(a.lambda(), syn(a))?;
        }
        let func = self.expr(func)?;
        let args = args
            .into_iter()
            .rev()
            .map(|a| self.expr(a))
            .collect::<Result<Vec<_>>>()?;
        rc(Expr::Call { func, args, span })
    }

    fn bin_op(&mut self, b: &ast::BinOp, span: Span) -> Result<ExprRef> {
        let kind = self.need(b.operator(), syn(b))?;
        let lhs = self.expr(self.need(b.lhs(), syn(b))?)?;
        let rhs = self.expr(self.need(b.rhs(), syn(b))?)?;
        let op = match kind {
            BinOpKind::Concat => BinOp::Concat,
            BinOpKind::Update => BinOp::Update,
            BinOpKind::Add => BinOp::Add,
            BinOpKind::Sub => BinOp::Sub,
            BinOpKind::Mul => BinOp::Mul,
            BinOpKind::Div => BinOp::Div,
            BinOpKind::And => BinOp::And,
            BinOpKind::Equal => BinOp::Eq,
            BinOpKind::Implication => BinOp::Implies,
            BinOpKind::Less => BinOp::Lt,
            BinOpKind::LessOrEq => BinOp::Le,
            BinOpKind::More => BinOp::Gt,
            BinOpKind::MoreOrEq => BinOp::Ge,
            BinOpKind::NotEqual => BinOp::NotEq,
            BinOpKind::Or => BinOp::Or,
            BinOpKind::PipeRight => BinOp::PipeRight,
            BinOpKind::PipeLeft => BinOp::PipeLeft,
        };
        // Nix reports the operators it turns into builtin calls at the operator itself.
        let span = match op {
            BinOp::Sub
            | BinOp::Mul
            | BinOp::Div
            | BinOp::Lt
            | BinOp::Le
            | BinOp::Gt
            | BinOp::Ge => operator_token(syn(b))
                .map(|t| self.span_of(t))
                .unwrap_or(span),
            _ => span,
        };
        rc(Expr::Binary { op, lhs, rhs, span })
    }

    fn literal(&mut self, lit: &ast::Literal, span: Span) -> Result<ExprRef> {
        let text = self.text(syn(lit).text_range()).trim();
        let value = match lit.kind() {
            ast::LiteralKind::Integer(_) => match text.parse::<i64>() {
                Ok(n) => Value::Int(n),
                Err(_) => {
                    let msg = format!("invalid integer '{text}'");
                    return Err(self.error(ErrorKind::Parse, msg, span));
                }
            },
            ast::LiteralKind::Float(_) => match text.parse::<f64>() {
                Ok(f) => Value::Float(f),
                Err(_) => {
                    let msg = format!("invalid float '{text}'");
                    return Err(self.error(ErrorKind::Parse, msg, span));
                }
            },
            ast::LiteralKind::Uri(_) => {
                self.lint(lints::url_literal(&self.lints, text), span)?;
                Value::string(text)
            }
        };
        rc(Expr::Const(value, span))
    }

    fn lambda(&mut self, l: &ast::Lambda, name: Option<Symbol>) -> Result<ExprRef> {
        let span = self.span(syn(l));
        let body = self.need(l.body(), syn(l))?;
        let (param, body) = match self.need(l.param(), syn(l))? {
            ast::Param::IdentParam(p) => {
                let ident = self.need(p.ident(), syn(&p))?;
                let arg = self.ident_name(&ident);
                self.scopes.push_frame(vec![arg]);
                let body = self.named_expr(body, name);
                self.scopes.pop();
                (Param::Ident(arg), body?)
            }
            ast::Param::Pattern(p) => self.pattern(&p, body, span, name)?,
        };
        rc(Expr::Lambda(Rc::new(Lambda {
            name,
            param,
            body,
            span,
        })))
    }

    /// A `{ a, b ? d, ... } @ x` pattern and the body it scopes over.
    fn pattern(
        &mut self,
        p: &ast::Pattern,
        body: ast::Expr,
        span: Span,
        name: Option<Symbol>,
    ) -> Result<(Param, ExprRef)> {
        let mut names: Vec<Symbol> = Vec::new();
        let mut entries = Vec::new();
        let mut duplicate: Option<(usize, Span)> = None;
        for entry in p.pat_entries() {
            let ident = self.need(entry.ident(), syn(&entry))?;
            let name = self.ident_name(&ident);
            let fspan = self.span(syn(&ident));
            if let Some(first) = names.iter().position(|n| *n == name) {
                if duplicate.is_none_or(|(f, _)| first < f) {
                    duplicate = Some((first, fspan));
                }
            }
            names.push(name);
            entries.push((name, entry.default(), fspan));
        }
        if let Some((first, dspan)) = duplicate {
            let msg = format!("duplicate formal function argument '{}'", names[first]);
            return Err(self.error(ErrorKind::Parse, msg, dspan));
        }
        let at = match p.pat_bind() {
            Some(bind) => Some(self.ident_name(&self.need(bind.ident(), syn(&bind))?)),
            None => None,
        };
        if let Some(at) = at {
            if names.contains(&at) {
                let msg = format!("duplicate formal function argument '{at}'");
                return Err(self.error(ErrorKind::Parse, msg, span));
            }
            names.push(at);
        }
        self.scopes.push_frame(names);
        let result = self.pattern_body(entries, body, name);
        self.scopes.pop();
        let (formals, body) = result?;
        let ellipsis = p.ellipsis_token().is_some();
        Ok((
            Param::Pattern {
                formals,
                ellipsis,
                at,
            },
            body,
        ))
    }

    fn pattern_body(
        &mut self,
        entries: Vec<(Symbol, Option<ast::Expr>, Span)>,
        body: ast::Expr,
        name: Option<Symbol>,
    ) -> Result<(Vec<Formal>, ExprRef)> {
        let mut formals = Vec::with_capacity(entries.len());
        for (name, default, span) in entries {
            let default = default.map(|d| self.expr(d)).transpose()?;
            formals.push(Formal {
                name,
                default,
                span,
            });
        }
        Ok((formals, self.named_expr(body, name)?))
    }

    fn let_in(&mut self, l: &ast::LetIn, span: Span) -> Result<ExprRef> {
        let set = self.collect_set(l, true, span)?;
        if !set.dynamic.is_empty() {
            let msg = "dynamic attributes not allowed in let";
            return Err(self.error(ErrorKind::Parse, msg, span));
        }
        let body = self.need(l.body(), syn(l))?;
        let lowered = self.lower_bindings(set);
        let body = lowered.and_then(|lowered| Ok((lowered, self.expr(body)?)));
        self.scopes.pop();
        let (lowered, body) = body?;
        rc(Expr::Let(Box::new(LetDef {
            bindings: lowered.bindings,
            inherit_sources: lowered.inherit_sources,
            body,
            span,
        })))
    }

    /// `let { …; body = …; }`: the `body` attribute of a recursive set.
    fn legacy_let(&mut self, l: &ast::LegacyLet, span: Span) -> Result<ExprRef> {
        let set = self.collect_set(l, true, span)?;
        let set = self.lower_set(set)?;
        let path = Box::new([AttrName::Static(Symbol::new("body"))]);
        rc(Expr::Select {
            expr: set,
            path,
            default: None,
            span,
        })
    }

    /// One attribute-path component: static when it is an identifier, a string without
    /// interpolation, or `${"string"}`.
    fn attr_comp(&mut self, attr: &ast::Attr) -> Result<Comp> {
        Ok(match attr {
            ast::Attr::Ident(i) => Comp::Static(self.ident_name(i)),
            ast::Attr::Str(s) => match self.static_string(s) {
                Some(text) => Comp::Static(Symbol::new(&text)),
                None => Comp::Dynamic(attr.clone()),
            },
            ast::Attr::Dynamic(d) => {
                let inner = d.expr().map(unparen);
                match inner.as_ref().and_then(|e| match e {
                    ast::Expr::Str(s) => self.static_string(s),
                    _ => None,
                }) {
                    Some(text) => Comp::Static(Symbol::new(&text)),
                    None => Comp::Dynamic(attr.clone()),
                }
            }
        })
    }

    /// The expression computing a dynamic attribute name.
    fn dynamic_name(&mut self, attr: &ast::Attr) -> Result<ExprRef> {
        match attr {
            ast::Attr::Ident(i) => rc(Expr::Const(
                Value::string_encoded(self.ident_name(i).as_str()),
                self.span(syn(i)),
            )),
            ast::Attr::Str(s) => self.string(s),
            ast::Attr::Dynamic(d) => self.expr(self.need(d.expr(), syn(d))?),
        }
    }

    fn attr_path(&mut self, path: ast::Attrpath) -> Result<Vec<AttrName>> {
        let mut out = Vec::new();
        for attr in path.attrs() {
            out.push(match self.attr_comp(&attr)? {
                Comp::Static(name) => AttrName::Static(name),
                Comp::Dynamic(attr) => AttrName::Dynamic(self.dynamic_name(&attr)?),
            });
        }
        Ok(out)
    }

    /// The processed parts of a string (escapes and indentation handled), with
    /// interpolations still as syntax.
    fn processed_string(&self, s: &ast::Str) -> Vec<Part<String, ast::Interpol>> {
        let mut multiline = false;
        let mut parts: Vec<Part<TextRange, ast::Interpol>> = Vec::new();
        for child in syn(s).children_with_tokens() {
            match child {
                NodeOrToken::Token(t) if t.kind() == SyntaxKind::TOKEN_STRING_START => {
                    multiline = t.text() == "''";
                }
                NodeOrToken::Token(t) if t.kind() == SyntaxKind::TOKEN_STRING_CONTENT => {
                    parts.push(Part::Text(t.text_range()));
                }
                NodeOrToken::Node(n) => parts.extend(cast::<ast::Interpol>(n).map(Part::Interp)),
                NodeOrToken::Token(_) => {}
            }
        }
        let raw = |range: &TextRange| self.text(*range);
        if multiline {
            strings::indented_string(parts, raw)
        } else {
            strings::plain_string(parts, raw)
        }
    }

    /// The text of a string literal without interpolations.
    fn static_string(&self, s: &ast::Str) -> Option<String> {
        let has_interp = syn(s)
            .children()
            .any(|n| n.kind() == SyntaxKind::NODE_INTERPOL);
        if has_interp {
            return None;
        }
        let mut text = String::new();
        for part in self.processed_string(s) {
            if let Part::Text(t) = part {
                text.push_str(&t);
            }
        }
        Some(text)
    }

    fn string(&mut self, s: &ast::Str) -> Result<ExprRef> {
        let span = self.span(syn(s));
        let has_interp = syn(s)
            .children()
            .any(|n| n.kind() == SyntaxKind::NODE_INTERPOL);
        // Nix rejects NUL bytes while reading the literal, quoting its raw text.
        for token in syn(s).children_with_tokens().filter_map(|c| c.into_token()) {
            if token.kind() == SyntaxKind::TOKEN_STRING_CONTENT && token.text().contains('\0') {
                // An indented string's first line break belongs to the opening `''`.
                let mut range = token.text_range();
                let mut text = token.text();
                if syn(s).text().to_string().starts_with("''") && text.starts_with('\n') {
                    text = &text[1..];
                    range = TextRange::new(range.start() + rnix::TextSize::from(1), range.end());
                }
                let raw = text.replace('\0', "\u{2400}");
                return Err(self.error(
                    ErrorKind::Eval,
                    format!(
                        "input string '{raw}' cannot be represented as Nix string because it contains null bytes"
                    ),
                    self.span_of(range),
                ));
            }
        }
        let parts = self.processed_string(s);
        if !has_interp {
            let text: String = parts
                .into_iter()
                .map(|p| match p {
                    Part::Text(t) => t,
                    Part::Interp(_) => String::new(),
                })
                .collect();
            // Source text is crate::bytestr-encoded: the literal's bytes are decoded.
            return rc(Expr::Const(Value::string_encoded(&text), span));
        }
        let mut out = Vec::with_capacity(parts.len());
        for part in parts {
            out.push(match part {
                Part::Text(t) => Rc::new(Expr::Const(Value::string_encoded(&t), span)),
                Part::Interp(i) => self.expr(self.need(i.expr(), syn(&i))?)?,
            });
        }
        rc(Expr::Interpolate { parts: out, span })
    }

    /// A path literal, possibly with interpolations.
    fn path(&mut self, node: &SyntaxNode, span: Span) -> Result<ExprRef> {
        let mut parts: Vec<ExprRef> = Vec::new();
        let mut first = true;
        for child in node.children_with_tokens() {
            match child {
                NodeOrToken::Token(t) => {
                    let text = self.text(t.text_range());
                    let tspan = self.span_of(t.text_range());
                    let value = if first {
                        self.lint(lints::path_literal(&self.lints, text), span)?;
                        if t.kind() == SyntaxKind::TOKEN_PATH_HOME {
                            paths::resolve_home(text)
                        } else {
                            paths::resolve_path(text, &self.base_dir)
                        }
                    } else {
                        text.to_string()
                    };
                    parts.push(Rc::new(Expr::Const(Value::string_encoded(&value), tspan)));
                }
                NodeOrToken::Node(n) => {
                    let interpol = self.need(cast::<ast::Interpol>(n.clone()), &n)?;
                    parts.push(self.expr(self.need(interpol.expr(), &n)?)?);
                }
            }
            first = false;
        }
        if parts.len() == 1 {
            if let Expr::Const(Value::String(s), _) = &*parts[0] {
                return rc(Expr::Const(Value::path(s.encoded()), span));
            }
        }
        rc(Expr::PathInterpolate { parts, span })
    }
}

/// The range of a binary operator node's operator token.
fn operator_token(node: &SyntaxNode) -> Option<TextRange> {
    node.children_with_tokens()
        .filter_map(|c| c.into_token())
        .find(|t| BinOpKind::from_kind(t.kind()).is_some())
        .map(|t| t.text_range())
}

#[cfg(test)]
mod tests;
