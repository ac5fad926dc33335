//! The rule that keeps dependencies one way (ARCHITECTURE.md, "Layers"): a module may use
//! only modules of the layers below its own. Checked on the source text, so a new `use` that
//! points up fails here, with the file and the line.

use std::path::{Path, PathBuf};

/// The layers, lowest first. Modules in one layer may not use each other unless listed in
/// their order within it (`state` → `diff` → `resources` use the earlier ones).
const LAYERS: &[&[&str]] = &[
    // Foundations that know nothing of vaultwire's domain.
    &["files", "task", "graph"],
    &["plan"],
    &["state"],
    &["diff"],
    &["resources"],
    &["engine"],
    // The clients, and the Azure implementation of the engine's protocol.
    &["providers"],
    &["audit"],
    &["migrate"],
    &["cli"],
];

/// Modules above which `sandbox` (the emulator crate) may be used outside tests.
const SANDBOX_USERS: &[&str] = &["cli"];

fn rank(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .flat_map(|layer| layer.iter())
        .position(|m| *m == module)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// Test code may reach anything below it and the sandbox; it is not part of the layering.
fn is_test_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name == "tests.rs"
        || name == "testing.rs"
        || name.ends_with("_tests.rs")
        || path.components().any(|c| {
            let c = c.as_os_str();
            c == "tests" || c == "testing"
        })
}

/// The `crate::MODULE` paths in `line`, outside comments.
fn crate_paths(line: &str) -> Vec<&str> {
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices("crate::")
        .filter(|(at, _)| {
            // Not `vaultwire_sandbox::…` or another crate's `…crate::`.
            !code[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':')
        })
        .map(|(at, _)| {
            let rest = &code[at + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let Some(module) = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|name| name.trim_end_matches(".rs"))
        else {
            continue;
        };
        let Some(own) = rank(module) else {
            // lib.rs, main.rs and this file sit above every layer.
            assert!(
                matches!(module, "lib" | "main" | "layers_tests"),
                "src/{} is in no layer: add its module to LAYERS",
                relative.display()
            );
            continue;
        };
        let test_file = is_test_file(relative);
        let text = std::fs::read_to_string(file).unwrap();
        // Test modules at the end of a file (`#[cfg(test)] mod tests { … }`) are test code.
        let production = text
            .split("#[cfg(test)]\nmod tests {")
            .next()
            .unwrap_or_default();
        for (number, line) in production.lines().enumerate() {
            for used in crate_paths(line) {
                if used == module || used.is_empty() {
                    continue;
                }
                let allowed = if used == "sandbox" {
                    test_file || SANDBOX_USERS.contains(&module)
                } else {
                    rank(used).is_some_and(|other| other < own)
                };
                if !allowed {
                    violations.push(format!(
                        "src/{}:{}: `{module}` uses `crate::{used}`",
                        relative.display(),
                        number + 1
                    ));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "dependencies that point up a layer (ARCHITECTURE.md, \"Layers\"):\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_check_sees_a_use_that_points_up() {
    assert_eq!(crate_paths("use crate::engine::plan::Mode;"), ["engine"]);
    assert_eq!(
        crate_paths("let x = crate::plan::read(p); // crate::cli"),
        ["plan"]
    );
    assert!(crate_paths("use vaultwire_sandbox::crate::x;").is_empty());
    assert!(rank("plan") < rank("engine"));
    assert!(rank("cli") > rank("audit"));
}
