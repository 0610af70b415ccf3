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
    /// The byte offset of each line's start, by file (read once: a large clan has
    /// thousands of diagnostics in one file).
    lines: HashMap<String, Vec<usize>>,
    /// The keys of each JSON file, by file.
    json: HashMap<String, JsonKeys>,
    /// [`Files::relative`]'s answers.
    relative: std::cell::RefCell<HashMap<String, Option<String>>>,
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
            lines: HashMap::new(),
            json: HashMap::new(),
            relative: Default::default(),
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
            self.relative.get_mut().clear();
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
        if let Some(known) = self.relative.borrow().get(file) {
            return known.clone();
        }
        let found = self.find_relative(file);
        self.relative
            .borrow_mut()
            .insert(file.to_string(), found.clone());
        found
    }

    fn find_relative(&self, file: &str) -> Option<String> {
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

    /// The byte offsets of the starts of `rel`'s lines.
    fn line_starts(&mut self, rel: &str) -> &[usize] {
        if !self.lines.contains_key(rel) {
            let text = self.text(rel).unwrap_or("");
            let starts = std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect();
            self.lines.insert(rel.to_string(), starts);
        }
        &self.lines[rel]
    }

    /// The position of byte `byte` of `rel`.
    pub fn position(&mut self, rel: &str, byte: usize) -> Position {
        let starts = self.line_starts(rel);
        let line = starts.partition_point(|&s| s <= byte).max(1);
        let line_start = starts[line - 1];
        let text = self.text(rel).unwrap_or("");
        let byte = floor_char(text, byte.min(text.len()));
        let line_start = line_start.min(byte);
        Position {
            line,
            column: text[line_start..byte].chars().count() + 1,
            byte,
        }
    }

    /// The byte offset of 1-based `line` and 1-based byte `column` of `rel`.
    pub fn offset(&mut self, rel: &str, line: usize, column: usize) -> usize {
        let starts = self.line_starts(rel);
        let start = starts[line.clamp(1, starts.len()) - 1];
        let len = self.text(rel).map_or(0, str::len);
        (start + column.saturating_sub(1)).min(len)
    }

    /// The bytes of the deepest key of `path` found in the JSON file `rel` (without its
    /// quotes), with how many keys of `path` matched (the file's keys indexed once).
    pub fn json_key(&mut self, rel: &str, path: &[&str]) -> Option<((usize, usize), usize)> {
        if !self.json.contains_key(rel) {
            let keys = JsonKeys::of(self.text(rel).unwrap_or(""));
            self.json.insert(rel.to_string(), keys);
        }
        self.json[rel].find(path)
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

/// Every key path of a JSON text (through objects; keys inside arrays are not followed),
/// with the bytes of its first occurrence's key (without quotes): a tree of keys, each
/// found under its parent's number (the root is 0).
#[derive(Default)]
pub(crate) struct JsonKeys(rustc_hash::FxHashMap<(u32, Box<str>), KeyEntry>);

/// A key's number (its children's parent) and the bytes of its first occurrence.
type KeyEntry = (u32, (usize, usize));

impl JsonKeys {
    /// The keys of `text` (as far as it parses).
    fn of(text: &str) -> JsonKeys {
        let mut scan = JsonScan {
            b: text.as_bytes(),
            i: 0,
            text,
        };
        let mut keys = JsonKeys::default();
        let _ = scan.value(Some(0), &mut keys);
        keys
    }

    /// The deepest key of `path` there is, and its depth.
    fn find(&self, path: &[&str]) -> Option<((usize, usize), usize)> {
        let mut parent = 0;
        let mut found = None;
        for (depth, p) in path.iter().enumerate() {
            let Some(&(id, span)) = self.0.get(&(parent, Box::from(*p))) else {
                break;
            };
            found = Some((span, depth + 1));
            parent = id;
        }
        found
    }

    /// The number of key `key` under `parent`, recorded at `span` if it is new.
    fn add(&mut self, parent: u32, key: Box<str>, span: (usize, usize)) -> u32 {
        let next = self.0.len() as u32 + 1;
        self.0.entry((parent, key)).or_insert((next, span)).0
    }
}

struct JsonScan<'a> {
    b: &'a [u8],
    i: usize,
    text: &'a str,
}

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

    /// A value whose keys go under key number `at` (`None` inside arrays: not recorded).
    fn value(&mut self, at: Option<u32>, keys: &mut JsonKeys) -> Option<()> {
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
                            self.ws();
                            if self.b.get(self.i) != Some(&b':') {
                                return None;
                            }
                            self.i += 1;
                            let inner = match at {
                                Some(parent) => {
                                    let raw = &self.text[s..e];
                                    let key: Box<str> = if raw.contains('\\') {
                                        serde_json::from_str::<String>(&self.text[s - 1..e + 1])
                                            .ok()?
                                            .into()
                                    } else {
                                        raw.into()
                                    };
                                    Some(keys.add(parent, key, (s, e)))
                                }
                                None => None,
                            };
                            self.value(inner, keys)?;
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
                        _ => self.value(None, keys)?,
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
        let json_key = |t: &str, path: &[&str]| JsonKeys::of(t).find(path);
        let ((s, e), n) = json_key(t, &["a", "c", "d"]).unwrap();
        assert_eq!((&t[s..e], n), ("d", 3));
        assert_eq!(s, t.find(r#""d": true"#).unwrap() + 1);
        let ((s, _), n) = json_key(t, &["a", "x"]).unwrap();
        assert_eq!((s, n), (2, 1));
        assert!(json_key(t, &["x"]).is_none());
        // The first of two equal keys; escaped keys by their value.
        let t = r#"{"a": 1, "a": {"x\u0079": 2}, "q\"": {}}"#;
        let ((s, _), n) = json_key(t, &["a"]).unwrap();
        assert_eq!((s, n), (2, 1));
        let ((s, e), n) = json_key(t, &["a", "xy"]).unwrap();
        assert_eq!((&t[s..e], n), ("x\\u0079", 2));
        let ((s, e), n) = json_key(t, &["q\""]).unwrap();
        assert_eq!((&t[s..e], n), ("q\\\"", 1));
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
