//! The clan as completion and hover see it: its typed inventory, loaded with the editor's
//! buffers, and the roles and settings options of its services, read on demand.

use super::overlay::OverlayFs;
use kith_eval::Eval;
use kith_flake::FlakeOptions;
use kith_inventory::clan::Clan;
use kith_inventory::model::Inventory;
use kith_inventory::services::SettingsOption;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::rc::Rc;

/// A loaded clan (its evaluator kept for the services' lazy parts).
pub struct Model {
    ev: Eval,
    clan: Clan,
    /// The typed inventory.
    pub inventory: Inventory,
    roles: HashMap<String, Vec<String>>,
    options: HashMap<(String, String), Vec<SettingsOption>>,
}

impl Model {
    /// Loads the clan in `dir`, reading through `fs`; `None` if it does not load.
    pub fn load(dir: &Path, opts: &FlakeOptions, fs: OverlayFs) -> Option<Model> {
        let mut ev = crate::evaluator(opts.offline);
        ev.set_file_system(Rc::new(fs));
        let clan = kith_inventory::clan::load(&mut ev, dir, opts).ok()?;
        let inventory = kith_inventory::model::load(&mut ev, &clan).ok()?;
        Some(Model {
            ev,
            clan,
            inventory,
            roles: HashMap::new(),
            options: HashMap::new(),
        })
    }

    /// The machines' names.
    pub fn machines(&self) -> Vec<String> {
        self.inventory.machines.keys().cloned().collect()
    }

    /// The tags in use: carried by a machine, defined in `inventory.tags`, or clan's
    /// built-in ones.
    pub fn tags(&self) -> Vec<String> {
        let mut out: BTreeSet<String> = ["all", "nixos", "darwin"].map(String::from).into();
        for m in self.inventory.machines.values() {
            out.extend(m.tags.iter().cloned());
        }
        out.extend(self.inventory.tags.keys().cloned());
        out.into_iter().collect()
    }

    /// The machines carrying tag `t`.
    pub fn tagged(&self, t: &str) -> Vec<String> {
        let mut out: BTreeSet<String> = self
            .inventory
            .machines
            .iter()
            .filter(|(_, m)| m.tags.iter().any(|x| x == t) || t == "all" || class_tag(m, t))
            .map(|(n, _)| n.clone())
            .collect();
        out.extend(self.inventory.tags.get(t).into_iter().flatten().cloned());
        out.into_iter().collect()
    }

    /// The roles of the service of instance `i` (the roles the inventory gives it if the
    /// service cannot be read).
    pub fn roles(&mut self, i: &str) -> Vec<String> {
        if let Some(r) = self.roles.get(i) {
            return r.clone();
        }
        let roles = kith_inventory::services::service_roles(&mut self.ev, &self.clan, i)
            .ok()
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| {
                self.inventory
                    .instances
                    .get(i)
                    .map(|inst| inst.roles.keys().cloned().collect())
                    .unwrap_or_default()
            });
        self.roles.insert(i.to_string(), roles.clone());
        roles
    }

    /// The settings options of role `r` of instance `i`'s service.
    pub fn options(&mut self, i: &str, r: &str) -> Vec<SettingsOption> {
        let key = (i.to_string(), r.to_string());
        if let Some(o) = self.options.get(&key) {
            return o.clone();
        }
        let o = kith_inventory::services::settings_options(&mut self.ev, &self.clan, i, r)
            .unwrap_or_default();
        self.options.insert(key, o.clone());
        o
    }
}

/// Whether `t` is the built-in tag of `m`'s class.
fn class_tag(m: &kith_inventory::model::Machine, t: &str) -> bool {
    use kith_inventory::model::MachineClass;
    matches!(
        (&m.machine_class, t),
        (MachineClass::Nixos, "nixos") | (MachineClass::Darwin, "darwin")
    )
}
