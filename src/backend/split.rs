//! Splitting a SQL section into statements, for the one case that needs
//! it: PostgreSQL runs a multi-statement string as one implicit transaction,
//! where `CREATE INDEX CONCURRENTLY` and friends are refused, so the
//! statements of a `transaction: false` revision are sent one by one.
//!
//! The splitter knows what can hide a `;`: quoted strings and identifiers,
//! `--` and `/* */` comments (nested, as PostgreSQL allows), and dollar
//! quotes (`$$ ... $$`, `$tag$ ... $tag$`).

/// The non-empty statements of `sql`, without their terminating `;`.
pub fn statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' | b'`' => i = skip_quoted(bytes, i),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = bytes[i..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| i + p + 1)
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'$' => i = skip_dollar_quoted(sql, i),
            b';' => {
                push(&mut out, &sql[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    push(&mut out, &sql[start..]);
    out
}

fn push<'a>(out: &mut Vec<&'a str>, statement: &'a str) {
    let only_comments = statement.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with("--")
    });
    if !only_comments {
        out.push(statement.trim());
    }
}

/// Past the closing quote (a doubled quote is an escaped one).
fn skip_quoted(bytes: &[u8], open: usize) -> usize {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn skip_block_comment(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Past `$tag$ ... $tag$` when `open` starts a dollar quote; else one byte on.
fn skip_dollar_quoted(sql: &str, open: usize) -> usize {
    let rest = &sql[open + 1..];
    let tag_len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    if rest.as_bytes().get(tag_len) != Some(&b'$') || rest.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return open + 1; // `$1` placeholders and the like
    }
    let delimiter = &sql[open..open + tag_len + 2];
    let body = open + delimiter.len();
    sql[body..].find(delimiter).map_or(sql.len(), |end| body + end + delimiter.len())
}

#[cfg(test)]
mod tests {
    use super::statements;

    #[test]
    fn splits_on_semicolons_outside_quotes_comments_and_dollar_quotes() {
        let sql = "CREATE INDEX CONCURRENTLY a ON t (x);\n-- a comment; still a comment\n\
                   INSERT INTO t VALUES ('a;b', \"c;d\");\n/* block; /* nested; */ */ SELECT 1;\n\
                   CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\
                   SELECT $$x;y$$, $1;\n-- trailing comment only\n";
        let parts = statements(sql);
        assert_eq!(parts.len(), 5, "{parts:#?}");
        assert_eq!(parts[0], "CREATE INDEX CONCURRENTLY a ON t (x)");
        assert!(parts[1].ends_with("INSERT INTO t VALUES ('a;b', \"c;d\")"));
        assert!(parts[3].contains("$body$ SELECT 1; $body$"));
        assert_eq!(parts[4], "SELECT $$x;y$$, $1");
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for sql in ["'abc", "/* x", "$a$ never", "\"x", "--", "$", "$$"] {
            let _ = statements(sql);
        }
        assert!(statements("  ;; \n").is_empty());
    }
}
