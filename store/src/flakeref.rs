//! Flake references: `parseFlakeRef`, `flakeRefToString`, and the argument checks that
//! `fetchTree` does before fetching.
//!
//! Follows Nix's `libflake/flakeref.cc` and the input schemes of `libfetchers` (github,
//! gitlab, sourcehut, git, hg, path, indirect, tarball, file), without any I/O: a flake
//! reference is parsed into the attributes of its input and printed back as a URL.

use crate::error::{Error, Result};
use crate::path::canon_path;
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------
// Fetcher attributes and errors

/// One input attribute: Nix's `std::variant<std::string, uint64_t, Explicit<bool>>`.
#[derive(Clone, Debug, PartialEq)]
pub enum FAttr {
    Str(String),
    Int(u64),
    Bool(bool),
}

/// Input attributes, sorted by name like Nix's `std::map`.
pub type FAttrs = BTreeMap<String, FAttr>;

/// Nix's two error classes here: `BadURL` (caught while guessing the flake ref syntax)
/// and any other error.
#[derive(Debug)]
enum FErr {
    BadUrl(String),
    Other(String),
}

type FResult<T> = std::result::Result<T, FErr>;

fn bad_url<T>(msg: String) -> FResult<T> {
    Err(FErr::BadUrl(msg))
}

fn other<T>(msg: String) -> FResult<T> {
    Err(FErr::Other(msg))
}

impl From<FErr> for Error {
    fn from(e: FErr) -> Self {
        match e {
            FErr::BadUrl(m) | FErr::Other(m) => Error::new(m),
        }
    }
}

/// `attrsToJSON(attrs).dump()`: compact JSON with sorted keys.
fn attrs_to_json(attrs: &FAttrs) -> String {
    let map: serde_json::Map<String, serde_json::Value> = attrs
        .iter()
        .map(|(k, v)| {
            let j = match v {
                FAttr::Str(s) => serde_json::Value::from(s.as_str()),
                FAttr::Int(n) => serde_json::Value::from(*n),
                FAttr::Bool(b) => serde_json::Value::from(*b),
            };
            (k.clone(), j)
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn maybe_str(attrs: &FAttrs, name: &str) -> FResult<Option<String>> {
    match attrs.get(name) {
        None => Ok(None),
        Some(FAttr::Str(s)) => Ok(Some(s.clone())),
        Some(_) => other(format!(
            "input attribute '{name}' is not a string {}",
            attrs_to_json(attrs)
        )),
    }
}

fn get_str(attrs: &FAttrs, name: &str) -> FResult<String> {
    match maybe_str(attrs, name)? {
        Some(s) => Ok(s),
        None => other(format!("input attribute '{name}' is missing")),
    }
}

fn maybe_int(attrs: &FAttrs, name: &str) -> FResult<Option<u64>> {
    match attrs.get(name) {
        None => Ok(None),
        Some(FAttr::Int(n)) => Ok(Some(*n)),
        Some(_) => other(format!("input attribute '{name}' is not an integer")),
    }
}

fn maybe_bool(attrs: &FAttrs, name: &str) -> FResult<Option<bool>> {
    match attrs.get(name) {
        None => Ok(None),
        Some(FAttr::Bool(b)) => Ok(Some(*b)),
        Some(_) => other(format!("input attribute '{name}' is not a Boolean")),
    }
}

/// `attrsToQuery`: every attribute as a query parameter (`1`/`0` for Booleans).
fn attrs_to_query(attrs: &FAttrs) -> BTreeMap<String, String> {
    attrs
        .iter()
        .map(|(k, v)| {
            let s = match v {
                FAttr::Str(s) => s.clone(),
                FAttr::Int(n) => n.to_string(),
                FAttr::Bool(b) => if *b { "1" } else { "0" }.to_string(),
            };
            (k.clone(), s)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// URLs

/// A parsed URL, as Nix's `ParsedURL`: the path and query are percent-decoded.
#[derive(Clone, Debug, Default)]
struct Url {
    /// The URL without query and fragment, as written (for messages).
    base: String,
    scheme: String,
    authority: Option<String>,
    path: String,
    query: BTreeMap<String, String>,
    fragment: String,
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

fn is_subdelim(c: u8) -> bool {
    matches!(
        c,
        b'!' | b'$' | b'&' | b'\'' | b'"' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// Whether `s` consists of URL characters (`pchar`, `%XX`) and the bytes in `extra`.
fn valid_url_chars(s: &str, extra: &[u8]) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if i + 2 >= b.len() {
                return false;
            }
            if !(b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
                return false;
            }
            i += 3;
            continue;
        }
        if !(is_unreserved(c) || is_subdelim(c) || c == b':' || c == b'@' || extra.contains(&c)) {
            return false;
        }
        i += 1;
    }
    true
}

/// `percentDecode`.
fn percent_decode(s: &str) -> FResult<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(byte) => out.push(byte),
                None => return bad_url(format!("invalid URI parameter '{s}'")),
            }
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `percentEncode`: keeps unreserved characters and those in `keep`.
fn percent_encode(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if is_unreserved(c) || keep.as_bytes().contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// `decodeQuery`: `a=b&c=d`; parameters without `=` are dropped, the first duplicate wins.
fn decode_query(q: &str) -> FResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for part in q.split('&') {
        if let Some((k, v)) = part.split_once('=') {
            let k = percent_decode(k)?;
            let v = percent_decode(v)?;
            out.entry(k).or_insert(v);
        }
    }
    Ok(out)
}

/// `encodeQuery`, in key order.
fn encode_query(q: &BTreeMap<String, String>) -> String {
    q.iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encode(k, ":@/?"),
                percent_encode(v, ":@/?")
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn valid_scheme(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_lowercase()
        && b.iter().all(|&c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'+' | b'.' | b'-')
        })
}

/// The transport part of a `application+transport` scheme.
fn transport(scheme: &str) -> &str {
    scheme.split_once('+').map_or(scheme, |(_, t)| t)
}

/// The application part of a `application+transport` scheme, if any.
fn application(scheme: &str) -> Option<&str> {
    scheme.split_once('+').map(|(a, _)| a)
}

/// `parseURL`: `scheme:[//authority]path[?query][#fragment]`.
fn parse_url(url: &str) -> FResult<Url> {
    let invalid = || FErr::BadUrl(format!("'{url}' is not a valid URL"));
    let (rest, fragment) = match url.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (url, None),
    };
    let (base, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (scheme, after) = base.split_once(':').ok_or_else(invalid)?;
    if !valid_scheme(scheme) {
        return Err(invalid());
    }
    let (authority, path) = match after.strip_prefix("//") {
        Some(a) => {
            let end = a.find('/').unwrap_or(a.len());
            (Some(&a[..end]), &a[end..])
        }
        None => (None, after),
    };
    if authority.is_some_and(|a| !valid_url_chars(a, b"[]")) || !valid_url_chars(path, b"/") {
        return Err(invalid());
    }
    if query.is_some_and(|q| !valid_url_chars(q, b"/? \"")) {
        return Err(invalid());
    }
    if fragment.is_some_and(|f| !valid_url_chars(f, b"/? \"^")) {
        return Err(invalid());
    }
    let is_file = transport(scheme) == "file";
    if is_file && authority.is_some_and(|a| !a.is_empty()) {
        return bad_url(format!(
            "file:// URL '{url}' has unexpected authority '{}'",
            authority.unwrap_or_default()
        ));
    }
    let mut path = percent_decode(path)?;
    if is_file && path.is_empty() {
        path = "/".into();
    }
    Ok(Url {
        base: base.to_string(),
        scheme: scheme.to_string(),
        authority: authority.map(str::to_string),
        path,
        query: decode_query(query.unwrap_or(""))?,
        fragment: percent_decode(fragment.unwrap_or(""))?,
    })
}

/// `ParsedURL::to_string`.
fn url_to_string(u: &Url) -> String {
    let mut s = format!("{}:", u.scheme);
    if let Some(a) = &u.authority {
        s.push_str("//");
        s.push_str(a);
    }
    s.push_str(&u.path);
    if !u.query.is_empty() {
        s.push('?');
        s.push_str(&encode_query(&u.query));
    }
    if !u.fragment.is_empty() {
        s.push('#');
        s.push_str(&percent_encode(&u.fragment, ""));
    }
    s
}

// ---------------------------------------------------------------------------------------
// Refs, revisions and flake IDs

/// Nix's `refRegex`: `[a-zA-Z0-9@][a-zA-Z0-9_.\/@+-]*`.
fn is_ref(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphanumeric() || b[0] == b'@')
        && b.iter().all(|&c| {
            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b'@' | b'+' | b'-')
        })
}

/// Nix's `revRegex`: 40 hex digits.
fn is_rev(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// Nix's flake ID regex: `[a-zA-Z][a-zA-Z0-9_-]*`.
fn is_flake_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// Nix's `badGitRefRegex`: names git refuses as branch or tag names.
fn is_bad_git_ref(s: &str) -> bool {
    s.is_empty()
        || s == "@"
        || s.contains("//")
        || s.starts_with('.')
        || s.starts_with('/')
        || s.contains("/.")
        || s.contains("..")
        || s.contains("@{")
        || s.contains('\\')
        || s.contains('*')
        || s.ends_with(".lock")
        || s.contains(".lock/")
        || s.ends_with('/')
        || s.ends_with('.')
        || s.chars().any(|c| {
            c.is_control() || c.is_whitespace() || matches!(c, ':' | '?' | '^' | '~' | '[')
        })
}

/// A SHA-1 revision in lowercase hex (`Hash::parseAny(s, SHA1).gitRev()`, base-16 only).
fn parse_rev(s: &str) -> FResult<String> {
    if is_rev(s) {
        Ok(s.to_ascii_lowercase())
    } else {
        other(format!(
            "hash '{s}' has wrong length for hash algorithm 'sha1'"
        ))
    }
}

fn input_rev(attrs: &FAttrs) -> FResult<Option<String>> {
    maybe_str(attrs, "rev")?.map(|r| parse_rev(&r)).transpose()
}

// ---------------------------------------------------------------------------------------
// Input schemes

/// The input schemes, in Nix's registration-map order.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scheme {
    File,
    Git,
    GitHub,
    GitLab,
    Hg,
    Indirect,
    Path,
    SourceHut,
    Tarball,
}

const SCHEMES: &[Scheme] = &[
    Scheme::File,
    Scheme::Git,
    Scheme::GitHub,
    Scheme::GitLab,
    Scheme::Hg,
    Scheme::Indirect,
    Scheme::Path,
    Scheme::SourceHut,
    Scheme::Tarball,
];

const GIT_ARCHIVE_ATTRS: &[&str] = &[
    "owner",
    "repo",
    "ref",
    "rev",
    "narHash",
    "lastModified",
    "host",
    "treeHash",
];
const GIT_ATTRS: &[&str] = &[
    "url",
    "ref",
    "rev",
    "shallow",
    "submodules",
    "lfs",
    "exportIgnore",
    "lastModified",
    "revCount",
    "narHash",
    "allRefs",
    "name",
    "dirtyRev",
    "dirtyShortRev",
    "verifyCommit",
    "keytype",
    "publicKey",
    "publicKeys",
];
const HG_ATTRS: &[&str] = &["url", "ref", "rev", "revCount", "narHash", "name"];
const INDIRECT_ATTRS: &[&str] = &["id", "ref", "rev", "narHash"];
const PATH_ATTRS: &[&str] = &["path", "rev", "revCount", "lastModified", "narHash"];
const CURL_ATTRS: &[&str] = &[
    "type",
    "url",
    "narHash",
    "name",
    "unpack",
    "rev",
    "revCount",
    "lastModified",
];

impl Scheme {
    fn name(self) -> &'static str {
        match self {
            Scheme::File => "file",
            Scheme::Git => "git",
            Scheme::GitHub => "github",
            Scheme::GitLab => "gitlab",
            Scheme::Hg => "hg",
            Scheme::Indirect => "indirect",
            Scheme::Path => "path",
            Scheme::SourceHut => "sourcehut",
            Scheme::Tarball => "tarball",
        }
    }

    fn by_name(name: &str) -> Option<Scheme> {
        SCHEMES.iter().copied().find(|s| s.name() == name)
    }

    fn allowed_attrs(self) -> &'static [&'static str] {
        match self {
            Scheme::GitHub | Scheme::GitLab | Scheme::SourceHut => GIT_ARCHIVE_ATTRS,
            Scheme::Git => GIT_ATTRS,
            Scheme::Hg => HG_ATTRS,
            Scheme::Indirect => INDIRECT_ATTRS,
            Scheme::Path => PATH_ATTRS,
            Scheme::File | Scheme::Tarball => CURL_ATTRS,
        }
    }

    /// `inputFromURL`: `None` if the URL is not for this scheme.
    fn input_from_url(self, url: &Url, require_tree: bool) -> FResult<Option<FAttrs>> {
        match self {
            Scheme::GitHub | Scheme::GitLab | Scheme::SourceHut => git_archive_from_url(self, url),
            Scheme::Git => git_from_url(url),
            Scheme::Hg => hg_from_url(url),
            Scheme::Indirect => indirect_from_url(url),
            Scheme::Path => path_from_url(url),
            Scheme::File | Scheme::Tarball => curl_from_url(self, url, require_tree),
        }
    }

    /// `inputFromAttrs`: validates and normalises the attributes.
    fn input_from_attrs(self, attrs: FAttrs) -> FResult<FAttrs> {
        match self {
            Scheme::GitHub | Scheme::GitLab | Scheme::SourceHut => {
                get_str(&attrs, "owner")?;
                get_str(&attrs, "repo")?;
                Ok(attrs)
            }
            Scheme::Git => git_from_attrs(attrs),
            Scheme::Hg => hg_from_attrs(attrs),
            Scheme::Indirect => {
                let id = get_str(&attrs, "id")?;
                if !is_flake_id(&id) {
                    return bad_url(format!("'{id}' is not a valid flake ID"));
                }
                Ok(attrs)
            }
            Scheme::Path => {
                get_str(&attrs, "path")?;
                Ok(attrs)
            }
            Scheme::File | Scheme::Tarball => Ok(attrs),
        }
    }

    /// `toURL`.
    fn to_url(self, attrs: &FAttrs) -> FResult<Url> {
        match self {
            Scheme::GitHub | Scheme::GitLab | Scheme::SourceHut => git_archive_to_url(self, attrs),
            Scheme::Git => git_to_url(attrs),
            Scheme::Hg => hg_to_url(attrs),
            Scheme::Indirect => indirect_to_url(attrs),
            Scheme::Path => Ok(Url {
                scheme: "path".into(),
                path: get_str(attrs, "path")?,
                query: {
                    let mut q = attrs_to_query(attrs);
                    for k in ["path", "type", "__final"] {
                        q.remove(k);
                    }
                    q
                },
                ..Url::default()
            }),
            Scheme::File | Scheme::Tarball => {
                let mut url = parse_url(&get_str(attrs, "url")?)?;
                if let Some(h) = maybe_str(attrs, "narHash")? {
                    url.query.insert("narHash".into(), h);
                }
                Ok(url)
            }
        }
    }
}

fn git_archive_from_url(scheme: Scheme, url: &Url) -> FResult<Option<FAttrs>> {
    if url.scheme != scheme.name() {
        return Ok(None);
    }
    let path: Vec<&str> = url.path.split('/').filter(|s| !s.is_empty()).collect();
    let mut rev = None;
    let mut r#ref = None;
    let mut host = None;
    match path.len() {
        0 | 1 => return bad_url(format!("URL '{}' is invalid", url.base)),
        2 => {}
        3 if is_rev(path[2]) => rev = Some(path[2].to_ascii_lowercase()),
        3 if is_ref(path[2]) => r#ref = Some(path[2].to_string()),
        3 => {
            return bad_url(format!(
                "in URL '{}', '{}' is not a commit hash or branch/tag name",
                url.base, path[2]
            ))
        }
        _ => {
            let rs = path[2..].join("/");
            if !is_ref(&rs) {
                return bad_url(format!(
                    "in URL '{}', '{rs}' is not a branch/tag name",
                    url.base
                ));
            }
            r#ref = Some(rs);
        }
    }
    for (name, value) in &url.query {
        match name.as_str() {
            "rev" => {
                if rev.is_some() {
                    return bad_url(format!(
                        "URL '{}' contains multiple commit hashes",
                        url.base
                    ));
                }
                rev = Some(parse_rev(value)?);
            }
            "ref" => {
                if !is_ref(value) {
                    return bad_url(format!(
                        "URL '{}' contains an invalid branch/tag name",
                        url.base
                    ));
                }
                if r#ref.is_some() {
                    return bad_url(format!(
                        "URL '{}' contains multiple branch/tag names",
                        url.base
                    ));
                }
                r#ref = Some(value.clone());
            }
            "host" => {
                if !value
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
                {
                    return bad_url(format!(
                        "URL '{}' contains an invalid instance host",
                        url.base
                    ));
                }
                host = Some(value.clone());
            }
            _ => {}
        }
    }
    if let (Some(r), Some(h)) = (&r#ref, &rev) {
        return bad_url(format!(
            "URL '{}' contains both a commit hash and a branch/tag name {r} {h}",
            url.base
        ));
    }
    let mut attrs = FAttrs::new();
    attrs.insert("type".into(), FAttr::Str(scheme.name().into()));
    attrs.insert("owner".into(), FAttr::Str(path[0].into()));
    attrs.insert("repo".into(), FAttr::Str(path[1].into()));
    insert_present(&mut attrs, [("rev", rev), ("ref", r#ref), ("host", host)]);
    Ok(Some(attrs))
}

fn git_archive_to_url(scheme: Scheme, attrs: &FAttrs) -> FResult<Url> {
    let mut path = format!("{}/{}", get_str(attrs, "owner")?, get_str(attrs, "repo")?);
    push_ref_and_rev(&mut path, attrs)?;
    let mut query = BTreeMap::new();
    if let Some(h) = maybe_str(attrs, "narHash")? {
        query.insert("narHash".into(), h);
    }
    if let Some(h) = maybe_str(attrs, "host")? {
        query.insert("host".into(), h);
    }
    Ok(Url {
        scheme: scheme.name().into(),
        path,
        query,
        ..Url::default()
    })
}

const GIT_URL_SCHEMES: &[&str] = &["git", "git+http", "git+https", "git+ssh", "git+file"];
const GIT_STR_PARAMS: &[&str] = &["rev", "ref", "keytype", "publicKey", "publicKeys"];
const GIT_BOOL_PARAMS: &[&str] = &[
    "shallow",
    "submodules",
    "lfs",
    "exportIgnore",
    "verifyCommit",
];

fn git_from_url(url: &Url) -> FResult<Option<FAttrs>> {
    if !GIT_URL_SCHEMES.contains(&url.scheme.as_str()) {
        return Ok(None);
    }
    let mut url2 = url.clone();
    if let Some(s) = url2.scheme.strip_prefix("git+") {
        url2.scheme = s.to_string();
    }
    url2.query.clear();
    url2.fragment.clear();
    let mut attrs = FAttrs::new();
    attrs.insert("type".into(), FAttr::Str("git".into()));
    for (name, value) in &url.query {
        if GIT_STR_PARAMS.contains(&name.as_str()) {
            attrs.insert(name.clone(), FAttr::Str(value.clone()));
        } else if GIT_BOOL_PARAMS.contains(&name.as_str()) {
            attrs.insert(name.clone(), FAttr::Bool(value == "1"));
        } else {
            url2.query.insert(name.clone(), value.clone());
        }
    }
    attrs.insert("url".into(), FAttr::Str(url_to_string(&url2)));
    git_from_attrs(attrs).map(Some)
}

/// `fixGitURL`: `user@host:path` becomes `ssh://user@host/path`, a bare path a `file://` URL.
fn fix_git_url(url: &str) -> String {
    if !url.starts_with('/') {
        let head = &url[..url.find('/').unwrap_or(url.len())];
        if let Some(at) = head.rfind('@') {
            if let Some(colon) = url[at + 1..].rfind(':') {
                let colon = at + 1 + colon;
                return format!(
                    "ssh://{}@{}/{}",
                    &url[..at],
                    &url[at + 1..colon],
                    &url[colon + 1..]
                );
            }
        }
    }
    if url.contains("://") {
        url.to_string()
    } else {
        format!("file://{url}")
    }
}

fn git_from_attrs(mut attrs: FAttrs) -> FResult<FAttrs> {
    maybe_bool(&attrs, "verifyCommit")?;
    if let Some(r) = maybe_str(&attrs, "ref")? {
        if is_bad_git_ref(&r) {
            return bad_url(format!("invalid Git branch/tag name '{r}'"));
        }
    }
    let url = fix_git_url(&get_str(&attrs, "url")?);
    parse_url(&url)?;
    attrs.insert("url".into(), FAttr::Str(url));
    for b in ["shallow", "submodules", "allRefs"] {
        maybe_bool(&attrs, b)?;
    }
    Ok(attrs)
}

fn git_to_url(attrs: &FAttrs) -> FResult<Url> {
    let mut url = parse_url(&get_str(attrs, "url")?)?;
    if url.scheme != "git" {
        url.scheme = format!("git+{}", url.scheme);
    }
    if let Some(r) = input_rev(attrs)? {
        url.query.insert("rev".into(), r);
    }
    if let Some(r) = maybe_str(attrs, "ref")? {
        url.query.insert("ref".into(), r);
    }
    for b in [
        "shallow",
        "lfs",
        "submodules",
        "exportIgnore",
        "verifyCommit",
    ] {
        if maybe_bool(attrs, b)?.unwrap_or(false) {
            url.query.insert(b.into(), "1".into());
        }
    }
    if let Some(key) = maybe_str(attrs, "publicKey")? {
        let keytype = maybe_str(attrs, "keytype")?.unwrap_or_else(|| "ssh-ed25519".into());
        url.query.insert("keytype".into(), keytype);
        url.query.insert("publicKey".into(), key);
    } else if let Some(keys) = maybe_str(attrs, "publicKeys")? {
        url.query.insert("publicKeys".into(), keys);
    }
    Ok(url)
}

fn hg_from_url(url: &Url) -> FResult<Option<FAttrs>> {
    if !["hg+http", "hg+https", "hg+ssh", "hg+file"].contains(&url.scheme.as_str()) {
        return Ok(None);
    }
    let mut url2 = url.clone();
    url2.scheme = url.scheme["hg+".len()..].to_string();
    url2.query.clear();
    let mut attrs = FAttrs::new();
    attrs.insert("type".into(), FAttr::Str("hg".into()));
    for (name, value) in &url.query {
        if name == "rev" || name == "ref" {
            attrs.insert(name.clone(), FAttr::Str(value.clone()));
        } else {
            url2.query.insert(name.clone(), value.clone());
        }
    }
    attrs.insert("url".into(), FAttr::Str(url_to_string(&url2)));
    hg_from_attrs(attrs).map(Some)
}

fn hg_from_attrs(attrs: FAttrs) -> FResult<FAttrs> {
    parse_url(&get_str(&attrs, "url")?)?;
    if let Some(r) = maybe_str(&attrs, "ref")? {
        if !is_ref(&r) {
            return bad_url(format!("invalid Mercurial branch/tag name '{r}'"));
        }
    }
    Ok(attrs)
}

fn hg_to_url(attrs: &FAttrs) -> FResult<Url> {
    let mut url = parse_url(&get_str(attrs, "url")?)?;
    url.scheme = format!("hg+{}", url.scheme);
    if let Some(r) = input_rev(attrs)? {
        url.query.insert("rev".into(), r);
    }
    if let Some(r) = maybe_str(attrs, "ref")? {
        url.query.insert("ref".into(), r);
    }
    Ok(url)
}

fn indirect_from_url(url: &Url) -> FResult<Option<FAttrs>> {
    if url.scheme != "flake" {
        return Ok(None);
    }
    let path: Vec<&str> = url.path.split('/').filter(|s| !s.is_empty()).collect();
    let u = &url.base;
    let (mut rev, mut r#ref) = (None, None);
    match path.len() {
        1 => {}
        2 if is_rev(path[1]) => rev = Some(path[1].to_ascii_lowercase()),
        2 if is_ref(path[1]) => r#ref = Some(path[1].to_string()),
        2 => {
            return bad_url(format!(
                "in flake URL '{u}', '{}' is not a commit hash or branch/tag name",
                path[1]
            ))
        }
        3 => {
            if !is_ref(path[1]) {
                return bad_url(format!(
                    "in flake URL '{u}', '{}' is not a branch/tag name",
                    path[1]
                ));
            }
            r#ref = Some(path[1].to_string());
            if !is_rev(path[2]) {
                return bad_url(format!(
                    "in flake URL '{u}', '{}' is not a commit hash",
                    path[2]
                ));
            }
            rev = Some(path[2].to_ascii_lowercase());
        }
        _ => return bad_url(format!("GitHub URL '{u}' is invalid")),
    }
    if !is_flake_id(path[0]) {
        return bad_url(format!("'{}' is not a valid flake ID", path[0]));
    }
    let mut attrs = FAttrs::new();
    attrs.insert("type".into(), FAttr::Str("indirect".into()));
    attrs.insert("id".into(), FAttr::Str(path[0].into()));
    insert_present(&mut attrs, [("rev", rev), ("ref", r#ref)]);
    Ok(Some(attrs))
}

/// Inserts the string attributes among `pairs` that are present.
fn insert_present<const N: usize>(attrs: &mut FAttrs, pairs: [(&str, Option<String>); N]) {
    for (k, v) in pairs {
        if let Some(v) = v {
            attrs.insert(k.into(), FAttr::Str(v));
        }
    }
}

/// Appends `/ref` and `/rev` to a URL path, for those of the two `attrs` has (the
/// `github:owner/repo/ref` and `flake:id/ref/rev` forms).
fn push_ref_and_rev(path: &mut String, attrs: &FAttrs) -> FResult<()> {
    for part in [maybe_str(attrs, "ref")?, input_rev(attrs)?]
        .into_iter()
        .flatten()
    {
        path.push('/');
        path.push_str(&part);
    }
    Ok(())
}

fn indirect_to_url(attrs: &FAttrs) -> FResult<Url> {
    let mut path = get_str(attrs, "id")?;
    push_ref_and_rev(&mut path, attrs)?;
    Ok(Url {
        scheme: "flake".into(),
        path,
        ..Url::default()
    })
}

fn path_from_url(url: &Url) -> FResult<Option<FAttrs>> {
    if url.scheme != "path" {
        return Ok(None);
    }
    if let Some(a) = url.authority.as_deref().filter(|a| !a.is_empty()) {
        return other(format!(
            "path URL '{}' should not have an authority ('{a}')",
            url.base
        ));
    }
    let mut attrs = FAttrs::new();
    attrs.insert("type".into(), FAttr::Str("path".into()));
    attrs.insert("path".into(), FAttr::Str(url.path.clone()));
    for (name, value) in &url.query {
        match name.as_str() {
            "rev" | "narHash" => {
                attrs.insert(name.clone(), FAttr::Str(value.clone()));
            }
            "revCount" | "lastModified" => match value.parse::<u64>() {
                Ok(n) => {
                    attrs.insert(name.clone(), FAttr::Int(n));
                }
                Err(_) => {
                    return other(format!(
                        "path URL '{}' has invalid parameter '{name}'",
                        url_to_string(url)
                    ))
                }
            },
            _ => {
                return other(format!(
                    "path URL '{}' has unsupported parameter '{name}'",
                    url_to_string(url)
                ))
            }
        }
    }
    Ok(Some(attrs))
}

fn has_tarball_extension(path: &str) -> bool {
    [
        ".zip", ".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst",
    ]
    .iter()
    .any(|e| path.ends_with(e))
}

fn curl_from_url(scheme: Scheme, url: &Url, require_tree: bool) -> FResult<Option<FAttrs>> {
    if !["file", "http", "https"].contains(&transport(&url.scheme)) {
        return Ok(None);
    }
    let valid = match application(&url.scheme) {
        Some(app) => app == scheme.name(),
        None if scheme == Scheme::File => !require_tree && !has_tarball_extension(&url.path),
        None => require_tree || has_tarball_extension(&url.path),
    };
    if !valid {
        return Ok(None);
    }
    let mut url2 = url.clone();
    url2.scheme = transport(&url.scheme).to_string();
    let mut attrs = FAttrs::new();
    for k in ["narHash", "rev"] {
        if let Some(v) = url.query.get(k) {
            attrs.insert(k.into(), FAttr::Str(v.clone()));
        }
    }
    for k in ["revCount", "lastModified"] {
        if let Some(n) = url.query.get(k).and_then(|v| v.parse::<u64>().ok()) {
            attrs.insert(k.into(), FAttr::Int(n));
        }
    }
    for k in CURL_ATTRS {
        url2.query.remove(*k);
    }
    attrs.insert("type".into(), FAttr::Str(scheme.name().into()));
    attrs.insert("url".into(), FAttr::Str(url_to_string(&url2)));
    Ok(Some(attrs))
}

// ---------------------------------------------------------------------------------------
// Inputs

/// An input: its attributes and, unless its type is unknown, its scheme.
struct Input {
    attrs: FAttrs,
    scheme: Option<Scheme>,
}

/// `fixupInput`: the checks common to all inputs.
fn fixup_input(attrs: &FAttrs) -> FResult<()> {
    get_str(attrs, "type")?;
    maybe_str(attrs, "ref")?;
    maybe_int(attrs, "revCount")?;
    maybe_int(attrs, "lastModified")?;
    Ok(())
}

/// `Input::fromURL`.
fn input_from_url(url: &Url, require_tree: bool) -> FResult<Input> {
    for &scheme in SCHEMES {
        if let Some(attrs) = scheme.input_from_url(url, require_tree)? {
            fixup_input(&attrs)?;
            return Ok(Input {
                attrs,
                scheme: Some(scheme),
            });
        }
    }
    if application(&url.scheme) == Some("file") && transport(&url.scheme) == "git" {
        return other(format!(
            "input '{}' is unsupported; did you mean 'git+file' instead of 'file+git'?",
            url_to_string(url)
        ));
    }
    other(format!("input '{}' is unsupported", url_to_string(url)))
}

/// `Input::fromAttrs`.
fn input_from_attrs(attrs: FAttrs) -> FResult<Input> {
    let Some(type_name) = maybe_str(&attrs, "type")? else {
        return other(
            "'type' attribute to specify input scheme is required but not provided".into(),
        );
    };
    let Some(scheme) = Scheme::by_name(&type_name) else {
        fixup_input(&attrs)?;
        return Ok(Input {
            attrs,
            scheme: None,
        });
    };
    let allowed = scheme.allowed_attrs();
    if let Some(name) = attrs
        .keys()
        .find(|n| *n != "type" && *n != "__final" && !allowed.contains(&n.as_str()))
    {
        return other(format!(
            "input attribute '{name}' not supported by scheme '{type_name}'"
        ));
    }
    let attrs = scheme.input_from_attrs(attrs)?;
    fixup_input(&attrs)?;
    Ok(Input {
        attrs,
        scheme: Some(scheme),
    })
}

/// `Input::toURL`.
fn input_to_url(input: &Input) -> FResult<Url> {
    match input.scheme {
        Some(s) => s.to_url(&input.attrs),
        None => other(format!(
            "cannot show unsupported input '{}'",
            attrs_to_json(&input.attrs)
        )),
    }
}

// ---------------------------------------------------------------------------------------
// Flake references

/// A flake reference: an input and a subdirectory (`dir`).
struct FlakeRef {
    input: Input,
    subdir: String,
}

/// `fromParsedURL`: takes `dir` and the fragment out of the URL.
fn from_parsed_url(mut url: Url) -> FResult<(FlakeRef, String)> {
    let subdir = url.query.remove("dir").unwrap_or_default();
    let fragment = std::mem::take(&mut url.fragment);
    let input = input_from_url(&url, true)?;
    Ok((FlakeRef { input, subdir }, fragment))
}

/// The flake ID syntax `id[/ref-or-rev][#fragment]`, if `s` uses it.
fn parse_flake_id_ref(s: &str) -> FResult<Option<(FlakeRef, String)>> {
    let (main, fragment) = match s.split_once('#') {
        Some((m, f)) => (m, Some(f)),
        None => (s, None),
    };
    if fragment.is_some_and(|f| !valid_url_chars(f, b"/? \"^")) {
        return Ok(None);
    }
    let (id, rest) = match main.split_once('/') {
        Some((i, r)) => (i, Some(r)),
        None => (main, None),
    };
    if !is_flake_id(id) || rest.is_some_and(|r| !is_ref(r)) {
        return Ok(None);
    }
    let url = Url {
        base: s.to_string(),
        scheme: "flake".into(),
        path: main.to_string(),
        ..Url::default()
    };
    let input = input_from_url(&url, true)?;
    let fragment = percent_decode(fragment.unwrap_or(""))?;
    Ok(Some((
        FlakeRef {
            input,
            subdir: String::new(),
        },
        fragment,
    )))
}

/// `parseURLFlakeRef`: `None` on a `BadURL` error.
fn parse_url_flake_ref(s: &str) -> FResult<Option<(FlakeRef, String)>> {
    match parse_url(s).and_then(from_parsed_url) {
        Ok(r) => Ok(Some(r)),
        Err(FErr::BadUrl(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `parsePathFlakeRefWithFragment` without a base directory: an absolute path.
fn parse_path_flake_ref(s: &str) -> FResult<(FlakeRef, String)> {
    let (rest, fragment) = match s.split_once('#') {
        Some((r, f)) => (r, f),
        None => (s, ""),
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, q),
        None => (rest, ""),
    };
    let query = decode_query(query)?;
    let fragment = percent_decode(fragment)?;
    if !path.starts_with('/') {
        return bad_url(format!("flake reference '{s}' is not an absolute path"));
    }
    let dir = query.get("dir").map_or("", String::as_str);
    let path = canon_path(&format!("{path}/{dir}"));
    let mut attrs = FAttrs::new();
    attrs.insert("type".into(), FAttr::Str("path".into()));
    attrs.insert("path".into(), FAttr::Str(path));
    let input = input_from_attrs(attrs)?;
    Ok((
        FlakeRef {
            input,
            subdir: String::new(),
        },
        fragment,
    ))
}

/// `parseFlakeRef(url, baseDir = none, allowMissing = true, isFlake = true)`.
fn parse_flake_ref(s: &str) -> FResult<FlakeRef> {
    let (flake_ref, fragment) = if let Some(r) = parse_flake_id_ref(s)? {
        r
    } else if let Some(r) = parse_url_flake_ref(s)? {
        r
    } else {
        parse_path_flake_ref(s)?
    };
    if !fragment.is_empty() {
        return other(format!(
            "unexpected fragment '{fragment}' in flake reference '{s}'"
        ));
    }
    Ok(flake_ref)
}

/// `FlakeRef::toAttrs`.
fn flake_ref_to_attrs(r: FlakeRef) -> FAttrs {
    let mut attrs = r.input.attrs;
    if !r.subdir.is_empty() {
        attrs.entry("dir".into()).or_insert(FAttr::Str(r.subdir));
    }
    attrs
}

/// `FlakeRef::fromAttrs` followed by `FlakeRef::to_string`.
fn flake_ref_attrs_to_string(mut attrs: FAttrs) -> FResult<String> {
    let subdir = maybe_str(&attrs, "dir")?.unwrap_or_default();
    attrs.remove("dir");
    let input = input_from_attrs(attrs)?;
    let mut url = input_to_url(&input)?;
    if !subdir.is_empty() {
        url.query.entry("dir".into()).or_insert(subdir);
    }
    Ok(url_to_string(&url))
}

/// The input attributes of the flake reference `s` (`dir` included), as a lock file's
/// `locked` entry holds them; the reference must not have a fragment.
pub fn parse_to_json(s: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    let attrs = flake_ref_to_attrs(parse_flake_ref(s)?);
    Ok(attrs
        .into_iter()
        .map(|(k, v)| {
            let j = match v {
                FAttr::Str(s) => serde_json::Value::from(s),
                FAttr::Int(n) => serde_json::Value::from(n),
                FAttr::Bool(b) => serde_json::Value::from(b),
            };
            (k, j)
        })
        .collect())
}

/// The URL of a lock file's `locked` attributes, as Nix prints a locked flake reference
/// (`git+file:///x?ref=main&rev=…`, `github:o/r/<rev>?narHash=…`); `dir` is left out, since
/// it names a directory inside the source, not the source.
pub fn locked_url(locked: &serde_json::Map<String, serde_json::Value>) -> Result<String> {
    let mut attrs = FAttrs::new();
    for (k, v) in locked {
        let a = match v {
            serde_json::Value::String(s) => FAttr::Str(s.clone()),
            serde_json::Value::Bool(b) => FAttr::Bool(*b),
            serde_json::Value::Number(n) => match n.as_u64() {
                Some(n) => FAttr::Int(n),
                None => return Err(Error::new(format!("bad lock attribute '{k}': {n}"))),
            },
            _ => return Err(Error::new(format!("bad lock attribute '{k}': {v}"))),
        };
        if k != "dir" {
            attrs.insert(k.clone(), a);
        }
    }
    Ok(flake_ref_attrs_to_string(attrs)?)
}

/// The input attributes of the flake reference `s` (`builtins.parseFlakeRef`).
pub fn parse(s: &str) -> Result<FAttrs> {
    Ok(flake_ref_to_attrs(parse_flake_ref(s)?))
}

/// The flake reference URL of input attributes `attrs` (`builtins.flakeRefToString`).
pub fn to_url(attrs: FAttrs) -> Result<String> {
    Ok(flake_ref_attrs_to_string(attrs)?)
}

/// A `file:` tarball URL with a relative path: the message, and the input as Nix names it
/// in the trace line `while fetching the input '…'`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TarballPathError {
    pub message: String,
    pub input: String,
}

/// `downloadTarball`'s check that a `file:` tarball URL names an absolute path. `type_name`
/// is `None` for a URL string, which is a tarball input if Nix's URL parsing says so.
pub fn check_tarball_path(
    type_name: Option<&str>,
    url: &str,
) -> std::result::Result<(), TarballPathError> {
    let (display, tarball_url) = match type_name {
        Some("tarball") => match parse_url(url) {
            Ok(u) => (url_to_string(&u), u),
            Err(_) => return Ok(()),
        },
        Some(_) => return Ok(()),
        None => {
            let Ok(parsed) = parse_url(url) else {
                return Ok(());
            };
            let Ok(input) = input_from_url(&parsed, true) else {
                return Ok(());
            };
            if input.scheme != Some(Scheme::Tarball) {
                return Ok(());
            }
            let Ok(u) = input_to_url(&input) else {
                return Ok(());
            };
            let Ok(Some(inner)) = maybe_str(&input.attrs, "url") else {
                return Ok(());
            };
            let Ok(inner) = parse_url(&inner) else {
                return Ok(());
            };
            (url_to_string(&u), inner)
        }
    };
    if tarball_url.scheme == "file" && !tarball_url.path.starts_with('/') {
        let msg = format!(
            "tarball '{}' must use an absolute path. The 'file' scheme does not support relative paths.",
            url_to_string(&tarball_url)
        );
        return Err(TarballPathError {
            message: msg,
            input: display,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> String {
        match parse_flake_ref(s) {
            Ok(r) => flake_ref_to_attrs(r)
                .iter()
                .map(|(k, v)| match v {
                    FAttr::Str(s) => format!("{k} = \"{s}\"; "),
                    FAttr::Int(n) => format!("{k} = {n}; "),
                    FAttr::Bool(b) => format!("{k} = {b}; "),
                })
                .collect(),
            Err(FErr::BadUrl(m) | FErr::Other(m)) => format!("error: {m}"),
        }
    }

    fn unparse(pairs: &[(&str, FAttr)]) -> String {
        let attrs = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        match flake_ref_attrs_to_string(attrs) {
            Ok(s) => s,
            Err(FErr::BadUrl(m) | FErr::Other(m)) => format!("error: {m}"),
        }
    }

    fn s(v: &str) -> FAttr {
        FAttr::Str(v.into())
    }

    const REV: &str = "5a8dedc45cc04a207917316c245e4993234bfbe0";

    #[test]
    fn parse_github() {
        // eval-okay-parse-flake-ref.
        assert_eq!(
            parse("github:NixOS/nixpkgs/23.05?dir=lib"),
            "dir = \"lib\"; owner = \"NixOS\"; ref = \"23.05\"; repo = \"nixpkgs\"; type = \"github\"; "
        );
        assert_eq!(
            parse(&format!("github:NixOS/nix/{REV}")),
            format!("owner = \"NixOS\"; repo = \"nix\"; rev = \"{REV}\"; type = \"github\"; ")
        );
        assert_eq!(
            parse("gitlab:a/b/feature/x"),
            "owner = \"a\"; ref = \"feature/x\"; repo = \"b\"; type = \"gitlab\"; "
        );
        assert_eq!(
            parse("sourcehut:~a/b?host=git.example.org"),
            "host = \"git.example.org\"; owner = \"~a\"; repo = \"b\"; type = \"sourcehut\"; "
        );
    }

    #[test]
    fn parse_indirect_git_path_tarball() {
        assert_eq!(parse("nixpkgs"), "id = \"nixpkgs\"; type = \"indirect\"; ");
        assert_eq!(
            parse("nixpkgs/nixos-23.05"),
            "id = \"nixpkgs\"; ref = \"nixos-23.05\"; type = \"indirect\"; "
        );
        assert_eq!(
            parse("flake:nixpkgs/nixos-23.05"),
            "id = \"nixpkgs\"; ref = \"nixos-23.05\"; type = \"indirect\"; "
        );
        assert_eq!(
            parse(&format!("git+https://example.org/repo?ref=main&rev={REV}&shallow=1")),
            format!(
                "ref = \"main\"; rev = \"{REV}\"; shallow = true; type = \"git\"; url = \"https://example.org/repo\"; "
            )
        );
        assert_eq!(
            parse("/foo/bar?dir=baz"),
            "path = \"/foo/bar/baz\"; type = \"path\"; "
        );
        assert_eq!(
            parse("path:/foo?lastModified=5"),
            "lastModified = 5; path = \"/foo\"; type = \"path\"; "
        );
        assert_eq!(
            parse("https://example.org/x.tar.gz?narHash=sha256-abc"),
            "narHash = \"sha256-abc\"; type = \"tarball\"; url = \"https://example.org/x.tar.gz\"; "
        );
        assert_eq!(
            parse("file+https://example.org/x"),
            "type = \"file\"; url = \"https://example.org/x\"; "
        );
        assert_eq!(
            parse("github:NixOS/nixpkgs#hello"),
            "error: unexpected fragment 'hello' in flake reference 'github:NixOS/nixpkgs#hello'"
        );
        assert_eq!(
            parse("./foo"),
            "error: flake reference './foo' is not an absolute path"
        );
    }

    #[test]
    fn to_string() {
        // eval-okay-flake-ref-to-string.
        assert_eq!(
            unparse(&[
                ("type", s("github")),
                ("owner", s("NixOS")),
                ("repo", s("nixpkgs")),
                ("ref", s("23.05")),
                ("dir", s("lib")),
            ]),
            "github:NixOS/nixpkgs/23.05?dir=lib"
        );
        assert_eq!(
            unparse(&[
                ("type", s("git")),
                ("url", s("https://example.org/repo")),
                ("ref", s("main")),
                ("rev", s(REV)),
                ("revCount", FAttr::Int(3)),
                ("submodules", FAttr::Bool(true)),
            ]),
            format!("git+https://example.org/repo?ref=main&rev={REV}&submodules=1")
        );
        assert_eq!(
            unparse(&[
                ("type", s("path")),
                ("path", s("/x")),
                ("lastModified", FAttr::Int(7))
            ]),
            "path:/x?lastModified=7"
        );
        assert_eq!(
            unparse(&[
                ("type", s("indirect")),
                ("id", s("nixpkgs")),
                ("ref", s("a"))
            ]),
            "flake:nixpkgs/a"
        );
        assert_eq!(
            unparse(&[
                ("type", s("github")),
                ("owner", s("a")),
                ("repo", s("b")),
                ("foo", s("c"))
            ]),
            "error: input attribute 'foo' not supported by scheme 'github'"
        );
        assert_eq!(
            unparse(&[("type", s("github")), ("owner", s("a"))]),
            "error: input attribute 'repo' is missing"
        );
    }

    #[test]
    fn tarball_paths() {
        let e = check_tarball_path(None, "file:./relative-path.tar.gz").unwrap_err();
        assert_eq!(
            e.message,
            "tarball 'file:./relative-path.tar.gz' must use an absolute path. The 'file' scheme does not support relative paths."
        );
        assert_eq!(e.input, "file:./relative-path.tar.gz");
        assert!(check_tarball_path(None, "file:///abs.tar.gz").is_ok());
        assert!(check_tarball_path(Some("file"), "file:./x").is_ok());
    }

    /// Lock entries as `nix flake lock` writes them; URLs as Nix 2.26's
    /// `builtins.flakeRefToString` prints the same attributes (without `dir`).
    #[test]
    fn locked_urls() {
        let url = |j: &str| {
            let v: serde_json::Value = serde_json::from_str(j).unwrap();
            locked_url(v.as_object().unwrap()).unwrap()
        };
        assert_eq!(
            url(
                r#"{"lastModified":1795710003,"narHash":"sha256-steaZUXCqKuU8ADdDweEm6cUDw8hDP5dWzgQCJKRkf8=","ref":"master","rev":"eb7d8aa9025385127929849c0498db00c3885361","revCount":1,"type":"git","url":"file:///tmp/kpf/input"}"#
            ),
            "git+file:///tmp/kpf/input?ref=master&rev=eb7d8aa9025385127929849c0498db00c3885361"
        );
        assert_eq!(
            url(r#"{"lastModified":1795710003,"narHash":"sha256-steaZUXCqKuU8ADdDweEm6cUDw8hDP5dWzgQCJKRkf8=","owner":"hercules-ci","repo":"flake-parts","rev":"eb7d8aa9025385127929849c0498db00c3885361","type":"github","dir":"sub"}"#),
            "github:hercules-ci/flake-parts/eb7d8aa9025385127929849c0498db00c3885361?narHash=sha256-steaZUXCqKuU8ADdDweEm6cUDw8hDP5dWzgQCJKRkf8%3D"
        );
        assert_eq!(
            url(
                r#"{"narHash":"sha256-steaZUXCqKuU8ADdDweEm6cUDw8hDP5dWzgQCJKRkf8=","type":"tarball","url":"https://x.org/a.tar.gz"}"#
            ),
            "https://x.org/a.tar.gz?narHash=sha256-steaZUXCqKuU8ADdDweEm6cUDw8hDP5dWzgQCJKRkf8%3D"
        );
    }
}
