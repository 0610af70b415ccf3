//! Builtins: lists.

use crate::value::PrimOp;

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[];
