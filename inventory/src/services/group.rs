//! One service group: the instances of one resolved module, evaluated together as
//! clan-core's `_services.allServices.<id>`.

use super::roles::{self, Role};
use super::{resolve, schema, ClanCtx};
use crate::error::unsupported_eval;
use crate::modsys::merge::eval_submodule;
use crate::modsys::{attr, attr_sym, attrs, throw, Def, Schema};
use kith_eval::{Eval, Result, Symbol, Thunk, Value};
use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;

/// (instance, role, machine or none for role-level settings).
type SettingsKey = (String, String, Option<String>);

/// Instances in name order with their resolved roles.
type Instances = Vec<(String, Vec<Role>)>;

/// A service group and its lazily computed parts.
pub(crate) struct Group {
    /// `<input or <clan-core>>-<module name>`.
    pub id: String,
    /// Instances in name order, with their resolved roles.
    pub instances: Vec<(String, Vec<Role>)>,
    /// The service module's `config` (lazy).
    pub config: Value,
    pub(crate) cc: Rc<ClanCtx>,
    settings: RefCell<HashMap<SettingsKey, Value>>,
    per_instance: RefCell<HashMap<(String, String, String), Value>>,
    per_machine: RefCell<HashMap<String, Value>>,
    applied: RefCell<HashMap<String, Value>>,
    /// machine → the instances it is a member of (their places in `instances`, in order)
    /// with its roles in each.
    machine_instances: HashMap<String, Memberships>,
    /// The module declaring the enabled export interfaces, once built.
    pub(crate) interfaces: RefCell<Option<super::exports::ExportsSchema>>,
    /// Role interfaces with their function modules called once (see `Group::interface`).
    interfaces_by_role: RefCell<HashMap<String, Value>>,
}

fn file(cc: &ClanCtx, rel: &str) -> Rc<str> {
    Rc::from(format!("{}/{rel}", cc.core).as_str())
}

/// Groups the inventory's instances by resolved module, in group-id order.
pub(crate) fn groups(ev: &mut Eval, cc: &Rc<ClanCtx>) -> Result<Vec<Rc<Group>>> {
    let inv = ev.force_attrs(&cc.inventory)?;
    let instances = ev.force_attrs(
        inv.get(kith_eval::sym!("instances"))
            .expect("declared option"),
    )?;
    let mut tags = roles::LazyTags::new(cc);
    // id → (module spec of the first instance, instances)
    let mut by_id: Vec<(String, Value, Instances)> = Vec::new();
    for i in instances.sorted_by_name() {
        let inst = ev.force_attrs(&i.value)?;
        let module = inst
            .get(kith_eval::sym!("module"))
            .cloned()
            .expect("declared option");
        let m = ev.force_attrs(&module)?;
        let input = match ev.force(m.get(kith_eval::sym!("input")).expect("declared option"))? {
            Value::Null => None,
            v => Some(ev.force_string(&v)?.encoded().into_owned()),
        };
        let name = ev.force_string(m.get(kith_eval::sym!("name")).expect("declared option"))?;
        let id = format!(
            "{}-{}",
            input.as_deref().unwrap_or("<clan-core>"),
            name.encoded()
        );
        let resolved = roles::resolve(ev, &mut tags, i.name.as_str(), &i.value)?;
        match by_id.iter_mut().find(|(g, _, _)| *g == id) {
            Some((_, _, list)) => list.push((i.name.as_str().to_string(), resolved)),
            None => by_id.push((id, module, vec![(i.name.as_str().to_string(), resolved)])),
        }
    }
    by_id.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(by_id
        .into_iter()
        .map(|(id, module, instances)| make_group(ev, cc, id, module, instances))
        .collect())
}

fn make_group(
    ev: &mut Eval,
    cc: &Rc<ClanCtx>,
    id: String,
    module_spec: Value,
    instances: Vec<(String, Vec<Role>)>,
) -> Rc<Group> {
    let ds_file = file(cc, "modules/clan/distributed-services.nix");
    // config.instances as the service sees it.
    let inst_value = attrs(
        instances
            .iter()
            .map(|(name, roles)| {
                let roles = attrs(
                    roles
                        .iter()
                        .map(|r| attr(&r.name, r.value.clone()))
                        .collect(),
                );
                attr(name, attrs(vec![attr_sym(kith_eval::sym!("roles"), roles)]))
            })
            .collect(),
    );
    let mut schema: Schema = schema::service(&cc.core);
    let extra_file = ds_file.clone();
    let spec = module_spec.clone();
    schema.extra = Some(Rc::new(move |_, _| {
        Ok(vec![
            ("instances", Def::new(&extra_file, inst_value.clone())),
            ("module", Def::new(&extra_file, spec.clone())),
        ])
    }));
    let meta = meta_of(cc);
    let directory = directory_of(cc);
    let exports_cc = cc.clone();
    let exports = Thunk::native(move |ev: &mut Eval| {
        exports_cc.exports_read.set(true);
        let v = exports_cc.exports.borrow().clone();
        ev.force(&v)
    });
    let clan_lib = crate::clan::clan_lib_of(ev, &cc.core, &cc.clan_core, &cc.lib);
    let special = vec![
        ("clanLib".to_string(), clan_lib),
        ("directory".to_string(), directory),
        ("exports".to_string(), exports),
        ("meta".to_string(), meta),
        (
            "_ctx".to_string(),
            Value::list(vec![Value::string(id.as_str())]),
        ),
    ];
    schema.special = Some(Rc::new(move |_| special.clone()));
    // The resolved module, found only when the group is evaluated.
    let (input, name) = spec_parts(&module_spec);
    let cc2 = cc.clone();
    let module = Thunk::native(move |ev: &mut Eval| {
        let (input, name) = (input.clone(), name.clone());
        let input = ev.force(&input)?;
        let input = match input {
            Value::Null => None,
            v => Some(ev.force_string(&v)?.encoded().into_owned()),
        };
        let name = ev.force_string(&name)?.encoded().into_owned();
        let m = resolve::resolve(ev, &cc2, input.as_deref(), &name)?;
        ev.force(&m)
    });
    let mut ctx = cc.ctx(vec!["_services".into(), "allServices".into(), id.clone()]);
    ctx.name = Some(Rc::from(id.as_str()));
    let config = eval_submodule(ev, &ctx, &Rc::new(schema), vec![Def::new(&ds_file, module)]);
    let mut machine_instances: HashMap<String, Memberships> = HashMap::default();
    for (k, (_, roles)) in instances.iter().enumerate() {
        let mut per: HashMap<&String, Vec<String>> = HashMap::default();
        for r in roles {
            for m in &r.members {
                per.entry(m).or_default().push(r.name.clone());
            }
        }
        // Instances in order: each machine's list grows in `instances`' order.
        for (m, rs) in per {
            machine_instances
                .entry(m.clone())
                .or_default()
                .push((k, Rc::from(rs)));
        }
    }
    Rc::new(Group {
        id,
        instances,
        config,
        cc: cc.clone(),
        settings: RefCell::default(),
        per_instance: RefCell::default(),
        per_machine: RefCell::default(),
        applied: RefCell::default(),
        machine_instances,
        interfaces: RefCell::default(),
        interfaces_by_role: RefCell::default(),
    })
}

/// A machine's instances of a group (places in its `instances`, in order), each with the
/// machine's roles there.
type Memberships = Vec<(usize, Rc<[String]>)>;

fn spec_parts(spec: &Value) -> (Value, Value) {
    let s1 = spec.clone();
    let s2 = spec.clone();
    (
        Thunk::native(move |ev: &mut Eval| {
            let a = ev.force_attrs(&s1)?;
            ev.force(a.get(kith_eval::sym!("input")).expect("declared option"))
        }),
        Thunk::native(move |ev: &mut Eval| {
            let a = ev.force_attrs(&s2)?;
            ev.force(a.get(kith_eval::sym!("name")).expect("declared option"))
        }),
    )
}

/// `inventory.meta` (lazy).
pub(crate) fn meta_of(cc: &ClanCtx) -> Value {
    let inv = cc.inventory.clone();
    Thunk::native(move |ev: &mut Eval| {
        let a = ev.force_attrs(&inv)?;
        ev.force(a.get(kith_eval::sym!("meta")).expect("declared option"))
    })
}

/// `varsDirectory` if set, else `directory` (lazy).
fn directory_of(cc: &ClanCtx) -> Value {
    let cfg = cc.config.clone();
    Thunk::native(move |ev: &mut Eval| {
        let a = ev.force_attrs(&cfg)?;
        let vars = ev.force(
            a.get(kith_eval::sym!("varsDirectory"))
                .expect("declared option"),
        )?;
        if !matches!(vars, Value::Null) {
            return Ok(vars);
        }
        ev.force(
            a.get(kith_eval::sym!("directory"))
                .expect("declared option"),
        )
    })
}

fn attr_of(ev: &mut Eval, v: &Value, name: Symbol) -> Result<Value> {
    let a = ev.force_attrs(v)?;
    match a.get(name) {
        Some(x) => Ok(x.clone()),
        None => Err(kith_eval::EvalError::new(format!(
            "attribute '{}' missing",
            name.as_str()
        ))),
    }
}

fn names_of(ev: &mut Eval, v: &Value) -> Result<Vec<String>> {
    let a = ev.force_attrs(v)?;
    Ok(a.sorted_by_name()
        .iter()
        .map(|x| x.name.as_str().to_string())
        .collect())
}

impl Group {
    /// `config.manifest.name`.
    pub fn service_name(&self, ev: &mut Eval) -> Result<String> {
        let m = attr_of(ev, &self.config, kith_eval::sym!("manifest"))?;
        let n = attr_of(ev, &m, kith_eval::sym!("name"))?;
        Ok(ev.force_string(&n)?.encoded().into_owned())
    }

    /// Role names the service defines (sorted).
    pub fn role_names(&self, ev: &mut Eval) -> Result<Vec<String>> {
        let r = attr_of(ev, &self.config, kith_eval::sym!("roles"))?;
        names_of(ev, &r)
    }

    /// Throws clan-core's error if instance `i` uses a role the service does not define.
    pub fn check_roles(&self, ev: &mut Eval, i: &str) -> Result<()> {
        let defined = self.role_names(ev)?;
        let Some((_, roles)) = self.instances.iter().find(|(n, _)| n == i) else {
            return Ok(());
        };
        let unmatched: Vec<&str> = roles
            .iter()
            .map(|r| r.name.as_str())
            .filter(|r| !defined.iter().any(|d| d == r))
            .collect();
        if unmatched.is_empty() {
            return Ok(());
        }
        let name = self.service_name(ev)?;
        Err(throw(format!(
            "Instance: 'instances.{i}' uses the following roles:\n{}\n\nBut the clan-service module '{name}' only defines roles:\n{}\n\nError context: {}\n",
            serde_json::to_string(&unmatched).unwrap_or_default(),
            serde_json::to_string(&defined).unwrap_or_default(),
            self.id
        )))
    }

    fn role(&self, i: &str, r: &str) -> Option<&Role> {
        self.instances
            .iter()
            .find(|(n, _)| n == i)
            .and_then(|(_, roles)| roles.iter().find(|x| x.name == r))
    }

    /// The final settings of (instance, role[, machine]) (`finalSettings.config`).
    pub fn settings(
        self: &Rc<Self>,
        ev: &mut Eval,
        i: &str,
        r: &str,
        m: Option<&str>,
    ) -> Result<Value> {
        let key = (i.to_string(), r.to_string(), m.map(str::to_string));
        if let Some(v) = self.settings.borrow().get(&key) {
            return Ok(v.clone());
        }
        let role = self
            .role(i, r)
            .ok_or_else(|| kith_eval::EvalError::new(format!("attribute '{r}' missing")))?;
        let interface = self.interface(ev, r)?;
        let role_settings = attr_of(ev, &role.value, kith_eval::sym!("settings"))?;
        let machine_settings = match m {
            Some(m) => {
                let machines = attr_of(ev, &role.value, kith_eval::sym!("machines"))?;
                let entry = attr_of(ev, &machines, Symbol::new(m))?;
                attr_of(ev, &entry, kith_eval::sym!("settings"))?
            }
            None => attrs(Vec::new()),
        };
        let wrap = |f: String, v: Value| {
            attrs(vec![
                attr_sym(kith_eval::sym!("_file"), Value::string(f)),
                attr_sym(kith_eval::sym!("imports"), Value::list(vec![v])),
            ])
        };
        let unknown: Rc<str> = Rc::from("<unknown-file>");
        let defs = vec![
            Def::new(
                &unknown,
                wrap(
                    format!("Via clan.service module: roles.{r}.interface"),
                    interface,
                ),
            ),
            Def::new(
                &unknown,
                wrap(
                    format!("Via clan.service module: instances.{i}.roles.{r}.settings"),
                    role_settings,
                ),
            ),
            Def::new(&unknown, machine_settings),
        ];
        let mut loc = vec![
            self.id.clone(),
            "instances".into(),
            i.into(),
            "roles".into(),
            r.into(),
        ];
        if let Some(m) = m {
            loc.push("machines".into());
            loc.push(m.into());
        }
        loc.push("settings".into());
        let meta = meta_of(&self.cc);
        let schema = Rc::new(Schema {
            options: Vec::new(),
            freeform: None,
            decl_file: unknown.clone(),
            class: None,
            extra: None,
            special: Some(Rc::new(move |_| vec![("meta".to_string(), meta.clone())])),
            nodes: Default::default(),
        });
        let v = eval_submodule(ev, &self.cc.ctx(loc), &schema, defs);
        self.settings.borrow_mut().insert(key, v.clone());
        Ok(v)
    }

    /// Role `r`'s `interface`, with its function modules called once for every settings
    /// evaluation of the role (when interfaces may be shared: see
    /// `modsys::share::READS_CONFIG`); they receive a `config` that must not be read.
    fn interface(self: &Rc<Self>, ev: &mut Eval, r: &str) -> Result<Value> {
        let roles = attr_of(ev, &self.config, kith_eval::sym!("roles"))?;
        let svc_role = attr_of(ev, &roles, Symbol::new(r))?;
        let interface = attr_of(ev, &svc_role, kith_eval::sym!("interface"))?;
        if !crate::modsys::share::sharing() {
            return Ok(interface);
        }
        if let Some(v) = self.interfaces_by_role.borrow().get(r) {
            return Ok(v.clone());
        }
        let args = vec![
            ("lib".to_string(), self.cc.lib.clone()),
            ("meta".to_string(), meta_of(&self.cc)),
        ];
        let shared = crate::modsys::share::share_modules(ev, &interface, &args, 0)?;
        self.interfaces_by_role
            .borrow_mut()
            .insert(r.to_string(), shared.clone());
        Ok(shared)
    }

    /// `applySettings instanceName`: every role of the instance with its role-level and
    /// per-machine final settings (lazy).
    pub fn applied_roles(self: &Rc<Self>, i: &str) -> Value {
        if let Some(v) = self.applied.borrow().get(i) {
            return v.clone();
        }
        let Some((_, roles)) = self.instances.iter().find(|(n, _)| n == i) else {
            return attrs(Vec::new());
        };
        let mut entries = Vec::new();
        for r in roles {
            let g = self.clone();
            let (i2, r2) = (i.to_string(), r.name.clone());
            let settings = Thunk::native(move |ev: &mut Eval| {
                let v = g.settings(ev, &i2, &r2, None)?;
                ev.force(&v)
            });
            let mut machines = Vec::new();
            for m in &r.members {
                let g = self.clone();
                let (i3, r3, m3) = (i.to_string(), r.name.clone(), m.clone());
                let s = Thunk::native(move |ev: &mut Eval| {
                    let v = g.settings(ev, &i3, &r3, Some(&m3))?;
                    ev.force(&v)
                });
                machines.push(attr(
                    m,
                    attrs(vec![attr_sym(kith_eval::sym!("settings"), s)]),
                ));
            }
            entries.push(attr(
                &r.name,
                attrs(vec![
                    attr_sym(kith_eval::sym!("machines"), attrs(machines)),
                    attr_sym(kith_eval::sym!("settings"), settings),
                ]),
            ));
        }
        let v = attrs(entries);
        self.applied.borrow_mut().insert(i.to_string(), v.clone());
        v
    }

    /// The roles of instance `i` that machine `m` is in (sorted).
    fn roles_of(&self, i: &str, m: &str) -> Rc<[String]> {
        self.memberships(m)
            .iter()
            .find(|(k, _)| self.instances[*k].0 == i)
            .map_or_else(|| Rc::from([]), |(_, roles)| roles.clone())
    }

    /// The instances machine `m` is a member of, in order, with its roles in each.
    fn memberships(&self, m: &str) -> &[(usize, Rc<[String]>)] {
        self.machine_instances.get(m).map_or(&[], Vec::as_slice)
    }

    fn mk_exports(&self, ev: &mut Eval, parts: [&str; 4]) -> Result<Value> {
        let (keyed, thrower) = self.helpers(ev)?;
        for p in parts {
            let chars: Vec<char> = p.chars().collect();
            let bad = chars.len() <= 3
                && chars.contains(&':')
                && (chars.len() == 1
                    || (chars.len() == 2 && (chars[0] == ':' || chars[1] == ':'))
                    || (chars.len() == 3 && chars[1] == ':'));
            if bad {
                let f = thrower;
                let msg = format!("mkExportsScope: {p} cannot contain the \":\" character\n");
                return Ok(Thunk::apply(f, Value::string(msg), kith_eval::Span::NONE));
            }
        }
        let f = keyed;
        Ok(Thunk::apply(
            f,
            Value::string(parts.join(":")),
            kith_eval::Span::NONE,
        ))
    }

    /// Whether [`Group::per_instance`] of (instance `i`, role `r`, machine `m`) was
    /// evaluated already.
    pub fn has_per_instance(&self, i: &str, r: &str, m: &str) -> bool {
        let key = (i.to_string(), r.to_string(), m.to_string());
        self.per_instance.borrow().contains_key(&key)
    }

    /// The `perInstance` module of role `r` evaluated for (instance `i`, machine `m`):
    /// its `config`.
    pub fn per_instance(
        self: &Rc<Self>,
        ev: &mut Eval,
        i: &str,
        r: &str,
        m: &str,
    ) -> Result<Value> {
        let key = (i.to_string(), r.to_string(), m.to_string());
        if let Some(v) = self.per_instance.borrow().get(&key) {
            return Ok(v.clone());
        }
        let roles = attr_of(ev, &self.config, kith_eval::sym!("roles"))?;
        let svc_role = attr_of(ev, &roles, Symbol::new(r))?;
        let per = attr_of(ev, &svc_role, kith_eval::sym!("perInstance"))?;
        let s = self.service_name(ev)?;
        let applied = self.applied_roles(i);
        let machine_roles = self.roles_of(i, m);
        let machine = attrs(vec![
            attr_sym(kith_eval::sym!("name"), Value::string(m)),
            attr(
                "roles",
                Value::list(
                    machine_roles
                        .iter()
                        .map(|x| Value::string(x.as_str()))
                        .collect(),
                ),
            ),
        ]);
        let g = self.clone();
        let (i2, r2, m2) = (i.to_string(), r.to_string(), m.to_string());
        let settings = Thunk::native(move |ev: &mut Eval| {
            let v = g.settings(ev, &i2, &r2, Some(&m2))?;
            ev.force(&v)
        });
        let special = vec![
            ("mkExports".to_string(), self.mk_exports(ev, [&s, i, r, m])?),
            ("instanceName".to_string(), Value::string(i)),
            ("roles".to_string(), applied),
            ("exports".to_string(), self.exports_value()),
            ("meta".to_string(), meta_of(&self.cc)),
            ("machine".to_string(), machine),
            ("settings".to_string(), settings),
            (
                "extendSettings".to_string(),
                self.extend_settings(ev, i, r, m)?,
            ),
        ];
        let v = self.eval_per(ev, per, special);
        self.per_instance.borrow_mut().insert(key, v.clone());
        Ok(v)
    }

    /// The `perMachine` module evaluated for machine `m`: its `config`.
    pub fn per_machine(self: &Rc<Self>, ev: &mut Eval, m: &str) -> Result<Value> {
        if let Some(v) = self.per_machine.borrow().get(m) {
            return Ok(v.clone());
        }
        let per = attr_of(ev, &self.config, kith_eval::sym!("perMachine"))?;
        let s = self.service_name(ev)?;
        let mut roles: Vec<String> = Vec::new();
        let mut instances = Vec::new();
        for (k, mine) in self.memberships(m) {
            let i = &self.instances[*k].0;
            roles.extend(mine.iter().cloned());
            instances.push(attr(
                i,
                attrs(vec![attr_sym(
                    kith_eval::sym!("roles"),
                    self.applied_roles(i),
                )]),
            ));
        }
        roles.sort();
        roles.dedup();
        let machine = attrs(vec![
            attr_sym(kith_eval::sym!("name"), Value::string(m)),
            attr(
                "roles",
                Value::list(roles.iter().map(|x| Value::string(x.as_str())).collect()),
            ),
        ]);
        let context = self.id.clone();
        let special = vec![
            ("machine".to_string(), machine),
            ("exports".to_string(), self.exports_value()),
            ("meta".to_string(), meta_of(&self.cc)),
            ("instances".to_string(), attrs(instances)),
            (
                "mkExports".to_string(),
                self.mk_exports(ev, [&s, "", "", m])?,
            ),
            (
                "settings".to_string(),
                Thunk::native(move |_| {
                    Err(throw(format!(
                        "'perMachine' doesn't have a 'settings' argument.\n\nAlternatives:\n- 'instances.<instanceName>.roles.<roleName>.settings' should be used instead.\n- 'instances.<instanceName>.roles.<roleName>.machines.<machineName>.settings' should be used instead.\n\nIf that is insufficient, you might also consider using 'roles.<roleName>.perInstance' instead of 'perMachine'.\n\nError context: {context}\n"
                    )))
                }),
            ),
        ];
        let v = self.eval_per(ev, per, special);
        self.per_machine
            .borrow_mut()
            .insert(m.to_string(), v.clone());
        Ok(v)
    }

    /// `extendSettings` of (instance, role, machine): `m: <the settings evaluated again with
    /// module m added>.config`, as clan-core's `extendModules` gives it. The modules are
    /// the settings evaluation's own (interface, role settings, machine and tag settings),
    /// evaluated with nixpkgs' `lib.evalModules` (kith's evaluator running the clan's lib).
    fn extend_settings(self: &Rc<Self>, ev: &mut Eval, i: &str, r: &str, m: &str) -> Result<Value> {
        let Some(role) = self.role(i, r) else {
            return Ok(Thunk::native(|_| {
                Err(unsupported_eval("`extendSettings' of an unknown role"))
            }));
        };
        let roles = attr_of(ev, &self.config, kith_eval::sym!("roles"))?;
        let svc_role = attr_of(ev, &roles, Symbol::new(r))?;
        let interface = attr_of(ev, &svc_role, kith_eval::sym!("interface"))?;
        let role_settings = attr_of(ev, &role.value, kith_eval::sym!("settings"))?;
        let machines = attr_of(ev, &role.value, kith_eval::sym!("machines"))?;
        let entry = attr_of(ev, &machines, Symbol::new(m))?;
        let machine_settings = attr_of(ev, &entry, kith_eval::sym!("settings"))?;
        let service = {
            let g = self.clone();
            Thunk::native(move |ev: &mut Eval| Ok(Value::string(g.service_name(ev)?)))
        };
        let prefix = Value::list(
            [
                self.id.as_str(),
                "instances",
                i,
                "roles",
                r,
                "machines",
                m,
                "settings",
            ]
            .iter()
            .map(|p| Value::string(*p))
            .collect(),
        );
        let cached = self.cc.extend_fn.borrow().clone();
        let f = match cached {
            Some(f) => f,
            None => {
                let f = ev.eval_expr(
            r#"{ lib, interface, roleSettings, machineSettings, prefix, service, role, instance, meta }:
              m: (lib.evalModules {
                inherit prefix;
                class = "${service}.${role}.settings";
                specialArgs = { inherit meta; };
                modules = [
                  (lib.setDefaultModuleLocation "Via clan.service module: roles.${role}.interface" interface)
                  (lib.setDefaultModuleLocation "Via clan.service module: instances.${instance}.roles.${role}.settings" roleSettings)
                  machineSettings
                ] ++ lib.toList m;
              }).config"#,
            std::path::Path::new("/"),
        )?;
                *self.cc.extend_fn.borrow_mut() = Some(f.clone());
                f
            }
        };
        let args = attrs(vec![
            attr_sym(kith_eval::sym!("lib"), self.cc.lib.clone()),
            attr_sym(kith_eval::sym!("interface"), interface),
            attr_sym(kith_eval::sym!("roleSettings"), role_settings),
            attr_sym(kith_eval::sym!("machineSettings"), machine_settings),
            attr_sym(kith_eval::sym!("prefix"), prefix),
            attr_sym(kith_eval::sym!("service"), service),
            attr_sym(kith_eval::sym!("role"), Value::string(r)),
            attr_sym(kith_eval::sym!("instance"), Value::string(i)),
            attr_sym(kith_eval::sym!("meta"), meta_of(&self.cc)),
        ]);
        Ok(Thunk::apply(f, args, kith_eval::Span::NONE))
    }

    fn helpers(&self, ev: &mut Eval) -> Result<(Value, Value)> {
        if let Some(h) = self.cc.helpers.borrow().as_ref() {
            return Ok(h.clone());
        }
        let root = std::path::Path::new("/");
        let h = (
            ev.eval_expr("key: v: { ${key} = v; }", root)?,
            ev.eval_expr("msg: _: throw msg", root)?,
        );
        *self.cc.helpers.borrow_mut() = Some(h.clone());
        Ok(h)
    }

    fn exports_value(&self) -> Value {
        let cc = self.cc.clone();
        Thunk::native(move |ev: &mut Eval| {
            cc.exports_read.set(true);
            let v = cc.exports.borrow().clone();
            ev.force(&v)
        })
    }

    fn eval_per(&self, ev: &mut Eval, module: Value, special: Vec<(String, Value)>) -> Value {
        let unknown: Rc<str> = Rc::from("<unknown-file>");
        let mut schema = schema::per_module(&unknown);
        schema.special = Some(Rc::new(move |_| special.clone()));
        eval_submodule(
            ev,
            &self.cc.ctx(Vec::new()),
            &Rc::new(schema),
            vec![Def::new(&unknown, module)],
        )
    }
}
