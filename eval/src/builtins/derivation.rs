//! Builtins: `derivationStrict` (and the `derivation` wrapper around it), and the
//! fetchers, which kith does not support yet.
//!
//! `derivationStrict` computes the store derivation Nix would write, its `.drv` path and
//! its output paths, without writing anything. The fetchers check what Nix checks before
//! fetching (argument types, store path names) and then fail with a clear
//! "not supported yet" error instead of producing a fake value.

use super::context::{decode_elem, ContextElem};
use crate::error::{ErrorExt, EvalError, Result};
use crate::eval::{CoerceOpts, Eval};
use crate::hash_format::{Hash, HashAlgo, HashFormat};
use crate::source::{Origin, Span};
use crate::symbol::Symbol;
use crate::value::{Attr, Attrs, Context, Env, PrimOp, Thunk, Value};
use kith_store::derivation::{self as drv, Derivation, FixedMethod, Output};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The primops of this topic. `derivation` itself is Nix code ([`wrapper`]).
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "derivationStrict",
        arity: 1,
        func: derivation_strict,
    },
    PrimOp {
        name: "fetchurl",
        arity: 1,
        func: fetchurl,
    },
    PrimOp {
        name: "fetchTarball",
        arity: 1,
        func: fetch_tarball,
    },
    PrimOp {
        name: "fetchGit",
        arity: 1,
        func: fetch_git,
    },
    PrimOp {
        name: "fetchTree",
        arity: 1,
        func: fetch_tree,
    },
    PrimOp {
        name: "fetchMercurial",
        arity: 1,
        func: fetch_mercurial,
    },
    PrimOp {
        name: "fetchClosure",
        arity: 1,
        func: fetch_closure,
    },
    PrimOp {
        name: "storePath",
        arity: 1,
        func: store_path,
    },
];

/// The file name positions in the `derivation` wrapper are reported under.
const WRAPPER_FILE: &str = "«nix-internal»/derivation-internal.nix";

/// The value of `derivation` / `builtins.derivation`: a lazily evaluated Nix function
/// (from [`super::corepkgs::DERIVATION`]) that calls `derivationStrict`.
pub(super) fn wrapper() -> Value {
    Thunk::native(|ev: &mut Eval| {
        let origin = Origin::File(PathBuf::from(WRAPPER_FILE));
        let e = ev.compile(origin, super::corepkgs::DERIVATION)?;
        let env = Env::new(None, 0);
        ev.eval(&e, &env)
    })
}

fn not_supported(what: &str, span: Span) -> Box<EvalError> {
    EvalError::new(format!("{what} is not supported yet")).at(span)
}

/// `builtins.derivationStrict attrs`: `{ drvPath; <output> = path; … }`.
fn derivation_strict(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    let attrs = ev.force_attrs(&args[0]).context(Span::NONE, || {
        "while evaluating the argument passed to builtins.derivationStrict".into()
    })?;
    let Some(name_attr) = attrs.get_attr(Symbol::new("name")) else {
        return Err(
            EvalError::new("attribute 'name' missing").context(Span::NONE, || {
                "in the attrset passed as argument to builtins.derivationStrict".into()
            }),
        );
    };
    let name_span = name_attr.span;
    let name = ev
        .force_str_noctx(&name_attr.value)
        .context(Span::NONE, || {
            "while evaluating the `name` attribute passed to builtins.derivationStrict".into()
        })
        .context(name_span, || {
            "while evaluating the derivation attribute 'name'".into()
        })?;
    strict_internal(ev, &name, &attrs, span).map_err(|e| {
        let pos = match ev.sources.describe(name_span) {
            Some((file, line, col)) => format!("{file}:{line}:{col}"),
            None => "«none»".into(),
        };
        e.context(Span::NONE, || {
            format!(
                "while evaluating derivation '{name}'\n  whose name attribute is located at {pos}"
            )
        })
    })
}

/// How `outputHashMode` says a fixed output is hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HashMode {
    Flat,
    Nar,
}

/// What `derivationStrict` gathers from the attributes before computing paths.
struct Gathered {
    drv: Derivation,
    ctx: Context,
    /// With `__structuredAttrs`: the JSON text of each attribute, by name.
    json: Option<Vec<(String, String)>>,
    ignore_nulls: bool,
    output_hash: Option<String>,
    output_hash_algo: Option<HashAlgo>,
    hash_mode: Option<HashMode>,
    outputs: BTreeSet<String>,
}

/// Nix's error for an experimental feature that is not enabled.
fn experimental(feature: &str) -> Box<EvalError> {
    EvalError::new(format!(
        "experimental Nix feature '{feature}' is disabled; add '--extra-experimental-features {feature}' to enable it"
    ))
}

/// The attributes whose effect `__structuredAttrs` disables.
const LEGACY_CHECKS: &[&str] = &[
    "allowedReferences",
    "allowedRequisites",
    "disallowedReferences",
    "disallowedRequisites",
    "maxSize",
    "maxClosureSize",
];

fn strict_internal(ev: &mut Eval, name: &str, attrs: &Attrs, span: Span) -> Result<Value> {
    if let Err(m) = kith_store::path::check_name(name) {
        let msg = format!("invalid derivation name: {m}. Please pass a different 'name'.");
        return Err(EvalError::new(msg).at(span));
    }
    let structured = match attrs.get_str("__structuredAttrs") {
        Some(v) => ev.force_bool(v).context(Span::NONE, || {
            "while evaluating the `__structuredAttrs` attribute passed to builtins.derivationStrict"
                .into()
        })?,
        None => false,
    };
    let ignore_nulls = match attrs.get_str("__ignoreNulls") {
        Some(v) => ev.force_bool(v).context(Span::NONE, || {
            "while evaluating the `__ignoreNulls` attribute passed to builtins.derivationStrict"
                .into()
        })?,
        None => false,
    };
    let mut g = Gathered {
        drv: Derivation {
            name: name.to_string(),
            ..Derivation::default()
        },
        ctx: Context::new(),
        json: structured.then(Vec::new),
        ignore_nulls,
        output_hash: None,
        output_hash_algo: None,
        hash_mode: None,
        outputs: BTreeSet::from(["out".to_string()]),
    };
    for attr in attrs.sorted_by_name() {
        let key = attr.name.as_str();
        if key == "__ignoreNulls" {
            continue;
        }
        g.attr(ev, key, &attr.value, span).context(attr.span, || {
            format!("while evaluating attribute '{key}' of derivation '{name}'")
        })?;
    }
    if let Some(json) = g.json.take() {
        g.drv.env.insert("__json".into(), json_object(&json));
    }
    add_inputs(&mut g.drv, &g.ctx)?;
    if g.drv.builder.is_empty() {
        return Err(EvalError::new("required attribute 'builder' missing"));
    }
    if g.drv.platform.is_empty() {
        return Err(EvalError::new("required attribute 'system' missing").at(span));
    }
    if name.ends_with(".drv") {
        return Err(EvalError::new(
            "derivation names are allowed to end in '.drv' only if they produce a single derivation file",
        )
        .at(span));
    }
    let store_dir = ev.options.store_dir.clone();
    g.set_outputs(&store_dir).at(span)?;
    let drv_path = g.drv.drv_path(&store_dir).map_err(Box::from).at(span)?;
    drv::register(&drv_path, &g.drv)
        .map_err(Box::from)
        .at(span)?;
    Ok(result(&drv_path, &g.drv))
}

/// `{ drvPath = …; <output> = …; }` with the contexts Nix gives them.
fn result(drv_path: &str, d: &Derivation) -> Value {
    let mut entries = vec![Attr {
        name: Symbol::new("drvPath"),
        value: Value::string_ctx(drv_path, Context::from([format!("={drv_path}")])),
        span: Span::NONE,
    }];
    for (out, o) in &d.outputs {
        let ctx = Context::from([format!("!{out}!{drv_path}")]);
        entries.push(Attr {
            name: Symbol::new(out),
            value: Value::string_ctx(o.path.clone(), ctx),
            span: Span::NONE,
        });
    }
    Value::Attrs(Attrs::from_entries(entries))
}

/// The `__json` value: a JSON object of the already serialised attributes.
fn json_object(entries: &[(String, String)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        super::json::escape_json(&mut out, k);
        out.push(':');
        out.push_str(v);
    }
    out.push('}');
    out
}

/// Adds the store paths in the context to the derivation's inputs, as Nix does: plain
/// paths are sources, `=drv` brings the derivation's whole closure with all outputs,
/// `!out!drv` one output.
fn add_inputs(d: &mut Derivation, ctx: &Context) -> Result<()> {
    for elem in ctx {
        match decode_elem(elem) {
            ContextElem::Opaque(p) => {
                d.input_srcs.insert(p.to_string());
            }
            ContextElem::Built(drv_path, out) => {
                let outs = d.input_drvs.entry(drv_path.to_string()).or_default();
                outs.insert(out.to_string());
            }
            ContextElem::DrvDeep(drv_path) => {
                for p in drv::closure(drv_path)? {
                    if p.ends_with(".drv") {
                        let known = drv::lookup_known(&p)?;
                        let outs = known.outputs.iter().cloned().collect();
                        d.input_drvs.insert(p.clone(), outs);
                    }
                    d.input_srcs.insert(p);
                }
            }
        }
    }
    Ok(())
}

impl Gathered {
    /// Processes one attribute of `derivationStrict`'s argument.
    fn attr(&mut self, ev: &mut Eval, key: &str, v: &Value, span: Span) -> Result<()> {
        if self.ignore_nulls && matches!(ev.force(v)?, Value::Null) {
            return Ok(());
        }
        match key {
            "__contentAddressed" if ev.force_bool(v)? => Err(experimental("ca-derivations")),
            "__impure" if ev.force_bool(v)? => Err(experimental("impure-derivations")),
            "args" => self.args(ev, v),
            _ if self.json.is_some() => self.structured_attr(ev, key, v, span),
            _ => self.env_attr(ev, key, v),
        }
    }

    /// `args`: each element coerced to a string.
    fn args(&mut self, ev: &mut Eval, v: &Value) -> Result<()> {
        let list = ev.force_list(v)?;
        for item in list.iter() {
            let s = ev
                .coerce_to_string(item, COERCE_ENV)
                .context(Span::NONE, || {
                    "while evaluating an element of the argument list".into()
                })?;
            self.drv.args.push(s.encoded().into_owned());
            self.ctx.extend(s.ctx);
        }
        Ok(())
    }

    /// An attribute passed through the environment (no `__structuredAttrs`).
    fn env_attr(&mut self, ev: &mut Eval, key: &str, v: &Value) -> Result<()> {
        let s = ev.coerce_to_string(v, COERCE_ENV)?;
        self.ctx.extend(s.ctx);
        // Derivation text is kept encoded (crate::bytestr) and decoded when serialised.
        let s = crate::bytestr::encode_owned(s.s);
        match key {
            "builder" => self.drv.builder = s.clone(),
            "system" => self.drv.platform = s.clone(),
            "outputHash" => self.output_hash = Some(s.clone()),
            "outputHashAlgo" => self.output_hash_algo = parse_algo(&s)?,
            "outputHashMode" => self.hash_mode = Some(parse_mode(&s)?),
            "outputs" => self.set_output_names(
                s.split([' ', '\t', '\n', '\r'])
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect(),
            )?,
            _ => {}
        }
        self.drv.env.entry(key.to_string()).or_insert(s);
        Ok(())
    }

    /// An attribute with `__structuredAttrs`: serialised to JSON, some also read.
    fn structured_attr(&mut self, ev: &mut Eval, key: &str, v: &Value, span: Span) -> Result<()> {
        if key == "__structuredAttrs" {
            return Ok(());
        }
        let to_json = ev.builtins().get_str("toJSON").cloned();
        let to_json = to_json.ok_or_else(|| EvalError::new("builtins.toJSON is missing"))?;
        let text = ev.call(&to_json, v.clone(), span)?;
        let text = ev.force_string(&text)?;
        self.ctx.extend(text.ctx.iter().cloned());
        if let Some(json) = &mut self.json {
            json.push((key.to_string(), text.encoded().into_owned()));
        }
        match key {
            "builder" => {
                let s = ev.force_string(v)?;
                self.ctx.extend(s.ctx.iter().cloned());
                self.drv.builder = s.encoded().into_owned();
            }
            "system" => self.drv.platform = ev.force_str_noctx(v)?,
            "outputHash" => self.output_hash = Some(ev.force_str_noctx(v)?),
            "outputHashAlgo" => self.output_hash_algo = parse_algo(&ev.force_str_noctx(v)?)?,
            "outputHashMode" => self.hash_mode = Some(parse_mode(&ev.force_str_noctx(v)?)?),
            "outputs" => {
                let list = ev.force_list(v)?;
                let mut names = Vec::with_capacity(list.len());
                for item in list.iter() {
                    names.push(ev.force_str_noctx(item)?);
                }
                self.set_output_names(names)?;
            }
            _ => {}
        }
        if LEGACY_CHECKS.contains(&key) {
            crate::error::eprint_line(&format!(
                "warning: 'structuredAttrs' disables the effect of the derivation attribute '{key}'; use 'outputChecks.<output>.{key}' instead"
            ));
        }
        Ok(())
    }

    /// Sets the output names, rejecting duplicates, `drvPath` and an empty list.
    fn set_output_names(&mut self, names: Vec<String>) -> Result<()> {
        self.outputs.clear();
        for n in names {
            if self.outputs.contains(&n) {
                return Err(EvalError::new(format!("duplicate derivation output '{n}'")));
            }
            if n == "drvPath" {
                return Err(EvalError::new("invalid derivation output name 'drvPath'"));
            }
            self.outputs.insert(n);
        }
        if self.outputs.is_empty() {
            return Err(EvalError::new(
                "derivation cannot have an empty set of outputs",
            ));
        }
        Ok(())
    }

    /// Computes the outputs: fixed from `outputHash`, otherwise input-addressed.
    fn set_outputs(&mut self, store_dir: &str) -> Result<()> {
        let Some(hash_text) = self.output_hash.take() else {
            for out in &self.outputs {
                self.drv.env.insert(out.clone(), String::new());
                self.drv.outputs.insert(out.clone(), Output::default());
            }
            return Ok(self.drv.fill_output_paths(store_dir)?);
        };
        if self.outputs.len() != 1 || !self.outputs.contains("out") {
            return Err(EvalError::new(
                "multiple outputs are not supported in fixed-output derivations",
            ));
        }
        let hash = parse_output_hash(&hash_text, self.output_hash_algo)?;
        let method = match self.hash_mode {
            Some(HashMode::Nar) => FixedMethod::Nar,
            Some(HashMode::Flat) | None => FixedMethod::Flat,
        };
        let out = drv::fixed_output(store_dir, &self.drv.name, method, &hash)?;
        self.drv.env.insert("out".into(), out.path.clone());
        self.drv.outputs.insert("out".into(), out);
        Ok(())
    }
}

/// How environment values are coerced: like `toString`, paths copied to the store.
const COERCE_ENV: CoerceOpts = CoerceOpts {
    coerce_more: true,
    copy_to_store: true,
};

/// `outputHashAlgo`: empty means unspecified.
fn parse_algo(s: &str) -> Result<Option<HashAlgo>> {
    if s.is_empty() {
        return Ok(None);
    }
    HashAlgo::parse(s).map(Some).map_err(EvalError::new)
}

/// `outputHashMode`: `flat`, `recursive`/`nar`; `text` and `git` need experimental features.
fn parse_mode(s: &str) -> Result<HashMode> {
    match s {
        "flat" => Ok(HashMode::Flat),
        "recursive" | "nar" => Ok(HashMode::Nar),
        "text" => Err(experimental("dynamic-derivations")),
        "git" => Err(experimental("git-hashing")),
        _ => Err(EvalError::new(format!(
            "invalid value '{s}' for 'outputHashMode' attribute"
        ))),
    }
}

/// `outputHash`, possibly empty (all zeroes, with Nix's warning).
fn parse_output_hash(text: &str, algo: Option<HashAlgo>) -> Result<Hash> {
    if !text.is_empty() {
        return Hash::parse_any(text, algo).map_err(EvalError::new);
    }
    let Some(algo) = algo else {
        return Err(EvalError::new(
            "empty hash requires explicit hash algorithm",
        ));
    };
    let h = Hash {
        algo,
        bytes: vec![0; algo.size()],
    };
    crate::error::eprint_line(&format!(
        "warning: found empty hash, assuming '{}'",
        h.to_string(HashFormat::Sri)
    ));
    Ok(h)
}

/// How the store path name of a fetched URL was chosen, for Nix's hint in the error.
enum NameSource {
    PlainUrl,
    UrlAttr,
    NameAttr,
}

/// The URL and name `fetchurl`/`fetchTarball` would fetch, validating the name as Nix does.
fn url_and_name(
    ev: &mut Eval,
    arg: &Value,
    who: &str,
    unpack: bool,
    span: Span,
) -> Result<(String, String)> {
    let v = ev.force(arg)?;
    let (url, name, source) = match &v {
        Value::Attrs(a) => {
            let url = match a.get_str("url") {
                Some(u) => {
                    let u = u.clone();
                    ev.force_str_noctx(&u)?
                }
                None => return Err(EvalError::new("'url' argument required").at(span)),
            };
            match a.get_str("name") {
                Some(n) => {
                    let n = n.clone();
                    (url, ev.force_str_noctx(&n)?, NameSource::NameAttr)
                }
                None => (url, String::new(), NameSource::UrlAttr),
            }
        }
        _ => {
            let url = ev.force_str_noctx(&v).context(span, || {
                format!("while evaluating the url we should fetch (passed to builtins.{who})")
            })?;
            (url, String::new(), NameSource::PlainUrl)
        }
    };
    let name = match (name.is_empty(), unpack) {
        (false, _) => name,
        (true, true) => "source".to_string(),
        (true, false) => base_name_of(&url).to_string(),
    };
    if let Err(m) = kith_store::path::check_name(&name) {
        let hint = match source {
            NameSource::PlainUrl => format!(
                "Please pass an attribute set with 'url' and 'name' attributes to '{who}',  so that it can create a valid store path."
            ),
            NameSource::UrlAttr => format!(
                "Please add a valid 'name' attribute to the argument for '{who}', so that it can create a valid store path."
            ),
            NameSource::NameAttr => format!(
                "Please change the value for the 'name' attribute passed to '{who}', so that it can create a valid store path."
            ),
        };
        let msg = format!("invalid store path name when fetching URL '{url}': {m}. {hint}");
        return Err(EvalError::new(msg));
    }
    Ok((url, name))
}

/// Nix's `baseNameOf` on a string: the part after the last `/`, ignoring one trailing `/`.
fn base_name_of(s: &str) -> &str {
    let s = s.strip_suffix('/').unwrap_or(s);
    s.rsplit('/').next().unwrap_or(s)
}

fn fetchurl(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    let (url, _) = url_and_name(ev, &args[0], "fetchurl", false, span)?;
    Err(not_supported(
        &format!("fetching '{url}' (builtins.fetchurl)"),
        span,
    ))
}

fn fetch_tarball(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    let (url, _) = url_and_name(ev, &args[0], "fetchTarball", true, span)?;
    Err(not_supported(
        &format!("fetching '{url}' (builtins.fetchTarball)"),
        span,
    ))
}

fn fetch_git(_ev: &mut Eval, _args: &[Value], span: Span) -> Result<Value> {
    Err(not_supported("builtins.fetchGit", span))
}

fn fetch_tree(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    super::flakeref::validate_fetch_tree_args(ev, &args[0], span)?;
    Err(not_supported("builtins.fetchTree", span))
}

fn fetch_mercurial(_ev: &mut Eval, _args: &[Value], span: Span) -> Result<Value> {
    Err(not_supported("builtins.fetchMercurial", span))
}

fn fetch_closure(_ev: &mut Eval, _args: &[Value], span: Span) -> Result<Value> {
    Err(not_supported("builtins.fetchClosure", span))
}

/// `builtins.storePath p`: the argument is checked, then kith fails (it has no store).
fn store_path(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    let v = ev.force(&args[0])?;
    let p = match &v {
        Value::Path(p) => p.to_string(),
        _ => ev
            .coerce_to_string(&v, CoerceOpts::default())
            .map(|s| s.encoded().into_owned())
            .context(Span::NONE, || {
                "while evaluating the first argument passed to 'builtins.storePath'".into()
            })?,
    };
    Err(not_supported(&format!("builtins.storePath '{p}'"), span))
}

#[cfg(test)]
mod tests {
    use crate::eval::{Eval, EvalOptions};
    use std::path::Path;

    /// Derivations covering inputs (other derivations, sources), fixed outputs, several
    /// outputs, structured attributes, `__ignoreNulls` and `=drv` context.
    const DERIVATIONS: &str = r#"
let
  sys = "x86_64-linux";
  a = derivation { name = "a"; system = sys; builder = "/bin/sh"; args = [ "-c" "echo $out > $out" ]; };
  b = derivation { name = "b"; system = sys; builder = "/bin/sh"; args = [ "-c" "cat ${a} ${./src.txt}" ]; dep = a; src = ./dir; };
  multi = derivation { name = "multi"; system = sys; builder = "/bin/sh"; outputs = [ "out" "dev" "lib" ]; x = "q\"uote\\back\nnl\ttab"; flag = true; no = false; n = null; i = 42; f = 1.5; l = [ 1 "two" [ 3 ] null ]; };
  useMulti = derivation { name = "use-multi"; system = sys; builder = "/bin/sh"; d = multi.dev; l = multi.lib; };
  fixedFlat = derivation { name = "ff"; system = sys; builder = "/bin/sh"; outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; };
  fixedRec = derivation { name = "fr"; system = sys; builder = "/bin/sh"; outputHashMode = "recursive"; outputHashAlgo = "sha256"; outputHash = "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"; };
  fixedSha1 = derivation { name = "fs1"; system = sys; builder = "/bin/sh"; outputHashAlgo = "sha1"; outputHash = "da39a3ee5e6b4b0d3255bfef95601890afd80709"; };
  fixedRecSha1 = derivation { name = "frs1"; system = sys; builder = "/bin/sh"; outputHashMode = "recursive"; outputHash = "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk="; };
  useFixed = derivation { name = "use-fixed"; system = sys; builder = "/bin/sh"; a = fixedFlat; b = fixedRec; c = fixedSha1; };
  structured = derivation { name = "structured"; system = sys; builder = "/bin/sh"; __structuredAttrs = true; outputs = [ "out" "doc" ]; nested = { x = [ 1 2.5 true null "s" ]; p = a; }; src = ./src.txt; args = [ "-e" ]; };
  ignore = derivation { name = "ignore"; system = sys; builder = "/bin/sh"; __ignoreNulls = true; n = null; m = 1; };
  deep = derivation { name = "deep"; system = sys; builder = "/bin/sh"; d = builtins.unsafeDiscardOutputDependency b.drvPath; u = useFixed.drvPath; };
  ctxUser = derivation { name = "ctx"; system = sys; builder = "${a}/bin/sh"; args = [ "${multi.dev}" ]; };
in
map (d: [ d.name d.drvPath d.outPath ]) [ a b multi multi.dev multi.lib useMulti fixedFlat fixedRec fixedSha1 fixedRecSha1 useFixed structured structured.doc ignore deep ctxUser ]
"#;

    /// (name, drvPath, outPath) of each derivation above, as printed by Nix 2.8:
    /// `nix-instantiate --store dummy:// --eval --strict` (all but `deep`, whose `=drv`
    /// context needs a store) and `nix-instantiate --store /tmp/… ` for `deep`, with
    /// `src.txt` = "hello\n" and `dir/a` = "a\n" next to the file.
    const EXPECTED: &[(&str, &str, &str)] = &[
        (
            "a",
            "a505m8h79w4wng38hga5438mk61k8n68-a.drv",
            "g6zpg4b2vmpg1jnadz6bmsy00h88hz7n-a",
        ),
        (
            "b",
            "4cbzmvn2k4xpghvf4xgipjl7havg1cwd-b.drv",
            "ysh0jggy0lyq6kiz4fk57sgk81y52iyd-b",
        ),
        (
            "multi",
            "g6fdadsdjqlmajj7sm9r810y8ijsgb48-multi.drv",
            "hn6p8hhs0vgqlh6fvw1q7ajiajdq8ffm-multi",
        ),
        (
            "multi",
            "g6fdadsdjqlmajj7sm9r810y8ijsgb48-multi.drv",
            "b2cg3f252b3bhxg706ljf4sp7gwkckdc-multi-dev",
        ),
        (
            "multi",
            "g6fdadsdjqlmajj7sm9r810y8ijsgb48-multi.drv",
            "31z24myvjsplx3ag6kqll5bxm9h7qx74-multi-lib",
        ),
        (
            "use-multi",
            "60ap0i3qz1c47cl5ga2cnx0avvwlmlsc-use-multi.drv",
            "33fb9bdway4b0agmad235i801j8yk52j-use-multi",
        ),
        (
            "ff",
            "3dfn46bx7q37n4li8bkggi8m626xc8n2-ff.drv",
            "03nsxs7k6gppa12846gia95y9r8gdjh6-ff",
        ),
        (
            "fr",
            "hlprlrdc4hhnz5ch9c8lzv0mbrh2l684-fr.drv",
            "3b4a0zy4h1ab6cicivhh4xjg4ml3g6ka-fr",
        ),
        (
            "fs1",
            "hhwr92qnickhpm68xfa6l8lxjv2k2qbc-fs1.drv",
            "kfyrsg8in6b6018il2h356r7bbfh6xx7-fs1",
        ),
        (
            "frs1",
            "1rrcf9y9w7ch3h8y7r9j8db318yxb23c-frs1.drv",
            "mmjrili67r4bsgarkvh5xmqivmfp3hq5-frs1",
        ),
        (
            "use-fixed",
            "ywflmix528dadqa15n7jq6jbfandycay-use-fixed.drv",
            "f950vj142vnj5rbp895fyc0bfkbwfdl3-use-fixed",
        ),
        (
            "structured",
            "9ddrsj6mc652z5w5qgq7ylghzisrkj5a-structured.drv",
            "lzgny57nahz09wiprmnbfmrnlw88rpmi-structured",
        ),
        (
            "structured",
            "9ddrsj6mc652z5w5qgq7ylghzisrkj5a-structured.drv",
            "vwbx89pg91ia59bvgby5rmijayvvs9a5-structured-doc",
        ),
        (
            "ignore",
            "nn9dxwmb7vsb1dclndxv1aqirw7g8qkg-ignore.drv",
            "d32wv8a6psqavm0dphhqfs4a7sf7q99p-ignore",
        ),
        (
            "deep",
            "gc271cnaj6ilrimab1q23g47crl7ij2h-deep.drv",
            "x08hqpm49fcczm60hqlwwm7wxpsy72ds-deep",
        ),
        (
            "ctx",
            "86lwdzcyg7h29z865p2gm76f5ycxp1dk-ctx.drv",
            "7nfk347zyn2h2wl9ddh9jpr24785jr4q-ctx",
        ),
    ];

    fn eval_in(dir: &Path, expr: &str) -> Result<String, String> {
        let mut ev = Eval::new(EvalOptions::default());
        let v = ev.eval_expr(expr, dir).map_err(|e| e.message.clone())?;
        crate::print::print_value(&mut ev, &v, true).map_err(|e| e.message.clone())
    }

    #[test]
    fn paths_match_nix() {
        let dir = std::env::temp_dir().join(format!("kith-drv-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("dir")).unwrap();
        std::fs::write(dir.join("src.txt"), "hello\n").unwrap();
        std::fs::write(dir.join("dir/a"), "a\n").unwrap();
        let got = eval_in(&dir, DERIVATIONS);
        let _ = std::fs::remove_dir_all(&dir);
        let rows: Vec<String> = EXPECTED
            .iter()
            .map(|(n, d, o)| format!("[ \"{n}\" \"/nix/store/{d}\" \"/nix/store/{o}\" ]"))
            .collect();
        assert_eq!(got.unwrap(), format!("[ {} ]", rows.join(" ")));
    }

    #[test]
    fn contexts() {
        // Expected from nix-instantiate (Nix 2.8) --store dummy:// --eval --strict.
        let e = r#"let d = derivation { name = "a"; system = "x"; builder = "/b"; outputs = [ "out" "dev" ]; };
          in [ (builtins.getContext d.drvPath) (builtins.getContext d.dev.outPath) ]"#;
        let got = eval_in(Path::new("/"), e).unwrap();
        assert_eq!(
            got,
            "[ { \"/nix/store/54ix7p5dfqv8wiz8k3kh02mksakhr78n-a.drv\" = { allOutputs = true; }; } { \"/nix/store/54ix7p5dfqv8wiz8k3kh02mksakhr78n-a.drv\" = { outputs = [ \"dev\" ]; }; } ]"
        );
    }

    #[test]
    fn errors() {
        let base = r#"name = "foo"; builder = "/b"; system = "x";"#;
        let cases = [
            ("outputs = [ \"out\" \"out\" ];", "duplicate derivation output 'out'"),
            ("outputs = \"drvPath\";", "invalid derivation output name 'drvPath'"),
            ("outputs = [ ];", "derivation cannot have an empty set of outputs"),
            ("outputHashMode = \"custom\";", "invalid value 'custom' for 'outputHashMode' attribute"),
            ("outputs = [ \"out\" \"b\" ]; outputHash = \"\"; outputHashAlgo = \"sha256\";", "multiple outputs are not supported in fixed-output derivations"),
            ("outputHash = \"\";", "empty hash requires explicit hash algorithm"),
            ("__contentAddressed = true;", "experimental Nix feature 'ca-derivations' is disabled; add '--extra-experimental-features ca-derivations' to enable it"),
        ];
        for (extra, want) in cases {
            let e = format!("builtins.derivationStrict {{ {base} {extra} }}");
            assert_eq!(eval_in(Path::new("/"), &e).unwrap_err(), want, "{extra}");
        }
        let e = r#"builtins.derivationStrict { name = "a.drv"; builder = "/b"; system = "x"; }"#;
        assert!(eval_in(Path::new("/"), e)
            .unwrap_err()
            .starts_with("derivation names are allowed to end in '.drv' only"));
    }
}
