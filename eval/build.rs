//! Build script: a digest of the sources that decide what the lowered IR of a file is
//! (parser checks, lowering, the IR types and their cache encoding). The IR cache
//! (`src/ir_cache`) keys entries with it, so a kith built from different lowering code never
//! reads an entry an older build wrote.
//!
//! The hashed files are computed, not listed: starting from the roots ([`ROOTS`]), every
//! module a reached file names is reached too: its `mod x;` declarations, and the module
//! part of every `crate::…`, `super::…` and `self::…` path in it (in `use` items and inline,
//! `use` groups included; for `crate::a::b::Item` the longest prefix that is a module file,
//! `src/a/b.rs` or `src/a/b/mod.rs`). The scan is a plain token scan, so it can only
//! over-approximate (hashing an extra file only costs cache misses). The reached files are
//! written to `$OUT_DIR/ir_digest_files.rs` (a list `include!`d by `src/ir_cache/tests.rs`,
//! which checks that what lowering uses is in it). Paths into kith-store (`kith_store::…`)
//! bring in all of that crate's sources.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The modules whose code decides the IR: lowering, the parser's checks, the IR types and
/// the IR cache's encoding.
const ROOTS: &[&str] = &[
    "src/lower/mod.rs",
    "src/parse.rs",
    "src/ir.rs",
    "src/ir_cache/mod.rs",
];

/// The sources of kith-store, the one kith crate kith-eval depends on.
const STORE_SRC: &str = "../store/src";

fn main() {
    let (mut files, names_store) = reached_files(Path::new("src"), ROOTS);
    // Code reached through `kith_store::…` (lowering uses its `canon_path` and byte
    // strings): the scan does not follow paths into another crate, so a reached file that
    // names kith-store brings in all of its sources.
    if names_store {
        for dir in source_dirs(Path::new(STORE_SRC)) {
            println!("cargo:rerun-if-changed={}", dir.display());
            for e in std::fs::read_dir(&dir).expect("reading a source directory") {
                let p = e.expect("a directory entry").path();
                if p.extension().is_some_and(|x| x == "rs") {
                    files.insert(p);
                }
            }
        }
    }
    // std's SipHash with its fixed keys: deterministic for one toolchain, which is all a
    // cache key needs (another toolchain just misses the cache).
    use std::hash::Hasher;
    let mut h = std::hash::DefaultHasher::new();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        h.write(f.to_string_lossy().as_bytes());
        h.write(&std::fs::read(f).expect("reading a source file"));
    }
    // A file added, moved or removed anywhere in `src` can change the set.
    for dir in source_dirs(Path::new("src")) {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    println!("cargo:rustc-env=KITH_IR_DIGEST={:016x}", h.finish());

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let list: String = files
        .iter()
        .map(|f| format!("{:?},\n", f.display().to_string()))
        .collect();
    std::fs::write(out.join("ir_digest_files.rs"), format!("&[\n{list}]\n"))
        .expect("writing ir_digest_files.rs");
}

/// `src` and every directory under it.
fn source_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for e in std::fs::read_dir(dir).expect("reading a source directory") {
        let p = e.expect("a directory entry").path();
        if p.is_dir() {
            out.extend(source_dirs(&p));
        }
    }
    out.sort();
    out
}

/// A module path from the crate root (`["eval", "import"]`; `[]` is the crate root).
type ModPath = Vec<String>;

/// The files reached from `roots` (paths under `src`, e.g. `src/lower/mod.rs`), sorted, and
/// whether any of them names kith-store.
fn reached_files(src: &Path, roots: &[&str]) -> (BTreeSet<PathBuf>, bool) {
    let mut names_store = false;
    // Files of modules declared with `#[path]`, which the standard layout cannot find.
    let mut declared: BTreeMap<ModPath, PathBuf> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<(PathBuf, ModPath)> = roots
        .iter()
        .map(|r| {
            let file = PathBuf::from(r);
            assert!(
                file.is_file(),
                "build.rs: the IR digest root {r} is missing"
            );
            let module = module_of(src, &file);
            (file, module)
        })
        .collect();
    while let Some((file, module)) = todo.pop() {
        if !seen.insert(file.clone()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("reading a source file");
        names_store |= text.contains("kith_store");
        let tokens = tokenize(&text);
        let (mods, paths) = scan(&tokens, &module);
        for (child, path_attr) in mods {
            let found = match path_attr {
                Some(p) => Some(file.parent().unwrap_or(Path::new("")).join(p)),
                None => module_file(src, &child),
            };
            if let Some(f) = found.filter(|f| f.is_file()) {
                declared.insert(child.clone(), f.clone());
                todo.push((f, child));
            }
        }
        for path in paths {
            // The longest prefix of the path that is a module with a file.
            let reached = (0..=path.len()).rev().find_map(|n| {
                let prefix = &path[..n];
                let f = declared
                    .get(prefix)
                    .cloned()
                    .or_else(|| module_file(src, prefix))?;
                Some((f, prefix.to_vec()))
            });
            todo.extend(reached);
        }
    }
    (seen, names_store)
}

/// The module path of `file` under the standard layout (`src/a/b.rs`, `src/a/b/mod.rs`).
fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut module: ModPath = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        module.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        module.pop();
    }
    module
}

/// The file of `module` under the standard layout, if there is one.
fn module_file(src: &Path, module: &[String]) -> Option<PathBuf> {
    if module.is_empty() {
        return Some(src.join("lib.rs")).filter(|f| f.is_file());
    }
    let dir: PathBuf = module.iter().collect();
    [
        src.join(&dir).with_extension("rs"),
        src.join(&dir).join("mod.rs"),
    ]
    .into_iter()
    .find(|f| f.is_file())
}

/// A token of Rust source, as far as this scan needs: comments dropped, literals opaque.
#[derive(Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// A string literal's contents (escapes left as written).
    Str(String),
    /// `::`
    PathSep,
    Punct(char),
}

fn tokenize(text: &str) -> Vec<Tok> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let ident_char = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // Block comments nest.
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            let start = i + 1;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            toks.push(Tok::Str(chars[start..i.min(chars.len())].iter().collect()));
            i += 1;
        } else if (c == 'r' || c == 'b') && raw_string_start(&chars[i..]).is_some() {
            let (skip, hashes) = raw_string_start(&chars[i..]).unwrap_or((0, 0));
            let start = i + skip;
            let close: Vec<char> = std::iter::once('"')
                .chain((0..hashes).map(|_| '#'))
                .collect();
            let mut end = start;
            while end < chars.len() && !chars[end..].starts_with(&close) {
                end += 1;
            }
            toks.push(Tok::Str(chars[start..end].iter().collect()));
            i = end + close.len();
        } else if c == '\'' {
            // A char literal (`'x'`, `'\n'`, `'\u{1F600}'`) or a lifetime (`'a`).
            if next == Some('\\') {
                // The quote, the backslash and the escaped character, then to the quote.
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < chars.len() && ident_char(chars[i]) {
                    i += 1;
                }
            }
        } else if ident_char(c) {
            let start = i;
            while i < chars.len() && ident_char(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // `b"…"` / `b'…'` prefixes: the literal follows as its own token.
            if !(word == "b" && matches!(chars.get(i), Some('"' | '\''))) {
                toks.push(Tok::Ident(word));
            }
        } else if c == ':' && next == Some(':') {
            toks.push(Tok::PathSep);
            i += 2;
        } else {
            toks.push(Tok::Punct(c));
            i += 1;
        }
    }
    toks
}

/// For a raw string (`r"…"`, `r#"…"#`, `br#"…"#`) at the start of `s`: the length of its
/// opening and its number of `#`s.
fn raw_string_start(s: &[char]) -> Option<(usize, usize)> {
    let mut i = match s {
        ['r', ..] => 1,
        ['b', 'r', ..] => 2,
        _ => return None,
    };
    let mut hashes = 0;
    while s.get(i) == Some(&'#') {
        hashes += 1;
        i += 1;
    }
    (s.get(i) == Some(&'"')).then_some((i + 1, hashes))
}

/// What a file of module `module` names: its `mod name;` declarations (as module paths,
/// each with its `#[path = "…"]` if it has one) and every `crate::…`, `super::…` and
/// `self::…` path in it, made absolute (`use` groups, `crate::a::{b, c::d}`, give one path
/// per leaf). Inline modules (`mod tests { … }`) are followed: `super` in them is the file's
/// module.
#[allow(clippy::type_complexity)]
fn scan(toks: &[Tok], module: &ModPath) -> (Vec<(ModPath, Option<String>)>, Vec<ModPath>) {
    let (mut mods, mut paths) = (Vec::new(), Vec::new());
    let mut path_attr: Option<String> = None;
    // The module of the tokens being read, and the brace depths its inline modules end at.
    let mut current = module.clone();
    let mut inline_ends: Vec<usize> = Vec::new();
    let mut depth = 0;
    for (i, t) in toks.iter().enumerate() {
        match (t, toks.get(i + 1), toks.get(i + 2), toks.get(i + 3)) {
            (Tok::Ident(p), Some(Tok::Punct('=')), Some(Tok::Str(s)), Some(Tok::Punct(']')))
                if p == "path" =>
            {
                path_attr = Some(s.clone());
                continue;
            }
            (Tok::Ident(m), Some(Tok::Ident(name)), Some(Tok::Punct(';')), _) if m == "mod" => {
                let mut child = current.clone();
                child.push(name.clone());
                mods.push((child, path_attr.take()));
                continue;
            }
            (Tok::Ident(m), Some(Tok::Ident(name)), Some(Tok::Punct('{')), _) if m == "mod" => {
                current.push(name.clone());
                inline_ends.push(depth);
            }
            (Tok::Punct('{'), ..) => depth += 1,
            (Tok::Punct('}'), ..) => {
                depth = depth.saturating_sub(1);
                if inline_ends.last() == Some(&depth) {
                    inline_ends.pop();
                    current.pop();
                }
            }
            _ => {}
        }
        // Any other item ends the attributes a `#[path]` could belong to.
        if matches!(t, Tok::Punct(';' | '{' | '}')) {
            path_attr = None;
        }
        let Tok::Ident(first) = t else { continue };
        // Only a path's first segment starts one (not the `super` of `a::super::b`).
        if toks.get(i + 1) != Some(&Tok::PathSep) || (i > 0 && toks[i - 1] == Tok::PathSep) {
            continue;
        }
        let base = match first.as_str() {
            "crate" => Vec::new(),
            "self" => current.clone(),
            "super" => current[..current.len().saturating_sub(1)].to_vec(),
            _ => continue,
        };
        tree(toks, i + 1, base, &mut paths);
    }
    (mods, paths)
}

/// Reads the rest of a path (or `use` tree) from `toks[i]` (a `::` or the end) on, under
/// `prefix`, and records its leaves in `out`; returns the index after it.
fn tree(toks: &[Tok], mut i: usize, mut prefix: ModPath, out: &mut Vec<ModPath>) -> usize {
    while toks.get(i) == Some(&Tok::PathSep) {
        match toks.get(i + 1) {
            Some(Tok::Ident(s)) if s == "super" => {
                prefix.pop();
                i += 2;
            }
            Some(Tok::Ident(s)) if s == "self" => i += 2,
            Some(Tok::Ident(s)) => {
                prefix.push(s.clone());
                i += 2;
            }
            Some(Tok::Punct('{')) => return group(toks, i + 2, prefix, out),
            // `::*`, `::<T>` (turbofish) or anything else ends the path.
            _ => break,
        }
    }
    out.push(prefix);
    i
}

/// Reads a `use` group's members from `toks[i]` (after the `{`) to its `}`.
fn group(toks: &[Tok], mut i: usize, prefix: ModPath, out: &mut Vec<ModPath>) -> usize {
    while i < toks.len() {
        match &toks[i] {
            Tok::Punct('}') => return i + 1,
            Tok::Punct('{') => i = group(toks, i + 1, prefix.clone(), out),
            Tok::Ident(s) if s == "self" => {
                out.push(prefix.clone());
                i += 1;
            }
            Tok::Ident(s) if s == "super" => {
                let mut p = prefix.clone();
                p.pop();
                i = tree(toks, i + 1, p, out);
            }
            Tok::Ident(s) if s != "as" => {
                let mut p = prefix.clone();
                p.push(s.clone());
                i = tree(toks, i + 1, p, out);
            }
            // `,`, `*`, `as name`: nothing to follow.
            Tok::Ident(_) => i += 2,
            _ => i += 1,
        }
    }
    i
}
