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
    /// `types.ints.unsigned`.
    UnsignedInt,
    /// `types.ints.positive`.
    PositiveInt,
    /// `types.bool`.
    Bool,
    /// `types.path`.
    Path,
    /// `types.raw`: one definition, any value, not evaluated.
    Raw,
    /// `types.attrs`: attribute sets, merged by `//` in definition order.
    Attrs,
    /// `types.separatedString sep` (`lines`, `commas`, `envVar`): strings, concatenated
    /// with `sep`.
    SeparatedString(Rc<str>),
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
        /// The type's `descriptionClass` (lazy; `null` when it has none).
        class: Value,
    },
    /// A type declared in Nix, with the description Nix gives it (lazy).
    Named(Value, Rc<Ty>),
    /// `types.submoduleWith` declared in Nix: its modules and special arguments.
    NixSubmodule(Rc<NixSubmodule>),
    /// `types.attrTag { tag = mkOption …; }`.
    AttrTag(Rc<Vec<(String, Decl)>>),
    /// Any other type declared in Nix (`either`, `oneOf`, `anything`, `uniq`, `package`,
    /// `functionTo`, a type given its own `check` or `merge`, …): checked and merged by its
    /// own Nix functions, as `mergeDefinitions` calls them.
    Nix(Rc<NixType>),
    /// An option the native engine declares but does not model: any number of
    /// definitions are accepted and kept, and reading its value raises
    /// [`crate::Error::Unsupported`].
    Unmodelled,
}

/// A type declared in Nix that the engine runs rather than models ([`Ty::Nix`]).
pub struct NixType {
    /// `check`.
    pub check: Value,
    /// `merge`, called as a function (`merge loc defs`).
    pub merge: Value,
    /// `merge.v2`, if the merge has one (it then reports its own `headError`).
    pub v2: Option<Value>,
    /// `emptyValue.value`, if the type has one (the value of an option without
    /// definitions).
    pub empty: Option<Value>,
    /// `description` (lazy).
    pub description: Value,
    /// `descriptionClass` (lazy; `null` when it has none).
    pub class: Value,
}

/// A submodule type declared in Nix.
pub struct NixSubmodule {
    /// `getSubModules`.
    pub modules: Vec<Value>,
    /// `specialArgs` of the type.
    pub special: Vec<(String, Value)>,
}

/// `descriptionClass` of a type: how its description reads inside another's (see
/// `optionDescriptionPhrase` in nixpkgs' `lib/types.nix`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Class {
    /// `"noun"`: `string`, `signed integer`, `module`, …
    Noun,
    /// `"conjunction"`: `null or …`, `one of …`.
    Conjunction,
    /// `"composite"`: `list of …`, `attribute set of …`.
    Composite,
    /// `"nonRestrictiveClause"`.
    NonRestrictiveClause,
    /// No class (`null`: `submodule`, `coercedTo`): parenthesised wherever it is nested.
    Null,
}

impl Class {
    fn of_name(name: &str) -> Class {
        match name {
            "noun" => Class::Noun,
            "conjunction" => Class::Conjunction,
            "composite" => Class::Composite,
            "nonRestrictiveClause" => Class::NonRestrictiveClause,
            _ => Class::Null,
        }
    }
}

/// A description declared in Nix, as its type's errors show it.
fn describe_value(ev: &mut Eval, description: &Value) -> String {
    match ev.force(description) {
        Ok(Value::String(s)) => s.encoded().into_owned(),
        _ => "<type>".into(),
    }
}

/// A `descriptionClass` declared in Nix.
fn class_value(ev: &mut Eval, class: &Value) -> Class {
    match ev.force(class) {
        Ok(Value::String(s)) => Class::of_name(&s.encoded()),
        _ => Class::Null,
    }
}

/// `optionDescriptionPhrase`: `ty`'s description, parenthesised unless its class is one
/// of `bare`.
fn phrase(ev: &mut Eval, ty: &Ty, bare: &[Class]) -> String {
    let d = ty.describe(ev);
    if bare.contains(&ty.class(ev)) {
        d
    } else {
        format!("({d})")
    }
}

impl Ty {
    /// The type's `description`, as error messages show it (the description of a type
    /// declared in Nix is evaluated). Nested types are phrased as nixpkgs' `lib.types`
    /// phrases them: a description whose class the outer type does not accept is
    /// parenthesised (`attribute set of (submodule)`, `list of (one of "a", "b")`).
    pub fn describe(&self, ev: &mut Eval) -> String {
        use Class::{Composite, Conjunction, Noun};
        match self {
            Ty::NixScalar { description, .. } | Ty::Named(description, _) => {
                describe_value(ev, description)
            }
            Ty::Nix(t) => describe_value(ev, &t.description),
            Ty::Str => "string".into(),
            Ty::Int => "signed integer".into(),
            Ty::UnsignedInt => "unsigned integer, meaning >=0".into(),
            Ty::PositiveInt => "positive integer, meaning >0".into(),
            Ty::Bool => "boolean".into(),
            Ty::Path => "absolute path".into(),
            Ty::Raw => "raw value".into(),
            Ty::Attrs => "attribute set".into(),
            Ty::SeparatedString(sep) => format!(
                "strings concatenated with {}",
                serde_json::to_string(&**sep).unwrap_or_default()
            ),
            Ty::Enum(vals) => match vals.len() {
                0 => "impossible (empty enum)".into(),
                1 => format!("value \"{}\" (singular enum)", vals[0]),
                _ => format!(
                    "one of {}",
                    vals.iter()
                        .map(|v| format!("\"{v}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            Ty::StrMatching(p) => format!("string matching the pattern {p}"),
            Ty::NullOr(t) => format!("null or {}", phrase(ev, t, &[Noun, Conjunction])),
            Ty::ListOf(t) => format!("list of {}", phrase(ev, t, &[Noun, Composite])),
            Ty::AttrsOf(t, lazy) => format!(
                "{}attribute set of {}",
                if *lazy { "lazy " } else { "" },
                phrase(ev, t, &[Noun, Composite])
            ),
            // The freeform type of a native schema is `lazyAttrsOf t`, held as `t`.
            Ty::Submodule(s) => match &s.freeform {
                Some(t) => format!(
                    "open submodule of {}",
                    phrase(
                        ev,
                        &Ty::AttrsOf(Rc::new(t.clone()), true),
                        &[Noun, Composite]
                    )
                ),
                None => "submodule".into(),
            },
            Ty::NixSubmodule(_) => "submodule".into(),
            // clan-core's `uniqueDeferredSerializableModule`.
            Ty::UniqueSettings => "deferred custom module. Must be JSON serializable.".into(),
            Ty::Deferred | Ty::Module => "module".into(),
            Ty::Unmodelled => "unmodelled value".into(),
            // `coercedTo (listOf str) … (attrsOf t)`.
            Ty::NamesOrAttrsOf(t) => format!(
                "{} or {} convertible to it",
                phrase(ev, &Ty::AttrsOf(t.clone(), false), &[Noun]),
                phrase(ev, &Ty::ListOf(Rc::new(Ty::Str)), &[Noun])
            ),
            Ty::AttrTag(tags) => format!(
                "attribute-tagged union with choices: {}",
                tags.iter()
                    .map(|(n, _)| super::pretty::escape_identifier(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The type's `descriptionClass` (of a type declared in Nix: the one it declares;
    /// of a [`Ty::Named`] type: its underlying type's, as `lib.types`' own types and
    /// their `//` overrides of `description` keep it).
    pub fn class(&self, ev: &mut Eval) -> Class {
        match self {
            Ty::Str
            | Ty::Int
            | Ty::Bool
            | Ty::Path
            | Ty::Raw
            | Ty::SeparatedString(_)
            | Ty::StrMatching(_)
            | Ty::UniqueSettings
            | Ty::Deferred
            | Ty::Module
            | Ty::AttrTag(_) => Class::Noun,
            Ty::UnsignedInt | Ty::PositiveInt => Class::NonRestrictiveClause,
            Ty::Enum(vals) if vals.len() < 2 => Class::Noun,
            Ty::Enum(_) | Ty::NullOr(_) => Class::Conjunction,
            Ty::ListOf(_) | Ty::AttrsOf(..) => Class::Composite,
            Ty::Submodule(_)
            | Ty::NixSubmodule(_)
            | Ty::NamesOrAttrsOf(_)
            | Ty::Unmodelled
            | Ty::Attrs => Class::Null,
            Ty::NixScalar { class, .. } => class_value(ev, class),
            Ty::Nix(t) => class_value(ev, &t.class),
            Ty::Named(_, t) => t.class(ev),
        }
    }

    /// The type under its [`Ty::Named`] wrappers.
    pub fn unnamed(&self) -> &Ty {
        let mut ty = self;
        while let Ty::Named(_, t) = ty {
            ty = t;
        }
        ty
    }

    /// Whether the type's `merge` has `v2` (`listOf`, `attrsOf`, `submodule`,
    /// `coercedTo`): its type errors then read `… is not of type `…'. TypeError:
    /// Definition values: …` (`mergeDefinitions` in nixpkgs' `lib/modules.nix`).
    pub fn merge_v2(&self) -> bool {
        match self {
            Ty::ListOf(_)
            | Ty::AttrsOf(..)
            | Ty::Submodule(_)
            | Ty::NixSubmodule(_)
            | Ty::NamesOrAttrsOf(_) => true,
            Ty::Nix(t) => t.v2.is_some(),
            Ty::Named(_, t) => t.merge_v2(),
            _ => false,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sub() -> Ty {
        Ty::Submodule(Rc::new(Schema::new(Vec::new(), Rc::from("f.nix"))))
    }

    fn rc(t: Ty) -> Rc<Ty> {
        Rc::new(t)
    }

    /// Descriptions of nested types, each pinned against nixpkgs lib
    /// (`nix-instantiate --eval -E '(lib.types.attrsOf (lib.types.submodule {})).description'`
    /// and so on).
    #[test]
    fn nested_descriptions_are_parenthesised_as_in_nixpkgs() {
        let mut ev = Eval::new(kith_eval::EvalOptions::default());
        let ab = || Ty::Enum(Rc::from(["a", "b"]));
        let mut open = Schema::new(Vec::new(), Rc::from("f.nix"));
        open.freeform = Some(Ty::ListOf(rc(Ty::Str)));
        let open = Ty::Submodule(Rc::new(open));
        let cases: Vec<(Ty, &str)> = vec![
            (
                Ty::AttrsOf(rc(sub()), false),
                "attribute set of (submodule)",
            ),
            (Ty::ListOf(rc(sub())), "list of (submodule)"),
            (Ty::NullOr(rc(sub())), "null or (submodule)"),
            (
                Ty::NullOr(rc(Ty::ListOf(rc(Ty::Str)))),
                "null or (list of string)",
            ),
            (
                Ty::ListOf(rc(Ty::NullOr(rc(Ty::Str)))),
                "list of (null or string)",
            ),
            (
                Ty::AttrsOf(rc(Ty::ListOf(rc(Ty::Str))), false),
                "attribute set of list of string",
            ),
            (
                Ty::AttrsOf(rc(Ty::AttrsOf(rc(Ty::Int), false)), true),
                "lazy attribute set of attribute set of signed integer",
            ),
            (Ty::ListOf(rc(ab())), "list of (one of \"a\", \"b\")"),
            (Ty::NullOr(rc(ab())), "null or one of \"a\", \"b\""),
            (
                Ty::ListOf(rc(Ty::Enum(Rc::from(["a"])))),
                "list of value \"a\" (singular enum)",
            ),
            (Ty::Enum(Rc::from([])), "impossible (empty enum)"),
            (
                Ty::ListOf(rc(Ty::StrMatching("a.*"))),
                "list of string matching the pattern a.*",
            ),
            (
                Ty::NullOr(rc(Ty::NullOr(rc(Ty::Str)))),
                "null or null or string",
            ),
            (
                Ty::NamesOrAttrsOf(rc(sub())),
                "(attribute set of (submodule)) or (list of string) convertible to it",
            ),
            (
                Ty::ListOf(rc(Ty::AttrTag(Rc::new(vec![(
                    "x".to_string(),
                    Decl::new(Ty::Str),
                )])))),
                "list of attribute-tagged union with choices: x",
            ),
            (
                open.clone(),
                "open submodule of lazy attribute set of list of string",
            ),
            (
                Ty::ListOf(rc(open)),
                "list of (open submodule of lazy attribute set of list of string)",
            ),
            (
                Ty::ListOf(rc(Ty::UniqueSettings)),
                "list of deferred custom module. Must be JSON serializable.",
            ),
        ];
        for (ty, want) in cases {
            assert_eq!(ty.describe(&mut ev), want);
        }
    }

    /// A type declared in Nix is phrased by the `descriptionClass` it declares.
    #[test]
    fn a_nix_types_class_is_its_own() {
        let mut ev = Eval::new(kith_eval::EvalOptions::default());
        let scalar = |class: Value| Ty::NixScalar {
            check: Value::Null,
            description: Value::string("one of \"x\", \"y\""),
            class,
        };
        let conj = Ty::ListOf(rc(scalar(Value::string("conjunction"))));
        assert_eq!(conj.describe(&mut ev), "list of (one of \"x\", \"y\")");
        let noun = Ty::ListOf(rc(scalar(Value::string("noun"))));
        assert_eq!(noun.describe(&mut ev), "list of one of \"x\", \"y\"");
        let none = Ty::ListOf(rc(scalar(Value::Null)));
        assert_eq!(none.describe(&mut ev), "list of (one of \"x\", \"y\")");
    }

    /// Only types whose merge is `v2` in nixpkgs report `TypeError: `.
    #[test]
    fn merge_v2_types() {
        for (ty, v2) in [
            (Ty::ListOf(rc(Ty::Str)), true),
            (Ty::AttrsOf(rc(Ty::Str), true), true),
            (sub(), true),
            (Ty::NamesOrAttrsOf(rc(sub())), true),
            (
                Ty::Named(Value::string("x"), rc(Ty::ListOf(rc(Ty::Str)))),
                true,
            ),
            (Ty::NullOr(rc(Ty::ListOf(rc(Ty::Str)))), false),
            (Ty::Str, false),
            (Ty::UniqueSettings, false),
            (Ty::Deferred, false),
        ] {
            assert_eq!(
                ty.merge_v2(),
                v2,
                "{}",
                ty.describe(&mut Eval::new(Default::default()))
            );
        }
    }
}
