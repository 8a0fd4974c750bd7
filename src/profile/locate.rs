//! Maps field paths to line numbers and back, so that every profile error can say where it is.
//! The profile text is parsed once more into toml's spanned document tree; serde errors carry a
//! byte span that is turned into a field path, and validation errors carry a field path that is
//! turned into a line.

use std::fmt::Write as _;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::ProfileError;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A table key.
    Key(String),
    /// An array position.
    Index(usize),
}

/// A field path such as `queues[0].handle_time.dist`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldPath(pub(crate) Vec<Seg>);

impl FieldPath {
    /// The empty path (the document root).
    pub(crate) fn root() -> Self {
        FieldPath(Vec::new())
    }

    /// This path extended by a key.
    pub(crate) fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_string()));
        FieldPath(segs)
    }

    /// This path extended by an array position.
    pub(crate) fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        FieldPath(segs)
    }
}

/// A validation problem before it is placed in the file.
#[derive(Debug, Clone)]
pub(crate) struct Issue {
    /// The field.
    pub(crate) path: FieldPath,
    /// What is wrong and what would be right, phrased to follow the field path
    /// (`= -3 is negative; ...` or `is missing; add ...`).
    pub(crate) message: String,
}

impl Issue {
    pub(crate) fn new(path: &FieldPath, message: impl Into<String>) -> Self {
        Issue {
            path: path.clone(),
            message: message.into(),
        }
    }
}

/// The spanned document tree of one profile text.
pub(crate) struct Locator<'a> {
    text: &'a str,
    source: &'a str,
    root: Spanned<DeTable<'a>>,
}

impl<'a> Locator<'a> {
    /// Parses `text`; a syntax error becomes a [`ProfileError`] with its line.
    pub(crate) fn new(text: &'a str, source: &'a str) -> Result<Self, ProfileError> {
        match DeTable::parse(text) {
            Ok(root) => Ok(Locator { text, source, root }),
            Err(e) => Err(ProfileError::Invalid {
                file: source.to_string(),
                line: e.span().map(|s| line_of(text, s.start)),
                field: String::new(),
                message: format!("invalid TOML: {}", one_line(e.message())),
            }),
        }
    }

    /// Turns a serde error (unknown key, wrong type, missing field) into a one-line error with
    /// the field path found from its span.
    pub(crate) fn serde_error(&self, error: &toml::de::Error) -> ProfileError {
        let span = error.span();
        let path = span
            .as_ref()
            .and_then(|s| self.path_at(s.start))
            .unwrap_or_default();
        let mut field = self.describe(&path);
        if !field.is_empty() {
            field.push(':');
        }
        ProfileError::Invalid {
            file: self.source.to_string(),
            line: span.map(|s| line_of(self.text, s.start)),
            field,
            message: plain_types(&one_line(error.message())),
        }
    }

    /// Places a validation issue: its line is that of the field, or of the closest enclosing
    /// table present in the file.
    pub(crate) fn issue_error(&self, issue: Issue) -> ProfileError {
        ProfileError::Invalid {
            file: self.source.to_string(),
            line: self.line_of_path(&issue.path),
            field: self.describe(&issue.path),
            message: issue.message,
        }
    }

    /// The line of the deepest existing prefix of `path` (for a table, its header or brace).
    pub(crate) fn line_of_path(&self, path: &FieldPath) -> Option<usize> {
        (1..=path.0.len())
            .rev()
            .find_map(|n| path.0.get(..n).and_then(|segs| self.lookup(segs)))
            .map(|v| line_of(self.text, v.span().start))
    }

    /// The value at `segs`, if the file has it.
    fn lookup(&self, segs: &[Seg]) -> Option<&Spanned<DeValue<'a>>> {
        let (first, rest) = segs.split_first()?;
        let Seg::Key(first) = first else { return None };
        let mut current = self.root.get_ref().get(first.as_str())?;
        for seg in rest {
            current = match seg {
                Seg::Key(k) => current.get_ref().get(k.as_str())?,
                Seg::Index(i) => current.get_ref().get(*i)?,
            };
        }
        Some(current)
    }

    /// Renders a path for people: `queues[0] "orders": handle_time.dist`.
    pub(crate) fn describe(&self, path: &FieldPath) -> String {
        let mut out = String::new();
        let mut after_named = false;
        for (i, seg) in path.0.iter().enumerate() {
            match seg {
                Seg::Key(k) => {
                    if !out.is_empty() && !after_named {
                        out.push('.');
                    }
                    after_named = false;
                    out.push_str(k);
                }
                Seg::Index(index) => {
                    let _ = write!(out, "[{index}]");
                    let is_group = i == 1
                        && matches!(path.0.first(), Some(Seg::Key(k)) if k == "queues" || k == "agents");
                    if is_group {
                        let name =
                            path.0
                                .get(..2)
                                .and_then(|segs| self.lookup(segs))
                                .and_then(|v| {
                                    v.get_ref().get("name").and_then(|n| n.get_ref().as_str())
                                });
                        if let Some(name) = name {
                            let _ = write!(out, " {name:?}");
                        }
                        if i + 1 < path.0.len() {
                            out.push_str(": ");
                            after_named = true;
                        }
                    }
                }
            }
        }
        out
    }

    /// The path of the deepest key or value whose span holds byte `offset`.
    fn path_at(&self, offset: usize) -> Option<FieldPath> {
        let mut path = FieldPath::root();
        if search_table(self.root.get_ref(), offset, &mut path) {
            Some(path)
        } else {
            None
        }
    }
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end.max(span.start + 1)
}

fn search_table(table: &DeTable<'_>, offset: usize, path: &mut FieldPath) -> bool {
    for (key, value) in table.iter() {
        path.0.push(Seg::Key(key.get_ref().to_string()));
        if contains(&key.span(), offset) || search_value(value, offset, path) {
            return true;
        }
        path.0.pop();
    }
    false
}

fn search_value(value: &Spanned<DeValue<'_>>, offset: usize, path: &mut FieldPath) -> bool {
    let deeper = match value.get_ref() {
        DeValue::Table(t) => search_table(t, offset, path),
        DeValue::Array(items) => {
            let mut found = false;
            for (i, item) in items.iter().enumerate() {
                path.0.push(Seg::Index(i));
                if search_value(item, offset, path) {
                    found = true;
                    break;
                }
                path.0.pop();
            }
            found
        }
        _ => false,
    };
    deeper || contains(&value.span(), offset)
}

/// 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()
        .iter()
        .take(end)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Joins a possibly multi-line message into one line.
/// The parser's Rust type names in words a profile author knows, with an example of each.
fn plain_types(message: &str) -> String {
    message
        .replace("expected i64", "expected a whole number, e.g. 3")
        .replace("expected f64", "expected a number, e.g. 0.8")
        .replace("expected a boolean", "expected true or false")
}

pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\n\n[[queues]]\nname = \"orders\"\nhandle_time = { dist = \"gamma\" }\n\n[[queues]]\nname = \"billing\"\n";

    #[test]
    fn lines_and_paths() {
        let loc = Locator::new(TEXT, "t.toml").unwrap();
        assert_eq!(line_of(TEXT, 0), 1);
        assert_eq!(line_of(TEXT, TEXT.find("[[queues]]").unwrap()), 3);
        let dist = FieldPath::root()
            .key("queues")
            .index(0)
            .key("handle_time")
            .key("dist");
        assert_eq!(
            loc.describe(&dist),
            "queues[0] \"orders\": handle_time.dist"
        );
        assert_eq!(loc.line_of_path(&dist), Some(5));
        // A missing key falls back to the closest enclosing entry that exists.
        let missing = FieldPath::root().key("queues").index(1).key("handle_time");
        assert_eq!(loc.line_of_path(&missing), Some(7));
        assert_eq!(
            loc.describe(&FieldPath::root().key("queues").index(1)),
            "queues[1] \"billing\""
        );
        let offset = TEXT.find("gamma").unwrap();
        assert_eq!(loc.path_at(offset), Some(dist));
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let e = Locator::new("a = 1\nb = = 2\n", "t.toml").err().unwrap();
        assert_eq!(e.line(), Some(2));
        assert!(!e.to_string().contains('\n'));
    }
}
