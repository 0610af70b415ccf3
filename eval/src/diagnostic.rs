//! Errors as miette diagnostics, for rich terminal rendering and for embedders.

use crate::error::EvalError;
use crate::source::Sources;
use miette::{LabeledSpan, MietteDiagnostic, NamedSource, Report};

/// Converts an error into a miette [`Report`] carrying its source snippet, its primary
/// label, and the trace as labels/help.
pub fn to_report(err: &EvalError, sources: &Sources) -> Report {
    let mut diag =
        MietteDiagnostic::new(err.message.clone()).with_code(format!("nix::{}", kind_code(err)));
    let file = sources.get(err.span.file);
    if file.is_some() {
        let start = err.span.start as usize;
        let len = (err.span.end.saturating_sub(err.span.start)) as usize;
        diag = diag.with_labels([LabeledSpan::new_primary_with_span(
            Some("here".into()),
            (start, len),
        )]);
    }
    if !err.trace.is_empty() {
        let help: Vec<String> = err
            .trace
            .iter()
            .rev()
            .map(|f| match sources.describe(f.span) {
                Some((name, l, c)) => format!("… {} (at {name}:{l}:{c})", f.message),
                None => format!("… {}", f.message),
            })
            .collect();
        diag = diag.with_help(help.join("\n"));
    }
    let report = Report::new(diag);
    match file {
        Some(f) => report.with_source_code(NamedSource::new(f.display_name(), f.text.to_string())),
        None => report,
    }
}

fn kind_code(err: &EvalError) -> &'static str {
    use crate::error::ErrorKind::*;
    match err.kind {
        Throw => "throw",
        Assert => "assert",
        Abort => "abort",
        Parse => "syntax",
        InfiniteRecursion => "infinite-recursion",
        StackOverflow => "stack-overflow",
        Eval => "eval",
    }
}
