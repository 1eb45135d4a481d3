//! Claims on tool ids, their clear and release, and the tools' global
//! events (`sys.monitoring.use_tool_id`, `clear_tool_id`, `free_tool_id`,
//! `set_events`), with the built-in tools' movable claims.

use std::sync::Arc;

use super::{check_tool, require_in_use, Handler, Master, Registry, MAX_USER_TOOL, TOOL_IDS};
use crate::event::{Event, EventSet};
use crate::failure::Error;
use crate::sync::Ordering;

/// Who is told that a movable claim ended (`Registry::with_way_made`): the
/// built-in tools, which make such claims, set it with their first claim
/// (`Registry::claim_builtin`), so the registry names no module above it.
static CLAIM_ENDED: std::sync::OnceLock<fn(u8, u64)> = std::sync::OnceLock::new();

impl Registry {
    pub(crate) fn use_tool_id(&self, tool: i64, name: &str) -> Result<(), Error> {
        self.claim_tool_id(tool, name).map(drop)
    }

    pub(crate) fn claim_tool_id(&self, tool: i64, name: &str) -> Result<u64, Error> {
        let tool = check_tool(tool)?;
        self.with_way_made(tool, |m| self.claim_free(m, tool, name, false))
    }

    fn claim_free(
        &self,
        m: &mut Master,
        tool: u8,
        name: &str,
        movable: bool,
    ) -> Result<u64, Error> {
        if m.names[tool as usize].is_some() {
            return Err(Error::value(format!("tool {tool} is already in use")));
        }
        let token = self.next_claim.fetch_add(1, Ordering::Relaxed);
        m.names[tool as usize] = Some(name.to_owned());
        m.claims[tool as usize] = token;
        m.movable[tool as usize] = movable;
        Ok(token)
    }

    /// Run `op` under the lock once `tool` is free of any movable claim,
    /// then tell the built-in tools about a claim that had to end.
    pub(super) fn with_way_made<R>(&self, tool: u8, op: impl FnOnce(&mut Master) -> R) -> R {
        let (result, ended) = {
            let mut m = self.master();
            let ended = self.make_way(&mut m, tool);
            (op(&mut m), ended)
        };
        if let Some(token) = ended {
            if let Some(claim_ended) = CLAIM_ENDED.get() {
                claim_ended(tool, token);
            }
        }
        result
    }

    /// A movable claim on `tool` steps aside before anyone else's claim,
    /// change or release of `tool`: it moves, with its events and
    /// callbacks, to the highest free id; when no other id is free it ends
    /// (its token is returned). `docs/TOOLS.md`, "Tool ids".
    fn make_way(&self, m: &mut Master, tool: u8) -> Option<u64> {
        let from = usize::from(tool);
        if m.movable.get(from) != Some(&true) || m.names[from].is_none() {
            return None;
        }
        let token = m.claims[from];
        let Some(to) = (0..=MAX_USER_TOOL)
            .rev()
            .map(usize::from)
            .find(|&t| t != from && m.names[t].is_none())
        else {
            self.clear_claimed(m, tool);
            m.names[from] = None;
            m.movable[from] = false;
            return Some(token);
        };
        m.names[to] = m.names[from].take();
        m.claims[to] = token;
        m.movable[to] = true;
        m.movable[from] = false;
        m.events[to] = std::mem::replace(&mut m.events[from], EventSet::empty());
        // What the old id remembered (lasting DISABLEs, local events) does
        // not follow: the moved tool starts afresh there, as after a restart.
        if self.tool_cleared(m, tool) {
            self.publish_codelikes(m);
        }
        self.edit_callbacks(m, |t| {
            t.move_tool(from, to);
        });
        self.publish_masks(m);
        None
    }

    /// Claim for a built-in tool: `tool`, or with `None` the highest free
    /// id; `movable` claims step aside (see [`Registry::make_way`]) and
    /// `claim_ended` is told when one had to end. Returns the id and the
    /// claim's token.
    pub(crate) fn claim_builtin(
        &self,
        tool: Option<u8>,
        name: &str,
        movable: bool,
        claim_ended: fn(u8, u64),
    ) -> Result<(u8, u64), Error> {
        let _ = CLAIM_ENDED.set(claim_ended);
        match tool {
            Some(tool) => {
                let tool = check_tool(tool.into())?;
                self.with_way_made(tool, |m| self.claim_free(m, tool, name, movable))
                    .map(|token| (tool, token))
            }
            None => {
                let mut m = self.master();
                let Some(tool) = (0..=MAX_USER_TOOL)
                    .rev()
                    .find(|&t| m.names[usize::from(t)].is_none())
                else {
                    return Err(Error::value("every tool id (0 to 5) is in use"));
                };
                self.claim_free(&mut m, tool, name, movable)
                    .map(|token| (tool, token))
            }
        }
    }

    /// The id the claim `token` holds now (movable claims move).
    pub(crate) fn claim_id(&self, token: u64) -> Option<u8> {
        let m = self.master();
        Self::find_claim(&m, token)
    }

    fn find_claim(m: &Master, token: u64) -> Option<u8> {
        (0..=MAX_USER_TOOL)
            .find(|&t| m.names[usize::from(t)].is_some() && m.claims[usize::from(t)] == token)
    }

    /// Give the claim `token` its callbacks and events in one change (one
    /// version bump).
    pub(crate) fn install_claim(
        &self,
        token: u64,
        handlers: Vec<(Event, Arc<dyn Handler>)>,
        events: EventSet,
    ) -> Result<(), Error> {
        let set = EventSet::normalize(events.bits())?;
        let mut m = self.master();
        let Some(tool) = Self::find_claim(&m, token) else {
            return Err(Error::value(
                "the built-in tool's claim ended before it started",
            ));
        };
        self.edit_callbacks(&mut m, |t| {
            for (event, handler) in &handlers {
                for slot in event.callback_slots() {
                    t.set(tool, *slot, Some(handler.clone()));
                }
            }
        });
        m.events[tool as usize] = set;
        self.publish_masks(&m);
        Ok(())
    }

    /// End the claim `token` wherever it is now. A claim never given events,
    /// callbacks or code-like settings ends without a trace (no version
    /// change), so a failed start changes nothing; otherwise as
    /// [`Registry::free_tool_id`].
    pub(crate) fn release_claim(&self, token: u64) {
        let mut m = self.master();
        let Some(tool) = Self::find_claim(&m, token) else {
            return;
        };
        let t = usize::from(tool);
        let unused = m.events[t].is_empty() && m.callbacks.as_ref().is_none_or(|c| !c.tool_used(t));
        if !unused {
            self.clear_claimed(&mut m, tool);
        } else if self.ext.tool_released(&mut m.ext, tool) {
            self.publish_codelikes(&mut m);
        }
        m.names[t] = None;
        m.movable[t] = false;
    }

    pub(crate) fn free_claim(&self, tool: u8, token: u64) -> bool {
        let Ok(tool) = check_tool(tool.into()) else {
            return false;
        };
        let mut m = self.master();
        if m.names[tool as usize].is_none() || m.claims[tool as usize] != token {
            return false;
        }
        self.clear_claimed(&mut m, tool);
        m.names[tool as usize] = None;
        m.movable[tool as usize] = false;
        true
    }

    pub(crate) fn holds_claim(&self, tool: u8, token: u64) -> bool {
        let m = self.master();
        usize::from(tool) < TOOL_IDS
            && m.names[tool as usize].is_some()
            && m.claims[tool as usize] == token
    }

    fn clear_claimed(&self, m: &mut Master, tool: u8) {
        // A clear restarts the tool (its lasting DISABLEs end); its local
        // events and arming go too (gh-111963).
        let codelikes_changed = self.tool_cleared(m, tool);
        m.events[tool as usize] = EventSet::empty();
        if codelikes_changed {
            self.publish_codelikes(m);
        }
        self.edit_callbacks(m, |t| {
            t.clear_tool(usize::from(tool));
        });
        self.publish_masks(m);
    }

    pub(crate) fn clear_tool_id(&self, tool: i64) -> Result<(), Error> {
        let tool = check_tool(tool)?;
        self.with_way_made(tool, |m| {
            if m.names[tool as usize].is_some() {
                self.clear_claimed(m, tool);
            }
        });
        Ok(())
    }

    pub(crate) fn free_tool_id(&self, tool: i64) -> Result<(), Error> {
        let tool = check_tool(tool)?;
        self.with_way_made(tool, |m| {
            if m.names[tool as usize].is_some() {
                self.clear_claimed(m, tool);
                m.names[tool as usize] = None;
                m.movable[tool as usize] = false;
            }
        });
        Ok(())
    }

    pub(crate) fn tool_name(&self, tool: i64) -> Result<Option<String>, Error> {
        let tool = check_tool(tool)?;
        Ok(self.master().names[tool as usize].clone())
    }

    pub(crate) fn set_events(&self, tool: i64, raw: u32) -> Result<(), Error> {
        let tool = check_tool(tool)?;
        let set = EventSet::normalize(raw)?;
        self.with_way_made(tool, |m| {
            require_in_use(m, tool)?;
            if m.events[tool as usize] != set {
                m.events[tool as usize] = set;
                self.publish_masks(m);
            }
            Ok(())
        })
    }

    pub(crate) fn get_events(&self, tool: i64) -> Result<EventSet, Error> {
        let tool = check_tool(tool)?;
        Ok(self.master().events[tool as usize])
    }
}
