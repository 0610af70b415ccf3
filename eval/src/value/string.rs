//! Nix strings: text plus a string context (the store paths it depends on).

use std::collections::BTreeSet;

/// A string context: store-path elements in Nix's encoding (`/nix/store/…` for a plain
/// path, `=/nix/store/….drv` for a derivation with all outputs, `!out!/nix/store/….drv`
/// for one output).
pub type Context = BTreeSet<String>;

/// A string value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NixString {
    pub s: String,
    pub ctx: Context,
}

impl NixString {
    /// A string with a context.
    pub fn new(s: String, ctx: Context) -> Self {
        NixString { s, ctx }
    }
    /// A string without context.
    pub fn plain(s: String) -> Self {
        NixString {
            s,
            ctx: Context::new(),
        }
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.s
    }
}

/// The context element Nix lists first: plain paths, then whole derivations, then
/// derivation outputs (by derivation path, then output name).
pub fn first_context_element(ctx: &Context) -> Option<&String> {
    ctx.iter().min_by_key(|e| match e.as_bytes().first() {
        Some(b'=') => (1, e.as_str(), ""),
        Some(b'!') => {
            let rest = &e[1..];
            let (out, path) = rest.split_once('!').unwrap_or(("", rest));
            (2, path, out)
        }
        _ => (0, e.as_str(), ""),
    })
}
