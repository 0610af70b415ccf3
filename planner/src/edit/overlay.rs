//! A file system that serves new contents for one file and reads everything else from
//! the host: the clan as it would be after an edit, without writing anything.

use kith_eval::{FileKind, FileSystem, OsFileSystem, Stat};
use std::ffi::OsString;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The host's file system with `path` holding `bytes`.
pub struct OverlayFs {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl OverlayFs {
    /// `path` (absolute, canonical directory) reads as `bytes`.
    pub fn new(path: PathBuf, bytes: Vec<u8>) -> OverlayFs {
        OverlayFs { path, bytes }
    }

    fn stat_here(&self) -> Stat {
        Stat {
            kind: FileKind::Regular,
            executable: false,
            len: self.bytes.len() as u64,
            mtime: 0,
        }
    }
}

impl FileSystem for OverlayFs {
    fn lstat(&self, path: &Path) -> io::Result<Stat> {
        if path == self.path {
            return Ok(self.stat_here());
        }
        OsFileSystem.lstat(path)
    }
    fn stat(&self, path: &Path) -> io::Result<Stat> {
        if path == self.path {
            return Ok(self.stat_here());
        }
        OsFileSystem.stat(path)
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        if path == self.path {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a symlink"));
        }
        OsFileSystem.read_link(path)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<(OsString, FileKind)>> {
        let mut entries = OsFileSystem.read_dir(path)?;
        if Some(path) == self.path.parent() {
            let name = self
                .path
                .file_name()
                .map(OsString::from)
                .unwrap_or_default();
            entries.retain(|(n, _)| *n != name);
            entries.push((name, FileKind::Regular));
        }
        Ok(entries)
    }
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + '_>> {
        if path == self.path {
            return Ok(Box::new(io::Cursor::new(self.bytes.as_slice())));
        }
        OsFileSystem.open(path)
    }
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        if path == self.path {
            return Ok(self.path.clone());
        }
        OsFileSystem.canonicalize(path)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        if path == self.path {
            return Ok(self.bytes.clone());
        }
        OsFileSystem.read(path)
    }
}
