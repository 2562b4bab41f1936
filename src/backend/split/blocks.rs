//! The block-depth layer: which `;` are inside a compound body (and so do
//! not end the statement). See the parent module for the rules per dialect.

use super::{Kind, Lexeme, SplitError};
use crate::backend::Dialect;

/// Marks the `;` inside compound bodies as [`Kind::InnerSemi`].
pub(super) fn mark_inner_semicolons(lexemes: &mut [Lexeme], dialect: Dialect) -> Result<(), SplitError> {
    let mut from = 0;
    while from < lexemes.len() {
        let end = lexemes[from..].iter().position(|l| l.kind == Kind::Semi).map_or(lexemes.len(), |p| from + p);
        let next = if compound(&lexemes[from..end], dialect) { statement(lexemes, from, dialect)? } else { end };
        from = next + 1;
    }
    Ok(())
}

/// Whether the statement whose tokens (up to its first `;`) are `head` may
/// hold a compound body.
fn compound(head: &[Lexeme], dialect: Dialect) -> bool {
    let word = |i: usize| head.get(i).map_or("", |l| l.word.as_str());
    match dialect {
        Dialect::Postgres => {
            let at = if word(1) == "OR" && word(2) == "REPLACE" { 3 } else { 1 };
            word(0) == "CREATE" && matches!(word(at), "FUNCTION" | "PROCEDURE")
        }
        Dialect::Sqlite => {
            let at = if matches!(word(1), "TEMP" | "TEMPORARY") { 2 } else { 1 };
            word(0) == "CREATE" && word(at) == "TRIGGER"
        }
        Dialect::Mysql => match word(0) {
            "CREATE" | "ALTER" => {
                // Past `OR REPLACE`, `DEFINER = …`, `AGGREGATE`: the object kind.
                let kind = head.iter().take(24).skip(1).map(|l| l.word.as_str()).find(|w| {
                    matches!(
                        *w,
                        "TRIGGER"
                            | "PROCEDURE"
                            | "FUNCTION"
                            | "EVENT"
                            | "TABLE"
                            | "VIEW"
                            | "INDEX"
                            | "DATABASE"
                            | "SCHEMA"
                            | "USER"
                            | "ROLE"
                            | "SERVER"
                            | "TABLESPACE"
                            | "SEQUENCE"
                    )
                });
                matches!(kind, Some("TRIGGER" | "PROCEDURE" | "FUNCTION" | "EVENT"))
            }
            // MariaDB's anonymous blocks and top-level control statements.
            "BEGIN" => word(1) == "NOT" && word(2) == "ATOMIC",
            "IF" | "WHILE" | "LOOP" | "REPEAT" | "CASE" => true,
            _ => head.get(1).is_some_and(|l| l.kind == Kind::Colon) && is_opener_word(word(2)),
        },
    }
}

fn is_opener_word(word: &str) -> bool {
    matches!(word, "BEGIN" | "LOOP" | "WHILE" | "REPEAT")
}

/// Walks the compound statement starting at `from`; returns the index of
/// its terminating `;` (or the length) and marks the inner ones.
fn statement(lexemes: &mut [Lexeme], from: usize, dialect: Dialect) -> Result<usize, SplitError> {
    let mut depth = 0usize;
    let mut parens = 0usize;
    let mut opened_at = lexemes[from].line;
    let mut i = from;
    while i < lexemes.len() {
        let kind = lexemes[i].kind;
        match kind {
            Kind::LParen => parens += 1,
            Kind::RParen => parens = parens.saturating_sub(1),
            Kind::Semi if depth == 0 => return Ok(i),
            Kind::Semi => lexemes[i].kind = Kind::InnerSemi,
            Kind::Word => {
                let opens = match dialect {
                    Dialect::Mysql => mysql_opens(lexemes, from, i),
                    _ => {
                        parens == 0
                            && match lexemes[i].word.as_str() {
                                "BEGIN" => true,
                                "CASE" => depth >= 1,
                                _ => false,
                            }
                    }
                };
                let closes = lexemes[i].word == "END" && (dialect == Dialect::Mysql || parens == 0);
                if opens {
                    if depth == 0 {
                        opened_at = lexemes[i].line;
                    }
                    depth += 1;
                } else if closes && depth > 0 {
                    depth -= 1;
                    // `END IF`, `END CASE`, `END LOOP`…: the word closes, it opens nothing.
                    if dialect == Dialect::Mysql
                        && lexemes
                            .get(i + 1)
                            .is_some_and(|l| matches!(l.word.as_str(), "IF" | "CASE" | "LOOP" | "WHILE" | "REPEAT"))
                    {
                        i += 1;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    if depth > 0 {
        return Err(SplitError {
            line: opened_at,
            message: format!(
                "unbalanced BEGIN … END: the block opened on line {opened_at} is not closed (a missing END, or END \
                 IF/END LOOP/END CASE)"
            ),
        });
    }
    Ok(lexemes.len())
}

/// Whether the MySQL word at `i` opens a block: `BEGIN` and `CASE` always
/// (a `CASE` expression ends with `END` too); `IF`, `LOOP`, `WHILE` and
/// `REPEAT` where a statement starts, and not the functions `IF(a, b, c)`
/// and `REPEAT(s, n)`.
fn mysql_opens(lexemes: &[Lexeme], from: usize, i: usize) -> bool {
    match lexemes[i].word.as_str() {
        "BEGIN" | "CASE" => true,
        word @ ("IF" | "LOOP" | "WHILE" | "REPEAT") => {
            let before = |back: usize| i.checked_sub(back).filter(|&j| j >= from).map(|j| &lexemes[j]);
            let statement_position = match before(1) {
                None => true,
                Some(prev) => {
                    matches!(prev.kind, Kind::InnerSemi | Kind::Colon | Kind::RParen)
                        || matches!(
                            prev.word.as_str(),
                            "BEGIN"
                                | "THEN"
                                | "ELSE"
                                | "DO"
                                | "LOOP"
                                | "REPEAT"
                                | "ROW"
                                | "DETERMINISTIC"
                                | "SQL"
                                | "DATA"
                                | "DEFINER"
                                | "INVOKER"
                        )
                        || before(2).is_some_and(|l| matches!(l.word.as_str(), "FOLLOWS" | "PRECEDES"))
                }
            };
            statement_position && !(matches!(word, "IF" | "REPEAT") && is_call(lexemes, i))
        }
        _ => false,
    }
}

/// Whether the word at `i` is followed by a parenthesised list with a
/// top-level comma (a function call such as `IF(a, b, c)`).
fn is_call(lexemes: &[Lexeme], i: usize) -> bool {
    if lexemes.get(i + 1).map(|l| l.kind) != Some(Kind::LParen) {
        return false;
    }
    let mut depth = 0usize;
    for lexeme in &lexemes[i + 1..] {
        match lexeme.kind {
            Kind::LParen => depth += 1,
            Kind::RParen => {
                depth -= 1;
                if depth == 0 {
                    return false;
                }
            }
            Kind::Semi | Kind::InnerSemi => return false,
            Kind::Comma if depth == 1 => return true,
            _ => {}
        }
    }
    false
}
