//! String literals: escapes of `"…"` strings and the indentation stripping of `''…''`
//! strings, following Nix's lexer and `stripIndentation` exactly.

/// One part of a string literal, before or after processing.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Part<T, E> {
    /// Literal text.
    Text(T),
    /// An interpolated expression `${…}`.
    Interp(E),
}

/// Undoes `"…"` escapes: `\n`, `\r`, `\t`, `\x` → `x`; raw CR and CR LF become LF.
pub(super) fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            '\r' => {
                out.push('\n');
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Processes the parts of a `"…"` string: unescapes text and merges adjacent text.
pub(super) fn plain_string<'t, T: 't, E>(
    parts: Vec<Part<T, E>>,
    raw: impl Fn(&T) -> &'t str,
) -> Vec<Part<String, E>> {
    let mut out = Vec::new();
    for part in parts {
        match part {
            Part::Text(t) => push_text(&mut out, unescape(raw(&t))),
            Part::Interp(e) => out.push(Part::Interp(e)),
        }
    }
    out
}

fn push_text<E>(out: &mut Vec<Part<String, E>>, text: String) {
    if text.is_empty() {
        return;
    }
    if let Some(Part::Text(last)) = out.last_mut() {
        last.push_str(&text);
    } else {
        out.push(Part::Text(text));
    }
}

/// A token of an indented string as Nix's lexer produces it.
#[derive(Debug)]
enum IndToken<E> {
    /// Text; `indentation` is false for escapes (`''$`, `'''`, `''\x`), which end the
    /// leading whitespace of a line.
    Str {
        text: String,
        indentation: bool,
    },
    Interp(E),
}

/// Splits the raw text of an indented string's literal parts into Nix's lexer tokens.
/// `first` is true for the part right after the opening `''`, where `( *\n)?` belongs
/// to the opening token.
fn ind_tokens<E>(raw: &str, first: bool, out: &mut Vec<IndToken<E>>) {
    let mut raw = raw;
    if first {
        let spaces = raw.len() - raw.trim_start_matches(' ').len();
        if raw[spaces..].starts_with('\n') {
            raw = &raw[spaces + 1..];
        }
    }
    let mut text = String::new();
    let mut rest = raw;
    while !rest.is_empty() {
        let escape: Option<(String, usize)> = if let Some(r) = rest.strip_prefix("''") {
            if r.starts_with('$') {
                Some(("$".into(), 3))
            } else if r.starts_with('\'') {
                Some(("''".into(), 3))
            } else if let Some(r2) = r.strip_prefix('\\') {
                r2.chars()
                    .next()
                    .map(|c| (unescape_ind(c), 3 + c.len_utf8()))
            } else {
                None
            }
        } else {
            None
        };
        match escape {
            Some((s, len)) => {
                if !text.is_empty() {
                    out.push(IndToken::Str {
                        text: std::mem::take(&mut text),
                        indentation: true,
                    });
                }
                out.push(IndToken::Str {
                    text: s,
                    indentation: false,
                });
                rest = &rest[len..];
            }
            None => {
                let c = rest.chars().next().unwrap_or_default();
                text.push(c);
                rest = &rest[c.len_utf8().max(1)..];
            }
        }
    }
    if !text.is_empty() {
        out.push(IndToken::Str {
            text,
            indentation: true,
        });
    }
}

/// The character an `''\c` escape stands for.
fn unescape_ind(c: char) -> String {
    match c {
        'n' => "\n".into(),
        'r' => "\r".into(),
        't' => "\t".into(),
        '\r' => "\n".into(),
        c => c.to_string(),
    }
}

/// Processes the parts of a `''…''` string: escapes, then Nix's `stripIndentation`.
pub(super) fn indented_string<'t, T: 't, E>(
    parts: Vec<Part<T, E>>,
    raw: impl Fn(&T) -> &'t str,
) -> Vec<Part<String, E>> {
    let mut tokens: Vec<IndToken<E>> = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        match part {
            Part::Text(t) => ind_tokens(raw(&t), i == 0, &mut tokens),
            Part::Interp(e) => tokens.push(IndToken::Interp(e)),
        }
    }
    strip_indentation(tokens)
}

/// Nix's `ParserState::stripIndentation`.
fn strip_indentation<E>(tokens: Vec<IndToken<E>>) -> Vec<Part<String, E>> {
    let min_indent = min_indentation(&tokens);
    let mut out = Vec::new();
    let mut at_start_of_line = true;
    let mut cur_dropped = 0usize;
    let count = tokens.len();
    for (i, token) in tokens.into_iter().enumerate() {
        match token {
            IndToken::Interp(e) => {
                at_start_of_line = false;
                cur_dropped = 0;
                out.push(Part::Interp(e));
            }
            IndToken::Str { text, .. } => {
                let mut s2 = String::with_capacity(text.len());
                for c in text.chars() {
                    if at_start_of_line {
                        if c == ' ' {
                            if cur_dropped >= min_indent {
                                s2.push(c);
                            }
                            cur_dropped += 1;
                        } else if c == '\n' {
                            cur_dropped = 0;
                            s2.push(c);
                        } else {
                            at_start_of_line = false;
                            cur_dropped = 0;
                            s2.push(c);
                        }
                    } else {
                        s2.push(c);
                        if c == '\n' {
                            at_start_of_line = true;
                        }
                    }
                }
                if i + 1 == count {
                    // Remove the last line if it consists only of spaces.
                    if let Some(p) = s2.rfind('\n') {
                        if s2[p + 1..].bytes().all(|b| b == b' ') {
                            s2.truncate(p + 1);
                        }
                    }
                }
                push_text(&mut out, s2);
            }
        }
    }
    out
}

/// The minimum indentation over lines, ignoring whitespace-only lines (and the final
/// line when it is whitespace-only). Interpolations and escapes end a line's indentation.
fn min_indentation<E>(tokens: &[IndToken<E>]) -> usize {
    let mut at_start_of_line = true;
    let mut min_indent = 1_000_000usize;
    let mut cur_indent = 0usize;
    for token in tokens {
        match token {
            IndToken::Str {
                text,
                indentation: true,
            } => {
                for c in text.chars() {
                    if at_start_of_line {
                        if c == ' ' {
                            cur_indent += 1;
                        } else if c == '\n' {
                            cur_indent = 0;
                        } else {
                            at_start_of_line = false;
                            min_indent = min_indent.min(cur_indent);
                        }
                    } else if c == '\n' {
                        at_start_of_line = true;
                        cur_indent = 0;
                    }
                }
            }
            _ => {
                if at_start_of_line {
                    at_start_of_line = false;
                    min_indent = min_indent.min(cur_indent);
                }
            }
        }
    }
    min_indent
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ind(parts: Vec<Part<&'static str, &'static str>>) -> Vec<Part<String, &'static str>> {
        indented_string(parts, |s| *s)
    }

    fn text(s: &str) -> Vec<Part<String, &'static str>> {
        vec![Part::Text(s.into())]
    }

    #[test]
    fn strips_common_indentation() {
        assert_eq!(
            ind(vec![Part::Text("\n    foo\n      bar\n    ")]),
            text("foo\n  bar\n")
        );
        assert_eq!(ind(vec![Part::Text("  \n  a\n\n  b")]), text("a\n\nb"));
        assert_eq!(ind(vec![Part::Text("\n  ")]), vec![]);
        assert_eq!(ind(vec![]), vec![]);
        assert_eq!(ind(vec![Part::Text("\n    end")]), text("end"));
    }

    #[test]
    fn escapes() {
        assert_eq!(ind(vec![Part::Text("a''$b'''c''\\nd")]), text("a$b''c\nd"));
        // An escape ends the leading whitespace of its line.
        assert_eq!(
            ind(vec![Part::Text("\n  ''\\t x\n    y")]),
            text("\t x\n  y")
        );
        assert_eq!(ind(vec![Part::Text("$$x '")]), text("$$x '"));
    }

    #[test]
    fn interpolation_counts_for_indentation() {
        assert_eq!(
            ind(vec![Part::Interp("e"), Part::Text("\n    end")]),
            vec![Part::Interp("e"), Part::Text("\n    end".into())]
        );
        assert_eq!(
            ind(vec![
                Part::Text("\n    "),
                Part::Interp("e"),
                Part::Text("\n    x\n  ")
            ]),
            vec![Part::Interp("e"), Part::Text("\nx\n".into())]
        );
    }

    #[test]
    fn plain_escapes() {
        assert_eq!(unescape(r#"a\nb\tc\rd\"e\\f\$g"#), "a\nb\tc\rd\"e\\f$g");
        assert_eq!(unescape("a\r\nb\rc"), "a\nb\nc");
    }
}
