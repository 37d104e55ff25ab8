//! Linear cost, by counting: doubling any part of a request must not more than about double
//! the work of answering it, on every path (issue 14). A request body can be 3 MiB, and a
//! policy that is quadratic in any part of it lets a few Pods hold every policy-server worker
//! past Kubewarden's evaluation timeout.
//!
//! The work is counted, not timed (timings are in the `worst` benchmark group,
//! `BENCHMARKS.md`): a counting global allocator records the allocations and the bytes
//! allocated by the measuring thread, so test threads running alongside do not count.
//! For each kind of `recorded::sized` the whole `validate` call of a fresh `Validator` (the
//! settings prepared as on their first request, the Pod mutated, the answer written) runs
//! at `n`, `2n`, `4n` and `8n`; the growth of the work from one doubling to the next must
//! stay within [`MAX_GROWTH`]. Comparing growths (`W(4n) - W(2n)` against `W(2n) - W(n)`)
//! cancels the fixed cost of a request, which would otherwise hide a quadratic term at the
//! sizes a test can afford: a linear path gives 2, a quadratic one 4.
//!
//! Allocation is what copying costs (a field copied out of the rest of its line, a list
//! built again per item); scans that allocate nothing are kept linear by construction and
//! show in the benchmark.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use aws_workload_identity::admission::{Lookup, ObjectRef};
use aws_workload_identity::kubewarden::Validator;
use aws_workload_identity::trust::{RoleArn, TrustPolicy};
use recorded::hostile::{ISSUER, ROLE};
use recorded::sized::{self, Kind};

/// The most the work may grow from one doubling of the input to the next.
const MAX_GROWTH: f64 = 2.5;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting the allocations of each thread.
struct Counting;

#[expect(
    unsafe_code,
    reason = "a global allocator implements the unsafe GlobalAlloc trait"
)]
// SAFETY: every call is forwarded unchanged to the system allocator; the counters are
// const-initialised thread-locals without destructors, so touching them never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn count(bytes: usize) {
    // `try_with`: a thread being torn down has no counters any more.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
    let _ = BYTES.try_with(|c| c.set(c.get() + bytes as u64));
}

/// What one measured call cost.
#[derive(Debug, Clone, Copy)]
struct Work {
    allocations: u64,
    bytes: u64,
}

/// The allocations `f` makes on this thread.
fn work(f: impl FnOnce()) -> Work {
    let before = (ALLOCATIONS.with(Cell::get), BYTES.with(Cell::get));
    f();
    Work {
        allocations: ALLOCATIONS.with(Cell::get) - before.0,
        bytes: BYTES.with(Cell::get) - before.1,
    }
}

/// Measures `run` at `n`, `2n`, `4n`, `8n` and checks that each doubling grows the work by
/// at most [`MAX_GROWTH`] times the growth of the doubling before; the message shows all.
fn assert_linear(what: &str, n: usize, mut run: impl FnMut(usize) -> Work) -> Vec<String> {
    let sizes = [n, 2 * n, 4 * n, 8 * n];
    let works: Vec<Work> = sizes.iter().map(|&size| run(size)).collect();
    let mut wrong = Vec::new();
    // Shown with `--nocapture`.
    println!("{what}: sizes {sizes:?}: {works:?}");
    for (name, of) in [
        (
            "allocations",
            (|w: &Work| w.allocations) as fn(&Work) -> u64,
        ),
        ("bytes", |w: &Work| w.bytes),
    ] {
        let values: Vec<f64> = works.iter().map(|w| of(w) as f64).collect();
        for i in 2..values.len() {
            let before = values[i - 1] - values[i - 2];
            let now = values[i] - values[i - 1];
            let growth = now / before.max(1.0);
            if growth > MAX_GROWTH {
                wrong.push(format!(
                    "{what}: {name} grew {growth:.2} times from size {} to {} (sizes {sizes:?}: {values:?})",
                    sizes[i - 1],
                    sizes[i]
                ));
            }
        }
    }
    wrong
}

/// One `validate` call as the guest answers it, on a fresh `Validator`: the settings are
/// prepared (validated, trust policies parsed), the Pod reviewed, the answer written.
fn validate_work(kind: Kind, n: usize) -> Work {
    let sized = sized::build(kind, n);
    let payload = sized.payload();
    let cluster = sized.cluster;
    work(|| {
        let lookup = |wanted: &ObjectRef| match cluster.iter().find(|o| wanted.matches(o)) {
            Some(found) => Lookup::Found(found.clone()),
            None => Lookup::NotFound,
        };
        let response = Validator::new().validate(&payload, lookup);
        let answer = serde_json::to_vec(&response).expect("the answer serialises");
        std::hint::black_box(answer);
    })
}

#[test]
fn every_request_kind_costs_linear_work() {
    let mut wrong = Vec::new();
    for kind in Kind::ALL {
        wrong.extend(assert_linear(kind.name(), 2_000, |n| {
            validate_work(kind, n)
        }));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_kind_answers_what_it_is_built_for() {
    // The measured calls must take the path they are meant to measure: a kind that was
    // refused early would prove nothing.
    for kind in Kind::ALL {
        let sized = sized::build(kind, 100);
        let cluster = sized.cluster.clone();
        let response = Validator::new().validate(&sized.payload(), |wanted| {
            match cluster.iter().find(|o| wanted.matches(o)) {
                Some(found) => Lookup::Found(found.clone()),
                None => Lookup::NotFound,
            }
        });
        let answer = serde_json::to_value(&response).expect("the answer serialises");
        assert_eq!(answer["accepted"], true, "{}: {answer}", kind.name());
        assert!(
            answer["mutated_object"].is_object(),
            "{}: the Pod is mutated: {answer}",
            kind.name()
        );
    }
}

/// The lint of a trust policy (set-level findings included, whose automata are bounded by
/// `language::MAX_STATES`) grows with the statements, and with the values of a condition,
/// like everything else: the union of many languages is built as a balanced tree.
#[test]
fn trust_lint_costs_linear_work() {
    let role = RoleArn::parse(ROLE).expect("role ARN");
    let mut wrong = Vec::new();
    for (what, document) in [
        (
            "trust lint, statements",
            sized::trust_document as fn(usize) -> _,
        ),
        ("trust lint, values of one condition", sized::trust_values),
    ] {
        wrong.extend(assert_linear(what, 16, |n| {
            let text = document(n).to_string();
            work(|| {
                let (policy, _) = TrustPolicy::parse(&text).expect("a trust policy");
                std::hint::black_box(policy.lint(Some(&role), ISSUER));
            })
        }));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A trust document past IAM's size limit is still read whole (every finding is
/// reported), in linear work.
#[test]
fn trust_document_parse_costs_linear_work() {
    let wrong = assert_linear("trust document parse", 1_000, |n| {
        let text = sized::trust_document(n).to_string();
        work(|| {
            std::hint::black_box(TrustPolicy::parse(&text).expect("a trust policy"));
        })
    });
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
