//! A first live-server test per backend: the sample history up and down.

mod common;

use common::{migraph, project, sample_revisions, Server, TestDb};

fn sample_up_and_down(server: Server) {
    let db = TestDb::new(server);
    let dir = project();
    let revisions = sample_revisions();
    let revs = revisions.to_str().unwrap();
    migraph(dir.path(), &db.url).args(["--revisions", revs, "upgrade", "heads"]).assert().success();
    assert_eq!(db.applied().len(), 11);
    assert!(db.tables().contains(&"customers".to_string()));
    migraph(dir.path(), &db.url).args(["--revisions", revs, "downgrade", "base"]).assert().success();
    assert!(db.applied().is_empty());
    let left: Vec<String> = db.tables().into_iter().filter(|t| !t.starts_with("migraph_")).collect();
    assert!(left.is_empty(), "{left:?}");
}

common::backend_tests! {
    postgres postgres_sample_up_and_down => sample_up_and_down(Server::Postgres),
    mysql mysql_sample_up_and_down => sample_up_and_down(Server::Mysql),
}
