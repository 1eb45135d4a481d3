//! Names for code-like objects.
//!
//! Code-likes are opaque identities, so the built-in tools cannot ask one
//! for its name. The host registers a name, a file and a first line for
//! each code-like it fires with (`PyMonitoring_RegisterCodeName` from C,
//! [`register_code_name`] from Rust); unregistered ones are shown by
//! address. Registering the same code-like again replaces its entry, which
//! is right for hosts that reuse an address for a new code-like.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::object::ObjectRef;

/// What the host told about one code-like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeInfo {
    /// The function's name (`co_name`).
    pub name: String,
    /// The source file (`co_filename`), as the tools should print it.
    pub file: String,
    /// The first line of the function (`co_firstlineno`).
    pub firstlineno: i32,
}

static NAMES: RwLock<Option<HashMap<ObjectRef, Arc<CodeInfo>>>> = RwLock::new(None);

/// Name code-like `code` for the built-in tools: `name` in `file`, starting
/// at line `firstlineno`.
///
/// ```
/// use pymonitoring::api::{register_code_name, ObjectRef};
/// use pymonitoring::builtin::names::lookup;
///
/// let code = ObjectRef::from_addr(0x1000).unwrap();
/// register_code_name(code, "fact", "demo.pyx", 3);
/// assert_eq!(lookup(code).unwrap().name, "fact");
/// ```
pub fn register_code_name(code: ObjectRef, name: &str, file: &str, firstlineno: i32) {
    let info = Arc::new(CodeInfo {
        name: name.to_owned(),
        file: file.to_owned(),
        firstlineno,
    });
    let mut names = NAMES.write().unwrap_or_else(|e| e.into_inner());
    names.get_or_insert_with(HashMap::new).insert(code, info);
}

/// What was registered for `code`, if anything.
///
/// ```
/// use pymonitoring::api::ObjectRef;
/// use pymonitoring::builtin::names::lookup;
///
/// assert!(lookup(ObjectRef::from_addr(0x7777).unwrap()).is_none());
/// ```
pub fn lookup(code: ObjectRef) -> Option<Arc<CodeInfo>> {
    let names = NAMES.read().unwrap_or_else(|e| e.into_inner());
    names.as_ref()?.get(&code).cloned()
}

/// Every registered code-like and its entry.
///
/// ```
/// use pymonitoring::api::{register_code_name, ObjectRef};
/// use pymonitoring::builtin::names::all;
///
/// register_code_name(ObjectRef::from_addr(0x2000).unwrap(), "f", "f.pyx", 1);
/// assert!(all().iter().any(|(_, info)| info.name == "f"));
/// ```
pub fn all() -> Vec<(ObjectRef, Arc<CodeInfo>)> {
    let names = NAMES.read().unwrap_or_else(|e| e.into_inner());
    names
        .iter()
        .flatten()
        .map(|(k, v)| (*k, v.clone()))
        .collect()
}

/// How a code-like is shown: its registered name, or its address.
///
/// ```
/// use pymonitoring::api::{register_code_name, ObjectRef};
/// use pymonitoring::builtin::names::display_name;
///
/// let code = ObjectRef::from_addr(0x3000).unwrap();
/// assert_eq!(display_name(code), "0x3000");
/// register_code_name(code, "gen", "demo.pyx", 9);
/// assert_eq!(display_name(code), "gen");
/// ```
pub fn display_name(code: ObjectRef) -> String {
    match lookup(code) {
        Some(info) => info.name.clone(),
        None => format!("{:#x}", code.addr()),
    }
}
