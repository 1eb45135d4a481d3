//! Firing an event to the tools of one scope slot (docs/BEHAVIOUR.md, "Firing").

use std::cell::Cell;

use crate::error::{self, Error, ErrorSet};
use crate::event::Event;
use crate::ext::Snapshot;
use crate::ffi::table::{self, Rows};
use crate::host;
use crate::readers::Announced;
use crate::registry::{self, Handler, Outcome, Row};
use crate::thread::{self, ThreadState};

pub use crate::record::{EventRecord, FireRecord, Firing};

/// Fire `firing` to the tools set in `active` (a scope slot's `active` byte).
///
/// Returns `Err(ErrorSet)` with the thread's error set on failure. The rules, in
/// order: nested fires from a callback are not delivered; exception events
/// take the current exception (none is an error); a negative offset is an
/// error; tools are called from the highest id down, skipping empty slots; a
/// failing callback stops the walk; DISABLE clears the tool's bit for local
/// events (in the lasting-DISABLE mode it silences the site instead,
/// `crate::ext::lasting`) and is an error (and removes the callback) for the
/// others. On
/// success what was pending before the fire is pending again.
pub fn fire(active: &Cell<u8>, firing: Firing) -> Result<(), ErrorSet> {
    let mut record = FireRecord::new(firing, None);
    fire_record(active, &mut record)
}

/// [`fire`] for an event already laid out as the record callbacks receive
/// (`record.tool` is scratch): what the C entry points use, so the active
/// path copies nothing. The same rules as [`fire`].
#[inline(always)]
pub fn fire_record(active: &Cell<u8>, record: &mut FireRecord) -> Result<(), ErrorSet> {
    match fire_status::<Unguarded>(Rows::ANY, active, record) {
        Status::Done => Ok(()),
        Status::Failed => Err(ErrorSet),
    }
}

/// How a fire ended, as the C entry points answer it (`0` and `-1`): the
/// walk's functions return it in the register the entry returns, so the
/// entry re-encodes nothing.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every callback ran (or none had to).
    Done = 0,
    /// The fire failed; the thread's error is set.
    Failed = -1,
}

impl From<Result<(), ErrorSet>> for Status {
    #[inline(always)]
    fn from(result: Result<(), ErrorSet>) -> Status {
        match result {
            Ok(()) => Status::Done,
            Err(ErrorSet) => Status::Failed,
        }
    }
}

/// Where a fire can panic, and what a panic there becomes: the walk's own
/// code and a C callback's call cannot panic, so the places that can — a
/// Rust closure's call and the cold paths — go through this. [`Unguarded`]
/// lets a panic unwind (the Rust API); the C entry points' boundary
/// (`ffi::guard::Catch`) turns it into the thread's error, so the entry
/// point needs no guard of its own and the walk runs in its frame
/// (docs/ARCHITECTURE.md, "The fire surface").
pub trait Boundary {
    /// Run `f`, a part of a fire of `event` that can panic. `None`: it
    /// panicked and the thread's error is set (never with [`Unguarded`]).
    fn guarded<R>(event: Event, f: impl FnOnce() -> R) -> Option<R>;

    /// Call the handler of a Rust closure (a callback without a
    /// [`registry::Direct`] form), answering its [`Outcome`] code; a panic
    /// becomes [`Outcome::Error`] with the thread's error set.
    #[inline(always)]
    fn call_handler(event: Event, handler: &dyn Handler, record: &FireRecord) -> i32 {
        call_handler_guarded::<Self>(event, handler, record)
    }

    /// The walk's `after_callback`: the function, or its address computed
    /// where it is called (`ffi::fire::Catch`: no GOT slot's address kept in
    /// a register across the walk's loop).
    #[allow(private_interfaces)]
    #[inline(always)]
    fn after_callback_fn<const LOCAL: bool, P: Fn() -> bool>() -> AfterCallback<P>
    where
        Self: Sized,
    {
        after_callback::<Self, LOCAL, P>
    }

    /// The walk's `Snapshot::filter_armed` (as [`Boundary::after_callback_fn`]).
    #[allow(private_interfaces)]
    #[inline(always)]
    fn filter_armed_fn() -> FilterArmed
    where
        Self: Sized,
    {
        Snapshot::filter_armed
    }

    /// The walk's `call_handler_of` (as [`Boundary::after_callback_fn`]).
    #[allow(private_interfaces)]
    #[inline(always)]
    fn call_handler_of_fn() -> CallHandlerOf
    where
        Self: Sized,
    {
        call_handler_of::<Self>
    }

    /// The walk's `replaced` (as [`Boundary::after_callback_fn`]).
    #[inline(always)]
    fn replaced_fn() -> fn()
    where
        Self: Sized,
    {
        replaced
    }
}

/// [`Snapshot::filter_armed`]'s type ([`Boundary::filter_armed_fn`]).
pub(crate) type FilterArmed = fn(&Snapshot, u8, &FireRecord) -> u8;

/// [`call_handler_of`]'s type ([`Boundary::call_handler_of_fn`]).
pub(crate) type CallHandlerOf = fn(Event, &Row, i32, &mut FireRecord) -> i32;

/// [`after_callback`]'s type ([`Boundary::after_callback_fn`]).
pub(crate) type AfterCallback<P> = fn(&Cell<u8>, &FireRecord, &Row, i32, P) -> Result<(), ErrorSet>;

/// A Rust handler's call under `B`, out of line: a callback table of C
/// callbacks never reaches it.
#[inline(never)]
fn call_handler_guarded<B: Boundary + ?Sized>(
    event: Event,
    handler: &dyn Handler,
    record: &FireRecord,
) -> i32 {
    B::guarded(event, || handler.call_fire(record) as i32).unwrap_or(Outcome::Error as i32)
}

/// The Rust API's [`Boundary`]: a panic unwinds to the caller (the thread
/// is left out of its callback on the way: the announcement's token ends).
pub struct Unguarded;

impl Boundary for Unguarded {
    #[inline(always)]
    fn guarded<R>(_event: Event, f: impl FnOnce() -> R) -> Option<R> {
        Some(f())
    }

    #[inline(always)]
    fn call_handler(_event: Event, handler: &dyn Handler, record: &FireRecord) -> i32 {
        handler.call_fire(record) as i32
    }
}

/// [`fire_record`] answering a [`Status`], with `B` where a panic can
/// start: what the C entry points use, inlined into each of them (the
/// walk in the entry's frame). `rows` reads `record`'s event's row.
#[allow(private_interfaces)]
#[inline(always)]
pub fn fire_status<B: Boundary>(rows: Rows, active: &Cell<u8>, record: &mut FireRecord) -> Status {
    // Decided here, where a C entry point's event is a constant: the test
    // folds away and `fire_in` does not repeat it.
    if record.event.takes_exception() {
        fire_exception::<B>(rows, active, record)
    } else {
        fire_in::<B>(rows, active, record)
    }
}

/// The walk of an event that takes no exception; it reaches the thread's
/// state itself (`ffi::table::thread_state`, a direct thread-local access).
/// Exception events go to [`fire_exception`].
#[inline(always)]
fn fire_in<B: Boundary>(rows: Rows, active: &Cell<u8>, record: &mut FireRecord) -> Status {
    let t = table::thread_state();
    if t.seat.flags() != 0 {
        return fire_slow::<B>(t, active, record);
    }
    if record.offset < 0 {
        return fire_slow::<B>(t, active, record);
    }
    walk::<B, _>(rows, t, active, record, || t.has_pending()).into()
}

/// An exception event. The common case — nothing but a host exception
/// pending, so the flag word is exactly `PENDING` — takes the exception,
/// walks and puts it back here; anything else goes to [`fire_slow`].
#[inline(always)]
fn fire_exception<B: Boundary>(rows: Rows, active: &Cell<u8>, record: &mut FireRecord) -> Status {
    let t = table::thread_state();
    if (t.seat.flags() != thread::PENDING) | (record.offset < 0) {
        return fire_slow::<B>(t, active, record);
    }
    let Some(exc) = t.take_raised() else {
        // A library error is pending: the slow path delivers it as MISSING.
        return fire_slow::<B>(t, active, record);
    };
    record.set_exception(exc);
    // The walk's test of `active` made here, so that the put back with no
    // tool active is a path of its own (merged with the walk's, the flag
    // word's bit became a load, an `or` and a store).
    let tools = u32::from(active.get());
    if tools == 0 {
        cold_path();
        t.restore_raised(exc);
        return Status::Done;
    }
    let result = walk_tools::<B, _>(rows, t, tools, active, record, || t.has_pending());
    if result.is_ok() {
        // Nothing is pending after a successful walk (a callback that left
        // an error failed it), so the exception goes back as it was taken.
        t.restore_raised(exc);
    }
    result.into()
}

/// A fire on a thread whose state `ffi::table::thread_state` does not
/// reach yet (before its first dispatch): [`fire_slow`] with the state
/// reached through the thread-local, under `B`'s guard (the access's
/// failure path, which a constant-initialised thread-local without a
/// destructor never takes, is a panic).
#[cold]
#[inline(never)]
fn fire_first<B: Boundary>(active: &Cell<u8>, record: &mut FireRecord) -> Status {
    let event = record.event;
    B::guarded(event, || {
        thread::with(|t| fire_slow::<B>(t, active, record))
    })
    .unwrap_or(Status::Failed)
}

/// Nested, with something pending, the thread's first fire, an exception
/// event the fast path does not take, or a bad offset. Guarded whole: it
/// sets the thread up, formats errors and asks a host.
#[cold]
#[inline(never)]
fn fire_slow<B: Boundary>(t: &ThreadState, active: &Cell<u8>, record: &mut FireRecord) -> Status {
    if table::is_placeholder(t) {
        return fire_first::<B>(active, record);
    }
    let event = record.event;
    B::guarded(event, || fire_slow_result::<B>(t, active, record).into()).unwrap_or(Status::Failed)
}

/// The rules of [`fire_slow`].
#[inline(always)]
fn fire_slow_result<B: Boundary>(
    t: &ThreadState,
    active: &Cell<u8>,
    record: &mut FireRecord,
) -> Result<(), ErrorSet> {
    let flags = t.seat.flags();
    if flags & thread::IN_CALLBACK != 0 {
        return Ok(());
    }
    // One test for both rare cases: the thread's first fire, and a thread
    // that uses a host's exception state.
    if flags & (thread::NOT_SET_UP | thread::HOST) != 0 {
        match set_up_or_host(t) {
            Ready::Go => {}
            Ready::Host => return fire_host::<B>(t, active, record),
            Ready::Failed => return Err(ErrorSet),
        }
    }
    let saved = t.take_pending();
    if record.event.takes_exception() {
        match &saved {
            Some(p) => record.set_arg0(p.object()),
            None => return no_exception(record.event),
        }
    }
    if record.offset < 0 {
        return error::fail(Error::value("offset must be non-negative"));
    }
    let result = walk::<B, _>(Rows::ANY, t, active, record, || t.has_pending());
    if result.is_ok() && saved.is_some() {
        t.set_pending(saved);
    }
    result
}

/// What [`set_up_or_host`] found.
enum Ready {
    /// Go on in [`fire_slow`].
    Go,
    /// The thread uses a host: [`fire_host`].
    Host,
    /// Setting the thread up failed (the error is set).
    Failed,
}

/// The thread's first fire sets it up (which fixes whether it uses a
/// host, for good).
#[cold]
#[inline(never)]
fn set_up_or_host(t: &ThreadState) -> Ready {
    if t.seat.flags() & thread::NOT_SET_UP != 0 {
        if let Err(e) = t.set_up() {
            error::set(e);
            return Ready::Failed;
        }
        table::thread_set_up(t);
    }
    if t.seat.flags() & thread::HOST != 0 {
        Ready::Host
    } else {
        Ready::Go
    }
}

/// [`fire_slow`] on a thread that uses a host's exception state
/// (`docs/HOSTS.md`): the same rules, with the host's indicator. What is
/// pending is taken from the host before the callbacks (an exception event's
/// exception) and given back on success; on failure the host holds the new
/// error and the taken exception is released.
#[cold]
#[inline(never)]
fn fire_host<B: Boundary>(
    t: &ThreadState,
    active: &Cell<u8>,
    record: &mut FireRecord,
) -> Result<(), ErrorSet> {
    // Set only while a host is installed (for good).
    let Some(host) = host::get() else {
        return error::fail(Error::runtime("internal error: no host installed"));
    };
    if let Some(missing) = host.missing() {
        record.fill_absent(missing);
    }
    let saved = host.take_exception();
    if record.event.takes_exception() {
        match saved {
            Some(exc) => record.set_arg0(Some(exc)),
            None => return no_exception(record.event),
        }
    }
    let result = if record.offset < 0 {
        error::fail(Error::value("offset must be non-negative"))
    } else {
        walk::<B, _>(Rows::ANY, t, active, record, || host::occurred(host))
    };
    match result {
        Ok(()) => {
            if saved.is_some() {
                host.restore_exception(saved);
            }
        }
        Err(ErrorSet) => host::release(host, saved),
    }
    result
}

#[cold]
#[inline(never)]
fn no_exception(event: Event) -> Result<(), ErrorSet> {
    error::fail(Error::value(format!(
        "Firing event {} with no exception set",
        event.id()
    )))
}

/// `pending` tells whether the thread's indicator holds an error (asked
/// after each callback: one that returns success with an error set failed).
///
/// Nothing here can panic but what goes through `B`: the indexing is
/// masked or by an event, the arithmetic cannot overflow, and a C
/// callback's [`registry::Direct`] call only calls the host's function
/// (tests/no_panic.rs checks the release build's entry points).
#[inline(always)]
fn walk<B: Boundary, P: Fn() -> bool + Copy>(
    rows: Rows,
    t: &ThreadState,
    active: &Cell<u8>,
    record: &mut FireRecord,
    pending: P,
) -> Result<(), ErrorSet> {
    // Widened once: the scan below works on a register word.
    let tools = u32::from(active.get());
    if tools == 0 {
        // Rare (the inline header tests the byte before it calls): the end
        // of a walk then falls through to the return.
        cold_path();
        return Ok(());
    }
    walk_tools::<B, P>(rows, t, tools, active, record, pending)
}

/// [`walk`] for the `tools` (not 0) its caller read from `active`.
#[inline(always)]
fn walk_tools<B: Boundary, P: Fn() -> bool + Copy>(
    rows: Rows,
    t: &ThreadState,
    mut tools: u32,
    active: &Cell<u8>,
    record: &mut FireRecord,
    pending: P,
) -> Result<(), ErrorSet> {
    // Read before the announcement's fence, which the compiler does not
    // forward the record's stores across: a constant in an entry point.
    let event = record.event;
    // The thread was seated when its first fire went through `fire_slow`
    // (`NOT_SET_UP`), before any walk; nested fires stop at the IN_CALLBACK
    // check before they come here. The token sets IN_CALLBACK (the test of
    // the flag word before the walk makes its own test fold away) and
    // clears it when it ends, also when a Rust callback unwinds through
    // the walk ([`Unguarded`]).
    let Some(announced) = Announced::begin(&t.seat) else {
        return B::guarded(record.event, not_set_up).unwrap_or(Err(ErrorSet));
    };
    // The event's row, through its own pointer, read after the
    // announcement, so a callback removed before it is never called; no
    // count taken (the announcement keeps the table alive:
    // docs/CONCURRENCY.md, H7). Read again after a callback that replaced
    // the table, which may have removed later ones.
    let mut row = (rows.row)(event, &announced);
    // The row is looked at once, and again only after a callback replaced
    // its table (before any tool had a callback: an empty one, never
    // "none").
    let result = 'table: loop {
        // Armed sites (src/ext/codelike_tables.rs): the table's rows carry
        // the arming while anything is armed; skipped tools get no callback
        // and keep their bit. Only local events are filtered (a constant in
        // an entry point, so the others have no test), and the gate is the
        // row's flag, compared in memory.
        let armed = if event.is_local() && row.is_armed() {
            row.armed()
        } else {
            None
        };
        if let Some(armed) = armed {
            let filter = B::filter_armed_fn();
            let Some(kept) = B::guarded(event, || filter(armed, tools as u8, record)) else {
                break Err(ErrorSet);
            };
            tools = u32::from(kept);
            if tools == 0 {
                break Ok(());
            }
        }
        // `tools` is not 0 here (tested before the walk and before each
        // pass), and each way back to the top tests it, once.
        loop {
            // As the record's `i32` first: no narrowing and widening back.
            // `| 1` changes no highest bit of a `tools` that is not 0, and
            // tells the compiler it is not 0 (no zero case in the scan).
            let tool_id = 31 - (tools | 1).leading_zeros() as i32;
            let tool = tool_id as u8;
            tools &= !(1 << tool);
            let answer = if let Some(direct) = row.direct_masked(tool) {
                record.tool = tool_id;
                direct.call(record)
            } else if row.handler_masked(tool).is_some() {
                // Rare (C callbacks have a `Direct` form).
                cold_path();
                B::call_handler_of_fn()(event, row, tool_id, record)
            } else if tools == 0 {
                break;
            } else {
                continue;
            };
            // Short-circuit: the flag word is then tested in memory, one
            // instruction fewer a tool than the combined test.
            if answer != 0 || pending() {
                // The event's locality is a constant in an entry point: one
                // instance is called, and it does not test the event.
                // Called through addresses computed here
                // ([`Boundary::after_callback_fn`], as for the other calls out
                // of the loop): a GOT slot's address would be hoisted into
                // a register pushed and popped on every fire.
                let after = if event.is_local() {
                    B::after_callback_fn::<true, P>()(active, record, row, answer, pending)
                } else {
                    B::after_callback_fn::<false, P>()(active, record, row, answer, pending)
                };
                if let Err(e) = after {
                    // Rare: the return code's -1 is then not laid out on
                    // the way to the end.
                    cold_path();
                    break 'table Err(e);
                }
            }
            if tools == 0 {
                break;
            }
            // The row's pointer compared in memory.
            let replaced = (rows.replaced)(event, row);
            if replaced {
                cold_path();
                B::replaced_fn()();
                row = (rows.row)(event, &announced);
                continue 'table;
            }
        }
        break Ok(());
    };
    drop(announced);
    result
}

/// The answer of tool `tool_id`'s Rust closure in `row` (a slot without a
/// [`registry::Direct`] form, holding a handler). Apart, called through
/// its address ([`Boundary::call_handler_of_fn`]) on a path marked rare, so
/// that the walk lays a C callback's call out straight (no jump over this
/// one to the answer's test); an empty slot is told apart in the walk.
#[cold]
#[inline(never)]
pub(crate) fn call_handler_of<B: Boundary>(
    event: Event,
    row: &Row,
    tool_id: i32,
    record: &mut FireRecord,
) -> i32 {
    let Some(handler) = row.handler_masked(tool_id as u8) else {
        return Outcome::Continue as i32;
    };
    record.tool = tool_id;
    B::call_handler(event, &**handler, record)
}

/// Called where a callback replaced the table, through its address
/// ([`Boundary::replaced_fn`], after [`cold_path`]): with the call there, LLVM
/// lays the walk's second pass apart and the first pass out straight (no
/// jump into the loop; measured: the hint alone leaves one, LINE +2).
/// Empty: the call is what shapes the layout.
#[cold]
#[inline(never)]
pub(crate) fn replaced() {}

/// Marks the path it is on as rare, with no call (a branch weight):
/// `std::hint::cold_path` where the compiler has it (Rust 1.95; build.rs
/// tells), nothing with an older one.
#[inline(always)]
pub(crate) fn cold_path() {
    #[cfg(pymonitoring_cold_path)]
    #[allow(clippy::incompatible_msrv)]
    std::hint::cold_path();
}

/// A walk on a thread without a reader record: never happens (the first
/// fire sets the thread up), but fails cleanly if it did.
#[cold]
#[inline(never)]
fn not_set_up() -> Result<(), ErrorSet> {
    error::fail(Error::runtime(
        "internal error: dispatch before the thread was set up",
    ))
}

/// A callback answered DISABLE with nothing pending: for a local event,
/// the tool's bit is cleared (in the lasting-DISABLE mode the site is
/// remembered instead); for the others it is an error. Apart from
/// [`after_callback`] so that the first DISABLE of a slot, which every
/// refreshing caller pays, takes a small frame.
#[cold]
#[inline(never)]
fn disable(active: &Cell<u8>, record: &FireRecord, row: &Row) -> Result<(), ErrorSet> {
    let tool = record.tool();
    if !record.event().is_local() {
        return disable_not_local(record, row);
    }
    if registry::global().ext().lasting_mode() {
        // The lasting mode silences the site, not the slot.
        crate::ext::remember_disable(record, tool, || row.version(), registry::callbacks_version);
    } else {
        active.set(active.get() & !(1 << tool));
    }
    Ok(())
}

/// DISABLE from an event that is not local: the callback is removed (if
/// it is still the one that answered) and the fire fails.
#[cold]
#[inline(never)]
fn disable_not_local(record: &FireRecord, row: &Row) -> Result<(), ErrorSet> {
    // The slot is found again rather than kept across the call: one
    // register fewer in the walk.
    if let Some(handler) = row.handler_masked(record.tool()) {
        registry::remove_callback_if_same(record.tool(), record.event(), handler);
    }
    error::fail(Error::value(format!(
        "Cannot disable {} events. Callback removed.",
        record.event().name()
    )))
}

/// A callback failed, left an error set, or asked to be disabled
/// (`answer` is its [`Outcome`] code). The first DISABLE of a local event
/// in the default mode, which every refreshing caller pays once per scope
/// entry, is decoded here before anything that needs a frame; the rest is
/// [`after_callback_slow`]. `LOCAL` is whether `record`'s event is local.
#[inline(never)]
pub(crate) fn after_callback<B: Boundary, const LOCAL: bool, P: Fn() -> bool>(
    active: &Cell<u8>,
    record: &FireRecord,
    row: &Row,
    answer: i32,
    pending: P,
) -> Result<(), ErrorSet> {
    if LOCAL && answer == Outcome::Disable as i32 && !pending() && !table::lasting_mode() {
        active.set(active.get() & !(1 << record.tool()));
        return Ok(());
    }
    after_callback_guarded::<B>(active, record, row, answer, pending)
}

/// [`after_callback_slow`] under `B`, apart and taking its arguments by
/// value, so that [`after_callback`]'s DISABLE needs no frame (a closure
/// capturing `answer` would keep it in one) and its other paths jump here.
#[cold]
#[inline(never)]
fn after_callback_guarded<B: Boundary>(
    active: &Cell<u8>,
    record: &FireRecord,
    row: &Row,
    answer: i32,
    pending: impl Fn() -> bool,
) -> Result<(), ErrorSet> {
    B::guarded(record.event(), || {
        after_callback_slow(active, record, row, Outcome::from_answer(answer), pending)
    })
    .unwrap_or(Err(ErrorSet))
}

/// The rest of [`after_callback`].
#[cold]
#[inline(never)]
fn after_callback_slow(
    active: &Cell<u8>,
    record: &FireRecord,
    row: &Row,
    outcome: Outcome,
    pending: impl Fn() -> bool,
) -> Result<(), ErrorSet> {
    let tool = record.tool();
    let stray_error = pending();
    match outcome {
        Outcome::Error => {
            if !stray_error {
                error::set(Error::runtime(format!(
                    "callback of tool {tool} for {} returned -1 without setting an error",
                    record.event().name()
                )));
            }
            Err(ErrorSet)
        }
        // A callback that reports success with an error set has failed.
        _ if stray_error => Err(ErrorSet),
        Outcome::Continue => Ok(()),
        Outcome::Disable => disable(active, record, row),
    }
}
