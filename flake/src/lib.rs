//! Flakes, loaded the way Nix loads them, offline and without copying anything.
//!
//! [`load`] reads `flake.nix` and `flake.lock`, resolves the inputs in memory (local
//! `path:`/`git+file:` inputs and `--override-input` directories are read in place;
//! other locked inputs are used from the store if their `narHash` path is there, and are
//! otherwise fetched by the real Nix when first needed unless `--offline`), and
//! returns the flake value `builtins.getFlake` would: outputs, `inputs`, `outPath`,
//! `sourceInfo`, `_type = "flake"`. Each source gets the store path Nix would copy it to
//! (`/nix/store/<hash>-source`, the NAR hash of the tracked files for git), mapped in the
//! evaluator's file-system view (`Eval::map_store_path`) to the directory the files are
//! really read from.

pub mod fetch;
pub mod get_flake;
pub mod inputs;
pub mod lock;
pub mod realise;
pub mod source;
pub mod substitute;

pub use get_flake::Loader;
pub use realise::{build, BuildRequest, BuildTarget};

use inputs::{FlakeInput, InputRef};
use kith_eval::instantiate::{split_attr_path, ErrorFormat, OutputOptions};
use kith_eval::Eval;
use kith_eval::Shared;
use kith_eval::Span;
use kith_eval::Symbol;
use kith_eval::{Attr, Attrs, Context, Thunk, Value};
use kith_eval::{EvalError, Result};
use lock::{LockFile, LockedInput};
use source::{Meta, SourceTree};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use substitute::{build_substitute, explain, plan_substitutes};

/// How deep input paths may nest (guards against cyclic lock files).
const MAX_DEPTH: usize = 32;

/// Settings of a flake load.
#[derive(Clone, Debug, Default)]
pub struct FlakeOptions {
    /// `--override-input NAME DIR`: input path (`a/b`) → local directory.
    pub overrides: Vec<(String, PathBuf)>,
    /// `--offline`: never run Nix to fetch a locked input missing from the store.
    pub offline: bool,
    /// Replacements of the root flake's inputs as its `outputs` function receives them
    /// (`self.inputs` is left as it is); see [`InputWrapper`].
    pub input_wrappers: Vec<InputWrapper>,
    /// Local directories already hashed, shared by loads of the same flake that run at
    /// the same time (the planner's workers), so each is hashed once; see [`SourceMemo`].
    pub source_memo: Option<SourceMemo>,
    /// Files of the root flake (paths relative to its directory) seen as tracked when it is
    /// in a git work tree, as if staged: a file an embedder serves through its own file
    /// system before writing it (kith's `inventory.json` edits).
    pub also_tracked: Vec<String>,
}

/// Local source trees (a directory's store path, git filter and metadata) computed by one
/// load and reused by the others that share the memo. Share it only between loads that
/// run together over unchanged files: it never looks at the files again. A tree is
/// computed once: a load that needs a tree another load is computing waits for it.
#[derive(Clone, Debug, Default)]
pub struct SourceMemo(std::sync::Arc<MemoInner>);

#[derive(Debug, Default)]
struct MemoInner {
    map: std::sync::Mutex<MemoMap>,
    computed: std::sync::Condvar,
    /// Threads reading a tree's files (0 and 1: the loading thread alone).
    threads: usize,
}

/// (directory, store directory, `path:` type).
type MemoKey = (PathBuf, String, bool);

/// Each key's source tree, or that a load is computing it.
type MemoMap = HashMap<MemoKey, Option<MemoTree>>;

/// A [`SourceTree`] in a form that can cross threads.
#[derive(Clone, Debug)]
struct MemoTree {
    store_path: String,
    real: PathBuf,
    visible: Option<std::collections::HashSet<String>>,
    meta: Vec<(String, source::Meta)>,
    subdir: String,
    url: String,
}

/// A claim on computing a key: released (waking the waiting loads) when dropped, with
/// the tree if [`Claim::done`] gave it.
struct Claim<'m> {
    memo: &'m SourceMemo,
    key: Option<MemoKey>,
}

impl Claim<'_> {
    fn done(mut self, t: &SourceTree) {
        if let Some(key) = self.key.take() {
            self.memo.release(key, Some(t));
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.memo.release(key, None);
        }
    }
}

impl SourceMemo {
    /// A memo whose loads read each tree's files with `threads` threads.
    pub fn with_threads(threads: usize) -> SourceMemo {
        SourceMemo(std::sync::Arc::new(MemoInner {
            threads,
            ..MemoInner::default()
        }))
    }

    /// Whether `other` is this memo (a handle to the same trees), not merely an equal one.
    pub fn same(&self, other: &SourceMemo) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }

    /// The tree of `key`, waiting while another load computes it; or, when there is none,
    /// a claim on computing it (`Err`).
    fn get_or_claim(&self, key: &MemoKey) -> std::result::Result<SourceTree, Claim<'_>> {
        let unclaimed = || Claim {
            memo: self,
            key: None,
        };
        let Ok(mut map) = self.0.map.lock() else {
            return Err(unclaimed());
        };
        loop {
            match map.get(key) {
                Some(Some(t)) => {
                    return Ok(SourceTree {
                        store_path: t.store_path.clone(),
                        real: t.real.clone(),
                        visible: t.visible.clone().map(Rc::new),
                        meta: t.meta.clone(),
                        subdir: t.subdir.clone(),
                        url: t.url.clone(),
                    })
                }
                Some(None) => match self.0.computed.wait(map) {
                    Ok(m) => map = m,
                    Err(_) => return Err(unclaimed()),
                },
                None => {
                    map.insert(key.clone(), None);
                    return Err(Claim {
                        memo: self,
                        key: Some(key.clone()),
                    });
                }
            }
        }
    }

    /// Ends a claim: stores the tree (or, without one, lets the next load try).
    fn release(&self, key: MemoKey, t: Option<&SourceTree>) {
        if let Ok(mut map) = self.0.map.lock() {
            match t {
                Some(t) => {
                    map.insert(
                        key,
                        Some(MemoTree {
                            store_path: t.store_path.clone(),
                            real: t.real.clone(),
                            visible: t.visible.as_ref().map(|v| (**v).clone()),
                            meta: t.meta.clone(),
                            subdir: t.subdir.clone(),
                            url: t.url.clone(),
                        }),
                    );
                }
                None => {
                    map.remove(&key);
                }
            }
        }
        self.0.computed.notify_all();
    }
}

/// A replacement for one input of the root flake in the arguments of its `outputs`
/// function: `wrap` receives the input's real (lazy, possibly unavailable) value and
/// returns what `outputs` sees instead. kith-inventory uses it to find the clan a flake
/// declares without running clan-core's code.
#[derive(Clone)]
pub struct InputWrapper {
    /// The input's name in the root flake's `inputs`.
    pub input: String,
    /// Builds the replacement from the real input's value and its source path (a lazy
    /// string: the input's directory, found without evaluating the input).
    pub wrap: Rc<dyn Fn(Value, Value) -> Value>,
}

impl std::fmt::Debug for InputWrapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputWrapper")
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

/// Where a lock-graph node's source comes from.
#[derive(Clone, Debug)]
enum NodeSource {
    /// Located on disk (the root, local inputs, overrides).
    Ready(SourceTree),
    /// A locked entry of another type: looked up in the store when first needed.
    Locked(serde_json::Map<String, serde_json::Value>),
    /// Cannot be had offline: the error to raise when it is used.
    Unavailable(String),
}

/// One input of a node.
#[derive(Clone, Debug)]
enum Edge {
    Node(usize),
    /// A path of input names from the root flake.
    Follows(Vec<String>),
}

/// A node of the in-memory lock graph.
#[derive(Clone, Debug)]
struct Node {
    /// The input path, `a/b` (empty for the root).
    name: String,
    source: NodeSource,
    flake: bool,
    inputs: BTreeMap<String, Edge>,
    /// How the input was resolved, for `--explain`.
    how: String,
}

/// An override of the input at some path: from the command line or a parent's
/// `inputs.<x>.inputs.<y>` declaration.
#[derive(Clone, Debug, Default)]
struct Override {
    follows: Option<Vec<String>>,
    reference: Option<InputRef>,
    flake: Option<bool>,
}

/// Builds the lock graph.
struct Locker<'a> {
    ev: &'a mut Eval,
    nodes: Vec<Node>,
    overrides: HashMap<Vec<String>, Override>,
    /// Input paths overridden on the command line.
    cli_overrides: BTreeSet<Vec<String>>,
    /// Whether the lock graph differs from the root's `flake.lock` (Nix then treats the
    /// root as dirty: no `rev`).
    lock_changed: bool,
    /// Local sources shared with other loads.
    memo: Option<SourceMemo>,
}

/// The result of reading a local flake's `flake.nix`.
struct FlakeDecl {
    inputs: BTreeMap<String, FlakeInput>,
}

/// Loads the flake in `dir` and returns its value (outputs, `inputs`, `outPath`, …).
pub fn load(ev: &mut Eval, dir: &Path, opts: &FlakeOptions) -> Result<Value> {
    load_explained(ev, dir, opts).map(|(v, _)| v)
}

/// [`load`], also returning one line per input saying how it was resolved (`--explain`).
pub fn load_explained(
    ev: &mut Eval,
    dir: &Path,
    opts: &FlakeOptions,
) -> Result<(Value, Vec<String>)> {
    let mut src = local_source_memo(&ev.options.store_dir, dir, false, opts.source_memo.as_ref())?;
    if let Some(visible) = &mut src.visible {
        if !opts.also_tracked.is_empty() {
            let mut set = (**visible).clone();
            for rel in &opts.also_tracked {
                let path = if src.subdir.is_empty() {
                    rel.clone()
                } else {
                    format!("{}/{rel}", src.subdir)
                };
                let mut prefix = path.as_str();
                while let Some((parent, _)) = prefix.rsplit_once('/') {
                    set.insert(parent.to_string());
                    prefix = parent;
                }
                set.insert(path);
            }
            *visible = std::rc::Rc::new(set);
        }
    }
    load_tree(ev, src, opts)
}

/// Loads the flake whose source is `src` (see [`load_explained`]).
fn load_tree(
    ev: &mut Eval,
    mut src: SourceTree,
    opts: &FlakeOptions,
) -> Result<(Value, Vec<String>)> {
    let mut locker = Locker {
        ev,
        nodes: Vec::new(),
        overrides: HashMap::new(),
        cli_overrides: BTreeSet::new(),
        lock_changed: false,
        memo: opts.source_memo.clone(),
    };
    for (name, path) in &opts.overrides {
        let dir = kith_store::canon_path(&path.to_string_lossy());
        locker.cli_overrides.insert(inputs::split_input_path(name));
        locker.overrides.insert(
            inputs::split_input_path(name),
            Override {
                reference: Some(InputRef::Local {
                    dir: PathBuf::from(dir),
                    path_type: false,
                }),
                ..Override::default()
            },
        );
        locker.lock_changed = true;
    }
    locker.register(&src);
    let decl = locker.read_flake(&src)?;
    let real_dir = src.real.join(&src.subdir);
    let old = LockFile::read_in(&real_dir)?.map(|l| (Rc::new(l), None));
    if old.is_none() && !decl.inputs.is_empty() {
        locker.lock_changed = true;
    }
    locker.nodes.push(Node {
        name: String::new(),
        source: NodeSource::Ready(src.clone()),
        flake: true,
        inputs: BTreeMap::new(),
        how: String::new(),
    });
    locker.lock_node(0, &[], Some(&decl), old, &[])?;
    if locker.lock_changed {
        src.force_dirty();
        locker.nodes[0].source = NodeSource::Ready(src);
    }
    let store_dir = locker.ev.options.store_dir.clone();
    let mut graph = Graph {
        nodes: locker.nodes,
        fetch: source::Fetch::unless_offline(opts.offline),
        values: RefCell::new(HashMap::new()),
        substitutes: HashMap::new(),
        wrappers: opts.input_wrappers.clone(),
    };
    graph.substitutes = plan_substitutes(&graph, &store_dir);
    let report = explain(&graph, &store_dir);
    let graph = Rc::new(graph);
    Ok((node_value(&graph, 0), report))
}

/// [`local_source`], through `memo` if there is one.
fn local_source_memo(
    store_dir: &str,
    dir: &Path,
    path_type: bool,
    memo: Option<&SourceMemo>,
) -> Result<SourceTree> {
    let Some(memo) = memo else {
        return local_source(store_dir, dir, path_type, 1);
    };
    let key = (dir.to_path_buf(), store_dir.to_string(), path_type);
    let claim = match memo.get_or_claim(&key) {
        Ok(t) => return Ok(t),
        Err(claim) => claim,
    };
    let t = local_source(store_dir, dir, path_type, memo.0.threads)?;
    claim.done(&t);
    Ok(t)
}

/// A local directory as a source: git-filtered if it is in a git work tree (unless a
/// `path:` reference says otherwise), its files read by `threads` threads.
fn local_source(
    store_dir: &str,
    dir: &Path,
    path_type: bool,
    threads: usize,
) -> Result<SourceTree> {
    if std::fs::symlink_metadata(dir).is_err() {
        return Err(EvalError::new(format!(
            "path '{}' does not exist",
            dir.display()
        )));
    }
    if !path_type {
        if let Some((repo, top, sub)) = source::find_git(dir) {
            return source::git_source(store_dir, &repo, &top, &sub, threads);
        }
    }
    source::path_source(store_dir, dir, threads)
}

/// `<store path>[/<subdir>]`: where the flake's files appear to be.
fn flake_path(src: &SourceTree) -> String {
    if src.subdir.is_empty() {
        src.store_path.clone()
    } else {
        format!("{}/{}", src.store_path, src.subdir)
    }
}

/// The top-level attributes a `flake.nix` may have.
const FLAKE_ATTRS: &[&str] = &["description", "inputs", "outputs", "nixConfig"];

/// Evaluates `<flake>/flake.nix` (through the overlay) and checks its shape.
fn flake_file(ev: &mut Eval, src: &SourceTree) -> Result<Shared<Attrs>> {
    let file = format!("{}/flake.nix", flake_path(src));
    let found = ev.resolve_fs(&file, kith_eval::Follow::All)?.found;
    if !matches!(found, kith_eval::Found::Real(p) if p.is_file()) {
        return Err(EvalError::new(format!(
            "source tree referenced by '{}' does not contain a '{}flake.nix' file",
            src.url,
            if src.subdir.is_empty() {
                "/".to_string()
            } else {
                format!("/{}/", src.subdir)
            }
        )));
    }
    let v = ev.eval_file(Path::new(&file))?;
    let attrs = ev.force_attrs(&v)?;
    for a in attrs.iter() {
        if !FLAKE_ATTRS.contains(&a.name.as_str()) {
            return Err(EvalError::new(format!(
                "flake '{}' has an unsupported attribute '{}'",
                src.url, a.name
            )));
        }
    }
    if attrs.get_str("outputs").is_none() {
        return Err(EvalError::new(format!(
            "flake '{}' lacks attribute 'outputs'",
            src.url
        )));
    }
    Ok(attrs)
}

/// The names of a function's formal arguments (`{ self, nixpkgs, ... }:`).
fn formal_names(v: &Value) -> Vec<String> {
    v.formals()
        .into_iter()
        .map(|f| f.name.as_str().to_string())
        .collect()
}

impl Locker<'_> {
    /// Maps the source's store path to its directory in the evaluator.
    fn register(&mut self, src: &SourceTree) {
        self.ev.map_store_path(
            src.store_path.clone(),
            src.real.clone(),
            src.visible.clone(),
        );
    }

    /// Reads a local flake's declared inputs (and the implicit ones its `outputs`
    /// function names).
    fn read_flake(&mut self, src: &SourceTree) -> Result<FlakeDecl> {
        let attrs = flake_file(self.ev, src)?;
        let base = src.real.join(&src.subdir);
        let mut declared = match attrs.get_str("inputs") {
            Some(v) => {
                let v = v.clone();
                let a = self.ev.force_attrs(&v)?;
                inputs::parse_inputs(self.ev, &a, &base)?
            }
            None => BTreeMap::new(),
        };
        if let Some(outputs) = attrs.get_str("outputs").cloned() {
            let outputs = self.ev.force(&outputs)?;
            for name in formal_names(&outputs) {
                if name != "self" && !declared.contains_key(&name) {
                    let input = FlakeInput {
                        reference: Some(InputRef::Remote(format!("flake:{name}"))),
                        ..FlakeInput::default()
                    };
                    declared.insert(name, input);
                }
            }
        }
        Ok(FlakeDecl { inputs: declared })
    }

    /// Records the nested declarations of `decl` (`inputs.x.inputs.y…`) as overrides;
    /// `follows` in them are relative to `prefix`, the declaring flake's input path.
    fn add_nested_overrides(&mut self, at: &[String], input: &FlakeInput, prefix: &[String]) {
        for (name, sub) in &input.inputs {
            let mut path = at.to_vec();
            path.push(name.clone());
            let ov = self.overrides.entry(path.clone()).or_default();
            if ov.follows.is_none() && ov.reference.is_none() {
                if let Some(f) = &sub.follows {
                    ov.follows = Some(prefix.iter().chain(f).cloned().collect());
                } else if let Some(r) = &sub.reference {
                    ov.reference = Some(r.clone());
                    ov.flake = Some(sub.flake);
                }
            }
            self.add_nested_overrides(&path, sub, prefix);
        }
    }

    /// Resolves the inputs of node `idx` at input path `path`: from its declaration
    /// (`decl`) and/or an old lock-file node (`old`, whose `follows` are relative to
    /// `lock_root`).
    fn lock_node(
        &mut self,
        idx: usize,
        path: &[String],
        decl: Option<&FlakeDecl>,
        old: Option<(Rc<LockFile>, Option<String>)>,
        lock_root: &[String],
    ) -> Result<()> {
        if path.len() > MAX_DEPTH {
            return Err(EvalError::new(format!(
                "flake input '{}' is nested too deeply",
                path.join("/")
            )));
        }
        let old_node = old.as_ref().map(|(l, key)| match key {
            Some(k) => l.node(k).cloned().unwrap_or_default(),
            None => l.root_node().clone(),
        });
        let mut ids: BTreeSet<String> = BTreeSet::new();
        if let Some(d) = decl {
            for (id, input) in &d.inputs {
                let mut at = path.to_vec();
                at.push(id.clone());
                self.add_nested_overrides(&at, input, path);
                ids.insert(id.clone());
            }
        } else if let Some(n) = &old_node {
            ids.extend(n.inputs.keys().cloned());
        }
        for id in ids {
            let mut ip = path.to_vec();
            ip.push(id.clone());
            let declared = decl.and_then(|d| d.inputs.get(&id));
            let locked = old_node.as_ref().and_then(|n| n.inputs.get(&id));
            let edge = self.lock_input(&ip, path, declared, locked, &old, lock_root)?;
            self.nodes[idx].inputs.insert(id, edge);
        }
        Ok(())
    }

    /// Resolves one input (see [`Locker::lock_node`]).
    fn lock_input(
        &mut self,
        ip: &[String],
        parent: &[String],
        declared: Option<&FlakeInput>,
        locked: Option<&LockedInput>,
        old: &Option<(Rc<LockFile>, Option<String>)>,
        lock_root: &[String],
    ) -> Result<Edge> {
        let ov = self.overrides.get(ip).cloned().unwrap_or_default();
        let flake = ov.flake.or(declared.map(|d| d.flake)).unwrap_or(true);
        if let Some(f) = ov.follows {
            return Ok(Edge::Follows(f));
        }
        if let Some(r) = ov.reference {
            return self.new_node(ip, &r, flake);
        }
        if let Some(f) = declared.and_then(|d| d.follows.as_ref()) {
            return Ok(Edge::Follows(parent.iter().chain(f).cloned().collect()));
        }
        match (locked, old) {
            (Some(LockedInput::Follows(f)), _) => {
                return Ok(Edge::Follows(lock_root.iter().chain(f).cloned().collect()))
            }
            (Some(LockedInput::Node(key)), Some((lock, _))) => {
                return self.reuse_node(ip, lock.clone(), key, lock_root);
            }
            _ => {}
        }
        // A root input missing from flake.lock: Nix would have to write a new lock file.
        if parent.is_empty() {
            self.lock_changed = true;
        }
        match declared.and_then(|d| d.reference.as_ref()) {
            Some(r) => self.new_node(ip, r, flake),
            None => Ok(self.push(Node {
                name: ip.join("/"),
                source: NodeSource::Unavailable(format!(
                    "flake input '{}' has no 'url' and is not in the lock file",
                    ip.join("/")
                )),
                flake,
                inputs: BTreeMap::new(),
                how: "declared without a url and not locked".into(),
            })),
        }
    }

    fn push(&mut self, node: Node) -> Edge {
        Edge::Node(self.push_index(node))
    }

    fn push_index(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// A node for an input not in any lock file: local directories are read now (with
    /// their own `flake.lock`), anything else cannot be had offline.
    fn new_node(&mut self, ip: &[String], r: &InputRef, flake: bool) -> Result<Edge> {
        let name = ip.join("/");
        let (dir, path_type) = match r {
            InputRef::Local { dir, path_type } => (dir, *path_type),
            InputRef::Remote(url) => {
                let msg = format!(
                    "cannot fetch flake input '{name}' ('{url}'): kith does not download sources and the input is not locked; run `nix flake lock` and `nix flake archive`, or pass `--override-input {name} PATH`"
                );
                return Ok(self.push(Node {
                    name,
                    source: NodeSource::Unavailable(msg),
                    flake,
                    inputs: BTreeMap::new(),
                    how: format!("declared as '{url}', not locked"),
                }));
            }
        };
        let src = local_source_memo(
            &self.ev.options.store_dir,
            dir,
            path_type,
            self.memo.as_ref(),
        )?;
        self.register(&src);
        let how = if self.cli_overrides.contains(ip) {
            format!("path override {}", dir.display())
        } else {
            format!("local path {}", dir.display())
        };
        let idx = self.push_index(Node {
            name,
            source: NodeSource::Ready(src.clone()),
            flake,
            inputs: BTreeMap::new(),
            how,
        });
        if flake {
            let decl = self.read_flake(&src)?;
            let own = LockFile::read_in(&src.real.join(&src.subdir))?.map(|l| (Rc::new(l), None));
            self.lock_node(idx, ip, Some(&decl), own, ip)?;
        }
        Ok(Edge::Node(idx))
    }

    /// A node copied from a lock file, with its inputs copied recursively.
    fn reuse_node(
        &mut self,
        ip: &[String],
        lock: Rc<LockFile>,
        key: &str,
        lock_root: &[String],
    ) -> Result<Edge> {
        let Some(entry) = lock.node(key).cloned() else {
            return Err(EvalError::new(format!(
                "lock file refers to the non-existent node '{key}'"
            )));
        };
        let locked = entry.locked.clone().unwrap_or_default();
        let how = format!("locked {}", source::describe_locked(&locked));
        let local_path = match (locked.get("type"), locked.get("path")) {
            (Some(serde_json::Value::String(t)), Some(serde_json::Value::String(p)))
                if t == "path" && p.starts_with('/') =>
            {
                Some(PathBuf::from(p))
            }
            _ => None,
        };
        let source = match local_path {
            Some(dir) => {
                let src =
                    local_source_memo(&self.ev.options.store_dir, &dir, true, self.memo.as_ref())?;
                match locked_hash_mismatch(&locked, &src) {
                    // An error only if the input is used, as in Nix.
                    Some(msg) => NodeSource::Unavailable(msg),
                    None => {
                        self.register(&src);
                        NodeSource::Ready(src)
                    }
                }
            }
            None => NodeSource::Locked(locked),
        };
        let idx = self.push_index(Node {
            name: ip.join("/"),
            source,
            flake: entry.flake,
            inputs: BTreeMap::new(),
            how,
        });
        self.lock_node(
            idx,
            ip,
            None,
            Some((lock, Some(key.to_string()))),
            lock_root,
        )?;
        Ok(Edge::Node(idx))
    }
}

/// For a lock entry read in place (a `path:` input), Nix 2.26's error when the entry's
/// `narHash` is not the directory's:
/// `mismatch in field 'narHash' of input '{…locked}', got '{…actual}'`, both the lock
/// entry's attributes as JSON with sorted keys and `"__final":true`, the second with the
/// actual hash.
fn locked_hash_mismatch(
    locked: &serde_json::Map<String, serde_json::Value>,
    src: &SourceTree,
) -> Option<String> {
    let want = locked.get("narHash")?.as_str()?;
    let got = src.meta.iter().find_map(|(k, v)| match (k.as_str(), v) {
        ("narHash", source::Meta::Str(h)) => Some(h.clone()),
        _ => None,
    })?;
    let same = matches!(
        (kith_store::path::parse_sha256(want), kith_store::path::parse_sha256(&got)),
        (Ok(w), Ok(g)) if w == g
    );
    if same {
        return None;
    }
    let render = |nar_hash: &str| {
        let mut m: BTreeMap<&str, serde_json::Value> = locked
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        m.insert("__final", serde_json::Value::Bool(true));
        m.insert("narHash", serde_json::Value::from(nar_hash));
        serde_json::to_string(&m).unwrap_or_default()
    };
    Some(format!(
        "mismatch in field 'narHash' of input '{}', got '{}'",
        render(want),
        render(&got)
    ))
}

/// The lock graph with the (lazy) value of each node.
struct Graph {
    nodes: Vec<Node>,
    /// Whether missing locked inputs may be fetched through Nix.
    fetch: source::Fetch,
    values: RefCell<HashMap<usize, Value>>,
    /// Nodes built from their source tree instead of their `flake.nix`.
    substitutes: HashMap<usize, Substitute>,
    /// Replacements of the root's inputs in its `outputs` arguments.
    wrappers: Vec<InputWrapper>,
}

/// A clan-core node built by the source-tree substitute.
#[derive(Clone, Debug)]
struct Substitute {
    /// The node whose `lib/` serves as nixpkgs lib.
    nixpkgs: usize,
    /// Why the flake itself could not be evaluated.
    reason: String,
}

/// The node a `follows` path (from the root) leads to.
fn resolve_path(g: &Graph, path: &[String], depth: usize) -> Result<usize> {
    if depth > MAX_DEPTH {
        return Err(EvalError::new(format!(
            "input path '{}' follows itself",
            path.join("/")
        )));
    }
    let mut cur = 0;
    for (i, name) in path.iter().enumerate() {
        let edge = g.nodes[cur].inputs.get(name).ok_or_else(|| {
            EvalError::new(format!("input '{}' does not exist", path[..=i].join("/")))
        })?;
        cur = match edge {
            Edge::Node(j) => *j,
            Edge::Follows(p) => resolve_path(g, p, depth + 1)?,
        };
    }
    Ok(cur)
}

/// The value of node `i` (cached, lazy).
fn node_value(g: &Rc<Graph>, i: usize) -> Value {
    if let Some(v) = g.values.borrow().get(&i) {
        return v.clone();
    }
    let g2 = g.clone();
    let v = Thunk::native(move |ev: &mut Eval| build_node(ev, &g2, i));
    g.values.borrow_mut().insert(i, v.clone());
    v
}

/// The value of an input edge of node `from`.
fn edge_value(g: &Rc<Graph>, from: usize, name: &str, edge: &Edge) -> Value {
    match edge {
        Edge::Node(j) => node_value(g, *j),
        Edge::Follows(p) => {
            let g2 = g.clone();
            let p = p.clone();
            let from_name = g.nodes[from].name.clone();
            let name = name.to_string();
            Thunk::native(move |ev: &mut Eval| {
                let j = resolve_path(&g2, &p, 0).map_err(|e| {
                    let input = if from_name.is_empty() {
                        name.clone()
                    } else {
                        format!("{from_name}/{name}")
                    };
                    EvalError::new(format!(
                        "input '{input}' follows a non-existent input '{}': {}",
                        p.join("/"),
                        e.message
                    ))
                })?;
                ev.force(&node_value(&g2, j))
            })
        }
    }
}

fn attr(name: &str, value: Value) -> Attr {
    Attr {
        name: Symbol::new(name),
        value,
        span: Span::NONE,
    }
}

/// `sourceInfo`: `outPath` (with the store path as context) and the metadata.
fn source_info(src: &SourceTree) -> Shared<Attrs> {
    let mut ctx = Context::new();
    ctx.insert(src.store_path.clone());
    let mut entries = vec![attr(
        "outPath",
        Value::string_ctx(src.store_path.clone(), ctx),
    )];
    for (k, m) in &src.meta {
        let v = match m {
            Meta::Str(s) => Value::string(s.clone()),
            Meta::Int(i) => Value::Int(*i),
            Meta::Bool(b) => Value::Bool(*b),
        };
        entries.push(attr(k, v));
    }
    Attrs::from_entries(entries)
}

/// Fetches node `i`'s source (from the store for locked inputs, fetched by Nix if
/// missing and allowed).
fn node_source(ev: &mut Eval, node: &Node, fetch: source::Fetch) -> Result<SourceTree> {
    match &node.source {
        NodeSource::Ready(s) => Ok(s.clone()),
        NodeSource::Unavailable(msg) => Err(EvalError::new(msg.clone())),
        NodeSource::Locked(locked) => source::locked_source(ev, &node.name, locked, fetch),
    }
}

/// Builds the value of node `i`, as Nix's `call-flake.nix` does: a non-flake input is
/// its source info; a flake is its outputs, updated with the source info and `outPath`,
/// `inputs`, `outputs`, `sourceInfo`, `_type = "flake"`.
fn build_node(ev: &mut Eval, g: &Rc<Graph>, i: usize) -> Result<Value> {
    let node = &g.nodes[i];
    let src = node_source(ev, node, g.fetch)?;
    let info = source_info(&src);
    if !node.flake {
        return Ok(Value::Attrs(info));
    }
    if let Some(sub) = g.substitutes.get(&i) {
        return build_substitute(ev, g, i, &src, sub);
    }
    let attrs = flake_file(ev, &src)?;
    let outputs_fn = attrs.get_str("outputs").cloned().unwrap_or(Value::Null);
    let outputs_fn = ev.force(&outputs_fn)?;
    if !outputs_fn.is_function() {
        return Err(ev.type_error("a function", &outputs_fn));
    }
    let mut input_entries = Vec::new();
    for (name, edge) in &node.inputs {
        input_entries.push(attr(name, edge_value(g, i, name, edge)));
    }
    let inputs = Value::Attrs(Attrs::from_entries(input_entries.clone()));
    if i == 0 {
        for entry in &mut input_entries {
            if let Some(w) = g.wrappers.iter().find(|w| entry.name.as_str() == w.input) {
                let path = source_path_value(g, node.inputs.get(entry.name.as_str()), &entry.value);
                entry.value = (w.wrap)(entry.value.clone(), path);
            }
        }
    }
    input_entries.push(attr("self", node_value(g, i)));
    let args = Value::Attrs(Attrs::from_entries(input_entries));
    let outputs = ev.call(&outputs_fn, args, Span::NONE)?;
    finish_flake(ev, &src, info, inputs, outputs)
}

/// The source path of the input at `edge` as a lazy string: the node's source directory,
/// found without building its value and without fetching (a locked input's path is the
/// store path its `narHash` names, whether or not the store holds it).
fn source_path_value(g: &Rc<Graph>, edge: Option<&Edge>, value: &Value) -> Value {
    let g = g.clone();
    let edge = edge.cloned();
    let value = value.clone();
    Thunk::native(move |ev: &mut Eval| {
        let j = match &edge {
            Some(Edge::Node(j)) => *j,
            Some(Edge::Follows(p)) => resolve_path(&g, p, 0)?,
            None => {
                let set = ev.force_attrs(&value)?;
                let out = set.get_str("outPath").cloned().unwrap_or(Value::Null);
                return ev.force(&out);
            }
        };
        let store_dir = ev.options.store_dir.clone();
        node_source_path(&store_dir, &g.nodes[j]).map(Value::string)
    })
}

/// Where node `node`'s files are (or would be, for a locked input not in the store),
/// without fetching anything.
fn node_source_path(store_dir: &str, node: &Node) -> Result<String> {
    match &node.source {
        NodeSource::Ready(s) => Ok(flake_path(s)),
        NodeSource::Unavailable(msg) => Err(EvalError::new(msg.clone())),
        NodeSource::Locked(locked) => source::locked_source_path(store_dir, &node.name, locked),
    }
}

/// A flake's value from its outputs: the outputs updated with the source info and
/// `outPath`, `inputs`, `outputs`, `sourceInfo`, `_type = "flake"`.
fn finish_flake(
    ev: &mut Eval,
    src: &SourceTree,
    info: Shared<Attrs>,
    inputs: Value,
    outputs: Value,
) -> Result<Value> {
    let outputs_attrs = ev.force_attrs(&outputs)?;
    let mut ctx = Context::new();
    ctx.insert(src.store_path.clone());
    let extra = Attrs::from_entries(vec![
        attr("outPath", Value::string_ctx(flake_path(src), ctx)),
        attr("inputs", inputs),
        attr("outputs", outputs.clone()),
        attr("sourceInfo", Value::Attrs(info.clone())),
        attr("_type", Value::string("flake")),
    ]);
    Ok(Value::Attrs(outputs_attrs.update(&info).update(&extra)))
}

/// An evaluator whose `builtins.getFlake` loads flakes with kith's [`Loader`] (fetching
/// missing inputs through Nix unless `offline`).
pub fn evaluator(options: kith_eval::EvalOptions, offline: bool) -> Eval {
    let mut ev = Eval::new(options);
    ev.set_flake_loader(Rc::new(Loader::new(offline)));
    ev
}

/// Splits `DIR#attr.path` into the directory and the attribute path (`""` if none).
pub fn split_installable(s: &str) -> (&str, &str) {
    match s.split_once('#') {
        Some((d, a)) => (if d.is_empty() { "." } else { d }, a),
        None => (s, ""),
    }
}

/// Selects `nix eval FLAKE#attr`'s value: `packages.<system>.<attr>`,
/// `legacyPackages.<system>.<attr>`, or `<attr>` itself (only that with a leading `.`).
pub fn select_output(ev: &mut Eval, flake: &Value, url: &str, attr: &str) -> Result<Value> {
    let system = ev.options.current_system.clone();
    let candidates: Vec<String> = match attr.strip_prefix('.') {
        Some(exact) => vec![exact.to_string()],
        None if attr.is_empty() => vec![
            format!("packages.{system}.default"),
            format!("defaultPackage.{system}"),
        ],
        None => vec![
            format!("packages.{system}.{attr}"),
            format!("legacyPackages.{system}.{attr}"),
            attr.to_string(),
        ],
    };
    for c in &candidates {
        if let Some(v) = select_path(ev, flake, c)? {
            return Ok(v);
        }
    }
    let quoted: Vec<String> = candidates.iter().map(|c| format!("'{c}'")).collect();
    let list = match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    };
    Err(EvalError::new(format!(
        "flake '{url}' does not provide attribute {list}"
    )))
}

/// Follows a dotted attribute path; `None` if some attribute is missing.
fn select_path(ev: &mut Eval, root: &Value, path: &str) -> Result<Option<Value>> {
    let mut v = root.clone();
    for name in split_attr_path(path) {
        let a = match ev.force(&v)? {
            Value::Attrs(a) => a,
            _ => return Ok(None),
        };
        match a.get(Symbol::new(&name)) {
            Some(x) => v = x.clone(),
            None => return Ok(None),
        }
    }
    Ok(Some(v))
}

/// A `nix eval FLAKE#ATTR` request.
#[derive(Clone, Debug)]
pub struct EvalRequest {
    /// `DIR#attr.path`.
    pub installable: String,
    pub options: FlakeOptions,
    /// How each value is printed, as by `nix-instantiate --eval` (`--json`, `--xml`,
    /// `--no-location`). `nix eval` evaluates its result completely, so `strict` is
    /// always implied.
    pub output: OutputOptions,
    /// How an error is rendered.
    pub error_format: ErrorFormat,
    pub eval_options: kith_eval::EvalOptions,
    /// Directory relative paths resolve against.
    pub cwd: PathBuf,
    /// `--explain`: print how each input was resolved to stderr.
    pub explain: bool,
    /// Further attribute paths (`-A`), printed after the installable's own attribute (if
    /// any), one result per line, from one load of the flake.
    pub attrs: Vec<String>,
}

/// Runs `nix eval FLAKE#ATTR` (and any further `-A` paths): the printed values, one per
/// line, and the exit code; the output and error stages are `nix-instantiate --eval`'s
/// ([`kith_eval::instantiate::render_value`], [`kith_eval::instantiate::finish`]). Stops
/// at the first error, keeping the values before it.
pub fn run_eval(req: &EvalRequest) -> kith_eval::instantiate::Outcome {
    let mut ev = evaluator(req.eval_options.clone(), req.options.offline);
    let mut out = kith_eval::instantiate::Outcome::default();
    let mut report = Vec::new();
    let result = eval_in(&mut ev, req, &mut report, &mut out.stdout);
    if req.explain {
        for line in &report {
            out.stderr.push_str(&format!("kith: input {line}\n"));
        }
    }
    kith_eval::instantiate::finish(ev, result, req.error_format, &mut out);
    out
}

fn eval_in(
    ev: &mut Eval,
    req: &EvalRequest,
    report: &mut Vec<String>,
    stdout: &mut String,
) -> Result<()> {
    let (dir, attr) = split_installable(&req.installable);
    let dir = req.cwd.join(dir.strip_prefix("path:").unwrap_or(dir));
    let mut opts = req.options.clone();
    for (_, p) in opts.overrides.iter_mut() {
        *p = req.cwd.join(&*p);
    }
    let dir = PathBuf::from(kith_store::canon_path(&dir.to_string_lossy()));
    let (flake, lines) = load_explained(ev, &dir, &opts)?;
    *report = lines;
    let url = match source::find_git(&dir) {
        Some(_) => format!("git+file://{}", dir.display()),
        None => format!("path:{}", dir.display()),
    };
    let output = OutputOptions {
        strict: true,
        ..req.output
    };
    let own = (!attr.is_empty() || req.attrs.is_empty()).then_some(attr);
    for path in own.into_iter().chain(req.attrs.iter().map(String::as_str)) {
        let v = select_output(ev, &flake, &url, path)?;
        stdout.push_str(&kith_eval::instantiate::render_value(ev, &v, output)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installables() {
        assert_eq!(split_installable("./x#a.b"), ("./x", "a.b"));
        assert_eq!(split_installable("#a"), (".", "a"));
        assert_eq!(split_installable("/x"), ("/x", ""));
        assert_eq!(split_attr_path(r#"a."b.c".d"#), vec!["a", "b.c", "d"]);
    }
}
