//! Helpers shared by the corpus-driven test harnesses (language suite, module system,
//! clan-core library): running cases in parallel, expected-failure lists, short hints.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{mpsc, Arc, Mutex};

/// Runs `run` on every item on `workers` threads; results come back in the items' order.
pub fn run_parallel<T, O, F>(items: Vec<T>, workers: usize, run: F) -> Vec<O>
where
    T: Send + 'static,
    O: Send + 'static,
    F: Fn(T) -> O + Send + Sync + 'static,
{
    let total = items.len();
    let queue = Arc::new(Mutex::new(
        items.into_iter().enumerate().rev().collect::<Vec<_>>(),
    ));
    let run = Arc::new(run);
    let (tx, rx) = mpsc::channel::<(usize, O)>();
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let queue = Arc::clone(&queue);
            let run = Arc::clone(&run);
            let tx = tx.clone();
            std::thread::spawn(move || loop {
                let next = queue.lock().map(|mut q| q.pop()).unwrap_or(None);
                let Some((i, item)) = next else { break };
                if tx.send((i, run(item))).is_err() {
                    break;
                }
            })
        })
        .collect();
    drop(tx);
    let mut results: Vec<Option<O>> = (0..total).map(|_| None).collect();
    for (i, o) in rx {
        results[i] = Some(o);
    }
    for h in handles {
        let _ = h.join();
    }
    results.into_iter().flatten().collect()
}

/// Parses an expected-failure list: `name  # reason` per line; `#` lines are comments.
pub fn read_expected_failures(path: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, reason) = l.split_once('#').unwrap_or((l, ""));
            (name.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

/// Shortens `s` to `max` characters for one-line hints, control characters escaped.
pub fn clip(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Makes `dir` a git repository whose one commit (fixed author and time) holds `files`;
/// returns the commit.
pub fn git_commit(dir: &std::path::Path, files: &[&str], message: &str) -> git2::Oid {
    let repo = git2::Repository::init(dir).unwrap();
    let mut index = repo.index().unwrap();
    for f in files {
        index.add_path(std::path::Path::new(f)).unwrap();
    }
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::new(
        "kith",
        "kith@example.org",
        &git2::Time::new(1_700_000_000, 0),
    )
    .unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &[])
        .unwrap()
}
