//! The diagnostics decoding produces, worded in one place so every table reports the same
//! problem the same way.

use toml::de::DeValue;

use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::Span;
use crate::plan::names::Rule;
use crate::plan::suggest::{did_you_mean_or_list, shown};

/// "a string", "an integer": how a TOML value's type reads in a message.
pub(super) fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// How `path` reads in a message; the root table has no path.
pub(super) fn place(path: &str) -> String {
    if path.is_empty() {
        "the top level".to_owned()
    } else {
        format!("`{path}`")
    }
}

pub(super) fn wrong_type(
    path: &str,
    expected: &str,
    value: &DeValue<'_>,
    span: Span,
    example: Option<&str>,
) -> Diagnostic {
    let found = type_name(value);
    let diagnostic = Diagnostic::error(
        "wrong-type",
        format!("expected {expected} for `{path}`, found {found}"),
        span,
    )
    .with_label(format!("expected {expected}"));
    match example {
        Some(example) => diagnostic.with_help(format!("write it like `{example}`")),
        None => diagnostic,
    }
}

pub(super) fn missing(key: &str, path: &str, span: Span, example: &str) -> Diagnostic {
    Diagnostic::error(
        "missing-field",
        format!("missing field `{key}` in {}", place(path)),
        span,
    )
    .with_label(format!("`{key}` is required here"))
    .with_help(format!("add `{example}`"))
}

pub(super) fn unknown_key(key: &str, path: &str, span: Span, allowed: &[&str]) -> Diagnostic {
    let key = shown(key);
    let intro = format!("{} takes", place(path));
    Diagnostic::error(
        "unknown-key",
        format!("unknown key `{key}` in {}", place(path)),
        span,
    )
    .with_label("unknown key")
    .with_help(did_you_mean_or_list(&key, allowed, &intro))
}

pub(super) fn invalid_choice(
    value: &str,
    path: &str,
    what: &str,
    span: Span,
    choices: &[&str],
) -> Diagnostic {
    Diagnostic::error(
        "invalid-value",
        format!("invalid {what} `{}` for `{path}`", shown(value)),
        span,
    )
    .with_label(format!("unknown {what}"))
    .with_help(did_you_mean_or_list(value, choices, "expected"))
}

pub(super) fn invalid_name(
    value: &str,
    rule: &Rule,
    reason: &str,
    span: Span,
    hint: &str,
) -> Diagnostic {
    // Rules govern names ("Key Vault name") and other formats ("GUID", "IP rule").
    let code = if rule.what.ends_with("name") {
        "invalid-name"
    } else {
        "invalid-value"
    };
    Diagnostic::error(
        code,
        format!("`{}` is not a valid {}", shown(value), rule.what),
        span,
    )
    .with_label(reason.to_owned())
    .with_help(hint.to_owned())
}

pub(super) fn out_of_range(
    path: &str,
    value: &str,
    range: (i64, i64),
    span: Span,
    why: &str,
) -> Diagnostic {
    let (low, high) = range;
    Diagnostic::error(
        "out-of-range",
        format!("`{path}` is {value}, outside {low} to {high}"),
        span,
    )
    .with_label(format!("expected {low} to {high}"))
    .with_help(why.to_owned())
}
