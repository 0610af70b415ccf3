//! POSIX extended regular expressions with leftmost-longest matching, as C++ Nix's
//! `builtins.match` / `builtins.split` see them (libstdc++'s `std::regex::extended`),
//! implemented on the C library's `regcomp`/`regexec`.
//!
//! The pattern is first checked against libstdc++'s stricter dialect, which glibc would
//! accept with another meaning: a backslash may only escape an operator character (`\d`,
//! `\w`, `\1`, `\}` are invalid, not GNU operators or back-references), and an interval
//! must start with a digit (`a{,2}` is invalid).

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::CString;
use std::rc::Rc;

/// `regexec` flag: the search range is given in `pmatch[0]` (glibc, BSDs).
const REG_STARTEND: libc::c_int = 4;

/// Why a pattern cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegexError {
    /// The pattern is not a valid regular expression.
    Invalid,
    /// The regex engine ran out of memory.
    Space,
}

/// Byte ranges of the whole match (index 0) and of each group; `None` for a group that
/// did not take part in the match.
pub type Captures = Vec<Option<(usize, usize)>>;

/// A compiled regular expression; freed with `regfree` on drop.
pub struct Regex {
    raw: Box<libc::regex_t>,
    /// Number of parenthesised groups.
    groups: usize,
    /// The stack the C library needs to compile and run it (see [`c_stack`]).
    stack: usize,
}

impl Regex {
    /// Compiles `pattern` (POSIX ERE in libstdc++'s dialect).
    pub fn new(pattern: &str) -> Result<Regex, RegexError> {
        let groups = check_dialect(pattern)?;
        // Patterns are bytes (a Nix string, crate::bytestr-encoded in `pattern`).
        let bytes = crate::bytestr::decode(pattern).into_owned();
        if nfa_states(&bytes) > STATE_LIMIT {
            return Err(RegexError::Space);
        }
        let c_pattern = CString::new(bytes).map_err(|_| RegexError::Invalid)?;
        // SAFETY: regex_t is a plain C struct for which all-zero is a valid initial state;
        // regcomp fully initialises it on success.
        let mut raw: Box<libc::regex_t> = Box::new(unsafe { std::mem::zeroed() });
        let stack = c_stack(pattern.len());
        // SAFETY: `raw` points to writable memory and `c_pattern` is NUL-terminated.
        let rc = stacker::maybe_grow(stack, stack, || unsafe {
            libc::regcomp(&mut *raw, c_pattern.as_ptr(), libc::REG_EXTENDED)
        });
        match rc {
            0 => Ok(Regex { raw, groups, stack }),
            libc::REG_ESPACE => Err(RegexError::Space),
            _ => Err(RegexError::Invalid),
        }
    }

    /// The leftmost-longest match in `hay` that starts at or after `start`. Anchors and
    /// context see the whole of `hay` (`^` does not match at `start > 0`).
    pub fn search(&self, hay: &[u8], start: usize) -> Result<Option<Captures>, RegexError> {
        self.search_in(&nul_terminated(hay), start)
    }

    /// [`Regex::search`] in `buf`, which is the text followed by one NUL byte: the C
    /// library (and sanitizers' `regexec` interceptors) may read up to a terminating NUL
    /// even with `REG_STARTEND`.
    fn search_in(&self, buf: &[u8], start: usize) -> Result<Option<Captures>, RegexError> {
        let len = buf.len().saturating_sub(1);
        if len > libc::regoff_t::MAX as usize || start > len {
            return Err(RegexError::Space);
        }
        let empty = libc::regmatch_t {
            rm_so: -1,
            rm_eo: -1,
        };
        let mut slots = vec![empty; self.groups + 1];
        slots[0] = libc::regmatch_t {
            rm_so: start as libc::regoff_t,
            rm_eo: len as libc::regoff_t,
        };
        // SAFETY: `self.raw` was initialised by regcomp; `slots` has `groups + 1` entries;
        // `buf` ends with a NUL byte, and with REG_STARTEND the C library matches only
        // `buf[..len]`.
        let rc = stacker::maybe_grow(self.stack, self.stack, || unsafe {
            libc::regexec(
                &*self.raw,
                buf.as_ptr() as *const libc::c_char,
                slots.len(),
                slots.as_mut_ptr(),
                REG_STARTEND,
            )
        });
        match rc {
            0 => Ok(Some(slots.iter().map(span_of).collect())),
            libc::REG_NOMATCH => Ok(None),
            _ => Err(RegexError::Space),
        }
    }

    /// Matches the whole of `hay`, as `std::regex_match` does.
    pub fn match_whole(&self, hay: &[u8]) -> Result<Option<Captures>, RegexError> {
        // Leftmost-longest: if the whole text can match, the leftmost match starts at 0
        // and the longest one from there spans everything.
        Ok(self
            .search(hay, 0)?
            .filter(|c| c[0] == Some((0, hay.len()))))
    }

    /// All successive matches in `hay`, as `std::cregex_iterator` finds them: after an
    /// empty match, a non-empty match at the same place is taken if there is one,
    /// otherwise the search resumes one byte further.
    pub fn find_all(&self, hay: &[u8]) -> Result<Vec<Captures>, RegexError> {
        let buf = nul_terminated(hay);
        let mut out = Vec::new();
        let mut next = self.search_in(&buf, 0)?;
        while let Some(caps) = next {
            let (s, e) = caps[0].unwrap_or((0, 0));
            out.push(caps);
            next = self.search_in(&buf, e)?;
            if s == e {
                // An empty match again at the same place would loop: step over one byte.
                let again_empty = matches!(&next, Some(c) if c[0] == Some((e, e)));
                if again_empty {
                    next = if e < hay.len() {
                        self.search_in(&buf, e + 1)?
                    } else {
                        None
                    };
                }
            }
        }
        Ok(out)
    }
}

impl Drop for Regex {
    fn drop(&mut self) {
        // SAFETY: `raw` was successfully compiled by regcomp and is freed exactly once.
        unsafe { libc::regfree(&mut *self.raw) }
    }
}

/// `hay` followed by a NUL byte.
fn nul_terminated(hay: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(hay.len() + 1);
    buf.extend_from_slice(hay);
    buf.push(0);
    buf
}

fn span_of(m: &libc::regmatch_t) -> Option<(usize, usize)> {
    (m.rm_so >= 0 && m.rm_eo >= m.rm_so).then_some((m.rm_so as usize, m.rm_eo as usize))
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Rc<Regex>>> = RefCell::new(HashMap::new());
}

/// The compiled form of `pattern`, cached per thread.
pub fn cached(pattern: &str) -> Result<Rc<Regex>, RegexError> {
    if let Some(re) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(re);
    }
    let re = Rc::new(Regex::new(pattern)?);
    CACHE.with(|c| c.borrow_mut().insert(pattern.to_string(), re.clone()));
    Ok(re)
}

/// The characters a backslash may escape in libstdc++'s ERE.
const ESCAPABLE: &[u8] = b".[\\()*+?{|^$";

/// Checks `pattern` against libstdc++'s ERE dialect and counts its groups.
fn check_dialect(pattern: &str) -> Result<usize, RegexError> {
    let p = pattern.as_bytes();
    let mut groups = 0;
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'\\' => {
                let c = *p.get(i + 1).ok_or(RegexError::Invalid)?;
                if !ESCAPABLE.contains(&c) {
                    return Err(RegexError::Invalid);
                }
                i += 2;
            }
            b'[' => i = bracket_end(p, i),
            b'{' if !p.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                return Err(RegexError::Invalid)
            }
            c => {
                groups += usize::from(c == b'(');
                i += 1;
            }
        }
    }
    Ok(groups)
}

/// The index just past the bracket expression starting at `p[start] == b'['` (or the end
/// of the pattern if it is unterminated; the C library then reports the error).
fn bracket_end(p: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    if p.get(i) == Some(&b'^') {
        i += 1;
    }
    if p.get(i) == Some(&b']') {
        i += 1;
    }
    while i < p.len() {
        match (p[i], p.get(i + 1)) {
            (b']', _) => return i + 1,
            (b'[', Some(&delim @ (b':' | b'=' | b'.'))) => {
                let close = [delim, b']'];
                i = match p[i + 2..].windows(2).position(|w| w == close) {
                    Some(k) => i + 2 + k + 2,
                    None => p.len(),
                };
            }
            _ => i += 1,
        }
    }
    p.len()
}

/// The stack the C library may need for a pattern of `len` bytes. glibc's `regcomp` and
/// `regexec` recurse over the pattern's nesting and over chains of empty transitions
/// (`((((a))))`, `()()()`), which a pattern can make as long as itself; they run with this
/// much stack (grown on the heap when the thread has less left), so that a pattern of
/// 15 000 nested groups, which C++ Nix accepts, does not overflow the stack.
fn c_stack(len: usize) -> usize {
    (256 * 1024usize).saturating_add(len.saturating_mul(1024))
}

/// libstdc++'s `_GLIBCXX_REGEX_STATE_LIMIT`: C++ Nix's regex engine refuses a pattern
/// whose automaton has more states (`memory limit exceeded by regular expression`).
const STATE_LIMIT: u64 = 100_000;

/// The number of states of libstdc++'s automaton for `pattern`, as its compiler builds it
/// (a repeated expression is copied once per repetition, besides the original), so that a
/// pattern C++ Nix refuses at once (`a{1000}{1000}{1000}`) is refused here before the C
/// library tries to build a billion states. Saturating; malformed parts count as ordinary
/// characters (the C library rejects them afterwards).
fn nfa_states(p: &[u8]) -> u64 {
    /// One level of parentheses: the states of its finished part and of its last atom
    /// (which a quantifier repeats).
    #[derive(Default)]
    struct Level {
        done: u64,
        last: u64,
    }
    impl Level {
        fn atom(&mut self, states: u64) {
            self.done = self.done.saturating_add(self.last);
            self.last = states;
        }
    }
    let mut levels = vec![Level::default()];
    let mut i = 0;
    while i < p.len() {
        let top = levels.len() - 1;
        match p[i] {
            b'\\' => {
                levels[top].atom(1);
                i += 2;
                continue;
            }
            b'[' => {
                levels[top].atom(1);
                i = bracket_end(p, i);
                continue;
            }
            b'(' => levels.push(Level::default()),
            b')' if top > 0 => {
                let inner = levels.pop().unwrap_or_default();
                let states = inner.done.saturating_add(inner.last).saturating_add(3);
                levels[top - 1].atom(states);
            }
            b'|' => {
                let l = &mut levels[top];
                l.done = l.done.saturating_add(l.last).saturating_add(2);
                l.last = 0;
            }
            b'*' | b'+' => levels[top].last = levels[top].last.saturating_add(1),
            b'?' => levels[top].last = levels[top].last.saturating_add(2),
            b'{' => match interval(p, i) {
                Some((copies, joins, end)) => {
                    let l = &mut levels[top];
                    l.last = l.last.saturating_mul(copies).saturating_add(joins);
                    i = end;
                    continue;
                }
                None => levels[top].atom(1),
            },
            _ => levels[top].atom(1),
        }
        i += 1;
    }
    levels
        .iter()
        .fold(5u64, |n, l| n.saturating_add(l.done).saturating_add(l.last))
}

/// What the interval `{min}`, `{min,}` or `{min,max}` at `p[start] == b'{'` makes of the
/// expression before it in libstdc++'s automaton: how many copies of it there are (the
/// original included) and how many states join them; then the index past the interval.
/// `None` if it is malformed.
fn interval(p: &[u8], start: usize) -> Option<(u64, u64, usize)> {
    let number = |mut i: usize| -> Option<(u64, usize)> {
        let from = i;
        let mut n = 0u64;
        while let Some(d) = p.get(i).filter(|c| c.is_ascii_digit()) {
            n = n.saturating_mul(10).saturating_add(u64::from(d - b'0'));
            i += 1;
        }
        (i > from).then_some((n, i))
    };
    let (min, i) = number(start + 1)?;
    match p.get(i)? {
        // The original and `min` copies, and a state after them.
        b'}' => Some((min.saturating_add(1), 1, i + 1)),
        b',' => match number(i + 1) {
            // The original and `max` copies; a state for each optional one, two to join
            // them.
            Some((max, j)) if p.get(j) == Some(&b'}') => Some((
                max.saturating_add(1),
                max.saturating_sub(min).saturating_add(2),
                j + 1,
            )),
            // The original, `min` copies and one more in a loop.
            None if p.get(i + 1) == Some(&b'}') => Some((min.saturating_add(2), 2, i + 2)),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(hay: &str, caps: &Captures) -> Vec<Option<String>> {
        caps.iter()
            .map(|c| c.map(|(s, e)| hay[s..e].to_string()))
            .collect()
    }

    fn whole(re: &str, hay: &str) -> Option<Vec<Option<String>>> {
        let r = Regex::new(re).unwrap();
        r.match_whole(hay.as_bytes())
            .unwrap()
            .map(|c| strs(hay, &c)[1..].to_vec())
    }

    #[test]
    fn dialect() {
        assert_eq!(check_dialect(r"\.\(a\)"), Ok(0));
        assert_eq!(check_dialect(r"\d"), Err(RegexError::Invalid));
        assert_eq!(check_dialect(r"(a)[\]]([[:alpha:](])"), Ok(2));
        assert_eq!(check_dialect("a\\"), Err(RegexError::Invalid));
    }

    #[test]
    fn whole_match() {
        // From Nix's eval-okay-regex-match.nix.
        assert_eq!(whole("fo*", "foo"), Some(vec![]));
        assert_eq!(whole("fo*", "foobar"), None);
        assert_eq!(whole("fo{1,2}", "fooo"), None);
        let split_fn = "((.*)/)?([^/]*)\\.(nix|cc)";
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            whole(split_fn, "/path/to/foobar.nix"),
            Some(vec![s("/path/to/"), s("/path/to"), s("foobar"), s("nix")])
        );
        assert_eq!(
            whole(split_fn, "foobar.cc"),
            Some(vec![None, None, s("foobar"), s("cc")])
        );
        // From eval-okay-regex-match2.exp.
        assert_eq!(
            whole("(.+)+(.+)", "17.0.14+7"),
            Some(vec![s("17.0.14+"), s("7")])
        );
    }

    /// Renders a capture list as Nix prints it (`[ "a" null ]`).
    fn show_caps(hay: &[u8], caps: &[Option<(usize, usize)>]) -> String {
        let mut out = String::from("[ ");
        for c in caps {
            match c {
                Some((s, e)) => out += &format!("{:?} ", String::from_utf8_lossy(&hay[*s..*e])),
                None => out += "null ",
            }
        }
        out + "]"
    }

    /// `builtins.match` as Nix prints it.
    fn nix_match(re: &str, hay: &str) -> String {
        let r = match Regex::new(re) {
            Ok(r) => r,
            Err(_) => return "invalid".into(),
        };
        match r.match_whole(hay.as_bytes()).unwrap() {
            Some(c) => show_caps(hay.as_bytes(), &c[1..]),
            None => "null".into(),
        }
    }

    /// `builtins.split` as Nix prints it.
    fn nix_split(re: &str, hay: &str) -> String {
        let r = Regex::new(re).unwrap();
        let mut out = String::from("[ ");
        let mut last = 0;
        for c in r.find_all(hay.as_bytes()).unwrap() {
            let (s, e) = c[0].unwrap();
            out += &format!(
                "{:?} {} ",
                &hay[last..s],
                show_caps(hay.as_bytes(), &c[1..])
            );
            last = e;
        }
        out + &format!("{:?} ]", &hay[last..])
    }

    #[test]
    fn agrees_with_nix() {
        // Outputs of Nix 2.8 (`nix-instantiate --eval --strict`); "invalid" stands for
        // `invalid regular expression`. Known difference: glibc has no named collating
        // elements such as `[[.hyphen.]]`, which libstdc++ accepts.
        let splits = [
            ("a*", "baac", r#"[ "" [ ] "b" [ ] "" [ ] "c" [ ] "" ]"#),
            (
                "(a)*",
                "baac",
                r#"[ "" [ null ] "b" [ "a" ] "" [ null ] "c" [ null ] "" ]"#,
            ),
            ("(a|ab)", "abc", r#"[ "" [ "ab" ] "c" ]"#),
            ("x*", "", r#"[ "" [ ] "" ]"#),
            ("", "ab", r#"[ "" [ ] "a" [ ] "b" [ ] "" ]"#),
            ("^|b", "abab", r#"[ "" [ ] "a" [ ] "a" [ ] "" ]"#),
            (
                "(x)?",
                "ab",
                r#"[ "" [ null ] "a" [ null ] "b" [ null ] "" ]"#,
            ),
        ];
        for (re, hay, want) in splits {
            assert_eq!(nix_split(re, hay), want, "split {re:?} {hay:?}");
        }
        let matches = [
            ("a\\1", "a1", "invalid"),
            ("(a*)+", "b", "null"),
            ("()", "", r#"[ "" ]"#),
            ("a\\{", "a{", "[ ]"),
            ("\\w+", "www", "invalid"),
            ("a\\}", "a}", "invalid"),
            ("a\\]", "a]", "invalid"),
            ("a\\/", "a/", "invalid"),
            ("[\\d]", "d", "[ ]"),
            ("a}", "a}", "[ ]"),
            ("a]", "a]", "[ ]"),
            ("a{", "a{", "invalid"),
            ("*a", "a", "invalid"),
            ("a**", "a", "[ ]"),
            ("a|*b", "b", "invalid"),
            ("(|a)", "a", r#"[ "a" ]"#),
            ("a||b", "b", "[ ]"),
            ("[[:foo:]]", "b", "invalid"),
            ("[b-a]", "b", "invalid"),
            ("x{2,1}", "xx", "invalid"),
            ("(a)(b)?", "a", r#"[ "a" null ]"#),
            (".", "\n", "[ ]"),
            ("[^a]", "\n", "[ ]"),
            ("a{,2}", "aa", "invalid"),
            ("a{1}{2}", "aa", "[ ]"),
            ("a+*", "aa", "[ ]"),
            ("^*a", "a", "invalid"),
            ("(*a)", "a", "invalid"),
            ("a$b", "ab", "null"),
            ("(^a)", "a", r#"[ "a" ]"#),
            ("[[.a.]]", "a", "[ ]"),
            ("[[=a=]]", "a", "[ ]"),
            ("é+", "éé", "null"),
            (".", "é", "null"),
        ];
        let mut bad = Vec::new();
        for (re, hay, want) in matches {
            let got = nix_match(re, hay);
            if got != want {
                bad.push(format!("match {re:?} {hay:?}: got {got}, Nix gives {want}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn automaton_size_as_libstdcxx() {
        // The largest patterns C++ Nix 2.26 accepts, and the smallest it refuses
        // (`memory limit exceeded by regular expression`).
        for (pattern, ok) in [
            ("a{99993}", true),
            ("a{99994}", false),
            ("(a){24997}", true),
            ("(a){33000}", false),
            ("a*{49990}", true),
            ("a*{49999}", false),
            ("a{1,49995}", true),
            ("a{1000}{99}", false),
            ("a{1000}{1000}{1000}", false),
        ] {
            assert_eq!(
                nfa_states(pattern.as_bytes()) <= STATE_LIMIT,
                ok,
                "{pattern}"
            );
        }
        assert_eq!(
            Regex::new("a{1000}{1000}{1000}").err(),
            Some(RegexError::Space)
        );
    }

    #[test]
    fn deeply_nested_groups_compile() {
        // C++ Nix matches this; glibc's recursion needs more than a test thread's stack.
        let n = 15_000;
        let pattern = format!("{}a{}", "(".repeat(n), ")".repeat(n));
        let r = Regex::new(&pattern).unwrap();
        let caps = r.match_whole(b"a").unwrap().unwrap();
        assert_eq!(caps.len(), n + 1);
    }

    #[test]
    fn invalid() {
        assert_eq!(Regex::new("(.*").err(), Some(RegexError::Invalid));
        assert_eq!(Regex::new("f(o*o").err(), Some(RegexError::Invalid));
    }

    #[test]
    fn anchors_respect_start() {
        let r = Regex::new("^b").unwrap();
        assert_eq!(r.search(b"ab", 1).unwrap(), None);
    }

    #[test]
    fn find_all_leftmost_longest() {
        let r = Regex::new("(a|ab)").unwrap();
        let all = r.find_all(b"abc").unwrap();
        assert_eq!(all, vec![vec![Some((0, 2)), Some((0, 2))]]);
        let r = Regex::new("a*").unwrap();
        let spans: Vec<_> = r
            .find_all(b"baac")
            .unwrap()
            .into_iter()
            .map(|c| c[0])
            .collect();
        assert_eq!(
            spans,
            vec![Some((0, 0)), Some((1, 3)), Some((3, 3)), Some((4, 4))]
        );
    }
}
