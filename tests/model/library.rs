//! The library side: the same operations through the exported C functions.

use super::*;

pub struct Lib {
    pub states: Vec<Vec<PyMonitoringState>>,
    pub versions: Vec<u64>,
    names: Vec<CString>,
}

impl Lib {
    pub fn new() -> Lib {
        Lib {
            states: SCOPES
                .iter()
                .map(|s| vec![PyMonitoringState::default(); s.len()])
                .collect(),
            versions: vec![u64::MAX; SCOPES.len()],
            names: NAMES.iter().map(|n| CString::new(*n).unwrap()).collect(),
        }
    }

    pub fn apply(&mut self, op: &Op) -> Outcome {
        CALLS.lock().unwrap().clear();
        let mut out = vec![];
        let rc: c_int = unsafe {
            match *op {
                Op::Use(t, n) => PyMonitoring_UseToolId(
                    t,
                    n.map_or(std::ptr::null(), |n| self.names[n].as_ptr()),
                ),
                Op::Clear(t) => PyMonitoring_ClearToolId(t),
                Op::Free(t) => PyMonitoring_FreeToolId(t),
                Op::SetEvents(t, s) => PyMonitoring_SetEvents(t, s),
                Op::GetEvents(t) => {
                    let mut s = 0xFFFF_FFFFu32;
                    let rc = PyMonitoring_GetEvents(t, &mut s);
                    if rc == 0 {
                        out.push(u64::from(s));
                    } else {
                        assert_eq!(s, 0xFFFF_FFFF, "GetEvents wrote on error");
                    }
                    rc
                }
                Op::Register(t, e, h) => PyMonitoring_RegisterCallback(
                    t,
                    e,
                    h.map(|_| callback as unsafe extern "C" fn(_, _) -> _),
                    h.map_or(std::ptr::null_mut(), data_of),
                ),
                Op::GetCallback(t, e) => {
                    let mut f: PyMonitoringCallback = Some(callback);
                    let mut data = std::ptr::dangling_mut::<c_void>();
                    let rc = PyMonitoring_GetCallback(t, e, &mut f, &mut data);
                    if rc == 0 {
                        match f {
                            Some(f) => {
                                assert_eq!(f as usize, callback as *const () as usize);
                                out.extend([
                                    1,
                                    (data as usize - HANDLER_DATA.as_ptr() as usize) as u64,
                                ]);
                            }
                            None => {
                                assert!(data.is_null());
                                out.extend([0, u64::MAX]);
                            }
                        }
                    } else {
                        assert!(
                            f.is_some() && data as usize == 1,
                            "GetCallback wrote on error"
                        );
                    }
                    rc
                }
                Op::GetTool(t, len) => {
                    let mut buf = [b'#'; 64];
                    let mut needed = usize::MAX;
                    let rc = PyMonitoring_GetTool(t, buf.as_mut_ptr().cast(), len, &mut needed);
                    if rc >= 0 {
                        if len > 0 {
                            let end = buf.iter().position(|&b| b == 0).expect("NUL-terminated");
                            out.extend(buf[..=end].iter().map(|&b| u64::from(b)));
                        }
                        assert!(buf[len..].iter().all(|&b| b == b'#'), "wrote past len");
                        out.push(needed as u64);
                    } else {
                        assert!(buf.iter().all(|&b| b == b'#') && needed == usize::MAX);
                    }
                    rc
                }
                Op::Restart => PyMonitoring_RestartEvents(),
                Op::RestartTool(t) => PyMonitoring_RestartToolEvents(t),
                Op::Enter(s) => {
                    let ev = SCOPES[s];
                    PyMonitoring_EnterScope(
                        self.states[s].as_mut_ptr(),
                        &mut self.versions[s],
                        ev.as_ptr(),
                        ev.len() as isize,
                    )
                }
                Op::Fire {
                    scope,
                    slot,
                    fire,
                    offset,
                    pending,
                } => {
                    match pending {
                        PendingIn::Nothing => {}
                        PendingIn::Host(i) => PyMonitoring_SetRaisedException(obj(i)),
                        PendingIn::Library => {
                            PyMonitoring_ErrSetString(
                                PY_MONITORING_ERR_RUNTIME,
                                c"pending".as_ptr(),
                            );
                        }
                    }
                    (all_fires()[fire].call)(
                        &mut self.states[scope][slot],
                        obj(code_of(scope)),
                        offset,
                    )
                }
                // code-likes (docs/EXTENSIONS.md)
                Op::SetLocal(t, c, set) => PyMonitoring_SetLocalEvents(t, obj(CODES[c]), set),
                Op::GetLocal(t, c) => {
                    let mut s = 0xFFFF_FFFFu32;
                    let rc = PyMonitoring_GetLocalEvents(t, obj(CODES[c]), &mut s);
                    if rc == 0 {
                        out.push(u64::from(s));
                    } else {
                        assert_eq!(s, 0xFFFF_FFFF, "GetLocalEvents wrote on error");
                    }
                    rc
                }
                Op::EnterCode(s) => {
                    let ev = SCOPES[s];
                    PyMonitoring_EnterCodeScope(
                        self.states[s].as_mut_ptr(),
                        &mut self.versions[s],
                        ev.as_ptr(),
                        ev.len() as isize,
                        obj(code_of(s)),
                    )
                }
                Op::Arm(t, c, kind, ref sites) => PyMonitoring_ArmSites(
                    t,
                    obj(CODES[c]),
                    kind,
                    sites.as_ptr(),
                    sites.len() as isize,
                ),
                Op::Disarm(t, c) => PyMonitoring_DisarmSites(t, obj(CODES[c])),
                Op::SetOptions(options) => PyMonitoring_SetOptions(options),
                Op::GetOptions => {
                    let mut options = 0xFFFF_FFFFu32;
                    let rc = PyMonitoring_GetOptions(&mut options);
                    out.push(u64::from(options));
                    rc
                }
                // lasting mode: Cython's per-call states
                Op::Zero(s) => {
                    self.states[s].fill(PyMonitoringState::default());
                    self.versions[s] = 0;
                    0
                }
                Op::Foreign(s) => {
                    self.versions[s] = u64::MAX;
                    0
                }
            }
        };
        Outcome {
            rc: i64::from(rc),
            err: take_error(),
            calls: std::mem::take(&mut *CALLS.lock().unwrap()),
            out,
        }
    }
}
