//! Conversion between Nix values and [`serde_json::Value`], with Nix's own rules.
//!
//! To JSON: exactly `builtins.toJSON` (sets with `outPath` or `__toString`, derivations,
//! paths copied to the store, floats as Nix prints them, errors as Nix words them).
//! From JSON: exactly `builtins.fromJSON` (integers that fit in 64 bits stay integers,
//! others become floats; objects become attribute sets).

use crate::error::{EvalError, Result};
use crate::eval::Eval;
use crate::symbol::Symbol;
use crate::value::{Attr, Attrs, Value};
use crate::Span;

impl Eval {
    /// `v`, forced deeply, as JSON with `builtins.toJSON`'s semantics.
    pub fn to_json(&mut self, v: &Value) -> Result<serde_json::Value> {
        let text = crate::builtins::to_json_string(self, v)?;
        serde_json::from_str(&text)
            .map_err(|e| EvalError::new(format!("the JSON of a value could not be read: {e}")))
    }
}

impl Value {
    /// The value `builtins.fromJSON` gives for `json`.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::string(s.as_str()),
            serde_json::Value::Array(items) => {
                Value::list(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => {
                let entries = map
                    .iter()
                    .map(|(k, v)| Attr {
                        name: Symbol::new(k),
                        value: Value::from_json(v),
                        span: Span::NONE,
                    })
                    .collect();
                Value::Attrs(Attrs::from_entries(entries))
            }
        }
    }
}
