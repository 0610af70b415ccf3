//! `kith`: instant, precise answers about a Clan fleet.

mod build_cmd;
mod eval_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The evaluator allocates many small, short-lived objects; mimalloc is much faster at that
/// than the system allocator.
#[global_allocator]
static GLOBAL: Mimalloc = Mimalloc;

/// Turns transparent huge pages off for this process. With THP, mimalloc's heap is faulted
/// in 2 MiB at a time and the kernel zeroes several times the memory kith uses (measured on
/// `benches/cases/modules-submodules-1k.nix`: 0.1–0.4 s of system time against 0.1 s with
/// 4 KiB pages, for the same user time and peak memory; see docs/benchmarks.md).
fn disable_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and changes only this process's flag.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// mimalloc, calling its plain `mi_malloc` for layouts its natural alignment covers (the
/// `mimalloc` crate always takes the slower `mi_malloc_aligned` path; about 5% of the
/// evaluator's instructions).
struct Mimalloc;

/// Alignment every `mi_malloc` block has.
const MI_MIN_ALIGN: usize = 8;

unsafe impl std::alloc::GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.align() <= MI_MIN_ALIGN {
            libmimalloc_sys::mi_malloc(layout.size()).cast()
        } else {
            mimalloc::MiMalloc.alloc(layout)
        }
    }
    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.align() <= MI_MIN_ALIGN {
            libmimalloc_sys::mi_zalloc(layout.size()).cast()
        } else {
            mimalloc::MiMalloc.alloc_zeroed(layout)
        }
    }
    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        libmimalloc_sys::mi_free(ptr.cast());
    }
    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        if layout.align() <= MI_MIN_ALIGN {
            libmimalloc_sys::mi_realloc(ptr.cast(), size).cast()
        } else {
            mimalloc::MiMalloc.realloc(ptr, layout, size)
        }
    }
}

/// kith: a Rust-native engine for Clan.
#[derive(Parser)]
#[command(name = "kith", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate a Nix file or expression, printing what `nix-instantiate --eval` prints.
    Eval(eval_cmd::EvalArgs),
    /// Compute a derivation with kith and have Nix realise it, as `nix build`.
    Build(build_cmd::BuildArgs),
}

fn main() -> ExitCode {
    disable_transparent_huge_pages();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Eval(args) => eval_cmd::run(args),
        Command::Build(args) => build_cmd::run(args),
    };
    if std::env::var_os("KITH_SHOW_STATS").is_some() {
        match kith_eval::stats::report() {
            Some(json) => eprintln!("{json}"),
            None => eprintln!("kith: KITH_SHOW_STATS needs a build with `--features stats`"),
        }
    }
    code
}
