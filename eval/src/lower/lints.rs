//! Nix's optional lints on literals (`--lint-short-path-literals`,
//! `--lint-absolute-path-literals`, `--lint-url-literals`), checked while lowering.

/// How a lint reports: not at all, as a warning on stderr, or as an error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LintLevel {
    #[default]
    Off,
    Warn,
    Fatal,
}

impl LintLevel {
    /// Parses `ignore`/`warn`/`fatal` as Nix's flags take them.
    pub fn parse(s: &str) -> Option<LintLevel> {
        match s {
            "ignore" | "off" => Some(LintLevel::Off),
            "warn" => Some(LintLevel::Warn),
            "fatal" => Some(LintLevel::Fatal),
            _ => None,
        }
    }
}

/// The lint levels in force.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lints {
    /// `foo/bar` instead of `./foo/bar`.
    pub short_path: LintLevel,
    /// `/abs` and `~/home` path literals.
    pub absolute_path: LintLevel,
    /// `http://…` without quotes.
    pub url: LintLevel,
}

/// The lint a path literal's text triggers, with Nix's message.
pub fn path_literal(lints: &Lints, text: &str) -> Option<(LintLevel, String)> {
    if text.starts_with('~') {
        return (lints.absolute_path != LintLevel::Off).then(|| {
            (
                lints.absolute_path,
                format!("home path literals are not portable. Consider replacing path literal '{text}' by a string, relative path, or parameter (lint-absolute-path-literals)"),
            )
        });
    }
    if text.starts_with('/') {
        return (lints.absolute_path != LintLevel::Off).then(|| {
            (
                lints.absolute_path,
                format!("absolute path literals are not portable. Consider replacing path literal '{text}' by a string, relative path, or parameter (lint-absolute-path-literals)"),
            )
        });
    }
    if !text.starts_with("./") && !text.starts_with("../") {
        return (lints.short_path != LintLevel::Off).then(|| {
            (
                lints.short_path,
                format!("relative path literal '{text}' should be prefixed with '.' for clarity: './{text}' (lint-short-path-literals)"),
            )
        });
    }
    None
}

/// The lint a URL literal triggers, with Nix's message.
pub fn url_literal(lints: &Lints, text: &str) -> Option<(LintLevel, String)> {
    (lints.url != LintLevel::Off).then(|| {
        (
            lints.url,
            format!("URL literals are disallowed. Consider using a string literal \"{text}\" instead (lint-url-literals)"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_nix() {
        let all = Lints {
            short_path: LintLevel::Fatal,
            absolute_path: LintLevel::Warn,
            url: LintLevel::Fatal,
        };
        assert_eq!(
            path_literal(&all, "test/subdir").map(|x| x.1).as_deref(),
            Some("relative path literal 'test/subdir' should be prefixed with '.' for clarity: './test/subdir' (lint-short-path-literals)")
        );
        assert_eq!(
            path_literal(&all, "/tmp/foo").map(|x| x.0),
            Some(LintLevel::Warn)
        );
        assert_eq!(path_literal(&all, "./a"), None);
        assert_eq!(path_literal(&all, "../a"), None);
        assert_eq!(path_literal(&Lints::default(), "a/b"), None);
        assert!(url_literal(&all, "http://x").is_some());
    }
}
