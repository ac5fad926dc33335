//! Problems found in a plan file, and how they are shown: `file:line:col`, the offending line,
//! a caret under the token and a hint, as miette draws them.
//!
//! Checks produce [`Diagnostic`] values and never print; [`render`] turns them into text for
//! the terminal or a CI log.

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use crate::plan::model::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in a plan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable kebab-case identifier, such as `unknown-key`; shown as `plan::unknown-key`.
    pub code: &'static str,
    /// A lowercase fragment naming the object in backticks.
    pub message: String,
    /// Where the caret goes; `None` for problems of the file as a whole.
    pub span: Option<Span>,
    /// Text beside the caret.
    pub label: Option<String>,
    /// Further places worth showing, such as the first definition of a duplicate.
    pub related: Vec<(Span, String)>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            span: Some(span),
            label: None,
            related: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, message, span)
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// How diagnostics are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderStyle {
    pub color: bool,
    /// Terminal width to wrap at.
    pub width: usize,
}

impl Default for RenderStyle {
    fn default() -> Self {
        Self {
            color: false,
            width: 100,
        }
    }
}

/// Draws `diagnostics` about the file `name` whose text is `source`, in the given order,
/// separated by blank lines.
pub fn render(name: &str, source: &str, diagnostics: &[Diagnostic], style: RenderStyle) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        .with_context_lines(1)
        // Never wrap inside a hyphenated word: help quotes values such as `managed-identity`.
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation);
    let mut out = String::new();
    for (index, diagnostic) in diagnostics.iter().enumerate() {
        if index > 0 {
            // A blank line between diagnostics, so each reads as its own block.
            out.push('\n');
        }
        let report =
            miette::Report::new(to_miette(diagnostic, source.len())).with_source_code(PlanText {
                name: name.to_owned(),
                text: source.to_owned(),
            });
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, report.as_ref());
    }
    out
}

/// One line such as "`plans/a.toml`: 2 errors, 1 warning".
pub fn summary(name: &str, diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    match (errors, warnings) {
        (0, 0) => format!("`{name}` is valid"),
        (0, w) => format!("`{name}` is valid, with {}", plural(w, "warning")),
        (e, 0) => format!("`{name}` has {}", plural(e, "error")),
        (e, w) => format!(
            "`{name}` has {} and {}",
            plural(e, "error"),
            plural(w, "warning")
        ),
    }
}

/// The plan file's text as miette reads it.
///
/// miette 7.6 reports the line number where a snippet ends as the snippet's line count, and
/// then merges the snippets of labels far apart into one long excerpt; this reports the real
/// count plus one, so only snippets that touch or are one line apart are merged.
struct PlanText {
    name: String,
    text: String,
}

impl SourceCode for PlanText {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents =
            self.text
                .as_str()
                .read_span(span, context_lines_before, context_lines_after)?;
        let data = contents.data();
        let newlines = data.iter().filter(|byte| **byte == b'\n').count();
        let lines = newlines + usize::from(!data.ends_with(b"\n")) + 1;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            data,
            *contents.span(),
            contents.line(),
            contents.column(),
            lines,
        )))
    }
}

fn to_miette(diagnostic: &Diagnostic, source_len: usize) -> MietteDiagnostic {
    let severity = match diagnostic.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
    };
    // Spans from a recovering parser can point one past the end; clamp so drawing never fails.
    let clamp = |span: &Span| {
        let start = span.start.min(source_len);
        let end = span.end.clamp(start, source_len);
        (start, end - start)
    };
    let mut labels = Vec::new();
    if let Some(span) = &diagnostic.span {
        labels.push(LabeledSpan::new_primary_with_span(
            diagnostic.label.clone(),
            clamp(span),
        ));
    }
    for (span, label) in &diagnostic.related {
        labels.push(LabeledSpan::new_with_span(Some(label.clone()), clamp(span)));
    }
    let mut miette = MietteDiagnostic::new(diagnostic.message.clone())
        .with_code(format!("plan::{}", diagnostic.code))
        .with_severity(severity)
        .with_labels(labels);
    if let Some(help) = &diagnostic.help {
        miette = miette.with_help(help.clone());
    }
    miette
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_column_caret_and_help() {
        let source = "version = 1\n[vault.a]\nnmae = \"kv\"\n";
        let start = source.find("nmae").unwrap();
        let diagnostic = Diagnostic::error(
            "unknown-key",
            "unknown key `nmae` in `vault.a`",
            start..start + 4,
        )
        .with_label("not a vault field")
        .with_help("did you mean `name`?");
        let text = render(
            "plans/a.toml",
            source,
            &[diagnostic],
            RenderStyle::default(),
        );
        assert!(text.contains("plans/a.toml:3:1"), "{text}");
        assert!(text.contains("nmae = \"kv\""), "{text}");
        assert!(text.contains("not a vault field"), "{text}");
        assert!(text.contains("help: did you mean `name`?"), "{text}");
    }

    /// miette 7.6 merged these into one excerpt with every line in between.
    #[test]
    fn labels_far_apart_are_drawn_as_separate_snippets() {
        let source: String = (1..=40).map(|n| format!("line{n} = {n}\n")).collect();
        let first = source.find("line20 ").unwrap();
        let second = source.find("line35 ").unwrap();
        let diagnostic = Diagnostic::error("duplicate", "twice", second..second + 6)
            .with_related(first..first + 6, "first used here");
        let text = render("a.toml", &source, &[diagnostic], RenderStyle::default());
        assert!(!text.contains("line27"), "{text}");
        assert_eq!(text.matches("╭─[").count(), 2, "{text}");
    }

    #[test]
    fn spans_past_the_end_are_clamped() {
        let diagnostic = Diagnostic::error("syntax", "unexpected end of file", 10..20);
        let text = render("a.toml", "x = ", &[diagnostic], RenderStyle::default());
        assert!(text.contains("unexpected end of file"));
    }

    #[test]
    fn summary_counts_errors_and_warnings() {
        let e = Diagnostic::error("x", "e", 0..1);
        let w = Diagnostic::warning("x", "w", 0..1);
        assert_eq!(summary("p.toml", &[]), "`p.toml` is valid");
        assert_eq!(
            summary("p.toml", std::slice::from_ref(&w)),
            "`p.toml` is valid, with 1 warning"
        );
        assert_eq!(
            summary("p.toml", &[e.clone(), e, w.clone(), w]),
            "`p.toml` has 2 errors and 2 warnings"
        );
    }
}
