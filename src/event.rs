//! Event ids (CPython 3.14 numbering) and event sets; the table of events
//! ([`table`]) has each event's names, arguments and fire documentation.

use crate::failure::Error;

pub mod table;

/// A monitoring event, numbered as in CPython 3.14.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Event {
    /// A function starts (local).
    PyStart = 0,
    /// A generator or coroutine resumes (local).
    PyResume = 1,
    /// A function returns (local).
    PyReturn = 2,
    /// A generator yields (local).
    PyYield = 3,
    /// A call is about to be made (local).
    Call = 4,
    /// A new line is reached (local).
    Line = 5,
    /// An instruction is about to run (local; no fire function).
    Instruction = 6,
    /// An unconditional jump (local).
    Jump = 7,
    /// A branch goes left (local).
    BranchLeft = 8,
    /// A branch goes right (local).
    BranchRight = 9,
    /// An artificial StopIteration (local).
    StopIteration = 10,
    /// An exception is raised.
    Raise = 11,
    /// An exception is handled.
    ExceptionHandled = 12,
    /// A function exits with an exception.
    PyUnwind = 13,
    /// An exception is thrown into a generator.
    PyThrow = 14,
    /// An exception is re-raised.
    Reraise = 15,
    /// A C function returns (rides on CALL).
    CReturn = 16,
    /// A C function raises (rides on CALL).
    CRaise = 17,
    /// Legacy BRANCH: BRANCH_LEFT and BRANCH_RIGHT together.
    Branch = 18,
}

impl Event {
    /// Number of event ids (`0..COUNT` are valid).
    pub const COUNT: usize = 19;
    /// Events with ids `0..LOCAL_COUNT` are local: DISABLE clears a scope bit.
    pub const LOCAL_COUNT: u8 = 11;

    /// Every event, in id order.
    pub const ALL: [Event; Event::COUNT] = [
        Event::PyStart,
        Event::PyResume,
        Event::PyReturn,
        Event::PyYield,
        Event::Call,
        Event::Line,
        Event::Instruction,
        Event::Jump,
        Event::BranchLeft,
        Event::BranchRight,
        Event::StopIteration,
        Event::Raise,
        Event::ExceptionHandled,
        Event::PyUnwind,
        Event::PyThrow,
        Event::Reraise,
        Event::CReturn,
        Event::CRaise,
        Event::Branch,
    ];

    /// The event with this id, if it is one.
    pub fn from_id(id: i64) -> Option<Event> {
        usize::try_from(id)
            .ok()
            .and_then(|i| Event::ALL.get(i))
            .copied()
    }

    /// Like [`Event::from_id`], but an unknown id is a ValueError
    /// `invalid event %d`, as CPython words it.
    pub fn try_from_id(id: i64) -> Result<Event, Error> {
        Event::from_id(id).ok_or_else(|| Error::value(format!("invalid event {id}")))
    }

    /// The numeric id.
    pub const fn id(self) -> u8 {
        self as u8
    }

    /// The name CPython uses (`"PY_START"`, `"C_RETURN"`, …).
    pub const fn name(self) -> &'static str {
        table::EVENTS[self as usize].name
    }

    /// Local events can be DISABLEd per scope slot.
    pub const fn is_local(self) -> bool {
        self.id() < Event::LOCAL_COUNT
    }

    /// Events that take the thread's current exception as their argument.
    pub const fn takes_exception(self) -> bool {
        matches!(
            self,
            Event::PyThrow
                | Event::Raise
                | Event::Reraise
                | Event::ExceptionHandled
                | Event::PyUnwind
                | Event::CRaise
        )
    }

    /// The event whose tool mask a scope slot of this event gets:
    /// C_RETURN and C_RAISE ride on CALL, legacy BRANCH on BRANCH_RIGHT.
    pub const fn scope_source(self) -> Event {
        match self {
            Event::CReturn | Event::CRaise => Event::Call,
            Event::Branch => Event::BranchRight,
            other => other,
        }
    }

    /// The callback slots a registration for this event fills:
    /// BRANCH fills both BRANCH_LEFT and BRANCH_RIGHT.
    pub fn callback_slots(self) -> &'static [Event] {
        const BRANCHES: [Event; 2] = [Event::BranchLeft, Event::BranchRight];
        match self {
            Event::Branch => &BRANCHES,
            _ => std::slice::from_ref(&Event::ALL[self as usize]),
        }
    }

    /// This event's bit in an [`EventSet`].
    pub const fn bit(self) -> EventSet {
        EventSet::from_bits_retain(1 << self.id())
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

bitflags::bitflags! {
    /// A set of events: bit `1 << id`, the values of `sys.monitoring.events`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct EventSet: u32 {
        /// PY_START
        const PY_START = 1 << 0;
        /// PY_RESUME
        const PY_RESUME = 1 << 1;
        /// PY_RETURN
        const PY_RETURN = 1 << 2;
        /// PY_YIELD
        const PY_YIELD = 1 << 3;
        /// CALL
        const CALL = 1 << 4;
        /// LINE
        const LINE = 1 << 5;
        /// INSTRUCTION
        const INSTRUCTION = 1 << 6;
        /// JUMP
        const JUMP = 1 << 7;
        /// BRANCH_LEFT
        const BRANCH_LEFT = 1 << 8;
        /// BRANCH_RIGHT
        const BRANCH_RIGHT = 1 << 9;
        /// STOP_ITERATION
        const STOP_ITERATION = 1 << 10;
        /// RAISE
        const RAISE = 1 << 11;
        /// EXCEPTION_HANDLED
        const EXCEPTION_HANDLED = 1 << 12;
        /// PY_UNWIND
        const PY_UNWIND = 1 << 13;
        /// PY_THROW
        const PY_THROW = 1 << 14;
        /// RERAISE
        const RERAISE = 1 << 15;
        /// C_RETURN
        const C_RETURN = 1 << 16;
        /// C_RAISE
        const C_RAISE = 1 << 17;
        /// BRANCH (legacy): stands for BRANCH_LEFT | BRANCH_RIGHT
        const BRANCH = 1 << 18;
    }
}

impl EventSet {
    /// Validate a raw set as `sys.monitoring.set_events` does and return the
    /// set a tool keeps: BRANCH becomes BRANCH_LEFT|BRANCH_RIGHT, and
    /// C_RETURN/C_RAISE (allowed only together with CALL) are dropped because
    /// they ride on CALL.
    pub fn normalize(raw: u32) -> Result<EventSet, Error> {
        let Some(mut set) = EventSet::from_bits(raw) else {
            return Err(Error::value(format!("invalid event set 0x{raw:x}")));
        };
        let c_events = EventSet::C_RETURN | EventSet::C_RAISE;
        if set.intersects(c_events) && !set.contains(c_events | EventSet::CALL) {
            return Err(Error::value(
                "cannot set C_RETURN or C_RAISE events independently",
            ));
        }
        set.remove(c_events);
        if set.contains(EventSet::BRANCH) {
            set.remove(EventSet::BRANCH);
            set.insert(EventSet::BRANCH_LEFT | EventSet::BRANCH_RIGHT);
        }
        Ok(set)
    }

    /// Whether `event`'s bit is in the set.
    pub fn has(self, event: Event) -> bool {
        self.contains(event.bit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_cpython_314_numbers() {
        let expected = [
            ("PY_START", 0),
            ("PY_RESUME", 1),
            ("PY_RETURN", 2),
            ("PY_YIELD", 3),
            ("CALL", 4),
            ("LINE", 5),
            ("INSTRUCTION", 6),
            ("JUMP", 7),
            ("BRANCH_LEFT", 8),
            ("BRANCH_RIGHT", 9),
            ("STOP_ITERATION", 10),
            ("RAISE", 11),
            ("EXCEPTION_HANDLED", 12),
            ("PY_UNWIND", 13),
            ("PY_THROW", 14),
            ("RERAISE", 15),
            ("C_RETURN", 16),
            ("C_RAISE", 17),
            ("BRANCH", 18),
        ];
        for (i, (name, id)) in expected.iter().enumerate() {
            let ev = Event::ALL[i];
            assert_eq!(ev.name(), *name);
            assert_eq!(ev.id(), *id);
            assert_eq!(Event::from_id(*id as i64), Some(ev));
            assert_eq!(ev.bit().bits(), 1 << id);
        }
        assert_eq!(Event::from_id(19), None);
        assert_eq!(Event::from_id(-1), None);
        assert_eq!(
            Event::try_from_id(255).unwrap_err().message(),
            "invalid event 255"
        );
    }

    #[test]
    fn locality_and_exception_events() {
        let local: Vec<_> = Event::ALL.iter().filter(|e| e.is_local()).collect();
        assert_eq!(local.len(), 11);
        assert!(Event::StopIteration.is_local());
        assert!(!Event::Raise.is_local());
        let exc: Vec<_> = Event::ALL
            .iter()
            .filter(|e| e.takes_exception())
            .map(|e| e.name())
            .collect();
        assert_eq!(
            exc,
            [
                "RAISE",
                "EXCEPTION_HANDLED",
                "PY_UNWIND",
                "PY_THROW",
                "RERAISE",
                "C_RAISE"
            ]
        );
    }

    #[test]
    fn scope_sources_and_callback_slots() {
        assert_eq!(Event::CReturn.scope_source(), Event::Call);
        assert_eq!(Event::CRaise.scope_source(), Event::Call);
        assert_eq!(Event::Branch.scope_source(), Event::BranchRight);
        assert_eq!(Event::Line.scope_source(), Event::Line);
        assert_eq!(
            Event::Branch.callback_slots(),
            &[Event::BranchLeft, Event::BranchRight]
        );
        assert_eq!(Event::Raise.callback_slots(), &[Event::Raise]);
    }

    #[test]
    fn normalize_follows_set_events() {
        assert_eq!(
            EventSet::normalize(1 << 19).unwrap_err().message(),
            "invalid event set 0x80000"
        );
        assert_eq!(
            EventSet::normalize(0xffff_ffff).unwrap_err().message(),
            "invalid event set 0xffffffff"
        );
        let msg = "cannot set C_RETURN or C_RAISE events independently";
        assert_eq!(
            EventSet::normalize(EventSet::C_RETURN.bits())
                .unwrap_err()
                .message(),
            msg
        );
        let only_one = EventSet::CALL | EventSet::C_RAISE;
        assert_eq!(
            EventSet::normalize(only_one.bits()).unwrap_err().message(),
            msg
        );
        let all = EventSet::CALL | EventSet::C_RETURN | EventSet::C_RAISE;
        assert_eq!(EventSet::normalize(all.bits()).unwrap(), EventSet::CALL);
        assert_eq!(
            EventSet::normalize(EventSet::BRANCH.bits()).unwrap(),
            EventSet::BRANCH_LEFT | EventSet::BRANCH_RIGHT
        );
        assert_eq!(EventSet::normalize(0).unwrap(), EventSet::empty());
        let instr = EventSet::INSTRUCTION.bits();
        assert_eq!(EventSet::normalize(instr).unwrap().bits(), instr);
    }
}
