//! Completion and hover: what a name at the cursor can be, from its path in the file
//! ([`super::context`]) and the clan's [`Model`].

use super::context::{self, Context, Lang, LIST};
use super::model::Model;
use super::text;
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionTextEdit, Documentation, Hover, HoverContents,
    MarkupContent, MarkupKind, TextEdit,
};

/// What a path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slot {
    /// A machine name.
    Machine,
    /// A tag name.
    Tag,
    /// An instance name.
    Instance,
    /// A role of instance `.0`'s service.
    Role(String),
    /// A settings option of role `.1` of instance `.0`, below the option path `.2`.
    Setting(String, String, Vec<String>),
}

/// What the next name at `path` (a key if `key`, else a list element) is, if anything
/// kith knows about.
pub fn slot(path: &[String], key: bool) -> Option<Slot> {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    let inst = p.iter().rposition(|s| *s == "instances");
    if let Some(at) = inst {
        let rest = &p[at + 1..];
        match rest {
            [] if key => return Some(Slot::Instance),
            [i, "roles"] if key => return Some(Slot::Role(i.to_string())),
            [i, "roles", r, tail @ ..] => {
                if let Some(s) = tail.iter().position(|x| *x == "settings") {
                    // `settings` of the role, of a member machine or of a tag.
                    let ok = matches!(tail[..s], [] | ["machines" | "tags", _]);
                    if ok && key {
                        let below = tail[s + 1..].iter().map(|x| x.to_string()).collect();
                        return Some(Slot::Setting(i.to_string(), r.to_string(), below));
                    }
                    return None;
                }
                return match tail {
                    ["machines"] if key => Some(Slot::Machine),
                    ["tags"] if key => Some(Slot::Tag),
                    ["tags", LIST] if !key => Some(Slot::Tag),
                    _ => None,
                };
            }
            _ => {}
        }
    }
    match p.as_slice() {
        [.., "machines"] if key => Some(Slot::Machine),
        [.., "machines", _, "tags", LIST] if !key => Some(Slot::Tag),
        _ => None,
    }
}

/// The completions at byte `at` of `text`.
pub fn complete(model: &mut Model, text: &str, at: usize, lang: Lang) -> Vec<CompletionItem> {
    let ctx = context::at(text, at, lang);
    let Some(slot) = slot(&ctx.path, ctx.key) else {
        return Vec::new();
    };
    let quote = |name: &str| -> String {
        let bare = match lang {
            Lang::Json => ctx.in_string,
            Lang::Nix => ctx.in_string || !ctx.key || is_nix_name(name),
        };
        if bare {
            name.to_string()
        } else {
            format!("\"{name}\"")
        }
    };
    // The word typed so far is replaced (editors' own idea of a word may stop at `-`).
    let typed = text::range(text, ctx.word_start, at);
    let item = |name: &str, kind: CompletionItemKind, detail: String| CompletionItem {
        label: name.to_string(),
        kind: Some(kind),
        detail: Some(detail),
        text_edit: Some(CompletionTextEdit::Edit(TextEdit {
            range: typed,
            new_text: quote(name),
        })),
        ..Default::default()
    };
    match slot {
        Slot::Machine => model
            .machines()
            .iter()
            .map(|m| item(m, CompletionItemKind::VALUE, machine_detail(model, m)))
            .collect(),
        Slot::Tag => model
            .tags()
            .iter()
            .map(|t| {
                let ms = model.tagged(t);
                item(
                    t,
                    CompletionItemKind::ENUM_MEMBER,
                    format!("tag: {}", ms.join(", ")),
                )
            })
            .collect(),
        Slot::Instance => model
            .inventory
            .instances
            .iter()
            .map(|(n, inst)| {
                item(
                    n,
                    CompletionItemKind::MODULE,
                    format!("instance of service '{}'", inst.module.name),
                )
            })
            .collect(),
        Slot::Role(i) => model
            .roles(&i)
            .iter()
            .map(|r| {
                item(
                    r,
                    CompletionItemKind::CLASS,
                    format!("role of instance '{i}'"),
                )
            })
            .collect(),
        Slot::Setting(i, r, below) => {
            let mut seen = std::collections::BTreeSet::new();
            let mut out = Vec::new();
            for o in model.options(&i, &r) {
                let Some(rest) = o.path.strip_prefix(below.as_slice()) else {
                    continue;
                };
                let Some(name) = rest.first() else {
                    continue;
                };
                if !seen.insert(name.clone()) {
                    continue;
                }
                let leaf = rest.len() == 1;
                let mut it = item(
                    name,
                    CompletionItemKind::PROPERTY,
                    if leaf { o.ty.clone() } else { "options".into() },
                );
                if leaf {
                    it.documentation = o.description.clone().map(|d| {
                        Documentation::MarkupContent(MarkupContent {
                            kind: MarkupKind::Markdown,
                            value: d,
                        })
                    });
                }
                out.push(it);
            }
            out
        }
    }
}

/// The hover at byte `at` of `text`.
pub fn hover(model: &mut Model, text: &str, at: usize, lang: Lang) -> Option<Hover> {
    let (start, end) = context::word(text, at)?;
    let name = &text[start..end];
    let ctx: Context = context::at(text, start, lang);
    let value = match slot(&ctx.path, ctx.key)? {
        Slot::Machine => {
            model.inventory.machines.get(name)?;
            format!("**machine** `{name}`\n\n{}", machine_detail(model, name))
        }
        Slot::Tag => {
            let ms = model.tagged(name);
            format!("**tag** `{name}`\n\nmachines: {}", list(&ms))
        }
        Slot::Instance => {
            let inst = model.inventory.instances.get(name)?;
            let input = inst.module.input.as_deref().unwrap_or("clan-core");
            let roles: Vec<String> = inst.roles.keys().cloned().collect();
            format!(
                "**instance** `{name}`\n\nservice: `{}` (input `{input}`)\n\nroles: {}",
                inst.module.name,
                list(&roles)
            )
        }
        Slot::Role(i) => {
            let defined = model.roles(&i);
            let inst = model.inventory.instances.get(&i)?;
            let role = inst.roles.get(name);
            if role.is_none() && !defined.iter().any(|r| r == name) {
                return None;
            }
            let machines: Vec<String> = role
                .map(|r| r.machines.keys().cloned().collect())
                .unwrap_or_default();
            let tags: Vec<String> = role
                .map(|r| r.tags.keys().cloned().collect())
                .unwrap_or_default();
            format!(
                "**role** `{name}` of instance `{i}`\n\nmachines: {}\n\ntags: {}",
                list(&machines),
                list(&tags)
            )
        }
        Slot::Setting(i, r, below) => {
            let mut path = below;
            path.push(name.to_string());
            let o = model.options(&i, &r).into_iter().find(|o| o.path == path)?;
            let mut s = format!("**option** `{}`: `{}`", path.join("."), o.ty);
            if let Some(d) = &o.description {
                s.push_str("\n\n");
                s.push_str(d);
            }
            s
        }
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(text::range(text, start, end)),
    })
}

/// A machine's description, class and tags, in one line each.
fn machine_detail(model: &Model, name: &str) -> String {
    let Some(m) = model.inventory.machines.get(name) else {
        return String::new();
    };
    let class = match m.machine_class {
        kith_inventory::model::MachineClass::Nixos => "nixos",
        kith_inventory::model::MachineClass::Darwin => "darwin",
    };
    let mut s = String::new();
    if let Some(d) = &m.description {
        s.push_str(d);
        s.push_str("\n\n");
    }
    s.push_str(&format!("class: {class}; tags: {}", list(&m.tags)));
    s
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join(", ")
    }
}

/// Whether `name` can stand bare as a Nix attribute name.
fn is_nix_name(name: &str) -> bool {
    let mut cs = name.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn slots_of_paths() {
        let roles = ["inventory", "instances", "zt", "roles"];
        assert_eq!(slot(&p(&roles), true), Some(Slot::Role("zt".into())));
        let m = [&roles[..], &["peer", "machines"]].concat();
        assert_eq!(slot(&p(&m), true), Some(Slot::Machine));
        let t = [&roles[..], &["peer", "tags", LIST]].concat();
        assert_eq!(slot(&p(&t), false), Some(Slot::Tag));
        let s = [&roles[..], &["peer", "machines", "nas", "settings", "a"]].concat();
        assert_eq!(
            slot(&p(&s), true),
            Some(Slot::Setting("zt".into(), "peer".into(), p(&["a"])))
        );
        assert_eq!(slot(&p(&["instances"]), true), Some(Slot::Instance));
        assert_eq!(
            slot(&p(&["machines", "a", "tags", LIST]), false),
            Some(Slot::Tag)
        );
        assert_eq!(slot(&p(&["machines"]), true), Some(Slot::Machine));
        assert_eq!(slot(&p(&["meta"]), true), None);
        assert!(is_nix_name("gate-way") && !is_nix_name("1x") && !is_nix_name("a.b"));
    }
}
