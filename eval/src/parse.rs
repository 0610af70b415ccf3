//! Parsing with rnix, and Nix-worded syntax errors.
//!
//! [`parse`] returns rnix's syntax tree or the first syntax error, worded as Nix's bison
//! parser words it (`syntax error, unexpected ')', expecting …`) with the position Nix
//! reports. A few constructs rnix accepts but Nix rejects (an indented string as an
//! attribute name) are also reported here.
//!
//! Before parsing, a linear scan rejects input rnix would choke on: nesting deeper than
//! [`MAX_DEPTH`] (`expression nested too deeply (limit 10000)`; C++ Nix's parser has a
//! similar limit and says `memory exhausted`), and nesting so deep overall that rowan's
//! node cache would take quadratic time (`expression too complex to parse`). Ordinary
//! code, however large, passes. (rnix's tokenizer used to take quadratic time on long
//! runs of path-like characters such as `a.b.c…` or `-----1`; the vendored copy in
//! `vendor/rnix` scans each run once.)

use crate::error::{ErrorKind, EvalError, Result};
use crate::source::{FileId, Span};
use rnix::{ParseError, SyntaxKind, SyntaxKind::*, SyntaxNode, TextRange};
use std::borrow::Cow;

/// Stack made available to rnix's recursive-descent parser, which recurses once per
/// nesting level (e.g. per `(` or `let`), up to [`MAX_DEPTH`] levels and at most one per
/// token: this much per level it may reach, and at least [`MIN_PARSE_STACK`]. Sized by
/// the input, so that ordinary files do not reserve a large stack (which fails under a
/// small `ulimit -v`).
const PARSE_STACK_PER_LEVEL: usize = 32 * 1024;
const MIN_PARSE_STACK: usize = 4 << 20;

/// Parses `text` (the contents of `file`) into an rnix syntax tree.
///
/// Dropping the tree of a deeply nested expression recurses once per level: drop it on a
/// large stack (e.g. inside `stacker::grow`) when the input may be deep.
///
/// Lone `\r` line endings, which Nix accepts, are turned into `\n` before parsing; this
/// keeps byte offsets unchanged, so spans index the original text. Lowering reads string
/// contents from the original text.
pub fn parse(text: &str, file: FileId) -> Result<rnix::Root> {
    let normalized = normalize_newlines(text);
    let tokens = match check_nesting(&normalized) {
        Ok(tokens) => tokens,
        Err((message, offset)) => return Err(syntax_error(message, file, offset, text.len())),
    };
    // rnix nests at most MAX_DEPTH levels (its own count: `let … in` chains, which the
    // estimate does not see as nesting, stop there too), and gets the stack for it.
    let levels = tokens.saturating_add(64).min(MAX_DEPTH);
    let stack = usize::try_from(levels)
        .unwrap_or(usize::MAX)
        .saturating_mul(PARSE_STACK_PER_LEVEL)
        .max(MIN_PARSE_STACK);
    let parsed = stacker::grow(stack, || {
        let parse = rnix::Root::parse_with_max_depth(&normalized, MAX_DEPTH as u32);
        let root = parse.tree();
        let error = first_error(&normalized, &root, parse.errors());
        // Dropping a deep tree recurses too; do it on the big stack.
        match error {
            Some((message, offset)) => {
                drop(root);
                Err((message, offset))
            }
            None => Ok(root),
        }
    });
    parsed.map_err(|(message, offset)| syntax_error(message, file, offset, text.len()))
}

/// The error for input that would take too long to parse.
const TOO_COMPLEX: &str = "expression too complex to parse";

/// Deepest nesting `check_nesting` accepts. C++ Nix's parser gives up at a similar depth
/// (its parser stack holds 10 000 entries: about 5 000 nested lists).
pub const MAX_DEPTH: u64 = 10_000;

/// Most total work [`check_nesting`] accepts: the sum over all tokens of their nesting
/// depth, at most this plus [`DEPTH_SUM_PER_BYTE`] per byte of input. rowan's node cache
/// rehashes whole subtrees, so parsing costs about this much (some 10 ns a unit); ordinary
/// files, even large generated ones, stay far below it.
const MAX_DEPTH_SUM: u64 = 150_000_000;
const DEPTH_SUM_PER_BYTE: u64 = 20;

/// A nesting level opened by a bracket-like token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// `(`, `{`, `${`, or the start of the file.
    Group,
    /// `[`: adjacent operands are siblings, not an application.
    List,
    /// A string: its contents do not nest.
    Str,
    /// `let` … `in`.
    Let,
    /// `inherit` … `;`: a flat list of names.
    Inherit,
}

/// The state of [`check_nesting`]: open frames, each with the length of the operator
/// chain inside it, and the estimated depth (the sum over frames of 1 + chain).
struct Nesting {
    frames: Vec<(Frame, u64)>,
    depth: u64,
    after_operand: bool,
}

impl Nesting {
    fn top(&self) -> (Frame, u64) {
        self.frames.last().copied().unwrap_or((Frame::Group, 0))
    }
    fn push(&mut self, frame: Frame) {
        self.frames.push((frame, 0));
        self.depth += 1;
    }
    fn pop(&mut self) {
        if self.frames.len() > 1 {
            if let Some((_, chain)) = self.frames.pop() {
                self.depth -= 1 + chain;
            }
        }
    }
    /// One more operator (or application) in the innermost frame's chain.
    fn grow(&mut self) {
        if let Some(last) = self.frames.last_mut() {
            last.1 += 1;
            self.depth += 1;
        }
    }
    /// The innermost frame's expression ended (`;`, `,`, a list element).
    fn reset(&mut self) {
        if let Some(last) = self.frames.last_mut() {
            self.depth -= last.1;
            last.1 = 0;
        }
    }
    /// Accounts for one non-trivia token.
    fn token(&mut self, kind: SyntaxKind) {
        let (top, _) = self.top();
        if top == Frame::Str && !matches!(kind, TOKEN_INTERPOL_START | TOKEN_STRING_END) {
            return;
        }
        let starts = starts_operand(kind);
        if starts && self.after_operand {
            match top {
                Frame::List => self.reset(),
                Frame::Inherit => {}
                _ => self.grow(),
            }
        }
        match kind {
            TOKEN_L_PAREN | TOKEN_L_BRACE | TOKEN_INTERPOL_START => self.push(Frame::Group),
            TOKEN_L_BRACK => self.push(Frame::List),
            TOKEN_STRING_START => self.push(Frame::Str),
            TOKEN_LET => self.push(Frame::Let),
            TOKEN_INHERIT => self.push(Frame::Inherit),
            TOKEN_R_PAREN | TOKEN_R_BRACE | TOKEN_INTERPOL_END | TOKEN_R_BRACK
            | TOKEN_STRING_END => self.pop(),
            TOKEN_IN if top == Frame::Let => self.pop(),
            TOKEN_SEMICOLON if top == Frame::Inherit => self.pop(),
            TOKEN_SEMICOLON | TOKEN_COMMA | TOKEN_ASSIGN => self.reset(),
            // `a.b.c…` is one selection with a flat attribute path, however long.
            TOKEN_DOT => {}
            _ if !starts && !ends_operand(kind) => self.grow(),
            _ => {}
        }
        self.after_operand = ends_operand(kind);
    }
}

/// Estimates, from tokens alone, how deep rnix's syntax tree for `text` gets, and rejects
/// input nested deeper than [`MAX_DEPTH`] (or so deep overall that parsing would take
/// long), returning the error message and the offset of the token where the limit was
/// crossed; otherwise the number of tokens.
///
/// rnix recurses once per nesting level and rowan's node cache hashes subtrees
/// recursively, quadratically in their depth, so 100 000 nested brackets would take
/// minutes and a huge stack. The estimate errs on the deep side: each open bracket, unary
/// or binary operator, `or`, keyword and application counts one level, until the
/// enclosing bracket closes or a `;`, `,`, `=` or list element ends the expression.
fn check_nesting(text: &str) -> std::result::Result<u64, (String, usize)> {
    let mut state = Nesting {
        frames: vec![(Frame::Group, 0)],
        depth: 1,
        after_operand: false,
    };
    let budget = MAX_DEPTH_SUM.saturating_add(DEPTH_SUM_PER_BYTE.saturating_mul(text.len() as u64));
    let mut sum: u64 = 0;
    let mut tokens: u64 = 0;
    let mut offset = 0usize;
    for (kind, s) in rnix::tokenize(text) {
        let at = offset;
        offset += s.len();
        if kind.is_trivia() {
            continue;
        }
        state.token(kind);
        tokens += 1;
        sum = sum.saturating_add(state.depth);
        if state.depth > MAX_DEPTH {
            return Err((
                format!("expression nested too deeply (limit {MAX_DEPTH})"),
                at,
            ));
        }
        if sum > budget {
            return Err((TOO_COMPLEX.into(), at));
        }
    }
    Ok(tokens)
}

/// Whether a token is an operand by itself (a name, number, path, URI or `__curPos`).
fn is_atom(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        TOKEN_IDENT
            | TOKEN_INTEGER
            | TOKEN_FLOAT
            | TOKEN_PATH_ABS
            | TOKEN_PATH_REL
            | TOKEN_PATH_HOME
            | TOKEN_PATH_SEARCH
            | TOKEN_URI
            | TOKEN_CUR_POS
    )
}

/// Whether a token can begin an operand (and so an application argument).
fn starts_operand(kind: SyntaxKind) -> bool {
    is_atom(kind)
        || matches!(
            kind,
            TOKEN_STRING_START | TOKEN_L_PAREN | TOKEN_L_BRACK | TOKEN_L_BRACE | TOKEN_REC
        )
}

/// Whether a token can end an operand.
fn ends_operand(kind: SyntaxKind) -> bool {
    is_atom(kind)
        || matches!(
            kind,
            TOKEN_STRING_END | TOKEN_R_PAREN | TOKEN_R_BRACK | TOKEN_R_BRACE
        )
}

/// Replaces each `\r` that is not followed by `\n` with `\n` (same length).
pub fn normalize_newlines(text: &str) -> Cow<'_, str> {
    if !text.contains('\r') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if c == '\r' && bytes.get(i + 1) != Some(&b'\n') {
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn syntax_error(message: String, file: FileId, offset: usize, len: usize) -> Box<EvalError> {
    let mut e = EvalError::of_kind(ErrorKind::Parse, message);
    let offset = offset.min(len) as u32;
    e.span = Span {
        file,
        start: offset,
        end: offset,
    };
    e
}

/// The earliest error: rnix's first error, or a construct Nix rejects that rnix accepts,
/// whichever comes first in the text. Returns the message and the byte offset.
fn first_error(text: &str, root: &rnix::Root, errors: &[ParseError]) -> Option<(String, usize)> {
    let syntax = syntax_of(root);
    let from_rnix = errors.first().map(|e| describe(text, syntax, e));
    let extra = nix_only_error(syntax);
    match (from_rnix, extra) {
        (Some(a), Some(b)) => Some(if b.1 < a.1 { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn syntax_of<N: rnix::ast::AstNode>(node: &N) -> &SyntaxNode {
    node.syntax()
}

/// Constructs rnix parses but Nix does not: an indented string as an attribute name.
fn nix_only_error(root: &SyntaxNode) -> Option<(String, usize)> {
    root.descendants()
        .filter(|n| n.kind() == NODE_ATTRPATH)
        .flat_map(|path| path.children())
        .find(|n| {
            n.kind() == NODE_STRING
                && n.first_token()
                    .is_some_and(|t| t.kind() == TOKEN_STRING_START && t.text() == "''")
        })
        .map(|n| {
            (
                format!(
                    "syntax error, unexpected start of an indented string, expecting {}",
                    ATTR_EXPECTED
                ),
                usize::from(n.text_range().start()),
            )
        })
}

const ATTR_EXPECTED: &str = "identifier or 'or' or '${' or '\"'";

/// Words an rnix error like Nix and gives its offset.
fn describe(text: &str, root: &SyntaxNode, error: &ParseError) -> (String, usize) {
    let eof = || text.len();
    match error {
        ParseError::RecursionLimitExceeded => (
            format!("expression nested too deeply (limit {MAX_DEPTH})"),
            recursion_limit_offset(root, text.trim_end().len()),
        ),
        ParseError::UnexpectedEOF => ("syntax error, unexpected end of file".into(), eof()),
        ParseError::UnexpectedEOFWanted(wanted) => (
            with_expected("syntax error, unexpected end of file".into(), wanted, None),
            eof(),
        ),
        ParseError::UnexpectedExtra(range) => {
            let (name, start) = token_name(text, root, *range);
            (
                format!("syntax error, unexpected {name}, expecting end of file"),
                start,
            )
        }
        ParseError::UnexpectedWanted(kind, range, wanted) => {
            if *kind == TOKEN_ERROR && unterminated_string(text, root, *range) {
                let msg = format!("syntax error, unexpected end of file, expecting {}", "'\"'");
                return (msg, eof());
            }
            if let Some(end) = trailing_slash(root, *range) {
                return ("path has a trailing slash".into(), end);
            }
            let (name, start) = token_name(text, root, *range);
            let parent = if at_binding_start(root, *range) {
                Some(NODE_ATTRPATH_VALUE)
            } else {
                error_parent(root, *range)
            };
            let msg = format!("syntax error, unexpected {name}");
            (with_expected(msg, wanted, parent), start)
        }
        ParseError::Unexpected(range)
        | ParseError::UnexpectedDoubleBind(range)
        | ParseError::DuplicatedArgs(range, _) => {
            let (name, start) = token_name(text, root, *range);
            (format!("syntax error, unexpected {name}"), start)
        }
        _ => ("syntax error".into(), 0),
    }
}

/// Where rnix gave up because of its recursion limit: the start of the innermost error
/// node reaching the end of the text (rnix skips everything after that point).
fn recursion_limit_offset(root: &SyntaxNode, len: usize) -> usize {
    root.descendants()
        .filter(|n| n.kind() == NODE_ERROR && usize::from(n.text_range().end()) >= len)
        .last()
        .map_or(0, |n| {
            skip_trivia(n.first_token()).map_or(usize::from(n.text_range().start()), |t| {
                usize::from(t.text_range().start())
            })
        })
}

/// Whether an error token at `range` is the unterminated rest of a string at end of input.
fn unterminated_string(text: &str, root: &SyntaxNode, range: TextRange) -> bool {
    let end = usize::from(range.end());
    end >= text.trim_end().len()
        && error_parent(root, range).is_some_and(|k| k == NODE_STRING || k == NODE_ERROR)
}

/// If the error at `range` is a path literal with a trailing slash, the end of that path.
fn trailing_slash(root: &SyntaxNode, range: TextRange) -> Option<usize> {
    let token = skip_trivia(root.token_at_offset(range.start()).right_biased())?;
    let text = token.text();
    let path_like = text.starts_with('/') || text.starts_with("./") || text.starts_with("~/");
    (token.kind() == TOKEN_ERROR && path_like && text.len() > 1 && text.ends_with('/'))
        .then(|| usize::from(token.text_range().end()))
}

/// Whether the error at `range` is at the start of a binding (`{ 1 = x; }`), where Nix
/// says it expected `inherit`.
fn at_binding_start(root: &SyntaxNode, range: TextRange) -> bool {
    let Some(token) = skip_trivia(root.token_at_offset(range.start()).right_biased()) else {
        return false;
    };
    let Some(error) = token.parent().filter(|n| n.kind() == NODE_ERROR) else {
        return false;
    };
    let Some(path) = error.parent().filter(|n| n.kind() == NODE_ATTRPATH) else {
        return false;
    };
    let first_in_path = path.first_child().is_some_and(|c| c == error);
    let first_in_binding = path.parent().is_some_and(|b| {
        b.kind() == NODE_ATTRPATH_VALUE && b.first_child().is_some_and(|c| c == path)
    });
    first_in_path && first_in_binding
}

/// The kind of the node containing the error node that covers `range`.
fn error_parent(root: &SyntaxNode, range: TextRange) -> Option<SyntaxKind> {
    let elem = root.covering_element(range);
    let node = match elem {
        rnix::NodeOrToken::Node(n) => n,
        rnix::NodeOrToken::Token(t) => t.parent()?,
    };
    let node = if node.kind() == NODE_ERROR {
        node.parent()?
    } else {
        node
    };
    Some(node.kind())
}

/// Appends `, expecting …` the way Nix lists expected tokens for common cases.
fn with_expected(msg: String, wanted: &[SyntaxKind], parent: Option<SyntaxKind>) -> String {
    let expected: Option<String> = match wanted {
        [TOKEN_IDENT, TOKEN_OR, ..] if parent == Some(NODE_INHERIT) => None,
        [TOKEN_IDENT, TOKEN_OR, ..] if parent == Some(NODE_ATTRPATH_VALUE) => {
            Some("'inherit'".into())
        }
        [TOKEN_IDENT, TOKEN_OR, ..] => Some(ATTR_EXPECTED.into()),
        [TOKEN_ASSIGN] => Some("'.' or '='".into()),
        [TOKEN_R_BRACE] if parent == Some(NODE_PATTERN) => Some("'}' or ','".into()),
        [TOKEN_STRING_END, ..] => Some("'\"'".into()),
        // rnix's "start of an expression" list: Nix does not list alternatives there.
        [TOKEN_L_PAREN, TOKEN_REC, ..] => None,
        [single] => Some(kind_name(*single, "").into()),
        _ => None,
    };
    match expected {
        Some(e) => format!("{msg}, expecting {e}"),
        None => msg,
    }
}

/// Nix's name for the token at the start of `range`, and that offset.
fn token_name(text: &str, root: &SyntaxNode, range: TextRange) -> (String, usize) {
    let start = usize::from(range.start());
    let token = root.token_at_offset(range.start()).right_biased();
    let token = skip_trivia(token);
    match token {
        Some(t) => {
            let at = usize::from(t.text_range().start());
            (kind_name(t.kind(), t.text()).into(), at)
        }
        None if start >= text.len() => ("end of file".into(), start),
        None => ("invalid token".into(), start),
    }
}

fn skip_trivia(mut token: Option<rnix::SyntaxToken>) -> Option<rnix::SyntaxToken> {
    while let Some(t) = &token {
        if !t.kind().is_trivia() {
            break;
        }
        token = t.next_token();
    }
    token
}

/// Nix's (bison's) display name of a token kind.
fn kind_name(kind: SyntaxKind, text: &str) -> &'static str {
    match kind {
        TOKEN_IDENT => "identifier",
        TOKEN_INTEGER => "integer",
        TOKEN_FLOAT => "floating-point literal",
        TOKEN_PATH_ABS | TOKEN_PATH_REL => "path",
        TOKEN_PATH_HOME => "'~/…' path",
        TOKEN_PATH_SEARCH => "'<…>' path",
        TOKEN_URI => "URI",
        TOKEN_STRING_START if text == "''" => "start of an indented string",
        TOKEN_STRING_START | TOKEN_STRING_END if text == "\"" => "'\"'",
        TOKEN_STRING_END => "end of an indented string",
        TOKEN_STRING_CONTENT => "string",
        TOKEN_INTERPOL_START => "'${'",
        TOKEN_INTERPOL_END | TOKEN_R_BRACE => "'}'",
        TOKEN_IF => "'if'",
        TOKEN_THEN => "'then'",
        TOKEN_ELSE => "'else'",
        TOKEN_ASSERT => "'assert'",
        TOKEN_WITH => "'with'",
        TOKEN_LET => "'let'",
        TOKEN_IN => "'in'",
        TOKEN_REC => "'rec'",
        TOKEN_INHERIT => "'inherit'",
        TOKEN_OR => "'or'",
        TOKEN_ELLIPSIS => "'...'",
        TOKEN_EQUAL => "'=='",
        TOKEN_NOT_EQUAL => "'!='",
        TOKEN_LESS_OR_EQ => "'<='",
        TOKEN_MORE_OR_EQ => "'>='",
        TOKEN_AND_AND => "'&&'",
        TOKEN_OR_OR => "'||'",
        TOKEN_IMPLICATION => "'->'",
        TOKEN_UPDATE => "'//'",
        TOKEN_CONCAT => "'++'",
        TOKEN_PIPE_LEFT => "'<|'",
        TOKEN_PIPE_RIGHT => "'|>'",
        TOKEN_ADD => "'+'",
        TOKEN_SUB => "'-'",
        TOKEN_MUL => "'*'",
        TOKEN_DIV => "'/'",
        TOKEN_LESS => "'<'",
        TOKEN_MORE => "'>'",
        TOKEN_INVERT => "'!'",
        TOKEN_ASSIGN => "'='",
        TOKEN_AT => "'@'",
        TOKEN_COLON => "':'",
        TOKEN_COMMA => "','",
        TOKEN_DOT => "'.'",
        TOKEN_QUESTION => "'?'",
        TOKEN_SEMICOLON => "';'",
        TOKEN_L_BRACE => "'{'",
        TOKEN_L_BRACK => "'['",
        TOKEN_R_BRACK => "']'",
        TOKEN_L_PAREN => "'('",
        TOKEN_R_PAREN => "')'",
        TOKEN_CUR_POS => "identifier",
        _ => "invalid token",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (String, u32) {
        match parse(text, FileId(0)) {
            Ok(_) => panic!("expected a syntax error for {text:?}"),
            Err(e) => (e.message, e.span.start),
        }
    }

    #[test]
    fn eof() {
        assert_eq!(
            err("(\n# no content\n"),
            ("syntax error, unexpected end of file".into(), 15)
        );
    }

    #[test]
    fn unexpected_tokens() {
        assert_eq!(err("&& true").0, "syntax error, unexpected '&&'");
        assert_eq!(
            err("if 1 else").0,
            "syntax error, unexpected 'else', expecting 'then'"
        );
        assert_eq!(
            err("a.~/foo").0,
            "syntax error, unexpected '~/…' path, expecting identifier or 'or' or '${' or '\"'"
        );
        assert_eq!(
            err("{ a ... }").0,
            "syntax error, unexpected '...', expecting '.' or '='"
        );
        assert_eq!(
            err("1 != != 2"),
            ("syntax error, unexpected '!='".into(), 5)
        );
        assert_eq!(
            err("{ 1 = x; }").0,
            "syntax error, unexpected integer, expecting 'inherit'"
        );
        assert_eq!(
            err("# c\n/nix/store/\n"),
            ("path has a trailing slash".into(), 15)
        );
    }

    #[test]
    fn cr_line_endings() {
        assert!(parse("rec {\n x = # c\ry;\r y = 1; }", FileId(0)).is_ok());
    }

    #[test]
    fn nesting_limits() {
        let deep = |open: &str, inner: &str, close: &str, n: usize| {
            format!("{}{inner}{}", open.repeat(n), close.repeat(n))
        };
        let limit = format!("expression nested too deeply (limit {MAX_DEPTH})");
        // The error points at the token where the limit was crossed.
        let (msg, at) = err(&deep("[", "", "]", 100_000));
        assert_eq!((msg.as_str(), at), (limit.as_str(), MAX_DEPTH as u32 - 1));
        assert_eq!(err(&deep("!", "true", "", 100_000)).0, limit);
        assert_eq!(err(&vec!["1"; 100_000].join(" + ")).0, limit);
        // Nix parses these; rnix 0.15.1 stopped at 512 levels.
        assert!(parse(&deep("(", "1", ")", 1000), FileId(0)).is_ok());
        let chain: String = (0..1000).map(|i| format!("if x then {i} else ")).collect();
        assert!(parse(&format!("{chain}0"), FileId(0)).is_ok());
        // rnix's own limit (now MAX_DEPTH) stops what the estimate does not see as nesting.
        let lets: String = (0..20_000)
            .map(|i| format!("let a{i} = {i}; in "))
            .collect();
        assert_eq!(err(&format!("{lets}a0")).0, limit);
        // Long runs of short tokens without spaces: nesting, no longer a quadratic cost.
        assert_eq!(err(&deep("-", "1", "", 100_000)).0, limit);
        assert!(parse(&format!("x{}", ".b".repeat(100_000)), FileId(0)).is_ok());
    }

    #[test]
    fn nesting_limits_spare_wide_input() {
        // Flat but long: a big list, attrset, `inherit`, string, and a long chain in a
        // function body.
        let ok = |text: &str| {
            if let Err(e) = parse(text, FileId(0)) {
                panic!("{}", e.message);
            }
        };
        ok(&format!("[ {} ]", vec!["a.b.c"; 50_000].join(" ")));
        let binds: String = (0..50_000).map(|i| format!("a{i} = x.y + {i};")).collect();
        ok(&format!("{{ {binds} }}"));
        let names: String = (0..50_000).map(|i| format!(" a{i}")).collect();
        ok(&format!("{{ inherit (x){names}; }}"));
        ok(&format!("\"{}\"", "a-".repeat(1_000_000)));
        ok(&format!("''{}''", "a.b+".repeat(1_000_000)));
        ok(&format!("x: {}", vec!["x"; 5_000].join(" ++ ")));
        ok("/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-name/bin/x");
    }

    #[test]
    fn deep_nesting() {
        // As deep as C++ Nix goes (about 5 000 lists), on the test thread's small stack.
        let n = 5_000;
        let text = format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(&text, FileId(0)).is_ok());
    }
}
