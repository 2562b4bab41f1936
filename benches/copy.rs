//! `migraph copy` from SQLite to PostgreSQL: rows per second for 100,000
//! rows of seven types, against the floor of `psql \copy` loading the same
//! rows from a CSV file (exported with `sqlite3`) into the same table.
//!
//! Needs a PostgreSQL server: `MIGRAPH_TEST_POSTGRES_URL=postgres://...
//! cargo bench --features postgres --bench copy`; without it, or without
//! `psql`/`sqlite3` for the floor, it says what it skips.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use migraph::backend::{AnyConnection, Backend};
use migraph::copy::{copy, CopyOptions};
use migraph::Migrator;

const ROWS: u64 = 100_000;

const REVISION: &str = "-- id: bench1\n-- parents:\n-- message: users\n-- migrate:up\n\
CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, score DOUBLE PRECISION, active BOOLEAN, \
avatar BLOB, created_at TIMESTAMP, big BIGINT);\n\
-- migrate:up postgres\n\
CREATE TABLE users (id BIGSERIAL PRIMARY KEY, name VARCHAR(100) NOT NULL, score DOUBLE PRECISION, active BOOLEAN, \
avatar BYTEA, created_at TIMESTAMP, big BIGINT);\n\
-- migrate:down\nDROP TABLE users;\n";

fn main() {
    let Ok(admin_url) = std::env::var("MIGRAPH_TEST_POSTGRES_URL") else {
        println!("copy bench skipped: set MIGRAPH_TEST_POSTGRES_URL to a PostgreSQL server");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("revisions")).expect("mkdir");
    std::fs::write(dir.path().join("revisions/bench1.sql"), REVISION).expect("revision");
    let migrator = Migrator::from_dir(dir.path().join("revisions")).expect("revisions");
    let db_file = dir.path().join("app.db");
    let source_url = format!("sqlite://{}", db_file.display());
    let mut source = AnyConnection::connect(&source_url).expect("source");
    migrator.upgrade_heads(&mut source).expect("source schema");
    source
        .batch(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS}) \
             INSERT INTO users (id, name, score, active, avatar, created_at, big) \
             SELECT i, 'user ' || i || ' é🎉', i / 3.0, i % 2, CAST('blob ' || i AS BLOB), \
             datetime(1700000000 + i, 'unixepoch'), i * 1000003 FROM n"
        ))
        .expect("fill");

    let mut admin = AnyConnection::connect(&admin_url).expect("server");
    let name = format!("migraph_bench_copy_{}", std::process::id());
    let (copy_db, floor_db) = (format!("{name}_a"), format!("{name}_b"));
    for db in [&copy_db, &floor_db] {
        admin.batch(&format!("DROP DATABASE IF EXISTS {db}")).expect("drop database");
        admin.batch(&format!("CREATE DATABASE {db}")).expect("create database");
    }
    let url = |db: &str| with_database(&admin_url, db);

    let mut target = AnyConnection::connect(&url(&copy_db)).expect("target");
    let started = Instant::now();
    let report = copy(&migrator, &mut source, &mut target, &CopyOptions::default(), &mut |_| {}).expect("copy");
    let copy_s = started.elapsed().as_secs_f64();
    let rows = report.checks.iter().find(|c| c.table == "users").map_or(0, |c| c.target_rows);
    assert_eq!(rows, ROWS);
    println!(
        "migraph copy sqlite -> postgresql: {ROWS} rows in {copy_s:.2} s = {:.0} rows/s (schema, rows, sequences, \
         verification by digest of both sides, one transaction)",
        ROWS as f64 / copy_s
    );
    drop(target);

    match floor(&db_file, &migrator, &url(&floor_db), dir.path()) {
        Ok(floor_s) => println!(
            "floor: sqlite3 -csv export + psql \\copy: {ROWS} rows in {floor_s:.2} s = {:.0} rows/s; migraph copy takes {:.1}x",
            ROWS as f64 / floor_s,
            copy_s / floor_s
        ),
        Err(why) => println!("floor skipped: {why}"),
    }
    for db in [&copy_db, &floor_db] {
        let _ = admin.batch(&format!("DROP DATABASE IF EXISTS {db}"));
    }
}

/// Seconds to export the rows with `sqlite3 -csv` and load them with `psql \copy`.
fn floor(db_file: &Path, migrator: &Migrator, url: &str, dir: &Path) -> Result<f64, String> {
    let mut target = AnyConnection::connect(url).map_err(|e| e.to_string())?;
    migrator.upgrade_heads(&mut target).map_err(|e| e.to_string())?;
    drop(target);
    let csv = dir.join("users.csv");
    let started = Instant::now();
    let export = Command::new("sqlite3")
        .arg("-csv")
        .arg(db_file)
        .arg("SELECT id, name, score, active, '\\x' || hex(avatar), created_at, big FROM users")
        .output()
        .map_err(|e| format!("sqlite3: {e}"))?;
    if !export.status.success() {
        return Err(format!("sqlite3: {}", String::from_utf8_lossy(&export.stderr)));
    }
    std::fs::write(&csv, &export.stdout).map_err(|e| e.to_string())?;
    let load = Command::new("psql")
        .arg(url)
        .arg("-v")
        .arg("ON_ERROR_STOP=1")
        .arg("-c")
        .arg(format!("\\copy users (id, name, score, active, avatar, created_at, big) FROM '{}' CSV", csv.display()))
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if !load.status.success() {
        return Err(format!("psql: {}", String::from_utf8_lossy(&load.stderr)));
    }
    Ok(started.elapsed().as_secs_f64())
}

/// `url` naming database `name`.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("URL with ://");
    let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{scheme}://{authority}/{name}{query}")
}
