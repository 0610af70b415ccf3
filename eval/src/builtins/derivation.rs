//! Builtins: derivation and fetchers, which kith does not support yet. They check what
//! Nix checks before building or fetching (argument types, store path names) and then fail
//! with a clear "not supported yet" error instead of producing a fake value.

use crate::error::{ErrorExt, EvalError, Result};
use crate::eval::{CoerceOpts, Eval};
use crate::source::Span;
use crate::value::{PrimOp, Value};

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "derivation",
        arity: 1,
        func: derivation,
    },
    PrimOp {
        name: "derivationStrict",
        arity: 1,
        func: derivation,
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

fn not_supported(what: &str, span: Span) -> Box<EvalError> {
    EvalError::new(format!("{what} is not supported yet")).at(span)
}

/// `derivation` / `derivationStrict`: fails, naming the derivation when possible.
fn derivation(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    let attrs = ev.force_attrs(&args[0]).context(span, || {
        "while evaluating the argument passed to builtins.derivationStrict".into()
    })?;
    let name = match attrs.get_str("name") {
        Some(n) => {
            let n = n.clone();
            ev.force_str_noctx(&n).context(span, || {
                "while evaluating the `name` attribute passed to builtins.derivationStrict".into()
            })?
        }
        None => return Err(EvalError::new("required attribute 'name' missing").at(span)),
    };
    if let Err(m) = crate::store::check_name(&name) {
        let msg = format!("invalid derivation name: {m}. Please pass a different 'name'.");
        return Err(EvalError::new(msg).at(span));
    }
    Err(EvalError::new(format!(
        "derivation '{name}': building derivations is not supported yet"
    ))
    .at(span))
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
    if let Err(m) = crate::store::check_name(&name) {
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
        return Err(EvalError::new(msg).at(span));
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

fn fetch_tree(_ev: &mut Eval, _args: &[Value], span: Span) -> Result<Value> {
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
            .map(|s| s.s)
            .context(span, || {
                "while evaluating the first argument passed to 'builtins.storePath'".into()
            })?,
    };
    Err(not_supported(&format!("builtins.storePath '{p}'"), span))
}
