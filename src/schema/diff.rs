//! What differs between two [`Schema`]s: an expected one and the one found.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::{Column, Schema, Table};

/// One difference: the object (`index `ix` on table `t``) and how it differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub object: String,
    #[serde(flatten)]
    pub change: Change,
}

/// How an object differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Expected, not found.
    Missing,
    /// Found, not expected.
    Extra,
    /// Found with another value of `what` (`type`, `default`, `definition`, ...).
    Changed { what: String, expected: String, found: String },
}

impl Difference {
    /// The difference in the caller's words: `missing` and `extra` replace
    /// the words `missing`/`extra`; a changed value reads `<what>: <found>
    /// <found_label>, <expected> <expected_label>`.
    pub fn describe(&self, missing: &str, extra: &str, found_label: &str, expected_label: &str) -> String {
        match &self.change {
            Change::Missing => format!("{}: {missing}", self.object),
            Change::Extra => format!("{}: {extra}", self.object),
            Change::Changed { what, expected, found } => {
                format!("{}: {what} `{found}` {found_label}, `{expected}` {expected_label}", self.object)
            }
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe("missing", "extra", "found", "expected"))
    }
}

/// Everything that differs from `expected` in `found`, in a stable order
/// (tables by name, then views, then triggers, then other objects by kind
/// and name: ``sequence `s` ``, ``type `mood` ``, ``function `f(integer)` ``).
pub fn diff(expected: &Schema, found: &Schema) -> Vec<Difference> {
    let mut out = Vec::new();
    if expected == found {
        return out;
    }
    let tables = pair(&expected.tables, &found.tables, |t| t.name.clone());
    for (name, (e, f)) in tables {
        let object = format!("table `{name}`");
        match (e, f) {
            (Some(_), None) => out.push(Difference { object, change: Change::Missing }),
            (None, Some(_)) => out.push(Difference { object, change: Change::Extra }),
            (Some(e), Some(f)) => table(e, f, &mut out),
            (None, None) => {}
        }
    }
    let views = pair(&expected.views, &found.views, |v| v.name.clone());
    for (name, (e, f)) in views {
        let e = e.map(|v| v.definition.clone());
        let f = f.map(|v| v.definition.clone());
        compare(format!("view `{name}`"), "definition", e, f, &mut out);
    }
    let triggers = pair(&expected.triggers, &found.triggers, |t| (t.table.clone(), t.name.clone()));
    for ((table, name), (e, f)) in triggers {
        let e = e.map(|t| t.definition.clone());
        let f = f.map(|t| t.definition.clone());
        compare(format!("trigger `{name}` on table `{table}`"), "definition", e, f, &mut out);
    }
    let objects = pair(&expected.objects, &found.objects, |o| (o.kind.clone(), o.name.clone()));
    for ((kind, name), (e, f)) in objects {
        let e = e.map(|o| o.definition.clone());
        let f = f.map(|o| o.definition.clone());
        compare(format!("{kind} `{name}`"), "definition", e, f, &mut out);
    }
    out
}

/// Items of both lists by key.
fn pair<'a, T, K: Ord>(
    expected: &'a [T],
    found: &'a [T],
    key: impl Fn(&T) -> K,
) -> BTreeMap<K, (Option<&'a T>, Option<&'a T>)> {
    let mut map: BTreeMap<K, (Option<&T>, Option<&T>)> = BTreeMap::new();
    for item in expected {
        map.entry(key(item)).or_default().0 = Some(item);
    }
    for item in found {
        map.entry(key(item)).or_default().1 = Some(item);
    }
    map
}

/// A missing, extra or changed value.
fn compare(object: String, what: &str, expected: Option<String>, found: Option<String>, out: &mut Vec<Difference>) {
    let change = match (expected, found) {
        (Some(_), None) => Change::Missing,
        (None, Some(_)) => Change::Extra,
        (Some(e), Some(f)) if e != f => Change::Changed { what: what.to_string(), expected: e, found: f },
        _ => return,
    };
    out.push(Difference { object, change });
}

fn table(e: &Table, f: &Table, out: &mut Vec<Difference>) {
    let t = &e.name;
    for (name, (ec, fc)) in pair(&e.columns, &f.columns, |c| c.name.clone()) {
        let object = format!("column `{name}` of table `{t}`");
        match (ec, fc) {
            (Some(ec), Some(fc)) => column(&object, ec, fc, out),
            (ec, fc) => compare(object, "", ec.map(ToString::to_string), fc.map(ToString::to_string), out),
        }
    }
    let names = |columns: &[Column]| columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    let (en, fnames) = (names(&e.columns), names(&f.columns));
    let common_e: Vec<&String> = en.iter().filter(|n| fnames.contains(n)).collect();
    let common_f: Vec<&String> = fnames.iter().filter(|n| en.contains(n)).collect();
    if common_e != common_f {
        compare(format!("table `{t}`"), "column order", Some(en.join(", ")), Some(fnames.join(", ")), out);
    }
    let key = |k: &[String]| (!k.is_empty()).then(|| k.join(", "));
    compare(format!("primary key of table `{t}`"), "columns", key(&e.primary_key), key(&f.primary_key), out);
    for (name, (ei, fi)) in pair(&e.indexes, &f.indexes, |i| i.name.clone()) {
        let object = format!("index `{name}` on table `{t}`");
        compare(object, "definition", ei.map(ToString::to_string), fi.map(ToString::to_string), out);
    }
    for (name, (eu, fu)) in pair(&e.uniques, &f.uniques, |u| u.name.clone()) {
        let object = format!("unique constraint `{name}` on table `{t}`");
        compare(object, "columns", eu.map(|u| u.columns.join(", ")), fu.map(|u| u.columns.join(", ")), out);
    }
    let fk_key = |k: &super::ForeignKey| k.name.clone().unwrap_or_else(|| format!("({})", k.columns.join(", ")));
    for (name, (ek, fk)) in pair(&e.foreign_keys, &f.foreign_keys, fk_key) {
        let object = format!("foreign key `{name}` on table `{t}`");
        compare(object, "definition", ek.map(ToString::to_string), fk.map(ToString::to_string), out);
    }
    for (name, (ec, fc)) in pair(&e.checks, &f.checks, |c| c.name.clone()) {
        let object = format!("check constraint `{name}` on table `{t}`");
        compare(object, "expression", ec.map(|c| c.expression.clone()), fc.map(|c| c.expression.clone()), out);
    }
}

fn column(object: &str, e: &Column, f: &Column, out: &mut Vec<Difference>) {
    let null = |c: &Column| if c.nullable { "null" } else { "not null" }.to_string();
    let default = |c: &Column| c.default.clone().unwrap_or_else(|| "(none)".into());
    compare(object.to_string(), "type", Some(e.data_type.clone()), Some(f.data_type.clone()), out);
    compare(object.to_string(), "nullability", Some(null(e)), Some(null(f)), out);
    compare(object.to_string(), "default", Some(default(e)), Some(default(f)), out);
}

#[cfg(test)]
mod tests {
    use super::super::{Check, Index, Object, View};
    use super::*;

    fn schema() -> Schema {
        Schema {
            tables: vec![Table {
                name: "t".into(),
                columns: vec![
                    Column { name: "id".into(), data_type: "bigint".into(), nullable: false, default: None },
                    Column { name: "v".into(), data_type: "text".into(), nullable: true, default: None },
                ],
                primary_key: vec!["id".into()],
                indexes: vec![Index { name: "ix".into(), columns: vec!["v".into()], unique: false, predicate: None }],
                ..Table::default()
            }],
            views: vec![View { name: "w".into(), definition: "SELECT 1".into() }],
            triggers: Vec::new(),
            objects: vec![Object { kind: "sequence".into(), name: "s".into(), definition: "bigint".into() }],
        }
    }

    #[test]
    fn every_kind_of_difference_is_named() {
        let before = schema();
        assert!(diff(&before, &before).is_empty());
        let mut after = schema();
        after.tables[0].indexes.clear();
        after.tables[0].columns[1].data_type = "integer".into();
        after.tables[0].columns.push(Column {
            name: "x".into(),
            data_type: "int".into(),
            nullable: true,
            default: None,
        });
        after.views[0].definition = "SELECT 2".into();
        after.tables[0].checks.push(Check { name: "check(v)".into(), expression: "v <> ''".into() });
        after.objects[0].definition = "integer".into();
        after.objects.push(Object { kind: "type".into(), name: "mood".into(), definition: "enum (a)".into() });
        after.tables.push(Table { name: "u".into(), ..Table::default() });
        let found: Vec<String> = diff(&before, &after).iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "column `v` of table `t`: type `integer` found, `text` expected",
                "column `x` of table `t`: extra",
                "index `ix` on table `t`: missing",
                "check constraint `check(v)` on table `t`: extra",
                "table `u`: extra",
                "view `w`: definition `SELECT 2` found, `SELECT 1` expected",
                "sequence `s`: definition `integer` found, `bigint` expected",
                "type `mood`: extra",
            ]
        );
        let mut reordered = schema();
        reordered.tables[0].columns.reverse();
        let found = diff(&before, &reordered);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].to_string().starts_with("table `t`: column order `v, id` found"), "{}", found[0]);
    }
}
