//! `c-tests/enter_scope_paths.c`: EnterScope through the exported function
//! and through the header's inline fast path (`PYMONITORING_INLINE`); and
//! `c-tests/enter_scope_idle.c`: the refresh while no tool has an event (the
//! library's idle path) gives the general refresh's result; and
//! `c-tests/enter_scope_refresh.c`: the header's inline refresh by the masks
//! gives the library's, slot by slot.

mod c_programs;

build_tests! {
    enter_scope_exported => "enter_scope_paths" Exported,
    enter_scope_inline => "enter_scope_paths" Inline,
    enter_scope_idle_exported => "enter_scope_idle" Exported,
    enter_scope_idle_inline => "enter_scope_idle" Inline,
    enter_scope_refresh_exported => "enter_scope_refresh" Exported,
    enter_scope_refresh_inline => "enter_scope_refresh" Inline,
}
