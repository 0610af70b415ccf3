//! The flake a clan command works on and the options it is loaded with, from the flags
//! every clan command shares (`--flake`, `--override-input`, `--offline`).

use std::path::PathBuf;

/// The clan's flake directory (`--flake`, else clan's discovery: `$CLAN_DIR`, then the
/// first ancestor of the current directory with a marker) and the flake options
/// (`--override-input` pairs relative to the current directory, `--offline`); `None` when
/// no flake is found.
pub fn flake_and_options(
    flake: Option<&PathBuf>,
    override_input: &[String],
    offline: bool,
) -> Option<(PathBuf, kith_flake::FlakeOptions)> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let clan_dir = std::env::var_os("CLAN_DIR");
    let flake = flake
        .cloned()
        .or_else(|| kith_planner::select::default_flake_dir(clan_dir.as_deref(), &cwd))?;
    let opts = kith_flake::FlakeOptions {
        overrides: override_input
            .chunks(2)
            .map(|p| (p[0].clone(), cwd.join(&p[1])))
            .collect(),
        offline,
        ..Default::default()
    };
    Some((flake, opts))
}
