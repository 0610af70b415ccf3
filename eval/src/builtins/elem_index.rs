//! A hash index of the string lists `builtins.elem` searches again and again.
//!
//! `filter (x: elem x big) xs` (nixpkgs' `subtractLists`, `intersectLists`, tags computed
//! from other tags) searches the same list once per element of `xs`: quadratic, a string
//! comparison per pair. The evaluator remembers the last few lists `elem` searched; a list
//! searched a second time whose elements are all evaluated strings gets a hash set of their
//! contents, and later searches for a string are one lookup. The answer is the scan's:
//! comparing two strings compares their contents (never their contexts) and cannot fail, so
//! for such a list the scan's result is exactly whether the set holds the string.

use crate::value::{List, Shared, Value};
use std::collections::HashSet;
use std::hash::BuildHasherDefault;

/// Lists shorter than this are scanned.
const MIN_LEN: usize = 32;
/// How many lists are remembered.
const SLOTS: usize = 4;

type Set = HashSet<Box<[u8]>, BuildHasherDefault<crate::symbol::FxHasher>>;

/// One remembered list (kept alive, so that its address is not reused while remembered).
struct Entry {
    list: Shared<List>,
    /// Searches so far.
    searches: u32,
    /// The set, once built: tried on the second search and, while the list holds anything
    /// but evaluated strings (elements a scan has not reached yet, say), again on each
    /// search whose number is a power of two.
    set: Option<Set>,
}

/// The evaluator's remembered lists, oldest first.
#[derive(Default)]
pub(crate) struct ElemIndex {
    entries: Vec<Entry>,
}

impl ElemIndex {
    /// Whether `list` holds a string equal to `s`, when the index can tell; `None`: scan.
    pub(crate) fn lookup(&mut self, list: &Shared<List>, s: &[u8]) -> Option<bool> {
        if list.len() < MIN_LEN {
            return None;
        }
        let Some(i) = self
            .entries
            .iter()
            .position(|e| Shared::as_ptr(&e.list) == Shared::as_ptr(list))
        else {
            if self.entries.len() == SLOTS {
                self.entries.remove(0);
            }
            self.entries.push(Entry {
                list: list.clone(),
                searches: 1,
                set: None,
            });
            return None;
        };
        let entry = &mut self.entries[i];
        entry.searches = entry.searches.saturating_add(1);
        if entry.set.is_none() && entry.searches.is_power_of_two() {
            entry.set = strings_of(&entry.list);
        }
        entry.set.as_ref().map(|set| set.contains(s))
    }
}

/// The contents of `list`'s elements if every one is an evaluated string.
fn strings_of(list: &List) -> Option<Set> {
    let mut set = Set::with_capacity_and_hasher(list.len(), Default::default());
    for item in list.iter() {
        let forced;
        let v = match item {
            Value::Thunk(t) => {
                forced = t.value()?;
                &forced
            }
            v => v,
        };
        match v {
            Value::String(s) => set.insert(s.s.clone().into_boxed_slice()),
            _ => return None,
        };
    }
    Some(set)
}

#[cfg(test)]
mod tests {
    use crate::Eval;

    fn eval(src: &str) -> String {
        let mut ev = Eval::new(Default::default());
        let v = ev.eval_expr(src, std::path::Path::new("/")).unwrap();
        ev.to_json(&v).unwrap().to_string()
    }

    #[test]
    fn repeated_searches_give_the_scan_answer() {
        // Searched many times: indexed after the first search.
        assert_eq!(
            eval(
                r#"let big = map (i: "m${toString i}") (builtins.genList (i: i) 100);
                in builtins.filter (x: builtins.elem x big) [ "m1" "x" "m99" "m100" "m1" ]"#
            ),
            r#"["m1","m99","m1"]"#
        );
        // Contexts do not count; a list with other values is scanned.
        assert_eq!(
            eval(
                r#"let big = [ 1 { } ] ++ map toString (builtins.genList (i: i) 50);
                in map (x: builtins.elem x big) [ "3" "3" "51" 1 ]"#
            ),
            "[true,true,false,true]"
        );
        // Unevaluated elements are scanned, and the list is indexed once they are not.
        assert_eq!(
            eval(
                r#"let big = builtins.genList (i: toString i) 40;
                in map (x: builtins.elem x big) [ "7" "7" "40" "39" "1" "x" ]"#
            ),
            "[true,true,false,true,true,false]"
        );
    }
}
