//! CPython 3.13 as the host, a real Cython module (docs/HOSTS.md, "The
//! proof"): `tests/cython_host/events_mod.pyx`, built by Cython (installed
//! from PyPI into a virtual environment of pyenv's CPython 3.13.0) against
//! 3.13's headers with `CYTHON_TRACE=1`, runs under `tests/cython_host/driver.py`
//! twice:
//!
//! 1. in plain CPython, with a `sys.monitoring` tool whose callbacks are
//!    Python functions;
//! 2. with `libpymonitoring.so` preloaded (`LD_PRELOAD`, so the module's
//!    `PyMonitoring_*` symbols bind to the library — the driver checks the
//!    addresses), hooks installed with `PyMonitoring_SetHost` that are
//!    CPython's own `PyErr_GetRaisedException`, `PyErr_SetRaisedException`
//!    and `PyErr_SetString`, `PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS` on, and
//!    a tool registered through the library's C API (ctypes) that turns each
//!    event back into Python objects.
//!
//! 3. as 2, but through `tests/cython_host/hostmon.c`, the host's
//!    `sys.monitoring` forwarding into the library (the worked example of
//!    docs/HOSTS.md: hooks from C, one C trampoline per Python callable),
//!    with the Python tool of run 1 unchanged.
//!
//! The event streams (event, function, offset or line, return values, and
//! for exception events which exception object, checked against the
//! objects the program catches) must be identical, line for line, together
//! with the program's own results. The only events left out are those
//! CPython's interpreter reports for the driver's own Python code in run 1
//! (no C-API fire makes them); the test checks that every one of them
//! belongs to `driver.py`, and that run 2 left out none.
//!
//! The virtual environment and the built module are cached under
//! `target/cython-host/`; a fresh machine needs PyPI for `pip install`.
//! A missing pyenv CPython 3.13.0 fails the test.

mod c_programs;

use std::path::{Path, PathBuf};
use std::process::Command;

use c_programs::{lib_dir, manifest_dir, succeeded};

fn python313() -> PathBuf {
    let out = Command::new("pyenv")
        .args(["prefix", "3.13.0"])
        .output()
        .expect("pyenv must be installed: the Cython host test needs CPython 3.13.0 from pyenv");
    assert!(
        out.status.success(),
        "`pyenv prefix 3.13.0` failed: CPython 3.13.0 must be installed with pyenv \
         (pyenv install 3.13.0):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prefix = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let python = prefix.join("bin").join("python3.13");
    assert!(python.exists(), "{} is missing", python.display());
    assert!(
        prefix
            .join("include/python3.13/cpython/monitoring.h")
            .exists(),
        "CPython 3.13.0's headers are missing under {}",
        prefix.display()
    );
    python
}

/// `target/` of this build (the profile directory's parent).
fn target_dir() -> PathBuf {
    let profile = lib_dir();
    let profile = if profile.ends_with("deps") {
        profile.parent().unwrap().to_path_buf()
    } else {
        profile
    };
    profile.parent().unwrap().to_path_buf()
}

fn check(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    succeeded(what, &out)
}

/// The cached virtual environment with Cython and setuptools; its python.
fn venv(python313: &Path, dir: &Path) -> PathBuf {
    let python = dir.join("bin").join("python");
    let ready = python.exists()
        && Command::new(&python)
            .args([
                "-c",
                "import Cython, setuptools, sys; assert sys.version_info[:3] == (3, 13, 0)",
            ])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        let _ = std::fs::remove_dir_all(dir);
        check(
            Command::new(python313).args(["-m", "venv"]).arg(dir),
            "creating the virtual environment",
        );
        check(
            Command::new(&python).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "Cython>=3.1",
                "setuptools",
            ]),
            "pip install Cython setuptools",
        );
    }
    python
}

/// Build `events_mod` and `hostmon` in `dir` (again only when their sources
/// or the header changed).
fn build_modules(python: &Path, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let include = c_programs::include_dir();
    let mut changed = false;
    let sources = ["events_mod.pyx", "hostmon.c", "setup.py"]
        .map(|f| manifest_dir().join("tests/cython_host").join(f));
    for src in sources.iter().chain([&include.join("pymonitoring.h")]) {
        let text = std::fs::read(src).unwrap();
        let dst = dir.join(src.file_name().unwrap());
        if std::fs::read(&dst).ok().as_ref() != Some(&text) {
            std::fs::write(&dst, &text).unwrap();
            changed = true;
        }
    }
    let built = ["events_mod", "hostmon"].iter().all(|m| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{m}.cpython-313"))
            })
    });
    if changed || !built {
        check(
            Command::new(python)
                .args(["setup.py", "--quiet", "build_ext", "--inplace", "--force"])
                .env("PYMONITORING_INCLUDE", dir)
                .current_dir(dir),
            "building the Cython module and hostmon",
        );
    }
    // The module reports through the C API: it imports EnterScope and the
    // underscore fire functions.
    let so = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("events_mod.") && name.ends_with(".so")
        })
        .expect("the built module");
    let symbols = check(Command::new("nm").arg("-D").arg(&so), "nm -D");
    for sym in [
        "PyMonitoring_EnterScope",
        "_PyMonitoring_FirePyStartEvent",
        "_PyMonitoring_FireRaiseEvent",
        "_PyMonitoring_FireReraiseEvent",
        "_PyMonitoring_FireExceptionHandledEvent",
        "_PyMonitoring_FirePyUnwindEvent",
        "_PyMonitoring_FirePyYieldEvent",
        "_PyMonitoring_FirePyResumeEvent",
        "_PyMonitoring_FireLineEvent",
    ] {
        assert!(
            symbols.lines().any(|l| l.ends_with(&format!(" U {sym}"))),
            "{} does not import {sym}:\n{symbols}",
            so.display()
        );
    }
}

fn run_driver(python: &Path, dir: &Path, mode: &str, preload: Option<&Path>) -> Vec<String> {
    let out_file = dir.join(format!("events-{mode}.txt"));
    let _ = std::fs::remove_file(&out_file);
    let mut cmd = Command::new(python);
    cmd.arg(manifest_dir().join("tests/cython_host/driver.py"))
        .arg(mode)
        .arg(&out_file)
        .current_dir(dir)
        .env_remove("PYMONITORING_OPTIONS");
    if let Some(lib) = preload {
        cmd.env("LD_PRELOAD", lib).env("PYMONITORING_LIB", lib);
    }
    check(&mut cmd, &format!("the driver in mode {mode}"));
    std::fs::read_to_string(&out_file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn cython_module_in_cpython_313_matches_cpythons_own_events() {
    let python313 = python313();
    let base = target_dir().join("cython-host");
    let python = venv(&python313, &base.join("venv"));
    let build = base.join("build");
    build_modules(&python, &build);
    let lib = lib_dir().join("libpymonitoring.so");

    let mut cpython = run_driver(&python, &build, "cpython", None);
    let mut library = run_driver(&python, &build, "library", Some(&lib));
    let mut forwarded = run_driver(&python, &build, "forwarded", Some(&lib));

    // The last line counts what was left out: in CPython's run only the
    // driver's own Python code, in the library's run nothing.
    let driver = manifest_dir().join("tests/cython_host/driver.py");
    let left_out = cpython.pop().expect("CPython's run recorded nothing");
    assert!(
        left_out.starts_with("('filtered', ")
            && left_out.ends_with(&format!(", ['{}'])", driver.display())),
        "CPython's run left out events of other code than the driver's: {left_out}"
    );
    for (name, run) in [("library", &mut library), ("forwarded", &mut forwarded)] {
        assert_eq!(
            run.pop().as_deref(),
            Some("('filtered', 0, [])"),
            "the {name} run reported code outside the module"
        );
        for (i, (a, b)) in cpython.iter().zip(run.iter()).enumerate() {
            assert_eq!(
                a,
                b,
                "line {} differs (CPython's run, then the {name} run); context:\n{}",
                i + 1,
                cpython[i.saturating_sub(5)..(i + 3).min(cpython.len())].join("\n")
            );
        }
        assert_eq!(cpython.len(), run.len(), "the {name} run differs in length");
    }

    // Every event the module fires was seen, and every kind of scenario ran.
    for needle in [
        "('PY_START', ",
        "('PY_RETURN', ",
        "('LINE', 'loop', ",
        "('RAISE', ",
        "('RERAISE', ",
        "('EXCEPTION_HANDLED', ",
        "('PY_UNWIND', ",
        "('PY_YIELD', ",
        "('PY_RESUME', ",
        "('RAISE', 'catcher', 50, ('exc#4', 'ValueError', ('thrown',)))",
        "('PY_UNWIND', 'catcher', 0, ('exc#6', 'GeneratorExit', ()))",
        "('caught', 'exc#2', 'KeyError')",
        "('finished', 'done')",
    ] {
        assert!(
            cpython.iter().any(|l| l.starts_with(needle)),
            "no {needle} in the event stream:\n{}",
            cpython.join("\n")
        );
    }
    println!(
        "{} identical lines in each of the three runs; {left_out} (CPython's events for \
         the driver's own code)",
        cpython.len()
    );
}

/// docs/HOSTS.md's worked example quotes `tests/cython_host/hostmon.c`
/// (built and run above) verbatim.
#[test]
fn hosts_md_quotes_hostmon_verbatim() {
    let doc = std::fs::read_to_string(manifest_dir().join("docs/HOSTS.md")).unwrap();
    let source =
        std::fs::read_to_string(manifest_dir().join("tests/cython_host/hostmon.c")).unwrap();
    let example = doc
        .split("### Worked example")
        .nth(1)
        .expect("docs/HOSTS.md has a worked example");
    let blocks: Vec<&str> = example
        .split("```c\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 2);
    for block in blocks {
        assert!(
            source.contains(block),
            "docs/HOSTS.md quotes code that is not in hostmon.c:\n{block}"
        );
    }
}
