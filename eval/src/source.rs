//! Source files known to an evaluator and spans into them.

use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Index of a file in a [`Sources`] table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileId(pub u32);

/// A byte range in one source file. `Span::NONE` marks values made by builtins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// No position.
    pub const NONE: Span = Span {
        file: FileId(u32::MAX),
        start: 0,
        end: 0,
    };
    /// Whether this span points into a file.
    pub fn is_some(self) -> bool {
        self.file.0 != u32::MAX
    }
}

/// Where a source came from: a file on disk, or a command-line expression.
#[derive(Clone, Debug)]
pub enum Origin {
    File(PathBuf),
    /// `--expr`, `--arg` and similar; the base directory resolves relative paths.
    Expr {
        base_dir: PathBuf,
    },
    /// A string passed to `builtins.toFile`-like internals, no position shown.
    Internal,
}

/// One source text.
#[derive(Debug)]
pub struct SourceFile {
    pub origin: Origin,
    pub text: Rc<str>,
    line_starts: Vec<u32>,
}

impl SourceFile {
    /// The 1-based line and column of a byte offset (column counts bytes, like Nix).
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        (line + 1, (offset - self.line_starts[line]) as usize + 1)
    }
    /// The text of 1-based line `n` without its newline.
    pub fn line(&self, n: usize) -> Option<&str> {
        let start = *self.line_starts.get(n.checked_sub(1)?)? as usize;
        let end = self
            .line_starts
            .get(n)
            .map(|e| *e as usize)
            .unwrap_or(self.text.len());
        Some(self.text[start..end].trim_end_matches(['\n', '\r']))
    }
    /// How positions in this file are named: the path, or `«string»` for expressions.
    pub fn display_name(&self) -> String {
        match &self.origin {
            Origin::File(p) => crate::bytestr::from_os(p.as_os_str()).into_owned(),
            Origin::Expr { .. } => "«string»".into(),
            Origin::Internal => "«none»".into(),
        }
    }
    /// The directory relative paths in this source resolve against.
    pub fn base_dir(&self) -> PathBuf {
        match &self.origin {
            Origin::File(p) => p
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| "/".into()),
            Origin::Expr { base_dir } => base_dir.clone(),
            Origin::Internal => "/".into(),
        }
    }
}

/// All sources an evaluator has parsed, indexed by [`FileId`].
#[derive(Default, Debug)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// Adds a source and returns its id.
    pub fn add(&mut self, origin: Origin, text: Rc<str>) -> FileId {
        let mut line_starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        self.files.push(SourceFile {
            origin,
            text,
            line_starts,
        });
        FileId(self.files.len() as u32 - 1)
    }
    /// The id the next [`Sources::add`] returns.
    pub fn next_id(&self) -> FileId {
        FileId(self.files.len() as u32)
    }
    /// The source with this id.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }
    /// `file:line:col` of a span's start, as Nix prints positions.
    pub fn describe(&self, span: Span) -> Option<(String, usize, usize)> {
        let f = self.get(span.file)?;
        let (l, c) = f.line_col(span.start);
        Some((f.display_name(), l, c))
    }
}
