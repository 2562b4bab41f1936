//! goose: `<version>_<name>.sql` (the version an `int64`), applied in
//! version order, annotated with `-- +goose Up`, `-- +goose Down`,
//! `-- +goose StatementBegin` / `StatementEnd` (one statement spanning
//! lines with `;`) and `-- +goose NO TRANSACTION` (internal/sqlparser,
//! migration_sql.go). The annotations are removed; the SQL between them is
//! kept as written, and a StatementBegin block that migraph's splitter would
//! cut into several statements in every dialect is reported. `.go`
//! migrations cannot be imported. The table `goose_db_version (id,
//! version_id BIGINT, is_applied BOOLEAN, tstamp TIMESTAMP)` is a log: an up
//! adds a row, a down deletes the version's rows (older goose added a row
//! with `is_applied` false instead), so the latest row of each version
//! decides; version 0 is goose's own first row (database/dialects.go,
//! internal/dialects).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{entries, int, load, read_text, revision, AppliedVersion, Import, ImportError, Tool, Unsupported};
use crate::backend::split::statements;
use crate::backend::{Backend, Dialect};

/// A goose annotation: the lower-cased directive after `-- +goose`.
fn annotation(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("--")?.trim_start().strip_prefix("+goose")?;
    Some(rest.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase())
}

/// What one goose file holds.
#[derive(Debug, Default, PartialEq, Eq)]
struct Parsed {
    up: String,
    down: Option<String>,
    transaction: bool,
    /// (line, problem) for the report.
    problems: Vec<(usize, String)>,
}

fn parse(path: &Path, text: &str) -> Result<Parsed, ImportError> {
    let mut out = Parsed { transaction: true, ..Parsed::default() };
    let (mut up, mut down): (Option<String>, Option<String>) = (None, None);
    let mut block: Option<(usize, String)> = None;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let number = n + 1;
        let Some(directive) = annotation(line) else {
            if let Some((_, b)) = &mut block {
                b.push_str(line);
            }
            match (&mut up, &mut down) {
                (_, Some(d)) => d.push_str(line),
                (Some(u), None) => u.push_str(line),
                (None, None) => {}
            }
            continue;
        };
        let fail = |m: &str| ImportError::file(path, format!("line {number}: {m}"));
        match directive.as_str() {
            "up" if up.is_none() => up = Some(String::new()),
            "down" if up.is_some() && down.is_none() => down = Some(String::new()),
            "up" | "down" => return Err(fail("unexpected `-- +goose` Up/Down annotation")),
            "statementbegin" if block.is_none() => block = Some((number, String::new())),
            "statementend" => {
                let Some((start, sql)) = block.take() else { return Err(fail("StatementEnd without StatementBegin")) };
                let one = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql]
                    .into_iter()
                    .any(|d| statements(&sql, d).is_ok_and(|s| s.len() <= 1));
                if !one {
                    out.problems.push((
                        start,
                        "the StatementBegin/StatementEnd block splits into several statements in every dialect: \
                         migraph would run them one by one"
                            .into(),
                    ));
                }
            }
            "no transaction" => out.transaction = false,
            "envsub on" | "envsub off" => out.problems.push((
                number,
                "ENVSUB (environment substitution) is not supported: the SQL is kept as written".into(),
            )),
            other => return Err(fail(&format!("unknown goose annotation `{other}`"))),
        }
    }
    if block.is_some() {
        return Err(ImportError::file(path, "StatementBegin without StatementEnd"));
    }
    out.up = up.ok_or_else(|| ImportError::file(path, "no `-- +goose Up` annotation (goose requires one)"))?;
    out.down = down;
    Ok(out)
}

pub(super) fn read(dir: &Path, out: &mut Import) -> Result<(), ImportError> {
    let mut found: BTreeMap<i64, ()> = BTreeMap::new();
    for name in entries(dir, false)? {
        let parsed = name.split_once('_').and_then(|(version, rest)| {
            let number = version.bytes().all(|b| b.is_ascii_digit()).then(|| version.parse::<i64>().ok())??;
            let (title, ext) = rest.rsplit_once('.')?;
            Some((number, title.to_string(), ext.to_string()))
        });
        let Some((number, title, ext)) = parsed.filter(|p| p.2 == "sql" || p.2 == "go") else {
            if !name.starts_with('.') {
                out.unsupported.push(Unsupported {
                    path: name.into(),
                    reason: "not a goose migration (`<version>_<name>.sql`); skipped".into(),
                });
            }
            continue;
        };
        if found.insert(number, ()).is_some() {
            return Err(ImportError::file(&dir.join(&name), format!("a second migration with version {number}")));
        }
        if ext == "go" {
            out.unsupported.push(Unsupported {
                path: name.into(),
                reason: "Go migrations cannot be imported: write its change as a migraph revision by hand".into(),
            });
            continue;
        }
        let path = dir.join(&name);
        let parsed = parse(&path, &read_text(&path)?)?;
        for (line, problem) in parsed.problems {
            out.unsupported.push(Unsupported { path: format!("{name}:{line}").into(), reason: problem });
        }
        let version = number.to_string();
        let r = revision(
            Tool::Goose,
            &version,
            &title,
            PathBuf::from(&name),
            parsed.up,
            parsed.down,
            parsed.transaction,
            None,
        )?;
        out.revisions.push(r);
    }
    out.revisions.sort_by_key(|r| r.version.parse::<i64>().unwrap_or_default());
    Ok(())
}

pub(super) fn applied(backend: &mut dyn Backend) -> Result<Vec<AppliedVersion>, ImportError> {
    let table = Tool::Goose.version_table();
    let d = backend.dialect();
    let select = [super::adopt::as_int(d, "version_id", false), super::adopt::as_int(d, "is_applied", true)];
    let rows = load(backend, table, &select, "ORDER BY id")?;
    // The latest row of each version decides.
    let mut state: BTreeMap<i64, bool> = BTreeMap::new();
    for row in rows {
        if let Some(version) = int(&row[0]).filter(|v| *v != 0) {
            state.insert(version, int(&row[1]) == Some(1));
        }
    }
    Ok(state
        .into_iter()
        .filter(|(_, applied)| *applied)
        .map(|(version, _)| AppliedVersion { version: version.to_string(), checksum: None, through: false })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_are_removed_and_blocks_checked() {
        let text = "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE t (x INT);\n-- +goose StatementBegin\n\
                    CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET x = 1;\nEND;\n-- +goose StatementEnd\n\
                    -- +goose Down\nDROP TABLE t;\n";
        let p = parse(Path::new("1_x.sql"), text).unwrap();
        assert_eq!(
            p.up,
            "CREATE TABLE t (x INT);\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET x = 1;\nEND;\n"
        );
        assert_eq!(p.down.as_deref(), Some("DROP TABLE t;\n"));
        assert!(!p.transaction);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let two = "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\nSELECT 2;\n-- +goose StatementEnd\n";
        assert_eq!(parse(Path::new("2_x.sql"), two).unwrap().problems.len(), 1);
        assert!(parse(Path::new("3_x.sql"), "SELECT 1;\n").is_err());
    }
}
