//! Edits of a generated fleet (`benches/gen-fleet.py`) shared by the planner's tests.

use std::path::Path;

/// The text of `inventory.json` of the generated fleet in `dir` with its first
/// machine-level `port` setting raised by one.
pub fn inventory_with_a_port_raised(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("inventory.json")).unwrap();
    let mut inv: serde_json::Value = serde_json::from_str(&text).unwrap();
    let port = inv["instances"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .flat_map(|i| {
            i["roles"]
                .as_object_mut()
                .into_iter()
                .flat_map(|r| r.values_mut())
        })
        .flat_map(|r| {
            r["machines"]
                .as_object_mut()
                .into_iter()
                .flat_map(|m| m.values_mut())
        })
        .find_map(|m| m.get_mut("settings").and_then(|s| s.get_mut("port")))
        .expect("a machine-level port in the generated fleet");
    *port = (port.as_i64().unwrap() + 1).into();
    serde_json::to_string_pretty(&inv).unwrap()
}
