//! The option declarations of clan's top-level module and its inventory, as clan-core
//! declares them (`modules/clan/top-level-interface.nix`,
//! `modules/inventoryClass/{inventory,meta,role}.nix`).

use crate::modsys::merge::Ctx;
use crate::modsys::{attrs, Decl, Def, Node, Schema, Ty};
use kith_eval::{Eval, Thunk, Value};
use std::rc::Rc;

fn opt(ty: Ty) -> Node {
    Node::Opt(Decl::new(ty))
}

fn opt_default(ty: Ty, default: impl Fn() -> Value + 'static) -> Node {
    Node::Opt(Decl::with_default(ty, default))
}

fn null_or(ty: Ty) -> Ty {
    Ty::NullOr(Rc::new(ty))
}

fn null_str() -> Node {
    opt_default(null_or(Ty::Str), || Value::Null)
}

/// `lib.types.domainName` of clan-core.
const DOMAIN_PATTERN: &str =
    "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$";

/// clan-core's file `rel` (for the file names the module system reports).
fn core_file(core: &str, rel: &str) -> Rc<str> {
    Rc::from(format!("{core}/{rel}").as_str())
}

/// `inventory.meta` (`modules/inventoryClass/meta.nix`).
fn meta(core: &str) -> Schema {
    // Lazy, as clan-core's `default`: its warning only when the default is used (not when
    // the clan sets `domain`).
    let domain_default: crate::modsys::DefaultFn = Rc::new(|_: &mut Eval, ctx: &Ctx| {
        let parent = ctx.parent.clone();
        Ok(Thunk::native(move |ev: &mut Eval| {
            let cfg = ev.force_attrs(&parent)?;
            let tld = cfg
                .get(kith_eval::sym!("tld"))
                .cloned()
                .unwrap_or(Value::Null);
            Ok(match ev.force(&tld)? {
                Value::Null => Value::string("clan"),
                v => {
                    kith_eval::eprint_line("evaluation warning: `clan.meta.tld` has been deprecated in favor of `clan.meta.domain`. `clan.meta.tld` will be removed in the next release.");
                    v
                }
            })
        }))
    });
    Schema::new(
        vec![
            ("name", opt(Ty::StrMatching("[a-zA-Z0-9_-]*"))),
            ("description", null_str()),
            ("icon", null_str()),
            (
                "tld",
                opt_default(null_or(Ty::StrMatching("[a-z]+")), || Value::Null),
            ),
            (
                "domain",
                Node::Opt(Decl {
                    ty: Ty::StrMatching(DOMAIN_PATTERN),
                    default: Some(domain_default),
                    apply_unique: false,
                    apply: None,
                    file: None,
                }),
            ),
        ],
        core_file(core, "modules/inventoryClass/meta.nix"),
    )
}

/// `inventory.tags`: declared `all`, `nixos`, `darwin`, freeform lists of names; its
/// modules receive `machines`.
fn tags(core: &str) -> Schema {
    let list = || Ty::ListOf(Rc::new(Ty::Str));
    Schema {
        options: vec![
            ("all", opt(list())),
            ("darwin", opt(list())),
            ("nixos", opt(list())),
        ],
        freeform: Some(list()),
        decl_file: core_file(core, "modules/inventoryClass/inventory.nix"),
        class: None,
        extra: None,
        special: Some(Rc::new(|ctx: &Ctx| {
            let parent = ctx.parent.clone();
            let machines = Thunk::native(move |ev: &mut Eval| {
                let inv = ev.force_attrs(&parent)?;
                let m = inv
                    .get(kith_eval::sym!("machines"))
                    .cloned()
                    .unwrap_or(Value::Null);
                ev.force(&m)
            });
            vec![
                ("machines".into(), machines),
                (
                    "clanLib".into(),
                    Thunk::native(|_| Err(crate::error::unsupported_eval("`clanLib' in tags"))),
                ),
            ]
        })),
        nodes: Default::default(),
    }
}

/// `inventory.machines.<name>`.
fn machine(core: &str) -> Schema {
    let file = core_file(core, "modules/inventoryClass/inventory.nix");
    let tag_file = file.clone();
    let index: TagIndexCell = Rc::default();
    Schema {
        options: vec![
            (
                "name",
                Node::Opt(Decl {
                    ty: Ty::Str,
                    default: Some(Rc::new(|_, ctx: &Ctx| {
                        Ok(Value::string(ctx.name.as_deref().unwrap_or_default()))
                    })),
                    apply_unique: false,
                    apply: None,
                    file: None,
                }),
            ),
            ("description", null_str()),
            ("icon", null_str()),
            (
                "machineClass",
                opt_default(Ty::Enum(Rc::from(["nixos", "darwin"])), || {
                    Value::string("nixos")
                }),
            ),
            ("installedAt", opt_default(null_or(Ty::Int), || Value::Null)),
            (
                "tags",
                Node::Opt(Decl {
                    ty: Ty::ListOf(Rc::new(Ty::Str)),
                    default: Some(Rc::new(|_, _| Ok(Value::list(Vec::new())))),
                    apply_unique: true,
                    apply: None,
                    file: None,
                }),
            ),
            (
                "deploy",
                Node::Group(vec![
                    ("targetHost".into(), null_str()),
                    ("buildHost".into(), null_str()),
                    (
                        "forwardAgent".into(),
                        opt_default(null_or(Ty::Bool), || Value::Null),
                    ),
                ]),
            ),
        ],
        freeform: None,
        decl_file: file,
        class: None,
        // `tags = attrNames (filterAttrs (_: members: elem name members) config.tags)`
        extra: Some(Rc::new(move |_ev: &mut Eval, ctx: &Ctx| {
            let inventory = ctx.parent.clone();
            let name = ctx.name.clone().unwrap_or_default();
            let index = index.clone();
            let value = Thunk::native(move |ev: &mut Eval| {
                let tags = tag_index(ev, &index, &inventory)?;
                let mine = tags.get(name.as_bytes()).cloned().unwrap_or_default();
                Ok(Value::list(mine.into_iter().map(Value::string).collect()))
            });
            Ok(vec![("tags", Def::new(&tag_file, value))])
        })),
        special: None,
        nodes: Default::default(),
    }
}

/// machine name → the names of the tags listing it (in tag-name order), built once per
/// inventory (keyed by the inventory's value).
type TagIndex = std::collections::HashMap<Vec<u8>, Vec<String>>;
type TagIndexCell = Rc<std::cell::RefCell<Option<(usize, Rc<TagIndex>)>>>;

/// The tag index of `inventory` (see [`TagIndex`]).
fn tag_index(
    ev: &mut Eval,
    cell: &TagIndexCell,
    inventory: &Value,
) -> kith_eval::Result<Rc<TagIndex>> {
    let id = inventory.ptr_id().unwrap_or(0);
    if let Some((k, idx)) = cell.borrow().as_ref() {
        if *k == id {
            return Ok(idx.clone());
        }
    }
    let inv = ev.force_attrs(inventory)?;
    let tags = inv
        .get(kith_eval::sym!("tags"))
        .cloned()
        .unwrap_or(Value::Null);
    let tags = ev.force_attrs(&tags)?;
    let mut index = TagIndex::new();
    for t in tags.sorted_by_name() {
        let members = ev.force_list(&t.value)?;
        for m in members.iter() {
            let m = ev.force_string(m)?.as_bytes().to_vec();
            let list = index.entry(m).or_default();
            if list.last().map(String::as_str) != Some(t.name.as_str()) {
                list.push(t.name.as_str().to_string());
            }
        }
    }
    let index = Rc::new(index);
    *cell.borrow_mut() = Some((id, index.clone()));
    Ok(index)
}

/// `{ settings = …; }`: a role's machine or tag entry.
fn settings_holder(core: &str) -> Schema {
    Schema::new(
        vec![(
            "settings",
            opt_default(Ty::UniqueSettings, || attrs(Vec::new())),
        )],
        core_file(core, "modules/inventoryClass/inventory.nix"),
    )
}

/// `inventory.instances.<I>.roles.<R>` (`role.nix`, imported by `inventory.nix`).
fn role(core: &str) -> Schema {
    let holder = Rc::new(settings_holder(core));
    Schema::new(
        vec![
            (
                "machines",
                opt_default(
                    Ty::AttrsOf(Rc::new(Ty::Submodule(holder.clone())), false),
                    || attrs(Vec::new()),
                ),
            ),
            (
                "tags",
                opt_default(Ty::NamesOrAttrsOf(Rc::new(Ty::Submodule(holder))), || {
                    attrs(Vec::new())
                }),
            ),
            (
                "settings",
                opt_default(Ty::UniqueSettings, || attrs(Vec::new())),
            ),
            (
                "extraModules",
                opt_default(Ty::ListOf(Rc::new(Ty::Raw)), || Value::list(Vec::new())),
            ),
        ],
        core_file(core, "modules/inventoryClass/inventory.nix"),
    )
}

/// `inventory.instances.<I>`.
fn instance(core: &str) -> Schema {
    let file = core_file(core, "modules/inventoryClass/inventory.nix");
    let module = Schema::new(
        vec![
            ("input", null_str()),
            (
                "name",
                Node::Opt(Decl {
                    ty: Ty::Str,
                    // `default = name` of the instance: loc is `…instances.<I>.module.name`.
                    default: Some(Rc::new(|_, ctx: &Ctx| {
                        let back = ctx.loc.len().saturating_sub(1).min(2);
                        Ok(Value::string(ctx.loc.from_end(back).unwrap_or_default()))
                    })),
                    apply_unique: false,
                    apply: None,
                    file: None,
                }),
            ),
        ],
        file.clone(),
    );
    Schema::new(
        vec![
            (
                "module",
                opt_default(Ty::Submodule(Rc::new(module)), || attrs(Vec::new())),
            ),
            (
                "roles",
                opt_default(
                    Ty::AttrsOf(Rc::new(Ty::Submodule(Rc::new(role(core)))), false),
                    || attrs(Vec::new()),
                ),
            ),
        ],
        file,
    )
}

/// The inventory submodule.
pub fn inventory(core: &str) -> Schema {
    let file = core_file(core, "modules/inventoryClass/inventory.nix");
    Schema::new(
        vec![
            ("_inventoryFile", opt(Ty::Raw)),
            (
                "noInstanceOptions",
                opt_default(Ty::Bool, || Value::Bool(false)),
            ),
            ("options", opt(Ty::Deferred)),
            // Removed (`mkRemovedOptionModule`): a definition fails the serialisation.
            (
                "services",
                opt_default(null_or(Ty::Deferred), || Value::Null),
            ),
            ("modules", opt_default(Ty::Deferred, || attrs(Vec::new()))),
            (
                "assertions",
                opt_default(Ty::Deferred, || Value::list(Vec::new())),
            ),
            ("meta", opt(Ty::Submodule(Rc::new(meta(core))))),
            (
                "tags",
                opt_default(Ty::Submodule(Rc::new(tags(core))), || attrs(Vec::new())),
            ),
            (
                "machines",
                opt_default(
                    Ty::AttrsOf(Rc::new(Ty::Submodule(Rc::new(machine(core)))), true),
                    || attrs(Vec::new()),
                ),
            ),
            (
                "instances",
                opt_default(
                    Ty::AttrsOf(Rc::new(Ty::Submodule(Rc::new(instance(core)))), false),
                    || attrs(Vec::new()),
                ),
            ),
        ],
        file,
    )
}

/// clan's top-level options (`modules/clan/top-level-interface.nix`); those the native
/// engine does not read are kept as unevaluated module definitions.
pub fn clan(core: &str, inventory: Rc<Schema>) -> Schema {
    let mut options = vec![
        (
            "inventory",
            opt_default(Ty::Submodule(inventory), || attrs(Vec::new())),
        ),
        (
            "machines",
            opt_default(
                Ty::AttrsOf(Rc::new(Ty::Module), false),
                || attrs(Vec::new()),
            ),
        ),
        (
            "modules",
            opt_default(Ty::AttrsOf(Rc::new(Ty::Raw), false), || attrs(Vec::new())),
        ),
        // `types.deferredModuleWith { staticModules = [ meta.nix ]; }`, default `{ }`: a
        // clan that never sets `meta` still has one (`inventory.meta` is defined from it).
        ("meta", opt_default(Ty::Module, || attrs(Vec::new()))),
        ("self", opt(Ty::Raw)),
        ("directory", opt(Ty::Raw)),
        ("varsDirectory", opt_default(Ty::Raw, || Value::Null)),
    ];
    for name in [
        "_allMachines",
        "_dependencies",
        "_prefix",
        "_services",
        "checks",
        "clanInternals",
        "darwinConfigurations",
        "darwinModules",
        "deprecatedModules",
        "exportInterfaces",
        "exports",
        "nixosConfigurations",
        "nixosModules",
        "outputs",
        "pkgsForSystem",
        "secrets",
        "specialArgs",
        "templates",
        "vars",
    ] {
        if name == "exports" {
            // Null unless the clan defines some (the native engine does not model them yet).
            options.push((name, opt_default(null_or(Ty::Deferred), || Value::Null)));
        } else {
            options.push((name, opt(Ty::Deferred)));
        }
    }
    Schema {
        options,
        freeform: None,
        decl_file: core_file(core, "modules/clan/top-level-interface.nix"),
        class: Some("clan"),
        extra: None,
        special: None,
        nodes: Default::default(),
    }
}
