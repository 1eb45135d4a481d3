//! ABI round trip: what C sees in `include/pymonitoring.h` (read by bindgen
//! through libclang, and by the C compiler through a tiny program) against
//! the Rust `#[repr(C)]` types and CPython 3.14's numbering.
//!
//! The expected constant values are typed in here from docs/BEHAVIOUR.md, "Events and sets" (CPython
//! 3.14's `Include/cpython/monitoring.h` and `sys.monitoring`); the actual
//! values are parsed out of bindgen's output, never taken from the crate
//! that generated the header.

mod api_names;
mod c_programs;

use std::collections::{BTreeMap, BTreeSet};
use std::mem::{align_of, offset_of, size_of};

use c_programs::harnesses::{harness, Build, Run};
use pymonitoring::ffi::{PyMonitoringEvent, PyMonitoringState};

/// CPython 3.14's event ids (docs/BEHAVIOUR.md, "Events and sets").
const CPYTHON_314_EVENTS: [(&str, i64); 19] = [
    ("PY_START", 0),
    ("PY_RESUME", 1),
    ("PY_RETURN", 2),
    ("PY_YIELD", 3),
    ("CALL", 4),
    ("LINE", 5),
    ("INSTRUCTION", 6),
    ("JUMP", 7),
    ("BRANCH_LEFT", 8),
    ("BRANCH_RIGHT", 9),
    ("STOP_ITERATION", 10),
    ("RAISE", 11),
    ("EXCEPTION_HANDLED", 12),
    ("PY_UNWIND", 13),
    ("PY_THROW", 14),
    ("RERAISE", 15),
    ("C_RETURN", 16),
    ("C_RAISE", 17),
    ("BRANCH", 18),
];

/// Other constants with a CPython counterpart (`PY_MONITORING_TOOL_IDS`,
/// `sys.monitoring.*_ID`, the number of events) or fixed by docs/BEHAVIOUR.md, "Registry".
const OTHER_CONSTANTS: [(&str, i64); 16] = [
    ("PY_MONITORING_EVENTS", 19),
    ("PY_MONITORING_TOOL_IDS", 8),
    ("PY_MONITORING_DEBUGGER_ID", 0),
    ("PY_MONITORING_COVERAGE_ID", 1),
    ("PY_MONITORING_PROFILER_ID", 2),
    ("PY_MONITORING_OPTIMIZER_ID", 5),
    ("PY_MONITORING_DISABLE", 1),
    // PyMonitoring_StartCoverage's modes (docs/TOOLS.md).
    ("PY_MONITORING_COVERAGE_ONCE", 0),
    ("PY_MONITORING_COVERAGE_COUNT", 1),
    // The opt-in features (docs/EXTENSIONS.md).
    ("PY_MONITORING_OPT_LASTING_DISABLE", 1),
    ("PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK", 2),
    ("PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS", 4),
    ("PY_MONITORING_HOST_VERSION", 1),
    ("PY_MONITORING_ARM_OFFSETS", 0),
    ("PY_MONITORING_ARM_LINES", 1),
    ("PY_MONITORING_DISABLED_SITES", 8192),
];

/// bindgen's Rust for the committed header, with `defines` set; `None` (the
/// test is skipped, loudly) when libclang is not installed, unless
/// `PYMONITORING_REQUIRE_LIBCLANG` is set, as `.ci/run` does.
fn bindgen_output(defines: &[&str]) -> Option<String> {
    let header = c_programs::manifest_dir().join("include/pymonitoring.h");
    let mut builder = bindgen::Builder::default()
        .header(header.to_str().expect("UTF-8 path"))
        .allowlist_item("_?PyMonitoring.*|PY_MONITORING_.*|PyObject|Py_ssize_t|_object")
        .layout_tests(true)
        .generate_comments(false);
    for d in defines {
        builder = builder.clang_arg(format!("-D{d}"));
    }
    let generated =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || builder.generate()));
    match generated {
        Ok(bindings) => Some(
            bindings
                .expect("bindgen parses include/pymonitoring.h")
                .to_string(),
        ),
        Err(_) if std::env::var_os("PYMONITORING_REQUIRE_LIBCLANG").is_none() => {
            eprintln!(
                "SKIPPED: bindgen could not load libclang (apt-get install libclang-dev); \
                 set PYMONITORING_REQUIRE_LIBCLANG=1 to make this a failure"
            );
            None
        }
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// bindgen's output, or return from the test when it was skipped.
macro_rules! bindgen_or_skip {
    ($defines:expr) => {
        match bindgen_output($defines) {
            Some(out) => out,
            None => return,
        }
    };
}

/// The output with every whitespace removed, for matching generated code
/// whatever its formatting.
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The number bindgen's layout test puts after `marker` (e.g.
/// `size_of::<T>()-` followed by `2usize`).
fn layout_number(squeezed: &str, marker: &str) -> usize {
    let at = squeezed
        .find(marker)
        .unwrap_or_else(|| panic!("bindgen output has no `{marker}`"));
    let digits: String = squeezed[at + marker.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after `{marker}`"))
}

struct Layout {
    size: usize,
    align: usize,
    offsets: BTreeMap<String, usize>,
}

fn layout_of(squeezed: &str, ty: &str, fields: &[&str]) -> Layout {
    Layout {
        size: layout_number(squeezed, &format!("size_of::<{ty}>()-")),
        align: layout_number(squeezed, &format!("align_of::<{ty}>()-")),
        offsets: fields
            .iter()
            .map(|f| {
                let n = layout_number(squeezed, &format!("offset_of!({ty},{f})-"));
                (f.to_string(), n)
            })
            .collect(),
    }
}

/// `pub const NAME: TYPE = VALUE;` items of bindgen's output.
fn constants(out: &str) -> BTreeMap<String, i64> {
    let mut map = BTreeMap::new();
    for line in out.lines() {
        let Some(rest) = line.trim().strip_prefix("pub const ") else {
            continue;
        };
        let (name, rest) = rest.split_once(':').expect("`name: type`");
        let (_, value) = rest.split_once('=').expect("`= value`");
        let value = value.trim().trim_end_matches(';').trim();
        let value: i64 = value
            .parse()
            .unwrap_or_else(|_| panic!("constant {name} = {value} is not an integer"));
        map.insert(name.trim().to_string(), value);
    }
    map
}

/// The names of `pub fn` items of bindgen's output.
fn functions(out: &str) -> BTreeSet<String> {
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("pub fn "))
        .map(|rest| rest.split('(').next().unwrap().trim().to_string())
        .collect()
}

/// `name value` lines printed by `c-tests/abi_layout.c` built with the C
/// compiler the harnesses use.
fn c_compiler_view() -> BTreeMap<String, i64> {
    let out = harness("abi_layout").check_build(Build::Exported, &Run::plain());
    out.lines()
        .map(|l| {
            let mut parts = l.split_whitespace();
            let kind = parts.next().expect("kind");
            let name = parts.next().expect("name");
            let value = parts.next().expect("value").parse().expect("number");
            (format!("{kind} {name}"), value)
        })
        .collect()
}

#[test]
fn state_is_two_bytes_align_one_active_first() {
    let out = squeeze(&bindgen_or_skip!(&[]));
    let c = layout_of(&out, "PyMonitoringState", &["active", "opaque"]);
    assert_eq!(c.size, 2, "sizeof(PyMonitoringState)");
    assert_eq!(c.align, 1, "alignof(PyMonitoringState)");
    assert_eq!(
        c.offsets["active"], 0,
        "offsetof(PyMonitoringState, active)"
    );
    assert_eq!(
        c.offsets["opaque"], 1,
        "offsetof(PyMonitoringState, opaque)"
    );
    // Both fields are `uint8_t` in C.
    assert!(out.contains("pubactive:u8,"), "active is uint8_t");
    assert!(out.contains("pubopaque:u8,"), "opaque is uint8_t");
    // The Rust type agrees.
    assert_eq!(size_of::<PyMonitoringState>(), c.size);
    assert_eq!(align_of::<PyMonitoringState>(), c.align);
    assert_eq!(offset_of!(PyMonitoringState, active), c.offsets["active"]);
    assert_eq!(offset_of!(PyMonitoringState, opaque), c.offsets["opaque"]);
    // So does the slot type the safe core writes through.
    assert_eq!(size_of::<pymonitoring::scope::SlotState>(), 2);
    assert_eq!(align_of::<pymonitoring::scope::SlotState>(), 1);
}

const HOST_FIELDS: [&str; 7] = [
    "version",
    "get_raised_exception",
    "set_raised_exception",
    "set_string",
    "value_error",
    "runtime_error",
    "missing",
];

#[test]
fn host_struct_layout_matches_the_rust_type() {
    use pymonitoring::ffi::PyMonitoringHost;
    let c = c_compiler_view();
    assert_eq!(
        c["sizeof PyMonitoringHost"],
        size_of::<PyMonitoringHost>() as i64
    );
    assert_eq!(
        c["alignof PyMonitoringHost"],
        align_of::<PyMonitoringHost>() as i64
    );
    for (field, offset) in HOST_FIELDS.iter().zip([
        offset_of!(PyMonitoringHost, version),
        offset_of!(PyMonitoringHost, get_raised_exception),
        offset_of!(PyMonitoringHost, set_raised_exception),
        offset_of!(PyMonitoringHost, set_string),
        offset_of!(PyMonitoringHost, value_error),
        offset_of!(PyMonitoringHost, runtime_error),
        offset_of!(PyMonitoringHost, missing),
    ]) {
        assert_eq!(
            c[&format!("offsetof PyMonitoringHost.{field}")],
            offset as i64,
            "{field}"
        );
    }
}

#[test]
fn event_record_layout_matches_the_rust_type() {
    let out = squeeze(&bindgen_or_skip!(&[]));
    let fields = [
        "event", "tool_id", "codelike", "offset", "lineno", "arg0", "arg1",
    ];
    let c = layout_of(&out, "PyMonitoringEvent", &fields);
    let rust: BTreeMap<String, usize> = [
        ("event", offset_of!(PyMonitoringEvent, event)),
        ("tool_id", offset_of!(PyMonitoringEvent, tool_id)),
        ("codelike", offset_of!(PyMonitoringEvent, codelike)),
        ("offset", offset_of!(PyMonitoringEvent, offset)),
        ("lineno", offset_of!(PyMonitoringEvent, lineno)),
        ("arg0", offset_of!(PyMonitoringEvent, arg0)),
        ("arg1", offset_of!(PyMonitoringEvent, arg1)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(c.offsets, rust, "field offsets: C (left) vs Rust (right)");
    assert_eq!(c.size, size_of::<PyMonitoringEvent>(), "size");
    assert_eq!(c.align, align_of::<PyMonitoringEvent>(), "alignment");
    // The documented shape on this platform: two int32, a pointer, two
    // int32, two pointers.
    let p = size_of::<*const u8>();
    assert_eq!(c.offsets["codelike"], 8);
    assert_eq!(c.offsets["offset"], 8 + p);
    assert_eq!(c.offsets["lineno"], 12 + p);
    assert_eq!(c.offsets["arg0"], 16 + p);
    assert_eq!(c.offsets["arg1"], 16 + 2 * p);
    assert_eq!(c.size, 16 + 3 * p);
    for f in ["event", "tool_id", "offset", "lineno"] {
        assert!(out.contains(&format!("pub{f}:i32,")), "{f} is int32_t");
    }
    for f in ["codelike", "arg0", "arg1"] {
        assert!(
            out.contains(&format!("pub{f}:*mutPyObject,")),
            "{f} is PyObject *"
        );
    }
}

/// The inline fire functions read the lasting mode's site table through
/// the header's `_PyMonitoringDisabledSites`: the library's type.
#[test]
fn disabled_site_layout_matches_the_site_table() {
    let out = squeeze(&bindgen_or_skip!(&[]));
    let shared = ["done", "begun", "stamp", "keys", "objects"];
    let c = layout_of(&out, "_PyMonitoringDisabledSites", &shared);
    let rust: BTreeMap<String, usize> = pymonitoring::sites::SHARED_FIELD_OFFSETS
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(c.offsets, rust, "field offsets: C (left) vs Rust (right)");
    assert_eq!(
        c.size,
        size_of::<pymonitoring::sites::Shared<{ pymonitoring::sites::SITES }>>(),
        "size"
    );
    for f in ["done", "begun", "stamp"] {
        assert!(out.contains(&format!("pub{f}:u64,")), "{f} is uint64_t");
    }
    for f in ["keys", "objects"] {
        assert!(
            out.contains(&format!(
                "pub{f}:[u64;{}usize],",
                pymonitoring::sites::SITES
            )),
            "{f} is uint64_t[PY_MONITORING_DISABLED_SITES]"
        );
    }
}

#[test]
fn types_are_those_of_cpython() {
    let out = squeeze(&bindgen_or_skip!(&[]));
    // PyObject is `struct _object`, as in Python.h.
    assert!(
        out.contains("pubstruct_object{"),
        "struct _object is declared"
    );
    assert!(
        out.contains("pubtypePyObject=_object;"),
        "PyObject = struct _object"
    );
    // Py_ssize_t is pointer-sized and signed.
    let ssize = out
        .split("pubtypePy_ssize_t=")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .expect("Py_ssize_t is declared");
    assert!(
        ["isize", "::std::os::raw::c_long", "__intptr_t", "intptr_t"].contains(&ssize),
        "Py_ssize_t = {ssize}"
    );
    // The callback type: int (*)(void *, const PyMonitoringEvent *).
    let cb = out
        .split("pubtypePyMonitoringCallback=")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .expect("PyMonitoringCallback is declared");
    assert!(cb.contains("unsafeextern\"C\"fn("), "{cb}");
    assert!(cb.contains(":*mut::std::os::raw::c_void"), "{cb}");
    assert!(cb.contains(":*constPyMonitoringEvent"), "{cb}");
    assert!(cb.contains(")->::std::os::raw::c_int"), "{cb}");
}

#[test]
fn event_constants_have_cpython_314_values() {
    let consts = constants(&bindgen_or_skip!(&[]));
    let header: BTreeMap<String, i64> = consts
        .iter()
        .filter(|(k, _)| k.starts_with("PY_MONITORING_EVENT_"))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let expected: BTreeMap<String, i64> = CPYTHON_314_EVENTS
        .iter()
        .map(|(n, v)| (format!("PY_MONITORING_EVENT_{n}"), *v))
        .collect();
    assert_eq!(
        header, expected,
        "PY_MONITORING_EVENT_* in the header (left) vs CPython 3.14 (right)"
    );
}

#[test]
fn tool_disable_and_error_constants() {
    let consts = constants(&bindgen_or_skip!(&[]));
    for (name, want) in OTHER_CONSTANTS {
        assert_eq!(consts.get(name), Some(&want), "{name}");
    }
    // The error kinds: NONE is 0, the others distinct and non-zero, and the
    // same numbers the library compares against.
    let kinds = [
        (
            "PY_MONITORING_ERR_NONE",
            pymonitoring::ffi::PY_MONITORING_ERR_NONE,
        ),
        (
            "PY_MONITORING_ERR_VALUE",
            pymonitoring::ffi::PY_MONITORING_ERR_VALUE,
        ),
        (
            "PY_MONITORING_ERR_RUNTIME",
            pymonitoring::ffi::PY_MONITORING_ERR_RUNTIME,
        ),
        (
            "PY_MONITORING_ERR_HOST",
            pymonitoring::ffi::PY_MONITORING_ERR_HOST,
        ),
    ];
    let mut seen = BTreeSet::new();
    for (name, rust) in kinds {
        let c = consts[name];
        assert_eq!(c, i64::from(rust), "{name}");
        assert!(seen.insert(c), "{name} is distinct");
    }
    assert_eq!(consts["PY_MONITORING_ERR_NONE"], 0);
    assert_eq!(
        i64::from(pymonitoring::error::ErrorKind::Value as i32),
        consts["PY_MONITORING_ERR_VALUE"]
    );
    assert_eq!(
        i64::from(pymonitoring::error::ErrorKind::Runtime as i32),
        consts["PY_MONITORING_ERR_RUNTIME"]
    );
    assert_eq!(
        i64::from(pymonitoring::error::ErrorKind::Host as i32),
        consts["PY_MONITORING_ERR_HOST"]
    );
    // Nothing else is defined under these prefixes.
    let known: BTreeSet<String> = CPYTHON_314_EVENTS
        .iter()
        .map(|(n, _)| format!("PY_MONITORING_EVENT_{n}"))
        .chain(OTHER_CONSTANTS.iter().map(|(n, _)| n.to_string()))
        .chain(kinds.iter().map(|(n, _)| n.to_string()))
        .collect();
    let unknown: Vec<_> = consts.keys().filter(|k| !known.contains(*k)).collect();
    assert!(unknown.is_empty(), "constants not checked: {unknown:?}");
}

#[test]
fn header_declares_every_function() {
    let declared = functions(&bindgen_or_skip!(&[]));
    let expected: BTreeSet<String> = api_names::all_functions().into_iter().collect();
    assert_eq!(
        expected.len(),
        17 + 18 + 10 + 2 + 11 + 8 + 8 + 2 + api_names::EXTENSION_FUNCTIONS.len() + 1
    );
    assert_eq!(
        declared, expected,
        "header (left) vs the documented API, tests/api_names (right)"
    );
}

#[test]
fn inline_header_declares_the_plain_fire_functions_inline() {
    // With PYMONITORING_INLINE the 17 plain fire functions,
    // EnterScope/ExitScope and GetRaisedException are static inline, so they
    // are no longer external declarations; everything else is.
    let declared = functions(&bindgen_or_skip!(&["PYMONITORING_INLINE"]));
    let mut inline: BTreeSet<String> = api_names::plain_fire_functions().into_iter().collect();
    inline.extend(api_names::SCOPE_FUNCTIONS.iter().map(|s| s.to_string()));
    inline.insert("PyMonitoring_GetRaisedException".to_string());
    let expected: BTreeSet<String> = api_names::all_functions()
        .into_iter()
        .filter(|f| !inline.contains(f))
        .collect();
    assert_eq!(declared, expected);
    // Layout and constants do not depend on the macro.
    let a = constants(&bindgen_or_skip!(&[]));
    let b = constants(&bindgen_or_skip!(&["PYMONITORING_INLINE"]));
    assert_eq!(a, b);
}

#[test]
fn the_c_compiler_agrees_with_bindgen() {
    let c = c_compiler_view();
    let out = bindgen_or_skip!(&[]);
    let squeezed = squeeze(&out);
    for (ty, fields) in [
        ("PyMonitoringState", &["active", "opaque"][..]),
        (
            "PyMonitoringEvent",
            &[
                "event", "tool_id", "codelike", "offset", "lineno", "arg0", "arg1",
            ][..],
        ),
        ("PyMonitoringHost", &HOST_FIELDS[..]),
    ] {
        let b = layout_of(&squeezed, ty, fields);
        assert_eq!(c[&format!("sizeof {ty}")], b.size as i64, "sizeof {ty}");
        assert_eq!(c[&format!("alignof {ty}")], b.align as i64, "alignof {ty}");
        for f in fields {
            assert_eq!(
                c[&format!("offsetof {ty}.{f}")],
                b.offsets[*f] as i64,
                "offsetof {ty}.{f}"
            );
        }
    }
    let ptr = size_of::<*const u8>() as i64;
    assert_eq!(c["sizeof Py_ssize_t"], ptr);
    assert_eq!(c["sizeof PyMonitoringCallback"], ptr);
    let consts = constants(&out);
    let printed: BTreeMap<String, i64> = c
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("const ").map(|n| (n.to_string(), *v)))
        .collect();
    assert_eq!(printed, consts, "C compiler (left) vs bindgen (right)");
}
