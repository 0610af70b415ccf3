//! `clan show`: the clan's meta (clan-cli.md §3.4, `clan_cli/clan/show.py`).

use super::pyfmt::py_str;
use serde_json::Value;

/// The inventory view's `meta` (`null` when it has none).
pub fn meta(inventory: &Value) -> Value {
    inventory.get("meta").cloned().unwrap_or(Value::Null)
}

/// clan's three lines: `Name: …`, `Description: …` (`None` when null, `-` when the key
/// is absent), `Domain: …`, each ending in a newline.
pub fn render(meta: &Value) -> String {
    let get = |k: &str, default: &str| match meta.get(k) {
        Some(v) => py_str(v),
        None => default.to_string(),
    };
    format!(
        "Name: {}\nDescription: {}\nDomain: {}\n",
        get("name", "None"),
        get("description", "-"),
        get("domain", "None")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines() {
        let m = json!({"name": "tags", "description": null, "domain": "clan"});
        assert_eq!(render(&m), "Name: tags\nDescription: None\nDomain: clan\n");
        assert_eq!(
            render(&json!({"name": "x"})),
            "Name: x\nDescription: -\nDomain: None\n"
        );
    }
}
