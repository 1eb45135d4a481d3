//! Model-checked concurrency protocol (`RUSTFLAGS="--cfg loom" cargo test
//! --release --lib loom`).
//!
//! Each model builds its own [`Registry`] and [`Readers`] and runs the real
//! writer code (`Registry::register_callback`, `set_events`, `use_tool_id`,
//! …), the real waiter (`Readers::wait`) and the real reader records. The
//! firing side follows `dispatch::walk` step for step with the same calls
//! (`Announced::begin`, `Registry::row`, `Registry::row_replaced`,
//! `Handler::call`, the announcement's end),
//! and the scope side follows `scope::enter_scope`/`refresh`
//! (`version_relaxed`, `version`, `scope_mask`). The claims checked are the
//! ones `docs/CONCURRENCY.md` numbers H1–H5 and H7.

use std::any::Any;
use std::sync::Arc;

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::thread;

use crate::dispatch::{EventRecord, FireRecord, Firing};
use crate::event::{Event, EventSet};
use crate::object::ObjectRef;
use crate::readers::{Announced, Announcer, Readers, Seat};
use crate::registry::{CallbackTable, Handler, Outcome, Registry};

/// A callback whose `data` can be "freed": calling it after that fails the
/// model. The flag is read Relaxed, so the check only holds when the call
/// happens-before the free.
struct Probe {
    live: loom::sync::Arc<AtomicBool>,
    calls: loom::sync::Arc<AtomicUsize>,
    answer: Outcome,
}

impl Probe {
    fn handler(
        live: &loom::sync::Arc<AtomicBool>,
        calls: &loom::sync::Arc<AtomicUsize>,
        answer: Outcome,
    ) -> Arc<dyn Handler> {
        Arc::new(Probe {
            live: live.clone(),
            calls: calls.clone(),
            answer,
        })
    }
}

/// Added to a probe's call count by a call made after its data was freed.
const FREED: usize = 1000;

impl Handler for Probe {
    fn call(&self, _event: &EventRecord) -> Outcome {
        // A freed `data` counts as a violation (a panic here would leave the
        // dispatch announced and hang the waiter instead of failing).
        let used_after_free = !self.live.load(Ordering::Relaxed);
        self.calls
            .fetch_add(if used_after_free { FREED } else { 1 }, Ordering::Relaxed);
        self.answer
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn record(event: Event, tool: u8) -> FireRecord {
    let mut rec = FireRecord::new(
        Firing::new(event, ObjectRef::from_addr(0x10).unwrap(), 0),
        None,
    );
    rec.tool = i32::from(tool);
    rec
}

/// One dispatch as `dispatch::walk` does it: announce, read the pointer to
/// the event's row of the callback table, then for each tool of `active`
/// (highest first) call the callback found in the row held, and read the
/// pointer again when it moved; DISABLE of a local event clears the tool's
/// bit. Returns the bits left in `active`.
fn dispatch(reg: &Registry, home: &Seat, active: u8, event: Event) -> u8 {
    let mut left = active;
    let mut tools = active;
    if tools == 0 {
        return left;
    }
    let announced = Announced::begin(home).expect("the thread holds its right to announce");
    // dispatch::walk's reads (`ffi::table`, the same pointer): after the
    // announcement, then after each callback that is not the walk's last.
    let mut held = reg.row(event, &announced);
    while tools != 0 {
        let tool = 7 - tools.leading_zeros() as u8;
        tools &= !(1 << tool);
        // The walk's call: the slot's `Direct` form, else its handler.
        let row = held;
        let answer = if let Some(direct) = row.direct_masked(tool) {
            direct.call(&record(event, tool))
        } else if let Some(handler) = row.handler_masked(tool) {
            handler.call_fire(&record(event, tool)) as i32
        } else {
            continue;
        };
        if Outcome::from_answer(answer) == Outcome::Disable && event.is_local() {
            left &= !(1 << tool);
        }
        if tools != 0 && reg.row_replaced(event, held) {
            held = reg.row(event, &announced);
        }
    }
    drop(announced);
    left
}

/// A thread's seat with its right to announce (`ThreadState::seat`).
fn seat(readers: &Readers) -> Seat {
    let seat = Seat::new(0);
    seat.seat(|| readers.register());
    seat
}

/// `scope::enter_scope` for one slot: the Relaxed fast path, then the
/// refresh that reads the version (Acquire) before the masks.
fn enter_scope(reg: &Registry, version: &mut u64, event: Event, active: &mut u8) {
    if *version == reg.version_relaxed() {
        return;
    }
    let current = reg.version();
    *active = reg.scope_mask(event);
    *version = current;
}

/// Run a model exhaustively (no preemption bound).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = None;
    builder.check(f);
}

fn new_world() -> (Arc<Registry>, Arc<Readers>) {
    (Arc::new(Registry::new()), Arc::new(Readers::new()))
}

fn flags() -> (loom::sync::Arc<AtomicBool>, loom::sync::Arc<AtomicUsize>) {
    (
        loom::sync::Arc::new(AtomicBool::new(true)),
        loom::sync::Arc::new(AtomicUsize::new(0)),
    )
}

/// H1/H2: a thread fires twice (reusing its cached table, and registering
/// its reader record concurrently with the wait), gives its record back and
/// fires once more on the same record as a new thread would, while another
/// removes the callback, waits, and frees its data. The callback never runs
/// after the free; it runs at most three times; a fire that starts after
/// the wait returned never calls it.
#[test]
fn loom_fire_racing_remove_then_wait() {
    model(|| {
        let (reg, readers) = new_world();
        reg.use_tool_id(0, "t").unwrap();
        let (live, calls) = flags();
        reg.register_callback(0, 0, Some(Probe::handler(&live, &calls, Outcome::Continue)))
            .unwrap();

        let firer = {
            let (reg, readers) = (reg.clone(), readers.clone());
            thread::spawn(move || {
                let home = seat(&readers);
                dispatch(&reg, &home, 1, Event::PyStart);
                dispatch(&reg, &home, 1, Event::PyStart);
                readers.unregister(home.unseat().unwrap());
                // A thread that starts later reuses the given-back record
                // (readers::Readers::register) while the wait may be
                // reading it.
                let home = seat(&readers);
                dispatch(&reg, &home, 1, Event::PyStart);
                readers.unregister(home.unseat().unwrap());
            })
        };

        let me = readers.register();
        let old = reg.register_callback(0, 0, None).unwrap();
        assert!(old.is_some());
        readers.wait(Some(me.record())).unwrap();
        live.store(false, Ordering::Relaxed);
        drop(old);
        firer.join().unwrap();
        assert!(
            calls.load(Ordering::Relaxed) <= 3,
            "a removed callback ran after PyMonitoring_WaitForCallbacks returned"
        );
    });
}

/// H1 on a row that is not the table's first, walked for two tools: a
/// thread fires LINE to tools 1 and 0 while another removes tool 0's
/// callback, waits and frees its data. The walk reads LINE's row pointer
/// again when it moved after tool 1's callback; tool 0's removed callback
/// never runs after the wait returned, and tool 1's runs once.
#[test]
fn loom_fire_racing_remove_then_wait_on_another_row() {
    model(|| {
        let (reg, readers) = new_world();
        reg.use_tool_id(0, "a").unwrap();
        reg.use_tool_id(1, "b").unwrap();
        let (live, calls) = flags();
        let (kept_live, kept_calls) = flags();
        let line = i64::from(Event::Line.id());
        reg.register_callback(
            0,
            line,
            Some(Probe::handler(&live, &calls, Outcome::Continue)),
        )
        .unwrap();
        reg.register_callback(
            1,
            line,
            Some(Probe::handler(&kept_live, &kept_calls, Outcome::Continue)),
        )
        .unwrap();

        let firer = {
            let (reg, readers) = (reg.clone(), readers.clone());
            thread::spawn(move || {
                let home = seat(&readers);
                dispatch(&reg, &home, 0b11, Event::Line);
                readers.unregister(home.unseat().unwrap());
            })
        };

        let me = readers.register();
        let old = reg.register_callback(0, line, None).unwrap();
        assert!(old.is_some());
        readers.wait(Some(me.record())).unwrap();
        live.store(false, Ordering::Relaxed);
        drop(old);
        firer.join().unwrap();
        assert!(
            calls.load(Ordering::Relaxed) <= 1,
            "a removed callback ran after PyMonitoring_WaitForCallbacks returned"
        );
        assert_eq!(kept_calls.load(Ordering::Relaxed), 1);
    });
}

/// H1 with a replacement: the callback is replaced (not removed) by another
/// one while a thread fires. A dispatch calls the old one or the new one,
/// never the old one after the wait, and the new one's data stays live.
#[test]
fn loom_fire_racing_replace_then_wait() {
    model(|| {
        let (reg, readers) = new_world();
        reg.use_tool_id(2, "t").unwrap();
        let (old_live, old_calls) = flags();
        let (new_live, new_calls) = flags();
        reg.register_callback(
            2,
            Event::Raise as i64,
            Some(Probe::handler(&old_live, &old_calls, Outcome::Continue)),
        )
        .unwrap();

        let firer = {
            let (reg, readers) = (reg.clone(), readers.clone());
            thread::spawn(move || {
                let home = seat(&readers);
                dispatch(&reg, &home, 1 << 2, Event::Raise);
            })
        };

        let me = readers.register();
        reg.register_callback(
            2,
            Event::Raise as i64,
            Some(Probe::handler(&new_live, &new_calls, Outcome::Continue)),
        )
        .unwrap();
        readers.wait(Some(me.record())).unwrap();
        old_live.store(false, Ordering::Relaxed);
        firer.join().unwrap();
        let total = old_calls.load(Ordering::Relaxed) + new_calls.load(Ordering::Relaxed);
        assert_eq!(
            total, 1,
            "exactly one of the two callbacks is called, while live"
        );
    });
}

/// A callback whose drop (with the last table that holds it) marks it
/// freed: calling it after that fails the model.
struct Dropping {
    live: loom::sync::Arc<AtomicBool>,
    calls: loom::sync::Arc<AtomicUsize>,
}

impl Handler for Dropping {
    fn call(&self, _event: &EventRecord) -> Outcome {
        let freed = !self.live.load(Ordering::Relaxed);
        self.calls
            .fetch_add(if freed { FREED } else { 1 }, Ordering::Relaxed);
        Outcome::Continue
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for Dropping {
    fn drop(&mut self) {
        self.live.store(false, Ordering::Relaxed);
    }
}

/// H7: the callback table a dispatch reads through its event's row pointer
/// is not freed while the dispatch may use it. A thread fires `event` while
/// another removes the callback (the table that held it is retired) and
/// publishes twice more (each publication frees the retired tables whose
/// dispatches have ended); the callback, held by nothing but the old table,
/// is never called after that table was dropped.
fn table_outlives_the_dispatches_that_read_it(event: Event) {
    model(move || {
        let (reg, readers) = new_world();
        reg.use_tool_id(0, "t").unwrap();
        let (live, calls) = flags();
        let handler: Arc<dyn Handler> = Arc::new(Dropping {
            live: live.clone(),
            calls: calls.clone(),
        });
        reg.register_callback(0, i64::from(event.id()), Some(handler))
            .unwrap();

        let firer = {
            let (reg, readers) = (reg.clone(), readers.clone());
            thread::spawn(move || {
                let home = seat(&readers);
                dispatch(&reg, &home, 1, event);
            })
        };

        drop(
            reg.register_callback(0, i64::from(event.id()), None)
                .unwrap(),
        );
        reg.register_callback(0, 1, None).unwrap();
        firer.join().unwrap();
        assert!(
            calls.load(Ordering::Relaxed) < FREED,
            "a dispatch used a callback table after it was freed"
        );
        assert!(calls.load(Ordering::Relaxed) <= 1);
        reg.register_callback(0, 1, None).unwrap();
        assert!(
            !live.load(Ordering::Relaxed),
            "the retired table is freed once no dispatch holds it"
        );
    });
}

/// H7 through the first row's pointer (PY_START's).
#[test]
fn loom_table_outlives_the_dispatches_that_read_it() {
    table_outlives_the_dispatches_that_read_it(Event::PyStart);
}

/// H7 through another row's own pointer (LINE's): each pointer moves
/// before the grace period, so the table is kept for a dispatch that read
/// any of them.
#[test]
fn loom_table_outlives_the_dispatches_that_read_another_row() {
    table_outlives_the_dispatches_that_read_it(Event::Line);
}

/// H4: a thread enters a scope and fires while another sets events and
/// restarts events. A scope whose stored version equals the final version
/// holds the final masks; a fire delivers to tool 0 exactly when the
/// slot's bit is set; DISABLE clears only the slot's bit and RestartEvents
/// makes the next entry refresh it.
#[test]
fn loom_fire_racing_set_events_and_enter_scope() {
    model(|| {
        let (reg, readers) = new_world();
        reg.use_tool_id(0, "t").unwrap();
        let (live, calls) = flags();
        reg.register_callback(0, 0, Some(Probe::handler(&live, &calls, Outcome::Disable)))
            .unwrap();

        let writer = {
            let reg = reg.clone();
            thread::spawn(move || {
                reg.set_events(0, EventSet::PY_START.bits()).unwrap();
                reg.restart_events();
            })
        };

        let home = seat(&readers);
        let mut version = 0u64; // Cython's zeroed scope
        let mut active = 0u8;
        enter_scope(&reg, &mut version, Event::PyStart, &mut active);
        let seen = active;
        active = dispatch(&reg, &home, active, Event::PyStart);
        assert_eq!(calls.load(Ordering::Relaxed), usize::from(seen & 1));
        assert_eq!(active, 0, "DISABLE cleared the bit");
        writer.join().unwrap();

        // A DISABLE lasts until the scope refreshes: entering with the
        // current version keeps the slot off ...
        let before = version;
        enter_scope(&reg, &mut version, Event::PyStart, &mut active);
        if before == reg.version() {
            assert_eq!(active, 0, "DISABLE lasts until the next refresh");
        }
        // ... and RestartEvents brings it back on the next entry.
        reg.restart_events();
        enter_scope(&reg, &mut version, Event::PyStart, &mut active);
        assert_eq!(version, reg.version());
        assert_eq!(active, 1, "the final masks after a refresh");
        assert_eq!(reg.version(), 3);
    });
}

/// H4 for the masks alone: while a writer changes two tools' events, a
/// scope refresh never stores a version newer than the masks it read.
#[test]
fn loom_scope_refresh_never_newer_than_its_masks() {
    model(|| {
        let (reg, _) = new_world();
        reg.use_tool_id(1, "a").unwrap();
        reg.use_tool_id(4, "b").unwrap();
        let writer = {
            let reg = reg.clone();
            thread::spawn(move || {
                reg.set_events(1, EventSet::CALL.bits()).unwrap();
                reg.set_events(4, EventSet::CALL.bits()).unwrap();
            })
        };
        let mut version = u64::MAX;
        let mut active = 0u8;
        enter_scope(&reg, &mut version, Event::CReturn, &mut active);
        // Version v was published after v writers' masks: at least those
        // tools are in the slot.
        let expected_at_least: u8 = match version {
            0 => 0,
            1 => 1 << 1,
            _ => (1 << 1) | (1 << 4),
        };
        assert_eq!(active & expected_at_least, expected_at_least);
        writer.join().unwrap();
    });
}

/// H5: two writers race. No update is lost, each published table holds
/// exactly the edits counted by its version, and the masks match the
/// events at the end.
#[test]
fn loom_two_writers_racing() {
    model(|| {
        let (reg, _) = new_world();
        reg.use_tool_id(0, "a").unwrap();
        reg.use_tool_id(1, "b").unwrap();
        let (live, calls) = flags();
        let base = reg.callbacks_version();
        let writers: Vec<_> = [0i64, 1]
            .into_iter()
            .map(|tool| {
                let reg = reg.clone();
                let h = Probe::handler(&live, &calls, Outcome::Continue);
                thread::spawn(move || {
                    reg.register_callback(tool, Event::Line as i64, Some(h))
                        .unwrap();
                    reg.set_events(tool, EventSet::LINE.bits()).unwrap();
                })
            })
            .collect();
        let (v, table) = reg.callbacks_snapshot();
        let present = |t: &Option<Arc<CallbackTable>>| {
            (0..2u8)
                .filter(|&tool| {
                    t.as_deref()
                        .and_then(|t| t.get(tool, Event::Line))
                        .is_some()
                })
                .count() as u64
        };
        assert_eq!(present(&table), v - base, "a snapshot matches its version");
        for w in writers {
            w.join().unwrap();
        }
        let (v, table) = reg.callbacks_snapshot();
        assert_eq!(v, base + 2);
        assert_eq!(present(&table), 2);
        assert_eq!(reg.scope_mask(Event::Line), 0b11);
        assert_eq!(reg.version(), 2);
    });
}

/// UseToolId racing FreeToolId, SetEvents and GetTool: GetTool reads the
/// name whole (an old or a new one, never a torn one), and at the end a
/// tool's scope-mask bits agree with its events.
#[test]
fn loom_use_tool_racing_free_and_get_tool() {
    model(|| {
        let (reg, _) = new_world();
        reg.use_tool_id(3, "x").unwrap();
        reg.set_events(3, EventSet::PY_START.bits()).unwrap();
        let freer = {
            let reg = reg.clone();
            thread::spawn(move || reg.free_tool_id(3).unwrap())
        };
        let claimer = {
            let reg = reg.clone();
            thread::spawn(move || {
                let claimed = reg.use_tool_id(3, "y");
                let set = reg.set_events(3, EventSet::JUMP.bits());
                (claimed.map_err(|e| e.message().to_owned()), set.is_ok())
            })
        };
        let name = reg.tool_name(3).unwrap();
        assert!(matches!(name.as_deref(), None | Some("x") | Some("y")));
        freer.join().unwrap();
        let (claimed, _) = claimer.join().unwrap();
        match claimed {
            Ok(()) => assert_eq!(reg.tool_name(3).unwrap().as_deref(), Some("y")),
            Err(msg) => {
                assert_eq!(msg, "tool 3 is already in use");
                assert_eq!(reg.tool_name(3).unwrap(), None);
            }
        }
        let events = reg.get_events(3).unwrap();
        for event in [Event::PyStart, Event::Jump] {
            assert_eq!(reg.scope_mask(event) & (1 << 3) != 0, events.has(event));
        }
        if reg.tool_name(3).unwrap().is_none() {
            assert!(events.is_empty());
        }
    });
}

/// H3: two callbacks on two threads wait for each other's thread. Neither
/// deadlocks; at least one gets the RuntimeError; a wait from inside a
/// dispatch skips the caller's own dispatch.
#[test]
fn loom_two_waiting_callbacks_do_not_deadlock() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(|| {
        let readers = Arc::new(Readers::new());
        let a = readers.register();
        let b = readers.register();
        let entered = loom::sync::Arc::new(AtomicUsize::new(0));
        let spawn = |me: Announcer| {
            let readers = readers.clone();
            let entered = entered.clone();
            thread::spawn(move || {
                let rec = me.record();
                let home = Seat::new(0);
                home.seat(|| me);
                let announced = Announced::begin(&home).unwrap(); // inside a callback ...
                entered.fetch_add(1, Ordering::AcqRel);
                // ... while the other thread is inside one too.
                while entered.fetch_add(0, Ordering::AcqRel) < 2 {
                    thread::yield_now();
                }
                let r = readers.wait(Some(rec)).is_ok();
                drop(announced);
                r
            })
        };
        let ta = spawn(a);
        let tb = spawn(b);
        let (ra, rb) = (ta.join().unwrap(), tb.join().unwrap());
        assert!(!(ra && rb), "two callbacks waited for each other");
    });
}

/// The site table the models use (`src/ext/sites.rs`).
type ModelSites = crate::ext::sites::SiteTable<{ crate::ext::sites::PROBES }>;

/// Two code-likes `a` and `b` such that `b`'s LINE sites at offsets 1 and
/// 2 have the home entry of `a`'s at offset 1: a read mixing `a`'s key
/// with `b`'s code-like there would be a site that never existed.
fn two_codelikes_one_home() -> (ObjectRef, ObjectRef) {
    use crate::ext::sites::site_key;
    let line = Event::Line;
    let a = ObjectRef::from_addr(0x1000).unwrap();
    let home = |c: &ObjectRef, offset| {
        ModelSites::home_of(c.addr() as u64, site_key(offset, line, 0).unwrap())
    };
    let home_a = home(&a, 1);
    let b = (1..)
        .map(|i| ObjectRef::from_addr(0x1000 + 16 * i).unwrap())
        .find(|b| home(b, 1) == home_a && home(b, 2) == home_a)
        .unwrap();
    (a, b)
}

/// The site table (`src/ext/sites.rs`, `docs/CONCURRENCY.md`): a lookup
/// racing a rewrite of the same entry (a removal then an insert of another
/// site there) reports the old site, the new one or nothing, never a mix of
/// the two (the forget counters read around the entry), both through the
/// inline home-entry check and the full scan.
#[test]
fn loom_site_table_reads_never_tear() {
    use crate::ext::sites::Home;
    let (a, b) = two_codelikes_one_home();
    let line = Event::Line;
    bounded_model(move || {
        let t = loom::sync::Arc::new(ModelSites::new());
        assert!(t.remember(a, 1, line, 0, 2, || true));
        let w = t.clone();
        let writer = thread::spawn(move || {
            w.forget_all();
            assert!(w.remember(b, 2, line, 0, 2, || true));
        });
        // Mixed sites never existed (`a`'s key with `b`'s code-like).
        assert_ne!(t.home(b, 1, line, 0, 1 << 2), Home::Holds);
        writer.join().unwrap();
        assert_eq!(t.home(b, 2, line, 0, 1 << 2), Home::Holds);
        assert_eq!(t.disabled(a, 1, line, 0, 1 << 2), 0);
    });
}

/// The site table's other rewrite: forgetting one tool moves another
/// tool's entry back to its home (the rebuild). A lookup racing it reports
/// the moved site or nothing, never a mix of the moved entry and the one it
/// replaces.
#[test]
fn loom_site_table_rebuild_never_mixes() {
    use crate::ext::sites::Home;
    // `b`, inserted second, has its offset-2 site one entry on; it moves
    // home when `a`'s is forgotten; `b` at offset 1 is the mix to never see.
    let (a, b) = two_codelikes_one_home();
    let line = Event::Line;
    bounded_model(move || {
        let t = loom::sync::Arc::new(ModelSites::new());
        assert!(t.remember(a, 1, line, 0, 1, || true));
        assert!(t.remember(b, 2, line, 0, 2, || true));
        let w = t.clone();
        let writer = thread::spawn(move || w.forget_tool(1));
        // Mixed sites never existed (`a`'s key with `b`'s code-like).
        assert_ne!(t.home(b, 1, line, 0, 1 << 1), Home::Holds);
        writer.join().unwrap();
        assert_eq!(t.home(b, 2, line, 0, 1 << 2), Home::Holds);
        assert_eq!(t.disabled(a, 1, line, 0, 0xff), 0);
    });
}

/// The header's per-call-site cache (`src/ffi/header/inline.h`,
/// `docs/CONCURRENCY.md`, "Site table"): a claim written by a fire that
/// raced a forget of its site (the table read, then the claim stored with
/// the read's `done` as its stamp) never holds for a fire that starts after
/// the forget returned (it reads the stamp the forget stored).
#[test]
fn loom_site_cache_claim_never_outlives_a_forget() {
    use crate::ext::sites::{claim, stamp_of, STAMP_LIMIT, STAMP_SHIFT};
    use loom::sync::atomic::AtomicU64;
    let (a, _) = two_codelikes_one_home();
    let line = Event::Line;
    let object = a.addr() as u64;
    bounded_model(move || {
        let t = loom::sync::Arc::new(ModelSites::new());
        assert!(t.remember(a, 1, line, 0, 2, || true));
        let cache = loom::sync::Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
        let w = t.clone();
        let writer = thread::spawn(move || w.forget_tool(2));
        // The fire that finds the site remembered claims it
        // (`_PyMonitoring_SiteClaim`).
        if let Some(done) = t.holds_at(object, 1, line, 0, 1 << 2) {
            assert!(done < STAMP_LIMIT);
            let owner = cache.0.load(Ordering::Relaxed);
            if owner == 0 {
                let _ = cache
                    .0
                    .compare_exchange(0, object, Ordering::Relaxed, Ordering::Relaxed);
            }
            let word = cache.1.load(Ordering::Relaxed);
            if cache.0.load(Ordering::Relaxed) == object
                && (word == 0 || word >> STAMP_SHIFT < done)
            {
                let word = claim(1 << 2, 1, 0, stamp_of(done)).unwrap();
                cache.1.store(word, Ordering::Relaxed);
            }
        }
        writer.join().unwrap();
        // A fire after the forget: the cache's check (`_PyMonitoring_SiteSkipped`).
        let now = claim(1 << 2, 1, 0, t.stamp()).unwrap();
        let holds =
            cache.0.load(Ordering::Relaxed) == object && cache.1.load(Ordering::Relaxed) == now;
        assert!(!holds, "a claim outlived the forget of its site");
        assert_eq!(t.holds_at(object, 1, line, 0, 1 << 2), None);
    });
}

/// The site-table models with a preemption bound of 2: a mixed read needs
/// one (the reader stopped between its loads while the writer runs to the
/// end), and unbounded, the writer's pass over every entry makes the model
/// run for many minutes.
fn bounded_model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(f);
}

/// The per-site rule (`src/ext/lasting.rs`, `docs/CONCURRENCY.md`,
/// "Site table"): a DISABLE whose callback was called before a restart of
/// its tool never outlives the restart. The firing side follows
/// `dispatch::walk` and `remember::remember_disable`: the callback table's
/// version taken before the callback, the insert validated against it under
/// the table's lock; the writer is the real `Registry::restart_tool_events`
/// (the version moves, then the tool's sites are forgotten). A reader racing
/// both sees the site remembered or not, and a fresh read after both sees it
/// only when the callback began after the restart.
#[test]
fn loom_disable_racing_a_restart_never_outlives_it() {
    use crate::ext::sites::table;
    let code = ObjectRef::from_addr(0x2000).unwrap();
    loom::model(move || {
        let reg = Arc::new(Registry::new());
        reg.use_tool_id(2, "cov").unwrap();
        // A site remembered before: the restart forgets it too.
        assert!(table().remember(code, 7, Event::Line, 17, 2, || true));
        let r = reg.clone();
        let restarter = thread::spawn(move || r.restart_tool_events(2).unwrap());
        let seen = reg.callbacks_version();
        // The callback runs here and answers DISABLE.
        let kept = table().remember(code, 1, Event::Line, 11, 2, || {
            reg.callbacks_version() == seen
        });
        // A fire racing the restart: either answer, never a wrong site.
        assert_eq!(table().disabled(code, 1, Event::Line, 12, 1 << 2), 0);
        restarter.join().unwrap();
        let after = reg.callbacks_version();
        let remembered = table().disabled(code, 1, Event::Line, 11, 1 << 2) != 0;
        assert!(
            !remembered || (kept && seen == after),
            "outlived the restart"
        );
        assert_eq!(table().disabled(code, 7, Event::Line, 17, 1 << 2), 0);
    });
}
