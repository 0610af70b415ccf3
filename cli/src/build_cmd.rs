//! `kith build`: computes a derivation with kith, then has C++ Nix realise it.
//!
//! kith never writes the Nix store, so the `.drv` file must get there through Nix: for a
//! flake `nix build --json --no-link DIR#ATTR` (with the same `--override-input`s), for a
//! file `nix-instantiate FILE -A ATTR` then `nix-store --realise`. The derivation path
//! Nix reports must equal the one kith computed (a difference is a kith bug and an
//! error); the output paths are then printed, one per line, as `nix build
//! --print-out-paths` does.

use clap::Args;
use kith_eval::eval::{Eval, EvalOptions};
use kith_eval::flake::{self, FlakeOptions};
use kith_eval::symbol::Symbol;
use kith_eval::value::{Attrs, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Arguments of `kith build`.
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The file to build from (a directory means its `default.nix`).
    #[arg(conflicts_with = "flake")]
    file: Option<PathBuf>,
    /// With FILE: the attribute path of the derivation.
    #[arg(
        short = 'A',
        long = "attr",
        value_name = "ATTRPATH",
        conflicts_with = "flake"
    )]
    attr: Option<String>,
    /// Build a flake output, as `nix build DIR#ATTR`.
    #[arg(long, value_name = "DIR#ATTR")]
    flake: Option<String>,
    /// With `--flake`: use the directory PATH for the input NAME (`a/b` for nested inputs).
    #[arg(long, num_args = 2, value_names = ["NAME", "PATH"], action = clap::ArgAction::Append, requires = "flake")]
    override_input: Vec<String>,
    /// The Nix store to realise in (passed to Nix as `--store`), e.g. a directory.
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// A Nix setting for the realisation (passed to Nix as `--option NAME VALUE`).
    #[arg(long, num_args = 2, value_names = ["NAME", "VALUE"], action = clap::ArgAction::Append)]
    option: Vec<String>,
    /// Allow impure evaluation of the flake (`getEnv`, reading any path, …).
    #[arg(long)]
    impure: bool,
    /// Only print the derivation path kith computes; do not call Nix.
    #[arg(long)]
    drv_path: bool,
    /// Do not fetch locked flake inputs missing from the store (kith otherwise asks
    /// `nix flake prefetch` for them); passed on to `nix build` as `--offline`.
    #[arg(long)]
    offline: bool,
}

/// What to build.
enum Target {
    /// `DIR#ATTR` with the directory made absolute.
    Flake {
        dir: PathBuf,
        attr: String,
        overrides: Vec<(String, PathBuf)>,
    },
    /// `FILE -A ATTR`.
    File { file: PathBuf, attr: String },
}

/// A derivation as kith computed it.
struct Drv {
    drv_path: String,
    /// Output name → store path.
    outputs: Vec<(String, String)>,
}

/// Runs `kith build`.
pub fn run(args: BuildArgs) -> ExitCode {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let target = target(&args, &cwd);
    let drv = match kith_drv(&target, &args) {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    if args.drv_path {
        let line = format!("{}\n", drv.drv_path);
        return if crate::write_output(line.as_bytes(), b"") {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let realised = match &target {
        Target::Flake {
            dir,
            attr,
            overrides,
        } => realise_flake(&args, dir, attr, overrides, &drv),
        Target::File { file, attr } => realise_file(&args, file, attr, &drv),
    };
    match realised.and_then(|r| check(&drv, r)) {
        Ok(paths) => {
            let text: String = paths.iter().map(|p| format!("{p}\n")).collect();
            if crate::write_output(text.as_bytes(), b"") {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => fail(&e),
    }
}

fn fail(msg: &str) -> ExitCode {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(msg.as_bytes());
    if !msg.ends_with('\n') {
        let _ = err.write_all(b"\n");
    }
    ExitCode::FAILURE
}

/// The build target, paths made absolute against `cwd`.
fn target(args: &BuildArgs, cwd: &Path) -> Target {
    match &args.flake {
        Some(installable) => {
            let (dir, attr) = flake::split_installable(installable);
            let dir = dir.strip_prefix("path:").unwrap_or(dir);
            Target::Flake {
                dir: absolute(cwd, Path::new(dir)),
                attr: attr.to_string(),
                overrides: args
                    .override_input
                    .chunks(2)
                    .map(|p| (p[0].clone(), absolute(cwd, Path::new(&p[1]))))
                    .collect(),
            }
        }
        None => Target::File {
            file: absolute(
                cwd,
                args.file.as_deref().unwrap_or(Path::new("default.nix")),
            ),
            attr: args.attr.clone().unwrap_or_default(),
        },
    }
}

/// `p` against `cwd`, lexically canonical.
fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    PathBuf::from(kith_eval::eval::canon_path(&cwd.join(p).to_string_lossy()))
}

/// Evaluates the target with kith: its derivation path and outputs.
fn kith_drv(target: &Target, args: &BuildArgs) -> Result<Drv, String> {
    let mut options = EvalOptions {
        pure: matches!(target, Target::Flake { .. }) && !args.impure,
        offline: args.offline,
        ..EvalOptions::default()
    };
    if let Ok(dir) = std::env::var("NIX_STORE_DIR") {
        options.store_dir = dir;
    }
    let mut ev = Eval::new(options);
    eval_target(&mut ev, target).map_err(|e| e.render(&ev.sources))
}

fn eval_target(ev: &mut Eval, target: &Target) -> kith_eval::error::Result<Drv> {
    let (v, what) = match target {
        Target::Flake {
            dir,
            attr,
            overrides,
        } => {
            let opts = FlakeOptions {
                overrides: overrides.clone(),
            };
            let f = flake::load(ev, dir, &opts)?;
            let url = format!("{}", dir.display());
            (flake::select_output(ev, &f, &url, attr)?, attr.clone())
        }
        Target::File { file, attr } => {
            let root = ev.eval_file(file)?;
            (select(ev, root, attr)?, attr.clone())
        }
    };
    derivation_of(ev, &v, &what)
}

/// Calls a function with `{}` (Nix's auto-call without `--arg`s).
fn auto_call(ev: &mut Eval, v: Value) -> kith_eval::error::Result<Value> {
    let v = ev.force(&v)?;
    if v.is_function() {
        let empty = Value::Attrs(Attrs::new());
        return ev.call(&v, empty, kith_eval::source::Span::NONE);
    }
    Ok(v)
}

/// Follows `-A`'s attribute path, auto-calling functions on the way as `nix-build` does.
fn select(ev: &mut Eval, root: Value, path: &str) -> kith_eval::error::Result<Value> {
    let mut v = auto_call(ev, root)?;
    for name in path.split('.').filter(|s| !s.is_empty()) {
        let attrs = ev.force_attrs(&v)?;
        let Some(next) = attrs.get(Symbol::new(name)).cloned() else {
            return Err(kith_eval::error::EvalError::new(format!(
                "attribute '{name}' in selection path '{path}' not found"
            )));
        };
        v = auto_call(ev, next)?;
    }
    Ok(v)
}

/// The `drvPath` and output paths of a derivation value.
fn derivation_of(ev: &mut Eval, v: &Value, what: &str) -> kith_eval::error::Result<Drv> {
    let attrs = ev.force_attrs(v)?;
    let is_drv = match attrs.get_str("type").cloned() {
        Some(t) => matches!(ev.force(&t)?, Value::String(s) if s.s == b"derivation"),
        None => false,
    };
    let Some(drv_path) = attrs.get_str("drvPath").cloned().filter(|_| is_drv) else {
        return Err(kith_eval::error::EvalError::new(format!(
            "'{what}' is not a derivation"
        )));
    };
    let drv_path = ev.force_string(&drv_path)?.encoded().into_owned();
    let names = match attrs.get_str("outputs").cloned() {
        Some(l) => {
            let l = ev.force_list(&l)?;
            let mut names = Vec::new();
            for n in l.iter() {
                names.push(ev.force_string(n)?.encoded().into_owned());
            }
            names
        }
        None => vec!["out".to_string()],
    };
    let mut outputs = Vec::new();
    for name in names {
        if let Some(o) = attrs.get_str(&name).cloned() {
            let o = ev.force_attrs(&o)?;
            if let Some(p) = o.get_str("outPath").cloned() {
                outputs.push((name, ev.force_string(&p)?.encoded().into_owned()));
            }
        }
    }
    Ok(Drv { drv_path, outputs })
}

/// What Nix realised: the derivation path and output name → path.
struct Realised {
    drv_path: String,
    outputs: Vec<(String, String)>,
}

/// The error when Nix is not installed.
fn no_nix(program: &str, drv: &Drv) -> String {
    format!(
        "error: kith build needs the Nix daemon or nix-build on PATH to realise '{}' (kith computes derivations but never writes the store itself); '{program}' was not found",
        drv.drv_path
    )
}

/// Runs a Nix command; its stdout, or an error with its stderr.
fn run_nix(program: &str, args: &[String], drv: &Drv) -> Result<String, String> {
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
fn common_flags(args: &BuildArgs) -> Vec<String> {
    let mut flags = Vec::new();
    if let Some(s) = &args.store {
        flags.extend(["--store".to_string(), s.clone()]);
    }
    for pair in args.option.chunks(2) {
        flags.extend(["--option".to_string(), pair[0].clone(), pair[1].clone()]);
    }
    flags
}

/// `nix build --json --no-link DIR#ATTR` with the same overrides.
fn realise_flake(
    args: &BuildArgs,
    dir: &Path,
    attr: &str,
    overrides: &[(String, PathBuf)],
    drv: &Drv,
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
    cmd.extend(common_flags(args));
    if args.impure {
        cmd.push("--impure".into());
    }
    if args.offline {
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
fn realise_file(args: &BuildArgs, file: &Path, attr: &str, drv: &Drv) -> Result<Realised, String> {
    let mut cmd = common_flags(args);
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
    let mut cmd = common_flags(args);
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
fn check(drv: &Drv, r: Realised) -> Result<Vec<String>, String> {
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
        let drv = Drv {
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
