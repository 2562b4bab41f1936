//! Time-bounded fuzzing of the statement splitter and of the `--sql`
//! escaping, in the style of tests/fuzz.rs: each target loops until
//! `MIGRAPH_FUZZ_SECONDS` (default 3) are spent, on inputs drawn from
//! `MIGRAPH_FUZZ_SEED` (default: the clock, printed first); iteration `i`
//! has its own generator, so a failure replays exactly with
//!
//! ```text
//! MIGRAPH_FUZZ_SEED=<seed> MIGRAPH_FUZZ_ITERATION=<i> cargo test --test fuzz_split <target>
//! ```
//!
//! - `split_soup`: SQL-ish character soup never panics any dialect's
//!   splitter; what it accepts are ordered, trimmed, non-empty slices of the
//!   input with the right line numbers.
//! - `split_round_trip`: statements full of literals, quoted identifiers,
//!   comments and compound bodies that contain `;` (escaped the dialect's
//!   way) are joined and split again: the split gives back exactly the
//!   statements, never a piece of one.
//! - `script_escaping`: header text put in a `--sql` comment never leaves
//!   the line, whatever it holds.

use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use migraph::backend::split::{statements, transaction_control};
use migraph::backend::Dialect;

#[path = "../examples/synth/rng.rs"]
mod rng;

use rng::SplitMix64 as Rng;

const DIALECTS: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    Some(text.trim().parse().unwrap_or_else(|_| panic!("{name}={text:?} is not a number")))
}

fn budget() -> Duration {
    std::env::var("MIGRAPH_FUZZ_SECONDS").map_or(Duration::from_secs(3), |text| {
        Duration::from_secs_f64(text.trim().parse().unwrap_or_else(|_| panic!("MIGRAPH_FUZZ_SECONDS={text:?}")))
    })
}

/// Runs `check` on generated inputs until the budget is spent (or only
/// iteration `MIGRAPH_FUZZ_ITERATION`); a panic or an `Err` fails the test
/// with the seed, the iteration and the input.
fn fuzz<I: std::fmt::Debug>(target: &str, generate: impl Fn(&mut Rng) -> I, check: impl Fn(&I) -> Result<(), String>) {
    let seed = env_u64("MIGRAPH_FUZZ_SEED").unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        (now.as_nanos() as u64) ^ u64::from(std::process::id()).rotate_left(32)
    });
    let only = env_u64("MIGRAPH_FUZZ_ITERATION");
    let budget = budget();
    let _ = writeln!(std::io::stderr(), "fuzz {target}: seed {seed}, {:.1} s", budget.as_secs_f64());
    let started = Instant::now();
    let mut i = only.unwrap_or(0);
    loop {
        let mut mix = Rng::new(seed ^ i.wrapping_mul(0xd1b5_4a32_d192_ed03));
        let input = generate(&mut Rng::new(mix.next_u64()));
        let outcome = catch_unwind(AssertUnwindSafe(|| check(&input)));
        let problem = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(problem)) => Some(problem),
            Err(payload) => Some(format!(
                "panicked: {}",
                payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        };
        if let Some(problem) = problem {
            panic!(
                "fuzz {target}: {problem}\nreplay: MIGRAPH_FUZZ_SEED={seed} MIGRAPH_FUZZ_ITERATION={i} cargo test --test \
                 fuzz_split {target}\ninput: {input:?}"
            );
        }
        i += 1;
        if only.is_some() || started.elapsed() >= budget {
            break;
        }
    }
    assert!(i > 0);
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len())]
}

fn one_in(rng: &mut Rng, n: usize) -> bool {
    rng.below(n) == 0
}

// ---------------------------------------------------------------------------
// Soup: no panic, sane output
// ---------------------------------------------------------------------------

const SOUP: &[&str] = &[
    "'",
    "\"",
    "`",
    "$",
    "$$",
    "$a$",
    ";",
    ";",
    "-",
    "--",
    "/*",
    "*/",
    "\\",
    "#",
    "E'",
    "e'",
    "[",
    "]",
    "(",
    ")",
    "\n",
    "\r\n",
    " ",
    "\t",
    "BEGIN",
    "END",
    "CASE",
    "IF",
    "LOOP",
    "REPEAT",
    "WHILE",
    "ATOMIC",
    "NOT",
    "CREATE",
    "TRIGGER",
    "FUNCTION",
    "PROCEDURE",
    "EVENT",
    "DELIMITER",
    "COMMIT",
    "ROLLBACK",
    "TO",
    ":",
    ",",
    "x",
    "a$b",
    "é",
    "😀",
    "/*!",
    "U&'",
    "X'",
    "N'",
    "0",
    "1.5e",
    "?",
    "@",
    "@@",
    "::",
];

fn check_statements(sql: &str, dialect: Dialect) -> Result<(), String> {
    let _ = transaction_control(sql, dialect);
    let _ = migraph::backend::split::ends_with_semicolon(sql, dialect);
    let Ok(list) = statements(sql, dialect) else { return Ok(()) };
    let base = sql.as_ptr() as usize;
    let mut last_end = 0;
    for s in &list {
        let start = s.text.as_ptr() as usize - base;
        if start < last_end || start + s.text.len() > sql.len() {
            return Err(format!("{dialect}: statement {:?} is not an ordered slice of the input", s.text));
        }
        if s.text.is_empty() || s.text.trim() != s.text {
            return Err(format!("{dialect}: statement {:?} is empty or untrimmed", s.text));
        }
        let line = 1 + sql[..start].matches('\n').count();
        if s.line != line {
            return Err(format!("{dialect}: statement {:?} said line {}, is on {line}", s.text, s.line));
        }
        last_end = start + s.text.len();
    }
    Ok(())
}

#[test]
fn split_soup() {
    fuzz(
        "split_soup",
        |rng| {
            let n = rng.range(0, 60);
            (0..n).map(|_| *pick(rng, SOUP)).collect::<String>()
        },
        |sql| DIALECTS.iter().try_for_each(|&d| check_statements(sql, d)),
    );
}

// ---------------------------------------------------------------------------
// Round trip: never split inside a literal
// ---------------------------------------------------------------------------

const CONTENT: &[&str] = &[
    ";",
    ";",
    "'",
    "\"",
    "`",
    "\\",
    "$",
    "-",
    "--",
    "/*",
    "*/",
    "#",
    "\n",
    "\nDELIMITER //\n",
    " ",
    "a",
    "é",
    "END",
    "BEGIN",
    "]",
    "[",
    "$$",
    "E'",
    "COMMIT;",
];

fn content(rng: &mut Rng, forbidden: &[&str]) -> String {
    let n = rng.range(0, 8);
    let mut text: String = (0..n).map(|_| *pick(rng, CONTENT)).collect();
    for f in forbidden {
        text = text.replace(f, "");
    }
    text
}

/// A literal, quoted identifier or comment holding `;` and friends, written
/// the dialect's way, that the splitter must keep whole.
fn piece(rng: &mut Rng, dialect: Dialect) -> String {
    match (dialect, rng.below(6)) {
        (Dialect::Postgres, 0) => format!("'{}'", content(rng, &[]).replace('\'', "''")),
        (Dialect::Postgres, 1) => format!("E'{}'", content(rng, &[]).replace('\\', "\\\\").replace('\'', "\\'")),
        (Dialect::Postgres, 2) => {
            let tag = pick(rng, &["", "a", "tag", "x_1"]);
            format!("${tag}${}${tag}$", content(rng, &["$"]))
        }
        (Dialect::Postgres, 3) => format!("\"{}x\"", content(rng, &[]).replace('"', "\"\"")),
        (Dialect::Postgres, 4) => {
            format!("/* {} /* {} */ */ 1", content(rng, &["/*", "*/", "/", "*"]), content(rng, &["/*", "*/", "/", "*"]))
        }
        (Dialect::Mysql, 0) => format!("'{}'", content(rng, &[]).replace('\\', "\\\\").replace('\'', "\\'")),
        (Dialect::Mysql, 1) => format!("\"{}\"", content(rng, &[]).replace('\\', "\\\\").replace('"', "\"\"")),
        (Dialect::Mysql, 2) => format!("`{}x`", content(rng, &[]).replace('`', "``")),
        (Dialect::Mysql, 3) => format!("# {}\n1", content(rng, &["\n"])),
        (Dialect::Mysql, 4) => format!("/* {} */ 1", content(rng, &["*/", "!", "/", "*"])),
        (Dialect::Sqlite, 0) => format!("'{}'", content(rng, &[]).replace('\'', "''")),
        (Dialect::Sqlite, 1) => format!("\"{}x\"", content(rng, &[]).replace('"', "\"\"")),
        (Dialect::Sqlite, 2) => format!("[{}x]", content(rng, &["]"])),
        (Dialect::Sqlite, 3) => format!("`{}x`", content(rng, &[]).replace('`', "``")),
        (Dialect::Sqlite, 4) => format!("/* {} */ 1", content(rng, &["*/", "/", "*"])),
        (_, _) => format!("-- {}\n1", content(rng, &["\n", "\r"])),
    }
}

fn simple_statement(rng: &mut Rng, dialect: Dialect) -> String {
    let pieces: Vec<String> = (0..rng.range(1, 4)).map(|_| piece(rng, dialect)).collect();
    let list = pieces.join(", ");
    match rng.below(4) {
        0 => format!("SELECT {list}"),
        1 => format!("INSERT INTO t VALUES ({list})"),
        2 => format!("SELECT CASE WHEN {} = 1 THEN {list} END", piece(rng, dialect)),
        _ => format!("UPDATE t SET c = {} WHERE d IN ({list})", piece(rng, dialect)),
    }
}

/// A compound statement whose body holds `;`.
fn compound_statement(rng: &mut Rng, dialect: Dialect) -> String {
    let body: Vec<String> = (0..rng.range(1, 4)).map(|_| simple_statement(rng, dialect)).collect();
    let body = body.join(";\n  ");
    match dialect {
        Dialect::Sqlite => format!("CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  {body};\nEND"),
        Dialect::Postgres => {
            format!("CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  {body};\nEND")
        }
        Dialect::Mysql => match rng.below(3) {
            0 => format!("CREATE PROCEDURE p()\nBEGIN\n  {body};\nEND"),
            1 => format!("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  IF 1 THEN {body}; END IF;\nEND"),
            _ => format!("CREATE PROCEDURE p()\nlbl: BEGIN\n  WHILE 0 DO {body}; END WHILE;\nEND lbl"),
        },
    }
}

fn separator(rng: &mut Rng, dialect: Dialect) -> String {
    match rng.below(5) {
        0 => ";\n".into(),
        1 => "; ".into(),
        2 => ";\n-- between; statements\n".into(),
        3 if dialect == Dialect::Mysql => ";\n# between; statements\n".into(),
        _ => ";\n/* between; statements */\n\n".into(),
    }
}

#[test]
fn split_round_trip() {
    fuzz(
        "split_round_trip",
        |rng| {
            let dialect = *pick(rng, &DIALECTS);
            let n = rng.range(1, 6);
            let statements: Vec<String> = (0..n)
                .map(|_| if one_in(rng, 4) { compound_statement(rng, dialect) } else { simple_statement(rng, dialect) })
                .collect();
            let mut sql = String::new();
            for (i, s) in statements.iter().enumerate() {
                sql.push_str(s);
                if i + 1 < n || !one_in(rng, 3) {
                    sql.push_str(&separator(rng, dialect));
                }
            }
            (dialect, statements, sql)
        },
        |(dialect, expected, sql)| {
            let got = statements(sql, *dialect).map_err(|e| format!("{dialect}: {e}"))?;
            let got: Vec<&str> = got.iter().map(|s| s.text).collect();
            if got != *expected {
                return Err(format!("{dialect}: split into {got:#?}\nexpected {expected:#?}"));
            }
            match transaction_control(sql, *dialect) {
                Some(found) => Err(format!("{dialect}: {found:?} is inside a literal or body")),
                None => Ok(()),
            }
        },
    );
}

// ---------------------------------------------------------------------------
// Script escaping
// ---------------------------------------------------------------------------

#[test]
fn script_escaping() {
    let alphabet: Vec<char> =
        "a'\"\\;-/*$\r\n\t\u{0}\u{7}\u{1b}\u{7f}\u{85}\u{a0}\u{2028}\u{2029}\u{202e}\u{2066}\u{feff}é😀"
            .chars()
            .collect();
    fuzz(
        "script_escaping",
        |rng| (0..rng.range(0, 24)).map(|_| *pick(rng, &alphabet)).collect::<String>(),
        |text| {
            let escaped = migraph::script::comment(text);
            if escaped.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202e}' | '\u{2066}'))
            {
                return Err(format!("comment {escaped:?} holds a line break or control character"));
            }
            for dialect in DIALECTS {
                let literal = migraph::script::literal(dialect, text);
                if literal.contains('\r') || literal.contains('\u{2028}') {
                    return Err(format!("{dialect}: literal {literal:?} holds a CR or line separator"));
                }
                // The literal is one token: it splits as one statement.
                let sql = format!("SELECT {literal}; SELECT 2");
                let split = statements(&sql, dialect).map_err(|e| format!("{dialect}: {literal}: {e}"))?;
                if split.len() != 2 {
                    return Err(format!("{dialect}: {literal} split into {split:?}"));
                }
            }
            Ok(())
        },
    );
}
