//! The error of kith-store's operations: a message worded as Nix words it.

use std::fmt;

/// A failed operation, with Nix's message (`path '/x' does not exist`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The message, without `error: ` prefix.
    pub message: String,
}

impl Error {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// A result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
