//! Where the cursor is in a clan file, without a parser that could fail on partial text:
//! the attribute path (Nix) or key path (JSON) around it, whether it stands where a name
//! (attribute or key) goes, and the word being typed. `[]` in a path is a list.

/// The language of a file of the clan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// A Nix file.
    Nix,
    /// `inventory.json` (any JSON file).
    Json,
}

impl Lang {
    /// The language of the file at `path` (by its extension).
    pub fn of(path: &str) -> Lang {
        if path.ends_with(".json") {
            Lang::Json
        } else {
            Lang::Nix
        }
    }
}

/// The path marker of a list element.
pub const LIST: &str = "[]";

/// The cursor's surroundings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    /// The path of the attribute set or list the cursor is in, with the attribute path
    /// already typed before it (`roles.default.` gives `…, roles, default`).
    pub path: Vec<String>,
    /// Whether a name goes here (an attribute or key), else a value.
    pub key: bool,
    /// Whether the cursor is inside a string literal.
    pub in_string: bool,
    /// The byte where the word being typed starts (the cursor if none).
    pub word_start: usize,
}

/// The context of byte `at` of `text`.
pub fn at(text: &str, at: usize, lang: Lang) -> Context {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    match lang {
        Lang::Nix => Scan::new(text, at).nix(),
        Lang::Json => Scan::new(text, at).json(),
    }
}

/// The word (a name or a string's text) around byte `at`: its bytes.
pub fn word(text: &str, at: usize) -> Option<(usize, usize)> {
    let is_word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '\'' | '.');
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let start = text[..at]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c) && *c != '.')
        .last()
        .map_or(at, |(i, _)| i);
    let end = text[at..]
        .char_indices()
        .find(|(_, c)| !is_word(*c) || *c == '.')
        .map_or(text.len(), |(i, _)| at + i);
    let w = &text[start..end];
    let w = w.trim_end_matches('\'');
    (!w.is_empty()).then_some((start, start + w.len()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// An attribute set (or JSON object): names go here.
    Attrs,
    /// `let … in`.
    Let,
    /// A list.
    List,
    /// Parentheses or `${…}`: an expression.
    Expr,
}

struct Frame {
    kind: Kind,
    /// `${` (closed by `}`).
    interp: bool,
    path: Vec<String>,
    /// The attribute path read so far in this binding (before `=`).
    pending: Vec<String>,
    /// After `=` (Nix) or `:` (JSON): the binding's value.
    assigned: bool,
}

impl Frame {
    fn new(kind: Kind, path: Vec<String>) -> Frame {
        Frame {
            kind,
            interp: false,
            path,
            pending: Vec::new(),
            assigned: false,
        }
    }

    /// The path of a value that starts here.
    fn value_path(&self) -> Vec<String> {
        let mut p = self.path.clone();
        if matches!(self.kind, Kind::Attrs | Kind::Let) && self.assigned {
            p.extend(self.pending.iter().cloned());
        }
        p
    }

    fn names_here(&self) -> bool {
        matches!(self.kind, Kind::Attrs | Kind::Let) && !self.assigned
    }
}

struct Scan<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    at: usize,
    stack: Vec<Frame>,
}

impl<'a> Scan<'a> {
    fn new(text: &'a str, at: usize) -> Scan<'a> {
        Scan {
            text,
            b: text.as_bytes(),
            i: 0,
            at,
            stack: vec![Frame::new(Kind::Expr, Vec::new())],
        }
    }

    fn top(&mut self) -> &mut Frame {
        if self.stack.is_empty() {
            self.stack.push(Frame::new(Kind::Expr, Vec::new()));
        }
        let n = self.stack.len() - 1;
        &mut self.stack[n]
    }

    fn push(&mut self, kind: Kind, list: bool) {
        let mut path = self.top().value_path();
        if list {
            path.push(LIST.into());
        }
        self.stack.push(Frame::new(kind, path));
    }

    fn pop(&mut self, close: u8) {
        let fits = |f: &Frame| match close {
            b'}' => matches!(f.kind, Kind::Attrs) || f.interp,
            b']' => f.kind == Kind::List,
            _ => f.kind == Kind::Expr && !f.interp,
        };
        if let Some(n) = self.stack.iter().rposition(fits) {
            if n > 0 {
                self.stack.truncate(n);
            }
        }
    }

    /// The context at the cursor: `word_start` the start of the word being typed.
    fn done(&mut self, word_start: usize, in_string: bool) -> Context {
        let f = self.top();
        let key = f.names_here();
        let path = if key {
            let mut p = f.path.clone();
            p.extend(f.pending.iter().cloned());
            p
        } else {
            f.value_path()
        };
        Context {
            path,
            key,
            in_string,
            word_start,
        }
    }

    /// A string literal from `"` at `self.i`: its decoded text, or `None` if the cursor is
    /// inside it (then `self.i` is its first character).
    fn string(&mut self, nix: bool) -> Option<String> {
        let start = self.i + 1;
        let mut j = start;
        let mut out = String::new();
        let mut depth = 0usize;
        while j < self.b.len() {
            if j >= self.at && depth == 0 && self.at >= start {
                // The cursor is inside (or at the end of an unclosed) string.
                self.i = start;
                return None;
            }
            let c = self.b[j];
            if depth > 0 {
                match c {
                    b'{' => depth += 1,
                    b'}' => depth -= 1,
                    _ => {}
                }
                j += 1;
                continue;
            }
            match c {
                b'\\' => {
                    if let Some(ch) = self.text.get(j + 1..).and_then(|s| s.chars().next()) {
                        out.push(ch);
                        j += 1 + ch.len_utf8();
                    } else {
                        j += 1;
                    }
                }
                b'"' => {
                    self.i = j + 1;
                    return Some(out);
                }
                b'$' if nix && self.b.get(j + 1) == Some(&b'{') => {
                    depth = 1;
                    j += 2;
                }
                _ => {
                    let ch = self.text[j..].chars().next().unwrap_or(' ');
                    out.push(ch);
                    j += ch.len_utf8();
                }
            }
        }
        self.i = start;
        None
    }

    fn nix(mut self) -> Context {
        while self.i < self.b.len() {
            if self.i >= self.at {
                return self.done(self.at, false);
            }
            let c = self.b[self.i];
            match c {
                b'#' => {
                    let end = self.text[self.i..]
                        .find('\n')
                        .map_or(self.b.len(), |n| self.i + n);
                    if self.at <= end {
                        return self.done(self.at, false);
                    }
                    self.i = end;
                }
                b'/' if self.b.get(self.i + 1) == Some(&b'*') => {
                    let end = self.text[self.i + 2..]
                        .find("*/")
                        .map_or(self.b.len(), |n| self.i + 4 + n);
                    if self.at < end {
                        return self.done(self.at, false);
                    }
                    self.i = end;
                }
                b'"' => {
                    let open = self.i;
                    match self.string(true) {
                        Some(s) => self.name(s),
                        None => return self.done(open + 1, true),
                    }
                }
                b'\'' if self.b.get(self.i + 1) == Some(&b'\'') => {
                    let rest = &self.text[self.i + 2..];
                    let mut k = 0;
                    let end = loop {
                        match rest[k..].find("''") {
                            Some(n) => {
                                let after = rest.as_bytes().get(k + n + 2);
                                if matches!(after, Some(b'$' | b'\'' | b'\\')) {
                                    k += n + 3;
                                    continue;
                                }
                                break self.i + 2 + k + n + 2;
                            }
                            None => break self.b.len(),
                        }
                    };
                    if self.at < end {
                        return self.done(self.at, true);
                    }
                    self.i = end;
                    self.value_token();
                }
                b'$' if self.b.get(self.i + 1) == Some(&b'{') => {
                    self.push(Kind::Expr, false);
                    self.top().interp = true;
                    self.i += 2;
                }
                b'{' => {
                    self.push(Kind::Attrs, false);
                    self.i += 1;
                }
                b'[' => {
                    self.push(Kind::List, true);
                    self.i += 1;
                }
                b'(' => {
                    self.push(Kind::Expr, false);
                    self.i += 1;
                }
                b'}' | b']' | b')' => {
                    self.pop(c);
                    self.value_token();
                    self.i += 1;
                }
                b'=' if self.b.get(self.i + 1) != Some(&b'=') => {
                    let f = self.top();
                    if f.names_here() {
                        f.assigned = true;
                    }
                    self.i += 1;
                }
                b';' => {
                    let f = self.top();
                    f.pending.clear();
                    f.assigned = false;
                    self.i += 1;
                }
                b',' | b'?' | b'@' | b':' => {
                    let f = self.top();
                    if f.names_here() {
                        f.pending.clear();
                    }
                    self.i += 1;
                }
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    let start = self.i;
                    let mut j = self.i;
                    while j < self.b.len()
                        && (self.b[j].is_ascii_alphanumeric()
                            || matches!(self.b[j], b'_' | b'-' | b'\''))
                    {
                        j += 1;
                    }
                    if self.at <= j {
                        return self.done(start, false);
                    }
                    self.i = j;
                    let word = &self.text[start..j];
                    match word {
                        "let" => {
                            self.push(Kind::Let, false);
                        }
                        "in" => {
                            if let Some(n) = self.stack.iter().rposition(|f| f.kind == Kind::Let) {
                                if n > 0 {
                                    self.stack.truncate(n);
                                }
                            }
                        }
                        "rec" | "inherit" if self.top().names_here() => {
                            if word == "inherit" {
                                // Names follow, each a binding of its own: not a path.
                                self.top().assigned = true;
                            }
                        }
                        _ => self.name(word.to_string()),
                    }
                }
                _ => self.i += 1,
            }
        }
        self.done(self.at, false)
    }

    /// A name (or string) read in a binding's attribute path, ignored elsewhere.
    fn name(&mut self, s: String) {
        let f = self.top();
        if f.names_here() {
            f.pending.push(s);
        }
    }

    /// A value ended (nothing to do in Nix: `;` ends the binding).
    fn value_token(&mut self) {}

    fn json(mut self) -> Context {
        while self.i < self.b.len() {
            if self.i >= self.at {
                return self.done(self.at, false);
            }
            match self.b[self.i] {
                b'"' => {
                    let open = self.i;
                    match self.string(false) {
                        Some(s) => {
                            let f = self.top();
                            if f.names_here() {
                                f.pending = vec![s];
                            }
                        }
                        None => return self.done(open + 1, true),
                    }
                }
                b':' => {
                    let f = self.top();
                    if f.kind == Kind::Attrs {
                        f.assigned = true;
                    }
                    self.i += 1;
                }
                b',' => {
                    let f = self.top();
                    f.pending.clear();
                    f.assigned = false;
                    self.i += 1;
                }
                b'{' => {
                    self.push(Kind::Attrs, false);
                    self.i += 1;
                }
                b'[' => {
                    self.push(Kind::List, true);
                    self.i += 1;
                }
                c @ (b'}' | b']') => {
                    self.pop(c);
                    self.i += 1;
                }
                c if c.is_ascii_alphanumeric() || c == b'-' => {
                    let start = self.i;
                    while self.i < self.b.len() && self.b[self.i].is_ascii_alphanumeric() {
                        self.i += 1;
                    }
                    if self.at <= self.i {
                        return self.done(start, false);
                    }
                }
                _ => self.i += 1,
            }
        }
        self.done(self.at, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(text: &str, lang: Lang) -> Context {
        let at = text.find('|').unwrap();
        let text = text.replacen('|', "", 1);
        at_(&text, at, lang)
    }

    fn at_(text: &str, i: usize, lang: Lang) -> Context {
        at(text, i, lang)
    }

    fn path(c: &Context) -> Vec<&str> {
        c.path.iter().map(String::as_str).collect()
    }

    #[test]
    fn nix_attribute_paths() {
        let t = "{ lib, ... }: {\n  inventory = {\n    instances.zt = {\n      roles.peer.machines.ga|\n";
        let c = ctx(t, Lang::Nix);
        assert!(c.key);
        assert_eq!(
            path(&c),
            ["inventory", "instances", "zt", "roles", "peer", "machines"]
        );
        let c = ctx("{ a.b = [ \"x\" \"|\" ]; }", Lang::Nix);
        assert!(!c.key && c.in_string);
        assert_eq!(path(&c), ["a", "b", LIST]);
        let c = ctx("{ a = let x = { y = 1; }; in { b = 1; |", Lang::Nix);
        assert_eq!(path(&c), ["a"]);
        assert!(c.key);
        let c = ctx("{ a = { /* } */ b.\"c d\".| }; }", Lang::Nix);
        assert_eq!(path(&c), ["a", "b", "c d"]);
        let c = ctx("{ roles.default.tags = lib.mkIf x [ \"a\" |", Lang::Nix);
        assert_eq!(path(&c), ["roles", "default", "tags", LIST]);
        // Unbalanced closers and garbage never panic.
        for t in [
            "}}]) ;; = |",
            "\"unclosed |",
            "''x ${ |",
            "{ a = \"${ b }\"; |",
            "é|",
        ] {
            let _ = ctx(t, Lang::Nix);
        }
    }

    #[test]
    fn json_key_paths() {
        let t = r#"{"instances": {"zt": {"roles": {"peer": {"machines": {"ga|"#;
        let c = ctx(t, Lang::Json);
        assert!(c.key && c.in_string);
        assert_eq!(path(&c), ["instances", "zt", "roles", "peer", "machines"]);
        let t = r#"{"machines": {"a": {"tags": ["x", "|"]}}, "#;
        let c = ctx(t, Lang::Json);
        assert!(!c.key);
        assert_eq!(path(&c), ["machines", "a", "tags", LIST]);
        let t = r#"{"machines": {"a": {}}, |"#;
        let c = ctx(t, Lang::Json);
        assert!(c.key);
        assert_eq!(path(&c), Vec::<&str>::new());
        for t in ["]]}}|", "\"\\|", "{\"a\": tr|"] {
            let _ = ctx(t, Lang::Json);
        }
    }

    #[test]
    fn words() {
        let t = "machines.gate-way = { };";
        let i = t.find("way").unwrap();
        assert_eq!(word(t, i).map(|(s, e)| &t[s..e]), Some("gate-way"));
        assert_eq!(word(t, 3).map(|(s, e)| &t[s..e]), Some("machines"));
        assert_eq!(word("", 0), None);
        assert_eq!(word("é", 1), Some((0, 2)));
    }
}
