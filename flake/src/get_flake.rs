//! `builtins.getFlake REF`: the flake a flake reference names, loaded by the same loader as
//! `--flake DIR` (its value is the one `kith eval --flake DIR` selects outputs from).
//!
//! Local references are read in place: a bare absolute path (a git work tree if it is in
//! one, as `--flake DIR`), `path:` (the whole directory) and `git+file:` (the work tree,
//! tracked files only). Other types are locked sources: used from the store by `narHash`,
//! or fetched through Nix like missing flake inputs (`fetch.rs`). In pure mode the
//! reference must be locked, as in Nix.

use super::source::{self, Meta, SourceTree};
use super::FlakeOptions;
use kith_eval::Eval;
use kith_eval::Span;
use kith_eval::{ErrorExt, EvalError, Result};
use kith_eval::{FlakeLoader, Value};
use kith_store::flakeref::{locked_url, parse_to_json};
use serde_json::{Map, Value as Json};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

/// kith's flake loader for `builtins.getFlake`: install it with
/// [`Eval::set_flake_loader`]. Each reference is loaded once per evaluator, so a flake that
/// gets itself reports infinite recursion instead of loading itself forever.
#[derive(Default)]
pub struct Loader {
    flakes: RefCell<HashMap<String, Value>>,
    offline: bool,
}

impl Loader {
    /// A loader that fetches missing flakes through Nix unless `offline`.
    pub fn new(offline: bool) -> Loader {
        Loader {
            flakes: RefCell::default(),
            offline,
        }
    }
}

impl FlakeLoader for Loader {
    fn get_flake(&self, ev: &mut Eval, url: &str, span: Span) -> Result<Value> {
        if let Some(v) = self.flakes.borrow().get(url).cloned() {
            return ev.force(&v);
        }
        let v = load_reference(ev, url, span, self.offline)?;
        self.flakes.borrow_mut().insert(url.to_string(), v.clone());
        ev.force(&v)
    }
}

/// `builtins.getFlake s`, called at `span`: the flake's value, unforced.
fn load_reference(ev: &mut Eval, s: &str, span: Span, offline: bool) -> Result<Value> {
    let attrs = parse_to_json(s).map_err(Box::from).at(span)?;
    if ev.options.pure && !is_locked(&attrs) {
        let pos = match ev.sources.describe(span) {
            Some((file, line, col)) => format!("{file}:{line}:{col}"),
            None => "«none»:0".into(),
        };
        return Err(EvalError::new(format!(
            "cannot call 'getFlake' on unlocked flake reference '{s}', at {pos} (use --impure to override)"
        ))
        .at(span));
    }
    let fetch = source::Fetch::unless_offline(offline);
    let src = flake_source(ev, s, &attrs, fetch).at(span)?;
    let opts = FlakeOptions {
        offline,
        ..FlakeOptions::default()
    };
    let (v, _) = super::load_tree(ev, src, &opts).at(span)?;
    Ok(v)
}

fn get<'a>(attrs: &'a Map<String, Json>, key: &str) -> Option<&'a str> {
    attrs.get(key).and_then(Json::as_str)
}

/// Nix's `Input::isLocked`: a revision for version-control types, a NAR hash for the
/// others; an indirect reference never is.
fn is_locked(attrs: &Map<String, Json>) -> bool {
    match get(attrs, "type").unwrap_or("") {
        "git" | "github" | "gitlab" | "sourcehut" | "hg" => attrs.contains_key("rev"),
        "path" | "tarball" | "file" => attrs.contains_key("narHash"),
        _ => false,
    }
}

/// Where the flake `s` (parsed into `attrs`) is, and its store path.
fn flake_source(
    ev: &mut Eval,
    s: &str,
    attrs: &Map<String, Json>,
    fetch: source::Fetch,
) -> Result<SourceTree> {
    let store_dir = ev.options.store_dir.clone();
    let dir = get(attrs, "dir").unwrap_or("").to_string();
    let ty = get(attrs, "type").unwrap_or("");
    let file_url = get(attrs, "url").and_then(|u| u.strip_prefix("file://"));
    let mut src = match (ty, file_url) {
        // A bare path: like `--flake DIR` (a git work tree if it is in one).
        ("path", _) if s.starts_with('/') => super::local_source(
            &store_dir,
            Path::new(get(attrs, "path").unwrap_or("/")),
            false,
            1,
        )?,
        ("path", _) => {
            let mut src =
                source::path_source(&store_dir, Path::new(get(attrs, "path").unwrap_or("/")), 1)?;
            src.subdir = dir;
            src
        }
        ("git", Some(path)) => git_work_tree(&store_dir, s, path, &dir, attrs)?,
        ("indirect", _) => {
            let url = locked_url(attrs).unwrap_or_else(|_| s.to_string());
            return Err(EvalError::new(format!(
                "cannot find flake '{url}' in the flake registries (kith uses no flake registry; give a URL or a path)"
            )));
        }
        _ => return remote_source(ev, s, attrs, fetch),
    };
    check_nar_hash(s, &src, attrs)?;
    src.url = s.to_string();
    Ok(src)
}

/// A `git+file:` reference: the work tree of the repository at `path`, whose clean `HEAD`
/// must be the reference's `rev` and `ref` if it names them.
fn git_work_tree(
    store_dir: &str,
    s: &str,
    path: &str,
    dir: &str,
    attrs: &Map<String, Json>,
) -> Result<SourceTree> {
    let Some((repo, top, sub)) = source::find_git(Path::new(path)) else {
        return Err(EvalError::new(format!(
            "'{path}' is not a git repository (in flake reference '{s}')"
        )));
    };
    if !sub.is_empty() {
        return Err(EvalError::new(format!(
            "'{path}' is not the top directory of a git repository (that is '{}'); use '?dir={sub}'",
            top.display()
        )));
    }
    let src = source::git_source(store_dir, &repo, &top, dir, 1)?;
    let head_rev = src.meta.iter().find_map(|(k, v)| match (k.as_str(), v) {
        ("rev", Meta::Str(r)) => Some(r.clone()),
        _ => None,
    });
    if let Some(rev) = get(attrs, "rev") {
        if head_rev.as_deref() != Some(rev) {
            return Err(EvalError::new(format!(
                "kith reads 'git+file' flakes from their work tree, whose clean HEAD is {} and not the revision '{rev}' of '{s}'",
                head_rev.as_deref().map_or("not available (uncommitted changes or no commit)".to_string(), |r| format!("'{r}'"))
            )));
        }
    }
    if let Some(r) = get(attrs, "ref") {
        let branch = repo
            .head()
            .ok()
            .and_then(|h| h.shorthand().map(str::to_string));
        if branch.as_deref() != Some(r) && get(attrs, "rev").is_none() {
            return Err(EvalError::new(format!(
                "kith reads 'git+file' flakes from their work tree, which is not on ref '{r}' of '{s}'"
            )));
        }
    }
    Ok(src)
}

/// A reference kith does not read in place: from the store by its `narHash`, fetched by
/// Nix if missing (or, without a `narHash`, fetched by Nix to learn it).
fn remote_source(
    ev: &mut Eval,
    s: &str,
    attrs: &Map<String, Json>,
    fetch: source::Fetch,
) -> Result<SourceTree> {
    let mut attrs = attrs.clone();
    if !attrs.contains_key("narHash") {
        if fetch == source::Fetch::Never {
            return Err(EvalError::new(format!(
                "cannot fetch flake '{s}': it has no 'narHash' to find it in the store, and fetching is off (--offline)"
            )));
        }
        let url = locked_url(&attrs)?;
        let got = super::fetch::prefetch(ev, s, &url, None)?;
        attrs.insert("narHash".into(), Json::from(got.nar_hash));
    }
    let mut src = source::locked_source(ev, s, &attrs, fetch)?;
    src.url = s.to_string();
    Ok(src)
}

/// Fails like Nix when the reference's `narHash` is not the source's.
fn check_nar_hash(s: &str, src: &SourceTree, attrs: &Map<String, Json>) -> Result<()> {
    let Some(want) = get(attrs, "narHash") else {
        return Ok(());
    };
    let got = src.meta.iter().find_map(|(k, v)| match (k.as_str(), v) {
        ("narHash", Meta::Str(h)) => Some(h.as_str()),
        _ => None,
    });
    let same = match (kith_store::path::parse_sha256(want), got) {
        (Ok(w), Some(g)) => kith_store::path::parse_sha256(g).is_ok_and(|g| g == w),
        _ => false,
    };
    if same {
        return Ok(());
    }
    Err(EvalError::new(format!(
        "NAR hash mismatch in input '{s}', expected '{want}' but got '{}'",
        got.unwrap_or("")
    )))
}
