//! The core's modules import each other in one direction only: every `crate::module` path in a
//! module's code (its `#[cfg(test)]` items, comments and doc comments left out) is an edge of a
//! graph that must have no cycle. Read from the sources, so it needs no feature.

use std::collections::BTreeMap;
use std::path::Path;

/// Module name to the modules its code names, both sorted.
type Graph = BTreeMap<String, Vec<String>>;

/// `source` without its comments (doc comments included) and string literals, each replaced by
/// a space, so that neither a comment's text nor a string's braces count as code.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut code = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        if rest.starts_with(&['/', '/']) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if rest.starts_with(&['/', '*']) {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i..].starts_with(&['/', '*']) {
                    depth += 1;
                    i += 2;
                } else if chars[i..].starts_with(&['*', '/']) {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(rest) {
            // r"…", r#"…"#: ends at a quote followed by as many hashes.
            i += hashes + 2;
            while i < chars.len()
                && !(chars[i] == '"' && chars[i + 1..].iter().take(hashes).all(|c| *c == '#'))
            {
                i += 1;
            }
            i += hashes + 1;
        } else if chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if chars[i] == '\'' && char_literal_length(rest).is_some() {
            i += char_literal_length(rest).unwrap_or(1);
        } else {
            code.push(chars[i]);
            i += 1;
            continue;
        }
        code.push(' ');
    }
    code
}

/// Hashes of a raw string literal starting at `rest` (`r"` or `r#…"`), if one does.
fn raw_string_start(rest: &[char]) -> Option<usize> {
    if rest.first() != Some(&'r') {
        return None;
    }
    let hashes = rest[1..].iter().take_while(|c| **c == '#').count();
    (rest.get(1 + hashes) == Some(&'"')).then_some(hashes)
}

/// Length of a character literal (`'{'`, `'\n'`, `'\u{7f}'`) starting at `rest`; `None` for a
/// lifetime.
fn char_literal_length(rest: &[char]) -> Option<usize> {
    let end = match rest.get(1)? {
        '\\' => 3 + rest.get(3..)?.iter().position(|c| *c == '\'')?,
        _ => 2,
    };
    (rest.get(end) == Some(&'\'')).then_some(end + 1)
}

/// `code` without the items under `#[cfg(test)]`: each ends at its first `;` outside braces, or
/// at the brace that closes its first block.
fn without_test_items(code: &str) -> String {
    const ATTRIBUTE: &str = "#[cfg(test)]";
    let mut kept = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(start) = rest.find(ATTRIBUTE) {
        kept.push_str(&rest[..start]);
        let item = &rest[start + ATTRIBUTE.len()..];
        let mut depth = 0usize;
        let mut end = item.len();
        for (at, c) in item.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth <= 1 => {
                    end = at + 1;
                    break;
                }
                '}' => depth -= 1,
                ';' if depth == 0 => {
                    end = at + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    kept.push_str(rest);
    kept
}

/// The modules `code` names as `crate::module`, other than `itself`.
fn imports(code: &str, itself: &str) -> Vec<String> {
    let mut names: Vec<String> = code
        .match_indices("crate::")
        .filter(|(at, _)| {
            // Not the tail of a longer path such as `headstart_crate::`.
            !code[..*at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
        })
        .map(|(at, _)| {
            code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty() && name != itself)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The import graph of the `.rs` files in `dir` (`lib.rs`, which only declares them, left out).
fn graph_of(dir: &Path) -> Graph {
    let mut graph = Graph::new();
    for entry in std::fs::read_dir(dir).expect("the sources are readable") {
        let path = entry.expect("a directory entry").path();
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_none_or(|e| e != "rs") || name == "lib" {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("a source file");
        let code = without_test_items(&code_only(&source));
        graph.insert(name.to_string(), imports(&code, name));
    }
    graph
}

/// Every cycle a depth-first walk of `graph` meets (one per edge back to a module still on its
/// path), each written `a -> b -> a`.
fn cycles(graph: &Graph) -> Vec<String> {
    fn walk(
        module: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut Vec<String>,
    ) -> Vec<String> {
        path.push(module.to_string());
        let mut found = Vec::new();
        for next in graph.get(module).into_iter().flatten() {
            if let Some(start) = path.iter().position(|m| m == next) {
                let mut cycle = path[start..].to_vec();
                cycle.push(next.clone());
                found.push(cycle.join(" -> "));
            } else if !done.contains(next) {
                found.extend(walk(next, graph, path, done));
            }
        }
        path.pop();
        done.push(module.to_string());
        found
    }
    let mut done = Vec::new();
    let mut found = Vec::new();
    for module in graph.keys() {
        if !done.contains(module) {
            found.extend(walk(module, graph, &mut Vec::new(), &mut done));
        }
    }
    found
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let dir =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test")).join("src");
    let graph = graph_of(&dir);
    assert!(
        graph.len() > 10,
        "found only {graph:?} in {}",
        dir.display()
    );
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "the core's modules import each other in circles: {}",
        found.join("; ")
    );
}

#[test]
fn the_graph_ignores_tests_comments_and_strings() {
    let source = r#"
//! See [`crate::doc_only`].
use crate::used::{A, B};
/* crate::in_a_comment */
const TEXT: &str = "crate::in_a_string {";
fn f<'a>(x: &'a str) -> char { let _ = crate::inline::call(); '{' }
#[cfg(test)]
mod tests {
    use crate::test_only::Helper;
    fn g() { let _ = "}"; }
}
#[cfg(test)]
use crate::test_import;
pub use crate::reexported::C;
"#;
    let code = without_test_items(&code_only(source));
    assert_eq!(imports(&code, "itself"), ["inline", "reexported", "used"]);
    let graph = Graph::from([
        ("a".to_string(), vec!["b".to_string()]),
        ("b".to_string(), vec!["c".to_string()]),
        ("c".to_string(), vec!["a".to_string()]),
        ("d".to_string(), vec!["a".to_string()]),
    ]);
    assert_eq!(cycles(&graph), ["a -> b -> c -> a"]);
}
