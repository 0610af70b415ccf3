//! `kith lsp`: the language server of `kith_planner::lsp` over stdio.

use std::process::ExitCode;

/// Serves the language server protocol on stdin/stdout until the client exits: exit 0
/// after `shutdown` then `exit`, 1 on an `exit` without `shutdown` or a protocol error.
pub fn run() -> ExitCode {
    let (connection, io) = lsp_server::Connection::stdio();
    let served = kith_planner::lsp::serve(&connection);
    drop(connection);
    match served {
        Ok(true) => match io.join() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e.to_string()),
        },
        // The client is gone or exits uncleanly: the I/O threads may wait for it forever.
        Ok(false) => ExitCode::FAILURE,
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(e: &str) -> ExitCode {
    crate::write_output(b"", format!("error: kith lsp: {e}\n").as_bytes());
    ExitCode::FAILURE
}
