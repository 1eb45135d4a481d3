//! The modules of `src/` import downward only: the graph of their
//! `crate::` and `super::` paths has no circle (docs/ARCHITECTURE.md,
//! "Layers"). Test code (`#[cfg(test)]` items and the test-only modules) is
//! left out: a test may reach anything.
//!
//! A module is a file (`src/ffi/scope.rs` is `ffi::scope`, `src/ffi/mod.rs`
//! is `ffi`); a path names the longest module it starts with.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files whose whole content is test code.
const TEST_FILES: &[&str] = &[
    "tests.rs",
    "behaviour_tests.rs",
    "loom_tests.rs",
    "test_support.rs",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("a dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` -> `a::b`; `src/a/mod.rs` -> `a`; `src/lib.rs` -> ``.
fn module_name(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

/// The file's code without comments and without `#[cfg(test)]` (or
/// `#[cfg(all(test, …))]`) items.
fn production_code(text: &str) -> String {
    let mut out = String::new();
    let mut depth: i64 = 0;
    let mut skip_above: Option<i64> = None;
    let mut cfg_test = false;
    for line in text.lines() {
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        let trimmed = code.trim();
        let opens = code.matches('{').count() as i64;
        let closes = code.matches('}').count() as i64;
        if skip_above.is_none()
            && (trimmed.starts_with("#[cfg(test)]") || trimmed.starts_with("#[cfg(all(test"))
        {
            cfg_test = true;
            continue;
        }
        if cfg_test && skip_above.is_none() {
            cfg_test = false;
            if opens == 0 && trimmed.ends_with(';') {
                continue; // a one-line item
            }
            skip_above = Some(depth);
        }
        depth += opens - closes;
        if let Some(level) = skip_above {
            if depth <= level && (opens > 0 || closes > 0) {
                skip_above = None;
            }
            continue;
        }
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// The paths after each `prefix` in `code` (`crate::a::b::C` -> `a::b::C`).
fn paths_after<'a>(code: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        found.push(rest[..end].trim_end_matches(':'));
    }
    found
}

/// The longest module in `modules` that `path` starts with.
fn resolve(modules: &BTreeSet<String>, path: &[&str]) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|k| path[..k].join("::"))
        .find(|name| modules.contains(name))
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let files: Vec<(String, PathBuf)> = files
        .into_iter()
        .filter(|f| !TEST_FILES.iter().any(|t| f.file_name().unwrap() == *t))
        .map(|f| (module_name(&src, &f), f))
        .collect();
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut edges = BTreeMap::new();
    for (module, file) in &files {
        let code = production_code(&std::fs::read_to_string(file).unwrap());
        let own: Vec<&str> = module.split("::").filter(|p| !p.is_empty()).collect();
        // `super::` from `a/b.rs` (module `a::b`) is `a`; from `a/mod.rs`
        // (module `a`) it is the crate root.
        let parent: Vec<&str> = own[..own.len().saturating_sub(1)].to_vec();
        let mut targets = BTreeSet::new();
        for path in paths_after(&code, "crate::") {
            let parts: Vec<&str> = path.split("::").collect();
            targets.extend(resolve(&modules, &parts));
        }
        for path in paths_after(&code, "super::") {
            let mut parts = parent.clone();
            parts.extend(path.split("::").filter(|p| *p != "super"));
            targets.extend(resolve(&modules, &parts));
        }
        targets.remove(module);
        edges.insert(module.clone(), targets);
    }
    edges
}

/// Tarjan's strongly connected components with more than one module.
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in &self.edges[v] {
                if !self.edges.contains_key(w) {
                    continue;
                }
                if !self.index.contains_key(w.as_str()) {
                    self.visit(w);
                    let lw = self.low[w.as_str()];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if self.stack.contains(&w.as_str()) {
                    let iw = self.index[w.as_str()];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                loop {
                    let w = self.stack.pop().unwrap();
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found.sort();
    walk.found
}

#[test]
fn src_modules_import_downward_only() {
    let edges = graph();
    assert!(edges.contains_key("registry") && edges.contains_key("ffi::fire"));
    let found = circles(&edges);
    let mut report = String::new();
    for circle in &found {
        report.push_str(&format!("circle: {}\n", circle.join(", ")));
        for m in circle {
            let inside: Vec<&String> = edges[m].iter().filter(|t| circle.contains(t)).collect();
            report.push_str(&format!("  {m} -> {inside:?}\n"));
        }
    }
    assert!(report.is_empty(), "{report}");
}

/// The check sees an import, a circle, `super::` and test code as meant.
#[test]
fn the_check_reads_imports_as_meant() {
    let code = "use crate::a::B;\n// use crate::c;\n#[cfg(test)]\nmod tests {\n    use crate::d;\n}\nfn f() { crate::e::g(); }\n";
    let kept = production_code(code);
    assert_eq!(paths_after(&kept, "crate::"), ["a::B", "e::g"]);
    let modules: BTreeSet<String> = ["a", "e", "e::g"].map(String::from).into();
    assert_eq!(resolve(&modules, &["e", "g", "h"]).as_deref(), Some("e::g"));
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(circles(&edges), [["a", "b", "c"]]);
}
