//! README.md's examples are the tested examples, run the way the README
//! tells a user to run them.
//!
//! * Every fenced `c` block is a complete program (the test fails on one
//!   without `main`). Each is saved as `prog.c` in a directory of its own and
//!   built there with the README's own command line (the `sh` block of "Using
//!   it from C" that compiles `prog.c`) plus `-Wall -Wextra -Werror`, run
//!   through `sh`, where `include/` is the repository's and `target/release/`
//!   holds the library of this test build; then it runs as its own process
//!   and must exit 0 (each program checks what it promises).
//! * The `python` block of "Using it from Python (ctypes)" is saved as
//!   `example.py` and run with the README's command line in CPython 3.13
//!   (found through pyenv, as CI does); it must print the `text` block that
//!   follows.
//! * Rust blocks are doctests (`src/lib.rs` includes README.md under
//!   `cfg(doctest)`).

mod c_programs;

use std::path::{Path, PathBuf};
use std::process::Command;

use c_programs::{lib_dir, manifest_dir, python313, succeeded};

/// A fenced block: its info string, first line number and text.
struct Block {
    lang: String,
    line: usize,
    text: String,
}

fn readme() -> String {
    std::fs::read_to_string(manifest_dir().join("README.md")).expect("README.md")
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (n, line) in markdown.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(lang)) => {
                open = Some(Block {
                    lang: lang.trim().to_owned(),
                    line: n + 1,
                    text: String::new(),
                })
            }
            (Some(_), Some("")) => out.push(open.take().unwrap()),
            (Some(block), _) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "README.md has an unclosed code block");
    out
}

/// The text of section `heading` (from its heading to the next heading of
/// the same or a higher level).
fn section(markdown: &str, heading: &str) -> String {
    let level = heading.chars().take_while(|c| *c == '#').count();
    let mut lines = markdown.lines().skip_while(|line| *line != heading);
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("README.md has no section {heading:?}"));
    let mut out = format!("{first}\n");
    let mut in_code = false;
    for line in lines {
        in_code ^= line.starts_with("```");
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if !in_code && hashes > 0 && hashes <= level && line[hashes..].starts_with(' ') {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A scratch directory laid out as the repository is for a user who ran
/// `cargo build --release`: `include/` and `target/release/` (this test
/// build's library).
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("readme_examples")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("target")).unwrap();
    std::os::unix::fs::symlink(manifest_dir().join("include"), dir.join("include")).unwrap();
    std::os::unix::fs::symlink(lib_dir(), dir.join("target/release")).unwrap();
    dir
}

/// Run `command` with `sh -c` in `dir`, requiring success.
fn sh(dir: &Path, command: &str, path_prefix: Option<&Path>) -> String {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(command).current_dir(dir).env("PWD", dir);
    if let Some(prefix) = path_prefix {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![prefix.to_path_buf()];
        dirs.extend(std::env::split_paths(&path));
        cmd.env("PATH", std::env::join_paths(dirs).unwrap());
    }
    let out = cmd.output().expect("run sh");
    succeeded(&format!("`{command}` in {}", dir.display()), &out)
}

/// The README's command for building a C program in the source tree.
fn c_command(markdown: &str) -> String {
    let from_c = section(markdown, "## Using it from C");
    let command = blocks(&from_c)
        .into_iter()
        .find(|b| b.lang == "sh" && b.text.contains("prog.c"))
        .expect("\"Using it from C\" gives a command that builds prog.c")
        .text;
    assert_eq!(command.lines().count(), 1, "one command line: {command}");
    command.trim().to_owned()
}

#[test]
fn every_c_program_builds_with_the_readme_command_and_runs() {
    let markdown = readme();
    let command = format!("{} -Wall -Wextra -Werror", c_command(&markdown));
    let programs: Vec<Block> = blocks(&markdown)
        .into_iter()
        .filter(|b| b.lang == "c")
        .collect();
    assert!(
        programs.len() >= 5,
        "README.md's C programs were not found ({} blocks)",
        programs.len()
    );
    for block in &programs {
        assert!(
            block.text.contains("int main("),
            "README.md line {}: a `c` block without main (every C block is a program that \
             this test builds and runs)",
            block.line
        );
        let dir = scratch(&format!("c_line_{}", block.line));
        std::fs::write(dir.join("prog.c"), &block.text).unwrap();
        sh(&dir, &command, None);
        let out = Command::new(dir.join("a.out"))
            .current_dir(&dir)
            .output()
            .expect("run a.out");
        succeeded(&format!("README.md line {}: the program", block.line), &out);
    }
}

#[test]
fn the_python_example_prints_what_the_readme_shows() {
    let markdown = readme();
    let from_python = blocks(&section(&markdown, "## Using it from Python (ctypes)"));
    let example = from_python
        .iter()
        .find(|b| b.lang == "python")
        .expect("a python block");
    let command = from_python
        .iter()
        .find(|b| b.lang == "sh" && b.text.contains("example.py"))
        .expect("the command that runs example.py");
    let shown = from_python
        .iter()
        .find(|b| b.lang == "text" && b.line > example.line)
        .expect("the output, in a text block after the example");
    let dir = scratch("python");
    std::fs::write(dir.join("example.py"), &example.text).unwrap();
    let python = python313();
    let stdout = sh(&dir, command.text.trim(), python.parent());
    assert_eq!(stdout, shown.text);
}
