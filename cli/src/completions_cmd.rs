//! `kith completions SHELL` and `kith man`: generated from the clap definitions.

use clap::{Args, CommandFactory};
use std::process::ExitCode;

/// Arguments of `kith completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    shell: clap_complete::Shell,
}

/// Prints the completion script for a shell.
pub fn completions(a: CompletionsArgs) -> ExitCode {
    let mut cmd = crate::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "kith", &mut out);
    if crate::write_output(&out, b"") {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints the man page (roff), `kith(1)`, with a section for each command.
pub fn man() -> ExitCode {
    let cmd = crate::Cli::command();
    let mut out = Vec::new();
    let rendered = clap_mangen::Man::new(cmd.clone())
        .render(&mut out)
        .and_then(|()| {
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                render_section(&mut out, &format!("kith {}", sub.get_name()), sub)?;
            }
            Ok(())
        });
    if let Err(e) = rendered {
        crate::write_output(b"", format!("error: {e}\n").as_bytes());
        return ExitCode::FAILURE;
    }
    if crate::write_output(&out, b"") {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A command's section of the man page: its synopsis, description and options, and its
/// subcommands' sections after it.
fn render_section(out: &mut Vec<u8>, name: &str, cmd: &clap::Command) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone().bin_name(name.to_string()));
    out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        render_section(out, &format!("{name} {}", sub.get_name()), sub)?;
    }
    Ok(())
}
