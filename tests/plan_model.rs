//! Property tests: the planner against a naive model written straight from
//! the words of SPEC.md §2–4.
//!
//! The model shares no code with the library. It works on plain `String` IDs
//! and `BTreeSet`s, finds ancestors by scanning every revision again and
//! again until nothing changes, and orders a set by repeatedly picking the
//! smallest ready ID. It is quadratic or worse, which is fine for 14
//! revisions, and simple enough to check against the spec by eye:
//!
//! - closure(R): R with all ancestors through parents and depends-on;
//! - apply order: repeatedly take, among the members not yet placed whose
//!   parents and depends-on (within the set) are all placed, the smallest ID;
//! - unapply order: the exact reverse of the apply order of the same set;
//! - `upgrade T` = closure(T) − S;
//! - `downgrade T` = members of S strictly descending from T (through parents
//!   and depends-on) − closure(T), an error when T is not applied;
//!   `downgrade base` = all of S;
//! - `migrate T` = unapply S − closure(T), then apply closure(T) − S;
//! - `stamp T` = the same steps as `migrate` (stamp base = unapply all);
//! - an irreversible revision on a down path makes downgrade and migrate fail
//!   (stamp runs no SQL, so it ignores reversibility).

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use migraph::{plan, Direction, Plan, PlanError, Revision, RevisionGraph, State, Verb};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

// ---------------------------------------------------------------------------
// The naive model
// ---------------------------------------------------------------------------

/// One revision as the model sees it.
#[derive(Clone)]
struct ModelRev {
    id: String,
    parents: Vec<String>,
    depends_on: Vec<String>,
    reversible: bool,
    message: String,
}

/// The revisions in creation order (every parent and dependency is earlier).
#[derive(Clone)]
struct Model {
    revs: Vec<ModelRev>,
}

type Set = BTreeSet<String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Up,
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Upgrade,
    Downgrade,
    Migrate,
    Stamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ModelError {
    /// A down step would unapply a revision without a down section.
    Irreversible,
    /// A downgrade target is not applied.
    NotApplied,
    /// Any other refusal (e.g. `base` for upgrade or migrate).
    Other,
}

type ModelStep = (String, Way, String);

impl fmt::Debug for Model {
    /// One line per revision, `id: parents | depends-on [irreversible]`, in
    /// creation order, so a shrunk counterexample reads like the spec's pictures.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for r in &self.revs {
            let mut line = format!("{}: {}", r.id, r.parents.join(" "));
            if !r.depends_on.is_empty() {
                line.push_str(&format!(" | {}", r.depends_on.join(" ")));
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
    fn rev(&self, id: &str) -> &ModelRev {
        self.revs.iter().find(|r| r.id == id).expect("model: unknown id")
    }

    fn all(&self) -> Set {
        self.revs.iter().map(|r| r.id.clone()).collect()
    }

    /// What must be applied before `id`: its parents and its dependencies.
    fn prerequisites(&self, id: &str) -> Vec<String> {
        let r = self.rev(id);
        r.parents.iter().chain(&r.depends_on).cloned().collect()
    }

    /// `start` with every ancestor through parents and depends-on, by
    /// scanning all revisions until the set stops growing.
    fn closure(&self, start: &Set) -> Set {
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

    fn closure_of(&self, ids: &[String]) -> Set {
        self.closure(&ids.iter().cloned().collect())
    }

    fn is_closed(&self, set: &Set) -> bool {
        self.closure(set) == *set
    }

    /// Revisions other than `t` that have `t` among their ancestors.
    fn strict_descendants(&self, t: &str) -> Set {
        self.revs
            .iter()
            .filter(|r| r.id != t && self.closure_of(std::slice::from_ref(&r.id)).contains(t))
            .map(|r| r.id.clone())
            .collect()
    }

    /// Repeatedly take, among the unplaced members whose prerequisites inside
    /// the set are all placed, the smallest ID.
    fn apply_order(&self, set: &Set) -> Vec<String> {
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
    fn unapply_order(&self, set: &Set) -> Vec<String> {
        let mut order = self.apply_order(set);
        order.reverse();
        order
    }

    /// Revisions that are no other revision's parent, sorted by ID.
    fn heads(&self) -> Vec<String> {
        let all = self.all();
        all.iter().filter(|id| !self.revs.iter().any(|r| r.parents.contains(id))).cloned().collect()
    }

    /// Members of `s` with no child in `s`, sorted by ID.
    fn state_heads(&self, s: &Set) -> Vec<String> {
        s.iter().filter(|id| !self.revs.iter().any(|r| s.contains(&r.id) && r.parents.contains(id))).cloned().collect()
    }

    /// Revisions naming `id` as a parent, sorted by ID.
    fn children(&self, id: &str) -> Vec<String> {
        let kids: Set = self.revs.iter().filter(|r| r.parents.iter().any(|p| p == id)).map(|r| r.id.clone()).collect();
        kids.into_iter().collect()
    }

    /// The plan the spec's words give for `cmd` to `targets` from `s`.
    fn plan(&self, s: &Set, cmd: Cmd, targets: &[String]) -> Result<Vec<ModelStep>, ModelError> {
        let mut base = false;
        let mut t: Vec<String> = Vec::new();
        for target in targets {
            match target.as_str() {
                "base" => base = true,
                "heads" => t.extend(self.heads()),
                id => t.push(id.to_string()),
            }
        }
        if base && matches!(cmd, Cmd::Upgrade | Cmd::Migrate) {
            return Err(ModelError::Other);
        }
        let wanted = self.closure_of(&t);
        let (down, up): (Set, Set) = match cmd {
            Cmd::Upgrade => (Set::new(), wanted.difference(s).cloned().collect()),
            Cmd::Migrate | Cmd::Stamp => {
                (s.difference(&wanted).cloned().collect(), wanted.difference(s).cloned().collect())
            }
            Cmd::Downgrade => {
                if t.iter().any(|id| !s.contains(id)) {
                    return Err(ModelError::NotApplied);
                }
                let down = if base {
                    s.clone()
                } else {
                    s.iter()
                        .filter(|x| t.iter().any(|id| self.strict_descendants(id).contains(*x)))
                        .filter(|x| !wanted.contains(*x))
                        .cloned()
                        .collect()
                };
                (down, Set::new())
            }
        };
        if cmd != Cmd::Stamp && down.iter().any(|id| !self.rev(id).reversible) {
            return Err(ModelError::Irreversible);
        }
        let mut steps = Vec::new();
        for id in self.unapply_order(&down) {
            steps.push((id.clone(), Way::Down, self.rev(&id).message.clone()));
        }
        for id in self.apply_order(&up) {
            steps.push((id.clone(), Way::Up, self.rev(&id).message.clone()));
        }
        Ok(steps)
    }

    /// The revision files' text, as `Revision::parse` reads it.
    fn file_text(r: &ModelRev, parents: &[String]) -> String {
        let down = if r.reversible { "-- migrate:down\nSELECT 2;\n" } else { "" };
        format!(
            "-- id: {}\n-- parents: {}\n-- depends-on: {}\n-- message: {}\n-- migrate:up\nSELECT 1;\n{down}",
            r.id,
            parents.join(" "),
            r.depends_on.join(" "),
            r.message
        )
    }

    /// Parsed revisions in the order `order` gives (indices into creation
    /// order); `reverse_parents` lists each revision's parents backwards.
    fn revisions(&self, order: &[usize], reverse_parents: bool) -> Vec<Revision> {
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

    fn graph(&self) -> RevisionGraph {
        let order: Vec<usize> = (0..self.revs.len()).collect();
        RevisionGraph::new(self.revisions(&order, false)).expect("generated graph is valid")
    }
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

/// A random DAG, an applied state closed under ancestry, target picks and a
/// shuffled file order.
#[derive(Clone, Debug)]
struct Case {
    model: Model,
    applied: Set,
    picks: (Index, Index),
    file_order: Vec<usize>,
}

/// Per revision: parent picks (0..=3), maybe a dependency pick, reversible.
type RawRev = (Vec<Index>, Option<Index>, bool);

fn build_model(ids: Vec<String>, raw: Vec<RawRev>) -> Model {
    let mut revs: Vec<ModelRev> = Vec::new();
    for (i, (id, (parent_picks, dep_pick, irreversible))) in ids.into_iter().zip(raw).enumerate() {
        let mut parents: Vec<String> = Vec::new();
        let mut depends_on: Vec<String> = Vec::new();
        if i > 0 {
            for pick in parent_picks {
                let p = revs[pick.index(i)].id.clone();
                if !parents.contains(&p) {
                    parents.push(p);
                }
            }
            if let Some(pick) = dep_pick {
                let d = revs[pick.index(i)].id.clone();
                if !parents.contains(&d) {
                    depends_on.push(d);
                }
            }
        }
        revs.push(ModelRev {
            message: format!("change {i} ({id})"),
            id,
            parents,
            depends_on,
            reversible: !irreversible,
        });
    }
    Model { revs }
}

fn arb_model() -> impl Strategy<Value = (Model, Vec<usize>)> {
    (1usize..=14).prop_flat_map(|n| {
        // Distinct 3-letter IDs in random creation order, so that ID order
        // and creation order disagree.
        let ids = proptest::collection::btree_set("[a-z]{3}", n)
            .prop_map(|set| set.into_iter().collect::<Vec<String>>())
            .prop_shuffle();
        let raw = proptest::collection::vec(
            (
                proptest::collection::vec(any::<Index>(), 0..=3),
                proptest::option::weighted(0.25, any::<Index>()),
                proptest::bool::weighted(0.15),
            ),
            n,
        );
        let file_order = Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
        (ids, raw, file_order).prop_map(|(ids, raw, order)| (build_model(ids, raw), order))
    })
}

fn arb_case() -> impl Strategy<Value = Case> {
    (
        arb_model(),
        proptest::collection::vec(any::<Index>(), 0..=5),
        proptest::bool::weighted(0.1),
        any::<(Index, Index)>(),
    )
        .prop_map(|((model, file_order), state_picks, everything, picks)| {
            let picked: Set = if everything {
                model.all()
            } else {
                state_picks.iter().map(|p| model.revs[p.index(model.revs.len())].id.clone()).collect()
            };
            let applied = model.closure(&picked);
            Case { model, applied, picks, file_order }
        })
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const VERBS: [(Verb, Cmd); 4] = [
    (Verb::Upgrade, Cmd::Upgrade),
    (Verb::Downgrade, Cmd::Downgrade),
    (Verb::Migrate, Cmd::Migrate),
    (Verb::Stamp, Cmd::Stamp),
];

impl Case {
    fn id(&self, pick: &Index) -> String {
        self.model.revs[pick.index(self.model.revs.len())].id.clone()
    }

    /// One random ID, `heads`, two random IDs, `base`.
    fn target_sets(&self) -> Vec<Vec<String>> {
        let (a, b) = (self.id(&self.picks.0), self.id(&self.picks.1));
        vec![vec![a.clone()], vec!["heads".to_string()], vec![a, b], vec!["base".to_string()]]
    }

    fn state(&self, graph: &RevisionGraph) -> State {
        State::new(graph, self.applied.iter().map(String::as_str)).expect("a closed state is accepted")
    }
}

fn ids<'a>(revs: impl IntoIterator<Item = &'a Revision>) -> Vec<String> {
    revs.into_iter().map(|r| r.id.clone()).collect()
}

fn steps(plan: &Plan) -> Vec<ModelStep> {
    plan.steps
        .iter()
        .map(|s| (s.id.clone(), if s.direction == Direction::Up { Way::Up } else { Way::Down }, s.message.clone()))
        .collect()
}

fn run(graph: &RevisionGraph, state: &State, verb: Verb, targets: &[String]) -> Result<Plan, PlanError> {
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
    plan(graph, state, verb, &targets)
}

/// The library's plan against the model's: equal steps, or both refusing
/// (with the matching error for irreversible and not-applied cases).
fn check_against_model(case: &Case, verb: Verb, cmd: Cmd, targets: &[String]) -> Result<(), TestCaseError> {
    let graph = case.model.graph();
    let state = case.state(&graph);
    let library = run(&graph, &state, verb, targets);
    let model = case.model.plan(&case.applied, cmd, targets);
    let context = format!("{verb} {targets:?} from S = {:?}", case.applied);
    match (&library, &model) {
        (Ok(plan), Ok(expected)) => {
            prop_assert_eq!(plan.verb, verb, "{}", context);
            prop_assert_eq!(&steps(plan), expected, "{}", context);
        }
        (Err(e), Err(ModelError::Irreversible)) => {
            prop_assert!(
                matches!(e, PlanError::Irreversible { .. }),
                "{}: expected Irreversible, got {:?}",
                context,
                e
            );
        }
        (Err(e), Err(ModelError::NotApplied)) => {
            prop_assert!(matches!(e, PlanError::NotApplied { .. }), "{}: expected NotApplied, got {:?}", context, e);
        }
        (Err(_), Err(ModelError::Other)) => {}
        _ => prop_assert!(false, "{}: library gave {:?}, the model {:?}", context, library, model),
    }
    Ok(())
}

/// Runs the plan one step at a time on the model's state: every step is
/// possible when it runs, and the end state has the shape the verb promises.
fn check_resulting_state(case: &Case, verb: Verb, targets: &[String]) -> Result<(), TestCaseError> {
    let model = &case.model;
    let graph = model.graph();
    let state = case.state(&graph);
    let Ok(plan) = run(&graph, &state, verb, targets) else { return Ok(()) };
    let context = format!("{verb} {targets:?} from S = {:?}", case.applied);

    // Step by step: applying needs every prerequisite applied; unapplying
    // needs no applied revision to depend on it.
    let mut current = case.applied.clone();
    for step in &plan.steps {
        match step.direction {
            Direction::Up => {
                prop_assert!(!current.contains(&step.id), "{}: {} applied twice", context, step.id);
                for p in model.prerequisites(&step.id) {
                    prop_assert!(
                        current.contains(&p),
                        "{}: {} applied before its prerequisite {}",
                        context,
                        step.id,
                        p
                    );
                }
                current.insert(step.id.clone());
            }
            Direction::Down => {
                prop_assert!(current.remove(&step.id), "{}: {} unapplied but not applied", context, step.id);
                for other in &current {
                    prop_assert!(
                        !model.prerequisites(other).contains(&step.id),
                        "{}: {} unapplied while {} still needs it",
                        context,
                        step.id,
                        other
                    );
                }
            }
        }
    }

    let after = state.after(&graph, &plan);
    let now: Set = after.applied(&graph).iter().map(|r| r.id.clone()).collect();
    prop_assert_eq!(&now, &current, "{}: State::after disagrees with running the steps", context);
    prop_assert!(model.is_closed(&now), "{}: state after the plan {:?} is not closed", context, now);

    let base = targets.iter().any(|t| t == "base");
    let named: Vec<String> = targets
        .iter()
        .flat_map(|t| match t.as_str() {
            "heads" => model.heads(),
            "base" => Vec::new(),
            id => vec![id.to_string()],
        })
        .collect();
    let wanted = model.closure_of(&named);
    match verb {
        Verb::Upgrade => {
            prop_assert!(now.is_superset(&wanted), "{}: {:?} lacks part of closure(T) {:?}", context, now, wanted);
            let expected: Set = case.applied.union(&wanted).cloned().collect();
            prop_assert_eq!(&now, &expected, "{}: upgrade must only add closure(T)", context);
        }
        Verb::Migrate | Verb::Stamp => {
            prop_assert_eq!(&now, &wanted, "{}: state must be exactly closure(T)", context);
        }
        Verb::Downgrade if base => {
            prop_assert!(now.is_empty(), "{}: downgrade base left {:?}", context, now);
        }
        Verb::Downgrade => {
            prop_assert!(now.is_subset(&case.applied), "{}: downgrade applied something", context);
            for t in &named {
                prop_assert!(now.contains(t), "{}: target {} was unapplied", context, t);
                // With several targets one may descend from another; the
                // closure of the targets stays.
                for d in model.strict_descendants(t) {
                    prop_assert!(
                        !now.contains(&d) || wanted.contains(&d),
                        "{}: {} descends from target {} but is still applied",
                        context,
                        d,
                        t
                    );
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// heads, topological order, closure, descendants, children, roots,
    /// branch and merge points are the spec's definitions.
    #[test]
    fn graph_vocabulary_matches_naive_model(case in arb_case()) {
        let model = &case.model;
        let graph = model.graph();
        prop_assert_eq!(ids(graph.heads()), model.heads());
        prop_assert_eq!(ids(graph.topological()), model.apply_order(&model.all()));

        let roots: Vec<String> = model.all().into_iter().filter(|id| model.rev(id).parents.is_empty()).collect();
        prop_assert_eq!(ids(graph.roots()), roots);
        let merges: Vec<String> = model.all().into_iter().filter(|id| model.rev(id).parents.len() >= 2).collect();
        prop_assert_eq!(ids(graph.merge_points()), merges);
        let branches: Vec<String> = model.all().into_iter().filter(|id| model.children(id).len() >= 2).collect();
        prop_assert_eq!(ids(graph.branch_points()), branches);

        for r in &model.revs {
            prop_assert_eq!(ids(graph.children(&r.id)), model.children(&r.id), "children of {}", r.id);
            prop_assert_eq!(
                ids(graph.descendants(&r.id)),
                model.apply_order(&model.strict_descendants(&r.id)),
                "descendants of {}", r.id
            );
            let one = [r.id.as_str()];
            prop_assert_eq!(
                ids(graph.closure(one)),
                model.apply_order(&model.closure_of(std::slice::from_ref(&r.id))),
                "closure of {}", r.id
            );
        }
        let (a, b) = (case.id(&case.picks.0), case.id(&case.picks.1));
        prop_assert_eq!(
            ids(graph.closure([a.as_str(), b.as_str()])),
            model.apply_order(&model.closure_of(&[a.clone(), b.clone()])),
            "closure of {} {}", a, b
        );
    }

    /// A closed state is accepted, listed in apply order with the right
    /// heads; adding one revision without its prerequisites is refused.
    #[test]
    fn state_matches_naive_model(case in arb_case(), extra in any::<Index>()) {
        let model = &case.model;
        let graph = model.graph();
        let state = case.state(&graph);
        prop_assert_eq!(ids(state.applied(&graph)), model.apply_order(&case.applied));
        prop_assert_eq!(ids(state.heads(&graph)), model.state_heads(&case.applied));

        let mut bigger = case.applied.clone();
        bigger.insert(case.id(&extra));
        let result = State::new(&graph, bigger.iter().map(String::as_str));
        if model.is_closed(&bigger) {
            prop_assert!(result.is_ok(), "closed state {:?} refused: {:?}", bigger, result);
        } else {
            prop_assert!(
                matches!(result, Err(PlanError::NotClosed { .. })),
                "state {:?} is not closed but State::new gave {:?}", bigger, result
            );
        }
    }

    /// For every verb and target (one ID, `heads`, two IDs, `base`), the
    /// planner's steps are the model's exactly, or both refuse.
    #[test]
    fn plan_matches_naive_model(case in arb_case()) {
        for targets in case.target_sets() {
            for (verb, cmd) in VERBS {
                check_against_model(&case, verb, cmd, &targets)?;
            }
        }
    }

    /// Every plan can run step by step, leaves a closed state, and reaches
    /// what its verb promises.
    #[test]
    fn state_after_plan_is_closed_and_reaches_target(case in arb_case()) {
        for targets in case.target_sets() {
            for (verb, _) in VERBS {
                check_resulting_state(&case, verb, &targets)?;
            }
        }
    }

    /// The same files and state give the same plan: twice in a row, with the
    /// files in another order, parents listed backwards and the state's IDs
    /// given in reverse.
    #[test]
    fn plan_is_deterministic_and_independent_of_file_order(case in arb_case()) {
        let graph = case.model.graph();
        let state = case.state(&graph);
        let shuffled = RevisionGraph::new(case.model.revisions(&case.file_order, true)).expect("valid graph");
        let shuffled_state =
            State::new(&shuffled, case.applied.iter().rev().map(String::as_str)).expect("closed state");
        prop_assert_eq!(ids(shuffled.topological()), ids(graph.topological()));
        prop_assert_eq!(ids(shuffled.heads()), ids(graph.heads()));
        for targets in case.target_sets() {
            for (verb, _) in VERBS {
                let first = run(&graph, &state, verb, &targets);
                let second = run(&graph, &state, verb, &targets);
                let third = run(&shuffled, &shuffled_state, verb, &targets);
                prop_assert_eq!(&first, &second, "{} {:?}: two calls differ", verb, targets);
                prop_assert_eq!(&first, &third, "{} {:?}: file order changed the plan", verb, targets);
            }
        }
    }
}
