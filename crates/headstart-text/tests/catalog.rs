//! The catalog and the code agree: every `text!` in the workspace's code names a message that
//! every language has, with exactly the arguments that message uses, and every message of the
//! catalog is used by code (or by another message).

use fluent_syntax::ast;
use headstart_text::{Arg, Catalog, Message};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The macros that name a message: `text!` makes one, the page's `tr!` renders one.
const MACROS: [&str; 2] = ["text", "tr"];

/// One `text!(…)` or `tr!(…)` in the code.
#[derive(Debug)]
struct Use {
    id: String,
    args: BTreeSet<String>,
    place: String,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `text!(` and `tr!(` of the crates' sources, parsed: the id literal, then `name = expression`
/// pairs up to the closing parenthesis (expressions may nest brackets and hold strings).
fn uses() -> Vec<Use> {
    let mut files = Vec::new();
    for krate in std::fs::read_dir(workspace().join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    let mut found = Vec::new();
    for file in files {
        let source = without_comments(&std::fs::read_to_string(&file).unwrap());
        let mut rest = source.as_str();
        while let Some(at) = rest.find("!(") {
            let before = &rest[..at];
            let name_at = before
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            let macro_name = &before[name_at..];
            let offset = source.len() - rest.len() + at;
            rest = &rest[at + "!(".len()..];
            if !MACROS.contains(&macro_name) {
                continue;
            }
            let line = source[..offset].matches('\n').count() + 1;
            let place = format!("{}:{line}", file.display());
            let Some(literal) = rest.trim_start().strip_prefix('"') else {
                continue; // `text!($id…)` in the macro itself, or prose
            };
            let id: String = literal.chars().take_while(|c| *c != '"').collect();
            let after_id = &literal[id.len() + 1..];
            let (args, _) = arguments(after_id);
            found.push(Use { id, args, place });
        }
    }
    assert!(found.len() > 20, "the scan found only {found:?}");
    found
}

/// `source` with its comments blanked out (doc comments show `text!` in examples), keeping
/// every line break so that places keep their line numbers; strings and char literals are
/// kept as they are.
fn without_comments(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let next = chars.get(i + 1).copied();
        match chars[i] {
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(' ');
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    out.push(blank(chars[i]));
                    i += 1;
                }
                out.push_str("  ");
                i += 2;
            }
            '"' => {
                out.push('"');
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        out.push(chars[i]);
                        i += 1;
                    }
                    if let Some(&c) = chars.get(i) {
                        out.push(c);
                    }
                    i += 1;
                }
                out.push('"');
                i += 1;
            }
            // A char literal ('"', '\'', 'x'); a lifetime has no closing quote.
            '\'' if chars.get(i + 2) == Some(&'\'') || next == Some('\\') => {
                let end = if next == Some('\\') { i + 4 } else { i + 3 };
                out.extend(&chars[i..end.min(chars.len())]);
                i = end;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The argument names in `source` (which starts right after a `text!` id), up to its closing
/// parenthesis; returns them and the rest.
fn arguments(source: &str) -> (BTreeSet<String>, &str) {
    let mut names = BTreeSet::new();
    let mut depth = 0_i32;
    let mut chars = source.char_indices().peekable();
    let mut at_argument_start = false;
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                // Skip a string literal (with escapes).
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => return (names, &source[i + 1..]),
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => at_argument_start = true,
            c if at_argument_start && (c.is_alphabetic() || c == '_') => {
                at_argument_start = false;
                let name: String = source[i..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let after = source[i + name.len()..].trim_start();
                if after.starts_with('=') && !after.starts_with("==") {
                    names.insert(name);
                }
            }
            c if !c.is_whitespace() => at_argument_start = false,
            _ => {}
        }
    }
    panic!("an unclosed text!( before: {source:.80}")
}

/// A language's messages: id → (variables its text uses, messages it refers to).
type Messages = BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>;

fn messages(language: &Path) -> Messages {
    let mut messages = Messages::new();
    for entry in std::fs::read_dir(language).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        let resource = fluent_syntax::parser::parse(source.as_str())
            .unwrap_or_else(|(_, errors)| panic!("{}: {errors:?}", path.display()));
        for entry in resource.body {
            if let ast::Entry::Message(message) = entry {
                let mut used = (BTreeSet::new(), BTreeSet::new());
                if let Some(pattern) = &message.value {
                    pattern_refs(pattern, &mut used);
                }
                let id = message.id.name.to_string();
                assert!(
                    messages.insert(id.clone(), used).is_none(),
                    "{id} twice in {}",
                    language.display()
                );
            }
        }
    }
    messages
}

fn pattern_refs(pattern: &ast::Pattern<&str>, used: &mut (BTreeSet<String>, BTreeSet<String>)) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_refs(expression, used);
        }
    }
}

fn expression_refs(
    expression: &ast::Expression<&str>,
    used: &mut (BTreeSet<String>, BTreeSet<String>),
) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            inline_refs(selector, used);
            for variant in variants {
                pattern_refs(&variant.value, used);
            }
        }
        ast::Expression::Inline(inline) => inline_refs(inline, used),
    }
}

fn inline_refs(
    inline: &ast::InlineExpression<&str>,
    used: &mut (BTreeSet<String>, BTreeSet<String>),
) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            used.0.insert(id.name.to_string());
        }
        ast::InlineExpression::MessageReference { id, .. } => {
            used.1.insert(id.name.to_string());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for argument in &arguments.positional {
                inline_refs(argument, used);
            }
        }
        ast::InlineExpression::Placeable { expression } => expression_refs(expression, used),
        _ => {}
    }
}

fn languages() -> Vec<(String, Messages)> {
    let root = workspace().join("crates/headstart-text/locales");
    let mut languages: Vec<(String, Messages)> = std::fs::read_dir(root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|dir| {
            let tag = dir.file_name().unwrap().to_string_lossy().to_string();
            (tag, messages(&dir))
        })
        .collect();
    languages.sort_by(|a, b| a.0.cmp(&b.0));
    languages
}

#[test]
fn every_message_the_code_names_is_in_the_catalog_with_its_arguments() {
    let (_, english) = languages()
        .into_iter()
        .find(|(tag, _)| tag == "en")
        .expect("an English catalog");
    let mut problems = Vec::new();
    for found in uses() {
        match english.get(&found.id) {
            None => problems.push(format!("{}: no message {}", found.place, found.id)),
            Some((variables, _)) if *variables != found.args => problems.push(format!(
                "{}: {} uses {variables:?} but the code passes {:?}",
                found.place, found.id, found.args
            )),
            Some(_) => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_message_of_the_catalog_is_used() {
    let used: BTreeSet<String> = uses().into_iter().map(|found| found.id).collect();
    for (tag, messages) in languages() {
        let referenced: BTreeSet<&String> = messages.values().flat_map(|(_, refs)| refs).collect();
        let unused: Vec<&String> = messages
            .keys()
            .filter(|id| !used.contains(*id) && !referenced.contains(id))
            .collect();
        assert!(unused.is_empty(), "{tag}: unused messages {unused:?}");
    }
}

#[test]
fn every_language_has_every_message_with_the_same_arguments() {
    let languages = languages();
    let (_, english) = languages.iter().find(|(tag, _)| tag == "en").unwrap();
    for (tag, messages) in &languages {
        let ids = |m: &Messages| {
            m.iter()
                .map(|(id, (v, _))| (id.clone(), v.clone()))
                .collect()
        };
        let (theirs, ours): (BTreeSet<_>, BTreeSet<_>) = (ids(messages), ids(english));
        let missing: Vec<_> = ours.difference(&theirs).collect();
        let extra: Vec<_> = theirs.difference(&ours).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{tag}: lacks or differs {missing:?}; has beyond English {extra:?}"
        );
    }
}

#[test]
fn the_catalog_formats_plurals_numbers_and_nested_messages() {
    let catalog = Catalog::english();
    let count = |n: usize| Message {
        id: "photo-count",
        args: vec![("count", Arg::from(n))],
    };
    assert_eq!(catalog.render(&count(1)), "1 photo");
    assert_eq!(catalog.render(&count(2)), "2 photos");
    assert_eq!(catalog.render(&count(1234)), "1,234 photos");
    let nested = Message {
        id: "photo-count",
        args: vec![("count", Arg::from(0_usize))],
    };
    assert_eq!(catalog.render(&nested), "0 photos");
    let percent = Message {
        id: "percent",
        args: vec![("share", Arg::percent(0.834))],
    };
    assert_eq!(catalog.render(&percent), "83%");
    let done = |views: usize| Message {
        id: "train-done",
        args: vec![
            ("way", Arg::from("Frozen")),
            ("how", Arg::from("Done after 2 epochs")),
            ("train", Arg::from(24_usize)),
            ("views", Arg::from(views)),
            (
                "held",
                Arg::from(Message {
                    id: "train-held-out",
                    args: vec![("validation", Arg::from(6_usize))],
                }),
            ),
            ("accuracy", Arg::percent(1.0)),
            ("result", Arg::from("no validation photos")),
        ],
    };
    assert_eq!(
        catalog.render(&done(0)),
        "Frozen: Done after 2 epochs, on 24 photos (6 held back for validation): \
         training accuracy 100%, no validation photos."
    );
    assert!(
        catalog
            .render(&done(48))
            .contains("on 24 photos and 48 augmented views (6 held back")
    );
    let none_held = Message {
        id: "train-held-out",
        args: vec![("validation", Arg::from(0_usize))],
    };
    assert_eq!(catalog.render(&none_held), "none held back for validation");
    let loss = Message {
        id: "number",
        args: vec![("value", Arg::decimal(0.4734, 3))],
    };
    assert_eq!(catalog.render(&loss), "0.473");
}
