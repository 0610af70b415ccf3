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
    /// blake3 of what was seen (content, sorted listing, kind, link target), or `missing`;
    /// empty for a file read checked by its token alone (see [`Observation::by_token_alone`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    /// For a file read: its metadata when it was read, as a token that lets a check
    /// `stat` it instead of reading it again (see [`crate::tree_index::file_token`]);
    /// `None` where the content has to be compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat: Option<u64>,
    /// For a file read with a token: its path had no symbolic link, and it is checked so
    /// (see [`elide_implied`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_links: bool,
}

/// `observations` without the `stat` observations that a file read with a token and no
/// symbolic link on its path implies: each directory on that path was a directory, and
/// the file itself a regular file. Such a read is checked by opening its path with no
/// link allowed and comparing the token, with no fallback to its content, so that if it
/// holds, so do the observations it implies (a directory replaced, or turned into a
/// link, fails the open or changes the file's inode).
pub fn elide_implied(mut observations: Vec<Observation>) -> Vec<Observation> {
    let anchors: Vec<&Path> = observations
        .iter()
        .filter(|o| o.op == "read" && o.no_links && o.stat.is_some())
        .map(|o| o.path.as_path())
        .collect();
    if anchors.is_empty() {
        return observations;
    }
    let mut dirs: rustc_hash::FxHashSet<&std::ffi::OsStr> = Default::default();
    let mut files: rustc_hash::FxHashSet<&std::ffi::OsStr> = Default::default();
    for a in &anchors {
        files.insert(a.as_os_str());
        for d in a.ancestors().skip(1) {
            if !dirs.insert(d.as_os_str()) {
                break;
            }
        }
    }
    let implied: Vec<bool> = observations
        .iter()
        .map(|o| {
            o.op == "stat"
                && match o.digest.as_str() {
                    "directory" => dirs.contains(o.path.as_os_str()),
                    "regular" => files.contains(o.path.as_os_str()),
                    _ => false,
                }
        })
        .collect();
    let mut i = 0;
    observations.retain(|_| {
        i += 1;
        !implied[i - 1]
    });
    observations
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
            stat: None,
            no_links: false,
        }
    }

    /// Whether this is a file read with a metadata token and no link on its path: it is
    /// checked by the token alone, never by its content, so its digest need not be kept.
    pub fn by_token_alone(&self) -> bool {
        self.op == "read" && self.no_links && self.stat.is_some()
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
        if let Some(token) = self.stat {
            if self.no_links {
                // No fallback: the observations this one implies were left out.
                return crate::tree_index::file_unchanged_no_links(&self.path, token);
            }
            if crate::tree_index::file_unchanged(&self.path, token) {
                return true;
            }
        }
        Observation::observe(&self.op, &self.path).digest == self.digest
    }

    /// Gives a file read observed without a metadata token (it was racy then) one, if its
    /// content is still what was observed and its times are no longer racy; whether it
    /// did. A later check then `stat`s the file instead of reading it, as
    /// [`crate::tree_index::refresh_settled`] does for trees.
    pub fn settle(&mut self) -> bool {
        if self.op != "read" || self.stat.is_some() {
            return false;
        }
        match read_with_token(&self.path) {
            Ok((bytes, Some(token), no_links)) if content_digest(&bytes) == self.digest => {
                self.stat = Some(token);
                self.no_links = no_links;
                true
            }
            _ => false,
        }
    }

    /// For a read compared by its content (no token): whether the file may have changed
    /// at or after `since` (from [`fs_clock_now`]), or is gone though it was read. Such a
    /// read may have been observed after the answer was computed (the flake's own
    /// `flake.nix` and `flake.lock` are), like a tree.
    pub fn read_changed_since(&self, since: std::time::SystemTime) -> bool {
        if self.op != "read" || self.stat.is_some() {
            return false;
        }
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) => changed_since(crate::tree_index::newest_time(&m), since),
            Err(_) => self.digest != "missing",
        }
    }

    /// Observes the tree at `root`, for an answer computed from what the tree held at
    /// `since` (a time taken before anything of the tree was read), and, with `cache_dir`,
    /// writes its stat index there, so that a later check need not walk it. `None` if an
    /// entry of the tree changed since then: the tree is observed after the answer was
    /// computed, and its metadata would then vouch for content the answer may not have
    /// seen (file reads, whose tokens are taken before their content is read, need no
    /// such guard).
    pub fn observe_tree(
        root: &Path,
        cache_dir: Option<&Path>,
        since: std::time::SystemTime,
    ) -> Option<Observation> {
        let digest = match crate::tree_index::scan_with_newest(root, cache_dir.is_some()) {
            Ok((_, _, newest)) if changed_since(newest, since) => return None,
            Ok((digest, index, _)) => {
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
        Some(Observation {
            op: "tree".into(),
            path: root.to_path_buf(),
            digest,
            stat: None,
            no_links: false,
        })
    }
}

/// The time as file system timestamps tell it: the kernel's coarse clock, which they are
/// taken from (or a later, finer one), so that a change after this has a modification
/// and change time no earlier than it. What [`Observation::observe_tree`] is given.
pub fn fs_clock_now() -> std::time::SystemTime {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    let since_epoch = std::time::Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    );
    std::time::UNIX_EPOCH + since_epoch
}

/// Whether a modification or change time (seconds and nanoseconds since the epoch) may
/// come from a change at or after `since` (from [`fs_clock_now`]): a change in the same
/// clock tick as `since` counts, whichever came first.
fn changed_since(time: (i64, i64), since: std::time::SystemTime) -> bool {
    let since = since
        .duration_since(std::time::UNIX_EPOCH)
        .map_or((0, 0), |d| {
            (d.as_secs() as i64, i64::from(d.subsec_nanos()))
        });
    time >= since
}

/// Directories that file reads checked by their token alone
/// ([`Observation::by_token_alone`]) are checked from: for each such read, the deepest
/// directory it shares with another read, opened once with no link allowed on its own
/// path, so that each check walks only the rest of its path (the kernel's lookup of path
/// components dominates a warm check).
pub struct ReadAnchors {
    fds: Vec<Option<std::os::fd::OwnedFd>>,
    /// Per path: its anchor's index in `fds` and the byte length of the anchor's path, or
    /// `None` (checked from the root).
    of: Vec<Option<(usize, usize)>>,
}

impl ReadAnchors {
    /// The anchors of `paths` (absolute, sorted by their bytes).
    pub fn new(paths: &[&[u8]]) -> ReadAnchors {
        // The length of the deepest directory two paths share ("/a/b" for "/a/b/c" and
        // "/a/b/d"), 0 if only the root.
        let shared = |a: &[u8], b: &[u8]| {
            let n = a.iter().zip(b).take_while(|(x, y)| x == y).count();
            let cut = |p: &[u8]| p.get(n) == Some(&b'/') || p.len() == n;
            if cut(a) && cut(b) {
                n
            } else {
                a[..n].iter().rposition(|&c| c == b'/').unwrap_or(0)
            }
        };
        let mut of = vec![None; paths.len()];
        let mut dirs: Vec<&[u8]> = Vec::new();
        let mut fds = Vec::new();
        for (k, p) in paths.iter().enumerate() {
            let before = k.checked_sub(1).map_or(0, |j| shared(paths[j], p));
            let after = paths.get(k + 1).map_or(0, |q| shared(p, q));
            // A directory of `p`, not `p` itself.
            let len = before
                .max(after)
                .min(p.iter().rposition(|&c| c == b'/').unwrap_or(0));
            if len <= 1 {
                continue;
            }
            let dir = &p[..len];
            let at = match dirs.iter().rposition(|d| *d == dir) {
                Some(at) => at,
                None => {
                    dirs.push(dir);
                    let path = Path::new(std::ffi::OsStr::from_bytes(dir));
                    fds.push(crate::tree_index::open_dir_no_links(path).ok());
                    dirs.len() - 1
                }
            };
            of[k] = Some((at, len));
        }
        ReadAnchors { fds, of }
    }

    /// Whether the file at `paths[i]` (as given to [`ReadAnchors::new`]), reached with no
    /// link on its path, still has the metadata token `token`.
    pub fn holds(&self, i: usize, path: &[u8], token: u64) -> bool {
        match self.of.get(i) {
            Some(Some((at, len))) => {
                let Some(Some(fd)) = self.fds.get(*at) else {
                    return false;
                };
                crate::tree_index::file_unchanged_no_links_at(
                    fd,
                    Path::new(std::ffi::OsStr::from_bytes(&path[len + 1..])),
                    token,
                )
            }
            _ => crate::tree_index::file_unchanged_no_links(
                Path::new(std::ffi::OsStr::from_bytes(path)),
                token,
            ),
        }
    }
}

/// The host's file system, remembering every path read (observed on demand by
/// [`RecordingFs::observations`]).
#[derive(Default)]
pub struct RecordingFs {
    seen: RefCell<Vec<(&'static str, PathBuf)>>,
    /// Observations made while reading (content and listings are digested as read, a
    /// file's metadata token taken before its content is read). Keyed by the path's bytes
    /// (hashing a `Path` walks its components).
    observed: RefCell<rustc_hash::FxHashMap<(&'static str, OsString), Seen>>,
    /// Paths noted again as reused since the last mark (each once).
    reused: RefCell<rustc_hash::FxHashSet<(PathBuf, bool)>>,
}

/// What a read saw: the content's digest, the metadata token, and whether the path had
/// no symbolic link.
type Seen = (String, Option<u64>, bool);

/// The content of the file at `path`, its metadata token, taken from the open file before
/// reading it (a change after the token is taken changes the metadata, so the token never
/// vouches for content other than what was read), and whether the path had no symbolic
/// link.
fn read_with_token(path: &Path) -> io::Result<(Vec<u8>, Option<u64>, bool)> {
    let (mut file, no_links) = match crate::tree_index::open_no_links(path) {
        Ok(f) => (f, true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(e),
        Err(_) => (std::fs::File::open(path)?, false),
    };
    let meta = file.metadata()?;
    let token = crate::tree_index::file_token(&meta);
    let mut bytes = Vec::new();
    kith_store::fs::read_rest(
        &mut file,
        usize::try_from(meta.len()).unwrap_or(0),
        &mut bytes,
    )?;
    Ok((bytes, token, no_links))
}

impl RecordingFs {
    fn note(&self, op: &'static str, path: &Path) {
        self.seen.borrow_mut().push((op, path.to_path_buf()));
    }

    fn record(&self, op: &'static str, path: &Path, seen: Seen) {
        self.observed
            .borrow_mut()
            .insert((op, path.as_os_str().to_owned()), seen);
    }

    /// How many reads were recorded so far (see [`RecordingFs::observations_since`]).
    pub fn mark(&self) -> usize {
        self.reused.borrow_mut().clear();
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
        self.observations_between(mark..self.mark(), skip)
    }

    /// [`RecordingFs::observations`] of the reads recorded between two marks.
    pub fn observations_between(
        &self,
        marks: std::ops::Range<usize>,
        skip: impl Fn(&Path) -> bool,
    ) -> Vec<Observation> {
        let all = self.seen.borrow();
        let mut seen: Vec<(&'static str, &Path)> = all[marks]
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
                    Some((d, stat, no_links)) => Observation {
                        op: op.to_string(),
                        path: p.to_path_buf(),
                        digest: d.clone(),
                        stat: *stat,
                        no_links: *no_links && stat.is_some(),
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
        self.record("stat", path, (digest, None, false));
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
            self.record("list", path, (d, None, false));
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
        let (bytes, stat, no_links) = read_with_token(path)?;
        self.record("read", path, (content_digest(&bytes), stat, no_links));
        Ok(bytes)
    }
    fn reused(&self, path: &Path, tree: bool) {
        if !self.reused.borrow_mut().insert((path.to_path_buf(), tree)) {
            return;
        }
        if !tree {
            return self.note("read", path);
        }
        // Every earlier read below `path`, noted again (with what it saw then).
        let again: Vec<(&'static str, PathBuf)> = self
            .seen
            .borrow()
            .iter()
            .filter(|(_, p)| p.starts_with(path))
            .cloned()
            .collect();
        self.seen.borrow_mut().extend(again);
    }
}

/// What one read through a [`DigestingFs`] saw: the operation, the path and a digest of
/// the result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digested {
    op: Op,
    path: PathBuf,
    digest: String,
}

/// A file system operation a [`DigestingFs`] remembers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Lstat,
    Stat,
    Link,
    List,
    Read,
    Canonical,
}

impl Op {
    /// The digest of what `self` sees of `path` through `fs` now.
    fn digest(self, fs: &dyn FileSystem, path: &Path) -> String {
        match self {
            Op::Lstat => stat_digest(&fs.lstat(path)),
            Op::Stat => stat_digest(&fs.stat(path)),
            Op::Link => path_digest(&fs.read_link(path)),
            Op::List => list_digest(&fs.read_dir(path)),
            Op::Read => read_digest(&fs.read(path)),
            Op::Canonical => path_digest(&fs.canonicalize(path)),
        }
    }
}

fn stat_digest(r: &io::Result<Stat>) -> String {
    match r {
        Ok(st) => format!(
            "{}{}",
            st.kind.as_str(),
            if st.executable { " x" } else { "" }
        ),
        Err(_) => "missing".into(),
    }
}

fn path_digest(r: &io::Result<PathBuf>) -> String {
    match r {
        Ok(p) => content_digest(p.as_os_str().as_bytes()),
        Err(_) => "missing".into(),
    }
}

fn list_digest(r: &io::Result<Vec<(OsString, FileKind)>>) -> String {
    match r {
        Ok(entries) => listing_digest(
            entries
                .iter()
                .map(|(n, k)| (n.to_string_lossy().into_owned(), k.as_str())),
        ),
        Err(_) => "missing".into(),
    }
}

fn read_digest(r: &io::Result<Vec<u8>>) -> String {
    match r {
        Ok(bytes) => content_digest(bytes),
        Err(_) => "missing".into(),
    }
}

impl Digested {
    /// The path read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the same read through `fs` sees the same now.
    pub fn holds(&self, fs: &dyn FileSystem) -> bool {
        self.op.digest(fs, &self.path) == self.digest
    }
}

/// A file system read through another that any thread can read (an editor's buffers over
/// the disk), remembering what each read saw, so that a result computed from those reads
/// can be kept while reading them again sees the same ([`Digested::holds`]).
pub struct DigestingFs {
    inner: crate::lint::SharedFs,
    seen: RefCell<Vec<Digested>>,
    /// Paths noted again as reused since the last mark (each once).
    reused: RefCell<rustc_hash::FxHashSet<(PathBuf, bool)>>,
    /// The last read of each file, by its place in `seen`.
    last_read: RefCell<rustc_hash::FxHashMap<PathBuf, usize>>,
}

impl DigestingFs {
    /// Reads through `inner`.
    pub fn new(inner: crate::lint::SharedFs) -> DigestingFs {
        DigestingFs {
            inner,
            seen: RefCell::new(Vec::new()),
            reused: RefCell::new(Default::default()),
            last_read: RefCell::new(Default::default()),
        }
    }

    /// How many reads were made so far.
    pub fn mark(&self) -> usize {
        self.reused.borrow_mut().clear();
        self.seen.borrow().len()
    }

    /// The reads made since `mark`, each once.
    pub fn since(&self, mark: usize) -> Vec<Digested> {
        self.between(mark..self.mark())
    }

    /// The reads made between two marks, each once.
    pub fn between(&self, marks: std::ops::Range<usize>) -> Vec<Digested> {
        let mut out = self.seen.borrow()[marks].to_vec();
        out.sort_by(|a, b| {
            (a.op, a.path.as_os_str().as_bytes()).cmp(&(b.op, b.path.as_os_str().as_bytes()))
        });
        out.dedup();
        out
    }

    fn seen<T>(
        &self,
        op: Op,
        path: &Path,
        r: io::Result<T>,
        digest: impl Fn(&io::Result<T>) -> String,
    ) -> io::Result<T> {
        if op == Op::Read {
            let at = self.seen.borrow().len();
            self.last_read.borrow_mut().insert(path.to_path_buf(), at);
        }
        self.seen.borrow_mut().push(Digested {
            op,
            path: path.to_path_buf(),
            digest: digest(&r),
        });
        r
    }
}

impl FileSystem for DigestingFs {
    fn lstat(&self, path: &Path) -> io::Result<Stat> {
        self.seen(Op::Lstat, path, self.inner.lstat(path), stat_digest)
    }
    fn stat(&self, path: &Path) -> io::Result<Stat> {
        self.seen(Op::Stat, path, self.inner.stat(path), stat_digest)
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        self.seen(Op::Link, path, self.inner.read_link(path), path_digest)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<(OsString, FileKind)>> {
        self.seen(Op::List, path, self.inner.read_dir(path), list_digest)
    }
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + '_>> {
        // Read whole, so that what is digested is what the reader gives.
        let bytes = self.read(path)?;
        Ok(Box::new(io::Cursor::new(bytes)))
    }
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        self.seen(
            Op::Canonical,
            path,
            self.inner.canonicalize(path),
            path_digest,
        )
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.seen(Op::Read, path, self.inner.read(path), read_digest)
    }
    fn reused(&self, path: &Path, tree: bool) {
        if !self.reused.borrow_mut().insert((path.to_path_buf(), tree)) {
            return;
        }
        // The earlier reads of `path` (below it, with `tree`), noted again as they were.
        let again: Vec<Digested> = if tree {
            let seen = self.seen.borrow();
            seen.iter()
                .filter(|r| r.path.starts_with(path))
                .cloned()
                .collect()
        } else {
            let at = self.last_read.borrow().get(path).copied();
            at.map(|i| self.seen.borrow()[i].clone())
                .into_iter()
                .collect()
        };
        self.seen.borrow_mut().extend(again);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree_index::tests::tempfile_dir::Dir;

    /// What a digesting file system saw holds while the files read say the same through
    /// another file system, and fails once one of them does not (or is gone).
    #[test]
    fn digested_reads_hold_until_changed() {
        let d = Dir::new();
        std::fs::create_dir_all(d.0.join("a")).unwrap();
        std::fs::write(d.0.join("a/f"), "one").unwrap();
        let fs = DigestingFs::new(std::sync::Arc::new(OsFileSystem));
        let before = fs.mark();
        assert_eq!(fs.read(&d.0.join("a/f")).unwrap(), b"one");
        let mut s = String::new();
        fs.open(&d.0.join("a/f"))
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "one");
        assert!(fs.lstat(&d.0.join("a/g")).is_err());
        assert_eq!(fs.read_dir(&d.0.join("a")).unwrap().len(), 1);
        let seen = fs.since(before);
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(seen.iter().all(|r| r.holds(&OsFileSystem)));
        std::fs::write(d.0.join("a/g"), "").unwrap();
        assert_eq!(seen.iter().filter(|r| !r.holds(&OsFileSystem)).count(), 2);
        std::fs::remove_file(d.0.join("a/g")).unwrap();
        std::fs::write(d.0.join("a/f"), "two").unwrap();
        assert_eq!(seen.iter().filter(|r| !r.holds(&OsFileSystem)).count(), 1);
        assert!(fs.since(fs.mark()).is_empty());
    }

    /// The racy window has passed for files written before this.
    fn past_racy_window() {
        std::thread::sleep(std::time::Duration::from_millis(3100));
    }

    /// A file read with no link on its path is checked by its metadata and implies its
    /// directories' `stat`s; turning one of them into a link to an identical copy, or
    /// editing the file in place, is seen. A read that was racy gets its token once the
    /// window has passed.
    #[test]
    fn read_tokens_imply_directories_and_settle() {
        let d = Dir::new();
        let (a, b) = (d.0.join("a"), d.0.join("a/b"));
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("old"), "one").unwrap();
        past_racy_window();
        std::fs::write(b.join("new"), "two").unwrap();
        let fs = RecordingFs::default();
        for p in [&a, &b] {
            assert_eq!(fs.lstat(p).unwrap().kind, FileKind::Directory);
        }
        assert_eq!(fs.read(&b.join("old")).unwrap(), b"one");
        assert_eq!(fs.read(&b.join("new")).unwrap(), b"two");
        let all = fs.observations(|_| false);
        let obs = elide_implied(all.clone());
        let old = obs.iter().find(|o| o.path.ends_with("old")).unwrap();
        let new = obs.iter().find(|o| o.path.ends_with("new")).unwrap();
        assert!(old.stat.is_some() && old.no_links, "{old:?}");
        assert!(new.stat.is_none(), "written just now: racy");
        assert!(
            obs.iter().all(|o| o.op != "stat"),
            "the directories are implied by the read: {obs:?}"
        );
        assert!(obs.iter().all(Observation::holds));
        // The racy read settles once the window has passed.
        past_racy_window();
        let mut settled = new.clone();
        assert!(settled.settle());
        assert!(settled.stat.is_some() && settled.holds());
        // `b` turned into a link to an identical copy: the content read is the same,
        // but the implied observation no longer is.
        std::fs::rename(&b, a.join("c")).unwrap();
        std::os::unix::fs::symlink("c", &b).unwrap();
        assert_eq!(std::fs::read(b.join("old")).unwrap(), b"one");
        assert!(!old.holds(), "a link on the path is seen");
        std::fs::remove_file(&b).unwrap();
        std::fs::rename(a.join("c"), &b).unwrap();
        assert!(old.holds());
        // A cache entry keeps the token, not the content's digest, which it never compares.
        let cache = d.0.join("cache");
        crate::cache::store(&cache, "k", vec![old.clone()], None, &1.into(), "1");
        let entry = std::fs::read_to_string(cache.join("k.json")).unwrap();
        assert!(!entry.contains(&old.digest) && !entry.contains("\"digest\""));
        let hit = crate::cache::lookup(&cache, "k").expect("unchanged");
        assert_eq!(hit.observed(), 1);
        let back = hit.observations();
        assert!(back.len() == 1 && back[0].by_token_alone() && back[0].path == old.path);
        // A malformed token line is a miss, not a guess.
        let token = format!("{:016x}", old.stat.unwrap());
        let broken = entry.replace(&token, &"z".repeat(16));
        std::fs::write(cache.join("k.json"), broken).unwrap();
        assert!(crate::cache::lookup(&cache, "k").is_none());
        std::fs::write(cache.join("k.json"), &entry).unwrap();
        // An edit in place, same size.
        std::fs::write(b.join("old"), "eno").unwrap();
        assert!(!old.holds());
        assert!(crate::cache::lookup(&cache, "k").is_none());
        // Without the elision, every observation is kept and checked.
        assert!(all.iter().filter(|o| o.op == "stat").count() == 2);
    }

    /// A tree is not observed for an answer computed from it if one of its entries
    /// changed after the answer's computation began: its metadata would vouch for content
    /// the answer may not have seen.
    #[test]
    fn a_tree_changed_while_computing_is_not_observed() {
        let d = Dir::new();
        std::fs::create_dir_all(d.0.join("a/b")).unwrap();
        std::fs::write(d.0.join("a/b/c"), "one").unwrap();
        let tick = std::time::Duration::from_millis(20);
        std::thread::sleep(tick);
        let since = fs_clock_now();
        assert!(Observation::observe_tree(&d.0, None, since).is_some());
        std::fs::write(d.0.join("a/b/c"), "two").unwrap();
        assert!(Observation::observe_tree(&d.0, None, since).is_none());
        std::thread::sleep(tick);
        assert!(Observation::observe_tree(&d.0, None, fs_clock_now()).is_some());
        // A new entry changes its directory.
        let since = fs_clock_now();
        std::fs::write(d.0.join("a/new"), "").unwrap();
        assert!(Observation::observe_tree(&d.0, None, since).is_none());
        // So for a file compared by its content, read after the answer was computed.
        let read = Observation::observe("read", &d.0.join("a/b/c"));
        std::thread::sleep(tick);
        let since = fs_clock_now();
        assert!(!read.read_changed_since(since));
        std::fs::write(d.0.join("a/b/c"), "three").unwrap();
        assert!(read.read_changed_since(since));
        std::fs::remove_file(d.0.join("a/b/c")).unwrap();
        assert!(read.read_changed_since(since), "gone");
    }

    /// Each anchored read is checked from the deepest directory it shares with another,
    /// and gives the same answer as a check from the root.
    #[test]
    fn reads_are_checked_from_shared_directories() {
        let d = Dir::new();
        let files = ["v/m1/g/value", "v/m2/g/value", "v/x", "w/only"];
        for f in files {
            let p = d.0.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, f).unwrap();
        }
        past_racy_window();
        let fs = RecordingFs::default();
        for f in files {
            fs.read(&d.0.join(f)).unwrap();
        }
        let mut obs = fs.observations(|_| false);
        obs.sort_by(|a, b| {
            a.path
                .as_os_str()
                .as_bytes()
                .cmp(b.path.as_os_str().as_bytes())
        });
        let paths: Vec<&[u8]> = obs.iter().map(|o| o.path.as_os_str().as_bytes()).collect();
        let anchors = ReadAnchors::new(&paths);
        let holds = |i: usize| anchors.holds(i, paths[i], obs[i].stat.unwrap());
        let anchor_of = |f: &str| {
            let i = obs.iter().position(|o| o.path == d.0.join(f)).unwrap();
            anchors.of[i].map(|(_, len)| {
                let p = obs[i].path.as_os_str().as_bytes();
                String::from_utf8_lossy(&p[d.0.as_os_str().len()..len]).into_owned()
            })
        };
        assert_eq!(anchor_of("v/m1/g/value").as_deref(), Some("/v"));
        assert_eq!(anchor_of("v/x").as_deref(), Some("/v"));
        assert_eq!(anchor_of("w/only").as_deref(), Some(""));
        for (i, o) in obs.iter().enumerate() {
            assert!(o.by_token_alone() && holds(i), "{o:?}");
        }
        std::fs::write(d.0.join("v/m2/g/value"), "changed!").unwrap();
        let i = obs
            .iter()
            .position(|o| o.path.ends_with("m2/g/value"))
            .unwrap();
        assert!(!holds(i));
    }
}
