//! `status` says whether the live schema was verified (`migraph verify`)
//! and whether the schema or the applied revisions changed since.

mod common;

use std::path::Path;

use common::{backend_tests, run_cmd, table_revision, AnyDb, Ran, Server};
use migraph::backend::Backend as _;

/// migraph in `dir` on `url`, keeping `verify` records in `cache`.
fn mg(dir: &Path, cache: &Path, url: &str, args: &[&str]) -> Ran {
    let mut cmd = common::migraph(dir, url);
    cmd.env("MIGRAPH_CACHE_DIR", cache);
    run_cmd(cmd, args)
}

fn schema_line(status: &Ran) -> String {
    let line = status.stdout.lines().find(|l| l.starts_with("schema:")).unwrap_or_else(|| panic!("{status}"));
    line.to_string()
}

fn status_is_told_of_verification(server: Option<Server>) {
    let project = common::project();
    let dir = project.path();
    let cache = dir.join("cache");
    let db = AnyDb::new(server);
    table_revision(dir, "r1", "");
    table_revision(dir, "r2", "r1");
    mg(dir, &cache, &db.url, &["upgrade", "r1"]).ok();

    let before = mg(dir, &cache, &db.url, &["status"]).ok();
    assert!(schema_line(&before).starts_with("schema:   not verified (`migraph verify` compares it"), "{before}");
    let json: serde_json::Value =
        serde_json::from_str(&mg(dir, &cache, &db.url, &["status", "--json"]).ok().stdout).unwrap();
    assert!(json["verified"].is_null(), "{json}");

    mg(dir, &cache, &db.url, &["verify"]).ok();
    let after = mg(dir, &cache, &db.url, &["status"]).ok();
    let line = schema_line(&after);
    assert!(
        line.starts_with("schema:   verified on 20") && line.ends_with(": as the applied revisions build it"),
        "{after}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&mg(dir, &cache, &db.url, &["status", "--json"]).ok().stdout).unwrap();
    assert_eq!(json["verified"]["freshness"], "current", "{json}");
    assert_eq!(json["verified"]["differences"], 0, "{json}");

    // Applying a revision makes the record stale.
    mg(dir, &cache, &db.url, &["upgrade", "heads"]).ok();
    let stale = mg(dir, &cache, &db.url, &["status"]).ok();
    assert!(schema_line(&stale).starts_with("schema:   changed since verified on 20"), "{stale}");
    mg(dir, &cache, &db.url, &["verify"]).ok();
    assert!(schema_line(&mg(dir, &cache, &db.url, &["status"]).ok()).contains("as the applied revisions build it"));

    // A change by hand: stale again, and verify records the difference.
    db.connect().batch("CREATE TABLE by_hand (id INTEGER PRIMARY KEY)").unwrap();
    let changed = mg(dir, &cache, &db.url, &["status"]).ok();
    assert!(schema_line(&changed).starts_with("schema:   changed since verified"), "{changed}");
    let drift = mg(dir, &cache, &db.url, &["verify"]).failed();
    assert!(drift.stdout.contains("table `by_hand`"), "{drift}");
    let known = mg(dir, &cache, &db.url, &["status"]).ok();
    assert!(
        schema_line(&known)
            .contains(": 1 difference(s) from what the applied revisions build (`migraph verify` lists them)"),
        "{known}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&mg(dir, &cache, &db.url, &["status", "--json"]).ok().stdout).unwrap();
    assert_eq!(json["verified"]["differences"], 1, "{json}");

    // The record holds fingerprints, never the password; another database
    // (or table) has no record.
    for entry in std::fs::read_dir(cache.join("verified")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains("by_hand") && !text.contains("secret"), "{text}");
    }
    let other = mg(dir, &cache, &db.url, &["--table", "other_versions", "status"]).ok();
    assert!(schema_line(&other).starts_with("schema:   not verified"), "{other}");
}

/// A password in the URL never reaches the record.
fn password_is_not_recorded() {
    let project = common::project();
    let dir = project.path();
    let cache = dir.join("cache");
    let db = AnyDb::new(Some(Server::Postgres));
    let url = db.url.replacen("://postgres@", "://postgres:secret@", 1);
    assert!(url.contains(":secret@"), "the test URL names user postgres: {url}");
    table_revision(dir, "r1", "");
    mg(dir, &cache, &url, &["upgrade"]).ok();
    mg(dir, &cache, &url, &["verify"]).ok();
    let records: Vec<String> = std::fs::read_dir(cache.join("verified"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(records.len(), 1);
    assert!(!records[0].contains("secret") && records[0].contains("***"), "{}", records[0]);
}

backend_tests! {
    sqlite status_is_told_of_verification_sqlite => status_is_told_of_verification(None),
    postgres status_is_told_of_verification_postgres => status_is_told_of_verification(Some(Server::Postgres)),
    mysql status_is_told_of_verification_mysql => status_is_told_of_verification(Some(Server::Mysql)),
    postgres a_password_is_not_recorded => password_is_not_recorded(),
}
