//! Reading a cached file's IR back. Every read is checked: a truncated or corrupt entry
//! gives `None` (the file is then lowered again), never a panic.

use super::encode::BINOPS;
use super::{tag, MAGIC};
use crate::ir::{
    AttrName, AttrsDef, Binding, BindingValue, Expr, ExprRef, Formal, Lambda, LetDef, Param,
};
use crate::source::{FileId, Span};
use crate::symbol::Symbol;
use crate::value::Value;
use std::rc::Rc;

/// Nesting deeper than this is not a file kith wrote (the parser rejects deeper input).
const MAX_DEPTH: usize = 20_000;

/// Decodes an entry written by [`super::encode::encode`], with spans in `file`, whose
/// text is `text` (every span must lie within it, on character boundaries).
pub fn decode(bytes: &[u8], file: FileId, text: &str) -> Option<ExprRef> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let mut d = Decoder {
        buf: rest,
        pos: 0,
        symbols: Vec::new(),
        file,
        text,
        depth: 0,
    };
    let n = d.len()?;
    d.symbols.reserve(n);
    for _ in 0..n {
        let s = d.str()?;
        d.symbols.push(Symbol::new(s));
    }
    let e = d.expr()?;
    (d.pos == d.buf.len()).then_some(e)
}

struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    symbols: Vec<Symbol>,
    file: FileId,
    text: &'a str,
    depth: usize,
}

impl<'a> Decoder<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }
    fn bool(&mut self) -> Option<bool> {
        match self.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn uint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }
    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.uint()?).ok()
    }
    /// A count, bounded by the bytes left (every element takes at least one byte).
    fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.uint()?).ok()?;
        (n <= self.buf.len() - self.pos).then_some(n)
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.len()?;
        let b = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Some(b)
    }
    fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }
    fn eight(&mut self) -> Option<[u8; 8]> {
        let b = self.buf.get(self.pos..self.pos + 8)?.try_into().ok()?;
        self.pos += 8;
        Some(b)
    }
    fn sym(&mut self) -> Option<Symbol> {
        let i = usize::try_from(self.uint()?).ok()?;
        self.symbols.get(i).copied()
    }
    fn opt_sym(&mut self) -> Option<Option<Symbol>> {
        match self.byte()? {
            0 => Some(None),
            1 => Some(Some(self.sym()?)),
            _ => None,
        }
    }
    fn span(&mut self) -> Option<Span> {
        match self.byte()? {
            0 => Some(Span::NONE),
            1 => {
                let start = self.u32()?;
                let end = self.u32()?;
                // Errors and `__curPos` slice the text at spans.
                let ok = start <= end
                    && self.text.is_char_boundary(start as usize)
                    && self.text.is_char_boundary(end as usize);
                ok.then_some(())?;
                Some(Span {
                    file: self.file,
                    start,
                    end,
                })
            }
            _ => None,
        }
    }
    fn exprs(&mut self) -> Option<Vec<ExprRef>> {
        let n = self.len()?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.expr()?);
        }
        Some(v)
    }
    fn opt_expr(&mut self) -> Option<Option<ExprRef>> {
        match self.byte()? {
            0 => Some(None),
            1 => Some(Some(self.expr()?)),
            _ => None,
        }
    }

    fn constant(&mut self) -> Option<Value> {
        Some(match self.byte()? {
            0 => Value::Null,
            1 => Value::Bool(self.bool()?),
            2 => Value::Int(i64::from_le_bytes(self.eight()?)),
            3 => Value::Float(f64::from_bits(u64::from_le_bytes(self.eight()?))),
            4 => Value::string_encoded(self.str()?),
            5 => Value::path(self.str()?),
            6 => Value::list(Vec::new()),
            _ => return None,
        })
    }

    fn expr(&mut self) -> Option<ExprRef> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        // Deep (but parseable) nesting must not overflow a small thread stack.
        let e = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expr_inner());
        self.depth -= 1;
        e.map(Rc::new)
    }

    fn expr_inner(&mut self) -> Option<Expr> {
        Some(match self.byte()? {
            tag::CONST => {
                let v = self.constant()?;
                Expr::Const(v, self.span()?)
            }
            tag::VAR => Expr::Var {
                depth: self.u32()?,
                slot: self.u32()?,
                name: self.sym()?,
                span: self.span()?,
            },
            tag::GLOBAL => {
                let s = self.sym()?;
                Expr::Global(s, self.span()?)
            }
            tag::WITH_VAR => {
                let s = self.sym()?;
                Expr::WithVar(s, self.span()?)
            }
            tag::ATTRS => Expr::Attrs(Rc::new(self.attrs_def()?)),
            tag::LIST => {
                let items = self.exprs()?;
                Expr::List(items, self.span()?)
            }
            tag::LAMBDA => Expr::Lambda(Rc::new(self.lambda()?)),
            tag::CALL => Expr::Call {
                func: self.expr()?,
                args: self.exprs()?,
                span: self.span()?,
            },
            tag::SELECT => Expr::Select {
                expr: self.expr()?,
                path: self.path()?.into_boxed_slice(),
                default: self.opt_expr()?,
                span: self.span()?,
            },
            tag::HAS_ATTR => Expr::HasAttr {
                expr: self.expr()?,
                path: self.path()?,
                span: self.span()?,
            },
            tag::LET => Expr::Let(Box::new(LetDef {
                bindings: self.bindings()?,
                inherit_sources: self.exprs()?,
                body: self.expr()?,
                span: self.span()?,
            })),
            tag::WITH => Expr::With {
                attrs: self.expr()?,
                body: self.expr()?,
                span: self.span()?,
            },
            tag::IF => Expr::If {
                cond: self.expr()?,
                then: self.expr()?,
                else_: self.expr()?,
                span: self.span()?,
            },
            tag::ASSERT => Expr::Assert {
                cond: self.expr()?,
                body: self.expr()?,
                span: self.span()?,
            },
            tag::NOT => {
                let e = self.expr()?;
                Expr::Not(e, self.span()?)
            }
            tag::NEG => {
                let e = self.expr()?;
                Expr::Neg(e, self.span()?)
            }
            tag::BINARY => Expr::Binary {
                op: *BINOPS.get(usize::from(self.byte()?))?,
                lhs: self.expr()?,
                rhs: self.expr()?,
                span: self.span()?,
            },
            tag::INTERPOLATE => Expr::Interpolate {
                parts: self.exprs()?,
                span: self.span()?,
            },
            tag::PATH_INTERPOLATE => Expr::PathInterpolate {
                parts: self.exprs()?,
                span: self.span()?,
            },
            tag::SEARCH_PATH => {
                let p = self.str()?.to_string();
                Expr::SearchPath(p, self.span()?)
            }
            tag::CUR_POS => Expr::CurPos(self.span()?),
            _ => return None,
        })
    }

    fn path(&mut self) -> Option<Vec<AttrName>> {
        let n = self.len()?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(match self.byte()? {
                0 => AttrName::Static(self.sym()?),
                1 => AttrName::Dynamic(self.expr()?),
                _ => return None,
            });
        }
        Some(v)
    }

    fn bindings(&mut self) -> Option<Vec<Binding>> {
        let n = self.len()?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.sym()?;
            let value = match self.byte()? {
                0 => BindingValue::Expr(self.expr()?),
                1 => BindingValue::Inherit(self.expr()?),
                2 => BindingValue::InheritFrom {
                    source: usize::try_from(self.uint()?).ok()?,
                },
                _ => return None,
            };
            v.push(Binding {
                name,
                value,
                span: self.span()?,
            });
        }
        Some(v)
    }

    fn attrs_def(&mut self) -> Option<AttrsDef> {
        let recursive = self.bool()?;
        let bindings = self.bindings()?;
        let n = self.len()?;
        let mut dynamic = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.expr()?;
            let value = self.expr()?;
            dynamic.push((name, value, self.span()?));
        }
        let inherit_sources = self.exprs()?;
        // `InheritFrom` indices must name a source.
        let ok = bindings.iter().all(|b| match b.value {
            BindingValue::InheritFrom { source } => source < inherit_sources.len(),
            _ => true,
        });
        ok.then_some(())?;
        Some(AttrsDef {
            recursive,
            bindings,
            dynamic,
            inherit_sources,
            span: self.span()?,
            symbol_order: Default::default(),
        })
    }

    fn lambda(&mut self) -> Option<Lambda> {
        let name = self.opt_sym()?;
        let param = match self.byte()? {
            0 => Param::Ident(self.sym()?),
            1 => {
                let n = self.len()?;
                let mut formals = Vec::with_capacity(n);
                for _ in 0..n {
                    formals.push(Formal {
                        name: self.sym()?,
                        default: self.opt_expr()?,
                        span: self.span()?,
                    });
                }
                Param::Pattern {
                    formals,
                    ellipsis: self.bool()?,
                    at: self.opt_sym()?,
                }
            }
            _ => return None,
        };
        Some(Lambda {
            name,
            param,
            body: self.expr()?,
            span: self.span()?,
        })
    }
}
