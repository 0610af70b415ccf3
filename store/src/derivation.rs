//! Store derivations (`.drv` files), computed without a store.
//!
//! A [`Derivation`] is serialised in Nix's ATerm form (`Derive([…],[…],…)`). Its output paths
//! (input-addressed) come from the hash of that text with the outputs masked and every input
//! derivation replaced by its own "hash modulo" ([`Derivation::hash_modulo`]); its own path
//! is a text path of the final text. Derivations computed in this thread are remembered
//! ([`register`]) so that later derivations depending on them can be hashed.

use crate::error::{Error, Result};
use crate::hash::{Hash, HashAlgo};
use crate::path::{hex, make_store_path, make_text_path};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

/// One output as the ATerm lists it: path (empty while masked or deferred), the
/// content-address method and algorithm (`r:sha256`, empty unless fixed) and the hex hash.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub path: String,
    pub method_algo: String,
    pub hash: String,
}

/// A store derivation.
#[derive(Clone, Debug, Default)]
pub struct Derivation {
    /// The derivation's name (without `.drv`).
    pub name: String,
    pub outputs: BTreeMap<String, Output>,
    /// Input derivation paths and the outputs used from each.
    pub input_drvs: BTreeMap<String, BTreeSet<String>>,
    pub input_srcs: BTreeSet<String>,
    pub platform: String,
    pub builder: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
}

/// How a fixed output's hash covers its contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedMethod {
    /// The hash of a single file.
    Flat,
    /// The hash of the NAR serialisation.
    Nar,
}

impl FixedMethod {
    /// The prefix Nix puts before the algorithm name (`r:` for NAR hashing).
    fn prefix(self) -> &'static str {
        match self {
            FixedMethod::Flat => "",
            FixedMethod::Nar => "r:",
        }
    }
}

/// An output's store path name: the derivation name, suffixed `-<output>` unless `out`.
pub fn output_path_name(name: &str, output: &str) -> String {
    if output == "out" {
        name.to_string()
    } else {
        format!("{name}-{output}")
    }
}

/// The fixed output `out` of a derivation named `name` with expected `hash`.
pub fn fixed_output(
    store_dir: &str,
    name: &str,
    method: FixedMethod,
    hash: &Hash,
) -> Result<Output> {
    let nar_sha256 = match (method, <[u8; 32]>::try_from(hash.bytes.as_slice())) {
        (FixedMethod::Nar, Ok(d)) if hash.algo == HashAlgo::Sha256 => Some(d),
        _ => None,
    };
    let path = match nar_sha256 {
        Some(digest) => make_store_path(store_dir, "source", &digest, name)?,
        None => {
            let inner = format!(
                "fixed:out:{}{}:{}:",
                method.prefix(),
                hash.algo.name(),
                hex(&hash.bytes)
            );
            let inner: [u8; 32] = Sha256::digest(inner.as_bytes()).into();
            make_store_path(store_dir, "output:out", &inner, name)?
        }
    };
    Ok(Output {
        path,
        method_algo: format!("{}{}", method.prefix(), hash.algo.name()),
        hash: hex(&hash.bytes),
    })
}

/// Appends `s` in double quotes, unescaped (Nix's `printUnquotedString`).
fn push_plain(out: &mut String, s: &str) {
    out.push('"');
    out.push_str(s);
    out.push('"');
}

/// Appends `s` as an escaped ATerm string (`"`, `\`, newline, CR and tab escaped).
fn push_escaped(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match crate::bytestr::quoted_escape(c) {
            Some(e) => out.push_str(e),
            None => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `[item,…]`, each item written by `push`.
fn push_list<'a>(
    out: &mut String,
    items: impl IntoIterator<Item = &'a String>,
    push: fn(&mut String, &str),
) {
    out.push('[');
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push(out, s);
    }
    out.push(']');
}

impl Derivation {
    /// Whether this is a fixed-output derivation.
    pub fn is_fixed(&self) -> bool {
        self.outputs.values().any(|o| !o.method_algo.is_empty())
    }

    /// The ATerm text. `mask` blanks output paths and their environment variables;
    /// `inputs` replaces the input derivations (by hash modulo).
    pub fn unparse(
        &self,
        mask: bool,
        inputs: Option<&BTreeMap<String, BTreeSet<String>>>,
    ) -> String {
        let mut s = String::with_capacity(1024);
        s.push_str("Derive([");
        for (i, (name, o)) in self.outputs.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push('(');
            push_plain(&mut s, name);
            s.push(',');
            push_plain(&mut s, if mask { "" } else { &o.path });
            s.push(',');
            push_plain(&mut s, &o.method_algo);
            s.push(',');
            push_plain(&mut s, &o.hash);
            s.push(')');
        }
        s.push_str("],[");
        for (i, (drv, outs)) in inputs.unwrap_or(&self.input_drvs).iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push('(');
            push_plain(&mut s, drv);
            s.push(',');
            push_list(&mut s, outs, push_plain);
            s.push(')');
        }
        s.push_str("],");
        push_list(&mut s, &self.input_srcs, push_plain);
        s.push(',');
        push_plain(&mut s, &self.platform);
        s.push(',');
        push_escaped(&mut s, &self.builder);
        s.push(',');
        push_list(&mut s, &self.args, push_escaped);
        s.push_str(",[");
        for (i, (k, v)) in self.env.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push('(');
            push_escaped(&mut s, k);
            s.push(',');
            let masked = mask && self.outputs.contains_key(k);
            push_escaped(&mut s, if masked { "" } else { v });
            s.push(')');
        }
        s.push_str("])");
        s
    }

    /// Nix's `hashDerivationModulo`: per output, the SHA-256 that stands for this
    /// derivation when it is an input of another one.
    pub fn hash_modulo(&self, mask: bool) -> Result<BTreeMap<String, [u8; 32]>> {
        if self.is_fixed() {
            return Ok(self
                .outputs
                .iter()
                .map(|(name, o)| {
                    let text = format!("fixed:out:{}:{}:{}", o.method_algo, o.hash, o.path);
                    (name.clone(), Sha256::digest(text.as_bytes()).into())
                })
                .collect());
        }
        let mut inputs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (drv_path, outs) in &self.input_drvs {
            let known = lookup_known(drv_path)?;
            for out in outs {
                let h = known.hashes.get(out).ok_or_else(|| {
                    Error::new(format!(
                        "derivation '{drv_path}' does not have an output named '{out}'"
                    ))
                })?;
                inputs.entry(hex(h)).or_default().insert(out.clone());
            }
        }
        let text = self.unparse(mask, Some(&inputs));
        let h: [u8; 32] = Sha256::digest(crate::bytestr::decode(&text)).into();
        Ok(self.outputs.keys().map(|k| (k.clone(), h)).collect())
    }

    /// Sets the paths of input-addressed outputs (and their environment variables) from
    /// the masked hash modulo.
    pub fn fill_output_paths(&mut self, store_dir: &str) -> Result<()> {
        for (name, h) in self.hash_modulo(true)? {
            let path = make_store_path(
                store_dir,
                &format!("output:{name}"),
                &h,
                &output_path_name(&self.name, &name),
            )?;
            self.env.insert(name.clone(), path.clone());
            if let Some(o) = self.outputs.get_mut(&name) {
                o.path = path;
            }
        }
        Ok(())
    }

    /// The store paths the `.drv` file refers to: its sources and input derivations.
    pub fn references(&self) -> BTreeSet<String> {
        let mut refs = self.input_srcs.clone();
        refs.extend(self.input_drvs.keys().cloned());
        refs
    }

    /// The path of the `.drv` file.
    pub fn drv_path(&self, store_dir: &str) -> Result<String> {
        let name = format!("{}.drv", self.name);
        make_text_path(
            store_dir,
            &name,
            &crate::bytestr::decode(&self.unparse(false, None)),
            &self.references(),
        )
    }
}

/// What is remembered of a derivation computed in this thread.
#[derive(Debug)]
pub struct Known {
    /// Output names.
    pub outputs: Vec<String>,
    /// The references of the `.drv` file.
    pub refs: BTreeSet<String>,
    /// Hash modulo per output.
    pub hashes: BTreeMap<String, [u8; 32]>,
}

thread_local! {
    static KNOWN: RefCell<HashMap<String, Rc<Known>>> = RefCell::new(HashMap::new());
}

/// Remembers `drv`, written at `drv_path`, for derivations that depend on it.
pub fn register(drv_path: &str, drv: &Derivation) -> Result<()> {
    let known = Known {
        outputs: drv.outputs.keys().cloned().collect(),
        refs: drv.references(),
        hashes: drv.hash_modulo(false)?,
    };
    KNOWN.with(|k| k.borrow_mut().insert(drv_path.to_string(), Rc::new(known)));
    Ok(())
}

/// A derivation computed earlier in this thread; fails like Nix's store for others.
pub fn lookup_known(drv_path: &str) -> Result<Rc<Known>> {
    KNOWN
        .with(|k| k.borrow().get(drv_path).cloned())
        .ok_or_else(|| Error::new(format!("path '{drv_path}' is not valid")))
}

/// The closure of `path` under references: the path itself, and for derivations known
/// here, everything they refer to. Other paths are taken to have no references.
pub fn closure(path: &str) -> Result<BTreeSet<String>> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![path.to_string()];
    while let Some(p) = todo.pop() {
        if !seen.insert(p.clone()) {
            continue;
        }
        if p.ends_with(".drv") {
            let known = lookup_known(&p)?;
            todo.extend(known.refs.iter().filter(|r| !seen.contains(*r)).cloned());
        }
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_nix() {
        let mut s = String::new();
        push_escaped(&mut s, "a\"b\\c\nd\re\tf$");
        assert_eq!(s, r#""a\"b\\c\nd\re\tf$""#);
    }

    #[test]
    fn output_names() {
        assert_eq!(output_path_name("hello", "out"), "hello");
        assert_eq!(output_path_name("hello", "dev"), "hello-dev");
    }
}
