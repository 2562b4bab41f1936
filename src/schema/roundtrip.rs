//! The two checks built on snapshots: [`round_trip`] (`migraph test`: up,
//! down, up for every revision on a scratch database) and [`verify`]
//! (`migraph verify`: a live database against what its applied revisions
//! build on a scratch database). Both run revisions through
//! [`Migrator::run`], the same code path as `migraph upgrade`.

use serde::Serialize;

use super::{diff, Difference, Reader, Schema, Scope};
use crate::backend::Backend;
use crate::plan::{PlanError, Verb};
use crate::runner::RunError;
use crate::{Error, Migrator};

/// What happened to one revision (or to the final `downgrade base`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevisionResult {
    /// The revision, or `base` for the final downgrade.
    pub id: String,
    pub message: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// How a revision fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Up, down and up again; down gave back the schema before up.
    Ok,
    /// No down SQL for the database's dialect: applied, never unapplied
    /// (for `base`: the downgrade was not tried because of such revisions).
    Irreversible,
    /// Running it failed; `step` is `up`, `down` or `up again`. Nothing
    /// after it was tested.
    Error { step: String, error: String },
    /// Down did not give back the schema from before up (for `base`: the
    /// downgrade did not leave an empty schema). `up_again`: why applying
    /// it again then failed (which stops the walk).
    DownDiffers {
        differences: Vec<Difference>,
        #[serde(skip_serializing_if = "Option::is_none")]
        up_again: Option<String>,
    },
    /// Applying it again built another schema than the first time.
    ReapplyDiffers { differences: Vec<Difference> },
    /// Not tested: an earlier revision stopped the walk.
    NotRun,
}

impl Outcome {
    /// Whether this counts as a failure (`strict`: irreversible revisions too).
    pub fn failed(&self, strict: bool) -> bool {
        match self {
            Outcome::Ok => false,
            Outcome::Irreversible => strict,
            _ => true,
        }
    }
}

/// What [`round_trip`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestReport {
    /// One entry per revision, in the order `upgrade heads` applies them.
    pub revisions: Vec<RevisionResult>,
    /// `downgrade base` from all heads, which must leave an empty schema.
    pub base: RevisionResult,
}

impl TestReport {
    /// Whether anything failed (`strict`: irreversible revisions count).
    pub fn failed(&self, strict: bool) -> bool {
        self.revisions.iter().chain([&self.base]).any(|r| r.outcome.failed(strict))
    }
}

/// Walks the whole graph on `backend`, which must be an empty scratch
/// database, in the order `upgrade heads` applies it. For each revision:
/// apply it, unapply exactly it (`migrate` to the heads from before), check
/// that the schema is the one from before, apply it again and check that
/// the schema is the one the first apply built. Then `downgrade base`, which
/// must leave an empty schema. `on_result` is called as each result is
/// known. A revision that fails to run stops the walk (what follows is
/// [`Outcome::NotRun`]). Errors: the plan cannot be made, or the schema
/// cannot be read.
pub fn round_trip(
    migrator: &Migrator,
    backend: &mut dyn Backend,
    mut on_result: impl FnMut(&RevisionResult),
) -> Result<TestReport, Error> {
    let scope = Scope::of(migrator.options());
    let plan = migrator.plan(backend, Verb::Upgrade, &["heads"])?;
    let mut reader = Reader::default();
    let empty = reader.read(backend, &scope)?;
    let mut before = empty.clone();
    let mut heads: Vec<String> = Vec::new();
    let mut results = Vec::new();
    let mut stopped = false;
    for step in &plan.steps {
        let result = |outcome| RevisionResult { id: step.id.clone(), message: step.message.clone(), outcome };
        if stopped {
            results.push(result(Outcome::NotRun));
            continue;
        }
        let (outcome, after) = revision(migrator, backend, &mut reader, &scope, &step.id, &before, &heads)?;
        let outcome = result(outcome);
        on_result(&outcome);
        results.push(outcome);
        match after {
            Some(after) => before = after,
            None => stopped = true,
        }
        if let Some(revision) = migrator.graph().get(&step.id) {
            heads.retain(|h| !revision.parents.contains(h));
        }
        heads.push(step.id.clone());
    }
    let base = |outcome| RevisionResult { id: "base".into(), message: "downgrade base from all heads".into(), outcome };
    let base = if stopped {
        base(Outcome::NotRun)
    } else {
        match migrator.run(backend, Verb::Downgrade, &["base"], |_| {}) {
            Err(RunError::Plan(PlanError::Irreversible { .. })) => base(Outcome::Irreversible),
            Err(e) => base(Outcome::Error { step: "down".into(), error: e.to_string() }),
            Ok(_) => {
                let differences = diff(&empty, &reader.read(backend, &scope)?);
                base(match differences.is_empty() {
                    true => Outcome::Ok,
                    false => Outcome::DownDiffers { differences, up_again: None },
                })
            }
        }
    };
    on_result(&base);
    Ok(TestReport { revisions: results, base })
}

/// Up, down, up for one revision whose ancestors are applied (`heads`: the
/// applied heads before it). The outcome, and the schema with it applied
/// (`None` when it cannot be known: the walk stops).
fn revision(
    migrator: &Migrator,
    backend: &mut dyn Backend,
    reader: &mut Reader,
    scope: &Scope,
    id: &str,
    before: &Schema,
    heads: &[String],
) -> Result<(Outcome, Option<Schema>), Error> {
    let failed = |step: &str, e: RunError| (Outcome::Error { step: step.into(), error: e.to_string() }, None);
    if let Err(e) = migrator.run(backend, Verb::Upgrade, &[id], |_| {}) {
        return Ok(failed("up", e));
    }
    let applied = reader.read(backend, scope)?;
    let targets: Vec<&str> = if heads.is_empty() { vec!["base"] } else { heads.iter().map(String::as_str).collect() };
    match migrator.run(backend, Verb::Migrate, &targets, |_| {}) {
        Err(RunError::Plan(PlanError::Irreversible { .. })) => return Ok((Outcome::Irreversible, Some(applied))),
        Err(e) => return Ok(failed("down", e)),
        Ok(_) => {}
    }
    let unapplied = reader.read(backend, scope)?;
    let differences = diff(before, &unapplied);
    let again = migrator.run(backend, Verb::Upgrade, &[id], |_| {});
    if !differences.is_empty() {
        // Reported as it is; the walk goes on only if applying it again worked.
        return Ok(match again {
            Ok(_) => (Outcome::DownDiffers { differences, up_again: None }, Some(reader.read(backend, scope)?)),
            Err(e) => (Outcome::DownDiffers { differences, up_again: Some(e.to_string()) }, None),
        });
    }
    if let Err(e) = again {
        return Ok(failed("up again", e));
    }
    let reapplied = reader.read(backend, scope)?;
    let differences = diff(&applied, &reapplied);
    if !differences.is_empty() {
        return Ok((Outcome::ReapplyDiffers { differences }, Some(reapplied)));
    }
    Ok((Outcome::Ok, Some(reapplied)))
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The live database's applied heads (what the scratch database was upgraded to).
    pub heads: Vec<String>,
    /// How many revisions are applied.
    pub applied: usize,
    /// Applied revisions whose files changed since (the scratch database
    /// ran the files as they are now).
    pub drifted: Vec<String>,
    /// What the live database has that differs from what the revisions
    /// build (expected: the scratch database; found: the live one).
    pub differences: Vec<Difference>,
    /// The live database's schema, as read for the comparison.
    #[serde(skip)]
    pub live: Schema,
}

/// Compares the schema of `live` with what its applied revisions build on
/// `scratch` (an empty database of the same engine), upgraded to the live
/// database's applied heads. Errors: the live state cannot be read, the
/// live database has applied revisions without files, a revision fails on
/// the scratch database.
pub fn verify(migrator: &Migrator, live: &mut dyn Backend, scratch: &mut dyn Backend) -> Result<Verification, Error> {
    let scope = Scope::of(migrator.options());
    let status = migrator.status(live)?;
    if !status.missing_files.is_empty() {
        return Err(RunError::Ahead(status.missing_files).into());
    }
    let found = super::read(live, &scope)?;
    let heads = status.heads.clone();
    if !heads.is_empty() {
        let targets: Vec<&str> = heads.iter().map(String::as_str).collect();
        migrator.run(scratch, Verb::Upgrade, &targets, |_| {})?;
    }
    let expected = super::read(scratch, &scope)?;
    Ok(Verification {
        heads,
        applied: status.applied.len(),
        drifted: status.drift.iter().map(|d| d.id.clone()).collect(),
        differences: diff(&expected, &found),
        live: found,
    })
}
