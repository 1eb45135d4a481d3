//! The reference model of docs/BEHAVIOUR.md and docs/EXTENSIONS.md,
//! written independently of the library's code.

use super::*;

type Err = Option<(c_int, String)>;

const HOST: c_int = PY_MONITORING_ERR_HOST;
const VALUE: c_int = PY_MONITORING_ERR_VALUE;
const RUNTIME: c_int = PY_MONITORING_ERR_RUNTIME;

fn verr(msg: impl Into<String>) -> Err {
    Some((VALUE, msg.into()))
}

#[derive(Clone, Debug, Default)]
pub struct Model {
    pub names: [Option<String>; 6],
    pub events: [u32; 6],
    /// Callback per tool and event slot 0..18 (BRANCH itself never holds one).
    pub callbacks: [[Option<usize>; 19]; 6],
    pub version: u64,
    /// Every version bump of the case.
    bumps: Vec<Bump>,
    /// The version the case started at (what happened before is
    /// unknown here, but it was no per-tool restart: `reset` frees every
    /// tool in use).
    base: u64,
    pub states: Vec<Vec<u8>>,
    /// Lasting mode: the `opaque` bytes (0 until a refresh in the
    /// lasting mode).
    pub opaque: Vec<Vec<u8>>,
    pub scope_versions: Vec<u64>,
    // code-likes (docs/EXTENSIONS.md)
    /// Local events per code-like (index into CODES) and tool.
    local: [[u32; 6]; 2],
    /// Arming per code-like and tool: kind and sorted, deduplicated sites.
    armed: [[Option<Arming>; 6]; 2],
    /// PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK.
    anc: bool,
    // lasting DISABLE (docs/EXTENSIONS.md)
    /// PY_MONITORING_OPT_LASTING_DISABLE.
    lasting: bool,
    /// The remembered sites: (code-like index, offset, event, line, tool);
    /// the line is LINE's `lineno`, 0 for the other events.
    sites: BTreeSet<(usize, i32, i32, i32, usize)>,
    /// What the lasting paths did, for the generator check.
    pub hits: LastingHits,
}

/// One version bump.
#[derive(Clone, Copy, Debug)]
struct Bump {
    version: u64,
    /// `Some(tool)` for `PyMonitoring_RestartToolEvents(tool)`.
    per_tool: Option<usize>,
}

/// `opaque` bit marking a slot refreshed in the lasting mode.
const MARK: u8 = 0x80;

/// Counts of the lasting mode's paths the cases reached.
#[derive(Clone, Copy, Debug, Default)]
pub struct LastingHits {
    /// Fires on a marked slot with the mode off.
    pub marked_off: u64,
    /// Lasting DISABLEs (remembered).
    pub disables: u64,
    /// Tools skipped at a remembered site without a callback.
    pub skipped: u64,
    /// Fires that ended there (no tool left).
    pub all_skipped: u64,
    /// Callbacks delivered on a marked slot to a tool that DISABLEd another
    /// site of the same code-like and event (the slot is not silenced).
    pub other_sites: u64,
}

impl LastingHits {
    pub fn add(&mut self, o: &LastingHits) {
        self.marked_off += o.marked_off;
        self.disables += o.disables;
        self.skipped += o.skipped;
        self.all_skipped += o.all_skipped;
        self.other_sites += o.other_sites;
    }
}

/// One step's observable result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub rc: i64,
    pub err: Err,
    pub calls: Vec<Call>,
    pub out: Vec<u64>,
}

fn tool_err(t: c_int) -> Err {
    verr(format!("invalid tool {t} (must be between 0 and 5)"))
}

fn valid_tool(t: c_int) -> Option<usize> {
    (0..6).contains(&t).then_some(t as usize)
}

impl Model {
    pub fn new(version: u64) -> Model {
        Model {
            version,
            base: version,
            states: SCOPES.iter().map(|s| vec![0; s.len()]).collect(),
            opaque: SCOPES.iter().map(|s| vec![0; s.len()]).collect(),
            scope_versions: vec![u64::MAX; SCOPES.len()],
            ..Model::default()
        }
    }

    /// CPython's event-set rules: bits above 18 invalid; C_RETURN/C_RAISE
    /// only with CALL and both of them; BRANCH means both branches.
    fn normalize(set: u32) -> Result<u32, String> {
        if set >> 19 != 0 {
            return Err(format!("invalid event set 0x{set:x}"));
        }
        let c = 1 << 16 | 1 << 17;
        if set & c != 0 && set & (c | 1 << 4) != (c | 1 << 4) {
            return Err("cannot set C_RETURN or C_RAISE events independently".into());
        }
        let mut s = set & !c;
        if s & 1 << 18 != 0 {
            s = (s & !(1 << 18)) | 1 << 8 | 1 << 9;
        }
        Ok(s)
    }

    fn source(event: u8) -> u8 {
        match event {
            16 | 17 => 4,
            18 => 9,
            e => e,
        }
    }

    fn mask(&self, event: u8) -> u8 {
        let source = Model::source(event);
        (0..6)
            .filter(|&t| self.events[t] & 1 << source != 0)
            .fold(0, |m, t| m | 1 << t)
            & self.callback_filter(event)
    }

    /// The tools restarted since version `v` when nothing but
    /// per-tool restarts happened since (`None`: a full refresh). Before the
    /// case's start something else happened.
    fn restarted_only(&self, v: u64) -> Option<u8> {
        let mut since = self.bumps.iter().filter(|b| b.version > v);
        (self.base <= v && v < self.version)
            .then(|| since.try_fold(0u8, |acc, b| b.per_tool.map(|t| acc | 1 << t)))
            .flatten()
    }

    /// One version bump that restarts no tool.
    fn bump(&mut self) {
        self.bump_restarting(None, 0);
    }

    /// One version bump (`Some(tool)` for a per-tool restart)
    /// restarting the tools of `restarted`: their lasting DISABLEs end
    /// at the next refresh and their sites are forgotten now.
    fn bump_restarting(&mut self, per_tool: Option<usize>, restarted: u8) {
        self.version += 1;
        self.bumps.push(Bump {
            version: self.version,
            per_tool,
        });
        self.sites.retain(|&(.., t)| restarted & 1 << t == 0);
    }

    /// A scope's refresh with `mask(event)` for each slot: CPython's, the
    /// per-tool restart's (default mode) or the lasting mode's.
    fn refresh(&mut self, s: usize, mask: impl Fn(&Model, u8) -> u8) {
        let v = self.scope_versions[s];
        if self.lasting {
            // CPython's refresh, and the mark (DISABLEs live in the sites).
            for (i, &e) in SCOPES[s].iter().enumerate() {
                self.opaque[s][i] = MARK;
                self.states[s][i] = mask(self, e);
            }
        } else {
            // After nothing but per-tool restarts, only the restarted tools
            // come back; `opaque` is never written.
            let restarted = self.restarted_only(v);
            for (i, &e) in SCOPES[s].iter().enumerate() {
                let m = mask(self, e);
                self.states[s][i] = match restarted {
                    Some(r) => self.states[s][i] | (m & r),
                    None => m,
                };
            }
        }
        self.scope_versions[s] = self.version;
    }

    fn clear(&mut self, t: usize) {
        self.events[t] = 0;
        self.callbacks[t] = [None; 19];
        // The tool's local events and arming go too
        for c in 0..CODES.len() {
            self.local[c][t] = 0;
            self.armed[c][t] = None;
        }
        // lasting mode: a clear restarts the tool
        self.bump_restarting(None, 1 << t);
    }

    // ---- code-likes (docs/EXTENSIONS.md) ----

    /// With ACTIVE_NEEDS_CALLBACK, the tools with a callback for the event
    /// a slot of `event` delivers (BRANCH: BRANCH_RIGHT); otherwise all.
    fn callback_filter(&self, event: u8) -> u8 {
        if !self.anc {
            return 0xff;
        }
        let delivered = if event == 18 { 9 } else { event as usize };
        (0..6)
            .filter(|&t| self.callbacks[t][delivered].is_some())
            .fold(0, |m, t| m | 1 << t)
    }

    /// A code scope's slot: the global tools OR the code-like's local ones.
    fn code_mask(&self, event: u8, code: usize) -> u8 {
        let source = Model::source(event);
        let local = (0..6)
            .filter(|&t| self.local[code][t] & 1 << source != 0)
            .fold(0, |m, t| m | 1 << t);
        self.mask(event) | (local & self.callback_filter(event))
    }

    /// What a callback change compares in ACTIVE_NEEDS_CALLBACK mode: every
    /// global mask and, while some code-like has local events, the
    /// callback filter of the slots fed by local events.
    fn masks_signature(&self) -> Vec<u8> {
        let mut v: Vec<u8> = (0..19).map(|e| self.mask(e)).collect();
        if self.local.iter().flatten().any(|&s| s != 0) {
            v.extend(
                (0..19)
                    .filter(|&e| Model::source(e) < 11)
                    .map(|e| self.callback_filter(e)),
            );
        }
        v
    }

    fn normalize_local(set: u32) -> Result<u32, String> {
        let c = 1 << 16 | 1 << 17;
        if set & c != 0 && set & (c | 1 << 4) != (c | 1 << 4) {
            return Err("cannot set C_RETURN or C_RAISE events independently".into());
        }
        let mut s = set & !c;
        if s & 1 << 18 != 0 {
            s = (s & !(1 << 18)) | 1 << 8 | 1 << 9;
        }
        if s >= 1 << 11 {
            return Err(format!("invalid local event set 0x{s:x}"));
        }
        Ok(s)
    }

    fn allows(&self, code: usize, t: usize, event: i32, offset: i32, lineno: i32) -> bool {
        match &self.armed[code][t] {
            _ if event >= 11 => true,
            None => true,
            Some((0, sites)) => sites.contains(&offset),
            Some((_, sites)) => event != 5 || sites.contains(&lineno),
        }
    }

    fn apply_codelikes(&mut self, o: &mut Outcome, op: &Op) {
        let mut fail = |e: Err| {
            o.rc = -1;
            o.err = e;
        };
        match op {
            Op::SetLocal(t, c, set) => match valid_tool(*t) {
                None => fail(tool_err(*t)),
                Some(t) => match Model::normalize_local(*set) {
                    Err(m) => fail(verr(m)),
                    Ok(_) if self.names[t].is_none() => {
                        fail(verr(format!("tool {t} is not in use")))
                    }
                    Ok(s) => {
                        if self.local[*c][t] != s {
                            self.local[*c][t] = s;
                            self.bump();
                        }
                    }
                },
            },
            Op::GetLocal(t, c) => match valid_tool(*t) {
                None => fail(tool_err(*t)),
                Some(t) => o.out.push(u64::from(self.local[*c][t])),
            },
            Op::EnterCode(s) => {
                if self.scope_versions[*s] != self.version {
                    match SCOPES[*s].iter().position(|&e| e >= 19) {
                        Some(i) => fail(verr(format!(
                            "invalid event {} in event_types[{i}] (must be between 0 and 18)",
                            SCOPES[*s][i]
                        ))),
                        None => self.refresh(*s, |m, e| m.code_mask(e, *s % 2)),
                    }
                }
            }
            Op::Arm(t, c, kind, sites) => match valid_tool(*t) {
                None => fail(tool_err(*t)),
                Some(_) if !(0..2).contains(kind) => fail(verr(format!(
                    "invalid kind {kind} (must be PY_MONITORING_ARM_OFFSETS or PY_MONITORING_ARM_LINES)"
                ))),
                Some(t) => {
                    if let Some(i) = sites.iter().position(|&s| s < 0) {
                        fail(verr(format!(
                            "invalid site {} at sites[{i}] (must be non-negative)",
                            sites[i]
                        )));
                    } else if self.names[t].is_none() {
                        fail(verr(format!("tool {t} is not in use")));
                    } else {
                        let mut v = sites.clone();
                        v.sort_unstable();
                        v.dedup();
                        self.armed[*c][t] = Some((*kind, v));
                    }
                }
            },
            Op::Disarm(t, c) => match valid_tool(*t) {
                None => fail(tool_err(*t)),
                Some(t) if self.names[t].is_none() => {
                    fail(verr(format!("tool {t} is not in use")))
                }
                Some(t) => self.armed[*c][t] = None,
            },
            Op::SetOptions(options) => {
                if options & !3 != 0 {
                    fail(verr(format!(
                        "invalid options {options:#x} (known options are 0x7)"
                    )));
                } else {
                    let (lasting, anc) = (options & 1 != 0, options & 2 != 0);
                    if (lasting, anc) != (self.lasting, self.anc) {
                        // lasting mode: switching the mode (on or off)
                        // restarts every tool; while nothing was published
                        // (version 0, no tool in use) no version moves
                        let unpublished =
                            self.version == 0 && self.names.iter().all(Option::is_none);
                        let restarted = if lasting != self.lasting { 0x3f } else { 0 };
                        (self.lasting, self.anc) = (lasting, anc);
                        if !unpublished {
                            self.bump_restarting(None, restarted);
                        }
                    }
                }
            }
            Op::GetOptions => o
                .out
                .push(u64::from(self.lasting) | u64::from(self.anc) << 1),
            Op::Zero(s) => {
                self.states[*s].fill(0);
                self.opaque[*s].fill(0);
                self.scope_versions[*s] = 0;
            }
            Op::Foreign(s) => self.scope_versions[*s] = u64::MAX,
            _ => unreachable!("not a codelikes op"),
        }
    }

    /// A callback change: in ACTIVE_NEEDS_CALLBACK mode the version moves
    /// when a mask changes.
    fn callbacks_changed(&mut self, before: Vec<u8>) {
        if self.anc && self.masks_signature() != before {
            self.bump();
        }
    }

    pub fn apply(&mut self, op: &Op) -> Outcome {
        let mut o = Outcome {
            rc: 0,
            err: None,
            calls: vec![],
            out: vec![],
        };
        let fail = |o: &mut Outcome, e: Err| {
            o.rc = -1;
            o.err = e;
        };
        match *op {
            Op::Use(t, name) => match (name, valid_tool(t)) {
                (None, _) => fail(&mut o, verr("tool name must not be NULL")),
                (_, None) => fail(&mut o, tool_err(t)),
                (Some(_), Some(t)) if self.names[t].is_some() => {
                    fail(&mut o, verr(format!("tool {t} is already in use")))
                }
                (Some(n), Some(t)) => self.names[t] = Some(NAMES[n].into()),
            },
            Op::Clear(t) | Op::Free(t) => match valid_tool(t) {
                None => fail(&mut o, tool_err(t)),
                Some(t) => {
                    if self.names[t].is_some() {
                        self.clear(t);
                        if matches!(op, Op::Free(_)) {
                            self.names[t] = None;
                        }
                    }
                }
            },
            Op::SetEvents(t, set) => match valid_tool(t) {
                None => fail(&mut o, tool_err(t)),
                Some(t) => match Model::normalize(set) {
                    Err(m) => fail(&mut o, verr(m)),
                    Ok(_) if self.names[t].is_none() => {
                        fail(&mut o, verr(format!("tool {t} is not in use")))
                    }
                    Ok(s) => {
                        if self.events[t] != s {
                            self.events[t] = s;
                            self.bump();
                        }
                    }
                },
            },
            Op::GetEvents(t) => match valid_tool(t) {
                None => fail(&mut o, tool_err(t)),
                Some(t) => o.out.push(u64::from(self.events[t])),
            },
            Op::Register(t, e, h) => match (valid_tool(t), (0..19).contains(&e)) {
                (None, _) => fail(&mut o, tool_err(t)),
                (_, false) => fail(&mut o, verr(format!("invalid event {e}"))),
                (Some(t), true) if self.names[t].is_none() => {
                    fail(&mut o, verr(format!("tool {t} is not in use")))
                }
                (Some(t), true) => {
                    let before = self.masks_signature();
                    let slots: &[usize] = if e == 18 { &[8, 9] } else { &[e as usize] };
                    for &s in slots {
                        self.callbacks[t][s] = h;
                    }
                    self.callbacks_changed(before);
                }
            },
            Op::GetCallback(t, e) => match (valid_tool(t), (0..19).contains(&e)) {
                (None, _) => fail(&mut o, tool_err(t)),
                (_, false) => fail(&mut o, verr(format!("invalid event {e}"))),
                (Some(t), true) => {
                    let s = if e == 18 { 9 } else { e as usize };
                    match self.callbacks[t][s] {
                        Some(h) => o.out.extend([1, h as u64]),
                        None => o.out.extend([0, u64::MAX]),
                    }
                }
            },
            Op::GetTool(t, len) => match valid_tool(t) {
                None => fail(&mut o, tool_err(t)),
                Some(t) => {
                    let name = self.names[t].clone();
                    o.rc = i64::from(name.is_some());
                    let bytes = name.unwrap_or_default().into_bytes();
                    if len > 0 {
                        let n = bytes.len().min(len - 1);
                        o.out.extend(bytes[..n].iter().map(|&b| u64::from(b)));
                        o.out.push(0);
                    }
                    o.out.push(bytes.len() as u64);
                }
            },
            Op::Restart => self.bump_restarting(None, 0x3f),
            Op::RestartTool(t) => match valid_tool(t) {
                None => fail(&mut o, tool_err(t)),
                Some(t) if self.names[t].is_none() => {
                    fail(&mut o, verr(format!("tool {t} is not in use")))
                }
                Some(t) => self.bump_restarting(Some(t), 1 << t),
            },
            Op::Enter(s) => {
                if self.scope_versions[s] != self.version {
                    match SCOPES[s].iter().position(|&e| e >= 19) {
                        Some(i) => fail(
                            &mut o,
                            verr(format!(
                                "invalid event {} in event_types[{i}] (must be between 0 and 18)",
                                SCOPES[s][i]
                            )),
                        ),
                        None => self.refresh(s, Model::mask),
                    }
                }
            }
            Op::Fire {
                scope,
                slot,
                fire,
                offset,
                pending,
            } => {
                self.fire(&mut o, scope, slot, &all_fires()[fire], offset, pending);
            }
            Op::SetLocal(..)
            | Op::GetLocal(..)
            | Op::EnterCode(_)
            | Op::Arm(..)
            | Op::Disarm(..)
            | Op::SetOptions(_)
            | Op::GetOptions
            | Op::Zero(_)
            | Op::Foreign(_) => self.apply_codelikes(&mut o, op),
        }
        o
    }

    fn fire(
        &mut self,
        o: &mut Outcome,
        scope: usize,
        slot: usize,
        f: &FireFn,
        offset: i32,
        pending: PendingIn,
    ) {
        let saved: Err = match pending {
            PendingIn::Nothing => None,
            PendingIn::Host(_) => Some((HOST, "exception object set by the host".into())),
            PendingIn::Library => Some((RUNTIME, "pending".into())),
        };
        // lasting mode: a slot refreshed in the lasting mode, while the
        // mode is on, skips (without a callback, writing nothing) the active
        // tools remembered for the site; every active tool skipped: the
        // fire is over. With the mode off a marked slot takes CPython's rules.
        let marked = self.opaque[scope][slot] & MARK != 0;
        let lasting = marked && self.lasting;
        if marked && !self.lasting {
            self.hits.marked_off += 1;
        }
        let code = scope % 2;
        let line = if f.event == 5 { f.lineno } else { 0 };
        let mut skipped = 0u8;
        if lasting {
            let active = self.states[scope][slot];
            skipped = (0..6)
                .filter(|&t| {
                    active & 1 << t != 0
                        && f.event < 11
                        && self.sites.contains(&(code, offset, f.event, line, t))
                })
                .fold(0u8, |m, t| m | 1 << t);
            self.hits.skipped += u64::from(skipped.count_ones());
            if skipped != 0 && active & !skipped == 0 {
                self.hits.all_skipped += 1;
                o.err = saved;
                return;
            }
        }
        let active = self.states[scope][slot];
        if f.plain && active == 0 {
            o.err = saved;
            return;
        }
        let mut arg0 = (f.arg0)() as usize;
        if f.exception {
            match pending {
                PendingIn::Nothing => {
                    o.rc = -1;
                    o.err = verr(format!("Firing event {} with no exception set", f.event));
                    return;
                }
                PendingIn::Host(i) => arg0 = obj(i) as usize,
                PendingIn::Library => arg0 = missing() as usize,
            }
        }
        if offset < 0 {
            o.rc = -1;
            o.err = verr("offset must be non-negative");
            return;
        }
        let ev = f.event as usize;
        let mut tools = active & !skipped;
        while tools != 0 {
            let t = 7 - tools.leading_zeros() as usize;
            tools &= !(1 << t);
            let Some(h) = self.callbacks.get(t).and_then(|c| c[ev]) else {
                continue;
            };
            // Armed sites skip the tool without a callback
            if t < 6 && !self.allows(scope % 2, t, f.event, offset, f.lineno) {
                continue;
            }
            if lasting
                && self
                    .sites
                    .iter()
                    .any(|&(c, _, e, _, st)| (c, e, st) == (code, f.event, t))
            {
                self.hits.other_sites += 1;
            }
            o.calls.push(Call {
                handler: h,
                event: f.event,
                tool: t as i32,
                codelike: obj(code_of(scope)) as usize,
                offset,
                lineno: f.lineno,
                arg0,
                arg1: (f.arg1)() as usize,
                clear_at_entry: true,
            });
            let failed: Err = match answer_of(h) {
                Answer::Zero | Answer::Other => None,
                Answer::FailWithError => verr("handler failed"),
                Answer::FailBare => Some((
                    RUNTIME,
                    format!(
                        "callback of tool {t} for {} returned -1 without setting an error",
                        EVENT_NAMES[ev]
                    ),
                )),
                Answer::Stray => Some((RUNTIME, "stray error".into())),
                Answer::FailWithHost => Some((HOST, "exception object set by the host".into())),
                Answer::Disable if ev < 11 => {
                    // lasting mode: in the mode the site (not the slot)
                    // is silenced until the tool restarts; a slot is checked
                    // for it once refreshed in the mode (marked)
                    if self.lasting {
                        self.sites.insert((code, offset, f.event, line, t));
                        self.hits.disables += 1;
                    } else {
                        self.states[scope][slot] &= !(1 << t);
                    }
                    None
                }
                Answer::Disable => {
                    let before = self.masks_signature();
                    self.callbacks[t][ev] = None;
                    self.callbacks_changed(before);
                    verr(format!(
                        "Cannot disable {} events. Callback removed.",
                        EVENT_NAMES[ev]
                    ))
                }
            };
            if failed.is_some() {
                o.rc = -1;
                o.err = failed;
                return;
            }
        }
        o.err = saved;
    }
}
