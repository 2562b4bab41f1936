//! Synthetic "team history" generator for benchmarks.
//!
//! [`generate`] writes `n` revision files (format of SPEC.md section 1) that
//! look like the history of a team working on one schema: a main line, feature
//! branches forking from it every ~20 revisions (several open at a time) that
//! grow a few revisions each and are merged back by merge revisions (two
//! parents, occasionally three), a few `depends-on` edges between parallel
//! branches, and a final stretch where a few branches are left open, so the
//! history ends with several heads.
//!
//! Everything is deterministic from the seed (SplitMix64, no `rand`), std-only,
//! O(n) time and memory (one `u64` id and one flag per revision plus a handful
//! of open branches); files are written as they are created.
//!
//! Used by `examples/generate.rs` and `benches/graph.rs` (via `#[path]`).

// Each user of this module only uses part of it.
#![allow(dead_code)]

pub mod rng;

use rng::SplitMix64;

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// What [`generate`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Number of revisions (files) written.
    pub n: usize,
    /// Revisions that are no other revision's parent.
    pub heads: usize,
    /// Revisions with two or more parents.
    pub merges: usize,
    /// Of those, revisions with three parents.
    pub octopus_merges: usize,
    /// Revisions carrying a (unique) branch label.
    pub labels: usize,
    /// Revisions with a `depends-on` header.
    pub depends_on: usize,
    /// Feature branches started.
    pub branches: usize,
    /// Feature branches still open (not merged) at the end.
    pub open_branches: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "revisions: {}, heads: {}, merges: {} ({} with 3 parents), labels: {}, \
             depends-on: {}, feature branches: {} ({} still open)",
            self.n,
            self.heads,
            self.merges,
            self.octopus_merges,
            self.labels,
            self.depends_on,
            self.branches,
            self.open_branches
        )
    }
}

/// Most feature branches open at the same time.
const MAX_OPEN: usize = 6;
/// Unix time of the first revision: 2026-01-05T09:00:00Z.
const START_TIME: u64 = 1_767_603_600;

impl SplitMix64 {
    /// True with probability `num / den`.
    fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }
}

/// An open feature branch.
struct Branch {
    number: usize,
    /// The main-line revision it forked from.
    fork_point: u32,
    /// Its newest revision (always one of its own: a branch is created with
    /// its first revision).
    tip: u32,
    /// Revisions on the branch so far.
    len: usize,
    /// Revisions it will have before it asks to be merged.
    planned: usize,
}

/// The state of the writer: ids and "has a child" flags, indexed by creation
/// order, so parents and dependencies always point to earlier revisions and
/// the graph is acyclic by construction.
struct Writer<'a> {
    dir: &'a Path,
    rng: SplitMix64,
    ids: Vec<u64>,
    has_child: Vec<bool>,
    seen: HashSet<u64>,
    clock: u64,
    text: String,
    name: String,
    summary: Summary,
}

impl<'a> Writer<'a> {
    fn new(dir: &'a Path, n: usize, seed: u64) -> Self {
        Writer {
            dir,
            rng: SplitMix64(seed),
            ids: Vec::with_capacity(n),
            has_child: Vec::with_capacity(n),
            seen: HashSet::with_capacity(n),
            clock: START_TIME,
            text: String::with_capacity(512),
            name: String::with_capacity(128),
            summary: Summary {
                n: 0,
                heads: 0,
                merges: 0,
                octopus_merges: 0,
                labels: 0,
                depends_on: 0,
                branches: 0,
                open_branches: 0,
            },
        }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    /// A fresh 48-bit id (12 hex digits). All ids have the same length, so
    /// being unique they are never a prefix of one another.
    fn new_id(&mut self) -> u64 {
        loop {
            let id = self.rng.next_u64() >> 16;
            if self.seen.insert(id) {
                return id;
            }
        }
    }

    /// Writes one revision file and returns its index.
    fn emit(
        &mut self,
        parents: &[u32],
        depends_on: Option<u32>,
        label: Option<&str>,
        message: &str,
    ) -> io::Result<u32> {
        use std::fmt::Write as _;

        let id = self.new_id();
        self.clock += self.rng.range(60, 3600) as u64;

        let text = &mut self.text;
        text.clear();
        // Writing to a String cannot fail.
        let _ = writeln!(text, "-- id: {id:012x}");
        text.push_str("-- parents:");
        for &p in parents {
            let _ = write!(text, " {:012x}", self.ids[p as usize]);
        }
        text.push('\n');
        let _ = writeln!(text, "-- message: {message}");
        text.push_str("-- created: ");
        push_rfc3339(text, self.clock);
        text.push('\n');
        if let Some(label) = label {
            let _ = writeln!(text, "-- labels: {label}");
        }
        if let Some(d) = depends_on {
            let _ = writeln!(text, "-- depends-on: {:012x}", self.ids[d as usize]);
        }
        let _ = write!(
            text,
            "\n-- migrate:up\nCREATE TABLE t_{id:012x} (id BIGINT PRIMARY KEY, v TEXT);\n\
             \n-- migrate:down\nDROP TABLE t_{id:012x};\n"
        );

        let name = &mut self.name;
        name.clear();
        let _ = write!(name, "{id:012x}_");
        push_slug(name, message);
        name.push_str(".sql");
        let mut file = OpenOptions::new().write(true).create_new(true).open(self.dir.join(name.as_str()))?;
        file.write_all(text.as_bytes())?;

        for &p in parents {
            self.has_child[p as usize] = true;
        }
        if parents.len() >= 2 {
            self.summary.merges += 1;
        }
        if parents.len() >= 3 {
            self.summary.octopus_merges += 1;
        }
        if label.is_some() {
            self.summary.labels += 1;
        }
        if depends_on.is_some() {
            self.summary.depends_on += 1;
        }
        self.ids.push(id);
        self.has_child.push(false);
        Ok((self.ids.len() - 1) as u32)
    }
}

/// Writes `n` revision files simulating a team's history into `dir`
/// (created if needed; an error if it already holds `.sql` files).
/// The same `n` and `seed` always give the same files.
pub fn generate(dir: &Path, n: usize, seed: u64) -> io::Result<Summary> {
    if n > u32::MAX as usize {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "too many revisions"));
    }
    fs::create_dir_all(dir)?;
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sql") {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} already contains .sql files", dir.display()),
            ));
        }
    }

    let mut w = Writer::new(dir, n, seed);
    if n == 0 {
        return Ok(w.summary);
    }
    let mut main_tip = w.emit(&[], None, None, "initial schema")?;
    let mut main_changes = 0usize;
    let mut open: Vec<Branch> = Vec::new();
    let mut next_fork = w.rng.range(4, 16);
    // In the last stretch nothing is merged any more unless more than 4
    // branches are open, and there are at least 2: the history ends with 2 to
    // 4 open branches besides main, i.e. several heads.
    let tail = (n / 10).min(60);

    while w.len() < n {
        let closing = n - w.len() <= tail;
        next_fork = next_fork.saturating_sub(1);

        let fork = if closing { open.len() < 2 } else { next_fork == 0 && open.len() < MAX_OPEN };
        if fork {
            next_fork = w.rng.range(12, 28);
            w.summary.branches += 1;
            let number = w.summary.branches;
            let label = w.rng.chance(1, 2).then(|| format!("feature_{number}"));
            let message = format!("feature {number} step 1");
            let tip = w.emit(&[main_tip], None, label.as_deref(), &message)?;
            open.push(Branch { number, fork_point: main_tip, tip, len: 1, planned: w.rng.range(2, 7) });
            continue;
        }

        // Which branch (if any) gets this revision.
        let pick = if open.is_empty() {
            None
        } else if closing && open.len() > 4 {
            open.iter().position(|b| b.fork_point != main_tip)
        } else if w.rng.chance((3 * open.len()).min(36), 40) {
            // Each open branch gets a revision with probability ~3/40 per
            // step, so branches live ~70 revisions and 3 or 4 are open at a
            // time on average.
            Some(w.rng.below(open.len()))
        } else {
            None
        };

        if let Some(i) = pick {
            let b = &open[i];
            // A branch merges when it is done and main has moved on since it
            // forked (otherwise main's tip would be an ancestor of the
            // branch: a pointless parent).
            let ready = b.fork_point != main_tip && (b.len >= b.planned || closing);
            if ready && (!closing || open.len() > 4) {
                let mut parents = vec![main_tip, b.tip];
                let mut merged = vec![i];
                if w.rng.chance(1, 8) {
                    let j = w.rng.below(open.len());
                    if j != i && open[j].fork_point != main_tip {
                        parents.push(open[j].tip);
                        merged.push(j);
                    }
                }
                let message = match merged[..] {
                    [a, b] => format!("merge feature {} and feature {} into main", open[a].number, open[b].number),
                    _ => format!("merge feature {} into main", open[i].number),
                };
                main_tip = w.emit(&parents, None, None, &message)?;
                merged.sort_unstable();
                for &k in merged.iter().rev() {
                    open.remove(k);
                }
                continue;
            }
            if b.len < b.planned || closing {
                // Now and then a revision needs one of a parallel branch's
                // revisions (created earlier, so still acyclic).
                let depends_on = if open.len() >= 2 && w.rng.chance(1, 40) {
                    let j = w.rng.below(open.len() - 1);
                    let j = if j >= i { j + 1 } else { j };
                    Some(open[j].tip)
                } else {
                    None
                };
                let message = format!("feature {} step {}", b.number, b.len + 1);
                let tip = w.emit(&[b.tip], depends_on, None, &message)?;
                let b = &mut open[i];
                b.tip = tip;
                b.len += 1;
                continue;
            }
        }

        main_changes += 1;
        let message = format!("main change {main_changes}");
        main_tip = w.emit(&[main_tip], None, None, &message)?;
    }

    let mut summary = w.summary;
    summary.n = w.ids.len();
    summary.heads = w.has_child.iter().filter(|&&c| !c).count();
    summary.open_branches = open.len();
    Ok(summary)
}

/// Appends a file-name slug of `message`: lowercase ASCII letters and digits,
/// runs of anything else as one `_`.
fn push_slug(out: &mut String, message: &str) {
    let mut pending = false;
    for c in message.chars() {
        if c.is_ascii_alphanumeric() {
            if pending && !out.ends_with('_') {
                out.push('_');
            }
            pending = false;
            out.push(c.to_ascii_lowercase());
        } else {
            pending = true;
        }
    }
}

/// Appends `secs` (Unix time) as RFC 3339 UTC, e.g. `2026-11-21T10:42:00Z`.
fn push_rfc3339(out: &mut String, secs: u64) {
    use std::fmt::Write as _;

    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let _ = write!(out, "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3_600, rem / 60 % 60, rem % 60);
}
