//! The callbacks the cases register: what each handler answers and the
//! record of every call.

use super::*;

/// What a handler does when called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Zero,
    Disable,
    /// Set a ValueError and return -1.
    FailWithError,
    /// Return -1 with no error set.
    FailBare,
    /// Return 0 but leave a RuntimeError set.
    Stray,
    /// Return 7 (ignored).
    Other,
    /// Set a host exception and return -1.
    FailWithHost,
}

const ANSWERS: [Answer; 7] = [
    Answer::Zero,
    Answer::Disable,
    Answer::FailWithError,
    Answer::FailBare,
    Answer::Stray,
    Answer::Other,
    Answer::FailWithHost,
];

/// Handler `i` answers `ANSWERS[i % 7]`; the first ones answer 0 so that
/// most walks go on.
pub const HANDLERS: usize = 10;

/// The handler that answers DISABLE.
pub const DISABLE_HANDLER: usize = 8;

/// The offsets of the fires of a lasting-mode case: few, so that sites
/// repeat (and the library's site table, 8192 entries with an 8-entry probe
/// window, never fills: at most 2 code-likes x 3 offsets x 11 local events x
/// 6 tools, far fewer in one case).
pub const LASTING_OFFSETS: [i32; 3] = [0, 1, 42];

pub fn answer_of(h: usize) -> Answer {
    if h < 3 {
        Answer::Zero
    } else {
        ANSWERS[h % 7]
    }
}

pub static HANDLER_DATA: [u8; HANDLERS] = [0; HANDLERS];

pub fn data_of(h: usize) -> *mut c_void {
    &HANDLER_DATA[h] as *const u8 as *mut c_void
}

/// One delivered event as a callback saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub handler: usize,
    pub event: i32,
    pub tool: i32,
    pub codelike: usize,
    pub offset: i32,
    pub lineno: i32,
    pub arg0: usize,
    pub arg1: usize,
    /// The indicator was clear when the callback started.
    pub clear_at_entry: bool,
}

pub static CALLS: Mutex<Vec<Call>> = Mutex::new(Vec::new());

pub unsafe extern "C" fn callback(data: *mut c_void, ev: *const PyMonitoringEvent) -> c_int {
    let h = (data as usize) - (HANDLER_DATA.as_ptr() as usize);
    let ev = unsafe { *ev };
    CALLS.lock().unwrap().push(Call {
        handler: h,
        event: ev.event,
        tool: ev.tool_id,
        codelike: ev.codelike as usize,
        offset: ev.offset,
        lineno: ev.lineno,
        arg0: ev.arg0 as usize,
        arg1: ev.arg1 as usize,
        clear_at_entry: PyMonitoring_ErrOccurred() == 0,
    });
    match answer_of(h) {
        Answer::Zero => 0,
        Answer::Disable => PY_MONITORING_DISABLE,
        Answer::FailWithError => {
            unsafe {
                PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, c"handler failed".as_ptr())
            };
            -1
        }
        Answer::FailBare => -1,
        Answer::Stray => {
            unsafe {
                PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, c"stray error".as_ptr())
            };
            0
        }
        Answer::Other => 7,
        Answer::FailWithHost => {
            PyMonitoring_SetRaisedException(obj(20));
            -1
        }
    }
}
