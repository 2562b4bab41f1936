//! Database URLs: which database a URL names, the file a SQLite URL opens,
//! and keeping passwords out of every message.
//!
//! # Accepted URLs (SPEC §5)
//!
//! Schemes are case-insensitive.
//!
//! - `sqlite://path.db`, `sqlite:///abs/path.db`, `sqlite:path.db`: a SQLite
//!   file. The path is percent-decoded (`%3F` for a `?` in the name), `?`
//!   starts SQLite URI parameters (`?mode=ro`), and a `#` is an error.
//! - `sqlite::memory:` (also `sqlite://:memory:`, `:memory:`,
//!   `file::memory:`, `?mode=memory`): an in-memory database, only when
//!   asked for like this.
//! - `file:` URIs (`file:app.db`, `file:///abs/app.db?mode=ro`,
//!   `file://localhost/abs/app.db`): SQLite URIs, read as SQLite reads them.
//! - Anything else without `scheme://` is a file path used exactly as
//!   written: `we?ird.db` is the file named `we?ird.db`.
//! - `postgres://…`, `postgresql://…`, `mysql://…`, `mariadb://…` (MySQL;
//!   the driver is given `mysql://`). A MySQL URL must name a database.
//!
//! SQLite URI parameters are those SQLite knows: `mode` (`ro`, `rw`, `rwc`,
//! `memory`), `cache` (`shared`, `private`), `immutable`, `nolock`, `psow`
//! and `vfs`; any other parameter is an error rather than silently ignored.
//! An empty URL or an empty SQLite path (`""`, `sqlite://`, `sqlite:`,
//! `file:`) is an error, never an in-memory database.
//!
//! # Passwords
//!
//! A password may be written unencoded, with `/`, `?`, `#`, `@` or `:` in
//! it. For messages ([`redact`]), the userinfo is taken to end at the
//! *last* `@` of the URL, so a password is never cut short; the cost is
//! that a URL with both a password and an `@` in its query shows less than
//! it could. `password=` (and `sslpassword=`…) query values, in any case,
//! are redacted too. A URL that no reading makes valid has its whole
//! authority redacted. For connecting ([`DatabaseUrl::parse`]), a URL
//! whose standard reading fails, has a fragment, or has an `@` in its path
//! gets its userinfo percent-encoded up to the last `@` that is followed
//! by a host and a path (an `@` in the query stays there), so the driver
//! gets the password that was meant. One case stays ambiguous: digits
//! then `?` (`u:12?x@h/db`) read as a port; encode such a password
//! (`%3F`). It is redacted all the same.
//!
//! [`scrub`] cleans driver messages: it replaces the URL itself (as given
//! and as given to the driver) by its redacted form, and each secret (the
//! password as written, percent-decoded and percent-encoded) where it
//! stands as a whole token, that is, not glued to letters, digits or `_`
//! on either side; a secret of [`LONG_SECRET`] characters or more is
//! replaced wherever it appears. So a password `e` never turns "connect"
//! into "conn***ct", while `u:e@h` still becomes `u:***@h`.

use std::ops::Range;

use super::{DbError, Dialect};

/// The SQLite URI parameters migraph passes on (all others are errors).
pub const SQLITE_PARAMETERS: &[&str] = &["mode", "cache", "immutable", "nolock", "psow", "vfs"];

/// Secrets at least this long are scrubbed from messages wherever they
/// appear, not only as whole tokens.
pub const LONG_SECRET: usize = 12;

/// A checked database URL: what [`super::AnyConnection::connect`] opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(SqliteUrl),
    /// The URL as the driver gets it (lower-case scheme, userinfo encoded).
    Postgres(String),
    /// The URL as the driver gets it (`mysql://`, userinfo encoded).
    Mysql(String),
}

/// A SQLite database named by a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteUrl {
    /// The file, exactly as the file system names it; `None` in memory.
    pub path: Option<String>,
    /// URI parameters in order, names in lower case (`("mode", "ro")`).
    pub params: Vec<(String, String)>,
    form: SqliteForm,
}

/// How a SQLite URL was written, to write it back the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SqliteForm {
    Sqlite,
    File,
    Bare,
}

impl SqliteUrl {
    /// `mode=ro` or `immutable=1`: the database is opened read-only.
    pub fn read_only(&self) -> bool {
        self.param("mode") == Some("ro") || self.param("immutable").is_some_and(sqlite_true)
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The name SQLite is given (opened with `SQLITE_OPEN_URI`): a `file:`
    /// URI whose path is percent-encoded where SQLite would read `%`, `?`
    /// or `#`, or `:memory:`.
    pub fn open_name(&self) -> String {
        let query = self.query();
        match &self.path {
            None if query.is_empty() => ":memory:".to_string(),
            None => format!("file::memory:{query}"),
            Some(path) if path.starts_with('/') => format!("file://{}{query}", encode_path(path)),
            Some(path) => format!("file:{}{query}", encode_path(path)),
        }
    }

    /// The same URL naming `path` instead (for paths relative to a file).
    pub fn with_path(&self, path: &str) -> String {
        match self.form {
            SqliteForm::Bare => path.to_string(),
            SqliteForm::Sqlite => format!("sqlite://{}{}", encode_path(path), self.query()),
            SqliteForm::File if path.starts_with('/') => format!("file://{}{}", encode_path(path), self.query()),
            SqliteForm::File => format!("file:{}{}", encode_path(path), self.query()),
        }
    }

    fn query(&self) -> String {
        let pairs: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}={}", encode_path(v))).collect();
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }
}

/// SQLite's boolean URI values.
fn sqlite_true(value: &str) -> bool {
    matches!(value.to_ascii_lowercase().as_str(), "1" | "yes" | "true" | "on")
}

impl DatabaseUrl {
    /// Checks `url` and works out what it names; errors (never showing a
    /// password) for an empty URL or SQLite path, an unknown scheme or
    /// SQLite parameter, a MySQL URL without a database, a URL that cannot
    /// be parsed.
    pub fn parse(url: &str) -> Result<DatabaseUrl, DbError> {
        let bad = |reason: &str| DbError::InvalidUrl { url: redact(url), reason: reason.to_string() };
        if url.trim().is_empty() {
            return Err(bad("the URL is empty"));
        }
        if let Some(rest) = strip_prefix_ci(url, "sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            return sqlite_uri(url, rest, SqliteForm::Sqlite).map(DatabaseUrl::Sqlite);
        }
        if let Some(rest) = strip_prefix_ci(url, "file:") {
            let rest = match rest.strip_prefix("//") {
                Some(after) => {
                    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
                    let host = &after[..end];
                    if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
                        return Err(bad("a file: URI cannot name a host; write file:///abs/path.db or file:path.db"));
                    }
                    &after[end..]
                }
                None => rest,
            };
            return sqlite_uri(url, rest, SqliteForm::File).map(DatabaseUrl::Sqlite);
        }
        let Some(scheme_end) = url.find("://") else {
            let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
            if let Some(scheme) =
                scheme.filter(|s| matches!(s.as_str(), "postgres" | "postgresql" | "mysql" | "mariadb"))
            {
                return Err(bad(&format!("a {scheme} URL starts with `{scheme}://`")));
            }
            let path = (url != ":memory:").then(|| url.to_string());
            return Ok(DatabaseUrl::Sqlite(SqliteUrl { path, params: Vec::new(), form: SqliteForm::Bare }));
        };
        let scheme = url[..scheme_end].to_ascii_lowercase();
        let (dialect, driver_scheme) = match scheme.as_str() {
            "postgres" | "postgresql" => (Dialect::Postgres, scheme.as_str()),
            "mysql" | "mariadb" => (Dialect::Mysql, "mysql"),
            _ => return Err(DbError::UnsupportedUrl(redact(url))),
        };
        let driver = server_url(url, scheme_end, driver_scheme, dialect)?;
        Ok(if dialect == Dialect::Postgres { DatabaseUrl::Postgres(driver) } else { DatabaseUrl::Mysql(driver) })
    }

    /// Which kind of database the URL names.
    pub fn dialect(&self) -> Dialect {
        match self {
            DatabaseUrl::Sqlite(_) => Dialect::Sqlite,
            DatabaseUrl::Postgres(_) => Dialect::Postgres,
            DatabaseUrl::Mysql(_) => Dialect::Mysql,
        }
    }

    /// The SQLite file, `None` for an in-memory or a server database.
    pub fn sqlite_path(&self) -> Option<&str> {
        match self {
            DatabaseUrl::Sqlite(sqlite) => sqlite.path.as_deref(),
            _ => None,
        }
    }
}

fn strip_prefix_ci<'u>(url: &'u str, prefix: &str) -> Option<&'u str> {
    let head = url.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &url[prefix.len()..])
}

/// The path and parameters of a `sqlite:` or `file:` URL (`rest` follows
/// the scheme and any authority).
fn sqlite_uri(url: &str, rest: &str, form: SqliteForm) -> Result<SqliteUrl, DbError> {
    let bad = |reason: String| DbError::InvalidUrl { url: redact(url), reason };
    if rest.contains('#') {
        return Err(bad("`#` starts a fragment in a URL; write %23 for a `#` in the file name".into()));
    }
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = decode(path).ok_or_else(|| bad("the path is not valid UTF-8 once percent-decoded".into()))?;
    let mut params = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(bad(format!("URI parameter `{pair}` has no value (write name=value)")));
        };
        let name = name.to_ascii_lowercase();
        let value = decode(value).ok_or_else(|| bad(format!("the value of `{name}` is not valid UTF-8")))?;
        let allowed: &[&str] = match name.as_str() {
            "mode" => &["ro", "rw", "rwc", "memory"],
            "cache" => &["shared", "private"],
            _ if SQLITE_PARAMETERS.contains(&name.as_str()) => &[],
            _ => {
                return Err(bad(format!(
                    "unknown SQLite URI parameter `{name}`; known: {}",
                    SQLITE_PARAMETERS.join(", ")
                )))
            }
        };
        if !allowed.is_empty() && !allowed.contains(&value.as_str()) {
            return Err(bad(format!("`{name}={value}`: {name} is one of {}", allowed.join(", "))));
        }
        params.push((name, value));
    }
    let memory = path == ":memory:" || params.iter().any(|(k, v)| k == "mode" && v == "memory");
    if path.is_empty() && !memory {
        return Err(bad("the SQLite path is empty; an in-memory database is written sqlite::memory:".into()));
    }
    Ok(SqliteUrl { path: (!memory).then_some(path), params, form })
}

/// `%HH` decoded; `None` when the bytes are not UTF-8. A `%` not followed
/// by two hex digits stays as it is.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let hex = |i: usize| bytes.get(i).and_then(|&b| (b as char).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if let (b'%', Some(high), Some(low)) = (bytes[i], hex(i + 1), hex(i + 2)) {
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A path or value with the characters SQLite's URI parser reads
/// specially (`%`, `?`, `#`, `&`, `=`) percent-encoded.
fn encode_path(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' | '?' | '#' | '&' | '=' => out.push_str(&format!("%{:02X}", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

/// Userinfo text percent-encoded for a URL; `%HH` already there is kept.
fn encode_userinfo(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        let escape = c == '%' && bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
        if c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@".contains(c) || escape {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// The URL a server driver gets. The standard reading (RFC 3986: the
/// authority ends at the first `/`, `?` or `#`) is used unless it fails,
/// has a fragment, or an `@` follows the authority before any `?`: then the
/// password holds a `/`, `?` or `#`, and the userinfo (see [`reading`]) is
/// percent-encoded. (A password of digits followed
/// by `?` still reads as a port: such a URL must be percent-encoded; its
/// password is redacted all the same.) A
/// PostgreSQL URL that no reading parses goes to libpq as it is (libpq
/// has its own syntax, such as several hosts); a MySQL one is an error.
fn server_url(url: &str, scheme_end: usize, scheme: &str, dialect: Dialect) -> Result<String, DbError> {
    let rest = &url[scheme_end + 3..];
    let bad = |reason: String| DbError::InvalidUrl { url: redact(url), reason };
    match reading(rest, scheme) {
        Ok(parsed) if dialect == Dialect::Mysql && parsed.path().trim_start_matches('/').is_empty() => {
            Err(bad("a MySQL URL must name a database, as in mysql://user@host/app".into()))
        }
        Ok(parsed) => Ok(parsed.to_string()),
        Err(_) if dialect == Dialect::Postgres => Ok(format!("{scheme}://{rest}")),
        Err(e) => Err(bad(e.to_string())),
    }
}

/// See [`server_url`]; `rest` follows `://`. When the standard reading
/// does not do, the userinfo is taken to end at an `@` after the standard
/// authority: the last one that is followed by a host and a path (so an
/// `@` in the query stays there), else the first.
fn reading(rest: &str, scheme: &str) -> Result<::url::Url, ::url::ParseError> {
    let standard = ::url::Url::parse(&format!("{scheme}://{rest}"));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let tail = &rest[authority_end..];
    let at_in_path = tail.find('@').filter(|&at| tail.find('?').is_none_or(|q| at < q));
    // A database URL has no fragment: a `#` before an `@` is in the password.
    if let Ok(parsed) = &standard {
        if at_in_path.is_none() && parsed.fragment().is_none() {
            return standard;
        }
    }
    let encoded = |at: usize| {
        ::url::Url::parse(&format!("{scheme}://{}{}", encode_userinfo(&rest[..at]), &rest[at..]))
            .ok()
            .filter(|parsed| parsed.fragment().is_none())
    };
    let ats: Vec<usize> = tail.match_indices('@').map(|(i, _)| authority_end + i).collect();
    let with_path = ats.iter().rev().find_map(|&at| {
        let host = &rest[at + 1..];
        let path_follows = host.find(['/', '?', '#']).is_some_and(|end| host[end..].starts_with('/'));
        path_follows.then(|| encoded(at)).flatten()
    });
    match with_path.or_else(|| ats.first().and_then(|&at| encoded(at))) {
        Some(parsed) => Ok(parsed),
        None => standard,
    }
}

/// Where a URL keeps secrets, over-approximated so no reading of the URL
/// can leak one: the userinfo password (from the first `:` after `://` to
/// the last `@`), `…password=` query values (any case), and, when the URL
/// parses in no reading, the whole authority.
fn secret_spans(url: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return spans };
    let rest = &url[scheme_end..];
    if let Some(at) = rest.rfind('@') {
        if let Some(colon) = rest[..at].find(':') {
            spans.push(scheme_end + colon + 1..scheme_end + at);
        }
        let scheme = url[..scheme_end - 3].to_ascii_lowercase();
        let scheme = if scheme == "mariadb" { "mysql".to_string() } else { scheme };
        if reading(rest, &scheme).is_err() {
            let host_end = rest[at..].find(['/', '?', '#']).map_or(rest.len(), |i| at + i);
            spans.push(scheme_end..scheme_end + host_end);
        }
    }
    if let Some(q) = rest.find('?').map(|q| scheme_end + q + 1) {
        let mut start = q;
        for pair in url[q..].split(['&', '#']) {
            if let Some((key, value)) = pair.split_once('=') {
                let key = key.to_ascii_lowercase();
                if (key.ends_with("password") || key == "pwd") && !value.is_empty() {
                    let from = start + key.len() + 1;
                    spans.push(from..from + value.len());
                }
            }
            start += pair.len() + 1;
        }
    }
    spans.retain(|span| !span.is_empty());
    spans.sort_by_key(|span| (span.start, std::cmp::Reverse(span.end)));
    let mut merged: Vec<Range<usize>> = Vec::new();
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

/// The URL with any password replaced by `***`, for every message and log.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    for span in secret_spans(url).into_iter().rev() {
        out.replace_range(span, "***");
    }
    out
}

/// The secrets in a URL, to scrub them from driver messages: each as
/// written, and percent-decoded when that differs.
pub fn secrets(url: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut add = |secret: String| {
        if !secret.is_empty() && !found.contains(&secret) {
            found.push(secret);
        }
    };
    for span in secret_spans(url) {
        let raw = &url[span];
        add(raw.to_string());
        if let Some(decoded) = decode(raw) {
            add(decoded);
        }
    }
    if let Ok(DatabaseUrl::Postgres(driver) | DatabaseUrl::Mysql(driver)) = DatabaseUrl::parse(url) {
        if let Ok(parsed) = ::url::Url::parse(&driver) {
            if let Some(password) = parsed.password() {
                add(password.to_string());
                if let Some(decoded) = decode(password) {
                    add(decoded);
                }
            }
        }
    }
    found
}

/// `text` with `url` and its secrets replaced (see the module docs): the
/// URL as given and as given to the driver become [`redact`]`(url)`; a
/// secret becomes `***` where it is a whole token, or anywhere when it is
/// at least [`LONG_SECRET`] characters long.
pub fn scrub(text: &str, url: &str) -> String {
    let mut out = text.to_string();
    if url.is_empty() {
        return out;
    }
    let redacted = redact(url);
    let mut forms = vec![url.to_string()];
    if let Ok(DatabaseUrl::Postgres(driver) | DatabaseUrl::Mysql(driver)) = DatabaseUrl::parse(url) {
        forms.push(driver);
    }
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    for form in forms.iter().filter(|form| **form != redacted) {
        out = out.replace(form.as_str(), &redacted);
    }
    let mut secrets = secrets(url);
    secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len())); // `pw2` before its prefix `pw`
    for secret in &secrets {
        out = replace_secret(&out, secret);
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Replaces `secret` in `text` where it is a whole token (or anywhere,
/// when long).
fn replace_secret(text: &str, secret: &str) -> String {
    let long = secret.chars().count() >= LONG_SECRET;
    let first_word = secret.chars().next().is_some_and(is_word);
    let last_word = secret.chars().next_back().is_some_and(is_word);
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(found) = text[from..].find(secret).map(|i| from + i) {
        let end = found + secret.len();
        let before = text[..found].chars().next_back().is_some_and(is_word);
        let after = text[end..].chars().next().is_some_and(is_word);
        let glued = (first_word && before) || (last_word && after);
        if long || !glued {
            out.push_str(&text[from..found]);
            out.push_str("***");
            from = end;
        } else {
            let next = found + text[found..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&text[from..next]);
            from = next;
        }
    }
    out.push_str(&text[from..]);
    out
}

#[cfg(test)]
mod tests;
