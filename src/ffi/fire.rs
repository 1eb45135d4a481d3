//! The `PyMonitoring_Fire*Event` functions: the generic internals here,
//! the per-event entry points in [`surface`], generated from the table of
//! events (`crate::event::table`, docs/ARCHITECTURE.md, "The fire surface").
//!
//! The underscore functions are what objects compiled against CPython's
//! header link to. The plain ones are real exported functions for FFI
//! callers; with `PYMONITORING_INLINE` defined, the header replaces them with
//! `static inline` wrappers, as CPython's header does.

use std::cell::Cell;
use std::ffi::c_int;

use super::guard::{guard, require};
use super::object;
use super::types::{PyMonitoringState, PyObject};
use crate::dispatch::{self, Boundary, FireRecord, Firing};
use crate::event::Event;
use crate::ext::lasting;
use crate::object::ObjectRef;
use crate::scope::SlotState;

mod surface;
pub use surface::*;

/// Fire through the core after checking the pointers.
///
/// # Safety
/// `state`, when not NULL, points to a valid `PyMonitoringState`.
#[inline(always)]
unsafe fn fire(name: &'static str, state: *mut PyMonitoringState, firing: Option<Firing>) -> c_int {
    // The state's test first: an entry point that tested it already folds
    // it, and the other ends in a conditional jump to the walk.
    if state.is_null() {
        return fire_invalid(name, state);
    }
    let Some(firing) = firing else {
        return fire_invalid(name, state);
    };
    // The event is a constant in every entry point: the match folds to one
    // tail call.
    macro_rules! by_event {
        ($($id:literal)*) => {
            match firing.event as u8 {
                // SAFETY: forwarded; `state` is non-NULL.
                $($id => unsafe { fire_framed::<$id>(state, firing) },)*
                _ => unreachable!(),
            }
        };
    }
    const { assert!(Event::COUNT == 19) };
    by_event!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18)
}

/// The shape of an event's own arguments, from its table row: which frame
/// of a fire takes them ([`fire_framed`], [`by_shape!`]).
#[derive(Clone, Copy)]
enum ArgShape {
    /// PY_START, PY_RESUME and the exception events: none.
    None,
    /// LINE's line number.
    Line,
    /// One object.
    One,
    /// CALL's two objects.
    Two,
}

/// The [`ArgShape`] of event `event`.
const fn arg_shape(event: u8) -> ArgShape {
    if event == Event::Line as u8 {
        return ArgShape::Line;
    }
    match crate::event::table::EVENTS[event as usize].args.len() {
        0 => ArgShape::None,
        1 => ArgShape::One,
        _ => ArgShape::Two,
    }
}

/// The jump from an entry point to the frame of `EVENT`: the frame that
/// takes exactly the arguments the event's table row names, so no caller
/// passes an absent one. Passed, absent arguments are removed by LLVM only
/// when the frame is private to the entries' codegen unit; elsewhere they
/// would cost every fire 3 instructions, by where rustc puts the frame.
///
/// # Safety
/// As [`fire_frame`].
#[inline(always)]
unsafe fn fire_framed<const EVENT: u8>(state: *mut PyMonitoringState, firing: Firing) -> c_int {
    let Firing {
        codelike,
        offset,
        lineno,
        arg0,
        arg1,
        ..
    } = firing;
    // SAFETY (each arm): forwarded.
    match const { arg_shape(EVENT) } {
        ArgShape::Line => unsafe { fire_frame_line::<EVENT>(state, codelike, offset, lineno) },
        ArgShape::None => unsafe { fire_frame_0::<EVENT>(state, codelike, offset) },
        ArgShape::One => unsafe { fire_frame_1::<EVENT>(state, codelike, offset, arg0) },
        ArgShape::Two => unsafe { fire_frame_2::<EVENT>(state, codelike, offset, arg0, arg1) },
    }
}

/// The frames [`fire_framed`] jumps to, one for each shape of an event's
/// arguments: each passes on its own arguments and the absent ones as
/// constants.
macro_rules! fire_frames {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) => ($lineno:expr, $arg0:expr, $arg1:expr);)*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        /// As [`fire_frame`].
        #[inline(never)]
        #[allow(improper_ctypes_definitions)]
        unsafe extern "C" fn $name<const EVENT: u8>(
            state: *mut PyMonitoringState,
            codelike: ObjectRef,
            offset: i32,
            $($arg: $ty),*
        ) -> c_int {
            // SAFETY: forwarded.
            unsafe { fire_frame::<EVENT>(state, codelike, offset, $lineno, $arg0, $arg1) }
        }
    )*};
}

fire_frames! {
    /// [`fire_frame`] for LINE.
    fire_frame_line(lineno: i32) => (lineno, None, None);
    /// [`fire_frame`] for an event without arguments of its own.
    fire_frame_0() => (-1, None, None);
    /// [`fire_frame`] for an event with one object argument.
    fire_frame_1(arg0: Option<ObjectRef>) => (-1, arg0, None);
    /// [`fire_frame`] for CALL's two object arguments.
    fire_frame_2(arg0: Option<ObjectRef>, arg1: Option<ObjectRef>) => (-1, arg0, arg1);
}

/// The fire of `EVENT` with its checked arguments: the record and the walk
/// in one frame, apart from the entry point, so that the entry's tests (the
/// lasting mark, NULL) need no frame and end in tail calls. Inlined into
/// the frame of the event's arguments ([`fire_framed`]).
///
/// The frames pass the arguments the event's table row does not name as
/// constants (absent), so the record's fill folds as it does in the entry.
/// The frames are `extern "C"`: they cannot unwind (what can panic is
/// guarded, [`Catch`]), so the entry jumps to them.
///
/// # Safety
/// `state` is non-NULL and valid (as in [`fire`]).
#[inline(always)]
unsafe fn fire_frame<const EVENT: u8>(
    state: *mut PyMonitoringState,
    codelike: ObjectRef,
    offset: i32,
    lineno: i32,
    arg0: Option<ObjectRef>,
    arg1: Option<ObjectRef>,
) -> c_int {
    let firing = Firing {
        lineno,
        arg0,
        arg1,
        ..Firing::new(Event::ALL[EVENT as usize], codelike, offset)
    };
    // SAFETY: non-NULL, valid by the caller's contract; `SlotState` has
    // `PyMonitoringState`'s layout and is made of `Cell`s because callbacks
    // may re-enter a scope on the same array.
    let slot = unsafe { &*(state as *const SlotState) };
    // Built once per fire, as C callbacks receive it (absent arguments hold
    // PyMonitoring_MISSING). A slot marked by the lasting-DISABLE mode needs
    // nothing else here: local events took `fire_marked` at their entry, and
    // the mode leaves the other events CPython's rules.
    let mut record = FireRecord::new(firing, super::object(super::missing()));
    fire_checked(super::table::rows::<EVENT>(), &slot.active, &mut record)
}

/// The dispatch, walk and all, inlined into every fire function: one
/// frame, which holds the record. No panic guard around it: the walk and
/// a C callback's call cannot panic (tests/no_panic.rs), and what can — a
/// Rust closure's call, the cold paths — is guarded where it is called
/// ([`Catch`]), so no panic crosses (docs/BAD_INPUT.md).
#[inline(always)]
fn fire_checked(rows: super::table::Rows, active: &Cell<u8>, record: &mut FireRecord) -> c_int {
    dispatch::fire_status::<Catch>(rows, active, record) as c_int
}

/// The address of the library's function `$f`, a `$ty`, computed where it
/// is used: on x86-64 `lea` from the instruction pointer, in an `asm!`
/// without `pure`, so the compiler neither hoists it nor keeps it in a
/// register (a call through the GOT is a load it hoists out of the walk's
/// loop into a callee-saved register, pushed and popped on every fire).
/// `.hidden` as in `load_by_address!`: the function is bound inside the
/// library. Elsewhere the function itself.
macro_rules! address_of {
    ($f:path, $ty:ty) => {{
        // The function is a `$ty` (checked here; the `asm!` sees a name).
        let function: $ty = $f;
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        let function = {
            let _ = function;
            let address: usize;
            // SAFETY: `lea` of the address of `$f`, a function of this
            // library, which is a `$ty`: the value is that function pointer.
            unsafe {
                std::arch::asm!(
                    ".hidden {f}",
                    "lea {address}, [rip + {f}]",
                    address = out(reg) address,
                    f = sym $f,
                    options(nostack, nomem, preserves_flags),
                );
                std::mem::transmute::<usize, $ty>(address)
            }
        };
        function
    }};
}

/// The C entry points' [`Boundary`]: a panic where one can start becomes a
/// RuntimeError naming the event's underscore fire function, and the fire
/// fails (-1).
pub(crate) struct Catch;

impl Boundary for Catch {
    #[inline(always)]
    fn guarded<R>(event: Event, f: impl FnOnce() -> R) -> Option<R> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            #[cfg(test)]
            super::guard::fault_point(fire_name(event));
            f()
        })) {
            Ok(value) => Some(value),
            Err(payload) => {
                super::guard::report_panic(fire_name(event), payload);
                None
            }
        }
    }

    #[inline(always)]
    fn after_callback_fn<const LOCAL: bool, P: Fn() -> bool>() -> dispatch::AfterCallback<P> {
        address_of!(
            dispatch::after_callback::<Catch, LOCAL, P>,
            dispatch::AfterCallback<P>
        )
    }

    #[inline(always)]
    fn filter_armed_fn() -> dispatch::FilterArmed {
        address_of!(crate::ext::Snapshot::filter_armed, dispatch::FilterArmed)
    }

    #[inline(always)]
    fn call_handler_of_fn() -> dispatch::CallHandlerOf {
        address_of!(dispatch::call_handler_of::<Catch>, dispatch::CallHandlerOf)
    }

    #[inline(always)]
    fn replaced_fn() -> fn() {
        address_of!(dispatch::replaced, fn())
    }
}

/// Whether `state` is a slot refreshed in the lasting-DISABLE mode (marked
/// in `opaque`, the byte next to `active`; `crate::ext::lasting`). Tested first
/// by the local events' entry points, so that a fire at a remembered
/// DISABLEd site is settled before any record is built.
///
/// # Safety
/// `state`, when not NULL, points to a valid `PyMonitoringState`.
#[inline(always)]
unsafe fn marked(state: *const PyMonitoringState) -> bool {
    // SAFETY: dereferenced only when non-NULL.
    !state.is_null() && unsafe { (*state).opaque } & lasting::SLOT_MARK != 0
}

/// The firing of a local event from an entry point's raw arguments: `a`
/// and `b` are the event's extra arguments (LINE's `lineno`; the object
/// arguments otherwise).
#[inline(always)]
fn local_firing(event: Event, code: ObjectRef, offset: i32, a: usize, b: usize) -> Firing {
    let firing = Firing::new(event, code, offset);
    match event {
        Event::Line => Firing {
            lineno: a as c_int,
            ..firing
        },
        Event::Call => Firing {
            arg0: object(a as *mut PyObject),
            arg1: object(b as *mut PyObject),
            ..firing
        },
        Event::PyStart | Event::PyResume => firing,
        _ => Firing {
            arg0: object(a as *mut PyObject),
            ..firing
        },
    }
}

/// A local event fired on a marked slot (see [`marked`]), taken as a tail
/// call with the raw arguments (see [`local_firing`]). A site remembered for
/// every active tool returns 0 at once, writing nothing; nothing remembered
/// for it fires as the default mode does (in the lasting mode the dispatch
/// remembers a DISABLE); anything else takes [`fire_marked_slow`].
///
/// Inlined into the entry points (needing no frame, it adds none to their
/// other paths): one jump less. `extern "C"` (cannot unwind: everything
/// that may panic below is guarded), as the functions it jumps to.
///
/// # Safety
/// `state` is non-NULL and valid; the objects are never dereferenced.
#[inline(always)]
unsafe extern "C" fn fire_marked<const EVENT: u8>(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    a: usize,
    b: usize,
) -> c_int {
    // A NULL code-like is never skipped: the paths below reject it.
    // SAFETY: forwarded.
    let skip = unsafe { site_skip::<EVENT>(state, codelike, offset, a) };
    match skip {
        lasting::Skip::Done => 0,
        // SAFETY: forwarded.
        lasting::Skip::Fire => unsafe {
            by_shape!(fire_default: EVENT, state, codelike, offset, a, b)
        },
        // SAFETY: forwarded.
        lasting::Skip::Scan => unsafe {
            by_shape!(fire_marked_slow: EVENT, state, codelike, offset, a, b)
        },
    }
}

/// The check of [`fire_marked`]: [`lasting::skipped_fast_at`] for the
/// event's site (one copy per event, so the event is a constant in the
/// site key).
///
/// # Safety
/// As [`fire_marked`].
#[cfg(not(all(target_arch = "x86_64", not(loom))))]
#[inline(always)]
unsafe fn site_skip<const EVENT: u8>(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    a: usize,
) -> lasting::Skip {
    let event = Event::ALL[EVENT as usize];
    // SAFETY: non-NULL and valid by the caller's contract (as in `fire`).
    let slot = unsafe { &*(state as *const SlotState) };
    let line = crate::ext::sites::line_word(event, a as c_int);
    lasting::skipped_fast_at(slot, event, codelike as usize, offset, line)
}

/// The check of [`fire_marked`] on x86-64: what
/// [`lasting::skipped_fast_at`] answers, with the site table read as the
/// core reads it (`crate::ext::sites`, "Site table" in
/// docs/CONCURRENCY.md) by the table's symbol, in one `asm!` whose compares
/// take their words from memory (`cmp` with a memory operand: an aligned
/// 8-byte read, a load of the protocol's order on x86-64) and whose
/// branches lead to the answers.
///
/// `done` is read, then the home's key compared with the site's key and
/// `active` (the byte at `state`), the code-like, and `begun` with `done`:
/// [`Skip::Done`] only when all match; a key that differs is tested for 0
/// (an empty home: [`Skip::Fire`], a racing insert reads as a miss). LINE
/// tests the key for 0 first instead, then reads `done` and compares: its
/// active fire at an empty home then pays neither `done` nor the compare
/// (the key first costs it 4, more than its goal allows), its DISABLEd
/// site pays the test (2). LINE's line and offset are put in
/// the key without their range test: the test (`line + 1` and the offset
/// below 2^25, as [`crate::ext::sites`] remembers them) is made on a
/// match, before [`Skip::Done`], so a site outside the key that hashes or
/// packs onto a remembered one is [`Skip::Scan`] (the slow path's exact
/// answer), and a site whose home is empty fires.
///
/// # Safety
/// As [`fire_marked`].
///
/// [`Skip::Fire`]: lasting::Skip::Fire
/// [`Skip::Done`]: lasting::Skip::Done
/// [`Skip::Scan`]: lasting::Skip::Scan
#[cfg(all(target_arch = "x86_64", not(loom)))]
#[inline(always)]
unsafe fn site_skip<const EVENT: u8>(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    a: usize,
) -> lasting::Skip {
    use crate::ext::sites;
    use lasting::Skip;
    const { assert!(Event::ALL[EVENT as usize].is_local()) };
    // The compare of the site's key with `active` or-ed into its low byte.
    const { assert!(sites::EVENT_SHIFT >= 8) };
    const { assert!(std::mem::offset_of!(PyMonitoringState, active) == 0) };
    let code = codelike as usize;
    // The check once the site's key is in `s` and its home's index in `x`
    // (the hash of the code-like plus `s`; the entries' words are arrays
    // of 8-byte words, so the index addresses them scaled): `$body`, whose
    // labels and fall-through (`$end`) give the answers.
    macro_rules! check {
        ($($site:literal,)* ; $($body:literal,)* ; $end:expr ; $label:ident => $answer:expr ; $($operand:tt)*) => {
            'check: {
                // SAFETY: reads only: the state's `active` byte (valid by
                // the caller's contract) and aligned words of the site
                // table, a static that lives for the whole process, whose
                // words are atomics (a `mov` or `cmp` of an aligned word is
                // an atomic load with the order the protocol needs on
                // x86-64); the multiplier is a static. Every register it
                // writes is an output; the labels only break.
                unsafe {
                    std::arch::asm!(
                        ".hidden {table}",
                        ".hidden {multiplier}",
                        $($site,)*
                        "lea {x}, [{s} + {code}]",
                        "imul {x}, qword ptr [rip + {multiplier}]",
                        "shr {x}, {hash_shift}",
                        "lea {t}, [rip + {table} + {shared}]",
                        $($body,)*
                        table = sym sites::TABLE,
                        multiplier = sym SITE_HASH,
                        shared = const sites::SHARED_AT,
                        done = const sites::DONE_AT,
                        begun = const sites::BEGUN_AT,
                        keys = const sites::KEYS_AT,
                        objects = const sites::OBJECTS_AT,
                        hash_shift = const sites::HASH_SHIFT,
                        state = in(reg) state,
                        code = in(reg) code,
                        offset = in(reg) offset,
                        s = out(reg) _,
                        x = out(reg) _,
                        t = out(reg) _,
                        d = out(reg) _,
                        scan = label { break 'check Skip::Scan },
                        $label = label { break 'check $answer },
                        $($operand)*
                        options(nostack, readonly),
                    );
                }
                $end
            }
        };
    }
    // The other events: the key compared first, the empty test only on a
    // mismatch (the fall-through: an empty home fires).
    macro_rules! key_first {
        ($($site:literal,)* ; $($operand:tt)*) => {
            check!(
                $($site,)*
                ;
                "mov {d}, qword ptr [{t} + {done}]",
                "or {s:l}, byte ptr [{state}]",
                "cmp qword ptr [{t} + {x} * 8 + {keys}], {s}",
                "jne 2f",
                "cmp qword ptr [{t} + {x} * 8 + {objects}], {code}",
                "jne {scan}",
                "cmp qword ptr [{t} + {begun}], {d}",
                "je {skip}",
                "jmp {scan}",
                "2:",
                "cmp qword ptr [{t} + {x} * 8 + {keys}], 0",
                "jne {scan}",
                ;
                Skip::Fire
                ;
                skip => Skip::Done
                ;
                $($operand)*
            )
        };
    }
    if EVENT == Event::Line as u8 {
        // `line + 1` and the offset as their 32 bits, in their fields;
        // tested on a match. The empty test first: LINE's active fire pays
        // nothing for a mismatch.
        check!(
            "lea {s:e}, [{line:r} + 1]",
            "shl {s}, {line_shift}",
            "mov {x:e}, {offset:e}",
            "shl {x}, {offset_shift}",
            "lea {s}, [{s} + {x} + {event}]",
            ;
            "cmp qword ptr [{t} + {x} * 8 + {keys}], 0",
            "je {fire}",
            "mov {d}, qword ptr [{t} + {done}]",
            "or {s:l}, byte ptr [{state}]",
            "cmp qword ptr [{t} + {x} * 8 + {keys}], {s}",
            "jne {scan}",
            "cmp qword ptr [{t} + {x} * 8 + {objects}], {code}",
            "jne {scan}",
            "lea {s:e}, [{line:r} + 1]",
            "or {s:e}, {offset:e}",
            "cmp {s:e}, {limit}",
            "jae {scan}",
            "cmp qword ptr [{t} + {begun}], {d}",
            "jne {scan}",
            ;
            Skip::Done
            ;
            fire => Skip::Fire
            ;
            line = in(reg) a as u32,
            line_shift = const sites::LINE_SHIFT,
            offset_shift = const sites::OFFSET_SHIFT,
            event = const (EVENT as u64) << sites::EVENT_SHIFT,
            limit = const sites::LINE_LIMIT,
        )
    } else if EVENT == 0 {
        // An empty entry's words are 0: with no tool bit, PY_START's key at
        // offset 0 would be 0 and match one for a NULL code-like. An
        // inactive slot fires (calling no tool); the entry points that
        // tested `active` already fold this.
        // SAFETY: valid by the caller's contract.
        if unsafe { (*state).active } == 0 {
            return Skip::Fire;
        }
        // The offset's 32 bits (every offset fits).
        key_first!(
            "mov {s:e}, {offset:e}",
            "shl {s}, {offset_shift}",
            ;
            offset_shift = const sites::OFFSET_SHIFT,
        )
    } else {
        key_first!(
            "mov {s:e}, {offset:e}",
            "shl {s}, {offset_shift}",
            "or {s}, {event}",
            ;
            offset_shift = const sites::OFFSET_SHIFT,
            event = const (EVENT as u64) << sites::EVENT_SHIFT,
        )
    }
}

/// The site hash's multiplier, which the check of [`site_skip`] multiplies
/// by from memory (one `imul` where a register would take a `movabs`).
#[cfg(all(target_arch = "x86_64", not(loom)))]
static SITE_HASH: u64 = crate::ext::sites::HASH_MULTIPLIER;

/// The frames of a path of [`fire_marked`], one for each shape of a local
/// event's own arguments: none (PY_START, PY_RESUME), LINE's `lineno` (the
/// `c_int` it came as: its 32 bits are all they read, so no sign extension
/// is made before the jump), one object, CALL's two. [`by_shape!`] calls
/// the one of the event, so no caller passes an argument its event does
/// not have (see [`fire_framed`]). Each is apart and `extern "C"` (it
/// cannot unwind: the fire is guarded), so that the check before it needs
/// no frame and reaches it with a tail jump.
macro_rules! shaped_frames {
    ($(#[$attr:meta])* $family:ident => $body:ident) => {
        mod $family {
            use std::ffi::c_int;

            use super::{$body, PyMonitoringState, PyObject};

            shaped_frames!(@frames [$(#[$attr])*] $body;
                none() => (0, 0);
                line(lineno: c_int) => (lineno as usize, 0);
                one(a: usize) => (a, 0);
                two(a: usize, b: usize) => (a, b);
            );
        }
    };
    (@frames $attrs:tt $body:ident; $($name:ident $args:tt => $passed:tt;)*) => {$(
        shaped_frames!(@frame $attrs $body $name $args $passed);
    )*};
    (@frame [$(#[$attr:meta])*] $body:ident $name:ident ($($arg:ident: $ty:ty),*) ($a:expr, $b:expr)) => {
        $(#[$attr])*
        pub(super) unsafe extern "C" fn $name<const EVENT: u8>(
            state: *mut PyMonitoringState,
            codelike: *mut PyObject,
            offset: i32,
            $($arg: $ty),*
        ) -> c_int {
            // SAFETY: forwarded.
            unsafe { $body::<EVENT>(state, codelike, offset, $a, $b) }
        }
    };
}

/// The frame of `$family` ([`shaped_frames!`]) for `$event`'s
/// [`ArgShape`], with the raw arguments of [`fire_marked`] (a constant
/// choice: one tail call).
macro_rules! by_shape {
    ($family:ident: $event:ident, $state:expr, $code:expr, $offset:expr, $a:expr, $b:expr) => {
        match const { arg_shape($event) } {
            ArgShape::Line => $family::line::<$event>($state, $code, $offset, $a as c_int),
            ArgShape::None => $family::none::<$event>($state, $code, $offset),
            ArgShape::One => $family::one::<$event>($state, $code, $offset, $a),
            ArgShape::Two => $family::two::<$event>($state, $code, $offset, $a, $b),
        }
    };
}
use by_shape;

shaped_frames!(
    /// [`fire_marked`](super::fire_marked) when nothing is remembered for
    /// the site: the default path (in the lasting mode the dispatch
    /// remembers a DISABLE).
    ///
    /// # Safety
    /// As [`fire_marked`](super::fire_marked).
    #[inline(never)]
    fire_default => fire_default_body
);

/// What the frames of [`fire_default`] do.
///
/// # Safety
/// As [`fire_marked`].
#[inline(always)]
unsafe fn fire_default_body<const EVENT: u8>(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    a: usize,
    b: usize,
) -> c_int {
    // SAFETY: non-NULL by the caller's contract. Said here, `fire`'s test
    // of the state folds: the compiler would know it only when every caller
    // shares this code's codegen unit.
    unsafe { std::hint::assert_unchecked(!state.is_null()) };
    let event = Event::ALL[EVENT as usize];
    let firing = object(codelike).map(|code| local_firing(event, code, offset, a, b));
    // SAFETY: forwarded.
    unsafe { fire(fire_name(event), state, firing) }
}

shaped_frames!(
    /// The rest of [`fire_marked`](super::fire_marked) when the site's
    /// home entry does not settle it: the remembered tools of the site
    /// found, then the record, and the other tools fired.
    ///
    /// # Safety
    /// As [`fire_marked`](super::fire_marked).
    #[cold]
    #[inline(never)]
    fire_marked_slow => fire_marked_slow_body
);

/// What the frames of [`fire_marked_slow`] do.
///
/// # Safety
/// As [`fire_marked`].
#[inline(always)]
unsafe fn fire_marked_slow_body<const EVENT: u8>(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    a: usize,
    b: usize,
) -> c_int {
    let event = Event::ALL[EVENT as usize];
    let Some(code) = object(codelike) else {
        return fire_invalid(fire_name(event), state);
    };
    // SAFETY: non-NULL and valid by the caller's contract (as in `fire`).
    let slot = unsafe { &*(state as *const SlotState) };
    let firing = local_firing(event, code, offset, a, b);
    let line = crate::ext::sites::line_word(event, firing.lineno);
    let skipped = lasting::skipped_slow(slot, event, code, offset, line);
    let mut record = FireRecord::new(firing, super::object(super::missing()));
    guard!(fire_name(event), -1, {
        match lasting::fire_marked(slot, &mut record, skipped) {
            Ok(()) => 0,
            Err(_) => -1,
        }
    })
}

/// The fire function of `event`, for the guards of [`fire_marked_slow`]
/// and [`Catch`] (the table of events names it).
fn fire_name(event: Event) -> &'static str {
    crate::event::table::EVENTS[event as usize].function
}

/// A NULL `state` or `codelike`: the ValueError, off the hot path.
#[cold]
#[inline(never)]
#[allow(improper_ctypes_definitions)]
extern "C" fn fire_invalid(name: &'static str, state: *mut PyMonitoringState) -> c_int {
    let rc = guard!(name, -1, {
        require!(!state.is_null(), "state must not be NULL");
        crate::error::set(crate::error::Error::value("codelike must not be NULL"));
        -1
    });
    // Not a constant to the callers: known to be -1, an entry point would
    // call this and set -1 itself, keeping a frame for the call, where it
    // now jumps here.
    std::hint::black_box(rc)
}

/// True when `state` is valid and inactive: the exported wrappers return 0
/// at once, before any other work.
///
/// # Safety
/// `state`, when not NULL, points to a valid `PyMonitoringState`.
#[inline(always)]
unsafe fn inactive(state: *const PyMonitoringState) -> bool {
    // SAFETY: dereferenced only when non-NULL.
    !state.is_null() && unsafe { (*state).active } == 0
}

#[cfg(all(test, not(loom)))]
mod tests;
