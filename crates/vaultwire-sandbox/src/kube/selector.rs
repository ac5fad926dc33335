//! Label selectors (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`, `>`, `<`) and field
//! selectors (`metadata.name`, `metadata.namespace` and each resource's extra fields), parsed
//! and matched the way apimachinery's `labels` and `fields` packages do.
//!
//! Matching only; which fields a resource supports comes from the resource table.

use serde_json::{Map, Value};

use super::object;
use super::resources::ResourceDef;
use super::status::StatusError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Operator {
    Exists,
    DoesNotExist,
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    GreaterThan(i64),
    LessThan(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    operator: Operator,
}

/// A parsed `labelSelector`; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    pub fn parse(raw: &str) -> Result<Self, StatusError> {
        let requirements = split_outside_parentheses(raw)
            .into_iter()
            .filter(|part| !part.trim().is_empty())
            .map(|part| parse_requirement(part.trim()))
            .collect::<Result<Vec<_>, String>>()
            .map_err(|detail| {
                StatusError::bad_request(format!("unable to parse requirement: {detail}"))
            })?;
        Ok(Self { requirements })
    }

    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        self.requirements.iter().all(|requirement| {
            let value = labels
                .and_then(|labels| labels.get(&requirement.key))
                .and_then(Value::as_str);
            match (&requirement.operator, value) {
                (Operator::Exists, found) => found.is_some(),
                (Operator::DoesNotExist, found) => found.is_none(),
                (Operator::Equals(wanted), found) => found == Some(wanted.as_str()),
                (Operator::NotEquals(unwanted), found) => found != Some(unwanted.as_str()),
                (Operator::In(values), found) => {
                    found.is_some_and(|v| values.iter().any(|x| x == v))
                }
                (Operator::NotIn(values), found) => {
                    !found.is_some_and(|v| values.iter().any(|x| x == v))
                }
                (Operator::GreaterThan(bound), found) => found
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v > *bound),
                (Operator::LessThan(bound), found) => found
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v < *bound),
            }
        })
    }
}

fn split_outside_parentheses(raw: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0_i32;
    let mut start = 0;
    for (index, character) in raw.char_indices() {
        match character {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&raw[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(&raw[start..]);
    parts
}

fn is_key_char(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-' | '/')
}

fn is_value_char(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-')
}

fn parse_requirement(text: &str) -> Result<Requirement, String> {
    if let Some(key) = text.strip_prefix('!') {
        let key = valid_key(key.trim())?;
        return Ok(Requirement {
            key,
            operator: Operator::DoesNotExist,
        });
    }
    let key_end = text.find(|c: char| !is_key_char(c)).unwrap_or(text.len());
    let key = valid_key(&text[..key_end])?;
    let rest = text[key_end..].trim_start();
    let operator = if rest.is_empty() {
        Operator::Exists
    } else if let Some(value) = rest.strip_prefix("==") {
        Operator::Equals(valid_value(value.trim())?)
    } else if let Some(value) = rest.strip_prefix("!=") {
        Operator::NotEquals(valid_value(value.trim())?)
    } else if let Some(value) = rest.strip_prefix('=') {
        Operator::Equals(valid_value(value.trim())?)
    } else if let Some(value) = rest.strip_prefix('>') {
        Operator::GreaterThan(integer(value.trim())?)
    } else if let Some(values) = set_operand(rest, "notin") {
        Operator::NotIn(values?)
    } else if let Some(values) = set_operand(rest, "in") {
        Operator::In(values?)
    } else if let Some(value) = rest.strip_prefix('<') {
        Operator::LessThan(integer(value.trim())?)
    } else {
        return Err(format!(
            "found '{rest}', expected: '=', '!=', '==', 'in', notin'"
        ));
    };
    Ok(Requirement { key, operator })
}

/// `in (a, b)` / `notin (a,b)` after the key, when `rest` starts with that word.
fn set_operand(rest: &str, word: &str) -> Option<Result<Vec<String>, String>> {
    let after = rest.strip_prefix(word)?;
    if !(after.starts_with('(') || after.starts_with(char::is_whitespace)) {
        return None;
    }
    let after = after.trim();
    let Some(inner) = after
        .strip_prefix('(')
        .and_then(|inner| inner.strip_suffix(')'))
    else {
        return Some(Err(format!("found '{after}', expected: '('")));
    };
    Some(
        inner
            .split(',')
            .map(|value| valid_value(value.trim()))
            .collect(),
    )
}

fn valid_key(key: &str) -> Result<String, String> {
    if key.is_empty() || !key.chars().all(is_key_char) {
        return Err(format!("invalid label key \"{key}\""));
    }
    Ok(key.to_owned())
}

fn valid_value(value: &str) -> Result<String, String> {
    if value.len() > 63 || !value.chars().all(is_value_char) {
        return Err(format!("invalid label value: \"{value}\""));
    }
    Ok(value.to_owned())
}

fn integer(value: &str) -> Result<i64, String> {
    value
        .parse()
        .map_err(|_| format!("for 'Gt', 'Lt' operators, the value must be an integer: {value}"))
}

/// A parsed `fieldSelector`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct FieldSelector {
    terms: Vec<(String, bool, String)>,
}

impl FieldSelector {
    pub fn parse(raw: &str, def: &ResourceDef) -> Result<Self, StatusError> {
        let mut terms = Vec::new();
        for term in raw
            .split(',')
            .map(str::trim)
            .filter(|term| !term.is_empty())
        {
            let (field, equal, value) = if let Some((field, value)) = term.split_once("!=") {
                (field, false, value)
            } else if let Some((field, value)) = term.split_once("==") {
                (field, true, value)
            } else if let Some((field, value)) = term.split_once('=') {
                (field, true, value)
            } else {
                return Err(StatusError::bad_request(format!(
                    "invalid selector: '{raw}'; can't understand '{term}'"
                )));
            };
            let field = field.trim();
            let known = matches!(field, "metadata.name" | "metadata.namespace")
                || def.field_selectors.contains(&field);
            if !known {
                return Err(StatusError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            terms.push((field.to_owned(), equal, value.trim().to_owned()));
        }
        Ok(Self { terms })
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.terms.iter().all(|(field, equal, wanted)| {
            let actual = field_value(object, field);
            (actual == *wanted) == *equal
        })
    }
}

/// The string a field selector compares; absent fields read as empty, as in the Go field sets.
fn field_value(object: &Value, field: &str) -> String {
    match field {
        "metadata.name" => object::name(object).unwrap_or_default().to_owned(),
        "metadata.namespace" => object::namespace(object).unwrap_or_default().to_owned(),
        path => match object::at_path(object, path) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Bool(flag)) => flag.to_string(),
            Some(Value::Number(number)) => number.to_string(),
            _ => String::new(),
        },
    }
}
