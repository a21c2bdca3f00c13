//! Finds the catalog's languages: every folder of `locales/` is one (its name a language tag),
//! and every `.ftl` file in it part of that language's catalog. Adding a language is adding a
//! folder; nothing in the code lists them.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("locales");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut languages: Vec<_> = std::fs::read_dir(&root)
        .expect("locales/ exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    languages.sort();
    let mut code = String::from("pub(crate) static LOCALES: &[(&str, &[&str])] = &[\n");
    for language in languages {
        println!("cargo:rerun-if-changed={}", language.display());
        let mut files: Vec<_> = std::fs::read_dir(&language)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "ftl"))
            .collect();
        files.sort();
        let tag = language.file_name().unwrap().to_str().unwrap();
        write!(code, "    ({tag:?}, &[").unwrap();
        for file in files {
            println!("cargo:rerun-if-changed={}", file.display());
            write!(code, "include_str!({:?}), ", file.display().to_string()).unwrap();
        }
        code.push_str("]),\n");
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("locales.rs");
    std::fs::write(out, code).unwrap();
}
