//! Unit tests of URL parsing, redaction and scrubbing.

use super::*;

fn sqlite(url: &str) -> SqliteUrl {
    match DatabaseUrl::parse(url) {
        Ok(DatabaseUrl::Sqlite(sqlite)) => sqlite,
        other => panic!("{url}: {other:?}"),
    }
}

fn driver(url: &str) -> String {
    match DatabaseUrl::parse(url) {
        Ok(DatabaseUrl::Postgres(driver) | DatabaseUrl::Mysql(driver)) => driver,
        other => panic!("{url}: {other:?}"),
    }
}

fn invalid(url: &str) -> String {
    match DatabaseUrl::parse(url) {
        Err(DbError::InvalidUrl { url: shown, reason }) => format!("{shown}: {reason}"),
        other => panic!("{url}: {other:?}"),
    }
}

#[test]
fn schemes_and_dialects() {
    let dialect = |url: &str| DatabaseUrl::parse(url).map(|u| u.dialect());
    for url in ["sqlite://x.db", "SQLite://x.db", "sqlite:x.db", "sqlite::memory:", "data/app.db", "file:x.db"] {
        assert_eq!(dialect(url), Ok(Dialect::Sqlite), "{url}");
    }
    for url in ["postgres://u@h/db", "postgresql://u@h/db", "POSTGRES://u@h/db", "postgres:///db", "postgres://h"] {
        assert_eq!(dialect(url), Ok(Dialect::Postgres), "{url}");
    }
    for url in ["mysql://root@h/db", "MySQL://root@h/db", "mariadb://root@h:3306/db"] {
        assert_eq!(dialect(url), Ok(Dialect::Mysql), "{url}");
    }
    assert_eq!(driver("POSTGRES://u@h/db"), "postgres://u@h/db");
    assert_eq!(driver("MariaDB://root@h:3306/db"), "mysql://root@h:3306/db");
    assert!(
        matches!(DatabaseUrl::parse("oracle://u:pw@h/db"), Err(DbError::UnsupportedUrl(u)) if u == "oracle://u:***@h/db")
    );
    assert!(invalid("postgres:/h/db").contains("starts with `postgres://`"));
}

#[test]
fn empty_urls_and_paths_are_errors() {
    for url in
        ["", "  ", "sqlite://", "sqlite:", "SQLITE://", "file:", "file://", "sqlite://?mode=ro", "file:?cache=shared"]
    {
        let e = invalid(url);
        assert!(e.contains("empty"), "{url}: {e}");
    }
    // In memory only when asked for.
    for url in ["sqlite::memory:", "sqlite://:memory:", ":memory:", "file::memory:", "file:x.db?mode=memory"] {
        assert_eq!(sqlite(url).path, None, "{url}");
    }
    assert_eq!(sqlite("file::memory:?cache=shared").open_name(), "file::memory:?cache=shared");
    assert_eq!(sqlite("sqlite::memory:").open_name(), ":memory:");
}

#[test]
fn sqlite_paths_for_every_form() {
    let path = |url: &str| sqlite(url).path.unwrap_or_else(|| panic!("{url}: in memory"));
    assert_eq!(path("sqlite://x.db"), "x.db");
    assert_eq!(path("sqlite:///abs/x.db"), "/abs/x.db");
    assert_eq!(path("sqlite:x.db"), "x.db");
    assert_eq!(path("sqlite://ro.db?mode=ro"), "ro.db");
    assert_eq!(path("sqlite://we%3Fird.db"), "we?ird.db");
    assert_eq!(path("file:app.db"), "app.db");
    assert_eq!(path("FILE:app.db?mode=ro&cache=shared"), "app.db");
    assert_eq!(path("file:///abs/app.db?mode=ro"), "/abs/app.db");
    assert_eq!(path("file:/abs/app.db"), "/abs/app.db");
    assert_eq!(path("file://localhost/abs/app.db"), "/abs/app.db");
    assert_eq!(path("file:my%20app.db"), "my app.db");
    // A bare path is a path, exactly as written.
    assert_eq!(path("we?ird.db"), "we?ird.db");
    assert_eq!(path("data/a#b%3F.db"), "data/a#b%3F.db");
    assert_eq!(path("rel/x.db"), "rel/x.db");
}

#[test]
fn sqlite_is_opened_as_a_uri_naming_the_same_file() {
    assert_eq!(sqlite("we?ird.db").open_name(), "file:we%3Fird.db");
    assert_eq!(sqlite("/tmp/a#b%.db").open_name(), "file:///tmp/a%23b%25.db");
    assert_eq!(sqlite("sqlite://ro.db?mode=ro").open_name(), "file:ro.db?mode=ro");
    assert_eq!(sqlite("file:///abs/app.db?MODE=ro").open_name(), "file:///abs/app.db?mode=ro");
    assert!(sqlite("sqlite://ro.db?mode=ro").read_only());
    assert!(sqlite("file:x.db?immutable=1").read_only());
    assert!(!sqlite("file:x.db?mode=rwc").read_only());
}

#[test]
fn sqlite_parameters_are_checked() {
    assert!(invalid("sqlite://x.db?foo=1").contains("unknown SQLite URI parameter `foo`"));
    assert!(invalid("sqlite://we?ird.db").contains("has no value"));
    assert!(invalid("sqlite://x.db?mode=readonly").contains("mode is one of ro, rw, rwc, memory"));
    assert!(invalid("file:x.db?cache=big").contains("cache is one of"));
    assert!(invalid("sqlite://a#b.db").contains("%23"));
    assert!(invalid("file://server/share/x.db").contains("cannot name a host"));
    assert!(invalid("sqlite://x.db?password=hunter22").starts_with("sqlite://x.db?password=***: "));
}

#[test]
fn relative_paths_keep_form_and_parameters() {
    assert_eq!(sqlite("sqlite://app.db?mode=ro").with_path("/p/app.db"), "sqlite:///p/app.db?mode=ro");
    assert_eq!(sqlite("sqlite:app.db").with_path("/p/app.db"), "sqlite:///p/app.db");
    assert_eq!(sqlite("file:app.db?mode=ro").with_path("/p/app.db"), "file:///p/app.db?mode=ro");
    assert_eq!(sqlite("we?ird.db").with_path("/p/we?ird.db"), "/p/we?ird.db");
    assert_eq!(sqlite("sqlite://we%3Fird.db").with_path("/p/we?ird.db"), "sqlite:///p/we%3Fird.db");
}

#[test]
fn mysql_urls_must_name_a_database() {
    for url in ["mysql://root@h", "mysql://root@h/", "mariadb://root:pw@h:3306/?ssl-mode=DISABLED"] {
        let e = invalid(url);
        assert!(e.contains("must name a database"), "{url}: {e}");
        assert!(!e.contains(":pw@"), "{e}");
    }
    assert_eq!(driver("mysql://root@h/app"), "mysql://root@h/app");
}

#[test]
fn passwords_are_redacted() {
    assert_eq!(redact("postgres://u:s3cret@h:5432/db"), "postgres://u:***@h:5432/db");
    assert_eq!(redact("mysql://root:p@ss@h/db?x=1"), "mysql://root:***@h/db?x=1");
    assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    assert_eq!(redact("sqlite://app.db"), "sqlite://app.db");
    assert!(secrets("mysql://root:p@ss@h/db").contains(&"p@ss".to_string()));
    assert!(secrets("mysql://root@h/db").is_empty());
    assert_eq!(redact("postgres://u:s3cr3t#pw@h:5432/db"), "postgres://u:***@h:5432/db");
    assert_eq!(redact("postgres://u:a?b@h/db"), "postgres://u:***@h/db");
    assert_eq!(
        redact("postgres://u@h/db?sslmode=require&password=pw1&x=2"),
        "postgres://u@h/db?sslmode=require&password=***&x=2"
    );
    assert_eq!(redact("postgres://u:pw@h/db?PASSWORD=pw2"), "postgres://u:***@h/db?PASSWORD=***");
    assert_eq!(redact("postgres://u@h/db?sslPassword=k&Password=p"), "postgres://u@h/db?sslPassword=***&Password=***");
    assert_eq!(redact("postgres://u:p%2Fw%40rd@h/db"), "postgres://u:***@h/db");
    // An `@` in the query after a password: more is hidden, nothing leaks.
    let shown = redact("postgres://u:pw@h/db?application_name=a@b");
    assert!(!shown.contains("pw"), "{shown}");
    // Digits then `?` read as a port when connecting, yet nothing leaks.
    assert_eq!(redact("postgres://u:12?x@h/db"), "postgres://u:***@h/db");
    assert_eq!(redact("postgres://u:12#x@h/db"), "postgres://u:***@h/db");
    // No reading parses: the whole authority goes.
    assert_eq!(redact("mysql://u:pw@h:port/db"), "mysql://***/db");
    assert_eq!(redact("postgres://u:p w@[::1/db"), "postgres://***/db");
}

/// Passwords written unencoded, with every character that ends a part
/// of a URL: redacted in full, and given to the driver as meant.
#[test]
fn unencoded_passwords() {
    let passwords = [
        "pa/ss",
        "p#w",
        "p?w",
        "p@w",
        "a:b",
        "12/x",
        "p/w@x",
        "/",
        "@",
        "#?/@:",
        "x/y?z#w@v:u",
        "a/b@c#d?e:f",
        "12#x",
        "sp ace",
    ];
    for password in passwords {
        for (scheme, driver_scheme) in [("postgres", "postgres"), ("postgresql", "postgresql"), ("mariadb", "mysql")] {
            let url = format!("{scheme}://user:{password}@db.example:5432/app?sslmode=disable");
            assert_eq!(redact(&url), format!("{scheme}://user:***@db.example:5432/app?sslmode=disable"), "{url}");
            let given = driver(&url);
            let parsed = ::url::Url::parse(&given).unwrap_or_else(|e| panic!("{given}: {e}"));
            assert_eq!(parsed.scheme(), driver_scheme);
            assert_eq!(parsed.username(), "user", "{given}");
            assert_eq!(decode(parsed.password().unwrap_or_default()).as_deref(), Some(password), "{given}");
            assert_eq!(parsed.host_str(), Some("db.example"));
            assert_eq!(parsed.port(), Some(5432));
            assert_eq!(parsed.path(), "/app");
            assert_eq!(parsed.query(), Some("sslmode=disable"));
            assert!(secrets(&url).iter().any(|s| s == password), "{url}: {:?}", secrets(&url));
        }
    }
    // An `@` in the query of a URL whose password is plain stays in the query.
    let given = driver("postgres://u:p/w@h/db?application_name=a@b");
    assert_eq!(given, "postgres://u:p%2Fw@h/db?application_name=a@b");
    assert_eq!(driver("postgres://h:5432/db?application_name=a@b"), "postgres://h:5432/db?application_name=a@b");
    // Several hosts (libpq syntax) reach libpq as written.
    assert_eq!(driver("postgresql://u@h1:5432,h2:5433/db"), "postgresql://u@h1:5432,h2:5433/db");
}

#[test]
fn scrubbing_never_mangles_unrelated_text() {
    let url = "postgres://u:e@h/db";
    assert_eq!(
        scrub("could not connect to server: connection refused", url),
        "could not connect to server: connection refused"
    );
    assert_eq!(scrub("failed for u:e@h", url), "failed for u:***@h");
    assert_eq!(scrub("cannot connect to postgres://u:e@h/db", url), "cannot connect to postgres://u:***@h/db");
    assert_eq!(scrub("failed for u:pw@h with pw2", "postgres://u:pw@h/db?password=pw2"), "failed for u:***@h with ***");
    // Unencoded and percent-encoded forms of the URL, and the decoded password.
    let url = "postgres://u:pa/ss@h/db";
    assert_eq!(scrub("bad postgres://u:pa/ss@h/db!", url), "bad postgres://u:***@h/db!");
    assert_eq!(scrub("bad postgres://u:pa%2Fss@h/db!", url), "bad postgres://u:***@h/db!");
    assert_eq!(scrub("password \"pa/ss\" rejected", url), "password \"***\" rejected");
    assert_eq!(scrub("a pa/ssword", url), "a pa/ssword");
    let url = "mysql://u:p%40ss@h/db";
    assert_eq!(scrub("password 'p@ss' rejected", url), "password '***' rejected");
    // A long password goes wherever it appears.
    let url = "postgres://u:CorrectHorse9Battery@h/db";
    assert_eq!(scrub("xCorrectHorse9Batteryx", url), "x***x");
    assert_eq!(scrub("nothing here", ""), "nothing here");
}
