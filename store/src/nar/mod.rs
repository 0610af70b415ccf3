//! NAR (Nix ARchive) serialisation of a file-system tree, streamed into a SHA-256 hasher.
//!
//! The format: every token is a length-prefixed (u64, little endian) byte string padded
//! with zeros to a multiple of 8 bytes. A tree is
//! `nix-archive-1 ( type regular [executable ""] contents <bytes> )`,
//! `( type symlink target <target> )` or
//! `( type directory entry ( name <name> node <tree> ) … )` with entries sorted by name.

pub mod host;

use crate::error::Error;
use crate::fs::{io_message, FileKind, FileSystem, Stat};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Decides whether a directory entry (absolute path, kind) goes into the archive; its
/// error type is the caller's (a path filter may be a Nix function that fails).
pub type Filter<'a, E> = dyn FnMut(&Path, FileKind) -> Result<bool, E> + 'a;

/// SHA-256 of the NAR serialisation of `path` in `fs`. `filter` is asked about every entry
/// below `path` (not `path` itself); excluded directories are not descended into.
pub fn nar_sha256<E: From<Error>>(
    fs: &dyn FileSystem,
    path: &Path,
    filter: &mut Filter<'_, E>,
) -> Result<[u8; 32], E> {
    nar_sha256_newest(fs, path, filter).map(|(digest, _)| digest)
}

/// [`nar_sha256`], and the newest modification time of the entries serialised (seconds
/// since the epoch): a path source's `lastModified`.
pub fn nar_sha256_newest<E: From<Error>>(
    fs: &dyn FileSystem,
    path: &Path,
    filter: &mut Filter<'_, E>,
) -> Result<([u8; 32], i64), E> {
    let mut w = NarWriter {
        fs,
        h: Sha256::new(),
        buf: vec![0u8; 64 * 1024],
        newest: 0,
    };
    w.token(b"nix-archive-1");
    let meta = fs
        .lstat(path)
        .map_err(|e| io_error("getting status of", path, &e))?;
    w.node(path, meta, filter)?;
    Ok((w.h.finalize().into(), w.newest))
}

/// SHA-256 of the NAR serialisation of a single regular file with `contents`.
pub fn nar_sha256_of_contents(contents: &[u8], executable: bool) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut token = |s: &[u8]| token_with(s, |b| h.update(b));
    token(b"nix-archive-1");
    token(b"(");
    token(b"type");
    token(b"regular");
    if executable {
        token(b"executable");
        token(b"");
    }
    token(b"contents");
    token(contents);
    token(b")");
    h.finalize().into()
}

/// SHA-256 of the contents of the file at `path` in `fs` (for flat ingestion).
pub fn file_sha256(fs: &dyn FileSystem, path: &Path) -> Result<[u8; 32], Error> {
    let mut f = fs
        .open(path)
        .map_err(|e| io_error("opening file", path, &e))?;
    let mut h = Sha256::new();
    hash_to_end(&mut h, &mut f, &mut vec![0u8; 64 * 1024], path)?;
    Ok(h.finalize().into())
}

/// The zero bytes that pad a NAR token of `len` bytes to a multiple of 8.
fn padding(len: u64) -> usize {
    (8 - (len % 8) as usize) % 8
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::new(io_message(what, path, e))
}

/// Writes the NAR token `s` through `put`: its length (u64, little endian), its bytes, and
/// zeros up to a multiple of 8 bytes.
fn token_with(s: &[u8], mut put: impl FnMut(&[u8])) {
    put(&(s.len() as u64).to_le_bytes());
    put(s);
    put(&[0u8; 8][..padding(s.len() as u64)]);
}

/// Reads `r` (the file at `path`) to its end into `h`, through `buf`: the bytes read.
fn hash_to_end(
    h: &mut Sha256,
    r: &mut dyn Read,
    buf: &mut [u8],
    path: &Path,
) -> Result<u64, Error> {
    let mut total = 0u64;
    loop {
        let n = r
            .read(buf)
            .map_err(|e| io_error("reading file", path, &e))?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
}

/// A file whose size or type changed between its status and its reading.
fn changed(path: &Path) -> Error {
    Error::new(format!(
        "file '{}' changed while it was being read",
        path.display()
    ))
}

/// A file that is neither regular, a directory nor a symlink.
fn unsupported(path: &Path) -> Error {
    Error::new(format!("file '{}' has an unsupported type", path.display()))
}

struct NarWriter<'f> {
    fs: &'f dyn FileSystem,
    h: Sha256,
    /// The read buffer, shared by every file of the archive (zeroing one per file cost
    /// more than hashing small files).
    buf: Vec<u8>,
    /// The newest modification time of the entries serialised so far.
    newest: i64,
}

impl NarWriter<'_> {
    fn token(&mut self, s: &[u8]) {
        token_with(s, |b| self.h.update(b));
    }

    fn pad(&mut self, len: u64) {
        self.h.update(&[0u8; 8][..padding(len)]);
    }

    /// Serialises `path`, whose status is `meta` (read once, by the caller).
    fn node<E: From<Error>>(
        &mut self,
        path: &Path,
        meta: Stat,
        filter: &mut Filter<'_, E>,
    ) -> Result<(), E> {
        self.newest = self.newest.max(meta.mtime);
        self.token(b"(");
        match meta.kind {
            FileKind::Regular => self.regular(path, &meta)?,
            FileKind::Directory => {
                self.token(b"type");
                self.token(b"directory");
                self.directory(path, filter)?;
            }
            FileKind::Symlink => {
                let target = (self.fs)
                    .read_link(path)
                    .map_err(|e| io_error("reading symlink", path, &e))?;
                self.token(b"type");
                self.token(b"symlink");
                self.token(b"target");
                self.token(target.as_os_str().as_bytes());
            }
            FileKind::Unknown => return Err(unsupported(path).into()),
        }
        self.token(b")");
        Ok(())
    }

    fn regular(&mut self, path: &Path, meta: &Stat) -> Result<(), Error> {
        self.token(b"type");
        self.token(b"regular");
        if meta.executable {
            self.token(b"executable");
            self.token(b"");
        }
        self.token(b"contents");
        let declared = meta.len;
        self.h.update(declared.to_le_bytes());
        let mut f = (self.fs)
            .open(path)
            .map_err(|e| io_error("opening file", path, &e))?;
        let total = hash_to_end(&mut self.h, &mut f, &mut self.buf, path)?;
        if total != declared {
            return Err(changed(path));
        }
        self.pad(total);
        Ok(())
    }

    fn directory<E: From<Error>>(
        &mut self,
        path: &Path,
        filter: &mut Filter<'_, E>,
    ) -> Result<(), E> {
        let mut names = (self.fs)
            .read_dir(path)
            .map_err(|e| io_error("opening directory", path, &e))?;
        names.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        for (name, _) in names {
            let child = path.join(&name);
            let meta = (self.fs)
                .lstat(&child)
                .map_err(|e| io_error("getting status of", &child, &e))?;
            if !filter(&child, meta.kind)? {
                continue;
            }
            self.token(b"entry");
            self.token(b"(");
            self.token(b"name");
            self.token(name.as_bytes());
            self.token(b"node");
            stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.node(&child, meta, filter))?;
            self.token(b")");
        }
        Ok(())
    }
}
