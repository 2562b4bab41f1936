//! The SQL text that differs between databases: identifier quoting,
//! placeholders, the version table's DDL, transactions, locks, and literal
//! values for offline `--sql` scripts.
//!
//! The version table keeps to text and bigint columns, which every backend
//! (and Diesel's shared type set) agrees on. Table names are validated
//! identifiers and still quoted, so `MyTable` keeps its case on PostgreSQL.

use super::Arg;

/// A SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

/// The suffix of the table that holds markers of revisions in flight.
pub const PENDING_SUFFIX: &str = "_pending";

/// Whether `name` may be used as the version table's name: 1 to 55 ASCII
/// letters, digits or `_`, not starting with a digit (55 leaves room for
/// the `_pending` suffix within PostgreSQL's 63-character limit). Anything
/// else is rejected rather than quoted, so the same name works everywhere.
pub fn valid_table_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 55
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

impl Dialect {
    /// `"name"`, or `` `name` `` on MySQL.
    pub fn ident(self, name: &str) -> String {
        match self {
            Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// A string literal. MySQL also treats backslashes as escapes (unless
    /// `NO_BACKSLASH_ESCAPES` is set), so they are doubled there.
    pub fn literal(self, text: &str) -> String {
        let mut escaped = text.replace('\'', "''");
        if self == Dialect::Mysql {
            escaped = escaped.replace('\\', "\\\\");
        }
        format!("'{escaped}'")
    }

    /// The `n`th (1-based) placeholder.
    fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}"),
            _ => "?".to_string(),
        }
    }

    fn placeholders(self, count: usize) -> String {
        (1..=count).map(|n| self.placeholder(n)).collect::<Vec<_>>().join(", ")
    }

    /// Whether DDL takes part in transactions (false on MySQL, where it commits implicitly).
    pub fn transactional_ddl(self) -> bool {
        self != Dialect::Mysql
    }

    /// Starts a transaction; on SQLite it takes the write lock at once.
    pub fn begin(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
            Dialect::Mysql => "START TRANSACTION",
        }
    }

    fn long_text(self) -> &'static str {
        match self {
            Dialect::Mysql => "LONGTEXT",
            _ => "TEXT",
        }
    }

    fn key_text(self) -> &'static str {
        match self {
            Dialect::Sqlite => "TEXT",
            _ => "VARCHAR(64)",
        }
    }

    fn table_options(self) -> &'static str {
        match self {
            Dialect::Mysql => " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
            _ => "",
        }
    }

    /// Creates the version table if it does not exist.
    pub fn create_version_table(self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n    id {} NOT NULL PRIMARY KEY,\n    parents TEXT NOT NULL,\n    message TEXT NOT NULL,\n    \
             checksum {} NOT NULL,\n    down_sql {},\n    applied_at {} NOT NULL,\n    execution_ms BIGINT NOT NULL\n){}",
            self.ident(table),
            self.key_text(),
            self.key_text(),
            self.long_text(),
            self.key_text(),
            self.table_options()
        )
    }

    /// Creates the table of in-flight markers if it does not exist.
    pub fn create_pending_table(self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n    id {} NOT NULL PRIMARY KEY,\n    direction {} NOT NULL,\n    \
             started_at {} NOT NULL,\n    error {}\n){}",
            self.ident(&format!("{table}{PENDING_SUFFIX}")),
            self.key_text(),
            self.key_text(),
            self.key_text(),
            self.long_text(),
            self.table_options()
        )
    }

    /// Counts tables named by the one placeholder, selected as `v`.
    pub fn count_tables(self) -> String {
        match self {
            Dialect::Sqlite => "SELECT COUNT(*) AS v FROM sqlite_master WHERE type = 'table' AND name = ?".into(),
            Dialect::Postgres => "SELECT COUNT(*)::BIGINT AS v FROM information_schema.tables \
                                  WHERE table_schema = current_schema() AND table_name = $1"
                .into(),
            Dialect::Mysql => {
                "SELECT COUNT(*) AS v FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
                    .into()
            }
        }
    }

    pub fn select_rows(self, table: &str) -> String {
        format!(
            "SELECT id, parents, message, checksum, down_sql, applied_at, execution_ms FROM {} ORDER BY applied_at, id",
            self.ident(table)
        )
    }

    pub fn select_pending(self, table: &str) -> String {
        format!(
            "SELECT id, direction, started_at, error FROM {} ORDER BY id",
            self.ident(&format!("{table}{PENDING_SUFFIX}"))
        )
    }

    /// Whether the row of the placeholder's ID exists, selected as `v`.
    pub fn row_exists(self, table: &str) -> String {
        format!("SELECT COUNT(*) AS v FROM {} WHERE id = {}", self.ident(table), self.placeholder(1))
    }

    /// Inserts a version row: id, parents, message, checksum, down_sql, applied_at, execution_ms.
    pub fn insert_row(self, table: &str) -> String {
        format!(
            "INSERT INTO {} (id, parents, message, checksum, down_sql, applied_at, execution_ms) VALUES ({})",
            self.ident(table),
            self.placeholders(7)
        )
    }

    /// Records a new checksum and down section: checksum, down_sql, id.
    pub fn update_checksum(self, table: &str) -> String {
        format!(
            "UPDATE {} SET checksum = {}, down_sql = {} WHERE id = {}",
            self.ident(table),
            self.placeholder(1),
            self.placeholder(2),
            self.placeholder(3)
        )
    }

    pub fn delete_row(self, table: &str) -> String {
        format!("DELETE FROM {} WHERE id = {}", self.ident(table), self.placeholder(1))
    }

    /// Inserts a marker: id, direction, started_at.
    pub fn insert_pending(self, table: &str) -> String {
        format!(
            "INSERT INTO {} (id, direction, started_at, error) VALUES ({}, NULL)",
            self.ident(&format!("{table}{PENDING_SUFFIX}")),
            self.placeholders(3)
        )
    }

    /// Sets a marker's error: error, id.
    pub fn fail_pending(self, table: &str) -> String {
        format!(
            "UPDATE {} SET error = {} WHERE id = {}",
            self.ident(&format!("{table}{PENDING_SUFFIX}")),
            self.placeholder(1),
            self.placeholder(2)
        )
    }

    pub fn delete_pending(self, table: &str) -> String {
        format!("DELETE FROM {} WHERE id = {}", self.ident(&format!("{table}{PENDING_SUFFIX}")), self.placeholder(1))
    }

    pub fn clear_pending(self, table: &str) -> String {
        format!("DELETE FROM {}", self.ident(&format!("{table}{PENDING_SUFFIX}")))
    }

    /// Tries to take the run lock without waiting, selected as `v` (1 taken, 0 busy).
    /// SQLite has none in SQL: the runner locks the database's directory
    /// (see `runner.rs`), and each revision's `BEGIN IMMEDIATE` takes the write lock.
    pub fn try_lock(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SELECT CASE WHEN pg_try_advisory_lock($1) THEN 1 ELSE 0 END::BIGINT AS v"),
            Dialect::Mysql => {
                Some("SELECT CAST(GET_LOCK(CONCAT('migraph_', SHA1(CONCAT(DATABASE(), '.', ?))), 0) AS SIGNED) AS v")
            }
        }
    }

    pub fn unlock(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SELECT CASE WHEN pg_advisory_unlock($1) THEN 1 ELSE 0 END::BIGINT AS v"),
            Dialect::Mysql => {
                Some("SELECT CAST(RELEASE_LOCK(CONCAT('migraph_', SHA1(CONCAT(DATABASE(), '.', ?)))) AS SIGNED) AS v")
            }
        }
    }

    /// The argument naming the lock of `table`: a 64-bit key on PostgreSQL
    /// (advisory locks are per database), the table name on MySQL (where
    /// locks are server-wide, so the statement adds the database name).
    pub fn lock_arg(self, table: &str) -> Arg {
        match self {
            Dialect::Postgres => {
                let digest = crate::revision::checksum(&format!("migraph lock {table}"), None);
                Arg::Int(i64::from_str_radix(&digest[..15], 16).unwrap_or(0x6d69_6772))
            }
            _ => Arg::Text(table.to_string()),
        }
    }

    /// An expression for the current UTC time as RFC 3339 with six fraction
    /// digits (as the runner writes it), for scripts.
    pub fn now_rfc3339(self) -> &'static str {
        match self {
            Dialect::Sqlite => "strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')",
            Dialect::Postgres => "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
            Dialect::Mysql => "DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ')",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_is_safe_for_every_dialect() {
        assert_eq!(Dialect::Postgres.literal("it's"), "'it''s'");
        assert_eq!(Dialect::Mysql.literal("a\\'b"), "'a\\\\''b'");
        assert_eq!(Dialect::Sqlite.ident("My\"T"), "\"My\"\"T\"");
        assert_eq!(Dialect::Mysql.ident("t`x"), "`t``x`");
        assert!(valid_table_name("migraph_revisions"));
        assert!(!valid_table_name("x\"; DROP TABLE y"));
        assert!(!valid_table_name("has space"));
        assert!(!valid_table_name("9lives"));
        assert!(!valid_table_name(&"t".repeat(56)));
    }

    #[test]
    fn placeholders_follow_the_dialect() {
        assert!(Dialect::Postgres.insert_row("t").ends_with("VALUES ($1, $2, $3, $4, $5, $6, $7)"));
        assert!(Dialect::Mysql.insert_row("t").ends_with("VALUES (?, ?, ?, ?, ?, ?, ?)"));
        assert_eq!(Dialect::Postgres.fail_pending("t"), "UPDATE \"t_pending\" SET error = $1 WHERE id = $2");
    }

    #[test]
    fn lock_keys_depend_on_the_table() {
        let a = Dialect::Postgres.lock_arg("t");
        assert_eq!(a, Dialect::Postgres.lock_arg("t"));
        assert_ne!(a, Dialect::Postgres.lock_arg("u"));
        assert_eq!(Dialect::Mysql.lock_arg("t"), Arg::Text("t".into()));
    }
}
