//! Evaluation counters, like Nix's `NIX_SHOW_STATS`, for performance work.
//!
//! Compiled in only with the `stats` cargo feature; without it every [`bump`] is empty.
//! With it, `KITH_SHOW_STATS=1` makes the CLI print the counters to stderr as JSON.

/// What is counted.
#[derive(Clone, Copy, Debug)]
pub enum Counter {
    /// Thunks allocated.
    Thunks,
    /// Thunks forced from an unevaluated state.
    ThunksForced,
    /// Scope frames allocated.
    Envs,
    /// Lambda applications.
    FunctionCalls,
    /// Builtin applications (saturated).
    PrimOpCalls,
    /// Attribute sets built by set literals.
    SetLiterals,
    /// `//` evaluations.
    Updates,
    /// Lists built by list literals.
    ListLiterals,
    /// Closures (lambda values) made.
    Closures,
    /// Slots in all frames allocated (Nix's `envs.elements`).
    EnvSlots,
}

const NAMES: [&str; 10] = [
    "thunks",
    "thunksForced",
    "envs",
    "functionCalls",
    "primOpCalls",
    "setLiterals",
    "updates",
    "listLiterals",
    "closures",
    "envSlots",
];

#[cfg(feature = "stats")]
thread_local! {
    static COUNTS: std::cell::RefCell<[u64; 10]> = const { std::cell::RefCell::new([0; 10]) };
}

/// Counts one `c`.
#[inline(always)]
pub fn bump(c: Counter) {
    #[cfg(feature = "stats")]
    COUNTS.with(|k| k.borrow_mut()[c as usize] += 1);
    #[cfg(not(feature = "stats"))]
    let _ = c;
}

/// Counts `n` of `c`.
#[inline(always)]
pub fn add(c: Counter, n: u64) {
    #[cfg(feature = "stats")]
    COUNTS.with(|k| k.borrow_mut()[c as usize] += n);
    #[cfg(not(feature = "stats"))]
    let _ = (c, n);
}

/// The counters of this thread as a JSON object, or `None` without the `stats` feature.
pub fn report() -> Option<String> {
    #[cfg(feature = "stats")]
    {
        let counts = COUNTS.with(|k| *k.borrow());
        let fields: Vec<String> = NAMES
            .iter()
            .zip(counts)
            .map(|(n, c)| format!("  \"{n}\": {c}"))
            .collect();
        Some(format!("{{\n{}\n}}", fields.join(",\n")))
    }
    #[cfg(not(feature = "stats"))]
    {
        let _ = NAMES;
        None
    }
}
