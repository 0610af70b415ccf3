//! A JSON parser producing Nix values, with nlohmann::json's error messages (which Nix
//! shows verbatim): `[json.exception.parse_error.101] parse error at line 1, column 4:
//! syntax error while parsing value - unexpected ']'; expected '[', '{', or a literal`.

use crate::source::Span;
use crate::symbol::Symbol;
use crate::value::{Attr, Attrs, Value};

/// Why a text is not JSON Nix reads.
#[derive(Debug, PartialEq)]
pub enum ParseError {
    /// A syntax or range error of nlohmann's parser (Nix adds "while decoding a JSON
    /// string" to it).
    Syntax(String),
    /// An error of Nix's own reader: a number outside Nix's integers, a NUL byte.
    Value(String),
}

/// Parses `text` ([`crate::bytestr`]-encoded: its bytes are read, as nlohmann reads a Nix
/// string) into a value.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let bytes = crate::bytestr::decode(text);
    let mut p = Parser {
        lx: Lexer::new(&bytes),
    };
    let tok = p.lx.next();
    let v = p.value(tok)?;
    let tok = p.lx.next();
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
    Str(Vec<u8>),
    /// A number, with the kind nlohmann's lexer gave it.
    Number(Number),
    /// A lexical error, with nlohmann's description.
    Error(&'static str),
    End,
}

/// How nlohmann's lexer classed a number: without sign, fraction or exponent; negative
/// without fraction or exponent; or with either.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Number {
    Unsigned,
    Integer,
    Float,
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
            Tok::Number(_) => "number literal",
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
    fn prefix(&self) -> String {
        format!(
            "[json.exception.parse_error.101] parse error at line {}, column {}: ",
            self.lx.lines + 1,
            self.lx.column
        )
    }

    fn syntax_error(&self, context: &str, tok: &Tok, expected: Option<&str>) -> ParseError {
        let mut m = format!("{}syntax error while parsing {context} - ", self.prefix());
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
        ParseError::Syntax(m)
    }

    fn value(&mut self, tok: Tok) -> Result<Value, ParseError> {
        match tok {
            Tok::True => Ok(Value::Bool(true)),
            Tok::False => Ok(Value::Bool(false)),
            Tok::Null => Ok(Value::Null),
            Tok::Number(kind) => self.number(kind),
            Tok::Str(s) => Ok(Value::string(check_nul(s)?)),
            Tok::BeginArray => stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.array()),
            Tok::BeginObject => stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.object()),
            // nlohmann names no expected token after a lexical error in a value.
            t @ Tok::Error(_) => Err(self.syntax_error("value", &t, None)),
            Tok::End if self.lx.total == 1 => Err(ParseError::Syntax(format!(
                "{}attempting to parse an empty input; check that your input string or stream contains the expected JSON",
                self.prefix()
            ))),
            t => Err(self.syntax_error("value", &t, Some(VALUE_START))),
        }
    }

    /// The value of the number just read, as nlohmann converts it and Nix's reader takes
    /// it: an integer that does not fit is read as a float.
    fn number(&self, kind: Number) -> Result<Value, ParseError> {
        let text = std::str::from_utf8(&self.lx.buffer).expect("ASCII digits and signs");
        match kind {
            Number::Unsigned => {
                if let Ok(u) = text.parse::<u64>() {
                    return match i64::try_from(u) {
                        Ok(i) => Ok(Value::Int(i)),
                        Err(_) => Err(ParseError::Value(format!(
                            "unsigned json number {u} outside of Nix integer range"
                        ))),
                    };
                }
            }
            Number::Integer => {
                if let Ok(i) = text.parse::<i64>() {
                    return Ok(Value::Int(i));
                }
            }
            Number::Float => {}
        }
        let f: f64 = text.parse().expect("a lexically valid number");
        if f.is_infinite() {
            return Err(ParseError::Syntax(format!(
                "[json.exception.out_of_range.406] number overflow parsing '{}'",
                self.lx.token_string()
            )));
        }
        Ok(Value::Float(f))
    }

    fn array(&mut self) -> Result<Value, ParseError> {
        let mut items = Vec::new();
        let mut tok = self.lx.next();
        if tok == Tok::EndArray {
            return Ok(Value::list(items));
        }
        loop {
            items.push(self.value(tok)?);
            match self.lx.next() {
                Tok::Comma => tok = self.lx.next(),
                Tok::EndArray => return Ok(Value::list(items)),
                t => return Err(self.syntax_error("array", &t, Some("']'"))),
            }
        }
    }

    fn object(&mut self) -> Result<Value, ParseError> {
        let mut entries = Vec::new();
        let mut tok = self.lx.next();
        if tok == Tok::EndObject {
            return Ok(Value::Attrs(Attrs::new()));
        }
        loop {
            let key = match tok {
                Tok::Str(s) => check_nul(s)?,
                t => return Err(self.syntax_error("object key", &t, Some("string literal"))),
            };
            let sep = self.lx.next();
            if sep != Tok::Colon {
                return Err(self.syntax_error("object separator", &sep, Some("':'")));
            }
            let t = self.lx.next();
            let value = self.value(t)?;
            entries.push(Attr {
                name: Symbol::new(&crate::bytestr::encode(&key)),
                value,
                span: Span::NONE,
            });
            match self.lx.next() {
                Tok::Comma => tok = self.lx.next(),
                Tok::EndObject => return Ok(Value::Attrs(Attrs::from_entries(entries))),
                t => return Err(self.syntax_error("object", &t, Some("'}'"))),
            }
        }
    }
}

/// Nix strings cannot hold NUL bytes.
fn check_nul(s: Vec<u8>) -> Result<Vec<u8>, ParseError> {
    if s.contains(&0) {
        let shown = String::from_utf8_lossy(&s).replace('\0', "␀");
        return Err(ParseError::Value(format!(
            "input string '{shown}' cannot be represented as Nix string because it contains null bytes"
        )));
    }
    Ok(s)
}

/// nlohmann's lexer over bytes. It counts, as nlohmann does, every byte read (the end of
/// input too) in the column, and keeps the bytes read since the last string or number
/// began (`token`): an error's "last read" shows them, so a structural character or a
/// literal read before an error is part of it.
struct Lexer<'a> {
    input: &'a [u8],
    pos: usize,
    /// The byte last read (`None`: the end of input).
    current: Option<u8>,
    /// Whether `current` is to be read again (after `unget`).
    again: bool,
    /// Bytes read in all (`chars_read_total`).
    total: usize,
    /// Bytes read on the current line (the column of messages).
    column: usize,
    /// Lines ended (the line of messages, less one).
    lines: usize,
    /// The bytes read since the current string or number began.
    token: Vec<u8>,
    /// A string's decoded bytes, or a number's text.
    buffer: Vec<u8>,
}

/// Byte ranges a UTF-8 sequence's continuation bytes must fall in, by its first byte, as
/// nlohmann's string scanner checks them (`None`: the byte cannot begin a sequence).
fn continuation_ranges(first: u8) -> Option<&'static [(u8, u8)]> {
    const ANY: (u8, u8) = (0x80, 0xBF);
    Some(match first {
        0xC2..=0xDF => &[ANY],
        0xE0 => &[(0xA0, 0xBF), ANY],
        0xE1..=0xEC | 0xEE | 0xEF => &[ANY, ANY],
        0xED => &[(0x80, 0x9F), ANY],
        0xF0 => &[(0x90, 0xBF), ANY, ANY],
        0xF1..=0xF3 => &[ANY, ANY, ANY],
        0xF4 => &[(0x80, 0x8F), ANY, ANY],
        _ => return None,
    })
}

impl<'a> Lexer<'a> {
    fn new(input: &'a [u8]) -> Self {
        Lexer {
            input,
            pos: 0,
            current: None,
            again: false,
            total: 0,
            column: 0,
            lines: 0,
            token: Vec::new(),
            buffer: Vec::new(),
        }
    }

    fn get(&mut self) -> Option<u8> {
        self.total += 1;
        self.column += 1;
        if self.again {
            self.again = false;
        } else {
            self.current = self.input.get(self.pos).copied();
            if self.current.is_some() {
                self.pos += 1;
            }
        }
        if let Some(c) = self.current {
            self.token.push(c);
            if c == b'\n' {
                self.lines += 1;
                self.column = 0;
            }
        }
        self.current
    }

    /// Makes the next `get` return the current byte again.
    fn unget(&mut self) {
        self.again = true;
        self.total -= 1;
        if self.column == 0 {
            self.lines = self.lines.saturating_sub(1);
        } else {
            self.column -= 1;
        }
        if self.current.is_some() {
            self.token.pop();
        }
    }

    /// Starts a string or a number at the current byte.
    fn reset(&mut self) {
        self.buffer.clear();
        self.token.clear();
        self.token.extend(self.current);
    }

    /// The bytes read since the current token began, control characters as `<U+XXXX>`.
    fn token_string(&self) -> String {
        let mut out = Vec::new();
        for &c in &self.token {
            if c < 0x20 {
                out.extend_from_slice(format!("<U+{c:04X}>").as_bytes());
            } else {
                out.push(c);
            }
        }
        crate::bytestr::encode_owned(out)
    }

    /// Skips a byte order mark at the start: false if one begins but is cut short.
    fn skip_bom(&mut self) -> bool {
        if self.get() == Some(0xEF) {
            return self.get() == Some(0xBB) && self.get() == Some(0xBF);
        }
        self.unget();
        true
    }

    fn next(&mut self) -> Tok {
        if self.total == 0 && !self.skip_bom() {
            return Tok::Error("invalid BOM; must be 0xEF 0xBB 0xBF if given");
        }
        while matches!(self.get(), Some(b' ' | b'\t' | b'\n' | b'\r')) {}
        match self.current {
            // A NUL byte ends the input, as the end of a C string.
            None | Some(0) => Tok::End,
            Some(b'[') => Tok::BeginArray,
            Some(b']') => Tok::EndArray,
            Some(b'{') => Tok::BeginObject,
            Some(b'}') => Tok::EndObject,
            Some(b':') => Tok::Colon,
            Some(b',') => Tok::Comma,
            Some(b't') => self.literal(b"rue", Tok::True),
            Some(b'f') => self.literal(b"alse", Tok::False),
            Some(b'n') => self.literal(b"ull", Tok::Null),
            Some(b'"') => self.string(),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Tok::Error("invalid literal"),
        }
    }

    fn literal(&mut self, rest: &[u8], tok: Tok) -> Tok {
        for &want in rest {
            if self.get() != Some(want) {
                return Tok::Error("invalid literal");
            }
        }
        tok
    }

    fn string(&mut self) -> Tok {
        self.reset();
        loop {
            let Some(c) = self.get() else {
                return Tok::Error("invalid string: missing closing quote");
            };
            match c {
                b'"' => return Tok::Str(std::mem::take(&mut self.buffer)),
                b'\\' => {
                    if let Err(e) = self.escape() {
                        return Tok::Error(e);
                    }
                }
                0..=0x1F => return Tok::Error(control_message(c)),
                0x20..=0x7F => self.buffer.push(c),
                _ => {
                    let Some(ranges) = continuation_ranges(c) else {
                        return Tok::Error("invalid string: ill-formed UTF-8 byte");
                    };
                    self.buffer.push(c);
                    for &(lo, hi) in ranges {
                        match self.get() {
                            Some(b) if (lo..=hi).contains(&b) => self.buffer.push(b),
                            _ => return Tok::Error("invalid string: ill-formed UTF-8 byte"),
                        }
                    }
                }
            }
        }
    }

    fn escape(&mut self) -> Result<(), &'static str> {
        let c = match self.get() {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0C,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => {
                let c = self.unicode_escape()?;
                let mut utf8 = [0; 4];
                self.buffer
                    .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                return Ok(());
            }
            _ => return Err("invalid string: forbidden character after backslash"),
        };
        self.buffer.push(c);
        Ok(())
    }

    /// Four hex digits; an error at the first byte that is not one.
    fn hex4(&mut self) -> Result<u32, &'static str> {
        let mut v = 0;
        for _ in 0..4 {
            let d = self.get().and_then(|c| (c as char).to_digit(16));
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
                if self.get() != Some(b'\\') || self.get() != Some(b'u') {
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

    /// Reads digits into the buffer; returns the first byte that is not one.
    fn digits(&mut self) -> Option<u8> {
        loop {
            match self.get() {
                Some(c) if c.is_ascii_digit() => self.buffer.push(c),
                c => return c,
            }
        }
    }

    /// A number, its text in the buffer, as nlohmann's state machine reads it.
    fn number(&mut self) -> Tok {
        self.reset();
        let first = self.current.expect("a sign or a digit");
        self.buffer.push(first);
        let mut kind = Number::Unsigned;
        let mut c = Some(first);
        if first == b'-' {
            kind = Number::Integer;
            c = self.get();
            match c {
                Some(d) if d.is_ascii_digit() => self.buffer.push(d),
                _ => return Tok::Error("invalid number; expected digit after '-'"),
            }
        }
        // Integer part: a single 0, or a run of digits.
        c = if c == Some(b'0') {
            self.get()
        } else {
            self.digits()
        };
        if c == Some(b'.') {
            kind = Number::Float;
            self.buffer.push(b'.');
            match self.get() {
                Some(d) if d.is_ascii_digit() => self.buffer.push(d),
                _ => return Tok::Error("invalid number; expected digit after '.'"),
            }
            c = self.digits();
        }
        if let Some(e @ (b'e' | b'E')) = c {
            kind = Number::Float;
            self.buffer.push(e);
            match self.get() {
                Some(s @ (b'+' | b'-')) => {
                    self.buffer.push(s);
                    match self.get() {
                        Some(d) if d.is_ascii_digit() => self.buffer.push(d),
                        _ => {
                            return Tok::Error("invalid number; expected digit after exponent sign")
                        }
                    }
                }
                Some(d) if d.is_ascii_digit() => self.buffer.push(d),
                _ => {
                    return Tok::Error("invalid number; expected '+', '-', or digit after exponent")
                }
            }
            self.digits();
        }
        self.unget();
        Tok::Number(kind)
    }
}

fn control_message(c: u8) -> &'static str {
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
            Err(ParseError::Syntax(e) | ParseError::Value(e)) => e,
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
        assert_eq!(err(""), format!("{p}1: attempting to parse an empty input; check that your input string or stream contains the expected JSON"));
        assert_eq!(err(" "), format!("{p}2: syntax error while parsing value - unexpected end of input; expected '[', '{{', or a literal"));
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

    /// nlohmann's lexer as Nix 2.26 runs it: a leading byte order mark is skipped; "last
    /// read" shows every byte since the current string or number began (structural
    /// characters, whitespace and literals before an error too); columns count bytes; a
    /// UTF-8 sequence in a string is checked byte by byte.
    #[test]
    fn lexer_state_like_nix() {
        let p = "[json.exception.parse_error.101] parse error at line 1, column ";
        let bytes = |b: &[u8]| crate::bytestr::encode(b).into_owned();
        assert!(matches!(
            parse(&bytes(b"\xef\xbb\xbf[1]")),
            Ok(Value::List(_))
        ));
        // A message with raw bytes: `before`, the bytes, `after`.
        let raw = |before: &str, b: &[u8], after: &str| {
            bytes(&[before.as_bytes(), b, after.as_bytes()].concat())
        };
        let literal = "syntax error while parsing value - invalid literal; last read:";
        assert_eq!(
            err(&bytes(b"{\"a\": 1}\xef\xbb\xbf")),
            raw(
                &format!("{p}9: {literal} '1}}"),
                b"\xef",
                "'; expected end of input"
            )
        );
        assert_eq!(
            err(&bytes(b" \xef\xbb\xbf{}")),
            raw(&format!("{p}2: {literal} ' "), b"\xef", "'")
        );
        assert_eq!(err(&bytes(b"\xef\xbb\xbf")), format!("{p}4: syntax error while parsing value - unexpected end of input; expected '[', '{{', or a literal"));
        assert_eq!(
            err(&bytes(b"\xef\xbb")),
            raw(
                &format!("{p}3: syntax error while parsing value - invalid BOM; must be 0xEF 0xBB 0xBF if given; last read: '"),
                b"\xef\xbb",
                "'"
            )
        );
        assert_eq!(err("[1, x]"), format!("{p}5: {literal} '1, x'"));
        assert_eq!(
            err("  [true, fals]"),
            format!("{p}14: {literal} '  [true, fals]'")
        );
        assert_eq!(err("[1,\n 2,\n x]"), format!("[json.exception.parse_error.101] parse error at line 3, column 2: {literal} '2,<U+000A> x'"));
        assert_eq!(err("[0x10]"), format!("{p}3: syntax error while parsing array - invalid literal; last read: '0x'; expected ']'"));
        assert_eq!(
            err(&bytes(b"\"\xc3\"")),
            raw(
                &format!("{p}3: syntax error while parsing value - invalid string: ill-formed UTF-8 byte; last read: '\""),
                b"\xc3",
                "\"'"
            )
        );
        assert_eq!(err("[\"é\", x]"), format!("{p}8: {literal} '\"é\", x'"));
        assert_eq!(
            err(&bytes(b"[1, 2, \xc3\xa9]")),
            raw(&format!("{p}8: {literal} '2, "), b"\xc3", "'")
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
