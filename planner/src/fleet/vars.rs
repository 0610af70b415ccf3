//! Vars as stored in the flake (`vars/per-machine/<machine>/<generator>/<file>/`,
//! `vars/shared/<generator>/<file>/`), for `kith vars list|get` and var hosts
//! (clan-cli.md §3.3). A public var's value is its `value` file; a var whose directory
//! holds a `secret…` entry is secret and nothing in it is ever opened (not even stat'ed
//! beyond its name): kith prints `********` or a reference, never a decrypted value.
//!
//! kith does not evaluate the machines' NixOS configurations, so the vars are the ones
//! the flake's `vars/` directory holds: the machine's per-machine vars, and the shared
//! vars (those whose secret files record machines under `machines/` only for those).

use super::FleetError;
use std::fs;
use std::path::{Path, PathBuf};

/// What the flake holds for one var.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VarValue {
    /// A public var's bytes (`value`).
    Public(Vec<u8>),
    /// A secret var (never read).
    Secret,
    /// Neither: not generated yet (`<not set>`).
    NotSet,
}

/// One var of a machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Var {
    /// `<generator>/<file>`.
    pub id: String,
    /// Whether it is a shared var.
    pub shared: bool,
    /// Its value.
    pub value: VarValue,
}

impl Var {
    /// clan's `str(var)`: `<id>: <value>`, `<id>: ********`, `<id>: <not set>`, a value
    /// that is not UTF-8 as `<binary blob>`.
    pub fn line(&self) -> String {
        let v = match &self.value {
            VarValue::Public(b) => match std::str::from_utf8(b) {
                Ok(s) => s.to_string(),
                Err(_) => "<binary blob>".into(),
            },
            VarValue::Secret => "********".into(),
            VarValue::NotSet => "<not set>".into(),
        };
        format!("{}: {v}", self.id)
    }
}

/// Whether a var directory is secret: it has an entry named `secret` or `secret.*`.
/// Only names are listed; nothing in the directory is opened.
fn is_secret(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n == "secret" || n.starts_with("secret.")
        })
    })
}

/// The var in the directory `dir` (`…/<generator>/<file>`). A `value` is read only when
/// it is a regular file (a FIFO or a device is never opened) and the var is not secret.
pub fn read_var_dir(dir: &Path) -> VarValue {
    if is_secret(dir) {
        return VarValue::Secret;
    }
    let value = dir.join("value");
    match fs::metadata(&value) {
        Ok(m) if m.is_file() => match fs::read(&value) {
            Ok(b) => VarValue::Public(b),
            Err(_) => VarValue::NotSet,
        },
        _ => VarValue::NotSet,
    }
}

/// The directory of the var `<generator>/<file>` of `machine`: the per-machine one when it
/// exists, else the shared one, else `None`.
pub fn var_dir(flake: &Path, machine: &str, generator: &str, file: &str) -> Option<PathBuf> {
    let per = flake
        .join("vars/per-machine")
        .join(machine)
        .join(generator)
        .join(file);
    let shared = flake.join("vars/shared").join(generator).join(file);
    [per, shared].into_iter().find(|p| p.is_dir())
}

/// The subdirectories' names of `dir`, sorted (none when it is missing).
fn subdirs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|it| {
            it.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Whether a shared var belongs to `machine`: a secret one records its machines under
/// `machines/`; a public one records none and is listed for every machine.
fn shared_for(dir: &Path, machine: &str) -> bool {
    let machines = dir.join("machines");
    !machines.is_dir() || fs::symlink_metadata(machines.join(machine)).is_ok()
}

/// The vars of `machine` in the flake at `flake`, sorted by clan's line text
/// (`clan vars list`).
pub fn list(flake: &Path, machine: &str) -> Vec<Var> {
    let mut vars = Vec::new();
    let per = flake.join("vars/per-machine").join(machine);
    for generator in subdirs(&per) {
        for file in subdirs(&per.join(&generator)) {
            let dir = per.join(&generator).join(&file);
            vars.push(Var {
                id: format!("{generator}/{file}"),
                shared: false,
                value: read_var_dir(&dir),
            });
        }
    }
    let shared = flake.join("vars/shared");
    for generator in subdirs(&shared) {
        for file in subdirs(&shared.join(&generator)) {
            let dir = shared.join(&generator).join(&file);
            if !shared_for(&dir, machine) {
                continue;
            }
            let id = format!("{generator}/{file}");
            if vars.iter().any(|v: &Var| v.id == id) {
                continue;
            }
            vars.push(Var {
                id,
                shared: true,
                value: read_var_dir(&dir),
            });
        }
    }
    vars.sort_by_cached_key(Var::line);
    vars
}

/// The var `id` of `machine` (`clan vars get`): an exact id, else clan's texts for a
/// unique prefix (`Did you mean: <id>`), several prefixes, none, and a var not generated.
pub fn get(flake: &Path, machine: &str, id: &str) -> Result<Var, FleetError> {
    let vars = list(flake, machine);
    let mut found: Vec<&Var> = Vec::new();
    for v in &vars {
        if v.id == id {
            found = vec![v];
            break;
        }
        if v.id.starts_with(id) {
            found.push(v);
        }
    }
    match found.as_slice() {
        [] => Err(FleetError(format!(
            "Couldn't find var: {id} for machine: {machine}"
        ))),
        [v] if v.id != id => Err(FleetError(format!("Did you mean: {}", v.id))),
        [v] if v.value == VarValue::NotSet => Err(FleetError(format!(
            "Var {} has not been generated yet",
            v.id
        ))),
        [v] => Ok((*v).clone()),
        many => {
            let lines: Vec<String> = many.iter().map(|v| v.line()).collect();
            Err(FleetError(format!(
                "Found multiple vars in {machine} for {id}:\n  - {}",
                lines.join("\n  - ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kith-vars-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn put(root: &Path, rel: &str, content: &[u8]) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    #[test]
    fn list_and_get() {
        let d = tmp("list");
        put(
            &d,
            "vars/per-machine/jon/ssh/pub/value",
            b"ssh-ed25519 AAA\n",
        );
        put(&d, "vars/per-machine/jon/ssh/key/secret", b"ENC");
        put(&d, "vars/per-machine/jon/bin/blob/value", &[0xff, 0xfe]);
        fs::create_dir_all(d.join("vars/per-machine/jon/gen/missing")).unwrap();
        put(&d, "vars/shared/net/id/value", b"abc");
        put(&d, "vars/shared/s/k/secret", b"ENC");
        fs::create_dir_all(d.join("vars/shared/s/k/machines/sara")).unwrap();
        put(&d, "vars/per-machine/sara/other/x/value", b"no");
        let lines: Vec<String> = list(&d, "jon").iter().map(Var::line).collect();
        assert_eq!(
            lines,
            [
                "bin/blob: <binary blob>",
                "gen/missing: <not set>",
                "net/id: abc",
                "ssh/key: ********",
                "ssh/pub: ssh-ed25519 AAA\n",
            ]
        );
        assert_eq!(list(&d, "sara").len(), 3);
        assert_eq!(
            get(&d, "jon", "net/id").unwrap().value,
            VarValue::Public(b"abc".to_vec())
        );
        assert_eq!(get(&d, "jon", "net").unwrap_err().0, "Did you mean: net/id");
        assert_eq!(
            get(&d, "jon", "nope").unwrap_err().0,
            "Couldn't find var: nope for machine: jon"
        );
        assert_eq!(
            get(&d, "jon", "gen/missing").unwrap_err().0,
            "Var gen/missing has not been generated yet"
        );
        assert_eq!(
            get(&d, "jon", "ssh/").unwrap_err().0,
            "Found multiple vars in jon for ssh/:\n  - ssh/key: ********\n  - ssh/pub: ssh-ed25519 AAA\n"
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn secrets_are_never_opened() {
        let d = tmp("secret");
        let dir = d.join("vars/per-machine/jon/tor/hostname");
        fs::create_dir_all(&dir).unwrap();
        // A FIFO as the secret: opening it would block forever.
        let fifo = dir.join("secret");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // A value beside it, a FIFO too: it must not be read either.
        let c = std::ffi::CString::new(dir.join("value").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // A secret file with mode 000 in another var: listed, never read.
        put(&d, "vars/per-machine/jon/k/key/secret", b"ENC");
        fs::set_permissions(
            d.join("vars/per-machine/jon/k/key/secret"),
            fs::Permissions::from_mode(0o000),
        )
        .unwrap();
        assert_eq!(
            list(&d, "jon").iter().map(Var::line).collect::<Vec<_>>(),
            ["k/key: ********", "tor/hostname: ********"]
        );
        assert_eq!(read_var_dir(&dir), VarValue::Secret);
        assert_eq!(
            get(&d, "jon", "tor/hostname").unwrap().value,
            VarValue::Secret
        );
        // A FIFO as a public value is not opened either.
        let pubdir = d.join("vars/per-machine/jon/p/f");
        fs::create_dir_all(&pubdir).unwrap();
        let c = std::ffi::CString::new(pubdir.join("value").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert_eq!(read_var_dir(&pubdir), VarValue::NotSet);
        fs::remove_dir_all(&d).unwrap();
    }
}
