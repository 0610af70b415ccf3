//! Nix's byte strings carried in Rust `str`, losslessly.
//!
//! Nix strings, attribute names, paths and source files are byte strings: they need not be
//! UTF-8. String *values* are stored as bytes (`NixString` in kith-eval); text that
//! travels through `str`-based machinery (the parser, interned symbols, paths, messages) is
//! [`encode`]d: valid UTF-8 stays as it is, and every other byte `b` (0x80–0xFF) becomes the
//! private-use character U+10FF00 + `b`. Characters of that range that were in the input
//! are themselves encoded byte by byte, so [`decode`] gives back exactly the bytes that were
//! encoded, and `encode` gives one text per byte string (equal texts, equal bytes).
//!
//! The encoded range is U+10FF80–U+10FFFF, whose UTF-8 forms all start `F4 8F BE` or
//! `F4 8F BF`; text without the byte `F4` holds no encoded bytes, which keeps the common
//! case a single scan.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The first character of the encoded range: byte `b` is `BASE + b`.
const BASE: u32 = 0x10_FF00;

/// The byte `c` stands for, if it is an encoded byte.
#[inline]
pub fn encoded_byte(c: char) -> Option<u8> {
    let c = c as u32;
    if c >= BASE + 0x80 {
        Some((c - BASE) as u8)
    } else {
        None
    }
}

/// The text standing for `bytes` (see the module documentation).
pub fn encode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.as_bytes().contains(&0xF4) => Cow::Borrowed(s),
        _ => Cow::Owned(encode_slow(bytes)),
    }
}

/// [`encode`] of owned bytes, without copying in the common case.
pub fn encode_owned(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) if !s.as_bytes().contains(&0xF4) => s,
        Ok(s) => encode_slow(s.as_bytes()),
        Err(e) => encode_slow(e.as_bytes()),
    }
}

#[cold]
fn encode_slow(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    while !bytes.is_empty() {
        let (valid, rest) = match std::str::from_utf8(bytes) {
            Ok(s) => (s, &[][..]),
            Err(e) => {
                let (ok, bad) = bytes.split_at(e.valid_up_to());
                let bad_len = e.error_len().unwrap_or(bad.len());
                // The first `valid_up_to` bytes are valid UTF-8.
                let s = std::str::from_utf8(ok).unwrap_or_default();
                push_valid(&mut out, s);
                push_raw(&mut out, &bad[..bad_len]);
                bytes = &bad[bad_len..];
                continue;
            }
        };
        push_valid(&mut out, valid);
        bytes = rest;
    }
    out
}

/// Appends each of `raw`'s bytes (all 0x80 or above) as its encoded character.
fn push_raw(out: &mut String, raw: &[u8]) {
    for &b in raw {
        out.push(char::from_u32(BASE + u32::from(b)).unwrap_or('\u{FFFD}'));
    }
}

/// Appends valid text, encoding the characters of the reserved range byte by byte.
fn push_valid(out: &mut String, s: &str) {
    for c in s.chars() {
        if encoded_byte(c).is_some() {
            let mut buf = [0; 4];
            push_raw(out, c.encode_utf8(&mut buf).as_bytes());
        } else {
            out.push(c);
        }
    }
}

/// The bytes `s` stands for (see [`encode`]).
pub fn decode(s: &str) -> Cow<'_, [u8]> {
    if !s.as_bytes().contains(&0xF4) {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match encoded_byte(c) {
            Some(b) => out.push(b),
            None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    Cow::Owned(out)
}

/// The bytes `s` stands for, as text for a human: bytes that are not UTF-8 become U+FFFD.
pub fn decode_lossy(s: &str) -> Cow<'_, str> {
    match decode(s) {
        Cow::Borrowed(_) => Cow::Borrowed(s),
        Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
    }
}

/// The file-system path an encoded path text names (file names are bytes on Unix).
pub fn to_path(s: &str) -> Cow<'_, Path> {
    match decode(s) {
        Cow::Borrowed(_) => Cow::Borrowed(Path::new(s)),
        Cow::Owned(b) => Cow::Owned(PathBuf::from(OsString::from_vec(b))),
    }
}

/// A file-system path or name as encoded text, every byte kept.
pub fn from_os(s: &OsStr) -> Cow<'_, str> {
    encode(s.as_bytes())
}

/// Compares the byte strings two encoded texts stand for (Nix's order of names).
#[inline]
pub fn cmp(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let Some(i) = x.iter().zip(y).position(|(p, q)| p != q) else {
        return x.len().cmp(&y.len());
    };
    // Equal up to `i`, so both texts have a character starting at the same place; if
    // neither is an encoded byte, comparing their UTF-8 forms compares the bytes.
    if in_encoded_char(x, i) || in_encoded_char(y, i) {
        return decode(a).cmp(&decode(b));
    }
    x[i].cmp(&y[i])
}

/// Whether byte `i` of the UTF-8 text `s` belongs to an encoded byte's character.
fn in_encoded_char(s: &[u8], i: usize) -> bool {
    let start = (i.saturating_sub(3)..=i)
        .rev()
        .find(|&j| s[j] & 0xC0 != 0x80)
        .unwrap_or(i);
    s[start] == 0xF4 && s.get(start + 1) == Some(&0x8F) && s.get(start + 2) >= Some(&0xBE)
}

/// The escape of `c` that Nix string literals, JSON strings and ATerm strings (`.drv`
/// files) share: `"`, `\`, newline, carriage return and tab. Each format adds its own
/// rules on top (`${` in Nix, other control characters in JSON).
pub fn quoted_escape(c: char) -> Option<&'static str> {
    match c {
        '"' => Some("\\\""),
        '\\' => Some("\\\\"),
        '\n' => Some("\\n"),
        '\r' => Some("\\r"),
        '\t' => Some("\\t"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(b: &[u8]) {
        let e = encode(b);
        assert_eq!(&*decode(&e), b, "{e:?}");
        assert_eq!(encode_owned(b.to_vec()), e);
    }

    #[test]
    fn valid_text_is_unchanged() {
        assert!(matches!(encode("héllo ✓".as_bytes()), Cow::Borrowed(_)));
        assert!(matches!(decode("héllo ✓"), Cow::Borrowed(_)));
        round_trip("héllo ✓ 𝄞".as_bytes());
    }

    #[test]
    fn invalid_bytes_round_trip() {
        round_trip(b"\xc3");
        round_trip(b"a\xffb\xc3\xa9\xc3");
        round_trip(b"\xa9\xc3");
        round_trip("\u{10FF80}\u{10FFFF}\u{10FF7F}".as_bytes());
        round_trip(b"\xf4\x8f\xbe");
        // Every byte string of length 2 round-trips.
        for x in 0..=255u8 {
            for y in 0..=255u8 {
                round_trip(&[x, y]);
            }
        }
    }

    #[test]
    fn encoding_is_one_to_one() {
        let a = encode(b"\xc3\xa9");
        assert_eq!(a, "é");
        assert_ne!(encode(b"\xc3"), encode("\u{10FFC3}".as_bytes()));
    }

    #[test]
    fn order_is_byte_order() {
        let cases: &[&[u8]] = &[
            b"",
            b"a",
            b"\x80",
            b"\xc3",
            b"\xc3\xa9",
            b"\xc3\xa9x",
            b"\xff",
            b"z",
            "\u{10FFFF}".as_bytes(),
            "\u{10FF80}".as_bytes(),
            "\u{FFFF}".as_bytes(),
        ];
        for a in cases {
            for b in cases {
                assert_eq!(cmp(&encode(a), &encode(b)), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }
}
