//! The calling thread's state reached through a TLS descriptor (x86-64
//! glibc): a per-thread word of this library's own, holding the address of
//! the thread's [`ThreadState`] once the thread has asked for it, and until
//! then the address of [`PLACEHOLDER`] (the word's initial value, so the
//! fire tests no NULL: the placeholder's flag word sends it to its slow
//! path, which takes the thread-local).
//!
//! Why not the thread-local itself: rustc on stable accesses a library's
//! thread-locals in the general-dynamic model, a call to `__tls_get_addr`
//! (13 instructions a fire with glibc 2.36). A descriptor whose module sits
//! in static TLS (a library linked at start, or `dlopen`ed while glibc's
//! surplus lasts) costs a `lea`, an indirect `call` of
//! `_dl_tlsdesc_return` (2), the thread pointer added and the word loaded:
//! 6 instructions, 10 a fire fewer with the NULL test the placeholder
//! saves. In dynamic TLS glibc's `_dl_tlsdesc_dynamic`
//! answers, still without `__tls_get_addr` once the block exists. Before
//! glibc 2.40 (BZ #31372) `_dl_tlsdesc_dynamic` preserved the general
//! registers but not the vector registers when it had to allocate the
//! block, where the compiler assumes a descriptor call preserves them all;
//! the call here is an `asm!` that declares those registers clobbered, so
//! nothing is kept there across it, whatever the glibc. Initial-exec, the
//! cheapest model, is not used: it makes `dlopen` fail once the surplus is
//! used up.

use crate::thread::ThreadState;

/// What the word points to before the thread's first dispatch: a state
/// whose flag word says `NOT_SET_UP`, which no thread owns and nothing
/// writes. The fire reads only its flag word, and any word but 0 (or, for
/// an exception event, `PENDING`) goes to the slow path, which tells it
/// apart ([`is_placeholder`]) before anything else.
struct Placeholder(ThreadState);

// SAFETY: never written (see above): threads only read its flag word.
unsafe impl Sync for Placeholder {}

static PLACEHOLDER: Placeholder = Placeholder(ThreadState::new());

// The word: 8 bytes of thread-local storage whose initial value is
// PLACEHOLDER's address (a relocation of the TLS image, applied before any
// thread's block is made from it), global for the crate's other objects
// and hidden (never exported: the descriptor resolves to this library's own
// block; each reference says `.hidden` too).
std::arch::global_asm!(
    ".pushsection .tdata,\"awT\",@progbits",
    ".p2align 3",
    ".globl pymonitoring_thread_state_word",
    ".hidden pymonitoring_thread_state_word",
    ".type pymonitoring_thread_state_word,@object",
    ".size pymonitoring_thread_state_word,8",
    "pymonitoring_thread_state_word:",
    ".quad {placeholder}",
    ".popsection",
    placeholder = sym PLACEHOLDER,
);

/// The descriptor call for the word, its answer (the word's offset from
/// the thread pointer, in `rax`) added to the thread pointer (`fs:[0]`, the
/// x86-64 TLS ABI's self pointer), with the registers the call may clobber
/// besides `rax` on glibc before 2.40 (see the module's docs): the vector
/// registers, all of them where AVX-512 may be in use (`clobber_abi`,
/// which also lists the general registers: +1 a fire).
macro_rules! descriptor_call {
    ($word:ident, $($clobbers:tt)*) => {
        std::arch::asm!(
            ".hidden pymonitoring_thread_state_word",
            "lea rax, [rip + pymonitoring_thread_state_word@TLSDESC]",
            "call qword ptr [rax + pymonitoring_thread_state_word@TLSCALL]",
            "add rax, qword ptr fs:[0]",
            out("rax") $word,
            $($clobbers)*
            options(pure, nomem),
        )
    };
}

/// The word's address. A pure function of the calling thread, so `pure`
/// and `nomem` let the compiler treat it as the thread-local address it
/// is, and the word is read and written with plain accesses, which the
/// compiler orders with the rest (an `asm!` load of the word kept the fire
/// walk from forwarding its record's stores: +6 a fire).
#[inline(always)]
fn word() -> *mut *const ThreadState {
    let word: *mut *const ThreadState;
    // SAFETY: the descriptor call for this library's own word; it preserves
    // every general register but `rax`, and the registers it may clobber
    // are declared.
    #[cfg(not(target_feature = "avx512f"))]
    unsafe {
        descriptor_call!(
            word,
            out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
            out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
            out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
            out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
        )
    };
    // SAFETY: as above.
    #[cfg(target_feature = "avx512f")]
    unsafe {
        descriptor_call!(word, clobber_abi("C"),)
    };
    word
}

/// The calling thread's state, or [`PLACEHOLDER`] before its first
/// dispatch set it up. The caller's flag word test sends the placeholder
/// to its slow path, out of line (a call here, merged back into the fire,
/// would keep the compiler from forwarding the fire record's stores across
/// it).
#[inline(always)]
pub(crate) fn thread_state<'a>() -> &'a ThreadState {
    // SAFETY: the calling thread's own word, initially the placeholder's
    // address (a static), written only by this thread ([`remember`]) with
    // the address of its own `ThreadState`, a constant-initialised
    // thread-local without drop glue (`src/thread.rs`) whose storage is the
    // thread's as long as the word's is: both are in this library's
    // thread-local block.
    unsafe { &**word() }
}

/// Whether `state` is [`PLACEHOLDER`] (what [`thread_state`] answers
/// before the thread's first dispatch).
#[inline]
pub(crate) fn is_placeholder(state: &ThreadState) -> bool {
    std::ptr::eq(state, &PLACEHOLDER.0)
}

/// Keep `state`, the calling thread's, in its word: done where the thread
/// is set up for its first dispatch, so every later fire finds it there.
#[cold]
pub(crate) fn remember(state: &ThreadState) {
    // SAFETY: the calling thread's own word (see `thread_state`); `state`
    // is this thread's (the caller's contract, `super::table::thread_set_up`).
    unsafe { *word() = std::ptr::from_ref(state) };
}
