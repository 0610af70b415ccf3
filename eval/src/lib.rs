//! kith-eval: an embeddable Nix-language evaluator.
//!
//! Source text is parsed (rnix), lowered to a scope-resolved program with a [`Span`] on
//! every node, and evaluated lazily: a [`Value`] may be an unevaluated thunk until
//! [`Eval::force`] asks for it. Output and errors are worded exactly as C++ Nix words them
//! ([`print_value`], [`EvalError::render`]); `nix-instantiate --eval` as a whole is
//! [`instantiate::run`].
//!
//! The evaluator reads files only through a [`FileSystem`] (the host's by default, see
//! [`Eval::set_file_system`]) and loads flakes for `builtins.getFlake` only through a
//! [`FlakeLoader`] (kith-flake provides one); it never spawns a process. Nix's pure formats
//! (store paths, NAR, hashes, derivations, flake references) are in [`kith_store`].
//!
//! One [`Eval`] per thread: values are reference-counted without atomics and belong to the
//! evaluator that made them.
//!
//! # Evaluate an expression or a file
//!
//! ```
//! use kith_eval::{print_value, Eval, EvalOptions};
//! use std::path::Path;
//!
//! let mut ev = Eval::new(EvalOptions::default());
//! let v = ev.eval_expr("let x = 20; in { answer = x + 22; }", Path::new("/"))?;
//! assert_eq!(print_value(&mut ev, &v, true)?, "{ answer = 42; }");
//! // A file (a directory means its default.nix), as `import` reads it:
//! # let dir = std::env::temp_dir().join(format!("kith-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(dir.join("default.nix"), "{ a = 1; }").unwrap();
//! let f = ev.eval_file(&dir)?;
//! assert_eq!(print_value(&mut ev, &f, true)?, "{ a = 1; }");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), Box<kith_eval::EvalError>>(())
//! ```
//!
//! # Force and walk lazily
//!
//! Attribute sets and lists hold unevaluated values; force only what you read.
//!
//! ```
//! use kith_eval::{Eval, EvalOptions, Value};
//! use std::path::Path;
//!
//! let mut ev = Eval::new(EvalOptions::default());
//! let v = ev.eval_expr(r#"{ ok = "yes"; boom = throw "never forced"; n = [ 1 2 ]; }"#, Path::new("/"))?;
//! let set = ev.force_attrs(&v)?;
//! let names: Vec<&str> = set.sorted_by_name().iter().map(|a| a.name.as_str()).collect();
//! assert_eq!(names, ["boom", "n", "ok"]);
//! let ok = set.get_str("ok").unwrap().clone();
//! assert_eq!(ev.force_string(&ok)?.to_str(), Some("yes"));
//! let n = ev.force_list(set.get_str("n").unwrap())?;
//! let sum: i64 = n.iter().map(|x| ev.force_int(x)).sum::<Result<i64, _>>()?;
//! assert_eq!(sum, 3);
//! # Ok::<(), Box<kith_eval::EvalError>>(())
//! ```
//!
//! # Spans: where a definition is
//!
//! ```
//! use kith_eval::{Eval, EvalOptions, Origin, Symbol};
//!
//! let mut ev = Eval::new(EvalOptions::default());
//! let program = ev.compile(Origin::File("/clan/inventory.nix".into()), "{\n  machines = {\n    jon = { };\n  };\n}")?;
//! let v = ev.evaluate(&program)?;
//! let set = ev.force_attrs(&v)?;
//! let machines = ev.force_attrs(set.get_str("machines").unwrap())?;
//! let jon = machines.get_attr(Symbol::new("jon")).unwrap();
//! assert_eq!(
//!     ev.sources.describe(jon.span),
//!     Some(("/clan/inventory.nix".to_string(), 3, 5))
//! );
//! # Ok::<(), Box<kith_eval::EvalError>>(())
//! ```
//!
//! # Call a Nix function with values built in Rust
//!
//! ```
//! use kith_eval::{print_value, Attr, Attrs, Eval, EvalOptions, Span, Symbol, Thunk, Value};
//! use std::path::Path;
//!
//! let mut ev = Eval::new(EvalOptions::default());
//! let f = ev.eval_expr("{ name, tags ? [ ], lazy }: { inherit name; n = builtins.length tags; }", Path::new("/"))?;
//! let arg = Value::Attrs(Attrs::from_entries(vec![
//!     Attr { name: Symbol::new("name"), value: Value::string("jon"), span: Span::NONE },
//!     Attr { name: Symbol::new("tags"), value: Value::list(vec![Value::string("all")]), span: Span::NONE },
//!     // A lazy argument: computed in Rust only if the function forces it (it does not).
//!     Attr { name: Symbol::new("lazy"), value: Thunk::native(|_| panic!("not forced")), span: Span::NONE },
//! ]));
//! let r = ev.call(&f, arg, Span::NONE)?;
//! assert_eq!(print_value(&mut ev, &r, true)?, r#"{ n = 1; name = "jon"; }"#);
//! # Ok::<(), Box<kith_eval::EvalError>>(())
//! ```
//!
//! # Convert to and from serde values
//!
//! ```
//! use kith_eval::{print_value, Eval, EvalOptions, Value};
//! use serde_json::json;
//! use std::path::Path;
//!
//! let mut ev = Eval::new(EvalOptions::default());
//! let v = ev.eval_expr(r#"{ b = [ 1 2.5 null ]; a = "x"; }"#, Path::new("/"))?;
//! assert_eq!(ev.to_json(&v)?, json!({ "a": "x", "b": [1, 2.5, null] }));
//! let back = Value::from_json(&json!({ "machines": ["jon", "sara"], "n": 2 }));
//! assert_eq!(print_value(&mut ev, &back, true)?, r#"{ machines = [ "jon" "sara" ]; n = 2; }"#);
//! # Ok::<(), Box<kith_eval::EvalError>>(())
//! ```
//!
//! # Errors
//!
//! An error has a kind, Nix's message, the span it happened at and a trace; rendered, it
//! reads as C++ Nix prints it.
//!
//! ```
//! use kith_eval::{Eval, EvalOptions, ErrorKind};
//! use std::path::Path;
//!
//! let mut ev = Eval::new(EvalOptions::default());
//! let e = ev.eval_expr("let s = { a = 1; }; in s.b", Path::new("/")).unwrap_err();
//! assert_eq!(e.kind, ErrorKind::Eval);
//! assert_eq!(e.message, "attribute 'b' missing");
//! assert_eq!(ev.sources.describe(e.span).map(|(_, l, c)| (l, c)), Some((1, 24)));
//! assert!(e.render(&ev.sources).starts_with("error: attribute 'b' missing"));
//! let e = ev.eval_expr(r#"throw "no""#, Path::new("/")).unwrap_err();
//! assert!(e.is_catchable());
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod builtins;
mod diagnostic;
mod error;
mod eval;
mod host;
pub mod instantiate;
mod ir;
mod ir_cache;
mod lower;
mod parse;
mod posix_regex;
mod print;
mod purity;
mod serde;
mod show;
mod source;
pub mod stats;
mod store;
mod symbol;
mod value;
mod vfs;

/// The corpus location and its absence, shared with the integration tests.
#[cfg(test)]
#[path = "../tests/common/corpus.rs"]
mod test_corpus;

pub use kith_store;
pub(crate) use kith_store::{bytestr, hash as hash_format};

pub use builtins::json::escape_json;
pub use builtins::to_json_string;
pub use diagnostic::to_report;
pub use error::{eprint_line, ErrorExt, ErrorKind, EvalError, Result, TraceFrame};
pub use eval::{CoerceOpts, Eval, EvalOptions};
pub use host::FlakeLoader;
pub use ir::ExprRef as Program;
pub use ir_cache::default_dir as default_ir_cache_dir;
pub use kith_store::canon_path;
pub use kith_store::fs::{FileKind, FileSystem, OsFileSystem, Stat};
pub use lower::lints::{LintLevel, Lints};
pub use print::{print_value, show_for_error};
pub use source::{FileId, Origin, SourceFile, Sources, Span};
pub use symbol::Symbol;
pub use value::{Attr, Attrs, Context, Formal, List, NixString, Shared, Thunk, Value};
pub use vfs::{Follow, Found, FsPath, Visible};
