//! Values written in one of several forms, such as a grant's `principal` (`{ addon = … }`,
//! `{ workload_identity = … }` or `{ object_id, type }`): how a value that is no form, or
//! several, is reported. Choosing among the forms is the caller's.

use crate::plan::decode::problems;
use crate::plan::decode::reader::Field;
use crate::plan::diagnostic::Diagnostic;

impl Field<'_, '_, '_> {
    /// The value is not an inline table at all; `help` shows the forms.
    pub fn not_a_form<T>(mut self, help: &str) -> Option<T> {
        let diagnostic = problems::wrong_type(
            &self.path.to_string(),
            "an inline table",
            self.value.get_ref(),
            self.span(),
            None,
        )
        .with_help(help.to_owned());
        self.push(diagnostic);
        None
    }

    /// The table matches no form, or several: reports that, and every key that belongs to
    /// no form (checked against `all_keys`, the keys of every form).
    pub fn invalid_form<T>(
        mut self,
        code: &'static str,
        message: String,
        help: &str,
        all_keys: &[&str],
    ) -> Option<T> {
        let diagnostic = Diagnostic::error(code, message, self.span())
            .with_label("use exactly one form")
            .with_help(help.to_owned());
        self.push(diagnostic);
        self.table(all_keys, |_| None)
    }
}
