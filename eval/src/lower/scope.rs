//! The static scope stack used while lowering: frames of named slots and `with` markers.

use crate::symbol::Symbol;
use std::collections::HashMap;

/// Frames with more names than this get a hash index for lookups.
const INDEX_THRESHOLD: usize = 12;

/// One static scope level.
enum Scope {
    /// A frame binding names to slots (`let`, `rec`, lambda).
    Frame(Frame),
    /// A `with` frame (one slot: the attribute set); binds no names statically.
    With,
}

/// The names of a frame's slots.
pub(super) struct Frame {
    names: Vec<Symbol>,
    index: Option<HashMap<Symbol, u32>>,
}

impl Frame {
    /// A frame whose slot `i` is `names[i]`.
    pub(super) fn new(names: Vec<Symbol>) -> Frame {
        let index = (names.len() > INDEX_THRESHOLD).then(|| {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (*n, i as u32))
                .collect()
        });
        Frame { names, index }
    }

    /// The slot bound to `name`, if any (the first one, should names repeat).
    fn slot(&self, name: Symbol) -> Option<u32> {
        match &self.index {
            Some(index) => index.get(&name).copied(),
            None => self.names.iter().position(|n| *n == name).map(|i| i as u32),
        }
    }
}

/// How a variable name resolves.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Resolved {
    /// Statically bound: frames up, slot.
    Var { depth: u32, slot: u32 },
    /// A builtin global.
    Global,
    /// Looked up in enclosing `with` scopes at run time.
    With,
    /// Not bound anywhere.
    Undefined,
}

/// The stack of scopes, innermost last.
#[derive(Default)]
pub(super) struct Scopes {
    stack: Vec<Scope>,
}

impl Scopes {
    /// Enters a frame binding `names`.
    pub(super) fn push_frame(&mut self, names: Vec<Symbol>) {
        self.stack.push(Scope::Frame(Frame::new(names)));
    }

    /// Enters a `with` scope.
    pub(super) fn push_with(&mut self) {
        self.stack.push(Scope::With);
    }

    /// Leaves the innermost scope.
    pub(super) fn pop(&mut self) {
        self.stack.pop();
    }

    /// Resolves `name`: static frames first (innermost out), then globals, then `with`.
    pub(super) fn resolve(&self, name: Symbol, is_global: &dyn Fn(Symbol) -> bool) -> Resolved {
        let mut in_with = false;
        for (depth, scope) in self.stack.iter().rev().enumerate() {
            match scope {
                Scope::Frame(frame) => {
                    if let Some(slot) = frame.slot(name) {
                        return Resolved::Var {
                            depth: depth as u32,
                            slot,
                        };
                    }
                }
                Scope::With => in_with = true,
            }
        }
        if is_global(name) {
            Resolved::Global
        } else if in_with {
            Resolved::With
        } else {
            Resolved::Undefined
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_order() {
        let [a, b, c, t] = ["a", "b", "c", "true"].map(Symbol::new);
        let is_global = |s: Symbol| s == t;
        let mut scopes = Scopes::default();
        assert_eq!(scopes.resolve(a, &is_global), Resolved::Undefined);
        scopes.push_frame(vec![a, b]);
        scopes.push_with();
        scopes.push_frame(
            (0..20)
                .map(|i| Symbol::new(&format!("v{i}")))
                .chain([c])
                .collect(),
        );
        assert_eq!(
            scopes.resolve(c, &is_global),
            Resolved::Var { depth: 0, slot: 20 }
        );
        assert_eq!(
            scopes.resolve(b, &is_global),
            Resolved::Var { depth: 2, slot: 1 }
        );
        assert_eq!(scopes.resolve(t, &is_global), Resolved::Global);
        assert_eq!(
            scopes.resolve(Symbol::new("zz"), &is_global),
            Resolved::With
        );
    }
}
