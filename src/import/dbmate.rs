//! dbmate: `db/migrations/<version>_<name>.sql` (the version is the leading
//! digits), applied in file-name order, each file holding a
//! `-- migrate:up` and an optional `-- migrate:down` block; options follow
//! the marker on its line (`-- migrate:up transaction:false`). The table
//! `schema_migrations (version VARCHAR(128) PRIMARY KEY)` lists every
//! applied version (no checksum) (pkg/dbmate/migration.go, db.go).

use std::path::{Path, PathBuf};

use super::{entries, read_text, revision, Import, ImportError, Tool, Unsupported};

/// `Some((is_up, options))` for a dbmate block marker line: `--`, optional
/// spaces, `migrate:up` or `migrate:down`, then options after whitespace.
fn marker(line: &str) -> Option<(bool, &str)> {
    let rest = line.strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("migrate:")?;
    let (up, options) =
        if let Some(o) = rest.strip_prefix("up") { (true, o) } else { (false, rest.strip_prefix("down")?) };
    (options.is_empty() || options.starts_with(char::is_whitespace)).then_some((up, options.trim()))
}

/// The up block, the down block, the up block's options, and whether
/// anything but blank lines came before `-- migrate:up`.
type Blocks<'a> = (String, Option<String>, &'a str, bool);

fn blocks<'a>(path: &Path, text: &'a str) -> Result<Blocks<'a>, ImportError> {
    let (mut up, mut down): (Option<String>, Option<String>) = (None, None);
    let (mut options, mut before) = ("", false);
    for line in text.split_inclusive('\n') {
        match marker(line.trim_end_matches(['\n', '\r'])) {
            Some((true, o)) if up.is_none() => {
                options = o;
                up = Some(String::new());
            }
            Some((false, _)) if up.is_some() && down.is_none() => down = Some(String::new()),
            Some(_) => return Err(ImportError::file(path, format!("unexpected block marker `{}`", line.trim()))),
            None => match (&mut up, &mut down) {
                (_, Some(d)) => d.push_str(line),
                (Some(u), None) => u.push_str(line),
                (None, None) => before |= !line.trim().is_empty(),
            },
        }
    }
    let Some(up) = up else {
        return Err(ImportError::file(path, "no `-- migrate:up` block (dbmate requires one)"));
    };
    Ok((up, down, options, before))
}

pub(super) fn read(dir: &Path, out: &mut Import) -> Result<(), ImportError> {
    for name in entries(dir, false)? {
        let digits = name.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || !name.ends_with(".sql") {
            if !name.starts_with('.') {
                out.unsupported.push(Unsupported {
                    path: name.into(),
                    reason: "not a dbmate migration (`<version>_<name>.sql`); skipped".into(),
                });
            }
            continue;
        }
        let version = &name[..digits];
        let title = name[digits..].trim_end_matches(".sql").trim_start_matches('_');
        let path = dir.join(&name);
        let text = read_text(&path)?;
        let (up, down, options, before) = blocks(&path, &text)?;
        let mut transaction = true;
        for option in options.split_whitespace() {
            match option.split_once(':') {
                Some(("transaction", "false")) => transaction = false,
                Some(("transaction", "true")) => {}
                _ => out.unsupported.push(Unsupported {
                    path: name.clone().into(),
                    reason: format!("dbmate option `{option}` has no migraph equivalent; ignored"),
                }),
            }
        }
        if before {
            out.unsupported.push(Unsupported {
                path: name.clone().into(),
                reason: "lines before `-- migrate:up` (dbmate does not run them) are not imported".into(),
            });
        }
        out.revisions.push(revision(Tool::Dbmate, version, title, PathBuf::from(&name), up, down, transaction, None)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_blocks() {
        assert_eq!(marker("-- migrate:up"), Some((true, "")));
        assert_eq!(marker("--migrate:up transaction:false"), Some((true, "transaction:false")));
        assert_eq!(marker("-- migrate:down"), Some((false, "")));
        assert_eq!(marker("-- migrate:upper"), None);
        let (up, down, options, before) =
            blocks(Path::new("x.sql"), "-- migrate:up transaction:false\nA;\nB;\n\n-- migrate:down\nC;\n").unwrap();
        assert_eq!(
            (up.as_str(), down.as_deref(), options, before),
            ("A;\nB;\n\n", Some("C;\n"), "transaction:false", false)
        );
        assert!(blocks(Path::new("x.sql"), "A;\n").is_err());
    }
}
