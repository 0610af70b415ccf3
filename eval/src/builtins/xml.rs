//! Builtins: xml (`toXML`), and the XML printer behind `nix-instantiate --eval --xml`.

use crate::error::Result;
use crate::eval::Eval;
use crate::ir::Param;
use crate::source::{Origin, Span};
use crate::symbol::Symbol;
use crate::value::{Attrs, Context, PrimOp, Value};
use std::collections::HashSet;

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[PrimOp {
    name: "toXML",
    arity: 1,
    func: to_xml,
}];

/// `builtins.toXML v`: strict, without source locations; keeps the strings' context.
fn to_xml(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let (s, ctx) = value_to_xml(ev, &args[0], true, false)?;
    // The XML text holds crate::bytestr-encoded strings.
    Ok(Value::string_ctx(crate::bytestr::decode(&s), ctx))
}

/// Renders `v` as Nix's XML printer does. `strict` forces everything (otherwise unforced
/// values print as `<unevaluated />`); `location` adds `path`/`line`/`column` attributes to
/// attributes and functions.
pub fn value_to_xml(
    ev: &mut Eval,
    v: &Value,
    strict: bool,
    location: bool,
) -> Result<(String, Context)> {
    let mut w = XmlWriter {
        out: String::from("<?xml version='1.0' encoding='utf-8'?>\n"),
        ctx: Context::new(),
        drvs_seen: HashSet::new(),
        strict,
        location,
    };
    w.open("expr", &[], 0);
    w.value(ev, v, 1)?;
    w.close("expr", 0);
    Ok((w.out, w.ctx))
}

struct XmlWriter {
    out: String,
    ctx: Context,
    drvs_seen: HashSet<String>,
    strict: bool,
    location: bool,
}

type XmlAttrs = Vec<(&'static str, String)>;

impl XmlWriter {
    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
    }

    fn attrs(&mut self, attrs: &[(&'static str, String)]) {
        // Nix keeps element attributes in a sorted map.
        let mut sorted: Vec<&(&str, String)> = attrs.iter().collect();
        sorted.sort_by_key(|(k, _)| *k);
        for (k, v) in sorted {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape_xml(&mut self.out, v);
            self.out.push('"');
        }
    }

    fn open(&mut self, name: &str, attrs: &[(&'static str, String)], depth: usize) {
        self.indent(depth);
        self.out.push('<');
        self.out.push_str(name);
        self.attrs(attrs);
        self.out.push_str(">\n");
    }

    fn close(&mut self, name: &str, depth: usize) {
        self.indent(depth);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn empty(&mut self, name: &str, attrs: &[(&'static str, String)], depth: usize) {
        self.indent(depth);
        self.out.push('<');
        self.out.push_str(name);
        self.attrs(attrs);
        self.out.push_str(" />\n");
    }

    fn value(&mut self, ev: &mut Eval, v: &Value, depth: usize) -> Result<()> {
        let v = match v.peek() {
            Some(v) => v,
            None if self.strict => ev.nested(|ev| ev.force(v))?,
            None => {
                self.empty("unevaluated", &[], depth);
                return Ok(());
            }
        };
        match &v {
            Value::Int(i) => self.empty("int", &[("value", i.to_string())], depth),
            Value::Bool(b) => self.empty("bool", &[("value", b.to_string())], depth),
            Value::String(s) => {
                self.ctx.extend(s.ctx.iter().cloned());
                self.empty("string", &[("value", s.encoded().into_owned())], depth);
            }
            Value::Path(p) => self.empty("path", &[("value", p.to_string())], depth),
            Value::Null => self.empty("null", &[], depth),
            Value::Float(f) => self.empty(
                "float",
                &[("value", crate::print::float_to_string_g(*f))],
                depth,
            ),
            Value::Attrs(a) => ev.nested(|ev| self.attrs_value(ev, a, depth))?,
            Value::List(items) => ev.nested(|ev| {
                self.open("list", &[], depth);
                for item in items.iter() {
                    self.value(ev, item, depth + 1)?;
                }
                self.close("list", depth);
                Ok(())
            })?,
            Value::Lambda(c) => self.lambda(ev, &c.lambda, depth),
            Value::PrimOp(_) | Value::Thunk(_) => self.empty("unevaluated", &[], depth),
        }
        Ok(())
    }

    fn attrs_value(&mut self, ev: &mut Eval, a: &Attrs, depth: usize) -> Result<()> {
        if !is_derivation(ev, a)? {
            self.open("attrs", &[], depth);
            self.show_attrs(ev, a, depth + 1)?;
            self.close("attrs", depth);
            return Ok(());
        }
        let mut xml_attrs: XmlAttrs = Vec::new();
        let drv_path = self.string_attr(ev, a, "drvPath")?;
        if let Some(p) = &drv_path {
            xml_attrs.push(("drvPath", p.clone()));
        }
        if let Some(p) = self.string_attr(ev, a, "outPath")? {
            xml_attrs.push(("outPath", p));
        }
        self.open("derivation", &xml_attrs, depth);
        let first_time = drv_path.is_some_and(|p| !p.is_empty() && self.drvs_seen.insert(p));
        if first_time {
            self.show_attrs(ev, a, depth + 1)?;
        } else {
            self.empty("repeated", &[], depth + 1);
        }
        self.close("derivation", depth);
        Ok(())
    }

    /// The text of attribute `name` if it is (forced, when strict) a string.
    fn string_attr(&mut self, ev: &mut Eval, a: &Attrs, name: &str) -> Result<Option<String>> {
        let Some(v) = a.get_str(name) else {
            return Ok(None);
        };
        let v = if self.strict { ev.force(v)? } else { v.clone() };
        Ok(match v {
            Value::String(s) => Some(s.encoded().into_owned()),
            _ => None,
        })
    }

    fn show_attrs(&mut self, ev: &mut Eval, a: &Attrs, depth: usize) -> Result<()> {
        for attr in a.sorted_by_name() {
            let mut xml_attrs: XmlAttrs = vec![("name", attr.name.as_str().to_string())];
            if self.location {
                pos_attrs(ev, attr.span, &mut xml_attrs);
            }
            self.open("attr", &xml_attrs, depth);
            self.value(ev, &attr.value, depth + 1)?;
            self.close("attr", depth);
        }
        Ok(())
    }

    fn lambda(&mut self, ev: &Eval, l: &crate::ir::Lambda, depth: usize) {
        let mut xml_attrs: XmlAttrs = Vec::new();
        if self.location {
            pos_attrs(ev, l.span, &mut xml_attrs);
        }
        self.open("function", &xml_attrs, depth);
        match &l.param {
            Param::Ident(name) => {
                self.empty("varpat", &[("name", name.as_str().to_string())], depth + 1)
            }
            Param::Pattern {
                formals,
                ellipsis,
                at,
            } => {
                let mut pat: XmlAttrs = Vec::new();
                if let Some(at) = at {
                    pat.push(("name", at.as_str().to_string()));
                }
                if *ellipsis {
                    pat.push(("ellipsis", "1".into()));
                }
                self.open("attrspat", &pat, depth + 1);
                let mut names: Vec<Symbol> = formals.iter().map(|f| f.name).collect();
                names.sort_by(|a, b| a.cmp_str(*b));
                for n in names {
                    self.empty("attr", &[("name", n.as_str().to_string())], depth + 2);
                }
                self.close("attrspat", depth + 1);
            }
        }
        self.close("function", depth);
    }
}

/// Whether `a` is a derivation: its `type` attribute is the string `"derivation"`.
fn is_derivation(ev: &mut Eval, a: &Attrs) -> Result<bool> {
    let Some(t) = a.get_str("type") else {
        return Ok(false);
    };
    let t = ev.force(t)?;
    Ok(matches!(&t, Value::String(s) if s.s == b"derivation"))
}

/// `path` (files only), `line` and `column` of a position.
fn pos_attrs(ev: &Eval, span: Span, out: &mut XmlAttrs) {
    let Some(file) = ev.sources.get(span.file) else {
        return;
    };
    let (line, col) = file.line_col(span.start);
    if let Origin::File(p) = &file.origin {
        out.push(("path", p.display().to_string()));
    }
    out.push(("line", line.to_string()));
    out.push(("column", col.to_string()));
}

/// Escapes an attribute value as Nix's XML writer does.
fn escape_xml(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' => out.push_str("&#xA;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::{Eval, EvalOptions};
    use std::path::Path;

    fn eval(expr: &str) -> String {
        let mut ev = Eval::new(EvalOptions::default());
        let v = ev.eval_expr(expr, Path::new("/")).unwrap();
        crate::print::print_value(&mut ev, &v, true).unwrap()
    }

    #[test]
    fn corpus_toxml() {
        // eval-okay-toxml.exp
        assert_eq!(
            eval(r#"builtins.toXML { a = "s"; }"#),
            r#""<?xml version='1.0' encoding='utf-8'?>\n<expr>\n  <attrs>\n    <attr name=\"a\">\n      <string value=\"s\" />\n    </attr>\n  </attrs>\n</expr>\n""#
        );
    }

    #[test]
    fn patterns_and_escapes() {
        // Nix 2.8 output for the same expression.
        assert_eq!(
            eval(r#"builtins.toXML [ "<a>&\"\n" 1.5 (x@{ b, a ? 1, ... }: 1) builtins.map ]"#),
            r#""<?xml version='1.0' encoding='utf-8'?>\n<expr>\n  <list>\n    <string value=\"&lt;a&gt;&amp;&quot;&#xA;\" />\n    <float value=\"1.5\" />\n    <function>\n      <attrspat ellipsis=\"1\" name=\"x\">\n        <attr name=\"a\" />\n        <attr name=\"b\" />\n      </attrspat>\n    </function>\n    <unevaluated />\n  </list>\n</expr>\n""#
        );
    }
}
