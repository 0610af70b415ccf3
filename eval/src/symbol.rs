//! Interned attribute and variable names, shared by every evaluator in the process.

use lasso::{Key, Spur, ThreadedRodeo};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// The process-wide interner. It is shared (and locked) across threads, so each thread
/// keeps a [`Cache`] in front of it.
fn interner() -> &'static ThreadedRodeo {
    static INTERNER: OnceLock<ThreadedRodeo> = OnceLock::new();
    INTERNER.get_or_init(ThreadedRodeo::new)
}

/// A thread's view of the interner: text by symbol number and symbol by text, without
/// locks or SipHash. Entries are copies of the interner's and never change.
#[derive(Default)]
struct Cache {
    names: Vec<Option<&'static str>>,
    ids: HashMap<&'static str, Symbol, BuildHasherDefault<FxHasher>>,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// The Fx hash (rustc's): fast on short keys such as attribute names; not DoS-resistant,
/// which does not matter for a per-thread cache of names.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map keyed by symbols, hashed with Fx (a symbol hashes as one integer).
pub type SymbolMap<V> = HashMap<Symbol, V, BuildHasherDefault<FxHasher>>;
/// A hash set of symbols (see [`SymbolMap`]).
pub type SymbolSet = std::collections::HashSet<Symbol, BuildHasherDefault<FxHasher>>;

/// An interned name. Comparing and hashing symbols is comparing integers; `as_str` gives the
/// text back. Ordering is by interning order, not lexicographic (see [`Symbol::cmp_str`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(Spur);

impl Symbol {
    /// Interns `s`.
    pub fn new(s: &str) -> Symbol {
        Symbol::cached(s, |s| Some(interner().get_or_intern(s)))
            .expect("interning always gives a symbol")
    }
    /// Interns a name given as bytes (Nix names need not be UTF-8); the symbol's text is
    /// their [`crate::bytestr`] encoding.
    pub fn from_bytes(b: &[u8]) -> Symbol {
        Symbol::new(&crate::bytestr::encode(b))
    }
    /// The name's bytes (see [`Symbol::from_bytes`]).
    pub fn bytes(self) -> std::borrow::Cow<'static, [u8]> {
        crate::bytestr::decode(self.as_str())
    }
    /// The symbol for `s` if `s` was interned already (no attribute can have a name that
    /// was not).
    pub fn existing(s: &str) -> Option<Symbol> {
        Symbol::cached(s, |s| interner().get(s))
    }
    /// `s`'s symbol from this thread's cache, else from `shared` (the interner), which is
    /// then cached.
    #[inline]
    fn cached(s: &str, shared: impl FnOnce(&str) -> Option<Spur>) -> Option<Symbol> {
        CACHE.with(|cache| {
            if let Some(&sym) = cache.borrow().ids.get(s) {
                return Some(sym);
            }
            let sym = Symbol(shared(s)?);
            cache.borrow_mut().ids.insert(sym.resolve(), sym);
            Some(sym)
        })
    }
    /// The symbol's number: dense, from 0, in interning order (for tables indexed by symbol).
    #[inline]
    pub fn index(self) -> usize {
        self.0.into_usize()
    }
    /// The symbol numbered `i` (see [`Symbol::index`]); `i` must come from `index`.
    pub(crate) fn from_index(i: usize) -> Symbol {
        Symbol(Spur::try_from_usize(i).expect("a symbol index from Symbol::index"))
    }
    /// The symbol's text.
    pub fn as_str(self) -> &'static str {
        let i = self.index();
        CACHE.with(|cache| {
            if let Some(Some(text)) = cache.borrow().names.get(i) {
                return *text;
            }
            let text = self.resolve();
            let mut cache = cache.borrow_mut();
            if cache.names.len() <= i {
                cache.names.resize(i + 1, None);
            }
            cache.names[i] = Some(text);
            text
        })
    }
    /// The text, from the shared interner.
    fn resolve(self) -> &'static str {
        // The interner lives for the whole process, so its strings do too.
        interner().resolve(&self.0)
    }
    /// Lexicographic comparison of the names' bytes, Nix's attribute order.
    pub fn cmp_str(self, other: Symbol) -> std::cmp::Ordering {
        crate::bytestr::cmp(self.as_str(), other.as_str())
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
        file = "file";
        line = "line";
        column = "column";
        success = "success";
        right = "right";
        wrong = "wrong";
        operator = "operator";
        start_set = "startSet";
        overrides = "__overrides";
    }
}

/// The symbol for a string literal, interned once per call site (a lookup by text hashes
/// the text every time; this reads a static after the first use).
///
/// ```
/// let s = kith_eval::sym!("imports");
/// assert_eq!(s, kith_eval::Symbol::new("imports"));
/// ```
#[macro_export]
macro_rules! sym {
    ($text:literal) => {{
        static SYMBOL: ::std::sync::OnceLock<$crate::Symbol> = ::std::sync::OnceLock::new();
        *SYMBOL.get_or_init(|| $crate::Symbol::new($text))
    }};
}
