//! `EnterScope`: fill a scope's slots with the tools of their events (docs/BEHAVIOUR.md, "Scopes").

use std::cell::Cell;

use crate::event::Event;
use crate::ext::State;
use crate::failure::Error;
use crate::registry;

pub use crate::slot::SlotState;

/// Enter a scope: when `version` is current nothing is read or written;
/// otherwise every slot's `active` gets the tools of its event (C_RETURN and
/// C_RAISE get CALL's, BRANCH gets BRANCH_RIGHT's) and `version` is updated.
///
/// An event id of 19 or more is a ValueError and nothing is written.
/// `states` and `event_types` must have the same length.
#[inline]
pub fn enter_scope(
    states: &[SlotState],
    version: &Cell<u64>,
    event_types: &[u8],
) -> Result<(), Error> {
    if version.get() == registry::version_relaxed() {
        return Ok(());
    }
    refresh(states, version, event_types)
}

/// The refresh half of [`enter_scope`], for callers that already saw a stale
/// version: validate every id (a ValueError and nothing written), then fill
/// every slot and store the version.
#[cold]
#[inline(never)]
pub fn refresh(states: &[SlotState], version: &Cell<u64>, event_types: &[u8]) -> Result<(), Error> {
    try_refresh(states, version, event_types).map_err(|InvalidEvent| invalid_event(event_types))
}

/// Some id in `event_types` is 19 or more; [`invalid_event`] builds the
/// error (kept out of the fill path: a unit error returns in a register).
#[derive(Debug)]
pub(crate) struct InvalidEvent;

/// [`refresh`] without building the error, inlined into the C entry point's
/// (already out-of-line) refresh so it costs no second call and frame.
#[inline(always)]
pub(crate) fn try_refresh(
    states: &[SlotState],
    version: &Cell<u64>,
    event_types: &[u8],
) -> Result<(), InvalidEvent> {
    try_refresh_with(states, version, event_types, || None)
}

/// The reference refresh, the one every other is held to (the C layer's
/// kernels are tested against it): validate, read the version, test the
/// extensions' gate, fill, store the version. `locals` gives, for each
/// slot event id, tools to OR in (a code-like's local events,
/// `ext::codelike`), read after the version; `None` adds nothing.
#[inline(always)]
pub(crate) fn try_refresh_with(
    states: &[SlotState],
    version: &Cell<u64>,
    event_types: &[u8],
    locals: impl FnOnce() -> Option<[u8; Event::COUNT]>,
) -> Result<(), InvalidEvent> {
    debug_assert_eq!(states.len(), event_types.len());
    if !all_valid(event_types) {
        return Err(InvalidEvent);
    }
    // Version first: if a writer races, the stored copy is the older one and
    // the next entry refreshes again.
    let current = registry::version();
    // The extensions' gate (docs/ARCHITECTURE.md, "The seam"): once a
    // per-tool restart, the lasting mode or the host's numbering was used,
    // refreshes take the marked refresh (one relaxed byte load until then).
    if registry::global().ext().refresh_gate_open() {
        let (ext, mask) = (|| registry::global().ext(), registry::scope_mask_by_id);
        match locals() {
            None => State::refresh_marked(ext, states, version, event_types, current, mask, |_| 0),
            Some(local) => {
                State::refresh_marked(ext, states, version, event_types, current, mask, |id| {
                    local.get(usize::from(id)).copied().unwrap_or(0)
                })
            }
        }
        return Ok(());
    }
    // Stored before the fill (which cannot fail, and nothing else sees the
    // scope meanwhile) so the fill loop has two more free registers.
    version.set(current);
    match locals() {
        None => fill(states, event_types),
        Some(local) => fill_with(states, event_types, &local),
    }
    Ok(())
}

/// [`fill`] with `local[id]` ORed into each slot's tools.
#[cold]
#[inline(never)]
fn fill_with(states: &[SlotState], event_types: &[u8], local: &[u8; Event::COUNT]) {
    for (slot, &id) in states.iter().zip(event_types) {
        let extra = local.get(usize::from(id)).copied().unwrap_or(0);
        slot.active.set(registry::scope_mask_by_id(id) | extra);
    }
}

/// The refresh while the registry is idle at `current` (no tool has an
/// event, no option is set, no restart gate: `Registry::idle_version`
/// equals `current`), which [`try_refresh`] would give at `current`:
/// every id checked (nothing written when one is bad), each `active` 0,
/// `opaque` kept, `version` = `current`.
#[inline]
pub(crate) fn try_refresh_idle(
    states: &[SlotState],
    version: &Cell<u64>,
    event_types: &[u8],
    current: u64,
) -> Result<(), InvalidEvent> {
    debug_assert_eq!(states.len(), event_types.len());
    if !all_valid(event_types) {
        return Err(InvalidEvent);
    }
    version.set(current);
    for slot in states {
        slot.active.set(0);
    }
    Ok(())
}

/// `active` of each slot = the tools of its (valid) id: 3 instructions a
/// slot (load the id, load its mask, store), in straight-line runs of 8, and
/// the last 0-7 slots as two runs of 4 that may overlap (rewriting a slot
/// with the same mask) or one to three single slots; no per-slot loop
/// counter and no loop for the remainder.
#[inline(always)]
fn fill(states: &[SlotState], event_types: &[u8]) {
    let run = |s: &[SlotState], e: &[u8]| {
        for (slot, &id) in s.iter().zip(e) {
            slot.active.set(registry::scope_mask_by_id(id));
        }
    };
    let mut s8 = states.chunks_exact(8);
    let mut e8 = event_types.chunks_exact(8);
    for (s, e) in (&mut s8).zip(&mut e8) {
        run(s, e);
    }
    match (s8.remainder(), e8.remainder()) {
        (s @ [_, _, _, _, ..], e @ [_, _, _, _, ..]) => {
            let n = s.len().min(e.len());
            let tail = |x: usize| x.saturating_sub(4)..x;
            run(s.get(..4).unwrap_or(&[]), e.get(..4).unwrap_or(&[]));
            run(s.get(tail(n)).unwrap_or(&[]), e.get(tail(n)).unwrap_or(&[]));
        }
        (s, e) => run(s, e),
    }
}

/// Whether every id is below [`Event::COUNT`], with no branch per id. A byte
/// `b` is bad when `b >= 128` (its own top bit) or `b + (128 - COUNT)`
/// reaches 128; the sum carries into the next byte only when `b >= 128`,
/// a bad byte that is flagged anyway. Words of 8 (the last one overlapping
/// the others), or two words of 4 for 4-7 ids; the failing index is found
/// only on the error path.
#[inline(always)]
fn all_valid(event_types: &[u8]) -> bool {
    const ADD: u8 = 128 - Event::COUNT as u8;
    let n = event_types.len();
    if n >= 8 {
        let word = |s: &[u8]| {
            // Never the fallback: `s` has 8 bytes (an all-bad word would be).
            let x = u64::from_ne_bytes(s.try_into().unwrap_or([0xff; 8]));
            x.wrapping_add(u64::from_ne_bytes([ADD; 8])) | x
        };
        let last = word(event_types.get(n - 8..).unwrap_or(&[0xff; 8]));
        let all = event_types
            .chunks_exact(8)
            .fold(last, |acc, c| acc | word(c));
        all & u64::from_ne_bytes([0x80; 8]) == 0
    } else if n >= 4 {
        let word = |s: &[u8]| {
            let x = u32::from_ne_bytes(s.try_into().unwrap_or([0xff; 4]));
            x.wrapping_add(u32::from_ne_bytes([ADD; 4])) | x
        };
        let first = word(event_types.get(..4).unwrap_or(&[0xff; 4]));
        let last = word(event_types.get(n - 4..).unwrap_or(&[0xff; 4]));
        (first | last) & u32::from_ne_bytes([0x80; 4]) == 0
    } else {
        event_types.iter().all(|&e| usize::from(e) < Event::COUNT)
    }
}

/// The error for ids that failed [`all_valid`]: the first bad id and its index.
#[cold]
#[inline(never)]
pub(crate) fn invalid_event(event_types: &[u8]) -> Error {
    first_invalid(event_types, Event::COUNT, "")
}

/// A ValueError naming the first id of `event_types` that is `count` or
/// more, and its index; `numbering` ends the message's range.
fn first_invalid(event_types: &[u8], count: usize, numbering: &str) -> Error {
    let i = event_types
        .iter()
        .position(|&e| usize::from(e) >= count)
        .unwrap_or(0);
    Error::value(format!(
        "invalid event {} in event_types[{i}] (must be between 0 and {}{numbering})",
        event_types.get(i).copied().unwrap_or(0),
        count - 1
    ))
}

/// The library's id (CPython 3.14's numbering) for CPython 3.13's event id
/// `id`: 0-7 are the same, 3.13's BRANCH (8) is the legacy BRANCH (its slot
/// gets BRANCH_RIGHT's tools), 9-16 (STOP_ITERATION to C_RAISE) move up by
/// one (3.14 added BRANCH_LEFT/BRANCH_RIGHT at 8/9). `None` for 17 and more.
pub const fn id_from_313(id: u8) -> Option<u8> {
    match id {
        0..=7 => Some(id),
        8 => Some(Event::Branch as u8),
        9..=16 => Some(id + 1),
        _ => None,
    }
}

/// How many events CPython 3.13's numbering has (ids 0-16).
pub const EVENTS_313: usize = 17;

/// The error for `event_types` (CPython 3.13's ids) holding an id of
/// [`EVENTS_313`] or more: a ValueError naming the first and its index.
#[cold]
#[inline(never)]
pub fn invalid_event_313(event_types: &[u8]) -> Error {
    first_invalid(event_types, EVENTS_313, " in CPython 3.13's numbering")
}

/// Run `f` on `event_types` (CPython 3.13's ids) translated to the
/// library's ([`id_from_313`]). An id of 17 or more is a ValueError naming
/// the first one ([`invalid_event_313`]), and `f` is not run. Up to 64 ids
/// are translated on the stack; longer scopes allocate.
pub fn with_ids_from_313<R>(event_types: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<R, Error> {
    let translate = |out: &mut [u8]| -> Result<(), Error> {
        for (o, &id) in out.iter_mut().zip(event_types) {
            *o = id_from_313(id).ok_or_else(|| invalid_event_313(event_types))?;
        }
        Ok(())
    };
    let n = event_types.len();
    if n <= 64 {
        let mut buf = [0u8; 64];
        let out = &mut buf[..n];
        translate(out)?;
        Ok(f(out))
    } else {
        let mut buf = vec![0u8; n];
        translate(&mut buf)?;
        Ok(f(&buf))
    }
}

/// Exit a scope. Scopes keep no stack, so Enter and Exit need not balance.
pub fn exit_scope() {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventSet;
    use crate::test_support::registry_lock;

    fn slots(n: usize, active: u8, opaque: u8) -> Vec<SlotState> {
        (0..n)
            .map(|_| SlotState {
                active: Cell::new(active),
                opaque: Cell::new(opaque),
            })
            .collect()
    }

    #[test]
    fn current_version_touches_nothing() {
        let _g = registry_lock();
        let states = slots(2, 0xAA, 0x55);
        let version = Cell::new(registry::version());
        enter_scope(&states, &version, &[0, 200]).unwrap();
        assert_eq!(states[0].active.get(), 0xAA);
        assert_eq!(states[1].active.get(), 0xAA);
    }

    #[test]
    fn refresh_fills_every_slot_and_keeps_opaque() {
        let _g = registry_lock();
        registry::use_tool_id(2, "a").unwrap();
        registry::use_tool_id(4, "b").unwrap();
        registry::set_events(2, (EventSet::PY_START | EventSet::CALL).bits()).unwrap();
        registry::set_events(4, (EventSet::PY_START | EventSet::BRANCH_RIGHT).bits()).unwrap();
        let states = slots(6, 0xFF, 7);
        let version = Cell::new(u64::MAX);
        let events = [0, 16, 17, 18, 8, 5];
        enter_scope(&states, &version, &events).unwrap();
        let got: Vec<u8> = states.iter().map(|s| s.active.get()).collect();
        assert_eq!(got, [0b10100, 0b100, 0b100, 0b10000, 0, 0]);
        assert!(states.iter().all(|s| s.opaque.get() == 7));
        assert_eq!(version.get(), registry::version());
    }

    #[test]
    fn bad_event_id_writes_nothing() {
        let _g = registry_lock();
        let states = slots(3, 9, 9);
        let version = Cell::new(u64::MAX);
        let err = enter_scope(&states, &version, &[0, 1, 19]).unwrap_err();
        assert_eq!(
            err.message(),
            "invalid event 19 in event_types[2] (must be between 0 and 18)"
        );
        assert!(states.iter().all(|s| s.active.get() == 9));
        assert_eq!(version.get(), u64::MAX);
    }

    /// With no tool holding an event, the idle refresh writes what the
    /// general one writes (every length 0-70: `active` 0, `opaque` kept,
    /// the version stored), and rejects a bad id the same way.
    #[test]
    fn idle_refresh_is_the_refresh_with_no_tool_active() {
        let _g = registry_lock();
        registry::use_tool_id(4, "gone").unwrap();
        registry::set_events(4, EventSet::LINE.bits()).unwrap();
        registry::free_tool_id(4).unwrap();
        let current = registry::version();
        for n in 0..=70usize {
            let events: Vec<u8> = (0..n).map(|i| ((i * 7 + n) % Event::COUNT) as u8).collect();
            let general = slots(n, 0xEE, 0x5A);
            let idle = slots(n, 0xEE, 0x5A);
            let (v1, v2) = (Cell::new(u64::MAX), Cell::new(u64::MAX));
            refresh(&general, &v1, &events).unwrap();
            try_refresh_idle(&idle, &v2, &events, current).unwrap();
            for (a, b) in general.iter().zip(&idle) {
                assert_eq!(
                    (a.active.get(), a.opaque.get()),
                    (b.active.get(), b.opaque.get())
                );
                assert_eq!((b.active.get(), b.opaque.get()), (0, 0x5A), "n={n}");
            }
            assert_eq!(v1.get(), v2.get());
            if n > 0 {
                let mut bad = events.clone();
                bad[n / 2] = 19;
                let idle = slots(n, 0xEE, 0x5A);
                let v = Cell::new(7);
                assert!(try_refresh_idle(&idle, &v, &bad, current).is_err());
                assert!(idle
                    .iter()
                    .all(|s| s.active.get() == 0xEE && s.opaque.get() == 0x5A));
                assert_eq!(v.get(), 7);
            }
        }
    }

    /// Tools 0-5 each take a different set of events, so neighbouring slots
    /// get different masks.
    fn distinct_masks() {
        for t in 0..6i64 {
            registry::use_tool_id(t, "t").unwrap();
            let events = (0..Event::COUNT as u32)
                .filter(|e| (e + t as u32) % 3 != 0 || e % (t as u32 + 2) == 0)
                .fold(0u32, |acc, e| acc | 1 << e);
            let forbidden = EventSet::C_RETURN | EventSet::C_RAISE;
            registry::set_events(t, events & (EventSet::all() - forbidden).bits()).unwrap();
        }
        let mut masks: Vec<u8> = (0..Event::COUNT as u8)
            .map(registry::scope_mask_by_id)
            .collect();
        masks.sort_unstable();
        masks.dedup();
        assert!(masks.len() >= 8, "{masks:?}");
    }

    /// Every length 0-70 (the runs of 8, the overlapping runs of 4 and the
    /// single slots of `fill`, the words of `all_valid`): each slot gets its
    /// own event's mask, `opaque` is kept.
    #[test]
    fn refresh_fills_every_length() {
        let _g = registry_lock();
        distinct_masks();
        for n in 0..=70usize {
            let events: Vec<u8> = (0..n).map(|i| ((i * 7 + n) % Event::COUNT) as u8).collect();
            let states = slots(n, 0xEE, 0x5A);
            let version = Cell::new(u64::MAX);
            refresh(&states, &version, &events).unwrap();
            for (i, (s, &e)) in states.iter().zip(&events).enumerate() {
                assert_eq!(
                    s.active.get(),
                    registry::scope_mask_by_id(e),
                    "n={n} slot {i}"
                );
                assert_eq!(s.opaque.get(), 0x5A);
            }
            assert_eq!(version.get(), registry::version());
        }
    }

    /// A bad id anywhere (every length 1-70, every position, values just
    /// past the limit, around 128 where the word check's carry matters, and
    /// 255), next to the largest valid id: ValueError naming the first bad
    /// one, nothing written.
    #[test]
    fn refresh_rejects_a_bad_id_anywhere() {
        let _g = registry_lock();
        distinct_masks();
        for n in 1..=70usize {
            for at in 0..n {
                for bad in [19u8, 20, 109, 127, 128, 146, 147, 200, 255] {
                    let mut events = vec![18u8; n];
                    events[at] = bad;
                    let states = slots(n, 0xEE, 0x5A);
                    let version = Cell::new(u64::MAX);
                    let err = refresh(&states, &version, &events).unwrap_err();
                    assert_eq!(
                        err.message(),
                        format!(
                            "invalid event {bad} in event_types[{at}] (must be between 0 and 18)"
                        )
                    );
                    assert!(states
                        .iter()
                        .all(|s| s.active.get() == 0xEE && s.opaque.get() == 0x5A));
                    assert_eq!(version.get(), u64::MAX);
                }
            }
        }
        // Every byte value alone and in each position of a word of 8 and 4.
        for bad in 0..=255u8 {
            for n in [1usize, 4, 5, 8, 9] {
                let events = vec![bad; n];
                let states = slots(n, 0xEE, 0);
                let version = Cell::new(u64::MAX);
                let result = refresh(&states, &version, &events);
                assert_eq!(
                    result.is_ok(),
                    usize::from(bad) < Event::COUNT,
                    "{bad} x{n}"
                );
            }
        }
    }

    #[test]
    fn cpython_313_ids_translate_to_the_librarys() {
        let all: Vec<u8> = (0..17).collect();
        let got = with_ids_from_313(&all, <[u8]>::to_vec).unwrap();
        assert_eq!(
            got,
            [0, 1, 2, 3, 4, 5, 6, 7, 18, 10, 11, 12, 13, 14, 15, 16, 17]
        );
        assert_eq!(id_from_313(8), Some(Event::Branch as u8));
        assert_eq!(id_from_313(10), Some(Event::Raise as u8));
        assert_eq!(id_from_313(17), None);
        // Longer than the stack buffer.
        let many: Vec<u8> = (0..100).map(|i| i % 17).collect();
        let got = with_ids_from_313(&many, <[u8]>::to_vec).unwrap();
        assert_eq!(got.len(), 100);
        assert_eq!(got[99], id_from_313(99 % 17).unwrap());
        let err = with_ids_from_313(&[0, 5, 17, 200], |_| unreachable!()).unwrap_err();
        assert_eq!(
            err.message(),
            "invalid event 17 in event_types[2] (must be between 0 and 16 in CPython 3.13's numbering)"
        );
    }
}
