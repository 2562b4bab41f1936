//! The squashing revision of a linear range, as `migraph squash FROM:TO`
//! writes it: the members' up SQL concatenated in apply order, their down
//! SQL in reverse order, each dialect separately, `replaces:` filled in.
//!
//! Only a linear range is accepted: every member after FROM has exactly one
//! parent, every member before TO exactly one child. Members must agree on
//! `transaction`. A member without down SQL on a dialect makes the squash
//! irreversible there (the caller says so), as the members together were.

use thiserror::Error;

use crate::backend::split::ends_with_semicolon;
use crate::backend::Dialect;
use crate::graph::RevisionGraph;
use crate::plan::Direction;
use crate::revision::{Revision, DIALECTS, DOWN_MARKER, UP_MARKER};

/// Why a range cannot be squashed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RangeError {
    #[error("`{from}` is not reached from `{to}` by following single parents: a squash needs a linear range FROM:TO with FROM below TO")]
    NotLinear { from: String, to: String },
    #[error("a squash needs at least two revisions; `{0}` alone is already one")]
    TooShort(String),
    #[error("revision {0} inside the range is a merge point (several parents): only linear ranges can be squashed")]
    Merge(String),
    #[error("revision {id} inside the range is a branch point (children {}): only linear ranges can be squashed", .children.join(", "))]
    BranchPoint { id: String, children: Vec<String> },
    #[error("revision {0} inside the range is itself a squash (`replaces`): squashes of squashes are not supported")]
    Nested(String),
    #[error("the range mixes `transaction: false` revisions ({}) with transactional ones ({}): squash them separately", .off.join(", "), .on.join(", "))]
    MixedTransaction { off: Vec<String>, on: Vec<String> },
    #[error("{}: the {direction} SQL{} of revision {id} does not end with `;`, so the next revision's SQL cannot follow it", .path.display(), .dialect.map(|d| format!(" for {d}")).unwrap_or_default())]
    Unterminated { id: String, path: std::path::PathBuf, direction: Direction, dialect: Option<&'static str> },
}

/// The squashing revision of a range, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Squashed {
    /// FROM..TO in apply order.
    pub members: Vec<String>,
    /// FROM's parents.
    pub parents: Vec<String>,
    /// The members' dependencies outside the range.
    pub depends_on: Vec<String>,
    /// The members' labels.
    pub labels: Vec<String>,
    pub transactional: bool,
    /// Dialects on which some member, and so the squash, has no down SQL.
    pub irreversible_on: Vec<&'static str>,
    /// The sections, markers included.
    pub sections: String,
}

/// Builds the squash of FROM..TO (full IDs of `graph`).
pub fn squash_range(graph: &RevisionGraph, from: &str, to: &str) -> Result<Squashed, RangeError> {
    let not_linear = || RangeError::NotLinear { from: from.to_string(), to: to.to_string() };
    let mut members: Vec<&Revision> = Vec::new();
    let mut current = graph.get(to).ok_or_else(not_linear)?;
    loop {
        members.push(current);
        if current.id == from {
            break;
        }
        match current.parents.as_slice() {
            [parent] => current = graph.get(parent).ok_or_else(not_linear)?,
            [] => return Err(not_linear()),
            _ => return Err(RangeError::Merge(current.id.clone())),
        }
    }
    members.reverse();
    if members.len() < 2 {
        return Err(RangeError::TooShort(from.to_string()));
    }
    for r in &members {
        if !r.replaces().is_empty() {
            return Err(RangeError::Nested(r.id.clone()));
        }
    }
    for r in &members[..members.len() - 1] {
        let children: Vec<String> = graph.children(&r.id).iter().map(|c| c.id.clone()).collect();
        if children.len() > 1 {
            return Err(RangeError::BranchPoint { id: r.id.clone(), children });
        }
    }
    let (on, off): (Vec<&&Revision>, Vec<&&Revision>) = members.iter().partition(|r| r.transactional);
    if !on.is_empty() && !off.is_empty() {
        let ids = |rs: Vec<&&Revision>| rs.iter().map(|r| r.id.clone()).collect();
        return Err(RangeError::MixedTransaction { off: ids(off), on: ids(on) });
    }
    let ids: Vec<&str> = members.iter().map(|r| r.id.as_str()).collect();
    let mut depends_on: Vec<String> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    for r in &members {
        for d in r.depends_on() {
            if !ids.contains(&d.as_str()) && !depends_on.contains(d) {
                depends_on.push(d.clone());
            }
        }
        labels.extend(r.labels().iter().cloned());
    }
    let (sections, irreversible_on) = sections(&members)?;
    Ok(Squashed {
        members: ids.iter().map(|id| id.to_string()).collect(),
        parents: members[0].parents.clone(),
        depends_on,
        labels,
        transactional: off.is_empty(),
        irreversible_on,
        sections,
    })
}

/// One direction's SQL of `members` (already in execution order) for
/// `dialect` (`None`: the generic sections) joined, each part under a
/// comment naming its revision; `None` when a member has none.
fn joined(
    members: &[&&Revision],
    direction: Direction,
    dialect: Option<(Dialect, &'static str)>,
) -> Result<Option<String>, RangeError> {
    let mut out = String::new();
    for (n, r) in members.iter().enumerate() {
        let sql = match (dialect, direction) {
            (Some((d, _)), _) => r.sql_for(direction, d),
            (None, Direction::Up) => r.has_generic_up.then_some(r.up.as_str()),
            (None, Direction::Down) => r.down.as_deref(),
        };
        let Some(sql) = sql else { return Ok(None) };
        let sql = sql.trim_matches('\n').trim_end();
        let last = n + 1 == members.len();
        // A generic section runs on every dialect: it must end a statement on each.
        let complete = match dialect {
            Some((d, _)) => ends_with_semicolon(sql, d),
            None => DIALECTS.iter().all(|(d, _)| ends_with_semicolon(sql, *d)),
        };
        if !last && !sql.is_empty() && !complete {
            return Err(RangeError::Unterminated {
                id: r.id.clone(),
                path: r.path.clone(),
                direction,
                dialect: dialect.map(|(_, name)| name),
            });
        }
        let message = r.message.replace(['\r', '\n'], " ");
        out.push_str(format!("-- from {}: {}", r.id, message.trim()).trim_end());
        out.push('\n');
        if !sql.is_empty() {
            out.push_str(sql);
            out.push('\n');
        }
        if !last {
            out.push('\n');
        }
    }
    Ok(Some(out))
}

/// The sections of the squash and the dialects it cannot be unapplied on.
fn sections(members: &[&Revision]) -> Result<(String, Vec<&'static str>), RangeError> {
    let up: Vec<&&Revision> = members.iter().collect();
    let down: Vec<&&Revision> = members.iter().rev().collect();
    let generic_up = joined(&up, Direction::Up, None)?;
    let generic_down = joined(&down, Direction::Down, None)?;
    let mut text = String::new();
    let mut section = |marker: String, sql: &str| text.push_str(&format!("\n{marker}\n{sql}"));
    if let Some(sql) = &generic_up {
        section(UP_MARKER.to_string(), sql);
    }
    if let Some(sql) = &generic_down {
        section(DOWN_MARKER.to_string(), sql);
    }
    let mut irreversible = Vec::new();
    for (dialect, name) in DIALECTS {
        let up_d = joined(&up, Direction::Up, Some((dialect, name)))?;
        let down_d = joined(&down, Direction::Down, Some((dialect, name)))?;
        if up_d.is_some() && up_d != generic_up {
            section(format!("{UP_MARKER} {name}"), up_d.as_deref().unwrap_or_default());
        }
        match down_d {
            Some(sql) if Some(&sql) != generic_down.as_ref() => section(format!("{DOWN_MARKER} {name}"), &sql),
            Some(_) => {}
            None => irreversible.push(name),
        }
    }
    Ok((text, irreversible))
}

impl Squashed {
    /// The file's text.
    pub fn render(&self, id: &str, message: &str, created: &str) -> String {
        let message = message.replace(['\r', '\n'], " ");
        let mut text = format!(
            "-- id: {id}\n-- parents: {}\n-- message: {}\n-- created: {created}\n",
            self.parents.join(" "),
            message.trim()
        );
        if !self.labels.is_empty() {
            text.push_str(&format!("-- labels: {}\n", self.labels.join(" ")));
        }
        if !self.depends_on.is_empty() {
            text.push_str(&format!("-- depends-on: {}\n", self.depends_on.join(" ")));
        }
        if !self.transactional {
            text.push_str("-- transaction: false\n");
        }
        text.push_str(&format!("-- replaces: {}\n", self.members.join(" ")));
        text.push_str(&self.sections);
        text
    }
}
