//! The NAR hash of a tree on the host, walked and read by several threads.
//!
//! [`super::nar_sha256_newest`] reads through any [`crate::fs::FileSystem`], one entry at a
//! time. A flake's source is on the host and may hold tens of thousands of small files and
//! directories; the time then goes to system calls, not to hashing. Here the threads share
//! the walk: each serialises a directory into a *fragment* (the archive's bytes, with the
//! contents of its files), and hands a subdirectory to the others as a fragment of its own
//! (a *hole* in the parent's) while some thread may be idle. Then the caller's thread hashes
//! the fragments in archive order. A file larger than 64 KiB is not held: its place in
//! the fragment names it, and the hashing streams it.

use super::{changed, hash_to_end, io_error, padding, token_with, unsupported};
use crate::error::Error;
use crate::fs::FileKind;
use sha2::{Digest, Sha256};

use rustix::fs::{AtFlags, Mode, OFlags};
use std::ffi::CStr;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Files up to this size are read into their fragment; larger ones are streamed.
const INLINE: u64 = 64 * 1024;
/// Directories less deep than this are always handed to any thread (deeper ones only
/// while the queue is short), so that the threads share the tree's large subtrees.
const SPLIT_DEPTH: usize = 3;

/// Decides whether an entry below the root (absolute path, kind) goes into the archive.
pub type SyncFilter<'a> = dyn Fn(&Path, FileKind) -> bool + Sync + 'a;

/// A piece of a fragment, in archive order.
enum Piece {
    /// Serialised bytes.
    Bytes(Vec<u8>),
    /// A large file's contents (its declared size), then the rest of its node.
    Stream(PathBuf, u64),
    /// Another fragment, by number.
    Hole(usize),
    /// The walk failed here.
    Failed(Error),
}

/// A fragment being written.
#[derive(Default)]
struct Fragment {
    pieces: Vec<Piece>,
    bytes: Vec<u8>,
}

impl Fragment {
    fn token(&mut self, s: &[u8]) {
        token_with(s, |b| self.bytes.extend_from_slice(b));
    }

    /// Ends the current run of bytes with `piece`.
    fn push(&mut self, piece: Piece) {
        if !self.bytes.is_empty() {
            self.pieces
                .push(Piece::Bytes(std::mem::take(&mut self.bytes)));
        }
        self.pieces.push(piece);
    }

    fn finish(mut self) -> Vec<Piece> {
        if !self.bytes.is_empty() {
            self.pieces.push(Piece::Bytes(self.bytes));
        }
        self.pieces
    }
}

/// The walk's shared state: the directories waiting for a thread, the fragments written,
/// how many fragments are unfinished, and the newest modification time seen.
struct Walk<'f> {
    filter: &'f SyncFilter<'f>,
    threads: usize,
    queue: Mutex<Vec<(usize, PathBuf, usize)>>,
    queued: AtomicUsize,
    fragments: Mutex<Vec<Option<Vec<Piece>>>>,
    unfinished: AtomicUsize,
    newest: AtomicI64,
}

impl Walk<'_> {
    /// A new fragment number for the directory `path` (`depth` below the root), queued for
    /// any thread.
    fn hand_out(&self, path: PathBuf, depth: usize) -> usize {
        let id = {
            let mut f = self.fragments.lock().unwrap_or_else(|e| e.into_inner());
            f.push(None);
            f.len() - 1
        };
        self.unfinished.fetch_add(1, Ordering::AcqRel);
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, path, depth));
        self.queued.fetch_add(1, Ordering::AcqRel);
        id
    }

    /// Serialises the directory `path` (`depth` below the root) as fragment `id`.
    fn run(&self, id: usize, path: &Path, depth: usize) {
        let mut frag = Fragment::default();
        let at = At::path(path);
        if let Err(e) = at.and_then(|at| self.node(&mut frag, &at, FileKind::Directory, depth)) {
            frag.push(Piece::Failed(e));
        }
        let pieces = frag.finish();
        self.fragments.lock().unwrap_or_else(|e| e.into_inner())[id] = Some(pieces);
        self.unfinished.fetch_sub(1, Ordering::AcqRel);
    }

    /// A thread's part: runs queued directories until every fragment is finished.
    fn work(&self) {
        loop {
            let task = if self.queued.load(Ordering::Acquire) > 0 {
                let t = self.queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                if t.is_some() {
                    self.queued.fetch_sub(1, Ordering::AcqRel);
                }
                t
            } else {
                None
            };
            match task {
                Some((id, path, depth)) => self.run(id, &path, depth),
                None if self.unfinished.load(Ordering::Acquire) == 0 => return,
                None => std::thread::yield_now(),
            }
        }
    }

    fn seen(&self, mtime: i64) {
        self.newest.fetch_max(mtime, Ordering::Relaxed);
    }

    /// Serialises the node `at` (`depth` below the root), of kind `kind`, into `frag`.
    fn node(
        &self,
        frag: &mut Fragment,
        at: &At<'_>,
        kind: FileKind,
        depth: usize,
    ) -> Result<(), Error> {
        frag.token(b"(");
        match kind {
            FileKind::Directory => {
                let fd = at.open(OFlags::DIRECTORY, "opening directory")?;
                self.directory(frag, fd, &at.path, depth)?
            }
            FileKind::Regular => {
                let fd = at.open(OFlags::empty(), "opening file")?;
                self.regular(frag, std::fs::File::from(fd), &at.path)?
            }
            FileKind::Symlink => {
                let target = rustix::fs::readlinkat(at.dir, &*at.name, Vec::new())
                    .map_err(|e| io_error("reading symlink", &at.path, &e.into()))?;
                let meta = at.lstat()?;
                self.seen(meta.st_mtime);
                frag.token(b"type");
                frag.token(b"symlink");
                frag.token(b"target");
                frag.token(target.as_bytes());
            }
            FileKind::Unknown => return Err(unsupported(&at.path)),
        }
        frag.token(b")");
        Ok(())
    }

    fn regular(&self, frag: &mut Fragment, mut f: std::fs::File, path: &Path) -> Result<(), Error> {
        let meta = f
            .metadata()
            .map_err(|e| io_error("getting status of", path, &e))?;
        if !meta.is_file() {
            return Err(changed(path));
        }
        self.seen(meta.mtime());
        frag.token(b"type");
        frag.token(b"regular");
        if meta.permissions().mode() & 0o100 != 0 {
            frag.token(b"executable");
            frag.token(b"");
        }
        frag.token(b"contents");
        let len = meta.len();
        frag.bytes.extend_from_slice(&len.to_le_bytes());
        if len > INLINE {
            frag.push(Piece::Stream(path.to_path_buf(), len));
            return Ok(());
        }
        let total = crate::fs::read_rest(&mut f, len as usize, &mut frag.bytes)
            .map_err(|e| io_error("reading file", path, &e))? as u64;
        if total != len {
            return Err(changed(path));
        }
        frag.bytes.extend_from_slice(&[0u8; 8][..padding(total)]);
        Ok(())
    }

    /// Serialises the open directory `fd` (at `path`) and its entries, each opened
    /// relative to it (the kernel resolves one name, not the whole path, per entry).
    fn directory(
        &self,
        frag: &mut Fragment,
        fd: OwnedFd,
        path: &Path,
        depth: usize,
    ) -> Result<(), Error> {
        let meta =
            rustix::fs::fstat(&fd).map_err(|e| io_error("getting status of", path, &e.into()))?;
        self.seen(meta.st_mtime);
        frag.token(b"type");
        frag.token(b"directory");
        let list_error = |e: rustix::io::Errno| io_error("opening directory", path, &e.into());
        let mut dir = rustix::fs::Dir::new(fd).map_err(list_error)?;
        let mut entries = Vec::new();
        while let Some(entry) = dir.read() {
            let entry = entry.map_err(list_error)?;
            let name = entry.file_name();
            if name == c"." || name == c".." {
                continue;
            }
            entries.push((name.to_owned(), entry.file_type()));
        }
        entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let dir_fd = dir.fd().map_err(list_error)?;
        for (name, file_type) in entries {
            let child = At {
                dir: dir_fd,
                path: path.join(std::ffi::OsStr::from_bytes(name.as_bytes())),
                name: std::borrow::Cow::Owned(name),
            };
            let kind = match file_kind(file_type) {
                Some(k) => k,
                None => file_kind(rustix::fs::FileType::from_raw_mode(child.lstat()?.st_mode))
                    .unwrap_or(FileKind::Unknown),
            };
            if !(self.filter)(&child.path, kind) {
                continue;
            }
            frag.token(b"entry");
            frag.token(b"(");
            frag.token(b"name");
            frag.token(child.name.to_bytes());
            frag.token(b"node");
            if kind == FileKind::Directory
                && self.threads > 1
                && (depth < SPLIT_DEPTH || self.queued.load(Ordering::Acquire) < self.threads)
            {
                let id = self.hand_out(child.path, depth + 1);
                frag.push(Piece::Hole(id));
            } else {
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                    self.node(frag, &child, kind, depth + 1)
                })?;
            }
            frag.token(b")");
        }
        Ok(())
    }
}

/// An entry to read: a name relative to an open directory (or to the working directory,
/// for a whole path), and its whole path for the filter and messages.
struct At<'d> {
    dir: BorrowedFd<'d>,
    name: std::borrow::Cow<'d, CStr>,
    path: PathBuf,
}

impl At<'static> {
    /// The entry at the whole path `path`.
    fn path(path: &Path) -> Result<At<'static>, Error> {
        let name = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| Error::new(format!("path '{}' contains a NUL byte", path.display())))?;
        Ok(At {
            dir: rustix::fs::CWD,
            name: std::borrow::Cow::Owned(name),
            path: path.to_path_buf(),
        })
    }
}

impl At<'_> {
    /// Opens the entry for reading, not following a symlink (it was listed as what it is).
    fn open(&self, kind: OFlags, what: &str) -> Result<OwnedFd, Error> {
        rustix::fs::openat(
            self.dir,
            &*self.name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | kind,
            Mode::empty(),
        )
        .map_err(|e| io_error(what, &self.path, &e.into()))
    }

    /// The entry's status, not following a symlink.
    fn lstat(&self) -> Result<rustix::fs::Stat, Error> {
        rustix::fs::statat(self.dir, &*self.name, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| io_error("getting status of", &self.path, &e.into()))
    }
}

/// The kind a directory entry says it is, if it says.
fn file_kind(t: rustix::fs::FileType) -> Option<FileKind> {
    use rustix::fs::FileType;
    match t {
        FileType::RegularFile => Some(FileKind::Regular),
        FileType::Directory => Some(FileKind::Directory),
        FileType::Symlink => Some(FileKind::Symlink),
        FileType::Unknown => None,
        _ => Some(FileKind::Unknown),
    }
}

/// Streams a large file's contents into `h`, checking its size.
fn stream(h: &mut Sha256, path: &Path, declared: u64) -> Result<(), Error> {
    let mut f = std::fs::File::open(path).map_err(|e| io_error("opening file", path, &e))?;
    let total = hash_to_end(h, &mut f, &mut vec![0u8; 64 * 1024], path)?;
    if total != declared {
        return Err(changed(path));
    }
    h.update(&[0u8; 8][..padding(total)]);
    Ok(())
}

/// The SHA-256 of the NAR serialisation of `root` on the host and the newest modification
/// time of its entries, as [`super::nar_sha256_newest`] computes them, with `threads`
/// threads walking (the caller's among them). `filter` is asked about every entry below
/// `root`; excluded directories are not descended into.
pub fn nar_sha256_newest(
    root: &Path,
    threads: usize,
    filter: &SyncFilter<'_>,
) -> Result<([u8; 32], i64), Error> {
    let meta =
        std::fs::symlink_metadata(root).map_err(|e| io_error("getting status of", root, &e))?;
    let walk = Walk {
        filter,
        threads: threads.max(1),
        queue: Mutex::new(Vec::new()),
        queued: AtomicUsize::new(0),
        fragments: Mutex::new(Vec::new()),
        unfinished: AtomicUsize::new(0),
        newest: AtomicI64::new(meta.mtime()),
    };
    let mut top = Fragment::default();
    top.token(b"nix-archive-1");
    let kind = FileKind::of(meta.file_type());
    if kind == FileKind::Directory {
        let id = walk.hand_out(root.to_path_buf(), 0);
        top.push(Piece::Hole(id));
        std::thread::scope(|s| {
            for _ in 1..walk.threads {
                s.spawn(|| walk.work());
            }
            walk.work();
        });
    } else {
        walk.node(&mut top, &At::path(root)?, kind, 0)?;
    }
    let mut fragments = walk
        .fragments
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    let mut h = Sha256::new();
    // Depth-first through the holes, with a stack of fragments being hashed.
    let mut stack = vec![top.finish().into_iter()];
    while let Some(pieces) = stack.last_mut() {
        let Some(piece) = pieces.next() else {
            stack.pop();
            continue;
        };
        match piece {
            Piece::Bytes(b) => h.update(&b),
            Piece::Stream(path, len) => stream(&mut h, &path, len)?,
            Piece::Hole(id) => {
                let inner = fragments[id].take().unwrap_or_default();
                stack.push(inner.into_iter());
            }
            Piece::Failed(e) => return Err(e),
        }
    }
    Ok((h.finalize().into(), walk.newest.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::OsFileSystem;

    fn tree() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kith-nar-host-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        for i in 0..300 {
            std::fs::write(dir.join(format!("a/f{i}")), format!("file {i}\n").repeat(i)).unwrap();
        }
        std::fs::write(dir.join("a/b/big"), vec![7u8; (INLINE + 3) as usize]).unwrap();
        for i in 0..40 {
            std::fs::create_dir_all(dir.join(format!("d/{i}/e"))).unwrap();
            std::fs::write(dir.join(format!("d/{i}/e/v")), format!("{i}")).unwrap();
        }
        std::fs::write(dir.join("x.sh"), "#!/bin/sh\n").unwrap();
        let mut p = std::fs::metadata(dir.join("x.sh")).unwrap().permissions();
        p.set_mode(0o755);
        std::fs::set_permissions(dir.join("x.sh"), p).unwrap();
        std::os::unix::fs::symlink("a/f1", dir.join("link")).unwrap();
        std::fs::create_dir_all(dir.join("empty")).unwrap();
        dir
    }

    #[test]
    fn equals_the_sequential_archive_for_any_thread_count() {
        let dir = tree();
        let want =
            super::super::nar_sha256_newest::<Error>(&OsFileSystem, &dir, &mut |_, _| Ok(true))
                .unwrap();
        for threads in [1, 2, 3] {
            assert_eq!(
                nar_sha256_newest(&dir, threads, &|_, _| true).unwrap(),
                want
            );
        }
        let skip = |p: &Path, _k: FileKind| !p.ends_with("a");
        let want = super::super::nar_sha256_newest::<Error>(&OsFileSystem, &dir, &mut |p, k| {
            Ok(skip(p, k))
        })
        .unwrap();
        assert_eq!(nar_sha256_newest(&dir, 2, &skip).unwrap(), want);
        let file = dir.join("x.sh");
        let want =
            super::super::nar_sha256_newest::<Error>(&OsFileSystem, &file, &mut |_, _| Ok(true))
                .unwrap();
        assert_eq!(nar_sha256_newest(&file, 2, &|_, _| true).unwrap(), want);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_entry_of_another_kind_is_reported_with_its_path() {
        let dir = std::env::temp_dir().join(format!("kith-nar-fifo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            dir.join("sub/pipe"),
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        for threads in [1, 2] {
            let e = nar_sha256_newest(&dir, threads, &|_, _| true).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("file '{}/sub/pipe' has an unsupported type", dir.display())
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_root_is_reported_as_nix_does() {
        let e = nar_sha256_newest(Path::new("/nonexistent/kith"), 2, &|_, _| true).unwrap_err();
        assert!(
            e.to_string()
                .contains("getting status of '/nonexistent/kith'"),
            "{e}"
        );
    }
}
