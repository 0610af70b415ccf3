//! The editor's unsaved buffers over the host's file system: what the linter and the
//! evaluator read while a document is open. Nothing is ever written.

use kith_eval::{FileKind, FileSystem, OsFileSystem, Stat};
use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Open documents' texts by path, the host's files for everything else.
#[derive(Clone, Debug, Default)]
pub struct OverlayFs {
    texts: HashMap<PathBuf, String>,
}

impl OverlayFs {
    /// The buffers `texts` (by absolute path) over the disk; each is also found under its
    /// canonical path, as the evaluator may name it.
    pub fn new<'a>(texts: impl IntoIterator<Item = (&'a Path, &'a str)>) -> OverlayFs {
        let mut map = HashMap::new();
        for (path, text) in texts {
            if let Ok(c) = std::fs::canonicalize(path) {
                map.insert(c, text.to_string());
            }
            map.insert(path.to_path_buf(), text.to_string());
        }
        OverlayFs { texts: map }
    }

    fn buffer(&self, path: &Path) -> Option<&str> {
        self.texts.get(path).map(String::as_str)
    }
}

impl FileSystem for OverlayFs {
    fn lstat(&self, path: &Path) -> io::Result<Stat> {
        match self.buffer(path) {
            Some(t) => Ok(buffer_stat(OsFileSystem.lstat(path), t)),
            None => OsFileSystem.lstat(path),
        }
    }
    fn stat(&self, path: &Path) -> io::Result<Stat> {
        match self.buffer(path) {
            Some(t) => Ok(buffer_stat(OsFileSystem.stat(path), t)),
            None => OsFileSystem.stat(path),
        }
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        OsFileSystem.read_link(path)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<(OsString, FileKind)>> {
        OsFileSystem.read_dir(path)
    }
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + '_>> {
        match self.buffer(path) {
            Some(t) => Ok(Box::new(t.as_bytes())),
            None => OsFileSystem.open(path),
        }
    }
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        OsFileSystem.canonicalize(path)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self.buffer(path) {
            Some(t) => Ok(t.as_bytes().to_vec()),
            None => OsFileSystem.read(path),
        }
    }
}

/// The disk's stat of a buffered file (a regular file if it is not on disk yet) with the
/// buffer's length.
fn buffer_stat(disk: io::Result<Stat>, text: &str) -> Stat {
    let len = text.len() as u64;
    match disk {
        Ok(st) if st.kind == FileKind::Regular => Stat { len, ..st },
        _ => Stat {
            kind: FileKind::Regular,
            executable: false,
            len,
            mtime: 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_shadow_the_disk() {
        let dir = std::env::temp_dir().join(format!("kith-lsp-overlay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.nix"), dir.join("b.nix"));
        std::fs::write(&a, "disk").unwrap();
        std::fs::write(&b, "disk b").unwrap();
        let fs = OverlayFs::new([(a.as_path(), "buffer!")]);
        assert_eq!(fs.read(&a).unwrap(), b"buffer!");
        assert_eq!(fs.stat(&a).unwrap().len, 7);
        assert_eq!(fs.read(&b).unwrap(), b"disk b");
        let mut s = String::new();
        fs.open(&a).unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "buffer!");
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "disk");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
