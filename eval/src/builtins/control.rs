//! Builtins: control.

use crate::value::PrimOp;

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[];
