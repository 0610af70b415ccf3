//! Builtins: io (`import`, `readFile`, `readDir`, `pathExists`, `path`, `toFile`, …).

use crate::error::{ErrorExt, EvalError, Result};
use crate::eval::{canon_path, CoerceOpts, Eval};
use crate::source::Span;
use crate::symbol::Symbol;
use crate::value::{Attr, Attrs, Context, PrimOp, Value};
use crate::vfs::{Follow, Found, FsPath};
use kith_store::fs::{io_message, FileKind};
use kith_store::path::{self as store, AddPath, Ingestion};
use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "import",
        arity: 1,
        func: import,
    },
    PrimOp {
        name: "scopedImport",
        arity: 2,
        func: scoped_import,
    },
    PrimOp {
        name: "readFile",
        arity: 1,
        func: read_file,
    },
    PrimOp {
        name: "readDir",
        arity: 1,
        func: read_dir,
    },
    PrimOp {
        name: "readFileType",
        arity: 1,
        func: read_file_type,
    },
    PrimOp {
        name: "pathExists",
        arity: 1,
        func: path_exists,
    },
    PrimOp {
        name: "findFile",
        arity: 2,
        func: find_file,
    },
    PrimOp {
        name: "toPath",
        arity: 1,
        func: to_path,
    },
    PrimOp {
        name: "path",
        arity: 1,
        func: path,
    },
    PrimOp {
        name: "filterSource",
        arity: 2,
        func: filter_source,
    },
    PrimOp {
        name: "toFile",
        arity: 2,
        func: to_file,
    },
];

fn import(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    ev.import_value(&args[0], span)
}

fn scoped_import(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    ev.scoped_import(args[0].clone(), &args[1], span)
}

/// The canonical absolute path a path-like value names (path, or a string / `outPath` /
/// `__toString` set coercing to an absolute path), as Nix's `realisePath`; existence is
/// not checked.
fn realise_path(ev: &mut Eval, v: &Value, ctx: &'static str) -> Result<(String, Context)> {
    let v = ev.force(v)?;
    if let Value::Path(p) = &v {
        return Ok((p.to_string(), Context::new()));
    }
    let s = ev
        .coerce_to_string(&v, CoerceOpts::default())
        .context(Span::NONE, || ctx.into())?;
    if !s.s.starts_with(b"/") {
        let msg = format!(
            "string '{}' doesn't represent an absolute path",
            s.encoded()
        );
        return Err(EvalError::new(msg).context(Span::NONE, || ctx.into()));
    }
    Ok((canon_path(&s.encoded()), s.ctx))
}

const REALISE: &str = "while realising the context of a path";

/// Like [`realise_path`], failing with Nix's message if nothing exists there.
/// Symlinks are resolved as `follow` says ([`Eval::resolve_fs`]).
fn existing_path(ev: &mut Eval, v: &Value, follow: Follow) -> Result<(String, FsPath)> {
    let (p, _) = realise_path(ev, v, REALISE)?;
    let r = ev.resolve_fs(&p, follow)?;
    if matches!(r.found, Found::Missing) {
        return Err(EvalError::new(format!("path '{p}' does not exist")));
    }
    Ok((p, r))
}

/// `builtins.readFile path`.
fn read_file(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    let (p, _) = realise_path(ev, &args[0], REALISE).at(span)?;
    let file = crate::bytestr::to_path(&p);
    let bytes = ev
        .read_bytes_mapped(&file)
        .at(span)?
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::IsADirectory => EvalError::new("reading from file: Is a directory"),
            _ => io_error("opening file", &file, &e),
        });
    let bytes = bytes.at(span)?;
    if bytes.contains(&0) {
        let msg = format!("the contents of the file '{p}' cannot be represented as a Nix string");
        return Err(EvalError::new(msg).at(span));
    }
    Ok(Value::string(bytes))
}

/// `builtins.readDir path`: entry name → `"regular"`, `"directory"`, `"symlink"` or
/// `"unknown"`. Symlinks to directories are followed for the directory itself.
fn read_dir(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    let (p, resolved) = existing_path(ev, &args[0], Follow::All)?;
    let Found::Real(dir) = resolved.found else {
        return Err(EvalError::new(format!("'{p}' is not a directory")));
    };
    // The store directory and its ancestors, in pure mode or without a store here: only
    // the way to the flake's sources, as Nix lists only the paths it allows.
    if ev.options.pure || !ev.is_dir(&dir) {
        if let Some(names) = ev.store_ancestor_entries(&resolved.virt) {
            let entries = names
                .into_iter()
                .map(|(name, is_dir)| Attr {
                    name: Symbol::new(&name),
                    value: Value::string(if is_dir { "directory" } else { "regular" }),
                    span: Span::NONE,
                })
                .collect();
            return Ok(Value::Attrs(Attrs::from_entries(entries)));
        }
    }
    // Errors name the directory with every link resolved, as Nix's do.
    let fs = ev.fs.clone();
    let dir = fs
        .canonicalize(&dir)
        .map_err(|e| io_error("resolving", &crate::bytestr::to_path(&p), &e))
        .at(span)?;
    if !ev.is_dir(&dir) {
        return Err(EvalError::new(format!(
            "'{}' is not a directory",
            dir.display()
        )));
    }
    let rd = fs
        .read_dir(&dir)
        .map_err(|e| io_error("opening directory", &dir, &e))
        .at(span)?;
    let mut entries = Vec::new();
    for (file_name, kind) in rd {
        let name = crate::bytestr::from_os(&file_name);
        // Untracked files of a git flake source are not there.
        if ev.is_hidden(&format!("{}/{name}", resolved.virt)) {
            continue;
        }
        entries.push(Attr {
            name: Symbol::new(&name),
            value: Value::string(kind.as_str()),
            span: Span::NONE,
        });
    }
    Ok(Value::Attrs(Attrs::from_entries(entries)))
}

/// `builtins.readFileType path`: the type of the file itself (symlinks not followed).
fn read_file_type(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    let (_, resolved) = existing_path(ev, &args[0], Follow::Nothing).at(span)?;
    let real = match resolved.found {
        Found::Real(real) => real,
        _ => return Ok(Value::string(FileKind::Regular.as_str())),
    };
    let meta = ev
        .fs
        .lstat(&real)
        .map_err(|e| io_error("getting status of", &real, &e));
    Ok(Value::string(meta.at(span)?.kind.as_str()))
}

/// `builtins.pathExists path`. A string ending in `/` or `/.` must name a directory
/// (symlinks followed); otherwise the path itself must exist (a dangling symlink does).
fn path_exists(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    let v = ev.force(&args[0])?;
    let must_be_dir = matches!(&v, Value::String(s) if s.s.ends_with(b"/") || s.s.ends_with(b"/."));
    let (p, _) = realise_path(ev, &v, REALISE)?;
    let follow = if must_be_dir {
        Follow::All
    } else {
        Follow::Ancestors
    };
    let resolved = match ev.resolve_fs(&p, follow) {
        Ok(r) => r,
        // In pure mode a forbidden path does not exist, as in Nix.
        Err(_) if ev.options.pure => return Ok(Value::Bool(false)),
        Err(e) => return Err(e.at(span)),
    };
    let exists = match resolved.found {
        Found::Missing => false,
        Found::Text(_) => !must_be_dir,
        Found::Real(real) if must_be_dir => ev.is_dir(&real),
        Found::Real(real) => ev.fs.lstat(&real).is_ok(),
    };
    Ok(Value::Bool(exists))
}

/// `builtins.findFile searchPath name`.
fn find_file(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    let lookup = ev.force_str_noctx(&args[1]).context(Span::NONE, || {
        "while evaluating the second argument passed to builtins.findFile".into()
    })?;
    ev.find_file(&args[0], &lookup, span)
}

/// `builtins.toPath s` (deprecated): the canonical absolute path, as a string.
fn to_path(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let (p, ctx) = realise_path(
        ev,
        &args[0],
        "while evaluating the first argument passed to builtins.toPath",
    )?;
    Ok(Value::string_ctx(crate::bytestr::decode(&p), ctx))
}

/// A store path string, with itself as context.
fn store_path_value(p: String) -> Value {
    let mut ctx = Context::new();
    ctx.insert(p.clone());
    Value::string_ctx(p, ctx)
}

/// `builtins.toFile name contents`: the path of a text file; `contents` may refer to store
/// paths (they become references) but not to derivations.
fn to_file(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    let name = ev.force_str_noctx(&args[0]).context(Span::NONE, || {
        "while evaluating the first argument passed to builtins.toFile".into()
    })?;
    let contents = ev.force_string(&args[1]).context(Span::NONE, || {
        "while evaluating the second argument passed to builtins.toFile".into()
    })?;
    let mut refs = BTreeSet::new();
    for c in &contents.ctx {
        if c.starts_with('=') || c.starts_with('!') {
            let msg = format!(
                "files created by builtins.toFile may not reference derivations, but {name} references {c}"
            );
            return Err(EvalError::new(msg).at(span));
        }
        refs.insert(c.clone());
    }
    let p = store::make_text_path(&ev.options.store_dir, &name, &contents.s, &refs)
        .map_err(Box::from)
        .at(span)?;
    // kith writes no store: reading the file later is answered from memory.
    ev.map_store_text(p.clone(), &contents.s);
    Ok(store_path_value(p))
}

/// `builtins.filterSource filter path`.
fn filter_source(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let (p, _) = realise_path(
        ev,
        &args[1],
        "while evaluating the second argument (the path to filter) passed to 'builtins.filterSource'",
    )?;
    let filter = ev.force_function(&args[0]).context(Span::NONE, || {
        "while evaluating the first argument passed to builtins.filterSource".into()
    })?;
    let name = store::base_name(&p).to_string();
    let req = AddPath {
        path: &p,
        name: &name,
        method: Ingestion::Recursive,
        expected: None,
    };
    add_path(ev, &req, Some(filter))
}

/// The arguments of `builtins.path`.
#[derive(Default)]
struct PathArgs {
    path: Option<String>,
    name: Option<String>,
    filter: Option<Value>,
    recursive: Option<bool>,
    sha256: Option<[u8; 32]>,
}

/// `builtins.path { path, name ? baseNameOf path, filter ? null, recursive ? true, sha256 ? null }`.
fn path(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    let attrs = ev.force_attrs(&args[0]).context(Span::NONE, || {
        "while evaluating the argument passed to 'builtins.path'".into()
    })?;
    let mut a = PathArgs::default();
    for attr in attrs.iter() {
        path_arg(ev, &mut a, attr).at(attr.span)?;
    }
    let Some(p) = a.path else {
        return Err(EvalError::new("'path' required").at(span));
    };
    let name = match a.name {
        Some(n) if !n.is_empty() => n,
        _ => store::base_name(&p).to_string(),
    };
    let method = if a.recursive.unwrap_or(true) {
        Ingestion::Recursive
    } else {
        Ingestion::Flat
    };
    let req = AddPath {
        path: &p,
        name: &name,
        method,
        expected: a.sha256,
    };
    add_path(ev, &req, a.filter)
}

/// Reads one attribute of `builtins.path`'s argument.
fn path_arg(ev: &mut Eval, a: &mut PathArgs, attr: &Attr) -> Result<()> {
    let v = &attr.value;
    match attr.name.as_str() {
        "path" => {
            let ctx = "while evaluating the 'path' attribute passed to 'builtins.path'";
            a.path = Some(realise_path(ev, v, ctx)?.0);
        }
        "name" => {
            let ctx =
                || "while evaluating the `name` attribute passed to builtins.path".to_string();
            a.name = Some(ev.force_str_noctx(v).context(attr.span, ctx)?);
        }
        "filter" => {
            let ctx =
                || "while evaluating the `filter` parameter passed to builtins.path".to_string();
            a.filter = Some(ev.force_function(v).context(attr.span, ctx)?);
        }
        "recursive" => {
            let ctx =
                || "while evaluating the `recursive` attribute passed to builtins.path".to_string();
            a.recursive = Some(ev.force_bool(v).context(attr.span, ctx)?);
        }
        "sha256" => {
            let ctx =
                || "while evaluating the `sha256` attribute passed to builtins.path".to_string();
            let s = ev.force_str_noctx(v).context(attr.span, ctx)?;
            a.sha256 = Some(store::parse_sha256(&s).map_err(EvalError::new)?);
        }
        other => {
            return Err(EvalError::new(format!(
                "unsupported argument '{other}' to 'addPath'"
            )));
        }
    }
    Ok(())
}

/// Computes the store path of `req`, calling `filter` (if any) with each entry's path and
/// type; the result is a string with the store path as context.
fn add_path(ev: &mut Eval, req: &AddPath<'_>, filter: Option<Value>) -> Result<Value> {
    let store_dir = ev.options.store_dir.clone();
    let adding =
        |e: Box<EvalError>| e.context(Span::NONE, || format!("while adding path '{}'", req.path));
    let real = match ev.resolve_fs(req.path, Follow::All).map_err(adding)?.found {
        Found::Text(text) => {
            let p = store::add_text_file(&store_dir, req, &text).map_err(|e| adding(e.into()))?;
            return Ok(store_path_value(p));
        }
        // Inside a flake source kith did not copy: hash the files where they really are.
        Found::Real(real) => crate::bytestr::from_os(real.as_os_str()).into_owned(),
        Found::Missing => {
            let msg = format!("path '{}' does not exist", req.path);
            return Err(adding(EvalError::new(msg)));
        }
    };
    let req = &AddPath {
        path: &real,
        name: req.name,
        method: req.method,
        expected: req.expected,
    };
    let fs = ev.fs.clone();
    let result = match filter {
        None => store::add_path::<Box<EvalError>>(&*fs, &store_dir, req, &mut |_, _| Ok(true)),
        Some(f) => store::add_path(&*fs, &store_dir, req, &mut |p: &Path, kind: FileKind| {
            call_filter(ev, &f, p, kind)
        }),
    };
    let p = result.map_err(adding)?;
    Ok(store_path_value(p))
}

/// `<what> '<path>': <reason>`, as Nix words system errors.
fn io_error(what: &str, path: &Path, e: &std::io::Error) -> Box<EvalError> {
    EvalError::new(io_message(what, path, e))
}

/// `filter path type`, which must return a Boolean.
fn call_filter(ev: &mut Eval, f: &Value, p: &Path, kind: FileKind) -> Result<bool> {
    let args = [
        Value::string(p.as_os_str().as_bytes()),
        Value::string(kind.as_str()),
    ];
    let r = ev.call_n(f, &args, Span::NONE)?;
    ev.force_bool(&r).context(Span::NONE, || {
        "while evaluating the return value of the path filter function".into()
    })
}

#[cfg(test)]
mod tests {
    use crate::eval::{Eval, EvalOptions};
    use std::path::{Path, PathBuf};

    fn eval_in(dir: &Path, expr: &str) -> Result<String, String> {
        let mut ev = Eval::new(EvalOptions::default());
        let v = ev.eval_expr(expr, dir).map_err(|e| e.message.clone())?;
        crate::print::print_value(&mut ev, &v, true).map_err(|e| e.message.clone())
    }

    /// A fresh directory with `f` ("hello\n") and `d/{a,sub/b,link}` as used with Nix below.
    fn fixture(tag: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let root = std::env::temp_dir().join(format!("kith-io-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("d/sub")).unwrap();
        std::fs::write(root.join("f"), "hello\n").unwrap();
        std::fs::write(root.join("d/a"), "x\n").unwrap();
        std::fs::write(root.join("d/sub/b"), "y\n").unwrap();
        std::fs::set_permissions(root.join("d/sub/b"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        std::os::unix::fs::symlink("a", root.join("d/link")).unwrap();
        root
    }

    #[test]
    fn store_paths_like_nix() {
        // Results of Nix 2.26 (nix-instantiate --store dummy:// --eval) on the same files.
        let root = fixture("paths");
        let ok = |e: &str| eval_in(&root, e).unwrap();
        assert_eq!(
            ok(r#"builtins.toFile "a" "b""#),
            r#""/nix/store/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a""#
        );
        assert_eq!(
            ok(r#"builtins.toFile "a" (builtins.toFile "b" "")"#),
            r#""/nix/store/fgfcyy192ijlrsa3p66wha1vyp4gxdbd-a""#
        );
        assert_eq!(
            ok("builtins.filterSource (p: t: true) ./d"),
            r#""/nix/store/bfx9c1m433spyvhkysv9vq47c1ga2jsh-d""#
        );
        assert_eq!(
            ok(r#"builtins.path { path = ./d; filter = p: t: t != "symlink"; name = "foo"; }"#),
            r#""/nix/store/xx2z6ddv2a6xwir2a8c1746wg4a437jn-foo""#
        );
        assert_eq!(
            ok("builtins.path { path = ./f; recursive = false; }"),
            r#""/nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f""#
        );
        let e = eval_in(
            &root,
            r#"builtins.path { path = ./f; sha256 = "0000000000000000000000000000000000000000000000000000"; }"#,
        );
        let want = format!(
            "store path mismatch in (possibly filtered) path added from '{}/f'",
            root.display()
        );
        assert_eq!(e.unwrap_err(), want);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn files_and_dirs() {
        let root = fixture("files");
        let ok = |e: &str| eval_in(&root, e).unwrap();
        assert_eq!(ok("builtins.readFile ./f"), r#""hello\n""#);
        assert_eq!(
            ok("builtins.readDir ./d"),
            r#"{ a = "regular"; link = "symlink"; sub = "directory"; }"#
        );
        assert_eq!(ok("builtins.readFileType ./d/link"), r#""symlink""#);
        assert_eq!(ok("builtins.pathExists ./d/link"), "true");
        assert_eq!(ok(r#"builtins.pathExists (toString ./f + "/")"#), "false");
        assert_eq!(ok(r#"builtins.pathExists (toString ./d + "/.")"#), "true");
        assert_eq!(ok(r#"builtins.toPath "/a/../b//c/""#), r#""/b/c""#);
        // eval-fail-toPath-2, eval-fail-pathExists-2
        assert_eq!(
            eval_in(&root, r#"builtins.toPath "foo""#).unwrap_err(),
            "string 'foo' doesn't represent an absolute path"
        );
        assert_eq!(
            eval_in(&root, r#"builtins.pathExists "zorglub""#).unwrap_err(),
            "string 'zorglub' doesn't represent an absolute path"
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    /// `builtins.toFile` results are read from memory: the store directory here does not
    /// exist, so nothing can come from disk. Results as Nix 2.8 gives them with
    /// `--read-write-mode` (which writes the files).
    #[test]
    fn to_file_results_are_readable() {
        let opts = EvalOptions {
            store_dir: "/kith-test-no-store/store".into(),
            ..Default::default()
        };
        let run = |e: &str| {
            let mut ev = Eval::new(opts.clone());
            let v = ev
                .eval_expr(e, Path::new("/"))
                .map_err(|e| e.message.clone())?;
            crate::print::print_value(&mut ev, &v, true).map_err(|e| e.message.clone())
        };
        let ok = |e: &str| run(e).unwrap();
        let f = r#"(builtins.toFile "y" "hello")"#;
        assert_eq!(ok(r#"import (builtins.toFile "x.nix" "1 + 2")"#), "3");
        assert_eq!(
            ok(r#"scopedImport { z = 4; } (builtins.toFile "s.nix" "z")"#),
            "4"
        );
        assert_eq!(ok(&format!("builtins.readFile {f}")), r#""hello""#);
        assert_eq!(ok(&format!("builtins.pathExists {f}")), "true");
        assert_eq!(ok(&format!(r#"builtins.pathExists "${{{f}}}/""#)), "false");
        assert_eq!(ok(&format!(r#"builtins.pathExists "${{{f}}}/x""#)), "false");
        assert_eq!(ok(&format!("builtins.readFileType {f}")), r#""regular""#);
        assert_eq!(
            ok(&format!(r#"builtins.hashFile "sha256" {f}"#)),
            r#""2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824""#
        );
        let err = run(&format!("builtins.readDir {f}")).unwrap_err();
        assert!(err.ends_with("-y' is not a directory"), "{err}");
        // The store paths of the file copied again (names as the default store gives
        // them; the digests do not depend on the store directory).
        let f = r#"(builtins.toFile "y" "hello")"#;
        let mut ev = Eval::new(EvalOptions::default());
        let mut ok_default = |e: &str| {
            let v = ev.eval_expr(e, Path::new("/")).unwrap();
            crate::print::print_value(&mut ev, &v, true).unwrap()
        };
        assert_eq!(
            ok_default(&format!("builtins.path {{ path = {f}; }}")),
            r#""/nix/store/hi2raqw5g38z355sbvdgxn9q9py23lpl-5dj7a9ywry90yn8v2m7mv85rjjqk4va2-y""#
        );
        assert_eq!(
            ok_default(&format!(
                "builtins.path {{ path = {f}; recursive = false; }}"
            )),
            r#""/nix/store/kz0if1hprzmg2ay2byd03jbqqxdwkx1x-5dj7a9ywry90yn8v2m7mv85rjjqk4va2-y""#
        );
    }
}
