//! The error policy of docs/architecture.md, checked: no function of the
//! product's crates (softphone, gateway, shared) returns a string as its
//! error (`Result<_, String>`, `Result<_, &str>`); each module has a typed
//! error whose variants carry the field, the value and the rule. Test code
//! (`tests.rs`, `tests/` folders, `#[cfg(test)]` items) is not held to it.

use std::path::{Path, PathBuf};

/// The crates whose sources are checked, from the workspace root.
const CHECKED: [&str; 3] = ["softphone/src", "gateway/src", "shared/src"];

/// Error types that are strings.
const STRING_ERRORS: [&str; 3] = ["String", "&str", "&'static str"];

#[test]
fn no_library_function_returns_a_string_as_its_error() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in CHECKED {
        sources(&root.join(dir), &mut files);
    }
    assert!(files.len() > 100, "the sources were found: {}", files.len());
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a readable source");
        for (line, error) in string_errors(&without_tests(&text)) {
            let name = file.strip_prefix(&root).unwrap_or(file).display();
            found.push(format!("{name}:{line}: Result<_, {error}>"));
        }
    }
    assert!(
        found.is_empty(),
        "string errors (give the module a thiserror enum instead):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_finds_string_errors_and_passes_typed_ones_and_test_code() {
    let text = "fn a() -> Result<u8, String> {}\n\
                fn b(x: u8)\n    -> Result<Vec<(u8, u16)>, &'static str> {}\n\
                fn c() -> Result<HashMap<String, String>, ParseError> {}\n\
                fn d() -> io::Result<String> {}\n\
                // fn e() -> Result<(), String>\n\
                #[cfg(test)]\nmod tests {\n    fn f() -> Result<(), String> { Ok(()) }\n}\n\
                fn g() -> Result<Option<String>, String> {}\n";
    assert_eq!(
        string_errors(&without_tests(text)),
        [
            (1, "String".to_owned()),
            (3, "&'static str".to_owned()),
            (11, "String".to_owned())
        ]
    );
}

/// Every `.rs` file under `dir`, but test files.
fn sources(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        let name = path.file_name().and_then(|name| name.to_str());
        if path.is_dir() {
            if name != Some("tests") {
                sources(&path, files);
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") && name != Some("tests.rs") {
            files.push(path);
        }
    }
}

/// `text` with comments and `#[cfg(test)]` items blanked out, lines kept
/// (so that line numbers stay right).
fn without_tests(text: &str) -> String {
    let mut out = Vec::new();
    // Inside a test item: the depth of its braces once opened.
    let mut skipping: Option<(usize, bool)> = None;
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        if code.trim() == "#[cfg(test)]" {
            skipping = Some((0, false));
        }
        let Some((depth, opened)) = &mut skipping else {
            out.push(code);
            continue;
        };
        for ch in code.chars() {
            match ch {
                '{' => {
                    *depth += 1;
                    *opened = true;
                }
                '}' => *depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        let item_ended = (*opened && *depth == 0) || (!*opened && code.trim_end().ends_with(';'));
        if item_ended {
            skipping = None;
        }
        out.push("");
    }
    out.join("\n")
}

/// The string error types of every `Result<T, E>` in `code`, with their
/// line numbers.
fn string_errors(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("Result<") {
        let start = code.len() - rest.len() + at;
        let preceded_by_path = code[..start].ends_with("::");
        let arguments = &code[start + "Result<".len()..];
        rest = arguments;
        if preceded_by_path {
            // `io::Result<T>`, `fmt::Result`: their error is fixed.
            continue;
        }
        if let Some(error) = error_argument(arguments)
            && STRING_ERRORS.contains(&error.as_str())
        {
            let line = code[..start].matches('\n').count() + 1;
            found.push((line, error));
        }
    }
    found
}

/// The second generic argument of `T, E>...`, its whitespace squeezed
/// to single spaces (`fn() -> u8` arrows are not brackets).
fn error_argument(arguments: &str) -> Option<String> {
    let mut depth = 0usize;
    let mut comma = None;
    let mut previous = ' ';
    for (index, ch) in arguments.char_indices() {
        let arrow = previous == '-';
        previous = ch;
        match ch {
            '>' if arrow => {}
            '<' | '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            '>' if depth == 0 => {
                let error = arguments[comma? + 1..index].trim();
                return Some(error.split_whitespace().collect::<Vec<_>>().join(" "));
            }
            '>' => depth -= 1,
            ',' if depth == 0 => comma = Some(index),
            _ => {}
        }
    }
    None
}
