//! `schema` (the live database's normalised schema) and `verify` (the live
//! schema against what its applied revisions build on a scratch database).

use std::io::Write as _;

use serde::Serialize;

use migraph::backend::Backend as _;
use migraph::schema::{Scope, Scratch, ScratchError};

use super::db::{announce, shown_url};
use super::output::{printable, to_json};
use super::run::url;
use super::{session, verified, CliError, Context, Result};
use migraph::backend::redact;

/// The scope of the settings: which tables are migraph's, which schema.
pub fn scope(cx: &Context) -> Scope {
    Scope { version_table: cx.settings.table.clone(), schema: cx.settings.schema.clone() }
}

/// A scratch database that could not be created, with what to do.
pub fn scratch_error(error: ScratchError) -> CliError {
    CliError::new(error).hint(
        "a scratch database needs a user that may create and drop databases on the server \
         (PostgreSQL: CREATEDB; MySQL: CREATE and DROP on migraph_test_%)",
    )
}

/// `migraph schema`.
pub fn schema(cx: &Context) -> Result<String> {
    let url = url(cx)?;
    let mut conn = session::connect_for_reading(url)?;
    let schema = migraph::schema::read(&mut conn, &scope(cx))
        .map_err(|e| CliError::new(format!("cannot read the schema of {}: {e}", shown_url(url))))?;
    announce(cx, url, false);
    if cx.global.json {
        return Ok(to_json(&schema));
    }
    if schema.is_empty() && !cx.global.quiet {
        eprintln!("(no tables, views, triggers or other objects)");
    }
    Ok(schema.to_string().lines().map(|line| format!("{}\n", printable(line))).collect())
}

#[derive(Serialize)]
struct VerifyJson<'a> {
    ok: bool,
    #[serde(flatten)]
    verification: &'a migraph::schema::Verification,
}

/// Records what `verify` found for `status` (see [`super::verified`]): the
/// live schema it compared and the applied rows; a record that cannot be
/// written is a warning, never a failed verify.
fn record(
    cx: &Context,
    url: &str,
    migrator: &migraph::Migrator,
    live: &mut dyn migraph::backend::Backend,
    verification: &migraph::schema::Verification,
) {
    let saved = migrator.read_state(live).map_err(|e| e.to_string()).and_then(|db| {
        let record = verified::Record {
            database: redact(url),
            verified_at: migraph::source::now_rfc3339(),
            differences: verification.differences.len(),
            schema_sha256: verified::schema_sha256(&verification.live),
            applied_sha256: verified::applied_sha256(&db),
        };
        verified::save(cx, url, &record)
    });
    if let Err(e) = saved {
        if !cx.global.quiet {
            eprintln!("warning: cannot record this verification for `migraph status`: {}", printable(&e));
        }
    }
}

/// `migraph verify`.
pub fn verify(cx: &Context) -> Result<String> {
    let url = url(cx)?;
    let (graph, mut live) = cx.graph_while(|| session::connect_for_reading(url))?;
    let migrator = session::migrator(cx, graph)?;
    let scratch = Scratch::create(live.dialect(), Some(url)).map_err(scratch_error)?;
    let mut conn = scratch.connect().map_err(|e| CliError::new(format!("cannot open the scratch database: {e}")))?;
    let verification = migraph::schema::verify(&migrator, &mut live, &mut conn)?;
    drop(conn);
    drop(scratch);
    let count = verification.differences.len();
    let ok = count == 0;
    record(cx, url, &migrator, &mut live, &verification);
    if ok {
        announce(cx, url, false);
    }
    if !cx.global.quiet {
        for id in &verification.drifted {
            eprintln!(
                "warning: applied revision {id} changed since it was applied: the scratch database ran the file as it is now"
            );
        }
    }
    let out = if cx.global.json {
        to_json(&VerifyJson { ok, verification: &verification })
    } else if ok {
        let heads = if verification.heads.is_empty() { "none".to_string() } else { verification.heads.join(", ") };
        format!("ok: the schema is what its {} applied revision(s) build (heads: {heads})\n", verification.applied)
    } else {
        verification
            .differences
            .iter()
            .map(|d| {
                let line = d.describe(
                    "missing in the database (the revisions create it)",
                    "in the database, not made by the revisions",
                    "in the database",
                    "from the revisions",
                );
                format!("{}\n", printable(&line))
            })
            .collect()
    };
    if ok {
        return Ok(out);
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Err(CliError::new(format!(
        "the schema of {} differs from what its {} applied revision(s) build: {count} difference(s)",
        shown_url(url),
        verification.applied
    ))
    .hint("write a revision for a change made by hand, or undo it; `migraph schema` prints the live schema"))
}
