//! `kith lsp`: a language server for a clan's `flake.nix`, its Nix files, `inventory.json`
//! and service modules. Diagnostics are `kith lint`'s, run with the editor's unsaved
//! buffers read in place of the files ([`overlay`]); code actions are their fixes;
//! completion and hover name machines, tags, instances, roles and settings options.

pub mod context;
pub mod convert;
mod features;
mod kept;
mod model;
pub mod overlay;
mod server;
pub mod text;

use lsp_server::Connection;
use lsp_types::{
    CodeActionProviderCapability, CompletionOptions, HoverProviderCapability, InitializeParams,
    SaveOptions, ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `initializationOptions` of the client.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Options {
    /// The clan's flake directory (default: found from the workspace root as the CLI
    /// finds it from the current directory).
    pub flake: Option<PathBuf>,
    /// `--override-input NAME PATH` pairs (relative paths against the workspace root).
    #[serde(deserialize_with = "overrides")]
    pub override_inputs: Vec<(String, PathBuf)>,
    /// `--offline`.
    pub offline: bool,
}

fn overrides<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<(String, PathBuf)>, D::Error> {
    let map = std::collections::BTreeMap::<String, PathBuf>::deserialize(d)?;
    Ok(map.into_iter().collect())
}

/// What the server implements.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..Default::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into(), "\"".into()]),
            ..Default::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        ..Default::default()
    }
}

/// The workspace root of `params`: `rootUri`, else the first workspace folder, else
/// `rootPath`.
#[allow(deprecated)]
fn workspace_root(params: &InitializeParams) -> Option<PathBuf> {
    params
        .root_uri
        .as_ref()
        .and_then(|u| u.to_file_path().ok())
        .or_else(|| {
            let folders = params.workspace_folders.as_ref()?;
            folders.first()?.uri.to_file_path().ok()
        })
        .or_else(|| params.root_path.as_ref().map(PathBuf::from))
}

/// The clan's flake directory for a workspace at `root` (the current directory if none):
/// `options.flake`, else `$CLAN_DIR`, else the first ancestor with `.clan-flake`, then
/// `.git`, `.hg`, `.svn`, `flake.nix`, as the CLI's `--flake` default.
fn flake_dir(options: &Options, root: &Path) -> Option<PathBuf> {
    if let Some(f) = &options.flake {
        return Some(root.join(f));
    }
    let clan_dir = std::env::var_os("CLAN_DIR");
    crate::select::default_flake_dir(clan_dir.as_deref(), root)
}

/// Serves the protocol on `connection` (from `initialize` to `exit`): whether the client
/// asked for `shutdown` before `exit` (the exit status is 0 if it did, else 1).
pub fn serve(connection: &Connection) -> Result<bool, lsp_server::ProtocolError> {
    let (id, params) = connection.initialize_start()?;
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let mut options: Options = params
        .initialization_options
        .clone()
        .and_then(|o| serde_json::from_value(o).ok())
        .unwrap_or_default();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let root = workspace_root(&params).unwrap_or(cwd);
    for (_, path) in &mut options.override_inputs {
        *path = root.join(&*path);
    }
    let result = lsp_types::InitializeResult {
        capabilities: capabilities(),
        server_info: Some(lsp_types::ServerInfo {
            name: "kith".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    let result = serde_json::to_value(result).unwrap_or_default();
    connection.initialize_finish(id, result)?;
    let flake = flake_dir(&options, &root);
    server::Server::new(connection, flake, &options).run()
}

#[cfg(test)]
mod tests {
    #[test]
    fn options_parse() {
        let o: super::Options = serde_json::from_value(serde_json::json!({
            "overrideInputs": { "clan-core": "/x/clan-core" },
            "offline": true
        }))
        .unwrap();
        assert_eq!(
            o.override_inputs,
            [("clan-core".into(), "/x/clan-core".into())]
        );
        assert!(o.offline && o.flake.is_none());
    }
}
