//! The plan cache: a warm query answers from the cache; changing a file the plan read, or
//! corrupting the cache file, makes it recompute; answers are the same either way.

#[path = "../../eval/tests/common/mod.rs"]
mod common;

use kith_flake::FlakeOptions;
use kith_planner::select::select;
use std::path::Path;

const VIEW: &str = "clanInternals.inventoryClass.inventorySerialization.machines.*.description";

#[test]
fn warm_answers_from_cache_and_edits_invalidate() {
    let what = "plan cache";
    let Some(case) = common::present(
        &common::shared_path("conformance/cases/01-machine-sources"),
        what,
    ) else {
        return;
    };
    if common::corpus("", what).is_none() {
        return;
    }
    let tmp = std::env::temp_dir().join(format!("kith-plan-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let clan = tmp.join("clan");
    common::fixtures::copy_dir(&case, &clan);
    std::env::set_var("KITH_CACHE_DIR", tmp.join("cache"));
    let opts = FlakeOptions {
        overrides: vec![
            ("clan-core".into(), common::corpus_path("clan-core")),
            ("nixpkgs".into(), common::corpus_path("nixpkgs-lib")),
        ],
        ..FlakeOptions::default()
    };
    let cold = select(&clan, VIEW, &opts, false).unwrap();
    assert!(cold.how.contains("native engine"), "{}", cold.how);
    let warm = select(&clan, VIEW, &opts, false).unwrap();
    assert!(warm.how.contains("cached plan"), "{}", warm.how);
    assert_eq!(cold.text, warm.text);
    // An edit of inventory.json is seen.
    let json = clan.join("inventory.json");
    let text = std::fs::read_to_string(&json).unwrap();
    std::fs::write(
        &json,
        text.replace("jon, described in inventory.json", "edited"),
    )
    .unwrap();
    let edited = select(&clan, VIEW, &opts, false).unwrap();
    assert!(edited.how.contains("native engine"), "{}", edited.how);
    assert!(edited.text.contains("\"edited\""), "{}", edited.text);
    // A corrupt cache file is ignored and replaced.
    let dir = tmp.join("cache/plan");
    for e in std::fs::read_dir(&dir).unwrap() {
        std::fs::write(e.unwrap().path(), b"{\"format\": trunc").unwrap();
    }
    let again = select(&clan, VIEW, &opts, false).unwrap();
    assert!(again.how.contains("native engine"), "{}", again.how);
    assert_eq!(again.text, edited.text);
    let warm = select(&clan, VIEW, &opts, false).unwrap();
    assert!(warm.how.contains("cached plan"), "{}", warm.how);
    // --no-cache computes.
    let nc = select(&clan, VIEW, &opts, true).unwrap();
    assert!(nc.how.contains("cache not used"), "{}", nc.how);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A selector outside the native views goes to the reference path and says so.
#[test]
fn other_selectors_use_the_reference_path() {
    let what = "reference path";
    let Some(case) = common::present(
        &common::shared_path("conformance/cases/02-tags-and-roles"),
        what,
    ) else {
        return;
    };
    if common::corpus("", what).is_none() {
        return;
    }
    let opts = FlakeOptions {
        overrides: vec![
            ("clan-core".into(), common::corpus_path("clan-core")),
            ("nixpkgs".into(), common::corpus_path("nixpkgs-lib")),
        ],
        ..FlakeOptions::default()
    };
    let a = select(
        Path::new(&case),
        "clanInternals.inventoryClass.inventory.meta.name",
        &opts,
        true,
    )
    .unwrap();
    assert!(a.how.contains("reference path"), "{}", a.how);
    assert_eq!(a.text, "\"tags\"");
    let n = select(
        Path::new(&case),
        "clanInternals.inventoryClass.inventorySerialization.meta.name",
        &opts,
        true,
    )
    .unwrap();
    assert_eq!(n.text, a.text);
}
