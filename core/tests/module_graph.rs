//! The shape of `semaforo-core`'s code: every file sits in one phase, a
//! phase imports only from the phases before it, and no file reaches itself
//! through the files it imports. ARCHITECTURE.md draws the same picture;
//! this test fails the build when a change breaks it, naming the arrow.
//!
//! Imports are read from the source text: every `crate::…` and `super::…`
//! path outside comments and `#[cfg(test)]` modules, including grouped
//! `use crate::a::{b, c::d}` imports, resolved to the deepest module the
//! path names.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The phases, in the order data flows: each may import from those before it.
const PHASES: &[&str] = &[
    "source",
    "diagnostic",
    "data",
    "pack",
    "compile",
    "evaluate",
    "analysis",
    "acceptance",
    "live",
];

/// Imports that go against [`PHASES`] on purpose, each with its reason
/// (ARCHITECTURE.md allows at most one). None today.
const UPWARD_EXCEPTIONS: &[(&str, &str)] = &[];

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn phases_import_only_downward() {
    let graph = graph();
    let rank = |module: &str| {
        let phase = module.split("::").next().unwrap_or(module);
        PHASES.iter().position(|p| *p == phase).unwrap_or_else(|| {
            panic!("`{module}` is in no phase: add its folder to PHASES and ARCHITECTURE.md")
        })
    };
    let mut upward = Vec::new();
    for (from, targets) in &graph {
        for to in targets {
            let (a, b) = (rank(from), rank(to));
            let phases = (PHASES[a], PHASES[b]);
            if a < b && !UPWARD_EXCEPTIONS.contains(&phases) {
                upward.push(format!(
                    "{from} → {to} ({} imports the later phase {})",
                    phases.0, phases.1
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports against the flow of phases:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_file_imports_itself_through_others() {
    let graph = graph();
    let cycles = cycles(&graph);
    assert!(
        cycles.is_empty(),
        "import circles (each list is a strongly connected set of modules):\n{}",
        cycles
            .iter()
            .map(|c| c.join(" → "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_reader_sees_the_imports_it_must() {
    // So that the two tests above cannot pass by reading nothing.
    let graph = graph();
    let has = |from: &str, to: &str| graph.get(from).is_some_and(|t| t.contains(to));
    assert!(graph.len() > 40, "only {} modules found", graph.len());
    assert!(
        has("evaluate", "compile::set"),
        "grouped `use crate::compile::{{…}}` not read"
    );
    assert!(
        has("data::workbook::xls", "data::workbook::extent"),
        "`super::` path not read"
    );
    assert!(has("live", "acceptance"));
    let a_circle: Graph = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
        .iter()
        .fold(Graph::new(), |mut g, (from, to)| {
            g.entry((*from).to_owned())
                .or_default()
                .insert((*to).to_owned());
            g.entry((*to).to_owned()).or_default();
            g
        });
    assert_eq!(cycles(&a_circle), vec![vec!["a", "b", "c"]]);
    assert_eq!(
        paths("use crate::a::{b, c::{d, E}, F};", "x"),
        vec!["a::b", "a::c::d", "a::c::E", "a::F"]
    );
}

/// Every module of `core/src` with the modules it imports.
fn graph() -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&root, &mut files);
    let modules: BTreeMap<String, String> = files
        .iter()
        .filter_map(|file| {
            let module = module_of(&root, file)?;
            let text = fs::read_to_string(file).expect("a readable source file");
            Some((module, text))
        })
        .collect();
    let known: BTreeSet<&str> = modules.keys().map(String::as_str).collect();
    let resolve = |path: &str| -> Option<String> {
        let segments: Vec<&str> = path.split("::").collect();
        (1..=segments.len())
            .rev()
            .map(|n| segments[..n].join("::"))
            .find(|m| known.contains(m.as_str()))
    };
    modules
        .iter()
        .map(|(module, text)| {
            let imports = paths(&code_of(text), module)
                .iter()
                .filter_map(|p| resolve(p))
                .filter(|target| target != module)
                .collect();
            (module.clone(), imports)
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("core/src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// `data/workbook/mod.rs` → `data::workbook`; `lib.rs` is the crate's front
/// door (re-exports only) and no module.
fn module_of(root: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(root).ok()?.with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    (parts != ["lib"]).then(|| parts.join("::"))
}

/// The text without comments and without the `#[cfg(test)]` module(s),
/// which may import anything they test.
fn code_of(text: &str) -> String {
    let mut code = String::new();
    let mut skipping_tests = false;
    let mut depth = 0usize;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if skipping_tests {
            depth += line.matches('{').count();
            depth = depth.saturating_sub(line.matches('}').count());
            if depth == 0 && trimmed.ends_with('}') {
                skipping_tests = false;
            }
            continue;
        }
        if trimmed == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod "))
        {
            skipping_tests = true;
            depth = 0;
            continue;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        code.push_str(line.split("//").next().unwrap_or(line));
        code.push('\n');
    }
    code
}

/// Every `crate::…` and `super::…` path in `code` of module `module`, with
/// `super` replaced by the parent module and groups expanded.
fn paths(code: &str, module: &str) -> Vec<String> {
    let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
    let mut found = Vec::new();
    for (keyword, base) in [("crate::", String::new()), ("super::", parent.to_owned())] {
        let mut rest = code;
        while let Some(at) = rest.find(keyword) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + keyword.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let mut chars = rest.chars().peekable();
            group_paths(&mut chars, &base, &mut found);
        }
    }
    found
}

/// Reads `a::b::{c, d::e}` (after `crate::`) into full paths prefixed by `prefix`.
fn group_paths(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    prefix: &str,
    found: &mut Vec<String>,
) {
    let mut path = prefix.to_owned();
    loop {
        let mut segment = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_alphanumeric() || c == '_' {
                segment.push(c);
                chars.next();
            } else {
                break;
            }
        }
        if !segment.is_empty() {
            if !path.is_empty() {
                path.push_str("::");
            }
            path.push_str(&segment);
        }
        if chars.peek() == Some(&':') {
            chars.next();
            if chars.peek() == Some(&':') {
                chars.next();
            }
            if chars.peek() == Some(&'{') {
                chars.next();
                loop {
                    while chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                    group_paths(chars, &path, found);
                    while chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                    match chars.next() {
                        Some(',') => {
                            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                                chars.next();
                            }
                            if chars.peek() == Some(&'}') {
                                chars.next();
                                return;
                            }
                        }
                        _ => return,
                    }
                }
            }
            continue;
        }
        // `as name` and the like end the path.
        if !path.is_empty() && path != prefix {
            found.push(path);
        }
        return;
    }
}

/// The strongly connected sets of more than one module (Tarjan), each sorted.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, v: &'g str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut set = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    set.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if set.len() > 1 {
                    set.sort();
                    self.found.push(set);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found.sort();
    walk.found
}
