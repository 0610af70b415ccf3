//! `nix-instantiate --eval` as a library call: the request, running it, and its output.
//!
//! The CLI's `kith eval` and the language-suite conformance test both go through [`run`],
//! so their behaviour cannot drift apart. Its stages are public for the other front ends
//! (`kith eval --flake`, `kith build`): attribute-path selection and auto-calling
//! ([`select_attr_path`], [`auto_call`], [`select_for_build`]), the output stage
//! ([`render_value`], [`render_error`], [`finish`]) and [`derivation_info`].

use crate::error::{ErrorExt, EvalError, Result};
use crate::eval::{canon_path, Eval, EvalOptions};
use crate::source::{Sources, Span};
use crate::symbol::Symbol;
use crate::value::{Attr, Attrs, Value};
use std::path::{Path, PathBuf};

/// What to evaluate.
#[derive(Clone, Debug)]
pub enum Input {
    /// A file (a directory means its `default.nix`).
    File(PathBuf),
    /// An expression's text (`--expr`), as bytes: Nix reads source that is not UTF-8.
    Expr(Vec<u8>),
}

/// A function argument given on the command line.
#[derive(Clone, Debug)]
pub enum AutoArg {
    /// `--arg NAME EXPR`.
    Expr(Vec<u8>),
    /// `--argstr NAME STRING`.
    Str(Vec<u8>),
}

/// How the result is printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// Nix syntax, as `nix-instantiate --eval`.
    #[default]
    Nix,
    /// `--json`.
    Json,
    /// `--xml`.
    Xml,
}

/// How a selected value is printed: `nix-instantiate --eval`'s output flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputOptions {
    pub format: OutputFormat,
    /// `--strict`: evaluate the value completely (JSON output always is).
    pub strict: bool,
    /// `--xml` output carries source positions (off with `--no-location`).
    pub xml_location: bool,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions {
            format: OutputFormat::Nix,
            strict: false,
            xml_location: true,
        }
    }
}

/// A `nix-instantiate --eval`-style request.
#[derive(Clone, Debug)]
pub struct Request {
    pub input: Input,
    /// `-A` attribute paths; each is selected and printed in turn.
    pub attr_paths: Vec<String>,
    pub args: Vec<(String, AutoArg)>,
    pub strict: bool,
    pub format: OutputFormat,
    /// `--xml` output carries source positions (off with `--no-location`).
    pub xml_location: bool,
    /// Only parse (`--parse`); succeed when the input is syntactically valid.
    pub parse_only: bool,
    /// `-I` entries, before `NIX_PATH`'s.
    pub include: Vec<String>,
    /// The value of `NIX_PATH`.
    pub nix_path: Option<String>,
    /// The working directory relative paths on the command line resolve against.
    pub cwd: PathBuf,
    pub options: EvalOptions,
    /// How errors are rendered.
    pub error_format: ErrorFormat,
}

/// How errors are rendered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ErrorFormat {
    /// Exactly as C++ Nix prints them (`error: …`, the trace, code excerpts).
    #[default]
    Nix,
    /// miette's graphical rendering, for terminals.
    Fancy,
}

impl Request {
    /// A request to evaluate `input` with default settings.
    pub fn new(input: Input, cwd: PathBuf) -> Request {
        Request {
            input,
            attr_paths: Vec::new(),
            args: Vec::new(),
            strict: false,
            format: OutputFormat::Nix,
            parse_only: false,
            xml_location: true,
            include: Vec::new(),
            nix_path: None,
            cwd,
            options: EvalOptions::default(),
            error_format: ErrorFormat::Nix,
        }
    }

    /// Applies `nix-instantiate`-style flags (as in the language suite's `.flags` files).
    /// Flags that only tune diagnostics are accepted and ignored.
    pub fn apply_flags(&mut self, flags: &[String]) -> std::result::Result<(), String> {
        let mut it = flags.iter();
        while let Some(f) = it.next() {
            let mut next = |what: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("flag '{f}' requires {what}"))
            };
            match f.as_str() {
                "--eval" | "--show-trace" | "--no-show-trace" => {}
                "--strict" => self.strict = true,
                "--json" => self.format = OutputFormat::Json,
                "--xml" => self.format = OutputFormat::Xml,
                "--no-location" => self.xml_location = false,
                "--parse" => self.parse_only = true,
                "--impure" => self.options.pure = false,
                "--pure-eval" => self.options.pure = true,
                "-A" | "--attr" => self.attr_paths.push(next("an attribute path")?),
                "-I" | "--include" => self.include.push(next("a path")?),
                "--arg" => {
                    let n = next("a name")?;
                    let e = next("an expression")?;
                    self.args.push((n, AutoArg::Expr(e.into_bytes())));
                }
                "--argstr" => {
                    let n = next("a name")?;
                    let s = next("a string")?;
                    self.args.push((n, AutoArg::Str(s.into_bytes())));
                }
                "--max-call-depth" => {
                    let n = next("a number")?;
                    self.options.max_call_depth =
                        n.parse().map_err(|_| format!("invalid number '{n}'"))?;
                }
                "--extra-experimental-features" | "--experimental-features" => {
                    let features = next("a list of features")?;
                    enable_experimental_features(&mut self.options, &features);
                }
                "--option" => {
                    let name = next("a name")?;
                    let value = next("a value")?;
                    if name == "abort-on-warn" {
                        self.options.abort_on_warn = value == "true";
                    }
                }
                other if other.starts_with("--lint-") => {
                    let level = next("a level")?;
                    set_lint(&mut self.options, &other["--lint-".len()..], &level)?;
                }
                other => return Err(format!("unrecognised flag '{other}'")),
            }
        }
        Ok(())
    }

    /// How the selected values are printed.
    pub fn output(&self) -> OutputOptions {
        OutputOptions {
            format: self.format,
            strict: self.strict,
            xml_location: self.xml_location,
        }
    }
}

/// The search path: `-I` entries (`include`), then `NIX_PATH`'s, as `(prefix, path)`
/// pairs; relative paths are resolved against `cwd`.
pub fn search_path(
    include: &[String],
    nix_path: Option<&str>,
    cwd: &Path,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let entries = include
        .iter()
        .map(String::as_str)
        .chain(nix_path.unwrap_or("").split(':').filter(|s| !s.is_empty()));
    for e in entries {
        let (prefix, path) = match e.split_once('=') {
            Some((p, rest)) if !e.starts_with('/') => (p.to_string(), rest.to_string()),
            _ => (String::new(), e.to_string()),
        };
        let path = if path.contains("://") || path.starts_with('/') {
            path
        } else {
            canon_path(&crate::bytestr::from_os(cwd.join(&path).as_os_str()))
        };
        out.push((prefix, path));
    }
    out
}

/// Turns on the experimental language features named in `features` (whitespace-separated,
/// as Nix's `--extra-experimental-features`): `pipe-operators`, `parse-toml-timestamps`.
/// Other names are accepted and ignored.
pub fn enable_experimental_features(options: &mut EvalOptions, features: &str) {
    for feature in features.split_whitespace() {
        match feature {
            "pipe-operators" => options.pipe_operators = true,
            "parse-toml-timestamps" => options.toml_timestamps = true,
            _ => {}
        }
    }
}

/// Sets the lint `--lint-NAME` (`short-path-literals`, `absolute-path-literals`,
/// `url-literals`) to `level` (`ignore`, `warn`, `fatal`).
pub fn set_lint(
    options: &mut EvalOptions,
    name: &str,
    level: &str,
) -> std::result::Result<(), String> {
    let parsed = crate::lower::lints::LintLevel::parse(level)
        .ok_or_else(|| format!("invalid lint level '{level}'"))?;
    let lints = &mut options.lints;
    match name {
        "short-path-literals" => lints.short_path = parsed,
        "absolute-path-literals" => lints.absolute_path = parsed,
        "url-literals" => lints.url = parsed,
        _ => return Err(format!("unrecognised flag '--lint-{name}'")),
    }
    Ok(())
}

/// What a request produced: what `nix-instantiate` would print, and its exit code.
///
/// The texts are [`crate::bytestr`]-encoded, so that bytes of Nix strings that are not
/// UTF-8 survive: [`Outcome::stdout_bytes`] and [`Outcome::stderr_bytes`] give the exact
/// bytes to write. For output that is UTF-8 (almost all) the text is those bytes.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

impl Outcome {
    /// The bytes Nix would write to standard output.
    pub fn stdout_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        crate::bytestr::decode(&self.stdout)
    }
    /// The bytes Nix would write to standard error.
    pub fn stderr_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        crate::bytestr::decode(&self.stderr)
    }
}

/// Runs a request.
pub fn run(req: &Request) -> Outcome {
    run_with(req, |_| {})
}

/// Runs a request on an evaluator that `configure` has set up (its file system, its flake
/// loader for `builtins.getFlake`).
pub fn run_with(req: &Request, configure: impl FnOnce(&mut Eval)) -> Outcome {
    let mut options = req.options.clone();
    options.search_path = search_path(&req.include, req.nix_path.as_deref(), &req.cwd);
    let mut ev = Eval::new(options);
    configure(&mut ev);
    let mut out = Outcome::default();
    let result = run_in(&mut ev, req, &mut out.stdout);
    finish(ev, result, req.error_format, &mut out);
    out
}

/// Ends a run on `ev`: appends the warnings and traces `ev` captured
/// ([`EvalOptions::capture_diagnostics`]) to `out.stderr`, then `result`'s error, if any,
/// rendered as `format` (setting exit code 1), as Nix prints them; then frees `ev`.
pub fn finish(mut ev: Eval, result: Result<()>, format: ErrorFormat, out: &mut Outcome) {
    for line in ev.diagnostics.drain(..) {
        out.stderr.push_str(&line);
        out.stderr.push('\n');
    }
    if let Err(e) = result {
        out.stderr.push_str(&render_error(&e, &ev.sources, format));
        out.exit_code = 1;
    }
    drop(ev);
}

/// An error as `format` renders it: Nix's text without ANSI escapes, or miette's report.
pub fn render_error(e: &EvalError, sources: &Sources, format: ErrorFormat) -> String {
    match format {
        ErrorFormat::Nix => strip_ansi(&e.render(sources)),
        ErrorFormat::Fancy => {
            let report = crate::diagnostic::to_report(e, sources);
            let handler = miette::GraphicalReportHandler::new();
            let mut text = String::new();
            if handler.render_report(&mut text, report.as_ref()).is_err() {
                text = e.render(sources);
            }
            text
        }
    }
}

/// Removes ANSI CSI escape sequences (`ESC [ … final`), as Nix's logger does for output
/// that is not a colour terminal (messages built by Nix code may contain them).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' || chars.peek() != Some(&'[') {
            out.push(c);
            continue;
        }
        chars.next();
        for c in chars.by_ref() {
            if ('\u{40}'..='\u{7e}').contains(&c) {
                break;
            }
        }
    }
    out
}

/// A selected value as `nix-instantiate --eval` prints it in `output`'s format, ending in
/// a newline.
pub fn render_value(ev: &mut Eval, v: &Value, output: OutputOptions) -> Result<String> {
    let mut text = match output.format {
        OutputFormat::Nix => crate::print::print_value(ev, v, output.strict)?,
        OutputFormat::Json => crate::builtins::to_json_string(ev, v)?,
        OutputFormat::Xml => {
            crate::builtins::to_xml_string(ev, v, output.strict, output.xml_location)?
        }
    };
    if output.format != OutputFormat::Xml || !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

fn run_in(ev: &mut Eval, req: &Request, stdout: &mut String) -> Result<()> {
    if req.parse_only {
        let (text, origin) = match &req.input {
            // The file `import` would read: it must exist, a directory means its
            // `default.nix`, and reads go through the evaluator's file system.
            Input::File(p) => {
                let abs = canon_path(&crate::bytestr::from_os(req.cwd.join(p).as_os_str()));
                let p = ev.real_path_of(&Value::path(abs), Span::NONE)?;
                let file = ev.source_file(&crate::bytestr::to_path(&p))?;
                let text = ev.read_source_mapped(&file)?;
                (text, crate::source::Origin::File(file))
            }
            Input::Expr(e) => {
                let origin = crate::source::Origin::Expr {
                    base_dir: req.cwd.clone(),
                };
                (crate::bytestr::encode(e).into_owned(), origin)
            }
        };
        ev.compile(origin, &text)?;
        return Ok(());
    }
    let root = match &req.input {
        Input::File(p) => ev.eval_file(&req.cwd.join(p))?,
        Input::Expr(e) => ev.eval_expr(&crate::bytestr::encode(e), &req.cwd)?,
    };
    let paths: Vec<&str> = if req.attr_paths.is_empty() {
        vec![""]
    } else {
        req.attr_paths.iter().map(String::as_str).collect()
    };
    for path in paths {
        let v = select_attr_path(ev, &root, path, &req.args, &req.cwd)?;
        // As `nix-instantiate --eval`: the result is only called when arguments were given.
        let v = if req.args.is_empty() {
            v
        } else {
            auto_call(ev, v, &req.args, &req.cwd)?
        };
        stdout.push_str(&render_value(ev, &v, req.output())?);
    }
    Ok(())
}

/// Nix's `autoCallFunction`: forces `v`; a set with `__functor` is called with itself
/// first; a function with a pattern (`{ a, b ? 1, ... }:`) is called with those of `args`
/// (`--arg`/`--argstr`) it names (all of them with `...`), and without `...` a formal that
/// has neither an argument nor a default is Nix's "argument without a value" error.
/// `--arg` expressions are evaluated lazily against `cwd`. Any other value, including a
/// `x: …` function, is returned as it is.
pub fn auto_call(ev: &mut Eval, v: Value, args: &[(String, AutoArg)], cwd: &Path) -> Result<Value> {
    let mut v = ev.force(&v)?;
    // `__functor` sets, as many times as they nest (each call is a function call, so the
    // evaluator's call depth bounds a set whose functor returns itself).
    while let Value::Attrs(a) = &v {
        let Some(functor) = a.get_str("__functor").cloned() else {
            return Ok(v);
        };
        let called = ev.call(&functor, v.clone(), Span::NONE)?;
        v = ev.force(&called)?;
    }
    let Value::Lambda(c) = &v else { return Ok(v) };
    let crate::ir::Param::Pattern {
        formals, ellipsis, ..
    } = &c.lambda.param
    else {
        return Ok(v);
    };
    let given = |sym: Symbol| args.iter().any(|(n, _)| Symbol::new(n) == sym);
    if !*ellipsis {
        if let Some(f) = formals
            .iter()
            .find(|f| f.default.is_none() && !given(f.name))
        {
            return Err(EvalError::new(format!(
                "cannot evaluate a function that has an argument without a value ('{}')\n\
                 Nix attempted to evaluate a function as a top level expression; in\n\
                 this case it must have its arguments supplied either by default\n\
                 values, or passed explicitly with '--arg' or '--argstr'. See\n\
                 https://nixos.org/manual/nix/stable/language/constructs.html#functions.",
                f.name.as_str()
            ))
            .at(f.span));
        }
    }
    let mut entries = Vec::new();
    for (name, arg) in args {
        let sym = Symbol::new(name);
        if !*ellipsis && !formals.iter().any(|f| f.name == sym) {
            continue;
        }
        let value = match arg {
            AutoArg::Str(s) => Value::string(s.clone()),
            AutoArg::Expr(e) => {
                let e = crate::bytestr::encode(e).into_owned();
                let base = cwd.to_path_buf();
                crate::value::Thunk::native(move |ev: &mut Eval| ev.eval_expr(&e, &base))
            }
        };
        entries.push(Attr {
            name: sym,
            value,
            span: Span::NONE,
        });
    }
    let arg = Value::Attrs(Attrs::from_entries(entries));
    ev.call(&v, arg, Span::NONE)
}

/// Selects an `-A` path (`a.b.0."c.d"`, split by [`split_attr_path`]): attribute names
/// and list indices. As Nix's `findAlongAttrPath`, each value met on the way, `root`
/// included, is [auto-called](auto_call) with `args` (even when there are none) before
/// selecting from it; the selected value itself is not. `nix-instantiate --eval` then
/// calls it only when `args` is not empty; `nix-build` always does ([`select_for_build`]).
pub fn select_attr_path(
    ev: &mut Eval,
    root: &Value,
    path: &str,
    args: &[(String, AutoArg)],
    cwd: &Path,
) -> Result<Value> {
    let mut v = root.clone();
    for component in split_attr_path(path) {
        let cur = auto_call(ev, v, args, cwd)?;
        v = match (&cur, component.parse::<usize>()) {
            (Value::List(l), Ok(i)) => match l.get(i) {
                Some(x) => x.clone(),
                None => {
                    return Err(EvalError::new(format!(
                        "list index {i} in selection path '{path}' is out of range"
                    )))
                }
            },
            (Value::Attrs(a), _) => match a.get(Symbol::new(&component)) {
                Some(x) => x.clone(),
                None => {
                    return Err(EvalError::new(format!(
                        "attribute '{component}' in selection path '{path}' not found"
                    )))
                }
            },
            _ => {
                return Err(EvalError::new(format!(
                "the expression selected by the selection path '{path}' should be a set but is {}",
                cur.type_desc()
            )))
            }
        };
    }
    Ok(v)
}

/// Selects what `nix-build FILE -A path` builds from `root`: [`select_attr_path`], then
/// the result [auto-called](auto_call) (as Nix's `getDerivations` does, with or without
/// `args`).
pub fn select_for_build(
    ev: &mut Eval,
    root: &Value,
    path: &str,
    args: &[(String, AutoArg)],
    cwd: &Path,
) -> Result<Value> {
    let v = select_attr_path(ev, root, path, args, cwd)?;
    auto_call(ev, v, args, cwd)
}

/// A derivation as the evaluator computed it (nothing is written to the store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivationInfo {
    /// The `.drv` store path.
    pub drv_path: String,
    /// Output name → output store path, in the derivation's `outputs` order.
    pub outputs: Vec<(String, String)>,
}

/// The `drvPath` and output paths of the derivation value `v` (an attribute set with
/// `type = "derivation"`); otherwise the error `'{what}' is not a derivation`.
pub fn derivation_info(ev: &mut Eval, v: &Value, what: &str) -> Result<DerivationInfo> {
    let attrs = ev.force_attrs(v)?;
    let is_drv = match attrs.get_str("type").cloned() {
        Some(t) => matches!(ev.force(&t)?, Value::String(s) if s.s == b"derivation"),
        None => false,
    };
    let Some(drv_path) = attrs.get_str("drvPath").cloned().filter(|_| is_drv) else {
        return Err(EvalError::new(format!("'{what}' is not a derivation")));
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
    Ok(DerivationInfo { drv_path, outputs })
}

/// Splits an attribute path (`a."b.c".0`) at dots outside double quotes.
pub fn split_attr_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    if path.is_empty() {
        return out;
    }
    let mut cur = String::new();
    let mut quoted = false;
    for c in path.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(ev: &mut Eval, src: &str) -> Value {
        ev.eval_expr(src, Path::new("/")).unwrap()
    }

    /// `nix-instantiate --eval -E EXPR ARGS…` through [`run`].
    fn run_expr(expr: &str, args: &[&str]) -> Outcome {
        let mut req = Request::new(Input::Expr(expr.as_bytes().to_vec()), "/".into());
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        req.apply_flags(&args).unwrap();
        run(&req)
    }

    /// `--parse FILE` reads what `import` reads, with Nix 2.26's errors.
    #[test]
    fn parse_reads_the_file_import_reads() {
        let dir = std::env::temp_dir().join(format!("kith-parse-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("default.nix"), "1 +\n").unwrap();
        let parse = |file: &Path| {
            let mut req = Request::new(Input::File(file.to_path_buf()), "/".into());
            req.parse_only = true;
            run(&req)
        };
        let out = parse(&dir);
        assert_eq!(out.exit_code, 1);
        let at = format!("at {}:2:1:", dir.join("default.nix").display());
        assert!(out.stderr.contains(&at), "{}", out.stderr);
        let missing = dir.join("missing.nix");
        assert_eq!(
            parse(&missing).stderr,
            format!("error: path '{}' does not exist\n", missing.display())
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Outputs of Nix 2.26 (`nix-instantiate --eval -E …`).
    #[test]
    fn auto_call_is_nix_auto_call_function() {
        // A set with `__functor` is called with itself, then auto-called.
        let functor = "{ __functor = self: { x ? 1, y }: x + y + self.k; k = 100; }";
        assert_eq!(run_expr(functor, &["--arg", "y", "5"]).stdout, "106\n");
        // A formal with neither an argument nor a default.
        let out = run_expr("{ a, b ? 2 }: a + b", &["--arg", "b", "3"]);
        assert_eq!(out.exit_code, 1);
        assert_eq!(
            out.stderr,
            "error: cannot evaluate a function that has an argument without a value ('a')
       Nix attempted to evaluate a function as a top level expression; in
       this case it must have its arguments supplied either by default
       values, or passed explicitly with '--arg' or '--argstr'. See
       https://nixos.org/manual/nix/stable/language/constructs.html#functions.
       at «string»:1:3:
            1| { a, b ? 2 }: a + b
             |   ^
"
        );
        // With `...` every argument is passed and the call reports what is missing.
        let out = run_expr("{ a, ... }: a", &["--arg", "b", "3"]);
        assert!(out.stderr.contains("called without required argument 'a'"));
    }

    #[test]
    fn build_selection_quotes_dots_and_auto_calls_the_result() {
        let mut ev = Eval::new(EvalOptions::default());
        let root = eval(
            &mut ev,
            r#"{ a."b.c" = { n ? 1 }: { inherit n; }; a.b.c = 2; }"#,
        );
        let cwd = Path::new("/");
        let v = select_for_build(&mut ev, &root, r#"a."b.c""#, &[], cwd).unwrap();
        assert_eq!(
            crate::print::print_value(&mut ev, &v, true).unwrap(),
            "{ n = 1; }"
        );
        // `nix-instantiate --eval` leaves the selected function uncalled without arguments.
        let f = select_attr_path(&mut ev, &root, r#"a."b.c""#, &[], cwd).unwrap();
        assert!(ev.force(&f).unwrap().is_function());
        let args = [("n".to_string(), AutoArg::Str(b"x".to_vec()))];
        let v = select_for_build(&mut ev, &root, r#"a."b.c".n"#, &args, cwd).unwrap();
        assert_eq!(
            crate::print::print_value(&mut ev, &v, true).unwrap(),
            "\"x\""
        );
    }

    #[test]
    fn derivation_info_reads_drv_path_and_outputs() {
        let mut ev = Eval::new(EvalOptions::default());
        let v = eval(
            &mut ev,
            r#"derivation { name = "d"; system = "x"; builder = "/b"; outputs = [ "out" "dev" ]; }"#,
        );
        let info = derivation_info(&mut ev, &v, "d").unwrap();
        assert!(info.drv_path.ends_with("-d.drv"), "{info:?}");
        let names: Vec<&str> = info.outputs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["out", "dev"]);
        assert!(info.outputs[1].1.ends_with("-d-dev"), "{info:?}");
        let not = eval(&mut ev, "{ drvPath = \"/nix/store/x.drv\"; }");
        let err = derivation_info(&mut ev, &not, "x").unwrap_err();
        assert_eq!(err.message, "'x' is not a derivation");
    }
}
