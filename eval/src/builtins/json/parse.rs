//! A JSON parser producing Nix values, with nlohmann::json's error messages (which Nix
//! shows verbatim): `[json.exception.parse_error.101] parse error at line 1, column 4:
//! syntax error while parsing value - unexpected ']'; expected '[', '{', or a literal`.

use crate::source::Span;
use crate::symbol::Symbol;
use crate::value::{Attr, Attrs, Value};

/// Parses `text` into a value; the error is the message Nix shows.
pub fn parse(text: &str) -> Result<Value, String> {
    let mut p = Parser {
        lx: Lexer::new(text),
    };
    let tok = p.lx.next()?;
    let v = p.value(tok)?;
    let tok = p.lx.next()?;
    if tok != Tok::End {
        return Err(p.syntax_error("value", &tok, Some("end of input")));
    }
    Ok(v)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    BeginArray,
    EndArray,
    BeginObject,
    EndObject,
    Colon,
    Comma,
    True,
    False,
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    /// A lexical error, with nlohmann's description.
    Error(&'static str),
    End,
}

impl Tok {
    fn describe(&self) -> &'static str {
        match self {
            Tok::BeginArray => "'['",
            Tok::EndArray => "']'",
            Tok::BeginObject => "'{'",
            Tok::EndObject => "'}'",
            Tok::Colon => "':'",
            Tok::Comma => "','",
            Tok::True => "true literal",
            Tok::False => "false literal",
            Tok::Null => "null literal",
            Tok::Str(_) => "string literal",
            Tok::Int(_) | Tok::Float(_) => "number literal",
            Tok::Error(_) => "<parse error>",
            Tok::End => "end of input",
        }
    }
}

const VALUE_START: &str = "'[', '{', or a literal";

struct Parser<'a> {
    lx: Lexer<'a>,
}

impl Parser<'_> {
    fn syntax_error(&self, context: &str, tok: &Tok, expected: Option<&str>) -> String {
        let mut m = format!(
            "[json.exception.parse_error.101] parse error at line {}, column {}: syntax error while parsing {context} - ",
            self.lx.line, self.lx.column
        );
        match tok {
            Tok::Error(what) => {
                m.push_str(what);
                m.push_str("; last read: '");
                m.push_str(&self.lx.token_string());
                m.push('\'');
            }
            t => {
                m.push_str("unexpected ");
                m.push_str(t.describe());
            }
        }
        if let Some(e) = expected {
            m.push_str("; expected ");
            m.push_str(e);
        }
        m
    }

    fn value(&mut self, tok: Tok) -> Result<Value, String> {
        match tok {
            Tok::True => Ok(Value::Bool(true)),
            Tok::False => Ok(Value::Bool(false)),
            Tok::Null => Ok(Value::Null),
            Tok::Int(i) => Ok(Value::Int(i)),
            Tok::Float(f) => Ok(Value::Float(f)),
            Tok::Str(s) => Ok(Value::string(check_nul(s)?)),
            Tok::BeginArray => stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.array()),
            Tok::BeginObject => stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.object()),
            // nlohmann names no expected token after a lexical error in a value.
            t @ Tok::Error(_) => Err(self.syntax_error("value", &t, None)),
            t => Err(self.syntax_error("value", &t, Some(VALUE_START))),
        }
    }

    fn array(&mut self) -> Result<Value, String> {
        let mut items = Vec::new();
        let mut tok = self.lx.next()?;
        if tok == Tok::EndArray {
            return Ok(Value::list(items));
        }
        loop {
            items.push(self.value(tok)?);
            match self.lx.next()? {
                Tok::Comma => tok = self.lx.next()?,
                Tok::EndArray => return Ok(Value::list(items)),
                t => return Err(self.syntax_error("array", &t, Some("']'"))),
            }
        }
    }

    fn object(&mut self) -> Result<Value, String> {
        let mut entries = Vec::new();
        let mut tok = self.lx.next()?;
        if tok == Tok::EndObject {
            return Ok(Value::Attrs(Attrs::new()));
        }
        loop {
            let key = match tok {
                Tok::Str(s) => check_nul(s)?,
                t => return Err(self.syntax_error("object key", &t, Some("string literal"))),
            };
            let sep = self.lx.next()?;
            if sep != Tok::Colon {
                return Err(self.syntax_error("object separator", &sep, Some("':'")));
            }
            let t = self.lx.next()?;
            let value = self.value(t)?;
            entries.push(Attr {
                name: Symbol::new(&key),
                value,
                span: Span::NONE,
            });
            match self.lx.next()? {
                Tok::Comma => tok = self.lx.next()?,
                Tok::EndObject => return Ok(Value::Attrs(Attrs::from_entries(entries))),
                t => return Err(self.syntax_error("object", &t, Some("'}'"))),
            }
        }
    }
}

/// Nix strings cannot hold NUL bytes.
fn check_nul(s: String) -> Result<String, String> {
    if s.contains('\0') {
        return Err(format!(
            "input string '{}' cannot be represented as Nix string because it contains null bytes",
            s.replace('\0', "␀")
        ));
    }
    Ok(s)
}

/// nlohmann's lexer: tracks the 1-based line and the characters read on it (the column in
/// messages), counting the end of input as one read character.
struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    token_start: usize,
    line: usize,
    column: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer {
            text,
            pos: 0,
            token_start: 0,
            line: 1,
            column: 0,
        }
    }

    fn get(&mut self) -> Option<char> {
        self.column += 1;
        match self.text[self.pos..].chars().next() {
            Some(c) => {
                self.pos += c.len_utf8();
                if c == '\n' {
                    self.line += 1;
                    self.column = 0;
                }
                Some(c)
            }
            None => None,
        }
    }

    /// Steps back over the character `c` returned by the last `get`.
    fn unget(&mut self, c: Option<char>) {
        if let Some(c) = c {
            self.pos -= c.len_utf8();
            if c == '\n' {
                self.line -= 1;
            }
        }
        self.column = self.column.saturating_sub(1);
    }

    /// The characters of the current token, control characters as `<U+XXXX>`.
    fn token_string(&self) -> String {
        let mut out = String::new();
        for c in self.text[self.token_start..self.pos].chars() {
            if (c as u32) < 0x20 {
                out.push_str(&format!("<U+{:04X}>", c as u32));
            } else {
                out.push(c);
            }
        }
        out
    }

    fn next(&mut self) -> Result<Tok, String> {
        let c = loop {
            let c = self.get();
            if !matches!(c, Some(' ' | '\t' | '\n' | '\r')) {
                break c;
            }
        };
        self.token_start = self.pos - c.map_or(0, char::len_utf8);
        Ok(match c {
            None => Tok::End,
            Some('[') => Tok::BeginArray,
            Some(']') => Tok::EndArray,
            Some('{') => Tok::BeginObject,
            Some('}') => Tok::EndObject,
            Some(':') => Tok::Colon,
            Some(',') => Tok::Comma,
            Some('t') => self.literal("rue", Tok::True),
            Some('f') => self.literal("alse", Tok::False),
            Some('n') => self.literal("ull", Tok::Null),
            Some('"') => self.string(),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(c)?,
            Some(_) => Tok::Error("invalid literal"),
        })
    }

    fn literal(&mut self, rest: &str, tok: Tok) -> Tok {
        for want in rest.chars() {
            if self.get() != Some(want) {
                return Tok::Error("invalid literal");
            }
        }
        tok
    }

    fn string(&mut self) -> Tok {
        let mut out = String::new();
        loop {
            match self.get() {
                None => return Tok::Error("invalid string: missing closing quote"),
                Some('"') => return Tok::Str(out),
                Some('\\') => match self.escape() {
                    Ok(c) => out.push(c),
                    Err(e) => return Tok::Error(e),
                },
                Some(c) if (c as u32) < 0x20 => return Tok::Error(control_message(c)),
                // A byte that is not UTF-8 (the text is crate::bytestr-encoded).
                Some(c) if crate::bytestr::encoded_byte(c).is_some() => {
                    return Tok::Error("invalid string: ill-formed UTF-8 byte")
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, &'static str> {
        Ok(match self.get() {
            Some('"') => '"',
            Some('\\') => '\\',
            Some('/') => '/',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('t') => '\t',
            Some('u') => return self.unicode_escape(),
            _ => return Err("invalid string: forbidden character after backslash"),
        })
    }

    fn hex4(&mut self) -> Result<u32, &'static str> {
        let mut v = 0;
        for _ in 0..4 {
            let d = self.get().and_then(|c| c.to_digit(16));
            v = v * 16 + d.ok_or("invalid string: '\\u' must be followed by 4 hex digits")?;
        }
        Ok(v)
    }

    fn unicode_escape(&mut self) -> Result<char, &'static str> {
        const BAD_HIGH: &str =
            "invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF";
        const BAD_LOW: &str = "invalid string: surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF";
        let hi = self.hex4()?;
        let cp = match hi {
            0xD800..=0xDBFF => {
                if self.get() != Some('\\') || self.get() != Some('u') {
                    return Err(BAD_HIGH);
                }
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(BAD_HIGH);
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(BAD_LOW),
            _ => hi,
        };
        char::from_u32(cp).ok_or(BAD_LOW)
    }

    fn digits(&mut self) -> Option<char> {
        loop {
            let c = self.get();
            if !c.is_some_and(|c| c.is_ascii_digit()) {
                return c;
            }
        }
    }

    fn number(&mut self, first: char) -> Result<Tok, String> {
        let mut c = Some(first);
        if first == '-' {
            c = self.get();
            if !c.is_some_and(|c| c.is_ascii_digit()) {
                return Ok(Tok::Error("invalid number; expected digit after '-'"));
            }
        }
        // Integer part: a single 0 or a run of digits.
        c = if c == Some('0') {
            self.get()
        } else {
            self.digits()
        };
        let mut is_float = false;
        if c == Some('.') {
            is_float = true;
            c = self.get();
            if !c.is_some_and(|c| c.is_ascii_digit()) {
                return Ok(Tok::Error("invalid number; expected digit after '.'"));
            }
            c = self.digits();
        }
        if matches!(c, Some('e' | 'E')) {
            is_float = true;
            c = self.get();
            if matches!(c, Some('+' | '-')) {
                c = self.get();
                if !c.is_some_and(|c| c.is_ascii_digit()) {
                    return Ok(Tok::Error(
                        "invalid number; expected digit after exponent sign",
                    ));
                }
            } else if !c.is_some_and(|c| c.is_ascii_digit()) {
                return Ok(Tok::Error(
                    "invalid number; expected '+', '-', or digit after exponent",
                ));
            }
            c = self.digits();
        }
        self.unget(c);
        let text = &self.text[self.token_start..self.pos];
        number_value(text, is_float)
    }
}

/// The value of a lexically valid number, as nlohmann and Nix's JSON reader see it.
fn number_value(text: &str, is_float: bool) -> Result<Tok, String> {
    if !is_float {
        if text.starts_with('-') {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Tok::Int(i));
            }
        } else if let Ok(u) = text.parse::<u64>() {
            return match i64::try_from(u) {
                Ok(i) => Ok(Tok::Int(i)),
                Err(_) => Err(format!(
                    "unsigned json number {u} outside of Nix integer range"
                )),
            };
        }
    }
    let f: f64 = text
        .parse()
        .map_err(|_| format!("invalid number '{text}'"))?;
    if f.is_infinite() {
        return Err(format!(
            "[json.exception.out_of_range.406] number overflow parsing '{text}'"
        ));
    }
    Ok(Tok::Float(f))
}

fn control_message(c: char) -> &'static str {
    // nlohmann names each control character; keep the messages static.
    const MESSAGES: [&str; 32] = [
        "invalid string: control character U+0000 (NUL) must be escaped to \\u0000",
        "invalid string: control character U+0001 (SOH) must be escaped to \\u0001",
        "invalid string: control character U+0002 (STX) must be escaped to \\u0002",
        "invalid string: control character U+0003 (ETX) must be escaped to \\u0003",
        "invalid string: control character U+0004 (EOT) must be escaped to \\u0004",
        "invalid string: control character U+0005 (ENQ) must be escaped to \\u0005",
        "invalid string: control character U+0006 (ACK) must be escaped to \\u0006",
        "invalid string: control character U+0007 (BEL) must be escaped to \\u0007",
        "invalid string: control character U+0008 (BS) must be escaped to \\u0008 or \\b",
        "invalid string: control character U+0009 (HT) must be escaped to \\u0009 or \\t",
        "invalid string: control character U+000A (LF) must be escaped to \\u000A or \\n",
        "invalid string: control character U+000B (VT) must be escaped to \\u000B",
        "invalid string: control character U+000C (FF) must be escaped to \\u000C or \\f",
        "invalid string: control character U+000D (CR) must be escaped to \\u000D or \\r",
        "invalid string: control character U+000E (SO) must be escaped to \\u000E",
        "invalid string: control character U+000F (SI) must be escaped to \\u000F",
        "invalid string: control character U+0010 (DLE) must be escaped to \\u0010",
        "invalid string: control character U+0011 (DC1) must be escaped to \\u0011",
        "invalid string: control character U+0012 (DC2) must be escaped to \\u0012",
        "invalid string: control character U+0013 (DC3) must be escaped to \\u0013",
        "invalid string: control character U+0014 (DC4) must be escaped to \\u0014",
        "invalid string: control character U+0015 (NAK) must be escaped to \\u0015",
        "invalid string: control character U+0016 (SYN) must be escaped to \\u0016",
        "invalid string: control character U+0017 (ETB) must be escaped to \\u0017",
        "invalid string: control character U+0018 (CAN) must be escaped to \\u0018",
        "invalid string: control character U+0019 (EM) must be escaped to \\u0019",
        "invalid string: control character U+001A (SUB) must be escaped to \\u001A",
        "invalid string: control character U+001B (ESC) must be escaped to \\u001B",
        "invalid string: control character U+001C (FS) must be escaped to \\u001C",
        "invalid string: control character U+001D (GS) must be escaped to \\u001D",
        "invalid string: control character U+001E (RS) must be escaped to \\u001E",
        "invalid string: control character U+001F (US) must be escaped to \\u001F",
    ];
    MESSAGES[(c as usize) & 0x1f]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse(text) {
            Err(e) => e,
            Ok(_) => panic!("{text:?} parsed"),
        }
    }

    #[test]
    fn errors_like_nix() {
        // Messages from Nix 2.26.
        let p = "[json.exception.parse_error.101] parse error at line 1, column ";
        assert_eq!(err("[1,]"), format!("{p}4: syntax error while parsing value - unexpected ']'; expected '[', '{{', or a literal"));
        assert_eq!(
            err("tru"),
            format!("{p}4: syntax error while parsing value - invalid literal; last read: 'tru'")
        );
        assert_eq!(
            err("[1 2]"),
            format!(
                "{p}4: syntax error while parsing array - unexpected number literal; expected ']'"
            )
        );
        assert_eq!(err("{\"a\" 1}"), format!("{p}6: syntax error while parsing object separator - unexpected number literal; expected ':'"));
        assert_eq!(err("\"\\x\""), format!("{p}3: syntax error while parsing value - invalid string: forbidden character after backslash; last read: '\"\\x'"));
        assert_eq!(err("01"), format!("{p}2: syntax error while parsing value - unexpected number literal; expected end of input"));
        assert_eq!(err(""), format!("{p}1: syntax error while parsing value - unexpected end of input; expected '[', '{{', or a literal"));
        assert_eq!(err("\"\\ud800\""), format!("{p}8: syntax error while parsing value - invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF; last read: '\"\\ud800\"'"));
        assert_eq!(
            err("[1e400]"),
            "[json.exception.out_of_range.406] number overflow parsing '1e400'"
        );
        assert_eq!(
            err("18446744073709551615"),
            "unsigned json number 18446744073709551615 outside of Nix integer range"
        );
        assert_eq!(
            err("\"a\\u0000b\""),
            "input string 'a␀b' cannot be represented as Nix string because it contains null bytes"
        );
    }

    #[test]
    fn numbers() {
        assert!(matches!(
            parse("-9223372036854775808"),
            Ok(Value::Int(i64::MIN))
        ));
        assert!(matches!(parse("-9223372036854775809"), Ok(Value::Float(_))));
        assert!(matches!(parse("18446744073709551616"), Ok(Value::Float(_))));
        assert!(matches!(parse("-0"), Ok(Value::Int(0))));
        assert!(matches!(parse("1E2"), Ok(Value::Float(f)) if f == 100.0));
        assert!(matches!(parse("1.5e-400"), Ok(Value::Float(f)) if f == 0.0));
    }
}
