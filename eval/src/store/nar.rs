//! NAR (Nix ARchive) serialisation of a file-system tree, streamed into a SHA-256 hasher.
//!
//! The format: every token is a length-prefixed (u64, little endian) byte string padded
//! with zeros to a multiple of 8 bytes. A tree is
//! `nix-archive-1 ( type regular [executable ""] contents <bytes> )`,
//! `( type symlink target <target> )` or
//! `( type directory entry ( name <name> node <tree> ) … )` with entries sorted by name.

use crate::error::{EvalError, Result};
use sha2::{Digest, Sha256};
use std::fs::Metadata;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The type of a directory entry as Nix's path filters see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Regular,
    Directory,
    Symlink,
    Unknown,
}

impl FileKind {
    /// The kind of the file `meta` describes (from `symlink_metadata`).
    pub fn of(meta: &Metadata) -> FileKind {
        let t = meta.file_type();
        if t.is_symlink() {
            FileKind::Symlink
        } else if t.is_dir() {
            FileKind::Directory
        } else if t.is_file() {
            FileKind::Regular
        } else {
            FileKind::Unknown
        }
    }
    /// The name Nix uses (`readDir`, `readFileType`, path filters).
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Regular => "regular",
            FileKind::Directory => "directory",
            FileKind::Symlink => "symlink",
            FileKind::Unknown => "unknown",
        }
    }
}

/// Decides whether a directory entry (absolute path, kind) goes into the archive.
pub type Filter<'a> = dyn FnMut(&Path, FileKind) -> Result<bool> + 'a;

/// SHA-256 of the NAR serialisation of `path`. `filter` is asked about every entry below
/// `path` (not `path` itself); excluded directories are not descended into.
pub fn nar_sha256(path: &Path, filter: &mut Filter<'_>) -> Result<[u8; 32]> {
    let mut w = NarWriter {
        h: Sha256::new(),
        buf: vec![0u8; 64 * 1024],
    };
    w.token(b"nix-archive-1");
    w.node(path, filter)?;
    Ok(w.h.finalize().into())
}

/// SHA-256 of the NAR serialisation of a single regular file with `contents`.
pub fn nar_sha256_of_contents(contents: &[u8], executable: bool) -> [u8; 32] {
    let mut w = NarWriter {
        h: Sha256::new(),
        buf: Vec::new(),
    };
    w.token(b"nix-archive-1");
    w.token(b"(");
    w.token(b"type");
    w.token(b"regular");
    if executable {
        w.token(b"executable");
        w.token(b"");
    }
    w.token(b"contents");
    w.token(contents);
    w.token(b")");
    w.h.finalize().into()
}

/// SHA-256 of a file's contents (for flat ingestion).
pub fn file_sha256(path: &Path) -> Result<[u8; 32]> {
    let mut f = std::fs::File::open(path).map_err(|e| io_error("opening file", path, &e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| io_error("reading file", path, &e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

/// `<what> '<path>': <reason>`, as Nix words system errors.
pub fn io_error(what: &str, path: &Path, e: &std::io::Error) -> Box<EvalError> {
    EvalError::new(format!("{what} '{}': {}", path.display(), io_reason(e)))
}

/// The OS's wording of an I/O error, without Rust's "(os error N)" suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

struct NarWriter {
    h: Sha256,
    /// The read buffer, shared by every file of the archive (zeroing one per file cost
    /// more than hashing small files).
    buf: Vec<u8>,
}

impl NarWriter {
    fn token(&mut self, s: &[u8]) {
        self.h.update((s.len() as u64).to_le_bytes());
        self.h.update(s);
        self.pad(s.len() as u64);
    }

    fn pad(&mut self, len: u64) {
        let rem = (len % 8) as usize;
        if rem != 0 {
            self.h.update(&[0u8; 8][..8 - rem]);
        }
    }

    fn node(&mut self, path: &Path, filter: &mut Filter<'_>) -> Result<()> {
        let meta =
            std::fs::symlink_metadata(path).map_err(|e| io_error("getting status of", path, &e))?;
        self.token(b"(");
        match FileKind::of(&meta) {
            FileKind::Regular => self.regular(path, &meta)?,
            FileKind::Directory => {
                self.token(b"type");
                self.token(b"directory");
                self.directory(path, filter)?;
            }
            FileKind::Symlink => {
                let target =
                    std::fs::read_link(path).map_err(|e| io_error("reading symlink", path, &e))?;
                self.token(b"type");
                self.token(b"symlink");
                self.token(b"target");
                self.token(target.as_os_str().as_bytes());
            }
            FileKind::Unknown => {
                return Err(EvalError::new(format!(
                    "file '{}' has an unsupported type",
                    path.display()
                )))
            }
        }
        self.token(b")");
        Ok(())
    }

    fn regular(&mut self, path: &Path, meta: &Metadata) -> Result<()> {
        self.token(b"type");
        self.token(b"regular");
        if meta.permissions().mode() & 0o100 != 0 {
            self.token(b"executable");
            self.token(b"");
        }
        self.token(b"contents");
        let declared = meta.len();
        self.h.update(declared.to_le_bytes());
        let mut f = std::fs::File::open(path).map_err(|e| io_error("opening file", path, &e))?;
        let mut total = 0u64;
        loop {
            let n = f
                .read(&mut self.buf)
                .map_err(|e| io_error("reading file", path, &e))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            self.h.update(&self.buf[..n]);
        }
        if total != declared {
            return Err(EvalError::new(format!(
                "file '{}' changed while it was being read",
                path.display()
            )));
        }
        self.pad(total);
        Ok(())
    }

    fn directory(&mut self, path: &Path, filter: &mut Filter<'_>) -> Result<()> {
        let rd = std::fs::read_dir(path).map_err(|e| io_error("opening directory", path, &e))?;
        let mut names: Vec<std::ffi::OsString> = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| io_error("reading directory", path, &e))?;
            names.push(entry.file_name());
        }
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for name in names {
            let child = path.join(&name);
            let meta = std::fs::symlink_metadata(&child)
                .map_err(|e| io_error("getting status of", &child, &e))?;
            if !filter(&child, FileKind::of(&meta))? {
                continue;
            }
            self.token(b"entry");
            self.token(b"(");
            self.token(b"name");
            self.token(name.as_bytes());
            self.token(b"node");
            stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.node(&child, filter))?;
            self.token(b")");
        }
        Ok(())
    }
}
