//! A history shaped like a Django project, through the real binary on
//! SQLite: several apps, each a labelled root (`contenttypes`, `auth`,
//! `shop`, `blog`), a merge inside an app, and cross-app depends-on, as
//! Django's per-app migration graphs with `dependencies = [("auth", "0002")]`.
//!
//! ```text
//! contenttypes: ct_0001 ─ ct_0002
//! auth:         auth_0001 ─ auth_0002 ─ auth_0003a ─ auth_0004_merge ─ auth_0005
//!                                    └─ auth_0003b ─┘
//!               auth_0001 depends on ct_0001
//! shop:         shop_0001 ─ shop_0002 ─ shop_0003 ─ shop_0004
//!               shop_0001 depends on auth_0001, shop_0003 on auth_0004_merge
//! blog:         blog_0001 ─ blog_0002 ─ blog_0003
//!               blog_0001 depends on ct_0002, blog_0002 on auth_0002
//! ```
//!
//! Every revision creates table `t_<id>`; each test reads the version table
//! and the tables back from the database file.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{fails, ok, sqlite_url, table_revision};

/// `(id, parents, depends-on, label)` of the history above.
const HISTORY: &[(&str, &str, &str, &str)] = &[
    ("ct_0001", "", "", "contenttypes"),
    ("ct_0002", "ct_0001", "", ""),
    ("auth_0001", "", "ct_0001", "auth"),
    ("auth_0002", "auth_0001", "", ""),
    ("auth_0003a", "auth_0002", "", ""),
    ("auth_0003b", "auth_0002", "", ""),
    ("auth_0004_merge", "auth_0003a auth_0003b", "", ""),
    ("auth_0005", "auth_0004_merge", "", ""),
    ("shop_0001", "", "auth_0001", "shop"),
    ("shop_0002", "shop_0001", "", ""),
    ("shop_0003", "shop_0002", "auth_0004_merge", ""),
    ("shop_0004", "shop_0003", "", ""),
    ("blog_0001", "", "ct_0002", "blog"),
    ("blog_0002", "blog_0001", "auth_0002", ""),
    ("blog_0003", "blog_0002", "", ""),
];

/// Writes the history: table revisions with their labels and depends-on.
fn django_project(dir: &Path) {
    for (id, parents, depends_on, label) in HISTORY {
        table_revision(dir, id, parents);
        let path = dir.join("revisions").join(format!("{id}.sql"));
        let text = std::fs::read_to_string(&path).expect("read");
        let mut header = String::new();
        if !label.is_empty() {
            header.push_str(&format!("-- labels: {label}\n"));
        }
        if !depends_on.is_empty() {
            header.push_str(&format!("-- depends-on: {depends_on}\n"));
        }
        std::fs::write(&path, text.replacen("-- message:", &format!("{header}-- message:"), 1)).expect("write");
    }
}

fn all() -> BTreeSet<String> {
    HISTORY.iter().map(|(id, ..)| id.to_string()).collect()
}

/// Every ID but those starting with one of `gone`.
fn all_but(gone: &[&str]) -> BTreeSet<String> {
    all().into_iter().filter(|id| !gone.iter().any(|g| id.starts_with(g))).collect()
}

/// The applied IDs, read from the version table, and checked against the
/// `t_<id>` tables the revisions created.
fn applied(dir: &Path) -> BTreeSet<String> {
    let path = dir.join("app.db");
    let conn = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let mut statement = conn.prepare("SELECT id FROM migraph_revisions").expect("prepare");
    let ids: BTreeSet<String> =
        statement.query_map([], |row| row.get::<_, String>(0)).expect("query").map(|id| id.expect("id")).collect();
    let tables: BTreeSet<String> =
        common::sqlite_tables(&path).iter().filter_map(|t| t.strip_prefix("t_")).map(str::to_string).collect();
    assert_eq!(ids, tables, "the version table and the tables disagree");
    ids
}

fn project() -> (tempfile::TempDir, String) {
    let dir = common::project();
    django_project(dir.path());
    let url = sqlite_url(dir.path());
    (dir, url)
}

/// `./manage.py migrate auth zero`: the app and whatever needs it go; the
/// apps it needs stay.
#[test]
fn downgrade_app_label_at_base_removes_exactly_that_app_and_what_needs_it() {
    let (dir, url) = project();
    let d = dir.path();
    ok(d, &url, &["upgrade", "heads"]);
    assert_eq!(applied(d), all());

    ok(d, &url, &["downgrade", "shop@base"]);
    assert_eq!(applied(d), all_but(&["shop_"]), "nothing needs shop");

    ok(d, &url, &["upgrade", "heads"]);
    ok(d, &url, &["downgrade", "auth@base"]);
    // shop_0001 depends on auth_0001 and blog_0002 on auth_0002: both
    // apps' lines of work from there go; contenttypes and blog_0001 stay.
    assert_eq!(applied(d), all_but(&["auth_", "shop_", "blog_0002", "blog_0003"]));

    ok(d, &url, &["upgrade", "heads"]);
    ok(d, &url, &["downgrade", "contenttypes@base"]);
    assert!(applied(d).is_empty(), "everything needs contenttypes");
}

/// `./manage.py migrate auth 0002`: auth's own migrations after 0002 go, with
/// what needs them (shop_0003 needs the merge); blog_0002, which merely
/// depends on auth_0002, stays.
#[test]
fn downgrade_to_an_app_migration_keeps_other_apps_that_depend_on_it() {
    let (dir, url) = project();
    let d = dir.path();
    ok(d, &url, &["upgrade", "heads"]);
    ok(d, &url, &["downgrade", "auth_0002"]);
    let gone = ["auth_0003a", "auth_0003b", "auth_0004_merge", "auth_0005", "shop_0003", "shop_0004"];
    assert_eq!(applied(d), all_but(&gone));
    assert!(applied(d).contains("blog_0002"));

    // And forward again to 0004, like `./manage.py migrate auth 0004`.
    ok(d, &url, &["upgrade", "auth_0004"]);
    assert_eq!(applied(d), all_but(&["auth_0005", "shop_0003", "shop_0004"]));

    // Branch-scoped steps stay in their app: one step back on shop.
    ok(d, &url, &["upgrade", "heads"]);
    ok(d, &url, &["downgrade", "shop@-1"]);
    assert_eq!(applied(d), all_but(&["shop_0004"]));
    ok(d, &url, &["downgrade", "shop@-9"]);
    assert_eq!(applied(d), all_but(&["shop_"]), "below the app's start is the app's base, never the global base");
    ok(d, &url, &["upgrade", "shop@+1"]);
    assert_eq!(applied(d), all_but(&["shop_0002", "shop_0003", "shop_0004"]));
}

/// The errors a Django user meets first: a target that is not applied
/// suggests `migrate`, a relative step the wrong way suggests the other
/// verb, `-1` with several apps applied lists their heads.
#[test]
fn errors_point_to_the_right_command() {
    let (dir, url) = project();
    let d = dir.path();
    ok(d, &url, &["upgrade", "auth_0002"]);
    let e = fails(d, &url, &["downgrade", "auth_0005"]);
    assert_eq!(e.first_line(), "error: cannot downgrade to auth_0005: not applied");
    assert!(e.stderr.contains("migraph migrate"), "{e}");
    let e = fails(d, &url, &["downgrade", "+1"]);
    assert!(e.first_line().contains("downgrade `+1` goes the wrong way"), "{e}");
    assert!(e.stderr.contains("migraph upgrade +1"), "{e}");
    let e = fails(d, &url, &["upgrade", "blog@-1"]);
    assert!(e.first_line().contains("upgrade `blog@-1` goes the wrong way"), "{e}");
    let e = fails(d, &url, &["downgrade", "-1"]);
    assert!(e.first_line().contains("the database has 2 heads applied"), "{e}");
    let e = fails(d, &url, &["downgrade", "shop@auth_0002"]);
    assert!(e.first_line().contains("is not on the lineage of `shop`"), "{e}");
    assert_eq!(applied(d), ["auth_0001", "auth_0002", "ct_0001"].iter().map(|s| s.to_string()).collect());
}

/// `stamp app@base` records what `downgrade app@base` would leave, running
/// no SQL; `migrate base` is `downgrade base`.
#[test]
fn stamp_and_migrate_base() {
    let (dir, url) = project();
    let d = dir.path();
    ok(d, &url, &["upgrade", "heads"]);
    ok(d, &url, &["stamp", "blog@base"]);
    let path = d.join("app.db");
    let rows: BTreeSet<String> = {
        let conn = rusqlite::Connection::open(&path).expect("open");
        let mut s = conn.prepare("SELECT id FROM migraph_revisions").expect("prepare");
        s.query_map([], |row| row.get::<_, String>(0)).expect("query").map(|id| id.expect("id")).collect()
    };
    assert_eq!(rows, all_but(&["blog_"]));
    assert!(common::sqlite_tables(&path).contains("t_blog_0003"), "stamp runs no SQL");
    ok(d, &url, &["stamp", "blog@head"]);
    assert_eq!(applied(d), all());
    ok(d, &url, &["migrate", "base"]);
    assert!(applied(d).is_empty());
}

/// `check` accepts the history without flags: each head is on its own
/// labelled branch (one label per app), as SPEC §5 says.
#[test]
fn check_accepts_one_labelled_branch_per_app() {
    let (dir, url) = project();
    let d = dir.path();
    let r = ok(d, &url, &["check"]);
    assert!(!r.stderr.contains("error"), "{r}");
}
