//! The process environment as a value.
//!
//! Credential selection and kubeconfig lookup read environment variables; taking them as an
//! [`Environment`] keeps that code testable without touching the real process environment.
//! This module only stores variables: it must not interpret them.

use std::collections::BTreeMap;
use std::fmt;

/// Environment variables by name. Variables set to the empty string count as unset, as the
/// Azure SDKs treat them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// A snapshot of the current process environment (variables that are not valid UTF-8 are
    /// left out).
    pub fn from_process() -> Self {
        Self::from_pairs(std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        }))
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            vars: pairs
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        }
    }

    /// The value of `name`, or `None` when it is unset or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Returns a copy with `name` set to `value`.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }
}

/// Prints variable names only: values may be secrets (`AZURE_CLIENT_SECRET`,
/// `SYSTEM_ACCESSTOKEN`).
impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_unset() {
        let env = Environment::from_pairs([("AZURE_CLIENT_ID", ""), ("AZURE_TENANT_ID", "t")]);
        assert_eq!(env.get("AZURE_CLIENT_ID"), None);
        assert_eq!(env.get("AZURE_TENANT_ID"), Some("t"));
        assert!(!env.is_set("MISSING"));
    }

    #[test]
    fn debug_output_names_variables_but_never_values() {
        let env = Environment::from_pairs([("AZURE_CLIENT_SECRET", "hunter2-secret")]);
        let debug = format!("{env:?}");
        assert!(debug.contains("AZURE_CLIENT_SECRET"));
        assert!(!debug.contains("hunter2-secret"));
    }
}
