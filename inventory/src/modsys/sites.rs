//! Where definitions are: while recording is on, every definition the module system merges
//! is noted with its option path, file and span.

use kith_eval::Span;
use std::cell::RefCell;
use std::rc::Rc;

/// One definition site.
#[derive(Clone, Debug)]
pub struct Noted {
    /// The option path of the definition (`inventory.machines.jon`).
    pub loc: Vec<String>,
    /// The file the module system names for it.
    pub file: Rc<str>,
    /// The defining attribute, if it has a place in a source file.
    pub span: Span,
}

thread_local! {
    static RECORDING: RefCell<Option<Vec<Noted>>> = const { RefCell::new(None) };
}

/// Starts recording definition sites (on this thread).
pub fn start() {
    RECORDING.with(|r| *r.borrow_mut() = Some(Vec::new()));
}

/// Stops recording and returns what was noted.
pub fn stop() -> Vec<Noted> {
    RECORDING.with(|r| r.borrow_mut().take().unwrap_or_default())
}

/// Notes a definition of `loc` (if recording).
pub(crate) fn note(loc: &super::Loc, file: &Rc<str>, span: Span) {
    note_child(loc, None, file, span);
}

/// Notes a definition of `loc` followed by `child`, if there is one (if recording: the
/// path is only built then).
pub(crate) fn note_child(loc: &super::Loc, child: Option<&str>, file: &Rc<str>, span: Span) {
    RECORDING.with(|r| {
        if let Some(v) = r.borrow_mut().as_mut() {
            let mut loc = loc.to_vec();
            loc.extend(child.map(str::to_string));
            v.push(Noted {
                loc,
                file: file.clone(),
                span,
            });
        }
    });
}
