//! Loading sources: files, expressions, `import`, and the search path (`<…>`).

use super::Eval;
use crate::error::{ErrorExt, EvalError, Result};
use crate::ir::ExprRef;
use crate::source::{Origin, Span};
use crate::symbol::Symbol;
use crate::value::{Env, Value};
use crate::vfs::{Follow, Found};
pub use kith_store::canon_path;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Drops the syntax tree of `text`. rowan frees a tree recursively, a few frames per
/// nesting level, and `text` may nest 10 000 levels (the parser's limit): the tree is
/// dropped on a grown stack unless plenty is left. Parsing, lowering and the IR cache
/// grow the stack as they recurse, and IR and values are freed without recursion, so this
/// is the only step of loading a file that needs it done here.
fn drop_syntax_tree(text: &str, root: rnix::Root) {
    const PER_BYTE: usize = 256;
    let needed = text
        .len()
        .saturating_mul(PER_BYTE)
        .clamp(64 * 1024, 64 * 1024 * 1024);
    stacker::maybe_grow(needed, needed, move || drop(root));
}

impl Eval {
    /// Parses and lowers `text`, registering it as a source: a program to
    /// [`Eval::evaluate`]. Syntax errors and the static errors Nix reports while parsing
    /// (undefined variables, duplicate attributes) are reported here.
    pub fn compile(&mut self, origin: Origin, text: &str) -> Result<ExprRef> {
        self.compile_scoped(origin, text, &[])
    }

    /// Evaluates a compiled program to weak head normal form.
    pub fn evaluate(&mut self, program: &ExprRef) -> Result<Value> {
        self.eval(program, &Env::new(None, 0))
    }

    /// Checks that `text` is syntactically valid Nix; the error is Nix's for the first
    /// problem (its source registered, so that its span can be shown). Nothing is
    /// lowered or evaluated.
    pub fn check_syntax(&mut self, origin: Origin, text: &str) -> Result<()> {
        match crate::parse::parse(text, self.sources.next_id()) {
            Ok(root) => {
                drop_syntax_tree(text, root);
                Ok(())
            }
            Err(e) => {
                self.sources.add(origin, text.into());
                Err(e)
            }
        }
    }

    /// Like [`Eval::compile`], with extra names bound dynamically around the whole file
    /// (`scopedImport`): they shadow the builtins.
    pub(crate) fn compile_scoped(
        &mut self,
        origin: Origin,
        text: &str,
        scope: &[Symbol],
    ) -> Result<ExprRef> {
        let cache_key = match (&origin, &mut self.ir_cache) {
            (Origin::File(path), Some(cache)) if self.options.lints == Default::default() => {
                let globals = &self.globals;
                Some(cache.key(path, text, || globals.names(), scope))
            }
            _ => None,
        };
        let file = self.sources.add(origin, Rc::from(text));
        if let (Some(key), Some(cache)) = (&cache_key, &self.ir_cache) {
            let root_slots = u32::from(!scope.is_empty());
            if let Some(e) = cache.load(key, file, text, root_slots) {
                return Ok(e);
            }
        }
        let globals = &self.globals;
        let root = crate::parse::parse(text, file)?;
        let is_global = |s: Symbol| globals.contains_key(&s) && !scope.contains(&s);
        let e = crate::lower::lower(
            &self.sources,
            file,
            &root,
            &is_global,
            !scope.is_empty(),
            self.options.lints,
        );
        drop_syntax_tree(text, root);
        let e = e?;
        if let (Some(key), Some(cache)) = (&cache_key, &self.ir_cache) {
            cache.store(key, &e);
        }
        Ok(e)
    }

    /// Evaluates an expression given as text; relative paths resolve against `base_dir`.
    pub fn eval_expr(&mut self, text: &str, base_dir: &Path) -> Result<Value> {
        let e = self.compile(
            Origin::Expr {
                base_dir: base_dir.to_path_buf(),
            },
            text,
        )?;
        let env = Env::new(None, 0);
        self.eval(&e, &env)
    }

    /// Evaluates the file at `path` (a directory means its `default.nix`), like `import`.
    pub fn eval_file(&mut self, path: &Path) -> Result<Value> {
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir()
                .unwrap_or_else(|_| "/".into())
                .join(path)
        };
        let p = Value::path(canon_path(&crate::bytestr::from_os(abs.as_os_str())));
        self.import_value(&p, Span::NONE)
    }

    /// `import path`: evaluates a file once and caches its value.
    pub(crate) fn import_value(&mut self, path: &Value, span: Span) -> Result<Value> {
        if let Value::Path(p) = self.force(path)? {
            if let Some(text) = crate::builtins::corepkgs::source(&p) {
                return self.import_text(PathBuf::from(&**p), text);
            }
        }
        let p = self.real_path_of(path, span)?;
        let file = self.source_file(&crate::bytestr::to_path(&p)).at(span)?;
        if let Some((v, read)) = self.imports.get(&file) {
            let v = v.clone();
            if let Some(read) = read {
                // Used again without reading it: a recording file system counts it read.
                self.fs.reused(read, false);
            }
            return self.force(&v);
        }
        let (text, read) = self.read_source_mapped_at(&file)?;
        self.import_text_read(file, &text, read)
    }

    /// The Nix file `path` names: itself, or its `default.nix` if it is a directory (symlinks
    /// followed, through [`Eval::resolve_fs`]); the result stays as Nix names it.
    pub(crate) fn source_file(&self, path: &Path) -> Result<PathBuf> {
        let mut file = path.to_path_buf();
        if self.is_dir_mapped(&file)? {
            file.push("default.nix");
        }
        Ok(file)
    }

    /// Evaluates (once) the source `text` of `file`.
    fn import_text(&mut self, file: PathBuf, text: &str) -> Result<Value> {
        self.import_text_read(file, text, None)
    }

    /// [`Eval::import_text`] of a file read at `read` in the file system.
    fn import_text_read(
        &mut self,
        file: PathBuf,
        text: &str,
        read: Option<PathBuf>,
    ) -> Result<Value> {
        if let Some((v, _)) = self.imports.get(&file) {
            let v = v.clone();
            return self.force(&v);
        }
        let e = self.compile(Origin::File(file.clone()), text)?;
        let env = Env::new(None, 0);
        let v = crate::value::Thunk::expr(e, env);
        self.imports.insert(file, (v.clone(), read));
        self.force(&v)
    }

    /// `scopedImport attrs path`.
    pub(crate) fn scoped_import(
        &mut self,
        scope: Value,
        path: &Value,
        span: Span,
    ) -> Result<Value> {
        let attrs = self.force_attrs(&scope)?;
        let p = self.real_path_of(path, span)?;
        let file = self.source_file(&crate::bytestr::to_path(&p)).at(span)?;
        let text = self.read_source_mapped(&file)?;
        let names: Vec<Symbol> = attrs.iter().map(|a| a.name).collect();
        let e = self.compile_scoped(Origin::File(file), &text, &names)?;
        let env = Env::with(None, Value::Attrs(attrs));
        self.eval(&e, &env)
    }

    /// The file-system path a path-like value (path, string, `outPath` set) names.
    pub(crate) fn real_path_of(&mut self, v: &Value, span: Span) -> Result<String> {
        let v = self.force(v)?;
        let s = match &v {
            Value::Path(p) => p.to_string(),
            _ => {
                let s = self
                    .coerce_to_string(
                        &v,
                        super::CoerceOpts {
                            coerce_more: false,
                            copy_to_store: false,
                        },
                    )
                    .at(span)?;
                if !s.s.starts_with(b"/") {
                    return Err(EvalError::new(format!(
                        "string '{}' doesn't represent an absolute path",
                        s.encoded()
                    ))
                    .at(span));
                }
                s.encoded().into_owned()
            }
        };
        let resolved = self.resolve_fs(&canon_path(&s), Follow::All).at(span)?;
        if matches!(resolved.found, Found::Missing) {
            return Err(EvalError::new(format!("path '{s}' does not exist")).at(span));
        }
        Ok(s)
    }

    /// Resolves `<path>` against a search path list (`__nixPath`-shaped values).
    pub(crate) fn find_file(&mut self, search: &Value, lookup: &str, span: Span) -> Result<Value> {
        let entries = self.force_list(search)?;
        for entry in entries.iter() {
            let a = self.force_attrs(entry)?;
            let prefix = match a.get_str("prefix") {
                Some(p) => {
                    let p = p.clone();
                    self.force_str_noctx(&p)?
                }
                None => String::new(),
            };
            let Some(path) = a.get_str("path").cloned() else {
                return Err(EvalError::new("attribute 'path' missing").at(span));
            };
            let path = self.coerce_to_string(
                &path,
                super::CoerceOpts {
                    coerce_more: false,
                    copy_to_store: false,
                },
            )?;
            let rest = if prefix.is_empty() {
                Some(lookup)
            } else if lookup == prefix {
                Some("")
            } else {
                lookup
                    .strip_prefix(&prefix)
                    .and_then(|r| r.strip_prefix('/'))
            };
            let Some(rest) = rest else { continue };
            let candidate = if rest.is_empty() {
                path.encoded().into_owned()
            } else {
                format!("{}/{}", path.encoded(), rest)
            };
            let candidate = canon_path(&candidate);
            let exists = match self.resolve_fs(&candidate, Follow::All).at(span)?.found {
                Found::Text(_) => true,
                Found::Real(p) => p.exists(),
                Found::Missing => false,
            };
            if exists {
                return Ok(Value::path(candidate));
            }
        }
        if let Some(corepkg) = crate::builtins::corepkgs::lookup(lookup) {
            return Ok(Value::path(corepkg));
        }
        // Nix throws this one as a catchable error (`tryEval <missing>` is false).
        let msg = if self.options.pure {
            format!(
                "cannot look up '<{lookup}>' in pure evaluation mode (use '--impure' to override)"
            )
        } else {
            format!(
                "file '{lookup}' was not found in the Nix search path (add it using $NIX_PATH or -I)"
            )
        };
        Err(EvalError::of_kind(crate::error::ErrorKind::Throw, msg).at(span))
    }

    /// `<path>` with the evaluator's own search path.
    pub(crate) fn find_in_search_path(&mut self, lookup: &str) -> Result<Value> {
        let sp = self
            .globals
            .get(&Symbol::new("__nixPath"))
            .cloned()
            .unwrap_or(Value::list(vec![]));
        self.find_file(&sp, lookup, Span::NONE)
    }
}
