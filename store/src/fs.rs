//! The file-system interface the evaluator reads through, and the host's implementation.
//!
//! Everything in kith that reads a file (the evaluator's `import`, `readFile`, `readDir`,
//! `pathExists`, path hashing into the store, NAR serialisation) does so through a
//! [`FileSystem`]. An embedder can give the evaluator its own (an editor's unsaved
//! buffers, an in-memory tree for tests, a sandbox that refuses everything); kith's own
//! tools use [`OsFileSystem`]. The interface is read-only: evaluation never writes.

use std::ffi::OsString;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The type of a file as Nix sees it (`readDir`, `readFileType`, path filters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// Anything else (device, FIFO, socket).
    Unknown,
}

impl FileKind {
    /// The kind of the file `t` describes.
    pub fn of(t: std::fs::FileType) -> FileKind {
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

/// What [`FileSystem::lstat`] and [`FileSystem::stat`] report of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// The file's type.
    pub kind: FileKind,
    /// Whether the owner may execute it (NAR's `executable` flag).
    pub executable: bool,
    /// Its size in bytes.
    pub len: u64,
    /// Its modification time, in seconds since the epoch (0 where unknown).
    pub mtime: i64,
}

/// Read-only access to a file system. Paths are absolute; errors are the OS's
/// (`NotFound` for a missing file), which callers word as Nix does.
pub trait FileSystem {
    /// The file at `path`, not following a symlink there.
    fn lstat(&self, path: &Path) -> io::Result<Stat>;
    /// The file at `path`, symlinks followed.
    fn stat(&self, path: &Path) -> io::Result<Stat>;
    /// The target of the symlink at `path`.
    fn read_link(&self, path: &Path) -> io::Result<PathBuf>;
    /// The entries of the directory at `path` (any order), each with its type (a symlink
    /// is [`FileKind::Symlink`]).
    fn read_dir(&self, path: &Path) -> io::Result<Vec<(OsString, FileKind)>>;
    /// A reader over the contents of the file at `path`, symlinks followed.
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + '_>>;
    /// `path` with every symlink resolved; fails if it does not exist.
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf>;

    /// The whole contents of the file at `path`.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.open(path)?.read_to_end(&mut out)?;
        Ok(out)
    }

    /// Tells that what was read at `path` (with `tree`, everything read below it too) is
    /// used again without being read again: the evaluator's caches of imported files and
    /// of paths copied to the store. A file system that records reads counts them as read
    /// again; others need do nothing.
    fn reused(&self, _path: &Path, _tree: bool) {}
}

/// A file system shared between threads reads as the one it holds.
impl<T: FileSystem + ?Sized> FileSystem for std::sync::Arc<T> {
    fn lstat(&self, path: &Path) -> io::Result<Stat> {
        (**self).lstat(path)
    }
    fn stat(&self, path: &Path) -> io::Result<Stat> {
        (**self).stat(path)
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        (**self).read_link(path)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<(OsString, FileKind)>> {
        (**self).read_dir(path)
    }
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + '_>> {
        (**self).open(path)
    }
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        (**self).canonicalize(path)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        (**self).read(path)
    }
    fn reused(&self, path: &Path, tree: bool) {
        (**self).reused(path, tree)
    }
}

/// The host's file system, through `std::fs`.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsFileSystem;

fn stat_of(m: std::fs::Metadata) -> Stat {
    Stat {
        kind: FileKind::of(m.file_type()),
        executable: m.permissions().mode() & 0o100 != 0,
        len: m.len(),
        mtime: std::os::unix::fs::MetadataExt::mtime(&m),
    }
}

impl FileSystem for OsFileSystem {
    fn lstat(&self, path: &Path) -> io::Result<Stat> {
        std::fs::symlink_metadata(path).map(stat_of)
    }

    fn stat(&self, path: &Path) -> io::Result<Stat> {
        std::fs::metadata(path).map(stat_of)
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::read_link(path)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<(OsString, FileKind)>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let kind = entry
                .file_type()
                .map(FileKind::of)
                .unwrap_or(FileKind::Unknown);
            out.push((entry.file_name(), kind));
        }
        Ok(out)
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(std::fs::File::open(path)?))
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

/// Appends the rest of `file`, expected to be `len` bytes long, to `out`; the number of
/// bytes appended (more or fewer than `len` if the file changed). As `read_to_end`, without
/// the size probe it makes first (a `statx` and an `lseek` per file): for callers that have
/// the file's metadata already.
pub fn read_rest(file: &mut std::fs::File, len: usize, out: &mut Vec<u8>) -> io::Result<usize> {
    let start = out.len();
    out.resize(start + len, 0);
    let mut n = 0;
    while n < len {
        match file.read(&mut out[start + n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                out.truncate(start);
                return Err(e);
            }
        }
    }
    out.truncate(start + n);
    if n == len {
        // The end, or more than `len` bytes if the file grew: one read tells (the file's
        // rest, if any, is then read as `read_to_end` reads).
        let mut probe = [0u8; 64];
        let k = loop {
            match file.read(&mut probe) {
                Ok(k) => break k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    out.truncate(start);
                    return Err(e);
                }
            }
        };
        if k > 0 {
            out.extend_from_slice(&probe[..k]);
            n += k + file.read_to_end(out)?;
        }
    }
    Ok(n)
}

/// `<what> '<path>': <reason>`, as Nix words system errors.
pub fn io_message(what: &str, path: &Path, e: &io::Error) -> String {
    format!("{what} '{}': {}", path.display(), io_reason(e))
}

/// The OS's wording of an I/O error, without Rust's "(os error N)" suffix.
pub fn io_reason(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::read_rest;

    /// The rest of a file is read whatever length it was expected to have: exactly, more
    /// (the file grew past the probe's size too) or fewer bytes.
    #[test]
    fn read_rest_reads_to_the_end() {
        let dir = std::env::temp_dir().join(format!("kith-read-rest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        let content: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        for expected in [0, 10, 999, 1000, 1001, 5000] {
            let mut f = std::fs::File::open(&path).unwrap();
            let mut out = b"head".to_vec();
            let n = read_rest(&mut f, expected, &mut out).unwrap();
            assert_eq!(n, content.len(), "expected {expected}");
            assert_eq!(&out[..4], b"head");
            assert_eq!(&out[4..], &content[..]);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
