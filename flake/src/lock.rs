//! `flake.lock` (versions 5 to 7): nodes, the root, inputs and `follows` paths.

use kith_eval::{EvalError, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One input of a lock-file node: another node's key, or a `follows` path from the lock
/// file's root.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum LockedInput {
    Node(String),
    Follows(Vec<String>),
}

/// A node of the lock graph.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct LockNode {
    #[serde(default)]
    pub inputs: BTreeMap<String, LockedInput>,
    /// The locked reference (`type`, `narHash`, `rev`, `lastModified`, …).
    #[serde(default)]
    pub locked: Option<serde_json::Map<String, serde_json::Value>>,
    /// The reference as written in `flake.nix`.
    #[serde(default)]
    pub original: Option<serde_json::Map<String, serde_json::Value>>,
    /// `false` for `flake = false` inputs.
    #[serde(default = "yes")]
    pub flake: bool,
}

fn yes() -> bool {
    true
}

/// A parsed `flake.lock`.
#[derive(Clone, Debug, Deserialize)]
pub struct LockFile {
    pub version: u32,
    pub root: String,
    pub nodes: BTreeMap<String, LockNode>,
}

impl LockFile {
    /// Parses lock-file text; `path` names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<LockFile> {
        let lock: LockFile = serde_json::from_str(text).map_err(|e| {
            EvalError::new(format!("cannot parse lock file '{}': {e}", path.display()))
        })?;
        if !(5..=7).contains(&lock.version) {
            return Err(EvalError::new(format!(
                "lock file '{}' has unsupported version {}",
                path.display(),
                lock.version
            )));
        }
        if !lock.nodes.contains_key(&lock.root) {
            return Err(EvalError::new(format!(
                "lock file '{}' has no root node '{}'",
                path.display(),
                lock.root
            )));
        }
        Ok(lock)
    }

    /// Reads `dir/flake.lock` if it exists.
    pub fn read_in(dir: &Path) -> Result<Option<LockFile>> {
        let path = dir.join("flake.lock");
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, &path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(EvalError::new(kith_store::fs::io_message(
                "reading", &path, &e,
            ))),
        }
    }

    /// The node named `key`.
    pub fn node(&self, key: &str) -> Option<&LockNode> {
        self.nodes.get(key)
    }

    /// The root node.
    pub fn root_node(&self) -> &LockNode {
        // `parse` checked that the root exists.
        &self.nodes[&self.root]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_version_7() {
        let text = r#"{
          "nodes": {
            "a": { "inputs": { "nixpkgs": [ "nixpkgs" ] },
                   "locked": { "type": "github", "owner": "o", "repo": "r", "rev": "x",
                               "narHash": "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
                   "original": { "type": "github", "owner": "o", "repo": "r" } },
            "data": { "flake": false, "locked": { "type": "path", "path": "/x" } },
            "nixpkgs": { "locked": { "type": "path", "path": "/y" } },
            "root": { "inputs": { "a": "a", "data": "data", "nixpkgs": "nixpkgs" } }
          },
          "root": "root",
          "version": 7
        }"#;
        let l = LockFile::parse(text, Path::new("flake.lock")).unwrap();
        assert_eq!(l.root_node().inputs.len(), 3);
        assert_eq!(
            l.node("a").unwrap().inputs["nixpkgs"],
            LockedInput::Follows(vec!["nixpkgs".into()])
        );
        assert!(!l.node("data").unwrap().flake);
        assert!(l.node("a").unwrap().flake);
    }

    #[test]
    fn rejects_bad_versions() {
        let text = r#"{ "nodes": { "root": {} }, "root": "root", "version": 3 }"#;
        let e = LockFile::parse(text, Path::new("/f/flake.lock")).unwrap_err();
        assert_eq!(
            e.message,
            "lock file '/f/flake.lock' has unsupported version 3"
        );
    }
}
