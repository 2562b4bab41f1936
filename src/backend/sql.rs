//! The SQL text that differs between databases: identifier quoting,
//! placeholders, the version table's DDL, transactions, locks, and literal
//! values for offline `--sql` scripts.
//!
//! The version table keeps to text and bigint columns, which every backend
//! (and Diesel's shared type set) agrees on. Table names are validated
//! identifiers and still quoted, so `MyTable` keeps its case on PostgreSQL.
//!
//! Every statement names the table fully qualified ([`Table`]): `main."t"`
//! on SQLite (a `TEMP` table or an attached database of the same name cannot
//! shadow it), `"schema"."t"` on PostgreSQL (default `public`, so neither
//! `search_path` nor a schema named after the login role can move it), and
//! `` `database`.`t` `` on MySQL with the database captured at the start of
//! a run (so `USE other` inside a revision cannot move rows). Whether a
//! table exists is asked the way the database compares names: SQLite
//! ignores case, PostgreSQL compares quoted names exactly, MySQL follows
//! `lower_case_table_names`.

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

/// The PostgreSQL schema of the version table unless one is configured.
pub const DEFAULT_SCHEMA: &str = "public";

/// Whether `name` may name the version table's PostgreSQL schema: 1 to 63
/// ASCII letters, digits or `_`, not starting with a digit.
pub fn valid_schema_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

/// Where the version table lives: its name and what qualifies it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Table {
    pub name: String,
    /// PostgreSQL: the schema (`None`: [`DEFAULT_SCHEMA`]). MySQL: the
    /// database (`None`: the session's `DATABASE()`; the runner captures it
    /// once at the start of a run). SQLite: unused, always `main`.
    pub schema: Option<String>,
}

impl Table {
    pub fn new(name: impl Into<String>, schema: Option<String>) -> Table {
        Table { name: name.into(), schema }
    }

    /// The table of in-flight markers, beside this one.
    pub fn pending(&self) -> Table {
        Table { name: format!("{}{PENDING_SUFFIX}", self.name), schema: self.schema.clone() }
    }
}

impl From<&str> for Table {
    fn from(name: &str) -> Table {
        Table::new(name, None)
    }
}

impl From<&String> for Table {
    fn from(name: &String) -> Table {
        Table::new(name.as_str(), None)
    }
}

impl From<&Table> for Table {
    fn from(table: &Table) -> Table {
        table.clone()
    }
}

/// Columns added to the version table after its first layout, in the
/// order they are added to an older table.
pub const ADDED_COLUMNS: [&str; 2] = ["depends_on", "transaction"];

/// The type of MySQL's revision-ID columns: compared byte for byte, so IDs
/// that differ only in case are two revisions.
const MYSQL_ID_TYPE: &str = "VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin";

/// Version-table columns that hold free text of any length.
const LONG_COLUMNS: [&str; 4] = ["parents", "message", "down_sql", "depends_on"];

impl Dialect {
    /// `"name"`, or `` `name` `` on MySQL.
    pub fn ident(self, name: &str) -> String {
        match self {
            Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// The table's name as every statement writes it: qualified, quoted.
    pub fn qualified(self, table: &Table) -> String {
        match (self, &table.schema) {
            (Dialect::Sqlite, _) => format!("main.{}", self.ident(&table.name)),
            (Dialect::Postgres, schema) => {
                format!("{}.{}", self.ident(schema.as_deref().unwrap_or(DEFAULT_SCHEMA)), self.ident(&table.name))
            }
            (Dialect::Mysql, Some(database)) => format!("{}.{}", self.ident(database), self.ident(&table.name)),
            (Dialect::Mysql, None) => self.ident(&table.name),
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

    /// The type of free-text columns: `LONGTEXT` on MySQL, whose `TEXT`
    /// holds only 64 KB.
    fn long_text(self) -> &'static str {
        match self {
            Dialect::Mysql => "LONGTEXT",
            _ => "TEXT",
        }
    }

    /// The longest text a free-text column holds, in bytes.
    pub fn max_text_bytes(self) -> usize {
        match self {
            Dialect::Sqlite => 1_000_000_000,   // SQLITE_MAX_LENGTH
            Dialect::Postgres => 1_073_741_823, // 1 GB
            Dialect::Mysql => 4_294_967_295,    // LONGTEXT
        }
    }

    fn key_text(self) -> &'static str {
        match self {
            Dialect::Sqlite => "TEXT",
            _ => "VARCHAR(64)",
        }
    }

    /// The type of the revision-ID columns. IDs are case-sensitive, and
    /// MySQL compares `VARCHAR` without regard to case by default (`Abc`
    /// and `abc` would be one primary key), so there it has a binary
    /// collation. PostgreSQL and SQLite compare text exactly.
    fn id_text(self) -> &'static str {
        match self {
            Dialect::Mysql => MYSQL_ID_TYPE,
            _ => self.key_text(),
        }
    }

    fn table_options(self) -> &'static str {
        match self {
            Dialect::Mysql => " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
            _ => "",
        }
    }

    /// The definition of a column in [`ADDED_COLUMNS`].
    fn added_column(self, column: &str) -> String {
        match column {
            "transaction" => format!("{} BIGINT NOT NULL DEFAULT 1", self.ident(column)),
            _ => format!("{column} {}", self.long_text()),
        }
    }

    /// Creates the version table if it does not exist.
    pub fn create_version_table(self, table: impl Into<Table>) -> String {
        let table = table.into();
        let added = ADDED_COLUMNS.map(|c| format!(",\n    {}", self.added_column(c))).concat();
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n    id {id} NOT NULL PRIMARY KEY,\n    parents {long} NOT NULL,\n    \
             message {long} NOT NULL,\n    checksum {key} NOT NULL,\n    down_sql {long},\n    applied_at {key} NOT NULL,\n    \
             execution_ms BIGINT NOT NULL{added}\n){}",
            self.qualified(&table),
            self.table_options(),
            id = self.id_text(),
            key = self.key_text(),
            long = self.long_text(),
        )
    }

    /// Creates the table of in-flight markers if it does not exist.
    pub fn create_pending_table(self, table: impl Into<Table>) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n    id {} NOT NULL PRIMARY KEY,\n    direction {} NOT NULL,\n    \
             started_at {} NOT NULL,\n    error {}\n){}",
            self.qualified(&table.into().pending()),
            self.id_text(),
            self.key_text(),
            self.key_text(),
            self.long_text(),
            self.table_options()
        )
    }

    /// Creates the PostgreSQL schema of the version table if it does not
    /// exist (`None` for `public`, and elsewhere: SQLite's `main` and
    /// MySQL's database exist).
    pub fn create_schema(self, table: impl Into<Table>) -> Option<String> {
        match (self, table.into().schema) {
            (Dialect::Postgres, Some(schema)) if schema != DEFAULT_SCHEMA => {
                Some(format!("CREATE SCHEMA IF NOT EXISTS {}", self.ident(&schema)))
            }
            _ => None,
        }
    }

    /// Adds one of [`ADDED_COLUMNS`] to a version table of an older layout.
    pub fn add_column(self, table: impl Into<Table>, column: &str) -> String {
        format!("ALTER TABLE {} ADD COLUMN {}", self.qualified(&table.into()), self.added_column(column))
    }

    /// MySQL: turns the free-text columns of an older layout (`TEXT`,
    /// 64 KB) into `LONGTEXT`. `None` on the other databases.
    pub fn widen_text_columns(self, table: impl Into<Table>) -> Option<String> {
        (self == Dialect::Mysql).then(|| {
            format!(
                "ALTER TABLE {} MODIFY parents LONGTEXT NOT NULL, MODIFY message LONGTEXT NOT NULL, MODIFY down_sql LONGTEXT",
                self.qualified(&table.into())
            )
        })
    }

    /// MySQL: counts ID columns of `table` (the version table or the marker
    /// table) whose collation is not binary, as older releases created
    /// them, selected as `v`. `None` on the other databases.
    pub fn count_case_insensitive_ids(self, table: impl Into<Table>) -> Option<(String, Vec<Arg>)> {
        (self == Dialect::Mysql)
            .then(|| self.count_columns(&table.into(), &["id"], " AND collation_name <> 'utf8mb4_bin'"))
    }

    /// MySQL: makes the ID column of `table` case-sensitive (see
    /// [`Dialect::count_case_insensitive_ids`]), keeping its primary key.
    /// `None` on the other databases.
    pub fn case_sensitive_ids(self, table: impl Into<Table>) -> Option<String> {
        (self == Dialect::Mysql)
            .then(|| format!("ALTER TABLE {} MODIFY id {MYSQL_ID_TYPE} NOT NULL", self.qualified(&table.into())))
    }

    /// `table_schema = … AND table_name = …` for `information_schema`,
    /// comparing names as the database does, with its arguments. `next` is
    /// the number of the first placeholder.
    fn catalog_filter(self, table: &Table, next: usize) -> (String, Vec<Arg>) {
        let mut args = Vec::new();
        let schema = match (self, &table.schema) {
            (Dialect::Mysql, None) => "DATABASE()".to_string(),
            (_, schema) => {
                args.push(Arg::Text(schema.clone().unwrap_or_else(|| DEFAULT_SCHEMA.to_string())));
                self.placeholder(next)
            }
        };
        let name = match self {
            // lower_case_table_names = 0: names are case-sensitive; 1 and 2: not.
            Dialect::Mysql => {
                args.push(Arg::Text(table.name.clone()));
                args.push(Arg::Text(table.name.clone()));
                "CASE WHEN @@lower_case_table_names = 0 THEN BINARY table_name = BINARY ? \
                 ELSE LOWER(table_name) = LOWER(?) END"
                    .to_string()
            }
            _ => {
                args.push(Arg::Text(table.name.clone()));
                format!("table_name = {}", self.placeholder(next + args.len() - 1))
            }
        };
        (format!("table_schema = {schema} AND {name}"), args)
    }

    /// Counts tables named `table` (1 when it exists), selected as `v`, with its arguments.
    pub fn table_exists(self, table: impl Into<Table>) -> (String, Vec<Arg>) {
        let table = table.into();
        match self {
            // SQLite compares table names without regard to ASCII case.
            Dialect::Sqlite => (
                "SELECT COUNT(*) AS v FROM main.sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE".into(),
                vec![Arg::Text(table.name)],
            ),
            _ => {
                let (filter, args) = self.catalog_filter(&table, 1);
                let cast = if self == Dialect::Postgres { "::BIGINT" } else { "" };
                (format!("SELECT COUNT(*){cast} AS v FROM information_schema.tables WHERE {filter}"), args)
            }
        }
    }

    /// PostgreSQL with no schema configured: the first schema of the
    /// session's `search_path` other than `public` that has a table named
    /// like the version table, selected as `v` (where releases before the
    /// table was qualified created it). `None` elsewhere.
    pub fn table_on_search_path(self, table: impl Into<Table>) -> Option<(String, Vec<Arg>)> {
        let table = table.into();
        (self == Dialect::Postgres && table.schema.is_none()).then(|| {
            (
                "SELECT table_schema::text AS v FROM information_schema.tables WHERE table_name = $1 \
                 AND table_schema::name = ANY (current_schemas(false)) AND table_schema <> 'public' \
                 ORDER BY array_position(current_schemas(false), table_schema::name) LIMIT 1"
                    .to_string(),
                vec![Arg::Text(table.name)],
            )
        })
    }

    /// Counts which of [`ADDED_COLUMNS`] the existing table has, selected as `v`.
    pub fn count_added_columns(self, table: impl Into<Table>) -> (String, Vec<Arg>) {
        self.count_columns(&table.into(), &ADDED_COLUMNS, "")
    }

    /// Counts columns named `column` in the existing table (1 or 0), selected as `v`.
    pub fn count_columns_named(self, table: impl Into<Table>, column: &str) -> (String, Vec<Arg>) {
        self.count_columns(&table.into(), &[column], "")
    }

    /// MySQL: counts free-text columns still of a type shorter than
    /// `LONGTEXT`, selected as `v`. `None` elsewhere.
    pub fn count_narrow_columns(self, table: impl Into<Table>) -> Option<(String, Vec<Arg>)> {
        (self == Dialect::Mysql)
            .then(|| self.count_columns(&table.into(), &LONG_COLUMNS, " AND data_type <> 'longtext'"))
    }

    fn count_columns(self, table: &Table, columns: &[&str], condition: &str) -> (String, Vec<Arg>) {
        let names = columns.iter().map(|c| self.literal(c)).collect::<Vec<_>>().join(", ");
        match self {
            Dialect::Sqlite => (
                format!("SELECT COUNT(*) AS v FROM pragma_table_info(?, 'main') WHERE name IN ({names}){condition}"),
                vec![Arg::Text(table.name.clone())],
            ),
            _ => {
                let (filter, args) = self.catalog_filter(table, 1);
                let cast = if self == Dialect::Postgres { "::BIGINT" } else { "" };
                (
                    format!(
                        "SELECT COUNT(*){cast} AS v FROM information_schema.columns \
                         WHERE {filter} AND column_name IN ({names}){condition}"
                    ),
                    args,
                )
            }
        }
    }

    /// Selects the version rows. `current`: the table has every column of
    /// this layout; otherwise the added columns read as their defaults.
    pub fn select_rows(self, table: impl Into<Table>) -> String {
        self.select_rows_of_layout(table, true)
    }

    /// [`Dialect::select_rows`] for a table of the current layout or an older one.
    pub fn select_rows_of_layout(self, table: impl Into<Table>, current: bool) -> String {
        self.select_rows_with(table, current, "down_sql")
    }

    /// [`Dialect::select_rows_of_layout`] without the text of the down
    /// sections: `down_sql` is `''` where the row has one (NULL stays NULL),
    /// for the commands that only need to know whether it is there.
    pub fn select_rows_without_down_sql(self, table: impl Into<Table>, current: bool) -> String {
        self.select_rows_with(table, current, "CASE WHEN down_sql IS NULL THEN NULL ELSE '' END AS down_sql")
    }

    /// The down section of the row of the placeholder's ID, selected as `v`.
    pub fn select_down_sql(self, table: impl Into<Table>) -> String {
        format!("SELECT down_sql AS v FROM {} WHERE id = {}", self.qualified(&table.into()), self.placeholder(1))
    }

    fn select_rows_with(self, table: impl Into<Table>, current: bool, down_sql: &str) -> String {
        let transaction = self.ident("transaction");
        let added = if current {
            format!("depends_on, {transaction}")
        } else {
            match self {
                Dialect::Sqlite => format!("NULL AS depends_on, 1 AS {transaction}"),
                Dialect::Postgres => format!("CAST(NULL AS TEXT) AS depends_on, CAST(1 AS BIGINT) AS {transaction}"),
                Dialect::Mysql => format!("CAST(NULL AS CHAR) AS depends_on, CAST(1 AS SIGNED) AS {transaction}"),
            }
        };
        format!(
            "SELECT id, parents, message, checksum, {down_sql}, applied_at, execution_ms, {added} FROM {} ORDER BY applied_at, id",
            self.qualified(&table.into())
        )
    }

    pub fn select_pending(self, table: impl Into<Table>) -> String {
        format!("SELECT id, direction, started_at, error FROM {} ORDER BY id", self.qualified(&table.into().pending()))
    }

    /// Whether the row of the placeholder's ID exists, selected as `v`.
    pub fn row_exists(self, table: impl Into<Table>) -> String {
        format!("SELECT COUNT(*) AS v FROM {} WHERE id = {}", self.qualified(&table.into()), self.placeholder(1))
    }

    /// Inserts a version row: id, parents, message, checksum, down_sql,
    /// applied_at, execution_ms, depends_on, transaction (0 or 1).
    pub fn insert_row(self, table: impl Into<Table>) -> String {
        self.insert_row_values(table, &self.placeholders(9))
    }

    /// Inserts `rows` version rows in one statement: the nine arguments of
    /// [`Dialect::insert_row`] for each row, in order.
    pub fn insert_rows(self, table: impl Into<Table>, rows: usize) -> String {
        let values: Vec<String> = (0..rows)
            .map(|r| format!("({})", (1..=9).map(|n| self.placeholder(r * 9 + n)).collect::<Vec<_>>().join(", ")))
            .collect();
        self.insert_row_tuples(table, &values.join(", "))
    }

    /// Deletes the version rows of `rows` IDs (one argument each) in one statement.
    pub fn delete_rows(self, table: impl Into<Table>, rows: usize) -> String {
        let ids: Vec<String> = (1..=rows).map(|n| self.placeholder(n)).collect();
        format!("DELETE FROM {} WHERE id IN ({})", self.qualified(&table.into()), ids.join(", "))
    }

    /// Records a new checksum and down section: checksum, down_sql, id.
    pub fn update_checksum(self, table: impl Into<Table>) -> String {
        format!(
            "UPDATE {} SET checksum = {}, down_sql = {} WHERE id = {}",
            self.qualified(&table.into()),
            self.placeholder(1),
            self.placeholder(2),
            self.placeholder(3)
        )
    }

    pub fn delete_row(self, table: impl Into<Table>) -> String {
        self.delete_row_where(table, &self.placeholder(1))
    }

    /// Inserts a marker: id, direction, started_at.
    pub fn insert_pending(self, table: impl Into<Table>) -> String {
        self.insert_pending_values(table, &self.placeholders(3))
    }

    /// Sets a marker's error: error, id.
    pub fn fail_pending(self, table: impl Into<Table>) -> String {
        format!(
            "UPDATE {} SET error = {} WHERE id = {}",
            self.qualified(&table.into().pending()),
            self.placeholder(1),
            self.placeholder(2)
        )
    }

    pub fn delete_pending(self, table: impl Into<Table>) -> String {
        format!("DELETE FROM {} WHERE id = {}", self.qualified(&table.into().pending()), self.placeholder(1))
    }

    pub fn clear_pending(self, table: impl Into<Table>) -> String {
        format!("DELETE FROM {}", self.qualified(&table.into().pending()))
    }

    /// [`Dialect::insert_row`] with its nine values written as `values`
    /// (placeholders, or SQL expressions for a batch or a script, which bind
    /// nothing: literals, or the `execution_ms` the server measures).
    pub fn insert_row_values(self, table: impl Into<Table>, values: &str) -> String {
        self.insert_row_tuples(table, &format!("({values})"))
    }

    /// Inserts the version rows `tuples` (`(..), (..)`, nine values each).
    fn insert_row_tuples(self, table: impl Into<Table>, tuples: &str) -> String {
        format!(
            "INSERT INTO {} (id, parents, message, checksum, down_sql, applied_at, execution_ms, depends_on, {}) VALUES {tuples}",
            self.qualified(&table.into()),
            self.ident("transaction"),
        )
    }

    /// [`Dialect::delete_row`] for `id`, written in as a literal.
    pub fn delete_row_literal(self, table: impl Into<Table>, id: &str) -> String {
        self.delete_row_where(table, &crate::script::literal(self, id))
    }

    /// Deletes the row whose ID is `id` (a placeholder or a literal).
    fn delete_row_where(self, table: impl Into<Table>, id: &str) -> String {
        format!("DELETE FROM {} WHERE id = {id}", self.qualified(&table.into()))
    }

    /// Inserts a marker whose id, direction and started_at are `values`.
    fn insert_pending_values(self, table: impl Into<Table>, values: &str) -> String {
        format!(
            "INSERT INTO {} (id, direction, started_at, error) VALUES ({values}, NULL)",
            self.qualified(&table.into().pending())
        )
    }

    /// [`Dialect::insert_pending`] with its values written in as literals.
    pub fn insert_pending_literal(
        self,
        table: impl Into<Table>,
        id: &str,
        direction: &str,
        started_at: &str,
    ) -> String {
        let values = [id, direction, started_at].map(|v| crate::script::literal(self, v));
        self.insert_pending_values(table, &values.join(", "))
    }

    /// [`Dialect::delete_pending`] for `id`, written in as a literal.
    pub fn delete_pending_literal(self, table: impl Into<Table>, id: &str) -> String {
        self.delete_row_literal(table.into().pending(), id)
    }

    /// The session's database, selected as `v` (MySQL; where the version
    /// table lives for the whole run).
    pub fn current_database(self) -> Option<&'static str> {
        (self == Dialect::Mysql).then_some("SELECT DATABASE() AS v")
    }

    /// The session setting a revision may change that decides where
    /// unqualified names go, selected as `v` (PostgreSQL's `search_path`).
    pub fn session_setting(self) -> Option<&'static str> {
        (self == Dialect::Postgres).then_some("SELECT current_setting('search_path') AS v")
    }

    /// The statement that puts the session back after a revision:
    /// PostgreSQL sets the `search_path` read by
    /// [`Dialect::session_setting`] (written in as a literal, so the
    /// statement also runs inside a revision's batch), MySQL returns to the
    /// table's database.
    pub fn restore_session(self, table: &Table, setting: Option<&str>) -> Option<String> {
        match (self, setting, &table.schema) {
            (Dialect::Postgres, Some(path), _) => {
                Some(format!("SELECT set_config('search_path', {}, false)", crate::script::literal(self, path)))
            }
            (Dialect::Mysql, _, Some(database)) => Some(format!("USE {}", self.ident(database))),
            _ => None,
        }
    }

    /// Tries to take the run lock without waiting, selected as `v` (1 taken, 0 busy).
    /// SQLite has none in SQL: the runner locks the database's directory
    /// (see `runner.rs`), and each revision's `BEGIN IMMEDIATE` takes the write lock.
    pub fn try_lock(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SELECT CASE WHEN pg_try_advisory_lock($1) THEN 1 ELSE 0 END::BIGINT AS v"),
            Dialect::Mysql => Some("SELECT CAST(GET_LOCK(CONCAT('migraph_', SHA1(?)), 0) AS SIGNED) AS v"),
        }
    }

    pub fn unlock(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SELECT CASE WHEN pg_advisory_unlock($1) THEN 1 ELSE 0 END::BIGINT AS v"),
            Dialect::Mysql => Some("SELECT CAST(RELEASE_LOCK(CONCAT('migraph_', SHA1(?))) AS SIGNED) AS v"),
        }
    }

    /// The argument naming the lock of `table`: a 64-bit key on PostgreSQL
    /// (advisory locks are per database; the key of a table in `public` is
    /// the one earlier releases used), `database.table` on MySQL, where
    /// locks are server-wide. On MySQL the table's database must be known
    /// (the runner captures it before locking).
    pub fn lock_arg(self, table: impl Into<Table>) -> Arg {
        let table = table.into();
        match self {
            Dialect::Postgres => {
                let name = match table.schema.as_deref() {
                    None | Some(DEFAULT_SCHEMA) => table.name,
                    Some(schema) => format!("{schema}.{}", table.name),
                };
                let digest = crate::revision::checksum(&format!("migraph lock {name}"), None);
                Arg::Int(i64::from_str_radix(&digest[..15], 16).unwrap_or(0x6d69_6772))
            }
            _ => Arg::Text(match table.schema {
                Some(database) => format!("{database}.{}", table.name),
                None => table.name,
            }),
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
mod tests;
