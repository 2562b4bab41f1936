//! Property tests: the planner against a naive model written straight from
//! the words of SPEC.md §2–4 (tests/plan_model/model.rs, targets.rs).
//!
//! The model shares no code with the library. Its definitions, each a line
//! of the spec:
//!
//! - closure(R): R with all ancestors through parents and depends-on;
//!   needs*(R): R with everything whose closure meets R; below(T): the
//!   revisions with T as an ancestor through parent edges alone, T excluded;
//!   lineage(X): ancestors and descendants through parents, and X; the start
//!   of X's branch: down single parents that are not branch points (a
//!   label's start is the labelled revision);
//! - apply order: repeatedly take, among the members not yet placed whose
//!   parents and depends-on (within the set) are all placed, the smallest ID;
//!   unapply order: the exact reverse of the apply order of the same set;
//! - `upgrade T` = closure(T) − S;
//! - `downgrade T` = S ∩ needs*(below(T)), for several targets the union
//!   minus closure(targets), an error when T is not applied; `downgrade base`
//!   = all of S; `downgrade B@T` = S ∩ needs*(below(T) ∩ lineage(B));
//!   `downgrade B@base` = S ∩ needs*(start of B's branch);
//! - `migrate T` = unapply S − closure(T), then apply closure(T) − S
//!   (`base`: unapply all);
//! - `stamp T` = the same steps as `migrate`; `stamp B@…` = the state the same
//!   downgrade (target applied, or `B@base`) or upgrade would leave;
//! - `B@+N` / `B@-N` count along B's lineage from the applied revision
//!   furthest up it (the empty state when none is), `B@-N` below B's start is
//!   `B@base`; `upgrade -N` and `downgrade +N` are refused;
//! - an irreversible revision on a down path makes downgrade and migrate fail
//!   (stamp runs no SQL, so it ignores reversibility).

#[path = "plan_model/model.rs"]
mod model;
#[path = "plan_model/targets.rs"]
mod targets;

use migraph::{plan, Direction, Plan, PlanError, Revision, RevisionGraph, State, Verb};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

use model::{Cmd, Model, ModelError, ModelRev, ModelStep, Set, Way};
use targets::{Form, Spec};

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

/// A branch-scoped target pick: B (a label when `label` and B has one), the
/// form (0..7), N, and the revision for `B@<rev>`.
type BranchPick = (Index, bool, u8, u32, Index);

/// A random DAG, an applied state closed under ancestry, target picks and a
/// shuffled file order.
#[derive(Clone, Debug)]
struct Case {
    model: Model,
    applied: Set,
    picks: (Index, Index),
    branches: (BranchPick, BranchPick),
    step: i64,
    file_order: Vec<usize>,
}

/// Per revision: parent picks (0..=3), maybe a dependency pick, irreversible, labelled.
type RawRev = (Vec<Index>, Option<Index>, bool, bool);

fn build_model(ids: Vec<String>, raw: Vec<RawRev>) -> Model {
    let mut revs: Vec<ModelRev> = Vec::new();
    for (i, (id, (parent_picks, dep_pick, irreversible, labelled))) in ids.into_iter().zip(raw).enumerate() {
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
            labels: if labelled { vec![format!("br_{id}")] } else { Vec::new() },
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
                proptest::bool::weighted(0.3),
            ),
            n,
        );
        let file_order = Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
        (ids, raw, file_order).prop_map(|(ids, raw, order)| (build_model(ids, raw), order))
    })
}

fn arb_branch_pick() -> impl Strategy<Value = BranchPick> {
    (any::<Index>(), any::<bool>(), 0u8..7, 0u32..=3, any::<Index>())
}

fn arb_case() -> impl Strategy<Value = Case> {
    (
        arb_model(),
        proptest::collection::vec(any::<Index>(), 0..=5),
        proptest::bool::weighted(0.1),
        any::<(Index, Index)>(),
        (arb_branch_pick(), arb_branch_pick()),
        prop_oneof![-3i64..=-1, 1i64..=3],
    )
        .prop_map(|((model, file_order), state_picks, everything, picks, branches, step)| {
            let picked: Set = if everything {
                model.all()
            } else {
                state_picks.iter().map(|p| model.revs[p.index(model.revs.len())].id.clone()).collect()
            };
            let applied = model.closure(&picked);
            Case { model, applied, picks, branches, step, file_order }
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

    fn branch(&self, (b, label, form, n, rev): &BranchPick) -> Spec {
        let r = &self.model.revs[b.index(self.model.revs.len())];
        let b = match r.labels.first() {
            Some(l) if *label => l.clone(),
            _ => r.id.clone(),
        };
        let n1 = n.max(&1);
        let form = match form {
            0 => Form::Head(0),
            1 => Form::Head(*n),
            2 => Form::Base(0),
            3 => Form::Base(*n),
            4 => Form::Rev(self.id(rev)),
            5 => Form::Up(*n1),
            _ => Form::Down(*n1),
        };
        Spec::Branch { b, form }
    }

    /// One random ID, `heads`, two random IDs, `base`, a label, two
    /// branch-scoped targets alone and one with an ID, a relative step.
    fn target_sets(&self) -> Vec<Vec<Spec>> {
        let (a, b) = (Spec::Id(self.id(&self.picks.0)), Spec::Id(self.id(&self.picks.1)));
        let (x, y) = (self.branch(&self.branches.0), self.branch(&self.branches.1));
        let mut sets = vec![
            vec![a.clone()],
            vec![Spec::Heads],
            vec![a.clone(), b],
            vec![Spec::Base],
            vec![x.clone()],
            vec![y.clone()],
            vec![x, a],
            vec![Spec::Relative(self.step)],
        ];
        if let Some(label) = self.model.revs.iter().flat_map(|r| r.labels.first()).next() {
            sets.push(vec![Spec::Label(label.clone())]);
        }
        sets
    }

    fn state(&self, graph: &RevisionGraph) -> State {
        State::new(graph, self.applied.iter().map(String::as_str)).expect("a closed state is accepted")
    }

    /// The model's plan: resolution errors and steps the wrong way are refusals.
    fn model_plan(&self, cmd: Cmd, specs: &[Spec]) -> Option<Result<Vec<ModelStep>, ModelError>> {
        let wrong = |s: &Spec| match s.relative_way() {
            Some(up) => (cmd == Cmd::Upgrade && !up) || (cmd == Cmd::Downgrade && up),
            None => false,
        };
        if specs.iter().any(wrong) {
            return Some(Err(ModelError::Other));
        }
        let resolved: Result<Vec<_>, _> = specs.iter().map(|s| self.model.resolve(s, &self.applied)).collect();
        match resolved {
            Ok(targets) => self.model.plan(&self.applied, cmd, &targets),
            Err(e) => Some(Err(e)),
        }
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

fn run(graph: &RevisionGraph, state: &State, verb: Verb, specs: &[Spec]) -> Result<Plan, PlanError> {
    let texts: Vec<String> = specs.iter().map(Spec::text).collect();
    let targets: Vec<&str> = texts.iter().map(String::as_str).collect();
    plan(graph, state, verb, &targets)
}

/// The library's plan against the model's: equal steps, or both refusing
/// (with the matching error for irreversible and not-applied cases).
fn check_against_model(case: &Case, verb: Verb, cmd: Cmd, specs: &[Spec]) -> Result<(), TestCaseError> {
    let graph = case.model.graph();
    let state = case.state(&graph);
    let library = run(&graph, &state, verb, specs);
    let Some(model) = case.model_plan(cmd, specs) else { return Ok(()) };
    let texts: Vec<String> = specs.iter().map(Spec::text).collect();
    let context = format!("{verb} {texts:?} from S = {:?}", case.applied);
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
fn check_resulting_state(case: &Case, verb: Verb, specs: &[Spec]) -> Result<(), TestCaseError> {
    let model = &case.model;
    let graph = model.graph();
    let state = case.state(&graph);
    let Ok(plan) = run(&graph, &state, verb, specs) else { return Ok(()) };
    let texts: Vec<String> = specs.iter().map(Spec::text).collect();
    let context = format!("{verb} {texts:?} from S = {:?}", case.applied);

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

    // The shape each verb promises, for plain targets.
    let plain = specs.iter().all(|s| matches!(s, Spec::Id(_) | Spec::Heads | Spec::Base | Spec::Label(_)));
    if !plain {
        if verb == Verb::Downgrade {
            prop_assert!(now.is_subset(&case.applied), "{}: downgrade applied something", context);
        }
        return Ok(());
    }
    let base = specs.contains(&Spec::Base);
    let named: Vec<String> = specs
        .iter()
        .flat_map(|s| match s {
            Spec::Heads => model.heads(),
            Spec::Base => Vec::new(),
            Spec::Label(l) => model.labelled(l).into_iter().collect(),
            Spec::Id(id) => vec![id.clone()],
            _ => Vec::new(),
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
            let expected: Set = case.applied.intersection(&wanted).cloned().collect();
            prop_assert_eq!(&now, &expected, "{}: downgrade base keeps only closure(other targets)", context);
        }
        Verb::Downgrade => {
            prop_assert!(now.is_subset(&case.applied), "{}: downgrade applied something", context);
            for t in &named {
                prop_assert!(now.contains(t), "{}: target {} was unapplied", context, t);
                // T's own line of work above it goes, unless another target needs it.
                for d in model.below(t) {
                    prop_assert!(
                        !now.contains(&d) || wanted.contains(&d),
                        "{}: {} is above target {} but is still applied",
                        context,
                        d,
                        t
                    );
                }
            }
            // What merely depends on a target, and is not above any, stays.
            let above: Set = named.iter().flat_map(|t| model.needs(&model.below(t))).collect();
            for x in case.applied.difference(&above) {
                prop_assert!(now.contains(x), "{}: {} was unapplied but nothing it needs went", context, x);
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

    /// For every verb and target set (IDs, `heads`, `base`, labels,
    /// branch-scoped targets, relative steps), the planner's steps are the
    /// model's exactly, or both refuse.
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
