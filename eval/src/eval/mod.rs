//! The evaluator: forces thunks, evaluates lowered expressions, calls functions.

use crate::error::{ErrorExt, EvalError, Result};
use crate::host::FlakeLoader;
use crate::source::{Sources, Span};
use crate::symbol::Symbol;
use crate::value::Shared;
use crate::value::{Attrs, List, NixString, Value};
use kith_store::fs::FileSystem;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

/// Settings of one evaluator.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// `-I` entries and `NIX_PATH`, in lookup order: `(prefix, path)`; an empty prefix
    /// matches every lookup.
    pub search_path: Vec<(String, String)>,
    /// Pure evaluation: no `getEnv`, `currentTime`, … (flakes' default).
    pub pure: bool,
    /// The store directory, `/nix/store` unless `NIX_STORE_DIR` says otherwise.
    pub store_dir: String,
    /// `builtins.currentSystem`.
    pub current_system: String,
    /// Maximum nesting of function calls before `stack overflow; max-call-depth exceeded`.
    pub max_call_depth: usize,
    /// The experimental `|>` and `<|` operators are enabled.
    pub pipe_operators: bool,
    /// The experimental `parse-toml-timestamps`: `fromTOML` returns dates and times.
    pub toml_timestamps: bool,
    /// Lints on path and URL literals (`--lint-*` flags).
    pub lints: crate::lower::lints::Lints,
    /// Nix's `abort-on-warn`: `builtins.warn` fails after printing its warning.
    pub abort_on_warn: bool,
    /// Warnings and traces are kept in [`Eval::diagnostics`] instead of going to stderr.
    pub capture_diagnostics: bool,
    /// Directory of the on-disk cache of lowered files (see [`crate::default_ir_cache_dir`]); `None`
    /// (the default) lowers every file from its text.
    pub ir_cache_dir: Option<PathBuf>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            search_path: Vec::new(),
            pure: false,
            store_dir: "/nix/store".into(),
            current_system: "x86_64-linux".into(),
            max_call_depth: 10_000,
            pipe_operators: false,
            toml_timestamps: false,
            lints: Default::default(),
            abort_on_warn: false,
            capture_diagnostics: false,
            ir_cache_dir: None,
        }
    }
}

/// Options for [`Eval::coerce_to_string`].
#[derive(Clone, Copy, Debug, Default)]
pub struct CoerceOpts {
    /// `toString` semantics: also accept null, Booleans, numbers and lists.
    pub coerce_more: bool,
    /// Paths become store paths (`"${./p}"`) instead of their text (`toString ./p`).
    pub copy_to_store: bool,
}

/// One evaluator: its sources, import cache and settings. Values it makes belong to it.
pub struct Eval {
    pub sources: Sources,
    pub options: EvalOptions,
    /// The `builtins` set.
    pub(crate) builtins: Shared<Attrs>,
    /// Top-level names visible without `builtins.` (`map`, `true`, `import`, …).
    pub(crate) globals: Globals,
    /// Values of imported files, by canonical path, with the path read (in the file
    /// system, where the file was read from one).
    pub(crate) imports: HashMap<PathBuf, (Value, Option<PathBuf>)>,
    /// Current nesting of function calls.
    pub(crate) call_depth: usize,
    /// Current nesting of structural recursion into values (see [`Eval::descend`]).
    value_depth: usize,
    /// Stack segments [`Eval::guarded`] has added and not yet left.
    stack_segments: usize,
    /// Flake sources kith located but did not copy: store path → directory.
    pub(crate) overlay: crate::vfs::StoreOverlay,
    /// The file system every read goes through (see [`Eval::set_file_system`]).
    pub(crate) fs: Rc<dyn FileSystem>,
    /// What `builtins.getFlake` calls (see [`Eval::set_flake_loader`]).
    pub(crate) flake_loader: Option<Rc<dyn FlakeLoader>>,
    /// `"${path}"` store paths already computed, by source path.
    pub(crate) copied: HashMap<String, String>,
    /// Lowest stack address evaluation may reach on the current segment (see
    /// [`Eval::guarded`]); `usize::MAX` (unknown: take the slow path) until the first check.
    stack_floor: usize,
    /// Lines printed by `trace`/`warn` when [`EvalOptions::capture_diagnostics`] is set.
    pub diagnostics: Vec<String>,
    /// The lowered-file cache, when [`EvalOptions::ir_cache_dir`] is set.
    pub(crate) ir_cache: Option<crate::ir_cache::IrCache>,
    /// Each attribute name as a string value, made once (see [`Eval::name_string`]).
    name_strings: Vec<Option<Value>>,
    /// String lists `builtins.elem` searches repeatedly, indexed.
    pub(crate) elem_index: crate::builtins::elem_index::ElemIndex,
}

/// The global names, indexed by symbol number: a lookup is one bounds check.
#[derive(Default)]
pub(crate) struct Globals {
    by_symbol: Vec<Option<Value>>,
}

impl Globals {
    /// Binds `name` (replacing an earlier binding).
    pub(crate) fn insert(&mut self, name: Symbol, value: Value) {
        let i = name.index();
        if i >= self.by_symbol.len() {
            self.by_symbol.resize(i + 1, None);
        }
        self.by_symbol[i] = Some(value);
    }
    /// Removes every binding.
    pub(crate) fn clear(&mut self) {
        self.by_symbol.clear();
    }
    /// The value bound to `name`.
    #[inline]
    pub(crate) fn get(&self, name: &Symbol) -> Option<&Value> {
        self.by_symbol.get(name.index()).and_then(Option::as_ref)
    }
    /// The bound names.
    pub(crate) fn names(&self) -> Vec<Symbol> {
        self.by_symbol
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_some())
            .map(|(i, _)| Symbol::from_index(i))
            .collect()
    }
    /// Whether `name` is bound.
    pub(crate) fn contains_key(&self, name: &Symbol) -> bool {
        self.get(name).is_some()
    }
}

mod attrs;
mod call;
mod coerce;
mod expr;
mod import;
pub use kith_store::fs::io_reason;
mod ops;

pub use import::canon_path;

use crate::error::ErrorKind;
use crate::value::{Application, Application2, Env, InFlight, Thunk, ThunkState};

impl Eval {
    /// A new evaluator with `options`.
    pub fn new(options: EvalOptions) -> Eval {
        let mut ev = Eval {
            sources: Sources::default(),
            options,
            builtins: Attrs::new(),
            globals: Globals::default(),
            imports: HashMap::new(),
            call_depth: 0,
            value_depth: 0,
            stack_segments: 0,
            overlay: Default::default(),
            fs: Rc::new(kith_store::fs::OsFileSystem),
            flake_loader: None,
            copied: HashMap::new(),
            stack_floor: usize::MAX,
            diagnostics: Vec::new(),
            ir_cache: None,
            name_strings: Vec::new(),
            elem_index: Default::default(),
        };
        ev.ir_cache = ev
            .options
            .ir_cache_dir
            .as_deref()
            .map(crate::ir_cache::IrCache::new);
        crate::builtins::install(&mut ev);
        ev
    }

    /// Reads every file through `fs` from now on (by default the host's, through
    /// `std::fs`): an embedder's in-memory tree, an editor's unsaved buffers, or a file
    /// system that refuses everything.
    pub fn set_file_system(&mut self, fs: Rc<dyn FileSystem>) {
        self.fs = fs;
        self.overlay.forget_resolved();
    }

    /// The file system reads go through.
    pub fn file_system(&self) -> &Rc<dyn FileSystem> {
        &self.fs
    }

    /// Lets `builtins.getFlake` load flakes with `loader` (by default it has none and
    /// fails).
    pub fn set_flake_loader(&mut self, loader: Rc<dyn FlakeLoader>) {
        self.flake_loader = Some(loader);
    }

    /// The `builtins` attribute set.
    pub fn builtins(&self) -> &Shared<Attrs> {
        &self.builtins
    }

    /// Evaluates `v` to weak head normal form: the result is never a thunk.
    #[inline]
    pub fn force(&mut self, v: &Value) -> Result<Value> {
        match v {
            // An evaluated thunk is read here; only an unevaluated one costs a call (and the
            // larger function's register saves).
            Value::Thunk(t) => match t.value() {
                Some(v) => Ok(v),
                None => self.force_thunk(t),
            },
            Value::Lambda(c) => {
                c.mark_forced();
                Ok(v.clone())
            }
            _ => Ok(v.clone()),
        }
    }

    /// Evaluates a thunk that is not evaluated yet.
    #[inline(never)]
    fn force_thunk(&mut self, t: &Shared<Thunk>) -> Result<Value> {
        crate::stats::bump(crate::stats::Counter::ThunksForced);
        // The state is moved out and the thunk marked as being evaluated, with the position
        // an infinite recursion through it is reported at. `replace_blackhole` writes over
        // a blackhole without running a destructor (it has none): one jump on the state's
        // kind per force, not three.
        //
        // A panic unwinding out of the evaluation leaves the thunk a plain blackhole (see
        // `Unwinding`): an `Evaluating` state must not outlive what it points to.
        let unwinding = Unwinding(t);
        let result = match t.take(ThunkState::Blackhole(Span::NONE)) {
            ThunkState::Expr(e, env) => {
                t.replace_blackhole(ThunkState::Evaluating(InFlight::new(&e)));
                self.guarded(|ev| ev.eval(&e, &env))
            }
            state @ (ThunkState::Blackhole(_)
            | ThunkState::Evaluating(_)
            | ThunkState::EvaluatingCall(_)) => {
                let span = blackhole_span(&state);
                t.replace_blackhole(state);
                std::mem::forget(unwinding);
                return Err(infinite_recursion(span));
            }
            other => {
                t.replace_blackhole(being_evaluated(&other));
                self.run_thunk_state(other)
            }
        };
        std::mem::forget(unwinding);
        match result {
            Ok(v) => {
                t.replace_blackhole(ThunkState::Done(v.clone()));
                Ok(v)
            }
            Err(e) => Err(thunk_failed(t, e)),
        }
    }

    /// The attribute name `name` as a string value. Builtins that pass names to functions
    /// (`mapAttrs`, `zipAttrsWith`, `attrNames`) share one string per name instead of
    /// allocating one per attribute.
    pub(crate) fn name_string(&mut self, name: Symbol) -> Value {
        let i = name.index();
        if let Some(Some(v)) = self.name_strings.get(i) {
            return v.clone();
        }
        if self.name_strings.len() <= i {
            self.name_strings.resize(i + 1, None);
        }
        let v = Value::string_encoded(name.as_str());
        self.name_strings[i] = Some(v.clone());
        v
    }

    /// Runs a thunk's computation other than an expression (kept out of line, so the
    /// common case needs a small stack frame).
    #[inline(never)]
    fn run_thunk_state(&mut self, state: ThunkState) -> Result<Value> {
        match state {
            ThunkState::Expr(e, env) => self.guarded(|ev| ev.eval(&e, &env)),
            ThunkState::Apply(app) => {
                let Application { func, arg, span } = *app;
                self.guarded(|ev| ev.call(&func, arg, span))
            }
            ThunkState::Apply2(app) => {
                let Application2 { func, args, span } = *app;
                self.guarded(|ev| ev.call_n(&func, &args, span))
            }
            ThunkState::ApplyInt(c, i) => {
                let span = c.lambda.span;
                self.guarded(|ev| ev.call(&Value::Lambda(c), Value::Int(i), span))
            }
            ThunkState::ApplyThunk(c, x) => {
                let span = c.lambda.span;
                self.guarded(|ev| ev.call(&Value::Lambda(c), Value::Thunk(x), span))
            }
            ThunkState::Native(f) => f(self).and_then(|v| self.force(&v)),
            ThunkState::Blackhole(_)
            | ThunkState::Evaluating(_)
            | ThunkState::EvaluatingCall(_) => Err(infinite_recursion(blackhole_span(&state))),
            ThunkState::Done(v) => Ok(v),
        }
    }

    /// Forces `v` and everything inside it (`builtins.deepSeq`, `--strict`). Like C++
    /// Nix, it counts levels against `max-call-depth` (Nix's lang test
    /// `eval-fail-deepseq-stack-overflow`).
    pub fn force_deep(&mut self, v: &Value) -> Result<Value> {
        let mut seen = std::collections::HashSet::new();
        let v = self.force(v)?;
        self.force_deep_inner(&v, &mut seen, 0)?;
        Ok(v)
    }

    fn force_deep_inner(
        &mut self,
        v: &Value,
        seen: &mut std::collections::HashSet<usize>,
        depth: usize,
    ) -> Result<()> {
        if depth > self.options.max_call_depth {
            return Err(stack_overflow());
        }
        match v {
            Value::Attrs(a) => {
                if !seen.insert(Shared::as_ptr(a) as usize) {
                    return Ok(());
                }
                for attr in a.iter() {
                    let x = self.force(&attr.value).map_err(|e| {
                        e.context(attr.span, || {
                            format!("while evaluating the attribute '{}'", attr.name)
                        })
                    })?;
                    self.guarded(|ev| ev.force_deep_inner(&x, seen, depth + 1))?;
                }
            }
            Value::List(l) => {
                if !seen.insert(Shared::as_ptr(l) as usize) {
                    return Ok(());
                }
                for item in l.iter() {
                    let x = self.force(item)?;
                    self.guarded(|ev| ev.force_deep_inner(&x, seen, depth + 1))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A lazy value for `expr` in `env`; constants, variables and lambdas need no thunk.
    #[inline]
    pub(crate) fn thunk(&self, expr: &Rc<crate::ir::Expr>, env: &crate::value::Env) -> Value {
        self.thunk_from(expr, env, 0)
    }

    /// Like [`Eval::thunk`], but safe while `env`'s own slots are still being filled.
    #[inline]
    pub(crate) fn thunk_rec(&self, expr: &Rc<crate::ir::Expr>, env: &crate::value::Env) -> Value {
        self.thunk_from(expr, env, 1)
    }

    /// [`Eval::thunk`], reading variables directly only from frames at least `min_depth`
    /// up (`env`'s own frame, depth 0, may not be filled yet when building it).
    #[inline(always)]
    fn thunk_from(
        &self,
        expr: &Rc<crate::ir::Expr>,
        env: &crate::value::Env,
        min_depth: u32,
    ) -> Value {
        use crate::ir::Expr;
        match &**expr {
            Expr::Const(v, _) => v.clone(),
            Expr::Var { depth, slot, .. } if *depth >= min_depth => lookup_slot(env, *depth, *slot),
            Expr::Global(name, _) if self.globals.contains_key(name) => {
                self.globals.get(name).cloned().unwrap_or(Value::Null)
            }
            Expr::Lambda(l) => Value::Lambda(crate::value::Closure::lazy(l, env)),
            Expr::Select {
                expr: base, path, ..
            } => match &**base {
                Expr::Var { depth, slot, .. } if *depth >= min_depth => {
                    match select_ready(lookup_ref(env, *depth, *slot), path) {
                        Some(v) => v,
                        None => Thunk::expr(expr.clone(), env.clone()),
                    }
                }
                _ => Thunk::expr(expr.clone(), env.clone()),
            },
            _ => Thunk::expr(expr.clone(), env.clone()),
        }
    }

    /// Forces `v` and requires an integer.
    pub fn force_int(&mut self, v: &Value) -> Result<i64> {
        match self.force(v)? {
            Value::Int(i) => Ok(i),
            other => Err(self.type_error("an integer", &other)),
        }
    }
    /// Forces `v` and requires a Boolean.
    pub fn force_bool(&mut self, v: &Value) -> Result<bool> {
        match self.force(v)? {
            Value::Bool(b) => Ok(b),
            other => Err(self.type_error("a Boolean", &other)),
        }
    }
    /// Forces `v` and requires a number; integers are converted.
    pub fn force_float(&mut self, v: &Value) -> Result<f64> {
        match self.force(v)? {
            Value::Float(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            other => Err(self.type_error("a float", &other)),
        }
    }
    /// Forces `v` and requires an attribute set.
    pub fn force_attrs(&mut self, v: &Value) -> Result<Shared<Attrs>> {
        match self.force(v)? {
            Value::Attrs(a) => Ok(a),
            other => Err(self.type_error("a set", &other)),
        }
    }
    /// Forces `v` and requires a list.
    pub fn force_list(&mut self, v: &Value) -> Result<Shared<List>> {
        match self.force(v)? {
            Value::List(l) => Ok(l),
            other => Err(self.type_error("a list", &other)),
        }
    }
    /// Forces `v` and requires a function (lambda, builtin or set with `__functor`).
    pub fn force_function(&mut self, v: &Value) -> Result<Value> {
        let f = self.force(v)?;
        match &f {
            Value::Lambda(_) | Value::PrimOp(_) => Ok(f),
            Value::Attrs(a) if a.contains(crate::symbol::known::functor()) => Ok(f),
            other => Err(self.type_error("a function", other)),
        }
    }
    /// Forces `v` and requires a string (no coercion); returns it with its context.
    pub fn force_string(&mut self, v: &Value) -> Result<Shared<NixString>> {
        match self.force(v)? {
            Value::String(s) => Ok(s),
            other => Err(self.type_error("a string", &other)),
        }
    }
    /// Forces `v` and requires a string without context, returning its text
    /// ([`crate::bytestr`]-encoded: bytes that are not UTF-8 are kept).
    pub fn force_str_noctx(&mut self, v: &Value) -> Result<String> {
        let s = self.force_string(v)?;
        match crate::value::first_context_element(&s.ctx) {
            None => Ok(s.encoded().into_owned()),
            Some(elem) => Err(EvalError::new(format!(
                "the string '{}' is not allowed to refer to a store path (such as '{}')",
                s.encoded(),
                elem
            ))),
        }
    }

    /// `expected <wanted> but found <type>: <value>`.
    #[cold]
    #[inline(never)]
    pub fn type_error(&self, wanted: &str, found: &Value) -> Box<EvalError> {
        EvalError::new(format!(
            "expected {} but found {}: {}",
            wanted,
            found.type_desc(),
            crate::print::show_for_error(self, found)
        ))
    }

    /// Runs `f` one call level deeper, failing with Nix's stack-overflow error past the limit.
    #[inline]
    pub(crate) fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.call_depth >= self.options.max_call_depth {
            return Err(stack_overflow());
        }
        self.call_depth += 1;
        let r = self.guarded(f);
        self.call_depth -= 1;
        r
    }

    /// Runs `f` one level deeper into a value: the recursion of `==`, `<`, string
    /// coercion, printing, `toJSON`, `toXML`, `deepSeq` and the like over nested lists and
    /// sets, which calls no function and so is not bounded by `max-call-depth`. It runs on
    /// a grown stack, so deep values work however deep; a cyclic value
    /// (`let x = { a = x; }; …`) fails with the error C++ Nix gives when its stack
    /// overflows (`stack overflow (possible infinite recursion)`) after 200 000 levels
    /// instead of taking all memory. Embedders walking values recursively call it per level.
    #[inline]
    pub fn descend<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.value_depth >= MAX_VALUE_DEPTH {
            return Err(value_too_deep());
        }
        self.value_depth += 1;
        let r = self.guarded(f);
        self.value_depth -= 1;
        r
    }

    /// Runs `f` with at least [`RED_ZONE`] bytes of stack, continuing on a new stack segment
    /// when the current one is nearly used up. The common case is one comparison of the
    /// stack pointer with `stack_floor`, the red-zone boundary of the current segment.
    ///
    /// The segments in use are bounded by [`MAX_STACK_SEGMENTS`]: recursion beyond that
    /// (a cycle through values, or a huge `max-call-depth`) ends with the error C++ Nix
    /// gives when its stack overflows, before the segments take all memory.
    #[inline(always)]
    pub(crate) fn guarded<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if stack_address() > self.stack_floor {
            f(self)
        } else {
            self.guarded_slow(f)
        }
    }

    #[cold]
    #[inline(never)]
    fn guarded_slow<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let outer = self.stack_floor;
        let r = if stacker::remaining_stack().is_some_and(|n| n >= RED_ZONE) {
            // Room on this segment after all (the floor was unknown or stale).
            self.stack_floor = stack_floor();
            f(self)
        } else if self.stack_segments >= MAX_STACK_SEGMENTS {
            return Err(value_too_deep());
        } else {
            self.stack_segments += 1;
            let r = stacker::grow(STACK_SEGMENT, || {
                self.stack_floor = stack_floor();
                f(self)
            });
            self.stack_segments -= 1;
            r
        };
        self.stack_floor = outer;
        r
    }

    /// Compares values as `builtins.lessThan` / `<` does.
    pub fn compare(&mut self, a: &Value, b: &Value) -> Result<Ordering> {
        ops::compare(self, a, b)
    }
    /// Nix's `==` (deep, forcing as needed).
    pub fn equal(&mut self, a: &Value, b: &Value) -> Result<bool> {
        ops::equal(self, a, b)
    }
}

/// `base.a.b…` without evaluating anything, when every step is already evaluated: the base
/// and each intermediate value an attribute set, every name static and present, and the
/// final value evaluated (so that no error, and no error context of the selection, can
/// arise from it) and not a function. `None` when the selection needs a thunk.
///
/// Functions are left out because sharing would be observable: Nix compares two thunks of
/// `s.f` as two distinct functions (`[ s.f ] == [ s.f ]` is false), while one shared value
/// is identical to itself.
#[inline]
fn select_ready(base: &Value, path: &[crate::ir::AttrName]) -> Option<Value> {
    // Walked by reference (nothing is evaluated here): only the result is cloned.
    let mut v = evaluated(base)?;
    for name in path {
        let crate::ir::AttrName::Static(sym) = name else {
            return None;
        };
        let Value::Attrs(a) = v else {
            return None;
        };
        v = evaluated(a.get(*sym)?)?;
    }
    match v {
        Value::Lambda(_) | Value::PrimOp(_) => None,
        v => Some(v.clone()),
    }
}

/// `v` itself if it is not a thunk, its value if it is an evaluated thunk.
#[inline]
fn evaluated(v: &Value) -> Option<&Value> {
    match v {
        Value::Thunk(t) => t.value_ref(),
        v => Some(v),
    }
}

/// Resets a thunk under evaluation to a blackhole when dropped, which only happens when a
/// panic unwinds through [`Eval::force_thunk`] (it is forgotten otherwise): the
/// expression or closure an `Evaluating`/`EvaluatingCall` state points to is dropped by
/// the unwinding, and may be freed before the thunk is forced again.
struct Unwinding<'a>(&'a Thunk);

impl Drop for Unwinding<'_> {
    #[cold]
    fn drop(&mut self) {
        // The state is one `force_thunk` set (a blackhole or an in-flight pointer); no
        // reference into it is live, the evaluation that could hold one having unwound.
        self.0.replace_blackhole(ThunkState::Blackhole(Span::NONE));
    }
}

/// Where a thunk being forced is reported if it is forced again (infinite recursion).
/// `infinite recursion encountered`, at the thunk being forced again.
#[cold]
#[inline(never)]
fn infinite_recursion(span: Span) -> Box<EvalError> {
    EvalError::of_kind(
        ErrorKind::InfiniteRecursion,
        "infinite recursion encountered",
    )
    .at(span)
}

/// Records that forcing `t` failed with `e`: forcing it again repeats the failure (Nix
/// re-evaluates it). Returns `e`.
#[cold]
#[inline(never)]
fn thunk_failed(t: &Thunk, e: Box<EvalError>) -> Box<EvalError> {
    let err = e.clone();
    t.set(ThunkState::Native(Box::new(move |_| Err(err))));
    e
}

/// The state of a thunk while its computation `state` runs: what a recursion through it
/// is reported at, without reading anything the computation does not need itself.
fn being_evaluated(state: &ThunkState) -> ThunkState {
    match state {
        ThunkState::ApplyInt(c, _) | ThunkState::ApplyThunk(c, _) => {
            ThunkState::EvaluatingCall(InFlight::new(&c.lambda))
        }
        other => ThunkState::Blackhole(blackhole_span(other)),
    }
}

fn blackhole_span(state: &ThunkState) -> Span {
    match state {
        ThunkState::Expr(e, _) => e.span(),
        ThunkState::Apply(app) => app.span,
        ThunkState::Apply2(app) => app.span,
        ThunkState::ApplyInt(c, _) | ThunkState::ApplyThunk(c, _) => c.lambda.span,
        ThunkState::Blackhole(span) => *span,
        // SAFETY: `state` is (or was just taken from) a thunk's current state, and the
        // evaluation that set it keeps the expression alive and replaces the state before
        // it ends, also on unwinding (`Unwinding`).
        ThunkState::Evaluating(e) => unsafe { e.get() }.span(),
        // SAFETY: as for `Evaluating`; the closure being applied keeps the lambda alive.
        ThunkState::EvaluatingCall(l) => unsafe { l.get() }.span,
        ThunkState::Native(_) | ThunkState::Done(_) => Span::NONE,
    }
}

/// How deep [`Eval::descend`] goes into a value before reporting a stack overflow. C++
/// Nix compares and coerces values 100 000 levels deep on its stack (and overflows it
/// printing them); a level here takes up to about 600 bytes of (grown) stack, so this
/// bounds a cyclic value's recursion to about 120 MiB.
pub(crate) const MAX_VALUE_DEPTH: usize = 200_000;

/// Stack that must remain before evaluation goes deeper on the current segment.
pub(crate) const RED_ZONE: usize = 128 * 1024;
/// Size of each extra stack segment.
const STACK_SEGMENT: usize = 2 * 1024 * 1024;
/// How many extra stack segments evaluation may use at once: 1 GiB of stack (C++ Nix's
/// own stack is 64 MiB; kith evaluates deeper, e.g. lazy chains of 100 000 thunks).
const MAX_STACK_SEGMENTS: usize = 512;

/// An address in the current stack frame: the stack pointer, give or take a few bytes.
#[inline(always)]
fn stack_address() -> usize {
    let marker = std::mem::MaybeUninit::<u8>::uninit();
    std::hint::black_box(&marker) as *const _ as usize
}

/// The red-zone boundary of the current stack segment (`usize::MAX` when unknown, so that
/// every check takes the slow path, which then grows).
fn stack_floor() -> usize {
    match stacker::remaining_stack() {
        Some(remaining) => stack_address()
            .saturating_sub(remaining)
            .saturating_add(RED_ZONE),
        None => usize::MAX,
    }
}

/// `stack overflow; max-call-depth exceeded`.
#[cold]
#[inline(never)]
pub fn stack_overflow() -> Box<EvalError> {
    EvalError::of_kind(
        ErrorKind::StackOverflow,
        "stack overflow; max-call-depth exceeded",
    )
}

/// `stack overflow (possible infinite recursion)`: what C++ Nix reports when recursion
/// into a value (not a function call) overflows its stack; see `Eval::descend`.
#[cold]
#[inline(never)]
pub fn value_too_deep() -> Box<EvalError> {
    EvalError::of_kind(
        ErrorKind::StackOverflow,
        "stack overflow (possible infinite recursion)",
    )
}

#[inline]
pub(crate) fn lookup_slot(env: &crate::value::Env, depth: u32, slot: u32) -> Value {
    lookup_ref(env, depth, slot).clone()
}

/// The slot `slot` of the frame `depth` levels up from `env`, by reference.
#[inline]
pub(crate) fn lookup_ref(env: &Env, depth: u32, slot: u32) -> &Value {
    let mut e: &Env = env;
    for _ in 0..depth {
        e = e.parent().expect("lowering guarantees the frame exists");
    }
    e.get_ref(slot as usize)
}

#[cfg(test)]
mod tests {
    use crate::builtins::testing::{error, eval};

    /// Deep IR (files nested about as deep as the parser allows, loaded from text and from
    /// the IR cache) and a deep value are evaluated, then freed with the evaluator, on a
    /// thread with a small stack: evaluation grows its stack as it recurses, and frees do
    /// not recurse.
    #[test]
    fn deep_code_and_values_are_freed_on_a_small_stack() {
        let dir = std::env::temp_dir().join(format!("kith-deep-drop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let n = 9_000;
        let lists = format!("{}1{}", "[".repeat(n), "]".repeat(n));
        let parens = format!("{}1{}", "(".repeat(n), ")".repeat(n));
        let sum = format!("{}1", "1 + ".repeat(n));
        let files: Vec<_> = [lists, parens, sum]
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let file = dir.join(format!("deep{i}.nix"));
                std::fs::write(&file, text).unwrap();
                file
            })
            .collect();
        let cache = dir.join("cache");
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                for _ in 0..2 {
                    // The second round loads the file's IR from the cache.
                    let mut ev = super::Eval::new(super::EvalOptions {
                        ir_cache_dir: Some(cache.clone()),
                        ..Default::default()
                    });
                    let mut values = Vec::new();
                    for file in &files {
                        let v = ev.eval_file(file).unwrap_or_else(|e| panic!("{}", e.message));
                        ev.force_deep(&v).unwrap_or_else(|e| panic!("{}", e.message));
                        values.push(v);
                    }
                    let deep = ev
                        .eval_expr(
                            "builtins.foldl' (acc: x: [ acc ]) [ ] (builtins.genList (x: x) 200000)",
                            std::path::Path::new("/"),
                        )
                        .unwrap();
                    drop(ev);
                    drop((values, deep));
                }
            })
            .unwrap()
            .join()
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A panic out of a thunk's evaluation leaves it a blackhole, not a state pointing at
    /// code the unwinding freed; forcing it again is an error.
    #[test]
    fn a_thunk_left_by_a_panic_is_a_blackhole() {
        use crate::value::{Env, Thunk, ThunkState, Value};
        let mut ev = super::Eval::new(Default::default());
        let e = ev
            .compile(
                crate::source::Origin::Expr {
                    base_dir: "/".into(),
                },
                "x: x 1",
            )
            .unwrap();
        let panics = Thunk::native(|_| panic!("native code panics"));
        // `(x: x 1) panics`, applied in an `Expr` thunk that owns the only reference to
        // the lambda's code.
        let f = ev.eval(&e, &Env::new(None, 0)).unwrap();
        drop(e);
        let Value::Lambda(c) = f else { unreachable!() };
        let call = Thunk::apply(Value::Lambda(c.clone()), panics, c.lambda.span);
        drop(c);
        let Value::Thunk(t) = &call else {
            unreachable!()
        };
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ev.force(&call)));
        assert!(r.is_err());
        assert!(t.inspect(|s| matches!(s, ThunkState::Blackhole(_))));
        let err = ev.force(&call).map(|_| ()).unwrap_err();
        assert!(
            err.message.contains("infinite recursion"),
            "{}",
            err.message
        );
        let inner = Thunk::expr(
            ev.compile(
                crate::source::Origin::Expr {
                    base_dir: "/".into(),
                },
                "let x = x; in x",
            )
            .unwrap(),
            Env::new(None, 0),
        );
        let err = ev.force(&inner).map(|_| ()).unwrap_err();
        assert!(
            err.message.contains("infinite recursion"),
            "{}",
            err.message
        );
    }

    #[test]
    fn literal_arguments_built_at_once_evaluate_nothing() {
        // A set or list literal passed to a function is built when the call is made, but
        // its values stay lazy, as with a thunk.
        assert_eq!(eval("(x: 1) { a = throw \"no\"; }"), "1");
        assert_eq!(eval("(x: 1) [ (throw \"no\") ]"), "1");
        assert_eq!(eval("({ a, ... }: a) { a = 2; b = throw \"no\"; }"), "2");
        assert_eq!(eval("let y = 3; in (s: s.x) { x = y; inherit y; }"), "3");
        assert!(error("({ a }: a) { a = throw \"boom\"; }").contains("boom"));
    }

    #[test]
    fn evaluated_selections_are_shared_but_functions_stay_distinct() {
        // An evaluated set selected twice is the same set: equal, as in Nix.
        assert_eq!(
            eval("let s = { t = { f = x: x; }; }; in builtins.seq s.t ([ s.t ] == [ s.t ])"),
            "true"
        );
        // Two selections of an evaluated function are two functions in Nix: unequal.
        assert_eq!(
            eval("let s = { f = x: x; }; in builtins.seq s.f ([ s.f ] == [ s.f ])"),
            "false"
        );
        // A selection that fails keeps its error context (it is not taken eagerly).
        assert!(error("let s = { a = throw \"boom\"; }; in [ s.a ]").contains("boom"));
    }
}
