//! Turning diagnostics off: the clan's `kith.toml` (rules disabled or given another
//! severity, files excluded) and inline comments in Nix files (`# kith: ignore[RULE]`).

use super::{rules, Diagnostic, LintError, Severity};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// The configuration file, in the clan's directory.
pub const CONFIG_FILE: &str = "kith.toml";

/// The `[lint]` table of a clan's `kith.toml`.
///
/// ```toml
/// [lint]
/// disable = ["unused-machine"]          # rules not run
/// exclude = ["machines/legacy/**"]      # files whose diagnostics are dropped
/// [lint.severity]
/// unknown-tag = "error"                 # error, warning, info or hint
/// ```
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Rules whose diagnostics are dropped.
    pub disable: BTreeSet<String>,
    /// Rules reported at another severity than their default.
    pub severity: BTreeMap<String, Severity>,
    /// Globs (relative to the clan's directory) of files whose diagnostics are dropped.
    pub exclude: Vec<String>,
    excluded: GlobSet,
}

impl Config {
    /// The configuration of the clan in `dir`: its `kith.toml`, or the defaults if it has
    /// none (or the file has no `[lint]` table).
    pub fn load(dir: &Path) -> Result<Config, LintError> {
        let path = dir.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text).map_err(|e| LintError(format!("{CONFIG_FILE}: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(LintError(format!("cannot read {}: {e}", path.display()))),
        }
    }

    /// Parses a `kith.toml`'s text. Unknown keys, rules and severities are errors.
    pub fn parse(text: &str) -> Result<Config, String> {
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
        let mut config = Config::default();
        let Some(lint) = doc.get("lint") else {
            return Ok(config);
        };
        let lint = lint.as_table().ok_or("`lint` is not a table")?;
        for (key, value) in lint {
            match key.as_str() {
                "disable" => {
                    for id in strings(value, "lint.disable")? {
                        known_rule(&id)?;
                        config.disable.insert(id);
                    }
                }
                "exclude" => config.exclude = strings(value, "lint.exclude")?,
                "severity" => {
                    let table = value.as_table().ok_or("`lint.severity` is not a table")?;
                    for (id, level) in table {
                        known_rule(id)?;
                        let level = level
                            .as_str()
                            .and_then(severity)
                            .ok_or_else(|| format!("`lint.severity.{id}` is not one of \"error\", \"warning\", \"info\", \"hint\""))?;
                        config.severity.insert(id.clone(), level);
                    }
                }
                other => {
                    return Err(format!(
                        "unknown key `lint.{other}` (known: disable, exclude, severity)"
                    ))
                }
            }
        }
        let mut set = GlobSetBuilder::new();
        for g in &config.exclude {
            set.add(Glob::new(g).map_err(|e| format!("`lint.exclude`: {e}"))?);
        }
        config.excluded = set.build().map_err(|e| e.to_string())?;
        Ok(config)
    }

    /// Whether diagnostics in `file` (relative to the clan's directory) are dropped.
    pub fn excludes(&self, file: &str) -> bool {
        self.excluded.is_match(file)
    }
}

fn strings(value: &toml::Value, key: &str) -> Result<Vec<String>, String> {
    let list = value
        .as_array()
        .ok_or_else(|| format!("`{key}` is not a list of strings"))?;
    list.iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("`{key}` is not a list of strings"))
        })
        .collect()
}

fn known_rule(id: &str) -> Result<(), String> {
    if rules::rule(id).is_some() {
        return Ok(());
    }
    let ids: Vec<&str> = rules::RULES.iter().map(|r| r.id).collect();
    Err(format!("unknown rule `{id}` (rules: {})", ids.join(", ")))
}

fn severity(s: &str) -> Option<Severity> {
    match s {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        "hint" => Some(Severity::Hint),
        _ => None,
    }
}

/// Applies `config` and the inline comments of the clan's Nix files (in `root`) to
/// `diagnostics`; returns how many were dropped.
pub(crate) fn apply(root: &Path, config: &Config, diagnostics: &mut Vec<Diagnostic>) -> usize {
    let before = diagnostics.len();
    let mut comments: HashMap<String, Comments> = HashMap::new();
    diagnostics.retain_mut(|d| {
        if config.disable.contains(d.code) || config.excludes(&d.location.file) {
            return false;
        }
        if let Some(s) = config.severity.get(d.code) {
            d.severity = *s;
        }
        let file = &d.location.file;
        let c = comments.entry(file.clone()).or_insert_with(|| {
            if file.ends_with(".nix") {
                Comments::of(&std::fs::read_to_string(root.join(file)).unwrap_or_default())
            } else {
                Comments::default()
            }
        });
        !c.ignores(d.code, d.location.range.start.line)
    });
    before - diagnostics.len()
}

/// The marker of a suppression comment.
const MARKER: &str = "kith: ignore";

/// Which rules (`None`: all) a comment turns off.
type Rules = Option<BTreeSet<String>>;

/// The suppression comments of one Nix file.
#[derive(Default)]
struct Comments {
    /// `# kith: ignore-file[…]`: for the whole file.
    file: Vec<Rules>,
    /// `# kith: ignore[…]`: by the 1-based line they cover.
    lines: HashMap<usize, Vec<Rules>>,
}

impl Comments {
    /// The comments of `text`. `# kith: ignore[a, b]` after code covers its own line; on
    /// a line of its own, the next line. Without `[…]` it covers every rule. The same in
    /// a `/* … */` comment.
    fn of(text: &str) -> Comments {
        let mut out = Comments::default();
        for (i, line) in text.lines().enumerate() {
            let Some(at) = line.find(MARKER) else {
                continue;
            };
            let before = line[..at].trim_end();
            let code = if let Some(b) = before.strip_suffix('#') {
                b
            } else if let Some(b) = before.strip_suffix("/*") {
                b
            } else {
                continue;
            };
            let rest = &line[at + MARKER.len()..];
            let (whole_file, rest) = match rest.strip_prefix("-file") {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let rules = rest
                .strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .map(|(list, _)| {
                    list.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect::<BTreeSet<_>>()
                });
            if whole_file {
                out.file.push(rules);
            } else {
                let covered = if code.trim().is_empty() { i + 2 } else { i + 1 };
                out.lines.entry(covered).or_default().push(rules);
            }
        }
        out
    }

    fn ignores(&self, code: &str, line: usize) -> bool {
        let hit = |r: &Rules| r.as_ref().is_none_or(|set| set.contains(code));
        self.file.iter().any(hit) || self.lines.get(&line).is_some_and(|l| l.iter().any(hit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_and_refuses_what_it_does_not_know() {
        let c = Config::parse(
            "[lint]\ndisable = [\"unused-machine\"]\nexclude = [\"machines/old/**\"]\n[lint.severity]\nunknown-tag = \"error\"\n",
        )
        .unwrap();
        assert!(c.disable.contains("unused-machine"));
        assert_eq!(c.severity["unknown-tag"], Severity::Error);
        assert!(c.excludes("machines/old/a/configuration.nix"));
        assert!(!c.excludes("clan.nix"));
        assert!(Config::parse("[lint]\ndisable = [\"no-such-rule\"]\n")
            .unwrap_err()
            .contains("unknown rule `no-such-rule`"));
        assert!(Config::parse("[lint]\nignore = []\n")
            .unwrap_err()
            .contains("unknown key `lint.ignore`"));
        assert!(Config::parse("[lint.severity]\nunknown-tag = \"fatal\"\n").is_err());
        assert!(Config::parse("[other]\nx = 1\n")
            .unwrap()
            .disable
            .is_empty());
    }

    #[test]
    fn comments_cover_their_line_or_the_next() {
        let c = Comments::of(
            "{\n  # kith: ignore[unknown-tag]\n  a = 1;\n  b = 2; # kith: ignore\n  /* kith: ignore[unknown-machine, unknown-role] */\n  c = 3;\n  s = \"kith: ignore\";\n}\n",
        );
        assert!(c.ignores("unknown-tag", 3));
        assert!(!c.ignores("unknown-machine", 3));
        assert!(c.ignores("anything", 4));
        assert!(c.ignores("unknown-role", 6));
        assert!(!c.ignores("unknown-tag", 6));
        assert!(!c.ignores("unknown-tag", 7) && !c.ignores("unknown-tag", 8));
        let f = Comments::of("# kith: ignore-file[unused-machine]\n{ }\n");
        assert!(f.ignores("unused-machine", 2) && !f.ignores("unknown-tag", 2));
    }
}
