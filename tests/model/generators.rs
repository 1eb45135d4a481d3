//! The generators: the operations a case is made of, the scopes and
//! tools they use, and whole cases.

use super::*;

/// What is pending on the thread before a fire.
#[derive(Clone, Copy, Debug)]
pub enum PendingIn {
    Nothing,
    Host(usize),
    Library,
}

#[derive(Clone, Debug)]
pub enum Op {
    Use(c_int, Option<usize>),
    Clear(c_int),
    Free(c_int),
    SetEvents(c_int, u32),
    GetEvents(c_int),
    Register(c_int, c_int, Option<usize>),
    GetCallback(c_int, c_int),
    GetTool(c_int, usize),
    Restart,
    // Per-tool restart: PyMonitoring_RestartToolEvents, default mode.
    RestartTool(c_int),
    Enter(usize),
    Fire {
        scope: usize,
        slot: usize,
        fire: usize,
        offset: i32,
        pending: PendingIn,
    },
    // ---- code-likes (docs/EXTENSIONS.md): local events, code scopes, armed sites,
    // ACTIVE_NEEDS_CALLBACK. Code-likes are CODES[i]; scope s always uses
    // CODES[s % 2] (a state array is entered with one code-like).
    SetLocal(c_int, usize, u32),
    GetLocal(c_int, usize),
    EnterCode(usize),
    Arm(c_int, usize, c_int, Vec<i32>),
    Disarm(c_int, usize),
    /// `PyMonitoring_SetOptions` (ACTIVE_NEEDS_CALLBACK and
    /// LASTING_DISABLE; other bits are refused).
    SetOptions(u32),
    GetOptions,
    // ---- lasting DISABLE (docs/EXTENSIONS.md)
    /// Zero a scope's states (`active` and `opaque`) and its version, as
    /// Cython does for every call.
    Zero(usize),
    /// Store a version from elsewhere (newer than any) in a scope's version
    /// word, keeping its states.
    Foreign(usize),
}

/// A model arming: the kind and the sorted, deduplicated sites.
pub type Arming = (c_int, Vec<i32>);

/// The code-likes of the codelikes ops (indices for `obj`).
pub const CODES: [usize; 2] = [1, 4];

/// The code-like scope `s` is entered and fired with.
pub fn code_of(scope: usize) -> usize {
    CODES[scope % 2]
}

pub const NAMES: [&str; 4] = [
    "",
    "dbg",
    "profiler",
    "a-rather-long-tool-name-for-truncation",
];

/// The scopes the test fires in: their slots' events (one has an invalid
/// id, so its refreshes fail).
pub const SCOPES: [&[u8]; 5] = [
    &[0, 2, 4, 16, 17, 5],
    &[7, 8, 9, 18, 10, 3, 1],
    &[11, 12, 13, 14, 15, 6],
    &[0, 19, 4],
    // lasting mode: slots of scope 0's events with its code-like, so
    // that a remembered site is met again from another state
    &[5, 0, 9, 2],
];

/// Mostly tools 0–2, so that operations meet on the same tools.
fn tool() -> impl Strategy<Value = c_int> {
    prop_oneof![12 => 0..3, 3 => 3..6, 1 => prop::sample::select(vec![-1, 6, 7, 255])]
}

fn event_set() -> impl Strategy<Value = u32> {
    prop_oneof![
        8 => prop::collection::vec(0u32..16, 0..10).prop_map(|v| v.iter().fold(0, |s, b| s | 1 << b)),
        3 => Just((1 << 16) - 1),
        2 => Just(1 << 4 | 1 << 16 | 1 << 17),
        1 => Just(1 << 18),
        1 => Just(1 << 16),
        1 => Just(1 << 19 | 1),
        1 => Just(0),
    ]
}

/// A fire function for a slot of event `event` (BRANCH slots get the
/// legacy function or BRANCH_RIGHT's), if there is one.
fn matching_fire(event: u8, pick: usize) -> Option<usize> {
    let fires = all_fires();
    let want = if event == 18 { 9 } else { i32::from(event) };
    let candidates: Vec<usize> = (0..fires.len())
        .filter(|&i| fires[i].event == want)
        .collect();
    (!candidates.is_empty()).then(|| candidates[pick % candidates.len()])
}

/// The operations of a case. `lasting`: a case that starts in the lasting
/// mode (see the test): fires use few offsets so that sites repeat, more
/// callbacks answer DISABLE, and scopes are zeroed (Cython) more often.
fn op(lasting: bool) -> impl Strategy<Value = Op> {
    let pending = prop_oneof![
        3 => Just(PendingIn::Nothing),
        3 => (10usize..12).prop_map(PendingIn::Host),
        1 => Just(PendingIn::Library),
    ];
    let offset = if lasting {
        prop_oneof![8 => prop::sample::select(LASTING_OFFSETS.to_vec()), 1 => Just(-1)].boxed()
    } else {
        prop_oneof![8 => 0i32..100, 1 => Just(-1)].boxed()
    };
    let handler = if lasting {
        prop_oneof![1 => Just(DISABLE_HANDLER), 3 => 0..HANDLERS].boxed()
    } else {
        (0..HANDLERS).boxed()
    };
    let options = prop_oneof![
        4 => 0u32..4,
        1 => prop::sample::select(vec![8u32, 0x80, 0x8000_0001]),
    ];
    let lasting_weight = if lasting { 2 } else { 1 };
    prop_oneof![
        3 => (tool(), prop::option::weighted(0.95, 0..NAMES.len())).prop_map(|(t, n)| Op::Use(t, n)),
        1 => tool().prop_map(Op::Clear),
        1 => tool().prop_map(Op::Free),
        4 => (tool(), event_set()).prop_map(|(t, s)| Op::SetEvents(t, s)),
        1 => tool().prop_map(Op::GetEvents),
        8 => (tool(), prop_oneof![10 => 0..19, 1 => Just(19), 1 => Just(-1)], prop::option::weighted(0.85, handler))
            .prop_map(|(t, e, h)| Op::Register(t, e, h)),
        1 => (tool(), -1..20).prop_map(|(t, e)| Op::GetCallback(t, e)),
        1 => (tool(), 0usize..12).prop_map(|(t, l)| Op::GetTool(t, l)),
        1 => Just(Op::Restart),
        2 * lasting_weight => tool().prop_map(Op::RestartTool),
        6 => (0..SCOPES.len()).prop_map(Op::Enter),
        // code-likes (docs/EXTENSIONS.md)
        3 => (tool(), 0..CODES.len(), prop_oneof![6 => event_set(), 2 => (0u32..11).prop_map(|b| 1 << b)])
            .prop_map(|(t, c, set)| Op::SetLocal(t, c, set)),
        1 => (tool(), 0..CODES.len()).prop_map(|(t, c)| Op::GetLocal(t, c)),
        5 => (0..SCOPES.len()).prop_map(Op::EnterCode),
        2 => (tool(), 0..CODES.len(), prop_oneof![6 => 0..2, 1 => Just(7), 1 => Just(-1)],
              prop::collection::vec(prop_oneof![10 => 0i32..100, 4 => Just(42), 1 => Just(-3)], 0..12))
            .prop_map(|(t, c, k, sites)| Op::Arm(t, c, k, sites)),
        1 => (tool(), 0..CODES.len()).prop_map(|(t, c)| Op::Disarm(t, c)),
        lasting_weight => options.prop_map(Op::SetOptions),
        1 => Just(Op::GetOptions),
        // lasting mode
        lasting_weight => (0..SCOPES.len()).prop_map(Op::Zero),
        1 => (0..SCOPES.len()).prop_map(Op::Foreign),
        16 => (0..SCOPES.len(), 0usize..8, prop::option::weighted(0.85, 0usize..35), 0usize..35, offset, pending)
            .prop_map(|(scope, slot, matching, any, offset, pending)| {
                let slot = slot % SCOPES[scope].len();
                let fire = matching.and_then(|pick| matching_fire(SCOPES[scope][slot], pick)).unwrap_or(any);
                Op::Fire { scope, slot, fire, offset, pending }
            }),
    ]
}

/// One case: a set-up that claims tools, sets events and registers
/// callbacks (`lasting`: in the lasting mode first, with more DISABLEs),
/// enters three scopes, then random operations.
pub fn case(lasting: bool) -> impl Strategy<Value = Vec<Op>> {
    let handler = if lasting {
        prop_oneof![1 => Just(DISABLE_HANDLER), 2 => 0..HANDLERS].boxed()
    } else {
        (0..HANDLERS).boxed()
    };
    let options = if lasting {
        prop_oneof![Just(vec![Op::SetOptions(1)]), Just(vec![Op::SetOptions(3)])].boxed()
    } else {
        Just(vec![]).boxed()
    };
    let setup = prop::collection::vec(
        (
            0..3 as c_int,
            prop_oneof![2 => Just(0xFFFF | 1 << 16 | 1 << 17), 1 => event_set()],
            prop::collection::vec(prop::option::weighted(0.8, handler), 19),
        ),
        1..4,
    )
    .prop_map(|tools| {
        let mut ops = vec![];
        for (t, set, callbacks) in tools {
            ops.push(Op::Use(t, Some(1)));
            ops.push(Op::SetEvents(t, set));
            for (e, h) in callbacks.into_iter().enumerate() {
                if h.is_some() {
                    ops.push(Op::Register(t, e as c_int, h));
                }
            }
        }
        ops
    });
    let step = if lasting {
        prop_oneof![4 => op(true).prop_map(|o| vec![o]), 1 => cython_call()].boxed()
    } else {
        op(false).prop_map(|o| vec![o]).boxed()
    };
    (options, setup, prop::collection::vec(step, 1..40)).prop_map(|(mut ops, setup, rest)| {
        ops.extend(setup);
        ops.push(Op::Enter(0));
        ops.push(Op::Enter(1));
        ops.push(Op::Enter(2));
        ops.extend(rest.into_iter().flatten());
        ops
    })
}

/// Lasting mode: a call of a Cython function: fresh zeroed states, the
/// scope entered, a few fires at the lasting cases' offsets.
fn cython_call() -> impl Strategy<Value = Vec<Op>> {
    (
        0..SCOPES.len(),
        any::<bool>(),
        prop::collection::vec(
            (
                prop_oneof![3 => 0usize..3, 1 => 0usize..8],
                0usize..35,
                prop_oneof![3 => Just(LASTING_OFFSETS[0]), 1 => prop::sample::select(LASTING_OFFSETS.to_vec())],
            ),
            1..6,
        ),
    )
        .prop_map(|(scope, code, fires)| {
            let mut ops = vec![
                Op::Zero(scope),
                if code {
                    Op::EnterCode(scope)
                } else {
                    Op::Enter(scope)
                },
            ];
            for (slot, pick, offset) in fires {
                let slot = slot % SCOPES[scope].len();
                let fire = matching_fire(SCOPES[scope][slot], pick).unwrap_or(pick);
                ops.push(Op::Fire {
                    scope,
                    slot,
                    fire,
                    offset,
                    pending: PendingIn::Nothing,
                });
            }
            ops
        })
}
