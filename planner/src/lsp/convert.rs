//! kith's lint diagnostics and fixes as LSP diagnostics and code actions.

use super::text;
use crate::lint::{self, Severity};
use lsp_types::{
    CodeAction, CodeActionKind, CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity,
    DiagnosticTag, NumberOrString, TextEdit, Url, WorkspaceEdit,
};
use std::collections::HashMap;
use std::path::Path;

/// The texts of the clan's files, by path relative to the clan's directory (open buffers
/// first, then the disk).
pub trait Texts {
    /// The text of `rel` with its lines indexed, if readable.
    fn text(&self, rel: &str) -> Option<std::rc::Rc<text::Indexed>>;
}

impl<F: Fn(&str) -> Option<String>> Texts for F {
    fn text(&self, rel: &str) -> Option<std::rc::Rc<text::Indexed>> {
        self(rel).map(|t| std::rc::Rc::new(text::Indexed::new(t)))
    }
}

/// The `file://` URI of `rel` in the clan at `root`.
pub fn uri(root: &Path, rel: &str) -> Option<Url> {
    Url::from_file_path(root.join(rel)).ok()
}

/// The LSP range of a lint location (from its byte offsets in the file's text; from its
/// line and column when the text is not readable).
pub fn range(loc: &lint::Location, texts: &dyn Texts) -> lsp_types::Range {
    let r = &loc.range;
    match texts.text(&loc.file) {
        Some(t) => t.range(r.start.byte, r.end.byte),
        None => {
            let p = |p: &lint::Position| {
                lsp_types::Position::new(
                    p.line.saturating_sub(1) as u32,
                    p.column.saturating_sub(1) as u32,
                )
            };
            lsp_types::Range::new(p(&r.start), p(&r.end))
        }
    }
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}

/// The LSP tags of rule `code`: `Unnecessary` for unused things, `Deprecated` for the
/// `deprecated-*` rules.
pub fn tags(code: &str) -> Option<Vec<DiagnosticTag>> {
    match code {
        "unused-machine" | "empty-instance" => Some(vec![DiagnosticTag::UNNECESSARY]),
        c if c.starts_with("deprecated-") => Some(vec![DiagnosticTag::DEPRECATED]),
        _ => None,
    }
}

/// `d` as an LSP diagnostic: the rule as its code with its page, source `kith`, the notes
/// with a site as related information and the others appended to the message.
pub fn diagnostic(d: &lint::Diagnostic, root: &Path, texts: &dyn Texts) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    let mut related = Vec::new();
    for n in &d.notes {
        match n
            .location
            .as_ref()
            .and_then(|l| Some((l, uri(root, &l.file)?)))
        {
            Some((l, uri)) => related.push(DiagnosticRelatedInformation {
                location: lsp_types::Location {
                    uri,
                    range: range(l, texts),
                },
                message: n.message.clone(),
            }),
            None => {
                message.push('\n');
                message.push_str(&n.message);
            }
        }
    }
    lsp_types::Diagnostic {
        range: range(&d.location, texts),
        severity: Some(severity(d.severity)),
        code: Some(NumberOrString::String(d.code.to_string())),
        code_description: Url::parse(&d.url())
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some("kith".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: tags(d.code),
        data: None,
    }
}

/// The quick fixes of `d`, each a workspace edit (its edits grouped by file).
pub fn code_actions(
    d: &lint::Diagnostic,
    lsp: &lsp_types::Diagnostic,
    root: &Path,
    texts: &dyn Texts,
) -> Vec<CodeAction> {
    let mut out = Vec::new();
    for (i, fix) in d.fixes.iter().enumerate() {
        let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
        for e in &fix.edits {
            let Some(uri) = uri(root, &e.location.file) else {
                continue;
            };
            changes.entry(uri).or_default().push(TextEdit {
                range: range(&e.location, texts),
                new_text: e.new_text.clone(),
            });
        }
        out.push(CodeAction {
            title: fix.message.clone(),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![lsp.clone()]),
            edit: Some(WorkspaceEdit {
                changes: Some(changes),
                ..Default::default()
            }),
            is_preferred: Some(i == 0 && d.fixes.len() == 1),
            ..Default::default()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::{Diagnostic, Edit, Fix, Location, Note, Position, Range};

    fn loc(text: &str, file: &str, start: usize, end: usize) -> Location {
        let pos = |b: usize| Position {
            line: text[..b].matches('\n').count() + 1,
            column: text[..b].rsplit('\n').next().unwrap().chars().count() + 1,
            byte: b,
        };
        Location {
            file: file.into(),
            range: Range {
                start: pos(start),
                end: pos(end),
            },
        }
    }

    #[test]
    fn diagnostics_carry_rule_site_notes_and_fixes() {
        let text = "{ # ünïcode\n  roles.x.machines.gatewäy-x = { };\n}\n";
        let start = text.find("gatewäy-x").unwrap();
        let end = start + "gatewäy-x".len();
        let at = loc(text, "clan.nix", start, end);
        let d = Diagnostic {
            code: "unknown-machine",
            severity: Severity::Error,
            message: "no such machine".into(),
            location: at.clone(),
            notes: vec![
                Note {
                    message: "also defined here".into(),
                    location: Some(loc(text, "clan.nix", 2, 3)),
                },
                Note {
                    message: "did you mean: gateway?".into(),
                    location: None,
                },
            ],
            fixes: vec![Fix {
                message: "rename the machine to 'gateway'".into(),
                edits: vec![Edit {
                    location: at,
                    new_text: "gateway".into(),
                }],
            }],
        };
        let texts = |rel: &str| (rel == "clan.nix").then(|| text.to_string());
        let root = Path::new("/clan");
        let l = diagnostic(&d, root, &texts);
        assert_eq!(
            l.code,
            Some(NumberOrString::String("unknown-machine".into()))
        );
        assert_eq!(l.source.as_deref(), Some("kith"));
        assert_eq!(l.range.start, lsp_types::Position::new(1, 19));
        assert_eq!(l.range.end, lsp_types::Position::new(1, 28));
        assert_eq!(
            l.code_description.as_ref().unwrap().href.as_str(),
            "https://clan.lol/kith/docs/lint/unknown-machine.md"
        );
        assert_eq!(l.message, "no such machine\ndid you mean: gateway?");
        let rel = l.related_information.as_ref().unwrap();
        assert_eq!(rel[0].location.uri.as_str(), "file:///clan/clan.nix");
        assert_eq!(l.tags, None);
        let actions = code_actions(&d, &l, root, &texts);
        let edits = &actions[0].edit.as_ref().unwrap().changes.as_ref().unwrap();
        let e = &edits[&Url::parse("file:///clan/clan.nix").unwrap()][0];
        assert_eq!((e.range, e.new_text.as_str()), (l.range, "gateway"));
    }

    #[test]
    fn tags_of_rules() {
        assert_eq!(
            tags("unused-machine"),
            Some(vec![DiagnosticTag::UNNECESSARY])
        );
        assert_eq!(
            tags("empty-instance"),
            Some(vec![DiagnosticTag::UNNECESSARY])
        );
        assert_eq!(
            tags("deprecated-services"),
            Some(vec![DiagnosticTag::DEPRECATED])
        );
        assert_eq!(tags("unknown-tag"), None);
    }
}
