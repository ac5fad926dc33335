//! What a naming rule is and what it says when a value breaks it.
//!
//! Only the vocabulary lives here; the rules themselves are in the sibling modules.

/// Why a value breaks a rule, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// What is wrong, short enough for a label beside the caret, such as "contains `--`".
    pub reason: String,
    /// The rule in full, or a corrected value; shown as help.
    pub hint: String,
}

impl Invalid {
    pub fn new(reason: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            hint: hint.into(),
        }
    }
}

/// A rule: what kind of value it governs and the check itself.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Shown in messages: "`kv--a` is not a valid Key Vault name".
    pub what: &'static str,
    pub check: fn(&str) -> Result<(), Invalid>,
}

impl Rule {
    pub fn check(&self, value: &str) -> Result<(), Invalid> {
        (self.check)(value)
    }
}

/// How a character that is not allowed reads in a reason: "a space", "`_`", "`\n`".
pub(super) fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        c if c.is_control() => format!("`{}`", c.escape_default()),
        c => format!("`{c}`"),
    }
}

/// The first character of `value` that `allowed` rejects, described for a reason.
pub(super) fn first_disallowed(value: &str, allowed: impl Fn(char) -> bool) -> Option<String> {
    value
        .chars()
        .find(|c| !allowed(*c))
        .map(|c| format!("contains {}", describe_char(c)))
}

/// "is 25 characters long" with the limits, when `value` is outside `min..=max` characters.
pub(super) fn length_outside(value: &str, min: usize, max: usize) -> Option<String> {
    let len = value.chars().count();
    let unit = if len == 1 { "character" } else { "characters" };
    if len == 0 {
        Some("is empty".to_owned())
    } else if len < min {
        Some(format!("is {len} {unit} long (at least {min})"))
    } else if len > max {
        Some(format!("is {len} {unit} long (at most {max})"))
    } else {
        None
    }
}

#[cfg(test)]
#[track_caller]
pub(super) fn assert_rule(rule: &Rule, valid: &[&str], invalid: &[(&str, &str)]) {
    for value in valid {
        assert_eq!(rule.check(value), Ok(()), "{} `{value}`", rule.what);
    }
    for (value, reason) in invalid {
        match rule.check(value) {
            Ok(()) => panic!("{} `{value}` should be invalid", rule.what),
            Err(invalid) => assert_eq!(invalid.reason, *reason, "{} `{value}`", rule.what),
        }
    }
}
