//! The selector grammar of `clan select`, parsed exactly as clan's Python `parse_selector`
//! (`clan_lib/flake/flake.py`) parses it: that parser, not nix-select's, decides what the
//! CLI sends to Nix.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One segment of a selector, in the JSON form clan sends to Nix
/// (`{"type":"str","value":"x"}`, `{"type":"all"}`, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum Selector {
    /// `*`: every attribute, or every list element.
    All,
    /// `name`: one attribute, or (a JSON integer) one list index.
    Str(String),
    /// `{a,?b}`: several attributes or list indices.
    Set(Vec<SetItem>),
    /// `?name`: the attribute if present, wrapped as `{name: …}`, else `{}`.
    Maybe(String),
}

/// A member of a [`Selector::Set`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum SetItem {
    /// `name`: must exist.
    Str(String),
    /// `?name`: dropped when absent.
    Maybe(String),
}

impl SetItem {
    /// The attribute name (or list index) the member names.
    pub fn name(&self) -> &str {
        match self {
            SetItem::Str(s) | SetItem::Maybe(s) => s,
        }
    }
}

/// Why a selector does not parse; displayed as clan's `ValueError` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectorError {
    /// A character other than `.` after `*` or `}`. Clan's message is literally
    /// `expected ., but got {c}` (its f-string prefix is missing).
    ExpectedDot {
        /// The offending character.
        found: char,
    },
    /// `outPath` as a member of a set.
    OutPathInSet,
    /// The selector ended inside a quote, an escape or a set: the parser's mode stack.
    Unterminated {
        /// The stack, bottom first (`["set", "quote"]`).
        stack: Vec<&'static str>,
    },
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectorError::ExpectedDot { .. } => f.write_str("expected ., but got {c}"),
            SelectorError::OutPathInSet => f.write_str(
                "Cannot use 'outPath' in multiselect {...}. When nix evaluates attrsets with \
                 outPath in a multiselect, it collapses the entire attrset to just the outPath \
                 string, breaking further selection. Use individual selectors instead.",
            ),
            SelectorError::Unterminated { stack } => {
                let items: Vec<String> = stack.iter().map(|s| format!("'{s}'")).collect();
                write!(f, "expected empty stack, but got [{}]", items.join(", "))
            }
        }
    }
}

impl std::error::Error for SelectorError {}

/// Parser modes, as the names on clan's stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    End,
    Str,
    Maybe,
    Set,
    Quote,
    Escape,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::End => "end",
            Mode::Str => "str",
            Mode::Maybe => "maybe",
            Mode::Set => "set",
            Mode::Quote => "quote",
            Mode::Escape => "escape",
        }
    }
}

/// What the set member being read is so far (clan's `submode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sub {
    None,
    Str,
    Maybe,
}

/// Parses a selector as clan's `parse_selector` does (see the crate's reference notes:
/// quoting only at a segment's start and in sets, `\` escapes but not at a segment's start,
/// `.` literal in sets, a trailing `.` ignored, `{}` an empty set).
pub fn parse(s: &str) -> Result<Vec<Selector>, SelectorError> {
    let mut stack: Vec<Mode> = Vec::new();
    let mut out = Vec::new();
    let mut acc = String::new();
    let mut sub = Sub::None;
    let mut items: Vec<SetItem> = Vec::new();
    for c in s.chars() {
        match stack.last().copied() {
            Some(Mode::End) => {
                if c != '.' {
                    return Err(SelectorError::ExpectedDot { found: c });
                }
                // `end` is only ever pushed on an empty stack.
                stack.pop();
            }
            None => match c {
                '*' => {
                    stack.push(Mode::End);
                    out.push(Selector::All);
                }
                '?' => stack.push(Mode::Maybe),
                '"' => stack.extend([Mode::Str, Mode::Quote]),
                '{' => stack.push(Mode::Set),
                '.' => out.push(Selector::Str(acc.clone())),
                _ => {
                    stack.push(Mode::Str);
                    acc.push(c);
                }
            },
            Some(Mode::Set) => match c {
                '?' if sub == Sub::None => sub = Sub::Maybe,
                '\\' | '"' => {
                    stack.push(if c == '\\' { Mode::Escape } else { Mode::Quote });
                    if sub == Sub::None {
                        sub = Sub::Str;
                    }
                }
                ',' => {
                    items.push(set_item(sub, std::mem::take(&mut acc)));
                    sub = Sub::None;
                }
                '}' => {
                    if !acc.is_empty() || sub != Sub::None {
                        items.push(set_item(sub, std::mem::take(&mut acc)));
                    }
                    if items.iter().any(|i| i.name() == "outPath") {
                        return Err(SelectorError::OutPathInSet);
                    }
                    out.push(Selector::Set(std::mem::take(&mut items)));
                    sub = Sub::None;
                    acc.clear();
                    stack.pop();
                    stack.push(Mode::End);
                }
                _ => {
                    acc.push(c);
                    if sub == Sub::None {
                        sub = Sub::Str;
                    }
                }
            },
            Some(Mode::Quote) => match c {
                '"' => {
                    stack.pop();
                }
                '\\' => stack.push(Mode::Escape),
                _ => acc.push(c),
            },
            Some(Mode::Escape) => {
                stack.pop();
                acc.push(c);
            }
            Some(mode @ (Mode::Str | Mode::Maybe)) => match c {
                '.' => {
                    stack.pop();
                    out.push(segment(mode, std::mem::take(&mut acc)));
                }
                '\\' => stack.push(Mode::Escape),
                _ => acc.push(c),
            },
        }
    }
    match stack.last().copied() {
        None | Some(Mode::End) => {}
        Some(mode @ (Mode::Str | Mode::Maybe)) => out.push(segment(mode, acc)),
        Some(_) => {
            return Err(SelectorError::Unterminated {
                stack: stack.iter().map(|m| m.name()).collect(),
            })
        }
    }
    Ok(out)
}

fn set_item(sub: Sub, name: String) -> SetItem {
    match sub {
        Sub::Maybe => SetItem::Maybe(name),
        _ => SetItem::Str(name),
    }
}

fn segment(mode: Mode, name: String) -> Selector {
    match mode {
        Mode::Maybe => Selector::Maybe(name),
        _ => Selector::Str(name),
    }
}

/// Writes `name` with a backslash before each character in `special`.
fn escaped(f: &mut fmt::Formatter<'_>, name: &str, special: &[char]) -> fmt::Result {
    for c in name.chars() {
        if special.contains(&c) {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    Ok(())
}

impl fmt::Display for Selector {
    /// A segment in a form [`parse`] reads back to the same segment (a set naming `outPath`
    /// excepted: clan rejects it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::All => f.write_str("*"),
            Selector::Str(s) => {
                let plain = !s.is_empty()
                    && !s.starts_with(['*', '?', '"', '{', '.'])
                    && !s.contains(['.', '\\']);
                if plain {
                    f.write_str(s)
                } else {
                    f.write_str("\"")?;
                    escaped(f, s, &['"', '\\'])?;
                    f.write_str("\"")
                }
            }
            Selector::Maybe(s) => {
                f.write_str("?")?;
                escaped(f, s, &['.', '\\'])
            }
            Selector::Set(items) => {
                f.write_str("{")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    match item {
                        SetItem::Str(s) if s.is_empty() => f.write_str("\"\"")?,
                        SetItem::Str(s) => match s.strip_prefix('?') {
                            Some(tail) => {
                                f.write_str("\\?")?;
                                escaped(f, tail, &['\\', ',', '}', '"'])?;
                            }
                            None => escaped(f, s, &['\\', ',', '}', '"'])?,
                        },
                        SetItem::Maybe(s) => {
                            f.write_str("?")?;
                            escaped(f, s, &['\\', ',', '}', '"'])?;
                        }
                    }
                }
                f.write_str("}")
            }
        }
    }
}

/// A whole selector (segments joined by `.`) in a form [`parse`] reads back.
pub fn display(selectors: &[Selector]) -> String {
    let parts: Vec<String> = selectors.iter().map(Selector::to_string).collect();
    parts.join(".")
}
