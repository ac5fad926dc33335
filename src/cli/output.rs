//! How output looks: colour on or off, decided once from `--no-color`, `NO_COLOR` and whether
//! the stream is a terminal.

use std::io::IsTerminal;

/// Output settings every command receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    /// Colour on stdout.
    pub color: bool,
    /// Colour (and the apply spinner) on stderr, where diagnostics and progress go.
    pub color_stderr: bool,
    /// Whether stdin is a terminal a user can answer prompts on.
    pub interactive: bool,
    /// Width to wrap diagnostics at.
    pub width: usize,
}

impl Output {
    /// Decides from the flag, the environment and the terminal.
    pub fn detect(no_color_flag: bool) -> Self {
        // https://no-color.org: any non-empty value turns colour off.
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        let allowed = !no_color_flag && !no_color_env;
        Self {
            color: allowed && std::io::stdout().is_terminal(),
            color_stderr: allowed && std::io::stderr().is_terminal(),
            interactive: std::io::stdin().is_terminal(),
            width: 100,
        }
    }

    /// Plain output, as tests and pipes see it.
    pub fn plain() -> Self {
        Self {
            color: false,
            color_stderr: false,
            interactive: false,
            width: 100,
        }
    }
}
