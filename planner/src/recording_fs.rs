//! A file system that records what an evaluation observed, so that a cached answer can be
//! checked against the files it depended on.

use kith_eval::{FileKind, FileSystem, OsFileSystem, Stat};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::ffi::OsString;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// One observation: what a read of `path` saw, as a digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// `read`, `list`, `stat` or `link`.
    pub op: String,
    /// The path read.
    pub path: PathBuf,
    /// blake3 of what was seen (content, sorted listing, kind, link target), or `missing`.
    pub digest: String,
}

/// The digest of a file's content.
fn content_digest(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// The digest of a directory listing (names and kinds, sorted).
fn listing_digest(entries: impl Iterator<Item = (String, &'static str)>) -> String {
    let mut names: Vec<String> = entries.map(|(n, k)| format!("{n}\0{k}")).collect();
    names.sort();
    blake3::hash(names.join("\n").as_bytes())
        .to_hex()
        .to_string()
}

impl Observation {
    /// Observes `path` again with `op`, now.
    pub fn observe(op: &str, path: &Path) -> Observation {
        let digest = match op {
            "read" => std::fs::read(path).map(|b| content_digest(&b)),
            "list" => std::fs::read_dir(path).map(|rd| {
                let entries: Vec<(String, &'static str)> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| {
                        let kind = e
                            .file_type()
                            .map(|t| FileKind::of(t).as_str())
                            .unwrap_or("?");
                        (e.file_name().to_string_lossy().into_owned(), kind)
                    })
                    .collect();
                listing_digest(entries.into_iter())
            }),
            "link" => std::fs::read_link(path).map(|t| t.to_string_lossy().into_owned()),
            "tree" => crate::tree_index::scan(path, false).map(|(d, _)| d),
            _ => std::fs::symlink_metadata(path)
                .map(|m| FileKind::of(m.file_type()).as_str().to_string()),
        };
        Observation {
            op: op.to_string(),
            path: path.to_path_buf(),
            digest: digest.unwrap_or_else(|_| "missing".into()),
        }
    }

    /// Whether `path` still looks as it did.
    pub fn holds(&self) -> bool {
        self.holds_in(None)
    }

    /// [`Observation::holds`], checking a tree by its stat index in `cache_dir` when there
    /// is one (see [`crate::tree_index`]).
    pub fn holds_in(&self, cache_dir: Option<&Path>) -> bool {
        if self.op == "tree" {
            return crate::tree_index::holds(&self.path, &self.digest, cache_dir);
        }
        Observation::observe(&self.op, &self.path) == *self
    }

    /// Observes the tree at `root` and, with `cache_dir`, writes its stat index there, so
    /// that a later check need not walk it.
    pub fn observe_tree(root: &Path, cache_dir: Option<&Path>) -> Observation {
        let digest = match crate::tree_index::scan(root, cache_dir.is_some()) {
            Ok((digest, index)) => {
                if let (Some(d), Some(index)) = (cache_dir, index) {
                    let path = crate::tree_index::index_path(d, &digest);
                    if !path.exists() && std::fs::create_dir_all(d).is_ok() {
                        crate::cache::write_atomic(&path, index.as_bytes());
                    }
                }
                digest
            }
            Err(_) => "missing".into(),
        };
        Observation {
            op: "tree".into(),
            path: root.to_path_buf(),
            digest,
        }
    }
}

/// The host's file system, remembering every path read (observed on demand by
/// [`RecordingFs::observations`]).
#[derive(Default)]
pub struct RecordingFs {
    seen: RefCell<Vec<(&'static str, PathBuf)>>,
    /// Observations made while reading (content and listings are digested as read).
    /// Keyed by the path's bytes (hashing a `Path` walks its components).
    observed: RefCell<std::collections::HashMap<(&'static str, OsString), String>>,
}

impl RecordingFs {
    fn note(&self, op: &'static str, path: &Path) {
        self.seen.borrow_mut().push((op, path.to_path_buf()));
    }

    fn record(&self, op: &'static str, path: &Path, digest: String) {
        self.observed
            .borrow_mut()
            .insert((op, path.as_os_str().to_owned()), digest);
    }

    /// How many reads were recorded so far (see [`RecordingFs::observations_since`]).
    pub fn mark(&self) -> usize {
        self.seen.borrow().len()
    }

    /// What the recorded reads saw (or see now, for those not digested while reading),
    /// deduplicated, in a stable order; reads of paths `skip` rejects are left out.
    pub fn observations(&self, skip: impl Fn(&Path) -> bool) -> Vec<Observation> {
        self.observations_since(0, skip)
    }

    /// [`RecordingFs::observations`] of the reads recorded since `mark`.
    pub fn observations_since(
        &self,
        mark: usize,
        skip: impl Fn(&Path) -> bool,
    ) -> Vec<Observation> {
        let all = self.seen.borrow();
        let mut seen: Vec<(&'static str, &Path)> = all[mark..]
            .iter()
            .filter(|(_, p)| !skip(p))
            .map(|(op, p)| (*op, p.as_path()))
            .collect();
        // By bytes: comparing `Path`s walks their components.
        seen.sort_unstable_by(|a, b| {
            (a.0, a.1.as_os_str().as_bytes()).cmp(&(b.0, b.1.as_os_str().as_bytes()))
        });
        seen.dedup_by(|a, b| a.0 == b.0 && a.1.as_os_str() == b.1.as_os_str());
        let observed = self.observed.borrow();
        seen.iter()
            .map(
                |(op, p)| match observed.get(&(*op, p.as_os_str().to_owned())) {
                    Some(d) => Observation {
                        op: op.to_string(),
                        path: p.to_path_buf(),
                        digest: d.clone(),
                    },
                    None => Observation::observe(op, p),
                },
            )
            .collect()
    }
}

impl FileSystem for RecordingFs {
    fn lstat(&self, path: &Path) -> io::Result<Stat> {
        self.note("stat", path);
        let r = OsFileSystem.lstat(path);
        // What a `stat` observation digests (see `Observation::observe`), seen now.
        let digest = match &r {
            Ok(st) => st.kind.as_str().to_string(),
            Err(_) => "missing".to_string(),
        };
        self.record("stat", path, digest);
        r
    }
    fn stat(&self, path: &Path) -> io::Result<Stat> {
        self.note("stat", path);
        OsFileSystem.stat(path)
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        self.note("link", path);
        OsFileSystem.read_link(path)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<(OsString, FileKind)>> {
        self.note("list", path);
        let r = OsFileSystem.read_dir(path);
        if let Ok(entries) = &r {
            let d = listing_digest(
                entries
                    .iter()
                    .map(|(n, k)| (n.to_string_lossy().into_owned(), k.as_str())),
            );
            self.record("list", path, d);
        }
        r
    }
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + '_>> {
        self.note("read", path);
        OsFileSystem.open(path)
    }
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        self.note("stat", path);
        OsFileSystem.canonicalize(path)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.note("read", path);
        let r = OsFileSystem.read(path);
        if let Ok(bytes) = &r {
            self.record("read", path, content_digest(bytes));
        }
        r
    }
}
