//! `kith lsp` driven over stdio as an editor drives it, on a copy of the bundled example
//! clan: diagnostics of an unsaved buffer, their fix as a code action, completion, hover,
//! a change that clears them, shutdown and exit.

#[path = "../../eval/tests/common/corpus.rs"]
mod corpus;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/clan")
}

/// A fresh copy of the clan `from`, named by `tag`.
fn copy(from: &Path, tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kith-cli-lsp-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let status = Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

/// A client: the server's stdin and its messages.
struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start(dir: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kith"))
            .arg("lsp")
            .current_dir(dir)
            .env_remove("CLAN_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (tx, messages) = channel();
        std::thread::spawn(move || loop {
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if out.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(n) = line.strip_prefix("Content-Length: ") {
                    len = n.parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            if out.read_exact(&mut body).is_err() {
                return;
            }
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        });
        Client {
            child,
            stdin,
            messages,
            next_id: 0,
        }
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The next message `pick` accepts (others are skipped).
    fn wait(&mut self, what: &str, mut pick: impl FnMut(&Value) -> bool) -> Value {
        loop {
            match self.messages.recv_timeout(Duration::from_secs(120)) {
                Ok(m) if pick(&m) => return m,
                Ok(_) => {}
                Err(_) => panic!("no {what} from kith lsp"),
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let r = self.wait(method, |m| m["id"] == id);
        assert!(r.get("error").is_none(), "{method}: {r}");
        r["result"].clone()
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let m = self.wait("publishDiagnostics", |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        m["params"]["diagnostics"].as_array().unwrap().clone()
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The 0-based line and UTF-16 column of the first `needle` in `text`.
fn pos(text: &str, needle: &str) -> Value {
    pos_at(text, text.find(needle).unwrap())
}

/// The 0-based line and UTF-16 column of byte `at` of `text`.
fn pos_at(text: &str, at: usize) -> Value {
    let line = text[..at].matches('\n').count();
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let character: usize = text[start..at].chars().map(char::len_utf16).sum();
    json!({ "line": line, "character": character })
}

/// The labels of a completion answer's items.
fn labels_of(completion: &Value) -> Vec<&str> {
    completion
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect()
}

#[test]
fn diagnostics_fixes_completion_and_hover() {
    let dir = copy(&fixture(), "example");
    let clan_nix = dir.join("clan.nix");
    let on_disk = std::fs::read_to_string(&clan_nix).unwrap();
    // An unsaved edit: the role names an unknown machine (with a non-ASCII comment before
    // it on the line, so that UTF-16 columns differ from bytes).
    let broken = on_disk.replacen(
        "roles.controller.machines.gateway = { };",
        "/* é𝄞 */ roles.controller.machines.gateway-x = { };",
        1,
    );
    let mut c = Client::start(&dir);
    let init = c.request(
        "initialize",
        json!({ "processId": null, "rootUri": uri(&dir), "capabilities": {},
                "initializationOptions": { "offline": true } }),
    );
    let caps = &init["capabilities"];
    assert_eq!(caps["hoverProvider"], true, "{init}");
    assert_eq!(caps["codeActionProvider"], true);
    assert!(caps["completionProvider"].is_object());
    c.notify("initialized", json!({}));

    let doc = uri(&clan_nix);
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": doc, "languageId": "nix", "version": 1, "text": broken } }),
    );
    let ds = c.diagnostics(&doc);
    let d = ds
        .iter()
        .find(|d| d["code"] == "unknown-machine")
        .unwrap_or_else(|| panic!("{ds:?}"));
    assert_eq!(d["source"], "kith");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["range"]["start"], pos(&broken, "gateway-x"));
    let mut end = pos(&broken, "gateway-x");
    end["character"] = json!(end["character"].as_u64().unwrap() + 9);
    assert_eq!(d["range"]["end"], end);
    assert_eq!(
        d["codeDescription"]["href"],
        "https://clan.lol/kith/docs/lint/unknown-machine.md"
    );
    // The buffer was linted, the file left as it was.
    assert_eq!(std::fs::read_to_string(&clan_nix).unwrap(), on_disk);

    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": doc }, "range": d["range"],
                "context": { "diagnostics": [d] } }),
    );
    let fix = &actions.as_array().unwrap()[0];
    assert_eq!(fix["kind"], "quickfix");
    let edit = &fix["edit"]["changes"][doc.as_str()][0];
    assert_eq!(
        (&edit["newText"], &edit["range"]),
        (&json!("gateway"), &d["range"])
    );

    // Machine names where a role's machines go.
    let completion = c.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": doc }, "position": pos(&broken, "gateway-x") }),
    );
    let labels = labels_of(&completion);
    for m in ["gateway", "nas", "studio", "offsite"] {
        assert!(labels.contains(&m), "{labels:?}");
    }
    // Inside a name: the typed part (`gate`, `-` included in a name) is replaced.
    let mut inside = pos(&broken, "gateway-x");
    inside["character"] = json!(inside["character"].as_u64().unwrap() + 4);
    let completion = c.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": doc }, "position": inside }),
    );
    let item = completion
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "gateway")
        .unwrap();
    assert_eq!(
        item["textEdit"]["range"]["start"],
        pos(&broken, "gateway-x")
    );
    assert_eq!(item["textEdit"]["range"]["end"], inside);
    assert_eq!(item["textEdit"]["newText"], "gateway");

    // Hover: a machine, and a settings option with its type and description.
    let hover = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": doc }, "position": pos(&broken, "gateway = {") }),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("machine") && text.contains("Router and VPN controller"),
        "{hover}"
    );
    let hover = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": doc }, "position": pos(&broken, "allowedIps") }),
    );
    let text = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        text.contains("list of string") && text.contains("Extra addresses routed"),
        "{hover}"
    );

    // Tag names in `inventory.json`, inside a role's `tags` (read from disk: not open).
    let json_path = dir.join("inventory.json");
    let json_text = std::fs::read_to_string(&json_path).unwrap();
    let completion = c.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri(&json_path) },
                "position": pos(&json_text, "server\": {}") }),
    );
    let labels = labels_of(&completion);
    for t in ["server", "laptop", "storage", "all"] {
        assert!(labels.contains(&t), "{labels:?}");
    }
    // The roles of the instance's service, and an option's hover, in `inventory.json`.
    let roles_at = json_text
        .find("\"server\": {\n          \"machines\"")
        .unwrap()
        + 1;
    let roles_pos = pos_at(&json_text, roles_at);
    let roles = c.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri(&json_path) }, "position": roles_pos }),
    );
    let labels = labels_of(&roles);
    assert_eq!(labels, ["client", "server"]);
    let hover = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri(&json_path) },
                "position": pos(&json_text, "retentionDays") }),
    );
    let text = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        text.contains("retentionDays") && text.contains("How long samples are kept"),
        "{hover}"
    );

    // The edit undone: every file's diagnostics go away.
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": doc, "version": 2 },
                "contentChanges": [{ "text": on_disk }] }),
    );
    assert_eq!(c.diagnostics(&doc), Vec::<Value>::new());

    // A file changed on disk (not open) while the server runs, then a save: its mistake is
    // reported (the server keeps what it computed of the files on disk only while they
    // are unchanged).
    let unknown = json_text.replacen(
        "\"nas\": {\n              \"settings\"",
        "\"nas-x\": {\n              \"settings\"",
        1,
    );
    assert_ne!(unknown, json_text);
    std::fs::write(&json_path, &unknown).unwrap();
    c.notify(
        "textDocument/didSave",
        json!({ "textDocument": { "uri": doc } }),
    );
    let json_uri = uri(&json_path);
    let ds = c.diagnostics(&json_uri);
    assert!(ds.iter().any(|d| d["code"] == "unknown-machine"), "{ds:?}");

    assert_eq!(c.request("shutdown", Value::Null), Value::Null);
    c.notify("exit", Value::Null);
    let status = c.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The text of an LSP range of `text` (UTF-16 columns).
fn slice<'a>(text: &'a str, range: &Value) -> &'a str {
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let mut units = 0;
        for (i, c) in text[start..].char_indices() {
            if units >= p["character"].as_u64().unwrap() as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    };
    &text[offset(&range["start"])..offset(&range["end"])]
}

/// A conformance case with `overrideInputs` from the corpus (the test says so and passes
/// without it): every file's diagnostics are published when one file is opened, each
/// range on the name it reports.
#[test]
fn conformance_case_with_override_inputs() {
    let what = "kith lsp on conformance case 02";
    let Some(case) = corpus::present(
        &corpus::shared_path("conformance/cases/02-tags-and-roles"),
        what,
    ) else {
        return;
    };
    let Some(core) = corpus::present(&corpus::corpus_path("clan-core"), what) else {
        return;
    };
    let lib = corpus::corpus_path("nixpkgs-lib");
    let dir = copy(&case, "case02");
    let mut c = Client::start(&dir);
    c.request(
        "initialize",
        json!({ "processId": null, "rootUri": uri(&dir), "capabilities": {},
                "initializationOptions": {
                    "overrideInputs": { "clan-core": core, "nixpkgs": lib },
                    "offline": true } }),
    );
    c.notify("initialized", json!({}));
    let flake = dir.join("flake.nix");
    let text = std::fs::read_to_string(&flake).unwrap();
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri(&flake), "languageId": "nix", "version": 1, "text": text } }),
    );
    let mut seen = Vec::new();
    while !(seen.contains(&"unknown-machine".to_string())
        && seen.contains(&"unknown-tag".to_string()))
    {
        let m = c.wait("publishDiagnostics", |m| {
            m["method"] == "textDocument/publishDiagnostics"
        });
        let file = m["params"]["uri"]
            .as_str()
            .unwrap()
            .strip_prefix("file://")
            .unwrap()
            .to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        for d in m["params"]["diagnostics"].as_array().unwrap() {
            let code = d["code"].as_str().unwrap().to_string();
            if code == "unknown-machine" || code == "unknown-tag" {
                let name = slice(&text, &d["range"]);
                assert!(
                    d["message"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("'{name}'")),
                    "{file}: {d}"
                );
            }
            seen.push(code);
        }
    }
    assert_eq!(c.request("shutdown", Value::Null), Value::Null);
    c.notify("exit", Value::Null);
    assert!(c.child.wait().unwrap().success());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `exit` without `shutdown` is an unclean end (status 1), outside any clan too.
#[test]
fn exit_without_shutdown_fails() {
    let dir = std::env::temp_dir().join(format!("kith-cli-lsp-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut c = Client::start(&dir);
    let init = c.request(
        "initialize",
        json!({ "processId": null, "rootUri": uri(&dir), "capabilities": {} }),
    );
    assert_eq!(init["serverInfo"]["name"], "kith");
    c.notify("initialized", json!({}));
    c.notify("exit", Value::Null);
    assert_eq!(c.child.wait().unwrap().code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}
