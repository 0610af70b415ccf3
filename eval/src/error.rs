//! Evaluation errors: Nix's message, the position, and the "while evaluating …" trace.

use crate::source::{Sources, Span};
use std::fmt::Write;

/// What kind of failure an error is; decides what `builtins.tryEval` catches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `throw`: catchable.
    Throw,
    /// A failed `assert`: catchable.
    Assert,
    /// `abort`: not catchable.
    Abort,
    /// A syntax error.
    Parse,
    /// `infinite recursion encountered`.
    InfiniteRecursion,
    /// Too deep: `stack overflow; max-call-depth exceeded`.
    StackOverflow,
    /// Any other evaluation error (type errors, missing attributes, …).
    Eval,
}

/// One line of an error's trace, innermost first.
#[derive(Clone, Debug)]
pub struct TraceFrame {
    pub span: Span,
    pub message: String,
}

/// An evaluation error.
#[derive(Clone, Debug)]
pub struct EvalError {
    pub kind: ErrorKind,
    /// The message, without the `error: ` prefix.
    pub message: String,
    /// Where the error happened, if known.
    pub span: Span,
    /// Context frames, innermost first.
    pub trace: Vec<TraceFrame>,
    /// A hint printed after the position, such as Nix's `Did you mean …?`.
    pub hint: Option<String>,
}

/// Result of evaluation steps. The error is boxed to keep `Result` small on the hot path.
pub type Result<T> = std::result::Result<T, Box<EvalError>>;

impl EvalError {
    /// An error of kind `Eval` with `message` and no position.
    pub fn new(message: impl Into<String>) -> Box<EvalError> {
        Self::of_kind(ErrorKind::Eval, message)
    }
    /// An error of `kind` with `message`.
    pub fn of_kind(kind: ErrorKind, message: impl Into<String>) -> Box<EvalError> {
        Box::new(EvalError {
            kind,
            message: message.into(),
            span: Span::NONE,
            trace: Vec::new(),
            hint: None,
        })
    }
    /// Whether `builtins.tryEval` catches this error.
    pub fn is_catchable(&self) -> bool {
        matches!(self.kind, ErrorKind::Throw | ErrorKind::Assert)
    }
}

/// Extension methods on boxed errors and results, for attaching positions and context.
pub trait ErrorExt {
    /// Sets the error's position if it has none.
    fn at(self, span: Span) -> Self;
    /// Adds a trace frame (`… while evaluating …`).
    fn context(self, span: Span, message: impl FnOnce() -> String) -> Self;
}

impl ErrorExt for Box<EvalError> {
    fn at(mut self, span: Span) -> Self {
        if !self.span.is_some() {
            self.span = span;
        }
        self
    }
    fn context(mut self, span: Span, message: impl FnOnce() -> String) -> Self {
        if self.trace.len() < 256 {
            self.trace.push(TraceFrame {
                span,
                message: message(),
            });
        }
        self
    }
}

impl<T> ErrorExt for Result<T> {
    fn at(self, span: Span) -> Self {
        self.map_err(|e| e.at(span))
    }
    fn context(self, span: Span, message: impl FnOnce() -> String) -> Self {
        self.map_err(|e| e.context(span, message))
    }
}

/// Shorthand: `Err(EvalError::new(msg))`.
pub fn fail<T>(message: impl Into<String>) -> Result<T> {
    Err(EvalError::new(message))
}

impl EvalError {
    /// Renders the error as current Nix prints it: `error:`, the trace (outermost first),
    /// then the message with its position and the source lines around it.
    pub fn render(&self, sources: &Sources) -> String {
        let mut out = String::new();
        if self.trace.is_empty() {
            let _ = write!(out, "error: {}", indent_lines(&self.message));
            render_pos(&mut out, sources, self.span, "       ");
            self.render_hint(&mut out);
            out.push('\n');
            return out;
        }
        out.push_str("error:\n");
        for frame in self.trace.iter().rev() {
            let _ = write!(out, "       … {}", indent_lines(&frame.message));
            render_pos(&mut out, sources, frame.span, "         ");
            out.push_str("\n\n");
        }
        let _ = write!(out, "       error: {}", indent_lines(&self.message));
        render_pos(&mut out, sources, self.span, "       ");
        self.render_hint(&mut out);
        out.push('\n');
        out
    }

    fn render_hint(&self, out: &mut String) {
        if let Some(hint) = &self.hint {
            let _ = write!(out, "\n       {hint}");
        }
    }
}

/// A multi-line message with its later lines indented by seven spaces, as Nix indents
/// everything after `error:`; empty lines stay empty.
fn indent_lines(message: &str) -> std::borrow::Cow<'_, str> {
    if !message.contains('\n') {
        return message.into();
    }
    let mut out = String::with_capacity(message.len() + 32);
    for (i, line) in message.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.is_empty() {
                out.push_str("       ");
            }
        }
        out.push_str(line);
    }
    out.into()
}

fn render_pos(out: &mut String, sources: &Sources, span: Span, indent: &str) {
    let Some(file) = sources.get(span.file) else {
        return;
    };
    let (line, col) = file.line_col(span.start);
    let _ = write!(out, "\n{indent}at {}:{line}:{col}:", file.display_name());
    // Nix right-aligns line numbers so that the bar is in column 14.
    for n in line.saturating_sub(1).max(1)..=line + 1 {
        let Some(text) = file.line(n) else { continue };
        if text.is_empty() {
            let _ = write!(out, "\n{:>13}|", n);
        } else {
            let _ = write!(out, "\n{:>13}| {}", n, text);
        }
        if n == line {
            let _ = write!(out, "\n{:>13}| {}^", "", " ".repeat(col - 1));
        }
    }
}
