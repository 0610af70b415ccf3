//! Positions in a document: lint byte offsets to LSP's UTF-16 line/character and back, and
//! edits of the client applied to a buffer.

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};

/// The LSP position (0-based line, UTF-16 column) of byte `byte` of `text` (clamped to the
/// text and moved back to a character boundary).
pub fn position(text: &str, byte: usize) -> Position {
    let byte = boundary(text, byte);
    let line_start = text[..byte].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..byte].bytes().filter(|&b| b == b'\n').count();
    Position::new(to_u32(line), utf16_column(text, line_start, byte))
}

/// The LSP range of bytes `start..end` of `text`.
pub fn range(text: &str, start: usize, end: usize) -> Range {
    Range::new(position(text, start), position(text, end.max(start)))
}

/// `byte` clamped to `text` and moved back to a character boundary.
fn boundary(text: &str, byte: usize) -> usize {
    let mut byte = byte.min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    byte
}

/// The UTF-16 column of `byte` on the line starting at `line_start`.
fn utf16_column(text: &str, line_start: usize, byte: usize) -> u32 {
    to_u32(text[line_start..byte].chars().map(char::len_utf16).sum())
}

/// A text with the byte offsets of its lines: positions in it without scanning it from
/// the start each time (a lint of a large clan has many diagnostics in one file).
pub struct Indexed {
    /// The text.
    pub text: String,
    line_starts: Vec<usize>,
}

impl Indexed {
    /// Indexes `text`.
    pub fn new(text: String) -> Indexed {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Indexed { text, line_starts }
    }

    /// [`position`] of byte `byte`.
    pub fn position(&self, byte: usize) -> Position {
        let byte = boundary(&self.text, byte);
        let line = self.line_starts.partition_point(|&s| s <= byte) - 1;
        let column = utf16_column(&self.text, self.line_starts[line], byte);
        Position::new(to_u32(line), column)
    }

    /// [`range`] of bytes `start..end`.
    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end.max(start)))
    }
}

/// The byte offset of LSP position `pos` in `text`: a column past the line's end is its
/// end, a line past the text's end is the text's end, and a column inside a UTF-16
/// surrogate pair is the character's start.
pub fn offset(text: &str, pos: Position) -> usize {
    let mut start = 0;
    for _ in 0..pos.line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let mut units = 0usize;
    for (i, c) in text[start..line_end].char_indices() {
        units += c.len_utf16();
        if units > pos.character as usize {
            return start + i;
        }
    }
    line_end
}

/// Applies one change of `textDocument/didChange` to `text` (a whole new text when it has
/// no range).
pub fn apply_change(text: &mut String, change: &TextDocumentContentChangeEvent) {
    match change.range {
        None => text.clone_from(&change.text),
        Some(r) => {
            let start = offset(text, r.start);
            let end = offset(text, r.end).max(start);
            text.replace_range(start..end, &change.text);
        }
    }
}

/// Whether the ranges overlap or touch (an empty range at a diagnostic's edge counts).
pub fn touches(a: &Range, b: &Range) -> bool {
    let key = |p: &Position| (p.line, p.character);
    key(&a.start) <= key(&b.end) && key(&b.start) <= key(&a.end)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index gives the positions a scan from the start gives, at every byte.
    #[test]
    fn indexed_positions_equal_scanned_ones() {
        let text = "ab\nxé𝄞 = \"m\";\n\n\nlast";
        let indexed = Indexed::new(text.to_string());
        for b in 0..text.len() + 3 {
            assert_eq!(indexed.position(b), position(text, b), "byte {b}");
        }
        assert_eq!(indexed.range(5, 2), range(text, 5, 2));
    }

    #[test]
    fn utf16_columns_on_non_ascii_lines() {
        // `é` is 2 bytes and 1 UTF-16 unit; `𝄞` is 4 bytes and 2 units.
        let text = "ab\nxé𝄞 = \"machine\";\n";
        let m = text.find("machine").unwrap();
        assert_eq!(position(text, m), Position::new(1, 8));
        assert_eq!(offset(text, Position::new(1, 8)), m);
        let clef = text.find('𝄞').unwrap();
        assert_eq!(position(text, clef), Position::new(1, 2));
        assert_eq!(position(text, clef + 4), Position::new(1, 4));
        // Inside the surrogate pair: the character's start.
        assert_eq!(offset(text, Position::new(1, 3)), clef);
        // A byte inside a character: its start.
        assert_eq!(position(text, clef + 1), Position::new(1, 2));
        assert_eq!(
            range(text, 0, 2),
            Range::new(Position::new(0, 0), Position::new(0, 2))
        );
    }

    #[test]
    fn out_of_range_positions_are_clamped() {
        let text = "ab\ncd";
        assert_eq!(offset(text, Position::new(0, 99)), 2);
        assert_eq!(offset(text, Position::new(9, 0)), text.len());
        assert_eq!(position(text, 999), Position::new(1, 2));
        assert_eq!(position("", 5), Position::new(0, 0));
    }

    #[test]
    fn incremental_changes() {
        let mut text = String::from("héllo\nworld");
        let change = TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(0, 1), Position::new(0, 2))),
            range_length: None,
            text: "e".into(),
        };
        apply_change(&mut text, &change);
        assert_eq!(text, "hello\nworld");
        let full = TextDocumentContentChangeEvent {
            range: None,
            range_length: None,
            text: "new".into(),
        };
        apply_change(&mut text, &full);
        assert_eq!(text, "new");
    }
}
