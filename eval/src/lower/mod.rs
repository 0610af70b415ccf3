//! TEMPORARY STUB (helper-1 replaces this file with the real lowering).
use crate::error::{EvalError, Result};
use crate::ir::ExprRef;
use crate::source::{FileId, Sources};
use crate::symbol::Symbol;
/// Lowers.
pub fn lower(_s: &Sources, _f: FileId, _r: &rnix::Root, _g: &dyn Fn(Symbol) -> bool, _outer_with: bool) -> Result<ExprRef> {
    Err(EvalError::new("stub"))
}
