//! Path literals: resolution against the file's directory (canonicalised lexically by
//! `kith_store::canon_path`, shared with the evaluator).

use std::path::Path;

pub(super) use kith_store::canon_path;

/// Resolves a path literal's text (`./a`, `../a`, `a/b`, `/abs`) against `base_dir`, like
/// Nix's `absPath` followed by `canonPath`. A trailing `/` (the literal prefix of an
/// interpolated path, `./a/${b}`) is kept.
pub(super) fn resolve_path(literal: &str, base_dir: &Path) -> String {
    let joined = if literal.starts_with('/') {
        literal.to_string()
    } else {
        format!(
            "{}/{}",
            crate::bytestr::from_os(base_dir.as_os_str()),
            literal
        )
    };
    let mut out = canon_path(&joined);
    if literal.len() > 1 && literal.ends_with('/') && !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// Resolves a `~/…` literal: `$HOME` followed by the text after `~` (not canonicalised,
/// as in Nix).
pub(super) fn resolve_home(literal: &str) -> String {
    let home = std::env::var_os("HOME").unwrap_or_default();
    format!("{}{}", crate::bytestr::from_os(&home), &literal[1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalisation() {
        assert_eq!(canon_path("/a/./b//c/../d"), "/a/b/d");
        assert_eq!(canon_path("/../.."), "/");
        assert_eq!(canon_path("/"), "/");
        assert_eq!(canon_path("/a/b/"), "/a/b");
    }

    #[test]
    fn resolution() {
        let base = Path::new("/x/y");
        assert_eq!(resolve_path("./a", base), "/x/y/a");
        assert_eq!(resolve_path("../a", base), "/x/a");
        assert_eq!(resolve_path("a/b", base), "/x/y/a/b");
        assert_eq!(resolve_path("/abs/./p", base), "/abs/p");
        assert_eq!(resolve_path("./a/", base), "/x/y/a/");
        assert_eq!(resolve_path("./", base), "/x/y/");
        assert_eq!(resolve_path("/", base), "/");
    }
}
