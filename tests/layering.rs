//! The library's layering (docs/ARCHITECTURE.md) holds: every `crate::` path in the library's
//! code names its own module or one of a lower layer, so that no stage reaches up to a later
//! one and modules form no import circle. Test code (`#[cfg(test)]` items and modules) is left
//! out: tests may build their input with anything.
//!
//! Read from the source text (like the `use` lines a reader sees), not from the compiler: a
//! path in a comment is not an import, so comments are skipped.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The library's top-level modules, lowest layer first. A module may use its own items and
/// those of any module of a lower layer. Modules of one layer may not use each other.
const LAYERS: &[&[&str]] = &[
    // Foundations: no stage's types.
    &["arrivals", "hints", "textsafe", "timefmt"],
    &["addr"],
    // Stage 1: sources of packets.
    &["capture"],
    // Stage 2: a packet's layers and application messages.
    &["decode"],
    // Stage 3: flows and the names seen beside them.
    &["flow"],
    // Flow logs (Zeek) feed stage 3 directly, beside decode.
    &["zeek"],
    // What is known: indicators (which implement flow's `Watch`), GeoIP.
    &["knowledge"],
    // Stage 4: per-host views, located and matched.
    &["enrich"],
    // Stage 5: verdicts.
    &["classify"],
    // Stage 6: the report (its model, JSON, text, HTML, languages).
    &["report"],
    // Drivers and tools over the whole pipeline.
    &["analyze", "lookup", "export"],
    &["live"],
    // The sample generator (feature `samples`: tests and `cargo run --example make_samples`).
    &["samples"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/tomskype/src")
}

/// The library's top-level modules, from lib.rs's `mod` lines.
fn library_modules() -> Vec<String> {
    let lib = fs::read_to_string(src().join("lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l
                .strip_prefix("pub mod ")
                .or_else(|| l.strip_prefix("mod "))?;
            Some(rest.trim_end_matches(';').to_owned())
        })
        .collect()
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of `text` that is not test code and not comments, with its line numbers; and the
/// names of the `#[cfg(test)] mod name;` files it declares.
fn code_lines(text: &str) -> (Vec<(usize, String)>, Vec<String>) {
    let mut lines = Vec::new();
    let mut test_files = Vec::new();
    let mut skip_test_item = false;
    let mut depth = 0i64;
    let mut in_test = false;
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("").trim();
        if in_test {
            depth += brace_balance(code);
            if depth <= 0 && (code.contains('}') || code.ends_with(';')) {
                in_test = false;
            }
            continue;
        }
        if code.starts_with("#[cfg(test)]") {
            skip_test_item = true;
            continue;
        }
        if skip_test_item {
            skip_test_item = false;
            if code.starts_with('#') {
                // Another attribute of the same item.
                skip_test_item = true;
                continue;
            }
            if let Some(name) = code
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub(super) ")
                .trim_start_matches("pub ")
                .strip_prefix("mod ")
                .and_then(|r| r.strip_suffix(';'))
            {
                test_files.push(name.to_owned());
                continue;
            }
            depth = brace_balance(code);
            in_test = depth > 0 || !code.ends_with(';') && !code.contains('}');
            continue;
        }
        if !code.is_empty() {
            lines.push((i + 1, code.to_owned()));
        }
    }
    (lines, test_files)
}

fn brace_balance(code: &str) -> i64 {
    code.chars()
        .map(|c| match c {
            '{' => 1,
            '}' => -1,
            _ => 0,
        })
        .sum()
}

/// A file of the library: its path under `src/`, its top-level module, its code lines.
type LibraryFile = (PathBuf, String, Vec<(usize, String)>);

/// The library's code that is not test code: per file, its path under `src/`, its top-level
/// module and its code lines (see [`code_lines`]). Files declared as `#[cfg(test)] mod name;`
/// are left out.
fn library_code() -> Vec<LibraryFile> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut test_files: Vec<PathBuf> = Vec::new();
    let mut texts = Vec::new();
    for f in files {
        let (lines, tests) = code_lines(&fs::read_to_string(&f).unwrap());
        let dir = if f
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs")
        {
            f.parent().unwrap().to_path_buf()
        } else {
            f.with_extension("")
        };
        for t in tests {
            test_files.push(dir.join(format!("{t}.rs")));
            test_files.push(dir.join(&t));
        }
        texts.push((f, lines));
    }
    texts
        .into_iter()
        .filter(|(f, _)| !test_files.iter().any(|t| f.starts_with(t)))
        .map(|(f, lines)| {
            let rel = f.strip_prefix(src()).unwrap().to_path_buf();
            let top = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            let top = top.trim_end_matches(".rs").to_owned();
            (rel, top, lines)
        })
        .collect()
}

/// The identifier `text` starts with (empty when it starts with anything else).
fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// Top-level modules named by `crate::name` paths in `code`, with `use crate::{a, b}` groups.
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let names: Vec<&str> = match after.strip_prefix('{') {
            Some(group) => group
                .split('}')
                .next()
                .unwrap_or("")
                .split(',')
                .map(|item| ident(item.trim()))
                .collect(),
            None => vec![ident(after)],
        };
        out.extend(
            names
                .into_iter()
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
        );
        rest = after;
    }
    out
}

#[test]
fn every_library_module_has_a_layer() {
    for m in library_modules() {
        assert!(
            layer_of(&m).is_some(),
            "module `{m}` (src/lib.rs) has no layer in tests/layering.rs and docs/ARCHITECTURE.md"
        );
    }
}

#[test]
fn no_module_uses_a_later_one() {
    let modules = library_modules();
    let mut wrong = Vec::new();
    for (rel, top, lines) in library_code() {
        if !modules.contains(&top) {
            continue;
        }
        let own = layer_of(&top).unwrap_or(usize::MAX);
        for (n, code) in lines {
            for used in crate_paths(&code) {
                if used == top || !modules.contains(&used) {
                    continue;
                }
                let theirs = layer_of(&used).unwrap_or(usize::MAX);
                if theirs >= own {
                    wrong.push(format!("src/{}:{n}: `{top}` uses `{used}`", rel.display()));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layering of docs/ARCHITECTURE.md:\n{}",
        wrong.join("\n")
    );
}

/// Files named by `super::name` and `crate::a::b::name` paths in `code` (from a file in
/// `dir`), where such a file exists: the edges of the file-level import graph. A module's
/// `mod.rs` is its face (it declares and re-exports its files), so paths that end there are
/// not edges.
fn file_edges(root: &Path, dir: &Path, code: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut push = |base: &Path, rest: &str| {
        let mut path = base.to_path_buf();
        for seg in rest.split("::") {
            let name = ident(seg);
            if name.is_empty() {
                break;
            }
            if path.join(format!("{name}.rs")).is_file() {
                out.push(path.join(format!("{name}.rs")));
                break;
            }
            path = path.join(name);
            if !path.is_dir() {
                break;
            }
        }
    };
    for (prefix, base) in [("super::", dir.parent()), ("crate::", Some(root))] {
        let (Some(base), mut rest) = (base, code) else {
            continue;
        };
        while let Some(at) = rest.find(prefix) {
            let is_start =
                at == 0 || !rest[..at].ends_with(|c: char| c.is_alphanumeric() || c == ':');
            rest = &rest[at + prefix.len()..];
            if is_start && !rest.starts_with("super::") {
                push(base, rest);
            }
        }
    }
    out
}

#[test]
fn no_import_circles_between_files() {
    let circles = circles(&src());
    assert!(
        circles.is_empty(),
        "import circles between files:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_circle_finder_finds_one() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    fs::create_dir(&m).unwrap();
    fs::write(m.join("mod.rs"), "mod a;\nmod b;\nmod c;\n").unwrap();
    fs::write(m.join("a.rs"), "use super::b::B;\n").unwrap();
    fs::write(m.join("b.rs"), "use super::c::C;\n").unwrap();
    fs::write(m.join("c.rs"), "pub struct C;\n").unwrap();
    assert!(circles(dir.path()).is_empty());
    fs::write(m.join("c.rs"), "use super::a::A; // back to a\n").unwrap();
    assert_eq!(
        circles(dir.path()),
        ["m/a.rs -> m/b.rs -> m/c.rs -> m/a.rs"]
    );
}

/// The import circles between the files under `root` (one line each).
fn circles(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let mut graph: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for f in &files {
        if f.file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs" || n == "main.rs")
        {
            continue;
        }
        let text = fs::read_to_string(f).unwrap();
        let (lines, _) = code_lines(&text);
        // Paths are relative to the file's module: `super::` of a/b.rs is a/.
        let module_dir = f.with_extension("");
        let mut edges: Vec<PathBuf> = lines
            .iter()
            .flat_map(|(_, c)| file_edges(root, &module_dir, c))
            .filter(|t| t != f)
            .collect();
        edges.sort();
        edges.dedup();
        graph.insert(f.clone(), edges);
    }
    // Depth-first search for a back edge.
    fn visit(
        root: &Path,
        f: &PathBuf,
        graph: &BTreeMap<PathBuf, Vec<PathBuf>>,
        state: &mut BTreeMap<PathBuf, u8>,
        stack: &mut Vec<PathBuf>,
        circles: &mut Vec<String>,
    ) {
        state.insert(f.clone(), 1);
        stack.push(f.clone());
        for t in graph.get(f).into_iter().flatten() {
            match state.get(t) {
                Some(1) => {
                    let at = stack.iter().position(|s| s == t).unwrap();
                    let names: Vec<String> = stack[at..]
                        .iter()
                        .chain([t])
                        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
                        .collect();
                    circles.push(names.join(" -> "));
                }
                Some(_) => {}
                None => visit(root, t, graph, state, stack, circles),
            }
        }
        stack.pop();
        state.insert(f.clone(), 2);
    }
    let mut state = BTreeMap::new();
    let mut circles = Vec::new();
    for f in graph.keys() {
        if !state.contains_key(f) {
            visit(root, f, &graph, &mut state, &mut Vec::new(), &mut circles);
        }
    }
    circles
}

/// What only the binary may do: print, exit, use `anyhow`, install a Ctrl-C handler.
const BINARY_ONLY: &[&str] = &[
    "println!",
    "eprintln!",
    "print!(",
    "eprint!(",
    "anyhow",
    "ctrlc",
    "process::exit",
];

#[test]
fn the_library_never_prints_or_exits() {
    let modules = library_modules();
    let mut wrong = Vec::new();
    for (rel, top, lines) in library_code() {
        if !modules.contains(&top) {
            continue;
        }
        for (n, line) in lines {
            for word in BINARY_ONLY {
                if line.contains(word) {
                    wrong.push(format!("src/{}:{n}: {word}", rel.display()));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the library prints, exits or uses the binary's crates:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_checker_sees_imports_and_skips_tests_and_comments() {
    let text = "use crate::flow::Tracker;\nuse crate::{addr, report::Report};\n// crate::live in a comment\nfn f() { crate::decode::http::x(); }\n#[cfg(test)]\nmod tests {\n    use crate::samples;\n}\n#[cfg(test)]\nmod corpora;\n";
    let (lines, tests) = code_lines(text);
    let used: Vec<String> = lines.iter().flat_map(|(_, c)| crate_paths(c)).collect();
    assert_eq!(used, ["flow", "addr", "report", "decode"]);
    assert_eq!(tests, ["corpora"]);
}

/// What in `lines` writes a type's JSON, with its line number: a `derive` naming `Serialize`
/// (its list may run over several lines), an `impl … Serialize for …`, a `serialize_with`
/// (told apart when it names report's writer of the facts, `json`) and a `serde(remote …)` (a
/// schema of some other type).
fn json_writers(lines: &[(usize, String)]) -> Vec<(usize, &'static str)> {
    let names_serialize = |code: &str| {
        code.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|word| word == "Serialize")
    };
    let mut out = Vec::new();
    let mut derive: Option<(usize, String)> = None;
    for (n, code) in lines {
        if let Some((start, mut text)) = derive
            .take()
            .or_else(|| code.contains("derive(").then(|| (*n, String::new())))
        {
            text.push_str(code);
            if !text.contains(")]") {
                derive = Some((start, text));
            } else if names_serialize(&text) {
                out.push((start, "derive(Serialize)"));
            }
        }
        if code.starts_with("impl") && names_serialize(code) && code.contains(" for ") {
            out.push((*n, "impl Serialize"));
        }
        for (at, _) in code.match_indices("serialize_with") {
            // Report's own writer of the facts (`report::schema::json`), or another.
            let target = code[at..].split('"').nth(1).unwrap_or("");
            let kind = if target == "json" || target.ends_with("report::schema::json") {
                "serialize_with = report's json"
            } else {
                "serialize_with"
            };
            out.push((*n, kind));
        }
        if code.contains("remote") && code.contains("serde(") {
            out.push((*n, "serde(remote)"));
        }
    }
    out
}

/// The JSON of the facts the stages return is the report's (docs/ARCHITECTURE.md): it is
/// written by `report/` alone (`report/schema.rs`), and no type of a stage derives or
/// implements `Serialize`. The tools above the report (`lookup`, `export`, the sample
/// generator) may derive it for their own documents; the stage facts in those go through
/// report's schema (`serialize_with = "json"`, or its `Json` wrapper), which the compiler sees
/// to, since the stage types implement no `Serialize`. Bounds on `Serialize` (`textsafe`'s JSON writers) and `Deserialize` (GeoIP's
/// records) are not writers.
#[test]
fn only_the_report_writes_the_facts_as_json() {
    let report = layer_of("report").unwrap();
    let mut wrong = Vec::new();
    for (rel, top, lines) in library_code() {
        if top == "report" {
            continue;
        }
        let tool = layer_of(&top).is_some_and(|l| l > report);
        let uses_schema = lines.iter().any(|(_, c)| c.contains("report::schema::"));
        for (n, what) in json_writers(&lines) {
            let allowed = match what {
                "derive(Serialize)" => tool,
                "serialize_with = report's json" => tool && uses_schema,
                _ => false,
            };
            if !allowed {
                wrong.push(format!("src/{}:{n}: {what}", rel.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "JSON written outside report/ (a stage's fact goes in report/schema.rs):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_json_checker_sees_derives_impls_and_serde_attributes() {
    let text = "#[derive(Debug, Clone, Deserialize)]\nstruct A;\n#[derive(\n    Debug,\n    serde::Serialize,\n)]\nstruct B { #[serde(serialize_with = \"f\")] x: u8, #[serde(serialize_with = \"json\")] y: u8 }\nimpl<T> Serialize for C<T> {}\nimpl serde::Serialize for D {}\nfn w<T: serde::Serialize>(t: &T) {}\n// #[derive(Serialize)] in a comment\n#[derive(Serialize)]\n#[serde(remote = \"E\")]\nstruct EDef;\n#[cfg(test)]\nmod tests {\n    #[derive(Serialize)]\n    struct T;\n}\n";
    let (lines, _) = code_lines(text);
    assert_eq!(
        json_writers(&lines),
        [
            (3, "derive(Serialize)"),
            (7, "serialize_with"),
            (7, "serialize_with = report's json"),
            (8, "impl Serialize"),
            (9, "impl Serialize"),
            (12, "derive(Serialize)"),
            (13, "serde(remote)"),
        ]
    );
}
