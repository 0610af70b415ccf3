//! Flake sources: where their files are, and the store path and metadata (`narHash`,
//! `lastModified`, `rev`, …) Nix would give them, computed without copying anything.

use kith_eval::Visible;
use kith_eval::{EvalError, Result};
use kith_store::fs::FileKind;
use kith_store::hash::base64_encode;
use kith_store::nar;
use kith_store::path::{make_fixed_output_path, Ingestion};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// A metadata value of a source (`sourceInfo` attributes other than `outPath`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Meta {
    Str(String),
    Int(i64),
    Bool(bool),
}

/// A fetched (or located) source tree.
#[derive(Clone, Debug)]
pub struct SourceTree {
    /// `/nix/store/<hash>-source`.
    pub store_path: String,
    /// The directory holding the files (the store path itself for fetched inputs).
    pub real: PathBuf,
    /// Visible paths for a filtered (git) source.
    pub visible: Option<Visible>,
    /// `sourceInfo` attributes besides `outPath`, in any order.
    pub meta: Vec<(String, Meta)>,
    /// The flake's directory inside the source (`dir=`), `""` for the top.
    pub subdir: String,
    /// How Nix names the source in messages (`path:/x`, `git+file:///x`).
    pub url: String,
}

impl SourceTree {
    /// Drops `rev`, `shortRev` and `revCount`, as Nix does for a root flake whose lock
    /// file changed without being written.
    pub fn force_dirty(&mut self) {
        self.meta
            .retain(|(k, _)| !matches!(k.as_str(), "rev" | "shortRev" | "revCount"));
    }
}

/// `sha256-<base64>` of a digest.
fn sri(digest: &[u8; 32]) -> String {
    format!("sha256-{}", base64_encode(digest))
}

/// `YYYYMMDDhhmmss` (UTC) of a Unix time, as `lastModifiedDate`.
pub fn format_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn time_meta(meta: &mut Vec<(String, Meta)>, secs: i64) {
    meta.push(("lastModified".into(), Meta::Int(secs)));
    meta.push(("lastModifiedDate".into(), Meta::Str(format_date(secs))));
}

fn source_path(store_dir: &str, digest: &[u8; 32]) -> Result<String> {
    Ok(make_fixed_output_path(
        store_dir,
        "source",
        Ingestion::Recursive,
        digest,
        &BTreeSet::new(),
    )?)
}

/// A `path:` source: the whole directory, `lastModified` the newest modification time in it.
pub fn path_source(store_dir: &str, dir: &Path, threads: usize) -> Result<SourceTree> {
    let real = std::fs::canonicalize(dir)
        .map_err(|_| EvalError::new(format!("path '{}' does not exist", dir.display())))?;
    let (digest, newest) = nar::host::nar_sha256_newest(&real, threads, &|_, _| true)?;
    let mut meta = Vec::new();
    time_meta(&mut meta, newest);
    meta.push(("narHash".into(), Meta::Str(sri(&digest))));
    Ok(SourceTree {
        store_path: source_path(store_dir, &digest)?,
        url: format!("path:{}", real.display()),
        real,
        visible: None,
        meta,
        subdir: String::new(),
    })
}

/// The git work tree containing `dir`, if any, and `dir`'s path inside it.
pub fn find_git(dir: &Path) -> Option<(git2::Repository, PathBuf, String)> {
    let real = std::fs::canonicalize(dir).ok()?;
    let repo = git2::Repository::discover(&real).ok()?;
    let top = std::fs::canonicalize(repo.workdir()?).ok()?;
    let sub = real.strip_prefix(&top).ok()?.to_string_lossy().into_owned();
    Some((repo, top, sub))
}

fn git_err(e: git2::Error) -> Box<EvalError> {
    EvalError::new(format!("git: {}", e.message()))
}

/// A `git+file:` source: the tracked (and staged) files of the work tree as they are on
/// disk; `rev`/`revCount`/`shortRev` when clean, `dirtyRev`/`dirtyShortRev` when not.
pub fn git_source(
    store_dir: &str,
    repo: &git2::Repository,
    top: &Path,
    subdir: &str,
    threads: usize,
) -> Result<SourceTree> {
    let tracked = tracked_paths(repo)?;
    let (digest, _) = nar::host::nar_sha256_newest(top, threads, &|p: &Path, _k: FileKind| {
        let rel = p
            .strip_prefix(top)
            .map(|r| kith_store::bytestr::from_os(r.as_os_str()).into_owned());
        rel.is_ok_and(|r| tracked.contains(&r))
    })?;
    let visible = Rc::new(tracked);
    let mut meta = Vec::new();
    let head = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let dirty = is_dirty(repo)?;
    match &head {
        Some(c) => {
            time_meta(&mut meta, c.time().seconds());
            let rev = c.id().to_string();
            if dirty {
                meta.push(("dirtyRev".into(), Meta::Str(format!("{rev}-dirty"))));
                meta.push((
                    "dirtyShortRev".into(),
                    Meta::Str(format!("{}-dirty", &rev[..7])),
                ));
            } else {
                meta.push(("revCount".into(), Meta::Int(rev_count(repo, c.id())?)));
                meta.push(("shortRev".into(), Meta::Str(rev[..7].to_string())));
                meta.push(("rev".into(), Meta::Str(rev)));
            }
        }
        None => time_meta(&mut meta, 0),
    }
    meta.push(("narHash".into(), Meta::Str(sri(&digest))));
    meta.push(("submodules".into(), Meta::Bool(false)));
    Ok(SourceTree {
        store_path: source_path(store_dir, &digest)?,
        real: top.to_path_buf(),
        visible: Some(visible),
        meta,
        subdir: subdir.to_string(),
        url: format!("git+file://{}", top.display()),
    })
}

/// Paths of the index's files (submodules left out) and of their ancestor directories.
fn tracked_paths(repo: &git2::Repository) -> Result<HashSet<String>> {
    let index = repo.index().map_err(git_err)?;
    let mut out = HashSet::new();
    for entry in index.iter() {
        if entry.mode == 0o160000 {
            continue;
        }
        // File names are bytes: the visible set holds them encoded (crate::bytestr).
        let path = kith_store::bytestr::encode(&entry.path).into_owned();
        let mut prefix = path.as_str();
        while let Some((parent, _)) = prefix.rsplit_once('/') {
            if !out.insert(parent.to_string()) {
                break;
            }
            prefix = parent;
        }
        out.insert(path);
    }
    Ok(out)
}

/// Whether tracked files differ from `HEAD` (untracked files do not count).
fn is_dirty(repo: &git2::Repository) -> Result<bool> {
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(false)
        .include_ignored(false)
        .exclude_submodules(true);
    let statuses = repo.statuses(Some(&mut opts)).map_err(git_err)?;
    Ok(!statuses.is_empty())
}

fn rev_count(repo: &git2::Repository, head: git2::Oid) -> Result<i64> {
    let mut walk = repo.revwalk().map_err(git_err)?;
    walk.push(head).map_err(git_err)?;
    Ok(walk.count() as i64)
}

/// The store path (and NAR hash) a locked input's `narHash` names.
pub fn locked_store_path(
    store_dir: &str,
    name: &str,
    locked: &serde_json::Map<String, serde_json::Value>,
) -> Result<(String, [u8; 32])> {
    let Some(nar_hash) = locked.get("narHash").and_then(|v| v.as_str()) else {
        return Err(EvalError::new(format!(
            "cannot fetch input '{name}' ({}): its lock entry has no 'narHash'",
            describe_locked(locked)
        )));
    };
    let digest = kith_store::path::parse_sha256(nar_hash).map_err(EvalError::new)?;
    Ok((source_path(store_dir, &digest)?, digest))
}

/// The directory a locked input's flake would be read from: the store path its
/// `narHash` names (name `source`), plus its `dir`, computed without fetching and whether
/// or not the store holds it.
pub fn locked_source_path(
    store_dir: &str,
    name: &str,
    locked: &serde_json::Map<String, serde_json::Value>,
) -> Result<String> {
    let (store_path, _) = locked_store_path(store_dir, name, locked)?;
    Ok(match locked.get("dir").and_then(|v| v.as_str()) {
        Some(dir) if !dir.is_empty() => format!("{store_path}/{dir}"),
        _ => store_path,
    })
}

/// How to get a locked input that is missing from the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fetch {
    /// Only look in the store.
    Never,
    /// Ask the real Nix to fetch it (`nix flake prefetch`).
    ViaNix,
}

impl Fetch {
    /// [`Fetch::Never`] when `offline`, else [`Fetch::ViaNix`].
    pub fn unless_offline(offline: bool) -> Fetch {
        if offline {
            Fetch::Never
        } else {
            Fetch::ViaNix
        }
    }
}

/// A locked input of a type kith does not read in place (github, git, tarball, …): its
/// store path from `narHash`, used if it is in the store, else (with [`Fetch::ViaNix`])
/// fetched by Nix.
pub fn locked_source(
    ev: &mut kith_eval::Eval,
    name: &str,
    locked: &serde_json::Map<String, serde_json::Value>,
    fetch: Fetch,
) -> Result<SourceTree> {
    let url = describe_locked(locked);
    let (store_path, digest) = locked_store_path(&ev.options.store_dir, name, locked)?;
    if std::fs::symlink_metadata(&store_path).is_err() {
        let locked_url = kith_store::flakeref::locked_url(locked)?;
        if fetch == Fetch::Never {
            return Err(EvalError::new(format!(
                "input '{name}' ({url}) is not in the store and fetching is off (--offline); fetch it with `nix flake prefetch '{locked_url}'` or `nix flake archive` (expected at '{store_path}')"
            )));
        }
        super::fetch::prefetch(ev, name, &locked_url, Some(&store_path))?;
    }
    let mut meta = Vec::new();
    for (k, v) in locked {
        match (k.as_str(), v) {
            ("lastModified" | "revCount", serde_json::Value::Number(n)) => {
                meta.push((k.clone(), Meta::Int(n.as_i64().unwrap_or(0))));
            }
            ("rev", serde_json::Value::String(s)) => {
                meta.push(("rev".into(), Meta::Str(s.clone())));
                meta.push(("shortRev".into(), Meta::Str(s.chars().take(7).collect())));
            }
            _ => {}
        }
    }
    if let Some(serde_json::Value::Number(n)) = locked.get("lastModified") {
        let secs = n.as_i64().unwrap_or(0);
        meta.push(("lastModifiedDate".into(), Meta::Str(format_date(secs))));
    }
    meta.push(("narHash".into(), Meta::Str(sri(&digest))));
    let subdir = locked
        .get("dir")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    Ok(SourceTree {
        real: PathBuf::from(&store_path),
        store_path,
        visible: None,
        meta,
        subdir,
        url,
    })
}

/// `type:owner/repo/rev` or the URL of a locked reference, for messages.
pub fn describe_locked(locked: &serde_json::Map<String, serde_json::Value>) -> String {
    let get = |k: &str| locked.get(k).and_then(|v| v.as_str()).unwrap_or("");
    match get("type") {
        "github" | "gitlab" | "sourcehut" => {
            format!(
                "{}:{}/{}/{}",
                get("type"),
                get("owner"),
                get("repo"),
                get("rev")
            )
        }
        "path" => format!("path:{}", get("path")),
        t if !get("url").is_empty() => format!("{t}+{}", get("url"))
            .replace("tarball+", "")
            .replace("file+", ""),
        t => t.to_string(),
    }
}

/// Adds `file` (in the git work tree holding it) to the index if it is not there, so that
/// Nix, which sees only tracked and staged files of a git flake, sees it. Returns whether
/// it was added; outside a git work tree it does nothing.
pub fn stage_if_untracked(file: &Path) -> std::result::Result<bool, String> {
    let Some(dir) = file.parent() else {
        return Ok(false);
    };
    let Some((repo, top, _)) = find_git(dir) else {
        return Ok(false);
    };
    let real = std::fs::canonicalize(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let rel = real
        .strip_prefix(&top)
        .map_err(|_| format!("{} is outside the git work tree", file.display()))?;
    let mut index = repo.index().map_err(|e| format!("git: {}", e.message()))?;
    if index.get_path(rel, 0).is_some() {
        return Ok(false);
    }
    index
        .add_path(rel)
        .and_then(|()| index.write())
        .map_err(|e| format!("git: cannot stage {}: {}", rel.display(), e.message()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `nix-store --print-fixed-path --recursive sha256 <hash> source` (Nix 2.8), for a
    /// hash no store holds.
    #[test]
    fn locked_path_without_the_store() {
        let mut locked = serde_json::Map::new();
        locked.insert("type".into(), "github".into());
        locked.insert(
            "narHash".into(),
            "sha256-5DuUVRhQcBE1F5/64MnGq7hBbYXXNbb58ojatZgPLq0=".into(),
        );
        let want = "/nix/store/cxp78llsah2pgxx6rscnng56j864zzdg-source";
        assert_eq!(
            locked_source_path("/nix/store", "x", &locked).unwrap(),
            want
        );
        locked.insert("dir".into(), "sub".into());
        assert_eq!(
            locked_source_path("/nix/store", "x", &locked).unwrap(),
            format!("{want}/sub")
        );
        locked.remove("narHash");
        assert!(locked_source_path("/nix/store", "x", &locked).is_err());
    }

    #[test]
    fn dates() {
        // lastModifiedDate of lastModified = 1700000000 in Nix 2.26.
        assert_eq!(format_date(1_700_000_000), "20231114221320");
        assert_eq!(format_date(0), "19700101000000");
        assert_eq!(format_date(1_795_702_475), "20261126141435");
    }
}
