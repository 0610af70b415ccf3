//! Generates the store-path parity fixture: a directory tree of files (empty, text,
//! binary, large, executable), nested directories with symlinks and awkward names, and a
//! `default.nix` naming the store path of each of them — sources (`"${./p}"`,
//! `builtins.path`, `builtins.filterSource`), `builtins.toFile` texts with and without
//! references, and derivations (input-addressed with dependencies, several outputs,
//! fixed outputs flat and recursive with sha1/sha256/sha512, structured attributes).
//!
//! Everything is derived from one seed with a small deterministic generator, so a failure
//! can be reproduced exactly.

use sha1::Digest as _;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// SplitMix64: small, deterministic, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// One of `items`, by value.
    pub fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Entry names inside directories: NAR sorts them by bytes, so include names whose order
/// differs between byte and other orderings, and characters store-path names forbid.
const ENTRY_NAMES: &[&str] = &[
    "a",
    "A",
    "B",
    "a.b",
    "a-b",
    "a_b",
    "ab",
    "b",
    "z",
    "_x",
    "1",
    "10",
    "9",
    "with space",
    "ünï",
    "x+y=z?",
    ".hidden",
    "..dots",
    "default.nix",
    "~tilde",
    "UPPER",
    "a.b.c",
];

/// Top-level names: valid store-path names (they become the `<name>` part).
const TOP_NAMES: &[&str] = &[
    "src", "a+b", "x=y", "q?", "v1.2.3", "_under", "-dash", "name.ext",
];

/// Texts for `builtins.toFile` (Nix string literal bodies; `''` strings would need care).
const TEXT_PIECES: &[&str] = &[
    "",
    "hello",
    "\\n",
    "line1\\nline2\\n",
    "tab\\there",
    "unicode ✓ ü",
    "\\\"quoted\\\"",
    "$dollar",
    "\\${not-interpolated}",
    "0",
    " ",
];

/// What a generated fixture contains: attribute name → Nix expression.
pub struct Fixture {
    pub entries: Vec<(String, String)>,
}

impl Fixture {
    fn add(&mut self, name: impl Into<String>, expr: impl Into<String>) {
        self.entries.push((name.into(), expr.into()));
    }

    /// `default.nix`: `{ <name> = <expr>; … }`.
    pub fn nix_file(&self) -> String {
        let mut s = String::from("let\n  sys = \"x86_64-linux\";\nin\n{\n");
        for (name, expr) in &self.entries {
            let _ = writeln!(s, "  \"{name}\" = {expr};");
        }
        s.push_str("}\n");
        s
    }
}

fn write_file(path: &Path, data: &[u8], executable: bool) {
    std::fs::write(path, data).expect("write fixture file");
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Random file contents of one of the interesting kinds.
fn contents(rng: &mut Rng, i: usize) -> Vec<u8> {
    match i % 6 {
        0 => Vec::new(),
        1 => b"hello\n".to_vec(),
        2 => {
            let n = 1 + rng.below(200);
            (0..n).map(|_| b"abcdefgh \n"[rng.below(10)]).collect()
        }
        3 => {
            // Binary, NUL bytes included.
            let n = 1 + rng.below(4096);
            rng.bytes(n)
        }
        4 => {
            // Large: crosses NAR padding and hashing buffer boundaries.
            let n = 1_500_000 + rng.below(70_000);
            rng.bytes(n)
        }
        _ => {
            // Lengths around the 8-byte NAR padding.
            let n = 7 + rng.below(3);
            rng.bytes(n)
        }
    }
}

/// Fills `dir` with a random tree, `depth` levels deep at most.
fn fill_dir(rng: &mut Rng, dir: &Path, depth: usize) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let n = rng.below(6);
    let mut used = std::collections::BTreeSet::new();
    for k in 0..n {
        let name = *rng.pick(ENTRY_NAMES);
        if !used.insert(name) {
            continue;
        }
        let p = dir.join(name);
        match rng.below(10) {
            0..=4 => {
                let kind = k + rng.below(4);
                let data = contents(rng, kind);
                let data = if data.len() > 100_000 {
                    data[..100_000].to_vec()
                } else {
                    data
                };
                write_file(&p, &data, rng.chance(30));
            }
            5..=6 if depth > 0 => fill_dir(rng, &p, depth - 1),
            5..=6 => std::fs::create_dir_all(&p).expect("mkdir"),
            7 => symlink(rng.pick_str(&["a", "../b", "sub/x"]), &p),
            8 => symlink(rng.pick_str(&["/nonexistent/target", "/etc/hostname"]), &p),
            _ => symlink(rng.pick_str(&[".", "", "dangling"]), &p),
        }
    }
}

fn symlink(target: &str, at: &Path) {
    // An empty target is not allowed by the OS; use a dot-name instead.
    let target = if target.is_empty() { ".x" } else { target };
    std::os::unix::fs::symlink(target, at).expect("symlink");
}

/// Lowercase hexadecimal.
fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Standard base64 with padding (SRI hashes).
fn base64(b: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= n {
                out.push(A[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The digest of `data` with a Nix hash algorithm name.
fn digest(algo: &str, data: &[u8]) -> Vec<u8> {
    match algo {
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        _ => sha2::Sha512::digest(data).to_vec(),
    }
}

/// Writes the fixture below `root` (which must not exist) from `seed`.
pub fn generate(root: &Path, seed: u64) -> Fixture {
    let mut rng = Rng::new(seed);
    let mut fx = Fixture {
        entries: Vec::new(),
    };
    std::fs::create_dir_all(root.join("files")).expect("mkdir");
    let files = add_files(&mut rng, root, &mut fx);
    let dirs = add_dirs(&mut rng, root, &mut fx);
    add_texts(&mut rng, &mut fx, &files);
    add_derivations(&mut rng, &mut fx, &files, &dirs);
    fx
}

/// Single files: `"${./f}"`, `builtins.path` (recursive and flat, with a name, with the
/// flat `sha256`).
fn add_files(rng: &mut Rng, root: &Path, fx: &mut Fixture) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..12 {
        let name = format!("{}{i}", rng.pick(TOP_NAMES));
        // `?` and `=` cannot appear in path literals: append the name as a string.
        let rel = format!("(./files + \"/{name}\")");
        let data = contents(rng, i);
        write_file(&root.join("files").join(&name), &data, rng.chance(40));
        fx.add(format!("file-{i}-interp"), format!("\"${{{rel}}}\""));
        fx.add(
            format!("file-{i}-path"),
            format!("builtins.path {{ path = {rel}; }}"),
        );
        fx.add(
            format!("file-{i}-flat"),
            format!("builtins.path {{ path = {rel}; recursive = false; name = \"flat-{i}\"; }}"),
        );
        let sha = hex(&digest("sha256", &data));
        fx.add(
            format!("file-{i}-flat-sha256"),
            format!("builtins.path {{ path = {rel}; recursive = false; sha256 = \"{sha}\"; }}"),
        );
        out.push(rel);
    }
    // Symlinks at the top: copied as symlinks.
    std::fs::create_dir_all(root.join("links")).expect("mkdir");
    for (i, target) in ["../files/src0", "/nonexistent", "x y"].iter().enumerate() {
        symlink(target, &root.join(format!("links/l{i}")));
        fx.add(format!("link-{i}"), format!("\"${{./links/l{i}}}\""));
    }
    out
}

/// Filters for `filterSource` / `builtins.path { filter }`.
const FILTERS: &[&str] = &[
    "p: t: true",
    "p: t: t != \"symlink\"",
    "p: t: t == \"directory\" || builtins.stringLength (baseNameOf p) < 3",
    "p: t: builtins.match \".*[0-9]$\" (baseNameOf p) == null",
    "p: t: t != \"regular\"",
];

/// Directory trees: `"${./d}"`, `builtins.path` with names and filters, `filterSource`.
fn add_dirs(rng: &mut Rng, root: &Path, fx: &mut Fixture) -> Vec<String> {
    let mut out = Vec::new();
    std::fs::create_dir_all(root.join("dirs")).expect("mkdir");
    for i in 0..10 {
        let rel = format!("./dirs/d{i}");
        fill_dir(rng, &root.join("dirs").join(format!("d{i}")), 3);
        fx.add(format!("dir-{i}-interp"), format!("\"${{{rel}}}\""));
        let filter = rng.pick(FILTERS);
        fx.add(
            format!("dir-{i}-filterSource"),
            format!("builtins.filterSource ({filter}) {rel}"),
        );
        let filter = rng.pick(FILTERS);
        fx.add(
            format!("dir-{i}-path"),
            format!("builtins.path {{ path = {rel}; name = \"named-{i}\"; filter = {filter}; }}"),
        );
        out.push(rel);
    }
    // An empty directory.
    std::fs::create_dir_all(root.join("dirs/empty")).expect("mkdir");
    fx.add("dir-empty", "\"${./dirs/empty}\"");
    out
}

/// `builtins.toFile` texts, some referring to sources and earlier texts.
fn add_texts(rng: &mut Rng, fx: &mut Fixture, files: &[String]) {
    for i in 0..12 {
        let mut body = String::new();
        for _ in 0..rng.below(4) {
            body.push_str(rng.pick_str(TEXT_PIECES));
        }
        if i % 3 == 1 {
            let f = rng.pick(files);
            let _ = write!(body, " ref ${{{f}}}");
        }
        if i % 3 == 2 && i > 2 {
            let _ = write!(body, " text ${{builtins.toFile \"inner-{i}\" \"{i}\"}}");
        }
        let name = format!("{}-text{i}", rng.pick(TOP_NAMES).trim_start_matches('-'));
        fx.add(
            format!("text-{i}"),
            format!("builtins.toFile \"{name}\" \"{body}\""),
        );
    }
}

/// A random environment attribute value (Nix syntax): strings, integers, floats, Booleans,
/// null, and (below `depth` > 0) lists and sets.
fn env_value(rng: &mut Rng, depth: usize) -> String {
    match rng.below(if depth == 0 { 7 } else { 9 }) {
        6 => (*rng.pick(&["2.5", "0.1", "1.0e30", "(-3.25)", "1.0", "123456789.123"])).to_string(),
        0 => format!("\"{}\"", *rng.pick(TEXT_PIECES)),
        1 => format!("({})", rng.next() as i32),
        2 => (*rng.pick(&["true", "false"])).to_string(),
        3 => "null".into(),
        4 => format!("{}", rng.below(1000)),
        5 => "\"\"".into(),
        7 => {
            let items: Vec<String> = (0..rng.below(4))
                .map(|_| env_value(rng, depth - 1))
                .collect();
            format!("[ {} ]", items.join(" "))
        }
        _ => {
            let items: Vec<String> = (0..rng.below(4))
                .map(|k| format!("k{k} = {};", env_value(rng, depth - 1)))
                .collect();
            format!("{{ {} }}", items.join(" "))
        }
    }
}

/// A flat (strings, numbers, Booleans, null, lists of them) value for a plain derivation.
fn plain_value(rng: &mut Rng) -> String {
    loop {
        let v = env_value(rng, 1);
        if !v.starts_with('{') {
            return v;
        }
    }
}

/// Derivations; each contributes its `drvPath` and every output's path.
fn add_derivations(rng: &mut Rng, fx: &mut Fixture, files: &[String], dirs: &[String]) {
    let mut drvs: Vec<String> = Vec::new();
    for i in 0..24 {
        let mut attrs = format!(
            "name = \"drv{i}\"; system = sys; builder = \"/bin/sh\"; args = [ \"-c\" \"echo {i} > $out\" ];"
        );
        for k in 0..rng.below(4) {
            let _ = write!(attrs, " e{k} = {};", plain_value(rng));
        }
        let mut outputs = vec!["out"];
        match i % 8 {
            // Input-addressed with dependencies on earlier derivations and sources.
            1 | 2 if !drvs.is_empty() => {
                let d = rng.pick(&drvs).clone();
                let f = rng.pick(files);
                let dir = rng.pick(dirs);
                let _ = write!(
                    attrs,
                    " dep = {d}; src = {f}; tree = {dir}; cmd = \"${{{d}}}/bin\";"
                );
            }
            // Several outputs, consumed by a later derivation.
            3 => {
                let all = ["out", "dev", "lib", "doc", "bin"];
                outputs = all[..2 + rng.below(3)].to_vec();
                if rng.chance(50) {
                    outputs.reverse();
                }
                let list: Vec<String> = outputs.iter().map(|o| format!("\"{o}\"")).collect();
                let _ = write!(attrs, " outputs = [ {} ];", list.join(" "));
            }
            // Fixed outputs.
            4 | 5 => fixed_output(rng, i, &mut attrs),
            // Structured attributes.
            6 => {
                let _ = write!(
                    attrs,
                    " __structuredAttrs = true; nested = {};",
                    env_value(rng, 3)
                );
                if let Some(d) = drvs.last() {
                    let _ = write!(attrs, " ref = {d}; refs = [ {d} {} ];", rng.pick(files));
                }
                if rng.chance(50) {
                    outputs = vec!["out", "doc"];
                    attrs.push_str(" outputs = [ \"out\" \"doc\" ];");
                }
            }
            // `=drv` context: the whole closure of another derivation's .drv.
            7 if !drvs.is_empty() => {
                let d = rng.pick(&drvs).clone();
                let _ = write!(
                    attrs,
                    " d = builtins.unsafeDiscardOutputDependency ({d}).drvPath;"
                );
            }
            _ => {}
        }
        // Consumers of earlier multi-output derivations pick a non-default output.
        if i % 8 == 0 && i > 3 {
            let d = drvs[3].clone();
            let _ = write!(
                attrs,
                " other = ({d}).{};",
                outputs_of(&d).last().unwrap_or(&"out")
            );
        }
        let expr = format!("derivation {{ {attrs} }}");
        fx.add(format!("drv-{i}-drvPath"), format!("({expr}).drvPath"));
        for o in &outputs {
            fx.add(format!("drv-{i}-{o}"), format!("({expr}).{o}.outPath"));
        }
        drvs.push(format!("({expr})"));
    }
}

/// The output names a derivation expression declares (`out` if none).
fn outputs_of(expr: &str) -> Vec<&str> {
    match expr.split_once("outputs = [ ") {
        Some((_, rest)) => rest
            .split(" ]")
            .next()
            .unwrap_or("")
            .split(' ')
            .map(|s| s.trim_matches('"'))
            .collect(),
        None => vec!["out"],
    }
}

/// Attributes of a fixed-output derivation: flat or recursive, sha1/sha256/sha512, the
/// hash in base-16 or SRI form.
fn fixed_output(rng: &mut Rng, i: usize, attrs: &mut String) {
    let algo = *rng.pick(&["sha1", "sha256", "sha512"]);
    let mode = *rng.pick(&["flat", "recursive"]);
    let seed = format!("fixed-{i}-{}", rng.next());
    let d = digest(algo, seed.as_bytes());
    if rng.chance(50) {
        let _ = write!(
            attrs,
            " outputHashMode = \"{mode}\"; outputHashAlgo = \"{algo}\"; outputHash = \"{}\";",
            hex(&d)
        );
    } else {
        let _ = write!(
            attrs,
            " outputHashMode = \"{mode}\"; outputHash = \"{algo}-{}\";",
            base64(&d)
        );
    }
}
