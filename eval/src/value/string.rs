//! Nix strings: text plus a string context (the store paths it depends on).

use std::collections::BTreeSet;

/// A string context: store-path elements in Nix's encoding (`/nix/store/…` for a plain
/// path, `=/nix/store/….drv` for a derivation with all outputs, `!out!/nix/store/….drv`
/// for one output).
pub type Context = BTreeSet<String>;

/// A string value: bytes (Nix strings need not be UTF-8) and a context.
#[derive(Clone, Default, PartialEq)]
pub struct NixString {
    pub s: Vec<u8>,
    pub ctx: Context,
}

impl std::fmt::Debug for NixString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NixString")
            .field("s", &bstr::BStr::new(&self.s))
            .field("ctx", &self.ctx)
            .finish()
    }
}

impl NixString {
    /// A string with a context.
    pub fn new(s: impl Into<Vec<u8>>, ctx: Context) -> Self {
        NixString { s: s.into(), ctx }
    }
    /// A string without context.
    pub fn plain(s: impl Into<Vec<u8>>) -> Self {
        NixString {
            s: s.into(),
            ctx: Context::new(),
        }
    }
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.s
    }
    /// The text, if the bytes are UTF-8.
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.s).ok()
    }
    /// The bytes as text that keeps them all (see [`crate::bytestr`]): for names, paths and
    /// messages.
    pub fn encoded(&self) -> std::borrow::Cow<'_, str> {
        crate::bytestr::encode(&self.s)
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
