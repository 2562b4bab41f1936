//! Filling the target: the schema by the runner, then each table's rows,
//! the version rows, sequences, and the comparison of both sides.

use std::time::Instant;

use super::catalog::{self, Kind, Table};
use super::rows::{self, Digest, Mapping, Reader, Writer};
use super::{count, db, Check, CopyError, CopyOptions, CopyReport, Event, Own, Source};
use crate::backend::{Arg, Backend, Dialect, Value, VersionRow};
use crate::plan::{Step, Verb};
use crate::runner::Event as RunEvent;
use crate::status::DbState;
use crate::Migrator;

pub(super) struct Job<'a> {
    pub migrator: &'a Migrator,
    pub own: &'a Own,
    pub read: &'a Source,
    pub options: &'a CopyOptions,
    pub on_event: &'a mut dyn FnMut(Event<'_>),
}

impl Job<'_> {
    /// Applies the source's revisions on the target, and checks that the
    /// target then has exactly the source's applied set.
    pub fn schema(&mut self, target: &mut dyn Backend) -> Result<Vec<Step>, CopyError> {
        let mut applied = Vec::new();
        if !self.options.into_existing && !self.read.heads.is_empty() {
            let heads: Vec<&str> = self.read.heads.iter().map(String::as_str).collect();
            let on_event = &mut *self.on_event;
            let report = self
                .migrator
                .run(target, Verb::Upgrade, &heads, |event| {
                    if let RunEvent::Finished { step, .. } = event {
                        on_event(Event::Applied(step));
                    }
                })
                .map_err(|e| CopyError::Run(Box::new(e)))?;
            applied = report.done.into_iter().map(|(step, _)| step).collect();
        }
        let status =
            self.migrator.status(target).map_err(|e| CopyError::State { side: "target", source: Box::new(e) })?;
        let (mut theirs, mut ours) = (status.applied.clone(), self.read.applied.clone());
        theirs.sort();
        ours.sort();
        if theirs != ours {
            return Err(CopyError::TargetState { expected: self.read.applied.clone(), found: status.applied });
        }
        Ok(applied)
    }

    /// Copies the rows and the version rows, moves sequences past the
    /// copied keys, and compares both sides.
    pub fn fill(
        &mut self,
        source: &mut dyn Backend,
        target: &mut dyn Backend,
        applied: Vec<Step>,
    ) -> Result<CopyReport, CopyError> {
        let dialect = target.dialect();
        let names = catalog::table_names(target).map_err(db("cannot list the target's tables"))?;
        let mut mappings = Vec::new();
        for &i in &self.read.order {
            let table = &self.read.tables[i];
            let Some(name) = names.iter().find(|n| n.eq_ignore_ascii_case(&table.name)) else {
                return Err(CopyError::Schema {
                    table: table.name.clone(),
                    problem: "the revisions did not create it on the target (created outside migrations?)".into(),
                });
            };
            let theirs =
                catalog::table(target, name).map_err(db(format!("cannot read table `{name}` of the target")))?;
            mappings.push((Mapping::new(table.clone(), theirs)?, self.read.tangled.contains(&i)));
        }
        let one_statement = self.relax_foreign_keys(target, mappings.iter().any(|(_, tangled)| *tangled))?;
        // Rows that revisions inserted while they built the schema (seed
        // data) are the source's rows too, as they are now: clear them,
        // children first, so the target ends up with exactly the source's.
        for (mapping, _) in mappings.iter().rev() {
            let name = &mapping.target.name;
            target
                .exec(&format!("DELETE FROM {}", dialect.ident(name)), &[])
                .map_err(db(format!("cannot clear the rows the revisions wrote into `{name}` on the target")))?;
        }
        let mut checks = Vec::new();
        let mut rows = 0;
        for (mapping, tangled) in &mappings {
            let check = self.table(source, target, mapping, *tangled && one_statement)?;
            rows += check.source_rows;
            checks.push(check);
        }
        rows += self.versions(target)?;
        if dialect == Dialect::Postgres {
            for (mapping, _) in &mappings {
                sequences(target, &mapping.target)?;
            }
        }
        (self.on_event)(Event::Verifying);
        for ((mapping, _), check) in mappings.iter().zip(checks.iter_mut()) {
            let kinds = mapping.kinds();
            let mut digest = Digest::default();
            Reader { table: &mapping.target, kinds: &kinds }.read(target, self.options.batch_rows, &mut |batch| {
                batch.iter().for_each(|row| digest.add(row, &kinds));
                Ok(())
            })?;
            check.target_rows = digest.count();
            check.target_digest = digest.finish();
        }
        checks.push(self.version_check(target)?);
        if checks.iter().any(|c| !c.matches()) {
            return Err(CopyError::Mismatch(checks));
        }
        Ok(CopyReport { applied, checks, rows })
    }

    /// Lets rows reference rows not copied yet where tables reference
    /// themselves or each other. Returns whether such tables must go in one
    /// statement each (PostgreSQL without superuser rights, where a
    /// statement's foreign keys are checked at its end).
    fn relax_foreign_keys(&mut self, target: &mut dyn Backend, tangled: bool) -> Result<bool, CopyError> {
        let fail = db("cannot defer foreign key checks on the target");
        match target.dialect() {
            Dialect::Sqlite => target.batch("PRAGMA defer_foreign_keys = ON").map_err(fail).map(|()| false),
            Dialect::Postgres if tangled => {
                let superuser = target
                    .int("SELECT CAST(CASE WHEN rolsuper THEN 1 ELSE 0 END AS BIGINT) AS v FROM pg_roles WHERE rolname = current_user", &[])
                    .map_err(db("cannot read the target's role"))?;
                if superuser == Some(1) {
                    target.batch("SET LOCAL session_replication_role = replica").map_err(fail).map(|()| false)
                } else {
                    target.batch("SET CONSTRAINTS ALL DEFERRED").map_err(fail).map(|()| true)
                }
            }
            _ => Ok(false),
        }
    }

    /// Copies one table; returns its check with the source's side filled.
    fn table(
        &mut self,
        source: &mut dyn Backend,
        target: &mut dyn Backend,
        mapping: &Mapping,
        one_statement: bool,
    ) -> Result<Check, CopyError> {
        let started = Instant::now();
        let name = mapping.source.name.as_str();
        let kinds = mapping.kinds();
        if source.dialect() == Dialect::Sqlite {
            if let Some(misfit) = rows::sqlite_misfit(source, &mapping.source, &kinds)
                .map_err(db(format!("cannot read table `{name}`")))?
            {
                return Err(misfit);
            }
        }
        let total = count(source, name)?;
        let dialect = target.dialect();
        let writer = Writer::new(dialect, mapping);
        let batch = if one_statement { usize::MAX } else { writer.batch_rows(self.options.batch_rows) };
        let mut digest = Digest::default();
        let mut state = Written { done: 0, pending: Vec::new() };
        let on_event = &mut *self.on_event;
        let write = |state: &mut Written, target: &mut dyn Backend, on_event: &mut dyn FnMut(Event<'_>)| {
            let (from, to) = (state.done + 1, state.done + state.pending.len() as u64);
            // Each batch in a savepoint: when the engine refuses it, the
            // rows are tried one by one to name the one it refuses.
            let batch = |target: &mut dyn Backend, rows: &[Vec<Value>]| {
                target.with_transaction(&mut |target| writer.write(target, rows))
            };
            if let Err(e) = batch(target, &state.pending) {
                for (n, row) in state.pending.iter().enumerate() {
                    if let Err(source) = batch(target, std::slice::from_ref(row)) {
                        let key = rows::row_key(&mapping.source, row, state.done as usize + n);
                        return Err(CopyError::Row { table: name.to_string(), key, source });
                    }
                }
                return Err(CopyError::Db {
                    context: format!("cannot write rows {from}..{to} of table `{name}` on the target"),
                    source: e,
                });
            }
            state.done = to;
            state.pending.clear();
            on_event(Event::Rows { table: name, done: to, total });
            Ok::<(), CopyError>(())
        };
        let mut seen = 0usize;
        Reader { table: &mapping.source, kinds: &kinds }.read(source, self.options.batch_rows.max(1), &mut |rows| {
            for row in rows {
                for (value, pair) in row.iter().zip(&mapping.columns) {
                    if let Some(problem) = rows::misfit(value, &pair.target, dialect) {
                        return Err(CopyError::Value {
                            table: name.to_string(),
                            column: pair.source.name.clone(),
                            key: rows::row_key(&mapping.source, &row, seen),
                            problem,
                        });
                    }
                }
                seen += 1;
                digest.add(&row, &kinds);
                state.pending.push(row);
                if state.pending.len() >= batch {
                    write(&mut state, target, on_event)?;
                }
            }
            Ok(())
        })?;
        if !state.pending.is_empty() || state.done == 0 {
            write(&mut state, target, on_event)?;
        }
        let done = state.done;
        (self.on_event)(Event::TableDone { table: name, rows: done, ms: started.elapsed().as_millis() as u64 });
        Ok(Check {
            table: name.to_string(),
            source_rows: digest.count(),
            target_rows: 0,
            source_digest: digest.finish(),
            target_digest: String::new(),
        })
    }

    /// Replaces the version rows the runner wrote on the target with the
    /// source's, so both report the same history with the same dates.
    fn versions(&mut self, target: &mut dyn Backend) -> Result<u64, CopyError> {
        let dialect = target.dialect();
        let table = &self.own.table;
        if self.read.versions.is_empty() && !DbState::read(target, table).is_ok_and(|s| s.exists) {
            return Ok(0);
        }
        let fail = || db("cannot write the version table on the target");
        target.exec(&format!("DELETE FROM {}", dialect.qualified(table)), &[]).map_err(fail())?;
        let insert = dialect.insert_row(table);
        for row in &self.read.versions {
            let args = [
                Arg::Text(row.id.clone()),
                Arg::Text(row.parents.clone()),
                Arg::Text(row.message.clone()),
                Arg::Text(row.checksum.clone()),
                Arg::NullableText(row.down_sql.clone()),
                Arg::Text(row.applied_at.clone()),
                Arg::Int(row.execution_ms),
                Arg::NullableText(row.depends_on.clone()),
                Arg::Int(row.transaction),
            ];
            target.exec(&insert, &args).map_err(fail())?;
        }
        Ok(self.read.versions.len() as u64)
    }

    fn version_check(&mut self, target: &mut dyn Backend) -> Result<Check, CopyError> {
        let theirs = DbState::read(target, &self.own.table).map_err(db("cannot read the target's version table"))?.rows;
        let digest = |rows: &[VersionRow]| {
            let mut d = Digest::default();
            for r in rows {
                d.add(&[Value::Text(format!("{r:?}"))], &[Kind::Text]);
            }
            d
        };
        let (ours, theirs_digest) = (digest(&self.read.versions), digest(&theirs));
        Ok(Check {
            table: self.own.table.name.clone(),
            source_rows: ours.count(),
            target_rows: theirs_digest.count(),
            source_digest: ours.finish(),
            target_digest: theirs_digest.finish(),
        })
    }
}

/// Rows of a table written so far, and those waiting for the next batch.
struct Written {
    done: u64,
    pending: Vec<Vec<Value>>,
}

/// PostgreSQL: moves each serial or identity sequence of `table` past the
/// largest copied value, so the application's next insert does not collide.
fn sequences(target: &mut dyn Backend, table: &Table) -> Result<(), CopyError> {
    let d = Dialect::Postgres;
    for column in &table.columns {
        if column.kind != Kind::Int {
            continue;
        }
        let name = format!("quote_ident(current_schema()) || '.' || {}", d.literal(&d.ident(&table.name)));
        let sql = format!(
            "SELECT setval(s, COALESCE((SELECT MAX({c}) FROM {t}), 0) + 1, false) FROM \
             (SELECT pg_get_serial_sequence({name}, {col}) AS s) AS q WHERE s IS NOT NULL",
            c = d.ident(&column.name),
            t = d.ident(&table.name),
            col = d.literal(&column.name),
        );
        target.batch(&sql).map_err(db(format!(
            "cannot move the sequence of `{}`.`{}` past the copied keys",
            table.name, column.name
        )))?;
    }
    Ok(())
}
