//! Model-based property test: random sequences of registry operations,
//! scopes and fires go to the library (through the exported C functions) and
//! to a small reference model of docs/BEHAVIOUR.md ("Registry" to "Firing")
//! and of the opt-in features of
//! `docs/EXTENSIONS.md` (local events, code scopes, armed sites,
//! ACTIVE_NEEDS_CALLBACK, per-tool restart, DISABLE that lasts) written here,
//! independently of the library's code. Every return code, error (kind and
//! message), callback record, `active` and `opaque` byte, stored scope
//! version, registry read-back and the global version must match after
//! every step.
//!
//! Cases: `PROPTEST_CASES` (default 10,000), half of them starting in the
//! lasting-DISABLE mode (with Cython-style calls on zeroed states). The
//! registry is process-global and this binary holds this one test, so the
//! cases run one after another.

#[path = "../api_names/mod.rs"]
mod api_names;
mod callbacks;
#[path = "../exported/mod.rs"]
mod exported;
mod generators;
mod library;
mod reference;

use std::collections::BTreeSet;
use std::ffi::{c_int, c_void, CString};
use std::sync::Mutex;

use api_names::EVENT_NAMES;
use exported::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use pymonitoring::ffi::*;

use callbacks::*;
use generators::*;
use library::*;
use reference::*;

/// Compare everything observable that the step did not return.
fn compare_state(model: &Model, lib: &Lib, registry: bool) -> Result<(), TestCaseError> {
    prop_assert_eq!(PyMonitoring_GetVersion(), model.version, "global version");
    for (s, states) in lib.states.iter().enumerate() {
        let active: Vec<u8> = states.iter().map(|st| st.active).collect();
        prop_assert_eq!(&active, &model.states[s], "active bytes of scope {}", s);
        // lasting mode: the library owns `opaque` in the lasting mode
        // (and never writes it otherwise)
        let opaque: Vec<u8> = states.iter().map(|st| st.opaque).collect();
        prop_assert_eq!(&opaque, &model.opaque[s], "opaque bytes of scope {}", s);
        prop_assert_eq!(
            lib.versions[s],
            model.scope_versions[s],
            "version of scope {}",
            s
        );
    }
    if !registry {
        return Ok(());
    }
    let snap = snapshot();
    for t in 0..6 {
        let (used, name, set, callbacks) = &snap.tools[t];
        prop_assert_eq!(*used, c_int::from(model.names[t].is_some()));
        prop_assert_eq!(
            name.as_slice(),
            model.names[t].as_deref().unwrap_or("").as_bytes()
        );
        prop_assert_eq!(*set, model.events[t]);
        for (e, got) in callbacks.iter().enumerate() {
            let slot = if e == 18 { 9 } else { e };
            let want = model.callbacks[t][slot].map_or((0, 0), |h| {
                (callback as *const () as usize, data_of(h) as usize)
            });
            prop_assert_eq!(*got, want, "callback of tool {} event {}", t, e);
        }
    }
    Ok(())
}

/// What the cases exercised, so that a generator that stops reaching the
/// interesting paths is noticed.
#[derive(Debug, Default)]
struct Stats {
    steps: u64,
    delivered: u64,
    failed_fires: u64,
    refused: u64,
    lasting: LastingHits,
}

impl Stats {
    fn count(&mut self, op: &Op, got: &Outcome) {
        self.steps += 1;
        self.delivered += got.calls.len() as u64;
        if got.rc == -1 {
            if matches!(op, Op::Fire { .. }) && !got.calls.is_empty() {
                self.failed_fires += 1;
            } else {
                self.refused += 1;
            }
        }
    }
}

static STATS: Mutex<Stats> = Mutex::new(Stats {
    steps: 0,
    delivered: 0,
    failed_fires: 0,
    refused: 0,
    lasting: LastingHits {
        disables: 0,
        skipped: 0,
        all_skipped: 0,
        other_sites: 0,
        marked_off: 0,
    },
});

#[test]
fn library_matches_the_reference_model() {
    assert_eq!(answer_of(DISABLE_HANDLER), Answer::Disable);
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    // Half the cases start in the lasting mode (docs/EXTENSIONS.md), alone or with
    // ACTIVE_NEEDS_CALLBACK; every case may switch options.
    let cases_ops = prop_oneof![case(false), case(true)];
    let result = runner.run(&cases_ops, |ops| {
        reset();
        // Every case starts with the options off
        assert_eq!(PyMonitoring_SetOptions(0), 0);
        let mut model = Model::new(PyMonitoring_GetVersion());
        let mut lib = Lib::new();
        for (i, op) in ops.iter().enumerate() {
            let want = model.apply(op);
            let got = lib.apply(op);
            prop_assert_eq!(&got, &want, "step {}: {:?}", i, op);
            STATS.lock().unwrap().count(op, &got);
            STATS.lock().unwrap().lasting.add(&model.hits);
            model.hits = LastingHits::default();
            // The full read-back after every change (fires can remove a
            // callback), the cheap part after the others.
            let reads_only = matches!(
                op,
                Op::GetEvents(_)
                    | Op::GetCallback(..)
                    | Op::GetTool(..)
                    | Op::Enter(_)
                    | Op::GetLocal(..)
                    | Op::EnterCode(_)
                    | Op::GetOptions
            );
            compare_state(&model, &lib, !reads_only || i + 1 == ops.len())?;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let stats = STATS.lock().unwrap();
    eprintln!("{cases} cases: {stats:?}");
    // The generator reaches what it is meant to: delivered callbacks,
    // DISABLEs, failing callbacks and refused calls; in the lasting mode
    // remembered DISABLEs, skipped sites (also whole fires), callbacks at
    // other sites of a slot whose tool DISABLEd a site, and marked slots
    // fired with the mode off.
    assert!(stats.delivered > 0 && stats.failed_fires > 0 && stats.refused > 0);
    let l = stats.lasting;
    assert!(
        l.disables > 0
            && l.skipped > 0
            && l.all_skipped > 0
            && l.other_sites > 0
            && l.marked_off > 0,
        "{l:?}"
    );
}
