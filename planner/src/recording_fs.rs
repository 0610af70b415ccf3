//! A file system that records what an evaluation observed, so that a cached answer can be
//! checked against the files it depended on.

use kith_eval::{FileKind, FileSystem, OsFileSystem, Stat};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::ffi::OsString;
use std::io::{self, Read};
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
            "tree" => tree_digest(path),
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
        Observation::observe(&self.op, &self.path) == *self
    }
}

/// blake3 of a directory tree's metadata: every entry's relative path, kind, size and
/// modification time (`.git` left out). Any edit, addition or removal changes it.
fn tree_digest(root: &Path) -> io::Result<String> {
    use std::os::unix::fs::MetadataExt;
    let mut h = blake3::Hasher::new();
    let mut stack = vec![root.to_path_buf()];
    std::fs::metadata(root)?;
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)?.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            if e.file_name() == ".git" {
                continue;
            }
            let m = e.metadata()?;
            let p = e.path();
            h.update(
                p.strip_prefix(root)
                    .unwrap_or(&p)
                    .as_os_str()
                    .as_encoded_bytes(),
            );
            h.update(FileKind::of(m.file_type()).as_str().as_bytes());
            h.update(&m.len().to_le_bytes());
            h.update(&m.mtime().to_le_bytes());
            h.update(&m.mtime_nsec().to_le_bytes());
            if m.is_dir() {
                stack.push(p);
            }
        }
    }
    Ok(h.finalize().to_hex().to_string())
}

/// The host's file system, remembering every path read (observed on demand by
/// [`RecordingFs::observations`]).
#[derive(Default)]
pub struct RecordingFs {
    seen: RefCell<Vec<(&'static str, PathBuf)>>,
    /// Observations made while reading (content and listings are digested as read).
    observed: RefCell<std::collections::HashMap<(&'static str, PathBuf), String>>,
}

impl RecordingFs {
    fn note(&self, op: &'static str, path: &Path) {
        self.seen.borrow_mut().push((op, path.to_path_buf()));
    }

    fn record(&self, op: &'static str, path: &Path, digest: String) {
        self.observed
            .borrow_mut()
            .insert((op, path.to_path_buf()), digest);
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
        let mut unique = std::collections::HashSet::new();
        let mut seen: Vec<(&'static str, PathBuf)> = Vec::new();
        for (op, p) in &all[mark..] {
            if unique.insert((*op, p.as_path())) && !skip(p) {
                seen.push((op, p.clone()));
            }
        }
        seen.sort_unstable();
        let observed = self.observed.borrow();
        seen.iter()
            .map(|(op, p)| match observed.get(&(*op, p.clone())) {
                Some(d) => Observation {
                    op: op.to_string(),
                    path: p.clone(),
                    digest: d.clone(),
                },
                None => Observation::observe(op, p),
            })
            .collect()
    }
}

impl FileSystem for RecordingFs {
    fn lstat(&self, path: &Path) -> io::Result<Stat> {
        self.note("stat", path);
        OsFileSystem.lstat(path)
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
