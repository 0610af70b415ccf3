//! kith-eval: an embeddable Nix-language evaluator.
//!
//! Pipeline: [`parse`] (rnix) → [`lower`] (scope-resolved [`ir`]) → [`eval`] (lazy
//! evaluation over [`value`]s) with [`builtins`]; [`print`] renders values as
//! `nix-instantiate --eval` does, and [`error`] renders errors as Nix does.

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod builtins;
pub mod bytestr;
pub mod diagnostic;
pub mod error;
pub mod eval;
pub mod flake;
pub mod hash_format;
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
