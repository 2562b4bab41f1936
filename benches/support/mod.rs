//! Helpers shared by the benchmarks.

use std::time::Duration;

/// A failed process's status and the first lines of its stderr.
pub fn failure(status: &std::process::ExitStatus, stderr: &[u8]) -> String {
    let stderr = String::from_utf8_lossy(stderr);
    let detail: Vec<&str> = stderr.lines().take(5).collect();
    format!("{status}: {}", detail.join(" / "))
}

/// `12.3 ms` or `1.23 s`.
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 1_000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1e3)
    }
}

/// Checks that the version table `migraph_revisions` at `url` holds `n`
/// rows (after an upgrade of `n` revisions).
#[allow(dead_code)] // not every benchmark runs plans
pub fn expect_rows(url: &str, n: usize) -> Result<(), String> {
    use migraph::backend::Backend as _;
    let mut conn = migraph::backend::AnyConnection::connect(url).map_err(|e| e.to_string())?;
    let rows = conn
        .int("SELECT COUNT(*) AS v FROM migraph_revisions", &[])
        .map_err(|e| format!("counting the version rows: {e}"))?
        .unwrap_or(0);
    if rows == n as i64 {
        Ok(())
    } else {
        Err(format!("{url}: the version table has {rows} rows after the upgrade, expected {n}"))
    }
}
