//! The on-disk cache of plans: per (kith version, flake, inputs, view) a small entry file
//! holding the observations of every file the answer was computed from, beside the
//! answer itself (as JSON, and as `clan select` prints it). A warm query reads the entry
//! and re-observes those files; any difference, and any unreadable, truncated or foreign
//! file, makes it a miss. Every file is written to a temporary name and renamed into
//! place (the entry last, naming the answer's digest), so concurrent processes never see
//! a partial or mismatched entry.

use crate::recording_fs::{Observation, RecordingFs};
use serde::{Deserialize, Serialize};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The format tag of cache files.
const FORMAT: &str = "kith-plan-v3";

/// A cache entry: what an answer depended on, and the digests of its stored forms.
#[derive(Debug, Serialize, Deserialize)]
pub struct Entry {
    format: String,
    version: String,
    key: String,
    /// Every observation the answer was computed from, but those in `token_reads`.
    pub observations: Vec<Observation>,
    /// The file reads checked by their metadata token alone
    /// ([`Observation::by_token_alone`]), most of a large answer's observations, in a
    /// form a lookup checks without decoding them one by one: a line `TOKEN PATH` each
    /// (the token as 16 hex digits), sorted by path.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    token_reads: String,
    /// blake3 of the stored JSON value.
    value_digest: String,
    /// blake3 of the stored printed text.
    text_digest: String,
    /// blake3 of the stored [`Reads`]: every file the answer read, one by one, where
    /// `observations` covers some of them by a whole tree (what a projection of the answer
    /// that depends on fewer files is stored with). In a file of its own, read only then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reads_digest: Option<String>,
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
        self.entry.observations.len() + token_reads(&self.entry.token_reads).count()
    }

    /// The answer as JSON, if its file is intact.
    pub fn value(&self) -> Option<serde_json::Value> {
        let bytes = std::fs::read(self.dir.join(format!("{}.value.json", self.key))).ok()?;
        (blake3::hash(&bytes).to_hex().as_str() == self.entry.value_digest)
            .then(|| serde_json::from_slice(&bytes).ok())
            .flatten()
    }

    /// Every file the answer read, one by one, if it was stored with them and their file
    /// is intact.
    pub fn reads(&self) -> Option<Reads> {
        let digest = self.entry.reads_digest.as_ref()?;
        let bytes = std::fs::read(self.dir.join(format!("{}.reads.json", self.key))).ok()?;
        (blake3::hash(&bytes).to_hex().as_str() == digest)
            .then(|| serde_json::from_slice(&bytes).ok())
            .flatten()
    }

    /// The observations the answer was checked against.
    pub fn observations(&self) -> Vec<Observation> {
        let mut all = self.entry.observations.clone();
        all.extend(
            token_reads(&self.entry.token_reads).map(|(token, path)| Observation {
                op: "read".into(),
                path: PathBuf::from(path),
                digest: String::new(),
                stat: token,
                no_links: true,
            }),
        );
        all
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
    if !all_hold(&entry, dir) {
        return None;
    }
    let mut entry = entry;
    settle(dir, &mut entry);
    Some(Hit {
        dir: dir.to_path_buf(),
        key: key.to_string(),
        entry,
    })
}

/// Rewrites an entry whose file reads were racy when observed (each check then reads
/// them) with their metadata tokens, once the entry is older than the racy window (see
/// [`Observation::settle`]). Failures are ignored.
fn settle(dir: &Path, entry: &mut Entry) {
    if !entry
        .observations
        .iter()
        .any(|o| o.op == "read" && o.stat.is_none())
    {
        return;
    }
    let path = dir.join(format!("{}.json", entry.key));
    if !crate::tree_index::settled(&path) {
        return;
    }
    let mut changed = false;
    for o in &mut entry.observations {
        changed |= o.settle();
    }
    if changed {
        if let Ok(bytes) = serde_json::to_vec(&*entry) {
            write_atomic(&path, &bytes);
        }
    }
}

/// Whether every observation still holds. Each check is a `stat` or a read, and the
/// kernel's path lookups dominate a warm answer, so the work is shared by two threads:
/// each takes half of every tree's stat index and half of the other files (one of them
/// also verifies the indexes' checksums). A tree without a usable index is walked.
fn all_hold(entry: &Entry, dir: &Path) -> bool {
    let (trees, files): (Vec<&Observation>, Vec<&Observation>) =
        entry.observations.iter().partition(|o| o.op == "tree");
    let mut reads: Vec<(u64, &[u8])> = Vec::new();
    for (token, path) in token_reads(&entry.token_reads) {
        match token {
            Some(t) if path.starts_with('/') => reads.push((t, path.as_bytes())),
            _ => return false,
        }
    }
    if !reads.windows(2).all(|w| w[0].1 < w[1].1) {
        return false;
    }
    let mut indexes = Vec::new();
    for t in trees {
        match crate::tree_index::load(&t.path, &t.digest, dir) {
            Some(index) => indexes.push((index, t.digest.as_str())),
            None if crate::tree_index::walk_holds(&t.path, &t.digest) => {}
            None => return false,
        }
    }
    let paths: Vec<&[u8]> = reads.iter().map(|r| r.1).collect();
    let anchors = crate::recording_fs::ReadAnchors::new(&paths);
    // The other files, then the token reads, from `from` to `to` of them all.
    let files_hold = |from: usize, to: usize| {
        (from..to).all(|k| match k.checked_sub(files.len()) {
            None => files[k].holds_in(Some(dir)),
            Some(r) => anchors.holds(r, reads[r].1, reads[r].0),
        })
    };
    let n = files.len() + reads.len();
    let entries: usize = indexes.iter().map(|(i, _)| i.count()).sum();
    // Two threads pay off from a few thousand checks on.
    let hold = if entries + n < 2048 {
        indexes
            .iter()
            .all(|(i, _)| i.intact() && i.check(0, i.count()))
            && files_hold(0, n)
    } else {
        std::thread::scope(|s| {
            let other = s.spawn(|| {
                indexes
                    .iter()
                    .all(|(i, _)| i.intact() && i.check(i.count() / 2, i.count()))
                    && files_hold(n / 2, n)
            });
            let mine =
                indexes.iter().all(|(i, _)| i.check(0, i.count() / 2)) && files_hold(0, n / 2);
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

/// How many checks a lookup of `observations` makes: one per observation, a tree's as many
/// as its stat index in `dir` has entries (a tree without one counts as unbounded).
pub fn checks(observations: &[Observation], dir: &Path) -> usize {
    observations
        .iter()
        .map(|o| match o.op.as_str() {
            "tree" => crate::tree_index::load(&o.path, &o.digest, dir)
                .map_or(usize::MAX / 2, |i| i.count()),
            _ => 1,
        })
        .fold(0, usize::saturating_add)
}

/// `observations` with the file reads checked by their token alone taken out, as the
/// lines of [`Entry::token_reads`] (their content digests, never compared, are not kept).
fn compact(observations: Vec<Observation>) -> (Vec<Observation>, String) {
    let mut lines: Vec<(&str, u64)> = Vec::new();
    let mut rest = Vec::new();
    for o in &observations {
        let line = o
            .path
            .to_str()
            .filter(|p| p.starts_with('/') && !p.contains('\n'));
        match (o.by_token_alone(), line, o.stat) {
            (true, Some(p), Some(token)) => lines.push((p, token)),
            _ => rest.push(o.clone()),
        }
    }
    lines.sort_unstable();
    lines.dedup();
    let mut text = String::with_capacity(lines.iter().map(|(p, _)| p.len() + 18).sum());
    for (p, token) in lines {
        use std::fmt::Write;
        let _ = writeln!(text, "{token:016x} {p}");
    }
    (rest, text)
}

/// The lines of [`Entry::token_reads`]: each read's token (`None` if malformed) and path.
fn token_reads(text: &str) -> impl Iterator<Item = (Option<u64>, &str)> {
    text.lines().map(|l| match l.split_once(' ') {
        Some((t, p)) if t.len() == 16 => (u64::from_str_radix(t, 16).ok(), p),
        _ => (None, l),
    })
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

/// Stores an answer (its JSON value and printed text), its observations and, where those
/// cover some files by a whole tree, the files it read one by one. Failures are ignored:
/// the cache is an optimisation.
pub fn store(
    dir: &Path,
    key: &str,
    observations: Vec<Observation>,
    reads: Option<&Reads>,
    value: &serde_json::Value,
    text: &str,
) {
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(value_bytes) = serde_json::to_vec(value) else {
        return;
    };
    let reads_bytes = match reads.map(serde_json::to_vec) {
        Some(Ok(b)) => Some(b),
        Some(Err(_)) => return,
        None => None,
    };
    let (observations, token_reads) = compact(crate::recording_fs::elide_implied(observations));
    let entry = Entry {
        format: FORMAT.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        key: key.into(),
        observations,
        token_reads,
        value_digest: blake3::hash(&value_bytes).to_hex().to_string(),
        text_digest: blake3::hash(text.as_bytes()).to_hex().to_string(),
        reads_digest: reads_bytes
            .as_ref()
            .map(|b| blake3::hash(b).to_hex().to_string()),
    };
    let Ok(entry_bytes) = serde_json::to_vec(&entry) else {
        return;
    };
    let reads_written = reads_bytes
        .as_ref()
        .is_none_or(|b| write_atomic(&dir.join(format!("{key}.reads.json")), b));
    if reads_written
        && write_atomic(&dir.join(format!("{key}.value.json")), &value_bytes)
        && write_atomic(&dir.join(format!("{key}.text")), text.as_bytes())
    {
        write_atomic(&dir.join(format!("{key}.json")), &entry_bytes);
    }
}

/// What an answer was computed from: every file read, one by one, and what decides which
/// directories are observed as whole trees (see [`Reads::with_trees`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reads {
    files: Vec<Observation>,
    dir: PathBuf,
    overrides: Vec<(String, PathBuf)>,
    /// The store directory, with a trailing slash.
    store_prefix: String,
    flake_path: String,
    core_path: String,
}

impl Reads {
    /// The reads of an answer computed from the flake in `dir` with `overrides`, whose
    /// store path is `flake_path` (clan-core's `core_path`): `fs`'s and `more` (reads in
    /// the store left out: it is immutable), and the flake's own definition, whatever was
    /// read.
    pub fn new(
        fs: &RecordingFs,
        more: Vec<Observation>,
        dir: &Path,
        overrides: &[(String, PathBuf)],
        store_dir: &str,
        flake_path: &str,
        core_path: &str,
    ) -> Reads {
        let store_prefix = format!("{store_dir}/");
        let in_store = |p: &Path| p.starts_with(&store_prefix);
        let mut files: Vec<Observation> = fs.observations(in_store);
        files.extend(more.into_iter().filter(|o| !in_store(&o.path)));
        for f in ["flake.nix", "flake.lock"] {
            let p = dir.join(f);
            if !files.iter().any(|o| o.path.as_os_str() == p.as_os_str()) {
                files.push(Observation::observe("read", &p));
            }
        }
        // By bytes: comparing `Path`s walks their components.
        files.sort_by(|a, b| {
            (&a.op, a.path.as_os_str().as_bytes()).cmp(&(&b.op, b.path.as_os_str().as_bytes()))
        });
        files.dedup_by(|a, b| {
            a.op == b.op && a.path.as_os_str() == b.path.as_os_str() && a.digest == b.digest
        });
        for o in &mut files {
            if o.by_token_alone() {
                o.digest.clear();
            }
        }
        Reads {
            files,
            dir: dir.to_path_buf(),
            overrides: overrides.to_vec(),
            store_prefix,
            flake_path: flake_path.to_string(),
            core_path: core_path.to_string(),
        }
    }

    /// What an answer printed as `text` depends on: the files, except that a directory
    /// whose store path occurs in `text` is observed as a whole tree, since any change in
    /// it changes that path: the flake's directory when the flake's store path occurs;
    /// clan-core's when its path does; every input's when any other store path does. The
    /// trees' stat indexes go to `cache_dir`. `None` if such a tree, or a file read
    /// compared by its content, changed since `since`, a time taken before the answer was
    /// computed (see [`Observation::observe_tree`], [`Observation::read_changed_since`]).
    pub fn with_trees(
        &self,
        text: &str,
        cache_dir: &Path,
        since: std::time::SystemTime,
    ) -> Option<Vec<Observation>> {
        if self.files.iter().any(|o| o.read_changed_since(since)) {
            return None;
        }
        let mut trees: Vec<&Path> = Vec::new();
        if text.contains(&self.flake_path) {
            trees.push(&self.dir);
        }
        let others = text.match_indices(&self.store_prefix).any(|(i, _)| {
            let rest = &text[i..];
            !rest.starts_with(&self.flake_path) && !rest.starts_with(&self.core_path)
        });
        for (name, path) in &self.overrides {
            if others || (name == "clan-core" && text.contains(&self.core_path)) {
                trees.push(path);
            }
        }
        let mut obs: Vec<Observation> = self
            .files
            .iter()
            .filter(|o| !trees.iter().any(|t| o.path.starts_with(t)))
            .cloned()
            .collect();
        for t in trees {
            obs.push(Observation::observe_tree(t, Some(cache_dir), since)?);
        }
        Some(crate::recording_fs::elide_implied(obs))
    }
}
