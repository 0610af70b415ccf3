//! Pure evaluation (`EvalOptions::pure`, the default for flakes): which files an
//! expression may read.
//!
//! As in Nix 2.26, a pure evaluation may only read the store paths of its sources — the
//! flake and its inputs, which kith maps in the evaluator's overlay instead of copying
//! them — and other store paths that exist, plus the parent directories of those (so
//! that `/nix/store` can be walked down to them). Anything else fails with Nix's
//! `access to absolute path '…' is forbidden in pure evaluation mode (use '--impure' to
//! override)`, naming the first component of the path that is not allowed; the error is
//! not catchable by `tryEval`. `builtins.pathExists` answers `false` instead.
//!
//! Deviation: Nix allows a store path only if it is an input or named by the context of
//! the string being read; kith allows every existing store path (it never builds, so
//! a path from a context that is not there cannot be read anyway).

use crate::error::{EvalError, Result};
use crate::eval::Eval;
use crate::vfs::Resolved;

/// Nix's wording of a forbidden access.
pub fn forbidden(path: &str) -> Box<EvalError> {
    EvalError::new(format!(
        "access to absolute path '{path}' is forbidden in pure evaluation mode (use '--impure' to override)"
    ))
}

/// Checks that `path` may be read in pure mode, naming the whole path (Nix's reads that do
/// not resolve symlinks, such as `builtins.readFileType`).
pub fn check_path_exact(ev: &Eval, path: &str) -> Result<()> {
    if ev.options.pure && first_forbidden(ev, path).is_some() {
        return Err(forbidden(path));
    }
    Ok(())
}

/// The shortest prefix of `path` (at component boundaries) that is not allowed.
fn first_forbidden<'a>(ev: &Eval, path: &'a str) -> Option<&'a str> {
    let ends = path
        .char_indices()
        .skip(1)
        .filter(|&(_, c)| c == '/')
        .map(|(i, _)| i)
        .chain(std::iter::once(path.len()));
    for end in ends {
        let prefix = &path[..end];
        if !prefix.is_empty() && !is_allowed(ev, prefix) {
            return Some(prefix);
        }
    }
    None
}

/// One prefix: the store directory and its ancestors, or at or below a store path that
/// is a mapped source or exists on disk.
pub(crate) fn is_allowed(ev: &Eval, prefix: &str) -> bool {
    if !ev.options.pure {
        return true;
    }
    let store_dir = ev.options.store_dir.trim_end_matches('/');
    if is_ancestor_or_self(prefix, store_dir) {
        return true;
    }
    let Some(rest) = prefix
        .strip_prefix(store_dir)
        .and_then(|r| r.strip_prefix('/'))
    else {
        return false;
    };
    let base = rest.split('/').next().unwrap_or("");
    let root = format!("{store_dir}/{base}");
    ev.overlay.resolve(store_dir, &root) != Resolved::Unmapped
        || ev.fs.lstat(crate::bytestr::to_path(&root).as_ref()).is_ok()
}

/// Whether `a` is `b` or one of its ancestor directories.
fn is_ancestor_or_self(a: &str, b: &str) -> bool {
    a == "/" || b == a || b.strip_prefix(a).is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::EvalOptions;

    fn pure_eval() -> Eval {
        let mut ev = Eval::new(EvalOptions {
            pure: true,
            ..EvalOptions::default()
        });
        ev.map_store_path(
            "/nix/store/7cp97bhs5k7iypgq099sq3sdjx1w9acm-source".into(),
            "/tmp".into(),
            None,
        );
        ev
    }

    /// Whether `path` may be read, symlinks resolved, as every reading builtin checks.
    fn check_path(ev: &Eval, path: &str) -> Result<()> {
        ev.resolve_fs(path, crate::vfs::Follow::All).map(|_| ())
    }

    #[test]
    fn names_the_first_forbidden_component() {
        let ev = pure_eval();
        // Messages of Nix 2.26 (`nix eval` of a flake reading these paths).
        assert_eq!(
            check_path(&ev, "/etc/passwd").unwrap_err().message,
            "access to absolute path '/etc' is forbidden in pure evaluation mode (use '--impure' to override)"
        );
        assert_eq!(
            check_path_exact(&ev, "/etc/passwd").unwrap_err().message,
            "access to absolute path '/etc/passwd' is forbidden in pure evaluation mode (use '--impure' to override)"
        );
        assert!(check_path(
            &ev,
            "/nix/store/7cp97bhs5k7iypgq099sq3sdjx1w9acm-source/flake.nix"
        )
        .is_ok());
        assert!(check_path(&ev, "/nix/store").is_ok());
        assert!(check_path(&ev, "/nix/store/00000000000000000000000000000000-missing").is_err());
        assert!(check_path(&ev, "/etc").is_err());
    }

    #[test]
    fn impure_allows_everything() {
        let ev = Eval::new(EvalOptions::default());
        assert!(check_path(&ev, "/etc/passwd").is_ok());
        assert!(check_path(&ev, "/etc").is_ok());
    }

    fn eval_pure(expr: &str) -> std::result::Result<String, String> {
        let mut ev = pure_eval();
        let v = ev
            .eval_expr(
                expr,
                std::path::Path::new("/nix/store/7cp97bhs5k7iypgq099sq3sdjx1w9acm-source"),
            )
            .map_err(|e| e.message.clone())?;
        crate::print::print_value(&mut ev, &v, true).map_err(|e| e.message.clone())
    }

    #[test]
    fn builtins_in_pure_mode() {
        // Nix 2.26, `nix eval` of a flake: these are the values and messages it gives.
        let forbidden = |p: &str| Err(forbidden(p).message);
        assert_eq!(eval_pure(r#"builtins.getEnv "HOME""#), Ok(r#""""#.into()));
        assert_eq!(eval_pure("builtins ? currentTime"), Ok("false".into()));
        assert_eq!(eval_pure("builtins ? currentSystem"), Ok("false".into()));
        assert_eq!(eval_pure("builtins.nixPath"), Ok("[ ]".into()));
        assert_eq!(
            eval_pure("builtins.currentTime"),
            Err("attribute 'currentTime' missing".into())
        );
        assert_eq!(
            eval_pure("<nixpkgs>"),
            Err(
                "cannot look up '<nixpkgs>' in pure evaluation mode (use '--impure' to override)"
                    .into()
            )
        );
        assert_eq!(
            eval_pure("builtins.readFile /etc/passwd"),
            forbidden("/etc")
        );
        assert_eq!(
            eval_pure(r#"builtins.readFile "/etc/passwd""#),
            forbidden("/etc")
        );
        assert_eq!(
            eval_pure("builtins.pathExists /etc/passwd"),
            Ok("false".into())
        );
        assert_eq!(eval_pure("builtins.readDir /etc"), forbidden("/etc"));
        assert_eq!(eval_pure("import /etc/passwd"), forbidden("/etc"));
        assert_eq!(
            eval_pure(r#"builtins.hashFile "sha256" /etc/passwd"#),
            forbidden("/etc")
        );
        assert_eq!(
            eval_pure("builtins.path { path = /etc/hostname; }"),
            forbidden("/etc")
        );
        assert_eq!(
            eval_pure("builtins.filterSource (p: t: true) /etc/hostname"),
            forbidden("/etc")
        );
        assert_eq!(eval_pure(r#""${/etc/hostname}""#), forbidden("/etc"));
        assert_eq!(
            eval_pure("builtins.readFileType /etc/passwd"),
            forbidden("/etc/passwd")
        );
        assert_eq!(
            eval_pure(r#"builtins.findFile [ { prefix = ""; path = "/etc"; } ] "passwd""#),
            forbidden("/etc")
        );
        assert_eq!(
            eval_pure(r#"builtins.toPath "/etc/passwd""#),
            Ok(r#""/etc/passwd""#.into())
        );
        assert_eq!(
            eval_pure("(builtins.tryEval (builtins.readFile /etc/passwd)).success"),
            forbidden("/etc")
        );
    }
}
