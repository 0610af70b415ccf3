//! kith-planner: the plan graph of a clan, its on-disk cache, and selectors answered from it.

pub mod cache;
pub mod exports_plan;
pub mod native;
pub mod recording_fs;
pub mod select;
