//! The server's state and loop: documents, the lint of the clan with the open buffers,
//! what was published, and the requests answered from them.

use super::context::Lang;
use super::convert::{self, Texts};
use super::kept::KeptSources;
use super::model::Model;
use super::overlay::OverlayFs;
use super::{features, text, Options};
use crate::lint;
use crossbeam_channel::TryRecvError;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{PublishDiagnosticsParams, Url};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// One published diagnostic with the lint diagnostic it came from (for its fixes).
struct Published {
    uri: Url,
    lsp: lsp_types::Diagnostic,
    lint: lint::Diagnostic,
}

pub(super) struct Server<'c> {
    conn: &'c Connection,
    /// The clan's flake directory, if one was found.
    root: Option<PathBuf>,
    opts: kith_flake::FlakeOptions,
    /// Open documents' texts.
    docs: HashMap<Url, String>,
    /// A change not linted yet (linted once no message is waiting).
    dirty: bool,
    /// Lint even if no buffer changed (a save: the disk may have).
    forced: bool,
    /// The buffers the last lint read (their digest).
    linted: Option<blake3::Hash>,
    diagnostics: Vec<Published>,
    published: BTreeSet<Url>,
    /// The clan for completion and hover, and the buffers it was loaded with.
    model: Option<(Model, blake3::Hash)>,
    /// The source hashes of the files on disk, kept while they are unchanged.
    sources: KeptSources,
    /// The exports' groups of earlier lints through the buffers.
    groups: crate::exports_plan::GroupMemo,
}

impl<'c> Server<'c> {
    pub(super) fn new(conn: &'c Connection, root: Option<PathBuf>, options: &Options) -> Self {
        let opts = kith_flake::FlakeOptions {
            overrides: options.override_inputs.clone(),
            offline: options.offline,
            ..Default::default()
        };
        Server {
            conn,
            root,
            opts,
            docs: HashMap::new(),
            dirty: false,
            forced: false,
            linted: None,
            diagnostics: Vec::new(),
            published: BTreeSet::new(),
            model: None,
            sources: KeptSources::default(),
            groups: Default::default(),
        }
    }

    /// Serves until `exit` (or the client goes away): whether `shutdown` came first.
    pub(super) fn run(&mut self) -> Result<bool, lsp_server::ProtocolError> {
        if self.root.is_none() {
            self.log("kith: no clan flake found (no `.clan-flake`, `.git` or `flake.nix` above the workspace root): nothing will be linted");
        }
        loop {
            let msg = if self.dirty {
                match self.conn.receiver.try_recv() {
                    Ok(m) => m,
                    Err(TryRecvError::Empty) => {
                        self.relint();
                        continue;
                    }
                    Err(TryRecvError::Disconnected) => return Ok(false),
                }
            } else {
                match self.conn.receiver.recv() {
                    Ok(m) => m,
                    Err(_) => return Ok(false),
                }
            };
            match msg {
                Message::Request(r) => {
                    if self.conn.handle_shutdown(&r)? {
                        return Ok(true);
                    }
                    self.request(r);
                }
                Message::Notification(n) => {
                    if n.method == note::Exit::METHOD {
                        return Ok(false);
                    }
                    self.notification(n);
                }
                Message::Response(_) => {}
            }
        }
    }

    fn send(&self, m: Message) {
        let _ = self.conn.sender.send(m);
    }

    fn log(&self, message: &str) {
        let params = lsp_types::LogMessageParams {
            typ: lsp_types::MessageType::LOG,
            message: message.to_string(),
        };
        self.send(Message::Notification(Notification::new(
            note::LogMessage::METHOD.into(),
            params,
        )));
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            note::DidOpenTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params)
                {
                    self.docs.insert(p.text_document.uri, p.text_document.text);
                    self.dirty = true;
                }
            }
            note::DidChangeTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params)
                {
                    let doc = self.docs.entry(p.text_document.uri).or_default();
                    for c in &p.content_changes {
                        text::apply_change(doc, c);
                    }
                    self.dirty = true;
                }
            }
            note::DidSaveTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidSaveTextDocumentParams>(n.params)
                {
                    if let Some(t) = p.text {
                        self.docs.insert(p.text_document.uri, t);
                    }
                    self.dirty = true;
                    self.forced = true;
                    self.model = None;
                }
            }
            note::DidCloseTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params)
                {
                    self.docs.remove(&p.text_document.uri);
                    self.dirty = true;
                }
            }
            _ => {}
        }
    }

    fn request(&mut self, r: Request) {
        let id = r.id.clone();
        let answered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.answer(r)));
        if answered.is_err() {
            let e = Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                "kith lsp failed on this request (a bug of kith)".into(),
            );
            self.send(Message::Response(e));
        }
    }

    fn answer(&mut self, r: Request) {
        let result = match r.method.as_str() {
            req::CodeActionRequest::METHOD => self.params(&r).map(|p| self.code_action(p)),
            req::Completion::METHOD => self.params(&r).map(|p| self.completion(p)),
            req::HoverRequest::METHOD => self.params(&r).map(|p| self.hover(p)),
            _ => {
                let e = Response::new_err(
                    r.id,
                    ErrorCode::MethodNotFound as i32,
                    format!("kith lsp does not implement {}", r.method),
                );
                return self.send(Message::Response(e));
            }
        };
        let response = match result {
            Some(v) => Response::new_ok(r.id, v),
            None => invalid(r.id),
        };
        self.send(Message::Response(response));
    }

    fn params<P: serde::de::DeserializeOwned>(&self, r: &Request) -> Option<P> {
        serde_json::from_value(r.params.clone()).ok()
    }

    /// The digest of the open buffers.
    fn buffers_key(&self) -> blake3::Hash {
        let mut h = blake3::Hasher::new();
        let sorted: BTreeMap<&str, &str> = self
            .docs
            .iter()
            .map(|(u, t)| (u.as_str(), t.as_str()))
            .collect();
        for (u, t) in sorted {
            h.update(&(u.len() as u64).to_le_bytes());
            h.update(u.as_bytes());
            h.update(&(t.len() as u64).to_le_bytes());
            h.update(t.as_bytes());
        }
        h.finalize()
    }

    fn overlay(&self) -> OverlayFs {
        let paths: Vec<(PathBuf, &str)> = self
            .docs
            .iter()
            .filter_map(|(u, t)| Some((u.to_file_path().ok()?, t.as_str())))
            .collect();
        OverlayFs::new(paths.iter().map(|(p, t)| (p.as_path(), *t)))
    }

    /// Lints the clan with the open buffers, unless nothing changed since the last lint,
    /// and publishes the diagnostics of every file (an empty list for files that had some).
    fn relint(&mut self) {
        self.dirty = false;
        let Some(root) = self.root.clone() else {
            return;
        };
        let key = self.buffers_key();
        if !std::mem::take(&mut self.forced) && self.linted == Some(key) {
            return;
        }
        self.linted = Some(key);
        // Buffers as saved: the diagnostics of the files on disk, from the cache if they
        // are unchanged since any lint; else through the buffers, uncached.
        let saved = self.docs.iter().all(|(u, t)| {
            u.to_file_path()
                .ok()
                .and_then(|p| std::fs::read(p).ok())
                .is_some_and(|bytes| bytes == t.as_bytes())
        });
        let fs: lint::SharedFs = std::sync::Arc::new(self.overlay());
        let mut opts = self.opts.clone();
        opts.source_memo = Some(self.sources.memo(&root, &opts));
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let config = lint::Config::load(&root)?;
            if saved {
                lint::lint_with(&root, &opts, &config, crate::cache::dir().as_deref())
            } else {
                lint::lint_through_kept(&root, &opts, &config, fs, Some(&self.groups))
            }
        }));
        let report = match run {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return self.log(&format!("kith: {e}")),
            Err(_) => return self.log("kith: the linter failed on this clan (a bug of kith)"),
        };
        let texts = self.texts(&root);
        self.diagnostics = report
            .diagnostics
            .into_iter()
            .filter_map(|d| {
                Some(Published {
                    uri: convert::uri(&root, &d.location.file)?,
                    lsp: convert::diagnostic(&d, &root, &texts),
                    lint: d,
                })
            })
            .collect();
        let mut by_file: BTreeMap<Url, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
        for p in &self.diagnostics {
            by_file
                .entry(p.uri.clone())
                .or_default()
                .push(p.lsp.clone());
        }
        for gone in self.published.iter().filter(|u| !by_file.contains_key(*u)) {
            self.publish(gone.clone(), Vec::new());
        }
        self.published = by_file.keys().cloned().collect();
        for (uri, diagnostics) in by_file {
            self.publish(uri, diagnostics);
        }
    }

    fn publish(&self, uri: Url, diagnostics: Vec<lsp_types::Diagnostic>) {
        let version = None;
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.send(Message::Notification(Notification::new(
            note::PublishDiagnostics::METHOD.into(),
            params,
        )));
    }

    /// The clan's files' texts: open buffers, else the disk (each read once).
    fn texts(&self, root: &Path) -> DocTexts {
        DocTexts {
            root: root.to_path_buf(),
            docs: self
                .docs
                .iter()
                .filter_map(|(u, t)| Some((u.to_file_path().ok()?, t.clone())))
                .collect(),
            read: RefCell::new(HashMap::new()),
        }
    }

    /// The text of document `uri` (its buffer, else the file).
    fn doc(&self, uri: &Url) -> Option<String> {
        match self.docs.get(uri) {
            Some(t) => Some(t.clone()),
            None => std::fs::read_to_string(uri.to_file_path().ok()?).ok(),
        }
    }

    fn code_action(&mut self, p: lsp_types::CodeActionParams) -> Value {
        if self.dirty {
            self.relint();
        }
        let Some(root) = self.root.clone() else {
            return Value::Null;
        };
        let texts = self.texts(&root);
        let actions: Vec<lsp_types::CodeActionOrCommand> = self
            .diagnostics
            .iter()
            .filter(|d| d.uri == p.text_document.uri && text::touches(&d.lsp.range, &p.range))
            .flat_map(|d| convert::code_actions(&d.lint, &d.lsp, &root, &texts))
            .map(lsp_types::CodeActionOrCommand::CodeAction)
            .collect();
        serde_json::to_value(actions).unwrap_or(Value::Null)
    }

    /// The clan's model for the current buffers (the last one that loaded, if the clan
    /// does not load now).
    fn model(&mut self) -> Option<&mut Model> {
        let root = self.root.clone()?;
        let key = self.buffers_key();
        if self.model.as_ref().is_none_or(|(_, k)| *k != key) {
            let mut opts = self.opts.clone();
            opts.source_memo = Some(self.sources.memo(&root, &opts));
            let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                Model::load(&root, &opts, self.overlay())
            }));
            match loaded {
                Ok(Some(m)) => self.model = Some((m, key)),
                _ => {
                    if let Some((_, k)) = self.model.as_mut() {
                        *k = key;
                    }
                }
            }
        }
        self.model.as_mut().map(|(m, _)| m)
    }

    fn position(&self, p: &lsp_types::TextDocumentPositionParams) -> Option<(String, usize, Lang)> {
        let uri = &p.text_document.uri;
        let text = self.doc(uri)?;
        let at = text::offset(&text, p.position);
        Some((text, at, Lang::of(uri.path())))
    }

    fn completion(&mut self, p: lsp_types::CompletionParams) -> Value {
        let Some((text, at, lang)) = self.position(&p.text_document_position) else {
            return Value::Null;
        };
        let Some(model) = self.model() else {
            return Value::Null;
        };
        let items = features::complete(model, &text, at, lang);
        serde_json::to_value(items).unwrap_or(Value::Null)
    }

    fn hover(&mut self, p: lsp_types::HoverParams) -> Value {
        let Some((text, at, lang)) = self.position(&p.text_document_position_params) else {
            return Value::Null;
        };
        let Some(model) = self.model() else {
            return Value::Null;
        };
        let hover = features::hover(model, &text, at, lang);
        serde_json::to_value(hover).unwrap_or(Value::Null)
    }
}

fn invalid(id: RequestId) -> Response {
    Response::new_err(
        id,
        ErrorCode::InvalidParams as i32,
        "invalid parameters".into(),
    )
}

/// The clan's texts for conversions: open buffers, else the disk, each file read once.
struct DocTexts {
    root: PathBuf,
    docs: HashMap<PathBuf, String>,
    /// Each text read and indexed once, by relative path.
    read: RefCell<HashMap<String, Option<Rc<text::Indexed>>>>,
}

impl Texts for DocTexts {
    fn text(&self, rel: &str) -> Option<Rc<text::Indexed>> {
        self.read
            .borrow_mut()
            .entry(rel.to_string())
            .or_insert_with(|| {
                let path = self.root.join(rel);
                let t = match self.docs.get(&path) {
                    Some(t) => t.clone(),
                    None => std::fs::read_to_string(&path).ok()?,
                };
                Some(Rc::new(text::Indexed::new(t)))
            })
            .clone()
    }
}
