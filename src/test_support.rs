//! Helpers for unit tests that touch the process-global registry.

use std::any::Any;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::dispatch::EventRecord;
use crate::registry::{self, Handler, Outcome};

static REGISTRY_TESTS: Mutex<()> = Mutex::new(());

/// Serialise tests that use the registry, starting each from a clean one.
pub fn registry_lock() -> MutexGuard<'static, ()> {
    let g = REGISTRY_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    registry::reset_for_tests();
    crate::error::clear();
    g
}

/// A handler that records what it receives and answers with a fixed outcome.
pub struct Recorder {
    pub seen: Mutex<Vec<EventRecord>>,
    pub outcome: Mutex<Outcome>,
}

impl Recorder {
    pub fn new() -> Arc<Recorder> {
        Recorder::answering(Outcome::Continue)
    }

    pub fn answering(outcome: Outcome) -> Arc<Recorder> {
        Arc::new(Recorder {
            seen: Mutex::new(Vec::new()),
            outcome: Mutex::new(outcome),
        })
    }

    pub fn events(&self) -> Vec<EventRecord> {
        self.seen.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

impl Handler for Recorder {
    fn call(&self, event: &EventRecord) -> Outcome {
        self.seen.lock().unwrap().push(*event);
        *self.outcome.lock().unwrap()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
