//! TEMPORARY STUB (helper-1 replaces this file with the real parser module).
use crate::error::Result;
use crate::source::FileId;
/// Parses.
pub fn parse(text: &str, _file: FileId) -> Result<rnix::Root> {
    Ok(rnix::Root::parse(text).tree())
}
