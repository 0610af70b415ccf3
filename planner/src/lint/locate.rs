//! From the engine's definition sites (a file name as the module system knows it, a line
//! and a column) to ranges of the clan's files, and the spot of a name below such a site.

use super::{Location, Position, Range};
use kith_eval::FileSystem;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The clan's files as the diagnostics name them.
pub(crate) struct Files {
    root: PathBuf,
    /// Prefixes under which the engine names the clan's files (its store path, its
    /// directory).
    prefixes: Vec<String>,
    texts: HashMap<String, Option<String>>,
    /// Where the texts are read from (the host's files unless [`Files::reading`] says).
    fs: Option<Rc<dyn FileSystem>>,
}

impl Files {
    /// The files of the clan in `root`, which the engine also names under `store_path`.
    pub fn new(root: &Path, store_path: Option<String>) -> Files {
        let mut prefixes: Vec<String> = store_path.into_iter().collect();
        prefixes.push(root.to_string_lossy().into_owned());
        if let Ok(c) = root.canonicalize() {
            prefixes.push(c.to_string_lossy().into_owned());
        }
        Files {
            root: root.to_path_buf(),
            prefixes,
            texts: HashMap::new(),
            fs: None,
        }
    }

    /// The same files, their texts read through `fs`.
    pub fn reading(mut self, fs: Rc<dyn FileSystem>) -> Files {
        self.fs = Some(fs);
        self
    }

    /// Also names the clan's files under `prefix` (its store path, once known).
    pub fn add_prefix(&mut self, prefix: String) {
        if !self.prefixes.contains(&prefix) {
            self.prefixes.insert(0, prefix);
        }
    }

    /// `text` with the clan's file names relative to its directory.
    pub fn shorten(&self, text: &str) -> String {
        let mut out = text.to_string();
        for p in &self.prefixes {
            out = out.replace(&format!("{p}/"), "");
        }
        out
    }

    /// `file` (as the engine names it) relative to the clan's directory, if it is the
    /// clan's own.
    pub fn relative(&self, file: &str) -> Option<String> {
        if !file.starts_with('/') && self.root.join(file).exists() {
            return Some(file.to_string());
        }
        self.prefixes.iter().find_map(|p| {
            let rel = file.strip_prefix(p.as_str())?.strip_prefix('/')?;
            self.root.join(rel).exists().then(|| rel.to_string())
        })
    }

    /// The text of `rel` (a file of the clan), if it is readable text.
    pub fn text(&mut self, rel: &str) -> Option<&str> {
        let (root, fs) = (&self.root, &self.fs);
        self.texts
            .entry(rel.to_string())
            .or_insert_with(|| match fs {
                Some(fs) => String::from_utf8(fs.read(&root.join(rel)).ok()?).ok(),
                None => std::fs::read_to_string(root.join(rel)).ok(),
            })
            .as_deref()
    }

    /// The position of byte `byte` of `rel`.
    pub fn position(&mut self, rel: &str, byte: usize) -> Position {
        let text = self.text(rel).unwrap_or("");
        let byte = floor_char(text, byte.min(text.len()));
        let before = &text[..byte];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position {
            line: before.matches('\n').count() + 1,
            column: text[line_start..byte].chars().count() + 1,
            byte,
        }
    }

    /// The byte offset of 1-based `line` and 1-based byte `column` of `rel`.
    pub fn offset(&mut self, rel: &str, line: usize, column: usize) -> usize {
        let text = self.text(rel).unwrap_or("");
        let mut start = 0;
        for _ in 1..line {
            match text[start..].find('\n') {
                Some(i) => start += i + 1,
                None => break,
            }
        }
        (start + column.saturating_sub(1)).min(text.len())
    }

    /// The location of bytes `start..end` of `rel`.
    pub fn location(&mut self, rel: &str, start: usize, end: usize) -> Location {
        Location {
            file: rel.to_string(),
            range: Range {
                start: self.position(rel, start),
                end: self.position(rel, end.max(start)),
            },
        }
    }

    /// The location of the token at 1-based `line`/`column` of `rel` (the whole file's
    /// first character when no line is known).
    pub fn at(&mut self, rel: &str, line: Option<usize>, column: Option<usize>) -> Location {
        let start = match line {
            Some(l) => self.offset(rel, l, column.unwrap_or(1)),
            None => 0,
        };
        let len = self.text(rel).map_or(0, |t| token_len(&t[start..]));
        self.location(rel, start, start + len)
    }

    /// The first place at or after byte `from` of `rel` where `name` stands as a whole
    /// attribute name (bare or quoted): the name's bytes, without quotes.
    pub fn find_name(&mut self, rel: &str, from: usize, name: &str) -> Option<(usize, usize)> {
        let text = self.text(rel)?;
        if name.is_empty() {
            return None;
        }
        let mut at = from.min(text.len());
        while let Some(i) = text.get(at..)?.find(name) {
            let s = at + i;
            let e = s + name.len();
            let before = text[..s].chars().next_back();
            let after = text[e..].chars().next();
            let quoted = before == Some('"') && after == Some('"');
            let bare = !before.is_some_and(is_ident) && !after.is_some_and(is_ident);
            if quoted || bare {
                return Some((s, e));
            }
            at = e;
        }
        None
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '\'' | '"')
}

/// The length of the name or quoted string at the start of `s` (at least one character).
fn token_len(s: &str) -> usize {
    if let Some(rest) = s.strip_prefix('"') {
        return rest.find('"').map_or(1, |i| i + 2);
    }
    let n: usize = s
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '\''))
        .map(char::len_utf8)
        .sum();
    n.max(s.chars().next().map_or(0, char::len_utf8))
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The bytes of the deepest key of `path` found in the JSON `text` (without its quotes),
/// with how many keys of `path` matched.
pub(crate) fn json_key(text: &str, path: &[&str]) -> Option<((usize, usize), usize)> {
    let mut p = JsonScan {
        b: text.as_bytes(),
        i: 0,
        text,
    };
    let mut best = None;
    p.value(path, 0, &mut best)?;
    best
}

struct JsonScan<'a> {
    b: &'a [u8],
    i: usize,
    text: &'a str,
}

type Best = Option<((usize, usize), usize)>;

impl JsonScan<'_> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    /// A string: its bytes without quotes.
    fn string(&mut self) -> Option<(usize, usize)> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i + 1;
        self.i = start;
        loop {
            match self.b.get(self.i)? {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Some((start, self.i - 1));
                }
                _ => self.i += 1,
            }
        }
    }

    fn value(&mut self, path: &[&str], depth: usize, best: &mut Best) -> Option<()> {
        self.ws();
        match *self.b.get(self.i)? {
            b'{' => {
                self.i += 1;
                loop {
                    self.ws();
                    match *self.b.get(self.i)? {
                        b'}' => {
                            self.i += 1;
                            return Some(());
                        }
                        b',' => self.i += 1,
                        _ => {
                            let (s, e) = self.string()?;
                            let raw = &self.text[s - 1..e + 1];
                            let key: String = serde_json::from_str(raw).ok()?;
                            self.ws();
                            if self.b.get(self.i) != Some(&b':') {
                                return None;
                            }
                            self.i += 1;
                            let hit = path.first() == Some(&key.as_str());
                            if hit && best.is_none_or(|(_, d)| d <= depth) {
                                *best = Some(((s, e), depth + 1));
                            }
                            let rest = if hit { &path[1..] } else { &[][..] };
                            self.value(rest, if hit { depth + 1 } else { 0 }, best)?;
                        }
                    }
                }
            }
            b'[' => {
                self.i += 1;
                loop {
                    self.ws();
                    match *self.b.get(self.i)? {
                        b']' => {
                            self.i += 1;
                            return Some(());
                        }
                        b',' => self.i += 1,
                        _ => self.value(&[], 0, best)?,
                    }
                }
            }
            b'"' => self.string().map(|_| ()),
            _ => {
                while self
                    .b
                    .get(self.i)
                    .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
                {
                    self.i += 1;
                }
                Some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_found_by_path() {
        let t = r#"{"a": {"b": [1, {"b": 2}], "c": {"d": true}}, "d": null}"#;
        let ((s, e), n) = json_key(t, &["a", "c", "d"]).unwrap();
        assert_eq!((&t[s..e], n), ("d", 3));
        assert_eq!(s, t.find(r#""d": true"#).unwrap() + 1);
        let ((s, _), n) = json_key(t, &["a", "x"]).unwrap();
        assert_eq!((s, n), (2, 1));
        assert!(json_key(t, &["x"]).is_none());
    }

    #[test]
    fn names_found_whole() {
        let dir = std::env::temp_dir().join(format!("kith-lint-locate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.nix"), "{ jonas = 1; jon = 2; \"jon\" = 3; }").unwrap();
        let mut f = Files::new(&dir, None);
        assert_eq!(f.find_name("a.nix", 0, "jon"), Some((13, 16)));
        assert_eq!(f.find_name("a.nix", 14, "jon"), Some((23, 26)));
        let l = f.at("a.nix", Some(1), Some(3));
        assert_eq!((l.range.start.column, l.range.end.column), (3, 8));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
