//! A stat index of a directory tree: what a warm cache lookup checks instead of walking
//! the tree again.
//!
//! A cached answer that contains a flake's store path depends on every file of the flake
//! (any edit changes that path), so its cache entry observes the whole tree. Walking it
//! (a directory listing per directory and a `stat` per entry) costs more than the rest of
//! a warm lookup together on a large clan. The index remembers, for every entry, its
//! relative path, kind, size, inode, modification and change times; checking it is one
//! `statx` per entry, no directory listing, spread over two threads. It is sound where the
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
const MAGIC: &[u8; 8] = b"kithTI1\n";

/// How close to the scan (in seconds) a time must be for its entry to count as racy.
const RACY_SECONDS: i64 = 2;

/// What the index remembers of one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    /// The path relative to the root (empty for the root itself): a range of
    /// [`TreeIndex::names`].
    rel: std::ops::Range<usize>,
    meta: Meta,
    /// For a racy entry: the digest of its content or listing.
    racy: Option<[u8; 32]>,
}

/// The metadata compared.
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
        let t = m.file_type();
        Meta {
            kind: if t.is_dir() {
                1
            } else if t.is_symlink() {
                2
            } else if t.is_file() {
                0
            } else {
                3
            },
            size: m.len(),
            ino: m.ino(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

/// The index of a tree: its root and every entry but `.git` and what it holds.
#[derive(Debug, PartialEq, Eq)]
pub struct TreeIndex {
    root: PathBuf,
    entries: Vec<Entry>,
    /// The entries' relative paths, one after the other (one allocation for all).
    names: Vec<u8>,
}

/// The digest of a directory tree's metadata (every entry's relative path, kind, size and
/// modification time; `.git` left out) and, with `index`, its stat index from the same
/// walk.
pub fn scan(root: &Path, index: bool) -> io::Result<(String, Option<TreeIndex>)> {
    use kith_eval::FileKind;
    let mut h = blake3::Hasher::new();
    let root_meta = std::fs::symlink_metadata(root)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(i64::MAX);
    let racy = |m: &Meta| m.mtime.0 + RACY_SECONDS >= now || m.ctime.0 + RACY_SECONDS >= now;
    let mut entries = Vec::new();
    let mut names = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    if index {
        let meta = Meta::of(&root_meta);
        entries.push(Entry {
            rel: 0..0,
            racy: racy(&meta).then(|| listing_digest(root)).transpose()?,
            meta,
        });
    }
    while let Some(dir) = stack.pop() {
        let mut list: Vec<_> = std::fs::read_dir(&dir)?.filter_map(|e| e.ok()).collect();
        list.sort_by_key(|e| e.file_name());
        for e in list {
            if e.file_name() == ".git" {
                continue;
            }
            let m = e.metadata()?;
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap_or(&p).as_os_str().as_bytes();
            h.update(rel);
            h.update(FileKind::of(m.file_type()).as_str().as_bytes());
            h.update(&m.len().to_le_bytes());
            h.update(&m.mtime().to_le_bytes());
            h.update(&m.mtime_nsec().to_le_bytes());
            if index {
                let meta = Meta::of(&m);
                let digest = if !racy(&meta) {
                    None
                } else if m.is_dir() {
                    Some(listing_digest(&p)?)
                } else {
                    Some(content_digest(&p)?)
                };
                names.extend_from_slice(rel);
                entries.push(Entry {
                    rel: names.len() - rel.len()..names.len(),
                    meta,
                    racy: digest,
                });
            }
            if m.is_dir() {
                stack.push(p);
            }
        }
    }
    let digest = h.finalize().to_hex().to_string();
    let index = index.then(|| TreeIndex {
        root: root.to_path_buf(),
        entries,
        names,
    });
    Ok((digest, index))
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
    /// Whether every entry still has the metadata (and, if racy, the content or listing)
    /// it had when indexed.
    pub fn unchanged(&self) -> bool {
        let root = self.root.as_os_str().as_bytes();
        let check = |chunk: &[Entry]| {
            // One path buffer per thread: the root, then each entry's relative path.
            let mut buf: Vec<u8> = Vec::with_capacity(root.len() + 256);
            chunk.iter().all(|e| {
                buf.clear();
                buf.extend_from_slice(root);
                if !e.rel.is_empty() {
                    buf.push(b'/');
                    buf.extend_from_slice(&self.names[e.rel.clone()]);
                }
                let p = Path::new(std::ffi::OsStr::from_bytes(&buf));
                let Ok(m) = std::fs::symlink_metadata(p) else {
                    return false;
                };
                if Meta::of(&m) != e.meta {
                    return false;
                }
                match e.racy {
                    None => true,
                    Some(d) if m.is_dir() => listing_digest(p).ok() == Some(d),
                    Some(d) => content_digest(p).ok() == Some(d),
                }
            })
        };
        // Two threads pay off from a few thousand entries on.
        if self.entries.len() < 2048 {
            return check(&self.entries);
        }
        let (a, b) = self.entries.split_at(self.entries.len() / 2);
        std::thread::scope(|s| {
            let other = s.spawn(|| check(b));
            let mine = check(a);
            mine && other.join().unwrap_or(false)
        })
    }

    /// The index as bytes: a header, the root, the entries, and a blake3 checksum of all.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.entries.len() * 80);
        out.extend_from_slice(MAGIC);
        put_bytes(&mut out, self.root.as_os_str().as_bytes());
        out.extend_from_slice(&(self.entries.len() as u64).to_le_bytes());
        for e in &self.entries {
            put_bytes(&mut out, &self.names[e.rel.clone()]);
            out.push(e.meta.kind);
            for n in [e.meta.size, e.meta.ino] {
                out.extend_from_slice(&n.to_le_bytes());
            }
            for n in [
                e.meta.mtime.0,
                e.meta.mtime.1,
                e.meta.ctime.0,
                e.meta.ctime.1,
            ] {
                out.extend_from_slice(&n.to_le_bytes());
            }
            match e.racy {
                None => out.push(0),
                Some(d) => {
                    out.push(1);
                    out.extend_from_slice(&d);
                }
            }
        }
        let sum = blake3::hash(&out);
        out.extend_from_slice(sum.as_bytes());
        out
    }

    /// Reads an index written by [`TreeIndex::encode`]; `None` for anything else.
    pub fn decode(bytes: &[u8]) -> Option<TreeIndex> {
        let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
        if blake3::hash(body).as_bytes() != sum {
            return None;
        }
        let mut r = Reader(body);
        if r.take(MAGIC.len())? != MAGIC {
            return None;
        }
        let root = PathBuf::from(std::ffi::OsStr::from_bytes(r.bytes()?));
        let n = r.u64()?;
        let mut entries = Vec::with_capacity(usize::try_from(n).ok()?.min(body.len() / 60));
        let mut names = Vec::with_capacity(body.len());
        for _ in 0..n {
            let rel = r.bytes()?;
            names.extend_from_slice(rel);
            let rel = names.len() - rel.len()..names.len();
            let kind = r.take(1)?[0];
            let size = r.u64()?;
            let ino = r.u64()?;
            let mtime = (r.u64()? as i64, r.u64()? as i64);
            let ctime = (r.u64()? as i64, r.u64()? as i64);
            let racy = match r.take(1)?[0] {
                0 => None,
                1 => Some(r.take(32)?.try_into().ok()?),
                _ => return None,
            };
            entries.push(Entry {
                rel,
                meta: Meta {
                    kind,
                    size,
                    ino,
                    mtime,
                    ctime,
                },
                racy,
            });
        }
        r.0.is_empty().then_some(TreeIndex {
            root,
            entries,
            names,
        })
    }

    /// The root the index describes.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

/// A cursor over an index's bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = self.0.split_at_checked(n)?;
        self.0 = b;
        Some(a)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.take(n)
    }
}

/// The file holding the index of the tree whose digest is `digest`.
pub fn index_path(cache_dir: &Path, digest: &str) -> PathBuf {
    cache_dir.join(format!("tree-{digest}.idx"))
}

/// Whether the tree at `root` still has the digest `digest`: by its index in `cache_dir`
/// when there is a valid one for that root, else by walking it.
pub fn holds(root: &Path, digest: &str, cache_dir: Option<&Path>) -> bool {
    if let Some(d) = cache_dir {
        if let Ok(bytes) = std::fs::read(index_path(d, digest)) {
            if let Some(index) = TreeIndex::decode(&bytes) {
                if index.root == root && index.unchanged() {
                    return true;
                }
            }
        }
    }
    scan(root, false).is_ok_and(|(now, _)| now == digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile_dir::Dir {
        let d = tempfile_dir::Dir::new();
        std::fs::create_dir_all(d.0.join("a/b")).unwrap();
        std::fs::write(d.0.join("a/b/c"), "one").unwrap();
        std::fs::write(d.0.join("top"), "two").unwrap();
        d
    }

    /// A temporary directory removed on drop (the planner has no tempfile dependency).
    mod tempfile_dir {
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
        let bytes = index.encode();
        assert_eq!(TreeIndex::decode(&bytes).as_ref(), Some(&index));
        for cut in [0, 1, 8, bytes.len() / 2, bytes.len() - 1] {
            assert_eq!(TreeIndex::decode(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[20] ^= 1;
        assert_eq!(TreeIndex::decode(&flipped), None);
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
            assert!(index.entries.iter().all(|e| e.racy.is_some()), "{what}");
            change(&d.0);
            assert!(!index.unchanged(), "{what}: not seen");
            assert_ne!(scan(&d.0, false).unwrap().0, digest, "{what}: digest");
        }
    }

    #[test]
    fn holds_by_index_or_walk() {
        let d = tree();
        let cache = tempfile_dir::Dir::new();
        let (digest, index) = scan(&d.0, true).unwrap();
        std::fs::write(index_path(&cache.0, &digest), index.unwrap().encode()).unwrap();
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
