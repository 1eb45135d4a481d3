//! No panic can start on the active fire's fast path of the release build.
//!
//! The fire entry points carry no panic guard of their own: the walk runs in
//! one frame (the `fire_frame_*` of `src/ffi/fire.rs`), and only the places where a
//! panic can start — a Rust closure's call, the cold paths — are guarded
//! (`dispatch::Boundary`, `ffi::fire::Catch`). So no panic crosses the C
//! boundary (docs/BAD_INPUT.md) only while the unguarded code cannot panic:
//! no bounds check, no `unwrap`, no overflow check left in it. This test
//! builds the release library (`cargo build --release --lib`, what users
//! link) and reads its disassembly (`objdump`, `nm`: binutils): every
//! function of the fast path — the fire entry points, each frame of a fire,
//! `after_callback`'s decode and the C trampoline `call_c` — may call only
//! the fast path itself, the guarded functions listed here, the guards'
//! landing-pad helpers and the abort that stops an unwinding through an
//! `extern "C"` function (never reached: nothing unwinds). A call to any
//! panicking function, or to a function not classified here, fails it.
//! A function whose address the fast path takes (`lea` from the
//! instruction pointer: the walk calls its functions out of line through
//! addresses it computes, `ffi::table::after_callback_fn` and the others)
//! counts as called. Other calls through a register are the callback
//! slots' `Direct` functions (`call_c`, checked here; nothing else builds
//! one) and the host's C functions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

/// The release build of the library, built by this test.
fn release_library() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO"))
        .args(["build", "--release", "--lib", "--quiet"])
        .current_dir(&manifest)
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo build --release failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // CARGO_TARGET_TMPDIR is `<target>/tmp`.
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target directory")
        .to_path_buf();
    let lib = target.join("release/libpymonitoring.so");
    assert!(lib.exists(), "{} was not built", lib.display());
    lib
}

fn tool(name: &str, args: &[&str], lib: &PathBuf) -> String {
    let out = Command::new(name)
        .args(args)
        .arg(lib)
        .output()
        .unwrap_or_else(|e| panic!("{name} (binutils) is needed to read the library: {e}"));
    assert!(out.status.success(), "{name} failed");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Every function's instructions, by symbol.
fn functions(lib: &PathBuf) -> BTreeMap<String, Vec<String>> {
    let text = tool("objdump", &["-d", "--no-show-raw-insn", "-M", "intel"], lib);
    let mut functions = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(name) = line
            .strip_suffix(">:")
            .and_then(|l| l.split_once(" <"))
            .map(|(_, name)| name)
        {
            current = Some(name.to_string());
            functions.insert(name.to_string(), Vec::new());
        } else if let Some(name) = &current {
            if !line.trim().is_empty() {
                functions.get_mut(name).unwrap().push(line.to_string());
            }
        }
    }
    functions
}

/// The function each GOT slot holds: a symbol, or an address inside the
/// library (`R_X86_64_RELATIVE`) named by `nm`.
fn got_slots(lib: &PathBuf) -> BTreeMap<u64, String> {
    let mut by_address = BTreeMap::new();
    for line in tool("nm", &[], lib).lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if let [address, "t" | "T", name] = parts[..] {
            by_address.insert(u64::from_str_radix(address, 16).unwrap(), name.to_string());
        }
    }
    let mut slots = BTreeMap::new();
    for line in tool("objdump", &["-R"], lib).lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [offset, _kind, value] = parts[..] else {
            continue;
        };
        let Ok(offset) = u64::from_str_radix(offset, 16) else {
            continue;
        };
        let target = match value.strip_prefix("*ABS*+0x") {
            Some(address) => {
                let address = u64::from_str_radix(address, 16).unwrap();
                by_address
                    .get(&address)
                    .cloned()
                    .unwrap_or_else(|| format!("address {address:#x}"))
            }
            None => value.to_string(),
        };
        slots.insert(offset, target);
    }
    slots
}

/// What `function` calls or jumps to outside itself, or takes the address
/// of (one of `functions`); `None` for a call through a register.
fn callees(
    function: &str,
    code: &[String],
    slots: &BTreeMap<u64, String>,
    functions: &BTreeMap<String, Vec<String>>,
) -> BTreeSet<Option<String>> {
    let mut out = BTreeSet::new();
    for line in code {
        let Some(instruction) = line.split('\t').nth(1) else {
            continue;
        };
        if instruction.starts_with("lea") && instruction.contains("[rip+") {
            if let Some((_, rest)) = instruction.split_once(" <") {
                let name = rest.trim_end_matches('>');
                if name != function && functions.contains_key(name) {
                    out.insert(Some(name.to_string()));
                }
            }
            continue;
        }
        let is_call = instruction.starts_with("call");
        if !is_call && !instruction.starts_with("jmp") {
            continue;
        }
        if let Some((_, rest)) = instruction.split_once(" <") {
            let name = rest.trim_end_matches('>');
            let name = name.split_once('+').map_or(name, |(n, _)| n);
            if name != function && !name.starts_with("_DYNAMIC") {
                out.insert(Some(name.to_string()));
            }
        }
        if instruction.contains("QWORD PTR [rip+") {
            let slot = instruction
                .split_once("# ")
                .and_then(|(_, s)| s.split_whitespace().next())
                .map(|s| u64::from_str_radix(s, 16).unwrap())
                .expect("a GOT slot's address");
            let target = slots
                .get(&slot)
                .unwrap_or_else(|| panic!("{function}: no relocation at {slot:#x}"));
            out.insert(Some(target.clone()));
        } else if is_call && !instruction.contains(" <") {
            out.insert(None);
        }
    }
    out
}

/// The frames of the fire, one for each shape of an event's arguments.
const FRAMES: &[&str] = &[
    "4fire12fire_frame_017h",
    "4fire12fire_frame_117h",
    "4fire12fire_frame_217h",
    "4fire15fire_frame_line17h",
];

/// The fast path: checked instruction by instruction.
fn on_fast_path(name: &str) -> bool {
    (name.starts_with("_PyMonitoring_Fire") || name.starts_with("PyMonitoring_Fire"))
        && name.ends_with("Event")
        || FRAMES.iter().any(|frame| name.contains(frame))
        // `fire_default`'s frames, one module of them.
        || name.contains("4fire12fire_default")
        || name.contains("8dispatch14after_callback17h")
        || name.contains("7handler6call_c17h")
        || name.contains("7handler11call_filled17h")
}

/// Functions the fast path may call, and why they are safe to call.
const ALLOWED: &[(&str, &str)] = &[
    // Guarded whole (`guard!`, or `Boundary::guarded` around their body).
    (
        // Its frames, one module of them.
        "4fire16fire_marked_slow",
        "the lasting mode's scan and fire, its own guard",
    ),
    ("4fire12fire_invalid17h", "guard!"),
    (
        "8dispatch9fire_slow17h",
        "Boundary::guarded around its body",
    ),
    (
        "8dispatch10fire_first17h",
        "Boundary::guarded around its body",
    ),
    ("8dispatch20call_handler_guarded17h", "Boundary::guarded"),
    (
        "8dispatch15call_handler_of17h",
        "a masked slot read, then call_handler_guarded's Boundary::guarded",
    ),
    ("8dispatch10not_set_up17h", "called under Boundary::guarded"),
    ("12filter_armed17h", "called under Boundary::guarded"),
    (
        "8dispatch22after_callback_guarded17h",
        "Boundary::guarded around its body",
    ),
    (
        "8dispatch19after_callback_slow17h",
        "called under Boundary::guarded",
    ),
    // Empty: shapes the walk's layout (its second pass apart).
    ("8dispatch8replaced17h", "an empty function"),
    // The guards' landing pads.
    ("5guard12report_panic17h", "a caught panic's report"),
    (
        "9panicking12catch_unwind7cleanup",
        "catch_unwind's landing pad",
    ),
    ("_Unwind_Resume", "unwinding cleanup (the Rust API's walk)"),
    // The abort of an unwinding that would leave an `extern "C"` function.
    ("9panicking19panic_cannot_unwind", "abort, never a panic"),
    ("9panicking16panic_in_cleanup", "abort, never a panic"),
    // The thread-local access (elsewhere than x86-64 glibc, where a TLS
    // descriptor is called indirectly).
    ("__tls_get_addr", "glibc"),
];

#[test]
fn the_fire_fast_path_cannot_panic() {
    let lib = release_library();
    let functions = functions(&lib);
    let slots = got_slots(&lib);
    let fast: Vec<&String> = functions.keys().filter(|n| on_fast_path(n)).collect();
    for expected in [
        "_PyMonitoring_FirePyStartEvent",
        "_PyMonitoring_FireRaiseEvent",
        "4fire12fire_frame_017h",
        "4fire15fire_frame_line17h",
        "4fire12fire_default4none17h",
        "8dispatch14after_callback17h",
        "7handler6call_c17h",
    ] {
        assert!(
            fast.iter().any(|n| n.contains(expected)),
            "no {expected} in the release library: is this test's list current?"
        );
    }
    let mut bad = Vec::new();
    for name in &fast {
        for callee in callees(name, &functions[*name], &slots, &functions) {
            let Some(callee) = callee else { continue };
            if on_fast_path(&callee) {
                continue;
            }
            if !ALLOWED.iter().any(|(pattern, _)| callee.contains(pattern)) {
                bad.push(format!("{name} calls {callee}"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "the fire fast path calls functions that may panic or are not classified \
         (guard them through dispatch::Boundary, or add them to ALLOWED with why):\n{}",
        bad.join("\n")
    );
}
