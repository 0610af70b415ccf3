//! JSON as clan's CLI reads and writes `inventory.json` (Python's `json.load` and
//! `json.dump(…, indent=2)`): objects keep their key order, integers their digits, floats
//! are printed as Python's `repr`, strings ASCII-only with `\uXXXX` escapes, and values
//! compare as Python's `==` does.

use crate::select::output::{python_float, write_string};
use std::fmt::Write;

/// A JSON value with ordered objects.
#[derive(Clone, Debug)]
pub enum Json {
    /// `null`.
    Null,
    /// `true`/`false`.
    Bool(bool),
    /// An integer, as its canonical decimal digits.
    Int(String),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, keys in order (a repeated key keeps its first place and its last value).
    Obj(Vec<(String, Json)>),
}

impl PartialEq for Json {
    fn eq(&self, other: &Json) -> bool {
        use Json::*;
        match (self, other) {
            (Null, Null) => true,
            (Str(a), Str(b)) => a == b,
            (Arr(a), Arr(b)) => a == b,
            (Obj(a), Obj(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && v == v2))
            }
            (a, b) => match (a.number(), b.number()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        }
    }
}

impl Json {
    /// The value as a number, as Python compares `bool`, `int` and `float`.
    fn number(&self) -> Option<f64> {
        match self {
            Json::Bool(b) => Some(f64::from(u8::from(*b))),
            Json::Int(s) => s.parse().ok(),
            Json::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The entry `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The entry `key` of an object, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        match self {
            Json::Obj(m) => m.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets `key` of an object (in place if present, else appended).
    pub fn insert(&mut self, key: &str, value: Json) {
        if let Json::Obj(m) = self {
            match m.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = value,
                None => m.push((key.to_string(), value)),
            }
        }
    }

    /// Removes `key` of an object, returning whether it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        if let Json::Obj(m) = self {
            if let Some(i) = m.iter().position(|(k, _)| k == key) {
                m.remove(i);
                return true;
            }
        }
        false
    }

    /// Whether this is an object.
    pub fn is_obj(&self) -> bool {
        matches!(self, Json::Obj(_))
    }

    /// Python's name of the value's type (`<class 'str'>`), for clan's messages.
    pub fn py_type(&self) -> &'static str {
        match self {
            Json::Null => "<class 'NoneType'>",
            Json::Bool(_) => "<class 'bool'>",
            Json::Int(_) => "<class 'int'>",
            Json::Float(_) => "<class 'float'>",
            Json::Str(_) => "<class 'str'>",
            Json::Arr(_) => "<class 'list'>",
            Json::Obj(_) => "<class 'dict'>",
        }
    }

    /// Whether `self` and `other` have the same Python type.
    pub fn same_type(&self, other: &Json) -> bool {
        self.py_type() == other.py_type()
    }

    /// Python's `repr` of the value, for clan's messages.
    pub fn py_repr(&self) -> String {
        match self {
            Json::Null => "None".into(),
            Json::Bool(true) => "True".into(),
            Json::Bool(false) => "False".into(),
            Json::Int(s) => s.clone(),
            Json::Float(f) => python_float(*f),
            Json::Str(s) => {
                let q = if s.contains('\'') && !s.contains('"') {
                    '"'
                } else {
                    '\''
                };
                let mut out = String::new();
                out.push(q);
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        c if c == q => {
                            out.push('\\');
                            out.push(c);
                        }
                        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                            let _ = write!(out, "\\x{:02x}", c as u32);
                        }
                        c => out.push(c),
                    }
                }
                out.push(q);
                out
            }
            Json::Arr(a) => format!(
                "[{}]",
                a.iter().map(Json::py_repr).collect::<Vec<_>>().join(", ")
            ),
            Json::Obj(m) => format!(
                "{{{}}}",
                m.iter()
                    .map(|(k, v)| format!("{}: {}", Json::Str(k.clone()).py_repr(), v.py_repr()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The value as `json.dumps(value, indent=2)` prints it (no trailing newline).
    pub fn dumps(&self) -> String {
        let mut out = String::new();
        self.dump(&mut out, 0);
        out
    }

    fn dump(&self, out: &mut String, level: usize) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(s) => out.push_str(s),
            Json::Float(f) => out.push_str(&python_float(*f)),
            Json::Str(s) => write_string(out, s),
            Json::Arr(a) if a.is_empty() => out.push_str("[]"),
            Json::Obj(m) if m.is_empty() => out.push_str("{}"),
            Json::Arr(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, level + 1);
                    v.dump(out, level + 1);
                }
                newline(out, level);
                out.push(']');
            }
            Json::Obj(m) => {
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, level + 1);
                    write_string(out, k);
                    out.push_str(": ");
                    v.dump(out, level + 1);
                }
                newline(out, level);
                out.push('}');
            }
        }
    }

    /// Parses JSON text (RFC 8259; Python's errors are not reproduced).
    pub fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
            depth: 0,
        };
        p.ws();
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(p.err("Extra data"));
        }
        Ok(v)
    }

    /// A value from `serde_json` (objects in its order).
    pub fn from_serde(v: &serde_json::Value) -> Json {
        match v {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(*b),
            serde_json::Value::Number(n) if n.is_f64() => Json::Float(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::Number(n) => Json::Int(n.to_string()),
            serde_json::Value::String(s) => Json::Str(s.clone()),
            serde_json::Value::Array(a) => Json::Arr(a.iter().map(Json::from_serde).collect()),
            serde_json::Value::Object(m) => Json::Obj(
                m.iter()
                    .map(|(k, v)| (k.clone(), Json::from_serde(v)))
                    .collect(),
            ),
        }
    }
}

fn newline(out: &mut String, level: usize) {
    out.push('\n');
    for _ in 0..level {
        out.push_str("  ");
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> String {
        let before = &self.s[..self.i.min(self.s.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let col = self.i
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1)
            + 1;
        format!("{what}: line {line} column {col} (char {})", self.i)
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        if self.depth > 512 {
            return Err(self.err("Nesting too deep"));
        }
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                self.depth += 1;
                let mut m: Vec<(String, Json)> = Vec::new();
                self.ws();
                if self.eat("}") {
                    self.depth -= 1;
                    return Ok(Json::Obj(m));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return Err(self.err("Expecting property name enclosed in double quotes"));
                    }
                    let k = self.string()?;
                    self.ws();
                    if !self.eat(":") {
                        return Err(self.err("Expecting ':' delimiter"));
                    }
                    self.ws();
                    let v = self.value()?;
                    match m.iter_mut().find(|(k2, _)| *k2 == k) {
                        Some((_, old)) => *old = v,
                        None => m.push((k, v)),
                    }
                    self.ws();
                    if self.eat(",") {
                        continue;
                    }
                    if self.eat("}") {
                        self.depth -= 1;
                        return Ok(Json::Obj(m));
                    }
                    return Err(self.err("Expecting ',' delimiter"));
                }
            }
            Some(b'[') => {
                self.i += 1;
                self.depth += 1;
                let mut a = Vec::new();
                self.ws();
                if self.eat("]") {
                    self.depth -= 1;
                    return Ok(Json::Arr(a));
                }
                loop {
                    self.ws();
                    a.push(self.value()?);
                    self.ws();
                    if self.eat(",") {
                        continue;
                    }
                    if self.eat("]") {
                        self.depth -= 1;
                        return Ok(Json::Arr(a));
                    }
                    return Err(self.err("Expecting ',' delimiter"));
                }
            }
            Some(b'"') => Ok(Json::Str(self.string()?)),
            _ if self.eat("null") => Ok(Json::Null),
            _ if self.eat("true") => Ok(Json::Bool(true)),
            _ if self.eat("false") => Ok(Json::Bool(false)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err("Expecting value")),
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.i < p.s.len() && p.s[p.i].is_ascii_digit() {
                p.i += 1;
            }
            p.i > s
        };
        self.eat("-");
        let int_start = self.i;
        if !digits(self) {
            self.i = start;
            return Err(self.err("Expecting value"));
        }
        if self.s[int_start] == b'0' && self.i - int_start > 1 {
            self.i = int_start + 1;
            return Err(self.err("Extra data"));
        }
        let mut float = false;
        if self.s.get(self.i) == Some(&b'.') {
            let save = self.i;
            self.i += 1;
            if digits(self) {
                float = true;
            } else {
                self.i = save;
            }
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            let save = self.i;
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) {
                float = true;
            } else {
                self.i = save;
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("0");
        if float {
            Ok(Json::Float(text.parse().unwrap_or(f64::INFINITY)))
        } else {
            let t = text.trim_start_matches('-');
            Ok(Json::Int(if t == "0" {
                "0".into()
            } else {
                text.to_string()
            }))
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&b) = self.s.get(self.i) else {
                return Err(self.err("Unterminated string starting at"));
            };
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.i) else {
                        return Err(self.err("Unterminated string starting at"));
                    };
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            if (0xd800..0xdc00).contains(&hi)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xdc00..0xe000).contains(&lo) {
                                    let c = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                                    char::from_u32(c).unwrap_or('\u{fffd}')
                                } else {
                                    self.i = save;
                                    '\u{fffd}'
                                }
                            } else {
                                char::from_u32(hi).unwrap_or('\u{fffd}')
                            }
                        }
                        _ => return Err(self.err("Invalid \\escape")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                b if b < 0x20 => return Err(self.err("Invalid control character at")),
                b => out.push(b),
            }
        }
        String::from_utf8(out).map_err(|_| self.err("Invalid UTF-8 in string"))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.err("Invalid \\uXXXX escape"))?;
        self.i += 4;
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumps_as_python() {
        let v = Json::parse(
            r#"{"b": [1, 2.5, {}], "a": {"x": []}, "é": "ü\n\"", "n": null, "t": true}"#,
        )
        .unwrap();
        assert_eq!(
            v.dumps(),
            "{\n  \"b\": [\n    1,\n    2.5,\n    {}\n  ],\n  \"a\": {\n    \"x\": []\n  },\n  \"\\u00e9\": \"\\u00fc\\n\\\"\",\n  \"n\": null,\n  \"t\": true\n}"
        );
    }

    #[test]
    fn floats_as_python_repr() {
        for (f, s) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (123.456, "123.456"),
        ] {
            assert_eq!(python_float(f), s);
        }
    }

    #[test]
    fn keeps_order_and_compares_as_python() {
        let a = Json::parse(r#"{"z": 1, "a": 2, "z": 3}"#).unwrap();
        assert_eq!(a.dumps(), "{\n  \"z\": 3,\n  \"a\": 2\n}");
        assert_eq!(a, Json::parse(r#"{"a": 2.0, "z": 3}"#).unwrap());
        assert!(Json::parse("[1,]").is_err());
        assert!(Json::parse("{} x").is_err());
        assert_eq!(
            Json::parse("\"\\ud83d\\ude00\"").unwrap().dumps(),
            "\"\\ud83d\\ude00\""
        );
    }
}
