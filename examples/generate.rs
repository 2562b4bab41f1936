//! Writes a synthetic team history of revision files, for benchmarks.
//!
//! ```text
//! cargo run --release --example generate -- <dir> <n> [seed]
//! ```
//!
//! After generating, the files are read back and checked: every parent and
//! depends-on target exists, ids are unique 12-digit hex and match the file
//! names, the graph is acyclic, labels are unique, and the head, merge and
//! label counts match the summary.

mod synth;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || args.len() > 3 {
        eprintln!("usage: generate <dir> <n> [seed]");
        return ExitCode::from(2);
    }
    let dir = PathBuf::from(&args[0]);
    let (Ok(n), Ok(seed)) = (args[1].parse::<usize>(), args.get(2).map_or(Ok(1), |s| s.parse::<u64>())) else {
        eprintln!("usage: generate <dir> <n> [seed]  (n and seed are integers)");
        return ExitCode::from(2);
    };

    let start = Instant::now();
    let summary = match synth::generate(&dir, n, seed) {
        Ok(summary) => summary,
        Err(e) => {
            eprintln!("error: generating into {}: {e}", dir.display());
            return ExitCode::from(1);
        }
    };
    let generated = start.elapsed();
    println!("{summary}");
    println!(
        "generated {} revisions in {} (seed {seed}) in {:.3} s",
        summary.n,
        dir.display(),
        generated.as_secs_f64()
    );

    let start = Instant::now();
    if let Err(e) = verify(&dir, &summary) {
        eprintln!("error: verification failed: {e}");
        return ExitCode::from(1);
    }
    println!(
        "verified: {} files re-read, parents exist, ids unique, acyclic, counts match ({:.3} s)",
        summary.n,
        start.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

struct Rev {
    id: String,
    parents: Vec<String>,
    depends_on: Vec<String>,
    labels: Vec<String>,
}

fn parse(path: &Path) -> Result<Rev, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let fail = |what: &str| format!("{}: {what}", path.display());
    let mut fields: HashMap<&str, &str> = HashMap::new();
    let mut lines = text.lines();
    for line in lines.by_ref() {
        if line == "-- migrate:up" {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let (key, value) = line
            .strip_prefix("-- ")
            .and_then(|l| l.split_once(':'))
            .ok_or_else(|| fail(&format!("bad header line {line:?}")))?;
        if !matches!(key, "id" | "parents" | "message" | "created" | "labels" | "depends-on") {
            return Err(fail(&format!("unknown key {key:?}")));
        }
        if fields.insert(key, value.trim()).is_some() {
            return Err(fail(&format!("repeated key {key:?}")));
        }
    }
    let id = fields.get("id").ok_or_else(|| fail("no id"))?.to_string();
    if id.len() != 12 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(fail(&format!("id {id:?} is not 12 lowercase hex digits")));
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.starts_with(&format!("{id}_")) {
        return Err(fail("file name does not start with the id"));
    }
    let rest: Vec<&str> = lines.collect();
    let expected = [
        format!("CREATE TABLE t_{id} (id BIGINT PRIMARY KEY, v TEXT);"),
        String::new(),
        "-- migrate:down".to_string(),
        format!("DROP TABLE t_{id};"),
    ];
    if rest != expected {
        return Err(fail("unexpected SQL sections"));
    }
    let list = |key: &str| -> Vec<String> {
        fields.get(key).map(|v| v.split_whitespace().map(str::to_string).collect()).unwrap_or_default()
    };
    if !fields.contains_key("parents") {
        return Err(fail("no parents header"));
    }
    Ok(Rev { parents: list("parents"), depends_on: list("depends-on"), labels: list("labels"), id })
}

fn verify(dir: &Path, summary: &synth::Summary) -> Result<(), String> {
    let mut revs = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "sql") {
            revs.push(parse(&path)?);
        }
    }
    if revs.len() != summary.n {
        return Err(format!("{} files, summary says {}", revs.len(), summary.n));
    }
    // Same-length unique ids cannot be prefixes of one another.
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(revs.len());
    for (i, r) in revs.iter().enumerate() {
        if index.insert(&r.id, i).is_some() {
            return Err(format!("duplicate id {}", r.id));
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); revs.len()];
    let mut indegree = vec![0usize; revs.len()];
    let mut has_child = vec![false; revs.len()];
    let mut merges = 0;
    let mut roots = 0;
    for (i, r) in revs.iter().enumerate() {
        for (k, p) in r.parents.iter().chain(&r.depends_on).enumerate() {
            let &j = index.get(p.as_str()).ok_or_else(|| format!("{}: missing parent or dependency {p}", r.id))?;
            if k < r.parents.len() {
                has_child[j] = true;
            }
            children[j].push(i);
            indegree[i] += 1;
        }
        merges += usize::from(r.parents.len() >= 2);
        roots += usize::from(r.parents.is_empty());
    }
    // Kahn's algorithm: every revision is reached iff there is no cycle.
    let mut ready: Vec<usize> = (0..revs.len()).filter(|&i| indegree[i] == 0).collect();
    let mut seen = 0;
    while let Some(i) = ready.pop() {
        seen += 1;
        for &c in &children[i] {
            indegree[c] -= 1;
            if indegree[c] == 0 {
                ready.push(c);
            }
        }
    }
    if seen != revs.len() {
        return Err(format!("cycle: {} revisions unreachable", revs.len() - seen));
    }
    let mut labels = HashMap::new();
    for r in &revs {
        for l in &r.labels {
            if labels.insert(l.as_str(), &r.id).is_some() {
                return Err(format!("label {l} used twice"));
            }
        }
    }
    let heads = has_child.iter().filter(|&&c| !c).count();
    if heads != summary.heads || merges != summary.merges || labels.len() != summary.labels {
        return Err(format!("counted heads {heads}, merges {merges}, labels {}; summary says {summary}", labels.len()));
    }
    if summary.n > 0 && roots != 1 {
        return Err(format!("{roots} roots, expected 1"));
    }
    Ok(())
}
