//! `nix-instantiate --eval` as a library call: the request, running it, and its output.
//!
//! The CLI's `kith eval` and the language-suite conformance test both go through [`run`],
//! so their behaviour cannot drift apart.

use crate::error::{EvalError, Result};
use crate::eval::{canon_path, Eval, EvalOptions};
use crate::source::Span;
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
                    for feature in features.split_whitespace() {
                        match feature {
                            "pipe-operators" => self.options.pipe_operators = true,
                            "parse-toml-timestamps" => self.options.toml_timestamps = true,
                            _ => {}
                        }
                    }
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
                    let level = crate::lower::lints::LintLevel::parse(&level)
                        .ok_or_else(|| format!("invalid lint level '{level}'"))?;
                    let lints = &mut self.options.lints;
                    match other {
                        "--lint-short-path-literals" => lints.short_path = level,
                        "--lint-absolute-path-literals" => lints.absolute_path = level,
                        "--lint-url-literals" => lints.url = level,
                        _ => return Err(format!("unrecognised flag '{other}'")),
                    }
                }
                other => return Err(format!("unrecognised flag '{other}'")),
            }
        }
        Ok(())
    }

    /// The search path: `-I` entries, then `NIX_PATH`'s, as `(prefix, path)` pairs.
    fn search_path(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let env_entries = self.nix_path.as_deref().unwrap_or("");
        let entries = self
            .include
            .iter()
            .map(String::as_str)
            .chain(env_entries.split(':').filter(|s| !s.is_empty()));
        for e in entries {
            let (prefix, path) = match e.split_once('=') {
                Some((p, rest)) if !e.starts_with('/') => (p.to_string(), rest.to_string()),
                _ => (String::new(), e.to_string()),
            };
            let path = if path.contains("://") || path.starts_with('/') {
                path
            } else {
                canon_path(&crate::bytestr::from_os(self.cwd.join(&path).as_os_str()))
            };
            out.push((prefix, path));
        }
        out
    }
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
    let mut options = req.options.clone();
    options.search_path = req.search_path();
    let mut ev = Eval::new(options);
    let mut out = Outcome::default();
    let result = run_in(&mut ev, req, &mut out.stdout);
    // Captured warnings and traces come before the error, as Nix prints them.
    for line in ev.diagnostics.drain(..) {
        out.stderr.push_str(&line);
        out.stderr.push('\n');
    }
    match result {
        Ok(()) => {}
        Err(e) => {
            match req.error_format {
                ErrorFormat::Nix => out.stderr.push_str(&strip_ansi(&e.render(&ev.sources))),
                ErrorFormat::Fancy => {
                    let report = crate::diagnostic::to_report(&e, &ev.sources);
                    let handler = miette::GraphicalReportHandler::new();
                    let mut text = String::new();
                    if handler.render_report(&mut text, report.as_ref()).is_err() {
                        text = e.render(&ev.sources);
                    }
                    out.stderr.push_str(&text);
                }
            }
            out.exit_code = 1;
        }
    }
    out
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

fn run_in(ev: &mut Eval, req: &Request, stdout: &mut String) -> Result<()> {
    if req.parse_only {
        let text = match &req.input {
            Input::File(p) => read_input(&req.cwd.join(p))?,
            Input::Expr(e) => crate::bytestr::encode(e).into_owned(),
        };
        let origin = match &req.input {
            Input::File(p) => crate::source::Origin::File(req.cwd.join(p)),
            Input::Expr(_) => crate::source::Origin::Expr {
                base_dir: req.cwd.clone(),
            },
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
        let text = match req.format {
            OutputFormat::Nix => crate::print::print_value(ev, &v, req.strict)?,
            OutputFormat::Json => crate::builtins::to_json_string(ev, &v)?,
            OutputFormat::Xml => {
                crate::builtins::to_xml_string(ev, &v, req.strict, req.xml_location)?
            }
        };
        stdout.push_str(&text);
        if req.format != OutputFormat::Xml || !text.ends_with('\n') {
            stdout.push('\n');
        }
    }
    Ok(())
}

fn read_input(path: &Path) -> Result<String> {
    let p = if path.is_dir() {
        path.join("default.nix")
    } else {
        path.to_path_buf()
    };
    let bytes = std::fs::read(&p).map_err(|e| {
        EvalError::new(format!(
            "opening file '{}': {}",
            p.display(),
            crate::eval::io_reason(&e)
        ))
    })?;
    // Source is bytes; the parser reads it encoded (crate::bytestr).
    Ok(crate::bytestr::encode_owned(bytes))
}

/// Calls a function result with the `--arg`/`--argstr` values, as Nix's `autoCallFunction`.
fn auto_call(ev: &mut Eval, v: Value, args: &[(String, AutoArg)], cwd: &Path) -> Result<Value> {
    let v = ev.force(&v)?;
    let Value::Lambda(c) = &v else { return Ok(v) };
    let crate::ir::Param::Pattern {
        formals, ellipsis, ..
    } = &c.lambda.param
    else {
        return Ok(v);
    };
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

/// Selects an `-A` path (`a.b.0."c.d"`): attribute names and list indices. As Nix's
/// `findAlongAttrPath`, each function met on the way is auto-called (even without arguments).
fn select_attr_path(
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

/// Splits an attribute path (`a."b.c".0`) at dots outside double quotes.
pub(crate) fn split_attr_path(path: &str) -> Vec<String> {
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
