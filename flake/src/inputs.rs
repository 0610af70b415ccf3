//! The inputs a `flake.nix` declares (`inputs.<name>.{url,flake,follows,inputs}`).

use kith_eval::Eval;
use kith_eval::{Attrs, Value};
use kith_eval::{EvalError, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where an input comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputRef {
    /// A local directory (`path:…`, `git+file:…`, a plain path): read in place.
    Local { dir: PathBuf, path_type: bool },
    /// Anything kith cannot fetch by itself (github, tarball, indirect…): the reference as
    /// written, for error messages.
    Remote(String),
}

/// One declared input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlakeInput {
    pub reference: Option<InputRef>,
    /// `follows`, as a path of input names relative to the declaring flake.
    pub follows: Option<Vec<String>>,
    pub flake: bool,
    /// Nested declarations about this input's own inputs (overrides).
    pub inputs: BTreeMap<String, FlakeInput>,
}

impl Default for FlakeInput {
    fn default() -> Self {
        FlakeInput {
            reference: None,
            follows: None,
            flake: true,
            inputs: BTreeMap::new(),
        }
    }
}

/// Splits a `follows` string (`"a/b"`) into input names.
pub fn split_input_path(s: &str) -> Vec<String> {
    s.split('/')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses a flake reference string relative to `base` (the declaring flake's directory).
pub fn parse_ref(s: &str, base: &Path) -> InputRef {
    let without_query = s.split(['?', '#']).next().unwrap_or(s);
    let (rest, path_type) = if let Some(r) = without_query.strip_prefix("path:") {
        (r, true)
    } else if let Some(r) = without_query.strip_prefix("git+file://") {
        (r, false)
    } else if let Some(r) = without_query.strip_prefix("git+file:") {
        (r, false)
    } else if without_query.starts_with('/')
        || without_query.starts_with("./")
        || without_query.starts_with("../")
        || without_query == "."
        || without_query == ".."
    {
        (without_query, false)
    } else {
        return InputRef::Remote(s.to_string());
    };
    let joined = base.join(rest);
    let dir = PathBuf::from(kith_store::canon_path(&joined.to_string_lossy()));
    InputRef::Local { dir, path_type }
}

/// Reads the `inputs` attribute of a flake (already forced to a set).
pub fn parse_inputs(
    ev: &mut Eval,
    attrs: &Attrs,
    base: &Path,
) -> Result<BTreeMap<String, FlakeInput>> {
    let mut out = BTreeMap::new();
    for a in attrs.iter() {
        let name = a.name.as_str().to_string();
        let input = parse_input(ev, &a.value, base, 0)
            .map_err(|e| EvalError::new(format!("in flake input '{name}': {}", e.message)))?;
        out.insert(name, input);
    }
    Ok(out)
}

fn parse_input(ev: &mut Eval, v: &Value, base: &Path, depth: usize) -> Result<FlakeInput> {
    if depth > 64 {
        return Err(EvalError::new("flake inputs are nested too deeply"));
    }
    let attrs = ev.force_attrs(v)?;
    let mut input = FlakeInput::default();
    let mut other: Vec<(String, String)> = Vec::new();
    for a in attrs.iter() {
        match a.name.as_str() {
            "url" => {
                let s = ev.force_str_noctx(&a.value)?;
                input.reference = Some(parse_ref(&s, base));
            }
            "flake" => input.flake = ev.force_bool(&a.value)?,
            "follows" => {
                let s = ev.force_str_noctx(&a.value)?;
                input.follows = Some(split_input_path(&s));
            }
            "inputs" => {
                let nested = ev.force_attrs(&a.value)?;
                for n in nested.iter() {
                    let sub = parse_input(ev, &n.value, base, depth + 1)?;
                    input.inputs.insert(n.name.as_str().to_string(), sub);
                }
            }
            name => {
                let v = ev.force(&a.value)?;
                let text = match &v {
                    Value::String(s) => s.encoded().into_owned(),
                    Value::Int(i) => i.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => String::new(),
                };
                other.push((name.to_string(), text));
            }
        }
    }
    if input.reference.is_none() && !other.is_empty() {
        input.reference = Some(ref_from_attrs(&other, base));
    }
    Ok(input)
}

/// An input given as attributes (`type = "path"; path = …;` or `type = "github"; …`).
fn ref_from_attrs(attrs: &[(String, String)], base: &Path) -> InputRef {
    let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match (get("type"), get("path"), get("url")) {
        (Some("path"), Some(p), _) => parse_ref(&format!("path:{p}"), base),
        (Some("git"), _, Some(u)) if u.starts_with("file:") => parse_ref(&format!("git+{u}"), base),
        _ => {
            let text: Vec<String> = attrs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            InputRef::Remote(text.join("&"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs() {
        let base = Path::new("/a/b");
        assert_eq!(
            parse_ref("path:../c", base),
            InputRef::Local {
                dir: "/a/c".into(),
                path_type: true
            }
        );
        assert_eq!(
            parse_ref("/x/y?dir=z", base),
            InputRef::Local {
                dir: "/x/y".into(),
                path_type: false
            }
        );
        assert_eq!(
            parse_ref("github:o/r", base),
            InputRef::Remote("github:o/r".into())
        );
        assert_eq!(
            split_input_path("clan-core/nixpkgs"),
            vec!["clan-core", "nixpkgs"]
        );
    }
}
