//! kith-eval: an embeddable Nix-language evaluator.
//!
//! Pipeline: [`parse`] (rnix) → [`lower`] (scope-resolved [`ir`]) → [`eval`] (lazy
//! evaluation over [`value`]s) with [`builtins`]; [`print`] renders values as
//! `nix-instantiate --eval` does, and [`error`] renders errors as Nix does.

pub mod error;
pub mod eval;
pub mod ir;
pub mod lower;
pub mod parse;
pub mod source;
pub mod symbol;
pub mod value;
pub mod builtins;
pub mod print;
pub mod store;
pub mod hash_format;
pub mod posix_regex;
pub mod instantiate;
pub mod diagnostic;
