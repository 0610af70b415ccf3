//! A stat index of a directory tree: what a warm cache lookup checks instead of walking
//! the tree again.
//!
//! A cached answer that contains a flake's store path depends on every file of the flake
//! (any edit changes that path), so its cache entry observes the whole tree. Walking it
//! (a directory listing per directory and a `stat` per entry) costs more than the rest of
//! a warm lookup together on a large clan. The index remembers, for every entry, its
//! relative path and a hash of its kind, size, inode, modification and change times;
//! checking it is one `statx` per entry relative to the root (the kernel walks only the
//! path below it), no directory listing, spread over two threads, on the stored bytes
//! as they are (nothing decoded, nothing allocated per entry). It is sound where the
//! walk is: an entry added to, removed from or renamed in a directory changes that
//! directory's modification and change times, and a change of content changes the file's;
//! the change time cannot be set back by a user. Entries whose times are too recent to
//! tell a later change in the same clock tick apart ("racy", as git calls them) carry the
//! digest of their content (files) or listing (directories), which the check compares.
//!
//! Indexes live next to the plan cache, named by the tree digest they stand for; a
//! missing, corrupt or foreign index only means the walk is done instead.

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The first bytes of an index file.
const MAGIC: &[u8; 8] = b"kithTI2\n";

/// How close to the scan (in seconds) a time must be for its entry to count as racy.
const RACY_SECONDS: i64 = 2;

/// The bytes of one entry's record: the offset and length of its relative path in the
/// names, the index of its digest (racy entries) or `u32::MAX`, and its metadata's hash.
const RECORD: usize = 20;

/// No digest: the entry is not racy.
const NOT_RACY: u32 = u32::MAX;

/// The metadata compared: kind, size, inode, modification and change times, as one hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Meta {
    kind: u8,
    size: u64,
    ino: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Meta {
    fn of(m: &std::fs::Metadata) -> Meta {
        Meta {
            kind: kind_of_mode(m.mode()),
            size: m.len(),
            ino: m.ino(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }

    fn of_statx(x: &rustix::fs::Statx) -> Meta {
        Meta {
            kind: kind_of_mode(u32::from(x.stx_mode)),
            size: x.stx_size,
            ino: x.stx_ino,
            mtime: (x.stx_mtime.tv_sec, i64::from(x.stx_mtime.tv_nsec)),
            ctime: (x.stx_ctime.tv_sec, i64::from(x.stx_ctime.tv_nsec)),
        }
    }

    fn is_dir(&self) -> bool {
        self.kind == 1
    }

    fn is_racy(&self, now: i64) -> bool {
        self.mtime.0 + RACY_SECONDS >= now || self.ctime.0 + RACY_SECONDS >= now
    }

    /// A 64-bit hash of every field: a change of any of them changes it but with
    /// probability 2^-64 (each word goes through a full-avalanche mixer in turn).
    fn hash(&self) -> u64 {
        let words = [
            u64::from(self.kind),
            self.size,
            self.ino,
            self.mtime.0 as u64,
            self.mtime.1 as u64,
            self.ctime.0 as u64,
            self.ctime.1 as u64,
        ];
        words.iter().fold(0x6b69_7468_7472_6565, |h, &w| mix(h ^ w))
    }
}

/// splitmix64's finaliser: every input bit affects every output bit.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// 0 file, 1 directory, 2 symlink, 3 anything else.
fn kind_of_mode(mode: u32) -> u8 {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => 1,
        libc::S_IFLNK => 2,
        libc::S_IFREG => 0,
        _ => 3,
    }
}

/// The stat index of a tree, as stored: checked in place, without decoding.
///
/// Layout: a magic number (`kithTI2`); the root (length-prefixed); the counts of entries, name bytes and
/// digests (u64 each); one 20-byte record per entry (the root first, then the walk's order);
/// the entries' relative paths, each NUL-terminated; the racy entries' 32-byte digests;
/// and a blake3 checksum of all that precedes it.
#[derive(Debug, PartialEq, Eq)]
pub struct TreeIndex {
    bytes: Vec<u8>,
    root: std::ops::Range<usize>,
    records: std::ops::Range<usize>,
    names: std::ops::Range<usize>,
    digests: std::ops::Range<usize>,
}

/// An index being built by a walk.
struct Builder {
    records: Vec<u8>,
    names: Vec<u8>,
    digests: Vec<u8>,
    count: u64,
}

impl Builder {
    fn push(&mut self, rel: &[u8], meta: &Meta, digest: Option<[u8; 32]>) {
        let racy = match digest {
            None => NOT_RACY,
            Some(d) => {
                self.digests.extend_from_slice(&d);
                (self.digests.len() / 32 - 1) as u32
            }
        };
        self.records
            .extend_from_slice(&(self.names.len() as u32).to_le_bytes());
        self.records
            .extend_from_slice(&(rel.len() as u32).to_le_bytes());
        self.records.extend_from_slice(&racy.to_le_bytes());
        self.records.extend_from_slice(&meta.hash().to_le_bytes());
        self.names.extend_from_slice(rel);
        self.names.push(0);
        self.count += 1;
    }

    fn finish(self, root: &Path) -> TreeIndex {
        let root = root.as_os_str().as_bytes();
        let mut out = Vec::with_capacity(
            64 + root.len() + self.records.len() + self.names.len() + self.digests.len(),
        );
        out.extend_from_slice(MAGIC);
        put_bytes(&mut out, root);
        for n in [
            self.count,
            self.names.len() as u64,
            (self.digests.len() / 32) as u64,
        ] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.extend_from_slice(&self.records);
        out.extend_from_slice(&self.names);
        out.extend_from_slice(&self.digests);
        let sum = blake3::hash(&out);
        out.extend_from_slice(sum.as_bytes());
        TreeIndex::parse(out).expect("an index just encoded parses")
    }
}

/// The digest of a directory tree's metadata (every entry's relative path, kind, size and
/// modification time; `.git` left out) and, with `index`, its stat index from the same
/// walk.
pub fn scan(root: &Path, index: bool) -> io::Result<(String, Option<TreeIndex>)> {
    scan_with_newest(root, index).map(|(digest, index, _)| (digest, index))
}

/// [`scan`], with the newest modification or change time of any entry (the root's
/// included), as seconds and nanoseconds since the epoch.
pub fn scan_with_newest(
    root: &Path,
    index: bool,
) -> io::Result<(String, Option<TreeIndex>, (i64, i64))> {
    let root_meta = std::fs::symlink_metadata(root)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(i64::MAX);
    let mut builder = Builder {
        records: Vec::new(),
        names: Vec::new(),
        digests: Vec::new(),
        count: 0,
    };
    if index {
        let meta = Meta::of(&root_meta);
        let digest = meta
            .is_racy(now)
            .then(|| listing_digest(root))
            .transpose()?;
        builder.push(b"", &meta, digest);
    }
    let walk = Walk { root, index, now };
    let mut newest = newest_time(&root_meta);
    let mut h = blake3::Hasher::new();
    for part in walk.visit(root.to_path_buf(), 0)? {
        newest = newest.max(part.newest);
        h.update(&part.hashed);
        for e in &part.entries {
            let rel = &part.names[e.name.clone()];
            builder.push(rel, &e.meta, e.digest);
        }
    }
    let digest = h.finalize().to_hex().to_string();
    Ok((digest, index.then(|| builder.finish(root)), newest))
}

/// The directories above this depth are walked in parallel, each below it by one thread.
const PARALLEL_DEPTH: usize = 3;

/// A walk of a tree for [`scan_with_newest`].
struct Walk<'a> {
    root: &'a Path,
    index: bool,
    now: i64,
}

/// What a walk saw of some directories, in the walk's order: the bytes the tree's digest
/// hashes, the index's entries (with `index`) and the newest time.
#[derive(Default)]
struct Part {
    hashed: Vec<u8>,
    names: Vec<u8>,
    entries: Vec<PartEntry>,
    newest: (i64, i64),
}

struct PartEntry {
    name: std::ops::Range<usize>,
    meta: Meta,
    digest: Option<[u8; 32]>,
}

impl Walk<'_> {
    /// The parts of the tree below `dir`, in order: the entries of each directory (sorted by
    /// name, `.git` left out), then its subdirectories' in reverse order (a depth-first walk
    /// with a stack). Above [`PARALLEL_DEPTH`] the subdirectories are walked in parallel.
    fn visit(&self, dir: PathBuf, depth: usize) -> io::Result<Vec<Part>> {
        use rayon::prelude::*;
        if depth >= PARALLEL_DEPTH {
            return Ok(vec![self.sequential(dir)?]);
        }
        let mut part = Part::default();
        let subdirs = self.list(&dir, &mut part)?;
        let below: Vec<Vec<Part>> = subdirs
            .into_par_iter()
            .rev()
            .map(|d| self.visit(d, depth + 1))
            .collect::<io::Result<_>>()?;
        let mut out = vec![part];
        out.extend(below.into_iter().flatten());
        Ok(out)
    }

    /// The part of the tree below `dir`, walked by this thread with a stack (no recursion:
    /// a deep tree cannot overflow the stack).
    fn sequential(&self, dir: PathBuf) -> io::Result<Part> {
        let mut part = Part::default();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            stack.extend(self.list(&d, &mut part)?);
        }
        Ok(part)
    }

    /// Adds the entries of `dir` to `part`; its subdirectories, sorted.
    fn list(&self, dir: &Path, part: &mut Part) -> io::Result<Vec<PathBuf>> {
        use kith_eval::FileKind;
        let mut list: Vec<_> = std::fs::read_dir(dir)?.filter_map(|e| e.ok()).collect();
        list.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for e in list {
            if e.file_name() == ".git" {
                continue;
            }
            let m = e.metadata()?;
            part.newest = part.newest.max(newest_time(&m));
            let p = e.path();
            let rel = p
                .strip_prefix(self.root)
                .unwrap_or(&p)
                .as_os_str()
                .as_bytes();
            let h = &mut part.hashed;
            h.extend_from_slice(rel);
            h.extend_from_slice(FileKind::of(m.file_type()).as_str().as_bytes());
            h.extend_from_slice(&m.len().to_le_bytes());
            h.extend_from_slice(&m.mtime().to_le_bytes());
            h.extend_from_slice(&m.mtime_nsec().to_le_bytes());
            if self.index {
                let meta = Meta::of(&m);
                let digest = if !meta.is_racy(self.now) {
                    None
                } else if m.is_dir() {
                    Some(listing_digest(&p)?)
                } else {
                    Some(content_digest(&p)?)
                };
                let start = part.names.len();
                part.names.extend_from_slice(rel);
                part.entries.push(PartEntry {
                    name: start..part.names.len(),
                    meta,
                    digest,
                });
            }
            if m.is_dir() {
                subdirs.push(p);
            }
        }
        Ok(subdirs)
    }
}

/// The later of an entry's modification and change times, as seconds and nanoseconds since
/// the epoch.
pub(crate) fn newest_time(m: &std::fs::Metadata) -> (i64, i64) {
    (m.mtime(), m.mtime_nsec()).max((m.ctime(), m.ctime_nsec()))
}

/// blake3 of a file's content, or of a symlink's target.
fn content_digest(path: &Path) -> io::Result<[u8; 32]> {
    let m = std::fs::symlink_metadata(path)?;
    let bytes = if m.file_type().is_symlink() {
        std::fs::read_link(path)?.as_os_str().as_bytes().to_vec()
    } else if m.is_file() {
        std::fs::read(path)?
    } else {
        Vec::new()
    };
    Ok(*blake3::hash(&bytes).as_bytes())
}

/// blake3 of a directory's sorted entry names.
fn listing_digest(path: &Path) -> io::Result<[u8; 32]> {
    let mut names: Vec<_> = std::fs::read_dir(path)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<_>>()?;
    names.sort();
    let mut h = blake3::Hasher::new();
    for n in names {
        h.update(n.as_bytes());
        h.update(b"\0");
    }
    Ok(*h.finalize().as_bytes())
}

impl TreeIndex {
    /// An index from its stored bytes, its layout checked (the checksum is verified by
    /// [`TreeIndex::unchanged`], alongside the entries); `None` for anything else.
    pub fn parse(bytes: Vec<u8>) -> Option<TreeIndex> {
        let body = bytes.len().checked_sub(32)?;
        let mut r = Reader(&bytes[..body], 0);
        if r.take(MAGIC.len())? != MAGIC {
            return None;
        }
        let root_len = usize::try_from(r.u64()?).ok()?;
        let root = r.1..r.1 + root_len;
        r.take(root_len)?;
        let count = usize::try_from(r.u64()?).ok()?;
        let names_len = usize::try_from(r.u64()?).ok()?;
        let digests = usize::try_from(r.u64()?).ok()?;
        let records = r.1..r.1 + count.checked_mul(RECORD)?;
        r.take(count.checked_mul(RECORD)?)?;
        let names = r.1..r.1 + names_len;
        r.take(names_len)?;
        let digest_area = r.1..r.1 + digests.checked_mul(32)?;
        r.take(digests.checked_mul(32)?)?;
        (r.1 == body).then_some(TreeIndex {
            bytes,
            root,
            records,
            names,
            digests: digest_area,
        })
    }

    /// The index's stored form.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The root the index describes.
    pub fn root(&self) -> &Path {
        Path::new(std::ffi::OsStr::from_bytes(&self.bytes[self.root.clone()]))
    }

    /// How many entries the index has (the root included).
    pub fn count(&self) -> usize {
        self.records.len() / RECORD
    }

    /// Whether the stored checksum is that of the rest.
    pub fn intact(&self) -> bool {
        let body = self.bytes.len() - 32;
        blake3::hash(&self.bytes[..body]).as_bytes()[..] == self.bytes[body..]
    }

    /// Whether the entries `from..to` still have the metadata (and, if racy, the content
    /// or listing) they had when indexed: one `statx` each, relative to the root, which
    /// this call opens for itself (threads sharing one descriptor would contend on its
    /// reference count in every lookup). The checksum is not verified here: see
    /// [`TreeIndex::intact`].
    pub fn check(&self, from: usize, to: usize) -> bool {
        use rustix::fs::{AtFlags, Mode, OFlags};
        let Ok(root_fd) = rustix::fs::open(
            self.root(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            return false;
        };
        let names = &self.bytes[self.names.clone()];
        let digests = &self.bytes[self.digests.clone()];
        (from..to.min(self.count())).all(|i| {
            let at = self.records.start + i * RECORD;
            let word = |k: usize| {
                u32::from_le_bytes(self.bytes[at + 4 * k..at + 4 * k + 4].try_into().unwrap())
            };
            let (off, len, racy) = (word(0) as usize, word(1) as usize, word(2));
            let hash = u64::from_le_bytes(self.bytes[at + 12..at + 20].try_into().unwrap());
            let Some(name) = off
                .checked_add(len)
                .and_then(|end| names.get(off..=end))
                .and_then(|n| std::ffi::CStr::from_bytes_with_nul(n).ok())
            else {
                return false;
            };
            // The root by its own path (as it was indexed: not followed if a link),
            // every other entry by its path below the root.
            let stat = if len == 0 {
                rustix::fs::statx(
                    rustix::fs::CWD,
                    self.root(),
                    AtFlags::SYMLINK_NOFOLLOW,
                    rustix::fs::StatxFlags::BASIC_STATS,
                )
            } else {
                rustix::fs::statx(
                    &root_fd,
                    name,
                    AtFlags::SYMLINK_NOFOLLOW,
                    rustix::fs::StatxFlags::BASIC_STATS,
                )
            };
            let Ok(x) = stat else {
                return false;
            };
            let meta = Meta::of_statx(&x);
            if meta.hash() != hash {
                return false;
            }
            if racy == NOT_RACY {
                return true;
            }
            let at = racy as usize * 32;
            let Some(d) = digests.get(at..at + 32) else {
                return false;
            };
            let path = if len == 0 {
                self.root().to_path_buf()
            } else {
                self.root()
                    .join(std::ffi::OsStr::from_bytes(name.to_bytes()))
            };
            let now = if meta.is_dir() {
                listing_digest(&path)
            } else {
                content_digest(&path)
            };
            now.ok().as_ref().map(|n| &n[..]) == Some(d)
        })
    }

    /// Whether the index is intact and every entry unchanged ([`TreeIndex::check`]), the
    /// entries shared by two threads when there are many.
    pub fn unchanged(&self) -> bool {
        let n = self.count();
        // Two threads pay off from a few thousand entries on.
        if n < 2048 {
            return self.intact() && self.check(0, n);
        }
        std::thread::scope(|s| {
            let other = s.spawn(|| self.intact() && self.check(n / 2, n));
            let mine = self.check(0, n / 2);
            mine && other.join().unwrap_or(false)
        })
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

/// A cursor over an index's bytes: the bytes and the position in them.
struct Reader<'a>(&'a [u8], usize);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.1.checked_add(n)?;
        let b = self.0.get(self.1..end)?;
        self.1 = end;
        Some(b)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// A file's metadata (kind, size, inode, modification and change times) as one token for
/// [`file_unchanged`], or `None` when its times are too recent to tell a later change in
/// the same clock tick apart (racy): such a file can only be checked by its content.
pub fn file_token(m: &std::fs::Metadata) -> Option<u64> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(i64::MAX, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let meta = Meta::of(m);
    (!meta.is_racy(now)).then(|| meta.hash())
}

/// Whether the file at `path` (symlinks followed, as it was read) still has the metadata
/// of `token` ([`file_token`]): then its content is unchanged too, as in a tree's index.
pub fn file_unchanged(path: &Path, token: u64) -> bool {
    rustix::fs::statx(
        rustix::fs::CWD,
        path,
        rustix::fs::AtFlags::empty(),
        rustix::fs::StatxFlags::BASIC_STATS,
    )
    .is_ok_and(|x| Meta::of_statx(&x).hash() == token)
}

/// The file holding the index of the tree whose digest is `digest`.
pub fn index_path(cache_dir: &Path, digest: &str) -> PathBuf {
    cache_dir.join(format!("tree-{digest}.idx"))
}

/// Whether the tree at `root` still has the digest `digest`: by its stat index in
/// `cache_dir` where there is a valid one for this root, else by walking it.
pub fn holds(root: &Path, digest: &str, cache_dir: Option<&Path>) -> bool {
    if cache_dir
        .and_then(|d| load(root, digest, d))
        .is_some_and(|index| index.unchanged())
    {
        return true;
    }
    walk_holds(root, digest)
}

/// The stat index of the tree at `root` with digest `digest` in `cache_dir`, if there is
/// a well-formed one for this root.
pub fn load(root: &Path, digest: &str, cache_dir: &Path) -> Option<TreeIndex> {
    let bytes = std::fs::read(index_path(cache_dir, digest)).ok()?;
    TreeIndex::parse(bytes).filter(|index| index.root() == root)
}

/// Rewrites the stored index of the tree at `root` (digest `digest`) without its racy
/// entries once they have settled, as git refreshes its index: an entry is racy when its
/// times were too close to the scan's to tell a later change apart, and each check then
/// reads its content; once the index is older than that window, a new walk (whose digest
/// must still be `digest`) can record those entries by their metadata alone. A freshly
/// generated or checked-out tree is racy throughout, so this turns a warm check that
/// reads every file back into one that only `stat`s them. Failures are ignored.
pub fn refresh_settled(index: &TreeIndex, digest: &str, cache_dir: &Path) {
    if index.digests.is_empty() {
        return;
    }
    let path = index_path(cache_dir, digest);
    if !settled(&path) {
        return;
    }
    if let Ok((now, Some(fresh))) = scan(index.root(), true) {
        if now == digest && fresh.digests.len() < index.digests.len() {
            crate::cache::write_atomic(&path, fresh.as_bytes());
        }
    }
}

/// `path` (relative to `dir`, or absolute) opened with `flags` if no component of it is a
/// symbolic link (`openat2` with `RESOLVE_NO_SYMLINKS`).
fn open_without_links(
    dir: impl std::os::fd::AsFd,
    path: &Path,
    flags: rustix::fs::OFlags,
) -> io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    Ok(rustix::fs::openat2(
        dir,
        path,
        flags | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::NO_SYMLINKS,
    )?)
}

/// The file at `path`, opened for reading only if no component of the path is a symbolic
/// link.
pub fn open_no_links(path: &Path) -> io::Result<std::fs::File> {
    open_without_links(rustix::fs::CWD, path, rustix::fs::OFlags::RDONLY).map(std::fs::File::from)
}

/// Whether the file at `path`, reached with no symbolic link on its path, still has the
/// metadata of `token` ([`file_token`]).
pub fn file_unchanged_no_links(path: &Path, token: u64) -> bool {
    file_unchanged_no_links_at(rustix::fs::CWD, path, token)
}

/// [`file_unchanged_no_links`] of `path` relative to the directory `dir` (opened with no
/// link on its own path: [`open_dir_no_links`]).
pub fn file_unchanged_no_links_at(dir: impl std::os::fd::AsFd, path: &Path, token: u64) -> bool {
    use rustix::fs::{AtFlags, StatxFlags};
    let Ok(fd) = open_without_links(dir, path, rustix::fs::OFlags::PATH) else {
        return false;
    };
    rustix::fs::statx(&fd, "", AtFlags::EMPTY_PATH, StatxFlags::BASIC_STATS)
        .is_ok_and(|x| Meta::of_statx(&x).hash() == token)
}

/// The directory at `path`, opened (as a path only) if no component of the path is a
/// symbolic link.
pub fn open_dir_no_links(path: &Path) -> io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::OFlags;
    open_without_links(rustix::fs::CWD, path, OFlags::PATH | OFlags::DIRECTORY)
}

/// Whether the file at `path` (an index or a cache entry) was written longer ago than the
/// racy window: what it recorded as racy then may now be recorded by metadata alone.
pub fn settled(path: &Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() > RACY_SECONDS as u64)
}

/// Whether the tree at `root`, walked, still has the digest `digest`.
pub fn walk_holds(root: &Path, digest: &str) -> bool {
    scan(root, false).is_ok_and(|(now, _)| now == digest)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn tree() -> tempfile_dir::Dir {
        let d = tempfile_dir::Dir::new();
        std::fs::create_dir_all(d.0.join("a/b")).unwrap();
        std::fs::write(d.0.join("a/b/c"), "one").unwrap();
        std::fs::write(d.0.join("top"), "two").unwrap();
        d
    }

    /// The walk's order and digest, whatever parts of it ran in parallel, are those of one
    /// depth-first walk with a stack (entries of a directory sorted, `.git` left out; its
    /// subdirectories last first), computed here independently.
    #[test]
    fn parallel_walk_is_the_stack_walk() {
        let d = tempfile_dir::Dir::new();
        for p in ["x/y/z/w/v/u", "x/y/q", "m/n", "m/.git/objects", "a"] {
            std::fs::create_dir_all(d.0.join(p)).unwrap();
        }
        for (i, f) in [
            "x/f",
            "x/y/z/w/v/u/deep",
            "x/y/q/g",
            "m/n/h",
            "a/k",
            "top",
            "m/.git/HEAD",
        ]
        .iter()
        .enumerate()
        {
            std::fs::write(d.0.join(f), "0".repeat(i)).unwrap();
        }
        let mut h = blake3::Hasher::new();
        let mut order: Vec<Vec<u8>> = Vec::new();
        let mut stack = vec![d.0.clone()];
        while let Some(dir) = stack.pop() {
            let mut list: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap())
                .collect();
            list.sort_by_key(|e| e.file_name());
            for e in list.into_iter().filter(|e| e.file_name() != ".git") {
                let m = e.metadata().unwrap();
                let p = e.path();
                let rel = p
                    .strip_prefix(&d.0)
                    .unwrap()
                    .as_os_str()
                    .as_bytes()
                    .to_vec();
                h.update(&rel);
                h.update(kith_eval::FileKind::of(m.file_type()).as_str().as_bytes());
                h.update(&m.len().to_le_bytes());
                h.update(&m.mtime().to_le_bytes());
                h.update(&m.mtime_nsec().to_le_bytes());
                order.push(rel);
                if m.is_dir() {
                    stack.push(p);
                }
            }
        }
        let (digest, index) = scan(&d.0, true).unwrap();
        assert_eq!(digest, h.finalize().to_hex().to_string());
        let index = index.unwrap();
        let names: Vec<&[u8]> = index.bytes[index.names.clone()]
            .split(|b| *b == 0)
            .filter(|n| !n.is_empty())
            .collect();
        assert_eq!(names, order.iter().map(Vec::as_slice).collect::<Vec<_>>());
        assert_eq!(order.len(), 16);
    }

    /// A temporary directory removed on drop (the planner has no tempfile dependency).
    pub(crate) mod tempfile_dir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                use std::sync::atomic::{AtomicUsize, Ordering};
                static N: AtomicUsize = AtomicUsize::new(0);
                let p = std::env::temp_dir().join(format!(
                    "kith-tree-index-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::SeqCst)
                ));
                let _ = std::fs::remove_dir_all(&p);
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn round_trip_and_corruption() {
        let d = tree();
        let (_, index) = scan(&d.0, true).unwrap();
        let index = index.unwrap();
        let bytes = index.as_bytes().to_vec();
        assert_eq!(TreeIndex::parse(bytes.clone()).as_ref(), Some(&index));
        assert!(index.unchanged());
        for cut in [0, 1, 8, bytes.len() / 2, bytes.len() - 1] {
            assert_eq!(
                TreeIndex::parse(bytes[..cut].to_vec()),
                None,
                "cut at {cut}"
            );
        }
        // A flipped bit anywhere (layout, a record, a name, the checksum) is never taken
        // for an unchanged tree.
        for at in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 1;
            if let Some(i) = TreeIndex::parse(flipped) {
                assert!(!i.unchanged(), "bit flipped at {at}");
            }
        }
    }

    #[test]
    fn every_kind_of_change_is_seen() {
        type Change = fn(&Path);
        let changes: [(&str, Change); 6] = [
            ("edit in place, same size", |r| {
                std::fs::write(r.join("a/b/c"), "eno").unwrap()
            }),
            ("append", |r| std::fs::write(r.join("top"), "two!").unwrap()),
            ("new file deep", |r| {
                std::fs::write(r.join("a/b/new"), "").unwrap()
            }),
            ("remove", |r| std::fs::remove_file(r.join("top")).unwrap()),
            ("rename", |r| {
                std::fs::rename(r.join("a/b/c"), r.join("a/b/d")).unwrap()
            }),
            ("new directory", |r| {
                std::fs::create_dir(r.join("a/x")).unwrap()
            }),
        ];
        for (what, change) in changes {
            let d = tree();
            let (digest, index) = scan(&d.0, true).unwrap();
            let index = index.unwrap();
            assert!(index.unchanged(), "{what}: fresh index");
            // Fresh entries are racy: their content is compared, so a change within the
            // same clock tick is still seen.
            let d_area = index.digests.len() / 32;
            assert_eq!(d_area, index.count(), "{what}");
            change(&d.0);
            assert!(!index.unchanged(), "{what}: not seen");
            assert_ne!(scan(&d.0, false).unwrap().0, digest, "{what}: digest");
        }
    }

    #[test]
    fn large_trees_are_checked_by_two_threads() {
        let d = tree();
        for i in 0..2100 {
            std::fs::write(d.0.join(format!("f{i}")), "x").unwrap();
        }
        let (_, index) = scan(&d.0, true).unwrap();
        let index = index.unwrap();
        assert!(index.count() >= 2048);
        assert!(index.unchanged());
        // An entry of the second thread's half.
        std::fs::write(d.0.join("top"), "changed").unwrap();
        assert!(!index.unchanged());
    }

    #[test]
    fn settled_racy_entries_are_refreshed_away() {
        let d = tree();
        let cache = tempfile_dir::Dir::new();
        let (digest, index) = scan(&d.0, true).unwrap();
        let index = index.unwrap();
        assert_eq!(
            index.digests.len() / 32,
            index.count(),
            "a fresh tree is racy"
        );
        std::fs::write(index_path(&cache.0, &digest), index.as_bytes()).unwrap();
        // Too early: nothing is rewritten.
        refresh_settled(&index, &digest, &cache.0);
        let again = load(&d.0, &digest, &cache.0).unwrap();
        assert_eq!(again.digests.len(), index.digests.len());
        std::thread::sleep(std::time::Duration::from_millis(
            (RACY_SECONDS as u64 + 1) * 1000 + 100,
        ));
        refresh_settled(&again, &digest, &cache.0);
        let settled = load(&d.0, &digest, &cache.0).unwrap();
        assert!(settled.digests.is_empty());
        assert!(settled.unchanged());
        std::fs::write(d.0.join("a/b/c"), "changed").unwrap();
        assert!(!settled.unchanged());
    }

    #[test]
    fn holds_by_index_or_walk() {
        let d = tree();
        let cache = tempfile_dir::Dir::new();
        let (digest, index) = scan(&d.0, true).unwrap();
        std::fs::write(index_path(&cache.0, &digest), index.unwrap().as_bytes()).unwrap();
        assert!(holds(&d.0, &digest, Some(&cache.0)));
        assert!(holds(&d.0, &digest, None));
        // A corrupt index falls back to the walk.
        std::fs::write(index_path(&cache.0, &digest), b"garbage").unwrap();
        assert!(holds(&d.0, &digest, Some(&cache.0)));
        std::fs::write(d.0.join("top"), "changed").unwrap();
        assert!(!holds(&d.0, &digest, Some(&cache.0)));
        assert!(!holds(&d.0, &digest, None));
    }
}
