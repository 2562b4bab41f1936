//! How revisions look on the terminal and in `--json`.

use serde::Serialize;

use migraph::{Revision, RevisionGraph};

use super::style::{Paint, Style};

/// A revision as `--json` prints it.
#[derive(Debug, Serialize)]
pub struct RevisionJson<'a> {
    pub id: &'a str,
    pub parents: &'a [String],
    pub message: &'a str,
    pub labels: &'a [String],
    pub depends_on: &'a [String],
    pub created: Option<&'a str>,
    pub transaction: bool,
    pub reversible: bool,
    pub path: String,
    pub checksum: &'a str,
    pub head: bool,
    pub merge_point: bool,
    pub branch_point: bool,
}

/// Facts about a revision's place in the graph.
pub struct Shape {
    pub head: bool,
    pub merge_point: bool,
    pub branch_point: bool,
}

impl Shape {
    pub fn of(graph: &RevisionGraph, r: &Revision) -> Shape {
        let children = graph.children(&r.id).len();
        Shape { head: children == 0, merge_point: r.parents.len() >= 2, branch_point: children >= 2 }
    }
}

pub fn json<'a>(graph: &RevisionGraph, r: &'a Revision) -> RevisionJson<'a> {
    let shape = Shape::of(graph, r);
    RevisionJson {
        id: &r.id,
        parents: &r.parents,
        message: &r.message,
        labels: &r.labels,
        depends_on: &r.depends_on,
        created: r.created.as_deref(),
        transaction: r.transactional,
        reversible: r.is_reversible(),
        path: r.path.display().to_string(),
        checksum: &r.checksum,
        head: shape.head,
        merge_point: shape.merge_point,
        branch_point: shape.branch_point,
    }
}

/// Pretty JSON with a trailing newline.
pub fn to_json(value: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// `text` with control characters (ESC, CR, ...) shown as `\u{1b}` escapes,
/// so a revision message cannot move the cursor or rewrite the terminal.
/// Tabs stay; SQL and `--sql` scripts are never passed through this.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { c.escape_unicode().to_string() } else { c.to_string() })
        .collect::<String>()
        .into()
}

/// `id (head, mergepoint, label) message`.
pub fn line(graph: &RevisionGraph, r: &Revision) -> String {
    let shape = Shape::of(graph, r);
    let mut tags: Vec<&str> = Vec::new();
    if shape.head {
        tags.push("head");
    }
    if shape.merge_point {
        tags.push("mergepoint");
    }
    if shape.branch_point {
        tags.push("branchpoint");
    }
    tags.extend(r.labels.iter().map(String::as_str));
    // Stored revisions' IDs come from the database, not from parsed files.
    let mut text = printable(&r.id).into_owned();
    if !tags.is_empty() {
        text.push_str(&format!(" ({})", tags.join(", ")));
    }
    if !r.message.is_empty() {
        text.push(' ');
        text.push_str(&printable(&r.message));
    }
    text
}

/// [`line`] with the ID in bold when `paint` is on, for heads.
pub fn head_line(graph: &RevisionGraph, r: &Revision, paint: Paint) -> String {
    let text = line(graph, r);
    match text.strip_prefix(r.id.as_str()) {
        Some(rest) => paint.paint(Style::Head, &r.id) + rest,
        None => text,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(super::printable("plain\ttext"), "plain\ttext");
        assert_eq!(super::printable("\u{1b}[2Jx\r"), "\\u{1b}[2Jx\\u{d}");
    }
}
