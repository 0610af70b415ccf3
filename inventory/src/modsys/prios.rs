//! Definition priorities per option path: while recording is on, every option the module
//! system merges notes its highest priority (`highestPrio`), the files of the definitions
//! of that priority (`files`) and whether its type is a submodule (`total`), as
//! clan-core's `lib/introspection` reports them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// What the module system knows of one option's definitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prio {
    /// The highest priority (lowest number) of its definitions, the option's default
    /// included (1500); 9999 without any.
    pub prio: i64,
    /// The files of the definitions of that priority, in merge order.
    pub files: Vec<Rc<str>>,
    /// Whether its type is a submodule (its attributes are fixed).
    pub total: bool,
}

/// Option path → its priorities.
pub type Prios = HashMap<Vec<String>, Prio>;

thread_local! {
    static RECORDING: RefCell<Option<Prios>> = const { RefCell::new(None) };
}

/// Starts recording priorities (on this thread).
pub fn start() {
    RECORDING.with(|r| *r.borrow_mut() = Some(HashMap::new()));
}

/// Stops recording and returns what was noted.
pub fn stop() -> Prios {
    RECORDING.with(|r| r.borrow_mut().take().unwrap_or_default())
}

/// Whether priorities are being recorded.
pub(crate) fn recording() -> bool {
    RECORDING.with(|r| r.borrow().is_some())
}

/// Notes the priorities of the option at `loc` (if recording; the path is only built then).
pub(crate) fn note(loc: impl FnOnce() -> Vec<String>, prio: Prio) {
    RECORDING.with(|r| {
        if let Some(m) = r.borrow_mut().as_mut() {
            m.insert(loc(), prio);
        }
    });
}
