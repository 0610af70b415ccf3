//! The virtual store: store paths kith computed but never wrote.
//!
//! Nix copies every flake source to the store and evaluates it there, so paths inside a
//! flake print as `/nix/store/<hash>-source/…`. kith computes the same store path and
//! records here which directory holds its files (and, for git sources, which of them are
//! tracked). `builtins.toFile` results are kept here too, as their contents in memory.
//! File-reading primitives ask [`Eval::fs_path`] where a path really is, and
//! [`Eval::store_text`] first whether it is such an in-memory file.

use crate::eval::Eval;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::rc::Rc;

/// Paths (relative, `/`-separated) visible in a filtered source: tracked files and their
/// ancestor directories.
pub type Visible = Rc<HashSet<String>>;

/// One mapped store path.
#[derive(Clone, Debug)]
struct Entry {
    real: PathBuf,
    visible: Option<Visible>,
}

/// Store path → the directory holding its contents, or the contents of a text file.
#[derive(Clone, Debug, Default)]
pub struct StoreOverlay {
    entries: HashMap<String, Entry>,
    texts: HashMap<String, Rc<[u8]>>,
}

/// Where a path's contents are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// Not inside a mapped store path: the path itself.
    Unmapped,
    /// Inside a mapped store path, at this real location.
    Real(PathBuf),
    /// Inside a mapped store path, but filtered out (an untracked file), or below an
    /// in-memory text file.
    Hidden,
    /// An in-memory text file (`builtins.toFile`), with these contents.
    Text(Rc<[u8]>),
}

impl StoreOverlay {
    /// Maps `store_path` (`/nix/store/<hash>-<name>`) to the directory `real`; `visible`
    /// restricts which paths below it exist.
    pub fn add(&mut self, store_path: String, real: PathBuf, visible: Option<Visible>) {
        self.entries.insert(store_path, Entry { real, visible });
    }

    /// Records the text file `store_path` (a `builtins.toFile` result) with `contents`.
    pub fn add_text(&mut self, store_path: String, contents: &[u8]) {
        self.texts
            .entry(store_path)
            .or_insert_with(|| contents.into());
    }

    /// Whether nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.texts.is_empty()
    }

    /// Where the contents of `path` (canonical, absolute) are.
    pub fn resolve(&self, store_dir: &str, path: &str) -> Resolved {
        if self.is_empty() {
            return Resolved::Unmapped;
        }
        let Some(rest) = path
            .strip_prefix(store_dir)
            .and_then(|r| r.strip_prefix('/'))
        else {
            return Resolved::Unmapped;
        };
        let (base, below) = match rest.split_once('/') {
            Some((b, r)) => (b, r),
            None => (rest, ""),
        };
        let key = format!("{store_dir}/{base}");
        if let Some(text) = self.texts.get(&key) {
            return match below.trim_end_matches('/') {
                "" => Resolved::Text(text.clone()),
                _ => Resolved::Hidden,
            };
        }
        let Some(entry) = self.entries.get(&key) else {
            return Resolved::Unmapped;
        };
        let below = below.trim_end_matches('/');
        if below.is_empty() {
            return Resolved::Real(entry.real.clone());
        }
        if let Some(v) = &entry.visible {
            if !v.contains(below) {
                return Resolved::Hidden;
            }
        }
        Resolved::Real(entry.real.join(crate::bytestr::to_path(below)))
    }
}

impl StoreOverlay {
    /// For a path inside a filtered source: the source's directory and visible set, to
    /// filter a NAR walk of the real files below `path`.
    pub fn visibility(&self, store_dir: &str, path: &str) -> Option<(PathBuf, Visible)> {
        let rest = path.strip_prefix(store_dir)?.strip_prefix('/')?;
        let base = rest.split('/').next()?;
        let entry = self.entries.get(&format!("{store_dir}/{base}"))?;
        Some((entry.real.clone(), entry.visible.clone()?))
    }
}

/// Where hidden paths are "read" from: a path that never exists, so reads fail as for a
/// missing file.
const NOWHERE: &str = "/proc/kith-filtered-out-path";

impl Eval {
    /// [`Eval::fs_path`], with a never-existing path for filtered-out files.
    pub fn real_fs_path(&self, path: &str) -> PathBuf {
        self.fs_path(path).unwrap_or_else(|| PathBuf::from(NOWHERE))
    }

    /// A NAR filter hiding the untracked files below `path` if it lies in a git source.
    pub fn nar_filter_for(
        &self,
        path: &str,
    ) -> impl FnMut(&std::path::Path, crate::store::nar::FileKind) -> crate::error::Result<bool>
    {
        let vis = self.overlay.visibility(&self.options.store_dir, path);
        move |p, _| {
            Ok(match &vis {
                None => true,
                Some((root, set)) => p
                    .strip_prefix(root)
                    .is_ok_and(|r| set.contains(r.to_string_lossy().as_ref())),
            })
        }
    }

    /// Reads a file through the overlay; errors name `file` as given.
    pub(crate) fn read_bytes_mapped(&self, file: &std::path::Path) -> std::io::Result<Vec<u8>> {
        let name = crate::bytestr::from_os(file.as_os_str());
        if let Some(text) = self.store_text(&name) {
            return Ok(text.to_vec());
        }
        std::fs::read(self.real_fs_path(&name))
    }

    /// Reads a Nix source file through the overlay; errors name `file` as given.
    pub(crate) fn read_source_mapped(
        &self,
        file: &std::path::Path,
    ) -> crate::error::Result<String> {
        let bytes = self.read_bytes_mapped(file).map_err(|e| {
            crate::error::EvalError::new(format!(
                "opening file '{}': {}",
                file.display(),
                crate::eval::io_reason(&e)
            ))
        })?;
        // Nix reads source files as bytes; the parser gets them encoded.
        Ok(crate::bytestr::encode_owned(bytes))
    }

    /// Whether `path` (possibly inside a mapped source) is a directory.
    pub(crate) fn is_dir_mapped(&self, path: &std::path::Path) -> bool {
        self.fs_path(&crate::bytestr::from_os(path.as_os_str()))
            .is_some_and(|p| p.is_dir())
    }

    /// The real location of `path` for reading: itself, its source directory if it is
    /// inside a flake source kith did not copy to the store, or `None` if it is filtered
    /// out of such a source (then it does not exist, as in Nix) or is an in-memory text
    /// file (see [`Eval::store_text`]).
    pub fn fs_path(&self, path: &str) -> Option<PathBuf> {
        match self.overlay.resolve(&self.options.store_dir, path) {
            Resolved::Unmapped => Some(crate::bytestr::to_path(path).into_owned()),
            Resolved::Real(p) => Some(p),
            Resolved::Hidden | Resolved::Text(_) => None,
        }
    }

    /// The contents of `path` if it is a `builtins.toFile` result kith keeps in memory.
    pub fn store_text(&self, path: &str) -> Option<Rc<[u8]>> {
        match self.overlay.resolve(&self.options.store_dir, path) {
            Resolved::Text(t) => Some(t),
            _ => None,
        }
    }

    /// Whether `path` exists (a dangling symlink does), through the overlay.
    pub fn path_exists_mapped(&self, path: &str) -> bool {
        match self.overlay.resolve(&self.options.store_dir, path) {
            Resolved::Unmapped => std::fs::symlink_metadata(crate::bytestr::to_path(path)).is_ok(),
            Resolved::Real(p) => std::fs::symlink_metadata(p).is_ok(),
            Resolved::Hidden => false,
            Resolved::Text(_) => true,
        }
    }

    /// Records a `builtins.toFile` result, so that reading it works without a store.
    pub fn map_store_text(&mut self, store_path: String, contents: &[u8]) {
        self.overlay.add_text(store_path, contents);
    }

    /// Registers a store path whose contents are read from `real`.
    pub fn map_store_path(&mut self, store_path: String, real: PathBuf, visible: Option<Visible>) {
        self.overlay.add(store_path, real, visible);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_below_mapped_paths() {
        let mut o = StoreOverlay::default();
        let vis: HashSet<String> = ["a", "d", "d/b"].iter().map(|s| s.to_string()).collect();
        o.add(
            "/nix/store/abc-source".into(),
            "/src".into(),
            Some(Rc::new(vis)),
        );
        let r = |p: &str| o.resolve("/nix/store", p);
        assert_eq!(r("/nix/store/abc-source"), Resolved::Real("/src".into()));
        assert_eq!(
            r("/nix/store/abc-source/d/b"),
            Resolved::Real("/src/d/b".into())
        );
        assert_eq!(r("/nix/store/abc-source/x"), Resolved::Hidden);
        assert_eq!(r("/nix/store/abd-source/x"), Resolved::Unmapped);
        assert_eq!(r("/tmp/x"), Resolved::Unmapped);
    }
}
