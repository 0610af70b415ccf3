//! kith-planner: the plan graph of a clan, its on-disk cache, and selectors answered from it.

pub mod cache;
pub mod check;
pub mod edit;
pub mod exports_plan;
pub mod fleet;
pub mod lint;
pub mod lsp;
pub mod native;
pub mod recording_fs;
pub mod select;
pub mod tree_index;

/// An evaluator for loading a flake as the planner does: kith's cache of lowered files,
/// `NIX_STORE_DIR` honoured, missing inputs fetched unless `offline`.
pub(crate) fn evaluator(offline: bool) -> kith_eval::Eval {
    let mut options = kith_eval::EvalOptions {
        ir_cache_dir: kith_eval::default_ir_cache_dir(),
        ..Default::default()
    };
    if let Ok(dir) = std::env::var("NIX_STORE_DIR") {
        options.store_dir = dir;
    }
    kith_flake::evaluator(options, offline)
}

/// [`evaluator`] reading every file through a [`recording_fs::RecordingFs`].
pub(crate) fn recording_evaluator(
    offline: bool,
) -> (kith_eval::Eval, std::rc::Rc<recording_fs::RecordingFs>) {
    let fs = std::rc::Rc::new(recording_fs::RecordingFs::default());
    let mut ev = evaluator(offline);
    ev.set_file_system(fs.clone());
    (ev, fs)
}
