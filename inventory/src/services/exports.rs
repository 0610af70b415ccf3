//! Exports: each group's keys from its service-level `exports`, `perInstance` and
//! `perMachine` results (scope-checked), merged across groups into `clan.exports` with the
//! enabled export interfaces; and the constraint checks (`cliChecks`).

use super::group::Group;
use super::interfaces;
use super::ClanCtx;
use crate::error::unsupported_eval;
use crate::modsys::merge::eval_submodule;
use crate::modsys::{attr, attr_sym, attrs, throw, Def, Schema};
use kith_eval::{Attr, Attrs, Eval, Result, Symbol, Thunk, Value};
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

/// The core export interfaces (`config.exportInterfaces` of clan-core) and their files.
const INTERFACES: [(&str, &str); 6] = [
    ("auth", "auth.nix"),
    ("dataMesher", "data-mesher.nix"),
    ("endpoints", "endpoints.nix"),
    ("generators", "generators.nix"),
    ("networking", "networking.nix"),
    ("peer", "peer.nix"),
];

/// The enabled interfaces of a service: natively declared options, and a module
/// declaring the others (see `interface_declarations`).
pub(crate) type Declarations = (Rc<Vec<(&'static str, crate::modsys::Node)>>, Option<Value>);

/// The schema of a group's exports (its interfaces' options) and the interface modules
/// given as files, built once per group.
pub(crate) type ExportsSchema = (Rc<Schema>, Option<Value>);

/// Values zipped by key, keys in first-seen order (`zipAttrsWith`).
#[derive(Default)]
struct Zip {
    entries: Vec<(String, Vec<Value>)>,
    index: HashMap<String, usize>,
}

impl Zip {
    fn push(&mut self, key: &str, v: Value) {
        match self.index.get(key) {
            Some(&n) => self.entries[n].1.push(v),
            None => {
                self.index.insert(key.to_string(), self.entries.len());
                self.entries.push((key.to_string(), vec![v]));
            }
        }
    }
}

/// The expected parts of a scope check, and the details its error adds.
struct Scope {
    service: String,
    instance: String,
    role: String,
    machine: String,
    details: String,
}

/// `clanLib.checkScope`: `Ok` if `key` parses into four parts that match the expected
/// non-empty ones, else clan-core's error.
fn check_scope(key: &str, s: &Scope) -> Result<()> {
    let parts: Vec<&str> = key.split(':').collect();
    if parts.len() != 4 {
        return Err(throw(format!(
            "parseScope: invalid scope string format.\nGot '{key}'\nfix:\n- use the provided 'mkExports' utility or\n- use buildScopeKey\n"
        )));
    }
    let checks: [(&String, &str, &str, bool); 4] = [
        (&s.service, parts[0], "service name", false),
        (&s.instance, parts[1], "instance name", false),
        (&s.role, parts[2], "role name", true),
        (&s.machine, parts[3], "machine name", true),
    ];
    for (k, (want, got, what, caret)) in checks.into_iter().enumerate() {
        if !want.is_empty() && want != got {
            let expected = match k {
                0 => format!("Expected: \"{want}:...\""),
                3 => format!("Expected: \":...:{want}\""),
                _ => format!("Expected: \":...:{want}:...\""),
            };
            let caret = if caret { "            ^\n" } else { "" };
            return Err(throw(format!(
                "Export scope mismatch: incorrect {what}\nScope key: \"{key}\"\n{caret}{expected}\n{}\n",
                s.details
            )));
        }
    }
    Ok(())
}

/// A definition whose value is scope-checked when forced (`checkExports`).
fn checked(file: &Rc<str>, key: &str, value: Value, scope: Rc<Scope>) -> Def {
    let key = key.to_string();
    Def::new(
        file,
        Thunk::native(move |ev: &mut Eval| {
            check_scope(&key, &scope)?;
            ev.force(&value)
        }),
    )
}

fn sorted_attrs(ev: &mut Eval, v: &Value) -> Result<Vec<Attr>> {
    let a = ev.force_attrs(v)?;
    Ok(a.sorted_by_name().into_iter().cloned().collect())
}

fn get(ev: &mut Eval, v: &Value, name: &str) -> Result<Value> {
    let a = ev.force_attrs(v)?;
    a.get_str(name)
        .cloned()
        .ok_or_else(|| kith_eval::EvalError::new(format!("attribute '{name}' missing")))
}

/// One group's exports: key → definitions (service-level, then `perInstance`, then
/// `perMachine`, as the module system orders them).
///
/// `part` `(k, n)` keeps only the sources of part `k` of `n`: the service-level exports in
/// part 0, the `perInstance` call of the `j`-th (role, instance, machine) and the
/// `perMachine` call of the `j`-th machine where `j % n == k`. A key whose definitions come
/// from two parts is then produced by both, which the caller must treat as a conflict.
fn group_exports(
    ev: &mut Eval,
    g: &Rc<Group>,
    part: (usize, usize),
) -> Result<Vec<(String, Vec<Def>)>> {
    let (k, n) = (part.0, part.1.max(1));
    let mine = |j: usize| j % n == k;
    let s = g.service_name(ev)?;
    let file: Rc<str> = Rc::from(
        format!(
            "{}/lib/inventory/distributed-service/service-module.nix",
            g.cc.core
        )
        .as_str(),
    );
    let mut out: Vec<(String, Vec<Def>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::default();
    let mut add = |key: &str, def: Def| match index.get(key) {
        Some(&n) => out[n].1.push(def),
        None => {
            index.insert(key.to_string(), out.len());
            out.push((key.to_string(), vec![def]));
        }
    };
    if k == 0 {
        let service_level = get(ev, &g.config, "exports")?;
        for a in sorted_attrs(ev, &service_level)? {
            add(a.name.as_str(), Def::new(&file, a.value.clone()));
        }
    }
    for (i, _) in &g.instances {
        g.check_roles(ev, i)?;
    }
    // perInstance: roles, then instances, then machines (each sorted).
    let mut per_instance = Zip::default();
    let mut j = 0;
    for r in g.role_names(ev)? {
        for (i, roles) in &g.instances {
            let Some(role) = roles.iter().find(|x| x.name == r) else {
                continue;
            };
            for m in &role.members {
                j += 1;
                if !mine(j - 1) {
                    continue;
                }
                let cfg = g.per_instance(ev, i, &r, m)?;
                let ex = get(ev, &cfg, "exports")?;
                let scope = Rc::new(Scope {
                    service: s.clone(),
                    instance: i.clone(),
                    role: r.clone(),
                    machine: m.clone(),
                    details: format!(
                        "Export validation failed in service '{s}'\n\nContext:\n  - Service: {s}\n  - Instance: {i}\n  - Role: {r}\n  - Machine: {m}\n  - Source: perInstance exports\n\nProblem: Export keys must match their context.\n\nHint: Use 'mkExports' helper to ensure correct scope:\n  roles.{r}.perInstance = {{ mkExports, ... }}: {{\n    exports = mkExports {{\n      # your exports here\n    }};\n  }};\n\nRefer to https://clan.lol/docs for more information on exports.\n"
                    ),
                });
                for a in sorted_attrs(ev, &ex)? {
                    let d = checked(&file, a.name.as_str(), a.value.clone(), scope.clone());
                    per_instance.push(a.name.as_str(), d.value);
                }
            }
        }
    }
    for (k, vals) in per_instance.entries {
        add(
            &k,
            Def::new(
                &file,
                attrs(vec![attr_sym(
                    kith_eval::sym!("imports"),
                    Value::list(vals),
                )]),
            ),
        );
    }
    // perMachine: every machine of any instance, sorted.
    let mut machines: Vec<String> = g
        .instances
        .iter()
        .flat_map(|(_, rs)| rs.iter().flat_map(|r| r.members.iter().cloned()))
        .collect();
    machines.sort();
    machines.dedup();
    let mut per_machine = Zip::default();
    for (j, m) in machines.iter().enumerate() {
        if !mine(j) {
            continue;
        }
        let cfg = g.per_machine(ev, m)?;
        let ex = get(ev, &cfg, "exports")?;
        let scope = Rc::new(Scope {
            service: s.clone(),
            instance: String::new(),
            role: String::new(),
            machine: m.clone(),
            details: format!(
                "Export validation failed in service '{s}'\n\nContext:\n  - Service: {s}\n  - Machine: {m}\n  - Source: perMachine exports\n\nProblem: Export keys must match their context.\n\nHint: Use 'mkExports' helper to ensure correct scope:\n  perMachine = {{ mkExports, ... }}: {{\n    exports = mkExports {{\n      # your exports here\n    }};\n  }};\n\nRefer to https://clan.lol/docs for more information on exports.\n"
            ),
        });
        for a in sorted_attrs(ev, &ex)? {
            let d = checked(&file, a.name.as_str(), a.value.clone(), scope.clone());
            per_machine.push(a.name.as_str(), d.value);
        }
    }
    for (k, vals) in per_machine.entries {
        add(
            &k,
            Def::new(
                &file,
                attrs(vec![attr_sym(
                    kith_eval::sym!("imports"),
                    Value::list(vals),
                )]),
            ),
        );
    }
    Ok(out)
}

/// `clan.exports` (lazy): every group's keys, each checked against its service's scope
/// and `manifest.exports.out`, merged with the enabled interfaces.
pub(crate) fn global_exports(cc: &Rc<ClanCtx>, groups: &[Rc<Group>]) -> Value {
    let groups: Vec<Rc<Group>> = groups.to_vec();
    let cc = cc.clone();
    Thunk::native(move |ev: &mut Eval| {
        user_exports_unsupported(ev, &cc)?;
        let mut keys: Vec<(String, usize, Vec<Def>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::default();
        for (gi, g) in groups.iter().enumerate() {
            for (k, defs) in group_exports(ev, g, (0, 1))? {
                match index.get(&k) {
                    Some(&n) => keys[n].2.extend(defs),
                    None => {
                        index.insert(k.clone(), keys.len());
                        keys.push((k, gi, defs));
                    }
                }
            }
        }
        let mut entries = Vec::new();
        for (k, gi, defs) in keys {
            let g = groups[gi].clone();
            let cc = cc.clone();
            let key = k.clone();
            let value = Thunk::native(move |ev: &mut Eval| key_value(ev, &cc, &g, &key, defs));
            entries.push(Attr {
                name: Symbol::new(&k),
                value,
                span: kith_eval::Span::NONE,
            });
        }
        Ok(Value::Attrs(Attrs::from_entries(entries)))
    })
}

/// The user's own `clan.exports` definitions are not modelled yet.
fn user_exports_unsupported(ev: &mut Eval, cc: &ClanCtx) -> Result<()> {
    let cfg = ev.force_attrs(&cc.config)?;
    let ex = ev.force(
        cfg.get(kith_eval::sym!("exports"))
            .expect("declared option"),
    )?;
    if !matches!(ex, Value::Null) {
        return Err(unsupported_eval("definitions of clan.exports in the clan"));
    }
    Ok(())
}

/// `Available export interfaces` (the list clan-core's errors show).
fn available() -> String {
    let names: Vec<&str> = INTERFACES.iter().map(|(n, _)| *n).collect();
    format!("Available export interfaces\n\n{}\n", names.join("\n"))
}

/// One key of `clan.exports`.
fn key_value(
    ev: &mut Eval,
    cc: &ClanCtx,
    g: &Rc<Group>,
    key: &str,
    defs: Vec<Def>,
) -> Result<Value> {
    let s = g.service_name(ev)?;
    check_scope(
        key,
        &Scope {
            service: s.clone(),
            instance: String::new(),
            role: String::new(),
            machine: String::new(),
            details: format!(
                "Export validation failed in service '{s}'\n\nContext:\n  - Service: {s}\n  - Source: exports\n\nProblem: Services can only export to their own scope (here: \"{s}:::\")\n"
            ),
        },
    )?;
    let manifest = get(ev, &g.config, "manifest")?;
    let exports = get(ev, &manifest, "exports")?;
    let out = get(ev, &exports, "out")?;
    let out = ev.force_list(&out)?;
    if out.is_empty() {
        return Err(throw(format!(
            "Service: '{s}' doesn't allow exports\n\n- Add 'manifest.exports.out = [ ]' to the service\n\n{}\n",
            available()
        )));
    }
    let file: Rc<str> =
        Rc::from(format!("{}/modules/clan/top-level-interface.nix", cc.core).as_str());
    let cached = g.interfaces.borrow().clone();
    let (schema, from_files) = match cached {
        Some(d) => d,
        None => {
            let (options, from_files) = interface_declarations(ev, cc, &s, &out, &file)?;
            let schema = Rc::new(Schema::new(options.as_ref().clone(), file.clone()));
            *g.interfaces.borrow_mut() = Some((schema.clone(), from_files.clone()));
            (schema, from_files)
        }
    };
    let mut all: Vec<Def> = from_files.into_iter().map(|d| Def::new(&file, d)).collect();
    all.extend(defs);
    let v = eval_submodule(
        ev,
        &cc.ctx(vec!["exports".into(), key.into()]),
        &schema,
        all,
    );
    let v = ev.force(&v)?;
    declared_twice(ev, cc, key, &out, v)
}

/// An interface named twice in `manifest.exports.out` is declared twice (its module
/// imported twice, both declarations with a `default`): the module system fails where
/// that option is read, naming the file clan-core defines `exports` in.
fn declared_twice(
    ev: &mut Eval,
    cc: &ClanCtx,
    key: &str,
    out: &kith_eval::List,
    config: Value,
) -> Result<Value> {
    let mut seen: Vec<String> = Vec::new();
    let mut twice: Vec<String> = Vec::new();
    for t in out.iter() {
        let t = ev.force_string(t)?.encoded().into_owned();
        if seen.contains(&t) {
            if !twice.contains(&t) {
                twice.push(t);
            }
        } else {
            seen.push(t);
        }
    }
    if twice.is_empty() {
        return Ok(config);
    }
    let set = ev.force_attrs(&config)?;
    let file = format!("{}/modules/clan/distributed-services.nix", cc.core);
    let entries = set
        .iter()
        .map(|a| {
            if !twice.iter().any(|t| t == a.name.as_str()) {
                return a.clone();
            }
            let msg = format!(
                "The option `{}' in `{file}' is already declared in `{file}'.",
                crate::modsys::show_option(&["exports".into(), key.into(), a.name.as_str().into()])
            );
            Attr {
                value: Thunk::native(move |_| Err(throw(msg.clone()))),
                ..a.clone()
            }
        })
        .collect();
    Ok(Value::Attrs(Attrs::from_entries(entries)))
}

/// The enabled export interfaces (`out`), as clan-core's `exportInterfaces` after `apply`
/// declares them: the natively declared ones as options, the others as a module read from
/// clan-core's files; or clan-core's error for an unknown one.
fn interface_declarations(
    ev: &mut Eval,
    cc: &ClanCtx,
    s: &str,
    out: &kith_eval::List,
    file: &Rc<str>,
) -> Result<Declarations> {
    let mut native = Vec::new();
    let mut interfaces = Vec::new();
    for t in out.iter() {
        let t = ev.force_string(t)?.encoded().into_owned();
        let Some((name, f)) = INTERFACES.iter().find(|(n, _)| *n == t) else {
            return Err(throw(format!(
                "Export interface: '{t}' doesn't exist\nService: '{s}'\n\n- Remove it from 'manifest.exports.out'\n- Add it to 'clan.exportInterfaces.{t}'\n\n{}\n",
                available()
            )));
        };
        // Named twice: declared once here, the error is raised where it is read
        // (`declared_twice`).
        if native.contains(name) || interfaces.iter().any(|a: &Attr| a.name.as_str() == t) {
            continue;
        }
        if interfaces::NATIVE.iter().any(|(n, _)| n == name) {
            native.push(*name);
            continue;
        }
        if !crate::builtin_lib::on_disk(ev, &cc.core) {
            return Err(unsupported_eval(format!(
                "the `{t}' export interface without clan-core's source on disk"
            )));
        }
        let path = format!("{}/modules/clan/export-modules/{f}", cc.core);
        let module = ev.eval_file(std::path::Path::new(&path))?;
        interfaces.push(attr(&t, module));
    }
    let options = Rc::new(interfaces::declarations(ev, cc, &native, file)?);
    let module = if interfaces.is_empty() {
        None
    } else {
        Some(declarations_module(ev, cc, attrs(interfaces))?)
    };
    Ok((options, module))
}

/// A module declaring `options.<t> = mkOption { type = nullOr (submodule <interface>); default = null; }`
/// for each enabled interface: built with the clan's own `lib`.
fn declarations_module(ev: &mut Eval, cc: &ClanCtx, interfaces: Value) -> Result<Value> {
    let f = ev.eval_expr(
        "lib: interfaces: { options = builtins.mapAttrs (_: v: lib.mkOption { type = lib.types.nullOr (lib.types.submodule v); default = null; }) interfaces; }",
        std::path::Path::new("/"),
    )?;
    let f = ev.call(&f, cc.lib.clone(), kith_eval::Span::NONE)?;
    ev.call(&f, interfaces, kith_eval::Span::NONE)
}

/// Which of a service's `manifest.constraints` a violation breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constraint {
    /// `maxInstances`: too many instances of the service.
    MaxInstances,
    /// `roles.<R>.minMachines`: too few members in a role of an instance.
    MinMachines,
    /// `roles.<R>.maxMachines`: too many members in a role of an instance.
    MaxMachines,
}

/// A broken service constraint, as clan's `cliChecks` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstraintViolation {
    /// The constraint broken.
    pub constraint: Constraint,
    /// The service's name (`manifest.name`).
    pub service: String,
    /// The instances concerned: all of the service's for `maxInstances`, else the one.
    pub instances: Vec<String>,
    /// The role, for the machine-count constraints.
    pub role: Option<String>,
    /// clan's id of the check (`<S>-maxInstances`, `<S>-<I>-<R>-minMachines`, …).
    pub id: String,
    /// clan's message.
    pub message: String,
}

/// Every broken service constraint of `clan`, per group (in group-id order), as clan-core
/// computes `clanInternals.cliChecks`.
pub fn constraint_violations(
    ev: &mut Eval,
    clan: &crate::clan::Clan,
) -> crate::Result<Vec<ConstraintViolation>> {
    let services = super::services(ev, clan)?;
    let mut out = Vec::new();
    for g in &services.groups {
        let s = g.service_name(ev)?;
        let manifest = get(ev, &g.config, "manifest")?;
        let constraints = get(ev, &manifest, "constraints")?;
        let max = get(ev, &constraints, "maxInstances")?;
        let max = ev.force(&max)?;
        let count = g.instances.len() as i64;
        if let Value::Int(n) = max {
            if count > n {
                out.push(ConstraintViolation {
                    constraint: Constraint::MaxInstances,
                    service: s.clone(),
                    instances: g.instances.iter().map(|(i, _)| i.clone()).collect(),
                    role: None,
                    id: format!("{s}-maxInstances"),
                    message: format!(
                        "Service '{s}' allows at most {n} instance(s) but {count} are defined."
                    ),
                });
            }
        }
        let roles = get(ev, &constraints, "roles")?;
        for r in sorted_attrs(ev, &roles)? {
            let role = r.name.as_str();
            let rc = ev.force_attrs(&r.value)?;
            let min = rc
                .get(kith_eval::sym!("minMachines"))
                .expect("declared option")
                .clone();
            let maxm = rc
                .get(kith_eval::sym!("maxMachines"))
                .expect("declared option")
                .clone();
            // Per instance, as clan-core: `minMachines` read (and type-checked), the role's
            // members counted only if it is set; then the same for `maxMachines`.
            for (i, iroles) in &g.instances {
                let violation = |constraint, id: &str, message: String| ConstraintViolation {
                    constraint,
                    service: s.clone(),
                    instances: vec![i.clone()],
                    role: Some(role.to_string()),
                    id: format!("{s}-{i}-{role}-{id}"),
                    message,
                };
                let count = |ev: &mut Eval| -> crate::Result<i64> {
                    g.check_roles(ev, i)?;
                    Ok(iroles
                        .iter()
                        .find(|x| x.name == role)
                        .map(|x| x.members.len() as i64)
                        .unwrap_or(0))
                };
                if let Value::Int(n) = ev.force(&min)? {
                    let k = count(ev)?;
                    if k < n {
                        out.push(violation(
                            Constraint::MinMachines,
                            "minMachines",
                            format!("Role '{role}' of service '{s}' instance '{i}' requires at least {n} machine(s) but {k} are assigned."),
                        ));
                    }
                }
                if let Value::Int(n) = ev.force(&maxm)? {
                    let k = count(ev)?;
                    if k > n {
                        out.push(violation(
                            Constraint::MaxMachines,
                            "maxMachines",
                            format!("Role '{role}' of service '{s}' instance '{i}' allows at most {n} machine(s) but {k} are assigned."),
                        ));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// `clanInternals.cliChecks`: per group (in group-id order) the constraint violations
/// ([`constraint_violations`]) as `{ id; message; severity = "error"; }`.
pub fn cli_checks(ev: &mut Eval, clan: &crate::clan::Clan) -> crate::Result<Value> {
    let checks = constraint_violations(ev, clan)?
        .into_iter()
        .map(|v| {
            attrs(vec![
                attr_sym(kith_eval::sym!("id"), Value::string(v.id)),
                attr_sym(kith_eval::sym!("message"), Value::string(v.message)),
                attr_sym(kith_eval::sym!("severity"), Value::string("error")),
            ])
        })
        .collect();
    Ok(Value::list(checks))
}

/// `clan.exports` of `clan`.
pub fn exports(ev: &mut Eval, clan: &crate::clan::Clan) -> crate::Result<Value> {
    Ok(super::services(ev, clan)?.exports.clone())
}

/// A service group, as the planner sees it: for splitting work and caching by group.
#[derive(Clone, Debug)]
pub struct GroupInfo {
    /// `<input or <clan-core>>-<module name>`.
    pub id: String,
    /// How much work it is: the number of (instance, role, machine) memberships.
    pub weight: usize,
    /// Its instances, roles and members, and the inventory data they are computed from
    /// (as JSON text): equal data, equal results, unless the group read other groups'
    /// exports or files (the planner tracks those).
    pub fingerprint: String,
    /// Its instances' names.
    pub instances: Vec<String>,
}

/// The service groups of `clan`, in group-id order (with fingerprints if `fingerprints`,
/// else empty ones).
pub fn group_infos(
    ev: &mut Eval,
    clan: &crate::clan::Clan,
    fingerprints: bool,
) -> crate::Result<Vec<GroupInfo>> {
    let services = super::services(ev, clan)?;
    let inv = ev.force_attrs(&services.inventory())?;
    let instances = inv
        .get(kith_eval::sym!("instances"))
        .cloned()
        .expect("declared option");
    let instances = ev.force_attrs(&instances)?;
    let machines = inv
        .get(kith_eval::sym!("machines"))
        .cloned()
        .expect("declared option");
    let machines = ev.force_attrs(&machines)?;
    let meta = inv
        .get(kith_eval::sym!("meta"))
        .cloned()
        .expect("declared option");
    let meta = if fingerprints {
        kith_eval::to_json_string(ev, &meta)?
    } else {
        String::new()
    };
    // A machine's tags as JSON text, evaluated once for all groups.
    let mut tags_json: HashMap<String, String> = HashMap::default();
    let mut out = Vec::new();
    for g in &services.groups {
        let mut weight = 0;
        // The fingerprint is JSON text written piece by piece (each piece is the JSON of
        // a value or a quoted name, so the whole is unambiguous), never parsed.
        let mut fp = String::new();
        if fingerprints {
            fp.push_str("{\"\\u0000meta\":");
            fp.push_str(&meta);
        }
        let mut members_seen: Vec<&str> = Vec::new();
        for (i, roles) in &g.instances {
            weight += roles.iter().map(|r| r.members.len()).sum::<usize>();
            if !fingerprints {
                continue;
            }
            let raw = instances.get_str(i).cloned().expect("grouped instance");
            fp.push(',');
            push_json_str(&mut fp, i);
            fp.push_str(":{\"instance\":");
            fp.push_str(&kith_eval::to_json_string(ev, &raw)?);
            fp.push_str(",\"members\":{");
            for (k, r) in roles.iter().enumerate() {
                if k > 0 {
                    fp.push(',');
                }
                push_json_str(&mut fp, &r.name);
                fp.push_str(":[");
                for (j, m) in r.members.iter().enumerate() {
                    if j > 0 {
                        fp.push(',');
                    }
                    push_json_str(&mut fp, m);
                    members_seen.push(m);
                }
                fp.push(']');
            }
            fp.push_str("}}");
        }
        if fingerprints {
            members_seen.sort_unstable();
            members_seen.dedup();
            fp.push_str(",\"\\u0000tags\":{");
            for (k, m) in members_seen.iter().enumerate() {
                if !tags_json.contains_key(*m) {
                    let t = match machines.get_str(m) {
                        Some(cfg) => {
                            let cfg = ev.force_attrs(cfg)?;
                            kith_eval::to_json_string(
                                ev,
                                cfg.get(kith_eval::sym!("tags")).expect("declared option"),
                            )?
                        }
                        None => "null".to_string(),
                    };
                    tags_json.insert(m.to_string(), t);
                }
                if k > 0 {
                    fp.push(',');
                }
                push_json_str(&mut fp, m);
                fp.push(':');
                fp.push_str(&tags_json[*m]);
            }
            fp.push_str("}}");
        }
        out.push(GroupInfo {
            id: g.id.clone(),
            weight,
            fingerprint: fp,
            instances: g.instances.iter().map(|(i, _)| i.clone()).collect(),
        });
    }
    Ok(out)
}

/// Appends `s` to `out` as a JSON string.
fn push_json_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::Value::from(s).to_string());
}

/// The keys of `clan.exports` that the groups at `indices` write, with their values as
/// JSON, assuming no other group writes them (the caller checks that the key sets of all
/// groups are disjoint); and whether any of them read `exports` (other groups' results).
///
/// `part = (k, n)`: only the keys written by part `k` of the group's `n` parts of sources
/// (its `perInstance` and `perMachine` calls, dealt out in turn; the service-level exports
/// in part 0), so that `n` workers can share one large group and each does a share of the
/// work; `(0, 1)` for all of them. A key written by two parts is returned by both: the
/// caller must see it twice and compute the whole view instead.
pub fn group_exports_json(
    ev: &mut Eval,
    clan: &crate::clan::Clan,
    index: usize,
    part: (usize, usize),
) -> crate::Result<(Vec<(String, serde_json::Value)>, bool)> {
    let services = super::services(ev, clan)?;
    let cc = services.cc.clone();
    user_exports_unsupported(ev, &cc)?;
    let g = services.groups[index].clone();
    let before = cc.exports_read.get();
    cc.exports_read.set(false);
    let mut out = Vec::new();
    let mut keys = group_exports(ev, &g, part)?;
    keys.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    for (key, defs) in keys {
        let v = key_value(ev, &cc, &g, &key, defs)?;
        out.push((key, ev.to_json(&v)?));
    }
    let read = cc.exports_read.get();
    cc.exports_read.set(before || read);
    Ok((out, read))
}
