//! Running the embedded driver (`alembic_driver.py`) on one dialect and
//! turning what it captured into sections.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value as Json;

use super::{io, marker, AlembicError, AlembicOptions, AlembicRevision, Layout, DRIVER};
use crate::backend::Dialect;

/// One revision's SQL on one dialect: the statements, or why there are none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub up: Result<Vec<String>, String>,
    pub down: Result<Vec<String>, String>,
    /// Rendered offline (`alembic ... --sql`) rather than captured online.
    pub up_offline: bool,
    pub down_offline: bool,
}

/// Runs the driver for `dialect` (SQLite in a temporary file, or a
/// temporary database on `server`). The baseline, if any, goes with
/// `root` (the driver applies that revision first). A driver that cannot
/// start at all is an error; one that starts and fails (no Alembic, a
/// broken env.py, an unreachable server) gives an empty map and a note via
/// the caller.
pub fn run(
    layout: &Layout,
    options: &AlembicOptions,
    dialect: Dialect,
    server: Option<&str>,
    root: Option<&str>,
) -> Result<BTreeMap<String, Captured>, AlembicError> {
    let python = options.python.clone().unwrap_or_else(|| "python3".into());
    let shown = python.display().to_string();
    let temp = tempfile::tempdir().map_err(io(Path::new("temporary directory")))?;
    let driver = temp.path().join("migraph_alembic_driver.py");
    std::fs::write(&driver, DRIVER).map_err(io(&driver))?;
    let absolute = |p: &Path| {
        let p = if p.as_os_str().is_empty() { Path::new(".") } else { p };
        std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
    };
    let mut request = serde_json::json!({
        "script_location": absolute(&layout.script_dir),
        "config_file": layout.config_file.as_deref().map(absolute),
        "sys_path": [absolute(&layout.root)],
        "dialect": crate::revision::dialect_name(dialect),
        "sqlite_path": temp.path().join("scratch.db"),
    });
    if let Some(server) = server {
        request["server"] = server.into();
    }
    if let Some(baseline) = &options.baseline {
        request["baseline"] =
            serde_json::json!({ "path": absolute(&baseline.file), "function": baseline.function, "root": root });
    }
    let request_path = temp.path().join("request.json");
    let result_path = temp.path().join("result.json");
    std::fs::write(&request_path, request.to_string()).map_err(io(&request_path))?;
    let output = Command::new(&python)
        .arg(&driver)
        .arg(&request_path)
        .arg(&result_path)
        .current_dir(absolute(&layout.root))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| AlembicError::Python { python: shown.clone(), message: e.to_string() })?;
    let Ok(text) = std::fs::read_to_string(&result_path) else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(AlembicError::Python {
            python: shown,
            message: format!("it exited with {} and wrote no result: {}", output.status, tail.join(" | ")),
        });
    };
    let result: Json = serde_json::from_str(&text)
        .map_err(|e| AlembicError::Python { python: shown.clone(), message: format!("unreadable result: {e}") })?;
    if let Some(error) = result["error"].as_str() {
        return Err(AlembicError::Python { python: shown, message: format!("{dialect}: {error}") });
    }
    let mut out = BTreeMap::new();
    if let Some(revisions) = result["revisions"].as_object() {
        for (id, r) in revisions {
            let side = |direction: &str| -> Result<Vec<String>, String> {
                match r[direction].as_array() {
                    Some(list) => Ok(list.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()),
                    None => Err(r[format!("{direction}_error")].as_str().unwrap_or("not captured").to_string()),
                }
            };
            let offline = |direction: &str| r[format!("{direction}_offline")].as_bool().unwrap_or(false);
            out.insert(
                id.clone(),
                Captured {
                    up: side("up"),
                    down: side("down"),
                    up_offline: offline("up"),
                    down_offline: offline("down"),
                },
            );
        }
    }
    if let (Some(baseline), Some(root)) = (&options.baseline, root) {
        if let Some(captured) = out.get_mut(root) {
            with_baseline(captured, root, baseline, &result["baseline"]);
        }
    }
    Ok(out)
}

/// The baseline's statements (`result.baseline` of the driver) around the
/// root revision's: first in its up section, last in its down section; a
/// baseline whose down was not captured leaves the root irreversible.
fn with_baseline(captured: &mut Captured, root: &str, baseline: &super::Baseline, result: &Json) {
    let strings = |v: &Json| -> Option<Vec<String>> {
        v.as_array().map(|list| list.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
    };
    let file = baseline.file.display().to_string().replace(['\r', '\n'], " ");
    let function = &baseline.function;
    let made = strings(&result["up"]).unwrap_or_default();
    if made.is_empty() {
        return;
    }
    if let Ok(up) = &mut captured.up {
        let mut statements = vec![format!(
            "-- baseline: the schema alembic revision {root} assumes, from {function}() in {file} (--baseline)"
        )];
        statements.extend(made);
        statements.push(format!("-- alembic revision {root}"));
        statements.append(up);
        *up = statements;
    }
    if let Ok(down) = &mut captured.down {
        match strings(&result["down"]) {
            Some(undo) => {
                down.push(format!("-- baseline: undoing {function}() in {file} (--baseline)"));
                down.extend(undo);
            }
            None => {
                let why = result["down_error"].as_str().unwrap_or("not captured");
                captured.down = Err(format!("the baseline's down: {why}"));
            }
        }
    }
}

/// The sections of `r` from the captures (one per dialect, in the order
/// captured), noting in `notes` what is missing.
pub fn sections(
    r: &AlembicRevision,
    captures: &[(Dialect, BTreeMap<String, Captured>)],
    notes: &mut Vec<String>,
) -> Vec<(String, String)> {
    let file = r.source.display();
    if captures.is_empty() {
        return vec![(
            marker(true, None),
            format!("-- TODO: alembic revision {} could not be captured: not attempted", r.id),
        )];
    }
    let mut out = Vec::new();
    for up in [true, false] {
        let direction = if up { "up" } else { "down" };
        let texts: Vec<(Dialect, Result<String, String>)> = captures
            .iter()
            .map(|(dialect, map)| {
                let text = match map.get(&r.id) {
                    None => Err(format!("the Alembic run on {dialect} failed (see its note)")),
                    Some(c) => {
                        let (side, offline) = if up { (&c.up, c.up_offline) } else { (&c.down, c.down_offline) };
                        side.clone().map(|statements| body(&r.id, *dialect, up, &statements, offline))
                    }
                };
                (*dialect, text)
            })
            .collect();
        for (dialect, text) in &texts {
            if let Err(why) = text {
                notes.push(format!("{} ({file}): {direction} SQL not captured on {dialect}: {why}", r.id));
            } else if text.as_ref().is_ok_and(|t| t.starts_with("-- rendered offline")) {
                notes.push(format!(
                    "{} ({file}): {direction} SQL on {dialect} rendered offline (`alembic --sql`): check it",
                    r.id
                ));
            }
        }
        let first = &texts[0].1;
        if texts.len() >= 2 && first.is_ok() && texts.iter().all(|(_, t)| t == first) {
            out.push((marker(up, None), first.clone().unwrap_or_default()));
            continue;
        }
        for (dialect, text) in texts {
            match text {
                Ok(sql) => out.push((marker(up, Some(dialect)), sql)),
                Err(why) if up => out.push((
                    marker(true, Some(dialect)),
                    format!(
                        "-- TODO: alembic revision {} could not be captured: {}",
                        r.id,
                        why.replace(['\r', '\n'], " ")
                    ),
                )),
                // No down section: irreversible on that dialect.
                Err(_) => {}
            }
        }
    }
    out
}

/// A section's SQL: the statements one after the other; a step that runs
/// no SQL says so (`-- migraph:empty`, so migraph runs it as a no-op).
fn body(id: &str, dialect: Dialect, up: bool, statements: &[String], offline: bool) -> String {
    let mut text = String::new();
    if offline {
        text.push_str("-- rendered offline by `alembic --sql`: check it\n");
    }
    if statements.is_empty() {
        if up {
            text.push_str(&format!("-- alembic revision {id} runs no SQL on {dialect}\n-- migraph:empty\n"));
        }
        return text;
    }
    for s in statements {
        for line in s.trim_end().lines() {
            text.push_str(line.trim_end());
            text.push('\n');
        }
    }
    text
}
