//! The virtual store: store paths kith computed but never wrote.
//!
//! Nix copies every flake source to the store and evaluates it there, so paths inside a
//! flake print as `/nix/store/<hash>-source/…`. kith computes the same store path and
//! records here which directory holds its files (and, for git sources, which of them are
//! tracked). `builtins.toFile` results are kept here too, as their contents in memory.
//! File-reading primitives ask [`Eval::resolve_fs`] where a path really is (and, in pure
//! mode, whether it may be read).

use crate::bytestr::{from_os, to_path};
use crate::error::{EvalError, Result};
use crate::eval::Eval;
use kith_store::fs::FileKind;
use kith_store::path::{base_name, resolve_ancestors};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
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
    /// [`Eval::resolve_fs`] results (an import resolves its path three times); cleared
    /// whenever a mapping is added.
    resolved: RefCell<FxMap<(Box<str>, Follow), FsPath>>,
    /// What each path component walked so far is (one `lstat` each, however many paths
    /// share it, as Nix's source accessor caches them); cleared with `resolved`.
    nodes: RefCell<FxMap<Box<str>, Node>>,
}

/// A hash map with the evaluator's fast hasher (for paths looked up on every read).
type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<crate::symbol::FxHasher>>;

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
        self.resolved.get_mut().clear();
        self.nodes.get_mut().clear();
    }

    /// Records the text file `store_path` (a `builtins.toFile` result) with `contents`.
    pub fn add_text(&mut self, store_path: String, contents: &[u8]) {
        self.texts
            .entry(store_path)
            .or_insert_with(|| contents.into());
        self.resolved.get_mut().clear();
        self.nodes.get_mut().clear();
    }

    /// Forgets the memo of resolved paths (the file system changed).
    pub(crate) fn forget_resolved(&mut self) {
        self.resolved.get_mut().clear();
        self.nodes.get_mut().clear();
    }

    /// Whether `path` is exactly a mapped source's store path.
    fn is_root(&self, path: &str) -> bool {
        self.entries.contains_key(path)
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
        Resolved::Real(entry.real.join(to_path(below)))
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

/// How far [`Eval::resolve_fs`] follows symlinks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Follow {
    /// Every component, the last one too (`readFile`, `readDir`, `import`, `hashFile`,
    /// `builtins.path`, `filterSource`): Nix's `SymlinkResolution::Full`.
    All,
    /// The parent directories only (`pathExists`, `"${./p}"`, which copies a symlink as a
    /// symlink): Nix's `SymlinkResolution::Ancestors`.
    Ancestors,
    /// None; a symlink among the parent directories is an error (`readFileType`).
    Nothing,
}

/// What a path resolved to.
#[derive(Clone, Debug)]
pub enum Found {
    /// A file, directory or symlink at this real location.
    Real(PathBuf),
    /// A `builtins.toFile` result kept in memory.
    Text(Rc<[u8]>),
    /// Nothing (or a file filtered out of a git source).
    Missing,
}

/// A path after [`Eval::resolve_fs`]: its symlink-free name in Nix's file system (store
/// paths as Nix shows them) and where its contents really are.
#[derive(Clone, Debug)]
pub struct FsPath {
    pub virt: String,
    pub found: Found,
}

/// One component of a path as the walk sees it.
#[derive(Clone, Debug)]
enum Node {
    Missing,
    Text(Rc<[u8]>),
    Link(String),
    Other,
}

/// Nix's bound on the symlinks followed while resolving one path.
const MAX_LINKS: u32 = 1024;

impl Eval {
    /// Resolves `path` (canonical, absolute) the way Nix resolves a path in the file system
    /// it evaluates in, where every flake source is a store path: symlinks are followed
    /// component by component (as `follow` says) *inside that file system*, so a link
    /// `../x` in a flake source points next to the source in the store, not next to the
    /// directory kith reads the source from. In pure mode every component looked at must
    /// be allowed (`purity.rs`), so no chain of links leads outside the flake, its
    /// inputs and the store; the error names the first component that is not, as Nix does.
    ///
    /// This is the one place where a path the evaluator reads is mapped to a real file:
    /// every file-reading builtin goes through it.
    pub fn resolve_fs(&self, path: &str, follow: Follow) -> Result<FsPath> {
        if !self.options.pure && self.overlay.is_empty() {
            // Outside pure mode and flakes the host's own resolution is Nix's.
            let found = match follow {
                Follow::All if self.fs.lstat(&to_path(path)).is_err() => Found::Missing,
                Follow::All => Found::Real(to_path(path).into_owned()),
                Follow::Ancestors | Follow::Nothing => match resolve_ancestors(&*self.fs, path) {
                    Ok(p) => Found::Real(p),
                    Err(_) => Found::Missing,
                },
            };
            return Ok(FsPath {
                virt: path.to_string(),
                found,
            });
        }
        let key = (Box::<str>::from(path), follow);
        if let Some(r) = self.overlay.resolved.borrow().get(&key) {
            return Ok(r.clone());
        }
        let r = self.walk(path, follow)?;
        self.overlay.resolved.borrow_mut().insert(key, r.clone());
        Ok(r)
    }

    /// [`Eval::resolve_fs`] without its memo.
    fn walk(&self, path: &str, follow: Follow) -> Result<FsPath> {
        if follow == Follow::Nothing {
            crate::purity::check_path_exact(self, path)?;
        }
        let store_dir = self.options.store_dir.trim_end_matches('/');
        let mut todo: VecDeque<String> = path
            .split('/')
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect();
        let mut done = String::new();
        let mut links = 0u32;
        let missing = |done: &str, c: &str, todo: &VecDeque<String>| {
            let mut virt = format!("{done}/{c}");
            for rest in todo {
                virt.push('/');
                virt.push_str(rest);
            }
            Ok(FsPath {
                virt,
                found: Found::Missing,
            })
        };
        while let Some(c) = todo.pop_front() {
            match c.as_str() {
                "." => continue,
                ".." => {
                    done.truncate(done.rfind('/').unwrap_or(0));
                    continue;
                }
                _ => {}
            }
            let cand = format!("{done}/{c}");
            let last = todo.is_empty();
            if follow != Follow::Nothing && !crate::purity::is_allowed(self, &cand) {
                return Err(crate::purity::forbidden(&cand));
            }
            match self.lstat_virtual(store_dir, &cand) {
                Node::Missing => return missing(&done, &c, &todo),
                Node::Text(t) if last => {
                    return Ok(FsPath {
                        virt: cand,
                        found: Found::Text(t),
                    })
                }
                Node::Text(_) => return missing(&done, &c, &todo),
                Node::Link(_) if !last && follow == Follow::Nothing => {
                    return Err(EvalError::new(format!("path '{cand}' is a symlink")));
                }
                Node::Link(target) if !last || follow == Follow::All => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(EvalError::new(format!(
                            "infinite symlink recursion in path '{path}'"
                        )));
                    }
                    if target.starts_with('/') {
                        done.clear();
                    }
                    for part in target.split('/').rev().filter(|p| !p.is_empty()) {
                        todo.push_front(part.to_string());
                    }
                }
                Node::Link(_) | Node::Other => done = cand,
            }
        }
        if done.is_empty() {
            done.push('/');
        }
        // `done` names no symlink (but a mapped source's root), so its real location is
        // the overlay's, or itself.
        let real = self.real_of(store_dir, &done);
        Ok(FsPath {
            virt: done,
            found: Found::Real(real),
        })
    }

    /// The real location of `path`, one component of a walk.
    fn real_of(&self, store_dir: &str, path: &str) -> PathBuf {
        match self.overlay.resolve(store_dir, path) {
            Resolved::Real(p) => p,
            _ => to_path(path).into_owned(),
        }
    }

    /// What `path` is, without following a symlink there. The store directory and its
    /// ancestors are directories even if this machine has no store; a mapped source's
    /// root is the directory it is read from.
    fn lstat_virtual(&self, store_dir: &str, path: &str) -> Node {
        if let Some(n) = self.overlay.nodes.borrow().get(path) {
            return n.clone();
        }
        let n = self.lstat_virtual_uncached(store_dir, path);
        self.overlay
            .nodes
            .borrow_mut()
            .insert(Box::from(path), n.clone());
        n
    }

    /// [`Eval::lstat_virtual`] without its memo.
    fn lstat_virtual_uncached(&self, store_dir: &str, path: &str) -> Node {
        if store_dir == path
            || store_dir
                .strip_prefix(path)
                .is_some_and(|r| r.starts_with('/'))
        {
            return Node::Other;
        }
        let real = match self.overlay.resolve(store_dir, path) {
            Resolved::Hidden => return Node::Missing,
            Resolved::Text(t) => return Node::Text(t),
            Resolved::Unmapped => to_path(path).into_owned(),
            Resolved::Real(p) => {
                if self.overlay.is_root(path) {
                    return Node::Other;
                }
                p
            }
        };
        match self.fs.lstat(&real) {
            Err(_) => Node::Missing,
            Ok(m) if m.kind == FileKind::Symlink => match self.fs.read_link(&real) {
                Ok(t) => Node::Link(from_os(t.as_os_str()).into_owned()),
                Err(_) => Node::Missing,
            },
            Ok(_) => Node::Other,
        }
    }

    /// A NAR filter hiding the untracked files below `path` (a resolved path, see
    /// [`FsPath::virt`]) if it lies in a git source.
    pub fn nar_filter_for(
        &self,
        path: &str,
    ) -> impl FnMut(&std::path::Path, FileKind) -> crate::error::Result<bool> {
        let vis = self.overlay.visibility(&self.options.store_dir, path);
        move |p, _| {
            Ok(match &vis {
                None => true,
                Some((root, set)) => p
                    .strip_prefix(root)
                    .is_ok_and(|r| set.contains(from_os(r.as_os_str()).as_ref())),
            })
        }
    }

    /// Reads a file through [`Eval::resolve_fs`]: resolution errors (pure mode, symlink
    /// loops) outside, I/O errors inside.
    pub(crate) fn read_bytes_mapped(
        &self,
        file: &std::path::Path,
    ) -> Result<std::io::Result<Vec<u8>>> {
        Ok(self.read_bytes_mapped_at(file)?.0)
    }

    /// [`Eval::read_bytes_mapped`], with the path read in the file system (`None` for a
    /// file kith keeps in memory).
    fn read_bytes_mapped_at(
        &self,
        file: &std::path::Path,
    ) -> Result<(std::io::Result<Vec<u8>>, Option<std::path::PathBuf>)> {
        let r = self.resolve_fs(&from_os(file.as_os_str()), Follow::All)?;
        Ok(match r.found {
            Found::Text(text) => (Ok(text.to_vec()), None),
            Found::Real(p) => (self.fs.read(&p), Some(p)),
            Found::Missing => (Err(std::io::ErrorKind::NotFound.into()), None),
        })
    }

    /// Reads a Nix source file through the overlay; errors name `file` as given.
    pub(crate) fn read_source_mapped(&self, file: &std::path::Path) -> Result<String> {
        Ok(self.read_source_mapped_at(file)?.0)
    }

    /// [`Eval::read_source_mapped`], with the path read in the file system (`None` for a
    /// file kith keeps in memory).
    pub(crate) fn read_source_mapped_at(
        &self,
        file: &std::path::Path,
    ) -> Result<(String, Option<std::path::PathBuf>)> {
        let (bytes, read) = self.read_bytes_mapped_at(file)?;
        let bytes = bytes.map_err(|e| {
            EvalError::new(format!(
                "opening file '{}': {}",
                file.display(),
                crate::eval::io_reason(&e)
            ))
        })?;
        // Nix reads source files as bytes; the parser gets them encoded.
        Ok((crate::bytestr::encode_owned(bytes), read))
    }

    /// Whether `path` (possibly inside a mapped source) is a directory, symlinks followed.
    pub(crate) fn is_dir_mapped(&self, path: &std::path::Path) -> Result<bool> {
        let r = self.resolve_fs(&from_os(path.as_os_str()), Follow::All)?;
        Ok(matches!(r.found, Found::Real(p) if self.is_dir(&p)))
    }

    /// Whether `real` is a directory (symlinks followed) in the evaluator's file system.
    pub(crate) fn is_dir(&self, real: &std::path::Path) -> bool {
        self.fs
            .stat(real)
            .is_ok_and(|s| s.kind == FileKind::Directory)
    }

    /// The contents of `path` if it is a `builtins.toFile` result kith keeps in memory.
    pub fn store_text(&self, path: &str) -> Option<Rc<[u8]>> {
        match self.overlay.resolve(&self.options.store_dir, path) {
            Resolved::Text(t) => Some(t),
            _ => None,
        }
    }

    /// Whether `path` is a file filtered out of a git source (it does not exist).
    pub(crate) fn is_hidden(&self, path: &str) -> bool {
        self.overlay.resolve(&self.options.store_dir, path) == Resolved::Hidden
    }

    /// The entries of the store directory or one of its ancestors, as a pure evaluation
    /// sees them: only the way down to the flake's sources, and those sources (Nix lists
    /// only allowed paths there).
    pub(crate) fn store_ancestor_entries(&self, dir: &str) -> Option<Vec<(String, bool)>> {
        let store_dir = self.options.store_dir.trim_end_matches('/');
        if dir == store_dir {
            let mut names: Vec<(String, bool)> = self
                .overlay
                .entries
                .iter()
                .map(|(k, e)| (base_name(k).to_string(), self.is_dir(&e.real)))
                .collect();
            names.sort();
            return Some(names);
        }
        let rest = if dir == "/" {
            store_dir.strip_prefix('/')
        } else {
            store_dir.strip_prefix(dir)?.strip_prefix('/')
        }?;
        Some(vec![(rest.split('/').next()?.to_string(), true)])
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
