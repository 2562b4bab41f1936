//! The naive model of SPEC.md §2–4: plain `String` IDs and `BTreeSet`s,
//! ancestors found by scanning every revision again and again until nothing
//! changes, sets ordered by repeatedly picking the smallest ready ID. It
//! shares no code with the library and is quadratic or worse, which is fine
//! for 14 revisions, and simple enough to check against the spec by eye.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use migraph::{Revision, RevisionGraph};

use super::targets::MTarget;

/// One revision as the model sees it.
#[derive(Clone)]
pub struct ModelRev {
    pub id: String,
    pub parents: Vec<String>,
    pub depends_on: Vec<String>,
    pub labels: Vec<String>,
    pub reversible: bool,
    pub message: String,
}

/// The revisions in creation order (every parent and dependency is earlier).
#[derive(Clone)]
pub struct Model {
    pub revs: Vec<ModelRev>,
}

pub type Set = BTreeSet<String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    Up,
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Upgrade,
    Downgrade,
    Migrate,
    Stamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// A down step would unapply a revision without a down section.
    Irreversible,
    /// A downgrade target is not applied.
    NotApplied,
    /// Any other refusal (`base` for upgrade, an ambiguous or impossible
    /// step, a revision off the lineage, a step the wrong way, ...).
    Other,
}

pub type ModelStep = (String, Way, String);

impl fmt::Debug for Model {
    /// One line per revision, `id: parents | depends-on [labels] [irreversible]`,
    /// in creation order, so a shrunk counterexample reads like the spec's pictures.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for r in &self.revs {
            let mut line = format!("{}: {}", r.id, r.parents.join(" "));
            if !r.depends_on.is_empty() {
                line.push_str(&format!(" | {}", r.depends_on.join(" ")));
            }
            if !r.labels.is_empty() {
                line.push_str(&format!(" [{}]", r.labels.join(" ")));
            }
            if !r.reversible {
                line.push_str(" [irreversible]");
            }
            list.entry(&line);
        }
        list.finish()
    }
}

impl Model {
    pub fn rev(&self, id: &str) -> &ModelRev {
        self.revs.iter().find(|r| r.id == id).expect("model: unknown id")
    }

    pub fn all(&self) -> Set {
        self.revs.iter().map(|r| r.id.clone()).collect()
    }

    /// What must be applied before `id`: its parents and its dependencies.
    pub fn prerequisites(&self, id: &str) -> Vec<String> {
        let r = self.rev(id);
        r.parents.iter().chain(&r.depends_on).cloned().collect()
    }

    /// closure(R): `start` with every ancestor through parents and
    /// depends-on, by scanning all revisions until the set stops growing.
    pub fn closure(&self, start: &Set) -> Set {
        let mut set = start.clone();
        loop {
            let mut grew = false;
            for r in &self.revs {
                if set.contains(&r.id) {
                    for p in self.prerequisites(&r.id) {
                        grew |= set.insert(p);
                    }
                }
            }
            if !grew {
                return set;
            }
        }
    }

    pub fn closure_of(&self, ids: &[String]) -> Set {
        self.closure(&ids.iter().cloned().collect())
    }

    pub fn is_closed(&self, set: &Set) -> bool {
        self.closure(set) == *set
    }

    /// needs*(R): R with every revision whose closure meets R.
    pub fn needs(&self, r: &Set) -> Set {
        self.revs
            .iter()
            .filter(|x| !self.closure_of(std::slice::from_ref(&x.id)).is_disjoint(r))
            .map(|x| x.id.clone())
            .collect()
    }

    /// Ancestors of `id` through parent edges alone, `id` included.
    pub fn parent_ancestors(&self, id: &str) -> Set {
        let mut set: Set = [id.to_string()].into();
        loop {
            let mut grew = false;
            for r in &self.revs {
                if set.contains(&r.id) {
                    for p in &r.parents {
                        grew |= set.insert(p.clone());
                    }
                }
            }
            if !grew {
                return set;
            }
        }
    }

    /// below(T): revisions with T as an ancestor through parent edges alone, T excluded.
    pub fn below(&self, t: &str) -> Set {
        self.revs
            .iter()
            .filter(|r| r.id != t && self.parent_ancestors(&r.id).contains(t))
            .map(|r| r.id.clone())
            .collect()
    }

    /// lineage(X): ancestors and descendants through parent edges, and X.
    pub fn lineage(&self, x: &str) -> Set {
        let mut set = self.parent_ancestors(x);
        set.extend(self.below(x));
        set
    }

    /// Revisions other than `t` that have `t` among their ancestors.
    pub fn strict_descendants(&self, t: &str) -> Set {
        self.revs
            .iter()
            .filter(|r| r.id != t && self.closure_of(std::slice::from_ref(&r.id)).contains(t))
            .map(|r| r.id.clone())
            .collect()
    }

    /// Repeatedly take, among the unplaced members whose prerequisites inside
    /// the set are all placed, the smallest ID.
    pub fn apply_order(&self, set: &Set) -> Vec<String> {
        let mut placed: Vec<String> = Vec::new();
        loop {
            let ready = set
                .iter()
                .filter(|id| !placed.contains(id))
                .filter(|id| self.prerequisites(id).iter().all(|p| !set.contains(p) || placed.contains(p)))
                .min();
            match ready {
                Some(id) => placed.push(id.clone()),
                None => break,
            }
        }
        assert_eq!(placed.len(), set.len(), "model: the generated graph has a cycle");
        placed
    }

    /// The exact reverse of the apply order of the same set.
    pub fn unapply_order(&self, set: &Set) -> Vec<String> {
        let mut order = self.apply_order(set);
        order.reverse();
        order
    }

    /// Revisions that are no other revision's parent, sorted by ID.
    pub fn heads(&self) -> Vec<String> {
        let all = self.all();
        all.iter().filter(|id| !self.revs.iter().any(|r| r.parents.contains(id))).cloned().collect()
    }

    /// Members of `s` with no child in `s`, sorted by ID.
    pub fn state_heads(&self, s: &Set) -> Vec<String> {
        s.iter().filter(|id| !self.revs.iter().any(|r| s.contains(&r.id) && r.parents.contains(id))).cloned().collect()
    }

    /// Revisions naming `id` as a parent, sorted by ID.
    pub fn children(&self, id: &str) -> Vec<String> {
        let kids: Set = self.revs.iter().filter(|r| r.parents.iter().any(|p| p == id)).map(|r| r.id.clone()).collect();
        kids.into_iter().collect()
    }

    /// The revision carrying `label`.
    pub fn labelled(&self, label: &str) -> Option<String> {
        self.revs.iter().find(|r| r.labels.iter().any(|l| l == label)).map(|r| r.id.clone())
    }

    /// What `downgrade` to one resolved target would unapply, before
    /// sparing closure(targets): all of S for base; S ∩ needs*(below(T));
    /// S ∩ needs*(below(T) ∩ lineage(B)) for `B@T`; S ∩ needs*(start) for `B@base`.
    fn downgrade_set(&self, s: &Set, target: &MTarget) -> Set {
        let seeds: Set = match target {
            MTarget::Base => return s.clone(),
            MTarget::Revisions(ts) => ts.iter().flat_map(|t| self.below(t)).collect(),
            MTarget::Branch { lineage, at: Some(t), .. } => self.below(t).intersection(lineage).cloned().collect(),
            MTarget::Branch { start, at: None, .. } => [start.clone()].into(),
        };
        self.needs(&seeds).intersection(s).cloned().collect()
    }

    /// The plan the spec's words give for `cmd` to resolved `targets` from
    /// `s`; `None` where the spec is silent (stamp with a branch-scoped
    /// target among several).
    pub fn plan(&self, s: &Set, cmd: Cmd, targets: &[MTarget]) -> Option<Result<Vec<ModelStep>, ModelError>> {
        let named: Vec<String> = targets.iter().flat_map(MTarget::revisions).collect();
        let branch = |t: &MTarget| matches!(t, MTarget::Branch { .. });
        let wanted = self.closure_of(&named);
        let (down, up): (Set, Set) = match cmd {
            Cmd::Upgrade if targets.iter().any(|t| matches!(t, MTarget::Base | MTarget::Branch { at: None, .. })) => {
                return Some(Err(ModelError::Other))
            }
            Cmd::Migrate if targets.iter().any(|t| matches!(t, MTarget::Branch { at: None, .. })) => {
                return Some(Err(ModelError::Other))
            }
            Cmd::Upgrade => (Set::new(), wanted.difference(s).cloned().collect()),
            Cmd::Stamp if targets.iter().any(branch) => {
                let [target] = targets else { return None };
                // What the same downgrade (target applied, or B@base) or
                // upgrade (target not applied) would leave.
                let after: Set = match target {
                    MTarget::Branch { at: Some(t), .. } if !s.contains(t) => s.union(&wanted).cloned().collect(),
                    _ => s.difference(&self.downgrade_set(s, target)).cloned().collect(),
                };
                (s.difference(&after).cloned().collect(), after.difference(s).cloned().collect())
            }
            Cmd::Migrate | Cmd::Stamp => {
                (s.difference(&wanted).cloned().collect(), wanted.difference(s).cloned().collect())
            }
            Cmd::Downgrade => {
                if named.iter().any(|id| !s.contains(id)) {
                    return Some(Err(ModelError::NotApplied));
                }
                let union: Set = targets.iter().flat_map(|t| self.downgrade_set(s, t)).collect();
                (union.difference(&wanted).cloned().collect(), Set::new())
            }
        };
        if cmd != Cmd::Stamp && down.iter().any(|id| !self.rev(id).reversible) {
            return Some(Err(ModelError::Irreversible));
        }
        let mut steps = Vec::new();
        for id in self.unapply_order(&down) {
            steps.push((id.clone(), Way::Down, self.rev(&id).message.clone()));
        }
        for id in self.apply_order(&up) {
            steps.push((id.clone(), Way::Up, self.rev(&id).message.clone()));
        }
        Some(Ok(steps))
    }

    /// The revision files' text, as `Revision::parse` reads it.
    fn file_text(r: &ModelRev, parents: &[String]) -> String {
        let down = if r.reversible { "-- migrate:down\nSELECT 2;\n" } else { "" };
        let labels = if r.labels.is_empty() { String::new() } else { format!("-- labels: {}\n", r.labels.join(" ")) };
        format!(
            "-- id: {}\n-- parents: {}\n-- depends-on: {}\n{labels}-- message: {}\n-- migrate:up\nSELECT 1;\n{down}",
            r.id,
            parents.join(" "),
            r.depends_on.join(" "),
            r.message
        )
    }

    /// Parsed revisions in the order `order` gives (indices into creation
    /// order); `reverse_parents` lists each revision's parents backwards.
    pub fn revisions(&self, order: &[usize], reverse_parents: bool) -> Vec<Revision> {
        order
            .iter()
            .map(|&i| {
                let r = &self.revs[i];
                let mut parents = r.parents.clone();
                if reverse_parents {
                    parents.reverse();
                }
                let path = format!("{}.sql", r.id);
                Revision::parse(Path::new(&path), &Model::file_text(r, &parents)).expect("generated file parses")
            })
            .collect()
    }

    pub fn graph(&self) -> RevisionGraph {
        let order: Vec<usize> = (0..self.revs.len()).collect();
        RevisionGraph::new(self.revisions(&order, false)).expect("generated graph is valid")
    }
}
