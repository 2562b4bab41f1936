//! Targets in the model, from the words of SPEC.md §3: each generated
//! target is a [`Spec`] that renders to the text the library parses and that
//! the model resolves on its own (lineage, start of a branch, walks).

use super::model::{Model, ModelError, Set};

/// What follows `B@`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// `B@head` (0) or `B@head-N`.
    Head(u32),
    /// `B@base` (0) or `B@base+N`.
    Base(u32),
    /// `B@<rev>`.
    Rev(String),
    /// `B@+N`.
    Up(u32),
    /// `B@-N`.
    Down(u32),
}

/// A generated target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    Id(String),
    Heads,
    Base,
    /// A label, standing for its revision.
    Label(String),
    /// `B@…`; `b` is a label or a revision ID.
    Branch {
        b: String,
        form: Form,
    },
    /// `+N` / `-N` from the database's single head.
    Relative(i64),
}

impl Spec {
    /// The text the library parses.
    pub fn text(&self) -> String {
        match self {
            Spec::Id(id) | Spec::Label(id) => id.clone(),
            Spec::Heads => "heads".into(),
            Spec::Base => "base".into(),
            Spec::Relative(n) if *n >= 0 => format!("+{n}"),
            Spec::Relative(n) => format!("{n}"),
            Spec::Branch { b, form } => match form {
                Form::Head(0) => format!("{b}@head"),
                Form::Head(n) => format!("{b}@head-{n}"),
                Form::Base(0) => format!("{b}@base"),
                Form::Base(n) => format!("{b}@base+{n}"),
                Form::Rev(r) => format!("{b}@{r}"),
                Form::Up(n) => format!("{b}@+{n}"),
                Form::Down(n) => format!("{b}@-{n}"),
            },
        }
    }

    /// Whether the target moves from the database's state up (`Some(true)`)
    /// or down (`Some(false)`).
    pub fn relative_way(&self) -> Option<bool> {
        match self {
            Spec::Relative(n) => Some(*n > 0),
            Spec::Branch { form: Form::Up(_), .. } => Some(true),
            Spec::Branch { form: Form::Down(_), .. } => Some(false),
            _ => None,
        }
    }
}

/// A resolved target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MTarget {
    Base,
    Revisions(Vec<String>),
    /// `B@…`: B's lineage, the start of B's branch, the revision (`None`: `B@base`).
    Branch {
        lineage: Set,
        start: String,
        at: Option<String>,
    },
}

impl MTarget {
    pub fn revisions(&self) -> Vec<String> {
        match self {
            MTarget::Base | MTarget::Branch { at: None, .. } => Vec::new(),
            MTarget::Revisions(ids) => ids.clone(),
            MTarget::Branch { at: Some(id), .. } => vec![id.clone()],
        }
    }
}

type Walk = Result<Option<String>, ModelError>;

impl Model {
    /// One step from `here` (`None`: the empty state) among the revisions of
    /// `within`: up to the only child (from the empty state: the only root),
    /// down to the only parent (from a root: the empty state).
    fn one_step(&self, here: &Option<String>, up: bool, within: &Set) -> Walk {
        let choices: Vec<String> = match (here, up) {
            (None, true) => self.revs.iter().filter(|r| r.parents.is_empty()).map(|r| r.id.clone()).collect(),
            (Some(x), true) => self.children(x),
            (Some(x), false) => self.rev(x).parents.clone(),
            (None, false) => return Err(ModelError::Other),
        };
        let choices: Vec<String> = choices.into_iter().filter(|c| within.contains(c)).collect();
        match choices.as_slice() {
            [one] => Ok(Some(one.clone())),
            [] if !up => Ok(None),
            _ => Err(ModelError::Other),
        }
    }

    fn walk(&self, from: Option<String>, n: i64, within: &Set) -> Walk {
        let mut here = from;
        for _ in 0..n.unsigned_abs() {
            here = self.one_step(&here, n > 0, within)?;
        }
        Ok(here)
    }

    /// The start of X's branch (§2): starting at X, step to the single parent
    /// while the current revision has exactly one parent and that parent is
    /// not a branch point.
    pub fn start_of(&self, x: &str) -> String {
        let mut here = x.to_string();
        loop {
            match self.rev(&here).parents.as_slice() {
                [parent] if self.children(parent).len() < 2 => here = parent.clone(),
                _ => return here,
            }
        }
    }

    /// Resolves a target against the state `s`.
    pub fn resolve(&self, spec: &Spec, s: &Set) -> Result<MTarget, ModelError> {
        let all = self.all();
        match spec {
            Spec::Id(id) => Ok(MTarget::Revisions(vec![id.clone()])),
            Spec::Label(label) => Ok(MTarget::Revisions(vec![self.labelled(label).expect("generated label")])),
            Spec::Heads => Ok(MTarget::Revisions(self.heads())),
            Spec::Base => Ok(MTarget::Base),
            Spec::Relative(n) => {
                let from = match self.state_heads(s).as_slice() {
                    [] => None,
                    [one] => Some(one.clone()),
                    _ => return Err(ModelError::Other),
                };
                Ok(self.walk(from, *n, &all)?.map_or(MTarget::Base, |id| MTarget::Revisions(vec![id])))
            }
            Spec::Branch { b, form } => {
                let (x, start) = match self.labelled(b) {
                    Some(x) => (x.clone(), x),
                    None => (b.clone(), self.start_of(b)),
                };
                let lineage = self.lineage(&x);
                let at = match form {
                    Form::Head(n) => {
                        let heads: Vec<String> =
                            self.heads().into_iter().filter(|h| self.parent_ancestors(h).contains(&x)).collect();
                        let [head] = heads.as_slice() else { return Err(ModelError::Other) };
                        self.walk(Some(head.clone()), -i64::from(*n), &lineage)?
                    }
                    Form::Base(n) => self.walk(None, i64::from(*n), &lineage)?,
                    Form::Rev(r) if lineage.contains(r) => Some(r.clone()),
                    Form::Rev(_) => return Err(ModelError::Other),
                    Form::Up(n) => self.walk(self.head_on(&lineage, s)?, i64::from(*n), &lineage)?,
                    Form::Down(n) => {
                        // Going below B's start means B@base.
                        let at_or_above_start = |id: &Option<String>| {
                            id.as_ref().is_some_and(|id| self.parent_ancestors(id).contains(&start))
                        };
                        let mut here = self.head_on(&lineage, s)?;
                        for _ in 0..*n {
                            if !at_or_above_start(&here) || here.as_deref() == Some(start.as_str()) {
                                here = None;
                                break;
                            }
                            here = self.one_step(&here, false, &lineage)?;
                        }
                        here
                    }
                };
                Ok(MTarget::Branch { lineage, start, at })
            }
        }
    }

    /// The database's current head on a lineage: the applied revision
    /// furthest up it (`None` when none of it is applied).
    fn head_on(&self, lineage: &Set, s: &Set) -> Walk {
        let on: Set = lineage.intersection(s).cloned().collect();
        match self.state_heads(&on).as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            _ => Err(ModelError::Other),
        }
    }
}
