//! Time-bounded fuzzing of the code that reads untrusted text: the revision
//! file parser, the target grammar (with plans on top of it) and graph
//! validation.
//!
//! Cargo fuzz needs a nightly toolchain, so this is plain seeded random
//! generation that runs in the ordinary test suite. Each target loops until
//! its time is up: `MIGRAPH_FUZZ_SECONDS` (default 3, CI sets more) per
//! target. Inputs come from `MIGRAPH_FUZZ_SEED` (default: the clock), printed
//! at the start of each target. Iteration `i` draws from its own generator
//! seeded with (seed, i), so a failure is replayed exactly with
//!
//! ```text
//! MIGRAPH_FUZZ_SEED=<seed> MIGRAPH_FUZZ_ITERATION=<i> cargo test --test fuzz <target>
//! ```
//!
//! Every call runs inside `catch_unwind`: a panic fails the test with the
//! seed, the iteration and the input (escaped). Rejections must be `Err`
//! values, and a few cheap invariants are checked on what is accepted (and
//! on how it is rejected). A small `proptest` section at the end adds
//! shrinking for the target grammar and header lines.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use migraph::backend::Dialect;
use migraph::graph::Problem;
use migraph::render;
use migraph::revision::{is_valid_id, label_problem, ParseErrorKind};
use migraph::{plan, Direction, Plan, Revision, RevisionGraph, State, Verb};

// ---------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------

#[path = "../examples/synth/rng.rs"]
mod rng;

/// SplitMix64 (shared with the synthetic history generator): no dependency
/// on the versions of any crate (a seed printed today replays tomorrow).
use rng::SplitMix64 as Rng;

impl Rng {
    fn next(&mut self) -> u64 {
        self.next_u64()
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The generator for iteration `i` of a run seeded with `seed`.
fn iteration_rng(seed: u64, i: u64) -> Rng {
    let mut mix = Rng::new(seed ^ i.wrapping_mul(0xd1b5_4a32_d192_ed03));
    Rng::new(mix.next())
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    match text.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={text:?} is not a number"),
    }
}

fn budget() -> Duration {
    match std::env::var("MIGRAPH_FUZZ_SECONDS") {
        Ok(text) => Duration::from_secs_f64(
            text.trim().parse::<f64>().unwrap_or_else(|_| panic!("MIGRAPH_FUZZ_SECONDS={text:?} is not a number")),
        ),
        Err(_) => Duration::from_secs(3),
    }
}

fn base_seed() -> u64 {
    env_u64("MIGRAPH_FUZZ_SEED").unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        (now.as_nanos() as u64) ^ u64::from(std::process::id()).rotate_left(32)
    })
}

/// Writes straight to the process's stderr, past the test harness's output
/// capture, so the seed is on record even if the process aborts (a stack
/// overflow cannot be caught) or hangs.
fn announce(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// At most `max` characters of `text`, with a note of what was cut.
fn clip(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} characters in all; replay the iteration to get it whole)", &text[..end], text.len())
}

fn escape_bytes(bytes: &[u8]) -> String {
    clip(format!("b\"{}\"", bytes.escape_ascii()), 4000)
}

fn escape_str(text: &str) -> String {
    clip(format!("{text:?}"), 4000)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// What a check says about one input: accepted, rejected (an `Err` value,
/// which is fine), or an invariant that does not hold.
enum Verdict {
    Accepted,
    Rejected,
}

/// Runs `check` on inputs from `generate` until the budget is spent (or
/// only iteration `MIGRAPH_FUZZ_ITERATION`, to replay one). Panics, with
/// everything needed to replay, when `check` panics or returns an
/// invariant violation (`Err`).
fn fuzz<I>(
    target: &str,
    generate: impl Fn(&mut Rng) -> I,
    show: impl Fn(&I) -> String,
    check: impl Fn(&I) -> Result<Verdict, String>,
) {
    let seed = base_seed();
    let budget = budget();
    let only = env_u64("MIGRAPH_FUZZ_ITERATION");
    announce(&format!(
        "fuzz {target}: seed {seed}, {:.1} s (replay: MIGRAPH_FUZZ_SEED={seed} cargo test --test fuzz {target})",
        budget.as_secs_f64()
    ));
    let started = Instant::now();
    let (mut accepted, mut rejected) = (0u64, 0u64);
    let mut slowest = (Duration::ZERO, 0u64);
    let mut i = only.unwrap_or(0);
    loop {
        let input = generate(&mut iteration_rng(seed, i));
        let call = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| check(&input)));
        let took = call.elapsed();
        if took > slowest.0 {
            slowest = (took, i);
        }
        let failure = match outcome {
            Ok(Ok(Verdict::Accepted)) => {
                accepted += 1;
                None
            }
            Ok(Ok(Verdict::Rejected)) => {
                rejected += 1;
                None
            }
            Ok(Err(broken)) => Some(format!("invariant broken: {broken}")),
            Err(payload) => Some(format!("PANIC: {}", panic_message(payload.as_ref()))),
        };
        if let Some(failure) = failure {
            let report = format!(
                "fuzz {target} failed at iteration {i} of seed {seed}\n\
                 replay: MIGRAPH_FUZZ_SEED={seed} MIGRAPH_FUZZ_ITERATION={i} cargo test --test fuzz {target}\n\
                 {failure}\ninput: {}",
                show(&input)
            );
            announce(&report);
            panic!("{report}");
        }
        i += 1;
        if only.is_some() || started.elapsed() >= budget {
            break;
        }
    }
    announce(&format!(
        "fuzz {target}: {} inputs in {:.1} s ({accepted} accepted, {rejected} rejected); slowest {:.1} ms (iteration {})",
        accepted + rejected,
        started.elapsed().as_secs_f64(),
        slowest.0.as_secs_f64() * 1000.0,
        slowest.1
    ));
    assert!(accepted + rejected > 0);
}

// ---------------------------------------------------------------------------
// a. Revision::parse_bytes
// ---------------------------------------------------------------------------

const FULL: &str = "-- id: 5f1c0e9a2b7d\n-- parents: 1a2b3c4d5e6f 9e8d7c6b5a4f\n-- message: add users table\n\
    -- created: 2026-11-21T10:42:00Z\n-- labels: accounts\n-- depends-on: 0c4a77d1e2f3\n-- transaction: true\n\n\
    -- migrate:up\nCREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL);\n\n-- migrate:down\nDROP TABLE users;\n";

/// Valid revision files: the seeds that mutations start from.
fn corpus() -> Vec<Vec<u8>> {
    let long_id = "x".repeat(64);
    let texts = [
        FULL.to_string(),
        FULL.replace('\n', "\r\n"),
        "-- id: a\n-- parents:\n-- migrate:up\nSELECT 1;\n".to_string(),
        "\u{feff}-- id: b_1\n-- parents: a\n\n-- a comment after the header\n-- migrate:up\nCREATE TABLE t (x INT);\n\
         -- migrate:down\nDROP TABLE t;\n"
            .to_string(),
        "-- id: 0\n-- parents: a b c\n-- transaction: false\n-- labels: rel-2 feat/x.1 v1.0 _x\n-- migrate:down\n\
         -- migrate:up\nCREATE INDEX CONCURRENTLY i ON t (x);"
            .to_string(),
        "\n\n   \n-- id: zz\n-- parents:\n-- message:\n-- created: 2026-01-01T00:00:00+05:30\n-- migrate:up\n-- migrate:down\n"
            .to_string(),
        format!("--id: {long_id}\n--parents: {long_id}\n--message: no space after the dashes\n-- migrate:up\n  SELECT ';';  \n"),
        "-- id: m\n-- parents: a b\n-- depends-on: c d\n-- message: merge: with a colon -- and dashes\n\n\
         -- migrate:up\n-- id: not a header any more\nSELECT '-- migrate:down';\n-- migrate:down\n\n\n"
            .to_string(),
    ];
    texts.iter().map(|t| t.as_bytes().to_vec()).collect()
}

const KEYS: [&str; 7] = ["id", "parents", "message", "created", "labels", "depends-on", "transaction"];
const ODD_KEYS: [&str; 14] =
    ["ID", "Id", "parent", "depends_on", "label", "x", "migrate", "author", "é", "id-", "-", "_", "0", "dependson"];
const IDS: [&str; 12] = ["a", "b", "ab", "abc", "0", "_", "a_b_c", "9223372036854775808", "A", "a-b", "é", "a.b"];
const VALUES: [&str; 24] = [
    "",
    "true",
    "false",
    "TRUE",
    "yes",
    "2026-11-21T10:42:00Z",
    "2026-11-21T10:42:00.123456789+14:00",
    "2026-02-30T00:00:00Z",
    "9999-12-31T23:59:60Z",
    "0000-01-01T00:00:00Z",
    "2026-11-21 10:42:00",
    "head",
    "heads",
    "base",
    "current",
    "rel-2",
    "feat/x.1",
    "-x",
    ".x",
    "12",
    "x@y",
    "a:b",
    "\u{200b}",
    "🙂",
];
/// Bytes that are interesting to drop anywhere in a file.
const TOKENS: [&[u8]; 38] = [
    b"\0",
    b"\r",
    b"\n",
    b"\r\n",
    b"\r\r\n",
    b"\xff",
    b"\xfe",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xef\xbb\xbf",
    b"--",
    b":",
    b" ",
    b"\t",
    b"\x0b",
    b"\x0c",
    b"-- migrate:up",
    b"-- migrate:down",
    b"\n-- migrate:up\n",
    b"\n-- migrate:down\n",
    b"-- id: ",
    b"-- parents: ",
    b"-- labels: ",
    b"-- depends-on: ",
    b"-- created: ",
    b"-- transaction: ",
    b"-- message: ",
    "\u{85}".as_bytes(),
    "\u{a0}".as_bytes(),
    "\u{2028}".as_bytes(),
    "\u{feff}".as_bytes(),
    "é".as_bytes(),
    "🙂".as_bytes(),
    b"99999999999999999999",
    b"@head",
    b"a b",
    b";",
    b"'",
];

fn random_value(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => rng.pick(&VALUES).to_string(),
        1 | 2 => {
            let n = rng.below(4);
            (0..n).map(|_| *rng.pick(&IDS)).collect::<Vec<_>>().join(*rng.pick(&[" ", "  ", "\t", " \u{a0}"]))
        }
        3 => "x".repeat(*rng.pick(&[63, 64, 65, 256, 10_000])),
        4 => random_ascii(rng, 12),
        _ => (0..rng.below(8)).map(|_| random_char(rng)).collect(),
    }
}

fn random_ascii(rng: &mut Rng, max: usize) -> String {
    (0..rng.below(max + 1)).map(|_| (0x20 + rng.below(0x5f)) as u8 as char).collect()
}

fn random_char(rng: &mut Rng) -> char {
    match rng.below(4) {
        0 => (0x20 + rng.below(0x5f)) as u8 as char,
        1 => *rng.pick(&['\t', '\r', '\u{85}', '\u{a0}', '\u{2028}', '\u{200b}', '\u{feff}', '\u{1}', '\u{7f}']),
        2 => *rng.pick(&['é', 'ß', 'İ', 'ﬁ', '١', '𝟘', '🙂', '\u{10ffff}', '∞']),
        _ => char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('?'),
    }
}

/// One header-looking line, often slightly wrong.
fn random_header_line(rng: &mut Rng) -> String {
    let prefix = *rng.pick(&["-- ", "-- ", "-- ", "--", "--  ", " -- ", "\t--\t", "---", "-- -- ", "- ", "//"]);
    let key = if rng.one_in(3) { *rng.pick(&ODD_KEYS) } else { *rng.pick(&KEYS) };
    let sep = *rng.pick(&[": ", ": ", ":", ":\t", " : ", "::", ":  ", " ", ":\u{a0}"]);
    format!("{prefix}{key}{sep}{}", random_value(rng))
}

/// A file made of random header lines, markers and SQL; half the time it
/// starts with a valid id and parents so that later checks are reached.
fn random_header_file(rng: &mut Rng) -> Vec<u8> {
    let mut lines: Vec<String> = Vec::new();
    if rng.one_in(2) {
        lines.push(format!("-- id: {}", rng.pick(&IDS[..7])));
        lines.push(format!("-- parents: {}", if rng.one_in(2) { "" } else { *rng.pick(&IDS[..7]) }));
    }
    for _ in 0..rng.below(10) {
        lines.push(match rng.below(10) {
            0..=5 => random_header_line(rng),
            6 => rng.pick(&["", "   ", "\t"]).to_string(),
            7 => rng.pick(&["-- migrate:up", " -- migrate:down ", "--migrate:up", "-- migrate:up -- x"]).to_string(),
            8 => rng.pick(&["SELECT 1;", "-- just a comment", "CREATE TABLE t (x INT);"]).to_string(),
            _ => random_ascii(rng, 20),
        });
    }
    if rng.below(4) > 0 {
        lines.push("-- migrate:up".to_string());
        lines.push("SELECT 1;".to_string());
    }
    if rng.one_in(2) {
        lines.push("-- migrate:down".to_string());
    }
    let eol = *rng.pick(&["\n", "\n", "\r\n", "\r"]);
    let mut text = lines.join(eol);
    if rng.one_in(2) {
        text.push_str(eol);
    }
    text.into_bytes()
}

/// Positions of line starts in `bytes`.
fn line_starts(bytes: &[u8]) -> Vec<usize> {
    std::iter::once(0).chain(bytes.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i + 1)).collect()
}

/// At most this many bytes come out of a mutation (keeps the loop fast).
const MAX_INPUT: usize = 1 << 20;

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = rng.pick(corpus).clone();
    let ops = rng.range(1, 8);
    // One input in fifty gets a huge repeat count: each costs as much as a thousand small ones.
    let huge_at = rng.one_in(50).then(|| rng.below(ops));
    for op in 0..ops {
        if huge_at == Some(op) {
            huge_repeat(rng, &mut bytes);
        }
        let len = bytes.len();
        let at = rng.below(len + 1);
        match rng.below(22) {
            0..=2 if len > 0 => {
                let i = rng.below(len);
                bytes[i] ^= 1 << rng.below(8);
            }
            3..=6 => {
                let token = *rng.pick(&TOKENS);
                bytes.splice(at..at, token.iter().copied());
            }
            7 if len > 0 => bytes[rng.below(len)] = rng.below(256) as u8,
            8 | 9 => {
                let end = (at + rng.range(1, 16)).min(len);
                bytes.drain(at..end);
            }
            10 => {
                let end = (at + rng.range(1, 64)).min(len);
                let copy = bytes[at..end].to_vec();
                let to = rng.below(len + 1);
                bytes.splice(to..to, copy);
            }
            11 | 12 => {
                let starts = line_starts(&bytes);
                let to = *rng.pick(&starts);
                let mut line = random_header_line(rng).into_bytes();
                line.push(b'\n');
                bytes.splice(to..to, line);
            }
            14 => bytes.truncate(at),
            15 => {
                let starts = line_starts(&bytes);
                if starts.len() >= 3 {
                    let a = rng.below(starts.len() - 1);
                    let b = rng.below(starts.len() - 1);
                    let (a, b) = (a.min(b), a.max(b));
                    if a != b {
                        let (a0, a1, b0, b1) = (starts[a], starts[a + 1], starts[b], starts[b + 1]);
                        let mut swapped = bytes[..a0].to_vec();
                        swapped.extend_from_slice(&bytes[b0..b1]);
                        swapped.extend_from_slice(&bytes[a1..b0]);
                        swapped.extend_from_slice(&bytes[a0..a1]);
                        swapped.extend_from_slice(&bytes[b1..]);
                        bytes = swapped;
                    }
                }
            }
            16 => {
                let other = rng.pick(corpus);
                let from = rng.below(other.len() + 1);
                let end = (from + rng.range(1, 200)).min(other.len());
                bytes.splice(at..at, other[from..end].iter().copied());
            }
            17 | 18 => {
                // Replace the value of some `: ` with something else.
                if let Some(colon) = bytes.windows(2).skip(at).position(|w| w == b": ").map(|p| p + at + 2) {
                    let end = bytes[colon..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| p + colon);
                    bytes.splice(colon..end, random_value(rng).into_bytes());
                }
            }
            19 => {
                let s: String = (0..rng.range(1, 4)).map(|_| random_char(rng)).collect();
                bytes.splice(at..at, s.into_bytes());
            }
            _ => {
                let eol: &[u8] = rng.pick::<&[u8]>(&[b"\r\n", b"\r", b"\n\n"]);
                bytes = bytes.split(|&b| b == b'\n').collect::<Vec<_>>().join(eol);
            }
        }
        bytes.truncate(MAX_INPUT);
    }
    bytes
}

/// Inserts a token, or a piece of the file, repeated up to a million times.
fn huge_repeat(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let len = bytes.len();
    let at = rng.below(len + 1);
    let piece: Vec<u8> = if rng.one_in(2) {
        rng.pick(&TOKENS).to_vec()
    } else {
        let end = (at + rng.range(1, 40)).min(len);
        bytes[at..end].to_vec()
    };
    if !piece.is_empty() {
        let times = (*rng.pick(&[1_000usize, 10_000, 100_000, 1_000_000])).min(MAX_INPUT / piece.len());
        let to = rng.below(len + 1);
        bytes.splice(to..to, piece.repeat(times));
    }
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let len = *rng.pick(&[0, 1, 2, 8, 64, 512, 4096]);
    let len = rng.below(len + 1);
    match rng.below(3) {
        0 => (0..len).map(|_| rng.below(256) as u8).collect(),
        // Mostly the bytes the parser cares about.
        1 => (0..len).map(|_| *rng.pick(b"-- :\n\r\t idparentsmigrate:updown\0\xff\xc3")).collect(),
        _ => (0..len).map(|_| (rng.below(0x80)) as u8).collect(),
    }
}

/// The file text of a parsed revision, written the canonical way.
fn render_revision(r: &Revision) -> String {
    let mut text = format!("-- id: {}\n-- parents: {}\n-- message: {}\n", r.id, r.parents.join(" "), r.message);
    if let Some(created) = &r.created {
        let _ = writeln!(text, "-- created: {created}");
    }
    if !r.labels().is_empty() {
        let _ = writeln!(text, "-- labels: {}", r.labels().join(" "));
    }
    if !r.depends_on().is_empty() {
        let _ = writeln!(text, "-- depends-on: {}", r.depends_on().join(" "));
    }
    let _ = writeln!(text, "-- transaction: {}\n\n-- migrate:up", r.transactional);
    text.push_str(&r.up);
    if let Some(down) = &r.down {
        text.push_str("-- migrate:down\n");
        text.push_str(down);
    }
    text
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Lines of SQL as the checksum sees them (`\r` at line ends does not count).
fn sql_lines(sql: &str) -> Vec<&str> {
    sql.lines().map(|l| l.trim_end_matches('\r')).collect()
}

fn check_parse(bytes: &[u8]) -> Result<Verdict, String> {
    let path = Path::new("fuzz/case.sql");
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
    match Revision::parse_bytes(path, bytes) {
        Err(e) => {
            if e.path != path {
                return Err(format!("error names {} instead of {}", e.path.display(), path.display()));
            }
            if let Some(line) = e.line {
                if line == 0 || line > newlines + 1 {
                    return Err(format!("error on line {line} of a file with {} line(s): {e}", newlines + 1));
                }
            }
            let text = e.to_string();
            if !text.starts_with("fuzz/case.sql") {
                return Err(format!("error message does not start with the file: {text}"));
            }
            // The byte-level checks come first and name the right line.
            let utf8 = std::str::from_utf8(bytes);
            match (&e.kind, &utf8) {
                (ParseErrorKind::InvalidUtf8, Ok(_)) => return Err("InvalidUtf8 for valid UTF-8".into()),
                (kind, Err(_)) if *kind != ParseErrorKind::InvalidUtf8 => {
                    return Err(format!("invalid UTF-8 reported as {kind:?}"))
                }
                (ParseErrorKind::NulByte, _) if !bytes.contains(&0) => return Err("NulByte without a NUL".into()),
                (kind, Ok(_)) if bytes.contains(&0) && *kind != ParseErrorKind::NulByte => {
                    return Err(format!("a NUL byte reported as {kind:?}"))
                }
                _ => {}
            }
            if let (ParseErrorKind::NulByte, Some(line)) = (&e.kind, e.line) {
                let offset = bytes.iter().position(|&b| b == 0).unwrap_or(0);
                let expected = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
                if line != expected {
                    return Err(format!("NUL byte reported on line {line}, it is on line {expected}"));
                }
            }
            Ok(Verdict::Rejected)
        }
        Ok(r) => {
            let text = std::str::from_utf8(bytes).map_err(|_| "accepted invalid UTF-8".to_string())?;
            if text.contains('\0') {
                return Err("accepted a NUL byte".into());
            }
            if !is_valid_id(&r.id) {
                return Err(format!("accepted invalid id {:?}", r.id));
            }
            for id in &r.parents {
                if !is_valid_id(id) {
                    return Err(format!("accepted invalid parent {id:?}"));
                }
            }
            // depends-on may also name a branch label.
            for id in r.depends_on() {
                if !is_valid_id(id) && label_problem(id).is_some() {
                    return Err(format!("accepted invalid dependency {id:?}"));
                }
            }
            if r.parents.iter().collect::<HashSet<_>>().len() != r.parents.len() {
                return Err("accepted a parent listed twice".into());
            }
            for label in r.labels() {
                if let Some(why) = label_problem(label) {
                    return Err(format!("accepted label {label:?}, which {why}"));
                }
            }
            if !is_hex64(&r.checksum.to_string()) {
                return Err(format!("checksum {:?} is not 64 hex digits", r.checksum));
            }
            if r.checksum != migraph::revision::checksum(&r.up, r.down.as_deref()) {
                return Err("checksum differs from checksum(up, down)".into());
            }
            if r.path != path || r.lines.id == 0 || r.lines.parents == 0 || r.lines.id == r.lines.parents {
                return Err(format!("bad path or header lines: {:?} {:?}", r.path, r.lines));
            }
            if r.message.contains('\n') || r.message != r.message.trim() {
                return Err(format!("message {:?} is not one trimmed line", r.message));
            }
            // Round trip through the canonical rendering.
            let again = Revision::parse(path, &render_revision(&r))
                .map_err(|e| format!("the rendering of an accepted revision does not parse: {e}"))?;
            let same = again.id == r.id
                && again.parents == r.parents
                && again.message == r.message
                && again.created == r.created
                && again.labels() == r.labels()
                && again.depends_on() == r.depends_on()
                && again.transactional == r.transactional
                && again.checksum == r.checksum
                && sql_lines(&again.up) == sql_lines(&r.up)
                && again.down.as_deref().map(sql_lines) == r.down.as_deref().map(sql_lines);
            if !same {
                return Err(format!("round trip changed the revision:\nfirst:  {r:?}\nsecond: {again:?}"));
            }
            Ok(Verdict::Accepted)
        }
    }
}

#[test]
fn fuzz_parse_bytes() {
    let corpus = corpus();
    for file in &corpus {
        let r = Revision::parse_bytes(Path::new("seed.sql"), file);
        assert!(r.is_ok(), "corpus file does not parse: {r:?}\n{}", String::from_utf8_lossy(file));
        assert!(matches!(check_parse(file), Ok(Verdict::Accepted)));
    }
    fuzz(
        "fuzz_parse_bytes",
        |rng| match rng.below(10) {
            0 | 1 => random_bytes(rng),
            2..=4 => random_header_file(rng),
            _ => mutate(rng, &corpus),
        },
        |bytes| escape_bytes(bytes),
        |bytes| check_parse(bytes),
    );
}

// ---------------------------------------------------------------------------
// b. Targets: resolve_revision, range_revisions, plan
// ---------------------------------------------------------------------------

fn revision(id: &str, parents: &str, extra: &str) -> Revision {
    let text = format!(
        "-- id: {id}\n-- parents: {parents}\n-- message: m {id}\n{extra}\n-- migrate:up\nSELECT 1;\n-- migrate:down\n"
    );
    Revision::parse(&PathBuf::from(format!("{id}.sql")), &text).unwrap_or_else(|e| panic!("{e}"))
}

/// ```text
/// r0 ─ ab ─ abc ─ abcd(rel-2) ─┐
///  │                           m1 ─ t1 ─ 12 ─ head_1
///  ├─ b1(rel) ─ b2 ────────────┘
///  └─ x9(feat/x.1)                       (second head)
/// s0(side) ─ s1 (depends on ab)            (second root, third head)
/// 9223372036854775807, a 64-character id: roots and heads of their own
/// ```
fn target_graph() -> RevisionGraph {
    let long = "l".repeat(64);
    RevisionGraph::new(vec![
        revision("r0", "", ""),
        revision("ab", "r0", ""),
        revision("abc", "ab", ""),
        revision("abcd", "abc", "-- labels: rel-2 v1.0"),
        revision("b1", "r0", "-- labels: rel"),
        revision("b2", "b1", ""),
        revision("m1", "abcd b2", ""),
        revision("t1", "m1", ""),
        revision("12", "t1", ""),
        revision("head_1", "12", "-- labels: head-1"),
        revision("x9", "r0", "-- labels: feat/x.1"),
        revision("s0", "", "-- labels: side"),
        revision("s1", "s0", "-- depends-on: ab"),
        revision("9223372036854775807", "", ""),
        revision(&long, "", ""),
    ])
    .expect("the target graph is valid")
}

const TARGET_WORDS: [&str; 40] = [
    "r0",
    "ab",
    "abc",
    "abcd",
    "a",
    "b",
    "b1",
    "m1",
    "t1",
    "12",
    "1",
    "head_1",
    "x9",
    "s",
    "s1",
    "rel",
    "rel-2",
    "v1.0",
    "feat/x.1",
    "side",
    "head-1",
    "head",
    "heads",
    "base",
    "current",
    "@",
    "@head",
    "@+",
    "@-",
    "+",
    "-",
    ":",
    "+1",
    "-1",
    "+99999999999999999999",
    "-9223372036854775808",
    "-9223372036854775807",
    "9223372036854775807",
    "+0",
    "llllllll",
];

fn random_target(rng: &mut Rng) -> String {
    if rng.one_in(40) {
        return String::new();
    }
    if rng.one_in(40) {
        let word = rng.pick(&TARGET_WORDS);
        return word.repeat(rng.range(30, 300) / word.len().max(1) + 1);
    }
    let mut text = String::new();
    for _ in 0..rng.range(1, 5) {
        match rng.below(8) {
            0..=3 => text.push_str(rng.pick::<&str>(&TARGET_WORDS)),
            4 => text.push(*rng.pick(&['@', '+', '-', ':', '.', '/', '_', ' '])),
            5 => {
                let _ = write!(text, "{}", rng.next() >> rng.below(64));
            }
            6 => text.push((0x20 + rng.below(0x5f)) as u8 as char),
            _ => text.push(random_char(rng)),
        }
    }
    text
}

/// A few closed database states: empty, one branch, two heads, everything.
fn target_states(graph: &RevisionGraph) -> Vec<(String, State)> {
    let closure_of = |ids: &[&str]| -> State {
        let ids: Vec<String> = graph.closure(ids.iter().copied()).iter().map(|r| r.id.clone()).collect();
        State::new(graph, ids.iter().map(String::as_str)).expect("closed state")
    };
    let all: Vec<&str> = graph.revisions().iter().map(|r| r.id.as_str()).collect();
    vec![
        ("empty".into(), State::empty(graph)),
        ("r0".into(), closure_of(&["r0"])),
        ("abcd".into(), closure_of(&["abcd"])),
        ("b2 x9".into(), closure_of(&["b2", "x9"])),
        ("t1 s1".into(), closure_of(&["t1", "s1"])),
        ("all".into(), closure_of(&all)),
    ]
}

/// The ids applied after `plan` runs on `state`, checking the steps.
fn after_plan<'g>(graph: &'g RevisionGraph, state: &State, plan: &Plan) -> Result<Vec<&'g str>, String> {
    let mut applied: BTreeSet<&str> = state.applied(graph).iter().map(|r| r.id.as_str()).collect();
    let mut seen = HashSet::new();
    for step in &plan.steps {
        let Some(r) = graph.get(&step.id) else { return Err(format!("plan names unknown revision {}", step.id)) };
        if !seen.insert(step.id.as_str()) {
            return Err(format!("plan touches {} twice", step.id));
        }
        let ok = match step.direction {
            Direction::Up => applied.insert(r.id.as_str()),
            Direction::Down => applied.remove(r.id.as_str()),
        };
        if !ok {
            return Err(format!("plan goes {} on {} from the wrong side", step.direction, step.id));
        }
        let wrong = match plan.verb {
            Verb::Upgrade => step.direction == Direction::Down,
            Verb::Downgrade => step.direction == Direction::Up,
            _ => false,
        };
        if wrong {
            return Err(format!("{} plan has a {} step", plan.verb, step.direction));
        }
    }
    Ok(applied.into_iter().collect())
}

fn check_target(graph: &RevisionGraph, states: &[(String, State)], text: &str) -> Result<Verdict, String> {
    let mut any_ok = false;
    match migraph::target::resolve_revision(graph, text) {
        Ok(r) => {
            any_ok = true;
            if !graph.get(&r.id).is_some_and(|g| std::ptr::eq(g, r)) {
                return Err(format!("resolve_revision({text:?}) gave a revision outside the graph"));
            }
            if !text.contains(':') {
                let range = migraph::target::range_revisions(graph, &format!("{text}:{text}"))
                    .map_err(|e| format!("`{text}` resolves to {} but `{text}:{text}` fails: {e}", r.id))?;
                let ids: Vec<&str> = range.iter().map(|x| x.id.as_str()).collect();
                if ids != [r.id.as_str()] {
                    return Err(format!("`{text}` resolves to {} but `{text}:{text}` is {ids:?}", r.id));
                }
            }
        }
        Err(e) => {
            if e.to_string().is_empty() {
                return Err("empty error message".into());
            }
        }
    }
    match migraph::target::range_revisions(graph, text) {
        Ok(list) => {
            any_ok = true;
            if !text.contains(':') {
                return Err(format!("range without `:` accepted: {text:?}"));
            }
            // A topological order of its own members (ties may differ from the whole graph's order).
            let mut seen: HashSet<&str> = HashSet::new();
            let members: HashSet<&str> = list.iter().map(|r| r.id.as_str()).collect();
            for r in &list {
                if let Some(p) = r
                    .parents
                    .iter()
                    .chain(r.depends_on())
                    .find(|p| members.contains(p.as_str()) && !seen.contains(p.as_str()))
                {
                    return Err(format!("range {text:?} lists {} before its parent {p}", r.id));
                }
                if !seen.insert(r.id.as_str()) {
                    return Err(format!("range {text:?} lists {} twice", r.id));
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Ok(state) = State::at(graph, &[text]) {
        let ids: Vec<&str> = state.applied(graph).iter().map(|r| r.id.as_str()).collect();
        State::new(graph, ids).map_err(|e| format!("State::at({text:?}) is not closed: {e}"))?;
    }
    for (name, state) in states {
        for verb in [Verb::Upgrade, Verb::Downgrade, Verb::Migrate, Verb::Stamp] {
            for targets in [vec![text], vec![text, "heads"], vec!["b1", text]] {
                match plan(graph, state, verb, &targets) {
                    Ok(p) => {
                        any_ok = true;
                        let after = after_plan(graph, state, &p)
                            .map_err(|e| format!("{verb} {targets:?} from state {name}: {e}"))?;
                        State::new(graph, after.iter().copied()).map_err(|e| {
                            format!("{verb} {targets:?} from state {name} leaves a state that is not closed: {e}")
                        })?;
                    }
                    Err(e) => {
                        let _ = e.to_string();
                    }
                }
            }
        }
    }
    Ok(if any_ok { Verdict::Accepted } else { Verdict::Rejected })
}

#[test]
fn fuzz_targets() {
    let graph = target_graph();
    let states = target_states(&graph);
    // The fixed words resolve as documented before random ones are thrown at them.
    let one = |t: &str| migraph::target::resolve_revision(&graph, t).map(|r| r.id.clone()).map_err(|e| e.to_string());
    assert_eq!(one("ab").as_deref(), Ok("ab"), "an exact id wins over the longer ids it prefixes");
    assert_eq!(one("abc").as_deref(), Ok("abc"));
    assert_eq!(one("rel-2").as_deref(), Ok("abcd"), "a label ending in -N is the label");
    assert_eq!(one("rel").as_deref(), Ok("b1"));
    assert_eq!(one("head-1").as_deref(), Ok("head_1"), "a label `head-1` wins over head minus 1");
    assert_eq!(one("12").as_deref(), Ok("12"));
    assert!(one("b").unwrap_err().contains("ambiguous"));
    assert!(one("+99999999999999999999").is_err());
    assert!(one("-9223372036854775807").is_err());
    fuzz("fuzz_targets", random_target, |t| escape_str(t), |t| check_target(&graph, &states, t));
}

// ---------------------------------------------------------------------------
// c. Graph building
// ---------------------------------------------------------------------------

const POOL: [&str; 8] = ["a", "b", "c", "d", "e", "ab", "abc", "zz"];
const LABELS: [&str; 5] = ["x", "y", "rel-2", "a", "b"];

/// A small set of revisions with random ids, parents, dependencies and
/// labels from small pools: duplicates, self-parents, cycles and missing
/// parents are all likely. Mostly built by the parser; sometimes edited
/// afterwards the way only a library caller could (the fields are public).
fn random_revisions(rng: &mut Rng) -> (Vec<Revision>, bool) {
    let n = rng.below(11);
    let mut revisions = Vec::with_capacity(n);
    let pick_ids = |rng: &mut Rng, max: usize, pool: &[&str]| -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for _ in 0..rng.below(max + 1) {
            let id = rng.pick(pool).to_string();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    };
    for i in 0..n {
        let id = *rng.pick(&POOL[..7]);
        let parents = pick_ids(rng, 3, &POOL);
        let deps = pick_ids(rng, 2, &POOL);
        let max_labels = if rng.one_in(3) { 2 } else { 0 };
        let labels = pick_ids(rng, max_labels, &LABELS);
        let mut text = format!("\n-- id: {id}\n-- parents: {}\n-- message: m{i}\n", parents.join(" "));
        if !deps.is_empty() || rng.one_in(2) {
            let _ = writeln!(text, "-- depends-on: {}", deps.join(" "));
        }
        if !labels.is_empty() {
            let _ = writeln!(text, "-- labels: {}", labels.join(" "));
        }
        text.push_str("-- migrate:up\nSELECT 1;\n");
        if !rng.one_in(4) {
            text.push_str("-- migrate:down\n");
        }
        let path = PathBuf::from(format!("d{}/{i}.sql", rng.below(3)));
        revisions.push(Revision::parse(&path, &text).unwrap_or_else(|e| panic!("generator bug: {e}\n{text}")));
    }
    // Library-only oddities: a parent or a label listed twice, an invalid id.
    let odd = !revisions.is_empty() && rng.one_in(8);
    if odd {
        let k = rng.below(revisions.len());
        match rng.below(3) {
            0 => {
                let p = rng.pick(&POOL).to_string();
                revisions[k].parents.extend([p.clone(), p]);
            }
            1 => revisions[k].links_mut().labels.extend(["dup".to_string(), "dup".to_string()]),
            _ => revisions[k].id = rng.pick(&["", "UP-PER", "with space", "é"]).to_string(),
        }
    }
    (revisions, odd)
}

/// The problems the graph must report, computed the slow, obvious way:
/// (kind, subject) pairs.
fn expected_problems(revisions: &[Revision]) -> BTreeMap<(&'static str, String), usize> {
    let mut sorted: Vec<&Revision> = revisions.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.path.cmp(&b.path)));
    let mut kept: Vec<&Revision> = Vec::new();
    let mut problems: BTreeMap<(&'static str, String), usize> = BTreeMap::new();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for r in &sorted {
        *count.entry(r.id.as_str()).or_default() += 1;
        if kept.last().is_none_or(|k| k.id != r.id) {
            kept.push(r);
        }
    }
    for (id, n) in &count {
        if *n > 1 {
            *problems.entry(("duplicate", id.to_string())).or_default() += 1;
        }
    }
    let ids: HashSet<&str> = kept.iter().map(|r| r.id.as_str()).collect();
    // depends-on may name a label: the first kept revision carrying it.
    let mut label_of: HashMap<&str, &str> = HashMap::new();
    for r in &kept {
        for label in r.labels() {
            label_of.entry(label.as_str()).or_insert(r.id.as_str());
        }
    }
    let dependency = |name: &str| ids.get(name).or_else(|| label_of.get(name)).copied();
    for r in &kept {
        for p in r.parents.iter().filter(|p| !ids.contains(p.as_str())) {
            *problems.entry(("missing", format!("{} parent {p}", r.id))).or_default() += 1;
        }
        for p in r.depends_on().iter().filter(|p| dependency(p).is_none()) {
            *problems.entry(("missing", format!("{} dependency {p}", r.id))).or_default() += 1;
        }
    }
    let mut label_users: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &kept {
        for label in r.labels() {
            *label_users.entry(label.as_str()).or_default() += 1;
            if ids.contains(label.as_str()) {
                *problems.entry(("label is id", label.clone())).or_default() += 1;
            }
        }
    }
    for (label, n) in label_users {
        if n > 1 {
            *problems.entry(("label twice", label.to_string())).or_default() += 1;
        }
    }
    // Cycles: strongly connected components with a cycle, by brute-force reachability.
    let index: HashMap<&str, usize> = kept.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    let n = kept.len();
    let mut reach = vec![vec![false; n]; n];
    for (child, r) in kept.iter().enumerate() {
        let deps = r.depends_on().iter().filter_map(|d| dependency(d));
        for p in r.parents.iter().map(String::as_str).chain(deps) {
            if let Some(&parent) = index.get(p) {
                reach[parent][child] = true;
            }
        }
    }
    for k in 0..n {
        let through = reach[k].clone();
        for row in reach.iter_mut().filter(|row| row[k]) {
            for (to, _) in through.iter().enumerate().filter(|(_, &r)| r) {
                row[to] = true;
            }
        }
    }
    let mut done = vec![false; n];
    for i in 0..n {
        if done[i] || !reach[i][i] {
            continue;
        }
        let members: Vec<usize> = (0..n).filter(|&j| j == i || (reach[i][j] && reach[j][i])).collect();
        members.iter().for_each(|&j| done[j] = true);
        let names: Vec<&str> = members.iter().map(|&j| kept[j].id.as_str()).collect();
        *problems.entry(("cycle", names.join(" "))).or_default() += 1;
    }
    problems
}

fn actual_problems(
    revisions: &[Revision],
    problems: &[Problem],
) -> Result<BTreeMap<(&'static str, String), usize>, String> {
    let by_id: HashMap<&str, Vec<&Revision>> = revisions.iter().fold(HashMap::new(), |mut map, r| {
        map.entry(r.id.as_str()).or_insert_with(Vec::new).push(r);
        map
    });
    let mut out: BTreeMap<(&'static str, String), usize> = BTreeMap::new();
    for problem in problems {
        let key = match problem {
            Problem::Parse(e) => return Err(format!("a parse problem out of nowhere: {e}")),
            Problem::Squash(e) => return Err(format!("a squash problem out of nowhere: {e}")),
            Problem::DuplicateId { id, files } => {
                if files.len() != by_id.get(id.as_str()).map_or(0, Vec::len) {
                    return Err(format!("duplicate `{id}` names {} file(s): {problem}", files.len()));
                }
                ("duplicate", id.clone())
            }
            Problem::Missing { id, missing, depends_on, .. } => {
                ("missing", format!("{id} {} {missing}", if *depends_on { "dependency" } else { "parent" }))
            }
            Problem::LabelIsId { label, .. } => ("label is id", label.clone()),
            Problem::LabelTwice { label, files } => {
                if files.len() < 2 {
                    return Err(format!("label twice with {} file(s)", files.len()));
                }
                ("label twice", label.clone())
            }
            Problem::Cycle { path, files } => {
                // The path is a real cycle: it closes, and each step is an edge.
                if path.len() < 2 || path.first() != path.last() {
                    return Err(format!("cycle path does not close: {path:?}"));
                }
                for w in path.windows(2) {
                    // A dependency may name the parent end by one of its labels.
                    let names_it = |d: &String| {
                        d == &w[0]
                            || by_id.get(w[0].as_str()).is_some_and(|ps| ps.iter().any(|p| p.labels().contains(d)))
                    };
                    let is_edge = by_id.get(w[1].as_str()).is_some_and(|rs| {
                        rs.iter().any(|r| r.parents.contains(&w[0]) || r.depends_on().iter().any(names_it))
                    });
                    if !is_edge {
                        return Err(format!("cycle step {} -> {} is no edge: {problem}", w[0], w[1]));
                    }
                }
                let mut names: Vec<String> = files
                    .iter()
                    .map(|(p, _)| revisions.iter().find(|r| &r.path == p).map_or(String::new(), |r| r.id.clone()))
                    .collect();
                names.sort();
                ("cycle", names.join(" "))
            }
            other => return Err(format!("a problem this test does not know: {other}")),
        };
        if problem.to_string().is_empty() {
            return Err("empty problem message".into());
        }
        *out.entry(key).or_default() += 1;
    }
    Ok(out)
}

fn check_graph(revisions: &[Revision], odd: bool) -> Result<Verdict, String> {
    let built = RevisionGraph::new(revisions.to_vec());
    let expected = (!odd).then(|| expected_problems(revisions));
    match built {
        Err(e) => {
            if e.problems.is_empty() {
                return Err("GraphError without problems".into());
            }
            if e.to_string().lines().count() < e.problems.len() {
                return Err("the error prints fewer lines than problems".into());
            }
            if let Some(expected) = expected {
                let actual = actual_problems(revisions, &e.problems)?;
                if actual != expected {
                    return Err(format!(
                        "problems differ from the model\nexpected: {expected:?}\nactual:   {actual:?}\n{e}"
                    ));
                }
            }
            Ok(Verdict::Rejected)
        }
        Ok(graph) => {
            if let Some(expected) = &expected {
                if !expected.is_empty() {
                    return Err(format!("accepted a graph with problems: {expected:?}"));
                }
            }
            check_valid_graph(&graph, revisions.len())?;
            Ok(Verdict::Accepted)
        }
    }
}

/// Everything a valid graph offers, on a random one.
fn check_valid_graph(graph: &RevisionGraph, count: usize) -> Result<(), String> {
    let topo = graph.topological();
    if topo.len() != count || graph.len() != count {
        return Err(format!("topological() has {} of {count} revisions", topo.len()));
    }
    let positions: HashMap<&str, usize> = topo.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    if positions.len() != count {
        return Err("topological() repeats a revision".into());
    }
    for r in &topo {
        for p in r.parents.iter().chain(r.depends_on()) {
            if positions.get(p.as_str()).is_none_or(|&i| i >= positions[r.id.as_str()]) {
                return Err(format!("{p} does not come before {}", r.id));
            }
        }
    }
    let heads: Vec<&str> = graph.heads().iter().map(|r| r.id.as_str()).collect();
    let model_heads: Vec<&str> = graph
        .revisions()
        .iter()
        .filter(|r| !topo.iter().any(|c| c.parents.contains(&r.id)))
        .map(|r| r.id.as_str())
        .collect();
    if heads != model_heads {
        return Err(format!("heads {heads:?}, expected {model_heads:?}"));
    }
    for r in graph.revisions() {
        let closure = graph.closure([r.id.as_str()]);
        if closure.last().map(|x| x.id.as_str()) != Some(r.id.as_str()) {
            return Err(format!("closure of {} does not end with it", r.id));
        }
        let descendants = graph.descendants(&r.id);
        if descendants.iter().any(|d| d.id == r.id || closure.iter().any(|c| c.id == d.id)) {
            return Err(format!("descendants of {} overlap its closure", r.id));
        }
    }
    let _ = (graph.roots(), graph.branch_points(), graph.merge_points());
    // Plans over the whole graph, and the pictures and scripts made from them.
    let empty = State::empty(graph);
    let up = plan(graph, &empty, Verb::Upgrade, &["heads"]).map_err(|e| format!("upgrade heads: {e}"))?;
    if up.steps.len() != count {
        return Err(format!("upgrade heads has {} of {count} steps", up.steps.len()));
    }
    let full = empty.after(graph, &up);
    match plan(graph, &full, Verb::Downgrade, &["base"]) {
        Ok(down) if down.steps.len() != count => return Err("downgrade base leaves something".into()),
        Ok(down) => {
            let reversed: Vec<&str> = down.steps.iter().rev().map(|s| s.id.as_str()).collect();
            let ups: Vec<&str> = up.steps.iter().map(|s| s.id.as_str()).collect();
            if reversed != ups {
                return Err("unapply order is not the reverse of apply order".into());
            }
        }
        Err(migraph::PlanError::Irreversible { .. }) => {}
        Err(e) => return Err(format!("downgrade base: {e}")),
    }
    let _ = migraph::script::script(graph, &up, Dialect::Sqlite, "migraph_revisions", "fuzz");
    let _ = migraph::script::script(graph, &up, Dialect::Mysql, "t", "fuzz");
    let newest_first: Vec<&Revision> = topo.iter().rev().copied().collect();
    let drawn = render::log_graph(graph, &newest_first, |r| r.id.clone());
    if drawn.lines().filter(|l| l.contains('*')).count() != count {
        return Err(format!("log_graph does not draw one `*` per revision:\n{drawn}"));
    }
    let _ = (render::dot(graph, |_| None), render::mermaid(graph, |_| None));
    Ok(())
}

fn show_revisions(revisions: &[Revision]) -> String {
    let rows: Vec<String> = revisions
        .iter()
        .map(|r| {
            format!(
                "{} [{}] parents={:?} depends_on={:?} labels={:?}",
                r.id,
                r.path.display(),
                r.parents,
                r.depends_on(),
                r.labels()
            )
        })
        .collect();
    format!("\n  {}", rows.join("\n  "))
}

#[test]
fn fuzz_graph_building() {
    fuzz(
        "fuzz_graph_building",
        random_revisions,
        |(revisions, _)| show_revisions(revisions),
        |(revisions, odd)| check_graph(revisions, *odd),
    );
}

// ---------------------------------------------------------------------------
// proptest: the same properties with shrinking, on a fixed number of cases
// ---------------------------------------------------------------------------

mod properties {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    fn config() -> Config {
        // No regression files: this suite must not write into the source tree.
        Config { cases: 256, failure_persistence: None, ..Config::default() }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn targets_never_panic(text in "[abcdr0-9lsx_@+:./-]{0,24}|\\PC{0,8}|[+-][0-9]{15,25}") {
            let graph = target_graph();
            let states = target_states(&graph);
            prop_assert!(check_target(&graph, &states, &text).is_ok(), "{:?}", check_target(&graph, &states, &text).err());
        }

        #[test]
        fn header_lines_never_panic(
            lines in proptest::collection::vec("(-- ?|--  )(id|parents|labels|depends-on|created|transaction|message|[a-z]{1,3}):( |\t)?[ -~]{0,20}", 0..8),
            eol in "\n|\r\n",
        ) {
            let text = format!("{}{eol}-- migrate:up{eol}SELECT 1;{eol}", lines.join(&eol));
            prop_assert!(check_parse(text.as_bytes()).is_ok(), "{:?}", check_parse(text.as_bytes()).err());
        }

        #[test]
        fn any_bytes_are_an_error_or_a_revision(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            prop_assert!(check_parse(&bytes).is_ok(), "{:?}", check_parse(&bytes).err());
        }
    }
}
