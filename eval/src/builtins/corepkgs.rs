//! Nix's built-in `<nix/…>` files (corepkgs), served from memory.

/// The virtual directory corepkgs live in.
pub const DIR: &str = "/__corepkgs__";

/// The path of a `<nix/NAME>` lookup, if NAME is a corepkg.
pub fn lookup(name: &str) -> Option<String> {
    let file = name.strip_prefix("nix/")?;
    source(&format!("{DIR}/{file}")).map(|_| format!("{DIR}/{file}"))
}

/// The text of a corepkg file by its virtual path.
pub fn source(path: &str) -> Option<&'static str> {
    match path.strip_prefix(DIR)? {
        "/fetchurl.nix" => Some(FETCHURL),
        _ => None,
    }
}

/// `<nix/fetchurl.nix>`: a fixed-output derivation using the `builtin:fetchurl` builder.
const FETCHURL: &str = r#"{ system ? "builtin", url, outputHash ? "", outputHashAlgo ? "", md5 ? "", sha1 ? "", sha256 ? "", sha512 ? "", hash ? "", executable ? false, unpack ? false, name ? baseNameOf (toString url), impure ? false }:
derivation ({
  builder = "builtin:fetchurl";
  inherit name url executable unpack system;
  outputHashMode = if unpack || executable then "recursive" else "flat";
  outputHashAlgo = if hash != "" then "" else if sha512 != "" then "sha512" else if sha256 != "" then "sha256" else if sha1 != "" then "sha1" else if md5 != "" then "md5" else outputHashAlgo;
  outputHash = if hash != "" then hash else if sha512 != "" then sha512 else if sha256 != "" then sha256 else if sha1 != "" then sha1 else if md5 != "" then md5 else outputHash;
  preferLocalBuild = true;
  impureEnvVars = [ "http_proxy" "https_proxy" "ftp_proxy" "all_proxy" "no_proxy" ];
  urls = [ url ];
} // (if impure then { __impure = true; } else { }))
"#;

/// The `derivation` function: calls `derivationStrict` and builds, for each output, an
/// attribute set made of the original attributes, all outputs, `drvAttrs` and `all`, plus
/// that output's `outPath`, `drvPath`, `outputName` and `type = "derivation"`. The first
/// output's set is the result. Everything is lazy in the strict result.
pub const DERIVATION: &str = r#"args@{ outputs ? [ "out" ], ... }:
let
  paths = derivationStrict args;
  entry = output: {
    name = output;
    value = shared // {
      type = "derivation";
      outputName = output;
      outPath = paths.${output};
      drvPath = paths.drvPath;
    };
  };
  entries = map entry outputs;
  shared = args // builtins.listToAttrs entries // {
    all = map (e: e.value) entries;
    drvAttrs = args;
  };
in
(builtins.head entries).value
"#;
