use std::path::PathBuf;
#[test]
fn probe() {
    let case = PathBuf::from(std::env::var("CASE").unwrap_or("/work/shared/conformance/cases/01-machine-sources".into()));
    let mut ev = kith_flake::evaluator(kith_eval::EvalOptions::default(), false);
    let opts = kith_flake::FlakeOptions {
        overrides: vec![("clan-core".into(), "/work/shared/corpus/clan-core".into()), ("nixpkgs".into(), "/work/shared/corpus/nixpkgs-lib".into())],
        ..Default::default()
    };
    let clan = kith_inventory::clan::load(&mut ev, &case, &opts).map_err(|e| e.to_string()).unwrap();
    let cfg = ev.force_attrs(&clan.config).map_err(|e| e.message.clone()).unwrap();
    let inv = cfg.get_str("inventory").unwrap().clone();
    let inv = ev.force_attrs(&inv).map_err(|e| e.message.clone()).unwrap();
    for k in ["meta", "machines", "tags", "instances"] {
        let v = inv.get_str(k).unwrap().clone();
        match ev.to_json(&v) { Ok(j) => println!("{k}: {j}"), Err(e) => println!("{k}: ERR {}", e.message) }
    }
}
