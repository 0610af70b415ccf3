//! The options of a `clan.service` module the native engine reads, as clan-core declares
//! them (`lib/inventory/distributed-service/service-module.nix`).

use crate::modsys::{attrs, Decl, Node, Schema, Ty};
use kith_eval::{Thunk, Value};
use std::rc::Rc;

fn opt_default(ty: Ty, default: impl Fn() -> Value + 'static) -> Node {
    Node::Opt(Decl::with_default(ty, default))
}

fn list_str() -> Ty {
    Ty::ListOf(Rc::new(Ty::Str))
}

const CATEGORIES: [&str; 16] = [
    "Audio",
    "AudioVideo",
    "Desktop",
    "Development",
    "Education",
    "Game",
    "Graphics",
    "Network",
    "Office",
    "Science",
    "Settings",
    "Social",
    "System",
    "Uncategorized",
    "Utility",
    "Video",
];

fn manifest(file: &Rc<str>) -> Schema {
    // `nullOr ints.unsigned` and `nullOr ints.positive`, as clan-core declares them.
    let null_unsigned = || Ty::NullOr(Rc::new(Ty::UnsignedInt));
    let null_positive = || Ty::NullOr(Rc::new(Ty::PositiveInt));
    let role_constraints = Schema::new(
        vec![
            ("minMachines", opt_default(null_unsigned(), || Value::Null)),
            ("maxMachines", opt_default(null_positive(), || Value::Null)),
        ],
        file.clone(),
    );
    Schema::new(
        vec![
            ("name", Node::Opt(Decl::new(Ty::Str))),
            (
                "description",
                opt_default(Ty::Str, || Value::string("No description")),
            ),
            ("readme", opt_default(Ty::Str, || Value::string(""))),
            (
                "categories",
                opt_default(Ty::ListOf(Rc::new(Ty::Enum(Rc::from(CATEGORIES)))), || {
                    Value::list(vec![Value::string("Uncategorized")])
                }),
            ),
            (
                "exports",
                Node::Group(vec![
                    (
                        "out".into(),
                        opt_default(list_str(), || Value::list(Vec::new())),
                    ),
                    (
                        "inputs".into(),
                        opt_default(list_str(), || Value::list(Vec::new())),
                    ),
                ]),
            ),
            (
                "constraints",
                Node::Group(vec![
                    (
                        "maxInstances".into(),
                        opt_default(null_positive(), || Value::Null),
                    ),
                    (
                        "roles".into(),
                        opt_default(
                            Ty::AttrsOf(Rc::new(Ty::Submodule(Rc::new(role_constraints))), false),
                            || attrs(Vec::new()),
                        ),
                    ),
                ]),
            ),
        ],
        file.clone(),
    )
}

fn role(file: &Rc<str>) -> Schema {
    Schema::new(
        vec![
            (
                "description",
                opt_default(Ty::NullOr(Rc::new(Ty::Str)), || Value::Null),
            ),
            ("interface", opt_default(Ty::Module, || attrs(Vec::new()))),
            ("perInstance", opt_default(Ty::Module, || attrs(Vec::new()))),
        ],
        file.clone(),
    )
}

/// The service module's options; `instances` and `module` are given by the caller
/// through `extra` definitions.
pub(crate) fn service(core: &str) -> Schema {
    let file: Rc<str> =
        Rc::from(format!("{core}/lib/inventory/distributed-service/service-module.nix").as_str());
    Schema {
        options: vec![
            (
                "_docs_rendering",
                opt_default(Ty::Bool, || Value::Bool(false)),
            ),
            (
                "manifest",
                Node::Opt(Decl::new(Ty::Submodule(Rc::new(manifest(&file))))),
            ),
            (
                "roles",
                Node::Opt(Decl {
                    // The default throws (the message needs the manifest: set by the caller).
                    default: Some(Rc::new(|_, _| {
                        Ok(Thunk::native(|_| {
                            Err(crate::error::unsupported_eval("a service without roles"))
                        }))
                    })),
                    ..Decl::new(Ty::AttrsOf(
                        Rc::new(Ty::Submodule(Rc::new(role(&file)))),
                        false,
                    ))
                }),
            ),
            (
                "perMachine",
                opt_default(Ty::Deferred, || attrs(Vec::new())),
            ),
            (
                "exports",
                opt_default(Ty::AttrsOf(Rc::new(Ty::Deferred), true), || {
                    attrs(Vec::new())
                }),
            ),
            ("instances", Node::Opt(Decl::new(Ty::Raw))),
            ("module", Node::Opt(Decl::new(Ty::Raw))),
            ("result", Node::Opt(Decl::new(Ty::Deferred))),
        ],
        freeform: None,
        decl_file: file,
        class: Some("clan.service"),
        extra: None,
        special: None,
        nodes: Default::default(),
    }
}

/// The static options of a `perInstance`/`perMachine` module.
pub(crate) fn per_module(file: &Rc<str>) -> Schema {
    Schema::new(
        vec![
            (
                "exports",
                opt_default(Ty::AttrsOf(Rc::new(Ty::Deferred), true), || {
                    attrs(Vec::new())
                }),
            ),
            (
                "nixosModule",
                opt_default(Ty::Deferred, || attrs(Vec::new())),
            ),
            (
                "darwinModule",
                opt_default(Ty::Deferred, || attrs(Vec::new())),
            ),
        ],
        file.clone(),
    )
}
