//! `kith eval`: the command-line face of `kith_eval::instantiate`.

use clap::Args;
use kith_eval::instantiate::{
    self, AutoArg, ErrorFormat, Input, OutputFormat, OutputOptions, Request,
};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `kith eval`, named as `nix-instantiate --eval`'s.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The file to evaluate (a directory means its `default.nix`).
    #[arg(conflicts_with = "expr")]
    file: Option<PathBuf>,
    /// Evaluate this expression instead of a file.
    #[arg(long, short = 'E', value_name = "EXPR")]
    expr: Option<OsString>,
    /// Evaluate the result completely (all attributes and list elements). Implied by
    /// `--flake`, as `nix eval` always does.
    #[arg(long)]
    strict: bool,
    /// Print the result as JSON.
    #[arg(long, conflicts_with = "xml")]
    json: bool,
    /// Print the result as XML (`builtins.toXML`).
    #[arg(long)]
    xml: bool,
    /// Leave source positions out of `--xml` output.
    #[arg(long)]
    no_location: bool,
    /// Only parse the input; exit non-zero on a syntax error.
    #[arg(long, conflicts_with = "flake")]
    parse: bool,
    /// Select an attribute path of the result (repeatable; each result is printed on its own
    /// line). With `--flake`, each is a flake output selected as `DIR#ATTRPATH` would be,
    /// the flake being loaded and evaluated once.
    #[arg(short = 'A', long = "attr", value_name = "ATTRPATH")]
    attr: Vec<String>,
    /// Pass NAME = EXPR to the function the input evaluates to (not with `--flake`: flake
    /// outputs are not auto-called, as in `nix eval`).
    #[arg(long, num_args = 2, value_names = ["NAME", "EXPR"], action = clap::ArgAction::Append, conflicts_with = "flake")]
    arg: Vec<OsString>,
    /// Pass NAME = "STRING" to the function the input evaluates to (not with `--flake`).
    #[arg(long, num_args = 2, value_names = ["NAME", "STRING"], action = clap::ArgAction::Append, conflicts_with = "flake")]
    argstr: Vec<OsString>,
    /// Add a search-path entry (`PATH` or `PREFIX=PATH`), before `NIX_PATH` (only used by
    /// impure evaluation: with `--flake`, only with `--impure`).
    #[arg(short = 'I', long = "include", value_name = "PATH")]
    include: Vec<String>,
    /// Maximum function-call depth before a stack-overflow error.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_call_depth: usize,
    /// Allow impure builtins (`getEnv`, `currentTime`, reading any path) and the search
    /// path. The default for plain files, as in `nix-instantiate`.
    #[arg(long)]
    impure: bool,
    /// Restrict to pure evaluation, as flakes are (the default with `--flake`).
    #[arg(long, conflicts_with = "impure")]
    pure_eval: bool,
    /// Enable experimental language features (`pipe-operators`, `parse-toml-timestamps`).
    #[arg(long, value_name = "FEATURES")]
    extra_experimental_features: Vec<String>,
    /// Lint `foo/bar` path literals (`ignore`, `warn`, `fatal`), as Nix's flag.
    #[arg(long, value_name = "LEVEL", value_parser = ["ignore", "warn", "fatal"])]
    lint_short_path_literals: Option<String>,
    /// Lint absolute and `~/` path literals (`ignore`, `warn`, `fatal`).
    #[arg(long, value_name = "LEVEL", value_parser = ["ignore", "warn", "fatal"])]
    lint_absolute_path_literals: Option<String>,
    /// Lint unquoted URL literals (`ignore`, `warn`, `fatal`).
    #[arg(long, value_name = "LEVEL", value_parser = ["ignore", "warn", "fatal"])]
    lint_url_literals: Option<String>,
    /// How to render errors: `nix` (exactly as C++ Nix) or `fancy` (miette, with colours).
    /// Defaults to `fancy` on a terminal and `nix` otherwise.
    #[arg(long, value_name = "FORMAT", value_parser = ["nix", "fancy"])]
    error_format: Option<String>,
    /// Accepted for compatibility with `nix-instantiate`; `kith` always prints the trace.
    #[arg(long, hide = true)]
    show_trace: bool,
    /// Accepted for compatibility with `nix-instantiate`.
    #[arg(long, hide = true)]
    no_show_trace: bool,
    /// Accepted for compatibility with `nix-instantiate` (`kith eval` always evaluates).
    #[arg(long = "eval", hide = true)]
    eval_flag: bool,
    /// Evaluate a flake output, as `nix eval DIR#ATTR` (offline, nothing is copied).
    #[arg(long, value_name = "DIR#ATTR", conflicts_with_all = ["expr", "file"])]
    flake: Option<String>,
    /// With `--flake`: use the directory PATH for the input NAME (`a/b` for nested inputs).
    #[arg(long, num_args = 2, value_names = ["NAME", "PATH"], action = clap::ArgAction::Append, requires = "flake")]
    override_input: Vec<String>,
    /// With `--flake`: print to stderr how each input was resolved (override, lock file
    /// and store path, or the clan-core source-tree substitute and why).
    #[arg(long, requires = "flake")]
    explain: bool,
    /// Do not fetch locked flake inputs missing from the store (kith otherwise asks
    /// `nix flake prefetch` for them when they are first needed).
    #[arg(long)]
    offline: bool,
    /// Parse and lower every file from its text, without reading or writing the cache of
    /// lowered files (`$KITH_CACHE_DIR`, else `$XDG_CACHE_HOME/kith` or `~/.cache/kith`).
    #[arg(long)]
    no_ir_cache: bool,
}

/// The evaluator settings the flags give (but the search path), pure or not as `pure` says.
fn eval_options(args: &EvalArgs, pure: bool) -> kith_eval::EvalOptions {
    let mut options = kith_eval::EvalOptions {
        pure,
        max_call_depth: args.max_call_depth,
        ir_cache_dir: ir_cache_dir(args),
        ..Default::default()
    };
    let lints = [
        ("short-path-literals", &args.lint_short_path_literals),
        ("absolute-path-literals", &args.lint_absolute_path_literals),
        ("url-literals", &args.lint_url_literals),
    ];
    for (name, level) in lints {
        if let Some(level) = level {
            // clap admits only valid levels.
            let _ = instantiate::set_lint(&mut options, name, level);
        }
    }
    for features in &args.extra_experimental_features {
        instantiate::enable_experimental_features(&mut options, features);
    }
    if let Ok(dir) = std::env::var("NIX_STORE_DIR") {
        options.store_dir = dir;
    }
    options
}

/// How values are printed.
fn output_options(args: &EvalArgs) -> OutputOptions {
    OutputOptions {
        format: if args.json {
            OutputFormat::Json
        } else if args.xml {
            OutputFormat::Xml
        } else {
            OutputFormat::Nix
        },
        strict: args.strict,
        xml_location: !args.no_location,
    }
}

/// How errors are rendered: `--error-format`, else `fancy` on a terminal.
fn error_format(args: &EvalArgs) -> ErrorFormat {
    match args.error_format.as_deref() {
        Some("fancy") => ErrorFormat::Fancy,
        Some(_) => ErrorFormat::Nix,
        None if std::io::stderr().is_terminal() => ErrorFormat::Fancy,
        None => ErrorFormat::Nix,
    }
}

/// Runs `kith eval --flake DIR#ATTR`, or with `-A PATH…` several attributes of one flake.
fn run_flake(args: &EvalArgs, installable: &str, cwd: PathBuf) -> ExitCode {
    let mut eval_options = eval_options(args, !args.impure);
    let nix_path = std::env::var("NIX_PATH").ok();
    eval_options.search_path = instantiate::search_path(&args.include, nix_path.as_deref(), &cwd);
    let req = kith_flake::EvalRequest {
        installable: installable.to_string(),
        options: kith_flake::FlakeOptions {
            overrides: args
                .override_input
                .chunks(2)
                .map(|p| (p[0].clone(), PathBuf::from(&p[1])))
                .collect(),
            offline: args.offline,
            ..Default::default()
        },
        output: output_options(args),
        error_format: error_format(args),
        eval_options,
        cwd,
        explain: args.explain,
        attrs: args.attr.clone(),
    };
    exit(&kith_flake::run_eval(&req))
}

/// Writes an outcome; its exit code.
fn exit(outcome: &instantiate::Outcome) -> ExitCode {
    if !crate::write_output(&outcome.stdout_bytes(), &outcome.stderr_bytes()) {
        return ExitCode::FAILURE;
    }
    if outcome.exit_code == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(outcome.exit_code.clamp(1, 255) as u8)
    }
}

/// The lowered-file cache directory, unless `--no-ir-cache`.
fn ir_cache_dir(args: &EvalArgs) -> Option<PathBuf> {
    if args.no_ir_cache {
        None
    } else {
        kith_eval::default_ir_cache_dir()
    }
}

/// Runs `kith eval`.
pub fn run(args: EvalArgs) -> ExitCode {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    if let Some(installable) = &args.flake {
        return run_flake(&args, installable, cwd);
    }
    let input = match (&args.expr, &args.file) {
        (Some(e), _) => Input::Expr(e.clone().into_vec()),
        (None, Some(f)) => Input::File(f.clone()),
        (None, None) => Input::File(PathBuf::from("default.nix")),
    };
    let mut req = Request::new(input, cwd);
    req.options = eval_options(&args, args.pure_eval);
    req.include = args.include.clone();
    req.nix_path = std::env::var("NIX_PATH").ok();
    let output = output_options(&args);
    req.strict = output.strict;
    req.format = output.format;
    req.xml_location = output.xml_location;
    req.parse_only = args.parse;
    req.error_format = error_format(&args);
    req.attr_paths = args.attr;
    // Names, expressions and strings are bytes, as Nix reads them.
    let name = |n: &OsString| kith_eval::kith_store::bytestr::from_os(n).into_owned();
    for pair in args.arg.chunks(2) {
        let expr = AutoArg::Expr(pair[1].clone().into_vec());
        req.args.push((name(&pair[0]), expr));
    }
    for pair in args.argstr.chunks(2) {
        let string = AutoArg::Str(pair[1].clone().into_vec());
        req.args.push((name(&pair[0]), string));
    }
    let outcome = instantiate::run_with(&req, |ev| {
        ev.set_flake_loader(std::rc::Rc::new(kith_flake::Loader::new(args.offline)))
    });
    exit(&outcome)
}
