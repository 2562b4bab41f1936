//! Reading an Alembic version script without running it: the module
//! docstring and the module-level assignments of `revision`,
//! `down_revision`, `branch_labels` and `depends_on` (plain or annotated,
//! `revision: str = "…"`), whose values are string literals, `None`, or
//! tuples and lists of those. Anything else (a name, a call, an f-string)
//! is an error naming the file and line: the graph is never guessed.

/// A value Alembic scripts assign: `None`, a string, or a tuple or list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PyValue {
    None,
    Str(String),
    Seq(Vec<PyValue>),
}

impl PyValue {
    /// The strings of a `None` / string / sequence-of-strings value; `None`
    /// when an element is not a string.
    pub fn strings(&self) -> Option<Vec<String>> {
        match self {
            PyValue::None => Some(Vec::new()),
            PyValue::Str(s) => Some(vec![s.clone()]),
            PyValue::Seq(items) => items
                .iter()
                .map(|item| match item {
                    PyValue::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
        }
    }
}

/// What a script says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    pub docstring: Option<String>,
    /// (name, value, 1-based line) of the assignments of interest.
    pub assignments: Vec<(String, PyValue, usize)>,
}

/// An error at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyError {
    pub line: usize,
    pub message: String,
}

const NAMES: [&str; 4] = ["revision", "down_revision", "branch_labels", "depends_on"];

/// Reads `text` (a Python module).
pub fn read(text: &str) -> Result<Script, PyError> {
    let mut script = Script::default();
    let mut first = true;
    for (line, statement) in logical_lines(text)? {
        let trimmed = statement.trim_end();
        if trimmed.trim_start().is_empty() || trimmed.trim_start().starts_with('#') {
            continue;
        }
        let top_level = !statement.starts_with([' ', '\t']);
        if first && top_level {
            first = false;
            let mut p = Parser { s: trimmed.as_bytes(), i: 0, line };
            if let Ok(PyValue::Str(doc)) = p.value() {
                p.skip_space();
                if p.i == p.s.len() {
                    script.docstring = Some(doc);
                    continue;
                }
            }
        }
        if !top_level {
            continue;
        }
        let Some((name, rhs)) = assignment(trimmed) else { continue };
        if !NAMES.contains(&name) {
            continue;
        }
        let mut p = Parser { s: rhs.as_bytes(), i: 0, line };
        let value = p.tuple_or_value()?;
        p.skip_space();
        if p.i != p.s.len() {
            return Err(p.error(format!(
                "cannot read `{name}` without running the script: use string literals, None, tuples or lists"
            )));
        }
        script.assignments.push((name.to_string(), value, line));
    }
    Ok(script)
}

/// `name = rhs` or `name: annotation = rhs` at the start of a statement.
fn assignment(statement: &str) -> Option<(&str, &str)> {
    let end = statement.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(statement.len());
    let (name, rest) = statement.split_at(end);
    if name.is_empty() {
        return None;
    }
    let rest = rest.trim_start();
    let rest = if let Some(annotated) = rest.strip_prefix(':') {
        // The annotation may hold brackets (`Union[str, Sequence[str], None]`).
        let mut depth = 0i32;
        let pos = annotated.char_indices().find(|&(_, c)| {
            match c {
                '[' | '(' => depth += 1,
                ']' | ')' => depth -= 1,
                _ => {}
            }
            c == '=' && depth == 0
        })?;
        &annotated[pos.0..]
    } else {
        rest
    };
    let rhs = rest.strip_prefix('=')?;
    if rhs.starts_with('=') {
        return None;
    }
    Some((name, rhs))
}

/// Splits `text` into logical lines (brackets and strings joined), each with
/// its first physical line number; comments outside strings are dropped.
fn logical_lines(text: &str) -> Result<Vec<(usize, String)>, PyError> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    let mut line = 1;
    let mut depth = 0i32;
    let mut chars = text.chars().peekable();
    let mut continued = false;
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                while chars.peek().is_some_and(|&n| n != '\n') {
                    chars.next();
                }
            }
            '\'' | '"' => {
                let mut quote = String::from(c);
                if chars.peek() == Some(&c) {
                    chars.next();
                    if chars.peek() == Some(&c) {
                        chars.next();
                        quote = c.to_string().repeat(3);
                    } else {
                        current.push(c);
                        current.push(c);
                        continue;
                    }
                }
                current.push_str(&quote);
                let open = line;
                let mut closed = false;
                while let Some(s) = chars.next() {
                    current.push(s);
                    if s == '\n' {
                        line += 1;
                        if quote.len() == 1 {
                            return Err(PyError { line: open, message: "unterminated string".into() });
                        }
                    }
                    if s == '\\' {
                        if let Some(e) = chars.next() {
                            if e == '\n' {
                                line += 1;
                            }
                            current.push(e);
                        }
                        continue;
                    }
                    if current.ends_with(&quote) && s == c {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Err(PyError { line: open, message: "unterminated string".into() });
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                current.push(c);
            }
            ')' | ']' | '}' => {
                depth -= 1;
                current.push(c);
            }
            '\\' if chars.peek() == Some(&'\n') => {
                chars.next();
                line += 1;
                continued = true;
                current.push(' ');
            }
            '\n' => {
                line += 1;
                if depth > 0 || continued {
                    continued = false;
                    current.push(' ');
                } else {
                    out.push((start, std::mem::take(&mut current)));
                    start = line;
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push((start, current));
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    line: usize,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> PyError {
        PyError { line: self.line, message: message.into() }
    }

    fn skip_space(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.s.get(self.i).copied()
    }

    /// A bare tuple (`'a', 'b'`) or one value.
    fn tuple_or_value(&mut self) -> Result<PyValue, PyError> {
        let first = self.value()?;
        if self.peek() != Some(b',') {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.peek() == Some(b',') {
            self.i += 1;
            if self.peek().is_none() {
                break;
            }
            items.push(self.value()?);
        }
        Ok(PyValue::Seq(items))
    }

    fn value(&mut self) -> Result<PyValue, PyError> {
        match self.peek() {
            Some(open @ (b'(' | b'[')) => {
                let close = if open == b'(' { b')' } else { b']' };
                self.i += 1;
                let mut items = Vec::new();
                let mut comma = false;
                loop {
                    if self.peek() == Some(close) {
                        self.i += 1;
                        break;
                    }
                    items.push(self.value()?);
                    match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            comma = true;
                        }
                        Some(c) if c == close => {}
                        _ => return Err(self.error("cannot read this value without running the script")),
                    }
                }
                // `("a")` is a string, `("a",)` a tuple.
                if open == b'(' && items.len() == 1 && !comma {
                    return Ok(items.remove(0));
                }
                Ok(PyValue::Seq(items))
            }
            Some(_) if self.s[self.i..].starts_with(b"None") && !self.ident_continues(4) => {
                self.i += 4;
                Ok(PyValue::None)
            }
            Some(_) => {
                let mut text = self.string()?;
                // Adjacent literals concatenate.
                while matches!(self.peek(), Some(b'\'' | b'"' | b'r' | b'R' | b'u' | b'U')) {
                    let save = self.i;
                    match self.string() {
                        Ok(more) => text.push_str(&more),
                        Err(_) => {
                            self.i = save;
                            break;
                        }
                    }
                }
                Ok(PyValue::Str(text))
            }
            None => Err(self.error("missing value")),
        }
    }

    fn ident_continues(&self, at: usize) -> bool {
        self.s.get(self.i + at).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    }

    fn string(&mut self) -> Result<String, PyError> {
        self.skip_space();
        let mut raw = false;
        while let Some(&c) = self.s.get(self.i) {
            match c {
                b'r' | b'R' => raw = true,
                b'u' | b'U' => {}
                b'\'' | b'"' => break,
                _ => return Err(self.error("cannot read this value without running the script: use a string literal")),
            }
            self.i += 1;
        }
        let Some(&q) = self.s.get(self.i) else { return Err(self.error("missing value")) };
        let triple = self.s[self.i..].starts_with(&[q, q, q]);
        let quote_len = if triple { 3 } else { 1 };
        self.i += quote_len;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else { return Err(self.error("unterminated string")) };
            if c == q && (!triple || self.s[self.i..].starts_with(&[q, q, q])) {
                self.i += quote_len;
                break;
            }
            if c == b'\\' && !raw {
                let e = self.s.get(self.i + 1).copied().unwrap_or(b'\\');
                self.i += 2;
                match e {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'\n' => {}
                    b'\\' | b'\'' | b'"' => out.push(e),
                    other => out.extend([b'\\', other]),
                }
                continue;
            }
            out.push(c);
            self.i += 1;
        }
        String::from_utf8(out).map_err(|_| self.error("a string is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(script: &Script, name: &str) -> PyValue {
        script.assignments.iter().find(|(n, _, _)| n == name).map(|(_, v, _)| v.clone()).unwrap()
    }

    #[test]
    fn classic_and_annotated_templates() {
        let classic = "\"\"\"add users\n\nRevision ID: ab12\nRevises: \nCreate Date: 2016-04-11 16:05:34.873288\n\n\"\"\"\n\n# revision identifiers, used by Alembic.\nrevision = 'ab12'\ndown_revision = None\nbranch_labels = ('accounts',)\ndepends_on = None\n\nimport sqlalchemy as sa\n\ndef upgrade():\n    revision = 'not me'\n";
        let s = read(classic).unwrap();
        assert!(s.docstring.as_deref().unwrap().starts_with("add users\n"));
        assert_eq!(get(&s, "revision"), PyValue::Str("ab12".into()));
        assert_eq!(get(&s, "down_revision"), PyValue::None);
        assert_eq!(get(&s, "branch_labels").strings().unwrap(), ["accounts"]);
        assert_eq!(s.assignments.len(), 4, "assignments inside functions are not the module's");

        let annotated = "\"\"\"merge\"\"\"\nfrom typing import Sequence, Union\nrevision: str = \"Ab12\"\ndown_revision: Union[str, Sequence[str], None] = (\n    \"x1\",  # first\n    \"y2\",\n)\nbranch_labels: Union[str, Sequence[str], None] = None\ndepends_on: Union[str, Sequence[str], None] = [\"lbl\"]\n";
        let s = read(annotated).unwrap();
        assert_eq!(s.docstring.as_deref(), Some("merge"));
        assert_eq!(get(&s, "revision"), PyValue::Str("Ab12".into()));
        assert_eq!(get(&s, "down_revision").strings().unwrap(), ["x1", "y2"]);
        assert_eq!(get(&s, "depends_on").strings().unwrap(), ["lbl"]);
        assert_eq!(get(&s, "down_revision").strings().unwrap().len(), 2);
    }

    #[test]
    fn bare_tuples_parentheses_and_refusals() {
        let s = read("revision = 'a'\ndown_revision = 'b', 'c'\nbranch_labels = ('x')\n").unwrap();
        assert_eq!(get(&s, "down_revision").strings().unwrap(), ["b", "c"]);
        assert_eq!(get(&s, "branch_labels"), PyValue::Str("x".into()));
        let e = read("revision = 'a'\ndown_revision = OTHER\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("without running the script"), "{}", e.message);
        assert!(read("revision = f'{x}'\n").is_err());
        assert!(read("revision == 'a'\n").unwrap().assignments.is_empty());
    }
}
