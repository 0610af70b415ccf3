//! Criterion benches of the evaluator's phases on the programs in `benches/cases/*.nix`
//! (shared with `benches/compare.sh`, which times the whole `kith eval` against C++ Nix).
//!
//! Groups, per case:
//! - `parse/<case>`: rnix parsing of the source text;
//! - `compile/<case>`: parsing and lowering to the IR (`Eval::compile`); lowering alone is
//!   `compile − parse`;
//! - `eval/<case>`: evaluating the lowered expression and printing it as `--strict` does,
//!   on a fresh evaluator each iteration (its creation is not timed).
//!
//! Plus `refcount/*`: `Rc` against `Arc` clone + drop, the measurement behind the threading
//! model in `docs/architecture.md`.
//!
//! Run: `cargo bench -p kith-eval --bench eval` (all) or `… -- eval/fib` (a filter).

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use kith_eval::Origin;
use kith_eval::{Eval, EvalOptions};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

const CASES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../benches/cases");
/// nixpkgs' lib, which cases import as `<nixpkgs-lib/lib>` (as `benches/compare.sh` passes it).
const NIXPKGS_LIB: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/corpus/nixpkgs-lib"
);

/// Evaluator options for the cases: `<nixpkgs-lib>` resolves to `$NIXPKGS_LIB` or the
/// corpus copy next to the checkout.
fn options() -> EvalOptions {
    let lib = std::env::var("NIXPKGS_LIB").unwrap_or_else(|_| NIXPKGS_LIB.to_string());
    EvalOptions {
        search_path: vec![("nixpkgs-lib".to_string(), lib)],
        ..EvalOptions::default()
    }
}

/// A benchmark program: its file name without `.nix`, path and text.
struct Case {
    name: String,
    path: PathBuf,
    text: String,
}

/// Every `benches/cases/*.nix`, sorted by name.
fn cases() -> Vec<Case> {
    let mut out: Vec<Case> = std::fs::read_dir(CASES_DIR)
        .map(|dir| {
            dir.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "nix"))
                .filter_map(|path| {
                    let text = std::fs::read_to_string(&path).ok()?;
                    let name = path.file_stem()?.to_string_lossy().into_owned();
                    Some(Case { name, path, text })
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn bench_parse(c: &mut Criterion, cases: &[Case]) {
    let mut group = c.benchmark_group("parse");
    for case in cases {
        let mut ev = Eval::new(options());
        group.bench_function(&case.name, |b| {
            b.iter(|| ev.check_syntax(Origin::File(case.path.clone()), black_box(&case.text)))
        });
    }
    group.finish();
}

fn bench_compile(c: &mut Criterion, cases: &[Case]) {
    let mut group = c.benchmark_group("compile");
    for case in cases {
        let mut ev = Eval::new(options());
        if let Err(e) = ev.compile(Origin::File(case.path.clone()), &case.text) {
            eprintln!(
                "compile/{}: skipped, does not compile: {}",
                case.name, e.message
            );
            continue;
        }
        group.bench_function(&case.name, |b| {
            b.iter(|| ev.compile(Origin::File(case.path.clone()), black_box(&case.text)))
        });
    }
    group.finish();
}

/// A fresh evaluator with `case` compiled, for one timed evaluation.
fn prepared(case: &Case) -> Option<(Eval, kith_eval::Program)> {
    let mut ev = Eval::new(options());
    let expr = ev
        .compile(Origin::File(case.path.clone()), &case.text)
        .ok()?;
    Some((ev, expr))
}

/// Evaluates and prints strictly, as `kith eval --strict` does.
fn evaluate(ev: &mut Eval, expr: &kith_eval::Program) -> Option<String> {
    let v = ev.evaluate(expr).ok()?;
    kith_eval::print_value(ev, &v, true).ok()
}

fn bench_eval(c: &mut Criterion, cases: &[Case]) {
    let mut group = c.benchmark_group("eval");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for case in cases {
        let works = prepared(case)
            .and_then(|(mut ev, e)| evaluate(&mut ev, &e))
            .is_some();
        if !works {
            eprintln!("eval/{}: skipped, does not evaluate yet", case.name);
            continue;
        }
        group.bench_function(&case.name, |b| {
            b.iter_batched(
                || prepared(case),
                |p| p.map(|(mut ev, e)| (evaluate(&mut ev, &e), ev)),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// `Rc` vs `Arc`: 1 000 clone + drop pairs, and 1 000 clones held then dropped together.
fn bench_refcount(c: &mut Criterion) {
    const N: usize = 1000;
    let mut group = c.benchmark_group("refcount");
    let rc = Rc::new(0u64);
    let arc = Arc::new(0u64);
    group.bench_function("rc_clone_drop_1000", |b| {
        b.iter(|| {
            for _ in 0..N {
                drop(black_box(Rc::clone(black_box(&rc))));
            }
        })
    });
    group.bench_function("arc_clone_drop_1000", |b| {
        b.iter(|| {
            for _ in 0..N {
                drop(black_box(Arc::clone(black_box(&arc))));
            }
        })
    });
    let mut held_rc = Vec::with_capacity(N);
    group.bench_function("rc_clone_hold_1000", |b| {
        b.iter(|| {
            held_rc.extend((0..N).map(|_| Rc::clone(black_box(&rc))));
            held_rc.clear();
        })
    });
    let mut held_arc = Vec::with_capacity(N);
    group.bench_function("arc_clone_hold_1000", |b| {
        b.iter(|| {
            held_arc.extend((0..N).map(|_| Arc::clone(black_box(&arc))));
            held_arc.clear();
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let cases = cases();
    if cases.is_empty() {
        eprintln!("no bench cases found in {CASES_DIR}");
    }
    bench_parse(c, &cases);
    bench_compile(c, &cases);
    bench_eval(c, &cases);
    bench_refcount(c);
}

criterion_group!(eval_benches, benches);
criterion_main!(eval_benches);
