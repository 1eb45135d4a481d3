//! Differential test against the real CPython 3.13.0 installed through pyenv.
//!
//! The same scenario scripts (format in `tests/differential/script.h`) are run
//! by `tests/differential/lib_driver.c` against this library and by the
//! extension `tests/differential/cpython_ext.c` against CPython's own C API
//! (`sys.monitoring` for the registry, `PyMonitoring_*` for scopes and
//! firing). Both write what their tools received and every return code and
//! error; this test compares the two logs line by line, with event ids mapped
//! by name, and fails on any difference that is not one of the documented
//! divergences of `docs/DIVERGENCES.md` (each rule below names its entry, and
//! the entry must exist there).
//!
//! Scenarios: the fixed ones below plus `GENERATED` random ones from a seeded
//! PRNG (`PYMON_DIFF_SEED` overrides the seed). When CPython 3.13.0 (with its
//! headers) is not installed, the test prints why and passes without
//! comparing.

mod api_names;
mod c_programs;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use api_names::EVENT_NAMES;
use c_programs::{manifest_dir, out_dir, succeeded, CProgram};

const GENERATED: usize = 300;
const DEFAULT_SEED: u64 = 0x5eed_c0de_2026;

/// CPython 3.13's event ids by name (3.13 calls BRANCH_RIGHT's slot BRANCH;
/// the driver maps it, see docs/DIVERGENCES.md "Not compared").
const NAMES_313: [&str; 17] = [
    "PY_START",
    "PY_RESUME",
    "PY_RETURN",
    "PY_YIELD",
    "CALL",
    "LINE",
    "INSTRUCTION",
    "JUMP",
    "BRANCH_RIGHT",
    "STOP_ITERATION",
    "RAISE",
    "EXCEPTION_HANDLED",
    "PY_UNWIND",
    "PY_THROW",
    "RERAISE",
    "C_RETURN",
    "C_RAISE",
];

/// Events usable in every position of a 3.13/3.14 comparison.
const FIREABLE: &[usize] = &[0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17];
/// Events a scope may list (CPython reads out of bounds for C_RETURN, C_RAISE
/// and BRANCH; 3.13 has no BRANCH_LEFT).
const SCOPE_EVENTS: &[usize] = &[0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15];
/// Events a tool may set or register for.
const SETTABLE: &[usize] = &[0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17];
const EXCEPTION_EVENTS: &[usize] = &[11, 12, 13, 14, 15, 17];

/// xorshift64*: a small, seeded, reproducible generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// One random scenario: tools, events, callbacks of every mode, scopes
/// (stored and fresh versions), fires with and without exceptions, negative
/// offsets, restarts, clears and frees.
fn generate(rng: &mut Rng, number: usize) -> String {
    let mut s = format!("scenario {number}\n");
    let mut in_use = [false; 6];
    let mut scope_events: [Vec<usize>; 4] = Default::default();
    let tools: Vec<usize> = (0..1 + rng.below(3)).map(|_| rng.below(6)).collect();
    let mut interesting: Vec<usize> = Vec::new();
    for &t in &tools {
        in_use[t] = true;
        writeln!(s, "use {t}").unwrap();
    }
    // Most scenarios start with tools that have callbacks and events, so
    // that fires reach them.
    for &t in &tools {
        if !in_use[t] || rng.chance(15) {
            continue;
        }
        let mut names = Vec::new();
        for _ in 0..2 + rng.below(5) {
            let ev = rng.pick(SETTABLE);
            interesting.push(ev);
            let mode = rng.pick(&["ok", "ok", "ok", "disable", "disable", "other", "error"]);
            writeln!(s, "cb {t} {} {mode} 0", EVENT_NAMES[ev]).unwrap();
            if ev == 16 || ev == 17 {
                names.extend(["CALL", "C_RETURN", "C_RAISE"]);
            } else {
                names.push(EVENT_NAMES[ev]);
            }
        }
        names.sort_by_key(|n| EVENT_NAMES.iter().position(|x| x == n));
        names.dedup();
        writeln!(s, "events {t} {}", names.join("|")).unwrap();
    }
    let steps = 8 + rng.below(30);
    for _ in 0..steps {
        let t = rng.pick(&tools);
        match rng.below(100) {
            0..=9 => {
                let mut names = Vec::new();
                for &e in SETTABLE {
                    let p = if interesting.contains(&e) { 70 } else { 15 };
                    if e != 16 && e != 17 && rng.chance(p) {
                        names.push(EVENT_NAMES[e]);
                    }
                }
                if rng.chance(15) {
                    // C_RETURN / C_RAISE: the full group, or alone (an error)
                    if rng.chance(70) {
                        names.extend(["CALL", "C_RETURN", "C_RAISE"]);
                    } else {
                        names.push(rng.pick(&["C_RETURN", "C_RAISE"]));
                    }
                }
                names.sort_by_key(|n| EVENT_NAMES.iter().position(|x| x == n));
                names.dedup();
                let mask = if names.is_empty() || rng.chance(5) {
                    "0".to_string()
                } else {
                    names.join("|")
                };
                writeln!(s, "events {t} {mask}").unwrap();
            }
            10..=29 => {
                if in_use[t] {
                    let ev = EVENT_NAMES[rng.pick(SETTABLE)];
                    let (mode, k) = match rng.below(100) {
                        0..=49 => ("ok", 0),
                        50..=69 => ("disable", 0),
                        70..=77 => ("error", 0),
                        78..=87 => ("exc", 4 + rng.below(10)),
                        88..=94 => ("other", 0),
                        _ => ("none", 0),
                    };
                    writeln!(s, "cb {t} {ev} {mode} {k}").unwrap();
                }
            }
            30..=44 => {
                let sc = rng.below(4);
                let n = 1 + rng.below(6);
                let list: Vec<usize> = (0..n)
                    .map(|_| {
                        let ev = if !interesting.is_empty() && rng.chance(70) {
                            rng.pick(&interesting)
                        } else {
                            rng.pick(SCOPE_EVENTS)
                        };
                        match ev {
                            16 | 17 => 4, // a C_RETURN / C_RAISE site is a CALL slot
                            e => e,
                        }
                    })
                    .collect();
                let names: Vec<&str> = list.iter().map(|&e| EVENT_NAMES[e]).collect();
                let kind = if rng.chance(40) { "fresh" } else { "scope" };
                scope_events[sc] = list;
                writeln!(s, "{kind} {sc} {}", names.join(",")).unwrap();
            }
            45..=84 => {
                let entered: Vec<usize> = (0..4).filter(|&i| !scope_events[i].is_empty()).collect();
                let sc = if !entered.is_empty() && rng.chance(90) {
                    rng.pick(&entered)
                } else {
                    rng.below(4)
                };
                let n = scope_events[sc].len();
                let slot = if n > 0 { rng.below(n) } else { rng.below(8) };
                // mostly the slot's own event (C_RETURN / C_RAISE at CALL slots)
                let ev = match scope_events[sc].get(slot) {
                    Some(&6) | None => rng.pick(FIREABLE),
                    Some(&4) if rng.chance(40) => rng.pick(&[4, 16, 17]),
                    Some(&e) if rng.chance(80) => e,
                    _ => rng.pick(FIREABLE),
                };
                let off: i64 = if rng.chance(5) {
                    -1 - rng.below(3) as i64
                } else {
                    rng.below(60) as i64
                };
                let exc: i64 = if EXCEPTION_EVENTS.contains(&ev) && !rng.chance(10) {
                    4 + rng.below(10) as i64
                } else {
                    -1
                };
                writeln!(
                    s,
                    "fire {sc} {slot} {} {off} {} {} {} {exc}",
                    EVENT_NAMES[ev],
                    rng.below(16),
                    rng.below(16),
                    rng.below(120) as i64 - 10,
                )
                .unwrap();
            }
            85..=87 => s.push_str("restart\n"),
            88..=90 => s.push_str("exit\n"),
            91..=93 => writeln!(s, "get {t}").unwrap(),
            94..=95 => writeln!(s, "clear {t}").unwrap(),
            96..=97 => {
                writeln!(s, "free {t}").unwrap();
                in_use[t] = false;
            }
            _ => {
                // claim again (an error when in use), or an invalid tool
                if rng.chance(30) {
                    writeln!(s, "use {}", 6 + rng.below(2)).unwrap();
                } else {
                    writeln!(s, "use {t}").unwrap();
                    in_use[t] = true;
                }
            }
        }
    }
    s
}

/// Hand-written scenarios: the CPython test cases and the corners the random
/// mix reaches rarely.
fn fixed() -> Vec<String> {
    let mut v = Vec::new();
    // Fire every event once to two tools, then DISABLE each (local: bit
    // cleared; others: error and callback removed).
    for &ev in FIREABLE {
        let name = EVENT_NAMES[ev];
        let exc = if EXCEPTION_EVENTS.contains(&ev) {
            5
        } else {
            -1
        };
        let slot_ev = if ev == 16 || ev == 17 { "CALL" } else { name };
        let set = if ev == 16 || ev == 17 {
            "CALL|C_RETURN|C_RAISE".to_string()
        } else {
            name.to_string()
        };
        v.push(format!(
            "use 2\nuse 4\ncb 2 {name} ok 0\ncb 4 {name} disable 0\nevents 2 {set}\nevents 4 {set}\n\
             get 2\nscope 0 {slot_ev},{slot_ev}\n\
             fire 0 0 {name} 3 1 2 7 {exc}\nfire 0 0 {name} 3 1 2 7 {exc}\nfire 0 1 {name} 4 12 14 8 {exc}\n\
             restart\nscope 0 {slot_ev},{slot_ev}\nfire 0 0 {name} 3 13 2 7 {exc}\n\
             cb 2 {name} error 0\nfire 0 1 {name} 5 1 2 7 {exc}\n\
             cb 2 {name} exc 9\nfire 0 1 {name} 5 1 2 7 {exc}\n\
             cb 2 {name} other 0\nfire 0 1 {name} 5 1 2 7 {exc}\nfire 0 1 {name} -1 1 2 7 {exc}\n"
        ));
    }
    // Missing exception, negative offsets on inactive states.
    v.push(
        "use 1\ncb 1 RAISE ok 0\nevents 1 RAISE\nscope 1 RAISE,PY_START\n\
         fire 1 0 RAISE 0 0 0 0 -1\nfire 1 0 RAISE -4 0 0 0 -1\nfire 1 1 PY_START -4 0 0 0 -1\n\
         fire 1 1 RAISE -4 0 0 0 -1\nfire 1 0 PY_THROW 0 0 0 0 -1\n"
            .into(),
    );
    // Tool order, DISABLE from one tool, undone by a version change.
    v.push(
        "use 0\nuse 1\nuse 2\nuse 3\nuse 4\nuse 5\n\
         cb 0 LINE ok 0\ncb 1 LINE ok 0\ncb 2 LINE ok 0\ncb 3 LINE disable 0\ncb 4 LINE ok 0\ncb 5 LINE ok 0\n\
         events 0 LINE\nevents 1 LINE\nevents 2 LINE\nevents 3 LINE\nevents 4 LINE\nevents 5 LINE\n\
         scope 2 LINE\nfire 2 0 LINE 1 0 0 11 -1\nfire 2 0 LINE 2 0 0 12 -1\nscope 2 LINE\n\
         fire 2 0 LINE 3 0 0 13 -1\nevents 5 LINE|RAISE\nscope 2 LINE\nfire 2 0 LINE 4 0 0 14 -1\n\
         fresh 3 LINE\nfire 3 0 LINE 4 0 0 14 -1\nclear 4\nscope 2 LINE\nfire 2 0 LINE 5 0 0 15 -1\n\
         free 5\nget 5\nscope 2 LINE\nfire 2 0 LINE 6 0 0 16 -1\n"
            .into(),
    );
    // Registry errors.
    v.push(
        "use 6\nuse 2\nuse 2\nevents 3 LINE\nevents 2 C_RETURN\nevents 2 CALL|C_RAISE\nget 3\nclear 3\n\
         free 3\nevents 2 CALL|C_RETURN|C_RAISE\nget 2\nevents 2 CALL\nget 2\n"
            .into(),
    );
    // STOP_ITERATION values: a StopIteration instance, plain objects.
    v.push(
        "use 2\ncb 2 STOP_ITERATION ok 0\nevents 2 STOP_ITERATION\nscope 0 STOP_ITERATION\n\
         fire 0 0 STOP_ITERATION 0 12 0 0 -1\nfire 0 0 STOP_ITERATION 0 3 0 0 -1\n\
         fire 0 0 STOP_ITERATION 0 14 0 0 -1\nfire 0 0 STOP_ITERATION 0 6 0 0 -1\n"
            .into(),
    );
    // A callback registered for a tool not in use (D1), at the end.
    v.push("cb 3 PY_START ok 0\n".into());
    v.into_iter()
        .enumerate()
        .map(|(i, body)| format!("scenario fixed-{i}\n{body}"))
        .collect()
}

/// A documented divergence that can show in the logs: its entry in
/// docs/DIVERGENCES.md, and whether a (CPython line, library line) pair is
/// explained by it.
struct Rule {
    id: &'static str,
    matches: fn(&str, &str) -> bool,
}

fn rule_register_unused(cpy: &str, lib: &str) -> bool {
    // cb T ...: rc=0 err=none   vs   rc=-1 err=ValueError: tool T is not in use
    let Some((head, tail)) = cpy.split_once(": ") else {
        return false;
    };
    let Some(tool) = head.strip_prefix("cb ").and_then(|r| r.split(' ').next()) else {
        return false;
    };
    tail == "rc=0 err=none"
        && lib == format!("{head}: rc=-1 err=ValueError: tool {tool} is not in use")
}

fn rule_stop_iteration_value(cpy: &str, lib: &str) -> bool {
    if !cpy.contains(" ev=STOP_ITERATION ") {
        return false;
    }
    let Some(start) = cpy.find(" a0=StopIteration(") else {
        return false;
    };
    let inner_start = start + " a0=StopIteration(".len();
    let Some(len) = cpy[inner_start..].find(')') else {
        return false;
    };
    let unwrapped = format!(
        "{} a0={}{}",
        &cpy[..start],
        &cpy[inner_start..inner_start + len],
        &cpy[inner_start + len + 1..]
    );
    unwrapped == lib
}

const RULES: &[Rule] = &[
    Rule {
        id: "D1",
        matches: rule_register_unused,
    },
    Rule {
        id: "D2",
        matches: rule_stop_iteration_value,
    },
];

/// "Firing event N with no exception set": N is the side's own numbering;
/// replace it by the event's name.
fn normalize(line: &str, names: &[&str]) -> String {
    const PAT: &str = "Firing event ";
    let Some(pos) = line.find(PAT) else {
        return line.to_string();
    };
    let rest = &line[pos + PAT.len()..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let name = digits
        .parse::<usize>()
        .ok()
        .and_then(|n| names.get(n))
        .copied()
        .unwrap_or("?");
    format!("{}{PAT}{name}{}", &line[..pos], &rest[digits.len()..])
}

fn split_scenarios(log: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in log.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            out.push((name.to_string(), Vec::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push(line.to_string());
        }
    }
    out
}

fn build_extension(include: &Path) -> PathBuf {
    let dir = out_dir("differential");
    let so = dir.join("pymon_diff.so");
    let compiler = cc::Build::new()
        .target(env!("TARGET_TRIPLE"))
        .host(env!("TARGET_TRIPLE"))
        .opt_level(1)
        .cargo_metadata(false)
        .cargo_warnings(false)
        .get_compiler();
    let mut cmd = compiler.to_command();
    cmd.args([
        "-shared", "-fPIC", "-std=c11", "-Wall", "-Wextra", "-Werror", "-g",
    ])
    .arg(format!("-I{}", include.display()))
    .arg(manifest_dir().join("tests/differential/cpython_ext.c"))
    .arg("-o")
    .arg(&so);
    let out = cmd.output().expect("run the C compiler");
    assert!(
        out.status.success(),
        "building the CPython extension failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// The fixed and generated scenarios in one script file (in the build
/// directory `kind`, one per test); returns its path,
/// the number of fixed scenarios and the seed.
fn write_script(kind: &str) -> (PathBuf, usize, u64) {
    let seed = std::env::var("PYMON_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let mut rng = Rng(seed | 1);
    let mut script = String::new();
    let fixed = fixed();
    for s in &fixed {
        script.push_str(s);
    }
    for i in 0..GENERATED {
        script.push_str(&generate(&mut rng, i));
    }
    let path = out_dir(kind).join("scenarios.txt");
    std::fs::write(&path, &script).unwrap();
    (path, fixed.len(), seed)
}

fn lib_driver(name: &str, flags: &[&str]) -> PathBuf {
    CProgram {
        name: name.into(),
        sources: vec![manifest_dir().join("tests/differential/lib_driver.c")],
        defines: vec![],
        flags: flags.iter().map(|f| f.to_string()).collect(),
        libs: vec![],
        cpp: false,
    }
    .build()
}

/// The library side of every differential scenario under valgrind's
/// memcheck and built with AddressSanitizer + UBSan (no CPython needed).
/// Slow: run by .ci/run with `--ignored`.
#[test]
#[ignore = "slow: run by .ci/run with --ignored"]
fn library_driver_memcheck_and_sanitizers() {
    let script = write_script("differential-checked").0;
    let log = script.with_file_name("library.log");
    let plain = lib_driver("differential_lib_driver_memcheck", &[]);
    let out = Command::new("valgrind")
        .args(["--quiet", "--error-exitcode=1", "--leak-check=full"])
        .arg(&plain)
        .arg(&script)
        .arg(&log)
        .output()
        .expect("run valgrind");
    succeeded("library driver under valgrind", &out);
    let asan = lib_driver(
        "differential_lib_driver_asan",
        &[
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=undefined",
            "-fno-omit-frame-pointer",
        ],
    );
    let nm = Command::new("nm").arg(&asan).output().expect("run nm");
    assert!(String::from_utf8_lossy(&nm.stdout).contains("__asan_init"));
    let out = Command::new(&asan)
        .arg(&script)
        .arg(log.with_file_name("library-asan.log"))
        .output()
        .unwrap();
    succeeded("library driver with sanitizers", &out);
    println!("library driver: memcheck and sanitizers clean over every scenario");
}

#[test]
fn differential_against_cpython_313() {
    let (python, include) = (c_programs::python313(), c_programs::python313_include());
    let divergences = std::fs::read_to_string(manifest_dir().join("docs/DIVERGENCES.md"))
        .expect("docs/DIVERGENCES.md");
    for rule in RULES {
        assert!(
            divergences.contains(&format!("## {} ", rule.id)),
            "rule {} is not documented in docs/DIVERGENCES.md",
            rule.id
        );
    }

    let (script_path, fixed_count, seed) = write_script("differential");
    let dir = out_dir("differential");
    let driver = lib_driver("differential_lib_driver", &[]);
    let lib_log = dir.join("library.log");
    let cpy_log = dir.join("cpython.log");
    let out = Command::new(&driver)
        .arg(&script_path)
        .arg(&lib_log)
        .output()
        .unwrap();
    assert!(out.status.success(), "library driver failed: {out:?}");

    let ext_dir = build_extension(&include);
    let code = format!(
        "import sys; sys.path.insert(0, {:?}); import pymon_diff; print(pymon_diff.run({:?}, {:?}))",
        ext_dir.display().to_string(),
        script_path.display().to_string(),
        cpy_log.display().to_string()
    );
    let out = Command::new(&python).arg("-c").arg(&code).output().unwrap();
    assert!(
        out.status.success(),
        "CPython driver failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    let lib = split_scenarios(&std::fs::read_to_string(&lib_log).unwrap());
    let cpy = split_scenarios(&std::fs::read_to_string(&cpy_log).unwrap());
    assert_eq!(
        lib.len(),
        fixed_count + GENERATED,
        "scenarios in the library log"
    );
    assert_eq!(cpy.len(), lib.len(), "scenarios in the CPython log");

    let mut failures = Vec::new();
    let mut lines = 0usize;
    let mut events = 0usize;
    let mut fires = 0usize;
    let mut used = vec![0usize; RULES.len()];
    for ((name_l, lib_lines), (name_c, cpy_lines)) in lib.iter().zip(&cpy) {
        assert_eq!(name_l, name_c);
        if lib_lines.len() != cpy_lines.len() {
            failures.push(format!(
                "{name_l}: {} lines from the library, {} from CPython",
                lib_lines.len(),
                cpy_lines.len()
            ));
        }
        for (i, (l, c)) in lib_lines.iter().zip(cpy_lines).enumerate() {
            lines += 1;
            if l.starts_with("  cb ") {
                events += 1;
            }
            if l.starts_with("fire ") {
                fires += 1;
            }
            let l = normalize(l, &EVENT_NAMES);
            let c = normalize(c, &NAMES_313);
            if l == c {
                continue;
            }
            match RULES.iter().position(|r| (r.matches)(&c, &l)) {
                Some(r) => used[r] += 1,
                None => {
                    failures.push(format!(
                        "{name_l}, line {}:\n  CPython: {c}\n  library: {l}",
                        i + 1
                    ));
                    break;
                }
            }
        }
    }
    println!(
        "differential: {} scenarios ({} fixed, {} generated, seed {seed:#x}), {lines} log lines, \
         {fires} fires, {events} callback events compared with CPython 3.13.0",
        lib.len(),
        fixed_count,
        GENERATED
    );
    for (rule, n) in RULES.iter().zip(&used) {
        println!("  documented divergence {}: {n} line(s)", rule.id);
    }
    assert!(
        failures.is_empty(),
        "{} undocumented difference(s) (script {}, logs {} and {}):\n{}",
        failures.len(),
        script_path.display(),
        lib_log.display(),
        cpy_log.display(),
        failures.join("\n")
    );
    assert!(events >= 200, "too few events compared: {events}");
}
