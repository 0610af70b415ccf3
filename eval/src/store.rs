//! Store paths of evaluated things, computed without a store: `"${./p}"` copies, with the
//! formats of [`kith_store`] over the evaluator's view of the file system.

use crate::error::{EvalError, Result};
use crate::eval::Eval;
use crate::vfs::{Follow, Found};
use kith_store::nar;
use kith_store::path::{base_name, make_fixed_output_path, Ingestion};
use std::collections::BTreeSet;

impl From<kith_store::Error> for Box<EvalError> {
    fn from(e: kith_store::Error) -> Self {
        EvalError::new(e.message)
    }
}

impl Eval {
    /// The store path `"${path}"` would copy `path` to (its NAR, named after its base
    /// name). Nothing is written.
    pub(crate) fn copy_path_to_store(&mut self, path: &str) -> Result<String> {
        // `"${./link}"` copies the symlink itself.
        let resolved = self.resolve_fs(path, Follow::Ancestors)?;
        if let Some(p) = self.copied.get(path) {
            // Used again without reading it: a recording file system counts it read.
            if let Found::Real(real) = &resolved.found {
                self.fs.reused(real, true);
            }
            return Ok(p.clone());
        }
        if path.ends_with(".drv") {
            return Err(EvalError::new(
                "file names are not allowed to end in '.drv'",
            ));
        }
        let name = base_name(path);
        let digest = match resolved.found {
            // A `builtins.toFile` result kith keeps in memory.
            Found::Text(text) => nar::nar_sha256_of_contents(&text, false),
            // Inside a flake source kith did not copy: the real files, untracked ones left out.
            Found::Real(real) => {
                let fs = self.fs.clone();
                nar::nar_sha256(&*fs, &real, &mut self.nar_filter_for(&resolved.virt))?
            }
            Found::Missing => return Err(EvalError::new(format!("path '{path}' does not exist"))),
        };
        let store_path = make_fixed_output_path(
            &self.options.store_dir,
            name,
            Ingestion::Recursive,
            &digest,
            &BTreeSet::new(),
        )?;
        self.copied.insert(path.to_string(), store_path.clone());
        Ok(store_path)
    }
}
