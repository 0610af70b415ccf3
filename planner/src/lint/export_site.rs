//! Where a service module defines an export the module system rejects: its message names
//! the module file and the hook (`roles.<role>.perInstance`, `perMachine`, the service's
//! own `exports`) but no position, since the definition is the hook's result. The site is
//! found in the file's syntax: the binding of the interface's name below the hook's
//! `exports`, else that `exports`, else the hook.

use super::locate::Files;
use super::syntax::{cast, static_name, syn};
use super::Location;
use rnix::ast;
use rnix::SyntaxNode;

/// The hook a definition came from, as the module system's "via option …" names it.
pub(super) struct Hook {
    /// The module file, relative to the clan's directory.
    pub file: String,
    /// `perInstance`, `perMachine` or `exports`.
    pub name: String,
    /// The role of a `perInstance` hook.
    pub role: Option<String>,
}

/// The hook of the first definition listed in a module-system message (`- In `FILE, via
/// option …roles.ROLE.perInstance'`), if FILE is one of the clan's files.
pub(super) fn hook_of(msg: &str, files: &Files) -> Option<Hook> {
    let line = msg.lines().find(|l| l.trim_start().starts_with("- In `"))?;
    let rest = &line[line.find("- In `")? + 6..];
    let (file, via) = rest.split_once(", via option ")?;
    let file = files.relative(file)?;
    let via = via.trim_end_matches(['\'', ':']);
    let parts: Vec<&str> = via.split('.').collect();
    let name = (*parts.last()?).to_string();
    let role = match parts.as_slice() {
        [.., "roles", role, "perInstance"] => Some((*role).to_string()),
        _ => None,
    };
    Some(Hook { file, name, role })
}

/// An attribute's name and its range.
type Named = (String, rnix::TextRange);

/// The site of interface `iface` defined by `hook` (see the module documentation).
pub(super) fn export_site(files: &mut Files, hook: &Hook, iface: &str) -> Option<Location> {
    let text = files.text(&hook.file)?.to_string();
    let parse = rnix::Root::parse(&text);
    // Each binding's own attributes, with the names of the bindings around it.
    let bindings: Vec<(Vec<String>, Vec<Named>)> = parse
        .syntax()
        .descendants()
        .filter_map(|n| {
            let path = cast::<ast::AttrpathValue>(n.clone())?.attrpath()?;
            let own = path
                .attrs()
                .map(|a| (attr_name(&a), syn(&a).text_range()))
                .collect();
            let outer = n.parent().map(|p| names_above(&p)).unwrap_or_default();
            Some((outer, own))
        })
        .collect();
    // The attribute at index `at` of the full path, if it is one of the binding's own.
    let own_at = |outer: &[String], own: &[Named], at: usize| {
        at.checked_sub(outer.len())
            .and_then(|k| own.get(k))
            .map(|(_, r)| *r)
    };
    // The index of the hook's name in a full path (after its role, for `perInstance`).
    let hook_at = |full: &[String]| {
        let at = full.iter().position(|n| *n == hook.name)?;
        match &hook.role {
            Some(role) if !full[..at].contains(role) => None,
            _ => Some(at),
        }
    };
    let mut best: Option<(u8, rnix::TextRange)> = None;
    for (outer, own) in &bindings {
        let full: Vec<String> = outer
            .iter()
            .cloned()
            .chain(own.iter().map(|(n, _)| n.clone()))
            .collect();
        let Some(h) = hook_at(&full) else {
            continue;
        };
        let e = if hook.name == "exports" {
            Some(h)
        } else {
            full[h..].iter().position(|n| n == "exports").map(|k| h + k)
        };
        let candidates = [
            (
                0,
                e.map(|e| e + 1)
                    .filter(|&i| full.get(i).is_some_and(|n| n == iface)),
            ),
            (1, e),
            (2, Some(h)),
        ];
        for (rank, at) in candidates {
            let Some(range) = at.and_then(|at| own_at(outer, own, at)) else {
                continue;
            };
            if best.is_none_or(|(r, _)| rank < r) {
                best = Some((rank, range));
            }
        }
    }
    let (_, range) = best?;
    Some(files.location(&hook.file, range.start().into(), range.end().into()))
}

/// The static attribute names of the bindings `node` is inside, outermost first (through
/// functions, applications and `let`s: inside `roles.a.perInstance = { … }: { exports =
/// mkExports { … }; }`, `roles`, `a`, `perInstance`, `exports`).
fn names_above(node: &SyntaxNode) -> Vec<String> {
    let mut out = Vec::new();
    for n in node.ancestors() {
        let Some(path) = cast::<ast::AttrpathValue>(n).and_then(|apv| apv.attrpath()) else {
            continue;
        };
        let names: Vec<String> = path.attrs().map(|a| attr_name(&a)).collect();
        out.extend(names.into_iter().rev());
    }
    out.reverse();
    out
}

/// An attribute's name (`<dynamic>` for an interpolated one).
fn attr_name(a: &ast::Attr) -> String {
    static_name(a).unwrap_or_else(|| "<dynamic>".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks_are_read_from_definition_lists() {
        let dir = std::env::temp_dir().join(format!("kith-export-site-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("modules")).unwrap();
        std::fs::write(
            dir.join("modules/m.nix"),
            "{ ... }:\n{\n  roles.a = {\n    perInstance = { mkExports, ... }: {\n      exports = mkExports { peer.hosts = [ ]; };\n    };\n  };\n  roles.b.perInstance = _: { };\n}\n",
        )
        .unwrap();
        let mut files = Files::new(&dir, None);
        let msg = "The option `exports.\"m:i:a:jon\".peer' does not exist. Definition values:\n- In `modules/m.nix, via option _services.allServices.self-m.roles.a.perInstance':\n    { }";
        let hook = hook_of(msg, &files).unwrap();
        assert_eq!(
            (hook.file.as_str(), hook.name.as_str()),
            ("modules/m.nix", "perInstance")
        );
        assert_eq!(hook.role.as_deref(), Some("a"));
        let at = export_site(&mut files, &hook, "peer").unwrap();
        assert_eq!((at.range.start.line, at.range.start.column), (5, 29));
        // No such interface defined: the hook's `exports`.
        let at = export_site(&mut files, &hook, "endpoints").unwrap();
        assert_eq!((at.range.start.line, at.range.start.column), (5, 7));
        // Role b's hook has no `exports`: the hook itself.
        let b = Hook {
            role: Some("b".into()),
            ..hook
        };
        let at = export_site(&mut files, &b, "peer").unwrap();
        assert_eq!((at.range.start.line, at.range.start.column), (8, 11));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
