//! The source hashes of the flake and of its local inputs, kept from one lint to the next
//! while their trees are unchanged on disk. The server lints after every edit of a buffer;
//! hashing a large clan's tree (every file read) would otherwise come first in each lint,
//! with the other thread waiting for it. (The hashes are of the files on disk, as a lint
//! through the buffers computes them: unsaved edits do not change them.)

use crate::tree_index::{self, TreeIndex};
use kith_flake::{FlakeOptions, SourceMemo};
use std::path::{Path, PathBuf};

/// What the kept hashes were taken from.
#[derive(Default)]
pub(super) struct KeptSources {
    memo: Option<SourceMemo>,
    /// The trees (the flake's directory, each overridden input's), indexed before the
    /// memo was filled: a change while it was, or since, fails their check.
    indexes: Vec<TreeIndex>,
    /// The files of the git repository around the flake that tell what it tracks and its
    /// revision (the index, `HEAD`, `HEAD`'s log), by their metadata tokens.
    git: Vec<(PathBuf, u64)>,
}

/// The git metadata files whose change can change a git flake's source.
const GIT_FILES: [&str; 3] = ["index", "HEAD", "logs/HEAD"];

impl KeptSources {
    /// The memo for a lint of the flake in `dir` with `opts` (a thread per core reading
    /// each tree): the kept one if every tree and git file it was taken from is unchanged, else
    /// a fresh one, kept if those could all be indexed.
    pub(super) fn memo(&mut self, dir: &Path, opts: &FlakeOptions) -> SourceMemo {
        if let Some(m) = &self.memo {
            let git_unchanged = self
                .git
                .iter()
                .all(|(p, token)| tree_index::file_unchanged(p, *token));
            if git_unchanged && self.indexes.iter().all(TreeIndex::unchanged) {
                return m.clone();
            }
        }
        *self = KeptSources::default();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let memo = SourceMemo::with_threads(threads);
        if let Some(kept) = KeptSources::taken(dir, opts, memo.clone()) {
            *self = kept;
        }
        memo
    }

    /// The state of the trees and git files of the flake in `dir` now, for `memo`; `None`
    /// if any cannot be indexed (then nothing is kept).
    fn taken(dir: &Path, opts: &FlakeOptions, memo: SourceMemo) -> Option<KeptSources> {
        let roots = std::iter::once(dir).chain(opts.overrides.iter().map(|(_, p)| p.as_path()));
        let mut indexes = Vec::new();
        for root in roots {
            if std::fs::metadata(root).ok()?.is_dir() {
                indexes.push(tree_index::scan(root, true).ok()?.1?);
            }
        }
        let mut git = Vec::new();
        if let Some(git_dir) = dir.ancestors().map(|d| d.join(".git")).find(|g| g.is_dir()) {
            for f in GIT_FILES {
                let p = git_dir.join(f);
                match std::fs::metadata(&p) {
                    Ok(m) => git.push((p, tree_index::file_token(&m)?)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(_) => return None,
                }
            }
        }
        Some(KeptSources {
            memo: Some(memo),
            indexes,
            git,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree_index::tests::tempfile_dir::Dir;

    /// The memo is kept while the tree is unchanged, and replaced after any change in it.
    #[test]
    fn kept_while_the_tree_is_unchanged() {
        let d = Dir::new();
        std::fs::create_dir_all(d.0.join("a")).unwrap();
        std::fs::write(d.0.join("a/f"), "one").unwrap();
        let opts = FlakeOptions::default();
        let mut kept = KeptSources::default();
        let first = kept.memo(&d.0, &opts);
        assert!(kept.memo(&d.0, &opts).same(&first));
        std::fs::write(d.0.join("a/f"), "two").unwrap();
        let second = kept.memo(&d.0, &opts);
        assert!(!second.same(&first));
        assert!(kept.memo(&d.0, &opts).same(&second));
        std::fs::write(d.0.join("new"), "").unwrap();
        assert!(!kept.memo(&d.0, &opts).same(&second));
    }
}
