//! `kith check`: the CI command. Everything clan checks when it evaluates a clan (each
//! instance's settings against its service's interface, the exports' scopes and
//! interfaces, the services' constraints, the inventory's assertions) and the lint rules,
//! over the whole fleet; only errors fail it and only errors are reported.

use crate::lint::{self, Config, Counts, LintError, Report, Run, Severity};
use kith_flake::FlakeOptions;
use std::path::Path;
use std::time::{Duration, Instant};

/// What `kith check` found.
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// The errors (in the lint's order and formats).
    pub report: Report,
    /// The clan's size.
    pub counts: Counts,
    /// Diagnostics below error severity, not reported (`kith lint` shows them).
    pub not_shown: usize,
    /// How long the check took.
    pub elapsed: Duration,
}

impl CheckReport {
    /// Whether the clan passed (no error).
    pub fn passed(&self) -> bool {
        self.report.diagnostics.is_empty()
    }

    /// One line: what was checked, how long it took and what was found, e.g. `checked
    /// 1000 machines, 12 instances of 5 services in 0.41 s: no errors`.
    pub fn summary(&self) -> String {
        let c = &self.counts;
        let errors = match self.report.diagnostics.len() {
            0 => "no errors".to_string(),
            1 => "1 error".to_string(),
            n => format!("{n} errors"),
        };
        let mut line = format!(
            "checked {} machine{}, {} instance{} of {} service{} in {:.2} s: {errors}",
            c.machines,
            plural(c.machines),
            c.instances,
            plural(c.instances),
            c.services,
            plural(c.services),
            self.elapsed.as_secs_f64(),
        );
        if self.not_shown > 0 {
            line.push_str(&format!(
                " ({} warning{} and note{} not shown: `kith lint` shows them)",
                self.not_shown,
                plural(self.not_shown),
                plural(self.not_shown),
            ));
        }
        if self.report.suppressed > 0 {
            line.push_str(&format!(", {} suppressed", self.report.suppressed));
        }
        line
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Checks the clan in `dir` as `config` and `run` say (cache, threads, progress).
pub fn check(
    dir: &Path,
    opts: &FlakeOptions,
    config: &Config,
    run: &Run,
) -> Result<CheckReport, LintError> {
    let start = Instant::now();
    let run = Run {
        reference: true,
        ..*run
    };
    let mut linted = lint::lint_run(dir, opts, config, &run)?;
    let all = linted.report.diagnostics.len();
    linted
        .report
        .diagnostics
        .retain(|d| d.severity == Severity::Error);
    Ok(CheckReport {
        not_shown: all - linted.report.diagnostics.len(),
        report: linted.report,
        counts: linted.counts,
        elapsed: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_says_what_was_checked_and_found() {
        let mut c = CheckReport {
            report: Report {
                root: "/c".into(),
                diagnostics: Vec::new(),
                suppressed: 0,
            },
            counts: Counts {
                machines: 1,
                instances: 2,
                services: 1,
            },
            not_shown: 0,
            elapsed: Duration::from_millis(1234),
        };
        assert!(c.passed());
        assert_eq!(
            c.summary(),
            "checked 1 machine, 2 instances of 1 service in 1.23 s: no errors"
        );
        c.not_shown = 1;
        c.report.suppressed = 3;
        assert_eq!(
            c.summary(),
            "checked 1 machine, 2 instances of 1 service in 1.23 s: no errors (1 warning and note not shown: `kith lint` shows them), 3 suppressed"
        );
    }
}
