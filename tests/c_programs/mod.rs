//! Building and running C programs against the cdylib, as a C user does:
//! `#include "pymonitoring.h"` from the committed `include/` (which
//! `tests/header.rs` holds equal to the sources) and
//! `-lpymonitoring` from the target directory. The `cc` crate picks the
//! compiler and its flags; every program runs as its own process because the
//! registry is process-global.
#![allow(dead_code)]

pub mod harnesses;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The directory holding `libpymonitoring.so` for this test build: deps/,
/// which `cargo test` always rebuilds, before the uplifted copy that only
/// `cargo build` refreshes.
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps dir");
    let profile = deps.parent().expect("profile dir");
    for dir in [deps, profile] {
        if dir.join("libpymonitoring.so").exists() {
            return dir.to_path_buf();
        }
    }
    panic!("libpymonitoring.so not found next to {}", exe.display());
}

/// The directory of the committed `pymonitoring.h`.
pub fn include_dir() -> PathBuf {
    manifest_dir().join("include")
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where built programs go.
pub fn out_dir(kind: &str) -> PathBuf {
    let dir = lib_dir().join("c-programs").join(kind);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The compiler-driver arguments that link a program to the library under
/// test: `-L` and `-lpymonitoring`, and the directory as DT_RPATH, not
/// RUNPATH: `cargo test` puts the profile directory, whose uplifted copy may
/// be stale, on LD_LIBRARY_PATH, which RUNPATH would come after.
pub fn library_link_args() -> [String; 4] {
    let lib = lib_dir();
    [
        format!("-L{}", lib.display()),
        "-lpymonitoring".into(),
        "-Wl,--disable-new-dtags".into(),
        format!("-Wl,-rpath,{}", lib.display()),
    ]
}

/// How to build one C program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CProgram {
    pub name: String,
    pub sources: Vec<PathBuf>,
    pub defines: Vec<(String, Option<String>)>,
    pub flags: Vec<String>,
    pub libs: Vec<String>,
    pub cpp: bool,
}

impl CProgram {
    /// A program from `c-tests/<file>`.
    pub fn from_c_tests(file: &str) -> CProgram {
        let path = manifest_dir().join("c-tests").join(file);
        let name = Path::new(file)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        CProgram {
            name,
            sources: vec![path],
            defines: vec![],
            flags: vec![],
            libs: vec!["-lpthread".into()],
            cpp: false,
        }
    }

    pub fn named(mut self, name: &str) -> CProgram {
        self.name = name.into();
        self
    }

    pub fn define(mut self, key: &str, value: Option<&str>) -> CProgram {
        self.defines.push((key.into(), value.map(Into::into)));
        self
    }

    pub fn flag(mut self, flag: &str) -> CProgram {
        self.flags.push(flag.into());
        self
    }

    /// Compile and link, once per test process and name; panics with the
    /// compiler's output on failure. Tests run in parallel, and rebuilding a
    /// program while another test runs it fails with "text file busy", so
    /// the first build of a name is kept and later ones wait for it (a name
    /// reused for a different program is a test bug and panics).
    pub fn build(&self) -> PathBuf {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex, OnceLock};
        type Built = HashMap<String, (CProgram, Arc<OnceLock<PathBuf>>)>;
        static BUILT: OnceLock<Mutex<Built>> = OnceLock::new();
        let cell = {
            let mut built = BUILT
                .get_or_init(Default::default)
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let (program, cell) = built
                .entry(self.name.clone())
                .or_insert_with(|| (self.clone(), Arc::default()));
            assert_eq!(program, self, "two different programs named {}", self.name);
            cell.clone()
        };
        cell.get_or_init(|| self.compile()).clone()
    }

    fn compile(&self) -> PathBuf {
        let target = env!("TARGET_TRIPLE");
        let mut build = cc::Build::new();
        build
            .target(target)
            .host(target)
            .opt_level(1)
            .debug(true)
            .cargo_metadata(false)
            .cargo_warnings(false)
            .cpp(self.cpp)
            .include(include_dir())
            .include(manifest_dir().join("c-tests"));
        if self.cpp {
            build.std("c++17");
        } else {
            build.std("c11");
        }
        for f in ["-Wall", "-Wextra", "-Werror"] {
            build.flag(f);
        }
        for (k, v) in &self.defines {
            build.define(k, v.as_deref());
        }
        for f in &self.flags {
            build.flag(f);
        }
        let exe = out_dir("bin").join(&self.name);
        let mut cmd = build.get_compiler().to_command();
        cmd.args(&self.sources)
            .arg("-o")
            .arg(&exe)
            .args(library_link_args())
            .args(&self.libs);
        let out = cmd.output().expect("run the C compiler");
        assert!(
            out.status.success(),
            "compiling {} failed:\n{:?}\n{}{}",
            self.name,
            cmd,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        exe
    }
}

/// `out`'s stdout, once its exit status is 0; otherwise a panic naming
/// `what` with its status, stdout and stderr.
pub fn succeeded(what: &str, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Run a built program with no arguments and require exit status 0;
/// returns its stdout.
pub fn run_ok(exe: &Path) -> String {
    let out = Command::new(exe).output().expect("run the C program");
    succeeded(&exe.display().to_string(), &out)
}

/// Whether a program is on PATH.
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool} >/dev/null 2>&1"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// `$(pyenv prefix 3.13.0)/bin/python3`, found as CI finds it; panics
/// saying what is missing (tests that need CPython never skip).
pub fn python313() -> PathBuf {
    let out = Command::new("pyenv")
        .args(["prefix", "3.13.0"])
        .output()
        .unwrap_or_else(|e| {
            panic!("CPython 3.13.0 is needed through pyenv (`pyenv prefix 3.13.0`): {e}")
        });
    assert!(
        out.status.success(),
        "CPython 3.13.0 is needed through pyenv: `pyenv prefix 3.13.0` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let python = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        .join("bin")
        .join("python3");
    assert!(
        python.exists(),
        "CPython 3.13.0 is needed: {} does not exist",
        python.display()
    );
    python
}

/// `$(pyenv prefix 3.13.0)`: `python313()` is `<prefix>/bin/python3`.
pub fn python313_prefix() -> PathBuf {
    let python = python313();
    python
        .parent()
        .and_then(Path::parent)
        .expect("pyenv prefix")
        .to_owned()
}

/// `$(pyenv prefix 3.13.0)/include/python3.13`; panics when its `Python.h`
/// is missing (tests that need CPython's headers never skip).
pub fn python313_include() -> PathBuf {
    let dir = python313_prefix().join("include/python3.13");
    assert!(
        dir.join("Python.h").exists(),
        "CPython 3.13.0's headers are needed: {} has no Python.h",
        dir.display()
    );
    dir
}
