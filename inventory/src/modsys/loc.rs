//! Option paths (`loc`), shared: a child option's path extends its parent's without copying
//! it, so that the many contexts a large attribute set creates cost one small node each.

use std::rc::Rc;

/// An option path such as `inventory.machines.jon.tags`.
#[derive(Clone, Default)]
pub struct Loc(Option<Rc<Node>>);

struct Node {
    parent: Loc,
    name: Rc<str>,
    len: usize,
}

impl Loc {
    /// The path of `parts`, outermost first.
    pub fn new<S: AsRef<str>>(parts: &[S]) -> Loc {
        parts
            .iter()
            .fold(Loc::default(), |loc, p| loc.child(p.as_ref()))
    }

    /// This path followed by `name`.
    pub fn child(&self, name: &str) -> Loc {
        Loc(Some(Rc::new(Node {
            parent: self.clone(),
            name: Rc::from(name),
            len: self.len() + 1,
        })))
    }

    /// The number of parts.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |n| n.len)
    }

    /// Whether the path has no parts (the top level).
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The last part.
    pub fn last(&self) -> Option<&str> {
        self.0.as_ref().map(|n| &*n.name)
    }

    /// The part `k` places before the last (`0`: the last).
    pub fn from_end(&self, k: usize) -> Option<&str> {
        let mut node = self.0.as_ref()?;
        for _ in 0..k {
            node = node.parent.0.as_ref()?;
        }
        Some(&node.name)
    }

    /// The path without its last part.
    pub fn parent(&self) -> Loc {
        self.0
            .as_ref()
            .map_or_else(Loc::default, |n| n.parent.clone())
    }

    /// The parts, outermost first.
    pub fn to_vec(&self) -> Vec<String> {
        let mut out = vec![String::new(); self.len()];
        let mut cur = self;
        let mut i = out.len();
        while let Some(n) = &cur.0 {
            i -= 1;
            out[i] = n.name.to_string();
            cur = &n.parent;
        }
        out
    }

    /// The path as the module system prints it (`showOption`).
    pub fn show(&self) -> String {
        super::show_option(&self.to_vec())
    }
}

impl std::fmt::Debug for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.to_vec()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Loc;

    #[test]
    fn a_child_extends_its_parent_which_stays_as_it_was() {
        let top = Loc::new(&["inventory", "machines"]);
        let jon = top.child("jon");
        assert_eq!(jon.to_vec(), ["inventory", "machines", "jon"]);
        assert_eq!(top.to_vec(), ["inventory", "machines"]);
        assert_eq!(jon.len(), 3);
        assert_eq!(jon.last(), Some("jon"));
        assert_eq!(jon.from_end(0), Some("jon"));
        assert_eq!(jon.from_end(2), Some("inventory"));
        assert_eq!(jon.from_end(3), None);
        assert_eq!(jon.parent().to_vec(), top.to_vec());
        assert!(Loc::default().is_empty());
        assert_eq!(Loc::default().to_vec(), Vec::<String>::new());
        assert_eq!(jon.child("*").show(), "inventory.machines.jon.*");
    }
}
