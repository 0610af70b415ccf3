//! `kith build`: kith computes a derivation; realisation is delegated to the real Nix.
//!
//! kith never writes the Nix store, so the `.drv` file must get there through Nix: for a
//! flake `nix build --json --no-link DIR#ATTR` (with the same `--override-input`s), for a
//! file `nix-instantiate FILE -A ATTR` then `nix-store --realise`. The derivation path
//! Nix reports must equal the one kith computed (a difference is a kith bug and an
//! error); the output paths are then the result, as `nix build --print-out-paths`
//! prints them.

use crate::FlakeOptions;
use kith_eval::instantiate::{self, DerivationInfo};
use kith_eval::{Eval, EvalOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What to build.
#[derive(Clone, Debug)]
pub enum BuildTarget {
    /// A flake output, `DIR#ATTR` as `nix build` takes it, with `--override-input NAME
    /// DIR`s.
    Flake {
        installable: String,
        overrides: Vec<(String, PathBuf)>,
    },
    /// `FILE -A ATTRPATH`, as `nix-build` takes them (`FILE` a directory means its
    /// `default.nix`; an empty path builds the file's value).
    File { file: PathBuf, attr: String },
}

/// A `kith build` request.
#[derive(Clone, Debug)]
pub struct BuildRequest {
    pub target: BuildTarget,
    /// The directory relative paths resolve against.
    pub cwd: PathBuf,
    /// Evaluator settings; `pure` is set from the fields below.
    pub eval_options: EvalOptions,
    /// Allow impure evaluation of a flake (files are always evaluated impurely, as by
    /// `nix-build`); passed on to `nix build`.
    pub impure: bool,
    /// Do not fetch missing locked flake inputs; passed on to `nix build` as `--offline`.
    pub offline: bool,
    /// The store Nix realises in (`--store`).
    pub store: Option<String>,
    /// Nix settings for the realisation (`--option NAME VALUE`).
    pub nix_options: Vec<(String, String)>,
    /// Only compute the derivation path; do not call Nix.
    pub drv_path_only: bool,
}

/// Runs `kith build`: the lines to print (the derivation path with
/// [`BuildRequest::drv_path_only`], else the realised output paths), or the error text.
pub fn build(req: &BuildRequest) -> Result<Vec<String>, String> {
    let target = Target::of(req);
    let drv = kith_derivation(req, &target)?;
    if req.drv_path_only {
        return Ok(vec![drv.drv_path]);
    }
    let realised = match &target {
        Target::Flake {
            dir,
            attr,
            overrides,
        } => realise_flake(req, dir, attr, overrides, &drv),
        Target::File { file, attr } => realise_file(req, file, attr, &drv),
    };
    check(&drv, realised?)
}

/// The build target, paths made absolute.
enum Target {
    /// `DIR#ATTR`.
    Flake {
        dir: PathBuf,
        attr: String,
        overrides: Vec<(String, PathBuf)>,
    },
    /// `FILE -A ATTR`.
    File { file: PathBuf, attr: String },
}

impl Target {
    fn of(req: &BuildRequest) -> Target {
        let cwd = &req.cwd;
        match &req.target {
            BuildTarget::Flake {
                installable,
                overrides,
            } => {
                let (dir, attr) = crate::split_installable(installable);
                let dir = dir.strip_prefix("path:").unwrap_or(dir);
                Target::Flake {
                    dir: absolute(cwd, Path::new(dir)),
                    attr: attr.to_string(),
                    overrides: overrides
                        .iter()
                        .map(|(name, p)| (name.clone(), absolute(cwd, p)))
                        .collect(),
                }
            }
            BuildTarget::File { file, attr } => Target::File {
                file: absolute(cwd, file),
                attr: attr.clone(),
            },
        }
    }
}

/// `p` against `cwd`, lexically canonical.
fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    PathBuf::from(kith_eval::canon_path(&cwd.join(p).to_string_lossy()))
}

/// Evaluates the target with kith: its derivation path and outputs.
fn kith_derivation(req: &BuildRequest, target: &Target) -> Result<DerivationInfo, String> {
    let mut options = req.eval_options.clone();
    options.pure = matches!(target, Target::Flake { .. }) && !req.impure;
    let mut ev = crate::evaluator(options, req.offline);
    eval_target(&mut ev, target, &req.cwd, req.offline).map_err(|e| e.render(&ev.sources))
}

fn eval_target(
    ev: &mut Eval,
    target: &Target,
    cwd: &Path,
    offline: bool,
) -> kith_eval::Result<DerivationInfo> {
    let (v, what) = match target {
        Target::Flake {
            dir,
            attr,
            overrides,
        } => {
            let opts = FlakeOptions {
                overrides: overrides.clone(),
                offline,
                ..FlakeOptions::default()
            };
            let f = crate::load(ev, dir, &opts)?;
            let url = format!("{}", dir.display());
            (crate::select_output(ev, &f, &url, attr)?, attr)
        }
        Target::File { file, attr } => {
            let root = ev.eval_file(file)?;
            (
                instantiate::select_for_build(ev, &root, attr, &[], cwd)?,
                attr,
            )
        }
    };
    instantiate::derivation_info(ev, &v, what)
}

/// What Nix realised: the derivation path and output name → path.
#[derive(Debug)]
struct Realised {
    drv_path: String,
    outputs: Vec<(String, String)>,
}

/// The error when Nix is not installed.
fn no_nix(program: &str, drv: &DerivationInfo) -> String {
    format!(
        "error: kith build needs the Nix daemon or nix-build on PATH to realise '{}' (kith computes derivations but never writes the store itself); '{program}' was not found",
        drv.drv_path
    )
}

/// Runs a Nix command; its stdout, or an error with its stderr.
fn run_nix(program: &str, args: &[String], drv: &DerivationInfo) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .stderr(std::process::Stdio::piped())
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_nix(program, drv)),
        Err(e) => return Err(format!("error: running '{program}': {e}")),
    };
    if !out.status.success() {
        return Err(format!(
            "error: '{program} {}' failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `--store` and `--option`s, as Nix's flags.
fn common_flags(req: &BuildRequest) -> Vec<String> {
    let mut flags = Vec::new();
    if let Some(s) = &req.store {
        flags.extend(["--store".to_string(), s.clone()]);
    }
    for (name, value) in &req.nix_options {
        flags.extend(["--option".to_string(), name.clone(), value.clone()]);
    }
    flags
}

/// `nix build --json --no-link DIR#ATTR` with the same overrides.
fn realise_flake(
    req: &BuildRequest,
    dir: &Path,
    attr: &str,
    overrides: &[(String, PathBuf)],
    drv: &DerivationInfo,
) -> Result<Realised, String> {
    let mut cmd: Vec<String> = [
        "--extra-experimental-features",
        "nix-command flakes",
        "build",
        "--json",
        "--no-link",
        "--no-write-lock-file",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    cmd.extend(common_flags(req));
    if req.impure {
        cmd.push("--impure".into());
    }
    if req.offline {
        cmd.push("--offline".into());
    }
    for (name, path) in overrides {
        cmd.extend([
            "--override-input".to_string(),
            name.clone(),
            path.display().to_string(),
        ]);
    }
    cmd.push(format!("{}#{attr}", dir.display()));
    let json = run_nix("nix", &cmd, drv)?;
    parse_build_json(&json)
}

/// The first entry of `nix build --json`'s output.
fn parse_build_json(text: &str) -> Result<Realised, String> {
    let bad = || format!("error: unexpected output of 'nix build --json': {text}");
    let v: serde_json::Value = serde_json::from_str(text).map_err(|_| bad())?;
    let entry = v.get(0).ok_or_else(bad)?;
    let drv_path = entry
        .get("drvPath")
        .and_then(|d| d.as_str())
        .ok_or_else(bad)?;
    let outputs = entry
        .get("outputs")
        .and_then(|o| o.as_object())
        .ok_or_else(bad)?
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect();
    Ok(Realised {
        drv_path: drv_path.to_string(),
        outputs,
    })
}

/// `nix-instantiate FILE -A ATTR`, then `nix-store --realise DRV`.
fn realise_file(
    req: &BuildRequest,
    file: &Path,
    attr: &str,
    drv: &DerivationInfo,
) -> Result<Realised, String> {
    let mut cmd = common_flags(req);
    cmd.push(file.display().to_string());
    if !attr.is_empty() {
        cmd.extend(["-A".to_string(), attr.to_string()]);
    }
    let out = run_nix("nix-instantiate", &cmd, drv)?;
    let drv_path = out.lines().last().unwrap_or("").trim().to_string();
    if drv_path != drv.drv_path {
        return Ok(Realised {
            drv_path,
            outputs: Vec::new(),
        });
    }
    let mut cmd = common_flags(req);
    cmd.extend(["--realise".to_string(), drv_path.clone()]);
    let out = run_nix("nix-store", &cmd, drv)?;
    let paths: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    // `nix-store --realise` prints the outputs ordered by name.
    let mut names: Vec<&String> = drv.outputs.iter().map(|(n, _)| n).collect();
    names.sort();
    let outputs = names
        .into_iter()
        .zip(paths)
        .map(|(name, p)| (name.clone(), p.to_string()))
        .collect();
    Ok(Realised { drv_path, outputs })
}

/// Checks Nix's derivation and output paths against kith's; the paths to print.
fn check(drv: &DerivationInfo, r: Realised) -> Result<Vec<String>, String> {
    if r.drv_path != drv.drv_path {
        return Err(format!(
            "error: kith computed the derivation '{}' but Nix instantiated '{}'; this is a bug in kith",
            drv.drv_path, r.drv_path
        ));
    }
    let mut paths = Vec::new();
    for (name, path) in &r.outputs {
        if let Some((_, mine)) = drv.outputs.iter().find(|(n, _)| n == name) {
            if mine != path {
                return Err(format!(
                    "error: kith computed '{mine}' for output '{name}' of '{}' but Nix built '{path}'; this is a bug in kith",
                    drv.drv_path
                ));
            }
        }
        paths.push(path.clone());
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nix_build_json() {
        // The shape `nix build --json` prints (Nix 2.8).
        let text = r#"[{"drvPath":"/nix/store/l2p7m6zv01xcnqmhlxmh70rq4w009s23-hi.drv","outputs":{"out":"/nix/store/q7lf7mmi1bbb4ddmzpzkpbkalnn5jqi5-hi"}}]"#;
        let r = parse_build_json(text).unwrap();
        assert_eq!(
            r.drv_path,
            "/nix/store/l2p7m6zv01xcnqmhlxmh70rq4w009s23-hi.drv"
        );
        assert_eq!(r.outputs.len(), 1);
        assert!(parse_build_json("[]").is_err());
    }

    #[test]
    fn mismatches_are_errors() {
        let drv = DerivationInfo {
            drv_path: "/nix/store/a.drv".into(),
            outputs: vec![("out".into(), "/nix/store/b".into())],
        };
        let ok = Realised {
            drv_path: "/nix/store/a.drv".into(),
            outputs: vec![("out".into(), "/nix/store/b".into())],
        };
        assert_eq!(check(&drv, ok).unwrap(), vec!["/nix/store/b".to_string()]);
        let other = Realised {
            drv_path: "/nix/store/c.drv".into(),
            outputs: Vec::new(),
        };
        assert!(check(&drv, other).unwrap_err().contains("bug in kith"));
    }
}
