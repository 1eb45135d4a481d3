//! The records of one fire: what the firer asks for ([`Firing`]), what the
//! dispatch carries to the callbacks ([`FireRecord`], laid out as the C
//! `PyMonitoringEvent`) and what a Rust callback receives ([`EventRecord`]).
//! Leaf types: the registry's handlers and the dispatch both name them.

use crate::event::Event;
use crate::object::ObjectRef;

/// What a tool's callback receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventRecord {
    /// The event delivered (BRANCH_RIGHT for the legacy BRANCH).
    pub event: Event,
    /// The tool being called.
    pub tool: u8,
    /// The code-like object given by the firer.
    pub codelike: ObjectRef,
    /// The offset given by the firer (also for LINE).
    pub offset: i32,
    /// The line number for LINE; -1 for every other event.
    pub lineno: i32,
    /// retval | callable | target | exception | stop-iteration value;
    /// `None` is delivered as MISSING.
    pub arg0: Option<ObjectRef>,
    /// CALL's first argument; `None` (MISSING) for other events.
    pub arg1: Option<ObjectRef>,
}

/// An event as the dispatch carries it to the callbacks, built once per
/// fire.
///
/// Its first 40 bytes are laid out as the C `PyMonitoringEvent` (`event`,
/// `tool_id`, `codelike`, `offset`, `lineno`, `arg0`, `arg1`; identities are
/// address-sized and `Option<ObjectRef>` is 0 for `None`), so a C callback is
/// handed a reference to it as it is. An absent object argument holds the
/// identity the firer gave for "missing" (the C layer gives
/// `PyMonitoring_MISSING`; the Rust API gives none, stored as 0) and is
/// marked absent, so Rust callbacks see it as `None`
/// ([`FireRecord::to_event_record`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FireRecord {
    /// `event.id()`.
    pub(crate) event_id: i32,
    /// The tool being called (scratch until the first callback).
    pub(crate) tool: i32,
    /// As given by the firer.
    pub(crate) codelike: ObjectRef,
    /// As given by the firer.
    pub(crate) offset: i32,
    /// LINE's line number; -1 otherwise.
    pub(crate) lineno: i32,
    /// The first object argument, or the "missing" identity.
    pub(crate) arg0: Option<ObjectRef>,
    /// CALL's argument, or the "missing" identity.
    pub(crate) arg1: Option<ObjectRef>,
    /// The event.
    pub(crate) event: Event,
    /// Bit 0: `arg0` is absent; bit 1: `arg1` is absent; [`ZERO_ARG`]:
    /// an object argument is 0 (absent, with no "missing" identity).
    pub(crate) absent: u8,
}

/// `FireRecord::absent` bit: `arg0` or `arg1` holds 0, so the record is not
/// a complete C event (one bit test for the C handler instead of two
/// comparisons a tool).
const ZERO_ARG: u8 = 4;

/// The `absent` byte: which arguments the firer left out, and whether an
/// argument is stored as 0.
#[inline(always)]
fn absent_bits(absent: [bool; 2], stored: [Option<ObjectRef>; 2]) -> u8 {
    let zero = stored[0].is_none() || stored[1].is_none();
    u8::from(absent[0]) | (u8::from(absent[1]) << 1) | if zero { ZERO_ARG } else { 0 }
}

impl FireRecord {
    /// The record for `firing`; absent arguments hold `missing`.
    #[inline(always)]
    pub fn new(firing: Firing, missing: Option<ObjectRef>) -> FireRecord {
        let arg0 = firing.arg0.or(missing);
        let arg1 = firing.arg1.or(missing);
        FireRecord {
            event_id: i32::from(firing.event.id()),
            tool: 0,
            codelike: firing.codelike,
            offset: firing.offset,
            lineno: firing.lineno,
            arg0,
            arg1,
            event: firing.event,
            absent: absent_bits([firing.arg0.is_none(), firing.arg1.is_none()], [arg0, arg1]),
        }
    }

    /// The event.
    #[inline(always)]
    pub fn event(&self) -> Event {
        self.event
    }

    /// The tool being called.
    #[inline(always)]
    pub fn tool(&self) -> u8 {
        self.tool as u8
    }

    /// `arg0` and `arg1` are both non-zero identities: present, or the
    /// "missing" identity the firer gave.
    #[inline(always)]
    pub fn args_filled(&self) -> bool {
        self.absent & ZERO_ARG == 0
    }

    /// The record as a Rust callback receives it.
    #[inline]
    pub fn to_event_record(&self) -> EventRecord {
        EventRecord {
            event: self.event,
            tool: self.tool(),
            codelike: self.codelike,
            offset: self.offset,
            lineno: self.lineno,
            arg0: if self.absent & 1 != 0 {
                None
            } else {
                self.arg0
            },
            arg1: if self.absent & 2 != 0 {
                None
            } else {
                self.arg1
            },
        }
    }

    /// Give the absent object arguments `missing` (a host's MISSING).
    #[inline]
    pub(crate) fn fill_absent(&mut self, missing: ObjectRef) {
        if self.absent & 1 != 0 {
            self.arg0 = Some(missing);
        }
        if self.absent & 2 != 0 {
            self.arg1 = Some(missing);
        }
        self.absent = absent_bits(
            [self.absent & 1 != 0, self.absent & 2 != 0],
            [self.arg0, self.arg1],
        );
    }

    /// Give `arg0` an exception event's current exception (present).
    /// [`ZERO_ARG`] is left as it is: it stays exact when `arg0` held the
    /// "missing" identity or `arg1` is 0, and is at worst conservative (a
    /// C callback then gets a copy), so the exception events' fast path
    /// pays one store and one mask.
    #[inline(always)]
    pub(crate) fn set_exception(&mut self, exc: ObjectRef) {
        self.arg0 = Some(exc);
        self.absent &= !1;
    }

    /// Replace `arg0` (an exception event's current exception); `None`
    /// is absent and stored as 0.
    #[inline]
    pub(crate) fn set_arg0(&mut self, arg0: Option<ObjectRef>) {
        self.arg0 = arg0;
        self.absent = absent_bits([arg0.is_none(), self.absent & 2 != 0], [arg0, self.arg1]);
    }
}

/// An event about to be fired. Exception events get their `arg0` from the
/// thread's current exception.
#[derive(Clone, Copy, Debug)]
pub struct Firing {
    /// The event.
    pub event: Event,
    /// The code-like object.
    pub codelike: ObjectRef,
    /// The offset; negative is an error.
    pub offset: i32,
    /// LINE's line number; -1 otherwise.
    pub lineno: i32,
    /// The first object argument (ignored for exception events).
    pub arg0: Option<ObjectRef>,
    /// CALL's argument.
    pub arg1: Option<ObjectRef>,
}

impl Firing {
    /// An event with no object arguments.
    #[inline]
    pub fn new(event: Event, codelike: ObjectRef, offset: i32) -> Firing {
        Firing {
            event,
            codelike,
            offset,
            lineno: -1,
            arg0: None,
            arg1: None,
        }
    }

    /// With `arg0` set.
    #[inline]
    pub fn with_arg(mut self, arg0: Option<ObjectRef>) -> Firing {
        self.arg0 = arg0;
        self
    }
}
