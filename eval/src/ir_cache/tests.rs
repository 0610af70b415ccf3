use super::*;
use crate::eval::{Eval, EvalOptions};
use crate::ir::Expr;

/// A source touching every expression form and constant kind the encoding has.
const EVERYTHING: &str = r#"
let
  a = 1; b = 2.5; s = "str"; p = ./some/path; u = http://example.org/x;
  n = null; t = true;
  f = x: y: x + y;
  g = { x, y ? 2, ... }@args: x * y;
  h = { x }: x;
  r = rec { x = 1; y = x; inherit a; inherit (set) k; ${"dyn"} = 3; };
  set = { k = "v"; l.m = 4; };
  w = with set; k;
in
assert a == 1;
{
  inherit a b s p u n t r w;
  calls = [ (f 1 2) (g { x = 3; }) (h { x = 4; }) ];
  sel = set.l.m or 0;
  has = set ? l.m;
  dynsel = set.${"k"};
  ops = [ (1 - 2) (3 / 4) (!t) (-a) (a < 2) (a <= 2) (a > 2) (a >= 2) (a != 2)
          (t && t) (t || t) (t -> t) ([ 1 ] ++ [ 2 ]) (set // { z = 1; }) ];
  strs = [ "a${s}b" ''x${s}y'' ];
  paths = [ ./a/${s} ];
  pos = __curPos;
  cond = if t then 1 else 2;
  sp = builtins.tryEval <nowhere>;
}
"#;

fn options(dir: &Path) -> EvalOptions {
    EvalOptions {
        ir_cache_dir: Some(dir.to_path_buf()),
        ..EvalOptions::default()
    }
}

/// Evaluates `file` strictly and prints it.
fn run(opts: EvalOptions, file: &Path) -> String {
    let mut ev = Eval::new(opts);
    let v = ev
        .eval_file(file)
        .unwrap_or_else(|e| panic!("{}", e.message));
    crate::print::print_value(&mut ev, &v, true).unwrap_or_else(|e| panic!("{}", e.message))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kith-ir-cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn entries(cache: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(cache.join("ir")) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn encoding_round_trips_every_form() {
    let dir = temp_dir("roundtrip");
    let file = dir.join("everything.nix");
    std::fs::write(&file, EVERYTHING).unwrap();
    let mut ev = Eval::new(EvalOptions::default());
    let e = ev
        .compile(crate::source::Origin::File(file.clone()), EVERYTHING)
        .unwrap();
    let bytes = encode::encode(&e).expect("every form is encodable");
    let back = decode::decode(&bytes, FileId(0), EVERYTHING).expect("decodes");
    assert!(validate::valid(&back, 0), "lowered IR passes validation");
    assert_eq!(encode::encode(&back).unwrap(), bytes);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cached_runs_give_the_same_results_and_write_one_entry_per_file() {
    let dir = temp_dir("same");
    let cache = dir.join("cache");
    let file = dir.join("everything.nix");
    std::fs::write(&file, EVERYTHING).unwrap();
    let plain = run(EvalOptions::default(), &file);
    let cold = run(options(&cache), &file);
    assert_eq!(entries(&cache).len(), 1);
    let warm = run(options(&cache), &file);
    assert_eq!(plain, cold);
    assert_eq!(plain, warm);
    assert_eq!(entries(&cache).len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_from_cached_files_point_at_the_same_place() {
    let dir = temp_dir("errors");
    let cache = dir.join("cache");
    let file = dir.join("bad.nix");
    std::fs::write(&file, "let x = { a = 1; }; in\n  x.b + 1\n").unwrap();
    let message = |opts| {
        let mut ev = Eval::new(opts);
        let e = ev.eval_file(&file).expect_err("fails");
        e.render(&ev.sources)
    };
    let plain = message(EvalOptions::default());
    let cold = message(options(&cache));
    let warm = message(options(&cache));
    assert!(plain.contains("attribute 'b' missing"), "{plain}");
    assert!(plain.contains("bad.nix:2:"), "{plain}");
    assert_eq!(plain, cold);
    assert_eq!(plain, warm);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_changed_file_is_lowered_again() {
    let dir = temp_dir("changed");
    let cache = dir.join("cache");
    let file = dir.join("f.nix");
    std::fs::write(&file, "1 + 1").unwrap();
    assert_eq!(run(options(&cache), &file), "2");
    std::fs::write(&file, "2 + 2").unwrap();
    assert_eq!(run(options(&cache), &file), "4");
    assert_eq!(entries(&cache).len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corrupt_or_truncated_entries_are_ignored() {
    let dir = temp_dir("corrupt");
    let cache = dir.join("cache");
    let file = dir.join("f.nix");
    std::fs::write(&file, EVERYTHING).unwrap();
    let expected = run(options(&cache), &file);
    let entry = entries(&cache).pop().unwrap();
    let good = std::fs::read(&entry).unwrap();
    // A flipped byte in the body fails the checksum.
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x55;
    std::fs::write(&entry, &flipped).unwrap();
    assert_eq!(run(options(&cache), &file), expected);
    // A truncated entry, and one whose checksum matches a garbage body.
    for bad in [good[..good.len() / 2].to_vec(), {
        let body = b"kithIR1\0\xff\xff\xff\xff".to_vec();
        let mut b = blake3::hash(&body).as_bytes().to_vec();
        b.extend_from_slice(&body);
        b
    }] {
        std::fs::write(&entry, &bad).unwrap();
        assert_eq!(run(options(&cache), &file), expected);
    }
    // Every prefix of a valid body decodes to nothing or fails cleanly, never panics.
    let body = &good[64..];
    for n in 0..body.len() {
        assert!(decode::decode(&body[..n], FileId(0), EVERYTHING).is_none());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unwritable_cache_is_no_error() {
    let dir = temp_dir("unwritable");
    let file = dir.join("f.nix");
    std::fs::write(&file, "[ 1 2 ]").unwrap();
    // The cache "directory" is a regular file: nothing can be created under it.
    let blocker = dir.join("blocker");
    std::fs::write(&blocker, "").unwrap();
    assert_eq!(run(options(&blocker), &file), "[ 1 2 ]");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_cache_is_pruned_to_its_limit_oldest_first() {
    let dir = temp_dir("prune");
    let cache_dir = dir.join("cache");
    let mut cache = IrCache::new(&cache_dir);
    std::fs::create_dir_all(cache_dir.join("ir")).unwrap();
    // Ten old entries of 1 000 bytes, written one second apart.
    for i in 0..10u64 {
        let p = cache_dir.join("ir").join(format!("old{i}"));
        std::fs::write(&p, vec![0u8; 1000]).unwrap();
        let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000 + i);
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }
    cache.limit = 8_000;
    let mut ev = Eval::new(EvalOptions::default());
    let file = dir.join("f.nix");
    let e = ev
        .compile(crate::source::Origin::File(file.clone()), "1")
        .unwrap();
    let key = cache.key(&file, "1", Vec::new, &[]);
    cache.store(&key, &e);
    let left: Vec<String> = entries(&cache_dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // Down to at most 6 000 bytes of old entries, the oldest gone; the new entry written.
    for i in 0..4 {
        assert!(!left.contains(&format!("old{i}")), "{left:?}");
    }
    for i in 4..10 {
        assert!(left.contains(&format!("old{i}")), "{left:?}");
    }
    assert!(left.contains(&key.to_hex().to_string()), "{left:?}");
    // Only the first write of an evaluator checks the size.
    assert!(cache.pruned.get());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn deeply_nested_files_round_trip_on_a_default_thread_stack() {
    // 9 990 nested `!` fit in a file small enough to be lowered without the big stack;
    // a spawned thread has 2 MiB of stack by default.
    let text = format!("{}true", "!".repeat(9_990));
    let dir = temp_dir("deep");
    let file = dir.join("deep.nix");
    std::fs::write(&file, &text).unwrap();
    let cache = dir.join("cache");
    let run_small = move |file: PathBuf, cache: PathBuf| {
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || run(options(&cache), &file))
            .unwrap()
            .join()
            .unwrap()
    };
    let plain = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn({
            let file = file.clone();
            move || run(EvalOptions::default(), &file)
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(plain, "true");
    assert_eq!(run_small(file.clone(), cache.clone()), "true");
    assert_eq!(entries(&cache).len(), 1);
    assert_eq!(run_small(file, cache), "true");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn decoding_altered_entries_never_panics() {
    // Past the checksum (which a real reader checks first), the decoder itself must reject
    // or accept any bytes without panicking: flip every byte of a valid body in turn.
    let mut ev = Eval::new(EvalOptions::default());
    let e = ev
        .compile(
            crate::source::Origin::File(PathBuf::from("/x/everything.nix")),
            EVERYTHING,
        )
        .unwrap();
    let body = encode::encode(&e).unwrap();
    for i in 0..body.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut b = body.clone();
            b[i] ^= flip;
            let _ = decode::decode(&b, FileId(0), EVERYTHING);
        }
    }
}

/// Runs `f` on another thread, failing if it takes longer than `secs` seconds (a blocked
/// read must fail the test, not hang it).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(secs))
        .expect("timed out: reading the cache blocked")
}

#[test]
fn a_fifo_or_special_file_as_an_entry_is_a_miss_not_a_hang() {
    let dir = temp_dir("fifo");
    let cache = dir.join("cache");
    let file = dir.join("f.nix");
    std::fs::write(&file, "[ 1 2 ]").unwrap();
    assert_eq!(run(options(&cache), &file), "[ 1 2 ]");
    let entry = entries(&cache).pop().unwrap();
    let mkfifo = |p: &Path| {
        let c = std::ffi::CString::new(p.to_string_lossy().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    };
    let fifo = dir.join("fifo");
    mkfifo(&fifo);
    // The entry as a FIFO, a symlink to one, a directory, a symlink to a device.
    let placements: [&dyn Fn(&Path); 4] = [
        &|e| mkfifo(e),
        &|e| std::os::unix::fs::symlink(&fifo, e).unwrap(),
        &|e| std::fs::create_dir(e).unwrap(),
        &|e| std::os::unix::fs::symlink("/dev/zero", e).unwrap(),
    ];
    for (i, place) in placements.iter().enumerate() {
        // Whatever is there (the last run may have rewritten the entry).
        if std::fs::remove_file(&entry).is_err() {
            let _ = std::fs::remove_dir(&entry);
        }
        place(&entry);
        let (cache, file) = (cache.clone(), file.clone());
        let got = within(20, move || run(options(&cache), &file));
        assert_eq!(got, "[ 1 2 ]", "placement {i}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_entry_moved_under_another_key_is_not_used() {
    let dir = temp_dir("moved");
    let cache = dir.join("cache");
    let (a, b) = (dir.join("a.nix"), dir.join("b.nix"));
    std::fs::write(&a, "\"a\"").unwrap();
    std::fs::write(&b, "\"b\"").unwrap();
    assert_eq!(run(options(&cache), &a), "\"a\"");
    let entry_a = entries(&cache).pop().unwrap();
    assert_eq!(run(options(&cache), &b), "\"b\"");
    let entry_b = entries(&cache).into_iter().find(|e| *e != entry_a).unwrap();
    // a's entry (checksum and all) under b's key: b still evaluates to "b".
    std::fs::copy(&entry_a, &entry_b).unwrap();
    assert_eq!(run(options(&cache), &b), "\"b\"");
    // The refused entry was rewritten with b's own IR.
    assert_ne!(
        std::fs::read(&entry_a).unwrap(),
        std::fs::read(&entry_b).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A program whose IR has every kind of scope: `let`, `rec`, lambdas with patterns, `@`,
/// defaults, `with`, `inherit` and `inherit (…)`.
const SCOPES: &str = r#"
let
  a = 1;
  f = { x, y ? x + a, ... }@args: let z = x * y; in [ z args.x ];
  r = rec { p = a; q = p + 1; inherit a; inherit (s) k; ${"d"} = q; };
  s = { k = 2; };
  g = x: y: with s; x + y + k;
in
[ (f { x = 3; }) r.q r.k (g 1 2) (builtins.length [ a ]) ]
"#;

#[test]
fn forged_entries_with_a_valid_checksum_never_panic() {
    // Mutate every byte of a real entry (past its checksum and key), recompute the checksum
    // so the reader gets past it, and evaluate: each forged entry must be refused (and the
    // file lowered again) or evaluate without a panic.
    let dir = temp_dir("forged");
    let cache = dir.join("cache");
    let file = dir.join("f.nix");
    std::fs::write(&file, SCOPES).unwrap();
    let expected = run(options(&cache), &file);
    let entry = entries(&cache).pop().unwrap();
    let good = std::fs::read(&entry).unwrap();
    let mut outcomes = [0usize; 3];
    for i in 64..good.len() {
        for flip in [0x01u8, 0x02, 0x10, 0x80, 0xff] {
            let mut b = good.clone();
            b[i] ^= flip;
            let sum = *blake3::hash(&b[32..]).as_bytes();
            b[..32].copy_from_slice(&sum);
            std::fs::write(&entry, &b).unwrap();
            let result = std::panic::catch_unwind(|| {
                let mut ev = Eval::new(options(&cache));
                let v = ev.eval_file(&file).map_err(|e| e.message.clone())?;
                crate::print::print_value(&mut ev, &v, true).map_err(|e| e.message.clone())
            });
            match result {
                Err(_) => panic!("byte {i} ^ {flip:#x}: the forged entry panicked"),
                Ok(Ok(out)) if out == expected => outcomes[0] += 1,
                Ok(Ok(_)) => outcomes[1] += 1,
                Ok(Err(_)) => outcomes[2] += 1,
            }
        }
    }
    // Most forgeries are refused (same result); a changed constant or name may still
    // decode to another valid program, which is harmless.
    assert!(outcomes[0] > outcomes[1] + outcomes[2], "{outcomes:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn out_of_range_variables_are_refused() {
    // Hand-made IR a checksum cannot catch: a variable one frame or one slot too far.
    let mut ev = Eval::new(EvalOptions::default());
    let e = ev
        .compile(
            crate::source::Origin::File(PathBuf::from("/x/v.nix")),
            "let a = 1; in x: a",
        )
        .unwrap();
    assert!(validate::valid(&e, 0));
    let var = |depth, slot| Expr::Var {
        depth,
        slot,
        name: Symbol::new("a"),
        span: crate::source::Span::NONE,
    };
    assert!(validate::valid(&var(0, 0), 1));
    assert!(!validate::valid(&var(0, 0), 0));
    assert!(!validate::valid(&var(1, 0), 1));
    assert!(!validate::valid(&var(0, 1), 1));
    assert!(!validate::valid(&var(u32::MAX, u32::MAX), 1));
}

#[test]
fn every_corpus_file_passes_validation() {
    // Validation must refuse forgeries, never what lowering produces: every file of the
    // corpus (when it is there) round-trips and validates, plain and as a scopedImport.
    let Some(root) =
        crate::test_corpus::corpus("", "ir_cache::every_corpus_file_passes_validation")
    else {
        return;
    };
    let mut stack = vec![root];
    let mut checked = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "nix") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            for scope in [&[][..], &[Symbol::new("scopedName")][..]] {
                let mut ev = Eval::new(EvalOptions::default());
                let origin = crate::source::Origin::File(p.clone());
                let Ok(e) = ev.compile_scoped(origin, &text, scope) else {
                    continue;
                };
                let Some(bytes) = encode::encode(&e) else {
                    continue;
                };
                let back = decode::decode(&bytes, FileId(0), &text).expect("decodes");
                let slots = u32::from(!scope.is_empty());
                assert!(validate::valid(&back, slots), "{}", p.display());
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked}");
}

/// The files `build.rs` hashes into `KITH_IR_DIGEST`, as paths relative to the crate.
const IR_DIGEST_FILES: &[&str] = include!(concat!(env!("OUT_DIR"), "/ir_digest_files.rs"));

/// The IR digest covers what lowering uses, wherever it lives: every file of lowering's
/// module, and the file that defines `canon_path` (lowering resolves paths with it; it is
/// kith-store's).
#[test]
fn ir_digest_covers_what_lowering_uses() {
    /// The Rust files under `dir` (relative to the crate), as relative paths.
    fn rust_files(krate: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(krate.join(dir)).unwrap() {
            let rel = dir.join(e.unwrap().file_name());
            if krate.join(&rel).is_dir() {
                rust_files(krate, &rel, out);
            } else if rel.extension().is_some_and(|e| e == "rs") {
                out.push(rel);
            }
        }
    }
    let krate = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(krate, Path::new("src"), &mut files);
    rust_files(krate, Path::new("../store/src"), &mut files);
    let hashed = |rel: &Path| IR_DIGEST_FILES.iter().any(|h| Path::new(h) == rel);
    // Split so that this file does not match.
    let definition = concat!("pub fn ", "canon_path(");
    let (mut lowering_files, mut canon_path_files) = (0, 0);
    for rel in &files {
        if rel.starts_with("src/lower") {
            lowering_files += 1;
            assert!(hashed(rel), "{} is not in the IR digest", rel.display());
        }
        if std::fs::read_to_string(krate.join(rel))
            .unwrap()
            .contains(definition)
        {
            canon_path_files += 1;
            assert!(
                hashed(rel),
                "{} (canon_path) is not in the IR digest",
                rel.display()
            );
        }
    }
    assert!(lowering_files > 1, "src/lower has moved: update this test");
    assert_eq!(canon_path_files, 1, "canon_path is defined once");
}
