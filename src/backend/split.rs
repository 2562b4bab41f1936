//! Splitting a SQL section into statements, the way the dialect's own
//! client (`psql`, `mysql`, `sqlite3`) splits it.
//!
//! Lexing is `sqlparser`'s tokenizer for the dialect, so `;` inside string
//! literals (PostgreSQL `E'it\'s;'`, MySQL backslash escapes), quoted and
//! `$`-containing identifiers, comments (nested on PostgreSQL, `#` on MySQL)
//! and dollar quotes never splits. The small layer here finds the top-level
//! `;` and the compound bodies whose inner `;` does not end the statement:
//!
//! - PostgreSQL: `CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN ATOMIC … END`
//!   (the rule `psql` applies: `BEGIN` opens, `CASE` opens inside a block,
//!   `END` closes, outside parentheses);
//! - SQLite: `CREATE [TEMP] TRIGGER … BEGIN … END`;
//! - MySQL/MariaDB: `CREATE … TRIGGER|PROCEDURE|FUNCTION|EVENT` bodies and
//!   MariaDB's `BEGIN NOT ATOMIC`, with nested `BEGIN … END`, `IF … END IF`,
//!   `CASE … END [CASE]`, `LOOP`, `WHILE`, `REPEAT` and labels.
//!
//! `DELIMITER` is a command of the `mysql` client, not SQL: a revision that
//! contains one is rejected (in every dialect) with its line, before any of
//! it runs. Compound statements need no `DELIMITER`: end them with `;`.
//! `COPY … FROM STDIN` data (a `psql` feature) is rejected the same way.
//!
//! Gaps of the tokenizer filled here: MySQL `/*! … */` comments (executed
//! by MySQL) are kept as one token, and PostgreSQL `E'…'` strings with
//! escapes sqlparser cannot decode (`E'\xc3\xa9'`) still lex. Lexing
//! follows the servers' defaults: PostgreSQL with
//! `standard_conforming_strings = on` (a backslash in `'…'` is an ordinary
//! character), MySQL without `NO_BACKSLASH_ESCAPES` and `ANSI_QUOTES`.
//!
//! The runner sends PostgreSQL `transaction: false` revisions and every
//! MySQL revision one statement at a time (so a failure names its
//! statement); [`check_plan`] checks that every revision of a plan splits
//! before the first one runs.

use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer, Whitespace};

use super::Dialect;
pub use check::{check_plan, check_revision, sql_problems, RevisionSqlError};

mod blocks;
mod check;
#[cfg(test)]
mod tests;

/// One statement of a SQL section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement's text, a slice of the input: from its first token to
    /// its last, without the terminating `;` (comments before it excluded).
    pub text: &'a str,
    /// The 1-based line of the input where it starts.
    pub line: usize,
}

/// Why a SQL section cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SplitError {
    /// The 1-based line of the input.
    pub line: usize,
    pub message: String,
}

/// A statement that starts, ends or rolls back the enclosing transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxControl {
    /// The 1-based line within the SQL where it starts.
    pub line: usize,
    /// Its first line, trimmed.
    pub statement: String,
}

/// The non-empty statements of `sql`, in order.
pub fn statements(sql: &str, dialect: Dialect) -> Result<Vec<Statement<'_>>, SplitError> {
    let lexemes = lex(sql, dialect)?;
    let mut out = Vec::new();
    let mut from = 0;
    for (i, lexeme) in lexemes.iter().enumerate() {
        if lexeme.kind == Kind::Semi {
            push(&mut out, sql, &lexemes[from..i]);
            from = i + 1;
        }
    }
    push(&mut out, sql, &lexemes[from..]);
    Ok(out)
}

/// The first top-level statement of `sql` that starts, ends or rolls back
/// the enclosing transaction, which a revision run in a transaction must
/// not contain:
///
/// - every dialect: `BEGIN` (not `BEGIN ATOMIC`/`BEGIN NOT ATOMIC` bodies),
///   `START TRANSACTION`, `COMMIT`, `END`, `ROLLBACK` (not `ROLLBACK TO
///   [SAVEPOINT]`), with any `WORK`/`TRANSACTION`/`AND CHAIN` suffix;
/// - PostgreSQL: `ABORT`, `PREPARE TRANSACTION`, `COMMIT PREPARED`,
///   `ROLLBACK PREPARED`;
/// - MySQL: `XA …`, and the statements that commit implicitly without being
///   DDL: `SET autocommit` (any form: `SET SESSION autocommit`,
///   `SET @@autocommit`, …), `LOCK TABLE[S]`, `UNLOCK TABLE[S]`.
///
/// `SAVEPOINT`, `RELEASE` and `ROLLBACK TO` are allowed, as are words in
/// strings, comments, dollar quotes and compound bodies. SQL that cannot be
/// split gives `None` (running it reports the [`SplitError`]).
pub fn transaction_control(sql: &str, dialect: Dialect) -> Option<TxControl> {
    let statements = statements(sql, dialect).ok()?;
    statements
        .into_iter()
        .find(|s| ends_transaction(s.text, dialect))
        .map(|s| TxControl { line: s.line, statement: s.text.lines().next().unwrap_or("").trim().to_string() })
}

/// Whether the last token of `sql` is a top-level `;` (so what follows it
/// starts a statement of its own). `false` when `sql` cannot be split.
pub fn ends_with_semicolon(sql: &str, dialect: Dialect) -> bool {
    lex(sql, dialect).is_ok_and(|lexemes| lexemes.last().is_some_and(|l| l.kind == Kind::Semi))
}

/// `file:LINE` for line `line` (1-based) of `section`, a section of the
/// revision file at `path`; `file (line N of its SQL)` when the section
/// cannot be found in the file again.
pub fn locate(path: &std::path::Path, section: &str, line: usize) -> String {
    let content = std::fs::read_to_string(path).map(|c| c.replace("\r\n", "\n")).unwrap_or_default();
    // Lines count from the section's first line, blank ones included.
    let leading = section[..section.len() - section.trim_start().len()].matches('\n').count();
    let text = section.trim();
    match content.find(text).filter(|_| !text.is_empty()) {
        Some(at) => {
            let first = 1 + content[..at].matches('\n').count();
            format!("{}:{}", path.display(), (first + line).saturating_sub(1 + leading).max(1))
        }
        None => format!("{} (line {line} of its SQL)", path.display()),
    }
}

fn ends_transaction(text: &str, dialect: Dialect) -> bool {
    let Ok(lexemes) = lex(text, dialect) else { return false };
    let words: Vec<&str> = lexemes.iter().take(4).map(|l| l.word.as_str()).collect();
    let word = |i: usize| words.get(i).copied().unwrap_or("");
    let after_work = if matches!(word(1), "WORK" | "TRANSACTION") { word(2) } else { word(1) };
    match (dialect, word(0)) {
        (_, "COMMIT" | "END") => true,
        (_, "START") => word(1) == "TRANSACTION",
        (Dialect::Mysql, "BEGIN") => !(word(1) == "NOT" && word(2) == "ATOMIC"),
        (_, "BEGIN") => word(1) != "ATOMIC",
        (_, "ROLLBACK") => after_work != "TO",
        (Dialect::Postgres, "ABORT") => true,
        (Dialect::Postgres, "PREPARE") => word(1) == "TRANSACTION",
        (Dialect::Mysql, "XA") => true,
        (Dialect::Mysql, "LOCK" | "UNLOCK") => matches!(word(1), "TABLE" | "TABLES"),
        (Dialect::Mysql, "SET") => sets_autocommit(&lexemes),
        _ => false,
    }
}

/// `SET [GLOBAL|SESSION|LOCAL] autocommit`, `SET @@[session.]autocommit`.
fn sets_autocommit(lexemes: &[Lexeme]) -> bool {
    lexemes.iter().skip(1).take(4).any(|l| {
        let word = l.word.trim_start_matches("@@");
        word == "AUTOCOMMIT" || word.ends_with(".AUTOCOMMIT")
    })
}

fn push<'a>(out: &mut Vec<Statement<'a>>, sql: &'a str, lexemes: &[Lexeme]) {
    if let (Some(first), Some(last)) = (lexemes.first(), lexemes.last()) {
        let text = sql[first.start..last.end].trim_end();
        if !text.is_empty() {
            out.push(Statement { text, line: first.line });
        }
    }
}

/// What the statement layer needs to know about a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An unquoted word (keyword or identifier), upper-cased in `word`.
    Word,
    /// A `;` that ends a top-level statement.
    Semi,
    /// A `;` inside a compound body.
    InnerSemi,
    LParen,
    RParen,
    Colon,
    Comma,
    /// Anything else: literals, quoted identifiers, operators.
    Other,
}

#[derive(Debug, Clone)]
struct Lexeme {
    kind: Kind,
    word: String,
    start: usize,
    end: usize,
    line: usize,
}

/// The significant tokens of `sql` (no whitespace or comments), with byte
/// ranges, and every `;` classified as top-level or inner.
fn lex(sql: &str, dialect: Dialect) -> Result<Vec<Lexeme>, SplitError> {
    reject_delimiter(sql, dialect)?;
    let tokens = tokenize(sql, dialect)?;
    let mut cursor = Cursor { text: sql, byte: 0, line: 1, column: 1 };
    let mut out: Vec<Lexeme> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let start = cursor.seek(token.span.start);
        let kind = match &token.token {
            // MySQL runs the text of `/*! … */` comments: it is SQL.
            Token::Whitespace(Whitespace::MultiLineComment(_)) if sql[start..].starts_with("/*!") => Kind::Other,
            Token::Whitespace(_) | Token::EOF => continue,
            Token::CopyData { .. } => {
                return Err(SplitError {
                    line: token.span.start.line.max(1) as usize,
                    message: "`COPY … FROM STDIN` data is a psql feature: load the data with INSERT statements"
                        .to_string(),
                })
            }
            Token::Word(w) if w.quote_style.is_none() => Kind::Word,
            Token::SemiColon => Kind::Semi,
            Token::LParen => Kind::LParen,
            Token::RParen => Kind::RParen,
            Token::Colon => Kind::Colon,
            Token::Comma => Kind::Comma,
            _ => Kind::Other,
        };
        let line = cursor.line as usize;
        // Tokens are contiguous (whitespace and comments are tokens too):
        // one ends where the next starts.
        let end = match tokens.get(i + 1) {
            Some(next) => cursor.clone().seek(next.span.start),
            None => sql.len(),
        };
        let word = match &token.token {
            Token::Word(w) if kind == Kind::Word => w.value.to_ascii_uppercase(),
            _ => String::new(),
        };
        out.push(Lexeme { kind, word, start, end: end.max(start), line });
    }
    blocks::mark_inner_semicolons(&mut out, dialect)?;
    Ok(out)
}

/// sqlparser's tokens for `sql`, with two gaps filled:
///
/// - MySQL runs the text of `/*! … */` comments; sqlparser re-tokenizes it
///   with positions that point before it. It stays one comment here (the
///   replacement keeps every position), and [`lex`] makes it a token.
/// - PostgreSQL `E'…'` strings with escapes that sqlparser cannot decode
///   (`E'\xc3\xa9'`, bytes of a UTF-8 character) fail its tokenizer. Their
///   text is blanked (same characters per line) and tokenizing starts again.
fn tokenize(sql: &str, dialect: Dialect) -> Result<Vec<TokenWithSpan>, SplitError> {
    let mut text = if dialect == Dialect::Mysql { sql.replace("/*!", "/* ") } else { sql.to_string() };
    let mut attempts = sql.matches('\'').count();
    loop {
        let tokens = match dialect {
            Dialect::Postgres => Tokenizer::new(&PostgreSqlDialect {}, &text).tokenize_with_location(),
            Dialect::Mysql => Tokenizer::new(&MySqlDialect {}, &text).tokenize_with_location(),
            Dialect::Sqlite => Tokenizer::new(&SQLiteDialect {}, &text).tokenize_with_location(),
        };
        let e = match tokens {
            Ok(tokens) => return Ok(tokens),
            Err(e) => e,
        };
        let error = SplitError { line: e.location.line.max(1) as usize, message: lex_message(&e.message) };
        if dialect != Dialect::Postgres || !e.message.contains("encoded string") || attempts == 0 {
            return Err(error);
        }
        attempts -= 1;
        let at = Cursor { text: &text, byte: 0, line: 1, column: 1 }.seek(e.location);
        text = blank_escape_string(&text, at).ok_or(error)?;
    }
}

/// `text` with the body of the `E'…'` string at byte `at` replaced by `x`s
/// (newlines kept); `None` when it is not terminated.
fn blank_escape_string(text: &str, at: usize) -> Option<String> {
    let mut chars = text[at..].char_indices().skip(2).peekable();
    let end = loop {
        match chars.next()? {
            (_, '\\') => {
                chars.next()?;
            }
            (_, '\'') if chars.peek().map(|&(_, c)| c) == Some('\'') => {
                chars.next();
            }
            (i, '\'') => break at + i,
            _ => {}
        }
    };
    let body: String = text[at + 2..end].chars().map(|c| if c == '\n' { '\n' } else { 'x' }).collect();
    Some(format!("{}{body}{}", &text[..at + 2], &text[end..]))
}

fn lex_message(message: &str) -> String {
    let what = message.trim_end_matches('.');
    if what.to_ascii_lowercase().contains("comment") {
        "unterminated /* comment".to_string()
    } else if what.contains("dollar") {
        "unterminated dollar quote ($tag$ … $tag$)".to_string()
    } else if what.contains("delimiter '\"'") || what.contains("delimiter '`'") || what.contains("delimiter ']'") {
        "unterminated quoted identifier".to_string()
    } else if what.to_ascii_lowercase().contains("string") {
        "unterminated string literal".to_string()
    } else {
        format!("cannot read the SQL: {what}")
    }
}

/// `DELIMITER` at the start of a line that is not inside a literal or a
/// comment. Checked before tokenizing: a custom delimiter such as `$$`
/// would otherwise be read as the start of a dollar quote.
fn reject_delimiter(sql: &str, dialect: Dialect) -> Result<(), SplitError> {
    let mut offset = 0;
    for (n, line) in sql.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        let head = trimmed.get(..9).unwrap_or("");
        let next = trimmed[head.len()..].chars().next();
        if head.eq_ignore_ascii_case("delimiter") && next.is_none_or(char::is_whitespace) {
            let at = offset + (line.len() - trimmed.len());
            if starts_statement(&sql[..at], dialect) {
                return Err(SplitError {
                    line: n + 1,
                    message: "`DELIMITER` is a command of the mysql client, not SQL: remove the DELIMITER lines and \
                              end each statement with `;` (migraph keeps compound statements such as \
                              CREATE TRIGGER … BEGIN … END together by itself)"
                        .to_string(),
                });
            }
        }
        offset += line.len();
    }
    Ok(())
}

/// Whether a statement can start right after `before`: it lexes (so it
/// does not end inside a literal or comment) and ends with `;` or nothing.
fn starts_statement(before: &str, dialect: Dialect) -> bool {
    let tokens = tokenize(before, dialect).map(|t| t.into_iter().map(|t| t.token).collect::<Vec<_>>());
    tokens.is_ok_and(|tokens| {
        matches!(
            tokens.iter().rev().find(|t| !matches!(t, Token::Whitespace(_) | Token::EOF)),
            None | Some(Token::SemiColon)
        )
    })
}

/// Turns sqlparser's line/column positions (columns count characters) into
/// byte offsets; positions only move forward.
#[derive(Clone)]
struct Cursor<'a> {
    text: &'a str,
    byte: usize,
    line: u64,
    column: u64,
}

impl Cursor<'_> {
    fn seek(&mut self, to: Location) -> usize {
        while (self.line, self.column) < (to.line, to.column) {
            let Some(c) = self.text[self.byte..].chars().next() else { break };
            self.byte += c.len_utf8();
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        self.byte
    }
}
