//! kith-planner: the plan graph of a clan, its on-disk cache, and selectors answered from it.

pub mod select;
