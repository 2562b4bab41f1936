//! The run lock (held by a guard that also gives back the caller's SQLite
//! busy timeout), the question whether another run holds it, and the SQLite
//! backup taken under it.

use std::time::{Duration, Instant};

use crate::backend::{Arg, Backend, DbError, Dialect};

use super::{db, locate, Event, RunError, RunOptions};

/// Holds the run lock and the caller's SQLite busy timeout, and gives both
/// back when dropped: on success, on error and while a panic unwinds.
pub(super) struct Locked<'b> {
    pub(super) backend: &'b mut dyn Backend,
    release: Option<(&'static str, Arg)>,
    /// SQLite: the busy timeout the connection had before the run.
    busy_timeout: Option<i64>,
    /// SQLite: the locked directory (the kernel unlocks it on close or death).
    _directory: Option<std::fs::File>,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if let Some((sql, arg)) = self.release.take() {
            let _ = self.backend.int(sql, &[arg]);
        }
        if let Some(ms) = self.busy_timeout.take() {
            let _ = self.backend.batch(&format!("PRAGMA busy_timeout = {ms}"));
        }
    }
}

pub(super) fn lock<'b>(
    backend: &'b mut dyn Backend,
    options: &RunOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Locked<'b>, RunError> {
    let dialect = backend.dialect();
    let Some(take) = dialect.try_lock() else {
        let sql = "SELECT timeout AS v FROM pragma_busy_timeout";
        let previous = backend.int(sql, &[]).map_err(db("cannot read the SQLite busy timeout"))?.unwrap_or(0);
        let ms = options.lock_timeout.as_millis().min(i32::MAX as u128);
        backend.batch(&format!("PRAGMA busy_timeout = {ms}")).map_err(db("cannot set the SQLite busy timeout"))?;
        let mut locked = Locked { backend, release: None, busy_timeout: Some(previous), _directory: None };
        locked._directory = lock_sqlite_directory(&mut *locked.backend, options, on_event)?;
        return Ok(locked);
    };
    let arg = dialect.lock_arg(locate(backend, options).map_err(db("cannot find the version table's database"))?);
    let taken = wait_for(options, on_event, || {
        let got = backend.int(take, std::slice::from_ref(&arg)).map_err(db("cannot take the run lock"))?;
        Ok((got == Some(1)).then_some(()))
    });
    taken.map(|()| Locked {
        backend,
        release: dialect.unlock().map(|sql| (sql, arg)),
        busy_timeout: None,
        _directory: None,
    })
}

/// Polls `try_take` every 100 ms until it succeeds or the timeout passes.
fn wait_for<T>(
    options: &RunOptions,
    on_event: &mut dyn FnMut(Event<'_>),
    mut try_take: impl FnMut() -> Result<Option<T>, RunError>,
) -> Result<T, RunError> {
    let deadline = Instant::now() + options.lock_timeout.min(Duration::from_secs(u32::MAX.into())); // no overflow
    let mut told = false;
    loop {
        if let Some(taken) = try_take()? {
            return Ok(taken);
        }
        if Instant::now() >= deadline {
            return Err(RunError::LockTimeout(options.lock_timeout.as_secs()));
        }
        if !told {
            on_event(Event::WaitingForLock);
            told = true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether another session holds the run lock of the version table now, so
/// that its markers are revisions in flight, not failures. Takes nothing
/// for longer than a moment: PostgreSQL reads `pg_locks`, MySQL asks
/// `IS_USED_LOCK`, SQLite tries the directory lock and releases it at once.
pub fn lock_held(backend: &mut dyn Backend, options: &RunOptions) -> Result<bool, DbError> {
    let dialect = backend.dialect();
    let sql = match dialect {
        Dialect::Sqlite => {
            let sql = "SELECT file AS v FROM pragma_database_list WHERE name = 'main'";
            let file = backend.text(sql, &[])?.unwrap_or_default();
            let Some(directory) = std::path::Path::new(&file).parent().filter(|_| !file.is_empty()) else {
                return Ok(false);
            };
            let handle = std::fs::File::open(directory).map_err(|e| DbError::Query(e.to_string()))?;
            return match handle.try_lock() {
                Ok(()) => Ok(false), // released when `handle` closes
                Err(std::fs::TryLockError::WouldBlock) => Ok(true),
                Err(std::fs::TryLockError::Error(e)) => Err(DbError::Query(e.to_string())),
            };
        }
        // A bigint key is held as classid (high half), objid (low half), objsubid 1.
        Dialect::Postgres => {
            "SELECT COUNT(*)::BIGINT AS v FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 \
             AND pid <> pg_backend_pid() AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND classid = ($1::BIGINT >> 32)::OID AND objid = ($1::BIGINT & 4294967295)::OID"
        }
        Dialect::Mysql => {
            "SELECT CAST(COALESCE(IS_USED_LOCK(CONCAT('migraph_', SHA1(?))), CONNECTION_ID()) <> CONNECTION_ID() AS SIGNED) AS v"
        }
    };
    let arg = dialect.lock_arg(locate(backend, options)?);
    Ok(backend.int(sql, &[arg])?.unwrap_or(0) > 0)
}

/// Locks the directory of the SQLite database file (none for `:memory:`).
fn lock_sqlite_directory(
    backend: &mut dyn Backend,
    options: &RunOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Option<std::fs::File>, RunError> {
    let sql = "SELECT file AS v FROM pragma_database_list WHERE name = 'main'";
    let file = backend.text(sql, &[]).map_err(db("cannot find the SQLite database file"))?.unwrap_or_default();
    let Some(directory) = std::path::Path::new(&file).parent().filter(|_| !file.is_empty()) else {
        return Ok(None);
    };
    let handle = std::fs::File::open(directory).map_err(|e| RunError::Db {
        context: format!("cannot open {} to lock it", directory.display()),
        source: DbError::Query(e.to_string()),
    })?;
    wait_for(options, on_event, || match handle.try_lock() {
        Ok(()) => Ok(Some(())),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(RunError::Db {
            context: format!("cannot lock {}", directory.display()),
            source: DbError::Query(e.to_string()),
        }),
    })?;
    Ok(Some(handle))
}

/// `VACUUM INTO <file>.<UTC time>.backup` on the runner's connection (so
/// under the run lock): a consistent copy of the SQLite database. `None`
/// for an in-memory or still empty database, which has nothing to lose.
pub(super) fn backup_sqlite(backend: &mut dyn Backend) -> Result<Option<std::path::PathBuf>, RunError> {
    let sql = "SELECT file AS v FROM pragma_database_list WHERE name = 'main'";
    let file = backend.text(sql, &[]).map_err(db("cannot find the SQLite database file"))?.unwrap_or_default();
    let pages = backend.int("SELECT page_count AS v FROM pragma_page_count", &[]);
    if file.is_empty() || pages.map_err(db("cannot read the SQLite database size"))? == Some(0) {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second].[subsecond digits:6]Z");
    let stamp = time::OffsetDateTime::now_utc().format(&format).unwrap_or_default();
    let target = (0..)
        .map(|n| match n {
            0 => format!("{file}.{stamp}.backup"),
            n => format!("{file}.{stamp}-{n}.backup"),
        })
        .find(|candidate| !std::path::Path::new(candidate).exists())
        .unwrap_or_else(|| format!("{file}.backup"));
    backend.batch(&format!("VACUUM INTO {}", Dialect::Sqlite.literal(&target))).map_err(|source| {
        // Not a backup: a partial copy must not be mistaken for one.
        let _ = std::fs::remove_file(&target);
        RunError::Backup { path: target.clone(), source }
    })?;
    Ok(Some(target.into()))
}
