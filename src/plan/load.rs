//! The entry points every command uses: read a plan file, then check it.
//!
//! [`check`] is pure: it decodes the text, runs every check across resources, and returns the
//! plan only when there is no error. Only [`read`] touches the file system.

use std::path::{Path, PathBuf};

use crate::files;
use crate::plan::decode::decode;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::{Plan, Target};
use crate::plan::validate::validate;

/// A plan file's text and the name to show for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSource {
    /// The path as the user typed it, shown in diagnostics as `name:line:col`.
    pub name: String,
    pub text: String,
}

/// What checking a plan file found.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The plan, when there is no error (warnings allowed).
    pub plan: Option<Plan>,
    /// Errors and warnings, sorted by where they point in the file.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }
}

/// A plan file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read `{}`", path.display())]
pub struct ReadError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Reads the plan file at `path`: a regular file of at most [`files::PLAN_LIMIT`] bytes.
pub fn read(path: &Path) -> Result<PlanSource, ReadError> {
    let text = files::read_text(path, files::PLAN_LIMIT).map_err(|source| ReadError {
        path: path.to_owned(),
        source,
    })?;
    Ok(PlanSource::new(path, text))
}

impl PlanSource {
    /// The plan file at `path`, already read as `text`.
    pub fn new(path: &Path, text: String) -> Self {
        Self {
            name: path.display().to_string(),
            text,
        }
    }
}

/// `[target]` read from `source` ahead of the whole file, when it is there as an ordinary
/// `[target]` table and decodes without a problem — so the sign-in can start before the
/// file's hundreds of resource tables are even parsed (parsing them takes milliseconds).
///
/// Everything but the lines before the first table and the `[target]` table is blanked
/// (newlines kept), so what decodes carries the spans the whole file gives it: a caller
/// compares it with the target [`check_seeing_target`] sees, and starts over when they differ
/// (a `[target]` that TOML continues elsewhere, say). `None` whenever the shortcut is unsure.
/// The text after `[target]` is left out rather than blanked: nothing there can change what
/// came before, and lexing a blanked 200 KB file took two milliseconds.
pub fn target_ahead(source: &PlanSource) -> Option<Target> {
    let text = &source.text;
    let mut kept = String::new();
    // Root keys come before the first table; `[target]` lasts until the next table header.
    let mut keep = true;
    let mut seen_target = false;
    for line in text.split_inclusive('\n') {
        let header = line.trim_start();
        if header.starts_with('[') {
            if seen_target {
                break;
            }
            let name = header.split('#').next().unwrap_or_default().trim();
            keep = name == "[target]";
            seen_target = keep;
        }
        if keep {
            kept.push_str(line);
        } else {
            kept.extend(
                line.bytes()
                    .map(|byte| if byte == b'\n' { '\n' } else { ' ' }),
            );
        }
    }
    if !seen_target {
        return None;
    }
    let mut found = None;
    let mut problems = Vec::new();
    decode(&kept, &mut problems, |target| found = Some(target.clone()));
    found.filter(|_| problems.is_empty())
}

/// Decodes and checks `source`, reporting every problem at once.
pub fn check(source: &PlanSource) -> Checked {
    check_seeing_target(source, |_| {})
}

/// [`check`], showing `on_target` the `[target]` table as soon as it has decoded without a
/// problem — before the resources are decoded and checked, which takes milliseconds for
/// hundreds of them — so the caller can sign in meanwhile. The plan may still turn out
/// invalid: whatever `on_target` starts must be safe to abandon.
pub fn check_seeing_target(source: &PlanSource, on_target: impl FnOnce(&Target)) -> Checked {
    let mut diagnostics = Vec::new();
    let decoded = decode(&source.text, &mut diagnostics, on_target);
    if let Some(decoded) = &decoded {
        diagnostics.extend(validate(decoded));
    }
    // Stable: diagnostics at the same place keep the order the checks produced them in.
    diagnostics.sort_by_key(|d| {
        d.span
            .as_ref()
            .map_or((0, 0), |span| (span.start, span.end))
    });
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    Checked {
        plan: decoded.filter(|_| !has_errors).map(|decoded| decoded.plan),
        diagnostics,
    }
}
