//! Store paths computed without a store.
//!
//! kith never writes to the Nix store: it computes the paths Nix would create, byte for byte
//! (`"${./p}"`, `builtins.path`, `filterSource`, `toFile`). A store path is
//! `<storeDir>/<nix32 of the 20-byte compressed sha256 of a fingerprint>-<name>`, the
//! fingerprint being `<type>:sha256:<hex digest>:<storeDir>:<name>`.

use crate::error::{Error, Result};
use crate::fs::FileSystem;
use crate::hash::{base16_encode, nix32_encode, Hash, HashAlgo};
use crate::nar;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The longest allowed store path name.
pub const MAX_NAME_LEN: usize = 211;

/// How file-system contents are hashed into a store path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ingestion {
    /// The hash of a single file's contents.
    Flat,
    /// The hash of the NAR serialisation (files, directories, symlinks).
    Recursive,
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    base16_encode(bytes)
}

/// XOR-folds a hash to `size` bytes (Nix's `compressHash`).
pub fn compress_hash(hash: &[u8], size: usize) -> Vec<u8> {
    let mut out = vec![0u8; size];
    for (i, b) in hash.iter().enumerate() {
        out[i % size] ^= b;
    }
    out
}

/// Checks a store path name as Nix does; the error is Nix's message without prefix
/// (`name '~x' contains illegal character '~'`).
pub fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err("name must not be empty".into());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "name '{name}' must be no longer than {MAX_NAME_LEN} characters"
        ));
    }
    for dots in [".", ".."] {
        if name == dots {
            return Err(format!("name '{name}' is not valid"));
        }
        if name.strip_prefix(dots).is_some_and(|r| r.starts_with('-')) {
            return Err(format!(
                "name '{name}' is not valid: first dash-separated component must not be '{dots}'"
            ));
        }
    }
    match name.chars().find(|&c| !is_name_char(c)) {
        Some(c) => Err(format!("name '{name}' contains illegal character '{c}'")),
        None => Ok(()),
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_' | '?' | '=')
}

/// `<storeDir>/<hash>-<name>` for a fingerprint type (`source`, `text:<refs>`,
/// `output:out`) and the SHA-256 digest of the contents. Fails like Nix for invalid names.
pub fn make_store_path(store_dir: &str, ty: &str, digest: &[u8; 32], name: &str) -> Result<String> {
    let fingerprint = format!("{ty}:sha256:{}:{store_dir}:{name}", hex(digest));
    let h = Sha256::digest(fingerprint.as_bytes());
    let base = format!("{}-{name}", nix32_encode(&compress_hash(&h, 20)));
    if let Err(m) = check_name(name) {
        return Err(Error::new(format!(
            "path '{base}' is not a valid store path: {m}"
        )));
    }
    Ok(format!("{store_dir}/{base}"))
}

/// The type prefix with references appended (`text:/nix/store/a:/nix/store/b`).
fn type_with_refs(ty: &str, refs: &BTreeSet<String>) -> String {
    let mut s = ty.to_string();
    for r in refs {
        s.push(':');
        s.push_str(r);
    }
    s
}

/// The path of a text file (`builtins.toFile`) with `contents` referring to `refs`.
pub fn make_text_path(
    store_dir: &str,
    name: &str,
    contents: &[u8],
    refs: &BTreeSet<String>,
) -> Result<String> {
    let digest: [u8; 32] = Sha256::digest(contents).into();
    make_store_path(store_dir, &type_with_refs("text", refs), &digest, name)
}

/// The path of content-addressed data with SHA-256 `digest` (of the NAR for
/// [`Ingestion::Recursive`], of the file for [`Ingestion::Flat`]).
pub fn make_fixed_output_path(
    store_dir: &str,
    name: &str,
    method: Ingestion,
    digest: &[u8; 32],
    refs: &BTreeSet<String>,
) -> Result<String> {
    if method == Ingestion::Recursive {
        return make_store_path(store_dir, &type_with_refs("source", refs), digest, name);
    }
    let inner = format!("fixed:out:sha256:{}:", hex(digest));
    let inner: [u8; 32] = Sha256::digest(inner.as_bytes()).into();
    make_store_path(store_dir, "output:out", &inner, name)
}

/// Parses a SHA-256 hash in any of Nix's notations: base-16, Nix base-32, base-64, or
/// SRI / prefixed (`sha256-…`, `sha256:…`).
pub fn parse_sha256(s: &str) -> std::result::Result<[u8; 32], String> {
    let h = Hash::parse_any(s, Some(HashAlgo::Sha256))?;
    <[u8; 32]>::try_from(h.bytes).map_err(|_| format!("hash '{s}' is not a SHA-256 hash"))
}

/// The last component of a canonical path (`""` for `/`).
pub fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `path` with symlinks resolved in its parent directories but not in the last component;
/// fails with Nix's message if it does not exist.
pub fn resolve_ancestors(fs: &dyn FileSystem, path: &str) -> Result<PathBuf> {
    let p = crate::bytestr::to_path(path);
    let resolved = match (p.parent(), p.file_name()) {
        (Some(parent), Some(file)) => fs.canonicalize(parent).map(|d| d.join(file)),
        _ => Ok(p.to_path_buf()),
    };
    match resolved {
        Ok(r) if fs.lstat(&r).is_ok() => Ok(r),
        _ => Err(Error::new(format!("path '{path}' does not exist"))),
    }
}

/// What [`add_path`] adds: `builtins.path`'s and `filterSource`'s arguments.
pub struct AddPath<'a> {
    /// The absolute source path.
    pub path: &'a str,
    pub name: &'a str,
    pub method: Ingestion,
    /// The expected SHA-256 (of the NAR or the flat file).
    pub expected: Option<[u8; 32]>,
}

/// The store path `path` (read from `fs`) would be added as, `filter` deciding which
/// entries below it go in. Fails like Nix when the result differs from the expected hash's
/// path.
pub fn add_path<E: From<Error>>(
    fs: &dyn FileSystem,
    store_dir: &str,
    args: &AddPath<'_>,
    filter: &mut nar::Filter<'_, E>,
) -> std::result::Result<String, E> {
    let real = resolve_ancestors(fs, args.path)?;
    let digest = match args.method {
        Ingestion::Recursive => nar::nar_sha256(fs, &real, filter)?,
        Ingestion::Flat => flat_sha256(fs, &real)?,
    };
    Ok(added_path(store_dir, args, &digest)?)
}

/// [`add_path`] for an in-memory text file (a `builtins.toFile` result) with `contents`;
/// path filters are not asked about the root, as for a file on disk.
pub fn add_text_file(store_dir: &str, args: &AddPath<'_>, contents: &[u8]) -> Result<String> {
    let digest = match args.method {
        Ingestion::Recursive => nar::nar_sha256_of_contents(contents, false),
        Ingestion::Flat => Sha256::digest(contents).into(),
    };
    added_path(store_dir, args, &digest)
}

/// The store path of `args` with `digest`, checked against the expected hash.
fn added_path(store_dir: &str, args: &AddPath<'_>, digest: &[u8; 32]) -> Result<String> {
    let refs = BTreeSet::new();
    let actual = make_fixed_output_path(store_dir, args.name, args.method, digest, &refs)?;
    if let Some(expected) = &args.expected {
        let want = make_fixed_output_path(store_dir, args.name, args.method, expected, &refs)?;
        if want != actual {
            return Err(Error::new(format!(
                "store path mismatch in (possibly filtered) path added from '{}'",
                args.path
            )));
        }
    }
    Ok(actual)
}

/// SHA-256 of a regular file for flat ingestion (symlinks followed, as Nix reads them).
fn flat_sha256(fs: &dyn FileSystem, path: &Path) -> Result<[u8; 32]> {
    let meta = fs
        .stat(path)
        .map_err(|e| Error::new(crate::fs::io_message("getting status of", path, &e)))?;
    if meta.kind == crate::fs::FileKind::Directory {
        // Nix's wording (2.26) when flat-hashing a directory.
        return Err(Error::new("reading from file: Is a directory"));
    }
    nar::file_sha256(fs, path)
}

/// Canonicalises a path lexically as Nix does: absolute, no `.`/`..` components, no
/// repeated or trailing slashes. Symlinks are not resolved.
pub fn canon_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return "/".into();
    }
    let mut out = String::with_capacity(p.len());
    for c in parts {
        out.push('/');
        out.push_str(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_path_matches_nix() {
        // nix-instantiate --eval --expr 'builtins.toFile "a" "b"'
        let p = make_text_path("/nix/store", "a", b"b", &BTreeSet::new()).unwrap();
        assert_eq!(p, "/nix/store/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a");
    }

    #[test]
    fn invalid_name_error_names_the_path() {
        // Nix 2.26 reports "store path 'z1x7…-a~' contains illegal character '~'".
        let e = make_text_path("/nix/store", "", b"b", &BTreeSet::new()).unwrap_err();
        assert_eq!(
            e.message,
            "path '034zkal2sj4qr4zikfcsdk8ih3hjx7wc-' is not a valid store path: name must not be empty"
        );
    }

    /// A fresh directory under the system temp dir.
    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kith-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn source_path(p: &Path) -> String {
        let digest =
            nar::nar_sha256::<Error>(&crate::fs::OsFileSystem, p, &mut |_, _| Ok(true)).unwrap();
        let name = base_name(p.to_str().unwrap());
        make_fixed_output_path(
            "/nix/store",
            name,
            Ingestion::Recursive,
            &digest,
            &BTreeSet::new(),
        )
        .unwrap()
    }

    #[test]
    fn source_paths_match_nix() {
        use std::os::unix::fs::PermissionsExt;
        let root = temp_dir("src");
        std::fs::write(root.join("f"), "hello\n").unwrap();
        // nix-instantiate --eval --expr '"${./f}"'
        assert_eq!(
            source_path(&root.join("f")),
            "/nix/store/xp0dpr9yz5h0fk5c5lpj7zzqjbdh3w8c-f"
        );
        let d = root.join("d");
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("a"), "x\n").unwrap();
        std::fs::write(d.join("sub/b"), "y\n").unwrap();
        std::fs::set_permissions(d.join("sub/b"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("a", d.join("link")).unwrap();
        // A directory with a file, an executable in a subdirectory and a symlink.
        assert_eq!(
            source_path(&d),
            "/nix/store/bfx9c1m433spyvhkysv9vq47c1ga2jsh-d"
        );
        // Flat: builtins.path { path = ./f; recursive = false; }
        let digest = nar::file_sha256(&crate::fs::OsFileSystem, &root.join("f")).unwrap();
        let flat = make_fixed_output_path(
            "/nix/store",
            "f",
            Ingestion::Flat,
            &digest,
            &BTreeSet::new(),
        );
        assert_eq!(
            flat.unwrap(),
            "/nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f"
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn names() {
        assert!(check_name("foo-1.0_+?=").is_ok());
        assert_eq!(
            check_name("~x~").unwrap_err(),
            "name '~x~' contains illegal character '~'"
        );
        assert_eq!(check_name("..").unwrap_err(), "name '..' is not valid");
        assert!(check_name(".-x").is_err());
        assert!(check_name("..foo").is_ok());
        assert_eq!(check_name("").unwrap_err(), "name must not be empty");
    }

    #[test]
    fn parse_hash_notations() {
        let h = [7u8; 32];
        assert_eq!(parse_sha256(&hex(&h)), Ok(h));
        assert_eq!(parse_sha256(&nix32_encode(&h)), Ok(h));
        assert_eq!(parse_sha256(&format!("sha256:{}", hex(&h))), Ok(h));
        assert_eq!(
            parse_sha256("sha256-BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="),
            Ok(h)
        );
        assert!(parse_sha256("abc").is_err());
    }
}
