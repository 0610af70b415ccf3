//! Interned attribute and variable names, shared by every evaluator in the process.

use lasso::{Spur, ThreadedRodeo};
use std::fmt;
use std::sync::OnceLock;

fn interner() -> &'static ThreadedRodeo {
    static INTERNER: OnceLock<ThreadedRodeo> = OnceLock::new();
    INTERNER.get_or_init(ThreadedRodeo::new)
}

/// An interned name. Comparing and hashing symbols is comparing integers; `as_str` gives the
/// text back. Ordering is by interning order, not lexicographic (see [`Symbol::cmp_str`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(Spur);

impl Symbol {
    /// Interns `s`.
    pub fn new(s: &str) -> Symbol {
        Symbol(interner().get_or_intern(s))
    }
    /// The symbol's text.
    pub fn as_str(self) -> &'static str {
        // The interner lives for the whole process, so its strings do too.
        let s: &str = interner().resolve(&self.0);
        unsafe { std::mem::transmute::<&str, &'static str>(s) }
    }
    /// Lexicographic (byte-wise) comparison of the texts, Nix's attribute order.
    pub fn cmp_str(self, other: Symbol) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Symbols the evaluator looks up often, interned once.
pub mod known {
    use super::Symbol;
    use std::sync::OnceLock;

    macro_rules! known_symbols {
        ($($name:ident = $text:expr;)*) => {
            $(
                #[allow(non_snake_case)]
                #[doc = concat!("The symbol `", $text, "`.")]
                pub fn $name() -> Symbol {
                    static S: OnceLock<Symbol> = OnceLock::new();
                    *S.get_or_init(|| Symbol::new($text))
                }
            )*
        };
    }

    known_symbols! {
        functor = "__functor";
        to_string = "__toString";
        out_path = "outPath";
        type_ = "type";
        name = "name";
        value = "value";
        key = "key";
        body = "body";
        file = "file";
        line = "line";
        column = "column";
        path = "path";
        prefix = "prefix";
        success = "success";
        right = "right";
        wrong = "wrong";
        operator = "operator";
        start_set = "startSet";
        outputs = "outputs";
        drv_path = "drvPath";
        ignore_nulls = "__ignoreNulls";
    }
}
