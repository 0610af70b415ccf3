//! The rules of `kith lint`: stable ids, default severities and documentation pages.

use super::Severity;

/// A lint rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable id (the diagnostic's code).
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
}

/// Every rule, in documentation order.
pub const RULES: &[Rule] = &[
    Rule {
        id: "unknown-machine",
        severity: Severity::Error,
        summary: "A role names a machine that is in none of the clan's machine sources.",
    },
    Rule {
        id: "unknown-tag",
        severity: Severity::Warning,
        summary: "A role names a tag that no machine carries.",
    },
    Rule {
        id: "unknown-role",
        severity: Severity::Error,
        summary: "An instance uses a role its service does not define.",
    },
    Rule {
        id: "unknown-service",
        severity: Severity::Error,
        summary: "An instance's module does not resolve to a service.",
    },
    Rule {
        id: "settings-unknown-key",
        severity: Severity::Error,
        summary: "Settings set an option the role's interface does not declare.",
    },
    Rule {
        id: "settings-type",
        severity: Severity::Error,
        summary: "Settings give an option a value of the wrong type.",
    },
    Rule {
        id: "settings-missing-required",
        severity: Severity::Error,
        summary: "An option without a default is left unset, and the service reads it.",
    },
    Rule {
        id: "settings-enum",
        severity: Severity::Error,
        summary: "Settings give an enum option a value outside its allowed values.",
    },
    Rule {
        id: "constraint-max-instances",
        severity: Severity::Error,
        summary: "A service has more instances than its `maxInstances` constraint allows.",
    },
    Rule {
        id: "constraint-min-machines",
        severity: Severity::Error,
        summary: "A role of an instance has fewer members than its service's `minMachines`.",
    },
    Rule {
        id: "constraint-max-machines",
        severity: Severity::Error,
        summary: "A role of an instance has more members than its service's `maxMachines`.",
    },
    Rule {
        id: "empty-instance",
        severity: Severity::Warning,
        summary: "An instance has no roles, or no role has a member.",
    },
    Rule {
        id: "duplicate-definition",
        severity: Severity::Warning,
        summary: "Fragments merged with `recursiveUpdate` define the same instance setting differently: one is silently dropped.",
    },
    Rule {
        id: "unused-machine",
        severity: Severity::Hint,
        summary: "A machine is a member of no instance.",
    },
    Rule {
        id: "orphan-vars",
        severity: Severity::Warning,
        summary: "`vars/per-machine/<m>/` (or `sops/machines/<m>/`) for a machine the clan does not have.",
    },
    Rule {
        id: "class-mismatch",
        severity: Severity::Warning,
        summary: "A role's service configures only NixOS machines and has a darwin member (or the reverse).",
    },
    Rule {
        id: "deprecated-inventory-services",
        severity: Severity::Error,
        summary: "The clan defines `inventory.services`, which clan-core has removed.",
    },
    Rule {
        id: "deprecated-meta-tld",
        severity: Severity::Warning,
        summary: "The clan sets `meta.tld`, which clan-core deprecates for `meta.domain`.",
    },
    Rule {
        id: "deprecated-string-extra-modules",
        severity: Severity::Warning,
        summary: "A role's `extraModules` names a module by a string, which clan-core deprecates.",
    },
    Rule {
        id: "parse-error",
        severity: Severity::Error,
        summary: "A Nix or JSON file of the clan is not valid syntax.",
    },
    Rule {
        id: "eval-error",
        severity: Severity::Error,
        summary: "The clan does not evaluate, for a reason no other rule names.",
    },
    Rule {
        id: "not-static",
        severity: Severity::Info,
        summary: "Something kith could not check without evaluating more than it models.",
    },
];

/// Where the documentation pages live (`docs/lint/<id>.md` in kith's repository).
pub const DOCS_BASE: &str = "https://clan.lol/kith/docs/lint/";

/// The documentation page of rule `id`.
pub fn url(id: &str) -> String {
    format!("{DOCS_BASE}{id}.md")
}

/// The rule `id`, if there is one.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_rule_has_a_page() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/lint");
        let index = std::fs::read_to_string(docs.join("README.md")).unwrap();
        for r in super::RULES {
            let page = std::fs::read_to_string(docs.join(format!("{}.md", r.id))).unwrap();
            assert!(page.starts_with(&format!("# `{}`", r.id)), "{}", r.id);
            assert!(
                page.contains(&format!("**{}**", r.severity.as_str())),
                "{}",
                r.id
            );
            assert!(index.contains(&format!("[`{}`]", r.id)), "{}", r.id);
        }
    }
}
