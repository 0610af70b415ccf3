//! What the evaluator asks of its embedder: a file system to read
//! ([`kith_store::fs::FileSystem`], the host's by default) and a way to load flakes for
//! `builtins.getFlake` ([`FlakeLoader`], none by default). The evaluator reaches files
//! and flakes only through these; it never spawns a process or opens a connection.

use crate::error::Result;
use crate::eval::Eval;
use crate::source::Span;
use crate::value::Value;

/// Loads a flake for `builtins.getFlake` (kith-flake provides one).
pub trait FlakeLoader {
    /// The flake `url` names, as `builtins.getFlake url` returns it: its outputs with
    /// `inputs`, `outPath`, `sourceInfo` and `_type = "flake"`. `span` is the call's.
    fn get_flake(&self, ev: &mut Eval, url: &str, span: Span) -> Result<Value>;
}
