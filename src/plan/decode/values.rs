//! Conversions of plan-specific values: names checked against a rule, Go durations, maps of
//! strings (tags, labels) and `depends_on` addresses.
//!
//! A value that breaks a naming rule is reported and still kept, so the checks across
//! resources can run on it; only a value of the wrong type is dropped.

use std::borrow::Cow;
use std::collections::BTreeMap;

use toml::de::DeValue;

use crate::plan::address::Address;
use crate::plan::decode::problems;
use crate::plan::decode::reader::{Field, FieldPath, Sink};
use crate::plan::diagnostic::Diagnostic;
use crate::plan::duration::GoDuration;
use crate::plan::model::Spanned;
use crate::plan::names::Rule;
use crate::plan::suggest::shown;

/// Checks `value` against `rule`, reporting a broken rule at `value`'s span.
pub(super) fn check_name(sink: &mut Sink, rule: &Rule, value: &Spanned<String>) {
    if let Err(invalid) = rule.check(&value.value) {
        sink.push(problems::invalid_name(
            &value.value,
            rule,
            &invalid.reason,
            value.span.clone(),
            &invalid.hint,
        ));
    }
}

impl Field<'_, '_, '_> {
    /// A string that must follow `rule`.
    pub fn name(self, rule: &Rule) -> Option<Spanned<String>> {
        let Some(text) = self.value.get_ref().as_str() else {
            return self.wrong_type("a string");
        };
        let value = Spanned::new(text.to_owned(), self.value.span());
        check_name(self.sink, rule, &value);
        Some(value)
    }

    /// A Go duration such as `2m`.
    pub fn duration(mut self) -> Option<Spanned<GoDuration>> {
        let span = self.span();
        let Some(text) = self.value.get_ref().as_str() else {
            return self.wrong_type("a string");
        };
        match GoDuration::parse(text) {
            Ok(duration) => Some(Spanned::new(duration, span)),
            Err(error) => {
                let diagnostic = Diagnostic::error(
                    "invalid-duration",
                    format!(
                        "`{}` is not a valid duration for `{}`",
                        shown(text),
                        self.path
                    ),
                    span,
                )
                .with_label(error.to_string())
                .with_help("write a Go duration such as `30s`, `2m` or `1h30m`");
                self.push(diagnostic);
                None
            }
        }
    }

    /// An array of names, each following `rule`.
    pub fn names(self, rule: &Rule) -> Option<Spanned<Vec<Spanned<String>>>> {
        self.strings(|sink, value| check_name(sink, rule, value))
    }

    /// A table of strings (`tags`, `labels`), keys and values checked by their rules.
    pub fn string_map(
        self,
        key_rule: &Rule,
        value_rule: &Rule,
    ) -> Option<BTreeMap<String, String>> {
        let DeValue::Table(entries) = self.value.get_ref() else {
            return self.wrong_type("a table of strings");
        };
        let mut map = BTreeMap::new();
        let mut ok = true;
        let table: std::rc::Rc<str> = self.path.to_string().into();
        for (key, value) in entries.iter() {
            let key = Spanned::new(key.get_ref().to_string(), key.span());
            check_name(self.sink, key_rule, &key);
            let field = Field {
                value,
                path: FieldPath::key(table.clone(), Cow::Owned(shown(&key.value))),
                example: None,
                sink: &mut *self.sink,
            };
            match field.name(value_rule) {
                Some(value) => {
                    map.insert(key.value, value.value);
                }
                None => ok = false,
            }
        }
        ok.then_some(map)
    }

    /// `depends_on`: an array of addresses. Entries that are not addresses are reported and
    /// left out.
    pub fn addresses(self) -> Option<Vec<Spanned<Address>>> {
        let texts = self.strings(|sink, text| {
            if let Err(error) = text.value.parse::<Address>() {
                sink.push(
                    Diagnostic::error("invalid-address", error.to_string(), text.span.clone())
                        .with_label("not an address")
                        .with_help("`depends_on` lists addresses such as `vault.payments` or `spc.payments-db`"),
                );
            }
        })?;
        let addresses = texts
            .value
            .iter()
            .filter_map(|text| {
                let address = text.value.parse::<Address>().ok()?;
                Some(Spanned::new(address, text.span.clone()))
            })
            .collect();
        Some(addresses)
    }
}
