//! kith-eval: an embeddable Nix-language evaluator.
//!
//! Pipeline: [`parse`] (rnix) → [`lower`] (scope-resolved [`ir`]) → [`eval`] (lazy
//! evaluation over [`value`]s) with [`builtins`]; [`print`] renders values as
//! `nix-instantiate --eval` does, and [`error`] renders errors as Nix does.
//!
//! The evaluator reads files only through a [`FileSystem`] and loads flakes only through a
//! [`FlakeLoader`], both given by the embedder; it spawns no process.

pub mod builtins;
pub mod diagnostic;
pub mod error;
pub mod eval;
pub mod host;
pub mod instantiate;
pub mod ir;
pub mod ir_cache;
pub mod lower;
pub mod parse;
pub mod posix_regex;
pub mod print;
pub mod purity;
pub mod source;
pub mod stats;
pub mod store;
pub mod symbol;
pub mod value;
pub mod vfs;

pub use kith_store;
pub(crate) use kith_store::{bytestr, hash as hash_format};

pub use builtins::to_json_string;
pub use error::{ErrorExt, EvalError, Result};
pub use eval::{canon_path, CoerceOpts, Eval, EvalOptions};
pub use host::FlakeLoader;
pub use kith_store::fs::{FileKind, FileSystem, OsFileSystem};
pub use print::print_value;
pub use source::{Sources, Span};
pub use symbol::Symbol;
pub use value::{Attr, Attrs, Context, List, NixString, Shared, Thunk, Value};
pub use vfs::{Follow, Found, FsPath, Visible};
