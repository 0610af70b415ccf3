//! JSON printed exactly as Python's `json.dumps(value, indent=4)` prints it: what
//! `clan select` writes (before `print`'s newline).

use serde_json::Value as Json;
use std::fmt::Write as _;

/// `json.dumps(value, indent=4)`: four-space indentation, `,` at line ends and `": "`
/// after keys, `{}`/`[]` when empty, non-ASCII escaped as `\uXXXX` (surrogate pairs above
/// U+FFFF), floats as Python's `repr`.
pub fn dumps(value: &Json) -> String {
    let mut out = String::new();
    match value {
        // A large object (a whole view): its entries written by all threads, in chunks
        // joined in order (each entry's text does not depend on the others').
        Json::Object(map) if map.len() >= PARALLEL_ENTRIES => {
            use rayon::prelude::*;
            let entries: Vec<(&String, &Json)> = map.iter().collect();
            let chunks: Vec<String> = entries
                .par_chunks(PARALLEL_ENTRIES / 4)
                .map(|chunk| {
                    let mut out = String::new();
                    for (k, v) in chunk {
                        out.push(',');
                        newline(&mut out, 1);
                        write_string(&mut out, k);
                        out.push_str(": ");
                        write_value(&mut out, v, 1);
                    }
                    out
                })
                .collect();
            out.reserve(chunks.iter().map(String::len).sum::<usize>() + 3);
            out.push('{');
            for (i, c) in chunks.iter().enumerate() {
                // Each chunk starts with the comma the entry before it needs.
                out.push_str(if i == 0 { &c[1..] } else { c });
            }
            newline(&mut out, 0);
            out.push('}');
        }
        _ => write_value(&mut out, value, 0),
    }
    out
}

/// From how many entries [`dumps`] writes an object's entries in parallel.
const PARALLEL_ENTRIES: usize = 4096;

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("    ");
    }
}

fn write_value(out: &mut String, value: &Json, depth: usize) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => {
                let _ = write!(out, "{i}");
            }
            (None, Some(u), _) => {
                let _ = write!(out, "{u}");
            }
            (None, None, Some(f)) => out.push_str(&python_float(f)),
            (None, None, None) => out.push_str("NaN"),
        },
        Json::String(s) => write_string(out, s),
        Json::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_value(out, item, depth + 1);
            }
            newline(out, depth);
            out.push(']');
        }
        Json::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_string(out, k);
                out.push_str(": ");
                write_value(out, v, depth + 1);
            }
            newline(out, depth);
            out.push('}');
        }
    }
}

/// A string as Python's `ensure_ascii` encoder writes it.
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    // Runs of characters written as they are go in at once.
    let mut plain = 0;
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            ' '..='~' => continue,
            _ => "",
        };
        out.push_str(&s[plain..i]);
        plain = i + c.len_utf8();
        if escaped.is_empty() {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{u:04x}");
            }
        } else {
            out.push_str(escaped);
        }
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

/// A float as Python's `repr`: the shortest digits that read back, positional for
/// decimal exponents from -4 to 15 (with `.0` when integral), else `d.ddde±XX`.
pub fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `-1.2345e-7`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let n = digits.len() as i32;
        let body = if exp < 0 {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        } else if exp + 1 >= n {
            format!("{}{}.0", digits, "0".repeat((exp + 1 - n) as usize))
        } else {
            let (int, frac) = digits.split_at((exp + 1) as usize);
            format!("{int}.{frac}")
        };
        format!("{sign}{body}")
    } else {
        let (first, more) = digits.split_at(1);
        let frac = if more.is_empty() {
            String::new()
        } else {
            format!(".{more}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{frac}e{esign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escaped_as_python() {
        let mut out = String::new();
        write_string(&mut out, "a\"b\\c\nd\u{7f}\u{1}é😀 ~end");
        // json.dumps("a\"b\\c\nd\x7f\x01é😀 ~end")
        assert_eq!(out, r#""a\"b\\c\nd\u007f\u0001\u00e9\ud83d\ude00 ~end""#);
    }

    #[test]
    fn a_large_object_in_parallel_as_in_one_piece() {
        let map: serde_json::Map<String, Json> = (0..PARALLEL_ENTRIES * 2 + 7)
            .map(|i| {
                (
                    format!("key \"{i}\" é"),
                    serde_json::json!({ "n": i, "l": [i, "x\ny"], "e": {} }),
                )
            })
            .collect();
        let v = Json::Object(map);
        let mut one = String::new();
        write_value(&mut one, &v, 0);
        assert_eq!(dumps(&v), one);
    }
}
