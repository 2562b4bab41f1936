//! Tells the tests which live database servers they may use: the
//! PostgreSQL and MySQL tests are marked ignored (with the reason shown by
//! `cargo test`) unless their URL variable is set when building.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(migraph_postgres_server)");
    println!("cargo::rustc-check-cfg=cfg(migraph_mysql_server)");
    for (var, cfg) in
        [("MIGRAPH_TEST_POSTGRES_URL", "migraph_postgres_server"), ("MIGRAPH_TEST_MYSQL_URL", "migraph_mysql_server")]
    {
        println!("cargo::rerun-if-env-changed={var}");
        if std::env::var(var).is_ok_and(|url| !url.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
