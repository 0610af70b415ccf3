//! Hash algorithms and the textual hash formats Nix uses: base-16, Nix's base-32
//! ("nix32"), base-64 and SRI, with Nix's parsing rules and error messages.

use std::fmt::Write;

/// Nix's base-32 alphabet (no `e`, `o`, `u`, `t`).
pub const NIX32_CHARS: &[u8; 32] = b"0123456789abcdfghijklmnpqrsvwxyz";

const BASE64_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Length of the nix32 encoding of `n` bytes.
pub fn nix32_len(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (n * 8 - 1) / 5 + 1
    }
}

/// Encodes bytes in Nix's base-32: 5-bit groups taken from the end of the input,
/// so the first character holds the most significant bits of the last byte.
pub fn nix32_encode(bytes: &[u8]) -> String {
    let len = nix32_len(bytes.len());
    let mut s = String::with_capacity(len);
    for n in (0..len).rev() {
        let b = n * 5;
        let (i, j) = (b / 8, b % 8);
        let lo = bytes[i] >> j;
        let hi = if i + 1 < bytes.len() {
            (bytes[i + 1] as u16) << (8 - j)
        } else {
            0
        };
        let c = (lo as u16 | hi) & 0x1f;
        s.push(NIX32_CHARS[c as usize] as char);
    }
    s
}

/// Decodes Nix's base-32 into `size` bytes; `None` on a bad character, a wrong
/// length or bits that do not fit.
pub fn nix32_decode(s: &str, size: usize) -> Option<Vec<u8>> {
    if s.len() != nix32_len(size) {
        return None;
    }
    let mut out = vec![0u8; size];
    for (n, c) in s.bytes().rev().enumerate() {
        let digit = NIX32_CHARS.iter().position(|&x| x == c)? as u16;
        let b = n * 5;
        let (i, j) = (b / 8, b % 8);
        out[i] |= (digit << j) as u8;
        let carry = digit >> (8 - j);
        if i + 1 < size {
            out[i + 1] |= carry as u8;
        } else if carry != 0 {
            return None;
        }
    }
    Some(out)
}

/// Lowercase hexadecimal.
pub fn base16_encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Decodes hexadecimal (either case); `None` on a bad digit or odd length.
pub fn base16_decode(s: &str) -> Option<Vec<u8>> {
    let digits = s.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    digits
        .chunks(2)
        .map(|p| Some(hex(p[0])? << 4 | hex(p[1])?))
        .collect()
}

/// Standard base-64 with `=` padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (k, &b)| acc | (b as u32) << (16 - 8 * k));
        for k in 0..4 {
            if k <= chunk.len() {
                s.push(BASE64_CHARS[(n >> (18 - 6 * k)) as usize & 0x3f] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Decodes base-64 as leniently as Nix: stops at the first `=`, skips newlines and
/// ignores trailing bits; `None` on any other character outside the alphabet.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 3);
    let (mut d, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        if c == b'=' {
            break;
        }
        if c == b'\n' {
            continue;
        }
        let digit = BASE64_CHARS.iter().position(|&x| x == c)? as u32;
        d = (d << 6 | digit) & 0xffff;
        bits += 6;
        if bits >= 8 {
            out.push((d >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// A hash algorithm Nix knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgo {
    Md5,
    Sha1,
    Sha256,
    Sha512,
    Blake3,
}

impl HashAlgo {
    /// Parses an algorithm name, failing with Nix's message.
    pub fn parse(name: &str) -> Result<HashAlgo, String> {
        match name {
            "md5" => Ok(HashAlgo::Md5),
            "sha1" => Ok(HashAlgo::Sha1),
            "sha256" => Ok(HashAlgo::Sha256),
            "sha512" => Ok(HashAlgo::Sha512),
            "blake3" => Ok(HashAlgo::Blake3),
            _ => Err(format!(
                "unknown hash algorithm '{name}', expect 'blake3', 'md5', 'sha1', 'sha256', or 'sha512'"
            )),
        }
    }
    /// The algorithm's name (`sha256`).
    pub fn name(self) -> &'static str {
        match self {
            HashAlgo::Md5 => "md5",
            HashAlgo::Sha1 => "sha1",
            HashAlgo::Sha256 => "sha256",
            HashAlgo::Sha512 => "sha512",
            HashAlgo::Blake3 => "blake3",
        }
    }
    /// Digest size in bytes.
    pub fn size(self) -> usize {
        match self {
            HashAlgo::Md5 => 16,
            HashAlgo::Sha1 => 20,
            HashAlgo::Sha256 | HashAlgo::Blake3 => 32,
            HashAlgo::Sha512 => 64,
        }
    }
    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Hash {
        use sha2::Digest;
        let bytes = match self {
            HashAlgo::Md5 => md5::Md5::digest(data).to_vec(),
            HashAlgo::Sha1 => sha1::Sha1::digest(data).to_vec(),
            HashAlgo::Sha256 => sha2::Sha256::digest(data).to_vec(),
            HashAlgo::Sha512 => sha2::Sha512::digest(data).to_vec(),
            HashAlgo::Blake3 => blake3::hash(data).as_bytes().to_vec(),
        };
        Hash { algo: self, bytes }
    }
}

/// A textual hash format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashFormat {
    Base16,
    Nix32,
    Base64,
    /// `<algo>-<base64>`.
    Sri,
}

impl HashFormat {
    /// Parses a format name (`base32` is Nix's deprecated alias of `nix32`).
    pub fn parse(name: &str) -> Result<HashFormat, String> {
        match name {
            "base16" => Ok(HashFormat::Base16),
            "nix32" | "base32" => Ok(HashFormat::Nix32),
            "base64" => Ok(HashFormat::Base64),
            "sri" => Ok(HashFormat::Sri),
            _ => Err(format!(
                "unknown hash format '{name}', expect 'base16', 'base32', 'base64', or 'sri'"
            )),
        }
    }
}

/// A digest together with its algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hash {
    pub algo: HashAlgo,
    pub bytes: Vec<u8>,
}

impl Hash {
    /// Renders the hash; SRI always carries the algorithm, other formats never do.
    pub fn to_string(&self, format: HashFormat) -> String {
        match format {
            HashFormat::Base16 => base16_encode(&self.bytes),
            HashFormat::Nix32 => nix32_encode(&self.bytes),
            HashFormat::Base64 => base64_encode(&self.bytes),
            HashFormat::Sri => format!("{}-{}", self.algo.name(), base64_encode(&self.bytes)),
        }
    }

    /// Parses a hash in any format, as Nix's `Hash::parseAny`: an optional `<algo>:`
    /// or SRI `<algo>-` prefix, then base-16, nix32 or base-64 told apart by length.
    /// `algo` is the algorithm known from context, if any.
    pub fn parse_any(text: &str, algo: Option<HashAlgo>) -> Result<Hash, String> {
        let (prefix, rest, is_sri) = match text.split_once(':') {
            Some((p, r)) => (Some(p), r, false),
            None => match text.split_once('-') {
                Some((p, r)) => (Some(p), r, true),
                None => (None, text, false),
            },
        };
        let parsed = prefix.map(HashAlgo::parse).transpose()?;
        let algo = match (parsed, algo) {
            (None, None) => {
                return Err(format!(
                    "hash '{rest}' does not include a type, nor is the type otherwise known from context"
                ))
            }
            (Some(p), Some(a)) if p != a => {
                return Err(format!("hash '{text}' should have type '{}'", a.name()))
            }
            (Some(a), _) | (None, Some(a)) => a,
        };
        Self::parse_body(rest, algo, is_sri)
    }

    /// Parses the part after any prefix, for a known algorithm.
    fn parse_body(rest: &str, algo: HashAlgo, is_sri: bool) -> Result<Hash, String> {
        let size = algo.size();
        let bytes = if !is_sri && rest.len() == size * 2 {
            base16_decode(rest).ok_or_else(|| format!("invalid base-16 hash '{rest}'"))?
        } else if !is_sri && rest.len() == nix32_len(size) {
            nix32_decode(rest, size).ok_or_else(|| format!("invalid base-32 hash '{rest}'"))?
        } else if is_sri || rest.len() == size.div_ceil(3) * 4 {
            let kind = if is_sri { "SRI" } else { "base-64" };
            match base64_decode(rest) {
                Some(d) if d.len() == size => d,
                _ => return Err(format!("invalid {kind} hash '{rest}'")),
            }
        } else {
            return Err(format!(
                "hash '{rest}' has wrong length for hash algorithm '{}'",
                algo.name()
            ));
        };
        Ok(Hash { algo, bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values from Nix's eval-okay-convertHash.exp / eval-okay-hashstring.exp.
    const SHA256_EMPTY_HEX: &str =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn nix32_roundtrip() {
        let h = HashAlgo::Sha256.digest(b"");
        assert_eq!(base16_encode(&h.bytes), SHA256_EMPTY_HEX);
        let s = nix32_encode(&h.bytes);
        assert_eq!(s, "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73");
        assert_eq!(nix32_decode(&s, 32), Some(h.bytes));
        assert_eq!(
            nix32_encode(&HashAlgo::Md5.digest(b"").bytes),
            "3y8bwfr609h3lh9ch0izcqq7fl"
        );
        assert_eq!(nix32_encode(&[]), "");
    }

    #[test]
    fn nix32_rejects_overflow_and_bad_chars() {
        // The top character of a 32-byte hash may only carry 1 bit.
        assert_eq!(
            nix32_decode("2mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73", 32),
            None
        );
        assert_eq!(
            nix32_decode("emdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73", 32),
            None
        );
    }

    #[test]
    fn base64() {
        let h = HashAlgo::Sha256.digest(b"");
        assert_eq!(
            base64_encode(&h.bytes),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        assert_eq!(
            base64_encode(&HashAlgo::Md5.digest(b"").bytes),
            "1B2M2Y8AsgTpgAmY7PhCfg=="
        );
        assert_eq!(
            base64_decode("1B2M2Y8AsgTpgAmY7PhCfg=="),
            Some(HashAlgo::Md5.digest(b"").bytes)
        );
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_decode("YWI"), Some(b"ab".to_vec()));
        assert_eq!(base64_decode("Y!"), None);
    }

    #[test]
    fn parse_any_formats() {
        let want = HashAlgo::Sha256.digest(b"");
        for text in [
            format!("sha256:{SHA256_EMPTY_HEX}"),
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".into(),
            "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73".into(),
            "sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".into(),
        ] {
            assert_eq!(Hash::parse_any(&text, None).as_ref(), Ok(&want), "{text}");
        }
        assert_eq!(
            Hash::parse_any(SHA256_EMPTY_HEX, Some(HashAlgo::Sha256)),
            Ok(want.clone())
        );
        assert_eq!(
            Hash::parse_any(SHA256_EMPTY_HEX, None),
            Err(format!("hash '{SHA256_EMPTY_HEX}' does not include a type, nor is the type otherwise known from context"))
        );
        assert_eq!(
            Hash::parse_any("sha256:abc", Some(HashAlgo::Sha1)),
            Err("hash 'sha256:abc' should have type 'sha1'".into())
        );
        assert_eq!(
            Hash::parse_any("sha256:abc", None),
            Err("hash 'abc' has wrong length for hash algorithm 'sha256'".into())
        );
        assert_eq!(
            Hash::parse_any("sha1-abc", None),
            Err("invalid SRI hash 'abc'".into())
        );
        assert_eq!(
            want.to_string(HashFormat::Sri),
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
