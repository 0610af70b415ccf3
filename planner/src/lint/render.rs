//! The output formats of `kith lint`: human (miette), JSON Lines, SARIF 2.1.0 and GitHub
//! workflow annotations.

use super::{Diagnostic, Location, Position, Report, Severity, RULES};
use serde_json::{json, Value};
use std::sync::Arc;

/// Human text: miette's graphical report of each diagnostic, with colours if `color`, then
/// the count line (`N error(s), N warning(s), N note(s)[, N suppressed]`).
pub fn human(report: &Report, color: bool) -> String {
    let mut out = human_diagnostics(report, color);
    out.push_str(&counts(report));
    out
}

/// [`human`] without the count line.
pub fn human_diagnostics(report: &Report, color: bool) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic};
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_urls(true)
        .with_width(100);
    let mut out = String::new();
    let mut texts: std::collections::HashMap<&str, Arc<Lines>> = Default::default();
    for d in &report.diagnostics {
        let file = &d.location.file;
        let text = texts
            .entry(file)
            .or_insert_with(|| {
                let text = std::fs::read_to_string(report.root.join(file)).unwrap_or_default();
                Arc::new(Lines::new(text))
            })
            .clone();
        let text = Window(text);
        let mut help: Vec<String> = Vec::new();
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some(d.severity.as_str().to_string()),
            span(&d.location),
        )];
        for n in &d.notes {
            match &n.location {
                Some(l) if l.file == *file => {
                    labels.push(LabeledSpan::new_with_span(Some(n.message.clone()), span(l)));
                }
                Some(l) => help.push(format!("{}: {}", place(l), n.message)),
                None => help.push(n.message.clone()),
            }
        }
        for f in &d.fixes {
            help.push(format!("fix: {}", f.message));
        }
        let mut md = MietteDiagnostic::new(d.message.clone())
            .with_code(d.code)
            .with_severity(match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
                Severity::Info | Severity::Hint => miette::Severity::Advice,
            })
            .with_url(d.url())
            .with_labels(labels);
        if !help.is_empty() {
            md = md.with_help(help.join("\n"));
        }
        let report = miette::Report::new(md).with_source_code(miette::NamedSource::new(file, text));
        let mut s = String::new();
        if handler.render_report(&mut s, report.as_ref()).is_ok() {
            out.push_str(&s);
            out.push('\n');
        }
    }
    out
}

/// The count line of [`human`].
fn counts(report: &Report) -> String {
    let count = |s: Severity| {
        report
            .diagnostics
            .iter()
            .filter(|d| d.severity == s)
            .count()
    };
    let mut out = format!(
        "{} error(s), {} warning(s), {} note(s)",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info) + count(Severity::Hint)
    );
    if report.suppressed > 0 {
        out.push_str(&format!(", {} suppressed", report.suppressed));
    }
    out.push('\n');
    out
}

/// A file's text as miette reads it, each span read from a few lines above it. miette counts
/// lines from the start of the text it is given, so a large file with many diagnostics would
/// be scanned from its start for each of their labels.
struct Lines {
    text: String,
    /// The byte offset of each line's start.
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: String) -> Lines {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { text, starts }
    }
}

/// A shared [`Lines`] (miette takes its source by value).
struct Window(Arc<Lines>);

impl miette::SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let lines = &self.0;
        let line = lines.starts.partition_point(|&s| s <= span.offset()).max(1) - 1;
        let first = line.saturating_sub(before + 1);
        let start = lines.starts[first];
        let local = miette::SourceSpan::new((span.offset() - start).into(), span.len());
        let inner = lines.text.as_bytes()[start..].read_span(&local, before, after)?;
        let at = inner.span();
        Ok(Box::new(miette::MietteSpanContents::new(
            inner.data(),
            miette::SourceSpan::new((at.offset() + start).into(), at.len()),
            inner.line() + first,
            inner.column(),
            // miette's own count runs from the start of the text (its merging of nearby
            // labels' contexts depends on it).
            inner.line_count() + first,
        )))
    }
}

fn span(l: &Location) -> miette::SourceSpan {
    let r = &l.range;
    (r.start.byte, r.end.byte - r.start.byte).into()
}

fn place(l: &Location) -> String {
    format!("{}:{}:{}", l.file, l.range.start.line, l.range.start.column)
}

fn position(p: &Position) -> Value {
    json!({ "line": p.line, "column": p.column, "byte": p.byte })
}

fn range(l: &Location) -> Value {
    json!({ "start": position(&l.range.start), "end": position(&l.range.end) })
}

/// JSON Lines: one object per diagnostic.
pub fn json_lines(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let v = json!({
            "file": d.location.file,
            "range": range(&d.location),
            "code": d.code,
            "severity": d.severity.as_str(),
            "message": d.message,
            "notes": d.notes.iter().map(|n| match &n.location {
                Some(l) => json!({ "message": n.message, "file": l.file, "range": range(l) }),
                None => json!({ "message": n.message }),
            }).collect::<Vec<_>>(),
            "fixes": d.fixes.iter().map(|f| json!({
                "message": f.message,
                "edits": f.edits.iter().map(|e| json!({
                    "file": e.location.file,
                    "range": range(&e.location),
                    "newText": e.new_text,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "url": d.url(),
        });
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint => "note",
    }
}

fn region(l: &Location) -> Value {
    let r = &l.range;
    json!({
        "startLine": r.start.line,
        "startColumn": r.start.column,
        "endLine": r.end.line,
        "endColumn": r.end.column,
        "byteOffset": r.start.byte,
        "byteLength": r.end.byte - r.start.byte,
    })
}

fn sarif_location(l: &Location) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": l.file, "uriBaseId": "%SRCROOT%" },
            "region": region(l),
        }
    })
}

/// A fingerprint of `d` that survives edits elsewhere in its file (no line numbers).
fn fingerprint(d: &Diagnostic) -> String {
    let text = format!("{}\0{}\0{}", d.code, d.location.file, d.message);
    blake3::hash(text.as_bytes()).to_hex()[..32].to_string()
}

/// A SARIF 2.1.0 log of one run.
pub fn sarif(report: &Report) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": r.summary },
                "helpUri": super::rules::url(r.id),
                "defaultConfiguration": { "level": level(r.severity) },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            for n in d.notes.iter().filter(|n| n.location.is_none()) {
                text.push_str(&format!("\n{}", n.message));
            }
            json!({
                "ruleId": d.code,
                "ruleIndex": RULES.iter().position(|r| r.id == d.code),
                "level": level(d.severity),
                "message": { "text": text },
                "locations": [sarif_location(&d.location)],
                "relatedLocations": d.notes.iter().filter_map(|n| n.location.as_ref().map(|l| {
                    let mut v = sarif_location(l);
                    v["message"] = json!({ "text": n.message });
                    v
                })).collect::<Vec<_>>(),
                "partialFingerprints": { "kithLint/v1": fingerprint(d) },
                "fixes": d.fixes.iter().map(|f| json!({
                    "description": { "text": f.message },
                    "artifactChanges": f.edits.iter().map(|e| json!({
                        "artifactLocation": { "uri": e.location.file, "uriBaseId": "%SRCROOT%" },
                        "replacements": [{
                            "deletedRegion": region(&e.location),
                            "insertedContent": { "text": e.new_text },
                        }],
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "kith",
                "informationUri": "https://clan.lol/kith",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

/// GitHub workflow commands (`::error file=…,line=…,col=…::message`).
pub fn github(report: &Report) -> String {
    let data = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let prop = |s: &str| data(s).replace(':', "%3A").replace(',', "%2C");
    let mut out = String::new();
    for d in &report.diagnostics {
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info | Severity::Hint => "notice",
        };
        let r = &d.location.range;
        out.push_str(&format!(
            "::{kind} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            prop(&d.location.file),
            r.start.line,
            r.start.column,
            r.end.line,
            r.end.column,
            prop(&format!("kith lint: {}", d.code)),
            data(&d.message)
        ));
    }
    out
}
