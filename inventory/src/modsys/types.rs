//! Option types and declarations the native module system knows.

use super::merge::Ctx;
use super::Def;
use kith_eval::{Eval, Result, Value};
use std::rc::Rc;

/// An option type (a subset of `lib.types`).
#[derive(Clone)]
pub enum Ty {
    /// `types.str`.
    Str,
    /// `types.int`.
    Int,
    /// `types.ints.unsigned`: an integer `>= 0`.
    UnsignedInt,
    /// `types.ints.positive`: an integer `> 0`.
    PositiveInt,
    /// `types.bool`.
    Bool,
    /// `types.path`.
    Path,
    /// `types.raw`: one definition, any value, not evaluated.
    Raw,
    /// `types.enum [ … ]` of strings.
    Enum(Rc<[&'static str]>),
    /// `types.strMatching pattern` (the pattern as Nix's `builtins.match` reads it).
    StrMatching(&'static str),
    /// `types.nullOr t`.
    NullOr(Rc<Ty>),
    /// `types.listOf t`.
    ListOf(Rc<Ty>),
    /// `types.attrsOf t` (`lazy`: `types.lazyAttrsOf t`).
    AttrsOf(Rc<Ty>, bool),
    /// `types.submoduleWith { modules = …; }` with a native schema.
    Submodule(Rc<Schema>),
    /// clan's `uniqueDeferredSerializableModule` (settings).
    UniqueSettings,
    /// Any number of definitions, kept as modules, unevaluated, where each keeps its own
    /// file: the stand-in for options whose value the engine keeps without modelling it
    /// (internal, removed or not yet modelled options).
    Deferred,
    /// `types.deferredModule` itself: as [`Ty::Deferred`], each definition located at its file
    /// "via option" (what the module system's errors and definition files name).
    Module,
    /// `types.coercedTo (listOf str) (genAttrs …) (attrsOf t)`: a list of names stands
    /// for `{ name = { }; … }`.
    NamesOrAttrsOf(Rc<Ty>),
    /// A scalar type declared in Nix whose merge is `mergeEqualOption` (`str`, `int`,
    /// `ints.*`, `port`, `enum`, `strMatching`, …): checked by its own `check`.
    NixScalar {
        /// The type's `check` function.
        check: Value,
        /// The type's `description` (lazy: some are costly to compute).
        description: Value,
    },
    /// A type declared in Nix, with the description Nix gives it (lazy).
    Named(Value, Rc<Ty>),
    /// `types.submoduleWith` declared in Nix: its modules and special arguments.
    NixSubmodule(Rc<NixSubmodule>),
    /// `types.attrTag { tag = mkOption …; }`.
    AttrTag(Rc<Vec<(String, Decl)>>),
    /// An option the native engine declares but does not model: any number of
    /// definitions are accepted and kept, and reading its value raises
    /// [`crate::Error::Unsupported`].
    Unmodelled,
}

/// A submodule type declared in Nix.
pub struct NixSubmodule {
    /// `getSubModules`.
    pub modules: Vec<Value>,
    /// `specialArgs` of the type.
    pub special: Vec<(String, Value)>,
}

impl Ty {
    /// The type's `description`, as error messages show it (the description of a type
    /// declared in Nix is evaluated).
    pub fn describe(&self, ev: &mut Eval) -> String {
        match self {
            Ty::NixScalar { description, .. } | Ty::Named(description, _) => {
                match ev.force(description) {
                    Ok(Value::String(s)) => s.encoded().into_owned(),
                    _ => "<type>".into(),
                }
            }
            Ty::NullOr(t) => format!("null or {}", t.phrase(ev, &["noun", "conjunction"])),
            Ty::ListOf(t) => format!("list of {}", t.phrase(ev, &["noun", "composite"])),
            _ => self.description(),
        }
    }

    /// `descriptionClass` of a native type (`None`: declared in Nix, not known here).
    fn class(&self) -> Option<&'static str> {
        Some(match self {
            Ty::UnsignedInt | Ty::PositiveInt => "nonRestrictiveClause",
            Ty::Enum(vals) if vals.len() >= 2 => "conjunction",
            Ty::NullOr(_) => "conjunction",
            Ty::ListOf(_) | Ty::AttrsOf(..) => "composite",
            // `submoduleWith` sets no class: always parenthesized.
            Ty::Submodule(_) | Ty::NixSubmodule(_) => "none",
            Ty::NixScalar { .. } | Ty::Named(..) => return None,
            _ => "noun",
        })
    }

    /// `optionDescriptionPhrase`: the description, parenthesized unless its class is one
    /// of `bare` (a type declared in Nix is left bare).
    fn phrase(&self, ev: &mut Eval, bare: &[&str]) -> String {
        let d = self.describe(ev);
        match self.class() {
            Some(c) if !bare.contains(&c) => format!("({d})"),
            _ => d,
        }
    }

    /// [`Ty::phrase`] of a native type.
    fn phrase_native(&self, bare: &[&str]) -> String {
        let d = self.description();
        match self.class() {
            Some(c) if !bare.contains(&c) => format!("({d})"),
            _ => d,
        }
    }

    /// The type's `description`, as error messages show it.
    pub fn description(&self) -> String {
        match self {
            Ty::Str => "string".into(),
            Ty::Int => "signed integer".into(),
            Ty::UnsignedInt => "unsigned integer, meaning >=0".into(),
            Ty::PositiveInt => "positive integer, meaning >0".into(),
            Ty::Bool => "boolean".into(),
            Ty::Path => "path".into(),
            Ty::Raw => "raw value".into(),
            Ty::Enum(vals) => format!(
                "one of {}",
                vals.iter()
                    .map(|v| format!("\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Ty::StrMatching(p) => format!("string matching the pattern {p}"),
            Ty::NullOr(t) => format!("null or {}", t.phrase_native(&["noun", "conjunction"])),
            Ty::ListOf(t) => format!("list of {}", t.phrase_native(&["noun", "composite"])),
            Ty::AttrsOf(t, lazy) => format!(
                "{}attribute set of {}",
                if *lazy { "lazy " } else { "" },
                t.phrase_native(&["noun", "composite"])
            ),
            Ty::Submodule(_) => "submodule".into(),
            Ty::UniqueSettings => "deferred custom module. Must be JSON serializable.".into(),
            Ty::Deferred | Ty::Module => "module".into(),
            Ty::Unmodelled => "unmodelled value".into(),
            // `coercedTo`: both types' phrases, parenthesized unless nouns.
            Ty::NamesOrAttrsOf(t) => format!(
                "(attribute set of {}) or (list of string) convertible to it",
                t.phrase_native(&["noun", "composite"])
            ),
            Ty::NixScalar { .. } | Ty::Named(..) => "<type>".into(),
            Ty::NixSubmodule(_) => "submodule".into(),
            Ty::AttrTag(tags) => format!(
                "attribute-tagged union with choices: {}",
                tags.iter()
                    .map(|(n, _)| super::pretty::escape_identifier(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Computes an option's default in its submodule's context.
pub type DefaultFn = Rc<dyn Fn(&mut Eval, &Ctx) -> Result<Value>>;

/// Extra definitions a submodule type's own modules make, by option name.
pub type ExtraDefs = Rc<dyn Fn(&mut Eval, &Ctx) -> Result<Vec<(&'static str, Def)>>>;

/// Special arguments of a submodule's modules, from its context.
pub type SpecialArgs = Rc<dyn Fn(&Ctx) -> Vec<(String, Value)>>;

/// An option declaration.
#[derive(Clone)]
pub struct Decl {
    /// The type.
    pub ty: Ty,
    /// `default`, if any (defined at priority 1500 from the declaring file).
    pub default: Option<DefaultFn>,
    /// `apply = lib.unique`.
    pub apply_unique: bool,
    /// `apply`, declared in Nix.
    pub apply: Option<Value>,
    /// The declaring file, if not the schema's.
    pub file: Option<Rc<str>>,
}

impl Decl {
    /// An option of type `ty` without a default.
    pub fn new(ty: Ty) -> Decl {
        Decl {
            ty,
            default: None,
            apply_unique: false,
            apply: None,
            file: None,
        }
    }

    /// An option of type `ty` with a constant default.
    pub fn with_default(ty: Ty, default: impl Fn() -> Value + 'static) -> Decl {
        Decl {
            ty,
            default: Some(Rc::new(move |_, _| Ok(default()))),
            ..Decl::new(Ty::Raw)
        }
    }
}

/// An option or a namespace of options (`deploy.targetHost`).
#[derive(Clone)]
pub enum Node {
    /// An option.
    Opt(Decl),
    /// Options under a name.
    Group(Vec<(String, Node)>),
}

/// The declarations of a submodule type.
pub struct Schema {
    /// Declared options.
    pub options: Vec<(&'static str, Node)>,
    /// `freeformType`, if any.
    pub freeform: Option<Ty>,
    /// The file declaring the options (named for defaults).
    pub decl_file: Rc<str>,
    /// `_class` of the submodule evaluation.
    pub class: Option<&'static str>,
    /// Definitions the type's own modules add.
    pub extra: Option<ExtraDefs>,
    /// Special arguments of its modules.
    pub special: Option<SpecialArgs>,
    /// `options` with their names interned, built on first use.
    pub(crate) nodes: std::cell::OnceCell<Rc<Nodes>>,
}

/// Declared options with their names' symbols.
pub(crate) type Nodes = Vec<(String, kith_eval::Symbol, Node)>;

impl Schema {
    /// A schema of plain options declared in `decl_file`: no freeform type, no `_class`,
    /// no definitions or special arguments of its own.
    pub fn new(options: Vec<(&'static str, Node)>, decl_file: Rc<str>) -> Schema {
        Schema {
            options,
            freeform: None,
            decl_file,
            class: None,
            extra: None,
            special: None,
            nodes: Default::default(),
        }
    }
}
