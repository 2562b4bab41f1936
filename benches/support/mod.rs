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
