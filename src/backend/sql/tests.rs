//! The dialect's SQL text: quoting, qualification, layout upgrades, sessions, locks.
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
    assert!(valid_schema_name("app_v2"));
    assert!(!valid_schema_name("a.b"));
    assert!(!valid_schema_name(&"s".repeat(64)));
}

#[test]
fn placeholders_follow_the_dialect() {
    assert!(Dialect::Postgres.insert_row("t").ends_with("VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"));
    assert!(Dialect::Mysql.insert_row("t").ends_with("VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    assert_eq!(Dialect::Postgres.fail_pending("t"), "UPDATE \"public\".\"t_pending\" SET error = $1 WHERE id = $2");
}

#[test]
fn every_statement_names_the_table_qualified() {
    let app = Table::new("t", Some("app".into()));
    assert_eq!(Dialect::Postgres.qualified(&app), "\"app\".\"t\"");
    assert_eq!(Dialect::Postgres.qualified(&"t".into()), "\"public\".\"t\"");
    assert_eq!(Dialect::Sqlite.qualified(&app), "main.\"t\"");
    assert_eq!(Dialect::Mysql.qualified(&Table::new("t", Some("db".into()))), "`db`.`t`");
    for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
        let t = Table::new("t", Some("app".into()));
        let q = dialect.qualified(&t);
        let p = dialect.qualified(&t.pending());
        for sql in [
            dialect.create_version_table(&t),
            dialect.select_rows(&t),
            dialect.select_rows_of_layout(&t, false),
            dialect.row_exists(&t),
            dialect.insert_row(&t),
            dialect.update_checksum(&t),
            dialect.delete_row(&t),
            dialect.add_column(&t, "depends_on"),
        ] {
            assert!(sql.contains(&q), "{dialect}: {sql}");
        }
        for sql in [
            dialect.create_pending_table(&t),
            dialect.select_pending(&t),
            dialect.insert_pending(&t),
            dialect.fail_pending(&t),
            dialect.delete_pending(&t),
            dialect.clear_pending(&t),
        ] {
            assert!(sql.contains(&p), "{dialect}: {sql}");
        }
    }
    assert!(Dialect::Postgres.table_on_search_path("t").is_some());
    assert!(Dialect::Postgres.table_on_search_path(&app).is_none(), "only when no schema is configured");
    assert!(Dialect::Sqlite.table_on_search_path("t").is_none());
    let (sql, args) = Dialect::Postgres.table_exists(&app);
    assert!(sql.contains("table_schema = $1 AND table_name = $2"), "{sql}");
    assert!(!sql.contains("current_schema"));
    assert_eq!(args, [Arg::Text("app".into()), Arg::Text("t".into())]);
    let (sql, args) = Dialect::Mysql.table_exists(Table::new("t", Some("db".into())));
    assert!(sql.contains("lower_case_table_names") && sql.contains("table_schema = ?"), "{sql}");
    assert_eq!(args.len(), 3);
    assert!(Dialect::Sqlite.table_exists("T").0.contains("COLLATE NOCASE"));
}

#[test]
fn older_tables_are_brought_up_to_date() {
    assert_eq!(
        Dialect::Postgres.add_column("t", "transaction"),
        "ALTER TABLE \"public\".\"t\" ADD COLUMN \"transaction\" BIGINT NOT NULL DEFAULT 1"
    );
    assert_eq!(
        Dialect::Mysql.add_column(Table::new("t", Some("d".into())), "depends_on"),
        "ALTER TABLE `d`.`t` ADD COLUMN depends_on LONGTEXT"
    );
    assert!(Dialect::Mysql.widen_text_columns("t").is_some_and(|s| s.contains("MODIFY message LONGTEXT")));
    assert!(Dialect::Sqlite.widen_text_columns("t").is_none());
    assert!(Dialect::Mysql.create_version_table("t").contains("message LONGTEXT NOT NULL"));
    assert!(!Dialect::Mysql.create_version_table("t").contains(" TEXT"));
}

#[test]
fn sessions_are_put_back() {
    let t = Table::new("t", Some("db".into()));
    assert_eq!(Dialect::Mysql.restore_session(&t, None).as_deref(), Some("USE `db`"));
    assert_eq!(
        Dialect::Postgres.restore_session(&t, Some("\"$user\", public")).as_deref(),
        Some("SELECT set_config('search_path', '\"$user\", public', false)")
    );
    // A schema name with a quote and a backslash stays inside the literal.
    assert_eq!(
        Dialect::Postgres.restore_session(&t, Some("a'b\\c")).as_deref(),
        Some("SELECT set_config('search_path', E'a''b\\\\c', false)")
    );
    assert_eq!(Dialect::Sqlite.restore_session(&t, None), None);
}

#[test]
fn lock_keys_depend_on_the_table() {
    let a = Dialect::Postgres.lock_arg("t");
    assert_eq!(a, Dialect::Postgres.lock_arg("t"));
    assert_eq!(a, Dialect::Postgres.lock_arg(Table::new("t", Some("public".into()))));
    assert_ne!(a, Dialect::Postgres.lock_arg("u"));
    assert_ne!(a, Dialect::Postgres.lock_arg(Table::new("t", Some("app".into()))));
    assert_eq!(Dialect::Mysql.lock_arg(Table::new("t", Some("db".into()))), Arg::Text("db.t".into()));
}

#[test]
fn mysql_id_columns_compare_case_sensitively() {
    let binary = "id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY";
    assert!(Dialect::Mysql.create_version_table("t").contains(binary));
    assert!(Dialect::Mysql.create_pending_table("t").contains(binary));
    assert!(Dialect::Mysql.create_version_table("t").contains("checksum VARCHAR(64) NOT NULL"));
    assert!(Dialect::Postgres.create_version_table("t").contains("id VARCHAR(64) NOT NULL PRIMARY KEY"));
    assert!(Dialect::Sqlite.create_version_table("t").contains("id TEXT NOT NULL PRIMARY KEY"));
    let t = Table::new("t", Some("d".into()));
    let (sql, args) = Dialect::Mysql.count_case_insensitive_ids(&t).unwrap();
    assert!(sql.contains("column_name IN ('id') AND collation_name <> 'utf8mb4_bin'"), "{sql}");
    assert_eq!(args[0], Arg::Text("d".into()));
    assert_eq!(
        Dialect::Mysql.case_sensitive_ids(t.pending()).unwrap(),
        "ALTER TABLE `d`.`t_pending` MODIFY id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
    );
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        assert!(dialect.count_case_insensitive_ids("t").is_none() && dialect.case_sensitive_ids("t").is_none());
    }
}
