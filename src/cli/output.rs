//! How revisions look on the terminal and in `--json`.

use std::collections::HashMap;

use serde::Serialize;

use migraph::backend::VersionRow;
use migraph::status::DbState;
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
    pub checksum: String,
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
        labels: r.labels(),
        depends_on: r.depends_on(),
        created: r.created.as_deref(),
        transaction: r.transactional,
        reversible: r.is_reversible(),
        path: r.path.display().to_string(),
        checksum: r.checksum.to_string(),
        head: shape.head,
        merge_point: shape.merge_point,
        branch_point: shape.branch_point,
    }
}

/// What the database says about one revision, as `--json` prints it beside
/// the revision's own fields (with a database only): `state` is `applied`,
/// `pending` or `failed`; `applied_at` (UTC RFC 3339, as stored) and
/// `execution_ms` are `null` when it has no version row.
#[derive(Debug, Serialize)]
pub struct DbJson<'a> {
    pub state: &'static str,
    pub applied_at: Option<&'a str>,
    pub execution_ms: Option<i64>,
}

/// A revision with what the database says about it.
#[derive(Debug, Serialize)]
pub struct RevisionDbJson<'a> {
    #[serde(flatten)]
    pub revision: RevisionJson<'a>,
    #[serde(flatten)]
    pub db: Option<DbJson<'a>>,
}

/// The version table's rows by revision ID, and the revisions with a
/// marker (failed, interrupted or running).
#[derive(Debug, Default)]
pub struct Rows<'a> {
    rows: HashMap<&'a str, &'a VersionRow>,
    marked: HashMap<&'a str, &'a str>,
}

impl<'a> Rows<'a> {
    pub fn of(db: &'a DbState) -> Rows<'a> {
        Rows {
            rows: db.rows.iter().map(|row| (row.id.as_str(), row)).collect(),
            marked: db.pending.iter().map(|p| (p.id.as_str(), p.started_at.as_str())).collect(),
        }
    }

    /// The version row of `id`.
    pub fn get(&self, id: &str) -> Option<&'a VersionRow> {
        self.rows.get(id).copied()
    }

    /// `failed` (a marker: failed, interrupted or running), `applied` (a
    /// row) or `pending`. A squash counted as applied through the rows of the
    /// revisions it replaces is `applied` when `applied` says so.
    pub fn state(&self, id: &str, applied: bool) -> &'static str {
        if self.marked.contains_key(id) {
            "failed"
        } else if applied || self.rows.contains_key(id) {
            "applied"
        } else {
            "pending"
        }
    }

    /// [`DbJson`] of `id`.
    pub fn json(&self, id: &str, applied: bool) -> DbJson<'a> {
        let row = self.get(id);
        DbJson {
            state: self.state(id, applied),
            applied_at: row.map(|r| r.applied_at.as_str()),
            execution_ms: row.map(|r| r.execution_ms),
        }
    }
}

/// `applied 2026-11-30T13:40:00Z in 12 ms`: when a version row was written
/// (as stored: UTC RFC 3339) and how long its SQL took.
pub fn applied_text(row: &VersionRow) -> String {
    format!("applied {} in {} ms", printable(&row.applied_at), row.execution_ms)
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
    tags.extend(r.labels().iter().map(String::as_str));
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

/// The single updating line on stderr (on a terminal): each text is drawn
/// over the last one with `\r`, padded over what it leaves, and the line is
/// erased, or kept, at the end.
#[derive(Debug, Default)]
pub struct LiveLine {
    /// Columns of the line on the screen (0: none drawn).
    drawn: usize,
}

impl LiveLine {
    /// Draws `text`, `visible` columns wide on the screen.
    pub fn draw(&mut self, text: &str, visible: usize) {
        use std::io::Write as _;
        let pad = " ".repeat(self.drawn.saturating_sub(visible));
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{text}{pad}").and_then(|()| err.flush());
        self.drawn = visible;
    }

    /// Erases the line, so a message can take its place.
    pub fn clear(&mut self) {
        if self.drawn > 0 {
            eprint!("\r{}\r", " ".repeat(self.drawn));
            self.drawn = 0;
        }
    }

    /// Leaves the line on the screen and goes below it.
    pub fn keep(&mut self) {
        if self.drawn > 0 {
            eprintln!();
            self.drawn = 0;
        }
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
