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
    #[cold]
    pub fn new(message: impl Into<String>) -> Box<EvalError> {
        Self::of_kind(ErrorKind::Eval, message)
    }
    /// An error of `kind` with `message`.
    #[cold]
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

/// Most frames an error keeps (the innermost ones). Nix keeps them all, but a failing
/// thunk stores a copy of its error, so long traces would make deep failures quadratic.
const MAX_TRACE: usize = 256;

/// Extension methods on boxed errors and results, for attaching positions and context.
pub trait ErrorExt {
    /// Sets the error's position if it has none.
    fn at(self, span: Span) -> Self;
    /// Adds a trace frame (`… while evaluating …`).
    fn context(self, span: Span, message: impl FnOnce() -> String) -> Self;
}

impl ErrorExt for Box<EvalError> {
    #[cold]
    fn at(mut self, span: Span) -> Self {
        if !self.span.is_some() {
            self.span = span;
        }
        self
    }
    #[cold]
    fn context(mut self, span: Span, message: impl FnOnce() -> String) -> Self {
        if self.trace.len() < MAX_TRACE {
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

/// Writes `line` and a newline to stderr, ignoring write errors: a full or closed stderr
/// must not stop an evaluation (Nix still prints the result after a failed `trace`).
///
/// `line` is [`crate::bytestr`]-encoded text: stderr gets the bytes it stands for.
pub fn eprint_line(line: &str) {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(&crate::bytestr::decode(line));
    let _ = err.write_all(b"\n");
}

/// Shorthand: `Err(EvalError::new(msg))`.
#[cold]
pub fn fail<T>(message: impl Into<String>) -> Result<T> {
    Err(EvalError::new(message))
}

impl EvalError {
    /// Renders the error as current Nix prints it: `error:`, the trace (outermost first),
    /// then the message with its position and the source lines around it.
    pub fn render(&self, sources: &Sources) -> String {
        let mut out = String::new();
        if self.trace.is_empty() {
            let _ = write!(out, "error: {}", indent_lines(self.message.trim_end()));
            render_pos(&mut out, sources, self.span, "       ");
            self.render_hint(&mut out);
            out.push('\n');
            return out;
        }
        out.push_str("error:\n");
        self.render_trace(&mut out, sources);
        let _ = write!(
            out,
            "       error: {}",
            indent_lines(self.message.trim_end())
        );
        render_pos(&mut out, sources, self.span, "       ");
        self.render_hint(&mut out);
        out.push('\n');
        out
    }

    /// The trace, outermost frame first. As in Nix, a frame identical (same message and
    /// position) to one already shown is skipped; a run of more than five skipped frames
    /// is summarised as `(N duplicate frames omitted)`, shorter runs are shown anyway.
    fn render_trace(&self, out: &mut String, sources: &Sources) {
        let mut seen = std::collections::HashSet::new();
        let mut skipped: Vec<&TraceFrame> = Vec::new();
        for frame in self.trace.iter().rev() {
            if frame.message.is_empty() {
                continue;
            }
            let key = (frame.span.file, frame.span.start, frame.message.as_str());
            if !seen.insert(key) {
                skipped.push(frame);
                continue;
            }
            flush_skipped(out, sources, &mut skipped);
            render_frame(out, sources, frame);
        }
        flush_skipped(out, sources, &mut skipped);
    }

    fn render_hint(&self, out: &mut String) {
        if let Some(hint) = &self.hint {
            let _ = write!(out, "\n       {hint}");
        }
    }
}

/// Frames shown before more than this many consecutive duplicates are summarised.
const MAX_DUPLICATES_SHOWN: usize = 5;

fn render_frame(out: &mut String, sources: &Sources, frame: &TraceFrame) {
    let _ = write!(out, "       … {}", indent_lines(&frame.message));
    render_pos(out, sources, frame.span, "         ");
    out.push_str("\n\n");
}

/// Shows the duplicate frames skipped since the last frame shown, or their count.
fn flush_skipped(out: &mut String, sources: &Sources, skipped: &mut Vec<&TraceFrame>) {
    if skipped.len() > MAX_DUPLICATES_SHOWN {
        let _ = write!(
            out,
            "       ({} duplicate frames omitted)\n\n",
            skipped.len()
        );
    } else {
        for frame in skipped.iter() {
            render_frame(out, sources, frame);
        }
    }
    skipped.clear();
}

/// A multi-line message with its later lines indented by seven spaces, as Nix indents
/// everything after `error:`; trailing blanks of each line are dropped and empty lines
/// stay empty, as in Nix's output.
fn indent_lines(message: &str) -> std::borrow::Cow<'_, str> {
    if !message.contains('\n') && !message.ends_with([' ', '\t']) {
        return message.into();
    }
    let mut out = String::with_capacity(message.len() + 32);
    for (i, line) in message.split('\n').enumerate() {
        let line = line.trim_end_matches([' ', '\t']);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An error whose trace, outermost first, has frames with these messages.
    fn with_trace(outermost_first: &[&str]) -> EvalError {
        let mut e = *EvalError::new("boom");
        for m in outermost_first.iter().rev() {
            e = *Box::new(e).context(Span::NONE, || m.to_string());
        }
        e
    }

    #[test]
    fn duplicate_frames() {
        // Few duplicates are shown; more than five are counted. The set of frames seen is
        // never reset, as in Nix (see eval-fail-mutual-recursion.err.exp).
        let mut frames = vec!["a", "b", "b", "b", "c"];
        frames.extend(["a"; 7]);
        frames.push("d");
        let out = with_trace(&frames).render(&Sources::default());
        let expected = "error:\n       … a\n\n       … b\n\n       … b\n\n       … b\n\n       \
                        … c\n\n       (7 duplicate frames omitted)\n\n       … d\n\n       \
                        error: boom\n";
        assert_eq!(out, expected);
    }

    #[test]
    fn trailing_blanks_are_dropped() {
        // As Nix 2.26 prints `builtins.addErrorContext "x  \ny\n\n" (throw "a  \nb\n\n")`.
        let mut e = *EvalError::new("a  \nb\n\n");
        e = *Box::new(e).context(Span::NONE, || "x  \ny\n\n".to_string());
        let out = e.render(&Sources::default());
        assert_eq!(
            out,
            "error:\n       … x\n       y\n\n\n\n       error: a\n       b\n"
        );
    }

    #[test]
    fn multi_line_messages_are_indented() {
        let out = with_trace(&["first\nsecond"]).render(&Sources::default());
        assert_eq!(
            out,
            "error:\n       … first\n       second\n\n       error: boom\n"
        );
    }
}
