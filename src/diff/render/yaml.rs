//! SecretProviderClass manifests as YAML, for the plan's `<<YAML` blocks — written directly
//! for the shapes manifests have, and by `serde_norway` for anything else.
//!
//! `serde_norway` builds the document through a general YAML emitter; for a plan that creates
//! hundreds of SecretProviderClasses that was half of rendering it, and rendering an approved
//! plan is on apply's path to its first change. The direct writer produces the same text for
//! what it accepts (maps, lists, integers, booleans, null, strings that need no quoting or only
//! `'…'`, and multi-line strings as `|` blocks) and declines the rest; the tests hold it to
//! `serde_norway`'s output.

use serde_json::{Map, Value};

/// `value` as a YAML document.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    if write_document(&mut out, value).is_some() {
        return out;
    }
    serde_norway::to_string(value).unwrap_or_else(|_| value.to_string())
}

/// Writes `value` (a map, as manifests are) or gives up (`None`).
fn write_document(out: &mut String, value: &Value) -> Option<()> {
    match value {
        Value::Object(map) if !map.is_empty() => write_map(out, map, 0, false),
        _ => None,
    }
}

/// The entries of a non-empty map, each on its own line at `indent` — but the first one of a
/// list item, which follows its `- ` (`after_dash`).
fn write_map(
    out: &mut String,
    map: &Map<String, Value>,
    indent: usize,
    after_dash: bool,
) -> Option<()> {
    for (index, (key, value)) in map.iter().enumerate() {
        if index > 0 || !after_dash {
            push_indent(out, indent);
        }
        out.push_str(plain(key)?);
        out.push(':');
        write_value(out, value, indent)?;
    }
    Some(())
}

/// What follows `key:` (or `-`): a scalar on the same line, or a block on the next ones.
fn write_value(out: &mut String, value: &Value, indent: usize) -> Option<()> {
    match value {
        Value::Object(map) if map.is_empty() => out.push_str(" {}\n"),
        Value::Array(items) if items.is_empty() => out.push_str(" []\n"),
        Value::Object(map) => {
            out.push('\n');
            write_map(out, map, indent + 2, false)?;
        }
        // A list under a key sits at the key's own indentation.
        Value::Array(items) => {
            out.push('\n');
            write_items(out, items, indent)?;
        }
        Value::String(text) if text.contains('\n') => write_block(out, text, indent + 2)?,
        scalar => {
            out.push(' ');
            out.push_str(&write_scalar(scalar)?);
            out.push('\n');
        }
    }
    Some(())
}

/// List items at `indent`: `- ` and the item.
fn write_items(out: &mut String, items: &[Value], indent: usize) -> Option<()> {
    for item in items {
        push_indent(out, indent);
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                out.push(' ');
                write_map(out, map, indent + 2, true)?;
            }
            // Lists in lists and blocks in lists are rare in manifests: left to serde_norway.
            Value::Array(_) => return None,
            Value::String(text) if text.contains('\n') => return None,
            other => write_value(out, other, indent)?,
        }
    }
    Some(())
}

/// A multi-line string as a literal block, its lines at `indent`.
fn write_block(out: &mut String, text: &str, indent: usize) -> Option<()> {
    let body = text.strip_suffix('\n');
    let (indicator, body) = match body {
        // More than one final newline needs `|+`; leave those alone.
        Some(body) if body.ends_with('\n') => return None,
        Some(body) => ("|", body),
        None => ("|-", text),
    };
    // A text starting with a space or an empty line needs an indentation indicator;
    // characters a block cannot hold as they are need escapes.
    if body.starts_with([' ', '\n'])
        || body.is_empty()
        || body
            .chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{feff}')
        || body.lines().any(|line| line.ends_with(' '))
    {
        return None;
    }
    out.push(' ');
    out.push_str(indicator);
    out.push('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            push_indent(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    Some(())
}

fn write_scalar(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("null".to_owned()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) if number.is_i64() || number.is_u64() => Some(number.to_string()),
        Value::String(text) if text.is_empty() => Some("''".to_owned()),
        Value::String(text) => match plain(text) {
            Some(text) => Some(text.to_owned()),
            None if quotable(text) => Some(format!("'{text}'")),
            None => None,
        },
        _ => None,
    }
}

/// `text` when it can stand unquoted: made of characters that mean nothing to YAML where they
/// stand, and not read back as another type.
fn plain(text: &str) -> Option<&str> {
    let first = text.chars().next()?;
    let safe = |c: char| c.is_ascii_alphanumeric() || "-._/()".contains(c);
    let spaced_safely = !text.ends_with(' ')
        && !text.contains("  ")
        && !text.contains(" -")
        && !text.contains("- ");
    if !(first.is_ascii_alphanumeric() || first == '(' || first == '/')
        || !text.chars().all(|c| safe(c) || c == ' ')
        || !spaced_safely
        || means_something_else(text)
    {
        return None;
    }
    Some(text)
}

/// Words and digit-led text (no sign or dot: [`plain`] has ruled those out) a YAML reader might
/// take for a boolean, null, number or date — which serde_norway quotes. Erring towards
/// "might": those go to serde_norway. A GUID starting with a digit has letters no number has,
/// and stays plain.
fn means_something_else(text: &str) -> bool {
    if SPECIAL_WORDS.contains(&text) {
        return true;
    }
    if !text.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let radix_prefixed = ["0x", "0o", "0b", "0X", "0O", "0B"]
        .iter()
        .any(|prefix| text.starts_with(prefix));
    let letters_no_number_has = text
        .chars()
        .any(|c| c.is_ascii_alphabetic() && !"eE".contains(c));
    radix_prefixed || !letters_no_number_has
}

/// Whether single quotes are all `text` needs, as serde_norway writes it: `'true'`, `'false'`
/// (the Secrets Store CSI driver's string booleans). Other special words are left to it.
fn quotable(text: &str) -> bool {
    ["true", "false"].contains(&text)
}

/// Words YAML 1.1 or 1.2 readers take for booleans or null.
const SPECIAL_WORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
];

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// The direct writer's text, or `None` where it declines.
    fn direct(value: &Value) -> Option<String> {
        let mut out = String::new();
        write_document(&mut out, value).map(|()| out)
    }

    fn norway(value: &Value) -> String {
        serde_norway::to_string(value).unwrap()
    }

    #[test]
    fn a_secret_provider_class_manifest_is_written_directly_as_serde_norway_writes_it() {
        let manifest = json!({
            "apiVersion": "secrets-store.csi.x-k8s.io/v1",
            "kind": "SecretProviderClass",
            "metadata": {
                "labels": {"app.kubernetes.io/managed-by": "vaultwire"},
                "name": "c00-app-0000",
                "namespace": "default",
            },
            "spec": {
                "parameters": {
                    "cloudName": "AzurePublicCloud",
                    "keyvaultName": "kv-bench-c00",
                    "objects": "array:\n  - |\n    objectName: db-password-0\n    objectType: secret\n",
                    "tenantId": "7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c",
                    "usePodIdentity": "false",
                    "useVMManagedIdentity": "true",
                    "userAssignedIdentityID": "(known after apply)",
                },
                "provider": "azure",
                "secretObjects": [{
                    "data": [
                        {"key": "password", "objectName": "db-password-0"},
                        {"key": "username", "objectName": "db-username-0"},
                    ],
                    "secretName": "app-0000-db",
                    "type": "Opaque",
                }],
            },
        });
        let written = direct(&manifest).expect("a manifest is written directly");
        assert_eq!(written, norway(&manifest));
        assert_eq!(to_yaml(&manifest), written);
    }

    #[test]
    fn what_the_direct_writer_declines_serde_norway_writes() {
        let odd = json!({"key": "a: b", "list": [[1]], "text": "ends\n\n"});
        assert_eq!(direct(&odd), None);
        assert_eq!(to_yaml(&odd), norway(&odd));
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            // Words, numbers-as-text, YAML's special words and characters, spaces, newlines.
            "[a-zA-Z0-9 ./:#'\"(),{}\\[\\]|>&*!%@`~?-]{0,12}".prop_map(Value::String),
            prop::sample::select(vec![
                "true", "false", "yes", "No", "null", "~", "1.5", "0x1F", "-", "- a", "a -",
            ])
            .prop_map(|s| Value::String(s.to_owned())),
            prop::collection::vec("[a-z][a-z :-]{0,8}", 1..4)
                .prop_map(|lines| Value::String(lines.join("\n") + "\n")),
            prop::collection::vec("[a-z ]{0,8}", 1..4)
                .prop_map(|lines| Value::String(lines.join("\n"))),
        ]
    }

    /// Mostly names as manifests have them, sometimes ones YAML would misread.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-zA-Z][a-zA-Z0-9./-]{0,8}",
            1 => "[a-zA-Z0-9 ./:#'(),-]{1,6}",
            1 => prop::sample::select(vec!["true", "No", "null", "1", "-x"]).prop_map(str::to_owned),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(key(), inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        // About one document in five is one the direct writer accepts.
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn whatever_the_direct_writer_writes_is_what_serde_norway_writes(
            map in prop::collection::btree_map(key(), value(), 1..5)
        ) {
            let document = Value::Object(map.into_iter().collect());
            if let Some(written) = direct(&document) {
                prop_assert_eq!(written, norway(&document));
            }
        }
    }
}
