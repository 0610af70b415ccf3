//! kith-store: Nix's pure formats, computed without a store or a daemon.
//!
//! - [`path`]: store paths (fixed-output, text, source) and store path names;
//! - [`nar`]: the NAR serialisation of a file tree, hashed on the fly;
//! - [`hash`]: hash algorithms and their base-16/32/64 and SRI forms;
//! - [`derivation`]: store derivations in their ATerm form, output and `.drv` paths;
//! - [`flakeref`]: flake references parsed and printed as Nix does;
//! - [`bytestr`]: the one-to-one encoding of byte strings as text that kith uses for
//!   names, paths and sources that are not UTF-8;
//! - [`fs`]: the file-system interface ([`fs::FileSystem`]) through which everything above
//!   kith-store reads files, with the host's implementation ([`fs::OsFileSystem`]).
//!
//! Nothing here evaluates Nix, spawns a process or writes a file.

pub mod bytestr;
pub mod derivation;
mod error;
pub mod flakeref;
pub mod fs;
pub mod hash;
pub mod nar;
pub mod path;

pub use error::{Error, Result};
pub use path::canon_path;
