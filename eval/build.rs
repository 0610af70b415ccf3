//! Build script: a digest of the sources that decide what the lowered IR of a file is
//! (parser checks, lowering, the IR types and their cache encoding). The IR cache
//! (`src/ir_cache`) keys entries with it, so a kith built from different lowering code never
//! reads an entry an older build wrote.

use std::path::Path;

fn main() {
    let mut files = Vec::new();
    for p in ["src/ir.rs", "src/parse.rs", "src/lower", "src/ir_cache"] {
        collect(Path::new(p), &mut files);
    }
    files.sort();
    // std's SipHash with its fixed keys: deterministic for one toolchain, which is all a
    // cache key needs (another toolchain just misses the cache).
    use std::hash::Hasher;
    let mut h = std::hash::DefaultHasher::new();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        h.write(f.to_string_lossy().as_bytes());
        h.write(&std::fs::read(f).expect("reading a source file"));
    }
    println!("cargo:rerun-if-changed=src/lower");
    println!("cargo:rerun-if-changed=src/ir_cache");
    println!("cargo:rustc-env=KITH_IR_DIGEST={:016x}", h.finish());
}

fn collect(p: &Path, out: &mut Vec<std::path::PathBuf>) {
    if p.is_dir() {
        for e in std::fs::read_dir(p).expect("reading a source directory") {
            collect(&e.expect("a directory entry").path(), out);
        }
    } else if p.extension().is_some_and(|e| e == "rs") {
        out.push(p.to_path_buf());
    }
}
