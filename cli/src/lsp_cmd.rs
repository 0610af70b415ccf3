//! `kith lsp`: the language server of `kith_planner::lsp` over stdio.

use std::process::ExitCode;

/// Serves the language server protocol on stdin/stdout until the client exits.
pub fn run() -> ExitCode {
    let (connection, io) = lsp_server::Connection::stdio();
    let served = kith_planner::lsp::serve(&connection);
    drop(connection);
    let joined = io.join();
    match served
        .map_err(|e| e.to_string())
        .and(joined.map_err(|e| e.to_string()))
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            crate::write_output(b"", format!("error: kith lsp: {e}\n").as_bytes());
            ExitCode::FAILURE
        }
    }
}
