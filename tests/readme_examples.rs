//! Every C block of README.md marked `<!-- example: NAME … -->` is built
//! against the generated header (`-std=c11 -Wall -Wextra -Werror`) and run
//! as its own process; it must exit 0 (each example checks what it
//! promises).

mod common;

use common::{run_ok, CProgram};

fn examples() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(common::manifest_dir().join("README.md")).unwrap();
    let mut out = Vec::new();
    let mut rest = readme.as_str();
    while let Some(at) = rest.find("<!-- example: ") {
        let after = &rest[at + "<!-- example: ".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let code_start = after.find("```c\n").expect("a C block after the marker") + 5;
        let code_end = code_start + after[code_start..].find("```").expect("end of block");
        out.push((name, after[code_start..code_end].to_owned()));
        rest = &after[code_end..];
    }
    out
}

#[test]
fn every_marked_example_builds_and_runs() {
    let found = examples();
    let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["restart", "debugger", "active-needs-callback"]);
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("readme_examples");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, code) in found {
        let stem = format!("readme_{}", name.replace('-', "_"));
        let file = dir.join(format!("{stem}.c"));
        std::fs::write(&file, code).unwrap();
        let exe = CProgram {
            sources: vec![file],
            ..CProgram::from_c_tests("smoke.c")
        }
        .named(&stem)
        .build();
        run_ok(&exe, &[]);
    }
}
