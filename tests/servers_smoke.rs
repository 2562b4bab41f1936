//! The sample history up and down on every backend, one history for all
//! three: its `create notifications` revision has an up section per dialect
//! (an auto-increment key spelled three ways, a partial index where the
//! engine has them).

mod common;

use common::{mg, project, sample_revisions, table_names, AnyDb, Server};
use migraph::backend::{Backend, Dialect};

fn sample_up_and_down(server: Option<Server>) {
    let db = AnyDb::new(server);
    let dir = project();
    let revisions = sample_revisions();
    let revs = revisions.to_str().unwrap();
    let count = common::sample_count();
    let up = mg(dir.path(), &db.url, &["--revisions", revs, "upgrade", "heads"]);
    assert_eq!(up.code, 0, "{up}");
    assert!(up.stderr.contains(&format!("upgrade: {count} applied")), "{up}");

    let mut conn = db.connect();
    let user_tables = |conn: &mut dyn Backend| -> Vec<String> {
        table_names(conn).into_iter().filter(|t| !t.starts_with("migraph_") && t != "sqlite_sequence").collect()
    };
    assert!(user_tables(&mut conn).contains(&"notifications".to_string()));
    // The dialect's own auto-increment key: rows inserted without an id get 1 and 2.
    conn.exec("INSERT INTO customers (id, email, full_name, created_at) VALUES (7, 'a@example.com', 'A', 'now')", &[])
        .expect("a customer");
    for body in ["hello", "again"] {
        let sql = format!("INSERT INTO notifications (customer_id, body) VALUES (7, '{body}')");
        conn.exec(&sql, &[]).expect("a notification without an id");
    }
    let ids = conn.int("SELECT COUNT(*) AS v FROM notifications WHERE id IN (1, 2)", &[]).expect("ids");
    assert_eq!(ids, Some(2), "ids 1 and 2 on {:?}", conn.dialect());
    if conn.dialect() != Dialect::Mysql {
        // The partial index of the SQLite and PostgreSQL sections.
        let sql = match conn.dialect() {
            Dialect::Sqlite => "SELECT COUNT(*) AS v FROM sqlite_master WHERE name = 'ix_notifications_unread' AND sql LIKE '%WHERE read_at IS NULL%'",
            _ => "SELECT COUNT(*)::BIGINT AS v FROM pg_indexes WHERE indexname = 'ix_notifications_unread' AND indexdef LIKE '%WHERE (read_at IS NULL)%'",
        };
        assert_eq!(conn.int(sql, &[]).expect("index"), Some(1));
    }
    conn.exec("DELETE FROM notifications", &[]).expect("clear");
    conn.exec("DELETE FROM customers", &[]).expect("clear");
    drop(conn);

    let down = mg(dir.path(), &db.url, &["--revisions", revs, "downgrade", "base"]);
    assert_eq!(down.code, 0, "{down}");
    assert!(down.stderr.contains(&format!("{count} unapplied")), "{down}");
    let left = user_tables(&mut db.connect());
    assert!(left.is_empty(), "{left:?}");
}

common::backend_tests! {
    sqlite sqlite_sample_up_and_down => sample_up_and_down(None),
    postgres postgres_sample_up_and_down => sample_up_and_down(Some(Server::Postgres)),
    mysql mysql_sample_up_and_down => sample_up_and_down(Some(Server::Mysql)),
}
