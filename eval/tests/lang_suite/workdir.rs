//! The suite's working copy: the corpus' `lang/` directory copied to a temporary
//! `functional/lang`, with the symlinks the corpus lost restored.
//!
//! The corpus was checked out with `core.symlinks=false`, so each symlink of Nix's test
//! directory is a plain file whose content is the link target. The cases that read them
//! (`readDir`, `readFileType`, `pathExists`, symlink resolution) need the links back; the
//! corpus itself is read-only, so the suite runs from a copy.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The symlinks of Nix's `tests/functional/lang`, relative to it, with their targets.
/// A copy's plain file is replaced only when its content is exactly this target.
const SYMLINKS: &[(&str, &str)] = &[
    // eval-okay-readDir, eval-okay-readDir-symlinked-directory, eval-okay-readFileType:
    // a link to a directory.
    ("readDir/ldir", "foo"),
    // eval-okay-readDir, eval-okay-readFileType, eval-fail-readDir-not-a-directory-2:
    // a link to a regular file.
    ("readDir/linked", "foo/git-hates-directories"),
    // eval-okay-pathexists: a dangling link exists.
    ("symlink-resolution/broken", "nonexistent"),
    // eval-okay-symlink-resolution, eval-okay-pathexists: `..` is resolved after the link.
    ("symlink-resolution/foo/overlays", "../overlays"),
];

/// A temporary `functional/` directory holding a copy of `lang`; removed on drop.
pub struct WorkDir {
    root: PathBuf,
    /// `<root>/functional`, canonical.
    pub functional: PathBuf,
}

impl WorkDir {
    /// Copies `lang` (the corpus directory) and restores [`SYMLINKS`] in the copy.
    pub fn create(lang: &Path) -> std::io::Result<WorkDir> {
        let root = std::env::temp_dir().join(format!("kith-lang-suite-{}", std::process::id()));
        if root.exists() {
            std::fs::remove_dir_all(&root)?;
        }
        let functional = root.join("functional");
        std::fs::create_dir_all(&functional)?;
        let dir = WorkDir {
            functional: std::fs::canonicalize(&functional)?,
            root,
        };
        let copy = dir.functional.join("lang");
        copy_tree(lang, &copy)?;
        for (link, target) in SYMLINKS {
            restore_symlink(&copy.join(link), target)?;
        }
        Ok(dir)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Replaces the plain file `path` by a symlink to `target` if its content is `target`;
/// leaves it alone otherwise (e.g. a corpus that kept its symlinks).
fn restore_symlink(path: &Path, target: &str) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.is_file() || std::fs::read(path)? != target.as_bytes() {
        return Ok(());
    }
    std::fs::remove_file(path)?;
    std::os::unix::fs::symlink(target, path)
}

/// Copies the tree `from` to `to` (which must not exist); symlinks are copied as links,
/// and everything in the copy is writable so that it can be removed.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else {
            // Keeps the executable bits (they are part of a NAR hash), adds write access.
            std::fs::copy(&src, &dst)?;
            let mut perms = std::fs::metadata(&dst)?.permissions();
            perms.set_mode(perms.mode() | 0o200);
            std::fs::set_permissions(&dst, perms)?;
        }
    }
    Ok(())
}
