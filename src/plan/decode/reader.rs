//! A small reader over `toml`'s spanned tables: take a field by key, convert it, and report
//! what is missing, unknown or of the wrong type — without ever stopping at the first problem.
//!
//! Every resource decoder is written against [`Table`] and [`Field`]; they own the wording of
//! the common problems (through `problems`) and the bookkeeping of whether a table decoded
//! completely. They know no plan semantics.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::rc::Rc;

use toml::Spanned as TomlSpanned;
use toml::de::{DeTable, DeValue};

use crate::plan::decode::problems;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::{Span, Spanned};
use crate::plan::names::azure::GUID;
use crate::plan::suggest::closest;

pub(super) type Value<'i> = TomlSpanned<DeValue<'i>>;

/// Where diagnostics collect while decoding.
pub(super) type Sink = Vec<Diagnostic>;

/// One table of the plan file being read.
///
/// A table is incomplete when a field could not be read (missing, wrong type, not one of the
/// allowed values). A resource missing a required field is dropped from the plan; one with an
/// unreadable optional field is kept with that field's default and marked partial, so checks
/// across resources can still run on what is known without reporting consequences of a
/// problem already reported.
pub(super) struct Table<'t, 'i, 's> {
    entries: &'t DeTable<'i>,
    /// The table's header (`[vault.a]`) or inline table; where "missing field" points and the
    /// span that defaulted values carry.
    pub span: Span,
    /// Dotted path used in messages, such as `spc.db.objects[0]`; empty for the root.
    pub path: Rc<str>,
    sink: &'s mut Sink,
    /// A field could not be read.
    failed: bool,
    /// A required field could not be read.
    required_failed: bool,
    /// Absent keys an unknown key was taken for, so "missing" is not reported twice.
    suggested: BTreeSet<String>,
}

impl<'t, 'i, 's> Table<'t, 'i, 's> {
    /// Starts reading `entries`, reporting every key not in `allowed` at once.
    pub fn new(
        entries: &'t DeTable<'i>,
        span: Span,
        path: impl Into<Rc<str>>,
        allowed: &[&str],
        sink: &'s mut Sink,
    ) -> Self {
        let path = path.into();
        let mut suggested = BTreeSet::new();
        for (key, _) in entries.iter() {
            let name: &str = key.get_ref();
            if allowed.contains(&name) {
                continue;
            }
            if let Some(near) = closest(name, allowed.iter().copied())
                && !entries.contains_key(near)
            {
                suggested.insert(near.to_owned());
            }
            sink.push(problems::unknown_key(name, &path, key.span(), allowed));
        }
        Self {
            entries,
            span,
            path,
            sink,
            // A key taken for another is a field whose value is unknown: checks of that
            // field must not run on its default.
            failed: !suggested.is_empty(),
            required_failed: false,
            suggested,
        }
    }

    /// The path of `key` in this table, for messages.
    pub fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Whether no problem has been reported yet, in this table or before it.
    pub fn nothing_reported(&self) -> bool {
        self.sink.is_empty()
    }

    /// Reports a problem with a value that was read; the table still decodes.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.sink.push(diagnostic);
    }

    /// The field under `key`, if present.
    pub fn field(&mut self, key: &str) -> Option<Field<'t, 'i, '_>> {
        let (key, value) = self.entries.get_key_value(key)?;
        Some(Field {
            value,
            path: FieldPath::key(self.path.clone(), Cow::Borrowed(key.get_ref().as_ref())),
            example: None,
            sink: self.sink,
        })
    }

    /// A field the table must have; `example` is a line the help suggests.
    pub fn required<T>(
        &mut self,
        key: &str,
        example: impl Into<Cow<'static, str>>,
        convert: impl FnOnce(Field<'t, 'i, '_>) -> Option<T>,
    ) -> Option<T> {
        let path = self.path.clone();
        let span = self.span.clone();
        let value = match self.field(key) {
            Some(mut field) => {
                field.example = Some(example.into());
                convert(field)
            }
            None => {
                if !self.suggested.contains(key) {
                    self.sink
                        .push(problems::missing(key, &path, span, &example.into()));
                }
                None
            }
        };
        self.failed |= value.is_none();
        self.required_failed |= value.is_none();
        value
    }

    /// A required GUID, such as `tenant_id`.
    pub fn required_guid(&mut self, key: &str) -> Option<Spanned<String>> {
        let example = format!("{key} = \"00000000-0000-0000-0000-000000000000\"");
        self.required(key, example, |field| field.name(&GUID))
    }

    /// A field the table may have: `None` when absent (or unreadable, which fails the table).
    pub fn optional<T>(
        &mut self,
        key: &str,
        convert: impl FnOnce(Field<'t, 'i, '_>) -> Option<T>,
    ) -> Option<T> {
        let field = self.field(key)?;
        let value = convert(field);
        self.failed |= value.is_none();
        value
    }

    /// A field with a default, which an absent or unreadable value takes; a default value
    /// carries the table's span.
    pub fn defaulted<T>(
        &mut self,
        key: &str,
        default: T,
        convert: impl FnOnce(Field<'t, 'i, '_>) -> Option<Spanned<T>>,
    ) -> Spanned<T> {
        let span = self.span.clone();
        self.optional(key, convert)
            .unwrap_or_else(|| Spanned::new(default, span))
    }

    /// `Some(())` when every field was read: for tables inside a resource, whose value is
    /// all or nothing.
    pub fn finish(self) -> Option<()> {
        (!self.failed).then_some(())
    }

    /// For a resource table: `None` when a required field is missing, else whether every
    /// field was read (`false`: partial, some fields took their defaults).
    pub fn finish_resource(self) -> Option<Completeness> {
        if self.required_failed {
            None
        } else if self.failed {
            Some(Completeness::Partial)
        } else {
            Some(Completeness::Complete)
        }
    }

    /// Marks the table as failed, for problems found by the decoder itself.
    pub fn fail(&mut self) {
        self.failed = true;
    }
}

/// Whether a resource table decoded completely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    Complete,
    /// Some optional field could not be read and took its default.
    Partial,
}

/// A value under a key, ready to be converted.
pub(super) struct Field<'t, 'i, 's> {
    pub value: &'t Value<'i>,
    /// Full path such as `vault.a.name`.
    pub path: FieldPath<'t>,
    /// A line the help suggests when the value has the wrong type.
    pub example: Option<Cow<'static, str>>,
    pub sink: &'s mut Sink,
}

/// Where a field is, such as `spc.db.objects[0]`: its table's path, its key and, for an item
/// of an array, its index. Written out only for a message — a plan of hundreds of resources
/// reads thousands of fields, and formatting every path up front was a third of decoding them.
#[derive(Debug, Clone)]
pub(super) struct FieldPath<'t> {
    table: Rc<str>,
    key: Cow<'t, str>,
    index: Option<usize>,
}

impl<'t> FieldPath<'t> {
    pub fn key(table: Rc<str>, key: Cow<'t, str>) -> Self {
        Self {
            table,
            key,
            index: None,
        }
    }

    fn item(&self, index: usize) -> Self {
        Self {
            index: Some(index),
            ..self.clone()
        }
    }
}

impl std::fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.table.is_empty() {
            write!(f, "{}.", self.table)?;
        }
        f.write_str(&self.key)?;
        if let Some(index) = self.index {
            write!(f, "[{index}]")?;
        }
        Ok(())
    }
}

impl<'t, 'i, 's> Field<'t, 'i, 's> {
    pub fn span(&self) -> Span {
        self.value.span()
    }

    /// Reports that the value is not `expected` ("a string") and gives up on it.
    pub fn wrong_type<T>(self, expected: &str) -> Option<T> {
        self.sink.push(problems::wrong_type(
            &self.path.to_string(),
            expected,
            self.value.get_ref(),
            self.value.span(),
            self.example.as_deref(),
        ));
        None
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.sink.push(diagnostic);
    }

    pub fn string(self) -> Option<Spanned<String>> {
        match self.value.get_ref() {
            DeValue::String(text) => Some(Spanned::new(text.to_string(), self.value.span())),
            _ => self.wrong_type("a string"),
        }
    }

    pub fn boolean(self) -> Option<Spanned<bool>> {
        match self.value.get_ref() {
            DeValue::Boolean(value) => Some(Spanned::new(*value, self.value.span())),
            _ => self.wrong_type("a boolean (`true` or `false`)"),
        }
    }

    /// An integer in `low..=high`; one outside is reported and clamped, so the table still
    /// decodes (the number is not used by any check across resources).
    pub fn integer(self, low: i64, high: i64, why: &str) -> Option<Spanned<i64>> {
        let DeValue::Integer(integer) = self.value.get_ref() else {
            return self.wrong_type("an integer");
        };
        let span = self.value.span();
        let value = i64::from_str_radix(integer.as_str(), integer.radix()).ok();
        let in_range = value.filter(|value| (low..=high).contains(value));
        if in_range.is_none() {
            self.sink.push(problems::out_of_range(
                &self.path.to_string(),
                &integer.to_string(),
                (low, high),
                span.clone(),
                why,
            ));
        }
        Some(Spanned::new(in_range.unwrap_or(high), span))
    }

    /// The items of an array, or a wrong-type report.
    pub fn array(self) -> Option<Items<'t, 'i, 's>> {
        match self.value.get_ref() {
            DeValue::Array(items) => Some(Items {
                items: items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| (self.path.item(index), item))
                    .collect(),
                example: self.example,
                sink: self.sink,
            }),
            _ => self.wrong_type("an array"),
        }
    }

    /// An array of strings; `check` may report a problem with one item and keep it.
    pub fn strings(
        self,
        mut check: impl FnMut(&mut Sink, &Spanned<String>),
    ) -> Option<Spanned<Vec<Spanned<String>>>> {
        let span = self.span();
        let values = self.array()?.each(|field| {
            let Some(text) = field.value.get_ref().as_str() else {
                return field.wrong_type("a string");
            };
            let value = Spanned::new(text.to_owned(), field.span());
            check(field.sink, &value);
            Some(value)
        })?;
        Some(Spanned::new(values, span))
    }

    /// The value as a table read with `allowed` keys, decoded by `decode`.
    pub fn table<T>(
        self,
        allowed: &[&str],
        decode: impl FnOnce(Table<'t, 'i, '_>) -> Option<T>,
    ) -> Option<T> {
        match self.value.get_ref() {
            DeValue::Table(entries) => {
                let path = self.path.to_string();
                let table = Table::new(entries, self.value.span(), path, allowed, self.sink);
                decode(table)
            }
            _ => self.wrong_type("a table"),
        }
    }

    /// The keys of the value when it is a table (none otherwise), to choose among forms.
    pub fn table_keys(&self) -> Vec<&'t str> {
        match self.value.get_ref() {
            DeValue::Table(entries) => entries.keys().map(|key| key.get_ref().as_ref()).collect(),
            _ => Vec::new(),
        }
    }

    /// An array of tables, each read with `allowed` keys and decoded by `decode`; every item
    /// is read even when an earlier one fails.
    pub fn tables<T>(
        self,
        allowed: &[&str],
        mut decode: impl FnMut(Table<'t, 'i, '_>) -> Option<T>,
    ) -> Option<Vec<T>> {
        self.array()?
            .each(|field| field.table(allowed, &mut decode))
    }
}

/// The items of an array field, each with its path (`objects[0]`).
pub(super) struct Items<'t, 'i, 's> {
    items: Vec<(FieldPath<'t>, &'t Value<'i>)>,
    example: Option<Cow<'static, str>>,
    sink: &'s mut Sink,
}

impl<'t, 'i> Items<'t, 'i, '_> {
    /// Converts every item, even after one fails; `None` when any did.
    pub fn each<T>(
        self,
        mut convert: impl FnMut(Field<'t, 'i, '_>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut values = Vec::with_capacity(self.items.len());
        let mut ok = true;
        for (path, value) in self.items {
            let field = Field {
                value,
                path,
                example: self.example.clone(),
                sink: &mut *self.sink,
            };
            match convert(field) {
                Some(value) => values.push(value),
                None => ok = false,
            }
        }
        ok.then_some(values)
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::{PlanSource, check};

    const EXAMPLE: &str = include_str!("../../../plans/example.toml");

    /// The messages of checking the example with `from` replaced by `to`.
    fn messages_with(from: &str, to: &str) -> Vec<String> {
        assert!(EXAMPLE.contains(from), "{from}");
        let checked = check(&PlanSource {
            name: "test.toml".into(),
            text: EXAMPLE.replacen(from, to, 1),
        });
        checked.diagnostics.into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn a_wrong_value_is_named_by_its_full_path_written_out_for_the_message() {
        let item = messages_with(
            r#"{ name = "db-password", type = "secret" },"#,
            r#""db-password","#,
        );
        assert!(
            item.iter()
                .any(|m| m.contains("`spc.payments-db.objects[0]`")),
            "{item:?}"
        );
        let key = messages_with(
            "[vault.payments]\n",
            "[vault.payments]\ntags = { env = 1 }\n",
        );
        assert!(
            key.iter().any(|m| m.contains("`vault.payments.tags.env`")),
            "{key:?}"
        );
        let top = messages_with("version = 1", "version = \"1\"");
        assert!(top.iter().any(|m| m.contains("`version`")), "{top:?}");
    }
}
