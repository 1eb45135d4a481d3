//! Every C program of `c-tests/` in one table, and the one runner the tests
//! of them go through: a row names the file, its defines, the builds it has
//! (exported, inline, sanitized), what a passing run prints and the valgrind
//! tools it also runs under. Each run is its own process (the registry is
//! process-global); the test files stay split by topic and only say which
//! rows to run and with what arguments, options or environment.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Output};

use super::{have, manifest_dir, succeeded, CProgram};

/// How a harness is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// Calling the exported functions.
    Exported,
    /// With `PYMONITORING_INLINE`: the header's inline fast path, as
    /// CPython-compiled code uses it.
    Inline,
    /// Exported, with AddressSanitizer and UndefinedBehaviorSanitizer on the
    /// C side; any report fails the run.
    Sanitized,
}

/// A valgrind tool a harness also runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checker {
    /// memcheck with `--leak-check=full`; the leak kinds that count as
    /// errors (`--errors-for-leak-kinds`).
    Memcheck(&'static str),
    /// helgrind with the documented suppressions of `c-tests/helgrind.supp`.
    Helgrind,
}

/// The exit status valgrind gives a run in which it found an error.
pub const VALGRIND_ERROR: i32 = 99;

/// What a passing run of a row prints on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prints {
    /// `<name>: ok`, the line of `harness_finish` (`c-tests/harness.h`).
    Finish,
    /// This line.
    Line(&'static str),
    /// Nothing the runner checks: the test reads the output itself, or the
    /// run is to fail (a planted error).
    Unchecked,
}

/// One row of the table.
#[derive(Debug)]
pub struct Harness {
    /// The row's name, also the built program's.
    pub name: &'static str,
    /// The file in `c-tests/` when it is not `<name>.c`.
    pub source: Option<&'static str>,
    /// Defines of every build of the row.
    pub defines: &'static [(&'static str, Option<&'static str>)],
    /// The builds the row has.
    pub builds: &'static [Build],
    pub prints: Prints,
    /// The valgrind tools the row also runs under.
    pub checkers: &'static [Checker],
}

const PLAIN: &[Build] = &[Build::Exported];
const BOTH: &[Build] = &[Build::Exported, Build::Inline];
const ALL: &[Build] = &[Build::Exported, Build::Inline, Build::Sanitized];

/// memcheck with valgrind's default leak kinds.
const MEMCHECK: Checker = Checker::Memcheck("definite,possible");

/// A row of `c-tests/<name>.c` ending with `harness_finish`, no defines, no
/// checker.
const fn row(name: &'static str, builds: &'static [Build]) -> Harness {
    Harness {
        name,
        source: None,
        defines: &[],
        builds,
        prints: Prints::Finish,
        checkers: &[],
    }
}

/// A conformance harness (docs/CONFORMANCE.md): both builds in `cargo
/// test`; memcheck and the sanitizers in CI.
const fn conformance(name: &'static str) -> Harness {
    Harness {
        checkers: &[MEMCHECK],
        ..row(name, ALL)
    }
}

/// The version the header's macros must spell, as a C string literal.
const EXPECTED_VERSION: &str = concat!("\"", env!("CARGO_PKG_VERSION"), "\"");

/// The table: every program of `c-tests/` (`every_c_program_has_a_row`
/// in `tests/c_harnesses.rs` holds it to the directory).
pub const HARNESSES: &[Harness] = &[
    row("smoke", BOTH),
    // the C API, one area a file
    row("api_errors", ALL),
    row("api_registry", ALL),
    row("api_scope", ALL),
    row("api_fire", ALL),
    row("api_fire_rules", ALL),
    row("api_threads", ALL),
    row("raised_count", BOTH),
    // processes and threads
    row("fork", PLAIN),
    Harness {
        checkers: &[Checker::Memcheck("definite,indirect")],
        ..row("thread_exit", PLAIN)
    },
    Harness {
        checkers: &[Checker::Memcheck("definite"), Checker::Helgrind],
        ..row("stress", BOTH)
    },
    Harness {
        source: Some("stress.c"),
        defines: &[("STRESS_PLANTED_RACE", None)],
        prints: Prints::Unchecked,
        checkers: &[Checker::Helgrind],
        ..row("stress_planted_race", PLAIN)
    },
    Harness {
        source: Some("stress.c"),
        defines: &[("STRESS_PLANTED_UAF", None)],
        prints: Prints::Unchecked,
        checkers: &[MEMCHECK],
        ..row("stress_planted_uaf", PLAIN)
    },
    // EnterScope
    row("enter_scope_paths", BOTH),
    row("enter_scope_idle", BOTH),
    row("enter_scope_refresh", BOTH),
    // the extensions (docs/EXTENSIONS.md)
    row("ext_armed", BOTH),
    row("ext_codelikes", BOTH),
    row("ext_lasting", BOTH),
    row("ext_coverage", BOTH),
    row("ext_options", PLAIN),
    // hosts (docs/HOSTS.md)
    Harness {
        checkers: &[MEMCHECK],
        ..row("host_hooks", PLAIN)
    },
    row("host_numbering", BOTH),
    // the crate's version in the header and the library
    Harness {
        defines: &[("EXPECTED_VERSION", Some(EXPECTED_VERSION))],
        prints: Prints::Line(env!("CARGO_PKG_VERSION")),
        ..row("version", PLAIN)
    },
    // programs whose output their test reads
    Harness {
        prints: Prints::Unchecked,
        ..row("abi_layout", PLAIN)
    },
    Harness {
        prints: Prints::Unchecked,
        ..row("builtin_env", PLAIN)
    },
    row("rust_api_parity", PLAIN),
    // the conformance harnesses (docs/CONFORMANCE.md)
    conformance("cython_plain"),
    conformance("cython_recursive"),
    conformance("cython_generator"),
    conformance("cython_handled"),
    conformance("cython_unhandled"),
    conformance("cython_finally"),
    conformance("cython_return_fails"),
    conformance("cython_reentry"),
    conformance("cython_threads"),
    conformance("cpython_fire_event"),
    conformance("cpython_missing_exception"),
    conformance("cpython_failing_callback"),
    conformance("cpython_disable_event"),
    conformance("cpython_two_events"),
    conformance("cpython_more_events"),
    conformance("cpython_tool_order"),
    conformance("cpython_exceptions"),
    conformance("cpython_registry_changes"),
];

/// The row named `name`; panics when there is none.
pub fn harness(name: &str) -> &'static Harness {
    HARNESSES
        .iter()
        .find(|h| h.name == name)
        .unwrap_or_else(|| panic!("no harness named {name} in tests/c_programs/harnesses.rs"))
}

/// The rows whose name starts with `prefix`, in table order.
pub fn harnesses_starting(prefix: &str) -> Vec<&'static Harness> {
    HARNESSES
        .iter()
        .filter(|h| h.name.starts_with(prefix))
        .collect()
}

/// The flags of [`Build::Sanitized`].
const SANITIZE: [&str; 3] = [
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
];

/// Whether the C compiler can build sanitized programs (probed once).
pub fn sanitizers_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let mut probe = CProgram::from_c_tests("smoke.c").named("smoke_asan_probe");
        for f in SANITIZE {
            probe = probe.flag(f);
        }
        std::panic::catch_unwind(|| probe.build()).is_ok()
    })
}

/// Whether the valgrind runs are to be skipped: valgrind is part of the
/// project's machines (a run under it fails loudly without it); set
/// `PYMONITORING_SKIP_VALGRIND=1` to skip them elsewhere.
pub fn skip_valgrind() -> bool {
    let skip = std::env::var_os("PYMONITORING_SKIP_VALGRIND").is_some();
    if skip {
        eprintln!("PYMONITORING_SKIP_VALGRIND is set: skipping the valgrind run");
    }
    skip
}

/// How to run a built harness: arguments, `PYMONITORING_OPTIONS`, other
/// environment, and a valgrind tool around it.
#[derive(Clone, Debug, Default)]
pub struct Run {
    pub args: Vec<String>,
    pub env: Vec<(String, Option<OsString>)>,
    pub checker: Option<Checker>,
    /// What a passing run prints instead of the row's line.
    pub prints: Option<String>,
}

impl Run {
    /// No arguments, the test process's environment, no checker.
    pub fn plain() -> Run {
        Run::default()
    }

    pub fn args(mut self, args: &[&str]) -> Run {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// `PYMONITORING_OPTIONS=options` (the library applies it when it
    /// loads).
    pub fn options(self, options: &str) -> Run {
        self.env("PYMONITORING_OPTIONS", options)
    }

    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Run {
        self.env.push((key.into(), Some(value.into())));
        self
    }

    pub fn env_remove(mut self, key: &str) -> Run {
        self.env.push((key.into(), None));
        self
    }

    pub fn under(mut self, checker: Checker) -> Run {
        self.checker = Some(checker);
        self
    }

    /// A passing run prints `line` (for arguments that change what the
    /// harness checks).
    pub fn prints(mut self, line: &str) -> Run {
        self.prints = Some(line.into());
        self
    }
}

impl Harness {
    /// The file in `c-tests/`.
    pub fn file(&self) -> String {
        self.source
            .map_or_else(|| format!("{}.c", self.name), str::to_string)
    }

    /// The line a passing run prints, if the runner checks one.
    pub fn ok_line(&self) -> Option<String> {
        match self.prints {
            Prints::Finish => Some(format!("{}: ok", self.name)),
            Prints::Line(line) => Some(line.to_string()),
            Prints::Unchecked => None,
        }
    }

    /// The program of one build (not built yet).
    pub fn program(&self, build: Build) -> CProgram {
        assert!(
            self.builds.contains(&build),
            "{} has no {build:?} build",
            self.name
        );
        let mut program = CProgram::from_c_tests(&self.file());
        for (k, v) in self.defines {
            program = program.define(k, *v);
        }
        match build {
            Build::Exported => program.named(self.name),
            Build::Inline => program
                .named(&format!("{}_inline", self.name))
                .define("PYMONITORING_INLINE", None),
            Build::Sanitized => {
                let mut program = program.named(&format!("{}_asan", self.name));
                for f in SANITIZE {
                    program = program.flag(f);
                }
                program
            }
        }
    }

    /// The built program of one build (built once per test process; a
    /// sanitized build is checked to link AddressSanitizer).
    pub fn exe(&self, build: Build) -> PathBuf {
        let exe = self.program(build).build();
        if build == Build::Sanitized {
            let nm = Command::new("nm").arg(&exe).output().expect("run nm");
            assert!(
                String::from_utf8_lossy(&nm.stdout).contains("__asan_init"),
                "{}: AddressSanitizer is not linked",
                self.name
            );
        }
        exe
    }

    /// The command that runs one build as `run` says.
    pub fn command(&self, build: Build, run: &Run) -> Command {
        let exe = self.exe(build);
        let mut cmd = match run.checker {
            None => Command::new(&exe),
            Some(checker) => {
                assert!(
                    self.checkers.contains(&checker),
                    "{} does not run under {checker:?}",
                    self.name
                );
                assert!(
                    have("valgrind"),
                    "valgrind is not installed (apt-get install valgrind), or set \
                     PYMONITORING_SKIP_VALGRIND=1"
                );
                let mut cmd = Command::new("valgrind");
                cmd.arg(format!("--error-exitcode={VALGRIND_ERROR}"));
                match checker {
                    Checker::Memcheck(leaks) => cmd.args([
                        "--tool=memcheck".to_string(),
                        "--leak-check=full".to_string(),
                        format!("--errors-for-leak-kinds={leaks}"),
                    ]),
                    Checker::Helgrind => cmd.arg("--tool=helgrind").arg(format!(
                        "--suppressions={}",
                        manifest_dir().join("c-tests/helgrind.supp").display()
                    )),
                };
                cmd.arg(&exe);
                cmd
            }
        };
        cmd.args(&run.args);
        for (k, v) in &run.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd
    }

    /// Run one build as `run` says and return its output, whatever its exit.
    pub fn output(&self, build: Build, run: &Run) -> Output {
        self.command(build, run)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.name))
    }

    /// Run one build as `run` says; it must exit 0 and print its
    /// line (under valgrind: report no error). Returns its stdout.
    pub fn check_build(&self, build: Build, run: &Run) -> String {
        let out = self.output(build, run);
        let what = format!("{} ({build:?} build, {run:?})", self.name);
        let stdout = succeeded(&what, &out);
        if let Some(ok) = run.prints.clone().or_else(|| self.ok_line()) {
            assert!(
                stdout.contains(&ok),
                "{what} did not print {ok:?}:\n{stdout}"
            );
        }
        if run.checker.is_some() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("ERROR SUMMARY: 0 errors"),
                "{what}: valgrind reported errors:\n{stderr}"
            );
        }
        stdout
    }

    /// [`Harness::check_build`] for each of the row's exported and inline
    /// builds; returns their stdouts.
    pub fn check_with(&self, run: &Run) -> Vec<String> {
        self.builds
            .iter()
            .filter(|&&b| b != Build::Sanitized)
            .map(|&b| self.check_build(b, run))
            .collect()
    }

    /// [`Harness::check_with`] a plain run.
    pub fn check(&self) -> Vec<String> {
        self.check_with(&Run::plain())
    }

    /// Run the exported build under `checker`, which must find an error
    /// (a planted one); returns valgrind's report.
    pub fn check_caught(&self, checker: Checker, run: &Run) -> String {
        let out = self.output(Build::Exported, &run.clone().under(checker));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.status.code(),
            Some(VALGRIND_ERROR),
            "{checker:?} missed what {} plants:\n{text}",
            self.name
        );
        text
    }
}

/// One test a build of a row, run plainly:
/// `build_tests! { smoke => "smoke" Exported, smoke_inline => "smoke" Inline, }`.
/// A sanitized build is skipped (with a message) when the C compiler cannot
/// build sanitized programs.
#[macro_export]
macro_rules! build_tests {
    ($($test:ident => $name:literal $build:ident,)*) => {
        $(
            #[test]
            fn $test() {
                use $crate::c_programs::harnesses::{harness, sanitizers_available, Build, Run};
                if Build::$build == Build::Sanitized && !sanitizers_available() {
                    println!("skipped: the C compiler cannot build with -fsanitize=address,undefined");
                    return;
                }
                harness($name).check_build(Build::$build, &Run::plain());
            }
        )*
    };
}

/// The tests of a row whose expectations do not depend on the options in
/// force: `sequences_and_bad_input` runs its builds plainly,
/// `under_every_option` under every `PYMONITORING_OPTIONS` value.
#[macro_export]
macro_rules! option_independent_tests {
    ($name:literal) => {
        #[test]
        fn sequences_and_bad_input() {
            $crate::c_programs::harnesses::harness($name).check();
        }

        #[test]
        fn under_every_option() {
            use $crate::c_programs::harnesses::{harness, Run};
            for value in [
                "lasting-disable",
                "active-needs-callback",
                "lasting-disable,active-needs-callback",
            ] {
                harness($name).check_with(&Run::plain().options(value));
            }
        }
    };
}
