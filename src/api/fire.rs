//! The fire methods of [`Slot`], one per event.

use super::scope::fits;
use super::{Event, ObjectRef, Pending, Slot};
use crate::dispatch::Firing;

impl Slot<'_> {
    /// Fire PY_START: `code` starts.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::PyStart]);
    /// scope.enter();
    /// scope.slot(0).fire_py_start(ObjectRef::from_addr(8).unwrap(), 0)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_py_start(&self, code: ObjectRef, offset: u32) -> Result<(), Pending> {
        self.simple(Event::PyStart, code, offset)
    }

    /// Fire PY_RESUME: a generator or coroutine resumes.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::PyResume]);
    /// scope.enter();
    /// scope.slot(0).fire_py_resume(ObjectRef::from_addr(8).unwrap(), 0)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_py_resume(&self, code: ObjectRef, offset: u32) -> Result<(), Pending> {
        self.simple(Event::PyResume, code, offset)
    }

    /// Fire PY_RETURN: `code` returns `retval` (`None`: MISSING).
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::PyReturn]);
    /// scope.enter();
    /// scope.slot(0).fire_py_return(ObjectRef::from_addr(8).unwrap(), 4, ObjectRef::from_addr(9))?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_py_return(
        &self,
        code: ObjectRef,
        offset: u32,
        retval: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.with_arg(Event::PyReturn, code, offset, retval)
    }

    /// Fire PY_YIELD: a generator yields `value`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::PyYield]);
    /// scope.enter();
    /// scope.slot(0).fire_py_yield(ObjectRef::from_addr(8).unwrap(), 2, None)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_py_yield(
        &self,
        code: ObjectRef,
        offset: u32,
        value: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.with_arg(Event::PyYield, code, offset, value)
    }

    /// Fire CALL: `callable` is about to be called with first argument
    /// `arg0` (either `None`: MISSING).
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::Call]);
    /// scope.enter();
    /// scope.slot(0).fire_call(ObjectRef::from_addr(8).unwrap(), 2, ObjectRef::from_addr(16), None)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_call(
        &self,
        code: ObjectRef,
        offset: u32,
        callable: Option<ObjectRef>,
        arg0: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        let firing = Firing {
            arg1: arg0,
            ..Firing::new(Event::Call, code, 0).with_arg(callable)
        };
        self.fire(firing, offset, None)
    }

    /// Fire LINE: line `lineno` of `code` is reached.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::Line]);
    /// scope.enter();
    /// scope.slot(0).fire_line(ObjectRef::from_addr(8).unwrap(), 3, 12)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_line(&self, code: ObjectRef, offset: u32, lineno: u32) -> Result<(), Pending> {
        let lineno = fits("lineno", lineno)?;
        let firing = Firing {
            lineno,
            ..Firing::new(Event::Line, code, 0)
        };
        self.fire(firing, offset, None)
    }

    /// Fire JUMP to `target` (an object standing for the target offset).
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::Jump]);
    /// scope.enter();
    /// scope.slot(0).fire_jump(ObjectRef::from_addr(8).unwrap(), 6, ObjectRef::from_addr(2))?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_jump(
        &self,
        code: ObjectRef,
        offset: u32,
        target: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.with_arg(Event::Jump, code, offset, target)
    }

    /// Fire BRANCH_LEFT to `target`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::BranchLeft]);
    /// scope.enter();
    /// scope.slot(0).fire_branch_left(ObjectRef::from_addr(8).unwrap(), 6, None)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_branch_left(
        &self,
        code: ObjectRef,
        offset: u32,
        target: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.with_arg(Event::BranchLeft, code, offset, target)
    }

    /// Fire BRANCH_RIGHT to `target` (also on a legacy BRANCH slot).
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::Branch]);
    /// scope.enter();
    /// scope.slot(0).fire_branch_right(ObjectRef::from_addr(8).unwrap(), 6, None)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_branch_right(
        &self,
        code: ObjectRef,
        offset: u32,
        target: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.with_arg(Event::BranchRight, code, offset, target)
    }

    /// Fire C_RETURN: a C function called at `offset` returned `retval`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::CReturn]);
    /// scope.enter();
    /// scope.slot(0).fire_c_return(ObjectRef::from_addr(8).unwrap(), 6, None)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_c_return(
        &self,
        code: ObjectRef,
        offset: u32,
        retval: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.with_arg(Event::CReturn, code, offset, retval)
    }

    /// Fire STOP_ITERATION with `value`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::StopIteration]);
    /// scope.enter();
    /// scope.slot(0).fire_stop_iteration(ObjectRef::from_addr(8).unwrap(), 6, None)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_stop_iteration(
        &self,
        code: ObjectRef,
        offset: u32,
        value: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.with_arg(Event::StopIteration, code, offset, value)
    }

    /// Fire PY_THROW: `exception` is thrown into a generator. Callbacks get
    /// it as `arg0`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::PyThrow]);
    /// scope.enter();
    /// let exc = ObjectRef::from_addr(0x99).unwrap();
    /// scope.slot(0).fire_py_throw(ObjectRef::from_addr(8).unwrap(), 0, exc)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_py_throw(
        &self,
        code: ObjectRef,
        offset: u32,
        exception: ObjectRef,
    ) -> Result<(), Pending> {
        self.exception(Event::PyThrow, code, offset, exception)
    }

    /// Fire RAISE: `exception` is raised at `offset`.
    ///
    /// ```
    /// use pymonitoring::api::{Action, Event, EventSet, ObjectRef, Scope, Tool};
    ///
    /// let exc = ObjectRef::from_addr(0x99).unwrap();
    /// let tool = Tool::claim(0, "debugger")?;
    /// tool.on(Event::Raise, move |ev| {
    ///     assert_eq!(ev.arg0, Some(exc));
    ///     Action::Continue
    /// })?;
    /// tool.set_events(EventSet::RAISE)?;
    /// let scope = Scope::new(&[Event::Raise]);
    /// scope.enter();
    /// scope.slot(0).fire_raise(ObjectRef::from_addr(8).unwrap(), 3, exc)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fire_raise(
        &self,
        code: ObjectRef,
        offset: u32,
        exception: ObjectRef,
    ) -> Result<(), Pending> {
        self.exception(Event::Raise, code, offset, exception)
    }

    /// Fire RERAISE: `exception` is re-raised.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::Reraise]);
    /// scope.enter();
    /// scope.slot(0).fire_reraise(ObjectRef::from_addr(8).unwrap(), 0, ObjectRef::from_addr(9).unwrap())?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_reraise(
        &self,
        code: ObjectRef,
        offset: u32,
        exception: ObjectRef,
    ) -> Result<(), Pending> {
        self.exception(Event::Reraise, code, offset, exception)
    }

    /// Fire EXCEPTION_HANDLED: `exception` is caught.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::ExceptionHandled]);
    /// scope.enter();
    /// scope.slot(0).fire_exception_handled(ObjectRef::from_addr(8).unwrap(), 0, ObjectRef::from_addr(9).unwrap())?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_exception_handled(
        &self,
        code: ObjectRef,
        offset: u32,
        exception: ObjectRef,
    ) -> Result<(), Pending> {
        self.exception(Event::ExceptionHandled, code, offset, exception)
    }

    /// Fire C_RAISE: a C function called at `offset` raised `exception`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::CRaise]);
    /// scope.enter();
    /// scope.slot(0).fire_c_raise(ObjectRef::from_addr(8).unwrap(), 0, ObjectRef::from_addr(9).unwrap())?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_c_raise(
        &self,
        code: ObjectRef,
        offset: u32,
        exception: ObjectRef,
    ) -> Result<(), Pending> {
        self.exception(Event::CRaise, code, offset, exception)
    }

    /// Fire PY_UNWIND: `code` exits because of `exception`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::PyUnwind]);
    /// scope.enter();
    /// scope.slot(0).fire_py_unwind(ObjectRef::from_addr(8).unwrap(), 0, ObjectRef::from_addr(9).unwrap())?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_py_unwind(
        &self,
        code: ObjectRef,
        offset: u32,
        exception: ObjectRef,
    ) -> Result<(), Pending> {
        self.exception(Event::PyUnwind, code, offset, exception)
    }
}
