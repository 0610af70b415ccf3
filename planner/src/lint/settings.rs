//! The settings rules refined from the module system's own messages: `settings-enum` (a
//! `settings-type` error whose type is `lib.types.enum`) and `settings-missing-required`
//! (an option without a default that clan's evaluation reads unset).

use super::locate::Files;
use super::{Diagnostic, Edit, Fix, Note};
use crate::fleet::machines::{levenshtein, suggest};
use kith_inventory::model::Inventory;

/// The allowed values of an enum type, from its description (`lib.types.enum`'s:
/// `one of "a", "b"`, `value "a" (singular enum)`, `impossible (empty enum)`, each possibly
/// behind `null or `), as they are shown, and whether `null` is allowed too.
#[derive(Debug, PartialEq)]
pub(crate) struct EnumType {
    /// The values, as Nix shows them (strings quoted).
    pub shown: Vec<String>,
    /// The string values, unquoted.
    pub strings: Vec<String>,
    /// `nullOr (enum …)`.
    pub nullable: bool,
}

/// `description` as an enum type's, if it is one.
pub(crate) fn enum_type(description: &str) -> Option<EnumType> {
    let (nullable, d) = match description.strip_prefix("null or ") {
        Some(rest) => (true, rest),
        None => (false, description),
    };
    let shown = if d == "impossible (empty enum)" {
        Vec::new()
    } else if let Some(v) = d
        .strip_prefix("value ")
        .and_then(|v| v.strip_suffix(" (singular enum)"))
    {
        vec![v.to_string()]
    } else {
        values(d.strip_prefix("one of ")?)?
    };
    let strings = shown
        .iter()
        .filter_map(|v| v.strip_prefix('"')?.strip_suffix('"').map(str::to_string))
        .collect();
    Some(EnumType {
        shown,
        strings,
        nullable,
    })
}

/// `"a", 1, true, <set>` (nixpkgs' `show` of each value, joined by `, `): the values.
fn values(mut s: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    loop {
        let end = if let Some(rest) = s.strip_prefix('"') {
            // A string (not escaped by `show`): up to the quote that ends the list or is
            // followed by the next value.
            let mut at = None;
            for (i, _) in rest.match_indices('"') {
                let after = &rest[i + 1..];
                if after.is_empty() || after.starts_with(", ") {
                    at = Some(i + 2);
                    break;
                }
            }
            at?
        } else {
            let end = s.find(", ").unwrap_or(s.len());
            let v = &s[..end];
            let scalar = v == "true"
                || v == "false"
                || v.parse::<i64>().is_ok()
                || (v.starts_with('<') && v.ends_with('>'));
            if !scalar {
                return None;
            }
            end
        };
        out.push(s[..end].to_string());
        s = &s[end..];
        if s.is_empty() {
            return Some(out);
        }
        s = s.strip_prefix(", ")?;
    }
}

/// The type description of a module-system type error
/// (`` … is not of type `<description>'. Definition values: … ``, or
/// `` …'. TypeError: … `` for a type whose merge is `v2`: its `headError`, such as
/// `either`'s ``is neither a value of type `…` nor `…` ``).
fn type_of(msg: &str) -> Option<&str> {
    const START: &str = "is not of type `";
    let from = msg.find(START)? + START.len();
    let rest = &msg[from..];
    let end = rest
        .find("'. Definition values:")
        .or_else(|| rest.find("'. TypeError: "))
        .or_else(|| rest.rfind('\''))?;
    Some(&rest[..end])
}

/// A `settings-type` diagnostic whose type is an enum becomes `settings-enum`: the allowed
/// values in a note, and, when the value is a plain string literal just after the option's
/// name at the diagnostic's site, its replacement by the nearest allowed string.
pub(crate) fn refine_enum(msg: &str, d: &mut Diagnostic, files: &mut Files, option: &str) {
    let Some(ty) = type_of(msg).and_then(enum_type) else {
        return;
    };
    d.code = "settings-enum";
    let mut allowed = ty.shown.join(", ");
    if ty.nullable {
        allowed = if allowed.is_empty() {
            "null".into()
        } else {
            format!("null, {allowed}")
        };
    }
    d.notes.push(Note {
        message: if allowed.is_empty() {
            "the option's enum allows no value at all".into()
        } else {
            format!("allowed values: {allowed}")
        },
        location: None,
    });
    let Some((s, e, value)) = string_value(files, d, option) else {
        return;
    };
    // The literal must be the value the module system rejected.
    if ty.strings.contains(&value) || !msg.contains(&format!(": \"{value}\"")) {
        return;
    }
    let Some(best) = suggest(&value, &ty.strings, 1).into_iter().next() else {
        return;
    };
    let far = levenshtein(&value.to_lowercase(), &best.to_lowercase())
        > (value.chars().count() / 3).max(1);
    if far || !plain(&best) {
        d.notes.push(Note {
            message: format!("the nearest allowed value is \"{best}\""),
            location: None,
        });
        return;
    }
    let location = files.location(&d.location.file, s, e);
    d.fixes = vec![Fix {
        message: format!("replace \"{value}\" by the allowed value \"{best}\""),
        edits: vec![Edit {
            location,
            new_text: best,
        }],
    }];
}

/// A string that is the same in Nix and JSON source between quotes.
fn plain(s: &str) -> bool {
    !s.contains(['"', '\\', '\n', '\r', '\t']) && !s.contains("${")
}

/// The string literal defined for `option` at `d`'s location (which must be exactly the
/// option's name): the bytes between its quotes and its text, if it is a plain literal
/// (`name = "…";` in Nix, `"name": "…"` in JSON).
fn string_value(files: &mut Files, d: &Diagnostic, option: &str) -> Option<(usize, usize, String)> {
    let r = d.location.range;
    let file = d.location.file.clone();
    let json = file.ends_with(".json");
    let text = files.text(&file)?;
    if text.get(r.start.byte..r.end.byte)? != option {
        return None;
    }
    let mut rest = &text[r.end.byte..];
    if json {
        rest = rest.strip_prefix('"')?;
    }
    let sep = if json { ':' } else { '=' };
    let rest = rest.trim_start().strip_prefix(sep)?.trim_start();
    let body = rest.strip_prefix('"')?;
    let len = body.find('"')?;
    let value = &body[..len];
    if !plain(value) {
        return None;
    }
    let after = body[len + 1..].trim_start();
    let ends = if json {
        after.starts_with([',', '}'])
    } else {
        after.starts_with(';')
    };
    if !ends {
        return None;
    }
    let start = text.len() - body.len();
    Some((start, start + len, value.to_string()))
}

/// For an option read without a value (`instances.<i>.roles.<r>[.machines.<m>].settings.<o>`,
/// from clan's own evaluation of the services, never from kith's check of every setting):
/// the inventory path it is reported at, the member machine's entry when the role names
/// it, else the role.
pub(crate) fn missing_site<'a>(inv: &Inventory, rel: &[&'a str]) -> Option<Vec<&'a str>> {
    match rel {
        ["instances", i, "roles", r, "machines", m, "settings", _, ..] => {
            let named = inv
                .instances
                .get(*i)?
                .roles
                .get(*r)?
                .machines
                .contains_key(*m);
            Some(if named {
                rel[..6].to_vec()
            } else {
                rel[..4].to_vec()
            })
        }
        ["instances", i, "roles", r, "settings", _, ..] => {
            inv.instances.get(*i)?.roles.get(*r)?;
            Some(rel[..4].to_vec())
        }
        _ => None,
    }
}

/// Makes `d` (an option of `rel` read without a value; see [`missing_site`]) a
/// `settings-missing-required` error.
pub(crate) fn missing_required(d: &mut Diagnostic, rel: &[&str]) {
    let at = rel
        .iter()
        .position(|s| *s == "settings")
        .unwrap_or(rel.len());
    let option = rel.get(at + 1..).unwrap_or_default().join(".");
    let (i, r) = (rel[1], rel[3]);
    let whose = match rel {
        [_, _, _, _, "machines", m, ..] => format!(" for machine '{m}'"),
        _ => String::new(),
    };
    d.notes.insert(
        0,
        Note {
            message: d.message.clone(),
            location: None,
        },
    );
    d.notes.push(Note {
        message: format!(
            "the option has no default in the interface of role '{r}': set it in the role's settings or the machine's"
        ),
        location: None,
    });
    d.code = "settings-missing-required";
    d.message = format!(
        "instance '{i}': option '{option}' of role '{r}' has no value{whose}, and the service reads it"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_descriptions() {
        let e = enum_type(r#"one of "ssh", "mosh", 3, true"#).unwrap();
        assert_eq!(e.shown, [r#""ssh""#, r#""mosh""#, "3", "true"]);
        assert_eq!(e.strings, ["ssh", "mosh"]);
        assert!(!e.nullable);
        let e = enum_type(r#"null or value "a, b" (singular enum)"#).unwrap();
        assert_eq!((e.strings, e.nullable), (vec!["a, b".to_string()], true));
        assert!(enum_type(r#"one of "a", "b", c"#).is_none());
        assert!(enum_type("impossible (empty enum)")
            .unwrap()
            .shown
            .is_empty());
        assert!(enum_type("string").is_none());
        assert!(enum_type("one of the strings").is_none());
        assert!(
            enum_type("16 bit unsigned integer; between 0 and 65535 (both inclusive)").is_none()
        );
    }

    #[test]
    fn type_of_messages() {
        let m = "A definition for option `x.settings.user' is not of type `one of \"root\", \"deploy\"'. Definition values:\n- In `a': \"depoly\"";
        assert_eq!(type_of(m), Some("one of \"root\", \"deploy\""));
        let m = "A definition for option `x.settings.users' is not of type `list of (one of \"a\", \"b\")'. TypeError: Definition values: \n- In `a': \"a\"";
        assert_eq!(type_of(m), Some("list of (one of \"a\", \"b\")"));
        // `either`'s own headError: its type is no enum, whatever the values it names.
        let m = "A definition for option `x.settings.s' is not of type `one of \"all\", \"nixos\" or list of string'. TypeError: The option `x.settings.s` is neither a value of type `one of \"all\", \"nixos\"` nor `list of string`, Definition values: \n- In `a': 5";
        assert_eq!(
            type_of(m),
            Some("one of \"all\", \"nixos\" or list of string")
        );
        assert!(enum_type(type_of(m).unwrap()).is_none());
    }
}
