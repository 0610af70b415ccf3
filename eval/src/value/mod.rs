//! Runtime values: the Nix value types, lazy thunks and environments.
//!
//! Values are reference-counted ([`Shared`], frames with `Rc`) and belong to one evaluator (one thread); see
//! `docs/architecture.md` for the threading model. Cloning a value is cheap.

mod attrs;
mod block;
mod env;
mod list;
mod shared;
mod string;

pub use attrs::{Attr, Attrs, AttrsBuilder};
pub use env::{Env, Slots};
pub use list::{List, ListBuilder};
pub use shared::Shared;
pub use string::{first_context_element, Context, NixString};

use crate::error::Result;
use crate::eval::Eval;
use crate::ir::{Expr, Lambda};
use crate::source::Span;
use std::cell::UnsafeCell;
use std::ptr::NonNull;
use std::rc::Rc;

/// A Nix value, possibly not yet evaluated ([`Value::Thunk`]).
///
/// `repr(u8)` fixes the layout: the tag in the first byte, and for every heap variant a
/// [`Shared`] pointer in the second word, which is what lets [`Clone`] treat those variants
/// alike.
#[repr(u8)]
pub enum Value {
    Null = 0,
    Bool(bool) = 1,
    Int(i64) = 2,
    Float(f64) = 3,
    String(Shared<NixString>) = FIRST_HEAP_TAG,
    /// An absolute, canonical path.
    Path(Shared<Box<str>>),
    Attrs(Shared<Attrs>),
    List(Shared<List>),
    Lambda(Shared<Closure>),
    PrimOp(Shared<PrimOpApp>),
    Thunk(Shared<Thunk>),
}

/// The tag of the first variant that holds a [`Shared`] pointer; all later ones do too.
const FIRST_HEAP_TAG: u8 = 4;

impl Clone for Value {
    /// One count increment for any heap variant, then a copy of the two words (the derived
    /// clone re-creates each variant: a jump on the tag).
    #[inline(always)]
    fn clone(&self) -> Value {
        let this: *const Value = self;
        // SAFETY: `repr(u8)` puts the tag in the first byte and, for tags from
        // FIRST_HEAP_TAG on, a `Shared` (a `repr(transparent)` pointer to the allocation's
        // header) in the second word. The increment gives the copy its own reference.
        unsafe {
            if *(this as *const u8) >= FIRST_HEAP_TAG {
                let header = *(this as *const std::ptr::NonNull<shared::Header>).add(1);
                shared::retain(header);
            }
            std::ptr::read(this)
        }
    }
}

// Values are copied and stored everywhere (frames, lists, sets, thunks): keep them at two
// words.
const _: () = assert!(std::mem::size_of::<Value>() == 16);

/// A lambda together with the environment it closes over.
pub struct Closure {
    pub lambda: Rc<Lambda>,
    pub env: Env,
    /// Whether the closure counts as evaluated, as C++ Nix sees it. Where Nix makes a thunk
    /// for a lambda in a lazy position (an attribute, list element, binding or argument),
    /// kith makes the closure at once ([`Closure::lazy`]): it prints as an unevaluated
    /// thunk (`<CODE>`) until something forces or calls it, exactly when Nix's thunk
    /// would be forced. Copies share the flag, as copies of Nix's thunk pointer do.
    forced: std::cell::Cell<bool>,
}

impl Closure {
    /// The closure of `lambda` over `env`, as a value's payload (an evaluated lambda).
    #[inline]
    pub(crate) fn new(lambda: &Rc<Lambda>, env: &Env) -> Shared<Closure> {
        Closure::make(lambda, env, true)
    }

    /// The closure of `lambda` over `env` made where Nix would make a thunk: unevaluated
    /// until forced (see [`Closure::is_forced`]).
    #[inline]
    pub(crate) fn lazy(lambda: &Rc<Lambda>, env: &Env) -> Shared<Closure> {
        Closure::make(lambda, env, false)
    }

    #[inline]
    fn make(lambda: &Rc<Lambda>, env: &Env, forced: bool) -> Shared<Closure> {
        crate::stats::bump(crate::stats::Counter::Closures);
        Shared::new(Closure {
            lambda: lambda.clone(),
            env: env.clone(),
            forced: std::cell::Cell::new(forced),
        })
    }

    /// Whether Nix would see this closure as evaluated (it was made by evaluating a lambda,
    /// or forced or called since): `nix-instantiate --eval` prints `<LAMBDA>` for it, and
    /// `<CODE>` otherwise.
    #[inline]
    pub fn is_forced(&self) -> bool {
        self.forced.get()
    }

    /// Marks the closure as forced.
    #[inline(always)]
    pub(crate) fn mark_forced(&self) {
        self.forced.set(true);
    }
}

/// Signature of a builtin's implementation. `args` has exactly `arity` elements, unforced.
pub type PrimOpFn = fn(&mut Eval, &[Value], Span) -> Result<Value>;

/// A builtin function.
pub struct PrimOp {
    /// The name as Nix shows it (`map`, `__add` is shown as `add`).
    pub name: &'static str,
    pub arity: usize,
    pub func: PrimOpFn,
}

/// A builtin applied to fewer arguments than its arity (or to none yet).
pub struct PrimOpApp {
    pub op: &'static PrimOp,
    pub args: Vec<Value>,
}

/// A delayed computation, evaluated at most once.
///
/// The state sits in an `UnsafeCell`: the evaluator is single-threaded and never keeps a
/// reference into the state across evaluation (`Thunk::take` moves it out first), so a
/// borrow flag would only cost space and time. 24 bytes of state, 40 with the `Rc` counts.
///
/// Only the evaluator changes a thunk's state (the methods that do are private to the
/// crate), so the reference [`Thunk::inspect`] lends cannot be invalidated by safe code.
/// This does not compile outside the crate:
///
/// ```compile_fail,E0624
/// use kith_eval::{Thunk, Value};
/// let v = Thunk::native(|_| Ok(Value::Null));
/// let Value::Thunk(t) = &v else { unreachable!() };
/// t.inspect(|_state| t.set(unimplemented!()));
/// ```
///
/// while reading the thunk from the closure does:
///
/// ```
/// use kith_eval::{Thunk, Value};
/// let v = Thunk::native(|_| Ok(Value::Null));
/// let Value::Thunk(t) = &v else { unreachable!() };
/// assert!(t.inspect(|_state| t.value()).is_none());
/// ```
///
/// Nor can safe code make a state that claims to be under evaluation (the states are not
/// part of the public API, and an in-flight pointer can only be made by the evaluator):
///
/// ```compile_fail
/// use kith_eval::Thunk;
/// let _ = Thunk::of(kith_eval::ThunkState::Evaluating(std::ptr::null()));
/// ```
///
/// A thunk an embedder makes is a computation in Rust:
///
/// ```
/// use kith_eval::{Thunk, Value};
/// let _ = Thunk::native(|_| Ok(Value::Null));
/// ```
pub struct Thunk(UnsafeCell<ThunkState>);

/// A thunk's computation written in Rust.
pub type NativeThunk = Box<dyn FnOnce(&mut Eval) -> Result<Value>>;

/// What a thunk holds. Kept to two words plus a tag: rare, larger states are boxed.
pub enum ThunkState {
    /// An expression to evaluate in an environment.
    Expr(Rc<Expr>, Env),
    /// A function application `f arg` (used by builtins such as `map`).
    Apply(Box<Application>),
    /// A function application to two arguments, `f a b` (`mapAttrs`' `f name value`): one
    /// thunk where `Apply` would take two.
    Apply2(Box<Application2>),
    /// `f i` for a lambda `f` and an integer, reported at `f` (`genList`'s elements): an
    /// [`ThunkState::Apply`] that needs no box.
    ApplyInt(Shared<Closure>, i64),
    /// `f x` for a lambda `f` and an unevaluated `x`, reported at `f` (most of `map`'s
    /// elements).
    ApplyThunk(Shared<Closure>, Shared<Thunk>),
    /// A computation written in Rust.
    Native(NativeThunk),
    /// Being evaluated: forcing it again is infinite recursion, reported at the span.
    Blackhole(Span),
    /// Being evaluated from [`ThunkState::Expr`]: like `Blackhole`, at the expression's
    /// span. The expression is kept alive by the evaluation that set this state (which
    /// replaces it before it ends), so only a detected recursion reads it: forcing need
    /// not look the span up.
    Evaluating(InFlight<Expr>),
    /// Being evaluated from [`ThunkState::ApplyInt`] or [`ThunkState::ApplyThunk`]: like
    /// `Blackhole`, at the lambda's span, which is read only if a recursion is detected
    /// (the evaluation keeps the closure, and so the lambda, alive).
    EvaluatingCall(InFlight<Lambda>),
    /// Evaluated.
    Done(Value),
}

/// What a thunk under evaluation is reported at if it is forced again: a pointer to an
/// expression or lambda that the running evaluation keeps alive. Only the evaluator makes
/// one (the field is private), and it replaces the state holding it before the pointee
/// can go away, also when a panic unwinds the evaluation.
pub struct InFlight<T>(NonNull<T>);

impl<T> InFlight<T> {
    /// A pointer to `target`, which the caller keeps alive while a thunk's state holds it.
    #[inline(always)]
    pub(crate) fn new(target: &T) -> InFlight<T> {
        InFlight(NonNull::from(target))
    }
    /// The target.
    ///
    /// # Safety
    /// The evaluation that made this must still be running (so the target is alive): true
    /// of any `InFlight` read from a thunk's current state, since the evaluator replaces
    /// such a state before its evaluation ends.
    #[inline]
    pub(crate) unsafe fn get(&self) -> &T {
        // SAFETY: the target is alive (the caller's contract).
        unsafe { self.0.as_ref() }
    }
}

/// The pending application of a [`ThunkState::Apply`].
pub struct Application {
    pub func: Value,
    pub arg: Value,
    pub span: Span,
}

/// The pending application of a [`ThunkState::Apply2`].
pub struct Application2 {
    pub func: Value,
    pub args: [Value; 2],
    pub span: Span,
}

impl Thunk {
    /// A thunk that evaluates `expr` in `env`.
    pub(crate) fn expr(expr: Rc<Expr>, env: Env) -> Value {
        Thunk::of(ThunkState::Expr(expr, env))
    }
    /// A thunk for the application `f arg`, reported at `span`.
    pub fn apply(f: Value, arg: Value, span: Span) -> Value {
        match (f, arg) {
            (Value::Lambda(c), Value::Int(i)) if c.lambda.span == span => {
                Thunk::of(ThunkState::ApplyInt(c, i))
            }
            (Value::Lambda(c), Value::Thunk(t)) if c.lambda.span == span => {
                Thunk::of(ThunkState::ApplyThunk(c, t))
            }
            (func, arg) => Thunk::of(ThunkState::Apply(Box::new(Application { func, arg, span }))),
        }
    }
    /// A thunk for the application `f a b`, reported at `span`.
    pub fn apply2(func: Value, a: Value, b: Value, span: Span) -> Value {
        Thunk::of(ThunkState::Apply2(Box::new(Application2 {
            func,
            args: [a, b],
            span,
        })))
    }
    /// A thunk computed by Rust code.
    pub fn native(f: impl FnOnce(&mut Eval) -> Result<Value> + 'static) -> Value {
        Thunk::of(ThunkState::Native(Box::new(f)))
    }
    /// A thunk in state `state`.
    #[inline]
    pub(crate) fn of(state: ThunkState) -> Value {
        crate::stats::bump(crate::stats::Counter::Thunks);
        Value::Thunk(Shared::new(Thunk(UnsafeCell::new(state))))
    }
    /// The value, if the thunk has been evaluated.
    #[inline]
    pub fn value(&self) -> Option<Value> {
        self.value_ref().cloned()
    }
    /// A reference to the value, if the thunk has been evaluated. The caller must not
    /// evaluate anything while it holds the reference (evaluation may replace the state).
    #[inline]
    pub(crate) fn value_ref(&self) -> Option<&Value> {
        // SAFETY: single-threaded; an evaluated state is only replaced by evaluation (a
        // failed re-evaluation), which the caller does not start while borrowing.
        match unsafe { &*self.0.get() } {
            ThunkState::Done(v) => Some(v),
            _ => None,
        }
    }
    /// Runs `f` on the current state (which it must not keep). `f` cannot change the
    /// state: only the evaluator does, and `f` gets no evaluator.
    #[inline]
    pub fn inspect<T>(&self, f: impl FnOnce(&ThunkState) -> T) -> T {
        // SAFETY: single-threaded, and nothing `f` can reach replaces the state: outside
        // the crate nothing can, inside it only `take`/`set`/`replace_blackhole` do, which
        // are never called from an `inspect` closure.
        f(unsafe { &*self.0.get() })
    }
    /// Replaces the state, returning the old one. No reference into the state (from
    /// [`Thunk::inspect`] or `value_ref`) may be live.
    #[inline]
    pub(crate) fn take(&self, state: ThunkState) -> ThunkState {
        // SAFETY: no reference into the state is live while it is replaced (the caller's
        // contract above); the old state is returned, so its destructor runs after the
        // cell is consistent again.
        unsafe { std::mem::replace(&mut *self.0.get(), state) }
    }
    /// Replaces the state of a thunk being evaluated ([`ThunkState::Blackhole`],
    /// [`ThunkState::Evaluating`] or [`ThunkState::EvaluatingCall`], which own nothing)
    /// without the destructor call a replacement of an unknown state needs. As for `take`,
    /// no reference into the state may be live.
    #[inline(always)]
    pub(crate) fn replace_blackhole(&self, state: ThunkState) {
        // SAFETY: as in `take`. The state overwritten is a blackhole, which has no
        // destructor to run (checked in debug builds; were it not, its contents would leak,
        // which is safe).
        unsafe {
            debug_assert!(matches!(
                *self.0.get(),
                ThunkState::Blackhole(_)
                    | ThunkState::Evaluating(_)
                    | ThunkState::EvaluatingCall(_)
            ));
            std::ptr::write(self.0.get(), state)
        }
    }
    /// Sets the state (the old one is dropped after the new one is in place). As for
    /// `take`, no reference into the state may be live.
    #[inline]
    pub(crate) fn set(&self, state: ThunkState) {
        drop(self.take(state));
    }
}

impl Value {
    /// A string value without context.
    pub fn string(s: impl Into<Vec<u8>>) -> Value {
        Value::String(Shared::new(NixString::plain(s.into())))
    }
    /// A string value without context from [`crate::bytestr`]-encoded text (a name, a
    /// path, text that came from a Nix string).
    pub fn string_encoded(s: &str) -> Value {
        Value::string(crate::bytestr::decode(s).into_owned())
    }
    /// A string value with context.
    pub fn string_ctx(s: impl Into<Vec<u8>>, ctx: Context) -> Value {
        Value::String(Shared::new(NixString::new(s.into(), ctx)))
    }
    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(List::from_vec(items))
    }
    /// A path value.
    pub fn path(p: impl AsRef<str>) -> Value {
        Value::Path(Shared::new(Box::from(p.as_ref())))
    }

    /// Nix's name of the type with its article, as in error messages ("an integer").
    pub fn type_desc(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a Boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::String(_) => "a string",
            Value::Path(_) => "a path",
            Value::Attrs(_) => "a set",
            Value::List(_) => "a list",
            Value::Lambda(_) => "a function",
            Value::PrimOp(p) if p.args.is_empty() => "a built-in function",
            Value::PrimOp(_) => "a partially applied built-in function",
            Value::Thunk(_) => "a thunk",
        }
    }

    /// The result of `builtins.typeOf`.
    pub fn type_of(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Path(_) => "path",
            Value::Attrs(_) => "set",
            Value::List(_) => "list",
            Value::Lambda(_) | Value::PrimOp(_) => "lambda",
            Value::Thunk(_) => "thunk",
        }
    }

    /// Whether the value is (already) a function.
    pub fn is_function(&self) -> bool {
        matches!(self, Value::Lambda(_) | Value::PrimOp(_))
    }

    /// The value itself if it is not a thunk, or the thunk's value if it was already forced.
    pub fn peek(&self) -> Option<Value> {
        match self {
            Value::Thunk(t) => t.value(),
            v => Some(v.clone()),
        }
    }

    /// Identity of the heap object behind a value, for `«repeated»` detection and
    /// pointer-equality shortcuts.
    pub fn ptr_id(&self) -> Option<usize> {
        match self {
            Value::Attrs(a) => Some(Shared::as_ptr(a) as *const u8 as usize),
            Value::List(l) => Some(Shared::as_ptr(l) as *const u8 as usize),
            Value::Lambda(l) => Some(Shared::as_ptr(l) as *const u8 as usize),
            Value::PrimOp(p) => Some(Shared::as_ptr(p) as *const u8 as usize),
            Value::Thunk(t) => Some(Shared::as_ptr(t) as *const u8 as usize),
            Value::String(s) => Some(Shared::as_ptr(s) as *const u8 as usize),
            Value::Path(p) => Some(Shared::as_ptr(p) as *const u8 as usize),
            _ => None,
        }
    }
}

/// One formal argument of a function with a set pattern (`{ a, b ? 1, ... }:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Formal {
    /// The argument's name.
    pub name: crate::symbol::Symbol,
    /// Whether it has a default (`b ? 1`).
    pub has_default: bool,
    /// Where it is declared.
    pub span: Span,
}

impl Value {
    /// The formal arguments of a function with a set pattern, in the order Nix sorts
    /// them (`builtins.functionArgs`); empty for any other value.
    pub fn formals(&self) -> Vec<Formal> {
        match self {
            Value::Lambda(c) => match &c.lambda.param {
                crate::ir::Param::Pattern { formals, .. } => formals
                    .iter()
                    .map(|f| Formal {
                        name: f.name,
                        has_default: f.default.is_some(),
                        span: f.span,
                    })
                    .collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

/// Shallow: scalars with their value, containers with their size, functions and thunks by
/// kind (forcing is never done here).
impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Int(i) => write!(f, "Int({i})"),
            Value::Float(x) => write!(f, "Float({x})"),
            Value::String(s) => write!(f, "String({:?})", s.encoded()),
            Value::Path(p) => write!(f, "Path({p:?})"),
            Value::Attrs(a) => write!(f, "Attrs({} attributes)", a.len()),
            Value::List(l) => write!(f, "List({} items)", l.len()),
            Value::Lambda(_) => f.write_str("Lambda"),
            Value::PrimOp(_) => f.write_str("PrimOp"),
            Value::Thunk(_) => f.write_str("Thunk"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{InFlight, Thunk, ThunkState, Value};
    use crate::ir::Expr;
    use crate::source::Span;
    use std::rc::Rc;

    #[test]
    fn thunk_states_are_replaced_and_freed() {
        let v = Thunk::native(|_| Ok(Value::string("owned")));
        let Value::Thunk(t) = &v else { unreachable!() };
        assert!(t.inspect(|s| matches!(s, ThunkState::Native(_))));
        // As the evaluator does: move the state out, mark the thunk in flight, finish.
        let expr = Rc::new(Expr::CurPos(Span::NONE));
        let old = t.take(ThunkState::Blackhole(Span::NONE));
        t.replace_blackhole(ThunkState::Evaluating(InFlight::new(&*expr)));
        t.inspect(|s| match s {
            // SAFETY: `expr` is alive.
            ThunkState::Evaluating(e) => assert_eq!(unsafe { e.get() }.span(), Span::NONE),
            _ => panic!("not in flight"),
        });
        drop(old);
        t.replace_blackhole(ThunkState::Done(Value::list(vec![Value::string("a")])));
        assert!(matches!(t.value(), Some(Value::List(l)) if l.len() == 1));
        assert!(t.value_ref().is_some());
        t.set(ThunkState::Done(Value::Null));
        assert!(matches!(t.value(), Some(Value::Null)));
        let copy = v.clone();
        drop(v);
        assert!(matches!(copy.peek(), Some(Value::Null)));
    }
}
