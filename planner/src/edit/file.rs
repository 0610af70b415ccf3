//! Writing `inventory.json` safely: an exclusive lock serialises kith processes editing
//! the same clan, and the new contents replace the file atomically.

use std::fs::File;
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// An exclusive `flock` on the clan's directory, released when dropped.
pub struct Lock {
    file: File,
}

impl Lock {
    /// Waits for the exclusive lock of directory `dir`.
    pub fn acquire(dir: &Path) -> Result<Lock, String> {
        let file = File::open(dir).map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
        loop {
            // SAFETY: `file` is an open descriptor owned by this function.
            let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if r == 0 {
                return Ok(Lock { file });
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(format!("cannot lock {}: {e}", dir.display()));
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // SAFETY: the descriptor is open until `self.file` drops, after this.
        unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_UN) };
    }
}

/// Replaces `path` with `bytes`: written to a temporary file in the same directory,
/// synced, renamed over `path`, and the directory synced. The file's permissions are
/// kept (new files get the process's default).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().ok_or("no parent directory")?;
    let name = path.file_name().ok_or("no file name")?.to_string_lossy();
    let tmp: PathBuf = dir.join(format!(".{name}.kith-{}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        if let Ok(m) = std::fs::metadata(path) {
            f.set_permissions(m.permissions())?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}
