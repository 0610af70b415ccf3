//! kith-inventory: Clan's inventory semantics, natively.
//!
//! Reads a clan from the user's flake (the user's own Nix evaluated by kith's evaluator),
//! merges its sources as clan-core does, and computes what clan-core's inventory machinery
//! computes: machines and tags, role membership, settings, service exports and constraint
//! checks. Where it meets something it does not model it says so (an `Unsupported` error) instead
//! of guessing; the caller then asks the reference path.

mod error;
pub mod modsys;

pub use error::{Error, Result, UNSET};
pub mod builtin_lib;
pub mod clan;
pub mod flake_parts;
pub mod introspection;
pub mod model;
mod schema;
pub mod serialize;
pub mod services;
