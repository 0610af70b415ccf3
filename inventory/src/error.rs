//! Errors of the native inventory engine.

use kith_eval::EvalError;
use std::fmt;

/// Why the native engine gave no answer.
#[derive(Debug)]
pub enum Error {
    /// What clan-core itself would report (its message, word for word), or an evaluation
    /// error of the user's own Nix.
    Eval(Box<EvalError>),
    /// A construct the native engine does not model: the caller should ask the reference
    /// path, and `--explain` shows this reason.
    Unsupported(String),
}

/// The native engine's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// The module system's message for an option read without a value.
pub const UNSET: &str = "was accessed but has no value defined";

impl Error {
    /// Whether this is the module system's error for an option read without a value:
    /// an error of the clan only if a service reads the option (a check that forces every
    /// setting meets it where clan would not).
    pub fn is_unset_option(&self) -> bool {
        matches!(self, Error::Eval(e) if e.message.contains(UNSET))
    }

    /// Whether this is the error a shared service module raises when it reads `config`
    /// ([`crate::modsys::share::READS_CONFIG`]): the caller evaluates again without
    /// sharing.
    pub fn reads_config(&self) -> bool {
        matches!(self, Error::Eval(e) if e.message == crate::modsys::share::READS_CONFIG)
    }

    /// An [`Error::Unsupported`] with `reason`.
    pub fn unsupported(reason: impl Into<String>) -> Error {
        Error::Unsupported(reason.into())
    }
}

impl From<Box<EvalError>> for Error {
    fn from(e: Box<EvalError>) -> Error {
        // An unsupported construct met while forcing a lazily computed value travels
        // through the evaluator as an error with this prefix.
        match e.message.strip_prefix(UNSUPPORTED_PREFIX) {
            Some(reason) => Error::Unsupported(reason.to_string()),
            None => Error::Eval(e),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Eval(e) => f.write_str(&e.message),
            Error::Unsupported(r) => write!(f, "not modelled by the native engine: {r}"),
        }
    }
}

impl std::error::Error for Error {}

/// Marks an evaluator error raised because the native engine met a construct it does not
/// model (so that it surfaces as [`Error::Unsupported`], never as a user-facing error).
pub(crate) const UNSUPPORTED_PREFIX: &str = "\u{0}kith-unsupported: ";

/// An evaluator error carrying an unsupported-construct reason (see [`UNSUPPORTED_PREFIX`]).
pub(crate) fn unsupported_eval(reason: impl fmt::Display) -> Box<EvalError> {
    EvalError::new(format!("{UNSUPPORTED_PREFIX}{reason}"))
}

/// Converts a native-engine error into an evaluator error (to raise it from inside a lazy
/// value).
#[allow(dead_code)]
pub(crate) fn into_eval(e: Error) -> Box<EvalError> {
    match e {
        Error::Eval(e) => e,
        Error::Unsupported(r) => unsupported_eval(r),
    }
}
