//! Reading the version table and the markers from a database: the one
//! place where [`DbState`] meets a [`Backend`]. What the content means is
//! [`crate::status`]'s pure business.

use crate::backend::sql::{Table, ADDED_COLUMNS};
use crate::backend::{Arg, Backend, DbError};
use crate::status::DbState;

impl DbState {
    /// Reads the version table and the markers, without creating or
    /// changing anything. `table` is found the way the database compares
    /// names (see [`crate::backend::sql`]).
    pub fn read(backend: &mut dyn Backend, table: impl Into<Table>) -> Result<DbState, DbError> {
        DbState::read_rows(backend, table.into(), true)
    }

    /// [`DbState::read`] without the text of the rows' down sections:
    /// `down_sql` is `Some("")` where a row has one. [`DbState::load_down_sql`]
    /// reads those a plan runs.
    pub fn read_without_down_sql(backend: &mut dyn Backend, table: impl Into<Table>) -> Result<DbState, DbError> {
        DbState::read_rows(backend, table.into(), false)
    }

    /// Reads the down sections of the rows `wanted` picks (rows read by
    /// [`DbState::read_without_down_sql`]), one query per row.
    pub fn load_down_sql(
        &mut self,
        backend: &mut dyn Backend,
        table: impl Into<Table>,
        wanted: impl Fn(&crate::backend::VersionRow) -> bool,
    ) -> Result<(), DbError> {
        let table = table.into();
        let sql = backend.dialect().select_down_sql(&table);
        for row in self.rows.iter_mut().filter(|row| row.down_sql.is_some() && wanted(row)) {
            row.down_sql = backend.text(&sql, &[Arg::Text(row.id.clone())])?;
        }
        Ok(())
    }

    fn read_rows(backend: &mut dyn Backend, table: Table, down_sql: bool) -> Result<DbState, DbError> {
        let dialect = backend.dialect();
        let int = |backend: &mut dyn Backend, (sql, args): (String, Vec<Arg>)| -> Result<i64, DbError> {
            Ok(backend.int(&sql, &args)?.unwrap_or(0))
        };
        if int(backend, dialect.table_exists(&table))? == 0 {
            if let Some((sql, args)) = dialect.table_on_search_path(&table) {
                if let Some(schema) = backend.text(&sql, &args)? {
                    return Err(DbError::TableInOtherSchema { table: table.name, schema });
                }
            }
            return Ok(DbState::default());
        }
        let current = int(backend, dialect.count_added_columns(&table))? == ADDED_COLUMNS.len() as i64;
        let narrow = match dialect.count_narrow_columns(&table) {
            Some(query) => int(backend, query)? > 0,
            None => false,
        };
        // MySQL ID columns of earlier releases compare without regard to case.
        let mut case_blind = false;
        for t in [table.clone(), table.pending()] {
            if let Some(query) = dialect.count_case_insensitive_ids(&t) {
                case_blind |= int(backend, query)? > 0;
            }
        }
        let select = match down_sql {
            true => dialect.select_rows_of_layout(&table, current),
            false => dialect.select_rows_without_down_sql(&table, current),
        };
        let rows = backend.version_rows(&select)?;
        let pending_exists = int(backend, dialect.table_exists(table.pending()))? > 0;
        let pending = if pending_exists { backend.pending_rows(&dialect.select_pending(&table))? } else { Vec::new() };
        Ok(DbState { exists: true, pending_exists, outdated: !current || narrow || case_blind, rows, pending })
    }
}
