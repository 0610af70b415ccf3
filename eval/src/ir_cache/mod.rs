//! An on-disk cache of lowered files, keyed by content.
//!
//! Parsing and lowering are a fixed cost of every run: nixpkgs' `lib` and clan-core are
//! tens of thousands of lines that rarely change. Once a file is lowered, its IR is written
//! to `DIR/ir/<key>`; the next run that loads the same text under the same conditions
//! decodes it instead, several times faster than parsing.
//!
//! **Key.** A blake3 hash of everything lowering depends on: the digest of kith's lowering
//! code (from `build.rs`), the file's path (relative path literals resolve against it) and
//! text, `$HOME` (`~/` literals), the global names and the `scopedImport` names in scope.
//! Lint settings are not in the key: with any lint on, the cache is not used (lints report
//! while lowering).
//!
//! **Entries.** A blake3 checksum of the rest, the entry's own key, `MAGIC`, a symbol
//! table, then the expression tree in preorder (LEB128 numbers, spans as offsets into the
//! file). A missing, truncated or corrupt entry, one stored under another key, one that is
//! not a regular file, or one whose IR breaks the evaluator's invariants (`validate.rs`) is
//! ignored and the file lowered again (and the entry rewritten). Entries are written to a
//! temporary file and renamed into place, so readers never see a partial entry; failures
//! to write (read-only or full disk) are ignored too.
//!
//! **Size.** At its first write, an evaluator checks the cache's size; above 256 MiB the
//! oldest entries are deleted until three quarters of that remain.

mod decode;
mod encode;
mod validate;

use crate::ir::ExprRef;
use crate::source::FileId;
use crate::symbol::Symbol;
use std::path::{Path, PathBuf};

/// The first bytes of every entry (the format's version is in the name).
const MAGIC: &[u8; 8] = b"kithIR2\0";

/// The largest entry read back (far above any real file's IR); a bigger file is not an
/// entry kith wrote.
const MAX_ENTRY: u64 = 256 << 20;

/// Expression tags of the encoding.
mod tag {
    pub const CONST: u8 = 0;
    pub const VAR: u8 = 1;
    pub const GLOBAL: u8 = 2;
    pub const WITH_VAR: u8 = 3;
    pub const ATTRS: u8 = 4;
    pub const LIST: u8 = 5;
    pub const LAMBDA: u8 = 6;
    pub const CALL: u8 = 7;
    pub const SELECT: u8 = 8;
    pub const HAS_ATTR: u8 = 9;
    pub const LET: u8 = 10;
    pub const WITH: u8 = 11;
    pub const IF: u8 = 12;
    pub const ASSERT: u8 = 13;
    pub const NOT: u8 = 14;
    pub const NEG: u8 = 15;
    pub const BINARY: u8 = 16;
    pub const INTERPOLATE: u8 = 17;
    pub const PATH_INTERPOLATE: u8 = 18;
    pub const SEARCH_PATH: u8 = 19;
    pub const CUR_POS: u8 = 20;
}

/// The cache in one directory.
#[derive(Debug)]
pub struct IrCache {
    dir: PathBuf,
    /// Hash of the global names, computed on first use (the builtins are fixed by then).
    globals: Option<blake3::Hash>,
    /// Entries may take this many bytes; see [`IrCache::prune`].
    limit: u64,
    /// Whether this evaluator has checked the cache's size (once, at its first write).
    pruned: std::cell::Cell<bool>,
}

/// The default size limit of the cache: 256 MiB, several hundred thousand lines of Nix.
const DEFAULT_LIMIT: u64 = 256 << 20;

/// The default cache directory: `$KITH_CACHE_DIR`, else `$XDG_CACHE_HOME/kith`, else
/// `~/.cache/kith`.
pub fn default_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("KITH_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("kith")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("kith")))
}

impl IrCache {
    /// A cache whose entries live under `dir/ir` (created when first written).
    pub fn new(dir: &Path) -> IrCache {
        IrCache {
            dir: dir.join("ir"),
            globals: None,
            limit: DEFAULT_LIMIT,
            pruned: std::cell::Cell::new(false),
        }
    }

    /// The key of `text`, read from `path`, lowered with `globals` as the global names and
    /// `scope` bound around it.
    pub(crate) fn key(
        &mut self,
        path: &Path,
        text: &str,
        globals: impl FnOnce() -> Vec<Symbol>,
        scope: &[Symbol],
    ) -> blake3::Hash {
        let globals = *self.globals.get_or_insert_with(|| {
            let mut names: Vec<&str> = globals().iter().map(|s| s.as_str()).collect();
            names.sort_unstable();
            let mut h = blake3::Hasher::new();
            for n in names {
                field(&mut h, n.as_bytes());
            }
            h.finalize()
        });
        let mut h = blake3::Hasher::new();
        field(&mut h, env!("KITH_IR_DIGEST").as_bytes());
        field(&mut h, path.as_os_str().as_encoded_bytes());
        field(&mut h, text.as_bytes());
        field(
            &mut h,
            std::env::var_os("HOME")
                .unwrap_or_default()
                .as_encoded_bytes(),
        );
        field(&mut h, globals.as_bytes());
        h.update(&(scope.len() as u64).to_le_bytes());
        for s in scope {
            field(&mut h, s.as_str().as_bytes());
        }
        h.finalize()
    }

    fn entry(&self, key: &blake3::Hash) -> PathBuf {
        self.dir.join(key.to_hex().as_str())
    }

    /// The cached IR for `key`, with spans in `file` (whose text is `text`), if a valid
    /// entry exists. The file is evaluated in a root frame of `root_slots` slots.
    ///
    /// Nothing in the cache directory is trusted: the entry must be a regular file (a FIFO
    /// or device there is never waited on), of bounded size, with a correct checksum,
    /// written for this very key (an entry moved under another key is refused), and its
    /// IR must decode and pass [`validate::valid`]. Anything else is a miss.
    pub(crate) fn load(
        &self,
        key: &blake3::Hash,
        file: FileId,
        text: &str,
        root_slots: u32,
    ) -> Option<ExprRef> {
        let bytes = read_entry(&self.entry(key))?;
        let (sum, rest) = bytes.split_at_checked(32)?;
        if blake3::hash(rest).as_bytes() != sum {
            return None;
        }
        let (stored_key, body) = rest.split_at_checked(32)?;
        if stored_key != key.as_bytes() {
            return None;
        }
        let e = decode::decode(body, file, text)?;
        validate::valid(&e, root_slots).then_some(e)
    }

    /// Writes the entry for `key` (atomically; errors are ignored: the cache is optional).
    pub(crate) fn store(&self, key: &blake3::Hash, expr: &crate::ir::Expr) {
        let Some(body) = encode::encode(expr) else {
            return;
        };
        let mut keyed = Vec::with_capacity(32 + body.len());
        keyed.extend_from_slice(key.as_bytes());
        keyed.extend_from_slice(&body);
        let body = keyed;
        if !self.pruned.replace(true) {
            self.prune();
        }
        let _ = self.write(key, &body);
    }

    /// Keeps the cache within its size limit: when the entries take more than the limit,
    /// the oldest (by modification time, that is by when they were written) are deleted
    /// until they take at most three quarters of it. Runs at an evaluator's first write,
    /// so a run that only reads the cache pays nothing.
    fn prune(&self) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = rd
            .filter_map(|e| {
                let e = e.ok()?;
                let meta = e.metadata().ok()?;
                if !meta.is_file() {
                    return None;
                }
                Some((meta.modified().ok()?, meta.len(), e.path()))
            })
            .collect();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        if total <= self.limit {
            return;
        }
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.limit / 4 * 3 {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }

    fn write(&self, key: &blake3::Hash, body: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir)?;
        let target = self.entry(key);
        // Unique per process and write, so concurrent writers never share a temporary.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = self.dir.join(format!(
            ".{}.{}.{n}.tmp",
            key.to_hex().as_str(),
            std::process::id()
        ));
        let result = (|| {
            // `create_new`: never open (and block on) something already there.
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            f.write_all(blake3::hash(body).as_bytes())?;
            f.write_all(body)?;
            // No fsync: a torn entry after a crash fails its checksum and is ignored.
            std::fs::rename(&tmp, &target)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// Reads the entry at `path` without ever blocking: opened non-blocking and without
/// following a symlink, it must be a regular file (checked on the open file, so it cannot
/// be swapped in between) of at most [`MAX_ENTRY`] bytes.
fn read_entry(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
        .ok()?;
    let meta = f.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_ENTRY {
        return None;
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.take(MAX_ENTRY + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= MAX_ENTRY).then_some(bytes)
}

/// Hashes `b` with its length, so that adjacent fields cannot run together.
fn field(h: &mut blake3::Hasher, b: &[u8]) {
    h.update(&(b.len() as u64).to_le_bytes());
    h.update(b);
}

#[cfg(test)]
mod tests;
