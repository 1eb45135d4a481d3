//! The process and thread hooks only POSIX can give: `pthread_atfork`
//! handlers that keep the library usable in a forked child (`crate::fork`),
//! and a thread-specific key whose destructor gives back a thread's state
//! when the thread ends (`crate::thread`). Both are set up at load (see
//! `on_load` in `ffi/builtin.rs`); `docs/CONCURRENCY.md` has the rules.

use std::ffi::c_void;
use std::sync::OnceLock;

extern "C" fn prepare() {
    let _ = std::panic::catch_unwind(crate::fork::prepare);
}

extern "C" fn parent() {
    let _ = std::panic::catch_unwind(crate::fork::parent);
}

extern "C" fn child() {
    let _ = std::panic::catch_unwind(crate::fork::child);
    crate::builtin::remember_process_id();
}

/// The key whose destructor runs [`crate::thread::thread_exit`]; `None`
/// when it could not be created.
static EXIT_KEY: OnceLock<Option<libc::pthread_key_t>> = OnceLock::new();

/// Runs at thread exit for a thread that armed the key. Key destructors run
/// after the thread's Rust and C++ `thread_local` destructors; a destructor
/// that sets the key again (a later destructor that calls the library
/// re-arms it) gets another round, up to `PTHREAD_DESTRUCTOR_ITERATIONS`.
unsafe extern "C" fn on_thread_exit(_value: *mut c_void) {
    let _ = std::panic::catch_unwind(crate::thread::thread_exit);
}

/// Arm the key for the calling thread: its destructor runs when the thread
/// ends. False when the key does not exist or cannot be set.
fn arm_exit_key() -> bool {
    let Some(Some(key)) = EXIT_KEY.get() else {
        return false;
    };
    if DELETED.load(std::sync::atomic::Ordering::Acquire) {
        return false;
    }
    // SAFETY: `key` was created by `pthread_key_create` and is never
    // deleted; the value is only a non-NULL marker, never dereferenced.
    unsafe {
        libc::pthread_setspecific(*key, std::ptr::NonNull::<u8>::dangling().as_ptr().cast()) == 0
    }
}

/// Whether the key was deleted (the library is being unloaded).
static DELETED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Register the fork handlers and create the thread-exit key (once).
pub(crate) fn install() {
    EXIT_KEY.get_or_init(|| {
        // SAFETY: the handlers are `extern "C"` functions with the signature
        // `pthread_atfork` expects (glibc drops a library's handlers when it
        // is unloaded).
        if unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) } == 0 {
            crate::builtin::remember_process_id();
        }
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: `key` is a valid out-pointer; the destructor has the
        // signature `pthread_key_create` expects.
        let made = unsafe { libc::pthread_key_create(&mut key, Some(on_thread_exit)) } == 0;
        if made {
            crate::thread::install_exit_hook(arm_exit_key);
        }
        made.then_some(key)
    });
}

/// At unload: delete the key, so no thread runs the destructor of a library
/// that is gone (the state of threads still running then is not given back).
pub(crate) fn uninstall() {
    if let Some(Some(key)) = EXIT_KEY.get() {
        if !DELETED.swap(true, std::sync::atomic::Ordering::AcqRel) {
            // SAFETY: the key was created by `pthread_key_create` and is
            // deleted once.
            unsafe { libc::pthread_key_delete(*key) };
        }
    }
}
