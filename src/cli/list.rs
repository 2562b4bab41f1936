//! `list`: every revision in one compact table, as `diesel migration list`
//! and Flyway's `info` print them: applied ones first, in the order they
//! were applied, with when and how long; then the pending ones, in the
//! order `migraph upgrade heads` would apply them.

use std::collections::HashSet;

use serde::Serialize;

use super::db::{announce, look, warn_pending};
use super::output::{printable, to_json};
use super::run::url;
use super::{Context, Result};

/// One line of the list.
#[derive(Debug, Serialize)]
struct Entry<'a> {
    id: &'a str,
    message: &'a str,
    /// `applied`, `pending` or `failed` (a marker: failed, interrupted or running).
    state: &'static str,
    /// UTC RFC 3339, as stored; `null` when not applied.
    applied_at: Option<&'a str>,
    execution_ms: Option<i64>,
    /// Whether the revision has a file (an applied revision may have none).
    file: bool,
    /// Whether its file changed since it was applied.
    drift: bool,
}

pub fn list(cx: &Context) -> Result<String> {
    let (files, seen) = look(cx)?;
    let url = url(cx)?;
    announce(cx, url, false);
    warn_pending(cx, &seen);
    let marked: HashSet<&str> = seen.db.pending.iter().map(|p| p.id.as_str()).collect();
    let drifted: HashSet<&str> = seen.analysis.drift.iter().map(|d| d.id.as_str()).collect();
    let state = |id: &str, applied: bool| match (marked.contains(id), applied) {
        (true, _) => "failed",
        (false, true) => "applied",
        (false, false) => "pending",
    };
    let mut entries: Vec<Entry> = seen
        .db
        .rows
        .iter()
        .map(|row| Entry {
            id: &row.id,
            message: &row.message,
            state: state(&row.id, true),
            applied_at: Some(&row.applied_at),
            execution_ms: Some(row.execution_ms),
            file: files.get(&row.id).is_some(),
            drift: drifted.contains(row.id.as_str()),
        })
        .collect();
    entries.extend(seen.analysis.pending(&files).into_iter().map(|r| Entry {
        id: &r.id,
        message: &r.message,
        state: state(&r.id, false),
        applied_at: None,
        execution_ms: None,
        file: files.get(&r.id).is_some(),
        drift: false,
    }));
    if cx.global.json {
        return Ok(to_json(&entries));
    }
    Ok(table(&entries))
}

/// `[X] <id>  <applied_at>  <ms> ms  <message>` and `[ ] <id>  pending  <message>`,
/// in aligned columns; `[!]` marks a failed or interrupted revision.
fn table(entries: &[Entry]) -> String {
    let ids: Vec<String> = entries.iter().map(|e| printable(e.id).into_owned()).collect();
    let times: Vec<String> = entries.iter().map(|e| printable(e.applied_at.unwrap_or(e.state)).into_owned()).collect();
    let ms: Vec<String> =
        entries.iter().map(|e| e.execution_ms.map(|ms| format!("{ms} ms")).unwrap_or_default()).collect();
    let width = |column: &[String]| column.iter().map(|c| c.chars().count()).max().unwrap_or(0);
    let (id_width, time_width, ms_width) = (width(&ids), width(&times), width(&ms));
    let mut out = String::new();
    for (i, e) in entries.iter().enumerate() {
        let mark = match e.state {
            "failed" => "[!]",
            "applied" => "[X]",
            _ => "[ ]",
        };
        let mut notes: Vec<&str> = Vec::new();
        if e.drift {
            notes.push("changed since it was applied");
        }
        if !e.file {
            notes.push("no file");
        }
        let notes = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join(", ")) };
        let line = format!(
            "{mark} {:<id_width$}  {:<time_width$}  {:>ms_width$}  {}{notes}",
            ids[i],
            times[i],
            ms[i],
            printable(e.message)
        );
        out += line.trim_end();
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(id: &'a str, at: Option<&'a str>, ms: Option<i64>, state: &'static str) -> Entry<'a> {
        Entry { id, message: "msg", state, applied_at: at, execution_ms: ms, file: true, drift: false }
    }

    #[test]
    fn the_table_aligns_its_columns() {
        let entries = [
            entry("a1", Some("2026-11-30T13:40:00Z"), Some(12), "applied"),
            Entry { drift: true, ..entry("bb22", Some("2026-11-30T13:41:00Z"), Some(1500), "applied") },
            entry("c3", None, None, "pending"),
            Entry { file: false, message: "", ..entry("d4", None, None, "failed") },
        ];
        assert_eq!(
            table(&entries),
            "[X] a1    2026-11-30T13:40:00Z    12 ms  msg\n\
             [X] bb22  2026-11-30T13:41:00Z  1500 ms  msg (changed since it was applied)\n\
             [ ] c3    pending                        msg\n\
             [!] d4    failed                          (no file)\n"
        );
    }
}
