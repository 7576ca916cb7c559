//! The source tree's shape (architecture.md): no import circle among the files of `src/` — a
//! file never depends, directly or through others, on a file that depends on it — and the app
//! layer never imports the browser entry point. Module files (`mod.rs`, `lib.rs`, `main.rs`)
//! only declare and re-export and are left out.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/experiment/rm/runner.rs` → `["experiment", "rm", "runner"]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    rel.iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect()
}

/// `root::{a, b::c}` written out as `root::a root::b::c` (one level of braces, which is all the
/// sources use), so each item counts as a path.
fn expand_groups(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("::{") {
        let head_start = rest[..at]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |i| i + 1);
        let head = &rest[head_start..at];
        let Some(end) = rest[at..].find('}') else {
            break;
        };
        out.push_str(&rest[..head_start]);
        for item in rest[at + 3..at + end].split(',') {
            let item = item.trim();
            if !item.is_empty() && item != "self" {
                out.push_str(&format!(" {head}::{item} "));
            }
        }
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    out
}

/// Which files of `files` the code (not comments, not tests) of `file` refers to.
fn dependencies(
    src: &Path,
    file: &Path,
    files: &BTreeMap<Vec<String>, PathBuf>,
) -> BTreeSet<PathBuf> {
    let text = std::fs::read_to_string(file).unwrap();
    // The file's unit tests (a `#[cfg(test)]` module) are left out; other `#[cfg(test)]` items
    // are code like the rest.
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let code = code
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or("")
        .to_string();
    // Grouped imports (`use super::{a, b::c};`) as one path each (`super::a`, `super::b::c`).
    let code = expand_groups(&code);
    let me = module_path(src, file);
    let parent = &me[..me.len() - 1];
    let mut deps = BTreeSet::new();
    for root in ["crate::", "super::"] {
        for (at, _) in code.match_indices(root) {
            let rest = &code[at + root.len()..];
            let path: Vec<String> = rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let full: Vec<String> = if root == "crate::" {
                path
            } else {
                parent.iter().cloned().chain(path).collect()
            };
            for k in (1..=full.len()).rev() {
                if let Some(f) = files.get(&full[..k])
                    && f != file
                {
                    deps.insert(f.clone());
                    break;
                }
            }
        }
    }
    deps
}

#[test]
fn source_files_have_no_import_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    rust_files(&src, &mut all);
    let files: BTreeMap<Vec<String>, PathBuf> = all
        .iter()
        .filter(|f| {
            f.file_name()
                .is_some_and(|n| n != "mod.rs" && n != "lib.rs" && n != "main.rs")
        })
        .map(|f| (module_path(&src, f), f.clone()))
        .collect();
    assert!(files.len() > 100, "found the sources: {}", files.len());
    let graph: BTreeMap<PathBuf, BTreeSet<PathBuf>> = files
        .values()
        .map(|f| (f.clone(), dependencies(&src, f, &files)))
        .collect();
    // Depth-first search for a back edge.
    fn visit(
        f: &PathBuf,
        graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        state: &mut BTreeMap<PathBuf, bool>,
        stack: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        state.insert(f.clone(), false);
        stack.push(f.clone());
        for d in graph.get(f).into_iter().flatten() {
            match state.get(d) {
                Some(false) => {
                    let at = stack.iter().position(|s| s == d).unwrap_or(0);
                    return Some(stack[at..].to_vec());
                }
                None => {
                    if let Some(c) = visit(d, graph, state, stack) {
                        return Some(c);
                    }
                }
                Some(true) => {}
            }
        }
        stack.pop();
        state.insert(f.clone(), true);
        None
    }
    let mut state = BTreeMap::new();
    for f in graph.keys() {
        if !state.contains_key(f)
            && let Some(cycle) = visit(f, &graph, &mut state, &mut Vec::new())
        {
            panic!("import circle: {cycle:?}");
        }
    }
    // The check sees real dependencies.
    let runner = src.join("experiment/rm/runner.rs");
    assert!(graph[&runner].contains(&src.join("experiment/events.rs")));
    assert!(graph[&src.join("web.rs")].contains(&src.join("page.rs")));
    // The app layer never reaches up to the browser entry point.
    for (file, deps) in &graph {
        if file.starts_with(src.join("app")) {
            assert!(
                !deps.contains(&src.join("web.rs")),
                "{} imports the browser entry point (src/web.rs)",
                file.display()
            );
        }
    }
}
