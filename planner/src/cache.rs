//! The on-disk cache of plans: per (kith version, flake, inputs, view) a small entry file
//! holding the observations of every file the answer was computed from, beside the
//! answer itself (as JSON, and as `clan select` prints it). A warm query reads the entry
//! and re-observes those files; any difference, and any unreadable, truncated or foreign
//! file, makes it a miss. Every file is written to a temporary name and renamed into
//! place (the entry last, naming the answer's digest), so concurrent processes never see
//! a partial or mismatched entry.

use crate::recording_fs::Observation;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The format tag of cache files.
const FORMAT: &str = "kith-plan-v2";

/// A cache entry: what an answer depended on, and the digests of its stored forms.
#[derive(Debug, Serialize, Deserialize)]
pub struct Entry {
    format: String,
    version: String,
    key: String,
    /// Every observation the answer was computed from.
    pub observations: Vec<Observation>,
    /// blake3 of the stored JSON value.
    value_digest: String,
    /// blake3 of the stored printed text.
    text_digest: String,
}

/// A valid cache entry for a key.
pub struct Hit {
    dir: PathBuf,
    key: String,
    entry: Entry,
}

impl Hit {
    /// How many observations were checked.
    pub fn observed(&self) -> usize {
        self.entry.observations.len()
    }

    /// The answer as JSON, if its file is intact.
    pub fn value(&self) -> Option<serde_json::Value> {
        let bytes = std::fs::read(self.dir.join(format!("{}.value.json", self.key))).ok()?;
        (blake3::hash(&bytes).to_hex().as_str() == self.entry.value_digest)
            .then(|| serde_json::from_slice(&bytes).ok())
            .flatten()
    }

    /// The digest of the answer's JSON value (what a projection of it is keyed by).
    pub fn value_digest(&self) -> &str {
        &self.entry.value_digest
    }

    /// A projection of the answer stored by [`store_projection`] under `name`, if it was
    /// made from this very answer.
    pub fn projection(&self, name: &str) -> Option<serde_json::Value> {
        let bytes = std::fs::read(projection_path(&self.dir, &self.key, name)).ok()?;
        let stored: Projection = serde_json::from_slice(&bytes).ok()?;
        (stored.of == self.entry.value_digest).then_some(stored.value)
    }

    /// The answer as `clan select` prints it, if its file is intact.
    pub fn text(&self) -> Option<String> {
        use std::io::Read;
        let mut file = std::fs::File::open(self.dir.join(format!("{}.text", self.key))).ok()?;
        let len = file.metadata().ok()?.len();
        // One byte of room: the printer appends a newline without copying the text.
        let mut bytes = Vec::with_capacity(usize::try_from(len).ok()? + 1);
        file.read_to_end(&mut bytes).ok()?;
        (blake3::hash(&bytes).to_hex().as_str() == self.entry.text_digest)
            .then(|| String::from_utf8(bytes).ok())
            .flatten()
    }
}

/// The cache directory: `$KITH_CACHE_DIR/plan`, else `$XDG_CACHE_HOME/kith/plan`, else
/// `~/.cache/kith/plan`.
pub fn dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("KITH_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("plan"));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("kith/plan"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kith/plan"))
}

/// The key of a view of a flake: blake3 of kith's version, the running build (its
/// executable's size and modification time: a rebuilt kith may answer differently) and
/// the request's parts.
pub fn key(parts: &[&str]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    if let Ok(m) = std::env::current_exe().and_then(std::fs::metadata) {
        use std::os::unix::fs::MetadataExt;
        h.update(format!("\0{}:{}.{}", m.size(), m.mtime(), m.mtime_nsec()).as_bytes());
    }
    h.update(b"\0");
    h.update(FORMAT.as_bytes());
    for p in parts {
        h.update(b"\0");
        h.update(p.as_bytes());
    }
    h.finalize().to_hex().to_string()
}

/// The entry for `key` if it exists, is well-formed, is ours, and every file it depended
/// on is unchanged.
pub fn lookup(dir: &Path, key: &str) -> Option<Hit> {
    let text = std::fs::read(dir.join(format!("{key}.json"))).ok()?;
    let entry: Entry = serde_json::from_slice(&text).ok()?;
    if entry.format != FORMAT || entry.version != env!("CARGO_PKG_VERSION") || entry.key != key {
        return None;
    }
    all_hold(&entry.observations, dir).then(|| Hit {
        dir: dir.to_path_buf(),
        key: key.to_string(),
        entry,
    })
}

/// Whether every observation still holds. Each check is a `stat` or a read, and the
/// kernel's path lookups dominate a warm answer, so the work is shared by two threads:
/// each takes half of every tree's stat index and half of the other files (one of them
/// also verifies the indexes' checksums). A tree without a usable index is walked.
fn all_hold(observations: &[Observation], dir: &Path) -> bool {
    let (trees, files): (Vec<&Observation>, Vec<&Observation>) =
        observations.iter().partition(|o| o.op == "tree");
    let mut indexes = Vec::new();
    for t in trees {
        match crate::tree_index::load(&t.path, &t.digest, dir) {
            Some(index) => indexes.push((index, t.digest.as_str())),
            None if crate::tree_index::walk_holds(&t.path, &t.digest) => {}
            None => return false,
        }
    }
    let files_hold = |part: &[&Observation]| part.iter().all(|o| o.holds_in(Some(dir)));
    let entries: usize = indexes.iter().map(|(i, _)| i.count()).sum();
    // Two threads pay off from a few thousand checks on.
    let hold = if entries + files.len() < 2048 {
        indexes
            .iter()
            .all(|(i, _)| i.intact() && i.check(0, i.count()))
            && files_hold(&files)
    } else {
        let (files_a, files_b) = files.split_at(files.len() / 2);
        std::thread::scope(|s| {
            let other = s.spawn(|| {
                indexes
                    .iter()
                    .all(|(i, _)| i.intact() && i.check(i.count() / 2, i.count()))
                    && files_hold(files_b)
            });
            let mine =
                indexes.iter().all(|(i, _)| i.check(0, i.count() / 2)) && files_hold(files_a);
            mine && other.join().unwrap_or(false)
        })
    };
    if hold {
        // Indexes whose racy entries have settled are rewritten without them.
        for (index, digest) in &indexes {
            crate::tree_index::refresh_settled(index, digest, dir);
        }
    }
    hold
}

/// A projection of a cached answer: the digest of the answer it was made from, and its
/// value.
#[derive(Serialize, Deserialize)]
struct Projection {
    of: String,
    value: serde_json::Value,
}

fn projection_path(dir: &Path, key: &str, name: &str) -> PathBuf {
    dir.join(format!("{key}.{name}.json"))
}

/// The digest [`store`] gives an answer's JSON value.
pub fn value_digest(value: &serde_json::Value) -> Option<String> {
    let bytes = serde_json::to_vec(value).ok()?;
    Some(blake3::hash(&bytes).to_hex().to_string())
}

/// Stores `value`, the projection `name` of the answer whose value digest is `of`, next
/// to that answer's entry. Failures are ignored.
pub fn store_projection(dir: &Path, key: &str, name: &str, of: &str, value: &serde_json::Value) {
    let stored = Projection {
        of: of.to_string(),
        value: value.clone(),
    };
    if let Ok(bytes) = serde_json::to_vec(&stored) {
        write_atomic(&projection_path(dir, key, name), &bytes);
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> bool {
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, path).is_ok() {
        return true;
    }
    let _ = std::fs::remove_file(&tmp);
    false
}

/// Stores an answer (its JSON value and printed text) and its observations. Failures are
/// ignored: the cache is an optimisation.
pub fn store(
    dir: &Path,
    key: &str,
    observations: Vec<Observation>,
    value: &serde_json::Value,
    text: &str,
) {
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(value_bytes) = serde_json::to_vec(value) else {
        return;
    };
    let entry = Entry {
        format: FORMAT.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        key: key.into(),
        observations,
        value_digest: blake3::hash(&value_bytes).to_hex().to_string(),
        text_digest: blake3::hash(text.as_bytes()).to_hex().to_string(),
    };
    let Ok(entry_bytes) = serde_json::to_vec(&entry) else {
        return;
    };
    if write_atomic(&dir.join(format!("{key}.value.json")), &value_bytes)
        && write_atomic(&dir.join(format!("{key}.text")), text.as_bytes())
    {
        write_atomic(&dir.join(format!("{key}.json")), &entry_bytes);
    }
}
