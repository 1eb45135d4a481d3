//! The boundary's discipline: panics never cross, preconditions are checked
//! first, and failures set the thread's error.

use std::any::Any;
use std::ffi::c_int;

use crate::error::{self, Error};

/// Run `$body` under a panic guard; a panic becomes a RuntimeError naming
/// `$name` and the function returns `$fail`.
macro_rules! guard {
    ($name:expr, $fail:expr, $body:block) => {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            #[cfg(test)]
            $crate::ffi::guard::fault_point($name);
            $body
        })) {
            Ok(value) => value,
            Err(payload) => {
                $crate::ffi::guard::report_panic($name, payload);
                $fail
            }
        }
    };
}

/// Return -1 with a ValueError when a precondition does not hold.
macro_rules! require {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            $crate::error::set($crate::error::Error::value(format!($($msg)+)));
            return -1;
        }
    };
}

pub(crate) use {guard, require};

pub(crate) fn report_panic(name: &str, payload: Box<dyn Any + Send>) {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    // Setting the error must not itself unwind out of the guard.
    let _ = std::panic::catch_unwind(|| {
        error::set(Error::runtime(format!("internal error in {name}: {what}")))
    });
}

/// 0 on success; -1 with the error set on failure.
pub(crate) fn status(result: Result<(), Error>) -> c_int {
    match result {
        Ok(()) => 0,
        Err(e) => {
            error::set(e);
            -1
        }
    }
}

#[cfg(test)]
thread_local! {
    static FAULT: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
}

/// Test-only: make the next guarded call of `name` on this thread panic.
#[cfg(test)]
pub(crate) fn arm_fault(name: &'static str) {
    FAULT.with(|f| f.set(Some(name)));
}

#[cfg(test)]
pub(crate) fn fault_point(name: &'static str) {
    if FAULT.with(|f| f.get()) == Some(name) {
        FAULT.with(|f| f.set(None));
        panic!("injected fault");
    }
}
